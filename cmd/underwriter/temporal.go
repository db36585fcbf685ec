package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// envTemporalDatabaseURL is the Temporal server's own Postgres database.
var envTemporalDatabaseURL = envVar{"TEMPORAL_DATABASE_URL",
	"Postgres URL of the Temporal server's own database, e.g. postgres://user@host:5432/temporal (secret if it holds a password)"}

func temporalCommand() command {
	return command{
		name: "temporal",
		summary: "Run the Temporal server (and optionally its Web UI) as its own process, its state in Postgres: " +
			"for a production-like topology of separate worker and API processes on one machine.",
		env: []envVar{envTemporalDatabaseURL, envTemporalNamespace, envDatabaseURL, envLogFormat, envLogLevel},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var (
				dbURL     = fs.String("database-url", getenv(envTemporalDatabaseURL.name), "Postgres URL of a database for Temporal's own tables (created when missing, with <name>"+temporalembed.VisibilitySuffix+" for visibility); not the application's database; a password belongs in the variable, not on the command line")
				port      = fs.Int("port", 7233, "frontend gRPC port on 127.0.0.1")
				uiPort    = fs.Int("ui-port", 8233, "Web UI port on 127.0.0.1 (-1: no UI)")
				namespace = fs.String("namespace", getenvOr(getenv, envTemporalNamespace.name, temporalembed.DefaultNamespace), "namespace to register (with underwriter's search attributes) when missing")
				shards    = fs.Int("history-shards", 4, "history shards of a new database; fixed once the database is used")
				retention = fs.Duration("retention", 72*time.Hour, "how long closed workflows are kept, for a namespace registered now")
			)
			var logs logConfig
			logs.flags(fs, getenv, "text", "warn")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				if err := checkTemporalFlags(*dbURL, getenv(envDatabaseURL.name), *port, *uiPort, *namespace, *shards, *retention); err != nil {
					return err
				}
				ts, err := temporalembed.Start(ctx, temporalembed.Config{
					PostgresURL: *dbURL, Namespace: *namespace, FrontendPort: *port, UIPort: *uiPort,
					HistoryShards: *shards, Retention: *retention,
					SearchAttributes: workflows.SearchAttributeTypes(),
					Logger:           logger.With("component", "temporal-server"),
				})
				var pgErr *temporalembed.PostgresError
				if errors.As(err, &pgErr) {
					return fmt.Errorf("--database-url: %w", err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "temporal server: frontend %s, namespace %s", ts.FrontendAddress(), ts.Namespace())
				if ts.UIURL() != "" {
					fmt.Fprintf(stdout, ", web ui %s", ts.UIURL())
				}
				fmt.Fprintln(stdout)
				<-ctx.Done()
				return ts.Stop()
			}
		},
	}
}

// checkTemporalFlags refuses flags that cannot work before anything starts; each error
// names its flag, and none quotes a password.
func checkTemporalFlags(dbURL, appURL string, port, uiPort int, namespace string, shards int, retention time.Duration) error {
	if dbURL == "" {
		return fmt.Errorf("--database-url (%s): not set; give the Temporal server a Postgres database of its own, e.g. postgres://user@127.0.0.1:5432/temporal", envTemporalDatabaseURL.name)
	}
	if err := temporalembed.CheckPostgresURL(dbURL); err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	if appURL != "" {
		addr, db, err := temporalembed.PostgresDatabase(dbURL)
		appAddr, appDB, appErr := temporalembed.PostgresDatabase(appURL)
		if err == nil && appErr == nil && addr == appAddr && db == appDB {
			return fmt.Errorf("--database-url: database %s is the application's (%s); give Temporal a database of its own, such as temporal", db, envDatabaseURL.name)
		}
	}
	var errs []error
	if port < 1 || port > 65535 {
		errs = append(errs, fmt.Errorf("--port: %d is not a port from 1 to 65535", port))
	}
	if uiPort != temporalembed.NoUI && (uiPort < 1 || uiPort > 65535) {
		errs = append(errs, fmt.Errorf("--ui-port: %d is not a port from 1 to 65535, or -1 for no UI", uiPort))
	}
	if namespace == "" {
		errs = append(errs, errors.New("--namespace: empty"))
	}
	if shards < 1 {
		errs = append(errs, fmt.Errorf("--history-shards: %d; want at least 1", shards))
	}
	if retention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("--retention: %s; the server keeps closed workflows at least 24h", retention))
	}
	return errors.Join(errs...)
}
