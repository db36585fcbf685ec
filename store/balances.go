package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Balance is one balance observation of an account at AsOf.
type Balance struct {
	AccountID    string    `db:"account_id"`
	AsOf         time.Time `db:"as_of"`
	CurrentMinor int64     `db:"current_minor"`
	// AvailableMinor is nil when the bank reports no available balance (credit accounts).
	AvailableMinor *int64 `db:"available_minor"`
	Currency       string `db:"currency"`
	// Type is cash or credit, as in Stripe's balance object.
	Type      string    `db:"type"`
	CreatedAt time.Time `db:"created_at"`
}

// InsertBalance stores b; a second observation of the same account at the same AsOf is
// ignored, so a retried refresh leaves one row. CreatedAt is set by the database.
func (s *Store) InsertBalance(ctx context.Context, b Balance) error {
	const q = `
		insert into balances (account_id, as_of, current_minor, available_minor, currency, type)
		values ($1, $2, $3, $4, $5, $6)
		on conflict (account_id, as_of) do nothing`
	if _, err := s.pool.Exec(ctx, q, b.AccountID, b.AsOf, b.CurrentMinor, b.AvailableMinor,
		b.Currency, b.Type); err != nil {
		return fmt.Errorf("insert balance of account %s: %w", b.AccountID, err)
	}
	return nil
}

// LatestBalance returns the balance of accountID with the greatest AsOf, or an error
// wrapping ErrNotFound when none is stored.
func (s *Store) LatestBalance(ctx context.Context, accountID string) (Balance, error) {
	const q = `
		select account_id, as_of, current_minor, available_minor, currency, type, created_at
		from balances where account_id = $1
		order by as_of desc limit 1`
	rows, _ := s.pool.Query(ctx, q, accountID)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Balance])
	if err != nil {
		return Balance{}, fmt.Errorf("get latest balance of account %s: %w", accountID, notFound(err))
	}
	return b, nil
}
