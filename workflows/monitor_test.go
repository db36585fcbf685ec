package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// monitorStart is when the story's loan is booked; the fake ledger's clock is the
// workflow's, so day n of the story is monitorStart + n days.
var monitorStart = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)

func storyDay(n int) time.Time { return monitorStart.Add(time.Duration(n) * 24 * time.Hour) }

var monitorInput = MonitorInput{
	ApplicationID: "acme/loan-1", Lender: "acme", AccountIDs: []string{"fca_2", "fca_1"},
	Loan: scoring.MonitoredLoan{AmountMinor: 300000, TermMonths: 6, Currency: "usd",
		FirstDue: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), InstalmentMinor: 52000},
}

// storyEvent is an event of the story: its cause lies at day Day (noon), and a check
// whose interval (since, as of] holds it reports it, as scoring.Monitor does.
type storyEvent struct {
	Day  int
	Type string
}

// fakeLoan is the loan's side of the world: its alerts table, the lender's receiver and
// what the workflow asked of the activities, kept across the runs of one watcher.
type fakeLoan struct {
	// mu guards the fields the fake activities share: deliveries run in the background,
	// beside the next check's activities.
	mu     sync.Mutex
	t      *testing.T
	events []storyEvent
	// alerts are the stored alerts by key, in the order stored; ids are their positions + 1.
	keys      []string
	types     []string
	delivered map[int64]bool
	// posts counts the webhooks the lender accepted per alert; attempts every try.
	posts, attempts map[int64]int
	// failDeliveries is how many attempts of each alert fail before one is accepted.
	failDeliveries int
	// evalFailOnce makes the first evaluation that stores an alert fail after storing it
	// (a worker that died after writing): the retry must store nothing twice.
	evalFailOnce bool
	evalFailed   bool

	// ledgerClock, when set, maps workflow time to the ledger's clock (default: the same).
	ledgerClock func(time.Time) time.Time

	checks      []scoring.MonitorCheck // the Check of each evaluation, in order
	subscribed  [][]string
	unsub       int
	closed      []string
	balanceKeys []string
	upserts     []string // "status/last alert" of each upsert
}

func newFakeLoan(t *testing.T, events ...storyEvent) *fakeLoan {
	return &fakeLoan{t: t, events: events, delivered: map[int64]bool{}, posts: map[int64]int{}, attempts: map[int64]int{}}
}

// evaluateAt is EvaluateMonitor on a ledger whose clock is asOf.
func (f *fakeLoan) evaluateAt(asOf time.Time, in activities.MonitorEvalInput) (activities.MonitorEvalResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks = append(f.checks, in.Check)
	since := in.Check.Since
	if since.IsZero() {
		since = monitorStart
	}
	res := activities.MonitorEvalResult{MonitoringPolicyVersion: "mon-v1", AsOf: asOf, Next: scoring.MonitorCheck{Since: asOf},
		Rescore: activities.MonitorRescore{PD: 0.05, DefaultPD: 0.05}}
	stored := false
	for _, e := range f.events {
		at := storyDay(e.Day).Add(3 * time.Hour)
		if !at.After(since) || at.After(asOf) {
			continue
		}
		key := fmt.Sprintf("%s:day%d", e.Type, e.Day)
		id := int64(slices.Index(f.keys, key) + 1)
		if id == 0 {
			f.keys, f.types = append(f.keys, key), append(f.types, e.Type)
			id, stored = int64(len(f.keys)), true
		}
		res.Events++
		res.LastEvent = e.Type
		if !f.delivered[id] {
			res.Undelivered = append(res.Undelivered, activities.AlertRef{ID: id, Type: e.Type})
		}
	}
	if stored && f.evalFailOnce && !f.evalFailed {
		f.evalFailed = true
		return activities.MonitorEvalResult{}, errors.New("connection reset after the alerts were stored")
	}
	return res, nil
}

func (f *fakeLoan) deliver(_ context.Context, in activities.DeliverAlertInput) (activities.DeliverAlertResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[in.AlertID]++
	if f.delivered[in.AlertID] {
		return activities.DeliverAlertResult{Delivered: true}, nil
	}
	if f.attempts[in.AlertID] <= f.failDeliveries {
		return activities.DeliverAlertResult{}, errors.New("lender endpoint: 503")
	}
	f.posts[in.AlertID]++
	f.delivered[in.AlertID] = true
	return activities.DeliverAlertResult{Delivered: true}, nil
}

