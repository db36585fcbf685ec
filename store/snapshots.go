package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Snapshot is the frozen input of a decision: the ledger document of an application's
// accounts at AsOf, in the ledger file format, with its content hash. Snapshots are
// immutable; the database refuses updates.
type Snapshot struct {
	ID            int64     `db:"id"`
	ApplicationID string    `db:"application_id"`
	AsOf          time.Time `db:"as_of"`
	ContentHash   string    `db:"content_hash"`
	// Ledger holds the document exactly as hashed (stored as bytea, byte for byte).
	Ledger       []byte    `db:"ledger"`
	TxnCount     int       `db:"txn_count"`
	AccountCount int       `db:"account_count"`
	CreatedAt    time.Time `db:"created_at"`
}

const snapshotColumns = `id, application_id, as_of, content_hash, ledger, txn_count, account_count, created_at`

// InsertSnapshot stores sn and returns the stored row with its ID. Taking the same
// snapshot again (same application and content hash) returns the row already stored. A
// stored snapshot with the same hash but a different ledger wraps ErrConflict: the hash
// no longer identifies the content. ID and CreatedAt are set by the database.
func (s *Store) InsertSnapshot(ctx context.Context, sn Snapshot) (Snapshot, error) {
	const ins = `
		insert into snapshots (application_id, as_of, content_hash, ledger, txn_count, account_count)
		values ($1, $2, $3, $4, $5, $6)
		on conflict (application_id, content_hash) do nothing
		returning ` + snapshotColumns
	rows, _ := s.pool.Query(ctx, ins, sn.ApplicationID, sn.AsOf, sn.ContentHash, sn.Ledger,
		sn.TxnCount, sn.AccountCount)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Snapshot])
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Snapshot{}, fmt.Errorf("insert snapshot of application %s: %w", sn.ApplicationID, err)
	}

	const sel = `select ` + snapshotColumns + ` from snapshots where application_id = $1 and content_hash = $2`
	rows, _ = s.pool.Query(ctx, sel, sn.ApplicationID, sn.ContentHash)
	got, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Snapshot])
	if err != nil {
		return Snapshot{}, fmt.Errorf("get snapshot of application %s with hash %s: %w",
			sn.ApplicationID, sn.ContentHash, notFound(err))
	}
	if !bytes.Equal(got.Ledger, sn.Ledger) {
		return got, fmt.Errorf("insert snapshot of application %s: hash %s stored with another ledger: %w",
			sn.ApplicationID, sn.ContentHash, ErrConflict)
	}
	return got, nil
}

// GetSnapshot returns the snapshot with the given id, or an error wrapping ErrNotFound.
func (s *Store) GetSnapshot(ctx context.Context, id int64) (Snapshot, error) {
	const q = `select ` + snapshotColumns + ` from snapshots where id = $1`
	rows, _ := s.pool.Query(ctx, q, id)
	sn, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Snapshot])
	if err != nil {
		return Snapshot{}, fmt.Errorf("get snapshot %d: %w", id, notFound(err))
	}
	return sn, nil
}
