package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/store"
)

func TestPortfolioCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, st, pool := analystDB(t)
	personas := []struct {
		name   string
		amount int64
		term   int
	}{{"steady_salaried", 300000, 12}, {"overdraft_nsf", 100000, 6}, {"gig_irregular", 150000, 12}, {"high_income_two_accounts", 500000, 12}}
	day := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var recs []store.OutcomeRecord
	segs := "application_id,segment\n"
	for i := range 12 {
		p := personas[i%len(personas)]
		ext := fmt.Sprintf("loan-%d", i)
		at := day.AddDate(0, 0, i)
		if i >= 8 {
			at = day.AddDate(0, 0, -20+i) // the baseline, in February
		}
		recordPersonaDecision(t, st, "acme", ext, p.name, p.amount, p.term, at)
		o := store.LoanRepaid
		if p.name == "overdraft_nsf" || (p.name == "gig_irregular" && i%2 == 0) {
			o = store.LoanDefaulted
		}
		recs = append(recs, store.OutcomeRecord{Line: i + 2, ExternalID: ext, Outcome: o, ObservedOn: at.AddDate(0, 6, 0)})
		segs += fmt.Sprintf("%s,%s\n", ext, []string{"north", "south"}[i%2])
	}
	_, err := st.ImportOutcomes(ctx, "acme", recs)
	require.NoError(t, err)
	dir := t.TempDir()
	segFile := writeFile(t, dir, "segments.csv", segs)
	out := filepath.Join(dir, "report")
	e := map[string]string{"DATABASE_URL": dbURL}

	_, err = runIn(t, e, "portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--baseline-from", "2026-02-01",
		"--baseline-to", "2026-02-28", "--lender", "acme", "--segments", segFile, "--out", out)
	require.NoError(t, err)
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)
	var n, approved int
	require.NoError(t, pool.QueryRow(ctx, `select count(*), count(*) filter (where outcome = 'approve') from decisions
		where decided_at >= '2026-03-01' and decided_at < '2026-04-01'`).Scan(&n, &approved))
	require.Equal(t, 8, n)
	require.Contains(t, string(page), fmt.Sprintf(`data-field="total">%d<`, n))
	require.Contains(t, string(page), fmt.Sprintf(`data-field="approve">%d<`, approved))
	require.Contains(t, string(page), `data-field="baseline">4<`)
	require.Contains(t, string(page), `data-psi="score"`)
	require.Contains(t, string(page), `data-field="auc">`)
	require.Contains(t, string(page), `data-segment="north"`)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	pngs := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".png") {
			pngs++
			require.Contains(t, string(page), `src="`+e.Name()+`"`)
		}
	}
	require.Equal(t, strings.Count(string(page), `<img class="chart"`), pngs)
	require.GreaterOrEqual(t, pngs, 8)

	bad := writeFile(t, dir, "bad.csv", "application_id,segment\nloan-1,\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"portfolio", "--to", "2026-03-31", "--out", out}, "--from: not set (a day YYYY-MM-DD)"},
		{[]string{"portfolio", "--from", "2026-03-31", "--to", "2026-03-01", "--out", out}, "--to: 2026-03-01 is before --from 2026-03-31"},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31"}, "--out: not set (the directory to write the report into)"},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--baseline-from", "2026-02-01"}, "--baseline-to: not set (--baseline-from is)"},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--baseline-from", "2026-02-30", "--baseline-to", "2026-02-28"}, `--baseline-from: "2026-02-30" is not a day YYYY-MM-DD`},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--segments", bad}, "--segments " + bad + ": segments: line 2: segment: empty"},
	} {
		_, err := runIn(t, e, c.args...)
		require.EqualError(t, err, c.want, "%v", c.args)
	}
}
