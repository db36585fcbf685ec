// Package temporalembed runs a real Temporal server (go.temporal.io/server)
// and its Web UI (github.com/temporalio/ui-server) inside the current process,
// backed by SQLite, for `underwriter dev` and for integration tests, or by Postgres
// (Config.PostgresURL), for `underwriter temporal`: the server as a process of its
// own, as in a production-like topology. Nothing has to be downloaded or installed.
//
// The server has one history shard and the frontend, history, matching and
// worker services on free loopback ports. State lives in a SQLite file (WAL,
// synchronous=normal; it survives a restart) or, when no path is given, in a
// private in-memory database that vanishes with the process. The namespace and
// its custom search attributes are created at start.
//
// This package links the whole server (a large binary and a long cold build).
// Import it only from the dev command and from tests: code that a production
// worker runs against a real Temporal cluster must not depend on it.
package temporalembed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cashflow-underwriting/underwriter/internal/ctxsleep"
)

// DefaultNamespace is the namespace created when Config.Namespace is empty.
const DefaultNamespace = "default"

// NoUI as Config.UIPort disables the Web UI.
const NoUI = -1

const (
	// host is the only address anything here listens on.
	host = "127.0.0.1"
	// clusterName names the single, local cluster.
	clusterName = "active"
	// readyTimeout bounds the wait for the frontend and the namespace after
	// the server started; it normally takes well under a second.
	readyTimeout = time.Minute
	// pollInterval paces the readiness checks.
	pollInterval = 20 * time.Millisecond
	// persistenceQPS lifts the per-service persistence rate limits (defaults
	// 500–9000 per second) out of the way: SQLite, not a shared database, is
	// the bottleneck here.
	persistenceQPS = 50_000
)

// Config configures Start.
type Config struct {
	// DatabasePath is the SQLite file holding the server's state; it is
	// created (with its schema) when missing and reused otherwise. Empty keeps
	// the state in memory, private to this Server and lost on Stop.
	DatabasePath string
	// PostgresURL, instead of DatabasePath, keeps the server's state in Postgres:
	// postgres://user:password@host:port/database?sslmode=…, a database of its own
	// (not the application's), with visibility in the database of the same name plus
	// VisibilitySuffix. Both are created when missing, their schemas (shipped in the
	// server module) set up or updated, and the namespace and its search attributes
	// registered through the API. One server per database: it holds an advisory lock.
	PostgresURL string
	// HistoryShards is the number of history shards of a new Postgres database (0 = 4);
	// it cannot change once the database has been used. SQLite always has one.
	HistoryShards int
	// Retention is how long closed workflows of a namespace registered in Postgres are
	// kept (0 = 72 h). SQLite namespaces keep them 24 h.
	Retention time.Duration
	// Namespace is created at start if missing. Empty means DefaultNamespace.
	Namespace string
	// FrontendPort is the frontend gRPC port on 127.0.0.1; 0 picks a free one.
	FrontendPort int
	// UIPort is the Web UI's HTTP port on 127.0.0.1; 0 picks a free one and
	// NoUI (-1) disables the UI.
	UIPort int
	// SearchAttributes are the namespace's custom search attributes, by
	// name. They are registered at start, including on a restart with an
	// existing file that lacks some of them.
	SearchAttributes map[string]enumspb.IndexedValueType
	// CodecEndpoint is the remote payload codec (underwriter codec) the Web UI sends
	// payloads to for decoding, such as http://127.0.0.1:8089; "" means none. The UI sends
	// its cookies with each request (includeCredentials): the endpoint authenticates by a
	// session cookie it issued, since the UI's passAccessToken needs an OIDC login.
	CodecEndpoint string
	// UIExtensions are ui-server's iframe extensions the Web UI shows (customUi), such as
	// the decision card on the workflow page; none when empty.
	UIExtensions []uiconfig.IframeExtension
	// Logger receives this package's start and stop lines (info) and the
	// server's own warnings and errors while it runs. The server's info and
	// debug lines are dropped; its lines while starting are held back and
	// written only when Start fails, its lines while stopping are dropped.
	// Nil means slog.Default() with component=temporal-server.
	Logger *slog.Logger
}

// Server is a running embedded Temporal server, with its Web UI unless
// disabled. Stop it when done.
type Server struct {
	server    temporal.Server
	ui        *uiserver.Server
	uiDone    chan struct{}
	frontend  string
	namespace string
	uiURL     string
	logger    *slog.Logger
	logs      *logState
	lock      *os.File // nil in memory and on Postgres
	pgLock    *pgx.Conn
	retention time.Duration // > 0: register the namespace through the API when missing
	codec     string        // the UI's codec endpoint, "" for none
	uiExt     []uiconfig.IframeExtension

	stopOnce sync.Once
	stopErr  error
}

