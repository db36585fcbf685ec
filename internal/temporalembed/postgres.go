package temporalembed

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
)

// VisibilitySuffix names the visibility database beside the server's own: for a
// Config.PostgresURL naming database "temporal", visibility lives in "temporal_visibility".
const VisibilitySuffix = "_visibility"

const (
	// schemaDir and visibilitySchemaDir are the server module's embedded Postgres schemas
	// (go.temporal.io/server/schema), each with schema.sql and versioned/ updates.
	schemaDir           = "postgresql/v12/temporal"
	visibilitySchemaDir = "postgresql/v12/visibility"
	// serverLockKey is the Postgres advisory lock a server holds on its database for as
	// long as it runs: two servers on one database would take each other's shards and
	// membership rows for their own.
	serverLockKey = 0x7e3707a1
)

// postgresConfigs parses a Postgres URL (postgres://user:password@host:port/database?
// sslmode=…) into the server's SQL configurations for its own database and for the
// visibility database beside it. Errors never quote the password.
func postgresConfigs(raw string) (store, visibility *config.SQL, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, password included.
		return nil, nil, errors.New("not a URL (want postgres://user:password@host:port/database)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, nil, fmt.Errorf("scheme %q: want postgres://user:password@host:port/database", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, nil, errors.New("no host (want postgres://user:password@host:port/database)")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, nil, errors.New("no database name: name a database for Temporal's tables, such as postgres://…/temporal, not the application's")
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		if len(v) != 1 {
			return nil, nil, fmt.Errorf("query parameter %s given %d times", k, len(v))
		}
		attrs[k] = v[0]
	}
	mk := func(name string) *config.SQL {
		a := make(map[string]string, len(attrs))
		for k, v := range attrs {
			a[k] = v
		}
		return &config.SQL{
			PluginName:        pgplugin.PluginNamePGX,
			DatabaseName:      name,
			ConnectAddr:       net.JoinHostPort(u.Hostname(), port),
			ConnectProtocol:   "tcp",
			User:              u.User.Username(),
			Password:          password,
			ConnectAttributes: a,
			MaxConns:          20,
			MaxIdleConns:      20,
		}
	}
	return mk(db), mk(db + VisibilitySuffix), nil
}

// pgURL returns the pgx URL of database name on the server of cfg.
func pgURL(raw, name string) string {
	u, _ := url.Parse(raw) // parsed before
	u.Path = "/" + name
	return u.String()
}

// preparePostgres creates the server's two databases when missing, takes the server's
// advisory lock on the first, creates or updates both schemas from the server module's
// embedded files, and forgets the previous run's cluster members (see prepareDatabase).
// It returns the two configurations and the connection holding the lock, which the
// caller closes when the server stops.
func preparePostgres(ctx context.Context, raw string) (store, visibility *config.SQL, lock *pgx.Conn, err error) {
	if store, visibility, err = postgresConfigs(raw); err != nil {
		return nil, nil, nil, err
	}
	for _, db := range []string{store.DatabaseName, visibility.DatabaseName} {
		if err := ensureDatabase(ctx, raw, db); err != nil {
			return nil, nil, nil, err
		}
	}
	conn, err := pgx.Connect(ctx, pgURL(raw, store.DatabaseName))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("connect to database %s: %w", store.DatabaseName, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = conn.Close(context.Background())
		}
	}()
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(serverLockKey)).Scan(&got); err != nil {
		return nil, nil, nil, fmt.Errorf("lock database %s: %w", store.DatabaseName, err)
	}
	if !got {
		return nil, nil, nil, fmt.Errorf("database %s is in use by another temporal server", store.DatabaseName)
	}
	if err := applySchema(store, schemaDir, pgschema.Version); err != nil {
		return nil, nil, nil, err
	}
	if err := applySchema(visibility, visibilitySchemaDir, pgschema.VisibilityVersion); err != nil {
		return nil, nil, nil, err
	}
	if _, err := conn.Exec(ctx, "DELETE FROM cluster_membership"); err != nil {
		return nil, nil, nil, fmt.Errorf("clear cluster membership in %s: %w", store.DatabaseName, err)
	}
	ok = true
	return store, visibility, conn, nil
}

