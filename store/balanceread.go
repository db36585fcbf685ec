package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BalanceRead is what one read of an account at Stripe said about its balance: the balance
// refresh's status and last_attempted_at, and the balance the read returned.
type BalanceRead struct {
	// Status is balance_refresh.status ("" when Stripe reports none).
	Status string
	// AttemptedAt is balance_refresh.last_attempted_at (zero: none).
	AttemptedAt time.Time
	// Balance is the balance the read returned, nil when Stripe reported none.
	Balance *Balance
}

// RecordBalanceRead records r as the account's latest balance read and stores its balance
// (as InsertBalance does), unless a read of a later balance refresh is recorded already
// (balance_refresh.last_attempted_at only moves forward). It reports whether r was
// recorded; an account not stored is not recorded and not an error.
func (s *Store) RecordBalanceRead(ctx context.Context, accountID string, r BalanceRead) (bool, error) {
	var attempted, asOf *time.Time
	if !r.AttemptedAt.IsZero() {
		attempted = &r.AttemptedAt
	}
	if r.Balance != nil {
		asOf = &r.Balance.AsOf
	}
	const update = `
		update accounts set balance_refresh_status = $2, balance_refresh_attempted_at = $3,
			balance_as_of = $4, balance_read_at = now()
		where id = $1 and (balance_refresh_attempted_at is null
			or ($3::timestamptz is not null and balance_refresh_attempted_at <= $3::timestamptz))`
	recorded := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, update, accountID, r.Status, attempted, asOf)
		if err != nil {
			return err
		}
		if recorded = tag.RowsAffected() == 1; !recorded || r.Balance == nil {
			return nil
		}
		b := r.Balance
		_, err = tx.Exec(ctx, `
			insert into balances (account_id, as_of, current_minor, available_minor, currency, type)
			values ($1, $2, $3, $4, $5, $6)
			on conflict (account_id, as_of) do nothing`,
			accountID, b.AsOf, b.CurrentMinor, b.AvailableMinor, b.Currency, b.Type)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record balance read of account %s: %w", accountID, err)
	}
	return recorded, nil
}

// LatestBalanceRead returns the account's latest recorded balance read, with its balance
// when it returned one, and whether it is current: recorded no earlier than the account
// row's last upsert (UpsertAccount, which stores every refresh a worker asks for, moves
// updated_at; a read recorded before it may predate that refresh). No read recorded yet
// is a zero BalanceRead, not current. An unknown account wraps ErrNotFound.
func (s *Store) LatestBalanceRead(ctx context.Context, accountID string) (BalanceRead, bool, error) {
	const q = `
		select a.balance_refresh_status, a.balance_refresh_attempted_at, a.balance_read_at >= a.updated_at,
			b.as_of, b.current_minor, b.available_minor, b.currency, b.type, b.created_at
		from accounts a
		left join balances b on b.account_id = a.id and b.as_of = a.balance_as_of
		where a.id = $1`
	var (
		status            *string
		attempted         *time.Time
		current           *bool
		asOf, created     *time.Time
		curMinor          *int64
		avail             *int64
		currency, balType *string
	)
	err := s.pool.QueryRow(ctx, q, accountID).Scan(&status, &attempted, &current, &asOf, &curMinor, &avail, &currency, &balType, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return BalanceRead{}, false, fmt.Errorf("get balance read of account %s: %w", accountID, ErrNotFound)
	}
	if err != nil {
		return BalanceRead{}, false, fmt.Errorf("get balance read of account %s: %w", accountID, err)
	}
	if status == nil {
		return BalanceRead{}, false, nil
	}
	r := BalanceRead{Status: *status}
	if attempted != nil {
		r.AttemptedAt = attempted.UTC()
	}
	if asOf != nil {
		r.Balance = &Balance{AccountID: accountID, AsOf: asOf.UTC(), CurrentMinor: *curMinor, AvailableMinor: avail,
			Currency: *currency, Type: *balType, CreatedAt: *created}
	}
	return r, current != nil && *current, nil
}
