package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/cashflow-underwriting/underwriter/store"
)

const testWebhookSecret = "whsec_test_secret"

// testLenderKey is the API key of lender "acme" in testServer's key table.
var testLenderKey = mustKey()

func mustKey() Key {
	k, err := NewKey()
	if err != nil {
		panic(err)
	}
	return k
}

// memoryKeys is a KeyLookup over a map of key id to lender and key, for handler tests
// that reach no Postgres.
type memoryKeys map[string]struct {
	lender string
	key    Key
}

func (m memoryKeys) ActiveAPIKey(_ context.Context, id string) (string, []byte, error) {
	k, ok := m[id]
	if !ok {
		return "", nil, store.ErrNotFound
	}
	return k.lender, k.key.Hash, nil
}

func (memoryKeys) TouchAPIKey(context.Context, string) error { return nil }

// testServer is a Server without backends but its key table: every case below must be
// answered before the handler reaches Postgres, Stripe or Temporal (a nil dependency would
// panic), and logs go to the returned buffer.
func testServer() (*Server, *bytes.Buffer) {
	var logs bytes.Buffer
	return &Server{
		WebhookSecrets:  []string{testWebhookSecret},
		Logger:          slog.New(slog.NewTextHandler(&logs, nil)),
		Keys:            memoryKeys{testLenderKey.ID: {"acme", testLenderKey}},
		RequestHashKeys: [][]byte{[]byte("test request hash key, 32 bytes+")},
	}, &logs
}

// asLender is r with acme's API key.
func asLender(r *http.Request) *http.Request {
	r.Header.Set("Authorization", "Bearer "+testLenderKey.Secret)
	return r
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) ErrorDetail {
	t.Helper()
	var body ErrorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return body.Error
}

func TestRoutesAnswerUnknownPathsAndWrongMethods(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodDelete, "/v1/applications", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD, POST"},
		{http.MethodDelete, "/v1/applications/loan-1", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD, PATCH"},
		{http.MethodGet, "/v1/webhooks/stripe", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodGet, "/v1/loans", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodDelete, "/v1/loans/loan-1", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/v1/loans/loan-1/close", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/v1/nothing", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/", http.StatusNotFound, "not_found", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			s, _ := testServer()
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, tc.code, decodeError(t, rec).Code)
			require.Equal(t, tc.allow, rec.Header().Get("Allow"))
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		})
	}
}

func TestInvalidApplicationIDsAreNotFound(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"NUL byte", "/v1/applications/loan%00-1"},
		{"invalid UTF-8", "/v1/applications/loan-%ff%fe"},
		{"escaped slash", "/v1/applications/a%2Fb"},
		{"leading dot", "/v1/applications/.loan"},
		{"too long", "/v1/applications/" + strings.Repeat("a", 65)},
		{"space", "/v1/applications/loan%201"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := testServer()
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, asLender(httptest.NewRequest(http.MethodGet, tc.path, nil)))
			require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
			require.Equal(t, "application_not_found", decodeError(t, rec).Code)
			require.NotContains(t, logs.String(), "level=ERROR")
		})
	}
}

// signed returns a webhook request for body signed with secret at ts.
func signed(body []byte, secret string, ts time.Time) *http.Request {
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts})
	r := httptest.NewRequest(http.MethodPost, "/v1/webhooks/stripe", bytes.NewReader(body))
	r.Header.Set("Stripe-Signature", p.Header)
	return r
}

// event is a Financial Connections event body; its strings are JSON-escaped as Stripe
// would send them (a NUL byte as \u0000).
func event(id, typ, account, customer string) []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s) // a string always encodes
		return string(b)
	}
	return []byte(fmt.Sprintf(`{"id":%s,"object":"event","type":%s,"data":{"object":{"id":%s,"object":"financial_connections.account","account_holder":{"type":"customer","customer":%s}}}}`,
		q(id), q(typ), q(account), q(customer)))
}

