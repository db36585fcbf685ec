package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	tclient "go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/loan"
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
	envPayloadKeys       = envVar{codec.EnvKeys, "payload encryption keys id:<64 hex>,… (secret): the first encrypts, all decrypt; empty: payloads in plain JSON"}
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
		return nil, fmt.Errorf("log-level (%s): %q is not debug, info, warn or error", envLogLevel.name, l.level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(l.format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log-format (%s): %q is not json or text", envLogFormat.name, l.format)
	}
}

// temporalSettings defines the Temporal flags on fs, with defaults from getenv, and
// returns the check of the environment values the config cannot hold: TEMPORAL_TLS must
// be a boolean (strconv.ParseBool), and UNDERWRITER_PAYLOAD_KEYS, when set, valid keys
// (its codec becomes the config's data converter, so every client dialled from it
// encrypts payloads).
func temporalSettings(fs *flag.FlagSet, getenv func(string) string) (*wiring.TemporalConfig, func() error) {
	c := &wiring.TemporalConfig{
		APIKey:      getenv(envTemporalAPIKey.name),
		TLSCertFile: getenv(envTemporalTLSCert.name),
		TLSKeyFile:  getenv(envTemporalTLSKey.name),
	}
	var tlsErr error
	if v := strings.TrimSpace(getenv(envTemporalTLS.name)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			tlsErr = fmt.Errorf("%s: %q is not true or false", envTemporalTLS.name, v)
		}
		c.TLS = b
	}
	var keysErr error
	if v := strings.TrimSpace(getenv(envPayloadKeys.name)); v != "" {
		pc, err := codec.ParseKeys(v)
		if err != nil {
			// The codec's errors name key ids and problems, never a key.
			keysErr = fmt.Errorf("%s: %w", envPayloadKeys.name, err)
		} else {
			c.DataConverter = pc.DataConverter()
		}
	}
	fs.StringVar(&c.Address, "temporal-address", getenvOr(getenv, envTemporalAddress.name, "127.0.0.1:7233"), "Temporal frontend host:port")
	fs.StringVar(&c.Namespace, "temporal-namespace", getenvOr(getenv, envTemporalNamespace.name, "default"), "Temporal namespace")
	return c, func() error { return errors.Join(tlsErr, keysErr) }
}

// checkTemporal refuses a Temporal configuration that cannot work, before anything
// dials: an address that is not host:port (a gRPC target with a scheme, such as
// dns:///host:port, is passed through), an empty namespace, half an mTLS key pair, or a
// key pair that does not load.
func checkTemporal(c wiring.TemporalConfig) error {
	if !strings.Contains(c.Address, "://") {
		if err := checkHostPort(c.Address); err != nil {
			return fmt.Errorf("temporal-address (%s): %w", envTemporalAddress.name, err)
		}
	}
	if strings.TrimSpace(c.Namespace) == "" {
		return fmt.Errorf("temporal-namespace (%s): empty", envTemporalNamespace.name)
	}
	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		return fmt.Errorf("%s: not set, and %s is: an mTLS client certificate needs its key", envTemporalTLSKey.name, envTemporalTLSCert.name)
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		return fmt.Errorf("%s: not set, and %s is: an mTLS client key needs its certificate", envTemporalTLSCert.name, envTemporalTLSKey.name)
	case c.TLSCertFile != "":
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			return fmt.Errorf("%s / %s: %w", envTemporalTLSCert.name, envTemporalTLSKey.name, err)
		}
	}
	return nil
}

// checkHostPort refuses an address that is not host:port with a port in 1…65535 (an
// empty host means every interface, as net.Listen reads it).
func checkHostPort(addr string) error { return checkAddr(addr, 1) }

// checkListenAddr checks an address the command listens on, where port 0 asks the
// system for a free one (the listener's log line gives the port it got).
func checkListenAddr(addr string) error { return checkAddr(addr, 0) }

func checkAddr(addr string, minPort int) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < minPort || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in %d…65535", addr, port, minPort)
	}
	return nil
}

// checkDatabaseURL refuses an empty or unparsable DATABASE_URL before anything
// connects. pgx's parse error shows the URL with its password replaced by xxxxx.
func checkDatabaseURL(dbURL string) error {
	if dbURL == "" {
		return fmt.Errorf("%s: not set", envDatabaseURL.name)
	}
	if _, err := pgx.ParseConfig(dbURL); err != nil {
		return fmt.Errorf("%s: %w", envDatabaseURL.name, err)
	}
	return nil
}

var temporalEnv = []envVar{envTemporalAddress, envTemporalNamespace, envTemporalAPIKey, envTemporalTLS, envTemporalTLSCert, envTemporalTLSKey, envPayloadKeys}

func stripeFlags(fs *flag.FlagSet, getenv func(string) string) *wiring.StripeConfig {
	c := &wiring.StripeConfig{SecretKey: getenv(envStripeKey.name)}
	fs.StringVar(&c.APIBase, "stripe-api-base", getenv(envStripeAPIBase.name), "Stripe API URL (empty: Stripe itself)")
	return c
}

// checkStripe refuses a missing key, a key that is not a secret or restricted key (a
// publishable pk_ key is the usual mistake; Stripe would refuse it at the first call,
// long after start), and an API base that is not an http(s) URL. The key itself is never
// part of the message.
func checkStripe(c *wiring.StripeConfig) error {
	if c.SecretKey == "" {
		return fmt.Errorf("%s: not set (a Stripe secret key sk_test_… or sk_live_…)", envStripeKey.name)
	}
	if !strings.HasPrefix(c.SecretKey, "sk_") && !strings.HasPrefix(c.SecretKey, "rk_") {
		return fmt.Errorf("%s: not a secret key (sk_test_…, sk_live_…) or a restricted key (rk_…)", envStripeKey.name)
	}
	if c.APIBase != "" {
		if err := checkHTTPURL(c.APIBase); err != nil {
			return fmt.Errorf("stripe-api-base (%s): %w", envStripeAPIBase.name, err)
		}
	}
	return nil
}

// checkHTTPURL refuses what is not an absolute http or https URL with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL such as http://127.0.0.1:12110", s)
	}
	return nil
}

// durationFlag defines a duration flag whose default comes from env. The returned check,
// run once the flags are parsed, reports an unparsable or negative environment value,
// naming the variable, and a negative flag value, naming the flag.
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
	p := fs.Duration(name, d, usage)
	return p, func() error {
		if perr == nil && *p < 0 {
			return fmt.Errorf("%s: %s is negative", name, *p)
		}
		return perr
	}
}

// backends are the connections the worker and the API share.
type backends struct {
	store    *store.Store
	temporal tclient.Client
	close    func()
}

// openBackends connects to Postgres (refusing an outdated schema) and to Temporal.
// Both configurations are checked before either connects, so a bad setting stops the
// command at start naming it, not after a connection to the other.
func openBackends(ctx context.Context, dbURL string, tc wiring.TemporalConfig, logger *slog.Logger) (*backends, error) {
	if err := errors.Join(checkDatabaseURL(dbURL), checkTemporal(tc)); err != nil {
		return nil, err
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

// checkLenderFlag checks a --lender flag's value: a lender id (loan.CheckLender), or, for
// a flag that may be left out (every lender), also "".
func checkLenderFlag(lender string, optional bool) error {
	if lender == "" && optional {
		return nil
	}
	if err := loan.CheckLender(lender); err != nil {
		return fmt.Errorf("--lender: %w", err)
	}
	return nil
}
