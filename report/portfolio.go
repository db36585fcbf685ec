package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Thresholds of the governance report.
const (
	// PSIWatch and PSIAlert flag drift: above 0.10 some shift, above 0.25 a major one.
	PSIWatch = 0.10
	PSIAlert = 0.25
	// AdverseImpactFloor is the four-fifths rule: a segment whose approval rate is below
	// 0.80 of the most favoured segment's is flagged.
	AdverseImpactFloor = 0.80
	// ScoreBucket is the width of the score histogram's buckets, used for the score's PSI.
	ScoreBucket = 20
	// ScoreBand is the width of the score bands of the default-rate table.
	ScoreBand = 50
)

// PortfolioOptions says what the portfolio report covers.
type PortfolioOptions struct {
	// From and To are the period's first and last day (UTC, both included).
	From, To time.Time
	// BaselineFrom and BaselineTo are the reference period of the drift section; zero
	// when no baseline is given.
	BaselineFrom, BaselineTo time.Time
	// Lender is the lender whose decisions these are ("" for every lender).
	Lender string
	// Segments maps the lender's application id to the segment the lender supplied
	// (ReadSegments); nil for no fair-lending view.
	Segments map[string]string
}

// counts tallies decisions by outcome.
type counts struct {
	N, Approve, Decline, Refer, Other int
}

func (c *counts) add(outcome string) {
	c.N++
	switch outcome {
	case "approve":
		c.Approve++
	case "decline":
		c.Decline++
	case "refer":
		c.Refer++
	default:
		c.Other++
	}
}

