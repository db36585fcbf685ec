package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// signalProceed lets a version-1 test run go on to its decision.
const signalProceed = "proceed"

// underwriteV1 stands in for version 1 of Underwrite: it waits for signalProceed, then
// records an expired decision through the real Decide activity.
func underwriteV1(ctx workflow.Context, in workflows.UnderwriteInput) (string, error) {
	workflow.GetSignalChannel(ctx, signalProceed).Receive(ctx, nil)
	return decideExpired(ctx, in, "v1")
}

// underwriteV2 is version 2, incompatible with version 1 and without a GetVersion
// branch: it starts a timer where version 1 waited for a signal, so a version-1 history
// replayed on it fails as non-deterministic.
func underwriteV2(ctx workflow.Context, in workflows.UnderwriteInput) (string, error) {
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	return decideExpired(ctx, in, "v2")
}

func decideExpired(ctx workflow.Context, in workflows.UnderwriteInput, code string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var a *activities.Activities
	var res activities.DecideResult
	if err := workflow.ExecuteActivity(ctx, a.Decide, activities.DecideInput{ApplicationID: in.ApplicationID, Outcome: loan.OutcomeExpired}).Get(ctx, &res); err != nil {
		return "", err
	}
	return code + ":" + res.Outcome, nil
}

// TestDeployNewVersion is issue 11's two-version deploy: runs started on version 1 stay
// pinned to it after version 2, whose workflow code is incompatible, becomes current
// with `underwriter deploy set-current`; they finish on version 1 and their decision rows
// name it, while a new run starts and finishes on version 2. `deploy status` shows which
// version still has running workflows. A real Temporal server, a real Postgres, the real
// Decide activity and the production worker options; only the workflow code is the
// test's.
func TestDeployNewVersion(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts, err := temporalembed.Start(ctx, temporalembed.Config{UIPort: temporalembed.NoUI, SearchAttributes: workflows.SearchAttributeTypes()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Stop() })
	st := store.New(pgtest.Pool(t))
	logger := slog.New(slog.DiscardHandler)
	c, err := wiring.DialTemporal(ctx, wiring.TemporalConfig{Address: ts.FrontendAddress(), Namespace: ts.Namespace()}, logger)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	env := getenvOf(map[string]string{"TEMPORAL_ADDRESS": ts.FrontendAddress(), "TEMPORAL_NAMESPACE": ts.Namespace()})
	deploy := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(ctx, append([]string{"underwriter", "deploy"}, args...), env, &out, io.Discard))
		return out.String()
	}

	v1 := wiring.Deployment{Name: wiring.DefaultDeploymentName, BuildID: "build-1"}
	v2 := wiring.Deployment{Name: wiring.DefaultDeploymentName, BuildID: "build-2"}
	startWorker := func(d wiring.Deployment, underwrite any) {
		w := wiring.NewBareWorker(c, wiring.WorkerOptions{Deployment: d})
		w.RegisterWorkflowWithOptions(underwrite, wiring.WorkflowRegisterOptions(workflows.UnderwriteWorkflowName))
		w.RegisterActivity(&activities.Activities{Store: st, Logger: logger, BuildVersion: d.BuildID, DeploymentVersion: d.String()})
		require.NoError(t, w.Start())
		t.Cleanup(w.Stop)
	}
	startRun := func(id string) tclient.WorkflowRun {
		_, _, err := st.CreateApplication(ctx, store.Application{ID: id, RequestHash: "h", LoanAmountMinor: 300000,
			TermMonths: 12, Currency: "usd", WorkflowID: workflows.WorkflowID(id)})
		require.NoError(t, err)
		r, err := c.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: workflows.TaskQueue},
			workflows.UnderwriteWorkflowName, workflows.UnderwriteInput{ApplicationID: id})
		require.NoError(t, err)
		return r
	}
	// pinnedTo reports the build a run is pinned to, once its first workflow task has
	// completed on a versioned worker ("" before).
	pinnedTo := func(r tclient.WorkflowRun) string {
		d, err := c.DescribeWorkflowExecution(ctx, r.GetID(), r.GetRunID())
		require.NoError(t, err)
		vi := d.GetWorkflowExecutionInfo().GetVersioningInfo()
		if vi.GetBehavior() != enumspb.VERSIONING_BEHAVIOR_PINNED {
			return ""
		}
		return vi.GetDeploymentVersion().GetBuildId()
	}
	registered := func(d wiring.Deployment) bool {
		ready, err := wiring.VersionReady(ctx, c, d)
		require.NoError(t, err)
		return ready
	}

	// Before any worker polled, the server knows no deployment.
	var out bytes.Buffer
	err = run(ctx, []string{"underwriter", "deploy", "status"}, env, &out, io.Discard)
	require.ErrorContains(t, err, "no worker of deployment underwriter has polled this Temporal namespace yet")
	require.Empty(t, out.String())

	// Version 1 is the first deploy: its worker makes it current, as `underwriter worker` does.
	startWorker(v1, underwriteV1)
	set, err := wiring.SetCurrentVersion(ctx, c, v1, true)
	require.NoError(t, err)
	require.True(t, set, "the deployment had no current version")
	set, err = wiring.SetCurrentVersion(ctx, c, v1, true)
	require.NoError(t, err)
	require.False(t, set, "a second worker of version 1 finds it current")
	old := []tclient.WorkflowRun{startRun("old-1"), startRun("old-2")}
	for _, r := range old {
		require.Eventually(t, func() bool { return pinnedTo(r) == v1.BuildID }, time.Minute, 20*time.Millisecond,
			"%s pinned to version 1 by its first workflow task", r.GetID())
	}

	// Version 2's worker starts; it does not replace the current version by itself.
	startWorker(v2, underwriteV2)
	require.Eventually(t, func() bool { return registered(v2) }, time.Minute, 20*time.Millisecond, "version 2 registered by its worker's polls for workflow and activity tasks")
	set, err = wiring.SetCurrentVersion(ctx, c, v2, true)
	require.NoError(t, err)
	require.False(t, set, "a new version's worker leaves the current version alone")
	require.Equal(t, "deployment underwriter: current version underwriter:build-2 (was underwriter:build-1)\n"+
		"runs started on underwriter:build-1 stay on it: keep its workers until `underwriter deploy status` shows it drained with no running workflows\n",
		deploy("set-current", "--build-id", "build-2"))

	// A new run starts and finishes on version 2: it needs no signal.
	fresh := startRun("new-1")
	var got string
	require.NoError(t, fresh.Get(ctx, &got))
	require.Equal(t, "v2:expired", got)
	require.Equal(t, v2.BuildID, pinnedTo(fresh))

	// deploy status: version 2 current, version 1 with its two running workflows, both
	// needing their workers. Visibility lags the runs by moments.
	var status string
	old1Line := regexp.MustCompile(`(?m)^build-1\s+(draining|inactive)\s+\S+\s+2\s+yes$`)
	require.Eventually(t, func() bool { status = deploy("status"); return old1Line.MatchString(status) }, time.Minute, 100*time.Millisecond,
		"deploy status counts version 1's running workflows")
	t.Logf("deploy status:\n%s", status)
	require.Regexp(t, `^deployment underwriter: current version build-2\nBUILD ID\s+STATUS\s+CREATED\s+RUNNING WORKFLOWS\s+WORKERS NEEDED\n`, status)
	require.Regexp(t, `(?m)^build-2\s+current\s+\d{4}-\d\d-\d\dT\S+Z\s+0\s+yes$`, status)
	require.Less(t, regexp.MustCompile(`(?m)^build-2`).FindStringIndex(status)[0], old1Line.FindStringIndex(status)[0], "newest first")

	// Without pinning, version 1's runs would now continue on version 2's code and fail:
	// their history does not replay on it.
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(underwriteV2, workflow.RegisterOptions{Name: workflows.UnderwriteWorkflowName})
	require.NoError(t, c.SignalWorkflow(ctx, old[0].GetID(), old[0].GetRunID(), signalProceed, nil))
	require.NoError(t, old[0].Get(ctx, &got))
	require.Equal(t, "v1:expired", got, "an old run finishes on version 1's code")
	err = replayer.ReplayWorkflowHistory(tlog.NewStructuredLogger(logger), history(ctx, t, c, old[0]))
	require.ErrorContains(t, err, "TMPRL1100", "version 2 is incompatible with version 1's histories")

	require.NoError(t, c.SignalWorkflow(ctx, old[1].GetID(), old[1].GetRunID(), signalProceed, nil))
	require.NoError(t, old[1].Get(ctx, &got))
	require.Equal(t, "v1:expired", got)
	for _, r := range old {
		require.Equal(t, v1.BuildID, pinnedTo(r), "%s finished pinned to version 1", r.GetID())
	}

	// Each decision row names the version that made it.
	for id, want := range map[string]string{"old-1": "underwriter:build-1", "old-2": "underwriter:build-1", "new-1": "underwriter:build-2"} {
		d, err := st.GetDecision(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, d.DeploymentVersion, id)
		require.Equal(t, want, *d.DeploymentVersion, id)
	}

	// With its runs finished, version 1 no longer needs workers.
	old1Done := regexp.MustCompile(`(?m)^build-1\s+(draining|drained|inactive)\s+\S+\s+0\s+no$`)
	require.Eventually(t, func() bool { status = deploy("status"); return old1Done.MatchString(status) }, time.Minute, 100*time.Millisecond,
		"deploy status sees version 1 without running workflows")
}

// history reads r's whole history from the server.
func history(ctx context.Context, t *testing.T, c tclient.Client, r tclient.WorkflowRun) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, r.GetID(), r.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	return h
}
