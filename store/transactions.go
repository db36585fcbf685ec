package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Transaction is a Financial Connections transaction (fctxn_…).
type Transaction struct {
	ID        string `db:"id"`
	AccountID string `db:"account_id"`
	// AmountMinor is signed in minor units: positive = money into the account.
	AmountMinor int64  `db:"amount_minor"`
	Currency    string `db:"currency"`
	// Description is the bank's text. It must never be logged.
	Description string `db:"description"`
	// Status is pending, posted or void.
	Status       string     `db:"status"`
	TransactedAt time.Time  `db:"transacted_at"`
	PostedAt     *time.Time `db:"posted_at"`
	VoidAt       *time.Time `db:"void_at"`
	// TransactionRefresh is the refresh (fctxnref_…) that last changed the transaction.
	TransactionRefresh string `db:"transaction_refresh"`
	// StripeUpdatedAt is Stripe's `updated`; an upsert never replaces a newer version.
	StripeUpdatedAt time.Time `db:"stripe_updated_at"`
	InsertedAt      time.Time `db:"inserted_at"`
	UpdatedAt       time.Time `db:"updated_at"`
}

const transactionColumns = `id, account_id, amount_minor, currency, description, status,
	transacted_at, posted_at, void_at, transaction_refresh, stripe_updated_at, inserted_at, updated_at`

// upsertTransactionSQL inserts one transaction or replaces the stored version when the
// incoming one is strictly newer by Stripe's `updated` time, so a page replayed after a
// retry, or pages read out of order, never roll a posted or void transaction back to an
// older pending state. The account never changes.
const upsertTransactionSQL = `
	insert into transactions (id, account_id, amount_minor, currency, description, status,
		transacted_at, posted_at, void_at, transaction_refresh, stripe_updated_at)
	values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	on conflict (id) do update set
		amount_minor = excluded.amount_minor,
		currency = excluded.currency,
		description = excluded.description,
		status = excluded.status,
		transacted_at = excluded.transacted_at,
		posted_at = excluded.posted_at,
		void_at = excluded.void_at,
		transaction_refresh = excluded.transaction_refresh,
		stripe_updated_at = excluded.stripe_updated_at,
		updated_at = now()
	where excluded.stripe_updated_at > transactions.stripe_updated_at
		and transactions.account_id = excluded.account_id`

// UpsertTransactions writes one page of transactions (Stripe pages hold at most 100) in one
// round trip: the inserts travel as one pgx batch, which Postgres runs as one implicit
// transaction, so a page is written completely or not at all. It returns how many rows
// were inserted or replaced; rows whose stored version is as new or newer are left alone
// and not counted. InsertedAt and UpdatedAt are set by the database.
func (s *Store) UpsertTransactions(ctx context.Context, txns []Transaction) (int64, error) {
	if len(txns) == 0 {
		return 0, nil
	}
	b := &pgx.Batch{}
	for _, t := range txns {
		b.Queue(upsertTransactionSQL, t.ID, t.AccountID, t.AmountMinor, t.Currency, t.Description,
			t.Status, t.TransactedAt, t.PostedAt, t.VoidAt, t.TransactionRefresh, t.StripeUpdatedAt)
	}
	br := s.pool.SendBatch(ctx, b)
	var n int64
	for i := range txns {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return 0, fmt.Errorf("upsert transaction %s (%d of %d): %w", txns[i].ID, i+1, len(txns), err)
		}
		n += tag.RowsAffected()
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("upsert %d transactions: %w", len(txns), err)
	}
	return n, nil
}

// CountTransactions returns how many transactions are stored for accountID.
func (s *Store) CountTransactions(ctx context.Context, accountID string) (int, error) {
	const q = `select count(*) from transactions where account_id = $1`
	var n int
	if err := s.pool.QueryRow(ctx, q, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count transactions of account %s: %w", accountID, err)
	}
	return n, nil
}

// ListTransactions returns every stored transaction of accountID (pending, posted and
// void) ordered by transacted_at, then id, so a ledger built from it is deterministic.
func (s *Store) ListTransactions(ctx context.Context, accountID string) ([]Transaction, error) {
	const q = `select ` + transactionColumns + ` from transactions where account_id = $1
		order by transacted_at, id`
	rows, _ := s.pool.Query(ctx, q, accountID)
	ts, err := pgx.CollectRows(rows, pgx.RowToStructByName[Transaction])
	if err != nil {
		return nil, fmt.Errorf("list transactions of account %s: %w", accountID, err)
	}
	return ts, nil
}