// monitorEnv is one run's test environment on f, starting at start.
func (f *fakeLoan) monitorEnv(start time.Time) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflowWithOptions(Monitor, workflow.RegisterOptions{Name: MonitorWorkflowName})
	env.RegisterActivity(&activities.Activities{})
	done := func(id string) activities.AccountState { return finished(id, activities.RefreshSucceeded) }
	env.OnActivity(acts.Subscribe, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SubscribeInput) (activities.SubscribeResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.subscribed = append(f.subscribed, in.AccountIDs)
			return activities.SubscribeResult{Done: in.AccountIDs}, nil
		}).Maybe()
	env.OnActivity(acts.Unsubscribe, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SubscribeInput) (activities.SubscribeResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.unsub++
			return activities.SubscribeResult{Done: in.AccountIDs}, nil
		}).Maybe()
	env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefreshInput) (activities.RefreshState, error) {
			require.Equal(f.t, []string{activities.FeatureBalance}, in.Features, "a watcher refreshes the balance only")
			f.mu.Lock()
			defer f.mu.Unlock()
			f.balanceKeys = append(f.balanceKeys, in.IdempotencyKey)
			var st activities.RefreshState
			for _, id := range in.AccountIDs {
				st.Accounts = append(st.Accounts, done(id))
			}
			return st, nil
		}).Maybe()
	env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefreshStatusInput) (activities.RefreshState, error) {
			var st activities.RefreshState
			for _, id := range in.AccountIDs {
				st.Accounts = append(st.Accounts, done(id))
			}
			return st, nil
		}).Maybe()
	env.OnActivity(acts.SyncTransactions, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SyncInput) (activities.SyncResult, error) {
			return activities.SyncResult{AccountID: in.AccountID, Pages: 1, Stored: 10}, nil
		}).Maybe()
	env.OnActivity(acts.StoreBalance, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BalanceInput) (activities.BalanceResult, error) {
			return activities.BalanceResult{AccountID: in.AccountID, Present: true}, nil
		}).Maybe()
	env.OnActivity(acts.EvaluateMonitor, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MonitorEvalInput) (activities.MonitorEvalResult, error) {
			asOf := env.Now().UTC()
			if f.ledgerClock != nil {
				asOf = f.ledgerClock(asOf)
			}
			return f.evaluateAt(asOf, in)
		}).Maybe()
	env.OnActivity(acts.DeliverAlert, mock.Anything, mock.Anything).Return(f.deliver).Maybe()
	env.OnActivity(acts.CloseLoanRecord, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CloseLoanInput) (activities.CloseLoanResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.closed = append(f.closed, in.Reason)
			return activities.CloseLoanResult{Status: in.Reason}, nil
		}).Maybe()
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		status, _ := sa.GetKeyword(SAMonitoringStatus)
		last, _ := sa.GetKeyword(SALastAlert)
		f.upserts = append(f.upserts, status+"/"+last)
	}).Return(nil).Maybe()
	return env
}

// storySignals are the story's webhooks and the lender's close, by day.
type storySignals struct {
	webhooksUntil int // a refreshed_transactions webhook every day from day 1 to this one
	statusDay     int // an account-status signal on this day (0: none)
	closeDay      int // the lender closes the loan on this day (0: never)
	closeReason   string
	queries       map[int]*MonitorStatus // the status query's answer at noon of these days
}

// schedule registers the story's signals falling after start on env.
func (s storySignals) schedule(t *testing.T, env *testsuite.TestWorkflowEnvironment, start time.Time) {
	at := func(when time.Time, fn func()) {
		if when.After(start) {
			env.RegisterDelayedCallback(fn, when.Sub(start))
		}
	}
	for d := 1; d <= s.webhooksUntil; d++ {
		at(storyDay(d).Add(time.Hour), func() {
			env.SignalWorkflow(SignalTransactionsRefreshed, AccountSignal{AccountID: "fca_1", EventType: "financial_connections.account.refreshed_transactions"})
		})
	}
	if s.statusDay > 0 {
		at(storyDay(s.statusDay).Add(4*time.Hour), func() {
			env.SignalWorkflow(SignalAccountStatus, AccountSignal{AccountID: "fca_2", Status: "disconnected"})
		})
	}
	if s.closeDay > 0 {
		at(storyDay(s.closeDay).Add(5*time.Hour), func() {
			env.SignalWorkflow(SignalCloseLoan, LoanClose{Reason: s.closeReason})
		})
	}
	for d, st := range s.queries {
		at(storyDay(d).Add(3*time.Hour), func() {
			v, err := env.QueryWorkflow(QueryMonitorStatus)
			require.NoError(t, err)
			require.NoError(t, v.Get(st))
		})
	}
}

