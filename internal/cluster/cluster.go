// Package cluster runs underwriter as separate OS processes on one machine, for the chaos
// run and for scale-out tests: N `underwriter worker` processes and one `underwriter api`
// process, beside an embedded Temporal server (temporalembed; or, with
// Config.TemporalProcess, `underwriter temporal` as a process of its own with its state in
// Postgres), a throwaway Postgres (pgembed) and the Stripe sandbox (fcsandbox), all on
// loopback.
//
// Every piece can be hurt the way production is: a worker or the API killed with SIGKILL
// and started again, Postgres restarted on its data directory and port, the sandbox's API
// and webhook delivery stopped and started again on the same address with its state kept
// (it lives in this process: see fcsandbox.Server.SuspendWebhooks). The Temporal server is
// not restarted: it stands for Temporal Cloud.
//
// Each process appends its output to one log file in Config.LogDir (worker-0.log,
// api.log, and sandbox.log, temporal.log and postgres.log for the embedded parts), with a
// line marking each start.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/ctxsleep"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/internal/pgembed"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Config configures Start.
type Config struct {
	// Binary is the underwriter binary the worker and API processes run (see Binary).
	Binary string
	// Workers is how many worker processes run (0 = 1).
	Workers int
	// WorkerArgs are extra flags of every worker, e.g. --max-concurrent-activities=8.
	WorkerArgs []string
	// LogDir receives the log files; "" makes a temporary directory that Close removes.
	LogDir string
	// Sandbox configures the Stripe sandbox. Start sets its APIKey, WebhookURL,
	// WebhookSecret and Logger, and serves the sample personas when it names none.
	Sandbox fcsandbox.Config
	// Logger receives the cluster's own events: starts, kills, restarts (nil = discard).
	Logger *slog.Logger
	// TemporalProcess runs the Temporal server as a process of its own, `underwriter
	// temporal`, its state in the cluster's Postgres (database TemporalDatabase and its
	// visibility twin), as a production-like topology would, instead of in memory in
	// this process. Its output goes to temporal.log.
	TemporalProcess bool
}

// TemporalDatabase is the database of the Temporal server's own tables in the cluster's
// Postgres when Config.TemporalProcess is set.
const TemporalDatabase = "temporal"

// Cluster is a running multi-process underwriter. Close it when done.
type Cluster struct {
	// APIURL is the API's base URL; it stays the same across API restarts.
	APIURL string
	// SandboxURL is the Stripe sandbox's base URL; it stays the same across restarts.
	SandboxURL string
	// DatabaseURL is the Postgres URL; it stays the same across restarts.
	DatabaseURL string
	// TemporalAddress and Namespace locate the embedded Temporal server.
	TemporalAddress, Namespace string
	// LenderKey is the API key the cluster's loan backends send.
	LenderKey string
	// StripeKey is the sandbox's secret key for this cluster, which the worker and the
	// API use; a test key made at Start.
	StripeKey string
	// LogDir holds the log files.
	LogDir string
	// Sandbox is the running Stripe sandbox: its fault counts, its personas.
	Sandbox *fcsandbox.Server
	// Personas are the sandbox's personas, in manifest order.
	Personas []fcsandbox.Persona

	logger        *slog.Logger
	webhookSecret string
	// requestHashKey keys the API's request hashes: one per cluster, the same across
	// restarts of the API, or a retried POST would look like another request.
	requestHashKey string
	apiAddr        string
	sandboxAddr    string
	personaFS      fs.FS
	pg             *pgembed.Cluster
	temporal       tclient.Client
	api            *proc
	workers        []*proc
	temporalProc   *proc // nil when the server is embedded

	// workerRateLimit and apiRateLimit are each worker's and the API's
	// UNDERWRITER_STRIPE_RATE_LIMIT: their shares of the sandbox's limit (StripeRateLimit).
	workerRateLimit, apiRateLimit string

	sbMu   sync.Mutex
	sbHTTP *http.Server // nil while the sandbox is down

	closers []func() error
}

