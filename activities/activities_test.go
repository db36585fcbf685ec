package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const personaDir = "../fcsandbox/personas"

// fixture is one linked application: the sandbox over real HTTP, a fresh Postgres database
// and the activities wired as the worker wires them.
type fixture struct {
	acts     *activities.Activities
	store    *store.Store
	appID    string
	session  string
	accounts []string
	env      *testsuite.TestActivityEnvironment
	baseURL  string
	sandbox  *fcsandbox.Server
}

func newFixture(t *testing.T, persona string) *fixture {
	return newFixtureWith(t, persona, 50*time.Millisecond)
}

func newFixtureWith(t *testing.T, persona string, refreshDelay time.Duration) *fixture {
	t.Helper()
	ctx := context.Background()
	// No rate limit: these tests call activities back to back, without the workflow's
	// retries that ride out Stripe's 429s (TestRateLimitedStripe covers those).
	sb, err := fcsandbox.New(fcsandbox.Config{PersonaDir: personaDir, RefreshDelay: refreshDelay, RateLimit: -1})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)

	st := store.New(pgtest.Pool(t))
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: "sk_test_activities", APIBase: srv.URL}, testLogger())
	f := &fixture{acts: &activities.Activities{Stripe: sc, Store: st, BuildVersion: "test"}, store: st, appID: "app-" + persona, baseURL: srv.URL, sandbox: sb}

	cus, err := sc.Customers.New(&stripe.CustomerParams{})
	require.NoError(t, err)
	sess, err := sc.FinancialConnectionsSessions.New(&stripe.FinancialConnectionsSessionParams{
		AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{Type: stripe.String("customer"), Customer: stripe.String(cus.ID)},
		Permissions:   stripe.StringSlice([]string{"balances", "transactions"}),
		Prefetch:      stripe.StringSlice([]string{"balances", "transactions"}),
	})
	require.NoError(t, err)
	_, _, err = st.CreateApplication(ctx, store.Application{
		ID: f.appID, RequestHash: "h", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/" + f.appID,
	})
	require.NoError(t, err)
	require.NoError(t, st.SetApplicationStripeIDs(ctx, f.appID, cus.ID, sess.ID))
	f.session = sess.ID
	f.accounts, err = fcsandbox.CompleteLink(ctx, http.DefaultClient, srv.URL, sess.ClientSecret, persona)
	require.NoError(t, err)

	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	return f
}

