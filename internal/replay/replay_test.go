package replay

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// histories are the recorded histories of every shipped workflow version.
func histories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestRecordedHistoriesReplay: every recorded history replays against the current code,
// and the result the replay computes is the one the run recorded.
func TestRecordedHistoriesReplay(t *testing.T) {
	for _, f := range histories(t) {
		h, err := ReadFile(f)
		require.NoError(t, err)
		r := History(h, f, "", "", nil)
		require.True(t, r.OK(), "%s: %+v", f, r)
		require.Equal(t, "completed", r.Status)
		require.NotNil(t, r.Result)
		require.NotEmpty(t, r.Result.Outcome)
	}
}

// extraTimer stands for a change to Underwrite's command sequence: a timer before it does
// anything, behind workflow.GetVersion or not.
func extraTimer(guarded bool) func(workflow.Context, workflows.UnderwriteInput) (workflows.UnderwriteResult, error) {
	return func(ctx workflow.Context, in workflows.UnderwriteInput) (workflows.UnderwriteResult, error) {
		if !guarded || workflow.GetVersion(ctx, "test-extra-timer", workflow.DefaultVersion, 1) == 1 {
			if err := workflow.Sleep(ctx, time.Second); err != nil {
				return workflows.UnderwriteResult{}, err
			}
		}
		return workflows.Underwrite(ctx, in)
	}
}

// TestVersioningProcedure proves the procedure the README asks of a workflow change: the
// same change to the command sequence replays every old history behind
// workflow.GetVersion, and without it fails every one with a nondeterminism error naming
// the event at which the code and the history diverged.
func TestVersioningProcedure(t *testing.T) {
	for _, f := range histories(t) {
		h, err := ReadFile(f)
		require.NoError(t, err)

		guarded := replayWith(extraTimer(true), h, f, "", "", nil, nil)
		require.True(t, guarded.OK(), "%s behind GetVersion: %+v", f, guarded)
		require.NotNil(t, guarded.Result)

		bare := replayWith(extraTimer(false), h, f, "", "", nil, nil)
		require.False(t, bare.OK(), "%s without GetVersion replayed", f)
		require.Contains(t, bare.Err, "[TMPRL1100]", "a nondeterminism error")
		require.Regexp(t, `(?i)event[a-z ]*:? \d+`, bare.Err, "it names the event")
		require.Nil(t, bare.Result)
	}
}

// TestReadFileRefusesWhatIsNotAHistory names the file.
func TestReadFileRefusesWhatIsNotAHistory(t *testing.T) {
	_, err := ReadFile("../../go.mod")
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "../../go.mod: not a Temporal history exported as JSON"), err.Error())
}

// TestPlainHistoriesReplayWithTheCodec: with payload encryption turned on
// (UNDERWRITER_PAYLOAD_KEYS), the histories recorded before it, whose payloads are plain
// JSON, still replay and give their recorded results: the codec passes plain payloads
// through.
func TestPlainHistoriesReplayWithTheCodec(t *testing.T) {
	c, err := codec.ParseKeys("k1:" + codec.GenerateKey())
	require.NoError(t, err)
	for _, f := range histories(t) {
		h, err := ReadFile(f)
		require.NoError(t, err)
		r := HistoryWithConverter(h, f, "", "", nil, c.DataConverter())
		require.True(t, r.OK(), "%s: %+v", f, r)
		require.Equal(t, "completed", r.Status)
		require.NotNil(t, r.Result)
		require.Equal(t, r.Result, History(h, f, "", "", nil).Result, f)
	}
}
