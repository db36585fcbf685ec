package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// failingStripe answers every call with status and a Stripe error body that echoes the
// applicant's email, as Stripe's messages may.
func failingStripe(t *testing.T, status int, code, email string) *client.API {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", "req_fake123")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
			"type": "invalid_request_error", "code": code, "message": "Invalid email address: " + email,
		}})
	}))
	t.Cleanup(srv.Close)
	return client.New("sk_test_api", stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(srv.URL), MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
}

// TestCreateApplicationAnswersStripeErrorsByWhoCanFixThem: POST /v1/applications meeting a
// Stripe error answers 4xx with Stripe's code when the request is at fault, a 5xx that
// says retrying cannot help when Stripe refuses our key, and a 5xx "retry" otherwise; the
// logs carry Stripe's status, code and request id but not its body.
func TestCreateApplicationAnswersStripeErrorsByWhoCanFixThem(t *testing.T) {
	const email = "ada.lovelace@example.com"
	st := store.New(pgtest.Pool(t))
	key := lenderKey(t, st, "stripe-errors")
	for i, tc := range []struct {
		name       string
		status     int
		stripeCode string
		want       int
		code       string
	}{
		{"invalid email", http.StatusBadRequest, "email_invalid", http.StatusBadRequest, "stripe_invalid_request"},
		{"missing resource", http.StatusNotFound, "resource_missing", http.StatusBadRequest, "stripe_invalid_request"},
		{"wrong key", http.StatusUnauthorized, "", http.StatusInternalServerError, "stripe_auth_failed"},
		{"key lacks permission", http.StatusForbidden, "", http.StatusInternalServerError, "stripe_auth_failed"},
		{"rate limited", http.StatusTooManyRequests, "rate_limit", http.StatusServiceUnavailable, "stripe_rate_limited"},
		{"Stripe down", http.StatusInternalServerError, "", http.StatusBadGateway, "stripe_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &api.Server{
				Stripe: failingStripe(t, tc.status, tc.stripeCode, email), Store: st,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), RequestHashKeys: [][]byte{[]byte("stripe errors test hash key.....")},
			}
			body := fmt.Sprintf(`{"application_id":"stripe-err-%d","loan_amount_minor":300000,"term_months":12,"applicant":{"email":%q}}`, i, email)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/applications", bytes.NewBufferString(body))
			req.Header.Set("Authorization", "Bearer "+key)
			s.Handler().ServeHTTP(rec, req)
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			var out api.ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
			require.Equal(t, tc.code, out.Error.Code)
			require.Contains(t, out.Error.Message, "req_fake123")
			if tc.want < http.StatusInternalServerError {
				require.Equal(t, tc.stripeCode, out.Error.StripeCode)
			}
			require.Contains(t, logs.String(), fmt.Sprintf("stripe_status=%d", tc.status))
			require.Contains(t, logs.String(), "stripe_request_id=req_fake123")
			require.NotContains(t, logs.String(), email, "Stripe's body is not logged")
		})
	}
}

// lenderKey creates the lender in st with a new API key and returns the key.
func lenderKey(t *testing.T, st *store.Store, lender string) string {
	t.Helper()
	ctx := context.Background()
	k, err := api.NewKey()
	require.NoError(t, err)
	require.NoError(t, st.EnsureLender(ctx, lender, ""))
	require.NoError(t, st.InsertAPIKey(ctx, lender, k.ID, "test", k.Hash))
	return k.Secret
}
