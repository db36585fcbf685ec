// Package pgembed starts a throwaway PostgreSQL cluster from the machine's own
// PostgreSQL binaries (initdb and postgres), for development and tests when no
// DATABASE_URL is given.
//
// The cluster lives in a new temporary directory, listens on 127.0.0.1 only,
// trusts every local connection (user postgres, no password) and trades
// durability for speed (fsync, synchronous_commit and full_page_writes off).
// Restart stops and starts the server on the same data directory and port
// (for chaos runs); Stop shuts it down and removes the directory. Nothing here
// is fit for data that must survive.
//
// initdb and postgres refuse to run as root. When the process runs as root,
// both run as the unprivileged "postgres" system user that Debian's package
// creates, and the data directory is handed to that user.
package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the name of the cluster's superuser role. It has no password:
// the cluster trusts every connection, and it only listens on loopback.
const SuperUser = "postgres"

// runAsUser is the unprivileged system account the binaries run as when the
// process is root (Debian's postgresql package creates it).
const runAsUser = "postgres"

const (
	// readyTimeout bounds the wait for a fresh cluster to accept connections;
	// it normally takes well under a second, more on a loaded 2-core machine.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds a fast shutdown (SIGINT) before escalating to an
	// immediate one (SIGQUIT) and then SIGKILL.
	stopTimeout = 15 * time.Second
	// portAttempts is how often Start retries with another free port when the
	// chosen one was taken between choosing it and postgres binding it.
	portAttempts = 3
	// logTail is how many bytes of initdb/postgres output are kept for error
	// messages.
	logTail = 4096
)

// ErrNoPostgres is returned (wrapped) by Start when no PostgreSQL binaries, or
// no unprivileged user to run them as, can be found on this machine.
var ErrNoPostgres = errors.New("no usable PostgreSQL installation: install PostgreSQL " +
	"(Debian: apt-get install postgresql) or set DATABASE_URL to an existing server")

// Options configures Start.
type Options struct {
	// Logger receives start/stop events at info level and the server's own
	// output at debug level. Nil discards everything.
	Logger *slog.Logger
	// Port is the TCP port on 127.0.0.1 to listen on; 0 picks a free one.
	Port int
}

// Cluster is a running throwaway PostgreSQL cluster. Stop it when done.
type Cluster struct {
	dir    string
	port   int
	logger *slog.Logger
	bin    string              // the directory of initdb and postgres
	cred   *syscall.Credential // the user postgres runs as; nil for this process's

	// mu guards the server process below, which Restart replaces, and stopped.
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postgres process has exited
	output  *tailBuffer
	stopped bool

	stopOnce sync.Once
	stopErr  error
}

// Start creates a new cluster in a temporary directory, starts postgres on it
// and returns once the server accepts connections. If ctx ends first, the
// half-started cluster is torn down and ctx's error is returned.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	begin := time.Now()

	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}

	sweepStale(logger)
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	owner := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, ownerFile), owner, 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("write owner file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("hand cluster directory to user %s: %w", runAsUser, err)
		}
	}
	dataDir := filepath.Join(dir, "data")

	out := newTailBuffer(logTail)
	initdb := command(ctx, cred, syscall.SIGKILL, dir, filepath.Join(bin, "initdb"),
		"-D", dataDir, "-A", "trust", "--no-sync", "-U", SuperUser, "-E", "UTF8", "--locale=C")
	initdb.Stdout, initdb.Stderr = out, out
	if err := initdb.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("initialise cluster: %w", ctx.Err())
		}
		return nil, fmt.Errorf("initialise cluster with %s: %w: %s", initdb.Path, err, out.String())
	}
	initDone := time.Now()

	var c *Cluster
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		c, err = launch(ctx, logger, cred, bin, dir, port)
		if err == nil {
			break
		}
		if opts.Port != 0 || attempt >= portAttempts || !errors.Is(err, errPortInUse) {
			return nil, err
		}
		logger.Debug("postgres port taken, retrying", "port", port)
	}
	ok = true
	logger.Info("postgres started", "port", c.port, "dir", dir,
		"initdb_ms", initDone.Sub(begin).Milliseconds(),
		"total_ms", time.Since(begin).Milliseconds())
	return c, nil
}

var errPortInUse = errors.New("port in use")

const (
	// dirPrefix names cluster directories in os.TempDir.
	dirPrefix = "pgembed-"
	// ownerFile holds the pid of the process that created the cluster.
	ownerFile = "owner.pid"
)

// sweepStale removes cluster directories left behind by processes that died
// without calling Stop (their postgres died with them, see sysProcAttr): both
// the owner and the postmaster must be gone.
func sweepStale(logger *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		if !pidFileDead(filepath.Join(dir, ownerFile)) {
			continue
		}
		pm := filepath.Join(dir, "data", "postmaster.pid")
		if _, err := os.Stat(pm); err == nil && !pidFileDead(pm) {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			logger.Debug("removed stale postgres cluster directory", "dir", dir)
		}
	}
}

