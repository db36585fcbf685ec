package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestDecisionsExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, st, _ := analystDB(t)
	createApps(t, st, "acme", "loan-1", "loan-2", "loan-3")
	createApps(t, st, "other", "loan-1")
	at := time.Date(2026, 2, 3, 10, 30, 0, 0, time.UTC)
	record := func(key, outcome string, decidedAt time.Time, scored bool) {
		d := store.Decision{ApplicationID: key, WorkflowID: "underwrite/" + key, RunID: "r", Outcome: outcome, DecidedAt: decidedAt,
			ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs-v3/cat-v2", BuildVersion: "test"}
		if scored {
			v := "underwriter:test"
			d.DeploymentVersion = &v
			score, pd := 655, 0.0425
			d.Score, d.PD = &score, &pd
			d.Reasons = json.RawMessage(`[{"code":"NSF_RECENT","text":"Recent insufficient-funds fees","value":2},{"code":"LOW_BUFFER","text":"Low cash buffer"}]`)
			d.Rules = json.RawMessage(`[{"rule":"min_history_days","actual":180,"threshold":90,"passed":true},{"rule":"max_nsf_90d","actual":2,"threshold":1,"passed":false}]`)
		}
		_, _, err := st.RecordDecision(ctx, d)
		require.NoError(t, err)
	}
	record("acme/loan-1", loan.OutcomeApprove, at, true)
	record("acme/loan-2", loan.OutcomeExpired, at.Add(time.Hour), false)
	record("acme/loan-3", loan.OutcomeDecline, at.AddDate(0, 0, 1), true) // Feb 4: outside --to
	record("other/loan-1", loan.OutcomeRefer, at, true)
	_, err := st.ImportOutcomes(ctx, "acme", []store.OutcomeRecord{{Line: 2, ExternalID: "loan-1", Outcome: store.LoanRepaid, ObservedOn: at.AddDate(0, 6, 0)}})
	require.NoError(t, err)
	e := map[string]string{"DATABASE_URL": dbURL}

	out, err := runIn(t, e, "decisions", "export", "--from", "2026-02-01", "--to", "2026-02-03", "--lender", "acme")
	require.NoError(t, err)
	require.Equal(t, `application_id,lender,decided_at,outcome,score,pd,model_version,policy_version,feature_set_version,loan_outcome,loan_observed_on,reasons,rules,deployment_version
loan-1,acme,2026-02-03T10:30:00Z,approve,655,0.0425,v2,v2,fs-v3/cat-v2,repaid,2026-08-03,NSF_RECENT;LOW_BUFFER,min_history_days=true;max_nsf_90d=false,underwriter:test
loan-2,acme,2026-02-03T11:30:00Z,expired,,,v2,v2,fs-v3/cat-v2,,,,,
`, out)

	// JSONL, every lender, into a file: the reasons and rules as objects, null for what is unknown.
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	out, err = runIn(t, e, "decisions", "export", "--from", "2026-02-03", "--to", "2026-02-04", "--format", "jsonl", "--out", path)
	require.NoError(t, err)
	require.Empty(t, out)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 4)
	require.JSONEq(t, `{"application_id":"loan-1","lender":"acme","decided_at":"2026-02-03T10:30:00Z","outcome":"approve",
		"score":655,"pd":0.0425,"model_version":"v2","policy_version":"v2","feature_set_version":"fs-v3/cat-v2",
		"loan_outcome":"repaid","loan_observed_on":"2026-08-03",
		"reasons":[{"code":"NSF_RECENT","text":"Recent insufficient-funds fees","value":2},{"code":"LOW_BUFFER","text":"Low cash buffer"}],
		"rules":[{"rule":"min_history_days","actual":180,"threshold":90,"passed":true},{"rule":"max_nsf_90d","actual":2,"threshold":1,"passed":false}],
		"deployment_version":"underwriter:test"}`, lines[0])
	require.JSONEq(t, `{"application_id":"loan-1","lender":"other","decided_at":"2026-02-03T10:30:00Z","outcome":"refer",
		"score":655,"pd":0.0425,"model_version":"v2","policy_version":"v2","feature_set_version":"fs-v3/cat-v2",
		"loan_outcome":null,"loan_observed_on":null,
		"reasons":[{"code":"NSF_RECENT","text":"Recent insufficient-funds fees","value":2},{"code":"LOW_BUFFER","text":"Low cash buffer"}],
		"rules":[{"rule":"min_history_days","actual":180,"threshold":90,"passed":true},{"rule":"max_nsf_90d","actual":2,"threshold":1,"passed":false}],
		"deployment_version":"underwriter:test"}`, lines[1])
	require.Contains(t, lines[2], `"application_id":"loan-2","lender":"acme","decided_at":"2026-02-03T11:30:00Z","outcome":"expired","score":null,"pd":null`)
	require.Contains(t, lines[2], `"deployment_version":null`, "a decision of an unversioned worker")
	require.Contains(t, lines[3], `"application_id":"loan-3"`)
}

