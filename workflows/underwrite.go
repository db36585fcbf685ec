package workflows

import (
	"errors"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Timeouts and retry numbers. Each says why it has the value it has.
const (
	// DefaultLinkTimeout is how long an applicant has to link a bank account when the
	// input does not say: a day covers an applicant who comes back after work.
	DefaultLinkTimeout = 24 * time.Hour
	// LinkPollInterval is how often the workflow reads the FC session while it waits for the
	// account-linked signal, so a lost webhook delays a decision by minutes, not forever.
	LinkPollInterval = 10 * time.Minute
	// RefreshFirstPoll is the first polling delay while a refresh is pending; the webhooks
	// normally arrive well before it.
	RefreshFirstPoll = 30 * time.Second
	// RefreshMaxPoll caps the doubling polling delay: Stripe refreshes take seconds to
	// minutes, and five minutes keeps the history short over a long wait.
	RefreshMaxPoll = 5 * time.Minute
	// DefaultReactivationTimeout is how long an inactive account may take to be reactivated
	// (a bank connection the applicant repairs) before the application is referred.
	DefaultReactivationTimeout = 24 * time.Hour
	// MaxRefreshDelay is the longest the workflow waits for Stripe to allow a refresh of
	// stale data (next_refresh_available_at); later than that the application is decided
	// on the stale data with the refresh marked as failed, which refers it.
	MaxRefreshDelay = 12 * time.Hour
	// maxRefreshRounds bounds the refreshes one application asks for: the first, one after
	// a wait for next_refresh_available_at, one after a reactivation, and a spare.
	maxRefreshRounds = 4
	// RefreshTimeout ends the wait for a refresh; the application is then decided on the
	// data Stripe already had, with the refresh marked as failed (a refer, never a decline).
	RefreshTimeout = time.Hour
	// stripeCallTimeout bounds one activity attempt that makes a few Stripe calls; stripe-go
	// itself times out a request after its HTTP client timeout.
	stripeCallTimeout = 2 * time.Minute
	// syncAttemptTimeout bounds one sync attempt over many pages; progress is heartbeated.
	syncAttemptTimeout = 30 * time.Minute
	// syncHeartbeatTimeout detects a stuck sync quickly: a page takes well under a second.
	syncHeartbeatTimeout = time.Minute
	// dbCallTimeout bounds activities that only talk to Postgres.
	dbCallTimeout = time.Minute
	// activityMaxInterval caps the retry backoff: Stripe outages and 429s clear in minutes.
	activityMaxInterval = 2 * time.Minute
	// activityRetryWindow bounds all attempts of one activity: an outage of Stripe or
	// Postgres longer than this fails the workflow visibly, for an operator to reset,
	// instead of hiding it in endless retries.
	activityRetryWindow = 6 * time.Hour
)

// UnderwriteInput is what a loan backend supplies when it starts underwriting. Secrets (the
// session's client_secret) never appear here: they would be stored in workflow history.
type UnderwriteInput struct {
	ApplicationID string
	CustomerID    string
	SessionID     string
	// AccountIDs underwrites a returning customer on accounts an earlier application
	// linked: the workflow skips the wait for a link, and the sync pulls only what changed
	// since the accounts' last sync. Empty for a new link through SessionID.
	AccountIDs      []string
	LoanAmountMinor int64
	TermMonths      int
	Currency        string
	// LinkTimeout overrides DefaultLinkTimeout when positive.
	LinkTimeout time.Duration
	// ReactivationTimeout overrides DefaultReactivationTimeout when positive.
	ReactivationTimeout time.Duration
}

// UnderwriteResult is the workflow's result: the decision in brief. The full record is in
// Postgres.
type UnderwriteResult struct {
	ApplicationID string
	Outcome       string
	Score         int
	PD            float64
	Reasons       []scoring.Reason
	SnapshotID    int64
	ContentHash   string
}

// AccountSignal is the payload of SignalAccountLinked and SignalRefreshUpdated.
type AccountSignal struct {
	AccountID string
	EventID   string
	EventType string
	// Status is the account's status in the event (active, inactive, disconnected).
	Status string
}

// Status is the answer to QueryStatus.
type Status struct {
	ApplicationID string
	Stage         string
	AccountIDs    []string
	Refresh       []activities.AccountState
	Transactions  int
	SnapshotID    int64
	Outcome       string
	Score         int
	Reasons       []scoring.Reason
	UpdatedAt     time.Time
}

// Underwrite takes one application from "link your bank account" to a recorded decision.
// Timeouts, failed refreshes and unusable accounts are decisions, not errors: the workflow
// fails only when it cannot record a decision.
func Underwrite(ctx workflow.Context, in UnderwriteInput) (UnderwriteResult, error) {
	u := &underwriting{in: in}
	if err := u.setup(ctx); err != nil {
		return UnderwriteResult{}, err
	}
	return u.run(ctx)
}

// acts is a nil pointer whose method values name the activities; the worker registers a
// real *activities.Activities under the same names.
var acts *activities.Activities

type underwriting struct {
	in        UnderwriteInput
	status    Status
	linked    workflow.ReceiveChannel
	refreshed workflow.ReceiveChannel
	statusCh  workflow.ReceiveChannel
}

func (u *underwriting) setup(ctx workflow.Context) error {
	if u.in.ApplicationID == "" {
		return temporal.NewNonRetryableApplicationError("input.ApplicationID: empty", "InvalidInput", nil)
	}
	if u.in.SessionID == "" && len(u.in.AccountIDs) == 0 {
		return temporal.NewNonRetryableApplicationError("input.SessionID: empty, and no input.AccountIDs", "InvalidInput", nil)
	}
	u.status = Status{ApplicationID: u.in.ApplicationID, UpdatedAt: workflow.Now(ctx)}
	u.linked = workflow.GetSignalChannel(ctx, SignalAccountLinked)
	u.refreshed = workflow.GetSignalChannel(ctx, SignalRefreshUpdated)
	u.statusCh = workflow.GetSignalChannel(ctx, SignalAccountStatus)
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) {
		return u.status, nil
	})
}

