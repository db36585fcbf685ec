package fcsandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