func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestLinkRefreshSyncSnapshotScoreRecord(t *testing.T) {
	f := newFixture(t, "high_income_two_accounts")
	ctx := context.Background()

	v, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	var linked activities.LinkedAccountsResult
	require.NoError(t, v.Get(&linked))
	require.ElementsMatch(t, f.accounts, linked.AccountIDs)
	require.Len(t, linked.AccountIDs, 2)
	stored, err := f.store.ListAccounts(ctx, f.appID)
	require.NoError(t, err)
	require.Len(t, stored, 2)

	// Refresh: pending at once, the same key again asks nothing new, then succeeded.
	in := activities.RefreshInput{ApplicationID: f.appID, AccountIDs: linked.AccountIDs, IdempotencyKey: "underwrite/" + f.appID + "/refresh/1"}
	v, err = f.env.ExecuteActivity(f.acts.RequestRefresh, in)
	require.NoError(t, err)
	var first activities.RefreshState
	require.NoError(t, v.Get(&first))
	for _, s := range first.Accounts {
		require.Equal(t, activities.RefreshPending, s.TransactionRefreshStatus)
		require.False(t, s.Done())
	}
	v, err = f.env.ExecuteActivity(f.acts.RequestRefresh, in)
	require.NoError(t, err)
	var again activities.RefreshState
	require.NoError(t, v.Get(&again))
	for i, s := range again.Accounts {
		require.Equal(t, first.Accounts[i].TransactionRefreshID, s.TransactionRefreshID, "a pending refresh is not requested twice")
	}
	require.Eventually(t, func() bool {
		v, err := f.env.ExecuteActivity(f.acts.RefreshStatus, activities.RefreshStatusInput(linked))
		require.NoError(t, err)
		var st activities.RefreshState
		require.NoError(t, v.Get(&st))
		for _, s := range st.Accounts {
			if !s.Done() || s.Failed() {
				return false
			}
		}
		return true
	}, 5*time.Second, 20*time.Millisecond)

	// Sync each account twice: the second pass stores nothing new.
	total := 0
	for _, id := range linked.AccountIDs {
		var res activities.SyncResult
		v, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
		require.NoError(t, v.Get(&res))
		require.Positive(t, res.Stored)
		require.NotEmpty(t, res.RefreshID)
		total += res.Stored
		v, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
		var res2 activities.SyncResult
		require.NoError(t, v.Get(&res2))
		require.Equal(t, res.Stored, res2.Stored)
		require.Zero(t, res2.Upserted, "an incremental sync after no change stores nothing")
		_, err = f.env.ExecuteActivity(f.acts.StoreBalance, activities.BalanceInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
	}

	v, err = f.env.ExecuteActivity(f.acts.FreezeSnapshot, activities.SnapshotInput{ApplicationID: f.appID})
	require.NoError(t, err)
	var snap activities.SnapshotRef
	require.NoError(t, v.Get(&snap))
	require.Equal(t, total, snap.Transactions)
	require.Equal(t, 2, snap.Accounts)
	v, err = f.env.ExecuteActivity(f.acts.FreezeSnapshot, activities.SnapshotInput{ApplicationID: f.appID})
	require.NoError(t, err)
	var snap2 activities.SnapshotRef
	require.NoError(t, v.Get(&snap2))
	require.Equal(t, snap, snap2, "freezing unchanged data gives the same snapshot")

	// Scoring the snapshot equals scoring the ledger it froze.
	v, err = f.env.ExecuteActivity(f.acts.Score, activities.ScoreInput{
		ApplicationID: f.appID, SnapshotID: snap.ID, Loan: scoring.Loan{AmountMinor: 1500000, TermMonths: 24},
	})
	require.NoError(t, err)
	var scored activities.ScoreResult
	require.NoError(t, v.Get(&scored))
	row, err := f.store.GetSnapshot(ctx, snap.ID)
	require.NoError(t, err)
	ledger, err := scoring.ParseLedgerFile(row.Ledger)
	require.NoError(t, err)
	direct, err := scoring.Underwrite(ledger, row.AsOf, scoring.Loan{AmountMinor: 1500000, TermMonths: 24}, scoring.Operational{})
	require.NoError(t, err)
	require.Equal(t, direct.Outcome, scored.Decision.Outcome)
	require.Equal(t, direct.Score, scored.Decision.Score)
	require.Equal(t, "approve", scored.Decision.Outcome)

	// Score stored the decision with its full feature vector; only the verdict travels.
	d, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, "approve", d.Outcome)
	require.Equal(t, snap.ContentHash, *d.ContentHash)
	var features map[string]any
	require.NoError(t, json.Unmarshal(d.Features, &features))
	require.Contains(t, features, "monthly_income_est")
	require.Contains(t, features, "income_streams")
	require.NotEqual(t, "[]", string(d.Points))
	verdict, err := json.Marshal(scored)
	require.NoError(t, err)
	require.NotContains(t, string(verdict), "PAYROLL", "no transaction description travels through workflow history")
	require.NotContains(t, string(verdict), "income_streams")

	// RecordDecision finds the stored decision and writes nothing, however often it runs.
	rec := activities.RecordInput{ApplicationID: f.appID, WorkflowID: "underwrite/" + f.appID, RunID: "run-2",
		Outcome: scored.Decision.Outcome, Score: &scored, Snapshot: &snap}
	for range 2 {
		v, err = f.env.ExecuteActivity(f.acts.RecordDecision, rec)
		require.NoError(t, err)
		var r activities.RecordResult
		require.NoError(t, v.Get(&r))
		require.False(t, r.Created)
	}
	n, err := f.store.CountDecisions(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	storedAgain, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, d.RunID, storedAgain.RunID, "the first write stands")
	require.JSONEq(t, string(d.Features), string(storedAgain.Features))
	app, err := f.store.GetApplication(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, "decided", app.Stage)

	// An outcome that was not scored is written by RecordDecision itself, once.
	_, _, err = f.store.CreateApplication(ctx, store.Application{ID: "app-expired", RequestHash: "h", LoanAmountMinor: 1000,
		TermMonths: 6, Currency: "usd", WorkflowID: "underwrite/app-expired"})
	require.NoError(t, err)
	expired := activities.RecordInput{ApplicationID: "app-expired", WorkflowID: "underwrite/app-expired", RunID: "run-x", Outcome: "expired"}
	for i, want := range []bool{true, false} {
		v, err = f.env.ExecuteActivity(f.acts.RecordDecision, expired)
		require.NoError(t, err)
		var r activities.RecordResult
		require.NoError(t, v.Get(&r))
		require.Equal(t, want, r.Created, "call %d", i)
	}
}