// Start brings the cluster up and returns once every process is ready: the API answers
// /healthz and every worker polls its task queue. On error everything already started
// is stopped again.
func Start(ctx context.Context, cfg Config) (cl *Cluster, err error) {
	if cfg.Binary == "" {
		return nil, errors.New("cluster: Config.Binary is empty: use cluster.Binary or cluster.Build")
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("cluster: Config.Workers %d is negative", cfg.Workers)
	}
	c := &Cluster{logger: cfg.Logger, StripeKey: "sk_test_" + randomHex(12), webhookSecret: "whsec_" + randomHex(16),
		requestHashKey: randomHex(32)}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	if err := c.openLogDir(cfg.LogDir); err != nil {
		return nil, err
	}
	begin := time.Now()
	if err := c.startPostgres(ctx, cfg.Binary); err != nil {
		return nil, err
	}
	if c.LenderKey, err = provisionLender(ctx, c.DatabaseURL); err != nil {
		return nil, fmt.Errorf("provision the lender: %w", err)
	}
	if cfg.TemporalProcess {
		err = c.startTemporalProcess(ctx, cfg.Binary)
	} else {
		err = c.startTemporal(ctx)
	}
	if err != nil {
		return nil, err
	}
	if c.apiAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	c.APIURL = "http://" + c.apiAddr
	if err := c.startSandbox(cfg.Sandbox); err != nil {
		return nil, err
	}
	c.workerRateLimit = StripeRateLimit(cfg.Sandbox.RateLimit, wiring.WorkerStripeShare, cfg.Workers)
	c.apiRateLimit = StripeRateLimit(cfg.Sandbox.RateLimit, wiring.APIStripeShare, 1)
	c.api = &proc{name: "api", binary: cfg.Binary, args: []string{"api"}, env: c.apiEnv, logPath: c.logPath("api")}
	c.onClose(func() error { c.api.stop(); return nil })
	if err := c.StartAPI(ctx); err != nil {
		return nil, err
	}
	for i := range cfg.Workers {
		name := "worker-" + strconv.Itoa(i)
		w := &proc{name: name, binary: cfg.Binary, args: append([]string{"worker"}, cfg.WorkerArgs...), env: c.workerEnv, logPath: c.logPath(name)}
		c.workers = append(c.workers, w)
		c.onClose(func() error { w.stop(); return nil })
		if err := c.StartWorker(ctx, i); err != nil {
			return nil, err
		}
	}
	c.logger.Info("cluster ready", "workers", cfg.Workers, "api", c.APIURL, "sandbox", c.SandboxURL,
		"log_dir", c.LogDir, "ms", time.Since(begin).Milliseconds())
	return c, nil
}

// openLogDir uses dir, or makes a temporary one that Close removes.
func (c *Cluster) openLogDir(dir string) error {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create log directory: %w", err)
		}
		c.LogDir = dir
		return nil
	}
	dir, err := os.MkdirTemp("", "underwriter-cluster-")
	if err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	c.LogDir = dir
	c.onClose(func() error { return os.RemoveAll(dir) })
	return nil
}

func (c *Cluster) logPath(name string) string { return filepath.Join(c.LogDir, name+".log") }

// fileLogger returns a JSON logger appending to the log file name at level, closed at
// Close.
func (c *Cluster) fileLogger(name string, level slog.Level) (*slog.Logger, error) {
	f, err := os.OpenFile(c.logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	c.onClose(f.Close)
	return slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: level})), nil
}

