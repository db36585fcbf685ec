// Package activities holds the Temporal activities of underwriter: every call to Stripe and
// Postgres the workflows make. Activities are idempotent by construction (deterministic
// Stripe idempotency keys, upserts, one decision per application) and classify errors once,
// at the boundary, into retryable and non-retryable ones.
package activities

import (
	"log/slog"
	"time"

	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashflow-underwriting/underwriter/store"
)

// Activities carries the dependencies of every activity. Register a *Activities with the
// worker; workflows refer to its methods through a nil pointer of the same type.
type Activities struct {
	// Stripe is the Stripe API client (real Stripe, the sandbox or stripe-mock, by its
	// backend URL). The global stripe.Key is never used.
	Stripe *client.API
	// Store is the Postgres data layer.
	Store *store.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives structured logs with ids only; nil means slog.Default().
	Logger *slog.Logger
	// BuildVersion is recorded with every decision.
	BuildVersion string
	// FreshDataWindow overrides DefaultFreshDataWindow when positive.
	FreshDataWindow time.Duration
}

func (a *Activities) freshDataWindow() time.Duration {
	if a.FreshDataWindow > 0 {
		return a.FreshDataWindow
	}
	return DefaultFreshDataWindow
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Activities) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