// TestSyncResumesFromHeartbeat runs a sync whose earlier attempt stored the first page and
// heartbeated its cursor: the retry reads on from there and the total is still exact.
func TestSyncResumesFromHeartbeat(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	ctx := context.Background()
	id := f.accounts[0]
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)

	// The full count, from a plain sync in a second database-free pass over the API.
	p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(id)}
	p.Limit = stripe.Int64(100)
	it := f.acts.Stripe.FinancialConnectionsTransactions.List(p)
	var all []string
	for it.Next() {
		all = append(all, it.FinancialConnectionsTransaction().ID)
	}
	require.NoError(t, it.Err())
	require.Greater(t, len(all), 200, "the persona needs several pages")

	// An earlier attempt stored page one and heartbeated its last id.
	p1 := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(id)}
	p1.Limit = stripe.Int64(100)
	p1.Single = true
	it = f.acts.Stripe.FinancialConnectionsTransactions.List(p1)
	var page []store.Transaction
	for it.Next() {
		tx := it.FinancialConnectionsTransaction()
		page = append(page, store.Transaction{ID: tx.ID, AccountID: id, AmountMinor: tx.Amount, Currency: string(tx.Currency),
			Status: string(tx.Status), TransactedAt: time.Unix(tx.TransactedAt, 0), TransactionRefresh: tx.TransactionRefresh,
			StripeUpdatedAt: time.Unix(tx.Updated, 0)})
	}
	_, err = f.store.UpsertTransactions(ctx, page)
	require.NoError(t, err)
	f.env.SetHeartbeatDetails(struct {
		After, Target, StartingAfter string
		Pages                        int
		Upserted                     int64
	}{Target: "", StartingAfter: page[len(page)-1].ID, Pages: 1, Upserted: int64(len(page))})

	v, err := f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id})
	require.NoError(t, err)
	var res activities.SyncResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, len(all), res.Stored)
	require.Equal(t, int64(len(all)), res.Upserted, "the resumed attempt continues the count, it does not restart it")
	require.GreaterOrEqual(t, res.Pages, 3)
}

// TestSyncWithKnownTarget: a sync told the succeeded refresh by its workflow reads only the
// transaction pages, and stores the same as a sync that reads the account first.
func TestSyncWithKnownTarget(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	id := f.accounts[0]
	v, err := f.env.ExecuteActivity(f.acts.RefreshStatus, activities.RefreshStatusInput{AccountIDs: []string{id}})
	require.NoError(t, err)
	var st activities.RefreshState
	require.NoError(t, v.Get(&st))
	require.Equal(t, activities.RefreshSucceeded, st.Accounts[0].TransactionRefreshStatus, "the link prefetched the transactions")

	before := f.sandbox.RequestCounts().Requests
	v, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id,
		TargetKnown: true, TargetRefreshID: st.Accounts[0].TransactionRefreshID})
	require.NoError(t, err)
	var res activities.SyncResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, int64(res.Pages), f.sandbox.RequestCounts().Requests-before, "one request per page, no account read")
	require.Equal(t, st.Accounts[0].TransactionRefreshID, res.RefreshID)
	require.Equal(t, 490, res.Stored)
	stored, err := f.store.GetAccount(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, st.Accounts[0].TransactionRefreshID, *stored.LastSyncedRefreshID)

	// Without the target the sync reads the account first and reaches the same state.
	before = f.sandbox.RequestCounts().Requests
	v, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id})
	require.NoError(t, err)
	var again activities.SyncResult
	require.NoError(t, v.Get(&again))
	require.Equal(t, int64(again.Pages+1), f.sandbox.RequestCounts().Requests-before)
	require.Equal(t, res.RefreshID, again.RefreshID)
	require.Equal(t, res.Stored, again.Stored)
	require.Zero(t, again.Upserted)
}

