package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Monitor's numbers. Each says why it has the value it has.
const (
	// MonitorChecksPerRun bounds the checks of one run before it continues as new with its
	// MonitorState: a check is a dozen events, so a run's history stays in the thousands
	// of events over three months of daily refreshes.
	MonitorChecksPerRun = 100
	// MonitorAtRiskWindow is how long, by the ledger's clock, a loan stays at_risk after
	// its last event: long enough for the lender to find it in the UI the next morning
	// and for a month of clean refreshes to clear it.
	MonitorAtRiskWindow = 30 * 24 * time.Hour
	// MonitorLedgerGrace is how long after the last instalment's due date, by the ledger's
	// clock, the watcher goes on: a last payment a few weeks late still shows.
	MonitorLedgerGrace = 30 * 24 * time.Hour
	// MonitorTermGrace is how long after booking plus the term, by workflow time, the
	// watcher ends even if no refresh has moved the ledger's clock that far (the accounts
	// went quiet): the loan's term is over either way.
	MonitorTermGrace = 60 * 24 * time.Hour
	// MonitorDeliveryWindow bounds the delivery of one alert, all attempts: a lender's
	// endpoint down over a long weekend still gets it. Later, the failure is recorded on
	// the alert, which stays listed (GET /v1/loans/{id}/alerts).
	MonitorDeliveryWindow = 72 * time.Hour
	// alertFirstRetry, alertBackoff and alertMaxRetry space the attempts of a delivery:
	// 10 s, 20 s, 40 s … up to an hour between them.
	alertFirstRetry = 10 * time.Second
	alertBackoff    = 2
	alertMaxRetry   = time.Hour
	// alertAttemptTimeout bounds one delivery attempt: one HTTP POST.
	alertAttemptTimeout = time.Minute
	// monitorRetryWindow bounds the attempts of a check's activities: a check that cannot
	// finish in an hour is given up, and the next webhook or poll checks again.
	monitorRetryWindow = time.Hour
)

// Monitor watches a booked loan's accounts from booking to the end of its term (issue 14,
// docs/monitoring.md): it subscribes them to Stripe's daily transaction refreshes, and on
// each refreshed_transactions webhook (SignalTransactionsRefreshed), or on a poll after
// PollInterval without one, checks the loan: a balance refresh, the sync of what changed,
// then EvaluateMonitor, which stores each early-warning event once as an alert. Each new
// alert is delivered to the lender's webhook in the background. The search attributes
// MonitoringStatus and LastAlert make at-risk loans findable.
//
// It ends on SignalCloseLoan, or when the term is over (the ledger's clock past the last
// due date plus MonitorLedgerGrace, or booking plus the term plus MonitorTermGrace of
// workflow time): it unsubscribes the accounts, closes the loan's row and completes with
// its MonitorStatus once the deliveries under way are done. A check that fails is logged
// and tried again on the next cause: a watcher runs for months and does not fail on an
// outage. After MonitorChecksPerRun checks (or when Temporal suggests it) it continues as
// new with its MonitorState.
//
// A watcher is never pinned to a worker version: its command sequence changes only behind
// workflow.GetVersion, with recorded histories in testdata/histories/monitor that replay.
func Monitor(ctx workflow.Context, in MonitorInput) (MonitorStatus, error) {
	m := &monitoring{in: in}
	if err := m.setup(ctx); err != nil {
		return MonitorStatus{}, err
	}
	return m.run(ctx)
}

type monitoring struct {
	in     MonitorInput
	status MonitorStatus

	refreshed workflow.ReceiveChannel // SignalTransactionsRefreshed
	balance   workflow.ReceiveChannel // SignalRefreshUpdated (the balance refresh)
	accounts  workflow.ReceiveChannel // SignalAccountStatus
	closing   workflow.ReceiveChannel // SignalCloseLoan

	// due says a check is owed (a webhook, an account's status, a poll).
	due bool
	// closeReason is set by SignalCloseLoan.
	closeReason string
	// reactivated lists accounts reported active again, to subscribe at the next check.
	reactivated []string
	// inflight counts deliveries under way; idle wakes the main loop when it drops to 0.
	inflight  int
	idle      workflow.Channel
	scheduled map[int64]bool
	// published is the search attributes' values as last upserted.
	published [2]string
}

