// Package store is underwriter's Postgres data layer: applications, linked accounts,
// transactions, balances, snapshots, decisions, processed webhook events, and after the
// decision the booked loans and their early-warning alerts.
//
// Every write is idempotent so that Temporal activity retries and duplicated Stripe
// webhooks leave one row: inserts use ON CONFLICT on the natural key (Stripe ids, the
// lender's application id, a snapshot's content hash). The raw SQL sits next to the Go
// function that runs it. The package is a plain data layer: it imports no Stripe, Temporal
// or scoring code, and its types carry amounts as int64 minor units with positive = money
// into the account.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cashflow-underwriting/underwriter/migrations"
)

// ErrNotFound is returned (wrapped) when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write collides with a different row already
// stored under the same key, for example an application id reused with another request.
var ErrConflict = errors.New("conflict")

// ErrSchemaOutdated is returned (wrapped) by CheckSchema when the database has not been
// migrated to the version this build expects.
var ErrSchemaOutdated = errors.New("database schema is outdated")

// Store runs underwriter's queries over a pgx connection pool. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store over pool. The caller owns the pool and closes it.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// CheckSchema returns an error wrapping ErrSchemaOutdated when the database schema is older
// than migrations.Latest, so a worker refuses to start against a database it would
// misread. A newer schema is accepted: migrations only add, and a rolling deploy migrates
// before it replaces the old binaries.
func (s *Store) CheckSchema(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	v, err := migrations.Current(ctx, conn.Conn())
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if want := migrations.Latest(); v < want {
		return fmt.Errorf("check schema: version %d, this build needs %d; run `underwriter migrate`: %w",
			v, want, ErrSchemaOutdated)
	}
	return nil
}

// notFound maps pgx.ErrNoRows to ErrNotFound and leaves other errors alone.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// isUniqueViolation reports whether err is Postgres' unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// nullIfEmpty maps "" to SQL NULL for optional text columns.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
