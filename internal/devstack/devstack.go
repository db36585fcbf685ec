// Package devstack runs underwriter's whole pipeline in one process on embedded defaults:
// the Temporal server and Web UI, Postgres (DATABASE_URL or a throwaway cluster), the
// Stripe sandbox, the worker and the API, all on loopback and talking real HTTP and gRPC.
// `underwriter dev` and the integration tests use it. It links the Temporal server, so
// production commands do not import it.
package devstack

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
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/pgembed"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/migrations"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Config configures the embedded stack. Zero values pick free loopback ports, a throwaway
// Postgres and an in-memory Temporal database.
type Config struct {
	// DatabaseURL is an existing Postgres; "" starts a throwaway cluster removed on Close.
	DatabaseURL string
	// TemporalDBPath is the Temporal server's SQLite file; "" keeps it in memory.
	TemporalDBPath string
	// TemporalPort and UIPort are the frontend gRPC and Web UI ports (0: free; UIPort -1: no UI).
	TemporalPort, UIPort int
	// APIAddr and SandboxAddr are listen addresses (default 127.0.0.1:0).
	APIAddr, SandboxAddr string
	// PersonaDir holds personas.json and the persona ledgers; "" serves the sample
	// personas built into the binary (fcsandbox.SamplePersonas).
	PersonaDir string
	// RefreshDelay is how long a sandbox refresh stays pending.
	RefreshDelay time.Duration
	// LinkTimeout is how long an applicant has to link (0: the workflow default).
	LinkTimeout time.Duration
	// ReactivationTimeout is how long an inactive account may take to come back (0: the
	// workflow default).
	ReactivationTimeout time.Duration
	// SandboxRefreshCooldown is the sandbox's wait after a refresh before the next may
	// start (0: its default of a minute; negative: none).
	SandboxRefreshCooldown time.Duration
	// FreshDataWindow is how old refreshed data may be and still be used when Stripe
	// allows no refresh yet (0: the activities' default of an hour).
	FreshDataWindow time.Duration
	// SandboxRateLimit is the sandbox's requests per second per key (0: Stripe's test-mode
	// 25; negative: none).
	SandboxRateLimit int
	// StripeRateLimit is the client-side limit, requests a second, of the Stripe client the
	// in-process worker and API share (0: none, so the tests of 429 handling see 429s);
	// `underwriter dev` keeps it under the sandbox's limit, as a production worker does.
	StripeRateLimit float64
	// PostPendingOnRefresh makes every sandbox refresh post the pending transactions, so
	// that later refreshes change data as a real bank's do.
	PostPendingOnRefresh bool
	// PayloadCodec, when set, encodes every payload the stack's Temporal client, worker and
	// API write (internal/codec's AES-GCM codec), and decodes what they read.
	PayloadCodec converter.PayloadCodec
	// UICodecEndpoint is the codec endpoint the Web UI decodes payloads with ("": none).
	UICodecEndpoint string
	// UIExtensions are the Web UI's iframe extensions, such as the decision card
	// (OpenCard's Extension); none when empty.
	UIExtensions []uiconfig.IframeExtension
	// Logger receives every component's logs.
	Logger *slog.Logger
	// BuildVersion is recorded with decisions.
	BuildVersion string
	// AlertSigningKey is the master key of the alert webhooks' signatures (32 bytes); nil
	// generates one for the run (Stack.AlertSigningKey).
	AlertSigningKey []byte
	// AlertWebhookURL, when set, is where the development lender receives its loans'
	// alerts (UNDERWRITER_ALERT_WEBHOOK_URL); "" leaves the stored URL as it is.
	AlertWebhookURL string
}

