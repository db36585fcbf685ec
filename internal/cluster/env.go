package cluster

import (
	"context"
	"os"
	"strconv"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// passedEnv are the only variables of the harness's own environment its processes see:
// what a Go program needs to run. Nothing else is inherited, so a developer's
// DATABASE_URL, TEMPORAL_API_KEY or STRIPE_SECRET_KEY never reaches the cluster.
var passedEnv = []string{"PATH", "HOME", "TMPDIR", "TZ"}

// baseEnv is what the worker and the API both read: Postgres, Temporal, the sandbox as
// Stripe, and JSON logs at info level into their log files.
func (c *Cluster) baseEnv() []string {
	return append(inherited(),
		"DATABASE_URL="+c.DatabaseURL,
		"TEMPORAL_ADDRESS="+c.TemporalAddress,
		"TEMPORAL_NAMESPACE="+c.Namespace,
		"STRIPE_SECRET_KEY="+c.StripeKey,
		"STRIPE_API_BASE="+c.SandboxURL,
		"UNDERWRITER_LOG_FORMAT=json",
		"UNDERWRITER_LOG_LEVEL=info",
	)
}

// inherited returns the passedEnv variables of the harness's environment.
func inherited() []string {
	var env []string
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// workerEnv is the environment of every worker process: the base and its share of the
// sandbox's rate limit.
func (c *Cluster) workerEnv() []string {
	return append(c.baseEnv(), "UNDERWRITER_STRIPE_RATE_LIMIT="+c.workerRateLimit)
}

// StripeRateLimit is the --stripe-rate-limit of each of n processes in a cluster that
// share share of the sandbox's rate limit (fcsandbox.Config.RateLimit: 0 is the default,
// negative none), as README "Performance" tells an operator to divide Stripe's: the
// workers wiring.WorkerStripeShare, the API wiring.APIStripeShare; "off" when the sandbox
// has no limit.
func StripeRateLimit(sandboxLimit int, share float64, n int) string {
	switch {
	case sandboxLimit < 0:
		return "off"
	case sandboxLimit == 0:
		sandboxLimit = fcsandbox.DefaultRateLimit
	}
	return strconv.FormatFloat(share*float64(sandboxLimit)/float64(max(n, 1)), 'f', -1, 64)
}

// apiEnv is the environment of the API process, built here and nowhere else, so that a
// setting the API comes to need is one line of this function.
func (c *Cluster) apiEnv() []string {
	return append(c.baseEnv(),
		"STRIPE_WEBHOOK_SECRET="+c.webhookSecret,
		"UNDERWRITER_API_ADDR="+c.apiAddr,
		"UNDERWRITER_REQUEST_HASH_KEY="+c.requestHashKey,
		"UNDERWRITER_STRIPE_RATE_LIMIT="+c.apiRateLimit,
	)
}

// Lender is the lender the cluster's loan backends are: provisionLender gives it an API
// key, Cluster.LenderKey.
const Lender = "chaos"

// provisionLender creates the cluster's lender in the database at databaseURL, with a new
// API key, and returns the key (Cluster.LenderKey), as `underwriter keys create` would.
func provisionLender(ctx context.Context, databaseURL string) (string, error) {
	pool, err := wiring.OpenPostgres(ctx, databaseURL)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	st := store.New(pool)
	k, err := api.NewKey()
	if err != nil {
		return "", err
	}
	if err := st.EnsureLender(ctx, Lender, "chaos and scale-out runs"); err != nil {
		return "", err
	}
	if err := st.InsertAPIKey(ctx, Lender, k.ID, "internal/cluster", k.Hash); err != nil {
		return "", err
	}
	return k.Secret, nil
}
