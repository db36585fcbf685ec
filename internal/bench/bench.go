// Package bench measures underwriter's stages next to the cheapest thing that does the
// same job on the same machine in the same run (issue 12), for `underwriter bench`.
// Each section measures one stage and names its figures; the figures that have targets
// are ratios or per-core rates, so that a shared, noisy machine moves both sides of a
// comparison alike.
//
// Sections so far:
//
//   - scoring: per ledger length (3, 12 and 24 months of about benchledger.TxnsPerMonth
//     transactions), features and score (scoring.Engine.Underwrite on the parsed ledger)
//     next to a plain encoding/json decode of the same bytes: scoring_vs_decode (target
//     ≤ 0.5 at every length);
//
//   - batch: ledgers from bytes as a snapshot stores them to a decision (ledger.Parse,
//     scoring.FromFile, Underwrite) on every core: batch_ledgers_per_s_per_core, the rate
//     divided by GOMAXPROCS (target ≥ 1,000 for 12-month ledgers).
//
//   - ingest (ingest.go): transactions from the sandbox (rate limit off) into Postgres
//     through activities.SyncTransactions (pages of 100 over HTTP, upserts) next to a pgx
//     CopyFrom of the same rows into an empty table: ingest_vs_copy (target ≥ 0.5);
//
//   - e2e (e2e.go): applications decided per second, sandbox refresh delay at its least
//     and rate limit off, next to no-op workflows of the same shape on the same server
//     (e2e_vs_noop, target ≥ 0.7); refresh webhook to decision p50 and p99 at half that
//     rate (target p99 ≤ 1 s); stripe_requests_per_application from the sandbox's count
//     (target ≤ 8);
//
//   - load (load.go): on a second stack with the sandbox's rate limit on (25/s): no 429
//     at 80 % of the limit, then 1,000 applications in flight at once on the one worker,
//     all decided once, the process's peak RSS (target ≤ 512 MB) and the API's GET p99.
//
// The sections from ingest on run on the dev stack's embedded components
// (internal/devstack). A Report holds one key per section and Figures, the flat map of
// every named figure; Targets lists each figure with a target.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/bench/benchledger"
	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Names of the figures with targets.
const (
	FigureScoringVsDecode   = "scoring_vs_decode"
	FigureBatchPerCore      = "batch_ledgers_per_s_per_core"
	FigureBatchPerCPUSecond = "batch_ledgers_per_cpu_s"
)

// Targets of issue 12 for this package's figures.
const (
	// TargetScoringVsDecode: features and score cost at most half a plain decode.
	TargetScoringVsDecode = 0.5
	// TargetBatchPerCore: bytes to decision of 12-month ledgers, per core.
	TargetBatchPerCore = 1000
)

// Options says what to measure. Zero fields take the defaults.
type Options struct {
	// Lengths are the ledger lengths in months of the scoring section (default 3, 12, 24).
	Lengths []int
	// Batch is the number of ledgers of the batch section (default 10,000); BatchMonths
	// their length (default 12).
	Batch       int
	BatchMonths int
	// MinTime is how long each side of a scoring comparison runs, at least (default 1 s).
	MinTime time.Duration
	// Workers is the batch's parallelism (default GOMAXPROCS).
	Workers int
	// Sections names the sections to run (default all of Sections).
	Sections []string
	// IngestAccounts is the number of sandbox accounts the ingest section syncs (default
	// 40, about 20,000 transactions).
	IngestAccounts int
	// E2EApplications is the number of applications of each e2e run (default 200).
	E2EApplications int
	// LoadApplications is the number of applications in flight at once in the load
	// section (default 1,000).
	LoadApplications int
	// LoadRateLimit is the sandbox's requests per second in the load section (default
	// Stripe's live-mode 100).
	LoadRateLimit int
}