// setup checks the input and answers the status query. It issues no command.
func (m *monitoring) setup(ctx workflow.Context) error {
	switch {
	case m.in.ApplicationID == "":
		return temporal.NewNonRetryableApplicationError("input.ApplicationID: empty", ErrTypeInvalidInput, nil)
	case len(m.in.AccountIDs) == 0:
		return temporal.NewNonRetryableApplicationError("input.AccountIDs: empty, a loan needs an account to watch", ErrTypeInvalidInput, nil)
	case m.in.Loan.TermMonths <= 0:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("input.Loan.TermMonths: %d is not a positive term", m.in.Loan.TermMonths), ErrTypeInvalidInput, nil)
	case m.in.Loan.FirstDue.IsZero():
		return temporal.NewNonRetryableApplicationError("input.Loan.FirstDue: missing", ErrTypeInvalidInput, nil)
	}
	m.in.AccountIDs = slices.Sorted(slices.Values(m.in.AccountIDs))
	st := &m.in.State
	st.Runs++
	if st.Booked.IsZero() {
		st.Booked = workflow.Now(ctx)
	}
	if st.Status == "" {
		st.Status = MonitoringWatching
	}
	m.due, st.Pending = st.Pending, false
	m.scheduled = map[int64]bool{}
	m.idle = workflow.NewBufferedChannel(ctx, 1)
	m.refreshed = workflow.GetSignalChannel(ctx, SignalTransactionsRefreshed)
	m.balance = workflow.GetSignalChannel(ctx, SignalRefreshUpdated)
	m.accounts = workflow.GetSignalChannel(ctx, SignalAccountStatus)
	m.closing = workflow.GetSignalChannel(ctx, SignalCloseLoan)
	m.refreshStatus()
	return workflow.SetQueryHandler(ctx, QueryMonitorStatus, func() (MonitorStatus, error) {
		return m.status, nil
	})
}

// refreshStatus copies the state into the query's answer.
func (m *monitoring) refreshStatus() {
	st := m.in.State
	m.status.ApplicationID = m.in.ApplicationID
	m.status.Status = st.Status
	m.status.Checks = st.Checks
	m.status.Alerts = st.Alerts
	m.status.LastAlert = st.LastAlert
	m.status.LedgerAsOf = st.Check.Since
	m.status.Deliveries = m.inflight
}

func (m *monitoring) run(ctx workflow.Context) (MonitorStatus, error) {
	if err := m.publish(ctx, true); err != nil {
		return MonitorStatus{}, err
	}
	if !m.in.State.Subscribed {
		m.subscribe(ctx, m.in.AccountIDs)
	}
	checks := 0
	for {
		if m.closeReason != "" {
			return m.finish(ctx, m.closeReason)
		}
		if m.termOver(ctx) {
			return m.finish(ctx, LoanTermEnded)
		}
		continueAsNew := checks >= MonitorChecksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
		if continueAsNew && m.inflight == 0 {
			if m.drainSignals(ctx); m.closeReason != "" {
				continue
			}
			m.in.State.Pending = m.due
			workflow.GetLogger(ctx).Info("watcher continues as new", "application_id", m.in.ApplicationID,
				"checks", m.in.State.Checks, "runs", m.in.State.Runs)
			return MonitorStatus{}, workflow.NewContinueAsNewError(ctx, MonitorWorkflowName, m.in)
		}
		if !m.due {
			m.await(ctx, continueAsNew)
			continue
		}
		m.due = false
		m.check(ctx)
		checks++
	}
}