// Start starts the server and, unless disabled, the Web UI. It returns once
// the frontend answers, the namespace exists with its search attributes and
// the UI serves pages. If ctx ends first, everything started is stopped and
// the context's error returned.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	begin := time.Now()
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default().With("component", "temporal-server")
	}
	if cfg.UIPort < NoUI {
		return nil, fmt.Errorf("invalid ui port %d", cfg.UIPort)
	}

	ports, err := allocatePorts(cfg.FrontendPort, cfg.UIPort, cfg.PostgresURL != "")
	if err != nil {
		return nil, err
	}
	var (
		store   stores
		lock    *os.File
		pgLock  *pgx.Conn
		retains time.Duration
	)
	if cfg.PostgresURL != "" {
		if cfg.DatabasePath != "" {
			return nil, errors.New("temporalembed: DatabasePath and PostgresURL are both set")
		}
		store.shards, retains = int32(cfg.HistoryShards), cfg.Retention
		if store.shards == 0 {
			store.shards = 4
		}
		if retains == 0 {
			retains = 72 * time.Hour
		}
		if store.shards < 0 || retains < 0 {
			return nil, fmt.Errorf("temporalembed: negative HistoryShards %d or Retention %s", store.shards, retains)
		}
		if store.main, store.visibility, pgLock, err = preparePostgres(ctx, cfg.PostgresURL); err != nil {
			return nil, &PostgresError{Err: err}
		}
	} else {
		if store.main, lock, err = openDatabase(cfg); err != nil {
			return nil, err
		}
		store.visibility, store.shards = store.main, 1
	}
	frontend := net.JoinHostPort(host, strconv.Itoa(ports.frontend))
	logs := &logState{}
	srv, err := startServer(store, frontend, ports, logger, logs)
	if err != nil {
		if lock != nil {
			_ = lock.Close()
		}
		if pgLock != nil {
			_ = pgLock.Close(context.Background())
		}
		return nil, err
	}
	// From here on, s.Stop releases the lock.
	s := &Server{server: srv, frontend: frontend, namespace: cfg.Namespace, logger: logger, logs: logs, lock: lock, pgLock: pgLock,
		retention: retains, codec: cfg.CodecEndpoint, uiExt: cfg.UIExtensions}

	if err := s.waitReady(ctx, cfg.SearchAttributes); err != nil {
		logs.flush(logger)
		_ = s.Stop()
		return nil, err
	}
	logs.setPhase(phaseRunning)
	serverReady := time.Now()

	if ports.ui != 0 {
		if err := s.startUI(ctx, ports.ui); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}

	logger.Info("temporal server started",
		"frontend", s.frontend, "namespace", s.namespace, "ui", s.uiURL,
		"database", databaseLabel(cfg),
		"server_ms", serverReady.Sub(begin).Milliseconds(),
		"total_ms", time.Since(begin).Milliseconds())
	return s, nil
}

// openDatabase locks cfg.DatabasePath (when set), prepares the SQLite database and
// creates the namespace with its search attributes in it. It returns the database
// configuration and the lock (nil in memory), which the caller must close; on error
// the lock is already released.
func openDatabase(cfg Config) (sqlCfg *config.SQL, lock *os.File, err error) {
	if cfg.DatabasePath != "" {
		if lock, err = lockFile(cfg.DatabasePath); err != nil {
			return nil, nil, err
		}
	}
	defer func() {
		if err != nil && lock != nil {
			_ = lock.Close()
		}
	}()
	if sqlCfg, err = prepareDatabase(cfg.DatabasePath); err != nil {
		return nil, nil, err
	}
	ns, err := sqlite.NewNamespaceConfig(clusterName, cfg.Namespace, false, cfg.SearchAttributes)
	if err != nil {
		return nil, nil, fmt.Errorf("configure namespace %s: %w", cfg.Namespace, err)
	}
	// No-op when the namespace already exists (a restart on the same file).
	if err := sqlite.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, nil, fmt.Errorf("create namespace %s: %w", cfg.Namespace, err)
	}
	return sqlCfg, lock, nil
}

// startServer creates and starts the Temporal server on the database with its
// frontend at frontend and its other services on p's ports. The server's lines go
// through logs, which holds back its start-up chatter; on failure they are written
// to logger, as they explain the error.
func startServer(store stores, frontend string, p ports, logger *slog.Logger, logs *logState) (temporal.Server, error) {
	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(store, frontend, p)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(newServerLogger(logger, logs)),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		logs.flush(logger)
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		logs.flush(logger)
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	return srv, nil
}

