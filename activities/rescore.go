package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// RescoreSelection selects the past applications a re-score reads: the lender's decided
// applications with a snapshot, decided in [From, To).
//
// SelectionID, when set, narrows it to the applications `rescore --query` stored under
// that id (store.SaveRescoreSelection).
type RescoreSelection struct {
	Lender      string
	From, To    time.Time
	SelectionID string
}

func (s RescoreSelection) store() store.RescoreSelection {
	return store.RescoreSelection{Lender: s.Lender, From: s.From, To: s.To, SelectionID: s.SelectionID}
}

// RescoreBatchInput asks for the next batch of a re-score: at most Limit applications of
// Selection whose key sorts after After, scored under the model and policy files given
// (their JSON, as `underwriter score --model/--policy` reads them).
type RescoreBatchInput struct {
	Selection RescoreSelection
	Model     json.RawMessage
	Policy    json.RawMessage
	// After is the cursor: the key of the last application a batch scored ("" at first).
	After string
	Limit int
}

// RescoreBatchResult is what a batch did. Last is the new cursor ("" when the batch found
// nothing); More says whether the batch was full, so more applications may follow.
type RescoreBatchResult struct {
	Last string
	More bool
	// Scored counts the applications the batch scored; Stored those it wrote (the others
	// had a re-score under the same versions already); Changed those whose outcome differs
	// from their original decision's.
	Scored, Stored, Changed int
}

// CountRescore returns how many applications a re-score of sel reads, for its progress.
func (a *Activities) CountRescore(ctx context.Context, sel RescoreSelection) (int, error) {
	return a.Store.CountRescoreCandidates(ctx, sel.store())
}

// RescoreBatch scores the stored snapshots of the next batch of a re-score under the
// input's model and policy and stores each result beside the original decision
// (store.InsertRescore: a re-score already stored under the same versions stays). It
// reads Postgres only, never Stripe. It heartbeats its progress after each application,
// and a retried attempt resumes after the last one heartbeated; since stored rows stay,
// even a retry from the start would change nothing.
func (a *Activities) RescoreBatch(ctx context.Context, in RescoreBatchInput) (RescoreBatchResult, error) {
	eng, err := RescoreEngine(in.Model, in.Policy)
	if err != nil {
		return RescoreBatchResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	if in.Limit < 1 {
		return RescoreBatchResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("rescore batch: limit %d is below 1", in.Limit), ErrTypeInvalidInput, nil)
	}
	var res RescoreBatchResult
	after := in.After
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err == nil && res.Last != "" {
			after = res.Last
		}
	}
	todo, err := a.Store.RescoreCandidates(ctx, in.Selection.store(), after, in.Limit-res.Scored)
	if err != nil {
		return RescoreBatchResult{}, err
	}
	var workflowID string
	if activity.IsActivity(ctx) {
		workflowID = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	for _, c := range todo {
		row, original, err := a.rescoreOne(ctx, eng, c)
		if err != nil {
			return RescoreBatchResult{}, err
		}
		row.WorkflowID, row.BuildVersion, row.RescoredAt = workflowID, a.BuildVersion, a.now()
		stored, err := a.Store.InsertRescore(ctx, row)
		if err != nil {
			return RescoreBatchResult{}, err
		}
		res.Last = c.ApplicationID
		res.Scored++
		if stored {
			res.Stored++
		}
		if row.Outcome != original {
			res.Changed++
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, res)
		}
	}
	res.More = res.Scored == in.Limit
	a.log(ctx).Info("re-scored a batch", "after", in.After, "last", res.Last, "scored", res.Scored,
		"stored", res.Stored, "model_version", eng.Model.ModelVersion, "policy_version", eng.Policy.PolicyVersion)
	return res, nil
}

// RescoreEngine builds the engine of a re-score from the model and policy files' JSON.
func RescoreEngine(model, policy []byte) (*scoring.Engine, error) {
	m, err := scoring.LoadModel(model)
	if err != nil {
		return nil, fmt.Errorf("rescore model: %w", err)
	}
	p, err := scoring.LoadPolicy(policy)
	if err != nil {
		return nil, fmt.Errorf("rescore policy: %w", err)
	}
	eng, err := scoring.NewEngine(m, p)
	if err != nil {
		return nil, fmt.Errorf("rescore: %w", err)
	}
	return eng, nil
}

