package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// analystDB returns a fresh migrated database's URL and a store on it.
func analystDB(t *testing.T) (string, *store.Store, *pgxpool.Pool) {
	t.Helper()
	dbURL := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return dbURL, store.New(pool), pool
}

// createApps creates the lender and its applications with the given external ids.
func createApps(t *testing.T, st *store.Store, lender string, external ...string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.EnsureLender(ctx, lender, ""))
	for _, ext := range external {
		key := loan.ApplicationKey(lender, ext)
		_, _, err := st.CreateApplication(ctx, store.Application{ID: key, LenderID: lender, ExternalID: ext, RequestHash: "h",
			LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/" + key})
		require.NoError(t, err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func countOutcomes(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `select count(*) from outcomes`).Scan(&n))
	return n
}

func TestOutcomesImport(t *testing.T) {
	t.Parallel()
	dbURL, st, pool := analystDB(t)
	createApps(t, st, "acme", "loan-1", "loan-2", "loan-3", "loan-4")
	createApps(t, st, "other", "loan-9")
	e := map[string]string{"DATABASE_URL": dbURL}
	dir := t.TempDir()

	good := writeFile(t, dir, "good.csv", "application_id,outcome,observed_on\nloan-1,repaid,2026-03-01\nloan-2,defaulted,2026-04-15\n\n loan-3 ,charged_off,2026-05-01\n")
	out, err := runIn(t, e, "outcomes", "import", good, "--lender", "acme")
	require.NoError(t, err)
	require.Equal(t, good+": 3 outcomes of lender acme: 3 stored, 0 already stored (repaid 1, defaulted 1, charged_off 1)\n", out)
	// The same file again is a no-op.
	out, err = runIn(t, e, "outcomes", "import", "--lender", "acme", good)
	require.NoError(t, err)
	require.Equal(t, good+": 3 outcomes of lender acme: 0 stored, 3 already stored (repaid 1, defaulted 1, charged_off 1)\n", out)
	require.Equal(t, 3, countOutcomes(t, pool))
	got, _, err := st.GetOutcome(context.Background(), "acme/loan-3")
	require.NoError(t, err)
	require.Equal(t, store.LoanChargedOff, got)

	// A refused file stores nothing, not even its good line 2 (loan-4), and names every
	// problem by line, the file's and the database's together.
	bad := writeFile(t, dir, "bad.csv", strings.Join([]string{
		"application_id,outcome,observed_on",
		"loan-4,repaid,2026-05-02",     // 2: good
		"loan-9,repaid,2026-05-02",     // 3: another lender's
		"loan-1,defaulted,2026-03-01",  // 4: stored as repaid
		"loan-2,defaulted,2026-04-16",  // 5: stored on another day
		"loan-4,repaid,2026-05-02",     // 6: repeats line 2
		"loan-5,paid,2026-02-30",       // 7: unknown outcome, bad date
		"loan-6,repaid,2999-01-01",     // 8: in the future
		",repaid,2026-05-02",           // 9: empty id
		"loan-7,repaid",                // 10: two fields
		"loan-8,repaid,02/05/2026",     // 11: another date format
		"loan-10,repaid,2026-05-02",    // 12: unknown id
		"loan-11,defaulted,2026-05-02", // 13: unknown id, the 12th problem
	}, "\n")+"\n")
	_, err = runIn(t, e, "outcomes", "import", "--lender", "acme", bad)
	require.EqualError(t, err, bad+`: refused, nothing stored: 12 problems
  line 3 (application_id): lender acme has no application "loan-9"
  line 4 (outcome): loan-1 is already stored as repaid observed on 2026-03-01
  line 5 (observed_on): loan-2 is already stored as defaulted observed on 2026-04-15
  line 6 (application_id): "loan-4" repeats line 2
  line 7 (outcome): "paid" is not repaid, defaulted or charged_off
  line 7 (observed_on): "2026-02-30" is not a date YYYY-MM-DD
  line 8 (observed_on): 2999-01-01 is in the future
  line 9 (application_id): empty
  line 10: 2 fields; want 3 (application_id,outcome,observed_on)
  line 11 (observed_on): "02/05/2026" is not a date YYYY-MM-DD
  and 2 more`)
	require.Equal(t, 3, countOutcomes(t, pool), "nothing of a refused file is stored")
	_, _, err = st.GetOutcome(context.Background(), "acme/loan-4")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Problems only the database sees refuse the file too.
	conflict := writeFile(t, dir, "conflict.csv", "application_id,outcome,observed_on\nloan-4,repaid,2026-05-02\nloan-1,defaulted,2026-03-01\n")
	_, err = runIn(t, e, "outcomes", "import", "--lender", "acme", conflict)
	require.EqualError(t, err, conflict+`: refused, nothing stored: 1 problem
  line 3 (outcome): loan-1 is already stored as repaid observed on 2026-03-01`)
	require.Equal(t, 3, countOutcomes(t, pool))

	// The development lender is the default; acme's ids are not its.
	_, err = runIn(t, e, "outcomes", "import", good)
	require.ErrorContains(t, err, `line 2 (application_id): lender dev has no application "loan-1"`)
}

// TestBadInputOutcomeFiles: docs/bad-input.md's "Outcome files" table, the refusals that
// stop before any line is checked. Neither the file nor the database is read further.
func TestBadInputOutcomeFiles(t *testing.T) {
	t.Parallel()
	dbURL, st, pool := analystDB(t)
	createApps(t, st, "acme", "loan-1")
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "application_id,outcome,observed_on\nloan-1,repaid,2026-03-01\n")
	for _, c := range []struct {
		name string
		args []string
		file string // with args nil: written to dir/in.csv, imported for acme, and its path is want's %s
		want string
	}{
		{"empty file", nil, "", "%s line 1: empty file; want the header application_id,outcome,observed_on"},
		{"other columns", nil, "id,outcome,date\nloan-1,repaid,2026-03-01\n", `%s line 1: header is "id,outcome,date"; want exactly application_id,outcome,observed_on`},
		{"a column more", nil, "application_id,outcome,observed_on,note\n", `%s line 1: header is "application_id,outcome,observed_on,note"; want exactly application_id,outcome,observed_on`},
		{"columns reordered", nil, "outcome,application_id,observed_on\n", `%s line 1: header is "outcome,application_id,observed_on"; want exactly application_id,outcome,observed_on`},
		{"broken quoting", nil, "application_id,outcome,observed_on\n\"loan-1,repaid,2026-03-01\n", "%s: refused, nothing stored: 1 problem\n  line 2: extraneous or missing \" in quoted-field"},
		{"no file", []string{"outcomes", "import"}, "", "outcomes import: FILE: not given"},
		{"two files", []string{"outcomes", "import", good, good}, "", `outcomes import: unexpected argument "` + good + `" after FILE`},
		{"missing file", []string{"outcomes", "import", filepath.Join(dir, "none.csv")}, "", "open outcome file: open " + filepath.Join(dir, "none.csv") + ": no such file or directory"},
		{"bad lender", []string{"outcomes", "import", "--lender", "Acme", good}, "", `--lender: lender "Acme": must be 1-32 lowercase letters, digits or '-', starting with a letter or digit`},
		{"unknown lender", []string{"outcomes", "import", "--lender", "nobody", good}, "", "--lender: no lender nobody"},
	} {
		args := c.args
		if args == nil {
			in := writeFile(t, dir, "in.csv", c.file)
			args = []string{"outcomes", "import", "--lender", "acme", in}
			c.want = fmt.Sprintf(c.want, in)
		}
		_, err := runIn(t, map[string]string{"DATABASE_URL": dbURL}, args...)
		require.EqualError(t, err, c.want, c.name)
	}
	require.Equal(t, 0, countOutcomes(t, pool))
}