func rate(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// Portfolio accumulates the decisions of a period (Add) and of its baseline
// (AddBaseline) in memory that grows with the number of weeks, bands, terms, reason codes,
// bins and segments, not with the number of decisions, except for the score, PD and
// outcome of decisions whose loan outcome is known (24 bytes each), which AUC, KS and
// calibration need.
type Portfolio struct {
	opt          PortfolioOptions
	total        counts
	byWeek       map[string]*counts
	byBand       map[string]*counts
	byTerm       map[int]*counts
	scoreHist    map[int]int
	baseHist     map[int]int
	baseN        int
	reasons      map[string]int
	declines     int
	bins, base   map[string]map[string]int
	known        []float64
	knownPD      []float64
	knownBad     []bool
	segs         map[string]*counts
	segReasons   map[string]map[string]int
	unsegmented  int
	reasonBuf    []struct{ Code string }
	pointsBuf    []struct{ Code, Bin string }
	currency     string
	mixedCurency bool
	// models and baseModels count the decisions of each model version.
	models, baseModels map[string]int
}

// NewPortfolio starts an empty report.
func NewPortfolio(o PortfolioOptions) *Portfolio {
	return &Portfolio{opt: o, byWeek: map[string]*counts{}, byBand: map[string]*counts{}, byTerm: map[int]*counts{},
		scoreHist: map[int]int{}, baseHist: map[int]int{}, reasons: map[string]int{},
		bins: map[string]map[string]int{}, base: map[string]map[string]int{},
		segs: map[string]*counts{}, segReasons: map[string]map[string]int{}, models: map[string]int{}, baseModels: map[string]int{}}
}

func tally[K comparable](m map[K]*counts, k K, outcome string) {
	c, ok := m[k]
	if !ok {
		c = &counts{}
		m[k] = c
	}
	c.add(outcome)
}

// weekOf is the Monday (UTC) of t's ISO week.
func weekOf(t time.Time) string {
	t = t.UTC()
	wd := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// amountBands are the loan-amount bands, in major units: [lower, upper).
var amountBands = []struct {
	Label string
	Upper int64
}{{"under 1,000", 100000}, {"1,000–2,499", 250000}, {"2,500–4,999", 500000}, {"5,000–9,999", 1000000}, {"10,000 and over", math.MaxInt64}}

func amountBand(minor int64) string {
	for _, b := range amountBands {
		if minor < b.Upper {
			return b.Label
		}
	}
	return amountBands[len(amountBands)-1].Label
}

func scoreBucket(score, width int) int {
	return int(math.Floor(float64(score)/float64(width))) * width
}

// Add counts one decision of the period.
func (p *Portfolio) Add(d *store.PortfolioDecision) error {
	p.total.add(d.Outcome)
	if d.Score != nil {
		p.models[d.ModelVersion]++
	}
	tally(p.byWeek, weekOf(d.DecidedAt), d.Outcome)
	tally(p.byBand, amountBand(d.LoanAmountMinor), d.Outcome)
	tally(p.byTerm, d.TermMonths, d.Outcome)
	if p.currency == "" {
		p.currency = d.Currency
	} else if d.Currency != p.currency {
		p.mixedCurency = true
	}
	if d.Score != nil {
		p.scoreHist[scoreBucket(*d.Score, ScoreBucket)]++
	}
	if err := p.addBins(p.bins, d); err != nil {
		return err
	}
	var codes []string
	if d.Outcome == "decline" || d.Outcome == "refer" || p.opt.Segments != nil {
		p.reasonBuf = p.reasonBuf[:0]
		if len(d.Reasons) > 0 {
			if err := json.Unmarshal(d.Reasons, &p.reasonBuf); err != nil {
				return fmt.Errorf("decision of application %s: reasons: %w", d.ExternalID, err)
			}
		}
		for _, r := range p.reasonBuf {
			codes = append(codes, r.Code)
		}
	}
	if d.Outcome == "decline" {
		p.declines++
		for _, c := range codes {
			p.reasons[c]++
		}
	}
	if d.Score != nil && d.PD != nil && d.LoanOutcome != nil {
		p.known = append(p.known, float64(*d.Score))
		p.knownPD = append(p.knownPD, *d.PD)
		p.knownBad = append(p.knownBad, *d.LoanOutcome == store.LoanDefaulted || *d.LoanOutcome == store.LoanChargedOff)
	}
	if p.opt.Segments != nil {
		seg, ok := p.opt.Segments[d.ExternalID]
		if !ok {
			p.unsegmented++
			return nil
		}
		tally(p.segs, seg, d.Outcome)
		if d.Outcome == "decline" || d.Outcome == "refer" {
			m := p.segReasons[seg]
			if m == nil {
				m = map[string]int{}
				p.segReasons[seg] = m
			}
			for _, c := range codes {
				m[c]++
			}
		}
	}
	return nil
}

// AddBaseline counts one decision of the reference period (score and characteristic
// distributions only).
func (p *Portfolio) AddBaseline(d *store.PortfolioDecision) error {
	p.baseN++
	if d.Score != nil {
		p.baseModels[d.ModelVersion]++
		p.baseHist[scoreBucket(*d.Score, ScoreBucket)]++
	}
	return p.addBins(p.base, d)
}

func (p *Portfolio) addBins(into map[string]map[string]int, d *store.PortfolioDecision) error {
	if len(d.Points) == 0 || d.Score == nil {
		return nil
	}
	p.pointsBuf = p.pointsBuf[:0]
	if err := json.Unmarshal(d.Points, &p.pointsBuf); err != nil {
		return fmt.Errorf("decision of application %s: points: %w", d.ExternalID, err)
	}
	for _, c := range p.pointsBuf {
		m := into[c.Code]
		if m == nil {
			m = map[string]int{}
			into[c.Code] = m
		}
		m[c.Bin]++
	}
	return nil
}

// ReadSegments reads the lender's segment file: a CSV with the header
// application_id,segment and one row per application. A bad row is an error naming its
// line and field. The segments are the lender's: underwriter uses them for this report
// only and never stores them.
func ReadSegments(r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("segments: line 1: empty file; want the header application_id,segment")
	}
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	if len(header) != 2 || strings.TrimPrefix(strings.TrimSpace(header[0]), "\ufeff") != "application_id" || strings.TrimSpace(header[1]) != "segment" {
		return nil, fmt.Errorf("segments: line 1: header is %q; want application_id,segment", strings.Join(header, ","))
	}
	out := map[string]string{}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("segments: %w", err)
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("segments: line %d: %d fields; want 2 (application_id,segment)", line, len(rec))
		}
		id, seg := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		switch {
		case id == "":
			return nil, fmt.Errorf("segments: line %d: application_id: empty", line)
		case len(id) > 64:
			return nil, fmt.Errorf("segments: line %d: application_id: longer than 64 characters", line)
		case seg == "":
			return nil, fmt.Errorf("segments: line %d: segment: empty", line)
		case len(seg) > 64:
			return nil, fmt.Errorf("segments: line %d: segment: longer than 64 characters", line)
		}
		if first, ok := seen[id]; ok {
			return nil, fmt.Errorf("segments: line %d: application_id: %q is also on line %d", line, id, first)
		}
		seen[id] = line
		out[id] = seg
	}
	if len(out) == 0 {
		return nil, errors.New("segments: no rows after the header")
	}
	return out, nil
}