func (u *underwriting) run(ctx workflow.Context) (UnderwriteResult, error) {
	if workflow.GetVersion(ctx, changeRegisterApplication, workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(dbOptions(ctx), acts.RegisterApplication, activities.RegisterInput{
			ApplicationID: u.in.ApplicationID, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
			CustomerID: u.in.CustomerID, SessionID: u.in.SessionID,
			LoanAmountMinor: u.in.LoanAmountMinor, TermMonths: u.in.TermMonths, Currency: u.in.Currency,
		}).Get(ctx, nil); err != nil {
			return UnderwriteResult{}, fmt.Errorf("register application: %w", err)
		}
	}
	accounts := append([]string(nil), u.in.AccountIDs...)
	sort.Strings(accounts)
	if len(accounts) == 0 {
		if err := u.setStage(ctx, StageAwaitingLink); err != nil {
			return UnderwriteResult{}, err
		}
		var err error
		if accounts, err = u.waitForLink(ctx); err != nil {
			return UnderwriteResult{}, err
		}
	}
	if len(accounts) == 0 {
		return u.record(ctx, OutcomeExpired, nil, nil)
	}
	u.status.AccountIDs = accounts

	if err := u.setStage(ctx, StageRefreshing); err != nil {
		return UnderwriteResult{}, err
	}
	states, stale, err := u.refresh(ctx, accounts)
	if err != nil {
		return UnderwriteResult{}, err
	}
	op := scoring.Operational{RefreshFailed: stale}
	for _, s := range states {
		if s.Status != "active" {
			op.InactiveAccounts++
		}
		if s.Failed() || !s.Done() {
			op.RefreshFailed = true
		}
	}

	if err := u.setStage(ctx, StageSyncing); err != nil {
		return UnderwriteResult{}, err
	}
	if err := u.sync(ctx, accounts); err != nil {
		return UnderwriteResult{}, err
	}

	if err := u.setStage(ctx, StageSnapshot); err != nil {
		return UnderwriteResult{}, err
	}
	var snap activities.SnapshotRef
	if err := workflow.ExecuteActivity(dbOptions(ctx), acts.FreezeSnapshot,
		activities.SnapshotInput{ApplicationID: u.in.ApplicationID}).Get(ctx, &snap); err != nil {
		return UnderwriteResult{}, fmt.Errorf("freeze snapshot: %w", err)
	}
	u.status.SnapshotID = snap.ID
	u.status.Transactions = snap.Transactions

	if err := u.setStage(ctx, StageScoring); err != nil {
		return UnderwriteResult{}, err
	}
	var scored activities.ScoreResult
	if err := workflow.ExecuteActivity(dbOptions(ctx), acts.Score, activities.ScoreInput{
		ApplicationID: u.in.ApplicationID,
		SnapshotID:    snap.ID,
		Loan:          scoring.Loan{AmountMinor: u.in.LoanAmountMinor, TermMonths: u.in.TermMonths},
		Operational:   op,
	}).Get(ctx, &scored); err != nil {
		return UnderwriteResult{}, fmt.Errorf("score snapshot %d: %w", snap.ID, err)
	}
	return u.record(ctx, scored.Decision.Outcome, &scored, &snap)
}