func TestStripeErrorsAreClassified(t *testing.T) {
	f := newFixture(t, "thin_file")
	_, err := f.env.ExecuteActivity(f.acts.RefreshStatus, activities.RefreshStatusInput{AccountIDs: []string{"fca_doesnotexist"}})
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, activities.ErrTypeResourceMissing, appErr.Type())
	require.True(t, appErr.NonRetryable())

	// A live key is refused by the sandbox as Stripe refuses a wrong key: never retried.
	bad := *f.acts
	bad.Stripe = wiring.NewStripe(wiring.StripeConfig{SecretKey: "sk_live_wrong", APIBase: f.baseURL}, testLogger())
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&bad)
	_, err = env.ExecuteActivity(bad.RefreshStatus, activities.RefreshStatusInput{AccountIDs: f.accounts})
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, activities.ErrTypeAuthentication, appErr.Type())
	require.True(t, appErr.NonRetryable())
}

// TestSyncDoesNotMarkAPendingRefreshSynced: a sync that runs while a refresh is still
// pending stores what Stripe has, but leaves the account's cursor where it was, so the
// pending refresh's transactions are listed by the next sync.
func TestSyncDoesNotMarkAPendingRefreshSynced(t *testing.T) {
	f := newFixtureWith(t, "thin_file", time.Hour)
	ctx := context.Background()
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	v, err := f.env.ExecuteActivity(f.acts.RequestRefresh, activities.RefreshInput{ApplicationID: f.appID,
		AccountIDs: f.accounts, IdempotencyKey: "underwrite/" + f.appID + "/refresh/1"})
	require.NoError(t, err)
	var st activities.RefreshState
	require.NoError(t, v.Get(&st))
	require.Equal(t, activities.RefreshPending, st.Accounts[0].TransactionRefreshStatus)

	v, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: f.accounts[0]})
	require.NoError(t, err)
	var res activities.SyncResult
	require.NoError(t, v.Get(&res))
	require.Positive(t, res.Stored, "the prefetched data is stored")
	require.Empty(t, res.RefreshID)
	acct, err := f.store.GetAccount(ctx, f.accounts[0])
	require.NoError(t, err)
	require.Nil(t, acct.LastSyncedRefreshID, "the pending refresh %s is not marked synced", st.Accounts[0].TransactionRefreshID)
}

// TestUnscorableDataIsReferred: a snapshot whose accounts hold two currencies cannot be
// scored; the application is referred with the reason, not failed.
func TestUnscorableDataIsReferred(t *testing.T) {
	f := newFixture(t, "thin_file")
	ctx := context.Background()
	mixed := []byte(`{"accounts":[
	 {"account":{"id":"fca_usd","object":"financial_connections.account","category":"cash","status":"active",
	   "balance":{"as_of":1760000000,"type":"cash","current":{"usd":1000}}},"transactions":[]},
	 {"account":{"id":"fca_eur","object":"financial_connections.account","category":"cash","status":"active",
	   "balance":{"as_of":1760000000,"type":"cash","current":{"eur":1000}}},"transactions":[]}]}`)
	snap, err := f.store.InsertSnapshot(ctx, store.Snapshot{ApplicationID: f.appID, AsOf: time.Unix(1760000000, 0).UTC(),
		ContentHash: "sha256:mixed", Ledger: mixed, AccountCount: 2})
	require.NoError(t, err)
	v, err := f.env.ExecuteActivity(f.acts.Score, activities.ScoreInput{ApplicationID: f.appID, SnapshotID: snap.ID,
		Loan: scoring.Loan{AmountMinor: 100000, TermMonths: 12}})
	require.NoError(t, err)
	var res activities.ScoreResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, "refer", res.Decision.Outcome)
	require.True(t, res.Decision.Unscored)
	require.Equal(t, loan.ReasonDataUnusable, res.Decision.Reasons[0].Code)
	require.Contains(t, res.Decision.Reasons[0].Value, "currenc")
	d, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, "refer", d.Outcome)
	require.Nil(t, d.Score, "no score is recorded for data that was not scored")
}

