package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
)

func apiCommand() command {
	env := append([]envVar{envDatabaseURL, envStripeKey, envStripeAPIBase, envWebhookSecret, envAPIAddr, envLinkTimeout, envReactivation, envLogFormat, envLogLevel}, temporalEnv...)
	return command{
		name:    "api",
		summary: "Serve the HTTP API: POST /v1/applications, GET /v1/applications/{id}, POST /v1/webhooks/stripe.",
		env:     env,
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc := temporalFlags(fs, getenv)
			sc := stripeFlags(fs, getenv)
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
				if err := errors.Join(linkErr(), reactErr(), checkStripe(sc)); err != nil {
					return err
				}
				secrets := splitList(getenv(envWebhookSecret.name))
				if len(secrets) == 0 {
					return fmt.Errorf("%s: not set (the webhook endpoint's signing secret whsec_…)", envWebhookSecret.name)
				}
				b, err := openBackends(ctx, *dbURL, *tc, logger)
				if err != nil {
					return err
				}
				defer b.close()
				srv := &api.Server{
					Stripe: wiring.NewStripe(*sc, logger), Store: b.store, Temporal: b.temporal, WebhookSecrets: secrets,
					LinkTimeout: *linkTimeout, ReactivationTimeout: *reactivation, Logger: logger,
				}
				// Both configs redact their secrets (slog.LogValuer).
				logger.Info("api starting", "temporal", *tc, "stripe", *sc, "webhook_secrets", len(secrets), "build", buildVersion())
				return serveHTTP(ctx, logger, *addr, srv.Handler())
			}
		},
	}
}

// serveHTTP serves h on addr until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, logger interface{ Info(string, ...any) }, addr string, h http.Handler) error {
	hs := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	logger.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}
