package workflows

import (
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the task queue every underwriter worker polls.
const TaskQueue = "underwriter"

// Signal, query and workflow type names. They are part of the public contract with the API
// and with operators, so they never change.
const (
	// UnderwriteWorkflowName is the registered workflow type of Underwrite.
	UnderwriteWorkflowName = "Underwrite"
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
)

// Stages reported by QueryStatus and the UnderwritingStage search attribute.
const (
	StageAwaitingLink = "awaiting_link"
	StageRefreshing   = "refreshing"
	StageSyncing      = "syncing"
	StageSnapshot     = "snapshot"
	StageScoring      = "scoring"
	StageRecording    = "recording"
	StageDecided      = "decided"
)

// Outcomes recorded by the workflow in addition to the scoring outcomes approve, decline and
// refer.
const (
	OutcomeExpired = "expired"
)

// Custom search attributes. They are registered on the namespace by `underwriter dev` and
// must be registered on any other cluster before workers start (see the README).
var (
	// SAApplicationID is the lender's application id.
	SAApplicationID = temporal.NewSearchAttributeKeyKeyword("ApplicationID")
	// SAStage is the workflow's current stage (Stage* constants).
	SAStage = temporal.NewSearchAttributeKeyKeyword("UnderwritingStage")
	// SAOutcome is the decision outcome once decided.
	SAOutcome = temporal.NewSearchAttributeKeyKeyword("UnderwritingOutcome")
	// SAScore is the scorecard score once scored.
	SAScore = temporal.NewSearchAttributeKeyInt64("UnderwritingScore")
)

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
)

// WorkflowID is the one workflow id for an application: starting twice with the same
// application id reaches the same workflow.
func WorkflowID(applicationID string) string {
	return "underwrite/" + applicationID
}
