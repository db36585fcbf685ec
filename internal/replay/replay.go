// Package replay replays recorded Underwrite histories against the current workflow code,
// from files (as the Temporal Web UI's "Download" and `temporal workflow show --output
// json` export them) or from a server, and compares what each replay computed with the
// run's recorded result and with its decision row in Postgres. `underwriter replay` uses
// it.
//
// A replay takes every activity result from the history, so it checks the workflow code:
// a change to its command sequence that is not behind workflow.GetVersion fails with a
// nondeterminism error naming the event. A change to the scoring code is checked by
// re-scoring, not here.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Run is one replayed run and what was found about it.
type Run struct {
	// Source is the file or "server" the history came from.
	Source     string `json:"source"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Status is how the run ended (completed, failed, …), or running.
	Status string `json:"status"`
	// Err is the replay's failure, such as a nondeterminism error naming the event at
	// which the code and the history diverged; empty when the replay succeeded.
	Err string `json:"error,omitempty"`
	// Result is what the replay computed for a completed run.
	Result *workflows.UnderwriteResult `json:"result,omitempty"`
	// Mismatch says how the replayed result differs from the result the history recorded
	// or from the decision row in Postgres; empty when they agree or there is nothing to
	// compare.
	Mismatch string `json:"mismatch,omitempty"`
	// Decision reports the comparison with Postgres: "equal", "differs", "no row", or ""
	// when no database was given or the run has no result.
	Decision string `json:"decision,omitempty"`
}

// OK reports whether the run replayed and matched everything it was compared with.
func (r Run) OK() bool { return r.Err == "" && r.Mismatch == "" }

// ReadFile reads a history exported as JSON.
func ReadFile(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := tclient.HistoryFromJSON(f, tclient.HistoryJSONOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: not a Temporal history exported as JSON: %w", path, err)
	}
	return h, nil
}

// Fetch reads the history of a run from the server ("" runID: the latest run).
func Fetch(ctx context.Context, c tclient.Client, workflowID, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

// Query calls fn with the workflow id and run id of every Underwrite run the visibility
// query matches, page by page.
func Query(ctx context.Context, c tclient.Client, query string, fn func(workflowID, runID string) error) error {
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list workflows %q: %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if e.GetType().GetName() != workflows.UnderwriteWorkflowName {
				continue
			}
			if err := fn(e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}

// History replays h against the current Underwrite code. workflowID and runID label the
// run (taken from the history's start event when empty). logger receives the replay's
// own logs (nil: discarded).
func History(h *historypb.History, source, workflowID, runID string, logger *slog.Logger) Run {
	return replayWith(workflows.Underwrite, h, source, workflowID, runID, logger, nil)
}

// HistoryWithConverter is History for histories whose payloads need dc to read, such as
// encrypted ones (internal/codec); plain payloads pass through the codec's converter, so
// histories recorded before encryption still replay. Nil dc is History.
func HistoryWithConverter(h *historypb.History, source, workflowID, runID string, logger *slog.Logger, dc converter.DataConverter) Run {
	return replayWith(workflows.Underwrite, h, source, workflowID, runID, logger, dc)
}

// replayWith is History with code standing in for Underwrite, for the tests of the
// versioning procedure.
func replayWith(code any, h *historypb.History, source, workflowID, runID string, logger *slog.Logger, dc converter.DataConverter) Run {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	r := Run{Source: source, WorkflowID: workflowID, RunID: runID, Status: status(h)}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if start := h.GetEvents(); len(start) > 0 {
		attrs := start[0].GetWorkflowExecutionStartedEventAttributes()
		if r.WorkflowID == "" {
			r.WorkflowID = attrs.GetWorkflowId()
		}
		if r.RunID == "" {
			r.RunID = attrs.GetOriginalExecutionRunId()
		}
	}
	if r.WorkflowID == "" {
		r.WorkflowID = "replay" // a history exported before the start event named its workflow
	}
	rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		r.Err = "replayer: " + err.Error()
		return r
	}
	rp.RegisterWorkflowWithOptions(code, workflow.RegisterOptions{Name: workflows.UnderwriteWorkflowName})
	err = rp.ReplayWorkflowHistoryWithOptions(tlog.NewStructuredLogger(logger), h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: r.WorkflowID, RunID: r.RunID},
	})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if r.Status != "completed" {
		return r
	}
	// The SDK's replayer keeps the result of the completion command it replayed; its
	// interface does not name the method, its implementation has it.
	results, ok := rp.(interface {
		GetWorkflowResult(workflowID string, valuePtr any) error
	})
	if !ok {
		r.Err = "this Temporal SDK's replayer does not return replayed results"
		return r
	}
	var res workflows.UnderwriteResult
	if err := results.GetWorkflowResult(r.WorkflowID, &res); err != nil {
		r.Err = "read the replayed result: " + err.Error()
		return r
	}
	r.Result = &res
	if recorded, ok := recordedResult(h, dc); ok {
		if diff := compareResults(res, recorded); diff != "" {
			r.Mismatch = "the replayed result differs from the recorded one: " + diff
		}
	}
	return r
}

// status names how the history's run ended.
func status(h *historypb.History) string {
	if len(h.GetEvents()) == 0 {
		return "empty"
	}
	switch h.Events[len(h.Events)-1].GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		return "completed"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		return "failed"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		return "terminated"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		return "timed out"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		return "canceled"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return "continued as new"
	}
	return "running"
}

// recordedResult is the result the history's completion event holds.
func recordedResult(h *historypb.History, dc converter.DataConverter) (workflows.UnderwriteResult, bool) {
	var res workflows.UnderwriteResult
	last := h.Events[len(h.Events)-1].GetWorkflowExecutionCompletedEventAttributes()
	if last == nil || dc.FromPayloads(last.GetResult(), &res) != nil {
		return res, false
	}
	return res, true
}

// compareResults names the first fields in which a and b differ ("" when none).
func compareResults(a, b workflows.UnderwriteResult) string {
	var diffs []string
	if a.ApplicationID != b.ApplicationID {
		diffs = append(diffs, fmt.Sprintf("application %q ≠ %q", a.ApplicationID, b.ApplicationID))
	}
	if a.Outcome != b.Outcome {
		diffs = append(diffs, fmt.Sprintf("outcome %s ≠ %s", a.Outcome, b.Outcome))
	}
	if a.Score != b.Score {
		diffs = append(diffs, fmt.Sprintf("score %d ≠ %d", a.Score, b.Score))
	}
	if ra, rb := codes(a), codes(b); !slices.Equal(ra, rb) {
		diffs = append(diffs, fmt.Sprintf("reasons %v ≠ %v", ra, rb))
	}
	if a.ContentHash != b.ContentHash {
		diffs = append(diffs, fmt.Sprintf("snapshot %s ≠ %s", a.ContentHash, b.ContentHash))
	}
	return joinDiffs(diffs)
}

func codes(r workflows.UnderwriteResult) []string {
	out := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		out[i] = x.Code
	}
	return out
}

func joinDiffs(d []string) string { return strings.Join(d, "; ") }

// CompareDecision compares r's replayed result with the application's decision row:
// outcome, score, reason codes and snapshot hash. It sets r.Decision, and r.Mismatch when
// they differ.
func CompareDecision(ctx context.Context, st *store.Store, r *Run) error {
	if r.Result == nil {
		return nil
	}
	d, err := st.GetDecision(ctx, r.Result.ApplicationID)
	if errors.Is(err, store.ErrNotFound) {
		r.Decision = "no row"
		return nil
	}
	if err != nil {
		return err
	}
	row := workflows.UnderwriteResult{ApplicationID: d.ApplicationID, Outcome: d.Outcome}
	if d.Score != nil {
		row.Score = *d.Score
	}
	if d.ContentHash != nil {
		row.ContentHash = *d.ContentHash
	}
	if len(d.Reasons) > 0 {
		if err := json.Unmarshal(d.Reasons, &row.Reasons); err != nil {
			return fmt.Errorf("decision of %s: reasons: %w", d.ApplicationID, err)
		}
	}
	if diff := compareResults(*r.Result, row); diff != "" {
		r.Decision = "differs"
		msg := "the replayed result differs from the decision row: " + diff
		if r.Mismatch != "" {
			msg = r.Mismatch + "; " + msg
		}
		r.Mismatch = msg
		return nil
	}
	r.Decision = "equal"
	return nil
}