// Stack is the running pipeline.
type Stack struct {
	APIURL          string
	SandboxURL      string
	UIURL           string
	TemporalAddress string
	Namespace       string
	DatabaseURL     string
	Temporal        tclient.Client
	Pool            *pgxpool.Pool
	Store           *store.Store
	Personas        []fcsandbox.Persona
	// WebhookSecret is the signing secret the sandbox and the API share for this run.
	WebhookSecret string
	// APIKey is the sandbox's secret key for this run.
	APIKey string
	// LenderKey is the development lender's API key for underwriter's API, made for this
	// run; LenderKeyID is its public id.
	LenderKey, LenderKeyID string
	// Sandbox is the running Stripe sandbox, for injecting faults.
	Sandbox *fcsandbox.Server
	// AlertSigningKey is the worker's alert master key for this run (Config's, or made
	// for the run); AlertSecret derives a lender's secret from it.
	AlertSigningKey []byte

	logger  *slog.Logger
	closers []func() error
	// requestHashKey keys the API's request hashes for this run.
	requestHashKey []byte
	// closing mutes the embedded Temporal server's shutdown chatter.
	closing atomic.Bool
}

// Start brings the stack up, each component on loopback. On error everything already
// started is stopped again: every step registers its closers on s as it starts a
// component, so Close stops them in reverse order of start.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{logger: logger}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	personas := fcsandbox.SamplePersonas()
	if cfg.PersonaDir != "" {
		personas = os.DirFS(cfg.PersonaDir)
	}
	if s.Personas, err = fcsandbox.LoadPersonas(personas); err != nil {
		return nil, fmt.Errorf("load personas: %w", err)
	}
	if err := s.startPostgres(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.createDevLenderKey(ctx); err != nil {
		return nil, err
	}
	if err := s.setAlertWebhooks(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.startTemporal(ctx, cfg); err != nil {
		return nil, err
	}
	// Listeners first: the sandbox needs the API's webhook URL, the API the sandbox's.
	apiLn, err := s.openListener("api", cfg.APIAddr)
	if err != nil {
		return nil, err
	}
	sbLn, err := s.openListener("sandbox", cfg.SandboxAddr)
	if err != nil {
		return nil, err
	}
	s.APIURL = "http://" + apiLn.Addr().String()
	s.SandboxURL = "http://" + sbLn.Addr().String()
	sb, err := s.startSandbox(cfg, personas, sbLn)
	if err != nil {
		return nil, err
	}
	if err := s.startWorkerAndAPI(cfg, apiLn); err != nil {
		return nil, err
	}
	// Closers run in reverse: the sandbox stops sending webhooks before the API stops
	// (stopping it twice is harmless).
	s.onClose("stop sandbox webhooks", func() error { sb.Close(); return nil })
	return s, nil
}

// startPostgres uses cfg.DatabaseURL or starts a throwaway cluster, applies the
// migrations, and opens the pool and the store on it.
func (s *Stack) startPostgres(ctx context.Context, cfg Config) error {
	s.DatabaseURL = cfg.DatabaseURL
	if s.DatabaseURL == "" {
		cluster, err := pgembed.Start(ctx, pgembed.Options{Logger: s.logger.With("component", "postgres")})
		if err != nil {
			return fmt.Errorf("start throwaway postgres: %w", err)
		}
		s.onClose("stop postgres", cluster.Stop)
		s.DatabaseURL = cluster.URL("postgres")
	}
	if err := migrate(ctx, s.DatabaseURL); err != nil {
		return err
	}
	var err error
	if s.Pool, err = wiring.OpenPostgres(ctx, s.DatabaseURL); err != nil {
		return err
	}
	s.onClose("close postgres pool", func() error { s.Pool.Close(); return nil })
	s.Store = store.New(s.Pool)
	return nil
}

// createDevLenderKey gives the development lender a new API key for this run. The key is
// stored as a hash like any other; a database kept across runs collects one per run,
// which `underwriter keys list` shows and `keys revoke` retires.
func (s *Stack) createDevLenderKey(ctx context.Context) error {
	k, err := api.NewKey()
	if err != nil {
		return err
	}
	if err := s.Store.InsertAPIKey(ctx, store.DevLender, k.ID, "underwriter dev "+time.Now().UTC().Format(time.RFC3339), k.Hash); err != nil {
		return err
	}
	s.LenderKey, s.LenderKeyID = k.Secret, k.ID
	return nil
}

// setAlertWebhooks takes the alert master key (a new one per run unless cfg has one) and
// sets the development lender's alert URL when cfg names one.
func (s *Stack) setAlertWebhooks(ctx context.Context, cfg Config) error {
	s.AlertSigningKey = cfg.AlertSigningKey
	if s.AlertSigningKey == nil {
		k, err := alerthook.ParseSigningKey(alerthook.GenerateSigningKey())
		if err != nil {
			return err
		}
		s.AlertSigningKey = k
	}
	if cfg.AlertWebhookURL == "" {
		return nil
	}
	if err := alerthook.CheckURL(cfg.AlertWebhookURL); err != nil {
		return fmt.Errorf("alert webhook URL: %w", err)
	}
	return s.Store.SetLenderAlertWebhook(ctx, store.DevLender, cfg.AlertWebhookURL)
}

// AlertSecret is the lender's alert webhook secret in this run (alerthook.LenderSecret).
func (s *Stack) AlertSecret(lender string) string {
	return alerthook.LenderSecret(s.AlertSigningKey, lender)
}

// startTemporal starts the embedded Temporal server and Web UI with the workflows'
// search attributes, and dials the client every component shares.
func (s *Stack) startTemporal(ctx context.Context, cfg Config) error {
	ts, err := temporalembed.Start(ctx, temporalembed.Config{
		DatabasePath:     cfg.TemporalDBPath,
		Namespace:        "default",
		FrontendPort:     cfg.TemporalPort,
		UIPort:           cfg.UIPort,
		SearchAttributes: workflows.SearchAttributeTypes(),
		CodecEndpoint:    cfg.UICodecEndpoint,
		UIExtensions:     cfg.UIExtensions,
		// Only the server's errors reach the developer, and none once Close begins.
		Logger: slog.New(quietHandler{next: s.logger.Handler(), min: slog.LevelError, muted: &s.closing}).
			With("component", "temporal-server"),
	})
	if err != nil {
		return fmt.Errorf("start temporal server: %w", err)
	}
	s.onClose("stop temporal server", ts.Stop)
	s.TemporalAddress, s.Namespace, s.UIURL = ts.FrontendAddress(), ts.Namespace(), ts.UIURL()
	tc := wiring.TemporalConfig{Address: s.TemporalAddress, Namespace: s.Namespace}
	if cfg.PayloadCodec != nil {
		tc.DataConverter = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), cfg.PayloadCodec)
	}
	if s.Temporal, err = wiring.DialTemporal(ctx, tc, s.logger); err != nil {
		return err
	}
	s.onClose("close temporal client", func() error { s.Temporal.Close(); return nil })
	return nil
}

