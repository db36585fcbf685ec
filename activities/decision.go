package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Decide makes the application's one decision and writes it: the only activity that
// writes a decision for workflows from the one-decision-writer version on. With a
// snapshot it scores it (as Score does) and stores the decision with its feature vector
// and points; without one it stores in.Outcome, an outcome reached without scoring
// (expired). It then marks the application decided.
//
// A second call (an activity retry, a replayed workflow) scores the same snapshot to the
// same decision, finds the first row and writes nothing; its result reports the stored
// outcome and Created false.
func (a *Activities) Decide(ctx context.Context, in DecideInput) (DecideResult, error) {
	wf := activity.GetInfo(ctx).WorkflowExecution
	var res DecideResult
	var row store.Decision
	if in.SnapshotID != 0 {
		scored, r, err := a.scoreSnapshot(ctx, ScoreInput{ApplicationID: in.ApplicationID, SnapshotID: in.SnapshotID,
			Loan: in.Loan, Operational: in.Operational})
		if err != nil {
			return DecideResult{}, err
		}
		res.Score, row = &scored, r
	} else {
		if !loan.Unscored(in.Outcome) {
			return DecideResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"decide %s: outcome %q needs a snapshot to score", in.ApplicationID, in.Outcome), ErrTypeInvalidInput, nil)
		}
		var err error
		if row, err = a.decisionRow(in.ApplicationID, wf.ID, wf.RunID, in.Outcome, nil, nil); err != nil {
			return DecideResult{}, err
		}
	}
	stored, created, err := a.writeDecision(ctx, row)
	if err != nil {
		return DecideResult{}, err
	}
	res.Outcome, res.Created, res.DecidedAt = stored.Outcome, created, stored.DecidedAt
	return res, nil
}

// RecordDecision completes the application's one decision: it writes the decisions that
// were not scored (expired) and finds those Score stored, then marks the application
// decided. A second call (an activity retry, a replayed workflow) finds the first row and
// writes nothing.
//
// Only runs started before the workflow's one-decision-writer version call it; it stays
// registered so those runs finish on a new worker.
func (a *Activities) RecordDecision(ctx context.Context, in RecordInput) (RecordResult, error) {
	row, err := a.decisionRow(in.ApplicationID, in.WorkflowID, in.RunID, in.Outcome, in.Score, in.Snapshot)
	if err != nil {
		return RecordResult{}, err
	}
	stored, created, err := a.writeDecision(ctx, row)
	if err != nil {
		return RecordResult{}, err
	}
	return RecordResult{Created: created, DecidedAt: stored.DecidedAt}, nil
}

// writeDecision stores row unless the application already has a decision (the first write
// stands: store.RecordDecision's conflict rule) and marks the application decided. It
// returns the stored decision and whether this call wrote it.
func (a *Activities) writeDecision(ctx context.Context, row store.Decision) (store.Decision, bool, error) {
	stored, created, err := a.Store.RecordDecision(ctx, row)
	if err != nil {
		return store.Decision{}, false, fmt.Errorf("record decision for %s: %w", row.ApplicationID, err)
	}
	if err := a.Store.SetApplicationStage(ctx, row.ApplicationID, loan.StageDecided); err != nil {
		return store.Decision{}, false, fmt.Errorf("mark %s decided: %w", row.ApplicationID, err)
	}
	a.log(ctx).Info("decision recorded", "application_id", row.ApplicationID, "outcome", stored.Outcome, "created", created)
	return stored, created, nil
}

// decisionRow is the stored form of a decision; scored is nil for outcomes that were not
// scored. Features and points are filled in by scoreSnapshot, which has them.
func (a *Activities) decisionRow(appID, workflowID, runID, outcome string, scored *ScoreResult, snap *SnapshotRef) (store.Decision, error) {
	d := store.Decision{
		ApplicationID: appID, WorkflowID: workflowID, RunID: runID, Outcome: outcome,
		DecidedAt: a.now(), BuildVersion: a.BuildVersion,
		Reasons: json.RawMessage("[]"), Rules: json.RawMessage("[]"), Features: json.RawMessage("{}"), Points: json.RawMessage("[]"),
	}
	if a.DeploymentVersion != "" {
		v := a.DeploymentVersion
		d.DeploymentVersion = &v
	}
	if scored != nil {
		v := scored.Decision
		cutoff := scored.Cutoff
		d.Cutoff = &cutoff
		if !v.Unscored {
			score, pd := v.Score, v.PD
			d.Score, d.PD = &score, &pd
		}
		var err error
		if d.Reasons, err = json.Marshal(nonNil(v.Reasons)); err != nil {
			return d, fmt.Errorf("encode reasons: %w", err)
		}
		if d.Rules, err = json.Marshal(nonNil(v.Rules)); err != nil {
			return d, fmt.Errorf("encode rules: %w", err)
		}
		d.ModelVersion, d.PolicyVersion, d.FeatureSetVersion = v.ModelVersion, v.PolicyVersion, v.FeatureSetVersion
	}
	if snap != nil {
		id, hash, asOf := snap.ID, snap.ContentHash, snap.AsOf
		d.SnapshotID, d.ContentHash, d.AsOf = &id, &hash, &asOf
	}
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
