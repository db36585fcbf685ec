// Package report renders the decision report (one application) and the portfolio and
// governance report (every decision of a period) as self-contained HTML with charts made
// by gonum.org/v1/plot, and as PNG images.
//
// It is pure: it reads the stored decision row, the frozen snapshot ledger and rows
// streamed to it, and returns bytes; it never calls Temporal, Stripe or Postgres, and it
// never recomputes a decision. The decision report's features, streams, points, reasons
// and rules are the ones stored with the decision (decisions.features holds the feature
// vector with its income and outflow streams and monthly cash flow, as computed at
// decision time), so a report made next year with newer scoring code shows the same
// decision. Only the daily balances are derived at report time, from the frozen snapshot
// by scoring.DailyBalances (docs/features.md §1's reconstruction); they are a picture of
// the snapshot, not an input of the decision.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// DecisionInput is what the decision report is made of: the stored decision row, the
// application it decides and its frozen snapshot ledger (nil for an outcome reached
// without a snapshot, such as expired).
type DecisionInput struct {
	// ApplicationID is the lender's own id of the application; Lender the lender.
	ApplicationID   string
	Lender          string
	LoanAmountMinor int64
	TermMonths      int
	Currency        string
	Decision        store.Decision
	// Ledger is the snapshot's ledger document, byte for byte as hashed.
	Ledger []byte
}

// storedFeatures is the part of the stored feature vector the report shows. It is the
// report's own type, not scoring.Features, so that what a decision stored reads the same
// whatever later versions of scoring add or rename.
type storedFeatures struct {
	Currency        string         `json:"currency"`
	Cutoff          string         `json:"cutoff"`
	MonthlyCashFlow []storedMonth  `json:"monthly_cash_flow"`
	IncomeStreams   []storedStream `json:"income_streams"`
	OutflowStreams  []storedStream `json:"outflow_streams"`
}

type storedMonth struct {
	Month   string `json:"month"`
	Inflow  int64  `json:"inflow"`
	Outflow int64  `json:"outflow"`
	Net     int64  `json:"net"`
}

type storedStream struct {
	Description    string   `json:"description"`
	Direction      string   `json:"direction"`
	Category       string   `json:"category"`
	Frequency      string   `json:"frequency"`
	Status         string   `json:"status"`
	FirstDate      string   `json:"first_date"`
	LastDate       string   `json:"last_date"`
	Occurrences    int      `json:"occurrences"`
	MonthlyAmount  int64    `json:"monthly_amount"`
	TransactionIDs []string `json:"transaction_ids"`
}

type storedReason struct {
	Code       string  `json:"code"`
	Text       string  `json:"text"`
	Feature    string  `json:"feature"`
	Value      string  `json:"value"`
	Reference  string  `json:"reference"`
	PointsLost float64 `json:"points_lost"`
}

type storedRule struct {
	Rule        string `json:"rule"`
	Actual      string `json:"actual"`
	Threshold   string `json:"threshold"`
	Passed      bool   `json:"passed"`
	Action      string `json:"action"`
	Operational bool   `json:"operational"`
}

type storedPoints struct {
	Code      string `json:"code"`
	Feature   string `json:"feature"`
	Value     string `json:"value"`
	Bin       string `json:"bin"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"max_points"`
}

// decisionView is the decoded decision with its charts.
type decisionView struct {
	In       DecisionInput
	Features storedFeatures
	// HasFeatures is false for a decision stored without a feature vector (not scored).
	HasFeatures bool
	Reasons     []storedReason
	Rules       []storedRule
	Points      []storedPoints
	Ledger      *scoring.Ledger
	Balances    *scoring.DailyBalanceSet
	// Notes say what the report could not show, and why.
	Notes []string
}

