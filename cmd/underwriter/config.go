package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	tclient "go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Environment variables shared by several commands.
var (
	envDatabaseURL       = envVar{"DATABASE_URL", "Postgres URL, e.g. postgres://user@host:5432/underwriter"}
	envTemporalAddress   = envVar{"TEMPORAL_ADDRESS", "Temporal frontend host:port (default 127.0.0.1:7233)"}
	envTemporalNamespace = envVar{"TEMPORAL_NAMESPACE", "Temporal namespace (default \"default\")"}
	envTemporalAPIKey    = envVar{"TEMPORAL_API_KEY", "Temporal Cloud API key (secret; implies TLS)"}
	envTemporalTLS       = envVar{"TEMPORAL_TLS", "\"true\" to connect to Temporal with TLS"}
	envTemporalTLSCert   = envVar{"TEMPORAL_TLS_CERT", "mTLS client certificate file for Temporal"}
	envTemporalTLSKey    = envVar{"TEMPORAL_TLS_KEY", "mTLS client key file for Temporal"}
	envStripeKey         = envVar{"STRIPE_SECRET_KEY", "Stripe secret key sk_test_… / sk_live_… (secret)"}
	envStripeAPIBase     = envVar{"STRIPE_API_BASE", "Stripe API URL; empty for Stripe itself, or the sandbox URL"}
	envWebhookSecret     = envVar{"STRIPE_WEBHOOK_SECRET", "webhook signing secret whsec_… (secret); comma-separated during rotation"}
	envLogFormat         = envVar{"UNDERWRITER_LOG_FORMAT", "json or text (default json; text for dev)"}
	envLogLevel          = envVar{"UNDERWRITER_LOG_LEVEL", "debug, info, warn or error (default info; warn for dev)"}
	envAPIAddr           = envVar{"UNDERWRITER_API_ADDR", "API listen address (default 127.0.0.1:8080)"}
	envLinkTimeout       = envVar{"UNDERWRITER_LINK_TIMEOUT", "how long an applicant has to link a bank account (default 24h)"}
	envReactivation      = envVar{"UNDERWRITER_REACTIVATION_TIMEOUT", "how long an inactive account may take to be reactivated before the application is referred (default 24h)"}
)

// logConfig selects the log format and level.
type logConfig struct {
	format, level string
}

func (l *logConfig) flags(fs *flag.FlagSet, getenv func(string) string, defFormat, defLevel string) {
	fs.StringVar(&l.format, "log-format", getenvOr(getenv, envLogFormat.name, defFormat), "log format: json or text")
	fs.StringVar(&l.level, "log-level", getenvOr(getenv, envLogLevel.name, defLevel), "log level: debug, info, warn or error")
}

func (l logConfig) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("log-level: %q is not debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(l.format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log-format: %q is not json or text", l.format)
	}
}

func temporalFlags(fs *flag.FlagSet, getenv func(string) string) *wiring.TemporalConfig {
	c := &wiring.TemporalConfig{
		APIKey:      getenv(envTemporalAPIKey.name),
		TLS:         strings.EqualFold(getenv(envTemporalTLS.name), "true"),
		TLSCertFile: getenv(envTemporalTLSCert.name),
		TLSKeyFile:  getenv(envTemporalTLSKey.name),
	}
	fs.StringVar(&c.Address, "temporal-address", getenvOr(getenv, envTemporalAddress.name, "127.0.0.1:7233"), "Temporal frontend host:port")
	fs.StringVar(&c.Namespace, "temporal-namespace", getenvOr(getenv, envTemporalNamespace.name, "default"), "Temporal namespace")
	return c
}

var temporalEnv = []envVar{envTemporalAddress, envTemporalNamespace, envTemporalAPIKey, envTemporalTLS, envTemporalTLSCert, envTemporalTLSKey}

func stripeFlags(fs *flag.FlagSet, getenv func(string) string) *wiring.StripeConfig {
	c := &wiring.StripeConfig{SecretKey: getenv(envStripeKey.name)}
	fs.StringVar(&c.APIBase, "stripe-api-base", getenv(envStripeAPIBase.name), "Stripe API URL (empty: Stripe itself)")
	return c
}

func checkStripe(c *wiring.StripeConfig) error {
	if c.SecretKey == "" {
		return fmt.Errorf("%s: not set (a Stripe secret key sk_test_… or sk_live_…)", envStripeKey.name)
	}
	return nil
}

// durationFlag defines a duration flag whose default comes from env. The returned check
// reports an unparsable environment value, naming the variable.
func durationFlag(fs *flag.FlagSet, getenv func(string) string, name string, env envVar, def time.Duration, usage string) (*time.Duration, func() error) {
	d := def
	var perr error
	if v := getenv(env.name); v != "" {
		p, err := time.ParseDuration(v)
		if err != nil || p < 0 {
			perr = fmt.Errorf("%s: %q is not a duration such as 30m or 24h", env.name, v)
		} else {
			d = p
		}
	}
	return fs.Duration(name, d, usage), func() error { return perr }
}

// backends are the connections the worker and the API share.
type backends struct {
	store    *store.Store
	temporal tclient.Client
	close    func()
}

// openBackends connects to Postgres (refusing an outdated schema) and to Temporal.
func openBackends(ctx context.Context, dbURL string, tc wiring.TemporalConfig, logger *slog.Logger) (*backends, error) {
	if dbURL == "" {
		return nil, fmt.Errorf("%s: not set", envDatabaseURL.name)
	}
	pool, err := wiring.OpenPostgres(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	st := store.New(pool)
	if err := st.CheckSchema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	c, err := wiring.DialTemporal(ctx, tc, logger)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &backends{store: st, temporal: c, close: func() { c.Close(); pool.Close() }}, nil
}
