package migrations_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migratedConn connects to a fresh database that pgtest has migrated to Latest.
func migratedConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func tables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(),
		`select tablename from pg_tables where schemaname = 'public' and tablename <> 'schema_version' order by tablename`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestLatest(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.sql")
	require.NoError(t, err)
	require.Equal(t, int32(len(files)), migrations.Latest(), "every SQL file is a numbered migration")
	require.GreaterOrEqual(t, migrations.Latest(), int32(7))
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	want := []string{"accounts", "api_keys", "application_accounts", "applications", "balances", "decisions", "lenders",
		"loan_alerts", "loans", "outcomes", "rescore_selections", "rescores", "snapshots", "transactions", "webhook_events"}

	v, err := migrations.Current(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, migrations.Latest(), v)
	require.Equal(t, want, tables(t, conn))

	// Apply on an up-to-date schema is a no-op.
	require.NoError(t, migrations.Apply(ctx, conn))
	v, err = migrations.Current(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, migrations.Latest(), v)

	// Every down step runs, one at a time; tablesAt[v] is how many tables version v has:
	// each of the first eight adds one, 009 changes tables without adding any, 010 adds
	// lenders and api_keys, 011 outcomes, 012 rescores, 013 rescore_selections; 014 adds a
	// column to decisions, 015 two indexes; 016 adds loans and loan_alerts; 017 adds
	// columns to accounts.
	tablesAt := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 10, 11, 12, 13, 13, 13, 15, 15}
	require.Len(t, tablesAt, int(migrations.Latest())+1, "say how many tables the new migration leaves")
	for target := migrations.Latest() - 1; target >= 0; target-- {
		require.NoError(t, migrations.MigrateTo(ctx, conn, target), "down to %d", target)
		v, err = migrations.Current(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, target, v)
		require.Len(t, tables(t, conn), tablesAt[target], "tables at version %d", target)
	}
	require.Empty(t, tables(t, conn))

	require.NoError(t, migrations.Apply(ctx, conn))
	v, err = migrations.Current(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, migrations.Latest(), v)
	require.Equal(t, want, tables(t, conn))
}

func TestCurrentWithoutVersionTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	require.NoError(t, migrations.MigrateTo(ctx, conn, 0))
	_, err := conn.Exec(ctx, `drop table schema_version`)
	require.NoError(t, err)

	v, err := migrations.Current(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, int32(0), v, "a database never migrated is at version 0")
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `select to_regclass('schema_version') is not null`).Scan(&exists))
	require.False(t, exists, "Current creates nothing")

	require.NoError(t, migrations.Apply(ctx, conn))
	v, err = migrations.Current(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, migrations.Latest(), v)
}