// startPostgres starts a throwaway Postgres and applies the migrations with the binary's
// own `underwriter migrate`, as an operator would.
func (c *Cluster) startPostgres(ctx context.Context, binary string) error {
	logger, err := c.fileLogger("postgres", slog.LevelDebug)
	if err != nil {
		return err
	}
	pg, err := pgembed.Start(ctx, pgembed.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.pg = pg
	c.onClose(pg.Stop)
	c.DatabaseURL = pg.URL("postgres")
	cmd := exec.CommandContext(ctx, binary, "migrate")
	cmd.Env = []string{"DATABASE_URL=" + c.DatabaseURL}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("underwriter migrate: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startTemporal starts the embedded Temporal server (in memory, no UI) with the
// workflows' search attributes, and the client that watches the workers' pollers.
func (c *Cluster) startTemporal(ctx context.Context) error {
	logger, err := c.fileLogger("temporal", slog.LevelWarn)
	if err != nil {
		return err
	}
	ts, err := temporalembed.Start(ctx, temporalembed.Config{
		UIPort: temporalembed.NoUI, SearchAttributes: workflows.SearchAttributeTypes(), Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("start temporal server: %w", err)
	}
	c.onClose(ts.Stop)
	c.TemporalAddress, c.Namespace = ts.FrontendAddress(), ts.Namespace()
	c.temporal, err = wiring.DialTemporal(ctx, wiring.TemporalConfig{Address: c.TemporalAddress, Namespace: c.Namespace}, logger)
	if err != nil {
		return err
	}
	c.onClose(func() error { c.temporal.Close(); return nil })
	return nil
}

// startTemporalProcess runs `underwriter temporal` on the cluster's Postgres and waits
// until it has registered the namespace and the search attributes (it says so on its
// output only then), then dials the client that watches the workers' pollers.
func (c *Cluster) startTemporalProcess(ctx context.Context, binary string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	c.TemporalAddress, c.Namespace = addr, temporalembed.DefaultNamespace
	p := &proc{name: "temporal", binary: binary, logPath: c.logPath("temporal"),
		args: []string{"temporal", "--database-url", c.pg.URL(TemporalDatabase), "--port", port, "--ui-port", "-1",
			"--namespace", c.Namespace, "--history-shards", "4", "--log-format", "json", "--log-level", "warn"},
		env: func() []string { return inherited() }}
	c.temporalProc = p
	c.onClose(func() error { p.stop(); return nil })
	if err := p.start(); err != nil {
		return err
	}
	if err := p.waitReady(ctx, func(context.Context) error {
		if !strings.Contains(p.logTail(), "temporal server: frontend "+addr) {
			return errors.New("not started yet")
		}
		return nil
	}); err != nil {
		return err
	}
	c.logger.Info("temporal started", "pid", p.pid(), "frontend", addr)
	c.temporal, err = wiring.DialTemporal(ctx, wiring.TemporalConfig{Address: c.TemporalAddress, Namespace: c.Namespace}, c.logger)
	if err != nil {
		return err
	}
	c.onClose(func() error { c.temporal.Close(); return nil })
	return nil
}

// startSandbox creates the sandbox, sending its webhooks to the API, and serves it.
func (c *Cluster) startSandbox(cfg fcsandbox.Config) error {
	logger, err := c.fileLogger("sandbox", slog.LevelInfo)
	if err != nil {
		return err
	}
	cfg.APIKey, cfg.WebhookSecret, cfg.Logger = c.StripeKey, c.webhookSecret, logger
	cfg.WebhookURL = c.APIURL + "/v1/webhooks/stripe"
	personas := cfg.Personas
	switch {
	case personas == nil && cfg.PersonaDir != "":
		personas = os.DirFS(cfg.PersonaDir)
	case personas == nil:
		personas = fcsandbox.SamplePersonas()
		cfg.Personas = personas
	}
	c.personaFS = personas
	if c.Personas, err = fcsandbox.LoadPersonas(personas); err != nil {
		return fmt.Errorf("load personas: %w", err)
	}
	sb, err := fcsandbox.New(cfg)
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	c.Sandbox = sb
	c.onClose(func() error { sb.Close(); return nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the sandbox: %w", err)
	}
	c.sandboxAddr = ln.Addr().String()
	c.SandboxURL = "http://" + c.sandboxAddr
	c.serveSandbox(ln)
	c.onClose(func() error { c.stopSandboxHTTP(); return nil })
	return nil
}

// PersonaFS returns the file system of the sandbox's personas: the manifest and the
// ledger files.
func (c *Cluster) PersonaFS() fs.FS { return c.personaFS }

// serveSandbox serves the sandbox on ln until stopSandboxHTTP.
func (c *Cluster) serveSandbox(ln net.Listener) {
	hs := &http.Server{Handler: c.Sandbox.Handler(), ReadHeaderTimeout: api.ReadHeaderTimeout}
	c.sbMu.Lock()
	c.sbHTTP = hs
	c.sbMu.Unlock()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logger.Error("sandbox http server", "err", err)
		}
	}()
}

// stopSandboxHTTP closes the sandbox's listener and every connection at once, as a
// crashed server's would be.
func (c *Cluster) stopSandboxHTTP() {
	c.sbMu.Lock()
	hs := c.sbHTTP
	c.sbHTTP = nil
	c.sbMu.Unlock()
	if hs != nil {
		_ = hs.Close()
	}
}

// Client is a loan backend's client of the API, as the cluster's lender, over hc.
func (c *Cluster) Client(hc *http.Client) devstack.Client {
	return devstack.Client{HTTP: hc, URL: c.APIURL, Key: c.LenderKey}
}

// Workers returns how many worker processes the cluster has.
func (c *Cluster) Workers() int { return len(c.workers) }

// worker returns worker i or an error naming the range.
func (c *Cluster) worker(i int) (*proc, error) {
	if i < 0 || i >= len(c.workers) {
		return nil, fmt.Errorf("worker %d: the cluster has workers 0 to %d", i, len(c.workers)-1)
	}
	return c.workers[i], nil
}

// WorkerPID returns the process id of worker i, 0 when it does not run. The SDK's
// default identity of its pollers, as recorded in histories, is "<pid>@<host>@".
func (c *Cluster) WorkerPID(i int) int {
	w, err := c.worker(i)
	if err != nil {
		return 0
	}
	return w.pid()
}

// CPU returns the CPU time (user and system) used so far by the process named name,
// over all its starts: "worker-0", "api" or "temporal" (when Config.TemporalProcess).
func (c *Cluster) CPU(name string) (time.Duration, error) {
	ps := append([]*proc{c.api, c.temporalProc}, c.workers...)
	for _, p := range ps {
		if p != nil && p.name == name {
			return p.cpuTime()
		}
	}
	return 0, fmt.Errorf("cpu: no process %q in the cluster", name)
}

// StartWorker starts worker i (after KillWorker) and waits until it polls its task queue.
func (c *Cluster) StartWorker(ctx context.Context, i int) error {
	w, err := c.worker(i)
	if err != nil {
		return err
	}
	if err := w.start(); err != nil {
		return err
	}
	pid := w.pid()
	// The SDK's default identity is "<pid>@<host>@": a poller with it is this process's.
	prefix := strconv.Itoa(pid) + "@"
	if err := w.waitReady(ctx, func(ctx context.Context) error { return c.polling(ctx, prefix) }); err != nil {
		return err
	}
	c.logger.Info("worker started", "worker", i, "pid", pid)
	return nil
}

// polling reports nil once a poller whose identity starts with prefix polls the
// workflow task queue.
func (c *Cluster) polling(ctx context.Context, prefix string) error {
	resp, err := c.temporal.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return err
	}
	for _, p := range resp.GetPollers() {
		if strings.HasPrefix(p.GetIdentity(), prefix) {
			return nil
		}
	}
	return fmt.Errorf("no poller %s… on task queue %s yet", prefix, workflows.TaskQueue)
}

// KillWorker kills worker i with SIGKILL and waits until it is gone. Its activities in
// flight are retried by Temporal once their start-to-close or heartbeat timeouts pass.
func (c *Cluster) KillWorker(i int) error {
	w, err := c.worker(i)
	if err != nil {
		return err
	}
	pid := w.pid()
	if err := w.kill(); err != nil {
		return err
	}
	c.logger.Info("worker killed", "worker", i, "pid", pid)
	return nil
}

// RestartWorker kills worker i, waits downtime, and starts it again.
func (c *Cluster) RestartWorker(ctx context.Context, i int, downtime time.Duration) error {
	if err := c.KillWorker(i); err != nil {
		return err
	}
	if err := ctxsleep.Sleep(ctx, downtime); err != nil {
		return err
	}
	return c.StartWorker(ctx, i)
}

// StartAPI starts the API process (after KillAPI) and waits until it answers /healthz.
func (c *Cluster) StartAPI(ctx context.Context) error {
	if err := c.api.start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Second}
	if err := c.api.waitReady(ctx, func(ctx context.Context) error { return healthy(ctx, hc, c.APIURL+"/healthz") }); err != nil {
		return err
	}
	c.logger.Info("api started", "pid", c.api.pid(), "url", c.APIURL)
	return nil
}

// KillAPI kills the API process with SIGKILL and waits until it is gone: requests in
// flight get a broken connection, webhooks are retried by the sandbox.
func (c *Cluster) KillAPI() error {
	pid := c.api.pid()
	if err := c.api.kill(); err != nil {
		return err
	}
	c.logger.Info("api killed", "pid", pid)
	return nil
}

// RestartAPI kills the API, waits downtime, and starts it again on the same address.
func (c *Cluster) RestartAPI(ctx context.Context, downtime time.Duration) error {
	if err := c.KillAPI(); err != nil {
		return err
	}
	if err := ctxsleep.Sleep(ctx, downtime); err != nil {
		return err
	}
	return c.StartAPI(ctx)
}

// RestartPostgres restarts Postgres on its data directory and port (pgembed.Restart):
// every open connection of the worker and the API breaks, and their pools reconnect.
func (c *Cluster) RestartPostgres(ctx context.Context) error {
	begin := time.Now()
	if err := c.pg.Restart(ctx); err != nil {
		return err
	}
	c.logger.Info("postgres restarted", "ms", time.Since(begin).Milliseconds())
	return nil
}

// RestartSandbox stops the sandbox, as a crash of Stripe's API would, for downtime, and
// starts it again on the same address with the same state: its listener and every
// connection close at once and webhook delivery is suspended; then it listens again and
// delivers what waited. The sandbox lives in this process, so its state survives by
// staying in memory (fcsandbox.Server.SuspendWebhooks).
func (c *Cluster) RestartSandbox(ctx context.Context, downtime time.Duration) error {
	c.Sandbox.SuspendWebhooks()
	c.stopSandboxHTTP()
	c.logger.Info("sandbox stopped")
	if err := ctxsleep.Sleep(ctx, downtime); err != nil {
		return err
	}
	ln, err := listenAgain(ctx, c.sandboxAddr)
	if err != nil {
		return err
	}
	c.serveSandbox(ln)
	c.Sandbox.ResumeWebhooks()
	c.logger.Info("sandbox started", "url", c.SandboxURL)
	return nil
}

// listenAgain listens on addr, retrying for a moment while the old socket lets go.
func listenAgain(ctx context.Context, addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		if err := ctxsleep.Sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("listen for the sandbox again on %s: %w", addr, err)
}

// onClose registers fn to run at Close, in reverse order of registration.
func (c *Cluster) onClose(fn func() error) { c.closers = append(c.closers, fn) }

// Close stops every process (SIGTERM, then SIGKILL after a grace period) and every
// embedded component, in reverse order of start, and removes a temporary log directory.
func (c *Cluster) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		if err := c.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.closers = nil
	return errors.Join(errs...)
}

// healthy reports nil when GET url answers 200.
func healthy(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, res.StatusCode)
	}
	return nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
