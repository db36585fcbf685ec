package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Account is a linked Financial Connections account (fca_…). It holds no account number
// or last4.
type Account struct {
	ID            string `db:"id"`
	ApplicationID string `db:"application_id"`
	// CustomerID is the account holder's Stripe customer (cus_…).
	CustomerID      string `db:"customer_id"`
	Category        string `db:"category"`
	Subcategory     string `db:"subcategory"`
	Status          string `db:"status"`
	InstitutionName string `db:"institution_name"`
	Currency        string `db:"currency"`
	// LastSyncedRefreshID is the transaction refresh (fctxnref_…) whose transactions were
	// last written completely, nil before the first full sync.
	LastSyncedRefreshID *string   `db:"last_synced_refresh_id"`
	CreatedAt           time.Time `db:"created_at"`
	// UpdatedAt is when UpsertAccount last stored the account's Stripe attributes
	// (LatestBalanceRead trusts only reads recorded since).
	UpdatedAt time.Time `db:"updated_at"`
}

const accountColumns = `id, application_id, customer_id, category, subcategory, status,
	institution_name, currency, last_synced_refresh_id, created_at, updated_at`

// UpsertAccount inserts a or updates the stored account's Stripe attributes (customer,
// category, subcategory, status, institution, currency), and attaches it to
// a.ApplicationID: an account can serve several applications of its customer (a returning
// customer), and the application that stored it first stays in Account.ApplicationID. It
// never changes LastSyncedRefreshID, which only SetAccountSyncedRefresh moves. An account
// id already stored for another customer wraps ErrConflict.
func (s *Store) UpsertAccount(ctx context.Context, a Account) error {
	const upsert = `
		insert into accounts (id, application_id, customer_id, category, subcategory, status,
			institution_name, currency)
		values ($1, $2, $3, $4, $5, $6, $7, $8)
		on conflict (id) do update set
			category = excluded.category,
			subcategory = excluded.subcategory,
			status = excluded.status,
			institution_name = excluded.institution_name,
			currency = excluded.currency,
			updated_at = now()
		where accounts.customer_id = excluded.customer_id`
	const attach = `
		insert into application_accounts (application_id, account_id) values ($1, $2)
		on conflict do nothing`
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, upsert, a.ID, a.ApplicationID, a.CustomerID, a.Category, a.Subcategory,
			a.Status, a.InstitutionName, a.Currency)
		if err != nil {
			return fmt.Errorf("upsert account %s: %w", a.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("upsert account %s: stored for another customer than %s: %w", a.ID, a.CustomerID, ErrConflict)
		}
		if _, err := tx.Exec(ctx, attach, a.ApplicationID, a.ID); err != nil {
			return fmt.Errorf("attach account %s to application %s: %w", a.ID, a.ApplicationID, err)
		}
		return nil
	})
}

// GetAccount returns the account with the given id, or an error wrapping ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, id string) (Account, error) {
	const q = `select ` + accountColumns + ` from accounts where id = $1`
	rows, _ := s.pool.Query(ctx, q, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Account])
	if err != nil {
		return Account{}, fmt.Errorf("get account %s: %w", id, notFound(err))
	}
	return a, nil
}

// ListAccounts returns the accounts attached to an application, ordered by id so that
// snapshots built from them are deterministic. No accounts is an empty slice, not an error.
func (s *Store) ListAccounts(ctx context.Context, applicationID string) ([]Account, error) {
	const q = `select ` + accountColumns + ` from accounts
		where id in (select account_id from application_accounts where application_id = $1)
		order by id`
	rows, _ := s.pool.Query(ctx, q, applicationID)
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[Account])
	if err != nil {
		return nil, fmt.Errorf("list accounts of application %s: %w", applicationID, err)
	}
	return as, nil
}

// SetAccountSyncedRefresh records that every transaction of refresh refreshID (fctxnref_…)
// has been written for accountID. It leaves UpdatedAt alone: a sync that ends while the
// balance step runs must not make the balance read recorded before it look outdated. An
// unknown account wraps ErrNotFound.
func (s *Store) SetAccountSyncedRefresh(ctx context.Context, accountID, refreshID string) error {
	const q = `update accounts set last_synced_refresh_id = $2 where id = $1`
	tag, err := s.pool.Exec(ctx, q, accountID, refreshID)
	if err != nil {
		return fmt.Errorf("set synced refresh of account %s: %w", accountID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set synced refresh of account %s: %w", accountID, ErrNotFound)
	}
	return nil
}
