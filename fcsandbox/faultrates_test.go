package fcsandbox

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// statusesUnderRates makes n sequential GETs on a sandbox with rates and returns the
// answers' statuses and the server's counts. The GETs ask for an account that does not
// exist, so that no set-up call meets a fault: a served request answers 404.
func statusesUnderRates(t *testing.T, rates FaultRates, n int) ([]int, FaultCounts) {
	t.Helper()
	h := newHarness(t, tinyDir, func(c *Config) { c.FaultRates = rates })
	statuses := make([]int, n)
	for i := range statuses {
		res := h.do(http.MethodGet, "/v1/financial_connections/accounts/fca_missing", nil, nil)
		statuses[i] = res.status
		switch res.status {
		case http.StatusNotFound:
		case http.StatusTooManyRequests:
			require.Equal(t, string(stripe.ErrorCodeRateLimit), res.errField("code"), "Stripe's rate_limit shape")
			require.Equal(t, typeInvalidRequest, res.errField("type"))
		case http.StatusInternalServerError:
			require.Equal(t, typeAPI, res.errField("type"))
		default:
			t.Fatalf("request %d: status %d is neither served nor a fault", i, res.status)
		}
	}
	return statuses, h.srv.FaultCounts()
}

func TestFaultRatesAnswerRequests(t *testing.T) {
	t.Parallel()
	rates := FaultRates{Seed: 7, ServerError: 0.3, RateLimit: 0.2}
	statuses, counts := statusesUnderRates(t, rates, 200)
	var n500, n429 int64
	for _, s := range statuses {
		switch s {
		case http.StatusInternalServerError:
			n500++
		case http.StatusTooManyRequests:
			n429++
		}
	}
	require.Equal(t, n500, counts.ServerErrors, "every 500 answered is counted")
	require.Equal(t, n429, counts.RateLimited, "every 429 answered is counted")
	// 200 draws at 0.3 and 0.2: binomial standard deviations of about 6.5 and 5.7.
	require.InDelta(t, 60, n500, 30)
	require.InDelta(t, 40, n429, 28)

	again, _ := statusesUnderRates(t, rates, 200)
	require.Equal(t, statuses, again, "the same seed and the same calls give the same faults")
	rates.Seed = 8
	other, _ := statusesUnderRates(t, rates, 200)
	require.NotEqual(t, statuses, other, "another seed gives other faults")
}

func TestFaultRatesLatencyJitter(t *testing.T) {
	t.Parallel()
	statuses, counts := statusesUnderRates(t, FaultRates{Seed: 1, MaxLatency: 5 * time.Millisecond}, 20)
	for _, s := range statuses {
		require.Equal(t, http.StatusNotFound, s, "jitter delays requests, it serves them")
	}
	require.Positive(t, counts.Delayed)
	require.Zero(t, counts.ServerErrors+counts.RateLimited)
}

func TestFaultRatesWebhooksAreDeliveredAtLeastOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) {
		c.FaultRates = FaultRates{Seed: 3, DropWebhook: 0.5, DuplicateWebhook: 0.5}
		// At 0.5 per attempt, 40 attempts lose an event once in 10¹².
		c.WebhookMaxAttempts = 40
		c.WebhookRetryMax = 20 * time.Millisecond
	})
	var accounts []string
	for range 12 {
		_, ids := h.link("tiny")
		accounts = append(accounts, ids...)
	}
	// Events are created (and their duplicates drawn) before the link answers.
	counts := h.srv.FaultCounts()
	require.Positive(t, counts.WebhooksDuplicated)
	seen := map[string]int{}
	for range int64(len(accounts)) + counts.WebhooksDuplicated {
		ev := h.hooks.waitEvent(EventAccountCreated, "")
		seen[ev.GetObjectValue("id")]++
	}
	twice := int64(0)
	for _, id := range accounts {
		require.Contains(t, seen, id, "an event whose attempts were dropped is retried until delivered")
		if seen[id] == 2 {
			twice++
		}
	}
	require.Equal(t, counts.WebhooksDuplicated, twice, "each duplicated event arrives twice")
	require.Positive(t, h.srv.FaultCounts().WebhookAttemptsDropped)
	require.Zero(t, h.srv.FaultCounts().WebhooksDropped, "no event is dropped outright")
}

func TestFaultRatesValidate(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]FaultRates{
		"negative":      {ServerError: -0.1},
		"over one":      {DropWebhook: 1.5},
		"sum over one":  {ServerError: 0.6, RateLimit: 0.5},
		"long latency":  {MaxLatency: time.Minute},
		"negative wait": {MaxLatency: -time.Second},
	} {
		_, err := New(Config{FaultRates: r})
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "fault rates: ", name)
	}
}

func TestSuspendWebhooksKeepsEventsUntilResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	h.srv.SuspendWebhooks()
	h.srv.SuspendWebhooks() // twice is harmless
	_, ids := h.link("tiny")
	select {
	case ev := <-h.hooks.events:
		t.Fatalf("event %s delivered while webhooks were suspended", ev.ID)
	case <-time.After(300 * time.Millisecond):
	}
	require.Zero(t, h.hooks.Attempts(), "no attempt is made while suspended")
	h.srv.ResumeWebhooks()
	h.srv.ResumeWebhooks()
	for _, id := range ids {
		h.hooks.waitEvent(EventAccountCreated, id)
	}
}

func TestLinkAnchorServesTheSameDatesAtEveryLink(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, tinyDir, func(c *Config) { c.LinkAnchor = anchor })
	_, first := h.link("two_accounts")
	h.clock.Advance(7 * time.Minute) // a later link, as in a slower run
	_, second := h.link("two_accounts")
	delta := anchor.Unix() - 1690001000 // the newest balance.as_of of the two
	for _, ids := range [][]string{first, second} {
		savings, err := h.sc.FinancialConnectionsAccounts.GetByID(ids[1], &stripe.FinancialConnectionsAccountParams{})
		require.NoError(t, err)
		require.Equal(t, anchor.Unix(), savings.Balance.AsOf, "the ledger ends at the anchor, not at the link")
		require.Equal(t, 1689990000+delta, h.listAll(ids[0], "")[0].TransactedAt)
	}
	acct, err := h.sc.FinancialConnectionsAccounts.GetByID(second[0], &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, h.clock.Now().Unix(), acct.Created, "other times follow the clock")
}
