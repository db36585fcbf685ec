package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// recordPersonaDecision stores an application of lender with a sample persona's ledger as
// its snapshot and the decision scoring makes of it, as the Decide activity stores one.
func recordPersonaDecision(t *testing.T, st *store.Store, lender, ext, persona string, amount int64, term int, decidedAt time.Time) store.Decision {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.EnsureLender(ctx, lender, ""))
	key := loan.ApplicationKey(lender, ext)
	_, _, err := st.CreateApplication(ctx, store.Application{ID: key, LenderID: lender, ExternalID: ext, RequestHash: "h",
		LoanAmountMinor: amount, TermMonths: term, Currency: "usd", WorkflowID: "underwrite/" + key})
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join("..", "..", "fcsandbox", "personas", persona+".json"))
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(raw)
	require.NoError(t, err)
	asOf := scoring.LatestAsOf(l)
	sum := sha256.Sum256(raw)
	snap, err := st.InsertSnapshot(ctx, store.Snapshot{ApplicationID: key, AsOf: asOf, ContentHash: hex.EncodeToString(sum[:]),
		Ledger: raw, TxnCount: len(l.Transactions), AccountCount: len(l.Accounts)})
	require.NoError(t, err)
	dec, err := scoring.Underwrite(l, asOf, scoring.Loan{AmountMinor: amount, TermMonths: term, Currency: "usd"}, scoring.Operational{})
	require.NoError(t, err)
	js := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	score, pd, hash := dec.Score, dec.PD, snap.ContentHash
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	d, _, err := st.RecordDecision(ctx, store.Decision{ApplicationID: key, WorkflowID: "underwrite/" + key, RunID: "r",
		Outcome: dec.Outcome, Score: &score, PD: &pd, Reasons: js(dec.Reasons), Rules: js(dec.Rules), Features: js(dec.Features),
		Points: js(dec.Points), ModelVersion: dec.ModelVersion, PolicyVersion: dec.PolicyVersion, FeatureSetVersion: dec.FeatureSetVersion,
		ReasonCodeMapVersion: scoring.DefaultModel().ReasonCodeMapVersion, SnapshotID: &snap.ID, ContentHash: &hash, AsOf: &asOf,
		Cutoff: &day, DecidedAt: decidedAt, BuildVersion: "test"})
	require.NoError(t, err)
	return d
}

func TestReport(t *testing.T) {
	t.Parallel()
	dbURL, st, _ := analystDB(t)
	d := recordPersonaDecision(t, st, "acme", "loan-7", "overdraft_nsf", 100000, 6, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	createApps(t, st, "acme", "undecided")
	e := map[string]string{"DATABASE_URL": dbURL}
	dir := t.TempDir()

	html := filepath.Join(dir, "r.html")
	_, err := runIn(t, e, "report", "loan-7", "--lender", "acme", "--out", html)
	require.NoError(t, err)
	b, err := os.ReadFile(html)
	require.NoError(t, err)
	page := string(b)
	require.Contains(t, page, `data-field="outcome">`+d.Outcome+`<`)
	require.Contains(t, page, `data-field="score">`+strings.TrimSpace(jsonNum(*d.Score))+`<`)
	require.Contains(t, page, `data-field="content_hash">`+*d.ContentHash+`<`)
	require.Equal(t, 4, strings.Count(page, `<img class="chart"`))

	png := filepath.Join(dir, "r.png")
	_, err = runIn(t, e, "report", "--lender", "acme", "--format", "png", "--out", png, "loan-7")
	require.NoError(t, err)
	b, err = os.ReadFile(png)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "\x89PNG"))

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--out", html}, "report: APPLICATION_ID: not given"},
		{[]string{"report", "loan-7", "--lender", "acme"}, "--out: not set (the file to write)"},
		{[]string{"report", "loan-7", "--lender", "acme", "--out", html, "--format", "pdf"}, `--format: "pdf" is not html or png`},
		{[]string{"report", "loan-7", "--lender", "other", "--out", html}, `APPLICATION_ID: lender other has no application "loan-7"`},
		{[]string{"report", "undecided", "--lender", "acme", "--out", html}, `APPLICATION_ID: application "undecided" has no decision yet (stage created)`},
		{[]string{"report", "loan-7", "extra", "--lender", "acme", "--out", html}, `report: unexpected argument "extra"`},
	} {
		_, err := runIn(t, e, c.args...)
		require.EqualError(t, err, c.want, "%v", c.args)
	}
}

func jsonNum(v int) string {
	b, _ := json.Marshal(v)
	return string(b)
}
