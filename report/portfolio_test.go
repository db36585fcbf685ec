package report

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/store"
)

// genDecision fills d with the i-th generated decision: a score that drifts with shift,
// the outcome the score implies, reasons for declines, two characteristics' bins, and a
// loan outcome for every third one, defaults more likely at low scores.
func genDecision(d *store.PortfolioDecision, rng *rand.Rand, i int, day time.Time, shift int) {
	score := 520 + rng.IntN(160) + shift
	pd := 1 / (1 + float64(score-450)/10)
	d.ExternalID = fmt.Sprintf("app-%d", i)
	d.LenderID = "acme"
	d.DecidedAt = day.Add(time.Duration(i%1440) * time.Minute)
	d.Score, d.PD = &score, &pd
	d.LoanAmountMinor = int64(50000 + (i%7)*150000)
	d.TermMonths = []int{6, 12, 24}[i%3]
	d.Currency = "usd"
	switch {
	case score >= 600:
		d.Outcome = "approve"
		d.Reasons = json.RawMessage(`[]`)
	case score >= 570:
		d.Outcome = "refer"
		d.Reasons = json.RawMessage(`[{"code":"LOW_BUFFER","text":"t"}]`)
	default:
		d.Outcome = "decline"
		d.Reasons = json.RawMessage(`[{"code":"NSF_EXCESS","text":"t"},{"code":"LOW_BUFFER","text":"t"}]`)
	}
	bin := "low"
	if score >= 600 {
		bin = "high"
	}
	d.Points = json.RawMessage(`[{"code":"SC_A","bin":"` + bin + `","points":10},{"code":"SC_B","bin":"all","points":5}]`)
	d.LoanOutcome = nil
	d.ModelVersion = "v2"
	if i%3 == 0 {
		o := store.LoanRepaid
		if rng.Float64() < pd*3 {
			o = store.LoanDefaulted
		}
		d.LoanOutcome = &o
	}
}