// openListener opens the named component's listener on addr (default 127.0.0.1:0) and
// registers its closing.
func (s *Stack) openListener(name, addr string) (net.Listener, error) {
	ln, err := listen(addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the %s: %w", name, err)
	}
	s.onClose("close "+name+" listener", func() error { _ = ln.Close(); return nil })
	return ln, nil
}

// startSandbox starts the Stripe sandbox on ln with a fresh key and webhook secret per
// run, sending its webhooks to the API at s.APIURL.
func (s *Stack) startSandbox(cfg Config, personas fs.FS, ln net.Listener) (*fcsandbox.Server, error) {
	apiKey := "sk_test_" + randomHex(12)
	webhookSecret := "whsec_" + randomHex(16)
	s.APIKey, s.WebhookSecret = apiKey, webhookSecret
	sb, err := fcsandbox.New(fcsandbox.Config{
		APIKey:               apiKey,
		WebhookURL:           s.APIURL + "/v1/webhooks/stripe",
		WebhookSecret:        webhookSecret,
		RefreshDelay:         cfg.RefreshDelay,
		Personas:             personas,
		PostPendingOnRefresh: cfg.PostPendingOnRefresh,
		RateLimit:            cfg.SandboxRateLimit,
		RefreshCooldown:      cfg.SandboxRefreshCooldown,
		Logger:               s.logger.With("component", "fcsandbox"),
	})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	s.Sandbox = sb
	s.onClose("stop sandbox", func() error { sb.Close(); return nil })
	s.serve(ln, &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: api.ReadHeaderTimeout})
	return sb, nil
}