// waitForLink waits for the applicant to link at least one account. It returns no accounts
// when the link timeout passes first.
func (u *underwriting) waitForLink(ctx workflow.Context) ([]string, error) {
	timeout := u.in.LinkTimeout
	if timeout <= 0 {
		timeout = DefaultLinkTimeout
	}
	deadline := workflow.Now(ctx).Add(timeout)
	for {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return nil, nil
		}
		wait := min(remaining, LinkPollInterval)
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, wait)
		check := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(u.linked, func(c workflow.ReceiveChannel, _ bool) {
			var sig AccountSignal
			c.Receive(ctx, &sig)
			drain(c)
			check = true
		})
		sel.AddFuture(timer, func(workflow.Future) {
			// Poll the session only while time remains; at the deadline the loop ends.
			check = wait < remaining
		})
		sel.Select(ctx)
		cancelTimer()
		if !check {
			continue
		}
		var linked activities.LinkedAccountsResult
		if err := workflow.ExecuteActivity(stripeOptions(ctx), acts.LinkedAccounts, activities.LinkedAccountsInput{
			ApplicationID: u.in.ApplicationID, SessionID: u.in.SessionID,
		}).Get(ctx, &linked); err != nil {
			return nil, fmt.Errorf("read linked accounts: %w", err)
		}
		if len(linked.AccountIDs) > 0 {
			ids := append([]string(nil), linked.AccountIDs...)
			sort.Strings(ids)
			return ids, nil
		}
	}
}

// refresh requests a transactions and balance refresh of every account and waits until
// none is pending, woken by refresh webhooks and, when they never come, by a durable
// polling timer with a doubling delay. From version 1 of changeRefreshWaits it also waits
// when Stripe does not allow a refresh yet and the data is stale, and waits for an
// inactive account to be reactivated; stale says the data could not be refreshed in time.
func (u *underwriting) refresh(ctx workflow.Context, accounts []string) (states []activities.AccountState, stale bool, err error) {
	round := 1
	if states, err = u.requestRefresh(ctx, accounts, round); err != nil {
		return nil, false, err
	}
	v := workflow.GetVersion(ctx, changeRefreshWaits, workflow.DefaultVersion, 1)
	carry := workflow.GetVersion(ctx, changeCarryRetryAt, workflow.DefaultVersion, 1) == 1
	retryDeadline := workflow.Now(ctx).Add(MaxRefreshDelay)
	reactivationDeadline := workflow.Now(ctx).Add(u.reactivationTimeout())
	for {
		requested := states
		if states, err = u.awaitRefresh(ctx, accounts, states); err != nil {
			return nil, false, err
		}
		if carry {
			// RefreshStatus reads carry no RetryAt: keep RequestRefresh's for the accounts
			// it could not refresh yet.
			states = withRetryAt(states, requested)
		}
		if v == workflow.DefaultVersion {
			return states, false, nil
		}
		if round >= maxRefreshRounds {
			return states, hasRetryAt(states), nil
		}
		if retryAt := latestRetryAt(states); !retryAt.IsZero() {
			// Stripe allows no refresh yet and the data it holds is stale: wait, then ask.
			if retryAt.After(retryDeadline) {
				return states, true, nil
			}
			if err := workflow.Sleep(ctx, retryAt.Sub(workflow.Now(ctx))); err != nil {
				return nil, false, err
			}
		} else if inactive := inactiveAccounts(states); len(inactive) > 0 {
			reactivated, err := u.awaitReactivation(ctx, accounts, reactivationDeadline)
			if err != nil {
				return nil, false, err
			}
			if !reactivated {
				return u.status.Refresh, false, nil
			}
		} else {
			return states, false, nil
		}
		round++
		if states, err = u.requestRefresh(ctx, accounts, round); err != nil {
			return nil, false, err
		}
	}
}

// requestRefresh asks for refresh round n. The idempotency key names the workflow and the
// round, so it is stable across activity retries and worker restarts but differs between
// applications and rounds.
func (u *underwriting) requestRefresh(ctx workflow.Context, accounts []string, round int) ([]activities.AccountState, error) {
	var state activities.RefreshState
	key := fmt.Sprintf("%s/refresh/%d", workflow.GetInfo(ctx).WorkflowExecution.ID, round)
	if err := workflow.ExecuteActivity(stripeOptions(ctx), acts.RequestRefresh, activities.RefreshInput{
		ApplicationID: u.in.ApplicationID, AccountIDs: accounts, IdempotencyKey: key,
	}).Get(ctx, &state); err != nil {
		return nil, fmt.Errorf("request refresh round %d: %w", round, err)
	}
	u.status.Refresh = state.Accounts
	return state.Accounts, nil
}

