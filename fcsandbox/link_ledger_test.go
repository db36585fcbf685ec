package fcsandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// TestLinkWithOwnLedger links a session to a ledger sent with the link (an uploaded
// statement) instead of a persona: its transactions are served like a persona's, and a
// bad ledger is a 400 naming the ledger parameter.
func TestLinkWithOwnLedger(t *testing.T) {
	h := newHarness(t, tinyDir, nil)
	raw, err := os.ReadFile(filepath.Join(tinyDir, "tiny.json"))
	require.NoError(t, err)
	lf, err := ledger.Parse(raw)
	require.NoError(t, err)

	post := func(body any) (int, map[string]any) {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		res, err := http.Post(h.ts.URL+LinkPath, "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return res.StatusCode, out
	}
	sess := h.newSession("balances", "transactions")
	status, out := post(map[string]any{"client_secret": sess.ClientSecret, "ledger": "not a ledger"})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "ledger", out["error"].(map[string]any)["param"])
	status, out = post(map[string]any{"client_secret": sess.ClientSecret, "persona": "tiny", "ledger": json.RawMessage(raw)})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "ledger", out["error"].(map[string]any)["param"])

	status, out = post(map[string]any{"client_secret": sess.ClientSecret, "ledger": json.RawMessage(raw)})
	require.Equal(t, http.StatusOK, status, out)
	ids := out["accounts"].([]any)
	require.Len(t, ids, len(lf.Accounts))
	got := h.listAll(ids[0].(string), "")
	require.Len(t, got, len(lf.Accounts[0].Transactions), "the uploaded ledger's transactions, prefetched")
	require.Contains(t, h.logs.String(), `"persona":"uploaded"`)
}

// TestLinkFailurePaths makes one link's refresh fail and drop its refresh webhooks, while
// another link of the same persona refreshes as the persona says and sends its webhooks.
func TestLinkFailurePaths(t *testing.T) {
	h := newHarness(t, tinyDir, nil)
	awkward := h.newSession("balances", "transactions")
	ids, err := CompleteLinkWith(t.Context(), h.ts.Client(), h.ts.URL, LinkRequest{ClientSecret: awkward.ClientSecret,
		Persona: "tiny", RefreshOutcome: RefreshFailed, DropRefreshWebhooks: true})
	require.NoError(t, err)
	a := ids[0]
	h.hooks.waitEvent(EventAccountCreated, a)
	_, err = refreshBoth(h, a)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.srv.FaultCounts().WebhooksDropped == 2 }, time.Minute, 10*time.Millisecond,
		"both refresh events recorded and not delivered")
	got := getAccount(t, h, a)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatus(RefreshFailed), got.TransactionRefresh.Status)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatus(RefreshFailed), got.BalanceRefresh.Status)

	_, ids = h.link("tiny")
	b := ids[0]
	h.hooks.waitEvent(EventAccountCreated, b)
	_, err = refreshBoth(h, b)
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, b)
	h.hooks.waitEvent(EventAccountRefreshedBalance, b)
	require.Equal(t, 4, h.hooks.Attempts(), "two account.created and b's two refresh events: none of a's refresh events")
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatus(RefreshSucceeded), getAccount(t, h, b).TransactionRefresh.Status)

	status, body := postLink(t, h, map[string]any{"client_secret": h.newSession().ClientSecret, "persona": "tiny", "refresh_outcome": "maybe"})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "refresh_outcome", body["error"].(map[string]any)["param"])
}

func postLink(t *testing.T, h *harness, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	res, err := http.Post(h.ts.URL+LinkPath, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out
}
