package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
)

// Names and targets of the load section's figures.
const (
	FigurePeakRSSMB         = "load_peak_rss_mb"
	FigureLoadGetP99        = "load_get_p99_s"
	FigureLoadDecided       = "load_decided"
	FigureRateLimitedAt80   = "rate_limited_at_80pct"
	TargetPeakRSSMB         = 512
	defaultLoadApplications = 1000
	// defaultLoadRateLimit is Stripe's live-mode limit: at test mode's 25 a second the
	// load's 1,000 applications (10 requests each) alone take 400 s or more.
	defaultLoadRateLimit      = wiring.StripeLiveModeRateLimit
	loadGetEvery              = 20 * time.Millisecond
	at80Window                = 15 * time.Second
	createRetryFor            = 5 * time.Minute
	loadDecisionWaitPerAppSec = 2.0
)

// LoadSection is LoadApplications applications in flight at once on one worker process
// (`underwriter worker`) with the sandbox's rate limit on, the API a process of its own
// (internal/cluster); the worker's and the API's Stripe clients keep to 80 % and 20 % of
// the sandbox's limit (--stripe-rate-limit).
type LoadSection struct {
	RateLimit int `json:"rate_limit"`
	// WorkerRateLimit and APIRateLimit are the processes' client-side Stripe limits.
	WorkerRateLimit string `json:"worker_rate_limit"`
	APIRateLimit    string `json:"api_rate_limit"`
	// At80Applications one-account applications were paced so that their Stripe requests
	// (StripeRequestsPerApplication each, measured alone first) come at 80 % of the rate
	// limit; At80RateLimited of their requests got a 429 (target 0).
	StripeRequestsPerApplication int64   `json:"stripe_requests_per_application"`
	At80Applications             int     `json:"at80_applications"`
	At80PerSecond                float64 `json:"at80_applications_per_s"`
	At80RateLimited              int64   `json:"at80_rate_limited"`
	// Applications were submitted at once; Decided of them decided (by outcome), none
	// twice; WallSeconds from the first create to the last decision.
	Applications int            `json:"applications"`
	Decided      int            `json:"decided"`
	Outcomes     map[string]int `json:"outcomes"`
	WallSeconds  float64        `json:"wall_s"`
	// StripeRequests the sandbox answered meanwhile, RateLimited of them with a 429.
	StripeRequests int64 `json:"stripe_requests"`
	RateLimited    int64 `json:"rate_limited"`
	// PeakRSSMB is the worker process's peak resident memory (VmHWM of
	// /proc/<pid>/status, reset before the load). HarnessPeakRSSMB is this process's: the
	// Temporal server with its in-memory database and the sandbox, which a production
	// worker does not carry; the API and Postgres run in processes of their own.
	PeakRSSMB        float64 `json:"peak_rss_mb"`
	HarnessPeakRSSMB float64 `json:"harness_peak_rss_mb"`
	// GETs of GET /v1/applications/{id} were sent back to back meanwhile, one every
	// loadGetEvery, for a random application; their p50 and p99 in seconds, and how many
	// failed.
	GETs      int     `json:"gets"`
	GETErrors int     `json:"get_errors"`
	GETP50    float64 `json:"get_p50_s"`
	GETP99    float64 `json:"get_p99_s"`
}

func (r *Report) runLoad(ctx context.Context, opt Options) error {
	dir, err := os.MkdirTemp("", "underwriter-bench-load-")
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer os.RemoveAll(dir)
	bin, err := cluster.Binary(ctx, dir)
	if err != nil {
		return fmt.Errorf("load: the underwriter binary for the worker process: %w", err)
	}
	cl, err := cluster.Start(ctx, cluster.Config{Binary: bin, Workers: 1, LogDir: dir,
		Sandbox: fcsandbox.Config{RefreshDelay: leastRefreshDelay, RefreshCooldown: -1, RateLimit: opt.LoadRateLimit}})
	if err != nil {
		return fmt.Errorf("load: start the cluster: %w", err)
	}
	defer cl.Close()
	l, err := measureLoad(ctx, cl, opt)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.Load = &l
	r.Figures[FigurePeakRSSMB] = l.PeakRSSMB
	r.Figures[FigureLoadGetP99] = l.GETP99
	r.Figures[FigureLoadDecided] = float64(l.Decided)
	r.Figures[FigureRateLimitedAt80] = float64(l.At80RateLimited)
	r.target(FigurePeakRSSMB, l.PeakRSSMB, 0, TargetPeakRSSMB)
	r.Targets = append(r.Targets, Target{Figure: FigureRateLimitedAt80, Value: float64(l.At80RateLimited), Met: l.At80RateLimited == 0})
	return nil
}

