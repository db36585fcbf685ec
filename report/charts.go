package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart sizes: wide enough for a year of days, small enough for a printed page.
const (
	chartW = 20 * vg.Centimeter
	chartH = 9 * vg.Centimeter
)

// Colours of the charts: the outcomes and flows keep one colour each across charts.
var (
	colApprove  = color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	colDecline  = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colBlue     = color.RGBA{R: 0x15, G: 0x65, B: 0xc0, A: 0xff}
	colGrey     = color.RGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
	colNegShade = color.RGBA{R: 0xff, G: 0xcd, B: 0xd2, A: 0xff}
	palette     = []color.Color{
		color.RGBA{R: 0x6a, G: 0x1b, B: 0x9a, A: 0xff}, color.RGBA{R: 0x00, G: 0x83, B: 0x8f, A: 0xff},
		color.RGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff}, color.RGBA{R: 0x45, G: 0x5a, B: 0x64, A: 0xff},
	}
)

// render writes p in format ("svg" or "png") at the chart size.
func render(p *plot.Plot, format string, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, format)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", format, err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render %s: %w", format, err)
	}
	return b.Bytes(), nil
}

// svgDataURI renders p as an SVG data: URI, for an <img> inside a self-contained page
// (an image that did not load shows naturalWidth 0, which the browser test checks).
func svgDataURI(p *plot.Plot) (template.URL, error) {
	b, err := render(p, "svg", chartW, chartH)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(b)), nil
}

// shade fills the x ranges [X0, X1] of Spans across the plot's whole height: the
// negative-balance days of the balance chart.
type shade struct {
	Spans [][2]float64
	Color color.Color
}

func (s shade) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, sp := range s.Spans {
		x0, x1 := trX(sp[0]), trX(sp[1])
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		pts := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(s.Color, c.ClipPolygonXY(pts))
	}
}

// dayX is the x value of a day on a time axis: Unix seconds.
func dayX(t time.Time) float64 { return float64(t.Unix()) }

// timeTicks labels a time axis with days.
func timeTicks(format string) plot.Ticker {
	return plot.TimeTicks{Format: format}
}

// money formats minor units as major units with two decimals and a thousands separator.
func money(minor int64, currency string) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	whole, cents := minor/100, minor%100
	s := fmt.Sprintf("%d", whole)
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	r := fmt.Sprintf("%s.%02d", out, cents)
	if neg {
		r = "-" + r
	}
	if currency != "" {
		r += " " + upper(currency)
	}
	return r
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// newPlot is a plot with the house's title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}