// Row types of the page.
type rateRow struct {
	Key                        string
	N, Approve, Decline, Refer int
	ApproveRate, DeclineRate   float64
	ReferRate                  float64
}

func rateRowOf(key string, c *counts) rateRow {
	return rateRow{Key: key, N: c.N, Approve: c.Approve, Decline: c.Decline, Refer: c.Refer,
		ApproveRate: rate(c.Approve, c.N), DeclineRate: rate(c.Decline, c.N), ReferRate: rate(c.Refer, c.N)}
}

type psiRow struct {
	Name  string
	PSI   float64
	Level string // "", "watch" or "alert"
}

type bandRow struct {
	Band          string
	N, Defaulted  int
	DefaultRate   float64
	MeanPD        float64
	ObservedLower int
}

type segRow struct {
	rateRow
	AIR     float64
	Flagged bool
	Reasons string
}

type kv struct {
	Key string
	N   int
}

// PortfolioSummary holds the report's figures, as the page shows them.
type PortfolioSummary struct {
	Total       rateRow
	Weeks       []rateRow
	Bands       []rateRow
	Terms       []rateRow
	Reasons     []kv
	Declines    int
	Baseline    int
	PSI         []psiRow
	Outcomes    int
	Defaults    int
	AUC, KS     float64
	HasMetrics  bool
	MetricsNote string
	ByBand      []bandRow
	Calibration []scoring.CalibrationGroup
	Segments    []segRow
	Unsegmented int
	// Models and BaselineModels list the model versions of the scored decisions, with
	// counts ("v2 (1200)"); PSI of a characteristic compares bins of one model only when
	// both name the same single version.
	Models, BaselineModels string
	ModelsDiffer           bool
}

// Render returns the report's files: index.html and one PNG per chart, by file name.
func (p *Portfolio) Render() (map[string][]byte, PortfolioSummary, error) {
	s := p.summary()
	files := map[string][]byte{}
	type chart struct{ File, Title string }
	var charts []chart
	add := func(file string, pl *plot.Plot, err error) error {
		if err != nil {
			return err
		}
		if pl == nil {
			return nil
		}
		b, err := render(pl, "png", chartW, chartH)
		if err != nil {
			return err
		}
		files[file] = b
		charts = append(charts, chart{file, pl.Title.Text})
		return nil
	}
	steps := []func() error{
		func() error {
			pl, err := outcomeBars("Decisions by week", "week (from Monday)", s.Weeks, false)
			return add("volume_by_week.png", pl, err)
		},
		func() error {
			pl, err := outcomeBars("Outcome rates by loan amount", "amount band", s.Bands, true)
			return add("rates_by_amount.png", pl, err)
		},
		func() error {
			pl, err := outcomeBars("Outcome rates by term", "term (months)", s.Terms, true)
			return add("rates_by_term.png", pl, err)
		},
		func() error { pl, err := p.scoreChart(); return add("score_distribution.png", pl, err) },
		func() error { pl, err := reasonChart(s.Reasons); return add("decline_reasons.png", pl, err) },
		func() error { pl, err := psiChart(s.PSI); return add("psi.png", pl, err) },
		func() error { pl, err := defaultBandChart(s.ByBand); return add("default_by_band.png", pl, err) },
		func() error { pl, err := calibrationChart(s.Calibration); return add("calibration.png", pl, err) },
		func() error { pl, err := segmentChart(s.Segments); return add("approval_by_segment.png", pl, err) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, s, err
		}
	}
	var b bytes.Buffer
	err := portfolioTmpl.Execute(&b, map[string]any{"S": s, "O": p.opt, "Charts": charts,
		"Day":         func(t time.Time) string { return t.Format(time.DateOnly) },
		"HasBaseline": !p.opt.BaselineFrom.IsZero(), "Segmented": p.opt.Segments != nil,
		"PSIWatch": PSIWatch, "PSIAlert": PSIAlert, "AIRFloor": AdverseImpactFloor, "Mixed": p.mixedCurency})
	if err != nil {
		return nil, s, fmt.Errorf("portfolio report: %w", err)
	}
	files["index.html"] = b.Bytes()
	return files, s, nil
}

