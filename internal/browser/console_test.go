//go:build browser

package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
)

// TestConsole is issue 15's quickstart: in headless Chromium, the console `underwriter dev`
// serves creates an application, links steady_salaried in the link dialog and shows the
// application approved, with its rules, in the live view and the list; links an uploaded
// CSV statement and shows its decision; refuses a malformed one naming the line, then
// links that application with its refresh failing on purpose and shows it referred; and the
// client_secrets the page held never appear in a URL the page loaded.
func TestConsole(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Config{RefreshDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close() })

	bctx := newBrowser(ctx, t, chromium)
	urls := &urlLog{}
	require.NoError(t, chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls.add(e.Request.URL + e.Request.URLFragment)
			urls.add(e.DocumentURL)
		case *network.EventResponseReceived:
			urls.add(e.Response.URL)
		}
	}))

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(stack.ConsoleURL())))
	waitText(bctx, t, "the console", "New application")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("amount"), "2500"),
		chromedp.SetValue(chromedp.ID("term"), "12"),
		chromedp.SetValue(chromedp.ID("name"), "Quinn Quickstart"),
		chromedp.SetValue(chromedp.ID("email"), "quinn@example.com"),
		chromedp.Click(chromedp.ID("create")),
	))
	// The page shows the link step once the application exists.
	appID, err := chromedp.Run(bctx, chromedp.Poll[string](
		`!document.getElementById('link-step').hidden && document.getElementById('view-id').textContent`,
		chromedp.WithPollingTimeout(uiWait)))
	require.NoError(t, err, "the link step never showed")
	require.True(t, strings.HasPrefix(appID, "console-"), appID)
	// The secret the page holds in memory (the test reads it to look for it in URLs).
	secret, err := chromedp.Run(bctx, chromedp.Evaluate[string](`current.clientSecret`))
	require.NoError(t, err)
	require.Contains(t, secret, "_secret_")

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.ID("open-link"))))
	waitText(bctx, t, "the personas", "steady_salaried")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("persona-steady_salaried")),
		chromedp.Click(chromedp.ID("link-submit")),
	))
	outcome, err := chromedp.Run(bctx, chromedp.Poll[string](
		`(() => { const o = document.getElementById('outcome'); return o && o.textContent; })()`,
		chromedp.WithPollingTimeout(uiWait)))
	require.NoError(t, err, "no decision shown")
	require.Equal(t, "approve", outcome)
	text := waitText(bctx, t, "the policy rules", "Policy rules")
	require.Contains(t, text, "model ")
	// The list shows the application decided.
	text = waitText(bctx, t, "the list", appID+"\tdecided\tapprove")
	require.Contains(t, text, "decision report")

	// The links: the workflow in the Web UI and the report through the console.
	wfHref, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#links a').href`))
	require.NoError(t, err)
	require.Equal(t, stack.UIURL+"/namespaces/"+stack.Namespace+"/workflows/underwrite%2Fdev%2F"+appID, wfHref)
	reportStatus, err := chromedp.Run(bctx, chromedp.Evaluate[int](
		`fetch(document.getElementById('report-link').href).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 200, reportStatus, "the decision report through the console")
	shoot(bctx, t, screenshotDir(t), "console.png")
	secrets := []string{secret}

	// A statement of one's own: a CSV with common bank headers becomes a one-off persona
	// and gets a decision.
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "statement.csv"), filepath.Join(dir, "broken.csv")
	require.NoError(t, os.WriteFile(good, []byte(signedStatement(150)), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte("Date,Description,Amount\n2026-03-01,PAY,100.00\n2026-03-02,SHOP,abc\n"), 0o644))
	newApplication := func(prev string) string {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.ID("create"))))
		id, err := chromedp.Run(bctx, chromedp.Poll[string](fmt.Sprintf(
			`!document.getElementById('link-step').hidden && document.getElementById('view-id').textContent !== %q && document.getElementById('view-id').textContent`, prev),
			chromedp.WithPollingTimeout(uiWait)))
		require.NoError(t, err, "the link step of a new application never showed")
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`current.clientSecret`))
		require.NoError(t, err)
		secrets = append(secrets, s)
		require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.ID("open-link"))))
		return id
	}
	csvApp := newApplication(appID)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetUploadFiles(chromedp.ID("statement"), []string{good}),
		chromedp.Click(chromedp.ID("link-submit")),
	))
	waitText(bctx, t, "the uploaded statement linked", "linked your statement: ")
	csvOutcome, err := chromedp.Run(bctx, chromedp.Poll[string](
		`(() => { const o = document.getElementById('outcome'); return o && o.textContent; })()`,
		chromedp.WithPollingTimeout(uiWait)))
	require.NoError(t, err, "no decision for the uploaded statement")
	require.Contains(t, []string{"approve", "decline", "refer"}, csvOutcome)
	t.Logf("application %s on an uploaded statement: %s", csvApp, csvOutcome)

	// A malformed statement: the dialog says which line is wrong, and nothing is linked.
	newApplication(csvApp)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetUploadFiles(chromedp.ID("statement"), []string{bad}),
		chromedp.Click(chromedp.ID("link-submit")),
	))
	linkErr, err := chromedp.Run(bctx, chromedp.Poll[string](`document.getElementById('link-error').textContent`,
		chromedp.WithPollingTimeout(uiWait)))
	require.NoError(t, err, "no error for a malformed statement")
	require.Contains(t, linkErr, `line 3, column Amount: "abc"`)

	// Stripe awkward on purpose: the same application, linked to steady_salaried with its
	// refresh failing, is referred (scored on stale data) instead of approved.
	_, err = chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => {
		document.getElementById('statement').value = '';
		document.getElementById('failure').value = 'refresh_failed';
		return true;
	})()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.ID("persona-steady_salaried")),
		chromedp.Click(chromedp.ID("link-submit")),
	))
	failedOutcome, err := chromedp.Run(bctx, chromedp.Poll[string](
		`(() => { const o = document.getElementById('outcome'); return o && o.textContent; })()`,
		chromedp.WithPollingTimeout(uiWait)))
	if err != nil {
		last, _ := chromedp.Run(bctx, chromedp.Evaluate[string](pageText))
		t.Fatalf("no decision after a failed refresh (%v); the page shows:\n%s", err, last)
	}
	require.Equal(t, "refer", failedOutcome, "a failed refresh is referred")
	waitText(bctx, t, "the stale data rule", "STALE_DATA")

	seen := urls.all()
	require.NotEmpty(t, seen)
	for _, u := range seen {
		for _, s := range secrets {
			require.NotContains(t, u, s, "the client_secret in a URL the page loaded")
		}
		require.NotContains(t, u, "_secret_", "a client secret in a URL the page loaded")
	}
	t.Logf("%d URLs loaded, none with the client_secret", len(seen))
}

// urlLog collects the URLs the page loaded; the listener adds from the tab's loop.
type urlLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *urlLog) add(u string) {
	if u == "" {
		return
	}
	l.mu.Lock()
	l.urls = append(l.urls, u)
	l.mu.Unlock()
}

func (l *urlLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.urls...)
}

// signedStatement is a bank export of days days, oldest first, with ISO dates and a signed
// Amount column: pay every other Friday, rent, groceries.
func signedStatement(days int) string {
	var b strings.Builder
	b.WriteString("Date,Description,Amount,Balance\n")
	bal := int64(180000)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range days {
		d := start.AddDate(0, 0, i)
		add := func(desc string, amt int64) {
			bal += amt
			fmt.Fprintf(&b, "%s,%s,%s,%s\n", d.Format(time.DateOnly), desc, money(amt), money(bal))
		}
		if i%14 == 4 {
			add("EMPLOYER INC PAYROLL", 240000)
		}
		if d.Day() == 3 {
			add("LANDLORD RENT", -110000)
		}
		if i%4 == 1 {
			add("CORNER GROCERY", -5300)
		}
	}
	return b.String()
}

func money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}
