package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/cluster"
	"github.com/cashflow-underwriting/underwriter/internal/ctxsleep"
)

// Event kinds of a Plan.
const (
	KillWorker      = "kill_worker"
	KillAPI         = "kill_api"
	RestartPostgres = "restart_postgres"
	RestartSandbox  = "restart_sandbox"
)

// Plan is what the chaos run does to the cluster while the applications run.
type Plan struct {
	// WorkerKills and APIKills are how often a worker (one at random) and the API are
	// killed with SIGKILL and started again.
	WorkerKills, APIKills int
	// PostgresRestarts and SandboxRestarts are how often Postgres and the sandbox are
	// restarted with their state.
	PostgresRestarts, SandboxRestarts int
	// MinGap is the least time between two events, so that one restart is over before the
	// next begins.
	MinGap time.Duration
	// MaxDowntime bounds how long a killed process or the sandbox stays down: each
	// downtime is drawn uniformly in [0, MaxDowntime].
	MaxDowntime time.Duration
}

// DefaultPlan is the plan for n applications: a worker kill per 20 applications and an
// API kill per 40 (at least one each), one Postgres restart and one sandbox restart.
func DefaultPlan(n int) Plan {
	return Plan{
		WorkerKills: max(1, n/20), APIKills: max(1, n/40), PostgresRestarts: 1, SandboxRestarts: 1,
		MinGap: 2 * time.Second, MaxDowntime: 2 * time.Second,
	}
}

// event is one planned hurt: its kind, and how many applications must have started
// before it happens.
type event struct {
	kind  string
	after int64
}

// schedule orders the plan's events at random (from rng) and spreads them over the
// first two thirds of n application starts, so that each lands while applications are
// in flight rather than after the last one.
func schedule(p Plan, n int, rng *rand.Rand) []event {
	var kinds []string
	for _, k := range []struct {
		kind  string
		count int
	}{{KillWorker, p.WorkerKills}, {KillAPI, p.APIKills}, {RestartPostgres, p.PostgresRestarts}, {RestartSandbox, p.SandboxRestarts}} {
		for range k.count {
			kinds = append(kinds, k.kind)
		}
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	span := max(1, 2*n/3)
	after := make([]int64, len(kinds))
	for i := range after {
		after[i] = 1 + rng.Int64N(int64(span))
	}
	slices.Sort(after)
	out := make([]event, len(kinds))
	for i, k := range kinds {
		out[i] = event{kind: k, after: after[i]}
	}
	return out
}

// Hurts counts the events that happened.
type Hurts struct {
	WorkerKills, APIKills, PostgresRestarts, SandboxRestarts int
}

// due is how many of events have their turn once started applications have started.
func due(events []event, started int64) int64 {
	n := int64(0)
	for _, ev := range events {
		if ev.after <= started {
			n++
		}
	}
	return n
}

// monkey carries out events on cl as the applications start (started counts them), each
// at least MinGap after the previous one and a random moment after its turn, until the
// events run out or ctx ends; done counts the events over. The applications' starts
// wait for the events whose turn has come (see runOnce), so every event lands while the
// applications started before it are in flight. A restart that fails stops it with the
// error: the cluster is then broken, not merely hurt.
func monkey(ctx context.Context, cl *cluster.Cluster, p Plan, events []event, started, done *atomic.Int64, rng *rand.Rand, logger *slog.Logger) (Hurts, error) {
	var h Hurts
	last := time.Time{}
	for _, ev := range events {
		if err := runEvent(ctx, cl, p, ev, started, rng, logger, &h, &last); err != nil {
			return h, err
		}
		done.Add(1)
		if ctx.Err() != nil {
			return h, nil
		}
	}
	return h, nil
}

// runEvent waits for ev's turn and carries it out, counting it in h. An end of ctx is no
// error: the applications are done and the remaining events are moot.
func runEvent(ctx context.Context, cl *cluster.Cluster, p Plan, ev event, started *atomic.Int64, rng *rand.Rand, logger *slog.Logger, h *Hurts, last *time.Time) error {
	for started.Load() < ev.after || time.Since(*last) < p.MinGap {
		if err := ctxsleep.Sleep(ctx, 50*time.Millisecond); err != nil {
			return nil
		}
	}
	// A random moment within the next second: kills land in the middle of work, not
	// just as an application starts.
	if err := ctxsleep.Sleep(ctx, time.Duration(rng.Int64N(int64(time.Second)))); err != nil {
		return nil
	}
	down := time.Duration(rng.Int64N(int64(p.MaxDowntime) + 1))
	var err error
	switch ev.kind {
	case KillWorker:
		i := rng.IntN(cl.Workers())
		if err = cl.RestartWorker(ctx, i, down); err == nil {
			h.WorkerKills++
		}
	case KillAPI:
		if err = cl.RestartAPI(ctx, down); err == nil {
			h.APIKills++
		}
	case RestartPostgres:
		if err = cl.RestartPostgres(ctx); err == nil {
			h.PostgresRestarts++
		}
	case RestartSandbox:
		if err = cl.RestartSandbox(ctx, down); err == nil {
			h.SandboxRestarts++
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: %w", ev.kind, err)
	}
	logger.Info("chaos event", "kind", ev.kind, "downtime_ms", down.Milliseconds(), "started", started.Load())
	*last = time.Now()
	return nil
}
