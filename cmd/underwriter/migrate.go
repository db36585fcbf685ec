package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/cashflow-underwriting/underwriter/migrations"
)

func migrateCommand() command {
	return command{
		name:    "migrate",
		summary: "Apply the database migrations to DATABASE_URL (up to the newest).",
		env:     []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			status := fs.Bool("status", false, "print the current and newest schema versions and change nothing")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				if err := checkDatabaseURL(*dbURL); err != nil {
					return err
				}
				conn, err := pgx.Connect(ctx, *dbURL)
				if err != nil {
					return fmt.Errorf("connect to postgres (DATABASE_URL): %w", err)
				}
				defer conn.Close(ctx)
				before, err := migrations.Current(ctx, conn)
				if err != nil {
					return err
				}
				if *status {
					fmt.Fprintf(stdout, "schema version %d, newest %d\n", before, migrations.Latest())
					return nil
				}
				if err := migrations.Apply(ctx, conn); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "schema version %d -> %d\n", before, migrations.Latest())
				return nil
			}
		},
	}
}