func (p *Portfolio) summary() PortfolioSummary {
	s := PortfolioSummary{Total: rateRowOf("all", &p.total), Declines: p.declines, Baseline: p.baseN,
		Unsegmented: p.unsegmented, Outcomes: len(p.known)}
	weeks := sortedKeys(p.byWeek)
	for _, w := range weeks {
		s.Weeks = append(s.Weeks, rateRowOf(w, p.byWeek[w]))
	}
	for _, b := range amountBands {
		if c, ok := p.byBand[b.Label]; ok {
			s.Bands = append(s.Bands, rateRowOf(b.Label, c))
		}
	}
	for _, t := range sortedKeys(p.byTerm) {
		s.Terms = append(s.Terms, rateRowOf(strconv.Itoa(t), p.byTerm[t]))
	}
	for _, k := range sortedKeys(p.reasons) {
		s.Reasons = append(s.Reasons, kv{k, p.reasons[k]})
	}
	sort.SliceStable(s.Reasons, func(i, j int) bool { return s.Reasons[i].N > s.Reasons[j].N })
	s.Models, s.BaselineModels = versionList(p.models), versionList(p.baseModels)
	if p.baseN > 0 {
		a, aok := onlyKey(p.models)
		b, bok := onlyKey(p.baseModels)
		s.ModelsDiffer = !aok || !bok || a != b
	}
	if p.baseN > 0 {
		if v, ok := psiOf(p.baseHist, p.scoreHist); ok {
			s.PSI = append(s.PSI, psiRowOf("score", v))
		}
		for _, c := range sortedKeys(p.bins) {
			if v, ok := psiOf(p.base[c], p.bins[c]); ok {
				s.PSI = append(s.PSI, psiRowOf(c, v))
			}
		}
	}
	for _, bad := range p.knownBad {
		if bad {
			s.Defaults++
		}
	}
	if len(p.known) > 0 {
		auc, err := scoring.AUC(p.known, p.knownBad)
		if err == nil {
			ks, _ := scoring.KS(p.known, p.knownBad)
			s.AUC, s.KS, s.HasMetrics = auc, ks, true
		} else {
			s.MetricsNote = "AUC and KS need both defaulted and repaid loans: " + err.Error()
		}
		bands := map[int]*bandRow{}
		for i, sc := range p.known {
			k := scoreBucket(int(sc), ScoreBand)
			b := bands[k]
			if b == nil {
				b = &bandRow{ObservedLower: k, Band: fmt.Sprintf("%d–%d", k, k+ScoreBand-1)}
				bands[k] = b
			}
			b.N++
			b.MeanPD += p.knownPD[i]
			if p.knownBad[i] {
				b.Defaulted++
			}
		}
		for _, k := range sortedKeys(bands) {
			b := bands[k]
			b.DefaultRate, b.MeanPD = rate(b.Defaulted, b.N), b.MeanPD/float64(b.N)
			s.ByBand = append(s.ByBand, *b)
		}
		groups := min(scoring.CalibrationGroups, len(p.known))
		if cal, _, err := scoring.Calibration(p.known, p.knownPD, p.knownBad, groups); err == nil {
			s.Calibration = cal
		}
	} else {
		s.MetricsNote = "No loan outcomes are known for this period's decisions (underwriter outcomes import)."
	}
	if p.opt.Segments != nil {
		best := 0.0
		for _, seg := range sortedKeys(p.segs) {
			best = math.Max(best, rate(p.segs[seg].Approve, p.segs[seg].N))
		}
		for _, seg := range sortedKeys(p.segs) {
			r := segRow{rateRow: rateRowOf(seg, p.segs[seg])}
			if best > 0 {
				r.AIR = r.ApproveRate / best
			}
			r.Flagged = best > 0 && r.AIR < AdverseImpactFloor
			var mix []string
			rs := p.segReasons[seg]
			keys := sortedKeys(rs)
			sort.SliceStable(keys, func(i, j int) bool { return rs[keys[i]] > rs[keys[j]] })
			for _, k := range keys {
				mix = append(mix, fmt.Sprintf("%s %d", k, rs[k]))
			}
			r.Reasons = strings.Join(mix, ", ")
			s.Segments = append(s.Segments, r)
		}
	}
	return s
}

