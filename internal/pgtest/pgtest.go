// Package pgtest gives each test its own fresh PostgreSQL database with every
// migration applied, dropped when the test ends.
//
// The server is DATABASE_URL when it is set (its role must be allowed to
// create databases). Otherwise one throwaway cluster is started from the
// machine's own PostgreSQL binaries (package pgembed) the first time a test
// asks for a database, and shared by every test in the test binary. A package
// that uses pgtest should stop that cluster when its tests are done:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without it the cluster still dies with the test binary (Linux parent-death
// signal) and its directory is swept by a later start.
//
// Tests never skip for lack of a database: when no server can be had, the test
// fails with an error that says how to get one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cashflow-underwriting/underwriter/internal/pgembed"
	"github.com/cashflow-underwriting/underwriter/migrations"
)

// EnvDatabaseURL names the environment variable that points tests at an
// existing server instead of a throwaway cluster.
const EnvDatabaseURL = "DATABASE_URL"

const (
	// startTimeout bounds starting the shared throwaway cluster; initdb takes
	// about 1-2 s on an idle 2-core machine, much more when it is busy.
	startTimeout = 2 * time.Minute
	// setupTimeout bounds creating and migrating one database.
	setupTimeout = time.Minute
	// dropTimeout bounds dropping one database at the end of a test.
	dropTimeout = 30 * time.Second
)

var (
	serverOnce sync.Once
	serverURL  string // admin URL: any existing database on the server
	serverErr  error
	cluster    *pgembed.Cluster // nil when DATABASE_URL is used
)

// server returns the admin URL of the server that hosts test databases,
// starting the shared throwaway cluster on first use.
func server() (string, error) {
	serverOnce.Do(func() {
		if u := os.Getenv(EnvDatabaseURL); u != "" {
			serverURL = u
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		c, err := pgembed.Start(ctx, pgembed.Options{})
		if err != nil {
			serverErr = fmt.Errorf("start throwaway postgres (or set %s): %w", EnvDatabaseURL, err)
			return
		}
		cluster = c
		serverURL = c.URL("postgres")
	})
	return serverURL, serverErr
}

// Main runs the package's tests and then stops the shared throwaway cluster
// (if one was started) before exiting with the tests' exit code. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	os.Exit(code)
}

// Stop stops the shared throwaway cluster, if one was started. Main calls it;
// call it yourself only from a TestMain that cannot use Main. Tests must not
// ask for databases afterwards.
func Stop() error {
	if cluster == nil {
		return nil
	}
	if err := cluster.Stop(); err != nil {
		return fmt.Errorf("stop throwaway postgres: %w", err)
	}
	return nil
}

// URL creates a fresh database named ut_<random> with every migration
// applied and returns its connection URL. The database is dropped (with any
// connections still open to it) when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	admin, err := server()
	if err != nil {
		t.Fatal(err)
	}
	name := "ut_" + randomHex(8)
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("build database url: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := exec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if err := exec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to database %s: %v", name, err)
	}
	defer conn.Close(context.Background())
	if err := migrations.Apply(ctx, conn); err != nil {
		t.Fatalf("migrate database %s: %v", name, err)
	}
	return dbURL
}

// Pool returns a connection pool on a fresh database with every migration
// applied (see URL). The pool is closed and the database dropped when the
// test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	// Registered after URL's drop, so it runs before it (cleanups are LIFO).
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("ping pool: %v", err)
	}
	return pool
}

// exec runs one statement on its own connection.
func exec(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dbURL (a postgres:// URL or a keyword/value string)
// pointing at database name instead.
func withDatabase(dbURL, name string) (string, error) {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		u, err := url.Parse(dbURL)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// Keyword/value form: a later keyword overrides an earlier one.
	return dbURL + " dbname=" + name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
