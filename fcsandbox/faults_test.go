package fcsandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

func TestRequestFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("tiny")
	acct := ids[0]
	refresh := func(sc *client.API) error {
		_, err := sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
			Features: stripe.StringSlice([]string{"balance"})})
		return err
	}

	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultError, Method: "POST", PathPrefix: "/v1/financial_connections/accounts/", Status: 500}))
	var se *stripe.Error
	require.ErrorAs(t, refresh(h.sc), &se)
	require.Equal(t, http.StatusInternalServerError, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorTypeAPI, se.Type)

	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultError, Status: 429}))
	require.ErrorAs(t, refresh(h.sc), &se)
	require.Equal(t, stripe.ErrorCodeRateLimit, se.Code)
	require.Equal(t, http.StatusTooManyRequests, se.HTTPStatusCode)

	// stripe-go retries a 503 on its own.
	retrying := client.New(testKey, stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(h.ts.URL), MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultError, Status: 503}))
	require.NoError(t, refresh(retrying))

	// Faults are consumed: this call is served normally.
	_, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)

	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultLatency, LatencyMS: 150}))
	start := time.Now()
	_, err = h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	require.Error(t, h.srv.InjectFault(Fault{Kind: "explode"}))
	require.Error(t, h.srv.InjectFault(Fault{Kind: FaultError, Status: 200}))
}

func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)

	// Over HTTP, as a command-line user would arm it.
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+FaultsPath,
		strings.NewReader(`{"kind":"duplicate_webhook","event_type":"financial_connections.account.created"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	_, ids := h.link("tiny")
	first := h.hooks.waitEvent(EventAccountCreated, ids[0])
	second := h.hooks.waitEvent(EventAccountCreated, ids[0])
	require.Equal(t, first.ID, second.ID, "a duplicate is the same event")

	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultDropWebhook, EventType: EventAccountCreated}))
	_, dropped := h.link("tiny")
	_, delivered := h.link("tiny")
	h.hooks.waitEvent(EventAccountCreated, delivered[0])
	select {
	case ev := <-h.hooks.events:
		require.NotEqual(t, dropped[0], ev.GetObjectValue("id"))
	case <-time.After(200 * time.Millisecond):
	}
	for _, ev := range h.hooks.held {
		require.NotEqual(t, dropped[0], ev.GetObjectValue("id"))
	}

	// Without the key the faults endpoint refuses.
	res, err = http.Post(h.ts.URL+FaultsPath, "application/json", strings.NewReader(`{"kind":"latency","latency_ms":1}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
}
