// Package migrations holds the Postgres schema of underwriter as numbered SQL files
// (NNN_verb_object.sql, embedded in the binary) and applies them with tern.
//
// Each file says why it exists in a header comment; the SQL above tern's
// "---- create above / drop below ----" marker migrates up, the SQL below it down.
// The applied version lives in the table schema_version. Apply takes tern's advisory
// lock, so several processes may call it at once.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

// versionTable is the table in which tern records the applied schema version.
const versionTable = "schema_version"

//go:embed *.sql
var files embed.FS

// latest is the highest embedded migration number, computed once.
var latest = sync.OnceValue(func() int32 {
	paths, err := migrate.FindMigrations(files)
	if err != nil {
		// The files are embedded at build time, so a gap or duplicate is a programmer error
		// that TestLatest catches.
		panic(fmt.Sprintf("migrations: embedded files: %v", err))
	}
	return int32(len(paths))
})

// Latest returns the highest migration version embedded in this build, the version
// Apply brings a database to.
func Latest() int32 { return latest() }

// Apply migrates the database behind conn up to Latest. Already applied migrations are
// skipped, so calling it on an up-to-date database does nothing.
func Apply(ctx context.Context, conn *pgx.Conn) error {
	return migrateTo(ctx, conn, Latest())
}

// Current returns the schema version recorded in the database behind conn, 0 when no
// migration has ever run there. Unlike Apply it never creates anything, so it is safe on
// a read-only connection.
func Current(ctx context.Context, conn *pgx.Conn) (int32, error) {
	const q = `select to_regclass($1) is not null`
	var exists bool
	if err := conn.QueryRow(ctx, q, versionTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look up %s: %w", versionTable, err)
	}
	if !exists {
		return 0, nil
	}
	var v int32
	if err := conn.QueryRow(ctx, `select version from `+versionTable).Scan(&v); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, nil
		}
		return 0, fmt.Errorf("read %s: %w", versionTable, err)
	}
	return v, nil
}

// migrateTo migrates up or down to version target (0 drops everything). It is unexported
// because production only ever moves forward; tests use it to exercise the down steps.
func migrateTo(ctx context.Context, conn *pgx.Conn, target int32) error {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("create migrator: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.MigrateTo(ctx, target); err != nil {
		return fmt.Errorf("migrate to version %d: %w", target, err)
	}
	return nil
}
