package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lender is a lender the API serves.
type Lender struct {
	ID        string    `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// APIKey is a lender's API key as Postgres knows it: its public id and metadata, never the
// key (only its hash, which this type does not carry).
type APIKey struct {
	ID         string     `db:"id"`
	LenderID   string     `db:"lender_id"`
	Label      string     `db:"label"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// EnsureLender creates the lender unless it exists; an existing lender keeps its name
// unless name is not empty.
func (s *Store) EnsureLender(ctx context.Context, id, name string) error {
	const q = `
		insert into lenders (id, name) values ($1, $2)
		on conflict (id) do update set name = excluded.name where excluded.name <> ''`
	if _, err := s.pool.Exec(ctx, q, id, name); err != nil {
		return fmt.Errorf("create lender %s: %w", id, err)
	}
	return nil
}

// InsertAPIKey stores a new key of the lender: its public id, the SHA-256 of the whole key
// and a label. An unknown lender is an error naming it.
func (s *Store) InsertAPIKey(ctx context.Context, lenderID, id, label string, hash []byte) error {
	const q = `insert into api_keys (id, lender_id, key_hash, label) values ($1, $2, $3, $4)`
	if _, err := s.pool.Exec(ctx, q, id, lenderID, hash, label); err != nil {
		return fmt.Errorf("store api key %s of lender %s: %w", id, lenderID, err)
	}
	return nil
}

// ActiveAPIKey returns the lender and stored hash of the unrevoked key with the given
// public id, or an error wrapping ErrNotFound.
func (s *Store) ActiveAPIKey(ctx context.Context, id string) (lenderID string, hash []byte, err error) {
	const q = `select lender_id, key_hash from api_keys where id = $1 and revoked_at is null`
	if err := s.pool.QueryRow(ctx, q, id).Scan(&lenderID, &hash); err != nil {
		return "", nil, fmt.Errorf("look up api key %s: %w", id, notFound(err))
	}
	return lenderID, hash, nil
}

// TouchAPIKey records that the key was just used, at most once a minute per key, so that
// an operator rotating keys sees whether an old one is still in use.
func (s *Store) TouchAPIKey(ctx context.Context, id string) error {
	const q = `
		update api_keys set last_used_at = now()
		where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`
	if _, err := s.pool.Exec(ctx, q, id); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// ListAPIKeys returns the keys of the lender ("" for every lender), revoked ones too,
// oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, lenderID string) ([]APIKey, error) {
	const q = `
		select id, lender_id, label, created_at, last_used_at, revoked_at from api_keys
		where $1 = '' or lender_id = $1
		order by created_at, id`
	rows, _ := s.pool.Query(ctx, q, lenderID)
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes the key with the given public id at once: the next request with it
// is refused. Revoking a revoked key keeps its first revocation time; an unknown id wraps
// ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (APIKey, error) {
	const q = `
		update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1
		returning id, lender_id, label, created_at, last_used_at, revoked_at`
	rows, _ := s.pool.Query(ctx, q, id)
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key %s: %w", id, notFound(err))
	}
	return k, nil
}

// LenderAccountCustomer returns the Stripe customer of a Financial Connections account
// that an earlier application of the lender linked, or an error wrapping ErrNotFound when
// no application of this lender did (another lender's account is not found either).
func (s *Store) LenderAccountCustomer(ctx context.Context, lenderID, accountID string) (string, error) {
	const q = `
		select a.customer_id from accounts a
		join application_accounts aa on aa.account_id = a.id
		join applications ap on ap.id = aa.application_id
		where a.id = $1 and ap.lender_id = $2
		limit 1`
	var customer string
	if err := s.pool.QueryRow(ctx, q, accountID, lenderID).Scan(&customer); err != nil {
		return "", fmt.Errorf("account %s of lender %s: %w", accountID, lenderID, notFound(err))
	}
	return customer, nil
}
