//go:build chaos

package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
)

// TestRescoreSurvivesAWorkerKill: `underwriter rescore` runs its Rescore workflow on the
// cluster's worker process; the worker is killed with SIGKILL while the re-score runs
// one application per batch, and started again. The re-score continues where it stopped
// and finishes with every application scored once, each equal to its decision (the same
// versions reproduce exactly).
func TestRescoreSurvivesAWorkerKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := cluster.Build(ctx, t.TempDir())
	require.NoError(t, err)
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Workers: 1,
		Sandbox: fcsandbox.Config{RefreshDelay: 50 * time.Millisecond, RateLimit: -1}})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()

	hc := &http.Client{Timeout: 30 * time.Second}
	lender := c.Client(hc)
	var n int
	for round := range 2 {
		for _, p := range c.Personas {
			id := fmt.Sprintf("rs%d-%s", round, p.Name)
			created, err := lender.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: id,
				LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency})
			require.NoError(t, err)
			_, err = fcsandbox.CompleteLink(ctx, hc, c.SandboxURL, created.ClientSecret, p.Name)
			require.NoError(t, err)
			_, err = lender.WaitForDecision(ctx, id)
			require.NoError(t, err, id)
			n++
		}
	}

	today := time.Now().UTC()
	cmd := exec.CommandContext(ctx, bin, "rescore", "--lender", cluster.Lender, "--batch", "1",
		"--model", filepath.Join("..", "..", "scoring", "models", "scorecard-v2.json"),
		"--from", today.AddDate(0, 0, -1).Format(time.DateOnly), "--to", today.AddDate(0, 0, 1).Format(time.DateOnly))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+c.DatabaseURL, "TEMPORAL_ADDRESS="+c.TemporalAddress,
		"TEMPORAL_NAMESPACE="+c.Namespace)
	var out bytes.Buffer
	var errOut syncbuf.Buffer // read while the command writes it
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	// Kill the worker as soon as the re-score has started, and start it again.
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "rescore: workflow") },
		time.Minute, 20*time.Millisecond)
	require.NoError(t, c.KillWorker(0))
	// With no worker left, the re-score cannot have finished after the kill: running now
	// means the kill landed in the middle of it.
	wid := regexp.MustCompile(`workflow (rescore/\S+) run`).FindStringSubmatch(errOut.String())
	require.NotNil(t, wid, errOut.String())
	tc, err := tclient.Dial(tclient.Options{HostPort: c.TemporalAddress, Namespace: c.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer tc.Close()
	desc, err := tc.DescribeWorkflowExecution(ctx, wid[1], "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus(),
		"the worker was killed while the re-score ran")
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, c.StartWorker(ctx, 0))
	require.NoError(t, cmd.Wait(), "%s\n%s", out.String(), errOut.String())

	t.Logf("%s", out.String())
	require.Contains(t, out.String(), fmt.Sprintf(": %d applications under model v2", n))
	require.Contains(t, out.String(), fmt.Sprintf("%d scored, %d stored, 0 already stored", n, n), "each scored once")
	require.Contains(t, out.String(), fmt.Sprintf("same versions as the decision: %d of %d reproduce", n, n))

	// How the new worker took over shows in the history: a workflow task of the dead
	// worker timed out (an event), or an activity of it was retried once its start-to-close
	// timeout passed (its final start says attempt 2).
	takenOver := 0
	it := tc.GetWorkflowHistory(ctx, wid[1], "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT ||
			ev.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
			takenOver++
		}
	}
	t.Logf("%d tasks of the killed worker taken over by its successor", takenOver)
}
