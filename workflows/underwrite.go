package workflows

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
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
	// stripeHeartbeatTimeout notices a worker that died during such an attempt: the
	// activity heartbeats every activities.KeepAliveInterval while it waits on Stripe, so
	// a silence this long means its worker is gone and the attempt is retried elsewhere,
	// instead of after stripeCallTimeout. Timeouts are not commands: no GetVersion.
	stripeHeartbeatTimeout = 6 * activities.KeepAliveInterval
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
	// ApplicationID is the application's key in Postgres (store.Application.ID):
	// "<lender>/<lender's application id>" when the API starts the workflow.
	ApplicationID string
	// Lender is the lender that owns the application; empty means the development lender
	// "dev", which owns workflows started before lenders existed.
	//
	// Fields whose zero value means "the default" or "none" are left out of the JSON
	// payload (omitzero), so that the history shows what was asked, not "LinkTimeout":0.
	Lender     string `json:"Lender,omitzero"`
	CustomerID string `json:"CustomerID,omitzero"`
	SessionID  string `json:"SessionID,omitzero"`
	// AccountIDs underwrites a returning customer on accounts an earlier application
	// linked: the workflow skips the wait for a link, and the sync pulls only what changed
	// since the accounts' last sync. Empty for a new link through SessionID.
	AccountIDs      []string `json:"AccountIDs,omitzero"`
	LoanAmountMinor int64
	TermMonths      int
	// Currency is a lowercase ISO code; empty means loan.DefaultCurrency, as in the API.
	// Amount, term and currency must lie within loan's bounds (loan.Validate), or the
	// workflow fails at once with ErrTypeInvalidInput.
	Currency string
	// LinkTimeout overrides DefaultLinkTimeout when positive.
	LinkTimeout time.Duration `json:"LinkTimeout,omitzero"`
	// ReactivationTimeout overrides DefaultReactivationTimeout when positive.
	ReactivationTimeout time.Duration `json:"ReactivationTimeout,omitzero"`
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
// fails only when its input is invalid (ErrTypeInvalidInput, before any command) or when it
// cannot record a decision.
//
// From changeRecordFailure on, a failure is recorded (stage failed, with its cause) before
// the workflow ends with it.
func Underwrite(ctx workflow.Context, in UnderwriteInput) (UnderwriteResult, error) {
	u := &underwriting{in: in}
	res, err := u.underwrite(ctx)
	if err != nil && in.ApplicationID != "" &&
		workflow.GetVersion(ctx, changeRecordFailure, workflow.DefaultVersion, 1) == 1 {
		u.recordFailure(ctx, err)
	}
	u.finish(ctx, res, err)
	return res, err
}

func (u *underwriting) underwrite(ctx workflow.Context) (UnderwriteResult, error) {
	if err := u.setup(ctx); err != nil {
		return UnderwriteResult{}, err
	}
	return u.run(ctx)
}

// recordFailure stores stage failed and the cause on the application's row, then
// publishes the stage (status query, search attribute): in that order, so whoever sees
// stage failed through the workflow finds its cause in Postgres. It runs in a disconnected
// context, so a cancelled workflow records it too, and only logs its own failure: the
// workflow's error is what the run ends with.
func (u *underwriting) recordFailure(ctx workflow.Context, cause error) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	log := workflow.GetLogger(dctx)
	detail(dctx, "failed: %s", FailureCause(cause))
	err := workflow.ExecuteActivity(summarized(dbOptions(dctx), "record the failure"), acts.RecordFailure, activities.FailureInput{
		ApplicationID: u.in.ApplicationID, Cause: FailureCause(cause),
	}).Get(dctx, nil)
	if err != nil {
		log.Error("record failure", "application_id", u.in.ApplicationID, "err", err)
	}
	if err := u.setStage(dctx, loan.StageFailed); err != nil {
		log.Error("publish failed stage", "application_id", u.in.ApplicationID, "err", err)
	}
}

// maxCauseLength bounds a recorded failure cause: the first lines of an error chain say
// what failed; more is for the workflow's history.
const maxCauseLength = 500

// FailureCause is the cause a failed workflow records: the innermost application error's
// type and message, or a timeout's kind, or the error's text, at most maxCauseLength bytes.
// Activity errors carry ids and attempts the lender has no use for.
func FailureCause(err error) string {
	cause := err.Error()
	var appErr *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &appErr):
		cause = appErr.Message()
		if appErr.Type() != "" {
			cause = appErr.Type() + ": " + appErr.Message()
		}
	case errors.As(err, &timeout):
		cause = "timeout: " + timeout.TimeoutType().String()
	case errors.As(err, &canceled):
		cause = "canceled"
	}
	if len(cause) > maxCauseLength {
		cause = strings.ToValidUTF8(cause[:maxCauseLength], "") + "…"
	}
	return cause
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

	// changing is true while UpdateChangeLoan records a change; the decision waits for it.
	changing bool
	// ended, result and endErr are how the run ended, for UpdateDecision.
	ended  bool
	result UnderwriteResult
	endErr error
}

