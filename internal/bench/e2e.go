package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Names and targets of the e2e section's figures.
const (
	FigureE2EVsNoop                  = "e2e_vs_noop"
	FigureE2EPerSecond               = "e2e_applications_per_s"
	FigureNoopPerSecond              = "noop_workflows_per_s"
	FigureRefreshToDecisionP50       = "refresh_to_decision_p50_s"
	FigureRefreshToDecisionP99       = "refresh_to_decision_p99_s"
	FigureStripeRequestsPerApp       = "stripe_requests_per_application"
	TargetE2EVsNoop                  = 0.7
	TargetRefreshToDecisionP99       = 1.0
	TargetStripeRequestsPerApp       = 8
	defaultE2EApplications           = 200
	e2ePersona                       = "steady_salaried"
	noopTaskQueue                    = "bench-noop"
	noopSignal                       = "bench-noop"
	e2eSubmitters                    = 16
	latencyWindow                    = 20 * time.Second
	refreshedTransactionsWebhookType = fcsandbox.EventAccountRefreshedTransactions
)

// WorkflowShape is what one application's workflow history holds: the no-op workflow
// runs as many activities, receives as many signals and starts as many timers.
type WorkflowShape struct {
	Activities int `json:"activities"`
	Signals    int `json:"signals"`
	Timers     int `json:"timers"`
}

// E2ESection is applications from POST /v1/applications and the bank link to a decision,
// on the dev stack with the sandbox's refresh delay at its least and its rate limit off,
// next to a no-op workflow of the same shape on the same Temporal server.
type E2ESection struct {
	// Applications were created and linked at once (e2eSubmitters at a time); Decided of
	// them were decided, by outcome in Outcomes.
	Applications int            `json:"applications"`
	Decided      int            `json:"decided"`
	Outcomes     map[string]int `json:"outcomes"`
	// WallSeconds is from the first create to the last decision.
	WallSeconds           float64 `json:"wall_s"`
	ApplicationsPerSecond float64 `json:"applications_per_s"`
	// Shape is the workflow history of one application; NoopWallSeconds the time the same
	// number of no-op workflows of that shape took on the same server, started the same
	// way; NoopPerSecond their rate and E2EVsNoop ApplicationsPerSecond / NoopPerSecond.
	Shape           WorkflowShape `json:"shape"`
	NoopWallSeconds float64       `json:"noop_wall_s"`
	NoopPerSecond   float64       `json:"noop_workflows_per_s"`
	E2EVsNoop       float64       `json:"e2e_vs_noop"`
	// StripeRequestsPerApplication is the sandbox's own count of the Stripe requests of
	// the Applications one-account applications, from their creates to their decisions,
	// over Applications (no 429s: the rate limit is off); StripeRequestsFirst the count of
	// the one application run alone first. One more refresh-status read when the refresh
	// webhook comes after the workflow's first read moves an application's count by one.
	StripeRequestsPerApplication float64 `json:"stripe_requests_per_application"`
	StripeRequestsFirst          int64   `json:"stripe_requests_first_application"`
	// Latency: LatencyApplications were submitted at PacedPerSecond (half of
	// ApplicationsPerSecond); the time from the API's receipt of the refreshed-
	// transactions webhook to the decision row, p50 and p99 in seconds.
	LatencyApplications  int     `json:"latency_applications"`
	PacedPerSecond       float64 `json:"paced_applications_per_s"`
	RefreshToDecisionP50 float64 `json:"refresh_to_decision_p50_s"`
	RefreshToDecisionP99 float64 `json:"refresh_to_decision_p99_s"`
}

