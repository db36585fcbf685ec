package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Score computes the features of a snapshot, decides with the current scorecard and
// policy, and stores the decision with its full feature vector and points; RecordDecision
// then completes the application. It returns the decision without the feature vector,
// which stays out of workflow history.
//
// Only runs started before the workflow's one-decision-writer version call it: later ones
// call Decide, which scores and writes in one step. It stays registered so those runs
// finish on a new worker.
func (a *Activities) Score(ctx context.Context, in ScoreInput) (ScoreResult, error) {
	res, row, err := a.scoreSnapshot(ctx, in)
	if err != nil {
		return ScoreResult{}, err
	}
	if _, _, err := a.Store.RecordDecision(ctx, row); err != nil {
		return ScoreResult{}, fmt.Errorf("store decision for %s: %w", in.ApplicationID, err)
	}
	return res, nil
}

// scoreSnapshot scores snapshot in.SnapshotID for in.Loan (amount, term and currency: a
// ledger in another currency than the loan's is referred, CURRENCY_MISMATCH) and returns
// the verdict and the decision row to store, with its feature vector and points. It reads only the snapshot,
// never Stripe, so running it again gives the same answer. Data that cannot be scored
// (accounts in several currencies, say) is a referral for a person to make, not an error.
func (a *Activities) scoreSnapshot(ctx context.Context, in ScoreInput) (ScoreResult, store.Decision, error) {
	snap, err := a.Store.GetSnapshot(ctx, in.SnapshotID)
	if err != nil {
		return ScoreResult{}, store.Decision{}, fmt.Errorf("read snapshot %d: %w", in.SnapshotID, err)
	}
	ledger, err := scoring.ParseLedgerFile(snap.Ledger)
	if err != nil {
		return ScoreResult{}, store.Decision{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("parse snapshot %d: %v", in.SnapshotID, err), ErrTypeBadData, err)
	}
	cutoff := snap.AsOf.UTC()
	day := time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day(), 0, 0, 0, 0, time.UTC)
	ref := &SnapshotRef{ID: snap.ID, ContentHash: snap.ContentHash, AsOf: snap.AsOf}
	wf := activity.GetInfo(ctx).WorkflowExecution
	dec, err := scoring.Underwrite(ledger, cutoff, in.Loan, in.Operational)
	if err != nil {
		res := unscoredReferral(day, err)
		row, rerr := a.decisionRow(in.ApplicationID, wf.ID, wf.RunID, res.Decision.Outcome, &res, ref)
		a.log(ctx).Warn("snapshot could not be scored; referred", "application_id", in.ApplicationID,
			"snapshot_id", in.SnapshotID, "err", err.Error())
		return res, row, rerr
	}
	res := ScoreResult{Decision: VerdictOf(dec), Cutoff: day}
	row, err := a.decisionRow(in.ApplicationID, wf.ID, wf.RunID, dec.Outcome, &res, ref)
	if err != nil {
		return ScoreResult{}, store.Decision{}, err
	}
	if row.Features, err = json.Marshal(dec.Features); err != nil {
		return ScoreResult{}, store.Decision{}, fmt.Errorf("encode features: %w", err)
	}
	if row.Points, err = json.Marshal(nonNil(dec.Points)); err != nil {
		return ScoreResult{}, store.Decision{}, fmt.Errorf("encode points: %w", err)
	}
	row.ReasonCodeMapVersion = scoring.DefaultModel().ReasonCodeMapVersion
	a.log(ctx).Info("scored", "application_id", in.ApplicationID, "snapshot_id", in.SnapshotID,
		"outcome", dec.Outcome, "score", dec.Score)
	return res, row, nil
}

// unscoredReferral is the referral of a snapshot scoring refused; its reason is the error.
func unscoredReferral(day time.Time, cause error) ScoreResult {
	return ScoreResult{Cutoff: day, Decision: Verdict{
		Outcome: loan.OutcomeRefer, Unscored: true, Rules: []scoring.RuleResult{},
		Reasons: []scoring.Reason{{Code: loan.ReasonDataUnusable,
			Text: "The linked bank account data could not be scored automatically", Value: cause.Error()}},
		// The versions of the engine that refused it: the default model declares the
		// feature set it scores on, which need not be the package's newest.
		ModelVersion: scoring.DefaultModel().ModelVersion, PolicyVersion: scoring.DefaultPolicy().PolicyVersion,
		FeatureSetVersion: scoring.DefaultModel().FeatureSetVersion,
	}}
}
