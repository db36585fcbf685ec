//go:build browser

package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/report"
	"github.com/cashflow-underwriting/underwriter/store"
)

// imagesLoaded returns, for every <img> of the page, its id or src and its natural width
// once every image has finished loading: 0 is an image that did not load.
const imagesLoaded = `(() => {
	const imgs = [...document.images];
	if (imgs.length === 0 || !imgs.every(i => i.complete)) return null;
	return imgs.map(i => (i.id || i.getAttribute('src')) + "=" + i.naturalWidth);
})()`

// field reads the text of the element data-field=name.
func field(name string) string {
	return fmt.Sprintf(`(document.querySelector('[data-field=%q]') || {}).textContent || ""`, name)
}

// TestReportsInBrowser is issue 13's check of both reports in headless Chromium: the
// sample applications are underwritten by the whole stack (as `underwriter dev` does),
// their decision report and the portfolio report are written to disk as the commands write
// them and opened from file://; every chart image loads (natural width > 0), the numbers in
// the pages equal those in Postgres, and a screenshot of each is saved (-screenshots=DIR).
func TestReportsInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Config{RefreshDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close() })
	results := stack.UnderwriteSamples(ctx, "rep-"+time.Now().UTC().Format("150405"), 3*time.Minute)
	var declined string
	segs := "application_id,segment\n"
	var outcomes []store.OutcomeRecord
	for i, r := range results {
		require.NoError(t, r.Err, "application %s (%s)", r.ApplicationID, r.Persona)
		if r.Outcome == "decline" && declined == "" {
			declined = r.ApplicationID
		}
		segs += fmt.Sprintf("%s,%s\n", r.ApplicationID, []string{"segment-a", "segment-b"}[i%2])
		// Loan outcomes as a lender would import them later: the declined and referred
		// personas default, the others repay.
		o := store.LoanRepaid
		if r.Outcome != "approve" {
			o = store.LoanDefaulted
		}
		outcomes = append(outcomes, store.OutcomeRecord{Line: i + 2, ExternalID: r.ApplicationID, Outcome: o, ObservedOn: time.Now().UTC()})
	}
	require.NotEmpty(t, declined, "the sample personas include a decline")
	_, err = stack.Store.ImportOutcomes(ctx, store.DevLender, outcomes)
	require.NoError(t, err)

	dir := t.TempDir()
	bctx := newBrowser(ctx, t, chromium)
	shots := screenshotDir(t)

	t.Run("decision report", func(t *testing.T) {
		app, err := stack.Store.GetLenderApplication(ctx, store.DevLender, declined)
		require.NoError(t, err)
		d, err := stack.Store.GetDecision(ctx, app.ID)
		require.NoError(t, err)
		snap, err := stack.Store.GetSnapshot(ctx, *d.SnapshotID)
		require.NoError(t, err)
		page, err := report.DecisionHTML(report.DecisionInput{ApplicationID: app.ExternalID, Lender: app.LenderID,
			LoanAmountMinor: app.LoanAmountMinor, TermMonths: app.TermMonths, Currency: app.Currency, Decision: d, Ledger: snap.Ledger})
		require.NoError(t, err)
		path := filepath.Join(dir, "decision.html")
		require.NoError(t, os.WriteFile(path, page, 0o644))

		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+path)))
		imgs, err := chromedp.Run(bctx, chromedp.Poll[[]string](imagesLoaded, chromedp.WithPollingTimeout(uiWait)))
		require.NoError(t, err, "the charts never finished loading")
		require.Equal(t, []string{"chart-balance=756", "chart-monthly=756", "chart-streams=756", "chart-points=756"}, imgs,
			"every chart loaded, at its width (20 cm: 567 pt, 756 CSS px)")

		// The numbers in the page are those in Postgres.
		var outcome, hash string
		var score int
		var pd float64
		require.NoError(t, stack.Pool.QueryRow(ctx, `select outcome, score, pd, content_hash from decisions where application_id = $1`,
			app.ID).Scan(&outcome, &score, &pd, &hash))
		for name, want := range map[string]string{"outcome": outcome, "score": fmt.Sprint(score), "pd": fmt.Sprintf("%.4f", pd),
			"content_hash": hash, "application_id": declined} {
			got, err := chromedp.Run(bctx, chromedp.Evaluate[string](field(name)))
			require.NoError(t, err)
			require.Equal(t, want, got, name)
		}
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#rules tr[data-rule]').length`))
		require.NoError(t, err)
		var rules int
		require.NoError(t, stack.Pool.QueryRow(ctx, `select jsonb_array_length(rules) from decisions where application_id = $1`, app.ID).Scan(&rules))
		require.Equal(t, rules, n, "a row per policy rule")
		shoot(bctx, t, shots, "report-decision.png")
		require.NoError(t, chromedp.Do(bctx, chromedp.ScrollIntoView(chromedp.CSS("#chart-balance"))))
		shoot(bctx, t, shots, "report-decision-charts.png")
	})

	t.Run("portfolio report", func(t *testing.T) {
		day := time.Now().UTC().Truncate(24 * time.Hour)
		sf := filepath.Join(dir, "segments.csv")
		require.NoError(t, os.WriteFile(sf, []byte(segs), 0o644))
		f, err := os.Open(sf)
		require.NoError(t, err)
		seg, err := report.ReadSegments(f)
		f.Close()
		require.NoError(t, err)
		p := report.NewPortfolio(report.PortfolioOptions{From: day, To: day, Lender: store.DevLender, Segments: seg})
		_, err = stack.Store.PortfolioDecisions(ctx, store.DecisionFilter{Lender: store.DevLender, From: day, To: day.AddDate(0, 0, 1)}, p.Add)
		require.NoError(t, err)
		files, _, err := p.Render()
		require.NoError(t, err)
		out := filepath.Join(dir, "portfolio")
		require.NoError(t, os.MkdirAll(out, 0o755))
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(out, name), b, 0o644))
		}

		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+filepath.Join(out, "index.html"))))
		imgs, err := chromedp.Run(bctx, chromedp.Poll[[]string](imagesLoaded, chromedp.WithPollingTimeout(uiWait)))
		require.NoError(t, err, "the charts never finished loading")
		require.Len(t, imgs, len(files)-1, "an image per chart file")
		for _, img := range imgs {
			require.False(t, strings.HasSuffix(img, "=0"), "chart %s did not load", img)
		}

		var total, approve, decline, refer, known int
		require.NoError(t, stack.Pool.QueryRow(ctx, `
			select count(*), count(*) filter (where d.outcome = 'approve'), count(*) filter (where d.outcome = 'decline'),
				count(*) filter (where d.outcome = 'refer'), count(o.outcome)
			from decisions d join applications a on a.id = d.application_id left join outcomes o on o.application_id = d.application_id
			where a.lender_id = $1 and d.decided_at >= $2 and d.decided_at < $3`, store.DevLender, day, day.AddDate(0, 0, 1)).
			Scan(&total, &approve, &decline, &refer, &known))
		require.Equal(t, len(results), total)
		for name, want := range map[string]int{"total": total, "approve": approve, "decline": decline, "refer": refer, "outcomes": known} {
			got, err := chromedp.Run(bctx, chromedp.Evaluate[string](field(name)))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(want), got, name)
		}
		segRows, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#segments tr[data-segment]').length`))
		require.NoError(t, err)
		require.Equal(t, 2, segRows)
		shoot(bctx, t, shots, "report-portfolio.png")
		require.NoError(t, chromedp.Do(bctx, chromedp.ScrollIntoView(chromedp.CSS(`img[src="volume_by_week.png"]`))))
		shoot(bctx, t, shots, "report-portfolio-charts.png")
	})
}
