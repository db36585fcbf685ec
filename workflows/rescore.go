package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
)

// Re-score batches and timeouts. Each says why it has the value it has.
const (
	// DefaultRescoreBatch is how many applications one RescoreBatch activity scores when
	// the input does not say: a snapshot scores in milliseconds, so a batch takes seconds,
	// and a worker restart repeats at most one batch's reads (its writes stay).
	DefaultRescoreBatch = 100
	// MaxRescoreBatchesPerRun bounds the batches of one run before it continues as new
	// with its cursor: each batch's input carries the model and policy files (about 20 KB
	// for scorecard v2), so a run's history stays under a megabyte, far from Temporal's
	// 10 MB warning, however many applications there are.
	MaxRescoreBatchesPerRun = 40
	// rescoreBatchTimeout bounds one batch attempt: seconds of work, with room for a slow
	// database.
	rescoreBatchTimeout = 10 * time.Minute
	// rescoreHeartbeatTimeout detects a batch stuck on one application: one scores in well
	// under a second, and the batch heartbeats after each.
	rescoreHeartbeatTimeout = time.Minute
)

// RescoreInput is what `underwriter rescore` starts a Rescore with: the applications and
// the model and policy files to score them under. The versions are the files' own,
// repeated here for the status query and the UI.
type RescoreInput struct {
	Selection activities.RescoreSelection
	// Model and Policy are the scorecard and policy files' JSON.
	Model, Policy json.RawMessage
	// ModelVersion, PolicyVersion and FeatureSetVersion are the files' versions.
	ModelVersion, PolicyVersion, FeatureSetVersion string
	// BatchSize overrides DefaultRescoreBatch when positive.
	BatchSize int
	// Progress is where a continued run starts; zero for a new re-score.
	Progress RescoreProgress
}

// RescoreProgress is a re-score's progress: carried from one run to the next across
// continue-as-new, answered by the status query and returned as the result.
type RescoreProgress struct {
	// Counted says Total has been counted (once, by the first run).
	Counted bool
	// Total is how many applications the selection held when counted; Done how many have
	// been scored. Done may pass Total if decisions of the period arrive meanwhile.
	Total, Done int
	// Stored counts the re-scores written; Done − Stored were stored before (a re-run).
	Stored int
	// Changed counts the applications whose outcome differs from their decision's.
	Changed int
	// Cursor is the key of the last application scored: the next batch starts after it.
	Cursor string
	// Batches counts the batches of every run so far; Runs the runs (continue-as-new).
	Batches, Runs int
}

// RescoreStatus is the answer of a Rescore run to QueryStatus.
type RescoreStatus struct {
	RescoreProgress
	ModelVersion, PolicyVersion, FeatureSetVersion string
	UpdatedAt                                      time.Time
}

// Rescore scores the stored snapshots of past applications under another model or policy,
// batch after batch, and stores each result beside its decision (activities.RescoreBatch);
// it never calls Stripe. The workflow keeps the cursor: a worker restart repeats at most
// the batch it interrupted, whose stored rows stay. After MaxRescoreBatchesPerRun batches
// it continues as new with its progress, so its history stays small.
func Rescore(ctx workflow.Context, in RescoreInput) (RescoreProgress, error) {
	r := &rescoring{in: in}
	if err := r.setup(ctx); err != nil {
		return RescoreProgress{}, err
	}
	return r.run(ctx)
}

type rescoring struct {
	in     RescoreInput
	status RescoreStatus
}

// setup checks the input and answers the status query. It issues no command.
func (r *rescoring) setup(ctx workflow.Context) error {
	switch {
	case noJSON(r.in.Model):
		return temporal.NewNonRetryableApplicationError("input.Model: empty", ErrTypeInvalidInput, nil)
	case noJSON(r.in.Policy):
		return temporal.NewNonRetryableApplicationError("input.Policy: empty", ErrTypeInvalidInput, nil)
	case r.in.Selection.Lender == "":
		return temporal.NewNonRetryableApplicationError("input.Selection.Lender: empty", ErrTypeInvalidInput, nil)
	case !r.in.Selection.From.Before(r.in.Selection.To):
		return temporal.NewNonRetryableApplicationError("input.Selection: From is not before To", ErrTypeInvalidInput, nil)
	}
	if r.in.BatchSize <= 0 {
		r.in.BatchSize = DefaultRescoreBatch
	}
	r.in.Progress.Runs++
	r.status = RescoreStatus{RescoreProgress: r.in.Progress, ModelVersion: r.in.ModelVersion,
		PolicyVersion: r.in.PolicyVersion, FeatureSetVersion: r.in.FeatureSetVersion, UpdatedAt: workflow.Now(ctx)}
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (RescoreStatus, error) {
		return r.status, nil
	})
}

func (r *rescoring) run(ctx workflow.Context) (RescoreProgress, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    rescoreBatchTimeout,
		ScheduleToCloseTimeout: activityRetryWindow,
		HeartbeatTimeout:       rescoreHeartbeatTimeout,
		RetryPolicy:            retryPolicy(),
	})
	p := &r.in.Progress
	if !p.Counted {
		if err := workflow.ExecuteActivity(actx, acts.CountRescore, r.in.Selection).Get(ctx, &p.Total); err != nil {
			return RescoreProgress{}, fmt.Errorf("count applications: %w", err)
		}
		p.Counted = true
		if err := r.publish(ctx); err != nil {
			return RescoreProgress{}, err
		}
	}
	for batches := 0; ; batches++ {
		if batches == MaxRescoreBatchesPerRun {
			workflow.GetLogger(ctx).Info("re-score continues as new", "done", p.Done, "total", p.Total, "cursor", p.Cursor)
			return RescoreProgress{}, workflow.NewContinueAsNewError(ctx, RescoreWorkflowName, r.in)
		}
		var res activities.RescoreBatchResult
		if err := workflow.ExecuteActivity(actx, acts.RescoreBatch, activities.RescoreBatchInput{
			Selection: r.in.Selection, Model: r.in.Model, Policy: r.in.Policy, After: p.Cursor, Limit: r.in.BatchSize,
		}).Get(ctx, &res); err != nil {
			return RescoreProgress{}, fmt.Errorf("re-score after %q: %w", p.Cursor, err)
		}
		p.Batches++
		p.Done += res.Scored
		p.Stored += res.Stored
		p.Changed += res.Changed
		if res.Last != "" {
			p.Cursor = res.Last
		}
		if err := r.publish(ctx); err != nil {
			return RescoreProgress{}, err
		}
		if !res.More {
			break
		}
	}
	workflow.GetLogger(ctx).Info("re-scored", "done", p.Done, "stored", p.Stored, "changed", p.Changed)
	return *p, nil
}

// publish makes the progress the status query's answer and the run's memo in the UI.
func (r *rescoring) publish(ctx workflow.Context) error {
	r.status.RescoreProgress = r.in.Progress
	r.status.UpdatedAt = workflow.Now(ctx)
	progress := fmt.Sprintf("%d/%d", r.in.Progress.Done, r.in.Progress.Total)
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoRescoreProgress: progress}); err != nil {
		return fmt.Errorf("upsert progress memo: %w", err)
	}
	return nil
}

// noJSON reports an absent document: empty, or the null a nil json.RawMessage becomes on
// its way through the workflow's input.
func noJSON(doc json.RawMessage) bool {
	return len(doc) == 0 || string(doc) == "null"
}