// TestBadInputDecisionsExport: bad flags are refused naming the flag before connecting
// (DATABASE_URL is unset, so a connection attempt would say so instead).
func TestBadInputDecisionsExport(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", "2026-02-01"}, "--from: not set (a day YYYY-MM-DD)"},
		{[]string{"--from", "2026-02-01"}, "--to: not set (a day YYYY-MM-DD)"},
		{[]string{"--from", "2026-02-30", "--to", "2026-03-01"}, `--from: "2026-02-30" is not a day YYYY-MM-DD`},
		{[]string{"--from", "2026-02-01", "--to", "3/1/2026"}, `--to: "3/1/2026" is not a day YYYY-MM-DD`},
		{[]string{"--from", "2026-02-01", "--to", "2026-01-31"}, "--to: 2026-01-31 is before --from 2026-02-01"},
		{[]string{"--from", "2026-02-01", "--to", "2026-02-01", "--format", "xlsx"}, `--format: "xlsx" is not csv or jsonl`},
		{[]string{"--from", "2026-02-01", "--to", "2026-02-01", "--lender", "a/b"}, `--lender: lender "a/b": must be 1-32 lowercase letters, digits or '-', starting with a letter or digit`},
		{[]string{"--from", "2026-02-01", "--to", "2026-02-01"}, "DATABASE_URL: not set"},
	} {
		_, err := runIn(t, nil, append([]string{"decisions", "export"}, c.args...)...)
		require.EqualError(t, err, c.want, "%v", c.args)
	}
}

// heapProbe is the export's output: it counts lines and, every probeEvery of them,
// records the live heap after a collection. If the export held its rows, the heap at the
// last probe would exceed the heap at the first by the rows in between.
type heapProbe struct {
	lines, next int
	heap        []uint64
	bytes       int
}

const probeEvery = 2000

func (p *heapProbe) Write(b []byte) (int, error) {
	p.lines += bytes.Count(b, []byte{'\n'})
	p.bytes += len(b)
	for p.lines >= p.next {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.heap = append(p.heap, ms.HeapAlloc)
		p.next += probeEvery
	}
	return len(b), nil
}

// TestDecisionsExportMemoryDoesNotGrow exports 20,000 generated decisions and checks that
// the live heap after 20,000 rows is within 1 MiB of the heap after 2,000: 18,000 rows held
// would take several MiB (each row's reasons and rules alone are over 300 bytes). It also
// sees the rows arrive at the writer while the query still runs: ten probes, not one.
// Not parallel, so that no other test's allocations move the heap.
func TestDecisionsExportMemoryDoesNotGrow(t *testing.T) {
	ctx := context.Background()
	dbURL, _, pool := analystDB(t)
	const n = 20000
	_, err := pool.Exec(ctx, `
		insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor, term_months, currency, workflow_id)
		select 'dev/app-' || i, 'dev', 'app-' || i, 'h', 300000, 12, 'usd', 'underwrite/dev/app-' || i
		from generate_series(1, $1::int) i`, n)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		insert into decisions (application_id, workflow_id, run_id, outcome, score, pd, reasons, rules,
			model_version, policy_version, feature_set_version, decided_at, build_version)
		select 'dev/app-' || i, 'underwrite/dev/app-' || i, 'r', 'approve', 600 + i % 100, (i % 100) / 1000.0,
			'[{"code":"NSF_RECENT","text":"Recent insufficient-funds fees","value":2},{"code":"LOW_BUFFER","text":"Low cash buffer","value":3}]',
			'[{"rule":"min_history_days","actual":180,"threshold":90,"passed":true},{"rule":"max_nsf_90d","actual":2,"threshold":1,"passed":false}]',
			'v2', 'v2', 'fs-v3/cat-v2', timestamptz '2026-01-01 00:00:00Z' + i * interval '1 minute', 'test'
		from generate_series(1, $1::int) i`, n)
	require.NoError(t, err)

	for _, format := range []string{"csv", "jsonl"} {
		probe := &heapProbe{next: probeEvery}
		var errOut bytes.Buffer
		err := run(ctx, []string{"underwriter", "decisions", "export", "--from", "2026-01-01", "--to", "2026-01-31", "--format", format},
			env(map[string]string{"DATABASE_URL": dbURL}), probe, &errOut)
		require.NoError(t, err)
		require.Equal(t, "decisions export: 20000 decisions of every lender decided 2026-01-01 to 2026-01-31\n", errOut.String())
		wantLines := n
		if format == "csv" {
			wantLines++ // the header
		}
		require.Equal(t, wantLines, probe.lines)
		require.GreaterOrEqual(t, len(probe.heap), n/probeEvery, format)
		first, last := probe.heap[0], probe.heap[len(probe.heap)-1]
		t.Logf("%s: %d rows, %d bytes; live heap after %d rows %d KiB, after %d rows %d KiB",
			format, n, probe.bytes, probeEvery, first>>10, probe.lines, last>>10)
		require.Less(t, int64(last)-int64(first), int64(1<<20), "%s: the heap grew with the rows", format)
	}
}