// onlyKey returns m's key when it has exactly one.
func onlyKey(m map[string]int) (string, bool) {
	for k := range m {
		return k, len(m) == 1
	}
	return "", false
}

// versionList renders version counts as "v2 (1200), v3 (15)".
func versionList(m map[string]int) string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(out, ", ")
}

func psiRowOf(name string, v float64) psiRow {
	r := psiRow{Name: name, PSI: v}
	switch {
	case v > PSIAlert:
		r.Level = "alert"
	case v > PSIWatch:
		r.Level = "watch"
	}
	return r
}

// psiOf is the PSI between two distributions over the union of their keys.
func psiOf[K comparable](expected, actual map[K]int) (float64, bool) {
	keys := map[K]bool{}
	for k := range expected {
		keys[k] = true
	}
	for k := range actual {
		keys[k] = true
	}
	var e, a []float64
	for k := range keys {
		e = append(e, float64(expected[k]))
		a = append(a, float64(actual[k]))
	}
	v, err := scoring.PSI(e, a)
	return v, err == nil
}

func sortedKeys[K interface{ ~int | ~string }, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// outcomeBars: approvals, declines and referrals per row, stacked counts or rates.
func outcomeBars(title, x string, rows []rateRow, rates bool) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	y := "decisions"
	if rates {
		y = "share of decisions"
	}
	p := newPlot(title, x, y)
	names := make([]string, len(rows))
	a, d, r := make(plotter.Values, len(rows)), make(plotter.Values, len(rows)), make(plotter.Values, len(rows))
	for i, row := range rows {
		names[i] = row.Key
		if rates {
			a[i], d[i], r[i] = row.ApproveRate, row.DeclineRate, row.ReferRate
		} else {
			a[i], d[i], r[i] = float64(row.Approve), float64(row.Decline), float64(row.Refer)
		}
	}
	w := vg.Points(math.Max(4, math.Min(24, 400/float64(len(rows)))))
	var prev *plotter.BarChart
	for _, s := range []struct {
		v   plotter.Values
		c   color.Color
		lbl string
	}{{a, colApprove, "approve"}, {d, colDecline, "decline"}, {r, color.RGBA{R: 0xf9, G: 0xa8, B: 0x25, A: 0xff}, "refer"}} {
		b, err := plotter.NewBarChart(s.v, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width = s.c, 0
		if prev != nil {
			b.StackOn(prev)
		}
		prev = b
		p.Add(b)
		p.Legend.Add(s.lbl, b)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -1, float64(len(rows))
	if len(rows) > 6 {
		p.X.Tick.Label.Rotation = 0.6
		p.X.Tick.Label.XAlign = -1
	}
	p.Legend.Top = true
	return p, nil
}

// scoreChart: the share of decisions per score bucket, the period against the baseline.
func (p *Portfolio) scoreChart() (*plot.Plot, error) {
	if len(p.scoreHist) == 0 {
		return nil, nil
	}
	keys := map[int]bool{}
	for k := range p.scoreHist {
		keys[k] = true
	}
	for k := range p.baseHist {
		keys[k] = true
	}
	ks := sortedKeys(keys)
	pl := newPlot("Score distribution", "score", "share of scored decisions")
	sum := func(m map[int]int) float64 {
		t := 0
		for _, v := range m {
			t += v
		}
		return float64(t)
	}
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = strconv.Itoa(k)
	}
	w := vg.Points(math.Max(3, math.Min(12, 200/float64(len(ks)))))
	series := []struct {
		m   map[int]int
		c   color.Color
		lbl string
	}{{p.scoreHist, colBlue, "period"}}
	if len(p.baseHist) > 0 {
		series = append(series, struct {
			m   map[int]int
			c   color.Color
			lbl string
		}{p.baseHist, colGrey, "baseline"})
	}
	for i, s := range series {
		t := sum(s.m)
		v := make(plotter.Values, len(ks))
		for j, k := range ks {
			v[j] = float64(s.m[k]) / t
		}
		b, err := plotter.NewBarChart(v, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width, b.Offset = s.c, 0, w*vg.Length(i)-w*vg.Length(len(series)-1)/2
		pl.Add(b)
		pl.Legend.Add(s.lbl, b)
	}
	pl.NominalX(names...)
	pl.X.Min, pl.X.Max = -1, float64(len(ks))
	pl.Legend.Top = true
	return pl, nil
}

func reasonChart(rs []kv) (*plot.Plot, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	p := newPlot("Reason codes among declines", "declines citing the reason", "")
	v := make(plotter.Values, len(rs))
	names := make([]string, len(rs))
	for i, r := range rs {
		// Most frequent on top.
		j := len(rs) - 1 - i
		v[j], names[j] = float64(r.N), r.Key
	}
	b, err := plotter.NewBarChart(v, vg.Points(10))
	if err != nil {
		return nil, err
	}
	b.Horizontal, b.Color, b.LineStyle.Width = true, colDecline, 0
	p.Add(b)
	p.NominalY(names...)
	return p, nil
}

func psiChart(rows []psiRow) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	p := newPlot("Drift: PSI against the baseline (lines at 0.10 and 0.25)", "PSI", "")
	v := make(plotter.Values, len(rows))
	names := make([]string, len(rows))
	top := PSIAlert * 1.2
	for i, r := range rows {
		j := len(rows) - 1 - i
		v[j], names[j] = r.PSI, strings.TrimPrefix(r.Name, "SC_")
		top = math.Max(top, r.PSI*1.1)
	}
	b, err := plotter.NewBarChart(v, vg.Points(8))
	if err != nil {
		return nil, err
	}
	b.Horizontal, b.Color, b.LineStyle.Width = true, colBlue, 0
	p.Add(b)
	for _, t := range []struct {
		x float64
		c color.Color
	}{{PSIWatch, color.RGBA{R: 0xf9, G: 0xa8, B: 0x25, A: 0xff}}, {PSIAlert, colDecline}} {
		l, err := plotter.NewLine(plotter.XYs{{X: t.x, Y: -0.5}, {X: t.x, Y: float64(len(rows)) - 0.5}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Dashes = t.c, []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
	}
	p.NominalY(names...)
	p.X.Min, p.X.Max = 0, top
	return p, nil
}

func defaultBandChart(rows []bandRow) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	p := newPlot("Observed default rate by score band", "score band", "default rate")
	v := make(plotter.Values, len(rows))
	names := make([]string, len(rows))
	for i, r := range rows {
		v[i], names[i] = r.DefaultRate, r.Band
	}
	b, err := plotter.NewBarChart(v, vg.Points(18))
	if err != nil {
		return nil, err
	}
	b.Color, b.LineStyle.Width = colDecline, 0
	p.Add(b)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -1, float64(len(rows))
	return p, nil
}

func calibrationChart(groups []scoring.CalibrationGroup) (*plot.Plot, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	p := newPlot("Calibration: predicted PD against observed default rate", "mean predicted PD (score decile)", "observed default rate")
	pts := make(plotter.XYs, len(groups))
	top := 0.0
	for i, g := range groups {
		pts[i] = plotter.XY{X: g.MeanPD, Y: g.ObservedRate}
		top = math.Max(top, math.Max(g.MeanPD, g.ObservedRate))
	}
	top = math.Max(top*1.1, 0.01)
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Dashes = colGrey, []vg.Length{vg.Points(4), vg.Points(2)}
	lp, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	lp.Color, sc.Color = colBlue, colBlue
	p.Add(diag, lp, sc)
	p.Legend.Add("perfect calibration", diag)
	p.Legend.Add("deciles", lp, sc)
	p.Legend.Top, p.Legend.Left = true, true
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, top, 0, top
	return p, nil
}

func segmentChart(rows []segRow) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	p := newPlot("Approval rate by segment (red: adverse-impact ratio below 0.80)", "segment", "approval rate")
	names := make([]string, len(rows))
	ok, flagged := make(plotter.Values, len(rows)), make(plotter.Values, len(rows))
	for i, r := range rows {
		names[i] = r.Key
		if r.Flagged {
			flagged[i] = r.ApproveRate
		} else {
			ok[i] = r.ApproveRate
		}
	}
	for _, s := range []struct {
		v plotter.Values
		c color.Color
	}{{ok, colApprove}, {flagged, colDecline}} {
		b, err := plotter.NewBarChart(s.v, vg.Points(24))
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width = s.c, 0
		p.Add(b)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -1, float64(len(rows))
	p.Y.Min, p.Y.Max = 0, 1
	return p, nil
}

var portfolioTmpl = template.Must(template.New("portfolio").Funcs(template.FuncMap{
	"pct":   func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f3":    func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f4":    func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"ratio": func(k, n int) float64 { return rate(k, n) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">
<title>Portfolio and governance report {{call .Day .O.From}} to {{call .Day .O.To}}</title><style>` + style + `</style></head>
<body>
<h1>Portfolio and governance report</h1>
<p>Decisions made {{call .Day .O.From}} to {{call .Day .O.To}} (UTC, both included){{if .O.Lender}} by lender <code>{{.O.Lender}}</code>{{else}}, every lender{{end}}.
{{if .HasBaseline}}Baseline: {{call .Day .O.BaselineFrom}} to {{call .Day .O.BaselineTo}} (<span data-field="baseline">{{.S.Baseline}}</span> decisions).{{end}}</p>
{{if .Mixed}}<p class="note">The period mixes loan currencies: amount bands compare minor units across currencies.</p>{{end}}

<h2>Volumes and outcomes</h2>
<table id="total"><tr><th>Decisions</th><th>Approved</th><th>Declined</th><th>Referred</th><th>Approval rate</th><th>Decline rate</th><th>Refer rate</th></tr>
<tr><td class="num" data-field="total">{{.S.Total.N}}</td><td class="num" data-field="approve">{{.S.Total.Approve}}</td><td class="num" data-field="decline">{{.S.Total.Decline}}</td><td class="num" data-field="refer">{{.S.Total.Refer}}</td>
<td class="num" data-field="approve_rate">{{pct .S.Total.ApproveRate}}</td><td class="num">{{pct .S.Total.DeclineRate}}</td><td class="num">{{pct .S.Total.ReferRate}}</td></tr></table>
<p><small>Rates are shares of every decision, expired and withdrawn applications included.</small></p>
{{define "rates"}}<tr><th>{{.Title}}</th><th>Decisions</th><th>Approved</th><th>Declined</th><th>Referred</th><th>Approval</th><th>Decline</th><th>Refer</th></tr>
{{range .Rows}}<tr data-key="{{.Key}}"><td>{{.Key}}</td><td class="num">{{.N}}</td><td class="num">{{.Approve}}</td><td class="num">{{.Decline}}</td><td class="num">{{.Refer}}</td><td class="num">{{pct .ApproveRate}}</td><td class="num">{{pct .DeclineRate}}</td><td class="num">{{pct .ReferRate}}</td></tr>
{{end}}{{end}}
<h3>By week</h3><table id="weeks">{{template "rates" (dict "Title" "Week (Monday)" "Rows" .S.Weeks)}}</table>
<h3>By loan amount</h3><table id="bands">{{template "rates" (dict "Title" "Amount" "Rows" .S.Bands)}}</table>
<h3>By term</h3><table id="terms">{{template "rates" (dict "Title" "Term (months)" "Rows" .S.Terms)}}</table>

<h2>Reasons among declines</h2>
{{if .S.Reasons}}<table id="reasons"><tr><th>Reason code</th><th>Declines citing it</th><th>Share of declines</th></tr>
{{range .S.Reasons}}<tr data-reason="{{.Key}}"><td><code>{{.Key}}</code></td><td class="num">{{.N}}</td><td class="num">{{pct (ratio .N $.S.Declines)}}</td></tr>
{{end}}</table>{{else}}<p>No declines in the period.</p>{{end}}

<h2>Drift</h2>
{{if .HasBaseline}}<p>Model versions of the scored decisions: period <span data-field="models">{{.S.Models}}</span>; baseline <span data-field="baseline_models">{{.S.BaselineModels}}</span>.</p>
{{if .S.ModelsDiffer}}<p class="note">The period and the baseline were not scored by one and the same model version: a characteristic's bins may differ between versions, so its PSI compares unlike distributions.</p>{{end}}
{{if .S.PSI}}<p>Population stability index of the score and of each scorecard characteristic's bins, period against baseline: above {{.PSIWatch}} is flagged for watching, above {{.PSIAlert}} as a major shift.</p>
<table id="psi"><tr><th>Distribution</th><th>PSI</th><th>Flag</th></tr>
{{range .S.PSI}}<tr data-psi="{{.Name}}" class="{{if eq .Level "alert"}}flag{{else if eq .Level "watch"}}warn{{end}}"><td><code>{{.Name}}</code></td><td class="num">{{f4 .PSI}}</td><td>{{if eq .Level "alert"}}major shift (&gt; 0.25){{else if eq .Level "watch"}}some shift (&gt; 0.10){{else}}stable{{end}}</td></tr>
{{end}}</table>{{else}}<p>The baseline or the period has no scored decisions: no PSI.</p>{{end}}
{{else}}<p>No baseline given (--baseline-from, --baseline-to): no drift figures.</p>{{end}}

<h2>Performance where outcomes are known</h2>
<p><span data-field="outcomes">{{.S.Outcomes}}</span> decisions of the period have a known loan outcome, <span data-field="defaults">{{.S.Defaults}}</span> of them defaulted or charged off.</p>
{{if .S.HasMetrics}}<table id="metrics"><tr><th>AUC</th><td class="num" data-field="auc">{{f3 .S.AUC}}</td></tr><tr><th>KS</th><td class="num" data-field="ks">{{f3 .S.KS}}</td></tr></table>{{else}}<p>{{.S.MetricsNote}}</p>{{end}}
{{if .S.ByBand}}<table id="score-bands"><tr><th>Score band</th><th>Loans</th><th>Defaulted</th><th>Default rate</th><th>Mean predicted PD</th></tr>
{{range .S.ByBand}}<tr><td>{{.Band}}</td><td class="num">{{.N}}</td><td class="num">{{.Defaulted}}</td><td class="num">{{pct .DefaultRate}}</td><td class="num">{{pct .MeanPD}}</td></tr>
{{end}}</table>{{end}}

<h2>Fair lending</h2>
<p class="note">underwriter never stores protected attributes (race, sex, age, religion, national origin, marital status…) and none of them is an input of its model. The segments below come from the lender's own file (--segments, application_id,segment), are read for this report only and are not stored.</p>
{{if .Segmented}}<p>Adverse-impact ratio: a segment's approval rate divided by the most favoured segment's; below {{.AIRFloor}} (the four-fifths rule) is flagged. {{if .S.Unsegmented}}<span data-field="unsegmented">{{.S.Unsegmented}}</span> decisions of the period have no segment in the file.{{end}}</p>
<table id="segments"><tr><th>Segment</th><th>Decisions</th><th>Approved</th><th>Approval rate</th><th>Adverse-impact ratio</th><th>Reasons among declines and referrals</th></tr>
{{range .S.Segments}}<tr data-segment="{{.Key}}"{{if .Flagged}} class="flag"{{end}}><td>{{.Key}}</td><td class="num">{{.N}}</td><td class="num">{{.Approve}}</td><td class="num">{{pct .ApproveRate}}</td><td class="num">{{f3 .AIR}}{{if .Flagged}} <span class="fail">below 0.80</span>{{end}}</td><td>{{.Reasons}}</td></tr>
{{end}}</table>{{else}}<p>No segment file given (--segments): no fair-lending view.</p>{{end}}

<h2>Charts</h2>
{{range .Charts}}<p><a href="{{.File}}"><img class="chart" src="{{.File}}" alt="{{.Title}}"></a></p>
{{end}}
</body></html>
`))

// Rows returns how many decisions of the period Add counted.
func (p *Portfolio) Rows() int { return p.total.N }
