// Package loan is underwriter's domain vocabulary and the one check of a loan request.
//
// It sits at the bottom of the import graph (standard library only), beside ledger, so the
// API, the workflow, the activities, the store and scoring all spell an outcome, a stage
// and a loan's bounds the same way:
//
//   - Outcomes are what a decision says: approve, decline and refer come from scoring;
//     expired and withdrawn are reached without scoring. The decisions table constrains
//     its outcome column to exactly these five.
//   - Stages are where an application is on its way to a decision: the API stores the
//     first, the workflow reports each one through its status query and the
//     UnderwritingStage search attribute, and the activities store the last.
//   - Validate checks a loan request's amount, term and currency against the bounds the
//     API, the workflow, scoring and the applications table's check constraints share
//     (migrations/009_constrain_application_loans.sql).
package loan

// Outcomes of a decision, as stored in decisions.outcome and published in the
// UnderwritingOutcome search attribute.
const (
	// OutcomeApprove: every policy rule passed and the score reached the approve band.
	OutcomeApprove = "approve"
	// OutcomeDecline: a policy rule with a decline action failed on the applicant's data,
	// or the score fell below the refer band.
	OutcomeDecline = "decline"
	// OutcomeRefer: a person decides. A rule with a refer action failed, the data could
	// not be verified as current, could not be scored, or the score lies in the refer band.
	OutcomeRefer = "refer"
	// OutcomeExpired: the applicant did not link a bank account in time. Not scored.
	OutcomeExpired = "expired"
	// OutcomeWithdrawn: the application was withdrawn before its decision. Not scored.
	// The decisions table and the API accept it; no workflow path writes it yet.
	OutcomeWithdrawn = "withdrawn"
)

// Outcomes lists every outcome in the order of the constants above.
func Outcomes() []string {
	return []string{OutcomeApprove, OutcomeDecline, OutcomeRefer, OutcomeExpired, OutcomeWithdrawn}
}

// Unscored reports whether outcome is reached without scoring (expired, withdrawn): its
// decision carries no score, snapshot or reasons.
func Unscored(outcome string) bool {
	return outcome == OutcomeExpired || outcome == OutcomeWithdrawn
}

// Stages of an application, in the order it passes them. They are stored in
// applications.stage, answered by the workflow's status query and published in the
// UnderwritingStage search attribute.
const (
	// StageCreated is the stage of an application row stored without one.
	StageCreated = "created"
	// StageAwaitingLink: waiting for the applicant to link a bank account.
	StageAwaitingLink = "awaiting_link"
	// StageRefreshing: Stripe is refreshing the linked accounts' transactions and balances.
	StageRefreshing = "refreshing"
	// StageSyncing: transactions and balances are copied from Stripe into Postgres.
	StageSyncing = "syncing"
	// StageSnapshot: the immutable snapshot that will be scored is frozen.
	StageSnapshot = "snapshot"
	// StageScoring: the snapshot is scored (and, from the workflow's one-decision-writer
	// version on, the decision written in the same step).
	StageScoring = "scoring"
	// StageRecording: a decision is written; a scored one by workflows that predate the
	// one-decision-writer version, an unscored one (expired) by every version.
	StageRecording = "recording"
	// StageDecided: the decision is stored. The last stage.
	StageDecided = "decided"
	// StageFailed: the workflow failed without a decision (its cause is stored with the
	// application); the lender may start the application again with the same request.
	StageFailed = "failed"
)

// Stages lists every stage in the order an application passes them, then StageFailed,
// which can follow any stage but decided.
func Stages() []string {
	return []string{StageCreated, StageAwaitingLink, StageRefreshing, StageSyncing, StageSnapshot,
		StageScoring, StageRecording, StageDecided, StageFailed}
}

// ReasonDataUnusable is the reason code of a referral whose linked data could not be
// scored at all (accounts in several currencies, say). Every other reason code names a
// scoring policy rule or scorecard characteristic, which scoring defines.
const ReasonDataUnusable = "DATA_UNUSABLE"
