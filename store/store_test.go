package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/migrations"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func countRows(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "select count(*) from "+table).Scan(&n))
	return n
}

func ptr[T any](v T) *T { return &v }

// seed creates application app_1 with account fca_1 and returns the store.
func seed(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Pool(t)
	s := store.New(pool)
	ctx := context.Background()
	_, _, err := s.CreateApplication(ctx, store.Application{
		ID: "app_1", RequestHash: "h1", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd",
		WorkflowID: "underwrite/app_1",
	})
	require.NoError(t, err)
	require.NoError(t, s.UpsertAccount(ctx, store.Account{
		ID: "fca_1", ApplicationID: "app_1", CustomerID: "cus_1", Category: "cash",
		Subcategory: "checking", Status: "active", InstitutionName: "Bank", Currency: "usd",
	}))
	return s, pool
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("latest", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, store.New(pgtest.Pool(t)).CheckSchema(ctx))
	})
	t.Run("older", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.Pool(t)
		_, err := pool.Exec(ctx, "update schema_version set version = $1", migrations.Latest()-1)
		require.NoError(t, err)
		err = store.New(pool).CheckSchema(ctx)
		require.ErrorIs(t, err, store.ErrSchemaOutdated)
		require.ErrorContains(t, err, "underwriter migrate")
	})
	t.Run("never migrated", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.Pool(t)
		_, err := pool.Exec(ctx, "drop table schema_version")
		require.NoError(t, err)
		err = store.New(pool).CheckSchema(ctx)
		require.ErrorIs(t, err, store.ErrSchemaOutdated)
	})
}

