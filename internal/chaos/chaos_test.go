//go:build chaos

// The chaos tests start processes and take minutes; they run without the race detector
// in `make chaos` (go test -tags chaos), not in `make unit`.

package chaos_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/chaos"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
)

// TestChaosSmall is the chaos run at CI size: 12 applications, every sample persona at
// least once, two workers, one worker kill, one API kill, one Postgres restart and one
// sandbox restart, with the default fault rates. Every application must be decided once,
// as the fault-free run decided it.
func TestChaosSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin, err := cluster.Build(ctx, t.TempDir())
	require.NoError(t, err)
	logDir := t.TempDir()
	rep, err := chaos.Run(ctx, chaos.Config{
		Applications: 12, Seed: 9, Binary: bin, Workers: 2,
		// Four at a time spread the starts over the run, so the events land among them.
		Concurrency: 4,
		Plan: chaos.Plan{WorkerKills: 1, APIKills: 1, PostgresRestarts: 1, SandboxRestarts: 1,
			MinGap: time.Second, MaxDowntime: 2 * time.Second},
		LogDir: logDir,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	require.NoError(t, err)
	t.Logf("report: %+v", rep)
	if len(rep.Problems()) > 0 {
		for _, name := range []string{"api", "worker-0", "worker-1"} {
			b, _ := os.ReadFile(logDir + "/chaos/" + name + ".log")
			t.Logf("%s.log (end):\n%s", name, tail(b, 4000))
		}
	}
	require.Empty(t, rep.Problems())
	require.Equal(t, 12, rep.Decided)
	require.Zero(t, rep.DuplicateDecisions)
	require.Zero(t, rep.DuplicateTransactions)
	require.Zero(t, rep.MismatchedDecisions)
	require.Equal(t, 1, rep.WorkerKills)
	require.Equal(t, 1, rep.APIKills)
	require.Equal(t, 1, rep.PostgresRestarts)
	require.Equal(t, 1, rep.SandboxRestarts)
	// The faults did happen: at these rates a run of 12 applications meets every kind.
	require.Positive(t, rep.Stripe5xx)
	require.Positive(t, rep.Stripe429)
	require.Positive(t, rep.WebhooksDropped)
	require.Positive(t, rep.WebhooksDuplicated)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
