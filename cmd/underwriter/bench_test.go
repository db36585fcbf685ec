package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/bench"
)

// TestBenchJSON runs a tiny bench and checks the JSON's names and that its figures are
// consistent (positive, each ratio its two times' quotient, every ledger decided); it
// asserts no speed.
func TestBenchJSON(t *testing.T) {
	out, err := runCmd(t, "bench", "--json", "--sections", "scoring,batch", "--batch", "40", "--lengths", "3", "--min-time", "30ms")
	require.NoError(t, err)
	var r struct {
		Machine struct {
			GOMAXPROCS int `json:"gomaxprocs"`
		} `json:"machine"`
		Scoring struct {
			Ledgers []struct {
				Months          int     `json:"months"`
				Transactions    int     `json:"transactions"`
				DecodeJSONNs    float64 `json:"decode_json_ns"`
				ParseNs         float64 `json:"parse_ns"`
				FeaturesScoreNs float64 `json:"features_score_ns"`
				ScoringVsDecode float64 `json:"scoring_vs_decode"`
				ParseVsDecode   float64 `json:"parse_vs_decode"`
			} `json:"ledgers"`
		} `json:"scoring"`
		Batch struct {
			Ledgers                 int            `json:"ledgers"`
			Months                  int            `json:"months"`
			GOMAXPROCS              int            `json:"gomaxprocs"`
			WallSeconds             float64        `json:"wall_s"`
			LedgersPerSecond        float64        `json:"ledgers_per_s"`
			LedgersPerSecondPerCore float64        `json:"ledgers_per_s_per_core"`
			Outcomes                map[string]int `json:"outcomes"`
		} `json:"batch"`
		Figures map[string]float64 `json:"figures"`
		Targets []struct {
			Figure string  `json:"figure"`
			Value  float64 `json:"value"`
			Met    bool    `json:"met"`
		} `json:"targets"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)

	require.Len(t, r.Scoring.Ledgers, 1)
	l := r.Scoring.Ledgers[0]
	require.Equal(t, 3, l.Months)
	require.InDelta(t, 3*125, l.Transactions, 3*125/4, "about 125 transactions a month")
	for _, v := range []float64{l.DecodeJSONNs, l.ParseNs, l.FeaturesScoreNs} {
		require.Positive(t, v)
	}
	require.InDelta(t, l.FeaturesScoreNs/l.DecodeJSONNs, l.ScoringVsDecode, 1e-9)
	require.InDelta(t, l.ParseNs/l.DecodeJSONNs, l.ParseVsDecode, 1e-9)
	require.Equal(t, l.ScoringVsDecode, r.Figures["scoring_vs_decode"])
	require.Equal(t, l.ScoringVsDecode, r.Figures["scoring_vs_decode_3m"])

	b := r.Batch
	require.Equal(t, 40, b.Ledgers)
	require.Equal(t, 12, b.Months)
	require.Positive(t, b.GOMAXPROCS)
	require.Equal(t, r.Machine.GOMAXPROCS, b.GOMAXPROCS)
	require.Positive(t, b.WallSeconds)
	require.InDelta(t, 40/b.WallSeconds, b.LedgersPerSecond, 1e-6)
	require.InDelta(t, b.LedgersPerSecond/float64(b.GOMAXPROCS), b.LedgersPerSecondPerCore, 1e-6)
	require.Equal(t, b.LedgersPerSecondPerCore, r.Figures["batch_ledgers_per_s_per_core"])
	total := 0
	for _, n := range b.Outcomes {
		total += n
	}
	require.Equal(t, 40, total, "every ledger decided once: %v", b.Outcomes)

	names := map[string]float64{}
	for _, tg := range r.Targets {
		names[tg.Figure] = tg.Value
	}
	require.Equal(t, map[string]float64{"scoring_vs_decode": l.ScoringVsDecode,
		"batch_ledgers_per_s_per_core": b.LedgersPerSecondPerCore}, names)
}

func TestBenchBadFlags(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--lengths 3,x", `bench: --lengths: "x" is not a number of months from 1 to 120`},
		{"--lengths 0", `bench: --lengths: "0" is not a number of months from 1 to 120`},
		{"--batch 0", "bench: --batch: 0 is below 1"},
		{"--min-time -1s", "bench: --min-time: -1s is not positive"},
		{"--sections scoring,nope", `bench: --sections: "nope" is not one of scoring, batch, ingest, e2e, load`},
		{"--ingest-accounts 0", "bench: --ingest-accounts: 0 is below 1"},
		{"--e2e-applications 0", "bench: --e2e-applications: 0 is below 1"},
		{"--load-applications 0", "bench: --load-applications: 0 is below 1"},
		{"--load-rate-limit 0", "bench: --load-rate-limit: 0 is below 1"},
	} {
		_, err := runCmd(t, append([]string{"bench"}, strings.Fields(c.args)...)...)
		require.EqualError(t, err, c.want, c.args)
	}
}

// benchReport decodes the bench's JSON into its own types (the ones bench.Run fills, so
// the sections' shapes are declared once), and checks that the named section's keys are
// exactly want: the names README "Performance" documents stay as they are.
func benchReport(t *testing.T, out, section string, want ...string) bench.Report {
	t.Helper()
	var r bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	var top, keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &top))
	require.NoError(t, json.Unmarshal(top[section], &keys), "section %s", section)
	got := make([]string, 0, len(keys))
	for k := range keys {
		got = append(got, k)
	}
	require.ElementsMatch(t, want, got, "the %s section's JSON names", section)
	return r
}

// TestBenchIngestJSON runs the ingest section alone at a tiny size on the dev stack and
// checks its names and that its figures are consistent; it asserts no speed.
func TestBenchIngestJSON(t *testing.T) {
	out, err := runCmd(t, "bench", "--json", "--sections", "ingest", "--ingest-accounts", "2")
	require.NoError(t, err)
	r := benchReport(t, out, "ingest", "accounts", "transactions", "pages", "sync_s", "list_s", "copy_s",
		"sync_txns_per_s", "copy_txns_per_s", "ingest_vs_copy")
	require.Nil(t, r.Scoring, "--sections ingest runs ingest alone")
	in := r.Ingest
	require.Equal(t, 2, in.Accounts)
	// The persona's ledger holds 490 transactions: five pages of at most 100 each.
	require.Equal(t, 2*490, in.Transactions)
	require.Equal(t, 2*5, in.Pages)
	for _, v := range []float64{in.SyncSeconds, in.ListSeconds, in.CopySeconds} {
		require.Positive(t, v)
	}
	require.InDelta(t, float64(in.Transactions)/in.SyncSeconds, in.SyncTxnsPerSecond, 1e-6)
	require.InDelta(t, float64(in.Transactions)/in.CopySeconds, in.CopyTxnsPerSecond, 1e-6)
	require.InDelta(t, in.SyncTxnsPerSecond/in.CopyTxnsPerSecond, in.IngestVsCopy, 1e-9)
	require.Equal(t, in.IngestVsCopy, r.Figures["ingest_vs_copy"])
	require.Equal(t, in.SyncTxnsPerSecond, r.Figures["ingest_txns_per_s"])
	require.Len(t, r.Targets, 1)
	require.Equal(t, "ingest_vs_copy", r.Targets[0].Figure)
	require.Equal(t, 0.5, r.Targets[0].Min)
}

// TestBenchE2EJSON runs the e2e section alone at a tiny size and checks its names and
// that its figures are consistent; it asserts no speed.
func TestBenchE2EJSON(t *testing.T) {
	out, err := runCmd(t, "bench", "--json", "--sections", "e2e", "--e2e-applications", "3")
	require.NoError(t, err)
	r := benchReport(t, out, "e2e", "applications", "decided", "outcomes", "wall_s", "applications_per_s", "shape",
		"noop_wall_s", "noop_workflows_per_s", "e2e_vs_noop", "stripe_requests_per_application",
		"stripe_requests_first_application", "latency_applications", "paced_applications_per_s",
		"refresh_to_decision_p50_s", "refresh_to_decision_p99_s")
	e := r.E2E
	require.Equal(t, 3, e.Applications)
	require.Equal(t, 3, e.Decided)
	require.Equal(t, map[string]int{"approve": 3}, e.Outcomes, "steady_salaried is approved")
	require.InDelta(t, 3/e.WallSeconds, e.ApplicationsPerSecond, 1e-6)
	require.InDelta(t, 3/e.NoopWallSeconds, e.NoopPerSecond, 1e-6)
	require.InDelta(t, e.ApplicationsPerSecond/e.NoopPerSecond, e.E2EVsNoop, 1e-9)
	require.Positive(t, e.Shape.Activities)
	require.Positive(t, e.Shape.Signals, "the link and the refresh webhook signal the workflow")
	// Create customer and session, read the session, refresh, read its status once, five
	// pages of 490 transactions at least (the status read's balance serves the balance).
	require.GreaterOrEqual(t, e.StripeRequestsFirst, int64(10))
	require.GreaterOrEqual(t, e.StripeRequestsPerApplication, 10.0)
	require.Equal(t, e.StripeRequestsPerApplication, r.Figures["stripe_requests_per_application"])
	require.Equal(t, 5, e.LatencyApplications)
	require.Positive(t, e.RefreshToDecisionP50)
	require.GreaterOrEqual(t, e.RefreshToDecisionP99, e.RefreshToDecisionP50)
	for _, f := range []string{"e2e_vs_noop", "e2e_applications_per_s", "noop_workflows_per_s", "refresh_to_decision_p50_s",
		"refresh_to_decision_p99_s", "stripe_requests_per_application"} {
		require.Contains(t, r.Figures, f)
	}
	var names []string
	for _, tg := range r.Targets {
		names = append(names, tg.Figure)
	}
	require.Equal(t, []string{"e2e_vs_noop", "refresh_to_decision_p99_s", "stripe_requests_per_application"}, names)
}

// TestBenchLoadJSON runs the load section alone at a tiny size and checks its names and
// that its figures are consistent: every application decided once, the worker a process
// of its own with its share of the rate limit; it asserts no speed.
func TestBenchLoadJSON(t *testing.T) {
	out, err := runCmd(t, "bench", "--json", "--sections", "load", "--load-applications", "4", "--load-rate-limit", "100")
	require.NoError(t, err)
	r := benchReport(t, out, "load", "rate_limit", "worker_rate_limit", "api_rate_limit", "stripe_requests_per_application",
		"at80_applications", "at80_applications_per_s", "at80_rate_limited", "applications", "decided", "outcomes", "wall_s",
		"stripe_requests", "rate_limited", "peak_rss_mb", "harness_peak_rss_mb", "gets", "get_errors", "get_p50_s", "get_p99_s")
	l := r.Load
	require.Equal(t, 100, l.RateLimit)
	require.Equal(t, "80", l.WorkerRateLimit)
	require.Equal(t, "20", l.APIRateLimit)
	require.Equal(t, 4, l.Applications)
	require.Equal(t, 4, l.Decided)
	require.Equal(t, map[string]int{"approve": 4}, l.Outcomes)
	require.GreaterOrEqual(t, l.StripeRequestsPerApplication, int64(10))
	require.InDelta(t, 0.8*100/float64(l.StripeRequestsPerApplication), l.At80PerSecond, 1e-9)
	require.Equal(t, 4, l.At80Applications, "no more than --load-applications")
	require.Positive(t, l.WallSeconds)
	require.Positive(t, l.PeakRSSMB)
	require.Less(t, l.PeakRSSMB, 64*1024.0, "MB, not kB")
	require.Positive(t, l.HarnessPeakRSSMB)
	if l.GETs > 0 {
		require.GreaterOrEqual(t, l.GETP99, l.GETP50)
	}
	require.Equal(t, l.PeakRSSMB, r.Figures["load_peak_rss_mb"])
	require.Equal(t, float64(l.At80RateLimited), r.Figures["rate_limited_at_80pct"])
	require.Equal(t, 4.0, r.Figures["load_decided"])
	var names []string
	for _, tg := range r.Targets {
		names = append(names, tg.Figure)
	}
	require.Equal(t, []string{"load_peak_rss_mb", "rate_limited_at_80pct"}, names)
}
