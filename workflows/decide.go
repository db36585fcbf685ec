package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// decide has the application's one decision made and written, then publishes it. With a
// snapshot the decision is scored from it for the input's loan under op; without one
// (nil), outcome is the unscored outcome to write (expired).
//
// From version 1 of changeOneDecisionWriter one activity, Decide, scores and writes, so
// one activity writes every decision. Runs started before keep their two steps
// (scoreThenRecord), so their histories still replay.
func (u *underwriting) decide(ctx workflow.Context, outcome string, snap *activities.SnapshotRef, op scoring.Operational) (UnderwriteResult, error) {
	if err := u.awaitLoanChange(ctx); err != nil {
		return UnderwriteResult{}, err
	}
	if workflow.GetVersion(ctx, changeOneDecisionWriter, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return u.scoreThenRecord(ctx, outcome, snap, op)
	}
	stage := loan.StageRecording
	in := activities.DecideInput{ApplicationID: u.in.ApplicationID, Outcome: outcome}
	if snap != nil {
		stage = loan.StageScoring
		in.SnapshotID, in.Loan, in.Operational = snap.ID, u.loan(), op
	}
	if err := u.setStage(ctx, stage); err != nil {
		return UnderwriteResult{}, err
	}
	var res activities.DecideResult
	if err := workflow.ExecuteActivity(summarized(dbOptions(ctx), "score the snapshot and record the one decision"), acts.Decide, in).Get(ctx, &res); err != nil {
		return UnderwriteResult{}, fmt.Errorf("record decision: %w", err)
	}
	return u.publish(ctx, res.Outcome, res.Score, snap)
}

// scoreThenRecord is decide before changeOneDecisionWriter: Score wrote a scored decision,
// then RecordDecision wrote an unscored one (or found the scored one) and marked the
// application decided.
func (u *underwriting) scoreThenRecord(ctx workflow.Context, outcome string, snap *activities.SnapshotRef, op scoring.Operational) (UnderwriteResult, error) {
	var scored *activities.ScoreResult
	if snap != nil {
		if err := u.setStage(ctx, loan.StageScoring); err != nil {
			return UnderwriteResult{}, err
		}
		var res activities.ScoreResult
		if err := workflow.ExecuteActivity(dbOptions(ctx), acts.Score, activities.ScoreInput{
			ApplicationID: u.in.ApplicationID, SnapshotID: snap.ID, Loan: u.loan(), Operational: op,
		}).Get(ctx, &res); err != nil {
			return UnderwriteResult{}, fmt.Errorf("score snapshot %d: %w", snap.ID, err)
		}
		scored, outcome = &res, res.Decision.Outcome
	}
	if err := u.setStage(ctx, loan.StageRecording); err != nil {
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
	return u.publish(ctx, outcome, scored, snap)
}

// publish makes a written decision the workflow's result, status and search attributes.
// scored and snap are nil for an unscored outcome.
func (u *underwriting) publish(ctx workflow.Context, outcome string, scored *activities.ScoreResult, snap *activities.SnapshotRef) (UnderwriteResult, error) {
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
	if err := u.setStage(ctx, loan.StageDecided); err != nil {
		return UnderwriteResult{}, err
	}
	workflow.GetLogger(ctx).Info("decided", "application_id", u.in.ApplicationID, "outcome", outcome, "score", res.Score)
	// Webhooks for a second linked account or a repeated delivery may still sit in the
	// channels; the decision no longer depends on them.
	drain(u.linked)
	drain(u.refreshed)
	drain(u.statusCh)
	detail(ctx, "%s", decidedDetails(res))
	return res, nil
}

// loan is the loan applied for, as scoring reads it; its currency is compared with the
// ledger's (CURRENCY_MISMATCH). Only an activity's input changes, not a command.
func (u *underwriting) loan() scoring.Loan {
	return scoring.Loan{AmountMinor: u.in.LoanAmountMinor, TermMonths: u.in.TermMonths, Currency: u.in.Currency}
}
