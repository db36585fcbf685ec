package wiring

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	tclient "go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// ExportHistory returns a workflow's full event history as JSON ({"events": [...]}), the
// format the Temporal Web UI and CLI export and worker.WorkflowReplayer reads.
func ExportHistory(ctx context.Context, c tclient.Client, workflowID, runID string) ([]byte, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode history of %s: %w", workflowID, err)
	}
	return b, nil
}
