package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// TestRescoreFlags: bad flags are refused, naming the flag, before anything connects
// (no database or Temporal is reachable here).
func TestRescoreFlags(t *testing.T) {
	t.Parallel()
	model := filepath.Join("..", "..", "scoring", "models", "scorecard-v1.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"model_version": "x"`), 0o600))
	env := getenvOf(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "TEMPORAL_ADDRESS": "127.0.0.1:1"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2026-10-01", "--to", "2026-10-31"}, "--model: not set (a scorecard model file)"},
		{[]string{"--model", model, "--to", "2026-10-31"}, "--from: not set (a day YYYY-MM-DD)"},
		{[]string{"--model", model, "--from", "2026-10-01"}, "--to: not set (a day YYYY-MM-DD)"},
		{[]string{"--model", model, "--from", "1 Oct", "--to", "2026-10-31"}, `--from: "1 Oct" is not a day YYYY-MM-DD`},
		{[]string{"--model", model, "--from", "2026-10-31", "--to", "2026-10-01"}, "--to: 2026-10-01 is before --from 2026-10-31"},
		{[]string{"--model", model, "--from", "2026-10-01", "--to", "2026-10-31", "--lender", "Acme Bank"}, "--lender: "},
		{[]string{"--model", model, "--from", "2026-10-01", "--to", "2026-10-31", "--batch", "0"}, "--batch: 0 is below 1"},
		{[]string{"--model", "missing.json", "--from", "2026-10-01", "--to", "2026-10-31"}, "--model: open missing.json: no such file or directory"},
		{[]string{"--model", model, "--policy", "missing.json", "--from", "2026-10-01", "--to", "2026-10-31"}, "--policy: open missing.json: no such file or directory"},
		{[]string{"--model", bad, "--from", "2026-10-01", "--to", "2026-10-31"}, "load model file " + bad},
		{[]string{"--model", model, "--from", "2026-10-01", "--query", "UnderwritingOutcome = 'refer'"},
			"--query: give it instead of --from and --to, not with them"},
	} {
		err := run(context.Background(), append([]string{"underwriter", "rescore"}, tc.args...), env, &bytes.Buffer{}, &bytes.Buffer{})
		require.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}

// TestRescoreCommand runs the whole loop on the real stack: the sample personas are
// underwritten through the API, the sandbox and the worker; `underwriter rescore` under
// their own versions (scorecard and policy v2) reproduces every decision's feature vector,
// points, score, rules and reasons exactly, checked here over every stored snapshot;
// under scorecard and policy v1 it prints the swap set, score shift and PSI, and once
// outcomes are imported, AUC and KS of both versions. A second run stores nothing.
func TestRescoreCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Config{DatabaseURL: pgtest.URL(t), UIPort: -1,
		RefreshDelay: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stack.Close()) })
	results := stack.UnderwriteSamples(ctx, "rs", 2*time.Minute)
	for _, r := range results {
		require.NoError(t, r.Err, r.Persona)
	}

	env := getenvOf(map[string]string{"DATABASE_URL": stack.DatabaseURL, "TEMPORAL_ADDRESS": stack.TemporalAddress,
		"TEMPORAL_NAMESPACE": stack.Namespace})
	today := time.Now().UTC()
	period := []string{"--from", today.AddDate(0, 0, -1).Format(time.DateOnly), "--to", today.AddDate(0, 0, 1).Format(time.DateOnly)}
	models := filepath.Join("..", "..", "scoring", "models")
	rescore := func(version string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args := append([]string{"underwriter", "rescore", "--model", filepath.Join(models, "scorecard-"+version+".json"),
			"--policy", filepath.Join(models, "policy-"+version+".json"), "--batch", "3"}, period...)
		require.NoError(t, run(ctx, args, env, &out, &errOut), errOut.String())
		t.Logf("underwriter rescore --model scorecard-%s.json --policy policy-%s.json\n%s", version, version, out.String())
		return out.String()
	}

	n := len(results)
	out := rescore("v2")
	require.Contains(t, out, "under model v2, policy v2 (fs-v3/cat-v2)")
	require.Contains(t, out, fmt.Sprintf("same versions as the decision: %d of %d reproduce", n, n))
	require.Contains(t, out, fmt.Sprintf("unchanged          %d  100.0%%", n))
	require.Contains(t, out, "mean +0.0  p10 +0  p50 +0  p90 +0")
	require.Contains(t, out, "score PSI: 0.0000")
	// Exactness, checked here too, over every stored snapshot's decision.
	for _, r := range results {
		key := devstack.DevKey(r.ApplicationID)
		d, err := stack.Store.GetDecision(ctx, key)
		require.NoError(t, err)
		re, err := stack.Store.GetRescore(ctx, key, d.FeatureSetVersion, d.ModelVersion, d.PolicyVersion)
		require.NoError(t, err, r.Persona)
		require.Equal(t, d.Outcome, re.Outcome, r.Persona)
		require.Equal(t, d.Score, re.Score, r.Persona)
		require.Equal(t, d.PD, re.PD, r.Persona)
		for name, docs := range map[string][2]json.RawMessage{"features": {d.Features, re.Features},
			"points": {d.Points, re.Points}, "rules": {d.Rules, re.Rules}, "reasons": {d.Reasons, re.Reasons}} {
			require.JSONEq(t, string(docs[0]), string(docs[1]), "%s %s", r.Persona, name)
		}
	}

	out = rescore("v1")
	require.Contains(t, out, "under model v1, policy v1 (fs-v2/cat-v1)")
	require.Contains(t, out, fmt.Sprintf("%d scored, %d stored, 0 already stored", n, n))
	require.NotContains(t, out, "same versions as the decision")
	for _, s := range []string{"swap set", "approve → decline", "decline → approve", "→ refer", "refer →",
		"score shift (new − original", "score PSI: ", "characteristic PSI", "SC_PAYMENT_TO_INCOME"} {
		require.Contains(t, out, s)
	}
	require.Contains(t, out, "loan outcomes known for 0 applications")

	// Outcomes for the sample applications: the approved repaid, the others defaulted, so
	// both classes are there.
	var recs []store.OutcomeRecord
	for i, r := range results {
		o := store.LoanDefaulted
		if r.Outcome == loan.OutcomeApprove || i%2 == 0 {
			o = store.LoanRepaid
		}
		recs = append(recs, store.OutcomeRecord{Line: i + 2, ExternalID: r.ApplicationID, Outcome: o, ObservedOn: today})
	}
	_, err = stack.Store.ImportOutcomes(ctx, loan.DevLender, recs)
	require.NoError(t, err)
	out = rescore("v1")
	require.Contains(t, out, fmt.Sprintf("%d scored, 0 stored, %d already stored", n, n), "a re-run changes nothing")
	require.Contains(t, out, fmt.Sprintf("loan outcomes known for %d applications scored by both", n))
	require.Regexp(t, `original +AUC \d\.\d{3}  KS \d\.\d{3}`, out)
	require.Regexp(t, `new +AUC \d\.\d{3}  KS \d\.\d{3}`, out)

	// --query selects by the workflows' search attributes instead of a period: the
	// referred applications only, under v1; the second run resumes the same selection.
	referred := 0
	for _, r := range results {
		if r.Outcome == loan.OutcomeRefer {
			referred++
		}
	}
	require.Positive(t, referred)
	query := []string{"underwriter", "rescore", "--model", filepath.Join(models, "scorecard-v1.json"),
		"--policy", filepath.Join(models, "policy-v1.json"), "--query", "UnderwritingOutcome = 'refer'"}
	require.Eventually(t, func() bool {
		var qout, errOut bytes.Buffer
		if err := run(ctx, query, env, &qout, &errOut); err != nil {
			t.Log(err)
			return false
		}
		out = qout.String()
		return strings.Contains(out, fmt.Sprintf(": %d applications under model v1", referred))
	}, 30*time.Second, 500*time.Millisecond)
	require.Contains(t, out, `selected by query "UnderwritingOutcome = 'refer'"`)
	require.Contains(t, out, fmt.Sprintf("%d scored, 0 stored, %d already stored", referred, referred), "v1 re-scores exist already")

	var qout bytes.Buffer
	err = run(ctx, []string{"underwriter", "rescore", "--model", filepath.Join(models, "scorecard-v1.json"),
		"--query", "UnderwritingOutcome = 'refer'", "--lender", "acme"}, env, &qout, &bytes.Buffer{})
	require.EqualError(t, err, `--query: "UnderwritingOutcome = 'refer'" matches no application of lender acme`)
}
