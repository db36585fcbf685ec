package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
)

func apiCommand() command {
	env := append([]envVar{envDatabaseURL, envStripeKey, envStripeAPIBase, envWebhookSecret, envRequestHashKey, envAPIAddr,
		envAPITLSCert, envAPITLSKey, envAPIClientCA,
		envLinkTimeout, envReactivation, envLogFormat, envLogLevel, envStripeRateLimit}, temporalEnv...)
	return command{
		name:    "api",
		summary: "Serve the HTTP API: POST /v1/applications and GET /v1/applications/{id} with a lender's API key (see keys create), POST /v1/webhooks/stripe signed by Stripe.",
		env:     env,
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc, tcErr := temporalSettings(fs, getenv)
			sc := stripeFlags(fs, getenv)
			rateErr := stripeRateLimitFlag(fs, getenv, sc, wiring.APIStripeShare, "the API")
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			addr := fs.String("addr", getenvOr(getenv, envAPIAddr.name, "127.0.0.1:8080"), "listen address")
			linkTimeout, linkErr := durationFlag(fs, getenv, "link-timeout", envLinkTimeout, 0, "how long an applicant has to link a bank account (0: 24h)")
			reactivation, reactErr := durationFlag(fs, getenv, "reactivation-timeout", envReactivation, 0, "how long an inactive account may take to be reactivated (0: 24h)")
			var logs logConfig
			logs.flags(fs, getenv, "json", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				if err := errors.Join(linkErr(), reactErr(), tcErr(), rateErr()); err != nil {
					return err
				}
				if err := checkStripe(sc); err != nil {
					return err
				}
				if err := checkListenAddr(*addr); err != nil {
					return fmt.Errorf("addr (%s): %w", envAPIAddr.name, err)
				}
				secrets := splitList(getenv(envWebhookSecret.name))
				if len(secrets) == 0 {
					return fmt.Errorf("%s: not set (the webhook endpoint's signing secret whsec_…)", envWebhookSecret.name)
				}
				hashKeys, err := requestHashKeys(getenv)
				if err != nil {
					return err
				}
				tlsCfg, clientCerts, err := apiTLS(getenv)
				if err != nil {
					return err
				}
				b, err := openBackends(ctx, *dbURL, *tc, logger)
				if err != nil {
					return err
				}
				defer b.close()
				srv := &api.Server{
					Stripe: wiring.NewStripe(*sc, logger), Store: b.store, Temporal: b.temporal, WebhookSecrets: secrets,
					LinkTimeout: *linkTimeout, ReactivationTimeout: *reactivation, Logger: logger, RequestHashKeys: hashKeys,
					RequireClientCert: clientCerts,
				}
				// Both configs redact their secrets (slog.LogValuer).
				logger.Info("api starting", "temporal", *tc, "stripe", *sc, "webhook_secrets", len(secrets),
					"tls", tlsCfg != nil, "client_certificates", clientCerts, "build", buildVersion())
				return serveAPI(ctx, logger, *addr, srv.Handler(), tlsCfg)
			}
		},
	}
}

// shutdownGrace is how long a stopping server lets in-flight requests finish: longer than
// any request but one waiting on a slow Stripe.
const shutdownGrace = 10 * time.Second

// serveHTTP serves h on addr with a header timeout only (the sandbox: a development tool
// on loopback) until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, logger interface{ Info(string, ...any) }, addr string, h http.Handler) error {
	return serve(ctx, logger, addr, &http.Server{Handler: h, ReadHeaderTimeout: api.ReadHeaderTimeout}, nil)
}

// serveAPI serves the API's handler h on addr with api.DefaultServerLimits (timeouts,
// header size and the connection cap), over TLS when tlsCfg is not nil.
func serveAPI(ctx context.Context, logger interface{ Info(string, ...any) }, addr string, h http.Handler, tlsCfg *tls.Config) error {
	l := api.DefaultServerLimits
	wrap := l.Listener
	if tlsCfg != nil {
		// The connection cap counts TCP connections, before their handshakes.
		wrap = func(ln net.Listener) net.Listener { return tls.NewListener(l.Listener(ln), tlsCfg) }
	}
	return serve(ctx, logger, addr, l.HTTPServer(h), wrap)
}

// serve serves hs on addr, its listener wrapped by wrap unless nil, until ctx ends, then
// shuts down gracefully.
func serve(ctx context.Context, logger interface{ Info(string, ...any) }, addr string, hs *http.Server, wrap func(net.Listener) net.Listener) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return hs.Shutdown(sctx)
}