func TestWebhookRefusals(t *testing.T) {
	created := string(stripe.EventTypeFinancialConnectionsAccountCreated)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
		field  string
	}{
		{"unsigned", httptest.NewRequest(http.MethodPost, "/v1/webhooks/stripe", bytes.NewReader(event("evt_1", created, "fca_1", "cus_1"))),
			http.StatusBadRequest, "invalid_signature", "Stripe-Signature"},
		{"another secret", signed(event("evt_1", created, "fca_1", "cus_1"), "whsec_other", now),
			http.StatusBadRequest, "invalid_signature", "Stripe-Signature"},
		{"an hour old", signed(event("evt_1", created, "fca_1", "cus_1"), testWebhookSecret, now.Add(-time.Hour)),
			http.StatusBadRequest, "invalid_signature", "Stripe-Signature"},
		{"a year ahead", signed(event("evt_1", created, "fca_1", "cus_1"), testWebhookSecret, now.AddDate(1, 0, 0)),
			http.StatusBadRequest, "timestamp_in_future", "Stripe-Signature"},
		{"beyond the tolerance ahead", signed(event("evt_1", created, "fca_1", "cus_1"), testWebhookSecret, now.Add(webhookTolerance+time.Minute)),
			http.StatusBadRequest, "timestamp_in_future", "Stripe-Signature"},
		{"signed malformed JSON", signed([]byte(`{"id":"evt_1","type":`), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_payload", "body"},
		{"signed JSON that is not an object", signed([]byte(`[1,2]`), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_payload", "body"},
		{"NUL in the event id", signed(event("evt_1\x00", created, "fca_1", "cus_1"), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "id"},
		{"invalid UTF-8 in the event id", signed([]byte(strings.Replace(string(event("evt_1", created, "fca_1", "cus_1")), "evt_1", "evt_\xff\xfe", 1)), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "id"},
		{"missing event id", signed(event("", "customer.created", "", ""), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "id"},
		{"NUL in the event type", signed(event("evt_1", "financial_connections.account.created\x00", "fca_1", "cus_1"), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "type"},
		{"NUL in the account id", signed(event("evt_1", created, "fca_1\x00", "cus_1"), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "data.object.id"},
		{"NUL in the customer id", signed(event("evt_1", created, "fca_1", "cus_1\x00"), testWebhookSecret, now),
			http.StatusBadRequest, "invalid_event", "data.object.account_holder.customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := testServer()
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, tc.req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			e := decodeError(t, rec)
			require.Equal(t, tc.code, e.Code, e.Message)
			require.NotEmpty(t, e.Fields)
			require.Equal(t, tc.field, e.Fields[0].Field)
			require.NotContains(t, logs.String(), "level=ERROR")
		})
	}
}

func TestWebhookTimestampTolerance(t *testing.T) {
	body := event("evt_1", "customer.created", "", "")
	now := time.Now()
	for _, tc := range []struct {
		name    string
		offset  time.Duration
		wantErr error
	}{
		{"now", 0, nil},
		{"a minute old", -time.Minute, nil},
		{"a minute ahead", time.Minute, nil},
		{"just within the tolerance ahead", webhookTolerance - time.Second, nil},
		{"beyond the tolerance ahead", webhookTolerance + 2*time.Second, errTimestampInFuture},
		{"beyond the tolerance old", -webhookTolerance - 2*time.Second, webhook.ErrTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := testServer()
			r := signed(body, testWebhookSecret, now.Add(tc.offset))
			err := s.verifySignature(body, r.Header.Get("Stripe-Signature"), now)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestWebhookBodyTooLarge(t *testing.T) {
	s, _ := testServer()
	s.MaxWebhookBody = 16
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, signed(event("evt_1", "customer.created", "", ""), testWebhookSecret, time.Now()))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Equal(t, "body_too_large", decodeError(t, rec).Code)
}

func TestStripeFailuresAnswerByWhoCanFixThem(t *testing.T) {
	const echoed = "ada.lovelace@example.com"
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code       string
		stripeCode string
		retryAfter string
	}{
		{"invalid email", &stripe.Error{HTTPStatusCode: http.StatusBadRequest, Code: stripe.ErrorCodeEmailInvalid, Type: stripe.ErrorTypeInvalidRequest},
			http.StatusBadRequest, "stripe_invalid_request", string(stripe.ErrorCodeEmailInvalid), ""},
		{"missing session", &stripe.Error{HTTPStatusCode: http.StatusNotFound, Code: stripe.ErrorCodeResourceMissing, Type: stripe.ErrorTypeInvalidRequest},
			http.StatusBadRequest, "stripe_invalid_request", string(stripe.ErrorCodeResourceMissing), ""},
		{"wrong key", &stripe.Error{HTTPStatusCode: http.StatusUnauthorized, Type: stripe.ErrorTypeInvalidRequest},
			http.StatusInternalServerError, "stripe_auth_failed", "", ""},
		{"key lacks permission", &stripe.Error{HTTPStatusCode: http.StatusForbidden, Type: stripe.ErrorTypeInvalidRequest},
			http.StatusInternalServerError, "stripe_auth_failed", "", ""},
		{"rate limited", &stripe.Error{HTTPStatusCode: http.StatusTooManyRequests, Code: stripe.ErrorCodeRateLimit},
			http.StatusServiceUnavailable, "stripe_rate_limited", "", "1"},
		{"idempotency in flight", &stripe.Error{HTTPStatusCode: http.StatusConflict, Code: stripe.ErrorCodeIdempotencyKeyInUse},
			http.StatusBadGateway, "stripe_unavailable", "", ""},
		{"server error", &stripe.Error{HTTPStatusCode: http.StatusInternalServerError, Type: stripe.ErrorTypeAPI},
			http.StatusBadGateway, "stripe_unavailable", "", ""},
		{"network", fmt.Errorf("dial tcp: connection refused"), http.StatusBadGateway, "stripe_unavailable", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if se, ok := tc.err.(*stripe.Error); ok {
				se.RequestID, se.Msg = "req_abc123", "No such thing: "+echoed
			}
			s, logs := testServer()
			rec := httptest.NewRecorder()
			s.stripeFailure(rec, httptest.NewRequest(http.MethodPost, "/v1/applications", nil), s.log(), "create customer", tc.err)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			e := decodeError(t, rec)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, tc.stripeCode, e.StripeCode)
			require.Equal(t, tc.retryAfter, rec.Header().Get("Retry-After"))
			retry := strings.Contains(e.Message, "retry the same request")
			require.Equal(t, tc.status >= http.StatusBadGateway, retry, "only Stripe's transient failures say retry: %s", e.Message)
			if se, ok := tc.err.(*stripe.Error); ok {
				require.Contains(t, e.Message, "req_abc123", "the answer quotes Stripe's request id")
				line := logs.String()
				require.Contains(t, line, fmt.Sprintf("stripe_status=%d", se.HTTPStatusCode))
				require.Contains(t, line, "stripe_request_id=req_abc123")
				require.Contains(t, line, "stripe_code="+string(se.Code))
				require.NotContains(t, line, echoed, "Stripe's body is not logged")
			}
		})
	}
}

// TestV1RoutesNeedALenderKey: every /v1 route but Stripe's webhook answers 401 with a
// Bearer challenge to a request without a valid, active key, and tells a missing header
// from a bad one but never which part of a well-formed key is wrong; /healthz stays open
// and the webhook proves itself with Stripe's signature instead.
func TestV1RoutesNeedALenderKey(t *testing.T) {
	other := mustKey()
	forged := KeyPrefix + testLenderKey.ID + "_" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name, auth, code string
	}{
		{"no header", "", "missing_api_key"},
		{"basic auth", "Basic dXNlcjpwYXNz", "invalid_api_key"},
		{"bearer without a key", "Bearer", "invalid_api_key"},
		{"a Stripe key", "Bearer sk_test_123", "invalid_api_key"},
		{"an unknown key", "Bearer " + other.Secret, "invalid_api_key"},
		{"a known id with another secret", "Bearer " + forged, "invalid_api_key"},
	} {
		for _, route := range []struct{ method, path, body string }{
			{http.MethodPost, "/v1/applications", `{"application_id":"loan-1","loan_amount_minor":100,"term_months":12}`},
			{http.MethodGet, "/v1/applications/loan-1", ""},
			{http.MethodGet, "/v1/applications/loan%00-1", ""},
			{http.MethodPost, "/v1/loans", `{"application_id":"loan-1","amount_minor":100,"term_months":12,"first_due_date":"2025-04-01"}`},
			{http.MethodGet, "/v1/loans/loan-1", ""},
			{http.MethodPost, "/v1/loans/loan-1/close", `{"reason":"repaid"}`},
			{http.MethodGet, "/v1/loans/loan-1/alerts", ""},
		} {
			t.Run(tc.name+" "+route.method+" "+route.path, func(t *testing.T) {
				s, logs := testServer()
				req := httptest.NewRequest(route.method, route.path, strings.NewReader(route.body))
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
				require.Equal(t, tc.code, decodeError(t, rec).Code)
				require.Equal(t, `Bearer realm="underwriter"`, rec.Header().Get("WWW-Authenticate"))
				require.NotContains(t, logs.String(), other.Secret, "a refused key is never logged")
				require.NotContains(t, logs.String(), forged)
			})
		}
	}

	s, _ := testServer()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ok"}`, rec.Body.String(), "healthz says nothing about applications")

	// A valid key passes authentication: the request gets as far as its own validation.
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, asLender(httptest.NewRequest(http.MethodPost, "/v1/applications", strings.NewReader(`{"application_id":"loan-1"}`))))
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	require.Equal(t, "invalid_request", decodeError(t, rec).Code)
}