// awaitRefresh waits until no active account has a pending refresh, or RefreshTimeout.
func (u *underwriting) awaitRefresh(ctx workflow.Context, accounts []string, states []activities.AccountState) ([]activities.AccountState, error) {
	deadline := workflow.Now(ctx).Add(RefreshTimeout)
	poll := RefreshFirstPoll
	for !allDone(states) {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return states, nil
		}
		wait := min(poll, remaining)
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, wait)
		sel := workflow.NewSelector(ctx)
		for _, ch := range []workflow.ReceiveChannel{u.refreshed, u.statusCh} {
			sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
				var sig AccountSignal
				c.Receive(ctx, &sig)
				drain(c)
			})
		}
		sel.AddFuture(timer, func(workflow.Future) {
			poll = min(2*poll, RefreshMaxPoll)
		})
		sel.Select(ctx)
		cancelTimer()
		var err error
		if states, err = u.readRefreshStatus(ctx, accounts); err != nil {
			return nil, err
		}
	}
	return states, nil
}

// awaitReactivation waits until every inactive account is active again (the
// account-status signal from the reactivated webhook, or a poll), or the deadline passes.
// Disconnected accounts never come back: the applicant must link again.
func (u *underwriting) awaitReactivation(ctx workflow.Context, accounts []string, deadline time.Time) (bool, error) {
	for {
		states := u.status.Refresh
		if len(inactiveAccounts(states)) == 0 {
			return true, nil
		}
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 || anyDisconnected(states) {
			return false, nil
		}
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, min(LinkPollInterval, remaining))
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(u.statusCh, func(c workflow.ReceiveChannel, _ bool) {
			var sig AccountSignal
			c.Receive(ctx, &sig)
			drain(c)
		})
		sel.AddFuture(timer, func(workflow.Future) {})
		sel.Select(ctx)
		cancelTimer()
		if _, err := u.readRefreshStatus(ctx, accounts); err != nil {
			return false, err
		}
	}
}

func (u *underwriting) readRefreshStatus(ctx workflow.Context, accounts []string) ([]activities.AccountState, error) {
	var state activities.RefreshState
	if err := workflow.ExecuteActivity(stripeOptions(ctx), acts.RefreshStatus, activities.RefreshStatusInput{
		AccountIDs: accounts,
	}).Get(ctx, &state); err != nil {
		return nil, fmt.Errorf("read refresh status: %w", err)
	}
	u.status.Refresh = state.Accounts
	return state.Accounts, nil
}

func (u *underwriting) reactivationTimeout() time.Duration {
	if u.in.ReactivationTimeout > 0 {
		return u.in.ReactivationTimeout
	}
	return DefaultReactivationTimeout
}

// withRetryAt copies each account's RetryAt from requested into states.
func withRetryAt(states, requested []activities.AccountState) []activities.AccountState {
	out := append([]activities.AccountState(nil), states...)
	for i := range out {
		for _, r := range requested {
			if r.AccountID == out[i].AccountID && out[i].RetryAt.IsZero() {
				out[i].RetryAt = r.RetryAt
			}
		}
	}
	return out
}

func latestRetryAt(states []activities.AccountState) time.Time {
	var t time.Time
	for _, s := range states {
		if s.Active() && s.RetryAt.After(t) {
			t = s.RetryAt
		}
	}
	return t
}

func hasRetryAt(states []activities.AccountState) bool { return !latestRetryAt(states).IsZero() }

func inactiveAccounts(states []activities.AccountState) []string {
	var ids []string
	for _, s := range states {
		if !s.Active() {
			ids = append(ids, s.AccountID)
		}
	}
	return ids
}

func anyDisconnected(states []activities.AccountState) bool {
	for _, s := range states {
		if s.Status == "disconnected" {
			return true
		}
	}
	return false
}

func allDone(states []activities.AccountState) bool {
	for _, s := range states {
		if s.Status == "active" && !s.Done() {
			return false
		}
	}
	return true
}

