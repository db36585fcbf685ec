package pgembed_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgembed"
)

func TestStartQueryStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	begin := time.Now()
	c, err := pgembed.Start(ctx, pgembed.Options{Logger: logger})
	require.NoError(t, err)
	t.Logf("cluster ready in %v on port %d", time.Since(begin), c.Port())
	t.Cleanup(func() { _ = c.Stop() })

	url := c.URL("postgres")
	require.Contains(t, url, "postgres://postgres@127.0.0.1:")
	require.Contains(t, url, "/postgres?sslmode=disable")

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE app")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	conn, err = pgx.Connect(ctx, c.URL("app"))
	require.NoError(t, err)
	var enc, fsync string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_setting('server_encoding'), current_setting('fsync')").Scan(&enc, &fsync))
	require.Equal(t, "UTF8", enc)
	require.Equal(t, "off", fsync)
	// An open session must not hold up Stop (fast shutdown disconnects it).

	begin = time.Now()
	require.NoError(t, c.Stop())
	t.Logf("cluster stopped in %v", time.Since(begin))
	require.NoError(t, c.Stop(), "Stop is idempotent")

	_, err = os.Stat(c.Dir())
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the cluster directory")
	_, err = pgx.Connect(ctx, url)
	require.Error(t, err, "server is gone after Stop")
}

func TestStartFixedPortTaken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := pgembed.Start(ctx, pgembed.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Stop() })

	_, err = pgembed.Start(ctx, pgembed.Options{Port: a.Port()})
	require.Error(t, err, "a fixed port that is taken is an error, not a silent retry")
	require.Contains(t, err.Error(), "port in use")
}

// TestParentDeathStopsCluster starts a cluster in a child process, kills the
// child with SIGKILL (no chance to call Stop) and checks that the kernel's
// parent-death signal takes postgres down with it.
func TestParentDeathStopsCluster(t *testing.T) {
	if os.Getenv("PGEMBED_CHILD") == "1" {
		c, err := pgembed.Start(context.Background(), pgembed.Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(c.Dir(), c.Port())
		select {} // wait to be killed
	}
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestParentDeathStopsCluster$")
	cmd.Env = append(os.Environ(), "PGEMBED_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var dir string
	var port int
	_, err = fmt.Fscan(stdout, &dir, &port)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, 0), "postmaster runs")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Eventually(t, func() bool {
		return syscall.Kill(pid, 0) == syscall.ESRCH
	}, 20*time.Second, 50*time.Millisecond, "postmaster %d exits with its parent", pid)

	// The next Start sweeps the dead cluster's directory away.
	c, err := pgembed.Start(context.Background(), pgembed.Options{})
	require.NoError(t, err)
	require.NoError(t, c.Stop())
	_, err = os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "stale directory %s is swept", dir)
}

func TestRestartKeepsDataAndPort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop() })

	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	require.NoError(t, err)
	var pidBefore int
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pidBefore))

	port := c.Port()
	require.NoError(t, c.Restart(ctx))
	require.Equal(t, port, c.Port(), "the same port")
	require.Error(t, conn.Ping(ctx), "a session open across the restart is broken")

	conn, err = pgx.Connect(ctx, c.URL("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, 42, v, "committed rows survive the restart")

	require.NoError(t, c.Stop())
	require.Error(t, c.Restart(ctx), "a stopped cluster cannot restart")
}