// await waits for a cause: a webhook (transactions refreshed, an account's status), the
// close signal, the poll, the end of the term or, when the run is to continue as new,
// the last delivery under way.
func (m *monitoring) await(ctx workflow.Context, forDeliveries bool) {
	poll := m.in.PollInterval
	if poll <= 0 {
		poll = DefaultMonitorPoll
	}
	d := min(poll, m.termDeadline().Sub(workflow.Now(ctx)))
	if d <= 0 {
		return
	}
	detail(ctx, "watching %d accounts (%s): %d checks, %d alerts; next poll at %s",
		len(m.in.AccountIDs), m.in.State.Status, m.in.State.Checks, m.in.State.Alerts, at(workflow.Now(ctx).Add(d)))
	timerCtx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: "wait for a refresh webhook, at most " + d.String()})
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(m.refreshed, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		drain(c)
		m.due = true
	})
	sel.AddReceive(m.accounts, func(c workflow.ReceiveChannel, _ bool) {
		m.receiveAccountStatus(ctx, c)
		m.due = true
	})
	sel.AddReceive(m.closing, func(c workflow.ReceiveChannel, _ bool) {
		m.receiveClose(ctx, c)
	})
	if forDeliveries {
		sel.AddReceive(m.idle, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	}
	sel.AddFuture(timer, func(workflow.Future) {
		m.due = true
	})
	sel.Select(ctx)
	cancel()
}

// receiveAccountStatus takes every queued account-status signal; accounts active again
// are subscribed at the next check (an inactive one could not be).
func (m *monitoring) receiveAccountStatus(ctx workflow.Context, c workflow.ReceiveChannel) {
	var sig AccountSignal
	c.Receive(ctx, &sig)
	for {
		if sig.Status == "active" && slices.Contains(m.in.AccountIDs, sig.AccountID) && !slices.Contains(m.reactivated, sig.AccountID) {
			m.reactivated = append(m.reactivated, sig.AccountID)
		}
		if !c.ReceiveAsync(&sig) {
			return
		}
	}
}

// receiveClose takes a close signal; one with an unknown reason is logged and ignored.
func (m *monitoring) receiveClose(ctx workflow.Context, c workflow.ReceiveChannel) {
	var lc LoanClose
	c.Receive(ctx, &lc)
	m.takeClose(ctx, lc)
}

func (m *monitoring) takeClose(ctx workflow.Context, lc LoanClose) {
	switch lc.Reason {
	case LoanRepaid, LoanChargedOff, LoanCancelled, LoanTermEnded:
		if m.closeReason == "" {
			m.closeReason = lc.Reason
		}
	default:
		workflow.GetLogger(ctx).Warn("close signal ignored: unknown reason", "application_id", m.in.ApplicationID, "reason", lc.Reason)
	}
}

// drainSignals takes every signal queued without blocking, before the run continues as
// new or completes: a webhook becomes a check owed by the next run.
func (m *monitoring) drainSignals(ctx workflow.Context) {
	for m.refreshed.ReceiveAsync(nil) {
		m.due = true
	}
	for m.accounts.ReceiveAsync(nil) {
		m.due = true
	}
	drain(m.balance)
	var lc LoanClose
	for m.closing.ReceiveAsync(&lc) {
		m.takeClose(ctx, lc)
	}
}

