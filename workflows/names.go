package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/activities"
)

// TaskQueue is the task queue every underwriter worker polls.
const TaskQueue = "underwriter"

// Signal, query and workflow type names. They are part of the public contract with the API
// and with operators, so they never change.
const (
	// UnderwriteWorkflowName is the registered workflow type of Underwrite.
	UnderwriteWorkflowName = "Underwrite"
	// RescoreWorkflowName is the registered workflow type of Rescore. Its QueryStatus
	// answers a RescoreStatus.
	RescoreWorkflowName = "Rescore"
	// SignalAccountLinked tells the workflow that Stripe reported a linked account
	// (financial_connections.account.created). The payload is an AccountSignal.
	SignalAccountLinked = "account-linked"
	// SignalRefreshUpdated tells the workflow that a refresh of one of its accounts changed
	// state (refreshed_transactions / refreshed_balance). The payload is an AccountSignal.
	// The workflow re-reads the account rather than trusting the event, because Stripe
	// delivers events at least once and in any order.
	SignalRefreshUpdated = "refresh-updated"
	// SignalAccountStatus tells the workflow that an account was deactivated, reactivated
	// or disconnected. The payload is an AccountSignal whose Status is the new status.
	SignalAccountStatus = "account-status"
	// QueryStatus answers the application's current Status at every stage.
	QueryStatus = "status"
	// UpdateDecision completes with the application's UnderwriteResult once its decision
	// is recorded, or fails with ErrTypeApplicationFailed when the run fails first. A
	// loan backend sends it with the start (Update-with-Start) to get a returning
	// customer's decision in the same request. It takes no argument.
	UpdateDecision = "decision"
	// UpdateChangeLoan changes the loan's amount and term (a LoanChange) while the
	// application still waits for its link or refresh; its validator refuses it later,
	// for a loan outside loan's bounds, or while another change is being recorded, so a
	// refused change leaves nothing in history. It answers a LoanChange: the loan the
	// decision will be made for.
	UpdateChangeLoan = "change-loan"
)

// Error types of refused or failed updates.
const (
	// ErrTypeTooLate refuses a loan change after the application stopped waiting for its
	// link or refresh: the data is being scored for the loan asked for.
	ErrTypeTooLate = "TooLate"
	// ErrTypeChangeInProgress refuses a loan change while another one is being recorded.
	ErrTypeChangeInProgress = "ChangeInProgress"
	// ErrTypeApplicationFailed fails UpdateDecision when the run fails before a decision;
	// its message is the run's FailureCause.
	ErrTypeApplicationFailed = "ApplicationFailed"
)

// Stages and outcomes are loan's (loan.Stage*, loan.Outcome*): the workflow reports them
// through QueryStatus and the search attributes below, the API and the store read the
// same constants.

// ErrTypeInvalidInput is the type of the non-retryable ApplicationError Underwrite fails
// with when its input is invalid (an empty application id, no session and no accounts, a
// loan outside loan's bounds). Its message names the field; from changeValidateInput on,
// its details hold the []*loan.FieldError. The activities use the same type for input no
// retry can make valid.
const ErrTypeInvalidInput = activities.ErrTypeInvalidInput

// Custom search attributes. They are registered on the namespace by `underwriter dev` and
// must be registered on any other cluster before workers start (see the README).
var (
	// SAApplicationID is the application's key: "<lender>/<lender's application id>", or
	// the lender's id alone for an application created before lenders existed.
	SAApplicationID = temporal.NewSearchAttributeKeyKeyword("ApplicationID")
	// SALender is the lender that created the application, set when the workflow starts.
	SALender = temporal.NewSearchAttributeKeyKeyword("UnderwritingLender")
	// SAStage is the workflow's current stage (loan.Stage* constants).
	SAStage = temporal.NewSearchAttributeKeyKeyword("UnderwritingStage")
	// SAOutcome is the decision outcome once decided (loan.Outcome* constants).
	SAOutcome = temporal.NewSearchAttributeKeyKeyword("UnderwritingOutcome")
	// SAScore is the scorecard score once scored.
	SAScore = temporal.NewSearchAttributeKeyInt64("UnderwritingScore")
)

