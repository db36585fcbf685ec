// Package monitorhistory_test records a history of the Monitor workflow on a real
// Temporal server (internal/temporalembed) and checks that it replays:
// testdata/histories/monitor holds the recorded ones, which workflows'
// TestReplayRecordedHistories replays against the current code, so a change to Monitor's
// command sequence must sit behind workflow.GetVersion. The activities are fakes with the
// real ones' names, inputs and results: a history holds only their results, and the
// watcher's command sequence is what a replay checks.
//
// Record a history for a new shipped version of Monitor with
// `go test ./internal/monitorhistory/ -update-histories v<N>`.
package monitorhistory_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

var updateHistories = flag.String("update-histories", "", "write this run's history to testdata/histories/monitor/monitor-<this label>-story.json")

// booked is the story's decision day: the fake ledger's clock is a day later per check.
var booked = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// fakeActs answers the Monitor's activities. Check 2 raises an NSF fee, check 4 a low
// balance; the first balance refresh stays pending until the refreshed_balance signal.
type fakeActs struct {
	mu        sync.Mutex
	evals     int
	refreshes int
	delivered map[int64]bool
}

func (f *fakeActs) Subscribe(_ context.Context, in activities.SubscribeInput) (activities.SubscribeResult, error) {
	return activities.SubscribeResult{Done: in.AccountIDs}, nil
}

func (f *fakeActs) Unsubscribe(_ context.Context, in activities.SubscribeInput) (activities.SubscribeResult, error) {
	return activities.SubscribeResult{Done: in.AccountIDs}, nil
}

func state(id, status string) activities.AccountState {
	return activities.AccountState{AccountID: id, Status: "active", TransactionRefreshID: "fctxnref_1",
		TransactionRefreshStatus: activities.RefreshSucceeded, BalanceRefreshStatus: status}
}

func (f *fakeActs) RequestRefresh(_ context.Context, in activities.RefreshInput) (activities.RefreshState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	status := activities.RefreshSucceeded
	if f.refreshes == 1 {
		status = activities.RefreshPending
	}
	var st activities.RefreshState
	for _, id := range in.AccountIDs {
		s := state(id, status)
		s.Requested = true
		st.Accounts = append(st.Accounts, s)
	}
	return st, nil
}

func (f *fakeActs) RefreshStatus(_ context.Context, in activities.RefreshStatusInput) (activities.RefreshState, error) {
	var st activities.RefreshState
	for _, id := range in.AccountIDs {
		st.Accounts = append(st.Accounts, state(id, activities.RefreshSucceeded))
	}
	return st, nil
}

func (f *fakeActs) SyncTransactions(_ context.Context, in activities.SyncInput) (activities.SyncResult, error) {
	return activities.SyncResult{AccountID: in.AccountID, Pages: 1, Upserted: 3, Stored: 180, RefreshID: "fctxnref_1"}, nil
}

func (f *fakeActs) StoreBalance(_ context.Context, in activities.BalanceInput) (activities.BalanceResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return activities.BalanceResult{AccountID: in.AccountID, AsOf: booked.AddDate(0, 0, f.evals+1), Present: true}, nil
}

func (f *fakeActs) EvaluateMonitor(_ context.Context, in activities.MonitorEvalInput) (activities.MonitorEvalResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evals++
	asOf := booked.AddDate(0, 0, f.evals)
	res := activities.MonitorEvalResult{MonitoringPolicyVersion: "mon-v1", AsOf: asOf, Next: scoring.MonitorCheck{Since: asOf},
		Rescore: activities.MonitorRescore{PD: 0.061, PDChange: 0.004, DefaultPD: 0.058}}
	switch f.evals {
	case 2:
		res.Events, res.LastEvent = 1, scoring.EventNSFOverdraft
		res.Undelivered = []activities.AlertRef{{ID: 1, Type: scoring.EventNSFOverdraft}}
	case 4:
		res.Events, res.LastEvent = 1, scoring.EventLowBalance
		res.Undelivered = []activities.AlertRef{{ID: 2, Type: scoring.EventLowBalance}}
	}
	return res, nil
}

