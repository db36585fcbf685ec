package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

func workerCommand() command {
	env := append([]envVar{envDatabaseURL, envStripeKey, envStripeAPIBase, envLogFormat, envLogLevel}, temporalEnv...)
	return command{
		name:    "worker",
		summary: "Run a worker: the Underwrite workflow and its activities on task queue \"" + workflows.TaskQueue + "\". Scale out by running more.",
		env:     env,
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc, tcErr := temporalSettings(fs, getenv)
			sc := stripeFlags(fs, getenv)
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			maxActs := fs.Int("max-concurrent-activities", 0, "activities run at once by this worker (0: SDK default)")
			var logs logConfig
			logs.flags(fs, getenv, "json", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				// Every setting is checked before anything connects.
				if err := errors.Join(checkStripe(sc), checkDatabaseURL(*dbURL), tcErr(), checkTemporal(*tc)); err != nil {
					return err
				}
				if *maxActs < 0 {
					return fmt.Errorf("max-concurrent-activities: %d is negative", *maxActs)
				}
				b, err := openBackends(ctx, *dbURL, *tc, logger)
				if err != nil {
					return err
				}
				defer b.close()
				w := wiring.NewWorker(b.temporal, &activities.Activities{
					Stripe: wiring.NewStripe(*sc, logger), Store: b.store, Logger: logger, BuildVersion: buildVersion(),
				}, wiring.WorkerOptions{MaxConcurrentActivities: *maxActs})
				// Both configs redact their secrets (slog.LogValuer).
				logger.Info("worker starting", "temporal", *tc, "stripe", *sc, "task_queue", workflows.TaskQueue, "build", buildVersion())
				stop := make(chan interface{})
				go func() { <-ctx.Done(); close(stop) }()
				return w.Run(stop)
			}
		},
	}
}
