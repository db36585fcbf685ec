// Package activities holds the Temporal activities of underwriter: every call to Stripe and
// Postgres the workflows make. Activities are idempotent by construction (deterministic
// Stripe idempotency keys, upserts, one decision per application) and classify errors once,
// at the boundary, into retryable and non-retryable ones.
//
// One file per step: stripe.go (link, refresh, sync, balances), register.go
// (RegisterApplication), snapshot.go (FreezeSnapshot), score.go (scoring a snapshot) and
// decision.go (Decide, the one writer of a decision, and the activities that wrote it
// before; see workflows' change id one-decision-writer). Activities log through
// activity.GetLogger, so every line carries the workflow id, run id, activity type and
// attempt; keys are snake_case ids and counts, never secrets, account numbers or
// transaction descriptions.
package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/stripe/stripe-go/v76/client"
	"go.temporal.io/sdk/activity"
	tlog "go.temporal.io/sdk/log"

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
	// Logger receives the log lines of a method called outside a Temporal activity (a
	// command or a test calling it directly); nil means slog.Default(). Inside an activity
	// lines go to activity.GetLogger, which the worker's Temporal client bridges into its
	// own slog logger (internal/wiring.DialTemporal).
	Logger *slog.Logger
	// BuildVersion is recorded with every decision.
	BuildVersion string
	// DeploymentVersion is the worker's Temporal Worker Deployment Version,
	// "<deployment name>:<build id>" (internal/wiring.Deployment.String), recorded with every
	// decision; "" for an unversioned worker, stored as null. Set it from the same
	// configuration as the worker's deployment options, so that a decision names the
	// version its workflow run is pinned to.
	DeploymentVersion string
	// FreshDataWindow overrides DefaultFreshDataWindow when positive.
	FreshDataWindow time.Duration
	// AlertSigningKey is the master key (32 bytes, UNDERWRITER_ALERT_SIGNING_KEY) from
	// which each lender's alert webhook signing secret is derived
	// (alerthook.LenderSecret); no secret is stored in Postgres. Nil means alerts
	// are stored but cannot be signed, so their delivery fails without sending anything.
	// It never reaches a log, an error, the workflow history or Postgres.
	AlertSigningKey []byte
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

// log returns the logger for ctx: the activity's own, whose lines carry the workflow id,
// run id, activity type and attempt, or Logger outside an activity.
func (a *Activities) log(ctx context.Context) tlog.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	if a.Logger != nil {
		return tlog.NewStructuredLogger(a.Logger)
	}
	return tlog.NewStructuredLogger(slog.Default())
}
