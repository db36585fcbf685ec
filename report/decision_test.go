package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// personaDecision scores a sample persona as the Decide activity does and returns the
// report's input: the row as the activity would store it, and the ledger.
func personaDecision(t testing.TB, name string, amount int64, term int) DecisionInput {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "fcsandbox", "personas", name+".json"))
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(raw)
	require.NoError(t, err)
	cutoff := scoring.LatestAsOf(l)
	dec, err := scoring.Underwrite(l, cutoff, scoring.Loan{AmountMinor: amount, TermMonths: term, Currency: "usd"}, scoring.Operational{})
	require.NoError(t, err)
	mustJSON := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	score, pd, snap, hash := dec.Score, dec.PD, int64(7), "sha256:0123456789abcdef"
	day := time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day(), 0, 0, 0, 0, time.UTC)
	return DecisionInput{
		ApplicationID: "app-" + name, Lender: "acme", LoanAmountMinor: amount, TermMonths: term, Currency: "usd",
		Ledger: raw,
		Decision: store.Decision{
			ApplicationID: "acme/app-" + name, Outcome: dec.Outcome, Score: &score, PD: &pd,
			Reasons: mustJSON(dec.Reasons), Rules: mustJSON(dec.Rules), Features: mustJSON(dec.Features),
			Points: mustJSON(dec.Points), ModelVersion: dec.ModelVersion, PolicyVersion: dec.PolicyVersion,
			FeatureSetVersion: dec.FeatureSetVersion, SnapshotID: &snap, ContentHash: &hash, AsOf: &cutoff,
			Cutoff: &day, DecidedAt: cutoff, BuildVersion: "test",
		},
	}
}

var imgSrc = regexp.MustCompile(`<img class="chart" id="chart-([a-z]+)" alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">`)

func TestDecisionHTML(t *testing.T) {
	in := personaDecision(t, "overdraft_nsf", 100000, 6)
	var reasons []scoring.Reason
	require.NoError(t, json.Unmarshal(in.Decision.Reasons, &reasons))
	var rules []scoring.RuleResult
	require.NoError(t, json.Unmarshal(in.Decision.Rules, &rules))
	require.Equal(t, "decline", in.Decision.Outcome, "the persona's expected outcome")
	require.NotEmpty(t, reasons)

	page, err := DecisionHTML(in)
	require.NoError(t, err)
	s := string(page)
	require.Contains(t, s, `data-field="outcome">decline<`)
	require.Contains(t, s, `data-field="score">`+intOr(in.Decision.Score)+`<`)
	require.Contains(t, s, `data-field="pd">`+pdOr(in.Decision.PD)+`<`)
	require.Contains(t, s, `data-field="amount">1,000.00 USD<`)
	require.Contains(t, s, `data-field="content_hash">sha256:0123456789abcdef<`)
	for _, r := range reasons {
		require.Contains(t, s, `data-reason="`+r.Code+`"`, "reason %s", r.Code)
	}
	for _, r := range rules {
		require.Contains(t, s, `data-rule="`+r.Rule+`"`, "rule %s", r.Rule)
	}

	// Four charts, each a well-formed SVG inlined as a data URI.
	m := imgSrc.FindAllStringSubmatch(html.UnescapeString(s), -1)
	var names []string
	for _, c := range m {
		names = append(names, c[1])
		svg, err := base64.StdEncoding.DecodeString(c[2])
		require.NoError(t, err)
		require.Contains(t, string(svg), "<svg", c[1])
	}
	require.Equal(t, []string{ChartBalance, ChartMonthly, ChartStreams, ChartPoints}, names)

	// Self-contained: nothing in the page refers to another origin.
	require.NotRegexp(t, `(src|href)="(https?:)?//`, s)
	require.NotContains(t, s, "@import")
	require.NotContains(t, s, "url(")
}

// The report shows what the decision stored, not what today's scoring code would say: a
// stored row whose points and streams differ from a fresh computation is shown as stored.
func TestDecisionHTMLShowsTheStoredDecision(t *testing.T) {
	in := personaDecision(t, "steady_salaried", 300000, 12)
	var pts []map[string]any
	require.NoError(t, json.Unmarshal(in.Decision.Points, &pts))
	require.NotEmpty(t, pts)
	pts[0]["bin"] = "STORED-BIN-AT-DECISION-TIME"
	b, err := json.Marshal(pts)
	require.NoError(t, err)
	in.Decision.Points = b
	var f map[string]any
	require.NoError(t, json.Unmarshal(in.Decision.Features, &f))
	f["income_streams"] = []map[string]any{{"description": "STORED STREAM", "direction": "inflow", "frequency": "monthly",
		"first_date": "2024-01-01", "last_date": "2024-03-01", "transaction_ids": []string{}}}
	in.Decision.Features, err = json.Marshal(f)
	require.NoError(t, err)

	page, err := DecisionHTML(in)
	require.NoError(t, err)
	require.Contains(t, string(page), "STORED-BIN-AT-DECISION-TIME")
	m := imgSrc.FindAllStringSubmatch(html.UnescapeString(string(page)), -1)
	var streams []byte
	for _, c := range m {
		if c[1] == ChartStreams {
			streams, _ = base64.StdEncoding.DecodeString(c[2])
		}
	}
	require.Contains(t, string(streams), "STORED STREAM", "the streams chart draws the stored streams")
}

func TestDecisionWithoutFeatures(t *testing.T) {
	in := DecisionInput{ApplicationID: "app-expired", Lender: "acme", LoanAmountMinor: 50000, TermMonths: 6, Currency: "usd",
		Decision: store.Decision{Outcome: "expired", Reasons: json.RawMessage("[]"), Rules: json.RawMessage("[]"),
			Features: json.RawMessage("{}"), Points: json.RawMessage("[]"), DecidedAt: time.Unix(1700000000, 0)}}
	page, err := DecisionHTML(in)
	require.NoError(t, err)
	require.Contains(t, string(page), "stored without a feature vector")
	require.Contains(t, string(page), "has no snapshot")
	require.Empty(t, imgSrc.FindAllString(string(page), -1))
	png, err := DecisionPNG(in)
	require.NoError(t, err)
	_, err = pngSize(png)
	require.NoError(t, err)
}

func TestDecisionPNG(t *testing.T) {
	in := personaDecision(t, "high_income_two_accounts", 500000, 12)
	b, err := DecisionPNG(in)
	require.NoError(t, err)
	size, err := pngSize(b)
	require.NoError(t, err)
	require.Greater(t, size.X, 1000)
	require.Greater(t, size.Y, 600)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG")))
	if dir := os.Getenv("REPORT_OUT"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "decision.png"), b, 0o644))
		page, err := DecisionHTML(in)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "decision.html"), page, 0o644))
	}
}

func TestDecisionWithoutStoredStreams(t *testing.T) {
	in := personaDecision(t, "thin_file", 100000, 6)
	var f map[string]any
	require.NoError(t, json.Unmarshal(in.Decision.Features, &f))
	delete(f, "income_streams")
	delete(f, "outflow_streams")
	b, err := json.Marshal(f)
	require.NoError(t, err)
	in.Decision.Features = b
	page, err := DecisionHTML(in)
	require.NoError(t, err)
	require.Contains(t, string(page), "No recurring income or obligation streams were stored with this decision")
	require.NotContains(t, string(page), `id="chart-streams"`)
}