func decode(in DecisionInput) (*decisionView, error) {
	v := &decisionView{In: in}
	d := in.Decision
	if err := unmarshalArray(d.Reasons, &v.Reasons); err != nil {
		return nil, fmt.Errorf("decision %s: reasons: %w", in.ApplicationID, err)
	}
	if err := unmarshalArray(d.Rules, &v.Rules); err != nil {
		return nil, fmt.Errorf("decision %s: rules: %w", in.ApplicationID, err)
	}
	if err := unmarshalArray(d.Points, &v.Points); err != nil {
		return nil, fmt.Errorf("decision %s: points: %w", in.ApplicationID, err)
	}
	if len(d.Features) > 0 && string(d.Features) != "{}" && string(d.Features) != "null" {
		if err := json.Unmarshal(d.Features, &v.Features); err != nil {
			return nil, fmt.Errorf("decision %s: features: %w", in.ApplicationID, err)
		}
		v.HasFeatures = true
		if len(v.Features.IncomeStreams)+len(v.Features.OutflowStreams) == 0 {
			v.Notes = append(v.Notes, "No recurring income or obligation streams were stored with this decision (none was "+
				"detected, or the feature set of the time did not store them); none is recomputed.")
		}
	} else {
		v.Notes = append(v.Notes, "This decision was stored without a feature vector (it was not scored), "+
			"so the monthly cash flow and the detected streams cannot be shown; nothing is recomputed.")
	}
	if len(in.Ledger) == 0 {
		v.Notes = append(v.Notes, "This decision has no snapshot, so the daily balances cannot be shown.")
		return v, nil
	}
	l, err := scoring.ParseLedgerFile(in.Ledger)
	if err != nil {
		v.Notes = append(v.Notes, "The snapshot could not be read: "+err.Error())
		return v, nil
	}
	v.Ledger = &l
	from, to := ledgerSpan(l, d)
	if !from.IsZero() {
		set, err := scoring.DailyBalances(l, from, to)
		if err != nil {
			v.Notes = append(v.Notes, "The daily balances could not be reconstructed: "+err.Error())
		} else if len(set.Combined.EOD) > 0 {
			v.Balances = &set
		}
	}
	return v, nil
}

// unmarshalArray decodes a stored JSON array; empty and null read as none.
func unmarshalArray[T any](m json.RawMessage, dst *[]T) error {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return json.Unmarshal(m, dst)
}

// ledgerSpan is the day range of the balance chart: from the oldest posted transaction to
// the decision's cutoff (or as-of, or newest transaction).
func ledgerSpan(l scoring.Ledger, d store.Decision) (from, to time.Time) {
	for _, t := range l.Transactions {
		if t.Status == "void" {
			continue
		}
		if from.IsZero() || t.TransactedAt.Before(from) {
			from = t.TransactedAt
		}
		if t.TransactedAt.After(to) {
			to = t.TransactedAt
		}
	}
	switch {
	case d.Cutoff != nil:
		to = *d.Cutoff
	case d.AsOf != nil:
		to = *d.AsOf
	}
	if !from.IsZero() && to.Before(from) {
		to = from
	}
	return from.UTC(), to.UTC()
}

// Chart names of the decision report, in the page's order.
const (
	ChartBalance = "balance"
	ChartMonthly = "monthly"
	ChartStreams = "streams"
	ChartPoints  = "points"
)

// charts builds the decision's charts; a chart without data is left out.
func (v *decisionView) charts() (map[string]*plot.Plot, error) {
	out := map[string]*plot.Plot{}
	cur := v.currency()
	if v.Balances != nil {
		p, err := balanceChart(v.Balances, cur)
		if err != nil {
			return nil, err
		}
		out[ChartBalance] = p
	}
	if len(v.Features.MonthlyCashFlow) > 0 {
		p, err := monthlyChart(v.Features.MonthlyCashFlow, cur)
		if err != nil {
			return nil, err
		}
		out[ChartMonthly] = p
	}
	if streams := append(append([]storedStream(nil), v.Features.IncomeStreams...), v.Features.OutflowStreams...); len(streams) > 0 {
		p, err := streamsChart(streams, v.Ledger)
		if err != nil {
			return nil, err
		}
		out[ChartStreams] = p
	}
	if len(v.Points) > 0 {
		p, err := pointsChart(v.Points)
		if err != nil {
			return nil, err
		}
		out[ChartPoints] = p
	}
	return out, nil
}

func (v *decisionView) currency() string {
	if v.Features.Currency != "" {
		return v.Features.Currency
	}
	return v.In.Currency
}

