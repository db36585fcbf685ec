//go:build browser

package browser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/card"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
)

// cardEnv is the decision card of the stack under test.
type cardEnv struct {
	card  *devstack.Card
	flags []chromedp.ExecAllocatorOption
}

// setUpCard opens the card before the stack starts, so that the UI is configured with it.
func setUpCard(t *testing.T, cfg *devstack.Config) *cardEnv {
	c, err := devstack.OpenCard("")
	require.NoError(t, err)
	t.Cleanup(c.Close)
	cfg.UIExtensions = append(cfg.UIExtensions, c.Extension())
	return &cardEnv{card: c, flags: []chromedp.ExecAllocatorOption{
		// Trust the card's certificate, and only it, as an operator's browser would once
		// the certificate is accepted.
		chromedp.Flag("ignore-certificate-errors-spki-list", c.Cert.SPKIHash),
		// The card is a frame of another origin: kept in the page's process, the test can
		// read it (a real browser isolates it; nothing else changes).
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"),
	}}
}

func (c *cardEnv) start(t *testing.T, s *devstack.Stack) {
	require.NoError(t, c.card.Serve(s))
}

// check opens the workflow page with a card session and reads the decision in the card.
func (c *cardEnv) check(bctx context.Context, t *testing.T, pageURL, appKey, shots string) {
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(pageURL+"/history")))
	sel := fmt.Sprintf(`div[data-temporal-extension-id=%q] iframe`, card.ExtensionID)
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitReady(chromedp.CSS(sel))), "the UI never framed the card")

	// Without a session the card asks for the login token, as it does the operator, who
	// pastes the token `underwriter dev` printed.
	_, err := pollCard[bool](bctx, sel, fmt.Sprintf(`(() => {
		const i = document.getElementById("token");
		if (!i) return false;
		i.value = %q;
		document.getElementById("login").click();
		return true;
	})()`, c.card.LoginToken))
	require.NoError(t, err, "the card never asked for the login token")

	text, err := pollCard[string](bctx, sel,
		`document.querySelector('[data-outcome]') && document.querySelector('[data-outcome]').dataset.outcome + "\n" + document.body.innerText`)
	if err != nil {
		last, _ := pollCard[string](bctx, sel, `document.body.innerText`)
		t.Fatalf("the card never showed a decision (%v); it shows: %s", err, last)
	}
	require.True(t, strings.HasPrefix(text, "decline\n"), "the card's outcome: %s", text)
	require.Contains(t, text, "✗\tNEGATIVE_DAYS_EXCESS\t", "the failed rule")
	require.Contains(t, text, "Policy rules")
	require.Contains(t, text, "Combined daily balance")
	require.Contains(t, text, "NEGATIVE_DAYS_EXCESS", "the declining_balances persona's first reason")
	require.NotContains(t, text, "No decision recorded", appKey)
	svg, err := pollCard[int](bctx, sel, `document.querySelectorAll('svg.chart polyline').length`)
	require.NoError(t, err)
	require.Equal(t, 1, svg, "the balance chart")
	shoot(bctx, t, shots, "ui-decision-card.png")
}

// pollCard evaluates expr in the card's frame (the element sel) until it is truthy, and
// returns its value. The frame's script context appears some time after its element, and
// a new one with each load of the frame: until the poll can run in it, it is tried again.
func pollCard[T any](bctx context.Context, sel, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(bctx, uiWait)
	defer cancel()
	var zero T
	for {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
		if err == nil && len(nodes) == 1 {
			var v T
			v, err = chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInFrame(nodes[0]), chromedp.WithPollingTimeout(uiWait)))
			if err == nil || errors.Is(err, chromedp.ErrPollingTimeout) {
				return v, err
			}
		}
		retry := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			retry.Stop()
			return zero, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-retry.C:
		}
	}
}