func measureLoad(ctx context.Context, cl *cluster.Cluster, opt Options) (LoadSection, error) {
	pool, err := wiring.OpenPostgres(ctx, cl.DatabaseURL)
	if err != nil {
		return LoadSection{}, err
	}
	defer pool.Close()
	hc := newDriverHTTP()
	d := newDriverFor(pool, nil, cl.SandboxURL, cluster.Lender, cl.Personas, hc, cl.Client(hc), "bench-load")
	d.wait = decisionWait + time.Duration(float64(opt.LoadApplications)*loadDecisionWaitPerAppSec*float64(time.Second))
	l := LoadSection{RateLimit: opt.LoadRateLimit, WorkerRateLimit: cluster.StripeRateLimit(opt.LoadRateLimit, wiring.WorkerStripeShare, 1),
		APIRateLimit: cluster.StripeRateLimit(opt.LoadRateLimit, wiring.APIStripeShare, 1)}
	sb := cl.Sandbox

	// One application alone, then applications paced at 80 % of the limit.
	before := sb.RequestCounts()
	one := d.nextID()
	if err := d.submitRetrying(ctx, one); err != nil {
		return LoadSection{}, err
	}
	if _, err := d.waitDecided(ctx, []string{one}); err != nil {
		return LoadSection{}, err
	}
	l.StripeRequestsPerApplication = sb.RequestCounts().Requests - before.Requests
	l.At80PerSecond = 0.8 * float64(opt.LoadRateLimit) / float64(max(l.StripeRequestsPerApplication, 1))
	l.At80Applications = max(2, min(opt.LoadApplications, int(l.At80PerSecond*at80Window.Seconds())))
	before = sb.RequestCounts()
	paced := d.nextIDs(l.At80Applications)
	if err := d.submitAll(ctx, paced, time.Duration(float64(time.Second)/l.At80PerSecond)); err != nil {
		return LoadSection{}, err
	}
	if _, err := d.waitDecided(ctx, paced); err != nil {
		return LoadSection{}, err
	}
	l.At80RateLimited = sb.RequestCounts().RateLimited - before.RateLimited

	// The load: every application at once, GETs meanwhile.
	n := opt.LoadApplications
	ids := d.nextIDs(n)
	pid := cl.WorkerPID(0)
	if pid == 0 {
		return LoadSection{}, errors.New("the worker process is not running")
	}
	resetPeakRSS("self")
	resetPeakRSS(strconv.Itoa(pid))
	before = sb.RequestCounts()
	start := time.Now()
	var submitted atomic.Int64
	stopGets := make(chan struct{})
	var getsDone sync.WaitGroup
	var lat []float64
	getsDone.Add(1)
	go func() {
		defer getsDone.Done()
		lat, l.GETErrors = d.pollGets(ctx, ids, &submitted, stopGets)
	}()
	err = d.submitAllCounting(ctx, ids, &submitted)
	if err == nil {
		l.Outcomes, err = d.waitDecided(ctx, ids)
	}
	close(stopGets)
	getsDone.Wait()
	if err != nil {
		return LoadSection{}, err
	}
	l.WallSeconds = time.Since(start).Seconds()
	after := sb.RequestCounts()
	l.StripeRequests, l.RateLimited = after.Requests-before.Requests, after.RateLimited-before.RateLimited
	l.Applications = n
	for _, c := range l.Outcomes {
		l.Decided += c
	}
	if twice, err := d.decidedTwice(ctx, ids); err != nil {
		return LoadSection{}, err
	} else if twice > 0 {
		return LoadSection{}, fmt.Errorf("%d applications have more than one decision", twice)
	}
	l.GETs = len(lat)
	l.GETP50, l.GETP99 = quantile(lat, 0.5), quantile(lat, 0.99)
	if cl.WorkerPID(0) != pid {
		return LoadSection{}, fmt.Errorf("the worker process %d exited during the load", pid)
	}
	if l.PeakRSSMB, err = peakRSSMB(strconv.Itoa(pid)); err != nil {
		return LoadSection{}, err
	}
	if l.HarnessPeakRSSMB, err = peakRSSMB("self"); err != nil {
		return LoadSection{}, err
	}
	return l, nil
}

// submitRetrying submits id, retrying while the API answers 503 (Stripe's rate limit
// reached through it), for up to createRetryFor.
func (d *driver) submitRetrying(ctx context.Context, id string) error {
	deadline := time.Now().Add(createRetryFor)
	for {
		err := d.submit(ctx, id)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil || !strings.Contains(err.Error(), "HTTP 503") {
			return err
		}
		if err := sleepUntil(ctx, time.Now().Add(time.Second)); err != nil {
			return err
		}
	}
}

// submitAllCounting submits ids e2eSubmitters at a time, retrying on 503, counting the
// submitted ones in submitted.
func (d *driver) submitAllCounting(ctx context.Context, ids []string, submitted *atomic.Int64) error {
	sem := make(chan struct{}, e2eSubmitters)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := d.submitRetrying(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			submitted.Add(1)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pollGets sends GET /v1/applications/{id} for a random submitted application every
// loadGetEvery until stop, and returns the latencies in seconds and the failures.
func (d *driver) pollGets(ctx context.Context, ids []string, submitted *atomic.Int64, stop <-chan struct{}) ([]float64, int) {
	var lat []float64
	fails := 0
	t := time.NewTicker(loadGetEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return lat, fails
		case <-ctx.Done():
			return lat, fails
		case <-t.C:
		}
		// The submitters take ids in order, roughly: ask for one of the first submitted.
		k := int(submitted.Load())
		if k == 0 {
			continue
		}
		id := ids[rand.IntN(k)]
		start := time.Now()
		_, _, err := d.c.GetApplication(ctx, id)
		lat = append(lat, time.Since(start).Seconds())
		if err != nil {
			fails++
		}
	}
}

// decidedTwice counts the applications among ids with more than one decision row.
func (d *driver) decidedTwice(ctx context.Context, ids []string) (int, error) {
	keys := d.keys(ids)
	var n int
	err := d.pool.QueryRow(ctx, `select count(*) from (select application_id from decisions
		where application_id = any($1) group by application_id having count(*) > 1) t`, keys).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count decisions per application: %w", err)
	}
	return n, nil
}

// resetPeakRSS resets the kernel's peak resident set size (VmHWM) of process pid ("self":
// this one), so that peakRSSMB reports the peak from here on; where that is not possible
// the peak stays the process's since its start.
func resetPeakRSS(pid string) {
	_ = os.WriteFile("/proc/"+pid+"/clear_refs", []byte("5"), 0)
}

// peakRSSMB reads VmHWM from /proc/<pid>/status ("self": this process), in MB (2^20 bytes).
func peakRSSMB(pid string) (float64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: VmHWM %q: %w", rest, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/%s/status", pid)
}