// runStory runs a watcher through its runs until it completes and returns its result
// and the inputs it continued as new with.
func (f *fakeLoan) runStory(t *testing.T, in MonitorInput, sig storySignals) (MonitorStatus, []MonitorInput) {
	t.Helper()
	start := monitorStart
	var carried []MonitorInput
	for run := 1; ; run++ {
		require.LessOrEqual(t, run, 5, "too many runs")
		env := f.monitorEnv(start)
		sig.schedule(t, env, start)
		env.ExecuteWorkflow(MonitorWorkflowName, in)
		require.True(t, env.IsWorkflowCompleted())
		err := env.GetWorkflowError()
		var cae *workflow.ContinueAsNewError
		if !errors.As(err, &cae) {
			require.NoError(t, err)
			var res MonitorStatus
			require.NoError(t, env.GetWorkflowResult(&res))
			return res, carried
		}
		require.Equal(t, MonitorWorkflowName, cae.WorkflowType.Name)
		var next MonitorInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(cae.Input, &next))
		carried = append(carried, next)
		in, start = next, env.Now()
	}
}

// TestMonitorWatchesAStory drives a watcher through four months of a borrower's story:
// daily refreshed_transactions webhooks for two months, then none (the daily poll checks),
// an account disconnected in month three, and the lender closing the repaid loan on day
// 130. The run continues as new after MonitorChecksPerRun checks, carrying its state; each
// event is stored once and delivered once although deliveries fail twice first and one
// evaluation fails after storing its alert; the search attributes follow the events.
func TestMonitorWatchesAStory(t *testing.T) {
	f := newFakeLoan(t,
		storyEvent{20, scoring.EventNSFOverdraft},
		storyEvent{45, scoring.EventIncomeStopped},
		storyEvent{70, scoring.EventAccountDisconnected},
		storyEvent{112, scoring.EventNewHighRiskLender}, storyEvent{112, scoring.EventNewLoanPayment})
	f.failDeliveries = 2
	f.evalFailOnce = true
	var day10, day21, day105 MonitorStatus
	in := monitorInput
	in.PollInterval = 26 * time.Hour // webhooks come daily; the poll checks only when one is missing
	res, carried := f.runStory(t, in, storySignals{webhooksUntil: 60, statusDay: 70, closeDay: 130, closeReason: LoanRepaid,
		queries: map[int]*MonitorStatus{10: &day10, 21: &day21, 105: &day105}})

	// One check a day: 60 on webhooks, then the daily polls, and one more on day 70 for
	// the account's status; every check but the first passes on the previous one's Next.
	require.Len(t, carried, 1, "one continue-as-new")
	require.Equal(t, MonitorChecksPerRun, carried[0].State.Checks)
	require.True(t, carried[0].State.Subscribed)
	require.Equal(t, 1, carried[0].State.Runs)
	require.Equal(t, monitorStart, carried[0].State.Booked.UTC(), "booking time is carried")
	require.Equal(t, storyDay(70).Add(4*time.Hour), carried[0].State.LastAlertAt.UTC(), "the check after the day-70 status signal")
	require.Equal(t, MonitoringWatching, carried[0].State.Status, "at check 100 the day-70 event is over 30 days old")
	require.Equal(t, scoring.EventAccountDisconnected, carried[0].State.LastAlert)
	for i := 1; i < len(f.checks); i++ {
		if f.checks[i].Since.Equal(f.checks[i-1].Since) {
			continue // the evaluation retried after its failure: same Check
		}
		require.True(t, f.checks[i].Since.After(f.checks[i-1].Since), "check %d moves the ledger clock", i)
	}
	require.Zero(t, f.checks[0].Since, "the first check starts at the baseline")
	require.Equal(t, carried[0].State.Check, f.checks[MonitorChecksPerRun+1], "the new run goes on from the carried check") // +1: the retried one

	// Each event stored once and delivered once, after two failed attempts each.
	require.Equal(t, []string{"NSF_OVERDRAFT_DETECTED:day20", "INCOME_STOPPED:day45", "ACCOUNT_DISCONNECTED:day70",
		"NEW_HIGH_RISK_LENDER:day112", "NEW_LOAN_PAYMENT:day112"}, f.keys)
	for id := int64(1); id <= int64(len(f.keys)); id++ {
		require.Equal(t, 1, f.posts[id], "alert %d (%s) accepted once", id, f.types[id-1])
		require.Equal(t, 3, f.attempts[id], "alert %d: two failures, then delivered", id)
	}

	// The watcher ended on the lender's close: unsubscribed once, the loan's row closed.
	require.Equal(t, [][]string{{"fca_1", "fca_2"}}, f.subscribed, "subscribed once, in the first run")
	require.Equal(t, 1, f.unsub)
	require.Equal(t, []string{LoanRepaid}, f.closed)
	require.Equal(t, MonitoringClosed, res.Status)
	require.Equal(t, LoanRepaid, res.CloseReason)
	require.Equal(t, len(f.keys), res.Alerts)
	require.Equal(t, scoring.EventNewLoanPayment, res.LastAlert, "the last event of the newest check (ordered by type)")
	require.Zero(t, res.Deliveries)
	require.Equal(t, len(f.checks)-1, res.Checks, "every check counted, the failed one too")

	// The status query during the story.
	require.Equal(t, MonitorStatus{ApplicationID: "acme/loan-1", Status: MonitoringWatching, Checks: 10,
		LedgerAsOf: storyDay(10).Add(time.Hour)}, day10)
	require.Equal(t, MonitoringAtRisk, day21.Status)
	require.Equal(t, scoring.EventNSFOverdraft, day21.LastAlert)
	require.Equal(t, MonitoringWatching, day105.Status, "30 days after the day-70 event, back to watching")

	// The search attributes, in order of change: each run sets them first.
	require.Equal(t, []string{
		"watching/", // run 1 starts
		"at_risk/NSF_OVERDRAFT_DETECTED", "at_risk/INCOME_STOPPED", "at_risk/ACCOUNT_DISCONNECTED",
		"watching/ACCOUNT_DISCONNECTED", // 30 days of the ledger's clock later
		"watching/ACCOUNT_DISCONNECTED", // run 2 starts
		"at_risk/NEW_LOAN_PAYMENT",
		"closed/NEW_LOAN_PAYMENT",
	}, f.upserts)
}