// sync pulls every account's transactions and balance into Postgres, accounts in parallel.
func (u *underwriting) sync(ctx workflow.Context, accounts []string) error {
	syncCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    syncAttemptTimeout,
		ScheduleToCloseTimeout: activityRetryWindow,
		HeartbeatTimeout:       syncHeartbeatTimeout,
		RetryPolicy:            retryPolicy(),
	})
	var txns, bals []workflow.Future
	for _, id := range accounts {
		txns = append(txns, workflow.ExecuteActivity(syncCtx, acts.SyncTransactions,
			activities.SyncInput{ApplicationID: u.in.ApplicationID, AccountID: id}))
		bals = append(bals, workflow.ExecuteActivity(stripeOptions(ctx), acts.StoreBalance,
			activities.BalanceInput{ApplicationID: u.in.ApplicationID, AccountID: id}))
	}
	var errs []error
	for i, f := range txns {
		var res activities.SyncResult
		if err := f.Get(ctx, &res); err != nil {
			errs = append(errs, fmt.Errorf("sync transactions of %s: %w", accounts[i], err))
			continue
		}
		u.status.Transactions += res.Stored
	}
	for i, f := range bals {
		if err := f.Get(ctx, nil); err != nil {
			errs = append(errs, fmt.Errorf("store balance of %s: %w", accounts[i], err))
		}
	}
	return errors.Join(errs...)
}

// record writes the decision and publishes it in the search attributes.
func (u *underwriting) record(ctx workflow.Context, outcome string, scored *activities.ScoreResult, snap *activities.SnapshotRef) (UnderwriteResult, error) {
	if err := u.setStage(ctx, StageRecording); err != nil {
		return UnderwriteResult{}, err
	}
	info := workflow.GetInfo(ctx)
	if err := workflow.ExecuteActivity(dbOptions(ctx), acts.RecordDecision, activities.RecordInput{
		ApplicationID: u.in.ApplicationID,
		WorkflowID:    info.WorkflowExecution.ID,
		RunID:         info.WorkflowExecution.RunID,
		Outcome:       outcome,
		Score:         scored,
		Snapshot:      snap,
	}).Get(ctx, nil); err != nil {
		return UnderwriteResult{}, fmt.Errorf("record decision: %w", err)
	}
	res := UnderwriteResult{ApplicationID: u.in.ApplicationID, Outcome: outcome}
	updates := []temporal.SearchAttributeUpdate{SAOutcome.ValueSet(outcome)}
	if scored != nil {
		res.Score = scored.Decision.Score
		res.PD = scored.Decision.PD
		res.Reasons = scored.Decision.Reasons
		if !scored.Decision.Unscored {
			updates = append(updates, SAScore.ValueSet(int64(scored.Decision.Score)))
		}
	}
	if snap != nil {
		res.SnapshotID = snap.ID
		res.ContentHash = snap.ContentHash
	}
	u.status.Outcome = outcome
	u.status.Score = res.Score
	u.status.Reasons = res.Reasons
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return UnderwriteResult{}, fmt.Errorf("upsert outcome search attributes: %w", err)
	}
	if err := u.setStage(ctx, StageDecided); err != nil {
		return UnderwriteResult{}, err
	}
	// Webhooks for a second linked account or a repeated delivery may still sit in the
	// channels; the decision no longer depends on them.
	drain(u.linked)
	drain(u.refreshed)
	drain(u.statusCh)
	return res, nil
}

// setStage records the stage for the status query and the search attribute. The API reads
// the stage with the status query, so stages cost no activity.
func (u *underwriting) setStage(ctx workflow.Context, stage string) error {
	u.status.Stage = stage
	u.status.UpdatedAt = workflow.Now(ctx)
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		SAApplicationID.ValueSet(u.in.ApplicationID), SAStage.ValueSet(stage)); err != nil {
		return fmt.Errorf("upsert stage search attributes: %w", err)
	}
	return nil
}

// drain empties a signal channel: several webhooks for one change need one re-read.
func drain(c workflow.ReceiveChannel) {
	for c.ReceiveAsync(nil) {
	}
}

func retryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    activityMaxInterval,
		NonRetryableErrorTypes: []string{
			activities.ErrTypeInvalidRequest, activities.ErrTypeResourceMissing,
			activities.ErrTypeAuthentication, activities.ErrTypeBadData, activities.ErrTypeConflict,
		},
	}
}

func stripeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    stripeCallTimeout,
		ScheduleToCloseTimeout: activityRetryWindow,
		RetryPolicy:            retryPolicy(),
	})
}

func dbOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    dbCallTimeout,
		ScheduleToCloseTimeout: activityRetryWindow,
		RetryPolicy:            retryPolicy(),
	})
}

// SearchAttributeTypes lists the custom search attributes and their types, for registering
// them on a namespace.
func SearchAttributeTypes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SAApplicationID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAStage.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAOutcome.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAScore.GetName():         enumspb.INDEXED_VALUE_TYPE_INT,
	}
}