// MemoRescoreProgress is the memo key under which a Rescore run shows its progress in
// the Web UI, "done/total" applications. A memo, not a search attribute: progress is for
// reading, nobody filters on it, and a memo needs no registration on the namespace.
const MemoRescoreProgress = "RescoreProgress"

// RescoreWorkflowID is the workflow id of a re-score of a lender's applications decided
// in a period under a model and policy version: rescore/<lender>/<model>/<policy>/<from>_<to>
// (UTC days, to excluded). Running the command again while it runs attaches to the same
// workflow; after it, a new run stores nothing new.
func RescoreWorkflowID(lender, modelVersion, policyVersion, from, to string) string {
	return "rescore/" + lender + "/" + modelVersion + "/" + policyVersion + "/" + from + "_" + to
}

// Change ids for workflow.GetVersion. Each guards a change to the command sequence, so
// histories recorded before it still replay (testdata/histories).
const (
	// changeRefreshWaits: wait for next_refresh_available_at when the data is stale, and
	// for an inactive account's reactivation, with further refresh rounds.
	changeRefreshWaits = "refresh-waits-and-reactivation"
	// changeRegisterApplication: the workflow makes sure its application has a row in
	// Postgres, so a backend may start it with the Go client instead of the API.
	changeRegisterApplication = "register-application"
	// changeCarryRetryAt: when accounts wait in different ways (one refreshing, one not
	// yet allowed), the wait for next_refresh_available_at survives the refresh polls.
	changeCarryRetryAt = "carry-retry-at"
	// changeValidateInput: the workflow checks its loan (amount, term, currency) with
	// loan.Validate before its first command and fails with a non-retryable
	// ErrTypeInvalidInput naming the field; an empty currency becomes
	// loan.DefaultCurrency, as in the API. Before, such a loan reached Postgres: an amount
	// of 0 failed its check on every retry for activityRetryWindow, a 400-month term the
	// API refuses was stored and scored.
	changeValidateInput = "validate-loan-input"
	// changeCurrencyAllowList: from version 1 of changeValidateInput on, the loan's
	// currency must also be on ISO 4217's list (loan.Validate), not only have its shape
	// (loan.ValidateFormat): "xyz" was approved on a USD ledger. Runs started before
	// validate with the shape alone, so an open run with such a currency replays.
	changeCurrencyAllowList = "currency-allow-list"
	// changeOneDecisionWriter: one activity, Decide, scores the snapshot and writes the
	// decision (or writes an unscored one), so one activity writes a decision. Before,
	// Score wrote the scored decision and RecordDecision the unscored ones and marked the
	// application decided; both stay registered for runs started before.
	changeOneDecisionWriter = "one-decision-writer"
	// changeRecordFailure: a workflow that fails records it before it ends: stage
	// loan.StageFailed in the UnderwritingStage search attribute, and stage and cause on
	// the application's row (RecordFailure), so GET and the UI show what happened. Before,
	// a failed run left its row at the stage the API stored.
	changeRecordFailure = "record-failure"
	// changePollLinkFirst: the wait for a link reads the session's accounts once before it
	// waits for the webhook, so a run started after the link (the new run of an
	// application whose run failed, or a start delayed past a fast applicant) goes on at
	// once instead of after LinkPollInterval.
	changePollLinkFirst = "poll-link-first"
)

// WorkflowID is the one workflow id for an application, given its key
// (store.Application.ID, "<lender>/<id>"): underwrite/<lender>/<id>. Starting twice with
// the same key reaches the same workflow. Applications created before lenders existed have
// a key without a lender, and keep their workflow id underwrite/<id>.
func WorkflowID(applicationKey string) string {
	return "underwrite/" + applicationKey
}
