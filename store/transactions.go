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

// upsertTransactionsSQL inserts a page of transactions, passed as one array per column, or
// replaces a stored version when the incoming one is strictly newer by Stripe's `updated`
// time, so a page replayed after a retry, or pages read out of order, never roll a posted
// or void transaction back to an older pending state. The account never changes.
const upsertTransactionsSQL = `
	insert into transactions (id, account_id, amount_minor, currency, description, status,
		transacted_at, posted_at, void_at, transaction_refresh, stripe_updated_at)
	select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
		$7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::text[], $11::timestamptz[])
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

// UpsertTransactions writes one page of transactions (Stripe pages hold at most 100) as one
// statement in one round trip (its columns travel as arrays), so a page is written
// completely or not at all. It returns how many rows were inserted or replaced; rows whose
// stored version is as new or newer are left alone and not counted. InsertedAt and
// UpdatedAt are set by the database.
//
// One statement may not touch a row twice, so an id that occurs more than once in txns
// keeps only its newest version (the first of equally new ones), which is what upserting
// the occurrences one after the other leaves stored; the later occurrences are not counted.
func (s *Store) UpsertTransactions(ctx context.Context, txns []Transaction) (int64, error) {
	if len(txns) == 0 {
		return 0, nil
	}
	txns = newestPerID(txns)
	n := len(txns)
	var (
		ids, accounts, currencies, descriptions, statuses, refreshes = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amounts             = make([]int64, n)
		transacted, updated = make([]time.Time, n), make([]time.Time, n)
		posted, void        = make([]*time.Time, n), make([]*time.Time, n)
	)
	for i, t := range txns {
		ids[i], accounts[i], amounts[i], currencies[i], descriptions[i], statuses[i] =
			t.ID, t.AccountID, t.AmountMinor, t.Currency, t.Description, t.Status
		transacted[i], posted[i], void[i], refreshes[i], updated[i] =
			t.TransactedAt, t.PostedAt, t.VoidAt, t.TransactionRefresh, t.StripeUpdatedAt
	}
	tag, err := s.pool.Exec(ctx, upsertTransactionsSQL, ids, accounts, amounts, currencies, descriptions,
		statuses, transacted, posted, void, refreshes, updated)
	if err != nil {
		return 0, fmt.Errorf("upsert %d transactions (%s to %s): %w", n, ids[0], ids[n-1], err)
	}
	return tag.RowsAffected(), nil
}

// newestPerID returns txns with each id once: its newest version by StripeUpdatedAt, the
// first of equally new ones, at the place of its first occurrence. txns is returned as it
// is when no id repeats (a Stripe page never repeats one).
func newestPerID(txns []Transaction) []Transaction {
	at := make(map[string]int, len(txns))
	var out []Transaction
	for i, t := range txns {
		j, seen := at[t.ID]
		if !seen {
			at[t.ID] = len(at)
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]Transaction, 0, len(txns)), txns[:i]...)
		}
		if t.StripeUpdatedAt.After(out[j].StripeUpdatedAt) {
			out[j] = t
		}
	}
	if out == nil {
		return txns
	}
	return out
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