// FrontendAddress returns the frontend's gRPC host:port, for
// client.Options.HostPort.
func (s *Server) FrontendAddress() string { return s.frontend }

// Namespace returns the namespace created at start.
func (s *Server) Namespace() string { return s.namespace }

// UIURL returns the Web UI's base URL, such as http://127.0.0.1:8233, or ""
// when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the Web UI and the server. It is safe to call more than once;
// later calls return the first call's result. Workers and clients connected
// to the server should be stopped first.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		begin := time.Now()
		s.logs.setPhase(phaseStopping)
		if s.ui != nil {
			s.ui.Stop()
			<-s.uiDone
		}
		if err := s.server.Stop(); err != nil {
			s.stopErr = fmt.Errorf("stop temporal server: %w", err)
		}
		if s.lock != nil {
			_ = s.lock.Close()
		}
		if s.pgLock != nil {
			_ = s.pgLock.Close(context.Background())
		}
		s.logger.Info("temporal server stopped", "frontend", s.frontend, "ms", time.Since(begin).Milliseconds())
	})
	return s.stopErr
}

// ports holds the ports chosen for one server.
type ports struct {
	frontend, ui                 int // ui 0 = no UI
	frontendMembership           int
	history, historyMembership   int
	matching, matchingMembership int
	worker, workerMembership     int
}

// allocatePorts checks that the requested fixed ports are free and picks free
// ones for the rest. The server exits the process when it cannot bind a port
// (it logs Fatal), so a taken port must be found here, as an error.
//
// With lowMembership the membership ports are below 32768: Postgres keeps them in a
// smallint column (cluster_membership.rpc_port), which the kernel's ephemeral ports
// (32768 and up) overflow.
func allocatePorts(frontend, ui int, lowMembership bool) (ports, error) {
	var p ports
	var err error
	if p.frontend, err = portOrFree(frontend, "frontend"); err != nil {
		return p, err
	}
	if ui != NoUI {
		if p.ui, err = portOrFree(ui, "web ui"); err != nil {
			return p, err
		}
	}
	for _, dst := range []*int{&p.history, &p.matching, &p.worker} {
		if *dst, err = freePort(); err != nil {
			return p, err
		}
	}
	taken := map[int]bool{}
	for _, dst := range []*int{&p.frontendMembership, &p.historyMembership, &p.matchingMembership, &p.workerMembership} {
		if !lowMembership {
			if *dst, err = freePort(); err != nil {
				return p, err
			}
			continue
		}
		if *dst, err = lowFreePort(taken); err != nil {
			return p, err
		}
		taken[*dst] = true
	}
	return p, nil
}