func (r *Report) runE2E(ctx context.Context, st *devstack.Stack, opt Options) error {
	e, err := measureE2E(ctx, st, opt.E2EApplications)
	if err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	r.E2E = &e
	r.Figures[FigureE2EVsNoop] = e.E2EVsNoop
	r.Figures[FigureE2EPerSecond] = e.ApplicationsPerSecond
	r.Figures[FigureNoopPerSecond] = e.NoopPerSecond
	r.Figures[FigureRefreshToDecisionP50] = e.RefreshToDecisionP50
	r.Figures[FigureRefreshToDecisionP99] = e.RefreshToDecisionP99
	r.Figures[FigureStripeRequestsPerApp] = e.StripeRequestsPerApplication
	r.target(FigureE2EVsNoop, e.E2EVsNoop, TargetE2EVsNoop, 0)
	r.target(FigureRefreshToDecisionP99, e.RefreshToDecisionP99, 0, TargetRefreshToDecisionP99)
	r.target(FigureStripeRequestsPerApp, e.StripeRequestsPerApplication, 0, TargetStripeRequestsPerApp)
	return nil
}

func measureE2E(ctx context.Context, st *devstack.Stack, n int) (E2ESection, error) {
	d := newDriver(st, "bench-e2e")
	// One application alone: its Stripe requests and its workflow's shape.
	before := st.Sandbox.RequestCounts()
	one := d.nextID()
	if err := d.submit(ctx, one); err != nil {
		return E2ESection{}, err
	}
	if _, err := d.waitDecided(ctx, []string{one}); err != nil {
		return E2ESection{}, err
	}
	e := E2ESection{StripeRequestsFirst: st.Sandbox.RequestCounts().Requests - before.Requests}
	var err error
	if e.Shape, err = d.shape(ctx, one); err != nil {
		return E2ESection{}, err
	}

	// Throughput: n applications at once.
	ids := d.nextIDs(n)
	before = st.Sandbox.RequestCounts()
	start := time.Now()
	if err := d.submitAll(ctx, ids, 0); err != nil {
		return E2ESection{}, err
	}
	if e.Outcomes, err = d.waitDecided(ctx, ids); err != nil {
		return E2ESection{}, err
	}
	e.WallSeconds = time.Since(start).Seconds()
	e.StripeRequestsPerApplication = float64(st.Sandbox.RequestCounts().Requests-before.Requests) / float64(n)
	e.Applications = n
	for _, c := range e.Outcomes {
		e.Decided += c
	}
	e.ApplicationsPerSecond = float64(n) / e.WallSeconds

	// The no-op workflows of the same shape, as many, on the same server.
	if e.NoopWallSeconds, err = runNoop(ctx, st.Temporal, e.Shape, n); err != nil {
		return E2ESection{}, err
	}
	e.NoopPerSecond = float64(n) / e.NoopWallSeconds
	e.E2EVsNoop = e.ApplicationsPerSecond / e.NoopPerSecond

	// Latency at half the maximum rate.
	e.PacedPerSecond = e.ApplicationsPerSecond / 2
	e.LatencyApplications = max(5, min(n, int(e.PacedPerSecond*latencyWindow.Seconds())))
	paced := d.nextIDs(e.LatencyApplications)
	if err := d.submitAll(ctx, paced, time.Duration(float64(time.Second)/e.PacedPerSecond)); err != nil {
		return E2ESection{}, err
	}
	if _, err := d.waitDecided(ctx, paced); err != nil {
		return E2ESection{}, err
	}
	lat, err := d.refreshToDecision(ctx, paced)
	if err != nil {
		return E2ESection{}, err
	}
	e.RefreshToDecisionP50, e.RefreshToDecisionP99 = quantile(lat, 0.5), quantile(lat, 0.99)
	return e, nil
}

// driver submits applications to an API (the dev stack's, or a cluster's process) as a
// loan backend and the applicant's browser would, and watches their decisions in Postgres.
type driver struct {
	pool       *pgxpool.Pool
	temporal   tclient.Client
	sandboxURL string
	// lender is the API key's lender: stored application ids are its keys
	// (loan.ApplicationKey).
	lender  string
	hc      *http.Client
	c       devstack.Client
	persona fcsandbox.Persona
	prefix  string
	// wait is how long waitDecided waits for the last decision (0: decisionWait).
	wait time.Duration
	mu   sync.Mutex
	seq  int
}