// check is one look at the loan: a balance refresh, the sync of the transactions Stripe
// refreshed since the last one and of the balance, then the evaluation, whose new alerts
// are delivered in the background. A failure is kept in the status, not returned.
func (m *monitoring) check(ctx workflow.Context) {
	detail(ctx, "checking the loan's accounts (check %d)", m.in.State.Checks+1)
	// Webhooks already queued are covered by this check, which syncs after them: a poll
	// and a webhook at the same moment make one check.
	drain(m.refreshed)
	if m.accounts.Len() > 0 {
		m.receiveAccountStatus(ctx, m.accounts)
	}
	if !m.in.State.Subscribed {
		m.subscribe(ctx, m.in.AccountIDs)
	} else if len(m.reactivated) > 0 {
		m.subscribe(ctx, m.reactivated)
	}
	m.reactivated = nil
	res, err := m.evaluate(ctx)
	m.in.State.Checks++
	if err != nil {
		workflow.GetLogger(ctx).Warn("check failed; the next webhook or poll checks again", "application_id", m.in.ApplicationID, "err", err)
		m.status.LastCheckError = FailureCause(err)
		m.refreshStatus()
		return
	}
	m.status.LastCheckError = ""
	st := &m.in.State
	st.Check = res.Next
	if res.Events > 0 {
		st.Alerts += res.Events
		st.LastAlert = res.LastEvent
		st.LastAlertAt = res.AsOf
	}
	st.Status = MonitoringWatching
	if !st.LastAlertAt.IsZero() && res.AsOf.Sub(st.LastAlertAt) < MonitorAtRiskWindow {
		st.Status = MonitoringAtRisk
	}
	for _, a := range res.Undelivered {
		m.deliver(ctx, a)
	}
	m.refreshStatus()
	if err := m.publish(ctx, false); err != nil {
		workflow.GetLogger(ctx).Warn("upsert monitoring search attributes", "application_id", m.in.ApplicationID, "err", err)
	}
}

// evaluate refreshes the balances, syncs what changed and evaluates the ledger.
func (m *monitoring) evaluate(ctx workflow.Context) (activities.MonitorEvalResult, error) {
	states, err := m.refreshBalances(ctx)
	if err != nil {
		return activities.MonitorEvalResult{}, err
	}
	syncCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    syncAttemptTimeout,
		ScheduleToCloseTimeout: monitorRetryWindow,
		HeartbeatTimeout:       syncHeartbeatTimeout,
		RetryPolicy:            retryPolicy(),
	})
	var txns, bals []workflow.Future
	var ids []string
	for _, s := range states {
		if !s.Active() {
			continue // its status is stored; EvaluateMonitor sees it (ACCOUNT_DISCONNECTED)
		}
		ids = append(ids, s.AccountID)
		txns = append(txns, workflow.ExecuteActivity(summarized(syncCtx, "sync the transactions of "+s.AccountID), acts.SyncTransactions,
			activities.SyncInput{ApplicationID: m.in.ApplicationID, AccountID: s.AccountID}))
		bals = append(bals, workflow.ExecuteActivity(summarized(m.stripeOptions(ctx), "store the balance of "+s.AccountID), acts.StoreBalance,
			activities.BalanceInput{ApplicationID: m.in.ApplicationID, AccountID: s.AccountID}))
	}
	var errs []error
	for i := range txns {
		if err := txns[i].Get(ctx, nil); err != nil {
			errs = append(errs, fmt.Errorf("sync transactions of %s: %w", ids[i], err))
		}
		if err := bals[i].Get(ctx, nil); err != nil {
			errs = append(errs, fmt.Errorf("store balance of %s: %w", ids[i], err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return activities.MonitorEvalResult{}, err
	}
	var res activities.MonitorEvalResult
	dbCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: dbCallTimeout, ScheduleToCloseTimeout: monitorRetryWindow, RetryPolicy: retryPolicy(),
	})
	if err := workflow.ExecuteActivity(summarized(dbCtx, "evaluate the updated ledger"), acts.EvaluateMonitor, activities.MonitorEvalInput{
		ApplicationID: m.in.ApplicationID, Loan: m.in.Loan, MonitoringPolicyVersion: m.in.MonitoringPolicyVersion,
		Check: m.in.State.Check,
	}).Get(ctx, &res); err != nil {
		return activities.MonitorEvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	return res, nil
}

// refreshBalances asks Stripe for a balance refresh of every account (the transactions
// refresh daily by the subscription) and waits until none is pending, woken by the
// refreshed_balance webhook or a poll, for at most RefreshTimeout; an account Stripe does
// not allow a refresh yet keeps the balance it has. It returns the accounts' states.
func (m *monitoring) refreshBalances(ctx workflow.Context) ([]activities.AccountState, error) {
	var state activities.RefreshState
	key := fmt.Sprintf("%s/monitor/%d/%d", workflow.GetInfo(ctx).WorkflowExecution.ID, m.in.State.Runs, m.in.State.Checks+1)
	if err := workflow.ExecuteActivity(summarized(m.stripeOptions(ctx), "request a balance refresh"), acts.RequestRefresh, activities.RefreshInput{
		ApplicationID: m.in.ApplicationID, AccountIDs: m.in.AccountIDs, IdempotencyKey: key,
		Features: []string{activities.FeatureBalance},
	}).Get(ctx, &state); err != nil {
		return nil, fmt.Errorf("request balance refresh: %w", err)
	}
	states := state.Accounts
	deadline := workflow.Now(ctx).Add(RefreshTimeout)
	poll := RefreshFirstPoll
	for !allDone(states) {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			break
		}
		pause := min(poll, remaining)
		if !wait(ctx, pause, "wait for the balance refresh webhook, at most "+pause.String(), m.balance) {
			poll = min(2*poll, RefreshMaxPoll)
		}
		var st activities.RefreshState
		if err := workflow.ExecuteActivity(summarized(m.stripeOptions(ctx), "read the refresh status"), acts.RefreshStatus, activities.RefreshStatusInput{
			AccountIDs: m.in.AccountIDs,
		}).Get(ctx, &st); err != nil {
			return nil, fmt.Errorf("read refresh status: %w", err)
		}
		states = st.Accounts
	}
	return states, nil
}