// setup validates the input and opens the signal channels, the updates and the status
// query. It issues no command but the version markers of changeValidateInput and
// changeCurrencyAllowList.
func (u *underwriting) setup(ctx workflow.Context) error {
	if err := u.validate(ctx); err != nil {
		return err
	}
	u.status = Status{ApplicationID: u.in.ApplicationID, UpdatedAt: workflow.Now(ctx)}
	u.linked = workflow.GetSignalChannel(ctx, SignalAccountLinked)
	u.refreshed = workflow.GetSignalChannel(ctx, SignalRefreshUpdated)
	u.statusCh = workflow.GetSignalChannel(ctx, SignalAccountStatus)
	if err := u.setUpdateHandlers(ctx); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) {
		return u.status, nil
	})
}

// validate refuses input no activity can act on, before the workflow's first command, with
// a non-retryable ErrTypeInvalidInput that names the field: retrying a workflow cannot
// change its input. From version 1 of changeValidateInput this includes the loan, checked
// with loan.Validate after an empty currency has become loan.DefaultCurrency (with
// loan.ValidateFormat, the currency's shape only, for runs started before
// changeCurrencyAllowList).
func (u *underwriting) validate(ctx workflow.Context) error {
	if u.in.ApplicationID == "" {
		return temporal.NewNonRetryableApplicationError("input.ApplicationID: empty", ErrTypeInvalidInput, nil)
	}
	if u.in.Lender != "" {
		// Lender came with lenders; every run before it has none, so no version is needed.
		if err := loan.CheckLender(u.in.Lender); err != nil {
			return temporal.NewNonRetryableApplicationError("input.Lender: "+err.Error(), ErrTypeInvalidInput, nil)
		}
	}
	if u.in.SessionID == "" && len(u.in.AccountIDs) == 0 {
		return temporal.NewNonRetryableApplicationError("input.SessionID: empty, and no input.AccountIDs", ErrTypeInvalidInput, nil)
	}
	if workflow.GetVersion(ctx, changeValidateInput, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	if u.in.Currency == "" {
		u.in.Currency = loan.DefaultCurrency
	}
	check := loan.Validate
	if workflow.GetVersion(ctx, changeCurrencyAllowList, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		check = loan.ValidateFormat
	}
	fields := loan.FieldErrors(check(loan.Request{
		AmountMinor: u.in.LoanAmountMinor, TermMonths: u.in.TermMonths, Currency: u.in.Currency,
	}))
	if len(fields) == 0 {
		return nil
	}
	msgs := make([]string, len(fields))
	names := make([]string, len(fields))
	for i, f := range fields {
		msgs[i], names[i] = f.Error(), f.Field
	}
	workflow.GetLogger(ctx).Warn("input refused", "application_id", u.in.ApplicationID, "fields", strings.Join(names, ","))
	return temporal.NewNonRetryableApplicationError("input: "+strings.Join(msgs, "; "), ErrTypeInvalidInput, nil, fields)
}

func (u *underwriting) run(ctx workflow.Context) (UnderwriteResult, error) {
	if workflow.GetVersion(ctx, changeRegisterApplication, workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(summarized(dbOptions(ctx), "register application "+u.in.ApplicationID), acts.RegisterApplication, activities.RegisterInput{
			ApplicationID: u.in.ApplicationID, Lender: u.in.Lender, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
			CustomerID: u.in.CustomerID, SessionID: u.in.SessionID,
			LoanAmountMinor: u.in.LoanAmountMinor, TermMonths: u.in.TermMonths, Currency: u.in.Currency,
		}).Get(ctx, nil); err != nil {
			return UnderwriteResult{}, fmt.Errorf("register application: %w", err)
		}
	}
	accounts := append([]string(nil), u.in.AccountIDs...)
	sort.Strings(accounts)
	if len(accounts) == 0 {
		if err := u.setStage(ctx, loan.StageAwaitingLink); err != nil {
			return UnderwriteResult{}, err
		}
		var err error
		if accounts, err = u.waitForLink(ctx); err != nil {
			return UnderwriteResult{}, err
		}
	}
	if len(accounts) == 0 {
		workflow.GetLogger(ctx).Info("no account linked in time", "application_id", u.in.ApplicationID)
		return u.decide(ctx, loan.OutcomeExpired, nil, scoring.Operational{})
	}
	u.status.AccountIDs = accounts

	if err := u.setStage(ctx, loan.StageRefreshing); err != nil {
		return UnderwriteResult{}, err
	}
	states, stale, err := u.refresh(ctx, accounts)
	if err != nil {
		return UnderwriteResult{}, err
	}
	op := operational(states, stale)

	if err := u.setStage(ctx, loan.StageSyncing); err != nil {
		return UnderwriteResult{}, err
	}
	if err := u.sync(ctx, accounts, states); err != nil {
		return UnderwriteResult{}, err
	}

	if err := u.setStage(ctx, loan.StageSnapshot); err != nil {
		return UnderwriteResult{}, err
	}
	var snap activities.SnapshotRef
	if err := workflow.ExecuteActivity(summarized(dbOptions(ctx), "freeze the snapshot to score"), acts.FreezeSnapshot,
		activities.SnapshotInput{ApplicationID: u.in.ApplicationID}).Get(ctx, &snap); err != nil {
		return UnderwriteResult{}, fmt.Errorf("freeze snapshot: %w", err)
	}
	u.status.SnapshotID = snap.ID
	u.status.Transactions = snap.Transactions
	return u.decide(ctx, "", &snap, op)
}

// operational is what the refresh tells the policy about the data: whether it may be
// stale (a refresh failed, never finished or was not allowed in time) and how many
// accounts are not active.
func operational(states []activities.AccountState, stale bool) scoring.Operational {
	op := scoring.Operational{RefreshFailed: stale}
	for _, s := range states {
		if s.Status != "active" {
			op.InactiveAccounts++
		}
		if s.Failed() || !s.Done() {
			op.RefreshFailed = true
		}
	}
	return op
}

// waitForLink waits for the applicant to link at least one account, woken by the
// account-linked signal or, when the webhook is lost, every LinkPollInterval to read the
// session. It returns no accounts when the link timeout passes first.
func (u *underwriting) waitForLink(ctx workflow.Context) ([]string, error) {
	timeout := u.in.LinkTimeout
	if timeout <= 0 {
		timeout = DefaultLinkTimeout
	}
	deadline := workflow.Now(ctx).Add(timeout)
	if workflow.GetVersion(ctx, changePollLinkFirst, workflow.DefaultVersion, 1) == 1 {
		if ids, err := u.linkedAccounts(ctx); err != nil || len(ids) > 0 {
			return ids, err
		}
	}
	for {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return nil, nil
		}
		pause := min(remaining, LinkPollInterval)
		detail(ctx, "waiting for the applicant to link a bank account; expires %s", at(deadline))
		if signalled := wait(ctx, pause, "wait for the link webhook, at most "+pause.String(), u.linked); !signalled && pause == remaining {
			continue // the link timeout has passed: no poll, the loop ends
		}
		if ids, err := u.linkedAccounts(ctx); err != nil || len(ids) > 0 {
			return ids, err
		}
	}
}

