package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// What the Temporal Web UI shows of a run besides its history: a summary on each
// activity and timer, set when it is scheduled ("sync fca_…", "wait for the refresh
// webhook, at most 30s"), and the run's current details, one line saying what it is doing
// or waiting for. They are metadata, not commands: setting or changing them does not
// change the command sequence, so no workflow.GetVersion guards them. They hold ids,
// stages, outcomes and reason codes only, never personal data.

// summarized is ctx with summary on the activities it schedules.
func summarized(ctx workflow.Context, summary string) workflow.Context {
	ao := workflow.GetActivityOptions(ctx)
	ao.Summary = summary
	return workflow.WithActivityOptions(ctx, ao)
}

// stageDetails is the current details of a stage that says no more than its name.
var stageDetails = map[string]string{
	"refreshing": "refreshing the linked accounts' transactions and balances at Stripe",
	"syncing":    "copying the accounts' transactions and balances from Stripe into Postgres",
	"snapshot":   "freezing the snapshot to score",
	"scoring":    "scoring the snapshot and recording the decision",
	"recording":  "recording the decision",
}

// detail sets the run's current details.
func detail(ctx workflow.Context, format string, args ...any) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf(format, args...))
}

// at formats a workflow time for the details: UTC, to the second.
func at(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// decidedDetails is the last details of a decided run: its outcome and reason codes.
func decidedDetails(res UnderwriteResult) string {
	codes := make([]string, len(res.Reasons))
	for i, r := range res.Reasons {
		codes[i] = r.Code
	}
	s := "decided: " + res.Outcome
	if res.Score != 0 {
		s += fmt.Sprintf(", score %d", res.Score)
	}
	if len(codes) > 0 {
		s += " — " + strings.Join(codes, ", ")
	}
	return s
}
