// Package chaos runs underwriter's pipeline as separate processes (internal/cluster)
// twice over the same applicants: once fault-free, once while the Stripe sandbox injects
// faults by rate and the worker, the API, Postgres and the sandbox are killed or
// restarted. It then checks that the chaos run decided every application exactly once
// and exactly as the fault-free run did. docs/chaos.md describes what is injected and
// what the numbers mean; `underwriter chaos` is the command.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
)

// Sandbox settings of both runs.
const (
	// refreshDelay is how long a sandbox refresh stays pending: short, as in `underwriter
	// dev`, so that runs finish; long enough that kills land while refreshes are pending.
	refreshDelay = 300 * time.Millisecond
	// webhookRetryBase and webhookRetryMax make the sandbox retry a failed or dropped
	// delivery after 250 ms, doubling up to 2 s (Stripe: about an hour, up to three
	// days), so that a lost attempt delays an application by seconds.
	webhookRetryBase = 250 * time.Millisecond
	webhookRetryMax  = 2 * time.Second
	// webhookMaxAttempts covers the longest outage of the API a run causes (a kill, a
	// downtime of at most Plan.MaxDowntime and a start) many times over: about two
	// minutes of attempts, so that only a broken receiver loses an event.
	webhookMaxAttempts = 60
	// maxLatency is the latency jitter's bound: every Stripe request takes up to a
	// fifth of a second more.
	maxLatency = 200 * time.Millisecond
)

// DefaultRates are the fault rates of a chaos run: 10 % of Stripe requests answered 500,
// 5 % answered 429 rate_limit, up to 200 ms of latency on the others, 20 % of webhook
// delivery attempts lost in transit and 20 % of events delivered twice.
func DefaultRates(seed uint64) fcsandbox.FaultRates {
	return fcsandbox.FaultRates{Seed: seed, ServerError: 0.10, RateLimit: 0.05, MaxLatency: maxLatency,
		DropWebhook: 0.20, DuplicateWebhook: 0.20}
}

// Config configures Run.
type Config struct {
	// Applications is how many applications each run underwrites.
	Applications int
	// Seed seeds the fault rates, the schedule of kills and restarts, and the
	// application ids: a run is reproducible up to the timing of its processes.
	Seed uint64
	// Binary is the underwriter binary of the worker and API processes (see
	// cluster.Binary).
	Binary string
	// Workers is how many worker processes each run has (0 = 2).
	Workers int
	// Concurrency is how many applications are in flight at once (0 = 8).
	Concurrency int
	// Plan is what happens to the cluster in the chaos run (zero: DefaultPlan).
	Plan Plan
	// Rates are the sandbox's fault rates in the chaos run (zero: DefaultRates(Seed)).
	Rates fcsandbox.FaultRates
	// Timeout bounds each application, from its POST to its decision (0 = 15 minutes: a
	// worker killed mid-activity delays its applications by the activity's start-to-close
	// timeout, up to two minutes, and one application may meet several kills).
	Timeout time.Duration
	// LogDir keeps the runs' logs in LogDir/reference and LogDir/chaos; "" keeps none.
	LogDir string
	// Logger receives the run's progress: starts, events, ends (nil = discard).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.Plan == (Plan{}) {
		c.Plan = DefaultPlan(c.Applications)
	}
	if c.Rates == (fcsandbox.FaultRates{}) {
		c.Rates = DefaultRates(c.Seed)
	}
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Report is the outcome of a chaos run. The JSON keys are the command's output.
type Report struct {
	// Applications is how many applications each run underwrote.
	Applications int `json:"applications"`
	// Decided is how many the chaos run decided.
	Decided int `json:"decided"`
	// DuplicateDecisions and DuplicateTransactions are what the chaos run's Postgres holds
	// more than once (see Duplicates).
	DuplicateDecisions    int `json:"duplicate_decisions"`
	DuplicateTransactions int `json:"duplicate_transactions"`
	// MismatchedDecisions is how many applications both runs decided with another outcome,
	// score or reasons.
	MismatchedDecisions int `json:"mismatched_decisions"`
	// WorkerKills … SandboxRestarts are the hurts the chaos run caused.
	WorkerKills      int `json:"worker_kills"`
	APIKills         int `json:"api_kills"`
	PostgresRestarts int `json:"postgres_restarts"`
	SandboxRestarts  int `json:"sandbox_restarts"`
	// WebhooksDropped is the webhook delivery attempts lost in transit (each retried);
	// WebhooksDuplicated the events delivered twice.
	WebhooksDropped    int64 `json:"webhooks_dropped"`
	WebhooksDuplicated int64 `json:"webhooks_duplicated"`
	// Stripe5xx and Stripe429 are the Stripe requests the sandbox answered 500 and 429.
	Stripe5xx int64 `json:"stripe_5xx"`
	Stripe429 int64 `json:"stripe_429"`
	// WallSeconds is the whole run: both clusters, start to report.
	WallSeconds float64 `json:"wall_seconds"`

	// The rest details the figures above.
	Seed                  uint64     `json:"seed"`
	ReferenceSeconds      float64    `json:"reference_seconds"`
	ChaosSeconds          float64    `json:"chaos_seconds"`
	ReferenceDecided      int        `json:"reference_decided"`
	DuplicateAccounts     int        `json:"duplicate_accounts"`
	ReferenceDuplicates   Duplicates `json:"reference_duplicates"`
	Mismatches            []Mismatch `json:"mismatches,omitempty"`
	Undecided             []Result   `json:"undecided,omitempty"`
	SlowestDecisionSecond float64    `json:"slowest_decision_seconds"`
	// UTCMidnightCrossed says the runs spanned a UTC midnight: applications refreshed on
	// either side of it are scored with different cutoff days, and may mismatch for it.
	UTCMidnightCrossed bool `json:"utc_midnight_crossed"`
}