// TestMonitorEndsWithTheTerm: with no webhook at all, the daily poll checks the loan, and
// the watcher ends by itself once the ledger's clock is MonitorLedgerGrace past the last
// instalment's due date: unsubscribed, the loan's row closed as term_ended.
func TestMonitorEndsWithTheTerm(t *testing.T) {
	f := newFakeLoan(t)
	in := monitorInput
	in.Loan.TermMonths = 2 // due 2026-03-01 and 2026-04-01
	res, carried := f.runStory(t, in, storySignals{})
	require.Empty(t, carried)
	require.Equal(t, []string{LoanTermEnded}, f.closed)
	require.Equal(t, 1, f.unsub)
	require.Equal(t, MonitoringClosed, res.Status)
	last := f.checks[len(f.checks)-1]
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(MonitorLedgerGrace)
	require.False(t, last.Since.After(end), "the check before the last one was still within the term")
	require.Equal(t, []string{"watching/", "closed/"}, f.upserts)
	// The daily poll, one check a day from day 1.
	require.Equal(t, len(f.checks), res.Checks)
	require.Equal(t, int(end.Sub(monitorStart).Hours()/24)+1, res.Checks)
}

// TestMonitorEndsByWorkflowTimeWhenTheLedgerStops: accounts that stop refreshing leave the
// ledger's clock behind; the watcher still ends at booking + term + MonitorTermGrace.
func TestMonitorEndsByWorkflowTimeWhenTheLedgerStops(t *testing.T) {
	f := newFakeLoan(t)
	in := monitorInput
	in.Loan.TermMonths = 1
	in.PollInterval = 7 * 24 * time.Hour
	var frozen time.Time
	f.ledgerClock = func(now time.Time) time.Time {
		if frozen.IsZero() {
			frozen = now // the accounts stop refreshing after the first check
		}
		return frozen
	}
	env := f.monitorEnv(monitorStart)
	env.ExecuteWorkflow(MonitorWorkflowName, in)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{LoanTermEnded}, f.closed)
	require.Equal(t, monitorStart.AddDate(0, 1, 0).Add(MonitorTermGrace), env.Now().UTC())
}

// TestMonitorRefusesBadInput: an input no watcher can act on fails at once, naming the field.
func TestMonitorRefusesBadInput(t *testing.T) {
	for field, mutate := range map[string]func(*MonitorInput){
		"input.ApplicationID":   func(in *MonitorInput) { in.ApplicationID = "" },
		"input.AccountIDs":      func(in *MonitorInput) { in.AccountIDs = nil },
		"input.Loan.TermMonths": func(in *MonitorInput) { in.Loan.TermMonths = 0 },
		"input.Loan.FirstDue":   func(in *MonitorInput) { in.Loan.FirstDue = time.Time{} },
	} {
		t.Run(field, func(t *testing.T) {
			f := newFakeLoan(t)
			env := f.monitorEnv(monitorStart)
			in := monitorInput
			mutate(&in)
			env.ExecuteWorkflow(MonitorWorkflowName, in)
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, env.GetWorkflowError(), &appErr)
			require.Equal(t, ErrTypeInvalidInput, appErr.Type())
			require.True(t, strings.HasPrefix(appErr.Message(), field+":"), appErr.Message())
			require.Empty(t, f.subscribed)
		})
	}
}