func TestPortfolio(t *testing.T) {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	segs := map[string]string{}
	for i := range 600 {
		segs[fmt.Sprintf("app-%d", i)] = []string{"A", "B"}[i%2]
	}
	p := NewPortfolio(PortfolioOptions{From: from, To: from.AddDate(0, 0, 27), BaselineFrom: from.AddDate(0, 0, -28),
		BaselineTo: from.AddDate(0, 0, -1), Lender: "acme", Segments: segs})
	rng := rand.New(rand.NewPCG(1, 2))
	var d store.PortfolioDecision
	want := counts{}
	wantSeg := map[string]*counts{"A": {}, "B": {}}
	var base, period map[int]int = map[int]int{}, map[int]int{}
	for i := range 1000 {
		genDecision(&d, rng, i, from.AddDate(0, 0, i%28), 0)
		if segs[d.ExternalID] == "B" && d.Outcome == "approve" && i%4 != 1 {
			d.Outcome = "decline" // segment B is approved less often
		}
		want.add(d.Outcome)
		if s, ok := segs[d.ExternalID]; ok {
			wantSeg[s].add(d.Outcome)
		}
		period[scoreBucket(*d.Score, ScoreBucket)]++
		require.NoError(t, p.Add(&d))
	}
	for i := range 800 {
		genDecision(&d, rng, i, from.AddDate(0, 0, -28+i%28), -40)
		base[scoreBucket(*d.Score, ScoreBucket)]++
		require.NoError(t, p.AddBaseline(&d))
	}
	files, s, err := p.Render()
	require.NoError(t, err)

	require.Equal(t, want.N, s.Total.N)
	require.Equal(t, want.Approve, s.Total.Approve)
	require.Equal(t, want.Decline, s.Total.Decline)
	require.Len(t, s.Weeks, 4)
	sum := 0
	for _, w := range s.Weeks {
		sum += w.N
	}
	require.Equal(t, 1000, sum)
	require.Len(t, s.Terms, 3)

	// The score's PSI is scoring.PSI over the buckets; a 40-point shift is a major one.
	require.Equal(t, "score", s.PSI[0].Name)
	wantPSI, ok := psiOf(base, period)
	require.True(t, ok)
	require.InDelta(t, wantPSI, s.PSI[0].PSI, 1e-12)
	require.Equal(t, "alert", s.PSI[0].Level)
	require.Equal(t, "SC_B", s.PSI[2].Name)
	require.Equal(t, "", s.PSI[2].Level, "a characteristic with one bin does not drift")

	require.True(t, s.HasMetrics)
	require.Greater(t, s.AUC, 0.5, "defaults are likelier at low scores")
	require.Equal(t, 334, s.Outcomes)

	// Fair lending: B's adverse-impact ratio is flagged, A's (the most favoured) is 1.
	require.Len(t, s.Segments, 2)
	a, b := s.Segments[0], s.Segments[1]
	require.Equal(t, "A", a.Key)
	require.InDelta(t, 1.0, a.AIR, 1e-12)
	require.False(t, a.Flagged)
	require.Equal(t, wantSeg["B"].Approve, b.Approve)
	require.InDelta(t, rate(wantSeg["B"].Approve, wantSeg["B"].N)/rate(wantSeg["A"].Approve, wantSeg["A"].N), b.AIR, 1e-12)
	require.Less(t, b.AIR, AdverseImpactFloor)
	require.True(t, b.Flagged)
	require.Equal(t, 400, s.Unsegmented)

	page := string(files["index.html"])
	require.Contains(t, page, fmt.Sprintf(`data-field="total">%d<`, want.N))
	require.Contains(t, page, `never stores protected attributes`)
	require.Contains(t, page, `data-segment="B" class="flag"`)
	imgs := regexp.MustCompile(`<img class="chart" src="([a-z_]+\.png)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, imgs, 9, "every chart, outcomes and segments included")
	for _, m := range imgs {
		size, err := pngSize(files[m[1]])
		require.NoError(t, err, m[1])
		require.Greater(t, size.X, 500, m[1])
	}
	require.Len(t, files, 10)
	require.Equal(t, "v2 (1000)", s.Models)
	require.Equal(t, "v2 (800)", s.BaselineModels)
	require.False(t, s.ModelsDiffer)
	require.NotContains(t, page, "not scored by one and the same model version")
	if dir := os.Getenv("REPORT_OUT"); dir != "" {
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		}
	}
}

func TestPortfolioFlagsAModelChange(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	p := NewPortfolio(PortfolioOptions{From: day, To: day, BaselineFrom: day.AddDate(0, 0, -7), BaselineTo: day.AddDate(0, 0, -1)})
	rng := rand.New(rand.NewPCG(3, 4))
	var d store.PortfolioDecision
	for i := range 50 {
		genDecision(&d, rng, i, day, 0)
		d.ModelVersion = "v3"
		require.NoError(t, p.Add(&d))
		genDecision(&d, rng, i, day.AddDate(0, 0, -3), 0)
		require.NoError(t, p.AddBaseline(&d))
	}
	files, s, err := p.Render()
	require.NoError(t, err)
	require.True(t, s.ModelsDiffer)
	require.Contains(t, string(files["index.html"]), "not scored by one and the same model version")
}

func TestPortfolioWithoutOutcomesOrBaseline(t *testing.T) {
	p := NewPortfolio(PortfolioOptions{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)})
	files, s, err := p.Render()
	require.NoError(t, err)
	require.Equal(t, 0, s.Total.N)
	require.Contains(t, string(files["index.html"]), "No baseline given")
	require.Contains(t, string(files["index.html"]), "No loan outcomes are known")
	require.Len(t, files, 1)
}

func TestReadSegments(t *testing.T) {
	got, err := ReadSegments(strings.NewReader("application_id,segment\nloan-1,north\nloan-2, south \n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"loan-1": "north", "loan-2": "south"}, got)
	for _, c := range []struct{ in, want string }{
		{"", "segments: line 1: empty file; want the header application_id,segment"},
		{"id,segment\nx,y\n", `segments: line 1: header is "id,segment"; want application_id,segment`},
		{"application_id,segment\n", "segments: no rows after the header"},
		{"application_id,segment\nloan-1,a\nloan-2\n", "segments: line 3: 1 fields; want 2 (application_id,segment)"},
		{"application_id,segment\nloan-1,a\n,b\n", "segments: line 3: application_id: empty"},
		{"application_id,segment\nloan-1,\n", "segments: line 2: segment: empty"},
		{"application_id,segment\nloan-1,a\nloan-1,b\n", `segments: line 3: application_id: "loan-1" is also on line 2`},
		{"application_id,segment\n" + strings.Repeat("x", 65) + ",a\n", "segments: line 2: application_id: longer than 64 characters"},
	} {
		_, err := ReadSegments(strings.NewReader(c.in))
		require.EqualError(t, err, c.want, "%q", c.in)
	}
}