func newDriver(st *devstack.Stack, name string) *driver {
	hc := newDriverHTTP()
	return newDriverFor(st.Pool, st.Temporal, st.SandboxURL, loan.DevLender, st.Personas, hc, st.Client(hc), name)
}

func newDriverHTTP() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

func newDriverFor(pool *pgxpool.Pool, temporal tclient.Client, sandboxURL, lender string, personas []fcsandbox.Persona,
	hc *http.Client, c devstack.Client, name string) *driver {
	d := &driver{pool: pool, temporal: temporal, sandboxURL: sandboxURL, lender: lender, hc: hc, c: c,
		prefix: fmt.Sprintf("%s-%d", name, time.Now().UnixNano())}
	for _, p := range personas {
		if p.Name == e2ePersona {
			d.persona = p
		}
	}
	return d
}

// key is the stored id of application id.
func (d *driver) key(id string) string { return loan.ApplicationKey(d.lender, id) }

// keys are the stored ids of ids.
func (d *driver) keys(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = d.key(id)
	}
	return out
}

func (d *driver) nextID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	return fmt.Sprintf("%s-%d", d.prefix, d.seq)
}

func (d *driver) nextIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = d.nextID()
	}
	return ids
}

// submit creates the application and links the persona's account, as a loan backend
// and Stripe.js would.
func (d *driver) submit(ctx context.Context, id string) error {
	p := d.persona
	created, err := d.c.CreateApplication(ctx, api.ApplicationRequest{
		ApplicationID: id, LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency,
		Applicant: &api.Applicant{Name: "Bench " + p.Name, Email: p.Name + "@example.com"},
	})
	if err != nil {
		return err
	}
	if _, err := fcsandbox.CompleteLink(ctx, d.hc, d.sandboxURL, created.ClientSecret, p.Name); err != nil {
		return fmt.Errorf("link %s: %w", id, err)
	}
	return nil
}