// lowFreePort returns a free loopback port from 20000 to 32767 not in taken, below the
// kernel's ephemeral range, so that nothing else is handed it by the kernel meanwhile.
func lowFreePort(taken map[int]bool) (int, error) {
	const lo, hi = 20000, 32768
	start, err := rand.Int(rand.Reader, big.NewInt(hi-lo))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	for i := range hi - lo {
		port := lo + (int(start.Int64())+i)%(hi-lo)
		if taken[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("find free port: none free from %d to %d", lo, hi-1)
}

// portOrFree returns port after checking that it can be bound, or a free
// port when port is 0.
func portOrFree(port int, what string) (int, error) {
	if port == 0 {
		return freePort()
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("check %s port %d is free: %w", what, port, err)
	}
	_ = l.Close()
	return port, nil
}

// freePort returns a loopback TCP port that is free and, on Linux, will not be
// handed out again by the kernel for a while: a connection to it is closed
// from the server side, which leaves the port in TIME_WAIT (the kernel skips
// such ports for ephemeral binds, while an explicit bind with SO_REUSEADDR, as
// servers do, still succeeds). This closes most of the gap between choosing a
// port and the server binding it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	c, err := net.DialTCP("tcp", nil, l.Addr().(*net.TCPAddr))
	if err != nil {
		return 0, fmt.Errorf("reserve port %d: %w", port, err)
	}
	defer c.Close()
	sc, err := l.Accept()
	if err != nil {
		return 0, fmt.Errorf("reserve port %d: %w", port, err)
	}
	_ = sc.Close() // server side first: the TIME_WAIT is on the port
	return port, nil
}

// prepareDatabase returns the SQLite configuration for path (in memory when
// empty), creating the schema when the file is new.
func prepareDatabase(path string) (*config.SQL, error) {
	cfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
	}
	if path == "" {
		// A unique name: with cache=shared, every connection in the process
		// to the same name shares one database, and several servers may run
		// in one test binary.
		cfg.DatabaseName = "temporalembed-" + randomHex(8)
		cfg.ConnectAttributes["mode"] = "memory"
		cfg.ConnectAttributes["cache"] = "shared"
		// The plugin creates the schema itself for in-memory databases.
		return cfg, nil
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve database path %s: %w", path, err)
	}
	cfg.DatabaseName = abs
	cfg.ConnectAttributes["mode"] = "rwc"
	// WAL with synchronous=normal more than doubles throughput over the
	// defaults and stays consistent across a crash (it may lose the last
	// transactions, which a dev server can afford).
	cfg.ConnectAttributes["journal_mode"] = "wal"
	cfg.ConnectAttributes["synchronous"] = "normal"

	fi, err := os.Stat(abs)
	switch {
	case err == nil && fi.Size() > 0:
		// Existing database: the schema is there. Forget the previous run's
		// cluster members: a node that heartbeated in the last 20 s is taken
		// for a live ring to join, and after a quick restart the new node
		// would wait for the dead one instead of forming its own ring
		// (matching then answers "Not enough hosts" until the join times
		// out). The lock file guarantees no other server uses this file.
		if err := clearMembership(cfg); err != nil {
			return nil, err
		}
		return cfg, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("inspect database file: %w", err)
	}
	if err := sqlite.SetupSchema(cfg); err != nil {
		// Do not leave a half-initialised file that the next start would
		// take for a complete one.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(abs + suffix)
		}
		return nil, fmt.Errorf("create schema in %s: %w", abs, err)
	}
	return cfg, nil
}

// clearMembership deletes every cluster membership record from the database.
func clearMembership(cfg *config.SQL) error {
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open database %s: %w", cfg.DatabaseName, err)
	}
	defer db.Close()
	if err := db.Exec("DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("clear cluster membership in %s: %w", cfg.DatabaseName, err)
	}
	return nil
}

// lockFile takes an exclusive lock on path+".lock", so that two servers never
// share one database file (each would take the other's history shard and
// membership for its own). The lock is released when the file is closed, or
// by the kernel when the process dies.
func lockFile(path string) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve database path %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(abs+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("database %s is in use by another temporal server", abs)
		}
		return nil, fmt.Errorf("lock database %s: %w", abs, err)
	}
	return f, nil
}

// stores is where the server keeps its state.
type stores struct {
	main, visibility *config.SQL
	shards           int32
}

// serverConfig is the static server configuration: one node, store's history
// shards, persistence and visibility in store, no archival, metrics or
// pprof.
func serverConfig(store stores, frontend string, p ports) *config.Config {
	service := func(grpc, membership int) config.Service {
		return config.Service{RPC: config.RPC{
			GRPCPort:        grpc,
			MembershipPort:  membership,
			BindOnLocalHost: true,
		}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{
				MaxJoinDuration:  30 * time.Second,
				BroadcastAddress: host,
			},
		},
		Persistence: config.Persistence{
			DefaultStore:     "default",
			VisibilityStore:  "visibility",
			NumHistoryShards: store.shards,
			DataStores: map[string]config.DataStore{
				"default":    {SQL: store.main},
				"visibility": {SQL: store.visibility},
			},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {
					Enabled:                true,
					InitialFailoverVersion: 1,
					RPCAddress:             frontend,
				},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			"frontend": service(p.frontend, p.frontendMembership),
			"history":  service(p.history, p.historyMembership),
			"matching": service(p.matching, p.matchingMembership),
			"worker":   service(p.worker, p.workerMembership),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		// The server's own system workers dial the frontend here.
		PublicClient: config.PublicClient{HostPort: frontend},
	}
}

// dynamicConfig returns the dynamic configuration that differs from the
// server's defaults.
func dynamicConfig() dynamicconfig.StaticClient {
	v := func(x any) []dynamicconfig.ConstrainedValue {
		return []dynamicconfig.ConstrainedValue{{Value: x}}
	}
	return dynamicconfig.StaticClient{
		// Search attributes registered at start (or by AddSearchAttributes)
		// are usable at once instead of after the cache's refresh interval.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): v(true),
		// One partition per task queue: with the default four, a lightly
		// loaded single node shows a ~2.5 s tail while tasks wait in a
		// partition no poller is on.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  v(1),
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): v(1),
		dynamicconfig.FrontendPersistenceMaxQPS.Key():           v(persistenceQPS),
		dynamicconfig.HistoryPersistenceMaxQPS.Key():            v(persistenceQPS),
		dynamicconfig.MatchingPersistenceMaxQPS.Key():           v(persistenceQPS),
		dynamicconfig.WorkerPersistenceMaxQPS.Key():             v(persistenceQPS),
		// A namespace registered through the API (Postgres) is served within a second,
		// not the default ten.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): v(time.Second),
	}
}

