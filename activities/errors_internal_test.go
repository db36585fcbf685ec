package activities

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/temporal"
)

// TestClassifyKeepsOnlyStatusCodeAndRequestID: each Stripe error becomes the Temporal error
// type and retryability the workflow relies on, and what reaches logs and histories (the
// error's text and its failure as Temporal stores it) names Stripe's status, code and
// request id but none of the body Stripe sent, which may echo request data.
func TestClassifyKeepsOnlyStatusCodeAndRequestID(t *testing.T) {
	const echoed = "ada.lovelace@example.com"
	for _, tc := range []struct {
		name      string
		status    int
		code      stripe.ErrorCode
		wantType  string
		retryable bool
	}{
		{"inactive account", http.StatusBadRequest, stripe.ErrorCodeFinancialConnectionsAccountInactive, ErrTypeAccountInactive, false},
		{"missing resource", http.StatusNotFound, stripe.ErrorCodeResourceMissing, ErrTypeResourceMissing, false},
		{"rate limited", http.StatusTooManyRequests, stripe.ErrorCodeRateLimit, "StripeRateLimited", true},
		{"wrong key", http.StatusUnauthorized, "", ErrTypeAuthentication, false},
		{"key lacks permission", http.StatusForbidden, "", ErrTypeAuthentication, false},
		{"idempotency in flight", http.StatusConflict, "", "StripeConflict", true},
		{"invalid request", http.StatusBadRequest, stripe.ErrorCodeEmailInvalid, ErrTypeInvalidRequest, false},
		{"server error", http.StatusInternalServerError, "", "StripeUnavailable", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := &stripe.Error{
				HTTPStatusCode: tc.status, Code: tc.code, RequestID: "req_abc123",
				Msg: "Invalid email address: " + echoed, Type: stripe.ErrorTypeInvalidRequest,
			}
			err := classify("create customer", fmt.Errorf("call: %w", se))
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, tc.wantType, appErr.Type())
			require.Equal(t, tc.retryable, !appErr.NonRetryable())

			text := err.Error()
			require.Contains(t, text, fmt.Sprintf("stripe %d", tc.status))
			require.Contains(t, text, string(tc.code))
			require.Contains(t, text, "req_abc123")
			require.NotContains(t, text, echoed)
			failure := temporal.GetDefaultFailureConverter().ErrorToFailure(err)
			require.NotContains(t, failure.String(), echoed, "the stored failure carries Stripe's body")
		})
	}
}