// submitAll submits ids: every gap, or e2eSubmitters at a time when gap is 0.
func (d *driver) submitAll(ctx context.Context, ids []string, gap time.Duration) error {
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, e2eSubmitters)
	next := time.Now()
	for _, id := range ids {
		if gap > 0 {
			if err := sleepUntil(ctx, next); err != nil {
				return err
			}
			next = next.Add(gap)
		} else {
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if gap == 0 {
				defer func() { <-sem }()
			}
			if err := d.submit(ctx, id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(slices.Collect(chanValues(errs))...)
}

func chanValues[T any](ch <-chan T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for v := range ch {
			if !yield(v) {
				return
			}
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// decidedPoll is how often waitDecided counts the decisions in Postgres.
const decidedPoll = 50 * time.Millisecond

// decisionWait is how long waitDecided waits for the last decision.
const decisionWait = 5 * time.Minute

// waitDecided waits until every application in ids has its decision row and returns the
// decisions by outcome; an application not decided within d.wait is an error that
// names how many are missing.
func (d *driver) waitDecided(ctx context.Context, ids []string) (map[string]int, error) {
	keys := d.keys(ids)
	wait := d.wait
	if wait <= 0 {
		wait = decisionWait
	}
	deadline := time.Now().Add(wait)
	for {
		var n int
		if err := d.pool.QueryRow(ctx, `select count(*) from decisions where application_id = any($1)`, keys).Scan(&n); err != nil {
			return nil, fmt.Errorf("count decisions: %w", err)
		}
		if n >= len(ids) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d applications undecided after %s", len(ids)-n, len(ids), wait)
		}
		if err := sleepUntil(ctx, time.Now().Add(decidedPoll)); err != nil {
			return nil, err
		}
	}
	rows, err := d.pool.Query(ctx, `select outcome, count(*) from decisions where application_id = any($1) group by outcome`, keys)
	if err != nil {
		return nil, fmt.Errorf("count outcomes: %w", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var o string
		var c int
		if err := rows.Scan(&o, &c); err != nil {
			return nil, err
		}
		out[o] = c
	}
	return out, rows.Err()
}

// refreshToDecision returns, per application, the seconds from the API's receipt of the
// last refreshed-transactions webhook of its accounts before the decision to the decision
// row's insert.
func (d *driver) refreshToDecision(ctx context.Context, ids []string) ([]float64, error) {
	keys := d.keys(ids)
	const q = `
		select extract(epoch from d.created_at - max(w.received_at))::float8
		from decisions d
		join application_accounts aa on aa.application_id = d.application_id
		join webhook_events w on w.account_id = aa.account_id and w.type = $2 and w.received_at <= d.created_at
		where d.application_id = any($1)
		group by d.application_id, d.created_at`
	rows, err := d.pool.Query(ctx, q, keys, refreshedTransactionsWebhookType)
	if err != nil {
		return nil, fmt.Errorf("refresh to decision: %w", err)
	}
	var out []float64
	for rows.Next() {
		var s float64
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("refresh to decision: %d of %d applications have a refreshed-transactions webhook before their decision", len(out), len(ids))
	}
	return out, nil
}

// shape counts the activities, signals (and updates) and timers of the application's
// workflow history.
func (d *driver) shape(ctx context.Context, id string) (WorkflowShape, error) {
	app, err := store.New(d.pool).GetApplication(ctx, d.key(id))
	if err != nil {
		return WorkflowShape{}, err
	}
	var s WorkflowShape
	it := d.temporal.GetWorkflowHistory(ctx, app.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return WorkflowShape{}, fmt.Errorf("history of %s: %w", app.WorkflowID, err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			s.Activities++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			s.Signals++
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			s.Timers++
		}
	}
	return s, nil
}

// noopWorkflow receives shape.Signals signals, then runs shape.Timers timers of a
// millisecond and shape.Activities no-op activities, one after the other.
func noopWorkflow(ctx workflow.Context, shape WorkflowShape) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	ch := workflow.GetSignalChannel(ctx, noopSignal)
	for range shape.Signals {
		ch.Receive(ctx, nil)
	}
	for range shape.Timers {
		if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	for range shape.Activities {
		if err := workflow.ExecuteActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noopActivity(context.Context) error { return nil }

// runNoop runs n no-op workflows of shape on their own task queue and worker in this
// process, started e2eSubmitters at a time like the applications, each sent its signals
// right after its start, and returns the seconds until the last one completed.
func runNoop(ctx context.Context, c tclient.Client, shape WorkflowShape, n int) (float64, error) {
	w := worker.New(c, noopTaskQueue, worker.Options{})
	w.RegisterWorkflow(noopWorkflow)
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		return 0, fmt.Errorf("start the no-op worker: %w", err)
	}
	defer w.Stop()
	prefix := fmt.Sprintf("bench-noop-%d", time.Now().UnixNano())
	runs := make([]tclient.WorkflowRun, n)
	errs := make([]error, n)
	sem := make(chan struct{}, e2eSubmitters)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("%s-%d", prefix, i)
			run, err := c.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{ID: id, TaskQueue: noopTaskQueue}, noopWorkflow, shape)
			if err != nil {
				errs[i] = err
				return
			}
			for range shape.Signals {
				if err := c.SignalWorkflow(ctx, id, "", noopSignal, nil); err != nil {
					errs[i] = err
					return
				}
			}
			runs[i] = run
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("start no-op workflows: %w", err)
	}
	for _, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			return 0, fmt.Errorf("no-op workflow: %w", err)
		}
	}
	return time.Since(start).Seconds(), nil
}

// quantile returns the q-quantile of xs (nearest rank); 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