// pidFileDead reports whether the file exists and its first line is the pid
// of a process that no longer exists.
func pidFileDead(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// launch starts postgres on an initialised data directory and waits until it
// accepts connections.
func launch(ctx context.Context, logger *slog.Logger, cred *syscall.Credential, bin, dir string, port int) (*Cluster, error) {
	out := newTailBuffer(logTail)
	// Not exec.CommandContext: the cluster must outlive the start-up context.
	// On the parent's death, SIGQUIT is postgres's immediate shutdown: the
	// postmaster kills its backends and exits.
	cmd := command(context.Background(), cred, syscall.SIGQUIT, dir, filepath.Join(bin, "postgres"),
		"-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, &lineLogger{logger: logger})
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c := &Cluster{dir: dir, port: port, logger: logger, bin: bin, cred: cred, cmd: cmd, exited: make(chan struct{}), output: out}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()

	if err := c.waitReady(ctx); err != nil {
		c.terminate()
		return nil, err
	}
	return c, nil
}

// waitReady polls the server until a connection succeeds, the process exits or
// ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("parse cluster url: %w", err)
	}
	cfg.ConnectTimeout = time.Second
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.ping(ctx, cfg)
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			// Postgres exits at once when it cannot bind its TCP port.
			log := c.output.String()
			if strings.Contains(log, "already in use") || strings.Contains(log, "could not bind") {
				return fmt.Errorf("start postgres on port %d: %w: %s", c.port, errPortInUse, log)
			}
			return fmt.Errorf("start postgres: process exited (%v): %s", c.cmd.ProcessState, log)
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres on port %d: %w (last error: %v)", c.port, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// ping connects over TCP and checks that the server answering is this
// cluster, not another one that already held the port.
func (c *Cluster) ping(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return err
	}
	if want := filepath.Join(c.dir, "data"); dataDir != want {
		return fmt.Errorf("port %d answered by another cluster (%s)", c.port, dataDir)
	}
	return nil
}

// URL returns a connection URL for database dbname on the cluster, as the
// superuser, e.g. postgres://postgres@127.0.0.1:5432/app?sslmode=disable.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(SuperUser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the cluster listens on (on 127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// Dir returns the cluster's temporary directory (data directory and Unix
// socket). Stop removes it.
func (c *Cluster) Dir() string { return c.dir }

// Restart shuts the server down (a fast shutdown, as Stop: open sessions are
// disconnected) and starts it again on the same data directory and port,
// returning once it accepts connections. Clients see what an operator's
// restart looks like: their connections break, new ones succeed, and every
// committed row is still there (a clean shutdown writes everything, fsync or
// not). If ctx ends before the server is back, the cluster is left stopped and
// Restart returns ctx's error; Stop still removes it.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return fmt.Errorf("restart postgres on port %d: the cluster is stopped", c.port)
	}
	begin := time.Now()
	c.terminate()
	// The port stays ours: postgres binds it with SO_REUSEADDR, so connections
	// left in TIME_WAIT do not hold it.
	next, err := launch(ctx, c.logger, c.cred, c.bin, c.dir, c.port)
	if err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	c.cmd, c.exited, c.output = next.cmd, next.exited, next.output
	c.logger.Info("postgres restarted", "port", c.port, "ms", time.Since(begin).Milliseconds())
	return nil
}

// Stop shuts the server down (fast shutdown: open sessions are disconnected),
// waits for it to exit and removes the cluster directory. It is safe to call
// more than once; later calls return the first call's result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.stopped = true
		begin := time.Now()
		c.terminate()
		if err := os.RemoveAll(c.dir); err != nil {
			c.stopErr = fmt.Errorf("remove cluster directory: %w", err)
		}
		c.logger.Info("postgres stopped", "port", c.port, "ms", time.Since(begin).Milliseconds())
	})
	return c.stopErr
}

// terminate asks postgres for a fast shutdown and escalates to an immediate
// shutdown and then SIGKILL if it does not exit in time. Callers hold c.mu, or
// own c alone (launch).
func (c *Cluster) terminate() {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL} {
		if err := c.cmd.Process.Signal(sig); err != nil {
			// Already exited (os.ErrProcessDone) or cannot be signalled.
			break
		}
		select {
		case <-c.exited:
			return
		case <-time.After(stopTimeout):
			c.logger.Warn("postgres did not stop in time, escalating", "port", c.port, "signal", sig.String())
		}
	}
	<-c.exited
}

// command builds an exec.Cmd for one of the PostgreSQL binaries: in its own
// process group (a terminal's Ctrl-C reaches only this process, which then
// stops the cluster in order), sent deathSig when the parent dies (Linux), and
// run as cred when not nil.
func command(ctx context.Context, cred *syscall.Credential, deathSig syscall.Signal, dir, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	// A working directory the unprivileged user can enter; the caller's may
	// be /root.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = sysProcAttr(cred, deathSig)
	return cmd
}

// credential returns the user to run the binaries as, or nil to run them as
// the current user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(runAsUser)
	if err != nil {
		return nil, fmt.Errorf("running as root and PostgreSQL refuses root; look up user %q: %v: %w", runAsUser, err, ErrNoPostgres)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of %s: %w", runAsUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of %s: %w", runAsUser, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// findBinDir returns the directory holding both initdb and postgres: the one
// on PATH if there is one, else the highest version under
// /usr/lib/postgresql/*/bin.
// debianBinGlob is where Debian's postgresql packages put the server binaries, one
// directory per major version, not always on PATH.
var debianBinGlob = "/usr/lib/postgresql/*/bin"

func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(debianBinGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find initdb and postgres on PATH or in /usr/lib/postgresql/*/bin: %w", ErrNoPostgres)
}

// versionOf returns the numeric major version in /usr/lib/postgresql/<v>/bin
// (9.6 sorts as 9.6, 16 as 16), or -1.
func versionOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last n bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	n   int
	buf []byte
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// lineLogger writes each complete line of server output to a logger at debug
// level.
type lineLogger struct {
	logger  *slog.Logger
	pending []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.pending[:i])); line != "" {
			l.logger.Debug(line, "component", "postgres")
		}
		l.pending = l.pending[i+1:]
	}
	return len(p), nil
}
