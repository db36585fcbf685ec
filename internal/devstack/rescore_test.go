package devstack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// TestRescoreOnTheServer: a Rescore started with the Go client on the real server and
// worker scores every sample persona's stored snapshot under the decisions' own versions,
// one application per batch; its status query and its RescoreProgress memo (what the Web
// UI shows) say done/total with every application done, and every re-score equals its decision. (`underwriter rescore` and
// its report are covered by cmd/underwriter's TestRescoreCommand.)
func TestRescoreOnTheServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 20 * time.Millisecond})
	results := stack.UnderwriteSamples(ctx, "rescore", 2*time.Minute)
	for _, r := range results {
		require.NoError(t, r.Err, r.Persona)
	}

	now := time.Now().UTC()
	in := workflows.RescoreInput{
		Selection: activities.RescoreSelection{Lender: loan.DevLender, From: now.Add(-time.Hour), To: now.Add(time.Hour)},
		Model:     scoring.DefaultModelFile(), Policy: scoring.DefaultPolicyFile(), BatchSize: 1,
		ModelVersion: scoring.DefaultModelVersion, PolicyVersion: scoring.DefaultPolicyVersion,
		FeatureSetVersion: scoring.DefaultModel().FeatureSetVersion,
	}
	run, err := stack.Temporal.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{ID: "rescore/test", TaskQueue: workflows.TaskQueue},
		workflows.RescoreWorkflowName, in)
	require.NoError(t, err)
	var res workflows.RescoreProgress
	require.NoError(t, run.Get(ctx, &res))
	n := len(results)
	require.Equal(t, workflows.RescoreProgress{Counted: true, Total: n, Done: n, Stored: n, Cursor: res.Cursor,
		Batches: n + 1, Runs: 1}, res, "one application per batch, and a last empty one")

	v, err := stack.Temporal.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.RescoreStatus
	require.NoError(t, v.Get(&st))
	require.Equal(t, res, st.RescoreProgress)
	desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	var progress string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(
		desc.WorkflowExecutionInfo.Memo.Fields[workflows.MemoRescoreProgress], &progress))
	require.Equal(t, fmt.Sprintf("%d/%d", n, n), progress)

	for _, r := range results {
		d, err := stack.Store.GetDecision(ctx, DevKey(r.ApplicationID))
		require.NoError(t, err)
		re, err := stack.Store.GetRescore(ctx, d.ApplicationID, d.FeatureSetVersion, d.ModelVersion, d.PolicyVersion)
		require.NoError(t, err, r.Persona)
		require.Equal(t, d.Outcome, re.Outcome, r.Persona)
		require.Equal(t, d.Score, re.Score, r.Persona)
		require.JSONEq(t, string(d.Features), string(re.Features), r.Persona)
		require.JSONEq(t, string(d.Reasons), string(re.Reasons), r.Persona)
		require.Equal(t, "rescore/test", re.WorkflowID)
	}
}
