package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

func sandboxCommand() command {
	return command{
		name:    "sandbox",
		summary: "Serve the Stripe-compatible Financial Connections sandbox (API version 2023-10-16) with the persona ledgers.",
		env: []envVar{
			{fcsandbox.EnvAPIKey, "secret key clients must send; empty accepts any sk_test_ key (secret)"},
			{fcsandbox.EnvWebhookSecret, "webhook signing secret whsec_…; empty generates one (secret)"},
			{fcsandbox.EnvWebhookURL, "where to POST signed webhooks, e.g. http://127.0.0.1:8080/v1/webhooks/stripe"},
			{fcsandbox.EnvRefreshDelay, "how long a refresh stays pending (e.g. 2s)"},
			{fcsandbox.EnvRefreshCooldown, "time after a refresh before the next may start"},
			{fcsandbox.EnvPersonaDir, "directory with personas.json and ledgers (default: the samples built into the binary)"},
			{fcsandbox.EnvRateLimit, "requests per second per API key before Stripe's 429 (default 25, Stripe's test mode; off for none)"},
			{fcsandbox.EnvPostPending, "true to make every refresh settle pending transactions (post them)"},
			envLogFormat, envLogLevel,
		},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			addr := fs.String("addr", "127.0.0.1:12110", "listen address")
			var logs logConfig
			logs.flags(fs, getenv, "text", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				if err := checkListenAddr(*addr); err != nil {
					return fmt.Errorf("addr: %w", err)
				}
				if err := checkSandboxEnv(getenv); err != nil {
					return err
				}
				cfg, err := fcsandbox.ConfigFromEnv(getenv)
				if err != nil {
					return err
				}
				if cfg.WebhookURL != "" && cfg.WebhookSecret == "" {
					return fmt.Errorf("%s: not set; the receiver at %s needs the same signing secret (for example whsec_ followed by random hex)",
						fcsandbox.EnvWebhookSecret, cfg.WebhookURL)
				}
				cfg.Logger = logger
				sb, err := fcsandbox.New(cfg)
				if err != nil {
					return err
				}
				defer sb.Close()
				return serveHTTP(ctx, logger, *addr, sb.Handler())
			}
		},
	}
}

// checkSandboxEnv refuses the sandbox settings fcsandbox.ConfigFromEnv would accept but
// that cannot work: a negative FCSANDBOX_RATE_LIMIT (which would read as no limit) and
// an FCSANDBOX_WEBHOOK_URL that is not an http(s) URL (every webhook would fail later,
// one log line each, and no workflow would hear of a link).
func checkSandboxEnv(getenv func(string) string) error {
	if v := strings.TrimSpace(getenv(fcsandbox.EnvRateLimit)); v != "" && v != "off" {
		if n, err := strconv.Atoi(v); err == nil && n < 0 {
			return fmt.Errorf("%s: %d is negative; use a positive number of requests per second, or off", fcsandbox.EnvRateLimit, n)
		}
	}
	if v := getenv(fcsandbox.EnvWebhookURL); v != "" {
		if err := checkHTTPURL(v); err != nil {
			return fmt.Errorf("%s: %w", fcsandbox.EnvWebhookURL, err)
		}
	}
	return nil
}