// balanceChart: the end-of-day balance of each account and combined, negative days of
// the combined balance shaded.
func balanceChart(set *scoring.DailyBalanceSet, cur string) (*plot.Plot, error) {
	p := newPlot("Daily balance (negative days shaded)", "day", "balance, "+upper(cur))
	p.X.Tick.Marker = timeTicks("2006-01")
	series := func(s scoring.BalanceSeries) plotter.XYs {
		xy := make(plotter.XYs, len(s.EOD))
		for i, b := range s.EOD {
			xy[i].X = dayX(s.Start.AddDate(0, 0, i))
			xy[i].Y = float64(b) / 100
		}
		return xy
	}
	var spans [][2]float64
	c := set.Combined
	for i := 0; i < len(c.EOD); i++ {
		if c.EOD[i] >= 0 {
			continue
		}
		j := i
		for j+1 < len(c.EOD) && c.EOD[j+1] < 0 {
			j++
		}
		spans = append(spans, [2]float64{dayX(c.Start.AddDate(0, 0, i)) - 43200, dayX(c.Start.AddDate(0, 0, j)) + 43200})
		i = j
	}
	p.Add(shade{Spans: spans, Color: colNegShade})
	if len(set.Accounts) > 1 {
		for i, a := range set.Accounts {
			l, err := plotter.NewLine(series(a))
			if err != nil {
				return nil, err
			}
			l.Color = palette[i%len(palette)]
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			p.Add(l)
			p.Legend.Add("account …"+tail(a.AccountID, 4), l)
		}
	}
	l, err := plotter.NewLine(series(c))
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = colBlue, vg.Points(1.5)
	p.Add(l)
	p.Legend.Add("combined", l)
	p.Legend.Top = true
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.15 // room for the legend
	return p, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// monthlyChart: inflow, outflow and net of each complete month.
func monthlyChart(months []storedMonth, cur string) (*plot.Plot, error) {
	p := newPlot("Monthly inflow, outflow and net", "month", upper(cur))
	in, out, net := make(plotter.Values, len(months)), make(plotter.Values, len(months)), make(plotter.Values, len(months))
	names := make([]string, len(months))
	for i, m := range months {
		in[i], out[i], net[i] = float64(m.Inflow)/100, -float64(m.Outflow)/100, float64(m.Net)/100
		if m.Outflow < 0 { // outflow stored as a magnitude or signed: show it below zero
			out[i] = float64(m.Outflow) / 100
		}
		names[i] = m.Month
	}
	w := vg.Points(7)
	for i, s := range []struct {
		v   plotter.Values
		c   color.Color
		lbl string
	}{{in, colApprove, "inflow"}, {out, colDecline, "outflow"}, {net, colBlue, "net"}} {
		b, err := plotter.NewBarChart(s.v, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width, b.Offset = s.c, 0, w*vg.Length(i-1)
		p.Add(b)
		p.Legend.Add(s.lbl, b)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -1, float64(len(months))
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.2 // room for the legend
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.Legend.Top = true
	return p, nil
}

// streamsChart: each detected stream on its own row, its occurrences as dots (dates from
// the snapshot's transactions the stream lists, or its first and last dates).
func streamsChart(streams []storedStream, l *scoring.Ledger) (*plot.Plot, error) {
	p := newPlot("Detected income and obligation streams", "day", "")
	p.X.Tick.Marker = timeTicks("2006-01")
	when := map[string]time.Time{}
	if l != nil {
		for _, t := range l.Transactions {
			when[t.ID] = t.TransactedAt
		}
	}
	names := make([]string, len(streams))
	var inPts, outPts plotter.XYs
	for i, s := range streams {
		names[i] = fmt.Sprintf("%s (%s)", shorten(s.Description, 22), s.Frequency)
		var xs []float64
		for _, id := range s.TransactionIDs {
			if t, ok := when[id]; ok {
				xs = append(xs, dayX(t))
			}
		}
		if len(xs) == 0 {
			for _, d := range []string{s.FirstDate, s.LastDate} {
				if t, err := time.Parse(time.DateOnly, d); err == nil {
					xs = append(xs, dayX(t))
				}
			}
		}
		sort.Float64s(xs)
		for _, x := range xs {
			if s.Direction == "inflow" {
				inPts = append(inPts, plotter.XY{X: x, Y: float64(i)})
			} else {
				outPts = append(outPts, plotter.XY{X: x, Y: float64(i)})
			}
		}
		if len(xs) > 1 {
			ln, err := plotter.NewLine(plotter.XYs{{X: xs[0], Y: float64(i)}, {X: xs[len(xs)-1], Y: float64(i)}})
			if err != nil {
				return nil, err
			}
			ln.Color = colGrey
			p.Add(ln)
		}
	}
	for _, s := range []struct {
		pts plotter.XYs
		c   color.Color
		lbl string
	}{{inPts, colApprove, "income (inflow)"}, {outPts, colDecline, "obligation (outflow)"}} {
		if len(s.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = s.c, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(sc)
		p.Legend.Add(s.lbl, sc)
	}
	p.NominalY(names...)
	p.Legend.Top = true
	p.Y.Max += 1.5 // room for the legend
	return p, nil
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// pointsChart: the scorecard's points per characteristic against its maximum.
func pointsChart(points []storedPoints) (*plot.Plot, error) {
	p := newPlot("Scorecard points per characteristic (grey: maximum)", "points", "")
	got, max := make(plotter.Values, len(points)), make(plotter.Values, len(points))
	names := make([]string, len(points))
	for i, c := range points {
		got[i], max[i], names[i] = float64(c.Points), float64(c.MaxPoints), strings.TrimPrefix(c.Code, "SC_")
	}
	w := vg.Points(9)
	bm, err := plotter.NewBarChart(max, w)
	if err != nil {
		return nil, err
	}
	bm.Horizontal, bm.Color, bm.LineStyle.Width = true, color.RGBA{R: 0xe0, G: 0xe0, B: 0xe0, A: 0xff}, 0
	bg, err := plotter.NewBarChart(got, w*0.6)
	if err != nil {
		return nil, err
	}
	bg.Horizontal, bg.Color, bg.LineStyle.Width = true, colBlue, 0
	p.Add(bm, bg)
	p.Legend.Add("maximum", bm)
	p.Legend.Add("points", bg)
	p.NominalY(names...)
	p.Legend.Top = true
	p.X.Max *= 1.25 // room for the legend
	return p, nil
}

// DecisionHTML renders the decision report: a self-contained HTML page (charts inlined as
// SVG data URIs, no external requests).
func DecisionHTML(in DecisionInput) ([]byte, error) {
	v, err := decode(in)
	if err != nil {
		return nil, err
	}
	plots, err := v.charts()
	if err != nil {
		return nil, err
	}
	type chart struct {
		Name, Alt string
		Src       template.URL
	}
	var charts []chart
	for _, name := range []string{ChartBalance, ChartMonthly, ChartStreams, ChartPoints} {
		p, ok := plots[name]
		if !ok {
			continue
		}
		src, err := svgDataURI(p)
		if err != nil {
			return nil, err
		}
		charts = append(charts, chart{Name: name, Alt: p.Title.Text, Src: src})
	}
	d := in.Decision
	data := map[string]any{
		"V": v, "D": d, "Charts": charts,
		"Amount": money(in.LoanAmountMinor, in.Currency),
		"Score":  intOr(d.Score), "PD": pdOr(d.PD),
		"Failed": failedRules(v.Rules),
	}
	var b bytes.Buffer
	if err := decisionTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("decision report: %w", err)
	}
	return b.Bytes(), nil
}

func failedRules(rs []storedRule) int {
	n := 0
	for _, r := range rs {
		if !r.Passed {
			n++
		}
	}
	return n
}

func intOr(p *int) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprint(*p)
}

func pdOr(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.4f", *p)
}

// DecisionPNG renders the one-page summary image: a headline with the outcome, score, PD,
// amount and term, and the four charts in a grid.
func DecisionPNG(in DecisionInput) ([]byte, error) {
	v, err := decode(in)
	if err != nil {
		return nil, err
	}
	plots, err := v.charts()
	if err != nil {
		return nil, err
	}
	const cols = 2
	var grid [][]*plot.Plot
	var row []*plot.Plot
	for _, name := range []string{ChartBalance, ChartMonthly, ChartStreams, ChartPoints} {
		if p, ok := plots[name]; ok {
			row = append(row, p)
			if len(row) == cols {
				grid, row = append(grid, row), nil
			}
		}
	}
	if len(row) > 0 {
		for len(row) < cols {
			row = append(row, nil)
		}
		grid = append(grid, row)
	}
	rows := max(len(grid), 1)
	head := 1.6 * vg.Centimeter
	w, h := chartW*cols, chartH*vg.Length(rows)+head
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	d := in.Decision
	title := fmt.Sprintf("Application %s: %s   score %s   PD %s   %s over %d months   model %s / policy %s   snapshot %s",
		in.ApplicationID, strings.ToUpper(d.Outcome), intOr(d.Score), pdOr(d.PD), money(in.LoanAmountMinor, in.Currency),
		in.TermMonths, d.ModelVersion, d.PolicyVersion, shorten(strOr(d.ContentHash), 16))
	ts := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, YAlign: draw.YCenter}
	ts.Font.Size = vg.Points(12)
	dc.FillText(ts, vg.Point{X: vg.Centimeter / 2, Y: h - head/2}, title)
	body := draw.Crop(dc, 0, 0, 0, -head)
	if len(grid) > 0 {
		canvases := plot.Align(grid, draw.Tiles{Rows: rows, Cols: cols, PadX: 6 * vg.Millimeter, PadY: 4 * vg.Millimeter,
			PadLeft: 3 * vg.Millimeter, PadRight: 6 * vg.Millimeter, PadBottom: 3 * vg.Millimeter}, body)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("decision summary png: %w", err)
	}
	return b.Bytes(), nil
}

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pngSize returns the pixel size of a PNG (for tests and callers that check an image).
func pngSize(b []byte) (image.Point, error) {
	c, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return image.Point{}, err
	}
	return image.Point{X: c.Width, Y: c.Height}, nil
}