// linkedAccounts reads the accounts linked through the application's session, sorted.
func (u *underwriting) linkedAccounts(ctx workflow.Context) ([]string, error) {
	var linked activities.LinkedAccountsResult
	if err := workflow.ExecuteActivity(summarized(stripeOptions(ctx), "read the session's linked accounts"), acts.LinkedAccounts, activities.LinkedAccountsInput{
		ApplicationID: u.in.ApplicationID, SessionID: u.in.SessionID,
	}).Get(ctx, &linked); err != nil {
		return nil, fmt.Errorf("read linked accounts: %w", err)
	}
	ids := append([]string(nil), linked.AccountIDs...)
	sort.Strings(ids)
	return ids, nil
}

// sync pulls every account's transactions and balance into Postgres, accounts in parallel.
// states are the accounts' refresh states as the refresh last read them: each sync is told
// the refresh its data will be complete up to, so it need not read the account again.
func (u *underwriting) sync(ctx workflow.Context, accounts []string, states []activities.AccountState) error {
	syncCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    syncAttemptTimeout,
		ScheduleToCloseTimeout: activityRetryWindow,
		HeartbeatTimeout:       syncHeartbeatTimeout,
		RetryPolicy:            retryPolicy(),
	})
	var txns, bals []workflow.Future
	for _, id := range accounts {
		in := activities.SyncInput{ApplicationID: u.in.ApplicationID, AccountID: id}
		for _, s := range states {
			if s.AccountID == id {
				in.TargetKnown = true
				if s.TransactionRefreshStatus == activities.RefreshSucceeded {
					in.TargetRefreshID = s.TransactionRefreshID
				}
			}
		}
		txns = append(txns, workflow.ExecuteActivity(summarized(syncCtx, "sync the transactions of "+id), acts.SyncTransactions, in))
		bals = append(bals, workflow.ExecuteActivity(summarized(stripeOptions(ctx), "store the balance of "+id), acts.StoreBalance,
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

// setStage records the stage for the status query and the search attribute. The API reads
// the stage with the status query, so stages cost no activity.
func (u *underwriting) setStage(ctx workflow.Context, stage string) error {
	if d, ok := stageDetails[stage]; ok {
		detail(ctx, "%s", d)
	}
	u.status.Stage = stage
	u.status.UpdatedAt = workflow.Now(ctx)
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		SAApplicationID.ValueSet(u.in.ApplicationID), SAStage.ValueSet(stage)); err != nil {
		return fmt.Errorf("upsert stage search attributes: %w", err)
	}
	return nil
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
		HeartbeatTimeout:       stripeHeartbeatTimeout,
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
		SALender.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAOutcome.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAScore.GetName():         enumspb.INDEXED_VALUE_TYPE_INT,
		// The Monitor watcher's (monitor_names.go).
		SAMonitoringStatus.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SALastAlert.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}
