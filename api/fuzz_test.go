package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/loan"
)

// FuzzCreateApplicationBody: decodeApplication, the decoding and validation of a
// POST /v1/applications body that runs before Stripe, Postgres or Temporal is touched,
// never panics; a refusal names a field and a problem; an accepted request satisfies
// every rule the handler relies on and decodes again from its own encoding, unchanged
// and accepted. Seeds: testdata/fuzz/FuzzCreateApplicationBody.
func FuzzCreateApplicationBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ferrs := decodeApplication(body)
		if len(ferrs) > 0 {
			for _, fe := range ferrs {
				require.NotEmpty(t, fe.Field, "%+v", ferrs)
				require.NotEmpty(t, fe.Problem, "%+v", ferrs)
			}
			return
		}
		require.Regexp(t, applicationIDPattern, req.ApplicationID)
		require.NoError(t, loan.Validate(loan.Request{AmountMinor: req.LoanAmountMinor, TermMonths: req.TermMonths, Currency: req.Currency}))
		require.LessOrEqual(t, len(req.AccountIDs), maxAccounts)
		for _, id := range req.AccountIDs {
			require.Regexp(t, accountIDPattern, id)
		}
		again, err := json.Marshal(req)
		require.NoError(t, err)
		req2, ferrs := decodeApplication(again)
		require.Empty(t, ferrs, "%s", again)
		s, _ := testServer()
		require.Equal(t, s.requestHash(req), s.requestHash(req2), "%s", again)
	})
}

// fuzzSignatureSkew bounds how far from now FuzzWebhook dates the signatures it makes,
// in seconds: a few times webhookTolerance, so that stale, current and future-dated
// signatures all occur.
const fuzzSignatureSkew = 4 * int64(webhookTolerance/time.Second)

// FuzzWebhook: the webhook handler on an arbitrary body and Stripe-Signature header never
// panics and never answers 5xx before recording the event. When sign is set the body is
// signed with the test secret at now+skew and header is appended to the real signature
// header, so that decoding and the id checks are reached; otherwise header is the whole
// Stripe-Signature header. The test server has no Store: only a validly signed event
// with Stripe-shaped ids may get as far as recording it (the panic of the nil Store,
// recovered here). Seeds: testdata/fuzz/FuzzWebhook.
func FuzzWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, header string, sign bool, skew int64) {
		s, _ := testServer()
		now := time.Now()
		req := httptest.NewRequest(http.MethodPost, "/v1/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", header)
		if sign {
			req = signed(body, testWebhookSecret, now.Add(time.Duration(skew%fuzzSignatureSkew)*time.Second))
			req.Header.Set("Stripe-Signature", req.Header.Get("Stripe-Signature")+header)
		}
		rec := httptest.NewRecorder()
		if reachedStore(t, s.Handler(), rec, req) {
			require.True(t, sign, "an unsigned body reached the store")
			var ev struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(body, &ev))
			require.Regexp(t, eventIDPattern, ev.ID)
			return
		}
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		code := decodeError(t, rec).Code
		require.Contains(t, []string{"invalid_signature", "timestamp_in_future", "invalid_payload", "invalid_event"}, code)
		if !sign {
			require.Contains(t, []string{"invalid_signature", "timestamp_in_future"}, code)
		}
	})
}

// reachedStore serves req and reports whether the handler got as far as recording the
// event (the nil Store's panic in RecordWebhookEvent); any other panic fails the test.
func reachedStore(t *testing.T, h http.Handler, rec *httptest.ResponseRecorder, req *http.Request) (reached bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			if !strings.Contains(stack, "store.(*Store).RecordWebhookEvent") {
				t.Fatalf("panic: %v\n%s", p, stack)
			}
			reached = true
		}
	}()
	h.ServeHTTP(rec, req)
	return false
}