// subscribe subscribes the accounts to transaction refreshes. A failure is logged: the
// next check tries again.
func (m *monitoring) subscribe(ctx workflow.Context, ids []string) {
	var res activities.SubscribeResult
	if err := workflow.ExecuteActivity(summarized(m.stripeOptions(ctx), "subscribe the accounts to daily transaction refreshes"), acts.Subscribe,
		activities.SubscribeInput{ApplicationID: m.in.ApplicationID, AccountIDs: ids}).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("subscribe failed; the next check tries again", "application_id", m.in.ApplicationID, "err", err)
		return
	}
	m.in.State.Subscribed = true
}

// deliver sends alert a to the lender in the background, once per run (EvaluateMonitor
// returns only undelivered alerts, and DeliverAlert does not send a delivered one again).
func (m *monitoring) deliver(ctx workflow.Context, a activities.AlertRef) {
	if m.scheduled[a.ID] {
		return
	}
	m.scheduled[a.ID] = true
	m.inflight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout:    alertAttemptTimeout,
			ScheduleToCloseTimeout: MonitorDeliveryWindow,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval: alertFirstRetry, BackoffCoefficient: alertBackoff, MaximumInterval: alertMaxRetry,
				NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
			},
		})
		var res activities.DeliverAlertResult
		err := workflow.ExecuteActivity(summarized(actx, fmt.Sprintf("deliver alert %d (%s)", a.ID, a.Type)), acts.DeliverAlert,
			activities.DeliverAlertInput{ApplicationID: m.in.ApplicationID, AlertID: a.ID}).Get(ctx, &res)
		m.inflight--
		switch {
		case err != nil:
			m.status.DeliveryFailures++
			workflow.GetLogger(ctx).Warn("alert not delivered; the failure is recorded on the alert", "application_id", m.in.ApplicationID,
				"alert_id", a.ID, "err", err)
		case res.Delivered:
			m.status.Delivered++
		}
		m.status.Deliveries = m.inflight
		if m.inflight == 0 {
			m.idle.SendAsync(struct{}{})
		}
	})
	m.status.Deliveries = m.inflight
}

// termDeadline is the workflow time the watcher ends by itself: booking plus the term
// plus MonitorTermGrace.
func (m *monitoring) termDeadline() time.Time {
	return m.in.State.Booked.AddDate(0, m.in.Loan.TermMonths, 0).Add(MonitorTermGrace)
}

