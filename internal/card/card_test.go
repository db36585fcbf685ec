package card

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/store"
)

// asOf is the fake snapshot's balance time.
var asOf = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type fakeStore struct {
	decisions map[string]store.Decision
	snapshots map[int64]store.Snapshot
}

func (f fakeStore) GetDecision(_ context.Context, id string) (store.Decision, error) {
	d, ok := f.decisions[id]
	if !ok {
		return d, fmt.Errorf("get decision of application %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

func (f fakeStore) GetSnapshot(_ context.Context, id int64) (store.Snapshot, error) {
	sn, ok := f.snapshots[id]
	if !ok {
		return sn, fmt.Errorf("get snapshot %d: %w", id, store.ErrNotFound)
	}
	return sn, nil
}

// ledgerJSON is one checking account whose balance falls below zero.
func ledgerJSON(t *testing.T) []byte {
	txn := func(id string, amount int64, day int) map[string]any {
		at := asOf.AddDate(0, 0, -day).Unix()
		return map[string]any{"id": id, "object": "financial_connections.transaction", "account": "fca_1",
			"amount": amount, "currency": "usd", "description": "x", "status": "posted",
			"status_transitions": map[string]any{"posted_at": at, "void_at": nil},
			"transacted_at":      at, "transaction_refresh": "fctxnref_1", "updated": at}
	}
	doc := map[string]any{"accounts": []any{map[string]any{
		"account": map[string]any{"id": "fca_1", "object": "financial_connections.account", "category": "cash",
			"subcategory": "checking", "status": "active", "institution_name": "Bank",
			"balance": map[string]any{"as_of": asOf.Unix(), "type": "cash", "current": map[string]any{"usd": -5000},
				"cash": map[string]any{"available": map[string]any{"usd": -5000}}}},
		"transactions": []any{txn("fctxn_1", 200000, 60), txn("fctxn_2", -150000, 30), txn("fctxn_3", -55000, 5)},
	}}}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

func newTestHandler(t *testing.T, now *time.Time) *Handler {
	score, pd, snap := 512, 0.31, int64(7)
	fs := fakeStore{
		decisions: map[string]store.Decision{"dev/app-1": {
			ApplicationID: "dev/app-1", WorkflowID: "underwrite/dev/app-1", Outcome: "decline", Score: &score, PD: &pd,
			Reasons:      json.RawMessage(`[{"code":"NEGATIVE_DAYS_EXCESS","text":"Account frequently overdrawn","feature":"days_negative_balance_90d","value":"33","reference":"> 10","points_lost":0}]`),
			Rules:        json.RawMessage(`[{"rule":"NSF_EXCESS","actual":"2","threshold":"> 3","passed":true},{"rule":"NEGATIVE_DAYS_EXCESS","actual":"33","threshold":"> 10","passed":false}]`),
			ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs", SnapshotID: &snap, DecidedAt: asOf,
		}},
		snapshots: map[int64]store.Snapshot{7: {ID: 7, ApplicationID: "dev/app-1", AsOf: asOf, Ledger: ledgerJSON(t)}},
	}
	h, err := New(Config{Store: fs, UIOrigin: "http://127.0.0.1:8233", LoginToken: "login-token-0123456789", Now: func() time.Time { return *now }})
	require.NoError(t, err)
	return h
}

func get(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:9999"+path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTokens(t *testing.T) {
	now := asOf
	h := newTestHandler(t, &now)
	tok := h.Issue(now)
	const path = "/decision?workflow_id=underwrite%2Fdev%2Fapp-1"

	t.Run("accepted and renewed", func(t *testing.T) {
		rec := get(h, path, tok)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		c := rec.Result().Cookies()
		require.Len(t, c, 1, "a renewed token")
		require.True(t, c[0].Secure && c[0].HttpOnly && c[0].Partitioned)
		require.Equal(t, http.SameSiteNoneMode, c[0].SameSite)
		require.NoError(t, h.Verify(c[0].Value, now.Add(DefaultTokenTTL-time.Second)))
	})
	t.Run("expired", func(t *testing.T) {
		require.Error(t, h.Verify(tok, now.Add(DefaultTokenTTL)))
		later := now.Add(DefaultTokenTTL + time.Second)
		h2 := *h
		h2.cfg.Now = func() time.Time { return later }
		rec := get(&h2, path, tok)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Contains(t, rec.Body.String(), "token expired")
		require.NotContains(t, rec.Body.String(), "NEGATIVE_DAYS_EXCESS")
	})
	t.Run("forged", func(t *testing.T) {
		body := tok[:strings.LastIndex(tok, ".")]
		parts := strings.Split(body, ".")
		// A later expiry with the old signature, and a token signed under another key.
		longer := "v1." + fmt.Sprint(now.Add(24*time.Hour).Unix()) + "." + parts[2] + tok[strings.LastIndex(tok, "."):]
		other, err := New(Config{Store: fakeStore{}, UIOrigin: "http://127.0.0.1:8233", LoginToken: "login-token-0123456789"})
		require.NoError(t, err)
		for name, bad := range map[string]string{"longer expiry": longer, "other key": other.Issue(now), "no signature": body, "empty": ""} {
			rec := get(h, path, bad)
			require.Equal(t, http.StatusUnauthorized, rec.Code, name)
			require.NotContains(t, rec.Body.String(), "NEGATIVE_DAYS_EXCESS", name)
		}
		require.Equal(t, http.StatusUnauthorized, get(h, path, "").Code, "no cookie")
	})
}

func TestLogin(t *testing.T) {
	now := asOf
	h := newTestHandler(t, &now)
	post := func(token, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:9999/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post("login-token-0123456789", "https://127.0.0.1:9999")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	c := rec.Result().Cookies()
	require.Len(t, c, 1)
	require.NoError(t, h.Verify(c[0].Value, now))
	require.NotContains(t, rec.Body.String(), c[0].Value, "the token only in the cookie")

	require.Equal(t, http.StatusUnauthorized, post("wrong-token-0123456789", "").Code)
	require.Empty(t, post("wrong-token-0123456789", "").Result().Cookies())
	require.Equal(t, http.StatusForbidden, post("login-token-0123456789", "https://evil.example").Code, "another site's form")
	require.Equal(t, http.StatusMethodNotAllowed, get(h, "/login?token=login-token-0123456789", "").Code, "no token in a URL")
}

func TestDecisionShown(t *testing.T) {
	now := asOf
	h := newTestHandler(t, &now)
	tok := h.Issue(now)
	rec := get(h, "/decision?workflow_id=underwrite%2Fdev%2Fapp-1", tok)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := rec.Body.String()
	for _, want := range []string{
		`data-outcome="decline"`, "<b data-score>512</b>", "PD 31.0%",
		`data-reason="NEGATIVE_DAYS_EXCESS"`, "Account frequently overdrawn",
		`<tr data-rule="NSF_EXCESS" class="pass">`, `<tr data-rule="NEGATIVE_DAYS_EXCESS" class="fail">`,
		"Combined daily balance (USD)", "<polyline", "min -50.00", "max 2000.00",
		`stroke-dasharray`, // the zero line: the balance crosses zero
	} {
		require.Contains(t, body, want)
	}

	rec = get(h, "/decision?workflow_id=underwrite%2Fdev%2Fnone", tok)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "No decision recorded for dev/none yet.")

	rec = get(h, "/decision?workflow_id=rescore%2Fx", tok)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "workflow_id:")
}

func TestPage(t *testing.T) {
	now := asOf
	h := newTestHandler(t, &now)
	rec := get(h, "/", "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors http://127.0.0.1:8233")
	require.NotContains(t, rec.Body.String(), "data-outcome", "the page carries no data")
	rec = get(h, "/card.js", "")
	require.Contains(t, rec.Body.String(), `const UI = "http://127.0.0.1:8233"`)
	b, _ := io.ReadAll(rec.Body)
	require.Contains(t, string(b), "temporal-extension/hello")
}

func TestSelfSigned(t *testing.T) {
	c, err := SelfSigned(asOf)
	require.NoError(t, err)
	require.NoError(t, c.TLS.Leaf.VerifyHostname("127.0.0.1"))
	require.NoError(t, c.TLS.Leaf.VerifyHostname("localhost"))
	require.True(t, c.TLS.Leaf.NotAfter.Before(asOf.Add(8*24*time.Hour)))
	require.Contains(t, string(c.PEM), "BEGIN CERTIFICATE")
	require.Len(t, c.SPKIHash, 44)
}
