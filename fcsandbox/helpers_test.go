package fcsandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
)

const (
	testKey    = "sk_test_sandboxkey123"
	testSecret = "whsec_testsecret"
)

// fakeClock is an injectable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hookReceiver verifies webhooks with stripe-go and queues the events.
type hookReceiver struct {
	t      *testing.T
	secret string

	mu        sync.Mutex
	failFirst int // answer 500 to this many attempts
	attempts  int
	verifyErr []error
	events    chan stripe.Event
	held      []stripe.Event // received but not yet asked for
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.attempts++
	fail := h.attempts <= h.failFirst
	h.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), h.secret)
	if err != nil {
		h.mu.Lock()
		h.verifyErr = append(h.verifyErr, err)
		h.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.events <- ev
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) Attempts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts
}

// waitEvent returns the first event of type typ for account acct; events
// arrive in any order, so the others are held for later calls.
func (h *hookReceiver) waitEvent(typ, acct string) stripe.Event {
	h.t.Helper()
	match := func(ev stripe.Event) bool {
		return string(ev.Type) == typ && (acct == "" || ev.GetObjectValue("id") == acct)
	}
	for i, ev := range h.held {
		if match(ev) {
			h.held = append(h.held[:i], h.held[i+1:]...)
			return ev
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-h.events:
			if match(ev) {
				return ev
			}
			h.held = append(h.held, ev)
		case <-deadline:
			h.mu.Lock()
			errs := h.verifyErr
			h.mu.Unlock()
			h.t.Fatalf("no %s event for %s within 5s (verify errors: %v)", typ, acct, errs)
		}
	}
}

type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	sc    *client.API
	hooks *hookReceiver
	clock *fakeClock
	logs  *syncbuf.Buffer
}

// newHarness starts a sandbox on personaDir with a webhook receiver; mutate
// adjusts the Config before New.
func newHarness(t *testing.T, personaDir string, mutate func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), logs: &syncbuf.Buffer{}}
	h.hooks = &hookReceiver{t: t, secret: testSecret, events: make(chan stripe.Event, 100)}
	hookSrv := httptest.NewServer(h.hooks)
	t.Cleanup(hookSrv.Close)
	cfg := Config{
		APIKey:           testKey,
		WebhookURL:       hookSrv.URL,
		WebhookSecret:    testSecret,
		RefreshDelay:     100 * time.Millisecond,
		PersonaDir:       personaDir,
		Now:              h.clock.Now,
		Logger:           slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		WebhookRetryBase: 10 * time.Millisecond,
		// Tests fire requests back to back; TestRateLimit covers the limit.
		RateLimit: -1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	h.srv = srv
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		h.ts.Close()
		srv.Close()
	})
	h.sc = newStripeClient(h.ts.URL, testKey)
	return h
}

func newStripeClient(baseURL, key string) *client.API {
	return client.New(key, stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:               stripe.String(baseURL),
		MaxNetworkRetries: stripe.Int64(0),
		HTTPClient:        &http.Client{Timeout: 10 * time.Second},
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
}

// newSession creates a customer and a session as the pipeline does.
func (h *harness) newSession(prefetch ...string) *stripe.FinancialConnectionsSession {
	h.t.Helper()
	cp := &stripe.CustomerParams{Email: stripe.String("applicant@example.com"), Name: stripe.String("A. Applicant")}
	cp.AddMetadata("application_id", "app_123")
	cus, err := h.sc.Customers.New(cp)
	require.NoError(h.t, err)
	sp := &stripe.FinancialConnectionsSessionParams{
		AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{
			Type: stripe.String("customer"), Customer: stripe.String(cus.ID),
		},
		Permissions: stripe.StringSlice([]string{"balances", "transactions"}),
		Prefetch:    stripe.StringSlice(prefetch),
	}
	if len(prefetch) == 0 {
		sp.Prefetch = nil
	}
	sess, err := h.sc.FinancialConnectionsSessions.New(sp)
	require.NoError(h.t, err)
	return sess
}

// link creates a session with prefetch [balances, transactions] and links persona.
func (h *harness) link(persona string) (*stripe.FinancialConnectionsSession, []string) {
	h.t.Helper()
	sess := h.newSession("balances", "transactions")
	ids, err := CompleteLink(h.t.Context(), h.ts.Client(), h.ts.URL, sess.ClientSecret, persona)
	require.NoError(h.t, err)
	return sess, ids
}

func (h *harness) listAll(acct string, after string) []*stripe.FinancialConnectionsTransaction {
	h.t.Helper()
	p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(acct)}
	p.Limit = stripe.Int64(100)
	if after != "" {
		p.TransactionRefresh = &stripe.FinancialConnectionsTransactionListTransactionRefreshParams{After: stripe.String(after)}
	}
	it := h.sc.FinancialConnectionsTransactions.List(p)
	var out []*stripe.FinancialConnectionsTransaction
	for it.Next() {
		out = append(out, it.FinancialConnectionsTransaction())
	}
	require.NoError(h.t, it.Err())
	return out
}

