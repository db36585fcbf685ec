package workflows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
)

// fakeRescoreDB is the applications of a re-score as RescoreBatch sees them: keys in
// order, and how often each was scored.
type fakeRescoreDB struct {
	keys   []string
	scored map[string]int
	afters []string
	// failOnce makes the batch after this cursor fail once after scoring its first
	// application, as a worker that stops mid-batch does.
	failOnce string
}

func newFakeRescoreDB(n int) *fakeRescoreDB {
	db := &fakeRescoreDB{scored: map[string]int{}}
	for i := range n {
		db.keys = append(db.keys, fmt.Sprintf("acme/app-%03d", i))
	}
	return db
}

func (db *fakeRescoreDB) batch(_ context.Context, in activities.RescoreBatchInput) (activities.RescoreBatchResult, error) {
	db.afters = append(db.afters, in.After)
	i := sort.SearchStrings(db.keys, in.After)
	if i < len(db.keys) && db.keys[i] == in.After {
		i++
	}
	var res activities.RescoreBatchResult
	for ; i < len(db.keys) && res.Scored < in.Limit; i++ {
		db.scored[db.keys[i]]++
		res.Scored++
		if db.scored[db.keys[i]] == 1 {
			res.Stored++
		}
		res.Last = db.keys[i]
		if in.After == db.failOnce && db.failOnce != "" {
			db.failOnce = ""
			return activities.RescoreBatchResult{}, errors.New("worker stopped")
		}
	}
	res.More = res.Scored == in.Limit
	return res, nil
}

var rescoreInput = RescoreInput{
	Selection: activities.RescoreSelection{Lender: "acme", From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	Model: []byte(`{"model_version":"v1"}`), Policy: []byte(`{"policy_version":"v1"}`),
	ModelVersion: "v1", PolicyVersion: "v1", FeatureSetVersion: "fs-v2/cat-v1",
}

// runRescore runs one Rescore run on a fresh environment and returns its environment.
func runRescore(t *testing.T, db *fakeRescoreDB, in RescoreInput) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Rescore, workflow.RegisterOptions{Name: RescoreWorkflowName})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(acts.CountRescore, mock.Anything, mock.Anything).Return(len(db.keys), nil)
	env.OnActivity(acts.RescoreBatch, mock.Anything, mock.Anything).Return(db.batch)
	env.ExecuteWorkflow(RescoreWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	return env
}

// TestRescoreContinuesAsNewFromItsCursor: a re-score longer than MaxRescoreBatchesPerRun
// batches continues as new with its progress, and the next run starts after the cursor:
// every application is scored exactly once, in order, across three runs, and the result
// counts them all. A batch that fails midway (a worker stopped) is retried from the same
// cursor; the row the failed attempt stored is found there by the retry, so Stored counts
// it as stored before (n − 1) while Done counts every application once.
func TestRescoreContinuesAsNewFromItsCursor(t *testing.T) {
	batch := 2
	n := 2*MaxRescoreBatchesPerRun*batch + 3 // two full runs and a short third
	db := newFakeRescoreDB(n)
	db.failOnce = db.keys[batch*5-1] // the sixth batch of the first run
	in := rescoreInput
	in.BatchSize = batch
	var runs int
	for {
		runs++
		require.LessOrEqual(t, runs, 3)
		env := runRescore(t, db, in)
		err := env.GetWorkflowError()
		var cae *workflow.ContinueAsNewError
		if !errors.As(err, &cae) {
			require.NoError(t, err)
			var res RescoreProgress
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, RescoreProgress{Counted: true, Total: n, Done: n, Stored: n - 1, Cursor: db.keys[n-1],
				Batches: 2*MaxRescoreBatchesPerRun + 2, Runs: 3}, res)
			q, err := env.QueryWorkflow(QueryStatus)
			require.NoError(t, err)
			var st RescoreStatus
			require.NoError(t, q.Get(&st))
			require.Equal(t, res, st.RescoreProgress)
			require.Equal(t, "v1", st.ModelVersion)
			break
		}
		require.Equal(t, RescoreWorkflowName, cae.WorkflowType.Name)
		var next RescoreInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(cae.Input, &next))
		require.Equal(t, runs, next.Progress.Runs)
		require.Equal(t, runs*MaxRescoreBatchesPerRun*batch, next.Progress.Done)
		require.Equal(t, db.keys[next.Progress.Done-1], next.Progress.Cursor, "the cursor is the last key scored")
		require.Equal(t, n, next.Progress.Total, "counted once, carried on")
		in = next
	}
	require.Equal(t, 3, runs)
	for _, k := range db.keys {
		want := 1
		if k == db.keys[batch*5] {
			want = 2 // scored by the failed attempt, then by its retry
		}
		require.Equal(t, want, db.scored[k], k)
	}
	require.Equal(t, "", db.afters[0])
	require.Equal(t, db.afters[5], db.afters[6], "the failed batch is retried from the same cursor")
}

// TestRescoreRefusesBadInput: an input no activity can use fails at once, naming the field.
func TestRescoreRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*RescoreInput)
		want   string
	}{
		"no model":     {func(in *RescoreInput) { in.Model = nil }, "input.Model: empty"},
		"no policy":    {func(in *RescoreInput) { in.Policy = nil }, "input.Policy: empty"},
		"no lender":    {func(in *RescoreInput) { in.Selection.Lender = "" }, "input.Selection.Lender: empty"},
		"empty period": {func(in *RescoreInput) { in.Selection.To = in.Selection.From }, "input.Selection: From is not before To"},
	} {
		t.Run(name, func(t *testing.T) {
			in := rescoreInput
			tc.change(&in)
			env := runRescore(t, newFakeRescoreDB(1), in)
			err := env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, ErrTypeInvalidInput, appErr.Type())
			require.Equal(t, tc.want, appErr.Message())
		})
	}
}