// rescoreOne scores one candidate's snapshot with eng exactly as the decision scored it
// (scoreSnapshot): the snapshot's ledger as of its as_of, the application's loan, and the
// operational facts of the original decision. It returns the row to store and the
// original decision's outcome.
func (a *Activities) rescoreOne(ctx context.Context, eng *scoring.Engine, c store.RescoreCandidate) (store.Rescore, string, error) {
	snap, err := a.Store.GetSnapshot(ctx, c.SnapshotID)
	if err != nil {
		return store.Rescore{}, "", fmt.Errorf("rescore %s: read snapshot %d: %w", c.ApplicationID, c.SnapshotID, err)
	}
	op, err := OperationalOf(c.Rules)
	if err != nil {
		return store.Rescore{}, "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("rescore %s: decision rules: %v", c.ApplicationID, err), ErrTypeBadData, err)
	}
	cutoff := snap.AsOf.UTC()
	row := store.Rescore{
		ApplicationID: c.ApplicationID, SnapshotID: snap.ID,
		ModelVersion: eng.Model.ModelVersion, PolicyVersion: eng.Policy.PolicyVersion,
		Cutoff: time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day(), 0, 0, 0, 0, time.UTC),
	}
	l, err := scoring.ParseLedgerFile(snap.Ledger)
	if err != nil {
		return store.Rescore{}, "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("rescore %s: parse snapshot %d: %v", c.ApplicationID, c.SnapshotID, err), ErrTypeBadData, err)
	}
	lo := scoring.Loan{AmountMinor: c.LoanAmountMinor, TermMonths: c.TermMonths, Currency: c.Currency}
	dec, err := eng.Underwrite(l, cutoff, lo, op)
	if err != nil {
		// As in scoreSnapshot: data that cannot be scored is a referral with the error
		// as its reason, under the engine's versions.
		ref := unscoredReferral(row.Cutoff, err).Decision
		row.Outcome, row.FeatureSetVersion = ref.Outcome, eng.Model.FeatureSetVersion
		row.Features, row.Points, row.Rules = json.RawMessage("{}"), json.RawMessage("[]"), json.RawMessage("[]")
		if row.Reasons, err = json.Marshal(ref.Reasons); err != nil {
			return store.Rescore{}, "", fmt.Errorf("encode reasons: %w", err)
		}
		return row, c.Outcome, nil
	}
	score, pd := dec.Score, dec.PD
	row.Outcome, row.Score, row.PD, row.FeatureSetVersion = dec.Outcome, &score, &pd, dec.FeatureSetVersion
	row.ReasonCodeMapVersion = eng.Model.ReasonCodeMapVersion
	for _, enc := range []struct {
		dst *json.RawMessage
		v   any
	}{{&row.Features, dec.Features}, {&row.Points, nonNil(dec.Points)}, {&row.Reasons, nonNil(dec.Reasons)},
		{&row.Rules, nonNil(dec.Rules)}} {
		if *enc.dst, err = json.Marshal(enc.v); err != nil {
			return store.Rescore{}, "", fmt.Errorf("rescore %s: encode: %w", c.ApplicationID, err)
		}
	}
	return row, c.Outcome, nil
}

// OperationalOf recovers the operational facts a decision was made under from its rule
// results, since the workflow passed them to the activity and nothing else stores them:
// STALE_DATA's actual value says whether the refresh failed, ACCOUNT_NOT_ACTIVE's is the
// number of accounts not active (the larger of the workflow's count and the features',
// so passing it back gives the same result). A decision without those rules (unscored,
// or under a policy without them) gives no facts.
func OperationalOf(rules json.RawMessage) (scoring.Operational, error) {
	var op scoring.Operational
	if len(rules) == 0 {
		return op, nil
	}
	var rs []scoring.RuleResult
	if err := json.Unmarshal(rules, &rs); err != nil {
		return op, err
	}
	for _, r := range rs {
		switch r.Rule {
		case scoring.RuleStaleData:
			failed, _, ok := strings.Cut(r.Actual, ",")
			if !ok || !strings.HasPrefix(failed, "refresh_failed=") {
				return op, fmt.Errorf("%s: actual %q has no refresh_failed", r.Rule, r.Actual)
			}
			b, err := strconv.ParseBool(strings.TrimPrefix(failed, "refresh_failed="))
			if err != nil {
				return op, fmt.Errorf("%s: actual %q: %w", r.Rule, r.Actual, err)
			}
			op.RefreshFailed = b
		case scoring.RuleAccountNotActive:
			n, err := strconv.Atoi(r.Actual)
			if err != nil {
				return op, errors.Join(fmt.Errorf("%s: actual %q is not a count", r.Rule, r.Actual), err)
			}
			op.InactiveAccounts = n
		}
	}
	return op, nil
}