// termOver reports whether the loan's term is over, by the ledger's clock (the last
// check's) or by workflow time.
func (m *monitoring) termOver(ctx workflow.Context) bool {
	if !workflow.Now(ctx).Before(m.termDeadline()) {
		return true
	}
	since := m.in.State.Check.Since
	return !since.IsZero() && since.After(lastDue(m.in.Loan).Add(MonitorLedgerGrace))
}

// lastDue is the due day of the loan's last instalment: the first due date's day, TermMonths
// − 1 months later, clamped to the month's last day (as scoring.MonitoredLoan counts).
func lastDue(l scoring.MonitoredLoan) time.Time {
	f := l.FirstDue.UTC()
	first := time.Date(f.Year(), f.Month()+time.Month(l.TermMonths-1), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(f.Day(), last)-1)
}

// finish ends the watcher: the accounts are unsubscribed, the loan's row closed (the
// first close wins), the status closed; then it waits for the deliveries under way.
func (m *monitoring) finish(ctx workflow.Context, reason string) (MonitorStatus, error) {
	detail(ctx, "closing: %s", reason)
	log := workflow.GetLogger(ctx)
	if err := workflow.ExecuteActivity(summarized(m.stripeOptions(ctx), "unsubscribe the accounts"), acts.Unsubscribe,
		activities.SubscribeInput{ApplicationID: m.in.ApplicationID, AccountIDs: m.in.AccountIDs}).Get(ctx, nil); err != nil {
		log.Warn("unsubscribe failed", "application_id", m.in.ApplicationID, "err", err)
	}
	var closed activities.CloseLoanResult
	if err := workflow.ExecuteActivity(summarized(dbOptions(ctx), "close the loan's record"), acts.CloseLoanRecord,
		activities.CloseLoanInput{ApplicationID: m.in.ApplicationID, Reason: reason}).Get(ctx, &closed); err != nil {
		return MonitorStatus{}, fmt.Errorf("close loan record: %w", err)
	}
	m.in.State.Status = MonitoringClosed
	m.status.CloseReason = reason
	if closed.Status != "" {
		m.status.CloseReason = closed.Status
	}
	m.refreshStatus()
	if err := m.publish(ctx, false); err != nil {
		return MonitorStatus{}, err
	}
	if m.inflight > 0 {
		detail(ctx, "closed (%s); %d alert deliveries under way", m.status.CloseReason, m.inflight)
		if err := workflow.Await(ctx, func() bool { return m.inflight == 0 }); err != nil {
			return MonitorStatus{}, err
		}
	}
	m.drainSignals(ctx)
	detail(ctx, "closed (%s): %d checks, %d alerts", m.status.CloseReason, m.in.State.Checks, m.in.State.Alerts)
	log.Info("watcher closed", "application_id", m.in.ApplicationID, "reason", m.status.CloseReason, "checks", m.in.State.Checks)
	return m.status, nil
}

// publish upserts MonitoringStatus and LastAlert (once set) when they changed, or always
// when force (the first command of a run).
func (m *monitoring) publish(ctx workflow.Context, force bool) error {
	st := m.in.State
	if !force && m.published == [2]string{st.Status, st.LastAlert} {
		return nil
	}
	updates := []temporal.SearchAttributeUpdate{SAApplicationID.ValueSet(m.in.ApplicationID), SAMonitoringStatus.ValueSet(st.Status)}
	if st.LastAlert != "" {
		updates = append(updates, SALastAlert.ValueSet(st.LastAlert))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return fmt.Errorf("upsert monitoring search attributes: %w", err)
	}
	m.published = [2]string{st.Status, st.LastAlert}
	return nil
}

func (m *monitoring) stripeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    stripeCallTimeout,
		HeartbeatTimeout:       stripeHeartbeatTimeout,
		ScheduleToCloseTimeout: monitorRetryWindow,
		RetryPolicy:            retryPolicy(),
	})
}
