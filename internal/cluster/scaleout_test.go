//go:build chaos

package cluster_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
)

// scaleOutN is the scale-out test's size: CI runs 40 applications (its wall time is set
// mostly by the killed worker's activities waiting out their timeouts, not by the count); the full run
// is go test -tags chaos ./internal/cluster/ -run TestScaleOut -v -scaleout.n=200.
var scaleOutN = flag.Int("scaleout.n", 40, "applications TestScaleOutOnATemporalCluster underwrites (full run: 200)")

// scaleOutConcurrency is how many applications a loan backend has in flight at once.
const scaleOutConcurrency = 40

// TestScaleOutOnATemporalCluster runs the production-like topology on one machine: the
// Temporal server as its own process (`underwriter temporal`) on Postgres, two `underwriter
// worker` processes and one `underwriter api`. It underwrites -scaleout.n applications,
// kills worker 1 with SIGKILL once half of them are decided, and checks that every
// application is decided exactly once (one decision row each, made by the one workflow
// run the application has) and that both workers did the work: each ran activities and
// made decisions, found by the worker identity (its pid) in the workflow histories. It
// logs the throughput: applications decided per second of wall time and per CPU-second
// of the workers.
func TestScaleOutOnATemporalCluster(t *testing.T) {
	n := *scaleOutN
	require.GreaterOrEqual(t, n, 4, "-scaleout.n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin, err := cluster.Build(ctx, t.TempDir())
	require.NoError(t, err)
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Workers: 2, TemporalProcess: true,
		Sandbox: fcsandbox.Config{RefreshDelay: 50 * time.Millisecond, RateLimit: -1}})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	pids := []int{c.WorkerPID(0), c.WorkerPID(1)}
	require.NotZero(t, pids[0])
	require.NotZero(t, pids[1])

	hc := &http.Client{Timeout: 30 * time.Second}
	lender := c.Client(hc)
	ids := make([]string, n)
	var decided atomic.Int64
	half := make(chan struct{})
	var halfOnce sync.Once
	errs := make(chan error, n)
	sem := make(chan struct{}, scaleOutConcurrency)
	var wg sync.WaitGroup
	begin := time.Now()
	var atKill int64
	var killedAt time.Duration
	var cpuAtKill map[string]time.Duration // workers' and the server's CPU time then
	killDone := make(chan error, 1)
	// The killer waits for the half, started before the loop, which blocks while
	// scaleOutConcurrency applications are in flight.
	go func() {
		select {
		case <-half:
		case <-ctx.Done():
			killDone <- ctx.Err()
			return
		}
		atKill, killedAt = decided.Load(), time.Since(begin)
		cpuAtKill = map[string]time.Duration{}
		for _, name := range []string{"worker-0", "worker-1", "temporal", "api"} {
			cpu, err := c.CPU(name)
			if err != nil {
				killDone <- err
				return
			}
			cpuAtKill[name] = cpu
		}
		killDone <- c.KillWorker(1)
	}()
	for i := range n {
		p := c.Personas[i%len(c.Personas)]
		ids[i] = fmt.Sprintf("so-%04d-%s", i, p.Name)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := ids[i]
			created, err := lender.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: id,
				LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency})
			if err == nil {
				_, err = fcsandbox.CompleteLink(ctx, hc, c.SandboxURL, created.ClientSecret, p.Name)
			}
			if err == nil {
				_, err = lender.WaitForDecision(ctx, id)
			}
			if err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
				return
			}
			if decided.Add(1) == int64(n/2) {
				halfOnce.Do(func() { close(half) })
			}
		}()
	}
	wg.Wait()
	wall := time.Since(begin)
	t.Logf("all decided after %s", wall.Round(time.Millisecond))
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case <-half:
	default:
		t.Fatalf("only %d of %d applications were decided: worker 1 was never killed", decided.Load(), n)
	}
	require.NoError(t, <-killDone)
	require.Zero(t, c.WorkerPID(1), "worker 1 was killed and stays down")

	// Every application decided exactly once: one row each, by its one workflow run.
	conn, err := pgx.Connect(ctx, c.DatabaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT a.external_id, d.workflow_id, d.run_id FROM decisions d JOIN applications a ON a.id = d.application_id
		WHERE a.lender_id = $1 AND a.external_id LIKE 'so-%' ORDER BY a.external_id`, cluster.Lender)
	require.NoError(t, err)
	type run struct{ app, wid, rid string }
	var runs []run
	for rows.Next() {
		var r run
		require.NoError(t, rows.Scan(&r.app, &r.wid, &r.rid))
		runs = append(runs, r)
	}
	require.NoError(t, rows.Err())
	require.Len(t, runs, n, "one decision row per application")
	for i, r := range runs {
		require.Equal(t, ids[i], r.app)
	}

	tc, err := tclient.Dial(tclient.Options{HostPort: c.TemporalAddress, Namespace: c.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer tc.Close()
	activities := map[int]int{} // by worker pid
	decisions := map[int]int{}
	tasks := map[int]int{} // workflow tasks
	for _, r := range runs {
		// The application's workflow has this one run: no second run decided it again.
		desc, err := tc.DescribeWorkflowExecution(ctx, r.wid, "")
		require.NoError(t, err, r.wid)
		require.Equal(t, r.rid, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "%s: the deciding run is the latest", r.app)
		scheduled := map[int64]string{}
		decides := 0
		it := tc.GetWorkflowHistory(ctx, r.wid, r.rid, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
			}
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
				pid := identityPID(t, a.GetIdentity())
				activities[pid]++
				if typ := scheduled[a.GetScheduledEventId()]; typ == "Decide" || typ == "RecordDecision" {
					decisions[pid]++
				}
			}
			if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
				if typ := scheduled[a.GetScheduledEventId()]; typ == "Decide" || typ == "RecordDecision" {
					decides++
				}
			}
			if a := ev.GetWorkflowTaskStartedEventAttributes(); a != nil {
				tasks[identityPID(t, a.GetIdentity())]++
			}
		}
		require.Equal(t, 1, decides, "%s: one decision activity completed", r.app)
	}
	for i, pid := range pids {
		t.Logf("worker %d (pid %d): %d workflow tasks, %d activities, %d decisions", i, pid, tasks[pid], activities[pid], decisions[pid])
		require.Positive(t, activities[pid], "worker %d ran activities", i)
		require.Positive(t, decisions[pid], "worker %d made decisions", i)
	}
	require.Equal(t, n, decisions[pids[0]]+decisions[pids[1]], "every decision by one of the two workers")

	var workerCPU time.Duration
	for i := range pids {
		cpu, err := c.CPU("worker-" + strconv.Itoa(i))
		require.NoError(t, err)
		workerCPU += cpu
	}
	temporalCPU, err := c.CPU("temporal")
	require.NoError(t, err)
	apiCPU, err := c.CPU("api")
	require.NoError(t, err)
	// The throughput of the cluster at full strength is that of the first half, before the
	// kill: after it, the killed worker's activities in flight wait out their
	// start-to-close timeouts (up to 2 minutes), which sets the rest of the wall time.
	before := cpuAtKill["worker-0"] + cpuAtKill["worker-1"]
	t.Logf("before the kill: %d applications decided in %s (%.2f/s with 2 workers); CPU: workers %s (%.1f applications per worker CPU-second), "+
		"temporal %s (%.0f ms per application), api %s",
		atKill, killedAt.Round(time.Millisecond), float64(atKill)/killedAt.Seconds(), before.Round(time.Millisecond), float64(atKill)/before.Seconds(),
		cpuAtKill["temporal"].Round(time.Millisecond), float64(cpuAtKill["temporal"].Milliseconds())/float64(atKill), cpuAtKill["api"].Round(time.Millisecond))
	t.Logf("whole run: %d applications decided in %s; CPU: workers %s (%.1f applications per worker CPU-second), temporal %s, api %s",
		n, wall.Round(time.Millisecond), workerCPU.Round(time.Millisecond), float64(n)/workerCPU.Seconds(),
		temporalCPU.Round(time.Millisecond), apiCPU.Round(time.Millisecond))
}

// identityPID returns the pid in a worker identity "<pid>@<host>@…".
func identityPID(t *testing.T, identity string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.SplitN(identity, "@", 2)[0])
	require.NoError(t, err, "identity %q", identity)
	return pid
}