// TestBalanceOnlyRefresh: RefreshInput.Features asks for the features named; for a
// balance-only refresh only the balance refresh's state counts, and a refresh of both (nil
// Features, as every recorded input) still waits for either pending refresh.
func TestBalanceOnlyRefresh(t *testing.T) {
	f := newFixtureWith(t, "steady_salaried", time.Hour)
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	request := func(round int, features ...string) activities.AccountState {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.RequestRefresh, activities.RefreshInput{ApplicationID: f.appID, AccountIDs: f.accounts,
			IdempotencyKey: fmt.Sprintf("monitor/%s/refresh/%d", f.appID, round), Features: features})
		require.NoError(t, err)
		var st activities.RefreshState
		require.NoError(t, v.Get(&st))
		require.Len(t, st.Accounts, 1)
		return st.Accounts[0]
	}
	linked := f.sandbox.RequestCounts().Requests

	// Balance only: the balance refresh starts, the prefetched transaction refresh stays.
	bal := request(1, activities.FeatureBalance)
	require.True(t, bal.Requested)
	require.Equal(t, activities.RefreshPending, bal.BalanceRefreshStatus)
	require.Equal(t, activities.RefreshSucceeded, bal.TransactionRefreshStatus, "no transaction refresh was asked for")
	prefetched := bal.TransactionRefreshID

	// Both features (nil): the pending balance refresh brings the data; the refresh is
	// refused, and the account read after it says so.
	before := f.sandbox.RequestCounts().Requests
	both := request(2)
	require.False(t, both.Requested)
	require.Equal(t, prefetched, both.TransactionRefreshID)
	require.Equal(t, activities.RefreshPending, both.BalanceRefreshStatus)
	require.Equal(t, int64(2), f.sandbox.RequestCounts().Requests-before, "the refused refresh and one account read")

	// Transactions only: the pending balance refresh does not count; a transaction refresh starts.
	txn := request(3, activities.FeatureTransactions)
	require.True(t, txn.Requested)
	require.Equal(t, activities.RefreshPending, txn.TransactionRefreshStatus)
	require.NotEqual(t, prefetched, txn.TransactionRefreshID)
	require.Greater(t, f.sandbox.RequestCounts().Requests, linked)

	// A feature that is not one is bad input, never retried.
	_, err = f.env.ExecuteActivity(f.acts.RequestRefresh, activities.RefreshInput{ApplicationID: f.appID, AccountIDs: f.accounts,
		IdempotencyKey: "k", Features: []string{"balances"}})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Error(), "RefreshInput.Features[0]")
}

// TestRefreshInputWithoutFeaturesEncodesAsBefore: a refresh input without Features (every
// one the Underwrite workflow schedules) encodes exactly as before the field existed, so
// recorded histories replay.
func TestRefreshInputWithoutFeaturesEncodesAsBefore(t *testing.T) {
	b, err := json.Marshal(activities.RefreshInput{ApplicationID: "a", AccountIDs: []string{"fca_1"}, IdempotencyKey: "k"})
	require.NoError(t, err)
	require.JSONEq(t, `{"ApplicationID":"a","AccountIDs":["fca_1"],"IdempotencyKey":"k"}`, string(b))
	b, err = json.Marshal(activities.RefreshInput{Features: []string{activities.FeatureBalance}})
	require.NoError(t, err)
	require.Contains(t, string(b), `"Features":["balance"]`)
}

