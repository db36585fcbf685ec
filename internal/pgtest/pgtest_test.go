package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/migrations"
)

func TestMain(m *testing.M) { Main(m) }

func TestPoolIsFreshAndMigrated(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		var name string
		t.Run("db", func(t *testing.T) {
			pool := Pool(t)
			require.NoError(t, pool.QueryRow(ctx, "SELECT current_database()").Scan(&name))
			require.Regexp(t, `^ut_[0-9a-f]{16}$`, name)

			conn, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer conn.Release()
			v, err := migrations.Current(ctx, conn.Conn())
			require.NoError(t, err)
			require.Equal(t, migrations.Latest(), v)
		})
		names = append(names, name)
	}
	require.NotEqual(t, names[0], names[1], "every call gets its own database")

	admin, err := server()
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&n))
	require.Zero(t, n, "databases are dropped when their test ends")
}

func TestURLDropsWithOpenConnections(t *testing.T) {
	ctx := context.Background()
	t.Run("leak", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, URL(t))
		require.NoError(t, err)
		_ = conn // left open on purpose: DROP ... WITH (FORCE) must still succeed
	})
}

func TestParallel(t *testing.T) {
	for _, name := range []string{"a", "b", "c", "d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool := Pool(t)
			_, err := pool.Exec(context.Background(), "SELECT 1")
			require.NoError(t, err)
		})
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url", "postgres://u:p@h:5432/app?sslmode=disable", "postgres://u:p@h:5432/ut_x?sslmode=disable"},
		{"url no path", "postgresql://u@h", "postgresql://u@h/ut_x"},
		{"keyword value", "host=h user=u dbname=app", "host=h user=u dbname=app dbname=ut_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.in, "ut_x")
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			cfg, err := pgx.ParseConfig(got)
			require.NoError(t, err)
			require.Equal(t, "ut_x", cfg.Database)
		})
	}
}