func (o Options) withDefaults() Options {
	if len(o.Lengths) == 0 {
		o.Lengths = []int{3, 12, 24}
	}
	if o.Batch <= 0 {
		o.Batch = 10000
	}
	if o.BatchMonths <= 0 {
		o.BatchMonths = 12
	}
	if o.MinTime <= 0 {
		o.MinTime = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(o.Sections) == 0 {
		o.Sections = Sections
	}
	if o.IngestAccounts <= 0 {
		o.IngestAccounts = defaultIngestAccounts
	}
	if o.E2EApplications <= 0 {
		o.E2EApplications = defaultE2EApplications
	}
	if o.LoadRateLimit <= 0 {
		o.LoadRateLimit = defaultLoadRateLimit
	}
	if o.LoadApplications <= 0 {
		o.LoadApplications = defaultLoadApplications
	}
	return o
}

// Report is the result of one bench run; with --json it is printed as one object.
type Report struct {
	Machine Machine         `json:"machine"`
	Scoring *ScoringSection `json:"scoring,omitempty"`
	Batch   *BatchSection   `json:"batch,omitempty"`
	Ingest  *IngestSection  `json:"ingest,omitempty"`
	E2E     *E2ESection     `json:"e2e,omitempty"`
	Load    *LoadSection    `json:"load,omitempty"`
	// Figures holds every named figure of every section, for scripts and dashboards:
	// scoring_vs_decode (the largest over the lengths), scoring_vs_decode_<n>m,
	// batch_ledgers_per_s_per_core, …
	Figures map[string]float64 `json:"figures"`
	// Targets lists each figure with a target and whether this run met it.
	Targets []Target `json:"targets"`
}

// Machine is where the run happened.
type Machine struct {
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// Target is one figure's target: Max or Min (the other is zero) and whether Value meets it.
type Target struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Max    float64 `json:"max,omitempty"`
	Min    float64 `json:"min,omitempty"`
	Met    bool    `json:"met"`
}

// ScoringSection compares, per ledger length, features and score with a plain decode.
type ScoringSection struct {
	Ledgers []ScoringLedger `json:"ledgers"`
}

// ScoringLedger is the scoring section's row for one ledger length. Times are per
// ledger, the median of the rounds.
type ScoringLedger struct {
	Months       int `json:"months"`
	Transactions int `json:"transactions"`
	Bytes        int `json:"bytes"`
	// DecodeJSONNs is encoding/json decoding the bytes into the ledger file's structure
	// (without ledger.Transaction's UnmarshalJSON), the yardstick.
	DecodeJSONNs float64 `json:"decode_json_ns"`
	// ParseNs is the project's parse: ledger.Parse (decode and validate) and
	// scoring.FromFile.
	ParseNs float64 `json:"parse_ns"`
	// FeaturesScoreNs is scoring.Engine.Underwrite on the parsed ledger: features, score
	// and policy.
	FeaturesScoreNs float64 `json:"features_score_ns"`
	// ScoringVsDecode is FeaturesScoreNs / DecodeJSONNs; ParseVsDecode ParseNs /
	// DecodeJSONNs.
	ScoringVsDecode float64 `json:"scoring_vs_decode"`
	ParseVsDecode   float64 `json:"parse_vs_decode"`
	// Allocations per ledger of the parse and of features and score.
	ParseAllocs         float64 `json:"parse_allocs"`
	FeaturesScoreAllocs float64 `json:"features_score_allocs"`
}

// BatchSection is the batch from bytes to decision on every core.
type BatchSection struct {
	Ledgers      int `json:"ledgers"`
	Months       int `json:"months"`
	Transactions int `json:"transactions_per_ledger"`
	Workers      int `json:"workers"`
	GOMAXPROCS   int `json:"gomaxprocs"`
	// WallSeconds is the batch's elapsed time; CPUSeconds the process's user and system
	// time meanwhile (on a shared machine, fewer than WallSeconds × GOMAXPROCS).
	WallSeconds float64 `json:"wall_s"`
	CPUSeconds  float64 `json:"cpu_s"`
	// LedgersPerSecond is Ledgers / WallSeconds; LedgersPerSecondPerCore that over
	// GOMAXPROCS (the figure); LedgersPerCPUSecond Ledgers / CPUSeconds, what a
	// core the process had to itself would do.
	LedgersPerSecond        float64 `json:"ledgers_per_s"`
	LedgersPerSecondPerCore float64 `json:"ledgers_per_s_per_core"`
	LedgersPerCPUSecond     float64 `json:"ledgers_per_cpu_s"`
	// Outcomes counts the decisions by outcome: every ledger decided, none lost.
	Outcomes map[string]int `json:"outcomes"`
}

// Sections in the order they run; Options.Sections picks some of them.
var Sections = []string{"scoring", "batch", "ingest", "e2e", "load"}

// Run measures the sections opt names (all by default) in one run: scoring and batch in
// this process, ingest, e2e and load on the dev stack's embedded components
// (internal/devstack), started once for ingest and e2e and once more, with the sandbox's
// rate limit on, for load.
func Run(ctx context.Context, opt Options) (Report, error) {
	opt = opt.withDefaults()
	r := Report{Machine: Machine{GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}, Figures: map[string]float64{}, Targets: []Target{}}
	want := func(name string) bool { return slices.Contains(opt.Sections, name) }
	eng := scoring.DefaultEngine()
	if want("scoring") {
		if err := r.runScoring(ctx, eng, opt); err != nil {
			return Report{}, err
		}
	}
	if want("batch") {
		if err := r.runBatch(ctx, eng, opt); err != nil {
			return Report{}, err
		}
	}
	if want("ingest") || want("e2e") {
		if err := r.runStackSections(ctx, opt, want("ingest"), want("e2e")); err != nil {
			return Report{}, err
		}
	}
	if want("load") {
		if err := r.runLoad(ctx, opt); err != nil {
			return Report{}, err
		}
	}
	return r, nil
}

func (r *Report) target(figure string, value float64, lo, hi float64) {
	t := Target{Figure: figure, Value: value, Min: lo, Max: hi}
	switch {
	case hi != 0:
		t.Met = value <= hi
	default:
		t.Met = value >= lo
	}
	r.Targets = append(r.Targets, t)
}

func (r *Report) runScoring(ctx context.Context, eng *scoring.Engine, opt Options) error {
	sc, err := measureScoring(ctx, eng, opt)
	if err != nil {
		return err
	}
	r.Scoring = &sc
	worst := 0.0
	for _, l := range sc.Ledgers {
		r.Figures[fmt.Sprintf("%s_%dm", FigureScoringVsDecode, l.Months)] = l.ScoringVsDecode
		r.Figures[fmt.Sprintf("parse_vs_decode_%dm", l.Months)] = l.ParseVsDecode
		worst = max(worst, l.ScoringVsDecode)
	}
	r.Figures[FigureScoringVsDecode] = worst
	r.target(FigureScoringVsDecode, worst, 0, TargetScoringVsDecode)
	return nil
}

func (r *Report) runBatch(ctx context.Context, eng *scoring.Engine, opt Options) error {
	b, err := measureBatch(ctx, eng, opt)
	if err != nil {
		return err
	}
	r.Batch = &b
	r.Figures[FigureBatchPerCore] = b.LedgersPerSecondPerCore
	r.Figures[FigureBatchPerCPUSecond] = b.LedgersPerCPUSecond
	r.target(FigureBatchPerCore, b.LedgersPerSecondPerCore, TargetBatchPerCore, 0)
	return nil
}

// runStackSections starts the dev stack with the sandbox's refresh delay at its least
// and its rate limit off, and measures ingest and e2e on it.
func (r *Report) runStackSections(ctx context.Context, opt Options, ingest, e2e bool) error {
	st, err := startStack(ctx, -1)
	if err != nil {
		return err
	}
	defer st.Close()
	if ingest {
		in, err := measureIngest(ctx, st, opt.IngestAccounts)
		if err != nil {
			return err
		}
		r.Ingest = &in
		r.Figures[FigureIngestVsCopy] = in.IngestVsCopy
		r.Figures[FigureIngestTxnsPerS] = in.SyncTxnsPerSecond
		r.Figures[FigureCopyTxnsPerS] = in.CopyTxnsPerSecond
		r.target(FigureIngestVsCopy, in.IngestVsCopy, TargetIngestVsCopy, 0)
	}
	if e2e {
		if err := r.runE2E(ctx, st, opt); err != nil {
			return err
		}
	}
	return nil
}

// plainFile is the ledger file's structure without ledger.Transaction's UnmarshalJSON
// (a defined type drops methods): what encoding/json alone costs.
type plainFile struct {
	Accounts []struct {
		Account      ledger.Account `json:"account"`
		Transactions []plainTxn     `json:"transactions"`
	} `json:"accounts"`
}

type plainTxn ledger.Transaction

// benchLoan is the loan every bench ledger is scored for.
var benchLoan = scoring.Loan{AmountMinor: 300000, TermMonths: 12}

// scoringRounds: each side of a comparison runs in this many alternating rounds, and the
// median round counts, so that a burst of other work on the machine hits one round of
// one side, not a whole side.
const scoringRounds = 5

func measureScoring(ctx context.Context, eng *scoring.Engine, opt Options) (ScoringSection, error) {
	var sec ScoringSection
	for _, months := range opt.Lengths {
		data, asOf, err := benchledger.Ledger(months, 0)
		if err != nil {
			return ScoringSection{}, err
		}
		l, err := scoring.ParseLedgerFile(data)
		if err != nil {
			return ScoringSection{}, fmt.Errorf("parse the %d-month bench ledger: %w", months, err)
		}
		decode := func() error {
			var f plainFile
			return json.Unmarshal(data, &f)
		}
		parse := func() error {
			_, err := scoring.ParseLedgerFile(data)
			return err
		}
		features := func() error {
			_, err := eng.Underwrite(l, asOf, benchLoan, scoring.Operational{})
			return err
		}
		per := opt.MinTime / scoringRounds
		var dec, par, fea []float64
		for range scoringRounds {
			if err := ctx.Err(); err != nil {
				return ScoringSection{}, err
			}
			for _, m := range []struct {
				fn  func() error
				out *[]float64
			}{{decode, &dec}, {parse, &par}, {features, &fea}} {
				ns, err := timeOp(m.fn, per)
				if err != nil {
					return ScoringSection{}, fmt.Errorf("%d-month ledger: %w", months, err)
				}
				*m.out = append(*m.out, ns)
			}
		}
		row := ScoringLedger{Months: months, Transactions: len(l.Transactions), Bytes: len(data),
			DecodeJSONNs: median(dec), ParseNs: median(par), FeaturesScoreNs: median(fea),
			ParseAllocs: allocsPerOp(parse), FeaturesScoreAllocs: allocsPerOp(features)}
		row.ScoringVsDecode = row.FeaturesScoreNs / row.DecodeJSONNs
		row.ParseVsDecode = row.ParseNs / row.DecodeJSONNs
		sec.Ledgers = append(sec.Ledgers, row)
	}
	return sec, nil
}

// timeOp runs fn until at least d has passed (and at least once) and returns the
// nanoseconds per call.
func timeOp(fn func() error, d time.Duration) (float64, error) {
	n := 0
	start := time.Now()
	for {
		if err := fn(); err != nil {
			return 0, err
		}
		n++
		if el := time.Since(start); el >= d {
			return float64(el.Nanoseconds()) / float64(n), nil
		}
	}
}

// allocsPerOp is the heap allocations of one call of fn (the mean of a few).
func allocsPerOp(fn func() error) float64 {
	const runs = 5
	_ = fn() // warm up: allocations of first use are not the steady state
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		_ = fn()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / runs
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// batchVariants is how many different ledgers the batch cycles through: enough that no
// decision is a copy of the one before, few enough to keep their bytes in memory.
const batchVariants = 16

// measureBatch decides opt.Batch ledgers from their bytes on opt.Workers goroutines, the
// way `underwriter score` and the Score activity do: parse, convert, cutoff at the
// newest balance, Underwrite.
func measureBatch(ctx context.Context, eng *scoring.Engine, opt Options) (BatchSection, error) {
	docs := make([][]byte, batchVariants)
	txns := 0
	for v := range docs {
		data, _, err := benchledger.Ledger(opt.BatchMonths, v)
		if err != nil {
			return BatchSection{}, err
		}
		docs[v] = data
		if v == 0 {
			l, err := scoring.ParseLedgerFile(data)
			if err != nil {
				return BatchSection{}, err
			}
			txns = len(l.Transactions)
		}
	}
	runtime.GC() // start from a clean heap: the ledgers' generation is not the batch's
	var next atomic.Int64
	var mu sync.Mutex
	outcomes := map[string]int{}
	errs := make(chan error, opt.Workers)
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := map[string]int{}
			for {
				i := int(next.Add(1) - 1)
				if i >= opt.Batch || ctx.Err() != nil {
					break
				}
				d, err := decide(eng, docs[i%len(docs)])
				if err != nil {
					errs <- fmt.Errorf("ledger %d: %w", i, err)
					return
				}
				mine[d]++
			}
			mu.Lock()
			for k, v := range mine {
				outcomes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return BatchSection{}, err
	}
	if err := ctx.Err(); err != nil {
		return BatchSection{}, err
	}
	procs := runtime.GOMAXPROCS(0)
	b := BatchSection{Ledgers: opt.Batch, Months: opt.BatchMonths, Transactions: txns, Workers: opt.Workers,
		GOMAXPROCS: procs, WallSeconds: wall, CPUSeconds: cpu, Outcomes: outcomes,
		LedgersPerSecond: float64(opt.Batch) / wall}
	b.LedgersPerSecondPerCore = b.LedgersPerSecond / float64(procs)
	if cpu > 0 {
		b.LedgersPerCPUSecond = float64(opt.Batch) / cpu
	}
	return b, nil
}

// decide takes a ledger from its bytes to a decision's outcome.
func decide(eng *scoring.Engine, data []byte) (string, error) {
	l, err := scoring.ParseLedgerFile(data)
	if err != nil {
		return "", err
	}
	d, err := eng.Underwrite(l, scoring.LatestAsOf(l), benchLoan, scoring.Operational{})
	if err != nil {
		return "", err
	}
	return d.Outcome, nil
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