// waitReady waits until the frontend answers and the namespace is served, then
// registers any search attributes the namespace lacks (a restart on a file
// created with fewer of them).
func (s *Server) waitReady(ctx context.Context, want map[string]enumspb.IndexedValueType) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	var c client.Client
	var err error
	for {
		c, err = client.DialContext(ctx, client.Options{
			HostPort:  s.frontend,
			Namespace: s.namespace,
			Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		})
		if err == nil {
			break
		}
		if serr := ctxsleep.Sleep(ctx, pollInterval); serr != nil {
			return fmt.Errorf("wait for temporal frontend at %s: %w (last error: %v)", s.frontend, serr, err)
		}
	}
	defer c.Close()

	for {
		_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
		if err == nil {
			break
		}
		var notFound *serviceerror.NamespaceNotFound
		if s.retention > 0 && errors.As(err, &notFound) {
			if err := s.registerNamespace(ctx, c); err != nil {
				return err
			}
			continue
		}
		if serr := ctxsleep.Sleep(ctx, pollInterval); serr != nil {
			return fmt.Errorf("wait for namespace %s: %w (last error: %v)", s.namespace, serr, err)
		}
	}

	if len(want) == 0 {
		return nil
	}
	var have *operatorservice.ListSearchAttributesResponse
	for {
		have, err = c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.namespace})
		var notFound *serviceerror.NamespaceNotFound
		if err == nil || !errors.As(err, &notFound) {
			break
		}
		// A namespace just registered reaches the services' namespace caches at their
		// next refresh (NamespaceCacheRefreshInterval).
		if serr := ctxsleep.Sleep(ctx, pollInterval); serr != nil {
			return fmt.Errorf("wait for namespace %s in the server's cache: %w (last error: %v)", s.namespace, serr, err)
		}
	}
	if err != nil {
		return fmt.Errorf("list search attributes of %s: %w", s.namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s is %s in namespace %s, want %s", name, got, s.namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        s.namespace,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes to %s: %w", s.namespace, err)
	}
	return nil
}

// registerNamespace registers the namespace through the API, as an operator would on a
// cluster (the SQLite path writes it into the file before the server starts). A
// namespace registered meanwhile by someone else is as good.
func (s *Server) registerNamespace(ctx context.Context, c client.Client) error {
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        s.namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(s.retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", s.namespace, err)
	}
	s.logger.Info("namespace registered", "namespace", s.namespace, "retention", s.retention.String())
	return nil
}

// startUI starts the Web UI on port and waits until it serves pages.
func (s *Server) startUI(ctx context.Context, port int) error {
	ui := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		// Plain http on loopback: the CSRF cookie must not require https.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		HideLogs:         true,
		DefaultNamespace: s.namespace,
		// The UI asks Temporal's news feed on every page load: the embedded UI makes no
		// request off the machine.
		DisableNewsFetch: true,
		Codec:            uiconfig.Codec{Endpoint: s.codec, IncludeCredentials: s.codec != ""},
		CustomUI:         uiconfig.CustomUI{Enabled: len(s.uiExt) > 0, IframeExtensions: s.uiExt},
	}))
	s.ui = ui
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		// Start blocks until Stop; it exits the process itself if it cannot
		// bind (checked beforehand in allocatePorts).
		_ = ui.Start()
	}()
	s.uiURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port))

	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.uiURL+"/healthz", nil)
		if err != nil {
			return fmt.Errorf("build ui health request: %w", err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if serr := ctxsleep.Sleep(ctx, pollInterval); serr != nil {
			return fmt.Errorf("wait for web ui at %s: %w (last error: %v)", s.uiURL, serr, err)
		}
	}
}

func databaseLabel(cfg Config) string {
	switch {
	case cfg.PostgresURL != "":
		if sc, _, err := postgresConfigs(cfg.PostgresURL); err == nil {
			return "postgres " + sc.ConnectAddr + "/" + sc.DatabaseName // no password
		}
		return "postgres"
	case cfg.DatabasePath == "":
		return "memory"
	}
	return cfg.DatabasePath
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