func TestApplications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	in := store.Application{
		ID: "app_1", RequestHash: "h1", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd",
		WorkflowID: "underwrite/app_1",
	}

	first, created, err := s.CreateApplication(ctx, in)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, loan.StageCreated, first.Stage)
	require.False(t, first.CreatedAt.IsZero())

	again, created, err := s.CreateApplication(ctx, in)
	require.NoError(t, err)
	require.False(t, created, "the same request twice leaves one row")
	require.Equal(t, first, again)

	other := in
	other.RequestHash = "h2"
	_, _, err = s.CreateApplication(ctx, other)
	require.ErrorIs(t, err, store.ErrConflict)
	require.ErrorContains(t, err, "app_1")

	_, err = s.GetApplication(ctx, "app_missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.SetApplicationStripeIDs(ctx, "app_1", "cus_1", "fcsess_1"))
	require.NoError(t, s.SetApplicationStripeIDs(ctx, "app_1", "cus_1", "fcsess_1"), "repeat is a no-op")
	got, err := s.GetApplication(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, ptr("cus_1"), got.CustomerID)
	require.Equal(t, ptr("fcsess_1"), got.SessionID)

	require.NoError(t, s.SetApplicationStripeIDs(ctx, "app_1", "cus_1", "fcsess_2"), "a new session replaces an expired one")
	err = s.SetApplicationStripeIDs(ctx, "app_1", "cus_other", "fcsess_3")
	require.ErrorIs(t, err, store.ErrConflict, "an application keeps its customer")
	err = s.SetApplicationStripeIDs(ctx, "app_missing", "cus_9", "fcsess_9")
	require.ErrorIs(t, err, store.ErrNotFound)

	in2 := in
	in2.ID, in2.WorkflowID = "app_2", "underwrite/app_2"
	_, created, err = s.CreateApplication(ctx, in2)
	require.NoError(t, err)
	require.True(t, created)
	err = s.SetApplicationStripeIDs(ctx, "app_2", "cus_2", "fcsess_2")
	require.ErrorIs(t, err, store.ErrConflict, "a session belongs to one application")
	require.NoError(t, s.SetApplicationStripeIDs(ctx, "app_2", "cus_1", "fcsess_x"), "a returning customer has a second application")
	undecided, err := s.UndecidedApplicationsByCustomer(ctx, "cus_1")
	require.NoError(t, err)
	require.Len(t, undecided, 2)
	require.Equal(t, "app_1", undecided[0].ID)
	_, _, err = s.RecordDecision(ctx, store.Decision{ApplicationID: "app_1", WorkflowID: "w", RunID: "r", Outcome: "expired",
		Reasons: []byte("[]"), Rules: []byte("[]"), Features: []byte("{}"), Points: []byte("[]")})
	require.NoError(t, err)
	undecided, err = s.UndecidedApplicationsByCustomer(ctx, "cus_1")
	require.NoError(t, err)
	require.Len(t, undecided, 1, "a decided application needs no more webhooks")
	require.Equal(t, "app_2", undecided[0].ID)

	undecided, err = s.UndecidedApplicationsByCustomer(ctx, "cus_missing")
	require.NoError(t, err)
	require.Empty(t, undecided)

	require.NoError(t, s.SetApplicationStage(ctx, "app_1", "awaiting_link"))
	got, err = s.GetApplication(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, "awaiting_link", got.Stage)
	require.ErrorIs(t, s.SetApplicationStage(ctx, "app_missing", "x"), store.ErrNotFound)
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	acct := store.Account{
		ID: "fca_1", ApplicationID: "app_1", CustomerID: "cus_1", Category: "cash",
		Subcategory: "checking", Status: "inactive", InstitutionName: "Bank", Currency: "usd",
	}
	require.NoError(t, s.UpsertAccount(ctx, acct))
	require.NoError(t, s.UpsertAccount(ctx, acct))
	require.Equal(t, 1, countRows(t, pool, "accounts"), "the same account twice leaves one row")
	got, err := s.GetAccount(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, "inactive", got.Status, "an upsert updates the Stripe attributes")
	require.Nil(t, got.LastSyncedRefreshID)

	require.NoError(t, s.SetAccountSyncedRefresh(ctx, "fca_1", "fctxnref_1"))
	require.NoError(t, s.UpsertAccount(ctx, acct))
	got, err = s.GetAccount(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, ptr("fctxnref_1"), got.LastSyncedRefreshID, "an upsert keeps the sync cursor")
	require.ErrorIs(t, s.SetAccountSyncedRefresh(ctx, "fca_missing", "fctxnref_1"), store.ErrNotFound)

	_, _, err = s.CreateApplication(ctx, store.Application{
		ID: "app_2", RequestHash: "h", LoanAmountMinor: 1, TermMonths: 1, Currency: "usd", WorkflowID: "w",
	})
	require.NoError(t, err)
	reused := acct
	reused.ApplicationID = "app_2"
	require.NoError(t, s.UpsertAccount(ctx, reused), "a returning customer's new application reuses the account")
	list2, err := s.ListAccounts(ctx, "app_2")
	require.NoError(t, err)
	require.Len(t, list2, 1)
	require.Equal(t, "app_1", list2[0].ApplicationID, "the first application stays recorded")
	require.Equal(t, ptr("fctxnref_1"), list2[0].LastSyncedRefreshID, "the sync cursor is shared")
	stolen := acct
	stolen.ApplicationID, stolen.CustomerID = "app_2", "cus_other"
	require.ErrorIs(t, s.UpsertAccount(ctx, stolen), store.ErrConflict, "an account belongs to one customer")

	second := acct
	second.ID = "fca_0"
	require.NoError(t, s.UpsertAccount(ctx, second))
	list, err := s.ListAccounts(ctx, "app_1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "fca_0", list[0].ID)
	require.Equal(t, "fca_1", list[1].ID)

	_, err = s.GetAccount(ctx, "fca_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err = s.ListAccounts(ctx, "app_missing")
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t)

	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	page := make([]store.Transaction, 100)
	for i := range page {
		page[i] = store.Transaction{
			ID: fmt.Sprintf("fctxn_%03d", i), AccountID: "fca_1", AmountMinor: int64(-100 * (i + 1)),
			Currency: "usd", Description: "coffee", Status: "posted",
			TransactedAt: base.Add(time.Duration(99-i) * time.Hour), PostedAt: ptr(base),
			TransactionRefresh: "fctxnref_1", StripeUpdatedAt: base,
		}
	}

	n, err := s.UpsertTransactions(ctx, page)
	require.NoError(t, err)
	require.Equal(t, int64(100), n)
	n, err = s.UpsertTransactions(ctx, page)
	require.NoError(t, err)
	require.Equal(t, int64(0), n, "the same page twice changes nothing")
	count, err := s.CountTransactions(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, 100, count)

	list, err := s.ListTransactions(ctx, "fca_1")
	require.NoError(t, err)
	require.Len(t, list, 100)
	require.Equal(t, "fctxn_099", list[0].ID, "ordered by transacted_at")
	require.True(t, list[0].TransactedAt.Equal(base))
	require.Equal(t, int64(-10000), list[0].AmountMinor)
	require.Nil(t, list[0].VoidAt)

	// A newer version of a transaction replaces the stored one; an older one does not.
	newer := page[0]
	newer.Status, newer.VoidAt, newer.StripeUpdatedAt = "void", ptr(base.Add(time.Hour)), base.Add(time.Hour)
	newer.TransactionRefresh = "fctxnref_2"
	stale := page[0]
	stale.Status, stale.PostedAt, stale.StripeUpdatedAt = "pending", nil, base.Add(-time.Hour)

	n, err = s.UpsertTransactions(ctx, []store.Transaction{newer})
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	n, err = s.UpsertTransactions(ctx, []store.Transaction{stale})
	require.NoError(t, err)
	require.Equal(t, int64(0), n, "a stale version is ignored")

	list, err = s.ListTransactions(ctx, "fca_1")
	require.NoError(t, err)
	got := list[len(list)-1]
	require.Equal(t, "fctxn_000", got.ID)
	require.Equal(t, "void", got.Status)
	require.Equal(t, "fctxnref_2", got.TransactionRefresh)
	require.NotNil(t, got.VoidAt)
	require.NotNil(t, got.PostedAt)

	// A page with an unknown account fails as a whole.
	bad := []store.Transaction{page[1], page[2]}
	bad[0].ID, bad[1].ID, bad[1].AccountID = "fctxn_new", "fctxn_bad", "fca_missing"
	_, err = s.UpsertTransactions(ctx, bad)
	require.Error(t, err)
	count, err = s.CountTransactions(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, 100, count, "a failed page writes nothing")

	n, err = s.UpsertTransactions(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, n)

	// An id twice in one page: its newest version is stored, whatever the order.
	first, second := page[3], page[3]
	first.ID, second.ID = "fctxn_dup", "fctxn_dup"
	second.Status, second.VoidAt, second.StripeUpdatedAt = "void", ptr(base.Add(2*time.Hour)), base.Add(2*time.Hour)
	n, err = s.UpsertTransactions(ctx, []store.Transaction{second, page[4], first})
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the duplicate is one row")
	list, err = s.ListTransactions(ctx, "fca_1")
	require.NoError(t, err)
	var dup store.Transaction
	for _, tx := range list {
		if tx.ID == "fctxn_dup" {
			dup = tx
		}
	}
	require.Equal(t, "void", dup.Status, "the newer version wins")
	require.True(t, dup.StripeUpdatedAt.Equal(base.Add(2*time.Hour)))
}

func TestBalances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	b := store.Balance{AccountID: "fca_1", AsOf: at, CurrentMinor: 123456, AvailableMinor: ptr(int64(120000)), Currency: "usd", Type: "cash"}
	require.NoError(t, s.InsertBalance(ctx, b))
	require.NoError(t, s.InsertBalance(ctx, b))
	require.Equal(t, 1, countRows(t, pool, "balances"), "the same balance twice leaves one row")

	later := b
	later.AsOf, later.CurrentMinor, later.AvailableMinor = at.Add(24*time.Hour), -500, nil
	require.NoError(t, s.InsertBalance(ctx, later))

	got, err := s.LatestBalance(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, int64(-500), got.CurrentMinor)
	require.Nil(t, got.AvailableMinor)
	require.True(t, got.AsOf.Equal(later.AsOf))

	_, err = s.LatestBalance(ctx, "fca_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	// Key order and spacing must survive byte for byte: the hash is over these bytes.
	ledger := []byte(`{"accounts": [{"account": {"id": "fca_1", "balance": {"current": {"usd": 1e2}}}, "transactions": []}]}`)
	in := store.Snapshot{ApplicationID: "app_1", AsOf: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		ContentHash: "sha256:abc", Ledger: ledger, TxnCount: 0, AccountCount: 1}

	first, err := s.InsertSnapshot(ctx, in)
	require.NoError(t, err)
	require.NotZero(t, first.ID)
	second, err := s.InsertSnapshot(ctx, in)
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Equal(t, 1, countRows(t, pool, "snapshots"), "the same snapshot twice leaves one row")

	got, err := s.GetSnapshot(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, ledger, got.Ledger)
	require.Equal(t, first, got)

	tampered := in
	tampered.Ledger = []byte(`{"accounts":[]}`)
	_, err = s.InsertSnapshot(ctx, tampered)
	require.ErrorIs(t, err, store.ErrConflict)

	_, err = s.GetSnapshot(ctx, first.ID+1000)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)
	sn, err := s.InsertSnapshot(ctx, store.Snapshot{ApplicationID: "app_1", AsOf: time.Now().UTC(),
		ContentHash: "h", Ledger: []byte(`{"accounts":[]}`)})
	require.NoError(t, err)

	decidedAt := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	d := store.Decision{
		ApplicationID: "app_1", WorkflowID: "underwrite/app_1", RunID: "run-1", Outcome: loan.OutcomeApprove,
		Score: ptr(712), PD: ptr(0.031),
		Reasons:      json.RawMessage(`[{"code":"R01","text":"Low balance","feature":"min_balance","value":"12.00","points_lost":4.5}]`),
		Rules:        json.RawMessage(`[{"rule":"nsf_count_90d","actual":"0","threshold":"3","passed":true}]`),
		Features:     json.RawMessage(`{"avg_daily_balance":1234.5,"history_days":180}`),
		Points:       json.RawMessage(`{"avg_daily_balance":40}`),
		ModelVersion: "v1", PolicyVersion: "v1", FeatureSetVersion: "fs-v1", ReasonCodeMapVersion: "rc-v1",
		SnapshotID: &sn.ID, ContentHash: ptr(sn.ContentHash), AsOf: ptr(sn.AsOf),
		Cutoff:    ptr(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)),
		DecidedAt: decidedAt, BuildVersion: "dev", DeploymentVersion: ptr("underwriter:build-1"),
	}

	first, created, err := s.RecordDecision(ctx, d)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, 712, *first.Score)
	require.Equal(t, "underwriter:build-1", *first.DeploymentVersion, "the deployment version that made the decision")
	require.JSONEq(t, string(d.Features), string(first.Features))
	require.JSONEq(t, string(d.Reasons), string(first.Reasons))
	require.True(t, first.Cutoff.Equal(*d.Cutoff))

	retry := d
	retry.RunID, retry.Outcome, retry.Score = "run-2", loan.OutcomeDecline, ptr(400)
	second, created, err := s.RecordDecision(ctx, retry)
	require.NoError(t, err)
	require.False(t, created, "a second decision for the application is not recorded")
	require.Equal(t, first, second, "the stored decision is returned")
	n, err := s.CountDecisions(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, 1, n)

	got, err := s.GetDecision(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, first, got)

	// An outcome without scoring: nil scoring fields, reasons and rules default to [].
	_, _, err = s.CreateApplication(ctx, store.Application{ID: "app_2", RequestHash: "h", LoanAmountMinor: 1,
		TermMonths: 1, Currency: "usd", WorkflowID: "underwrite/app_2"})
	require.NoError(t, err)
	expired, created, err := s.RecordDecision(ctx, store.Decision{ApplicationID: "app_2", WorkflowID: "underwrite/app_2",
		RunID: "run-1", Outcome: loan.OutcomeExpired, ModelVersion: "v1", PolicyVersion: "v1",
		FeatureSetVersion: "fs-v1", DecidedAt: decidedAt, BuildVersion: "dev", DeploymentVersion: ptr("")})
	require.NoError(t, err)
	require.True(t, created)
	require.Nil(t, expired.DeploymentVersion, "an unversioned worker's \"\" is stored as null")
	require.Nil(t, expired.Score)
	require.Nil(t, expired.PD)
	require.Nil(t, expired.SnapshotID)
	require.Nil(t, expired.Features)
	require.JSONEq(t, `[]`, string(expired.Reasons))
	require.JSONEq(t, `[]`, string(expired.Rules))
	require.Equal(t, 2, countRows(t, pool, "decisions"))

	_, _, err = s.RecordDecision(ctx, store.Decision{ApplicationID: "app_2x", Outcome: "maybe"})
	require.Error(t, err, "outcome is constrained")

	_, err = s.GetDecision(ctx, "app_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	n, err = s.CountDecisions(ctx, "app_missing")
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	isNew, err := s.RecordWebhookEvent(ctx, "evt_1", "financial_connections.account.created", "fca_1")
	require.NoError(t, err)
	require.True(t, isNew)
	isNew, err = s.RecordWebhookEvent(ctx, "evt_1", "financial_connections.account.created", "fca_1")
	require.NoError(t, err)
	require.False(t, isNew, "a redelivered event is seen once")
	require.Equal(t, 1, countRows(t, pool, "webhook_events"))

	isNew, err = s.RecordWebhookEvent(ctx, "evt_2", "ping", "")
	require.NoError(t, err)
	require.True(t, isNew)

	require.NoError(t, s.ForgetWebhookEvent(ctx, "evt_1"))
	require.NoError(t, s.ForgetWebhookEvent(ctx, "evt_1"), "forgetting twice is fine")
	isNew, err = s.RecordWebhookEvent(ctx, "evt_1", "financial_connections.account.created", "fca_1")
	require.NoError(t, err)
	require.True(t, isNew, "a forgotten event is processed again")
}
