//go:build chaos

// These tests start processes; they run in `make chaos` (go test -tags chaos), without
// the race detector.

package cluster_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashflow-underwriting/underwriter/internal/cluster"
)

// TestKillsAndRestartsKeepTheClusterWhole kills and restarts each piece of a two-worker
// cluster and checks that each comes back on its address with its state.
func TestKillsAndRestartsKeepTheClusterWhole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := cluster.Build(ctx, t.TempDir())
	require.NoError(t, err)
	logDir := t.TempDir()
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Workers: 2, LogDir: logDir})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	require.Equal(t, 2, c.Workers())
	require.NotEmpty(t, c.LenderKey, "the lender has a key")

	// A worker killed and started again polls its task queue (StartWorker waits for it).
	require.NoError(t, c.KillWorker(1))
	require.Error(t, c.KillWorker(1), "a dead worker cannot be killed again")
	require.NoError(t, c.StartWorker(ctx, 1))
	require.Error(t, c.KillWorker(2), "there is no worker 2")

	// The API comes back on the same address.
	require.NoError(t, c.RestartAPI(ctx, 100*time.Millisecond))
	res, err := http.Get(c.APIURL + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The sandbox keeps its objects across its restart, and refuses connections meanwhile.
	sc := client.New(c.StripeKey, stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(c.SandboxURL), MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
	cus, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("kept@example.com")})
	require.NoError(t, err)
	require.NoError(t, c.RestartSandbox(ctx, 200*time.Millisecond))
	again, err := sc.Customers.Get(cus.ID, nil)
	require.NoError(t, err, "the customer survived the restart")
	require.Equal(t, cus.ID, again.ID)

	// Postgres keeps its rows and its URL.
	conn, err := pgx.Connect(ctx, c.DatabaseURL)
	require.NoError(t, err)
	var lenders int
	require.NoError(t, conn.QueryRow(ctx, "select count(*) from lenders where id = $1", cluster.Lender).Scan(&lenders))
	require.NoError(t, conn.Close(ctx))
	require.NoError(t, c.RestartPostgres(ctx))
	conn, err = pgx.Connect(ctx, c.DatabaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var after int
	require.NoError(t, conn.QueryRow(ctx, "select count(*) from lenders where id = $1", cluster.Lender).Scan(&after))
	require.Equal(t, 1, lenders)
	require.Equal(t, lenders, after)

	// Each start left its mark in the process's log.
	b, err := os.ReadFile(logDir + "/api.log")
	require.NoError(t, err)
	require.Contains(t, string(b), "=== cluster: start 2 of api")
}
