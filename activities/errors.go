package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/temporal"
)

// rateLimitDelay is how long to wait before retrying after a 429: Stripe's limits are per
// second, so a couple of seconds clears them without hammering.
const rateLimitDelay = 2 * time.Second

// classify turns an error from a Stripe call into a Temporal error: non-retryable for
// requests that cannot succeed by retrying, retryable with a delay for rate limits,
// retryable for server and network errors. what says which call failed. A Stripe error
// becomes its status, code and request id only.
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := fmt.Sprintf("%s: stripe %d %s (request %s)", what, se.HTTPStatusCode, se.Code, se.RequestID)
	// The Temporal errors below carry msg and no cause: a *stripe.Error's text is Stripe's
	// whole error body, which may echo request data, and a cause would copy it into every
	// log line and workflow history that shows the error.
	switch {
	case se.Code == stripe.ErrorCodeFinancialConnectionsAccountInactive:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAccountInactive, nil)
	case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeResourceMissing, nil)
	case se.HTTPStatusCode == http.StatusTooManyRequests:
		return temporal.NewApplicationErrorWithOptions(msg, "StripeRateLimited", temporal.ApplicationErrorOptions{
			NextRetryDelay: rateLimitDelay,
		})
	case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAuthentication, nil)
	case se.HTTPStatusCode == http.StatusConflict:
		// Idempotency-key collisions with a request in flight clear on retry.
		return temporal.NewApplicationError(msg, "StripeConflict")
	case se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalidRequest, nil)
	default:
		return temporal.NewApplicationError(msg, "StripeUnavailable")
	}
}
