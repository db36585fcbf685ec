package activities_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// booked underwrites the fixture's application (link, sync, snapshot, Decide) and books
// its approved loan; it returns the loan as the watcher sees it and the decision's as_of.
func (f *fixture) booked(t *testing.T) (scoring.MonitoredLoan, time.Time) {
	t.Helper()
	ctx := context.Background()
	snap := f.frozen(t)
	v, err := f.env.ExecuteActivity(f.acts.Decide, activities.DecideInput{ApplicationID: f.appID, SnapshotID: snap.ID,
		Loan: scoring.Loan{AmountMinor: 300000, TermMonths: 12, Currency: "usd"}})
	require.NoError(t, err)
	var dec activities.DecideResult
	require.NoError(t, v.Get(&dec))
	require.Equal(t, loan.OutcomeApprove, dec.Outcome)
	ml := scoring.MonitoredLoan{AmountMinor: 300000, TermMonths: 12, Currency: "usd",
		FirstDue: snap.AsOf.AddDate(0, 1, 0), InstalmentMinor: 27000}
	_, created, err := f.store.CreateLoan(ctx, store.Loan{ApplicationID: f.appID, AmountMinor: ml.AmountMinor, Currency: "usd",
		TermMonths: ml.TermMonths, FirstDue: ml.FirstDue, InstalmentMinor: ml.InstalmentMinor, WorkflowID: "monitor/" + f.appID})
	require.NoError(t, err)
	require.True(t, created)
	return ml, snap.AsOf
}

// later is what a sync after the decision stores: a withdrawal of all but 75.00 the day
// after it, an NSF fee the day after, and a balance of 40.00 as of three days after it
// (below the policy's 100.00 floor).
func (f *fixture) later(t *testing.T, asOf time.Time) time.Time {
	t.Helper()
	ctx := context.Background()
	bal, err := f.store.LatestBalance(ctx, f.accounts[0])
	require.NoError(t, err)
	out, fee := asOf.Add(24*time.Hour), asOf.Add(48*time.Hour)
	now := asOf.Add(72 * time.Hour)
	_, err = f.store.UpsertTransactions(ctx, []store.Transaction{{
		ID: "fctxn_monitor_out", AccountID: f.accounts[0], AmountMinor: -(bal.CurrentMinor - 7500), Currency: "usd",
		Description: "CASH WITHDRAWAL", Status: "posted", TransactedAt: out, PostedAt: &out, TransactionRefresh: "fctxnref_monitor",
		StripeUpdatedAt: out,
	}, {
		ID: "fctxn_monitor_nsf", AccountID: f.accounts[0], AmountMinor: -3500, Currency: "usd", Description: "NSF FEE REF 8842",
		Status: "posted", TransactedAt: fee, PostedAt: &fee, TransactionRefresh: "fctxnref_monitor", StripeUpdatedAt: fee,
	}})
	require.NoError(t, err)
	require.NoError(t, f.store.InsertBalance(ctx, store.Balance{AccountID: f.accounts[0], AsOf: now, CurrentMinor: 4000,
		Currency: "usd", Type: "cash"}))
	return now
}

func (f *fixture) evaluate(t *testing.T, in activities.MonitorEvalInput) activities.MonitorEvalResult {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.EvaluateMonitor, in)
	require.NoError(t, err)
	var res activities.MonitorEvalResult
	require.NoError(t, v.Get(&res))
	return res
}

