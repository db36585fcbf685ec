package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/report"
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
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--lender", "acme", "--segments", bad}, "--segments " + bad + ": segments: line 2: segment: empty"},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--segments", segFile}, "--segments: needs --lender (the file's application ids are that lender's)"},
		{[]string{"portfolio", "--from", "2026-03-01", "--to", "2026-03-31", "--out", out, "--lender", "acme", "--segments", filepath.Join(dir, "missing.csv")}, "--segments: open " + filepath.Join(dir, "missing.csv") + ": no such file or directory"},
	} {
		_, err := runIn(t, e, c.args...)
		require.EqualError(t, err, c.want, "%v", c.args)
	}
}

// generateDecisions fills the database with n generated decisions of lender dev, spread
// evenly over 2025 (2025-01-01 to 2025-12-31), with reasons, a rule, points on
// eight characteristics, loans of twenty amounts and three terms, and a loan outcome for
// every third, defaults likelier at low scores.
func generateDecisions(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		select 'dev/app-' || i, 'dev', 'app-' || i, 'h', 50000 + (i % 20) * 50000, (array[6, 12, 24])[1 + i % 3], 'usd',
			'underwrite/dev/app-' || i
		from generate_series(1, $1::int) i`, n)
	require.NoError(tb, err)
	var points []string
	for k := range 8 {
		points = append(points, fmt.Sprintf(`'{"code":"SC_C%d","feature":"f%d","value":"1","bin":"b' || ((s + %d) / 40) || '","points":' || (s %% 20) || ',"max_points":20}'`, k, k, k*13))
	}
	_, err = pool.Exec(ctx, `
		insert into decisions (application_id, workflow_id, run_id, outcome, score, pd, reasons, rules, points,
			model_version, policy_version, feature_set_version, decided_at, build_version)
		select 'dev/app-' || i, 'underwrite/dev/app-' || i, 'r',
			case when s >= 600 then 'approve' when s >= 570 then 'refer' else 'decline' end, s, 1 / (1 + exp((s - 520) / 30.0)),
			(case when s >= 600 then '[]'
				when s % 2 = 0 then '[{"code":"NSF_EXCESS","text":"Number of overdrafts or insufficient-funds items","value":"6","reference":"> 3"},{"code":"SC_TYPICAL_BALANCE_60D","text":"Bank account balance too low","value":"340","reference":">= 1814570","points_lost":38}]'
				else '[{"code":"SC_SPEND_TO_INCOME","text":"Spending high in relation to income","value":"1.0029","reference":"< 0.7066","points_lost":38}]' end)::jsonb,
			'[{"rule":"NSF_EXCESS","actual":"6","threshold":"> 3","passed":false,"action":"decline"}]',
			('[' || `+strings.Join(points, " || ',' || ")+` || ']')::jsonb,
			'v2', 'v2', 'fs-v3/cat-v2', timestamptz '2025-01-01 00:00:00Z' + i * $2::float8 * interval '1 second', 'bench'
		from (select i, (480 + (i::bigint * 7919 + i / 1000) % 200)::int as s from generate_series(1, $1::int) i) g`, n, 364*86400.0/float64(n))
	require.NoError(tb, err)
	_, err = pool.Exec(ctx, `
		insert into outcomes (application_id, outcome, observed_on)
		select d.application_id, case when random() < d.pd then 'defaulted' else 'repaid' end, date '2026-06-01'
		from decisions d where d.application_id like 'dev/app-%' and substr(d.application_id, 9)::int % 3 = 0`)
	require.NoError(tb, err)
	_, err = pool.Exec(ctx, `analyze`)
	require.NoError(tb, err)
}

// TestPortfolioMemoryDoesNotGrow streams 20,000 generated decisions into the portfolio
// report and checks that the live heap after 20,000 rows is within 1 MiB of the heap after
// 2,000: the report keeps tallies, and of each row only the score, PD and outcome of a
// decision with a known loan outcome (17 bytes; 6,000 rows here, about 100 KiB), not the
// rows. Not parallel, so that no other test's allocations move the heap.
func TestPortfolioMemoryDoesNotGrow(t *testing.T) {
	ctx := context.Background()
	_, st, pool := analystDB(t)
	const n = 20000
	generateDecisions(t, pool, n)
	p := report.NewPortfolio(report.PortfolioOptions{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	var heap []uint64
	rows, err := st.PortfolioDecisions(ctx, store.DecisionFilter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		func(d *store.PortfolioDecision) error {
			if err := p.Add(d); err != nil {
				return err
			}
			if p.Rows()%probeEvery == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = append(heap, ms.HeapAlloc)
			}
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, n, rows)
	require.Len(t, heap, n/probeEvery)
	first, last := heap[0], heap[len(heap)-1]
	t.Logf("live heap after %d rows %d KiB, after %d rows %d KiB", probeEvery, first>>10, n, last>>10)
	require.Less(t, int64(last)-int64(first), int64(1<<20), "the heap grew with the rows")
	_, s, err := p.Render()
	require.NoError(t, err)
	require.Equal(t, n, s.Total.N)
	require.Equal(t, n/3, s.Outcomes)
	require.True(t, s.HasMetrics)
}

// BenchmarkPortfolioLargeBook runs `underwriter portfolio` over a generated book
// (PORTFOLIO_BENCH_ROWS decisions, default 1,000,000; a third with known outcomes), the
// period and a baseline together covering every row, and reports the peak of the Go
// runtime's memory (runtime/metrics /memory/classes/total:bytes, sampled every 10 ms) and
// of its live heap, in MB. Generating a million rows takes Postgres a minute or two; the
// report itself streams them.
//
//	go test ./cmd/underwriter -run '^$' -bench BenchmarkPortfolioLargeBook -benchtime 1x
func BenchmarkPortfolioLargeBook(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("PORTFOLIO_BENCH_ROWS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err, "PORTFOLIO_BENCH_ROWS")
	}
	dbURL := pgtest.URL(b)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(b, err)
	defer pool.Close()
	start := time.Now()
	generateDecisions(b, pool, n)
	b.Logf("generated %d decisions in %s", n, time.Since(start).Round(time.Second))
	dir := b.TempDir()
	e := map[string]string{"DATABASE_URL": dbURL}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		peak := sampleMemory()
		var errOut strings.Builder
		err := run(context.Background(), []string{"underwriter", "portfolio", "--from", "2025-04-01", "--to", "2025-12-31",
			"--baseline-from", "2025-01-01", "--baseline-to", "2025-03-31", "--out", filepath.Join(dir, "report")},
			env(e), io.Discard, &errOut)
		total, heap := peak()
		require.NoError(b, err)
		b.Log(strings.TrimSpace(errOut.String()))
		b.ReportMetric(float64(total)/1e6, "peak-MB")
		b.ReportMetric(float64(heap)/1e6, "peak-heap-MB")
		b.ReportMetric(float64(n), "decisions")
		require.Less(b, total, uint64(256<<20), "the report must stay under 256 MB")
	}
}

// sampleMemory samples the runtime's total memory and live heap every 10 ms until the
// returned function is called, which returns their peaks.
func sampleMemory() func() (total, heap uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	var maxTotal, maxHeap uint64
	read := func() {
		metrics.Read(samples)
		maxTotal = max(maxTotal, samples[0].Value.Uint64())
		maxHeap = max(maxHeap, samples[1].Value.Uint64())
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-stopped
		read()
		return maxTotal, maxHeap
	}
}