func TestSnapshotsAreImmutable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)

	_, err := conn.Exec(ctx, `insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('app_1', 'dev', 'app_1', 'h', 100, 12, 'usd', 'underwrite/app_1')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `insert into snapshots (application_id, as_of, content_hash, ledger, txn_count, account_count)
		values ('app_1', now(), 'c', '{}', 0, 0)`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `update snapshots set txn_count = 1`)
	require.ErrorContains(t, err, "immutable")
}

// TestApplicationLoanBounds: the applications table refuses exactly the loans loan.Validate
// refuses, at both ends of every bound.
func TestApplicationLoanBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	ok := loan.Request{AmountMinor: 300000, TermMonths: 12, Currency: "usd"}
	for i, tc := range []struct {
		mod        func(r *loan.Request)
		constraint string // empty: accepted
	}{
		{func(*loan.Request) {}, ""},
		{func(r *loan.Request) { r.AmountMinor = 1 }, ""},
		{func(r *loan.Request) { r.AmountMinor = loan.MaxAmountMinor }, ""},
		{func(r *loan.Request) { r.AmountMinor = 0 }, "applications_loan_amount_minor_check"},
		{func(r *loan.Request) { r.AmountMinor = loan.MaxAmountMinor + 1 }, "applications_loan_amount_minor_check"},
		{func(r *loan.Request) { r.TermMonths = loan.MinTermMonths }, ""},
		{func(r *loan.Request) { r.TermMonths = loan.MaxTermMonths }, ""},
		{func(r *loan.Request) { r.TermMonths = loan.MinTermMonths - 1 }, "applications_term_months_check"},
		{func(r *loan.Request) { r.TermMonths = loan.MaxTermMonths + 1 }, "applications_term_months_check"},
		{func(r *loan.Request) { r.Currency = "" }, "applications_currency_check"},
		{func(r *loan.Request) { r.Currency = "USD" }, "applications_currency_check"},
		{func(r *loan.Request) { r.Currency = "usdd" }, "applications_currency_check"},
	} {
		r := ok
		tc.mod(&r)
		require.Equal(t, tc.constraint == "", loan.Validate(r) == nil, "case %d: loan.Validate(%+v) disagrees", i, r)
		_, err := conn.Exec(ctx, `insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
			values ($1, 'dev', $1, 'h', $2, $3, $4, 'w')`, fmt.Sprintf("app_%d", i), r.AmountMinor, r.TermMonths, r.Currency)
		if tc.constraint == "" {
			require.NoError(t, err, "case %d: %+v", i, r)
		} else {
			require.ErrorContains(t, err, tc.constraint, "case %d: %+v", i, r)
		}
	}
}

// TestLoanBoundsMigrationFixesCurrencies: rows stored before 009 without a currency, or
// with one in capitals, are given the API's default and spelling rather than blocking it.
func TestLoanBoundsMigrationFixesCurrencies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	require.NoError(t, migrations.MigrateTo(ctx, conn, 8))
	_, err := conn.Exec(ctx, `insert into applications (id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('app_none', 'h', 100, 12, '', 'w'), ('app_caps', 'h', 100, 12, 'EUR', 'w')`)
	require.NoError(t, err)
	require.NoError(t, migrations.Apply(ctx, conn))
	rows, err := conn.Query(ctx, `select currency from applications order by id`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"eur", "usd"}, got)
}

// TestLendersMigrationKeepsOldApplications: applications stored before 010 belong to the
// development lender under their own id, which keeps their workflow id; a second
// application with the same id of another lender is accepted, a second of dev's is not.
func TestLendersMigrationKeepsOldApplications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	require.NoError(t, migrations.MigrateTo(ctx, conn, 9))
	_, err := conn.Exec(ctx, `insert into applications (id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('loan-1', 'h', 100, 12, 'usd', 'underwrite/loan-1')`)
	require.NoError(t, err)
	require.NoError(t, migrations.Apply(ctx, conn))
	var lender, external, workflow string
	require.NoError(t, conn.QueryRow(ctx, `select lender_id, external_id, workflow_id from applications where id = 'loan-1'`).
		Scan(&lender, &external, &workflow))
	require.Equal(t, []string{"dev", "loan-1", "underwrite/loan-1"}, []string{lender, external, workflow})

	_, err = conn.Exec(ctx, `insert into lenders (id) values ('acme')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('acme/loan-1', 'acme', 'loan-1', 'h', 100, 12, 'usd', 'underwrite/acme/loan-1')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('dev/loan-1', 'dev', 'loan-1', 'h', 100, 12, 'usd', 'underwrite/dev/loan-1')`)
	require.ErrorContains(t, err, "applications_lender_external_key")
	_, err = conn.Exec(ctx, `insert into lenders (id) values ('Bad/Lender')`)
	require.ErrorContains(t, err, "lenders_id_check")
}

// TestOutcomesBelongToApplications: an outcome needs a stored application and one of the
// three loan outcomes, one per application.
func TestOutcomesBelongToApplications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	_, err := conn.Exec(ctx, `insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		values ('dev/loan-1', 'dev', 'loan-1', 'h', 100, 12, 'usd', 'underwrite/dev/loan-1')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `insert into outcomes (application_id, outcome, observed_on) values ('dev/loan-1', 'repaid', '2026-03-01')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `insert into outcomes (application_id, outcome, observed_on) values ('dev/loan-1', 'defaulted', '2026-03-01')`)
	require.ErrorContains(t, err, "outcomes_pkey")
	_, err = conn.Exec(ctx, `insert into outcomes (application_id, outcome, observed_on) values ('loan-1', 'repaid', '2026-03-01')`)
	require.ErrorContains(t, err, "outcomes_application_id_fkey")
	_, err = conn.Exec(ctx, `insert into outcomes (application_id, outcome, observed_on) values ('dev/loan-1', 'paid', '2026-03-01')`)
	require.ErrorContains(t, err, "outcomes_outcome_check")
}

// TestListingIndexes: the range queries have their indexes (015), and the listing
// query uses the applications index rather than sorting the lender's rows.
func TestListingIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	for _, name := range []string{"applications_lender_created_idx", "decisions_decided_at_idx"} {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `select count(*) from pg_indexes where indexname = $1`, name).Scan(&n))
		require.Equal(t, 1, n, name)
	}
	_, err := conn.Exec(ctx, `set enable_seqscan = off`)
	require.NoError(t, err)
	var plan strings.Builder
	rows, err := conn.Query(ctx, `explain select id from applications where lender_id = 'dev' order by created_at desc, id desc limit 10`)
	require.NoError(t, err)
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	require.Contains(t, plan.String(), "applications_lender_created_idx", plan.String())
	require.NotContains(t, plan.String(), "Sort", "the index gives the order")
}
