package devstack

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/replay"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// TestReplayEveryDecisionPath records a run of every decision path on the real server
// (approve, decline, refer, stale data, expired, inactive account, returning customer),
// then replays each from the server and from its exported file against this build: each
// replays, computes the result its run recorded, and equals its decision row.
func TestReplayEveryDecisionPath(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, LinkTimeout: 8 * time.Second,
		ReactivationTimeout: 2 * time.Second})
	c := stack.Client(&http.Client{Timeout: 30 * time.Second})

	var ids []string
	for _, r := range stack.UnderwriteSamples(ctx, "rp", 2*time.Minute) {
		require.NoError(t, r.Err, r.Persona)
		ids = append(ids, r.ApplicationID)
	}
	steady := persona(t, stack, "steady_salaried")

	// Expired: nobody links.
	_, err := c.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "rp-expired", LoanAmountMinor: 100000,
		TermMonths: 12, Currency: "usd"})
	require.NoError(t, err)
	// An account that turns inactive and stays so.
	linkWith(t, ctx, stack, "rp-inactive", steady, fcsandbox.LinkRequest{AccountStatusAtRefresh: fcsandbox.StatusInactive})
	// A returning customer on the first application's account.
	_, acct := returningCustomer(ctx, t, stack, "rp-first")
	_, err = c.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "rp-returning", LoanAmountMinor: 100000,
		TermMonths: 12, Currency: "usd", AccountIDs: []string{acct.ID}})
	require.NoError(t, err)
	ids = append(ids, "rp-expired", "rp-inactive", "rp-first", "rp-returning")

	outcomes := map[string]bool{}
	dir := t.TempDir()
	for _, id := range ids {
		st, err := c.WaitForDecision(ctx, id)
		require.NoError(t, err, id)
		outcomes[st.Decision.Outcome] = true
		wid := workflows.WorkflowID(DevKey(id))
		require.NoError(t, stack.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, nil), id)

		h, err := replay.Fetch(ctx, stack.Temporal, wid, "")
		require.NoError(t, err)
		fromServer := replay.History(h, "server", wid, "", nil)
		require.NoError(t, replay.CompareDecision(ctx, stack.Store, &fromServer))
		require.True(t, fromServer.OK(), "%s: %+v", id, fromServer)
		require.Equal(t, "equal", fromServer.Decision, id)
		require.Equal(t, st.Decision.Outcome, fromServer.Result.Outcome)

		b, err := wiring.ExportHistory(ctx, stack.Temporal, wid, "")
		require.NoError(t, err)
		file := filepath.Join(dir, id+".json")
		require.NoError(t, os.WriteFile(file, b, 0o600))
		h, err = replay.ReadFile(file)
		require.NoError(t, err)
		fromFile := replay.History(h, file, "", "", nil)
		require.NoError(t, replay.CompareDecision(ctx, stack.Store, &fromFile))
		require.True(t, fromFile.OK(), "%s: %+v", id, fromFile)
		require.Equal(t, wid, fromFile.WorkflowID, "the file names its workflow")
		require.Equal(t, *fromServer.Result, *fromFile.Result)
	}
	for _, o := range []string{"approve", "decline", "refer", "expired"} {
		require.True(t, outcomes[o], "a run decided %s", o)
	}

	// The server's visibility query reaches the same runs.
	n := 0
	require.NoError(t, replay.Query(ctx, stack.Temporal, "ExecutionStatus = 'Completed'", func(wid, rid string) error {
		n++
		return nil
	}))
	require.GreaterOrEqual(t, n, len(ids))
}