// Problems lists how the run missed its target (every application decided, by the
// fault-free run too; no duplicates; no mismatches); none when it met it.
func (r Report) Problems() []string {
	var p []string
	if r.Decided != r.Applications {
		p = append(p, fmt.Sprintf("%d of %d applications decided", r.Decided, r.Applications))
	}
	if r.ReferenceDecided != r.Applications {
		p = append(p, fmt.Sprintf("the fault-free run decided %d of %d applications", r.ReferenceDecided, r.Applications))
	}
	if r.DuplicateDecisions > 0 {
		p = append(p, fmt.Sprintf("%d duplicate decisions", r.DuplicateDecisions))
	}
	if r.DuplicateTransactions > 0 {
		p = append(p, fmt.Sprintf("%d duplicate transactions", r.DuplicateTransactions))
	}
	if r.DuplicateAccounts > 0 {
		p = append(p, fmt.Sprintf("%d duplicate accounts", r.DuplicateAccounts))
	}
	if r.ReferenceDuplicates != (Duplicates{}) {
		p = append(p, fmt.Sprintf("the fault-free run stored duplicates: %+v", r.ReferenceDuplicates))
	}
	if r.MismatchedDecisions > 0 {
		why := ""
		if r.UTCMidnightCrossed {
			why = " (the runs spanned a UTC midnight, which moves the cutoff day: run again)"
		}
		p = append(p, fmt.Sprintf("%d decisions differ from the fault-free run's%s", r.MismatchedDecisions, why))
	}
	return p
}

// run is one cluster's pass over the applicants.
type run struct {
	results []Result
	dups    Duplicates
	hurts   Hurts
	faults  fcsandbox.FaultCounts
	elapsed time.Duration
}

// Run underwrites cfg.Applications applicants fault-free, then again under chaos, and
// reports. The error is for a run that could not be carried out (a cluster that did not
// start, a restart that failed); a run that missed its target is a Report with
// Problems.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Applications <= 0 {
		return Report{}, fmt.Errorf("chaos: applications %d: must be at least 1", cfg.Applications)
	}
	if cfg.Binary == "" {
		return Report{}, errors.New("chaos: Config.Binary is empty: use cluster.Binary")
	}
	cfg = cfg.withDefaults()
	begin := time.Now()
	personaFS := fcsandbox.SamplePersonas()
	personas, err := fcsandbox.LoadPersonas(personaFS)
	if err != nil {
		return Report{}, fmt.Errorf("load personas: %w", err)
	}
	sizes, err := ledgerSizes(personaFS, personas)
	if err != nil {
		return Report{}, err
	}
	anchor, err := linkAnchor(personaFS, personas, begin)
	if err != nil {
		return Report{}, err
	}
	apps := applicants(cfg.Applications, cfg.Seed, personas)

	cfg.Logger.Info("fault-free run", "applications", len(apps), "workers", cfg.Workers)
	ref, err := runOnce(ctx, cfg, apps, sizes, anchor, false)
	if err != nil {
		return Report{}, fmt.Errorf("fault-free run: %w", err)
	}
	cfg.Logger.Info("chaos run", "applications", len(apps), "workers", cfg.Workers, "plan", fmt.Sprintf("%+v", cfg.Plan))
	ch, err := runOnce(ctx, cfg, apps, sizes, anchor, true)
	if err != nil {
		return Report{}, fmt.Errorf("chaos run: %w", err)
	}

	rep := Report{
		Applications:       len(apps),
		DuplicateDecisions: ch.dups.Decisions, DuplicateTransactions: ch.dups.Transactions, DuplicateAccounts: ch.dups.Accounts,
		WorkerKills: ch.hurts.WorkerKills, APIKills: ch.hurts.APIKills,
		PostgresRestarts: ch.hurts.PostgresRestarts, SandboxRestarts: ch.hurts.SandboxRestarts,
		WebhooksDropped: ch.faults.WebhookAttemptsDropped + ch.faults.WebhooksDropped, WebhooksDuplicated: ch.faults.WebhooksDuplicated,
		Stripe5xx: ch.faults.ServerErrors, Stripe429: ch.faults.RateLimited,
		Seed: cfg.Seed, ReferenceSeconds: ref.elapsed.Seconds(), ChaosSeconds: ch.elapsed.Seconds(),
		ReferenceDuplicates: ref.dups,
	}
	for _, r := range ref.results {
		if r.Decided() {
			rep.ReferenceDecided++
		}
	}
	for _, r := range ch.results {
		if r.Decided() {
			rep.Decided++
			rep.SlowestDecisionSecond = max(rep.SlowestDecisionSecond, r.Elapsed.Seconds())
		} else {
			rep.Undecided = append(rep.Undecided, r)
		}
	}
	rep.Mismatches = compare(ref.results, ch.results)
	rep.MismatchedDecisions = len(rep.Mismatches)
	rep.WallSeconds = time.Since(begin).Seconds()
	rep.UTCMidnightCrossed = crossesMidnight(begin, time.Now())
	return rep, nil
}

