package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/chaos"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
)

func chaosCommand() command {
	return command{
		name: "chaos",
		summary: "Underwrite the sample applicants with the worker and API as separate processes, fault-free and then under chaos " +
			"(Stripe 5xx, 429, latency, dropped and duplicated webhooks; worker and API kills; Postgres and sandbox restarts), and compare. " +
			"Exits 1 unless every application is decided once, as in the fault-free run.",
		env: []envVar{envLogFormat, envLogLevel},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var (
				apps        = fs.Int("applications", 200, "applications per run")
				seed        = fs.Uint64("seed", 1, "seed of the fault rates, the kill schedule and the application ids")
				asJSON      = fs.Bool("json", false, "print the report as one JSON object")
				workers     = fs.Int("workers", 2, "worker processes")
				concurrency = fs.Int("concurrency", 8, "applications in flight at once")
				logDir      = fs.String("log-dir", "", "keep every process's log under this directory (default: a new temporary directory, printed at the end)")
				timeout     = fs.Duration("timeout", 15*time.Minute, "how long one application may take from its POST to its decision")
				logs        logConfig
			)
			logs.flags(fs, getenv, "text", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				// Refused before anything is built or started.
				for _, f := range []struct {
					name string
					v    int
				}{{"applications", *apps}, {"workers", *workers}, {"concurrency", *concurrency}} {
					if f.v < 1 {
						return fmt.Errorf("--%s %d: must be at least 1", f.name, f.v)
					}
				}
				if *timeout <= 0 {
					return fmt.Errorf("--timeout %s: must be positive", *timeout)
				}
				if *logDir == "" {
					if *logDir, err = os.MkdirTemp("", "underwriter-chaos-"); err != nil {
						return fmt.Errorf("create the log directory: %w", err)
					}
				}
				bin, err := cluster.Binary(ctx, *logDir)
				if err != nil {
					return err
				}
				rep, err := chaos.Run(ctx, chaos.Config{
					Applications: *apps, Seed: *seed, Binary: bin, Workers: *workers, Concurrency: *concurrency,
					Timeout: *timeout, LogDir: *logDir, Logger: logger,
				})
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(stdout)
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else if err := rep.WriteTable(stdout); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "logs: %s\n", *logDir)
				if p := rep.Problems(); len(p) > 0 {
					return fmt.Errorf("chaos: target missed: %s", strings.Join(p, "; "))
				}
				return nil
			}
		},
	}
}