func (f *fakeActs) DeliverAlert(_ context.Context, in activities.DeliverAlertInput) (activities.DeliverAlertResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[in.AlertID] = true
	return activities.DeliverAlertResult{Delivered: true}, nil
}

func (f *fakeActs) CloseLoanRecord(_ context.Context, in activities.CloseLoanInput) (activities.CloseLoanResult, error) {
	return activities.CloseLoanResult{Status: in.Reason}, nil
}

// TestMonitorHistoryReplays runs a watcher on a real server through four checks (the
// first waiting for its balance refresh's webhook, two raising an alert each, one on an
// account's status) and the lender's close, then replays the history the server
// recorded against the current code.
func TestMonitorHistoryReplays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts, err := temporalembed.Start(ctx, temporalembed.Config{UIPort: temporalembed.NoUI, SearchAttributes: workflows.SearchAttributeTypes()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Stop() })
	c, err := tclient.Dial(tclient.Options{HostPort: ts.FrontendAddress(), Namespace: ts.Namespace()})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	fakes := &fakeActs{delivered: map[int64]bool{}}
	w := wiring.NewBareWorker(c, wiring.WorkerOptions{})
	w.RegisterWorkflowWithOptions(workflows.Monitor, wiring.WorkflowRegisterOptions(workflows.MonitorWorkflowName))
	w.RegisterActivity(fakes)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	id := workflows.MonitorWorkflowID("dev/history-story")
	run, err := c.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.MonitorWorkflowName,
		workflows.MonitorInput{ApplicationID: "dev/history-story", Lender: "dev", AccountIDs: []string{"fca_history_1"},
			Loan: scoring.MonitoredLoan{AmountMinor: 300000, TermMonths: 6, Currency: "usd", FirstDue: booked.AddDate(0, 1, 0),
				InstalmentMinor: 52000},
			PollInterval: time.Hour})
	require.NoError(t, err)

	checks := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryMonitorStatus)
			if err != nil {
				return false
			}
			var st workflows.MonitorStatus
			return v.Get(&st) == nil && st.Checks >= n && st.Deliveries == 0
		}, time.Minute, 50*time.Millisecond, "check %d", n)
	}
	signal := func(name string, arg any) {
		t.Helper()
		require.NoError(t, c.SignalWorkflow(ctx, id, "", name, arg))
	}
	refreshed := workflows.AccountSignal{AccountID: "fca_history_1", EventType: "financial_connections.account.refreshed_transactions"}
	signal(workflows.SignalTransactionsRefreshed, refreshed)
	signal(workflows.SignalRefreshUpdated, workflows.AccountSignal{AccountID: "fca_history_1", EventType: "financial_connections.account.refreshed_balance"})
	checks(1)
	signal(workflows.SignalTransactionsRefreshed, refreshed)
	checks(2)
	signal(workflows.SignalAccountStatus, workflows.AccountSignal{AccountID: "fca_history_1", Status: "active"})
	checks(3)
	signal(workflows.SignalTransactionsRefreshed, refreshed)
	checks(4)
	signal(workflows.SignalCloseLoan, workflows.LoanClose{Reason: workflows.LoanRepaid})
	var res workflows.MonitorStatus
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, workflows.MonitoringClosed, res.Status)
	require.Equal(t, 4, res.Checks)
	require.Equal(t, 2, res.Alerts)
	require.Equal(t, map[int64]bool{1: true, 2: true}, fakes.delivered)

	hist, err := wiring.ExportHistory(ctx, c, id, run.GetRunID())
	require.NoError(t, err)
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.Monitor, workflow.RegisterOptions{Name: workflows.MonitorWorkflowName})
	h, err := tclient.HistoryFromJSON(bytes.NewReader(hist), tclient.HistoryJSONOptions{})
	require.NoError(t, err)
	require.NoError(t, r.ReplayWorkflowHistory(nil, h))

	if *updateHistories != "" {
		path := filepath.Join("../../testdata/histories/monitor", "monitor-"+*updateHistories+"-story.json")
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, hist, 0o644))
	}
}