// ensureDatabase creates database name on the server of raw unless it exists, connecting
// to the maintenance database "postgres" to do so.
func ensureDatabase(ctx context.Context, raw, name string) error {
	conn, err := pgx.Connect(ctx, pgURL(raw, name))
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to database %s: %w", name, err)
	}
	admin, err := pgx.Connect(ctx, pgURL(raw, "postgres"))
	if err != nil {
		return fmt.Errorf("database %s does not exist, and connecting to database postgres to create it failed: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// applySchema sets up the schema in dir (schema.sql, recorded as version) on a database
// without one, then applies, in order, every versioned update (dir/versioned/vX.Y,
// manifest.json and its files) newer than the database's version: what the server's
// temporal-sql-tool setup-schema and update-schema do.
func applySchema(cfg *config.SQL, dir, version string) error {
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("connect to database %s: %w", cfg.DatabaseName, err)
	}
	defer db.Close()
	current, err := db.ReadSchemaVersion(cfg.DatabaseName)
	if err != nil || current == "" {
		// No schema_version row: a new database.
		if err := db.CreateSchemaVersionTables(); err != nil {
			return fmt.Errorf("create schema version tables in database %s: %w", cfg.DatabaseName, err)
		}
		if err := execFile(db, path.Join(dir, "schema.sql")); err != nil {
			return fmt.Errorf("create temporal schema in database %s: %w", cfg.DatabaseName, err)
		}
		if err := db.UpdateSchemaVersion(cfg.DatabaseName, version, version); err != nil {
			return fmt.Errorf("record schema version in database %s: %w", cfg.DatabaseName, err)
		}
		if err := db.WriteSchemaUpdateLog("0", version, "", "initial version"); err != nil {
			return fmt.Errorf("record schema version in database %s: %w", cfg.DatabaseName, err)
		}
		return nil
	}
	have, err := semver.ParseTolerant(current)
	if err != nil {
		return fmt.Errorf("database %s: schema version %q: %w", cfg.DatabaseName, current, err)
	}
	updates, err := fs.ReadDir(schema.Assets(), path.Join(dir, "versioned"))
	if err != nil {
		return fmt.Errorf("read embedded schema updates: %w", err)
	}
	type update struct {
		v   semver.Version
		dir string
	}
	var todo []update
	for _, e := range updates {
		v, err := semver.ParseTolerant(strings.TrimPrefix(e.Name(), "v"))
		if err != nil || !e.IsDir() {
			continue
		}
		if v.GT(have) {
			todo = append(todo, update{v, path.Join(dir, "versioned", e.Name())})
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].v.LT(todo[j].v) })
	for _, u := range todo {
		b, err := fs.ReadFile(schema.Assets(), path.Join(u.dir, "manifest.json"))
		if err != nil {
			return fmt.Errorf("read schema update %s: %w", u.dir, err)
		}
		var m struct {
			CurrVersion, MinCompatibleVersion, Description string
			SchemaUpdateCqlFiles                           []string
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("read schema update %s: %w", u.dir, err)
		}
		for _, f := range m.SchemaUpdateCqlFiles {
			if err := execFile(db, path.Join(u.dir, f)); err != nil {
				return fmt.Errorf("update temporal schema of database %s to %s: %w", cfg.DatabaseName, m.CurrVersion, err)
			}
		}
		if err := db.UpdateSchemaVersion(cfg.DatabaseName, m.CurrVersion, m.MinCompatibleVersion); err != nil {
			return fmt.Errorf("record schema version in database %s: %w", cfg.DatabaseName, err)
		}
		sum := md5.Sum(b)
		if err := db.WriteSchemaUpdateLog(current, m.CurrVersion, hex.EncodeToString(sum[:]), m.Description); err != nil {
			return fmt.Errorf("record schema version in database %s: %w", cfg.DatabaseName, err)
		}
		current = m.CurrVersion
	}
	return nil
}

// execFile runs the statements of the embedded schema file name.
func execFile(db sqlplugin.AdminDB, name string) error {
	b, err := fs.ReadFile(schema.Assets(), name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(b)})
	if err != nil {
		return fmt.Errorf("split %s: %w", name, err)
	}
	for _, st := range stmts {
		if err := db.Exec(st); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// PostgresError is Start's error when Config.PostgresURL is malformed or its database
// cannot be prepared: connected to, created, locked, or given its schema.
type PostgresError struct{ Err error }

func (e *PostgresError) Error() string { return e.Err.Error() }
func (e *PostgresError) Unwrap() error { return e.Err }

// CheckPostgresURL reports what is wrong with a Config.PostgresURL, as Start would,
// without connecting; the error never quotes the password.
func CheckPostgresURL(raw string) error {
	_, _, err := postgresConfigs(raw)
	return err
}

// PostgresDatabase returns the host:port and database a valid Postgres URL names.
func PostgresDatabase(raw string) (addr, database string, err error) {
	c, _, err := postgresConfigs(raw)
	if err != nil {
		return "", "", err
	}
	return c.ConnectAddr, c.DatabaseName, nil
}