// TestEvaluateMonitorStoresEachAlertOnce: a check of a booked loan whose account took an
// NSF fee and fell below the floor after the decision stores both events as alerts and
// returns them undelivered; the same evaluation again (an activity retry) returns the
// same alerts and stores nothing; the next check, from the first one's Next, raises
// nothing. What the workflow gets holds no description and no amount.
func TestEvaluateMonitorStoresEachAlertOnce(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	ctx := context.Background()
	ml, decidedAsOf := f.booked(t)
	now := f.later(t, decidedAsOf)

	in := activities.MonitorEvalInput{ApplicationID: f.appID, Loan: ml}
	first := f.evaluate(t, in)
	require.True(t, first.AsOf.Equal(now), "the ledger's clock is the newest balance: %s", first.AsOf)
	require.True(t, first.Next.Since.Equal(now))
	require.Equal(t, "mon-v1", first.MonitoringPolicyVersion)
	types := map[string]bool{}
	for _, a := range first.Undelivered {
		types[a.Type] = true
		require.NotZero(t, a.ID)
	}
	require.True(t, types[scoring.EventNSFOverdraft], "undelivered: %+v", first.Undelivered)
	require.True(t, types[scoring.EventLowBalance], "undelivered: %+v", first.Undelivered)
	require.Equal(t, first.Events, len(first.Undelivered))
	require.Equal(t, first.Undelivered[len(first.Undelivered)-1].Type, first.LastEvent)
	require.NotZero(t, first.Rescore.PD)

	stored, err := f.store.ListAlerts(ctx, f.appID)
	require.NoError(t, err)
	require.Len(t, stored, first.Events)
	for _, a := range stored {
		require.Equal(t, "mon-v1", a.MonitoringPolicyVersion)
		require.True(t, a.LedgerAsOf.Equal(now))
		require.NotEmpty(t, a.Text)
		require.NotContains(t, a.Text, "8842", "no description in an alert's text")
	}

	again := f.evaluate(t, in)
	require.Equal(t, first.Undelivered, again.Undelivered, "a retried evaluation returns the same alerts")
	afterRetry, err := f.store.ListAlerts(ctx, f.appID)
	require.NoError(t, err)
	require.Len(t, afterRetry, len(stored), "and stores nothing twice")

	// An alert delivered meanwhile is not returned again.
	require.NoError(t, f.store.MarkAlertDelivered(ctx, first.Undelivered[0].ID))
	third := f.evaluate(t, in)
	require.Equal(t, first.Undelivered[1:], third.Undelivered)

	next := f.evaluate(t, activities.MonitorEvalInput{ApplicationID: f.appID, Loan: ml, Check: first.Next})
	require.Zero(t, next.Events)
	require.Empty(t, next.Undelivered)

	payload, err := json.Marshal(first)
	require.NoError(t, err)
	for _, s := range []string{"8842", "WITHDRAWAL", "PAYROLL", "amount", "4000", "3500", "fctxn_"} {
		require.NotContains(t, string(payload), s, "workflow history gets ids, types, counts and clocks only")
	}
}

// TestEvaluateMonitorNeedsAScoredDecision: a loan whose application has no scored decision
// has no baseline: a non-retryable BadData error that says so.
func TestEvaluateMonitorNeedsAScoredDecision(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	_, err := f.env.ExecuteActivity(f.acts.EvaluateMonitor, activities.MonitorEvalInput{ApplicationID: f.appID,
		Loan: scoring.MonitoredLoan{AmountMinor: 300000, TermMonths: 12, FirstDue: time.Now(), InstalmentMinor: 27000}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypeBadData, appErr.Type())
	require.Contains(t, appErr.Message(), "no decision")
}

// receiver is a lender's alert endpoint: it verifies each signature with the lender's
// secret and answers fail times 503 before it accepts.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	fail   int
	bodies []alerthook.Body
	ids    []string
	tries  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	require.NoError(r.t, err)
	if err := alerthook.Verify(r.secret, req.Header.Get(alerthook.SignatureHeader), raw, time.Now(), alerthook.DefaultTolerance); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.tries <= r.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var b alerthook.Body
	require.NoError(r.t, json.Unmarshal(raw, &b))
	r.bodies = append(r.bodies, b)
	r.ids = append(r.ids, req.Header.Get(alerthook.DeliveryHeader))
	w.WriteHeader(http.StatusNoContent)
}

