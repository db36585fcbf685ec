package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// The worker's Worker Deployment Version settings (README "Deploying a new version").
var (
	envDeploymentName   = envVar{"UNDERWRITER_DEPLOYMENT_NAME", "Temporal Worker Deployment of the workers (default \"" + wiring.DefaultDeploymentName + "\")"}
	envBuildID          = envVar{"UNDERWRITER_BUILD_ID", "this worker's build id within the deployment (default: the binary's version, " + "as decisions record it)"}
	envSetCurrentIfNone = envVar{"UNDERWRITER_SET_CURRENT_IF_NONE", "\"false\" to leave a deployment without a current version as it is (default true: the first version becomes current)"}
)

// envStripeRateLimit is a worker's or API process's client-side limit of Stripe requests a second.
var envStripeRateLimit = envVar{"UNDERWRITER_STRIPE_RATE_LIMIT", "Stripe requests a second this process sends at most, or off " +
	"(default: a worker 80 % of Stripe's limit for the key's mode, 20 in test mode and 80 in live mode; the API 20 %, 5 and 20; " +
	"processes of one Stripe account divide their share)"}

// stripeRateLimitFlag defines --stripe-rate-limit on fs, its default from
// UNDERWRITER_STRIPE_RATE_LIMIT, and returns the check, run once the flags are parsed,
// that sets sc.RateLimit: share of the key mode's limit when neither is set.
func stripeRateLimitFlag(fs *flag.FlagSet, getenv func(string) string, sc *wiring.StripeConfig, share float64, who string) func() error {
	v := fs.String("stripe-rate-limit", getenv(envStripeRateLimit.name), fmt.Sprintf(
		"Stripe requests a second %s sends at most, or off; a request beyond it waits for its turn instead of drawing a 429 "+
			"(default: %.0f %% of Stripe's limit for the key's mode, %g in test mode and %g in live mode; "+
			"processes sharing one Stripe account divide their share by their number)",
		who, 100*share, share*wiring.StripeTestModeRateLimit, share*wiring.StripeLiveModeRateLimit))
	return func() error {
		var err error
		if sc.RateLimit, err = wiring.ParseStripeRateLimit(*v, sc.SecretKey, share); err != nil {
			return fmt.Errorf("stripe-rate-limit (%s): %w", envStripeRateLimit.name, err)
		}
		return nil
	}
}

// setCurrentTimeout bounds a starting worker's wait for the server to register its
// version before it makes it current: the server does on the version's first poll, within
// seconds, so a minute means the server is unreachable, and the worker serves on.
const setCurrentTimeout = time.Minute

// deploymentSettings defines the deployment flags on fs, with defaults from getenv, and
// returns the deployment and the check of its values: a name Temporal accepts (or "",
// an unversioned worker), and a build id when versioned. The deployment's name is set on
// the flag only, so an empty name cannot come from an unset variable by mistake.
func deploymentSettings(fs *flag.FlagSet, getenv func(string) string) (*wiring.Deployment, func() error) {
	d := &wiring.Deployment{}
	fs.StringVar(&d.Name, "deployment-name", getenvOr(getenv, envDeploymentName.name, wiring.DefaultDeploymentName),
		"Temporal Worker Deployment the worker belongs to; \"\" for an unversioned worker")
	fs.StringVar(&d.BuildID, "build-id", getenvOr(getenv, envBuildID.name, buildVersion()),
		"build id of this worker's code in the deployment: workers with one build id must run the same workflow code")
	return d, func() error {
		if err := wiring.CheckDeploymentName(d.Name); err != nil {
			return fmt.Errorf("deployment-name (%s): %w", envDeploymentName.name, err)
		}
		if !d.Versioned() {
			return nil
		}
		if err := wiring.CheckBuildID(d.BuildID); err != nil {
			return fmt.Errorf("build-id (%s): %w", envBuildID.name, err)
		}
		return nil
	}
}

func workerCommand() command {
	env := append([]envVar{envDatabaseURL, envStripeKey, envStripeAPIBase, envLogFormat, envLogLevel,
		envDeploymentName, envBuildID, envSetCurrentIfNone, envAlertSigningKey, envAlertWebhookURL, envStripeRateLimit}, temporalEnv...)
	return command{
		name: "worker",
		summary: "Run a worker: the Underwrite workflow and its activities on task queue \"" + workflows.TaskQueue + "\". Scale out by running more. " +
			"The worker is one version (--build-id) of a Temporal Worker Deployment; runs stay on the version they started on, " +
			"and `underwriter deploy set-current` moves new runs to another.",
		env: env,
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc, tcErr := temporalSettings(fs, getenv)
			sc := stripeFlags(fs, getenv)
			dep, depErr := deploymentSettings(fs, getenv)
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			maxActs := fs.Int("max-concurrent-activities", 0, "activities run at once by this worker (0: SDK default)")
			rateErr := stripeRateLimitFlag(fs, getenv, sc, wiring.WorkerStripeShare, "this worker")
			setCurrent := true
			var setCurrentErr error
			if v := strings.TrimSpace(getenv(envSetCurrentIfNone.name)); v != "" {
				if setCurrent, setCurrentErr = strconv.ParseBool(v); setCurrentErr != nil {
					setCurrentErr = fmt.Errorf("%s: %q is not true or false", envSetCurrentIfNone.name, v)
				}
			}
			fs.BoolVar(&setCurrent, "set-current-if-none", setCurrent,
				"make this worker's version the deployment's current version when it has none (the first deploy); never replaces one")
			var logs logConfig
			logs.flags(fs, getenv, "json", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				// Every setting is checked before anything connects. The alert signing key
				// is optional: without it alerts are stored and listed, and their delivery
				// fails (logged), so a worker that books no loans needs none.
				alertKey, alertKeyErr := alertSigningKey(getenv, false)
				alertURL, alertURLErr := alertWebhookURL(getenv)
				if err := errors.Join(checkStripe(sc), checkDatabaseURL(*dbURL), tcErr(), checkTemporal(*tc), depErr(), setCurrentErr,
					alertKeyErr, alertURLErr, rateErr()); err != nil {
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
				if err := setDevAlertWebhook(ctx, b.store, alertURL); err != nil {
					return err
				}
				if alertKey == nil {
					logger.Warn("alert webhooks cannot be signed: " + envAlertSigningKey.name + " is not set; loans' alerts are stored, not delivered")
				}
				w := wiring.NewWorker(b.temporal, &activities.Activities{
					Stripe: wiring.NewStripe(*sc, logger), Store: b.store, Logger: logger, BuildVersion: buildVersion(),
					DeploymentVersion: dep.String(), AlertSigningKey: alertKey,
				}, wiring.WorkerOptions{MaxConcurrentActivities: *maxActs, Deployment: *dep})
				// Both configs redact their secrets (slog.LogValuer).
				logger.Info("worker starting", "temporal", *tc, "stripe", *sc, "task_queue", workflows.TaskQueue, "build", buildVersion(),
					"deployment_version", dep.String())
				if dep.Versioned() && setCurrent {
					// The server registers the version on the worker's first poll, which Run
					// starts; until a version is current, new workflows have nowhere to go.
					go wiring.LogCurrentVersion(ctx, b.temporal, *dep, setCurrentTimeout, logger)
				}
				stop := make(chan interface{})
				go func() { <-ctx.Done(); close(stop) }()
				return w.Run(stop)
			}
		},
	}
}
