package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays every recorded history in testdata/histories against
// the current workflow code. A change that alters the command sequence of a shipped
// version fails here with a non-determinism error ([TMPRL1100]) unless it sits behind
// workflow.GetVersion. Record new Underwrite histories with
// `go test ./internal/devstack/ -run TestPipelineEndToEnd -update-histories`, and Monitor
// histories (testdata/histories/monitor) with
// `go test ./internal/monitorhistory/ -update-histories v<N>`.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories to replay")
	monitor, err := filepath.Glob("../testdata/histories/monitor/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, monitor, "no recorded Monitor histories to replay")
	for _, f := range append(files, monitor...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Underwrite, workflow.RegisterOptions{Name: UnderwriteWorkflowName})
			r.RegisterWorkflowWithOptions(Monitor, workflow.RegisterOptions{Name: MonitorWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
