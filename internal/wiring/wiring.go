// Package wiring builds underwriter's production components from configuration: the Stripe
// client, the Temporal client, the Postgres pool and the worker. Every command and the
// embedded dev stack use it, so the sandbox and real Stripe share one code path and differ
// only in configuration.
package wiring

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Stripe HTTP settings: stripe-go's default 80 s timeout is far longer than any FC call
// needs, and two network retries match stripe-go's default.
const (
	stripeHTTPTimeout    = 30 * time.Second
	stripeNetworkRetries = 2
)

// StripeConfig configures the Stripe client.
type StripeConfig struct {
	// SecretKey is sk_test_… or sk_live_… (or rk_…); never logged.
	SecretKey string
	// APIBase is the API URL: empty for Stripe itself, or the sandbox / stripe-mock URL.
	APIBase string
	// RateLimit is the most requests a second the client sends (0: no limit). A request
	// beyond it waits for its turn, bounded by its context, instead of drawing Stripe's
	// 429; stripe-go's network retries take their turn too.
	RateLimit float64
}

// NewStripe returns a Stripe client for the configuration. It never touches the global
// stripe.Key. stripe-go's own logging goes to logger at warn level and above.
func NewStripe(cfg StripeConfig, logger *slog.Logger) *client.API {
	hc := &http.Client{Timeout: stripeHTTPTimeout}
	if cfg.RateLimit > 0 {
		hc.Transport = newRateLimited(http.DefaultTransport, cfg.RateLimit)
	}
	bc := &stripe.BackendConfig{
		MaxNetworkRetries: stripe.Int64(stripeNetworkRetries),
		HTTPClient:        hc,
		LeveledLogger:     stripeLogger{logger},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	return client.New(cfg.SecretKey, stripe.NewBackendsWithConfig(bc))
}

// stripeLogger bridges stripe-go's leveled logger to slog. stripe-go's messages carry
// Stripe's whole error body, or the request's path, in their arguments, and a body may
// echo what was sent (an applicant's name or email), so only each message's fixed text is
// logged. The activities and the API log every Stripe error themselves, as its status,
// code and request id, at the level the error deserves: a refresh Stripe refuses because
// one is pending is an expected answer the activity goes on from, so stripe-go's own
// "request error" lines are debug, not errors.
type stripeLogger struct{ l *slog.Logger }

func (s stripeLogger) Debugf(format string, v ...interface{}) {}
func (s stripeLogger) Infof(format string, v ...interface{})  {}
func (s stripeLogger) Warnf(format string, _ ...interface{}) {
	s.l.Warn("stripe-go: "+format, "component", "stripe-go")
}
func (s stripeLogger) Errorf(format string, _ ...interface{}) {
	s.l.Debug("stripe-go: "+format, "component", "stripe-go")
}

// TemporalConfig configures the Temporal client.
type TemporalConfig struct {
	// Address is host:port of the frontend (TEMPORAL_ADDRESS).
	Address string
	// Namespace is the namespace (TEMPORAL_NAMESPACE).
	Namespace string
	// APIKey authenticates to Temporal Cloud (TEMPORAL_API_KEY); it implies TLS.
	APIKey string
	// TLS turns on TLS with the system roots (TEMPORAL_TLS).
	TLS bool
	// TLSCertFile and TLSKeyFile are an mTLS client certificate (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY).
	TLSCertFile, TLSKeyFile string
	// DataConverter converts every payload the client and its workers read and write,
	// such as the payload codec's (internal/codec, UNDERWRITER_PAYLOAD_KEYS). Nil is the
	// SDK's default: plain JSON payloads.
	DataConverter converter.DataConverter
}

// DialTemporal connects to Temporal.
func DialTemporal(ctx context.Context, cfg TemporalConfig, logger *slog.Logger) (tclient.Client, error) {
	opts := tclient.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		// Nil keeps the SDK's default converter.
		DataConverter: cfg.DataConverter,
	}
	if cfg.TLS || cfg.APIKey != "" || cfg.TLSCertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				return nil, fmt.Errorf("load TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts.ConnectionOptions.TLS = tc
	}
	if cfg.APIKey != "" {
		opts.Credentials = tclient.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := tclient.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s namespace %s: %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

// OpenPostgres opens a pool on url and checks that it answers.
func OpenPostgres(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres (DATABASE_URL): %w", err)
	}
	return pool, nil
}

// WorkerOptions tunes the worker; zero values take the SDK's defaults.
type WorkerOptions struct {
	MaxConcurrentActivities int
	MaxConcurrentWorkflows  int
	// Deployment is the worker's Worker Deployment Version; the zero Deployment is an
	// unversioned worker. Set the activities' DeploymentVersion to Deployment.String(), so
	// that decisions record it.
	Deployment Deployment
}

// taskQueue is the one task queue of every workflow and activity.
const taskQueue = workflows.TaskQueue

// NewWorker returns a worker on workflows.TaskQueue with every workflow and activity
// registered, each workflow pinned to the worker's deployment version but the Monitor
// watcher, which moves to the current one (WorkflowRegisterOptions). Start it with Start
// or Run.
func NewWorker(c tclient.Client, acts *activities.Activities, o WorkerOptions) worker.Worker {
	w := NewBareWorker(c, o)
	w.RegisterWorkflowWithOptions(workflows.Underwrite, WorkflowRegisterOptions(workflows.UnderwriteWorkflowName))
	w.RegisterWorkflowWithOptions(workflows.Rescore, WorkflowRegisterOptions(workflows.RescoreWorkflowName))
	w.RegisterWorkflowWithOptions(workflows.Monitor, WorkflowRegisterOptions(workflows.MonitorWorkflowName))
	w.RegisterActivity(acts)
	return w
}

// LogValue implements slog.LogValuer: the key is never logged, only its kind.
func (c StripeConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("secret_key", redactKey(c.SecretKey)), slog.String("api_base", c.APIBase),
		slog.Float64("rate_limit", c.RateLimit))
}

// LogValue implements slog.LogValuer: the API key is never logged.
func (c TemporalConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("address", c.Address), slog.String("namespace", c.Namespace),
		slog.Bool("api_key_set", c.APIKey != ""), slog.Bool("tls", c.TLS || c.APIKey != "" || c.TLSCertFile != ""),
		slog.Bool("payload_encryption", c.DataConverter != nil))
}

// redactKey keeps a Stripe key's prefix (sk_test_, rk_live_, …), which tells test mode
// from live mode, and drops the secret part.
func redactKey(k string) string {
	if k == "" {
		return ""
	}
	if i := strings.LastIndex(k, "_"); i > 0 && i < len(k)-1 {
		return k[:i+1] + "…"
	}
	return "…"
}