// TestRefreshAndBalanceRequests: the first attempt of RequestRefresh asks for the refresh
// at once (one request, its answer is the account); asked again while it is pending, it is
// refused and goes by the account's state (the refusal and one read). StoreBalance after a
// status read that saw the balance refresh succeed stores that read's balance without a
// request; after a read that saw it pending it reads the account.
func TestRefreshAndBalanceRequests(t *testing.T) {
	f := newFixtureWith(t, "steady_salaried", 200*time.Millisecond)
	ctx := context.Background()
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	id := f.accounts[0]
	requests := func(fn func()) int64 {
		t.Helper()
		before := f.sandbox.RequestCounts().Requests
		fn()
		return f.sandbox.RequestCounts().Requests - before
	}
	refresh := func(round int) activities.AccountState {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.RequestRefresh, activities.RefreshInput{ApplicationID: f.appID, AccountIDs: f.accounts,
			IdempotencyKey: fmt.Sprintf("underwrite/%s/refresh/%d", f.appID, round)})
		require.NoError(t, err)
		var st activities.RefreshState
		require.NoError(t, v.Get(&st))
		return st.Accounts[0]
	}
	storeBalance := func() activities.BalanceResult {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.StoreBalance, activities.BalanceInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
		var res activities.BalanceResult
		require.NoError(t, v.Get(&res))
		return res
	}

	var first activities.AccountState
	require.Equal(t, int64(1), requests(func() { first = refresh(1) }), "the refresh alone")
	require.True(t, first.Requested)
	require.Equal(t, activities.RefreshPending, first.BalanceRefreshStatus)
	var again activities.AccountState
	require.Equal(t, int64(2), requests(func() { again = refresh(2) }), "refused while pending, then one read")
	require.False(t, again.Requested)
	require.Equal(t, first.TransactionRefreshID, again.TransactionRefreshID)
	require.Empty(t, again.RetryAt)

	// The refresh is pending: StoreBalance reads the account (and stores the prefetched
	// balance it still reports).
	var pending activities.BalanceResult
	require.Equal(t, int64(1), requests(func() { pending = storeBalance() }))
	require.True(t, pending.Present)

	// Once a status read saw it succeed, StoreBalance makes no request and reports the
	// balance that read returned, which the refresh made newer than the prefetched one.
	require.Eventually(t, func() bool {
		v, err := f.env.ExecuteActivity(f.acts.RefreshStatus, activities.RefreshStatusInput{AccountIDs: f.accounts})
		require.NoError(t, err)
		var st activities.RefreshState
		require.NoError(t, v.Get(&st))
		return st.Accounts[0].Done()
	}, 5*time.Second, 20*time.Millisecond)
	var done activities.BalanceResult
	require.Zero(t, requests(func() { done = storeBalance() }), "the status read's balance serves")
	require.True(t, done.Present)
	require.False(t, done.AsOf.Before(pending.AsOf))
	latest, err := f.store.LatestBalance(ctx, id)
	require.NoError(t, err)
	require.True(t, latest.AsOf.Equal(done.AsOf), "the balance reported is the one stored")

	// The balance a fresh read gives is the same.
	acct, err := wiring.NewStripe(wiring.StripeConfig{SecretKey: "sk_test_activities", APIBase: f.baseURL}, testLogger()).
		FinancialConnectionsAccounts.GetByID(id, nil)
	require.NoError(t, err)
	require.Equal(t, acct.Balance.AsOf, done.AsOf.Unix())
	require.Equal(t, scoring.SignedAmount(acct.Balance.Current["usd"]), latest.CurrentMinor, "as StoreBalance stores it")

	// Storing the account again (a worker that records no reads asked for a refresh) makes
	// StoreBalance read the account again.
	stored, err := f.store.GetAccount(ctx, id)
	require.NoError(t, err)
	require.NoError(t, f.store.UpsertAccount(ctx, stored))
	require.Equal(t, int64(1), requests(func() { storeBalance() }), "the recorded read may predate the account's last refresh")
	require.Zero(t, requests(func() { storeBalance() }), "that read is recorded in turn")
}