// TestDeliverAlertSignsAndDeliversOnce: an alert goes to the lender's URL signed with the
// lender's secret derived from the master key; a 503 is a retryable error recorded on the
// alert; the retry is accepted and marks it delivered; a third call sends nothing.
func TestDeliverAlertSignsAndDeliversOnce(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	ctx := context.Background()
	ml, decidedAsOf := f.booked(t)
	f.later(t, decidedAsOf)
	res := f.evaluate(t, activities.MonitorEvalInput{ApplicationID: f.appID, Loan: ml})
	require.NotEmpty(t, res.Undelivered)
	alert := res.Undelivered[0]

	master, err := alerthook.ParseSigningKey(alerthook.GenerateSigningKey())
	require.NoError(t, err)
	f.acts.AlertSigningKey = master
	app, err := f.store.GetApplication(ctx, f.appID)
	require.NoError(t, err)
	rcv := &receiver{t: t, secret: alerthook.LenderSecret(master, app.LenderID), fail: 1}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)

	in := activities.DeliverAlertInput{ApplicationID: f.appID, AlertID: alert.ID}
	// No URL yet: stored and listed, not sent.
	v, err := f.env.ExecuteActivity(f.acts.DeliverAlert, in)
	require.NoError(t, err)
	var out activities.DeliverAlertResult
	require.NoError(t, v.Get(&out))
	require.Equal(t, activities.DeliverAlertResult{NoEndpoint: true}, out)

	require.NoError(t, f.store.SetLenderAlertWebhook(ctx, app.LenderID, srv.URL+"/alerts"))
	_, err = f.env.ExecuteActivity(f.acts.DeliverAlert, in)
	require.Error(t, err, "a 503 is retried by Temporal")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.False(t, appErr.NonRetryable())
	got, err := f.store.GetAlert(ctx, alert.ID)
	require.NoError(t, err)
	require.Nil(t, got.DeliveredAt)
	require.Equal(t, 1, got.DeliveryAttempts)
	require.NotNil(t, got.LastDeliveryError)
	require.Contains(t, *got.LastDeliveryError, "503")

	for range 2 {
		v, err = f.env.ExecuteActivity(f.acts.DeliverAlert, in)
		require.NoError(t, err)
		out = activities.DeliverAlertResult{}
		require.NoError(t, v.Get(&out))
		require.Equal(t, activities.DeliverAlertResult{Delivered: true}, out)
	}
	require.Len(t, rcv.bodies, 1, "accepted once; the call after it sends nothing")
	require.Equal(t, []string{strconv.FormatInt(alert.ID, 10)}, rcv.ids)
	b := rcv.bodies[0]
	require.Equal(t, alerthook.BodyType, b.Type)
	require.Equal(t, app.ExternalID, b.LoanID)
	require.Equal(t, app.LenderID, b.Lender)
	require.Equal(t, alert.Type, b.Event.Type)
	require.NotEmpty(t, b.Event.Text)
	require.Equal(t, "mon-v1", b.MonitoringPolicyVersion)
	got, err = f.store.GetAlert(ctx, alert.ID)
	require.NoError(t, err)
	require.NotNil(t, got.DeliveredAt)
	require.Equal(t, 2, got.DeliveryAttempts)

	// Without a signing key nothing can be signed: a non-retryable error, recorded.
	f.acts.AlertSigningKey = nil
	_, err = f.env.ExecuteActivity(f.acts.DeliverAlert, activities.DeliverAlertInput{ApplicationID: f.appID, AlertID: res.Undelivered[1].ID})
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypeAlertUndeliverable, appErr.Type())
	// Another loan's alert id is refused.
	_, err = f.env.ExecuteActivity(f.acts.DeliverAlert, activities.DeliverAlertInput{ApplicationID: "other", AlertID: alert.ID})
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
}

// TestCloseLoanRecord: the watcher's close of a loan the lender already closed keeps the
// lender's reason (the first close wins).
func TestCloseLoanRecord(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	f.booked(t)
	for _, c := range []struct{ reason, want string }{{store.LoanRepaid, store.LoanRepaid}, {store.LoanTermEnded, store.LoanRepaid}} {
		v, err := f.env.ExecuteActivity(f.acts.CloseLoanRecord, activities.CloseLoanInput{ApplicationID: f.appID, Reason: c.reason})
		require.NoError(t, err)
		var res activities.CloseLoanResult
		require.NoError(t, v.Get(&res))
		require.Equal(t, c.want, res.Status)
	}
}

// TestSubscribeAndUnsubscribe: the watcher's subscription reaches the sandbox (the account
// lists transactions among its subscriptions), a second subscribe changes nothing, and
// unsubscribe ends it, also twice.
func TestSubscribeAndUnsubscribe(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	in := activities.SubscribeInput{ApplicationID: f.appID, AccountIDs: f.accounts}
	subscriptions := func() []string {
		acct, err := f.acts.Stripe.FinancialConnectionsAccounts.GetByID(f.accounts[0], nil)
		require.NoError(t, err)
		var out []string
		for _, s := range acct.Subscriptions {
			out = append(out, string(s))
		}
		return out
	}
	for _, c := range []struct {
		act  any
		want []string
	}{{f.acts.Subscribe, []string{activities.FeatureTransactions}}, {f.acts.Subscribe, []string{activities.FeatureTransactions}},
		{f.acts.Unsubscribe, nil}, {f.acts.Unsubscribe, nil}} {
		v, err := f.env.ExecuteActivity(c.act, in)
		require.NoError(t, err)
		var res activities.SubscribeResult
		require.NoError(t, v.Get(&res))
		require.Equal(t, f.accounts, res.Done)
		require.Equal(t, c.want, subscriptions())
	}
}