// rawResp is a decoded raw HTTP answer.
type rawResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r rawResp) errField(name string) any {
	e, _ := r.body["error"].(map[string]any)
	return e[name]
}

// do sends a raw request with the test key (unless auth is given).
func (h *harness) do(method, path string, form url.Values, header map[string]string) rawResp {
	h.t.Helper()
	var body io.Reader
	target := h.ts.URL + path
	if form != nil {
		if method == http.MethodGet {
			target += "?" + form.Encode()
		} else {
			body = strings.NewReader(form.Encode())
		}
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testKey)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := h.ts.Client().Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	out := rawResp{status: res.StatusCode, header: res.Header, raw: raw}
	require.NoError(h.t, json.Unmarshal(raw, &out.body), "body %s", raw)
	require.True(h.t, strings.HasPrefix(res.Header.Get("Request-Id"), "req_"), "Request-Id header")
	return out
}

// writeManyPersona writes a persona dir holding one persona "many" with n
// transactions, several sharing a timestamp to exercise the id tie-break.
func writeManyPersona(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	const asOf = 1700000000
	var txns []map[string]any
	for i := range n {
		ts := int64(asOf - 3600*(i/3)) // three per timestamp
		txns = append(txns, map[string]any{
			"id": fmt.Sprintf("fctxn_%d", i), "account": "fca_many", "amount": -100 - i, "currency": "usd",
			"description": "SHOP", "status": "posted",
			"status_transitions": map[string]any{"posted_at": ts, "void_at": nil},
			"transacted_at":      ts, "updated": ts,
		})
	}
	ledger := map[string]any{"accounts": []any{map[string]any{
		"account": map[string]any{
			"id": "fca_many", "category": "cash", "subcategory": "checking", "status": "active",
			"institution_name": "StripeBank", "display_name": "Checking", "last4": "9999",
			"balance": map[string]any{"as_of": asOf, "type": "cash", "current": map[string]any{"usd": 1000},
				"cash": map[string]any{"available": map[string]any{"usd": 1000}}},
		},
		"transactions": txns,
	}}}
	writeJSON(t, filepath.Join(dir, "many.json"), ledger)
	writeJSON(t, filepath.Join(dir, ManifestFile), map[string]any{"personas": []any{map[string]any{
		"name": "many", "ledger": "many.json", "story": "Lots of card payments.", "expected_outcome": "refer",
		"loan_amount_minor": 1000, "term_months": 3, "currency": "usd", "refresh_outcome": "succeeded",
	}}})
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// requireRefreshRefused checks the 400 answer to a refresh that may not start yet.
func requireRefreshRefused(t *testing.T, err error, param, msgPart string) {
	t.Helper()
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	require.Empty(t, se.Code, "Stripe has no error code for it")
	require.Equal(t, param, se.Param)
	require.Contains(t, se.Msg, msgPart)
}