// startWorkerAndAPI starts the worker and serves the API on ln, both talking to the
// sandbox with its key: the same code as `underwriter worker` and `underwriter api`.
//
// The worker is version cfg.BuildVersion ("devel" when empty) of the Worker Deployment
// wiring.DefaultDeploymentName, as a production worker is, and dev makes its version the
// current one before the API takes requests: dev runs the one worker there is, and a
// Temporal database kept across runs (TemporalDBPath) may name an older build current,
// whose runs then wait for that build (`underwriter deploy status` lists them).
func (s *Stack) startWorkerAndAPI(cfg Config, ln net.Listener) error {
	// The server registers the version on the worker's first poll, within a second or so.
	const setCurrentTimeout = time.Minute
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: s.APIKey, APIBase: s.SandboxURL, RateLimit: cfg.StripeRateLimit}, s.logger)
	s.requestHashKey = []byte(randomHex(32))
	dep := wiring.Deployment{Name: wiring.DefaultDeploymentName, BuildID: cfg.BuildVersion}
	if dep.BuildID == "" {
		dep.BuildID = "devel"
	}
	w := wiring.NewWorker(s.Temporal, &activities.Activities{
		Stripe: sc, Store: s.Store, Logger: s.logger.With("component", "worker"), BuildVersion: cfg.BuildVersion,
		FreshDataWindow: cfg.FreshDataWindow, DeploymentVersion: dep.String(), AlertSigningKey: s.AlertSigningKey,
	}, wiring.WorkerOptions{Deployment: dep})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	s.onClose("stop worker", func() error { w.Stop(); return nil })
	ctx, cancel := context.WithTimeout(context.Background(), setCurrentTimeout)
	_, err := wiring.SetCurrentVersion(ctx, s.Temporal, dep, false)
	cancel()
	if err != nil {
		return fmt.Errorf("make the worker's version current: %w", err)
	}
	srv := &api.Server{
		Stripe: sc, Store: s.Store, Temporal: s.Temporal, WebhookSecrets: []string{s.WebhookSecret},
		LinkTimeout: cfg.LinkTimeout, ReactivationTimeout: cfg.ReactivationTimeout, Logger: s.logger.With("component", "api"),
		// A request hash key per run: a retry within the run is recognised, and the
		// throwaway database does not outlive it.
		RequestHashKeys: [][]byte{s.requestHashKey},
	}
	limits := api.DefaultServerLimits
	s.serve(limits.Listener(ln), limits.HTTPServer(s.withConsole(srv.Handler())))
	return nil
}

// serve serves hs on ln until Close.
func (s *Stack) serve(ln net.Listener, hs *http.Server) {
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("http server", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.onClose("shut down http server on "+ln.Addr().String(), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := hs.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			// A request still running (a webhook waiting on its signal) is cut off: the
			// stack is going away, and Stripe would redeliver to a real endpoint.
			return hs.Close()
		} else if err != nil {
			return err
		}
		return nil
	})
}

// shutdownGrace is how long Close lets in-flight HTTP requests finish.
const shutdownGrace = 5 * time.Second

// onClose registers fn to run at Close; name labels its error.
func (s *Stack) onClose(name string, fn func() error) {
	s.closers = append(s.closers, func() error {
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// Close stops every component in reverse order of start.
func (s *Stack) Close() error {
	s.closing.Store(true)
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

func migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to postgres for migrations: %w", err)
	}
	defer conn.Close(ctx)
	if err := migrations.Apply(ctx, conn); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.Listen("tcp", addr)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