// linkAnchor is where both runs' sandboxes move the personas' ledgers at a link: the
// latest moment, not after now, on the time of day of the newest ledger's end. Features
// count UTC days and calendar months, and by default the sandbox moves a ledger to the
// moment of the link: the two runs, minutes apart, could then put a transaction on either
// side of a midnight and score the same applicant differently for no fault of the
// pipeline. With one anchor they serve the same dates; the ledgers keep their times of
// day; and the data is at most a day old at the link, as a bank's often is. (The sandbox's
// clock itself stays the wall clock: the worker compares Stripe's refresh times with its
// own.)
func linkAnchor(fsys fs.FS, personas []fcsandbox.Persona, now time.Time) (time.Time, error) {
	anchor, err := newestAnchor(fsys, personas)
	if err != nil {
		return time.Time{}, err
	}
	const day = 24 * 60 * 60
	unix := now.Unix()
	t := unix - unix%day + anchor%day
	if t > unix {
		t -= day
	}
	return time.Unix(t, 0).UTC(), nil
}

// crossesMidnight reports whether a UTC midnight lies between a and b: the decisions'
// cutoff day is the day of the refresh, so applications refreshed on either side of it
// are scored on different days.
func crossesMidnight(a, b time.Time) bool {
	ya, ma, da := a.UTC().Date()
	yb, mb, db := b.UTC().Date()
	return ya != yb || ma != mb || da != db
}

// runOnce starts a cluster, underwrites apps on it (with faults and the plan's events
// when chaos is set), counts the duplicates and stops it.
func runOnce(ctx context.Context, cfg Config, apps []applicant, sizes map[string]ledgerSize, anchor time.Time, chaos bool) (out run, err error) {
	name := "reference"
	if chaos {
		name = "chaos"
	}
	logDir := ""
	if cfg.LogDir != "" {
		logDir = filepath.Join(cfg.LogDir, name)
	}
	sb := fcsandbox.Config{
		RefreshDelay: refreshDelay, WebhookRetryBase: webhookRetryBase, WebhookRetryMax: webhookRetryMax,
		WebhookMaxAttempts: webhookMaxAttempts,
		// No rate limiter: its 429s would be faults in the fault-free run and would blur
		// the count of injected ones.
		RateLimit:  -1,
		LinkAnchor: anchor,
	}
	if chaos {
		sb.FaultRates = cfg.Rates
	}
	cl, err := cluster.Start(ctx, cluster.Config{
		Binary: cfg.Binary, Workers: cfg.Workers, LogDir: logDir, Sandbox: sb,
		Logger: cfg.Logger.With("run", name),
	})
	if err != nil {
		return run{}, err
	}
	defer func() {
		if cerr := cl.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stop the cluster: %w", cerr)
		}
	}()

	begin := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var started, done atomic.Int64
	var monkeyErr error
	var hold func(int64)
	monkeyDone := make(chan struct{})
	if chaos {
		// The schedule draws from its own stream: the fault rates' stream is the sandbox's.
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
		events := schedule(cfg.Plan, len(apps), rng)
		go func() {
			defer close(monkeyDone)
			out.hurts, monkeyErr = monkey(runCtx, cl, cfg.Plan, events, &started, &done, rng, cfg.Logger.With("run", name))
			if monkeyErr != nil {
				cancel() // a cluster that cannot restart decides nothing more
			}
		}()
		// The next application starts once every event whose turn came is over: each
		// event then meets the applications started before it in flight, however fast
		// they run, and none is left over when the last one is decided.
		hold = func(n int64) {
			for done.Load() < due(events, n) {
				select {
				case <-monkeyDone:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	} else {
		close(monkeyDone)
	}
	out.results = driveAll(runCtx, cl, apps, cfg.Concurrency, cfg.Timeout, &started, hold)
	cancel()
	<-monkeyDone
	out.elapsed = time.Since(begin)
	if monkeyErr != nil {
		return run{}, monkeyErr
	}
	out.faults = cl.Sandbox.FaultCounts()
	if out.dups, err = countDuplicates(ctx, cl.DatabaseURL, apps, sizes); err != nil {
		return run{}, err
	}
	decided := 0
	for _, r := range out.results {
		if r.Decided() {
			decided++
		}
	}
	cfg.Logger.Info("run over", "run", name, "decided", decided, "of", len(apps), "seconds", out.elapsed.Seconds())
	return out, nil
}
