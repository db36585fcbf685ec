package fcsandbox

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

func refreshBoth(h *harness, acct string) (*stripe.FinancialConnectionsAccount, error) {
	return h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions", "balance"})})
}

func getAccount(t *testing.T, h *harness, acct string) *stripe.FinancialConnectionsAccount {
	t.Helper()
	a, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	return a
}

// linkWith links the tiny persona with per-link options.
func (h *harness) linkWith(lr LinkRequest) string {
	h.t.Helper()
	sess := h.newSession("balances", "transactions")
	lr.ClientSecret, lr.Persona = sess.ClientSecret, "tiny"
	ids, err := CompleteLinkWith(h.t.Context(), h.ts.Client(), h.ts.URL, lr)
	require.NoError(h.t, err)
	return ids[0]
}

func TestPendingTransactionsAcrossRefreshes(t *testing.T) {
	t.Parallel()
	// tiny: current 250000, available 245000, one pending card payment of -5000.
	tests := []struct {
		name          string
		cfgPost       bool
		mode          string
		wantStatus    stripe.FinancialConnectionsTransactionStatus
		wantCurrent   int64
		wantAvailable int64
		wantChanged   int
	}{
		{"default keeps pending", false, "", stripe.FinancialConnectionsTransactionStatusPending, 250000, 245000, 0},
		{"config posts", true, "", stripe.FinancialConnectionsTransactionStatusPosted, 245000, 245000, 1},
		{"link option posts", false, PendingPost, stripe.FinancialConnectionsTransactionStatusPosted, 245000, 245000, 1},
		{"link option voids", false, PendingVoid, stripe.FinancialConnectionsTransactionStatusVoid, 250000, 250000, 1},
		{"link option keeps over config", true, PendingKeep, stripe.FinancialConnectionsTransactionStatusPending, 250000, 245000, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tinyDir, func(c *Config) { c.PostPendingOnRefresh = tc.cfgPost; c.RefreshCooldown = -1 })
			acct := h.linkWith(LinkRequest{PendingAtRefresh: tc.mode})
			initial := getAccount(t, h, acct).TransactionRefresh.ID
			pendingID := ""
			for _, tx := range h.listAll(acct, "") {
				if tx.Status == stripe.FinancialConnectionsTransactionStatusPending {
					pendingID = tx.ID
				}
			}
			require.NotEmpty(t, pendingID)

			h.clock.Advance(time.Hour)
			_, err := refreshBoth(h, acct)
			require.NoError(t, err)
			ev := h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
			ref := ev.GetObjectValue("transaction_refresh", "id")
			h.hooks.waitEvent(EventAccountRefreshedBalance, acct)

			changed := h.listAll(acct, initial)
			require.Len(t, changed, tc.wantChanged)
			tx, err := h.sc.FinancialConnectionsTransactions.Get(pendingID, &stripe.FinancialConnectionsTransactionParams{})
			require.NoError(t, err)
			require.Equal(t, tc.wantStatus, tx.Status)
			now := h.clock.Now().Unix()
			switch tc.wantStatus {
			case stripe.FinancialConnectionsTransactionStatusPosted:
				require.Equal(t, now, tx.StatusTransitions.PostedAt)
				require.Zero(t, tx.StatusTransitions.VoidAt)
			case stripe.FinancialConnectionsTransactionStatusVoid:
				require.Equal(t, now, tx.StatusTransitions.VoidAt)
				require.Zero(t, tx.StatusTransitions.PostedAt)
			}
			if tc.wantChanged > 0 {
				require.Equal(t, pendingID, changed[0].ID)
				require.Equal(t, ref, changed[0].TransactionRefresh)
				require.Equal(t, now, changed[0].Updated)
			}
			require.Empty(t, h.listAll(acct, ref), "the given refresh itself is excluded")
			a := getAccount(t, h, acct)
			require.Equal(t, tc.wantCurrent, a.Balance.Current["usd"])
			require.Equal(t, tc.wantAvailable, a.Balance.Cash.Available["usd"])

			// A second refresh finds nothing pending: nothing changes.
			h.clock.Advance(time.Hour)
			_, err = refreshBoth(h, acct)
			require.NoError(t, err)
			ev2 := h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
			require.Empty(t, h.listAll(acct, ev2.GetObjectValue("transaction_refresh", "id")))
			require.Empty(t, h.listAll(acct, ref))
		})
	}
}

func TestRefreshRefusedUntilAvailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.RefreshCooldown = time.Minute; c.RefreshDelay = 500 * time.Millisecond })
	_, ids := h.link("tiny")
	acct := ids[0]
	_, err := refreshBoth(h, acct)
	require.NoError(t, err)
	// Balance alone is pending too: refused, nothing stored under the key.
	p := &stripe.FinancialConnectionsAccountRefreshParams{Features: stripe.StringSlice([]string{"balance"})}
	p.SetIdempotencyKey("retry-key")
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(acct, p)
	requireRefreshRefused(t, err, "features[0]", "balance refresh is already pending")
	h.hooks.waitEvent(EventAccountRefreshedBalance, acct)
	// Cooling down until next_refresh_available_at; the same key is usable again.
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(acct, p)
	requireRefreshRefused(t, err, "features[0]", "next_refresh_available_at")
	next := getAccount(t, h, acct).BalanceRefresh.NextRefreshAvailableAt
	require.Equal(t, h.clock.Now().Unix()+60, next)
	h.clock.Advance(time.Minute) // now == next_refresh_available_at: allowed
	a, err := h.sc.FinancialConnectionsAccounts.Refresh(acct, p)
	require.NoError(t, err)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatusPending, a.BalanceRefresh.Status)
}

func TestAccountStatusControl(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.RefreshCooldown = -1; c.RefreshDelay = time.Second })
	_, ids := h.link("tiny")
	acct := ids[0]
	ctx := t.Context()

	// A refresh pending when the account deactivates ends as failed.
	_, err := refreshBoth(h, acct)
	require.NoError(t, err)
	require.NoError(t, SetAccountStatus(ctx, nil, h.ts.URL, testKey, acct, StatusInactive))
	ev := h.hooks.waitEvent(EventAccountDeactivated, acct)
	require.Equal(t, "inactive", ev.GetObjectValue("status"))
	ev = h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	require.Equal(t, "failed", ev.GetObjectValue("transaction_refresh", "status"))

	// Inactive: refresh refused with Stripe's code, data still readable.
	_, err = refreshBoth(h, acct)
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorCodeFinancialConnectionsAccountInactive, se.Code)
	require.Len(t, h.listAll(acct, ""), 4)
	require.Equal(t, stripe.FinancialConnectionsAccountStatusInactive, getAccount(t, h, acct).Status)

	// Same status again: no event, no error.
	require.NoError(t, h.srv.SetAccountStatus(acct, StatusInactive))

	require.NoError(t, SetAccountStatus(ctx, nil, h.ts.URL, testKey, acct, StatusActive))
	h.hooks.waitEvent(EventAccountReactivated, acct)
	_, err = refreshBoth(h, acct)
	require.NoError(t, err)

	require.NoError(t, SetAccountStatus(ctx, nil, h.ts.URL, testKey, acct, StatusDisconnected))
	ev = h.hooks.waitEvent(EventAccountDisconnected, acct)
	require.Equal(t, "disconnected", ev.GetObjectValue("status"))
	_, err = refreshBoth(h, acct)
	require.ErrorAs(t, err, &se)
	require.Equal(t, stripe.ErrorCodeFinancialConnectionsAccountInactive, se.Code)
	err = SetAccountStatus(ctx, nil, h.ts.URL, testKey, acct, StatusActive)
	require.ErrorContains(t, err, "disconnected")

	// Bad input.
	require.ErrorContains(t, SetAccountStatus(ctx, nil, h.ts.URL, testKey, acct, "frozen"), "status")
	require.ErrorContains(t, SetAccountStatus(ctx, nil, h.ts.URL, testKey, "fca_nope", StatusActive), "No such")
	require.ErrorContains(t, SetAccountStatus(ctx, nil, h.ts.URL, "sk_test_wrongkey000", acct, StatusActive), "401")
	require.Error(t, h.srv.SetAccountStatus("fca_nope", StatusInactive))
}

func TestAccountStatusAtRefresh(t *testing.T) {
	t.Parallel()
	// The persona option, from a manifest, and the per-link override.
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(tinyDir, "tiny.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tiny.json"), raw, 0o600))
	writeJSON(t, filepath.Join(dir, ManifestFile), map[string]any{"personas": []any{
		map[string]any{"name": "tiny", "ledger": "tiny.json", "account_status_at_refresh": "inactive"},
	}})
	tests := []struct {
		name     string
		dir      string
		override string
		want     stripe.FinancialConnectionsAccountStatus
		event    string
	}{
		{"persona manifest", dir, "", stripe.FinancialConnectionsAccountStatusInactive, EventAccountDeactivated},
		{"link option", tinyDir, StatusDisconnected, stripe.FinancialConnectionsAccountStatusDisconnected, EventAccountDisconnected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.dir, nil)
			acct := h.linkWith(LinkRequest{AccountStatusAtRefresh: tc.override})
			require.Equal(t, stripe.FinancialConnectionsAccountStatusActive, getAccount(t, h, acct).Status)
			_, err := refreshBoth(h, acct)
			var se *stripe.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, stripe.ErrorCodeFinancialConnectionsAccountInactive, se.Code)
			h.hooks.waitEvent(tc.event, acct)
			require.Equal(t, tc.want, getAccount(t, h, acct).Status)
			require.Len(t, h.listAll(acct, ""), 4, "prefetched data stays readable")
		})
	}
	// Bad values are refused with the field named.
	h := newHarness(t, tinyDir, nil)
	sess := h.newSession("balances", "transactions")
	_, err = CompleteLinkWith(t.Context(), nil, h.ts.URL, LinkRequest{ClientSecret: sess.ClientSecret, Persona: "tiny", AccountStatusAtRefresh: "asleep"})
	require.ErrorContains(t, err, "account_status_at_refresh")
	_, err = CompleteLinkWith(t.Context(), nil, h.ts.URL, LinkRequest{ClientSecret: sess.ClientSecret, Persona: "tiny", PendingAtRefresh: "maybe"})
	require.ErrorContains(t, err, "pending_at_refresh")
	badDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(badDir, "tiny.json"), raw, 0o600))
	writeJSON(t, filepath.Join(badDir, ManifestFile), map[string]any{"personas": []any{
		map[string]any{"name": "tiny", "ledger": "tiny.json", "pending_at_refresh": "later"},
	}})
	_, err = LoadPersonas(os.DirFS(badDir))
	require.ErrorContains(t, err, "pending_at_refresh")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{"default is Stripe test mode", 0, DefaultRateLimit},
		{"configured", 5, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tinyDir, func(c *Config) { c.RateLimit = tc.limit })
			cus, err := h.sc.Customers.New(&stripe.CustomerParams{})
			require.NoError(t, err)
			ok, limited := 1, 0
			var last rawResp
			for range tc.want + 10 {
				r := h.do(http.MethodGet, "/v1/customers/"+cus.ID, nil, nil)
				switch r.status {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					limited++
					last = r
				default:
					t.Fatalf("status %d", r.status)
				}
			}
			// The bucket refills while the loop runs: allow a little slack.
			require.GreaterOrEqual(t, ok, tc.want)
			require.LessOrEqual(t, ok, tc.want+3)
			require.Positive(t, limited)
			require.Equal(t, "invalid_request_error", last.errField("type"))
			require.Equal(t, "rate_limit", last.errField("code"))
			require.Empty(t, last.header.Get("Stripe-Should-Retry"))
			// stripe-go sees the code and does not retry it.
			_, err = h.sc.Customers.Get(cus.ID, &stripe.CustomerParams{})
			var se *stripe.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, stripe.ErrorCodeRateLimit, se.Code)
			// The sandbox paths are not limited; after a second the API answers again.
			res, err := h.ts.Client().Get(h.ts.URL + "/sandbox/v1/personas")
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			time.Sleep(time.Second)
			require.Equal(t, http.StatusOK, h.do(http.MethodGet, "/v1/customers/"+cus.ID, nil, nil).status)
		})
	}
	// Negative: no limit.
	h := newHarness(t, tinyDir, func(c *Config) { c.RateLimit = -1 })
	for range 60 {
		require.Equal(t, http.StatusOK, h.do(http.MethodGet, "/v1/financial_connections/accounts", nil, nil).status)
	}
}

func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultLatency, Method: "POST", PathPrefix: "/v1/customers", LatencyMS: 1000}))
	form := url.Values{"email": {"slow@example.com"}}
	hdr := map[string]string{"Idempotency-Key": "slow-key"}
	var wg sync.WaitGroup
	var first rawResp
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = h.do(http.MethodPost, "/v1/customers", form, hdr)
	}()
	time.Sleep(200 * time.Millisecond)
	second := h.do(http.MethodPost, "/v1/customers", form, hdr)
	require.Equal(t, http.StatusConflict, second.status)
	require.Equal(t, "invalid_request_error", second.errField("type"))
	require.Equal(t, "idempotency_key_in_use", second.errField("code"))
	wg.Wait()
	require.Equal(t, http.StatusOK, first.status)
	// Once finished, the same key replays the first answer.
	third := h.do(http.MethodPost, "/v1/customers", form, hdr)
	require.Equal(t, first.raw, third.raw)
	require.Equal(t, "true", third.header.Get("Idempotent-Replayed"))
}

func TestWebhooksOutOfOrderAndDuplicated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("tiny")
	acct := ids[0]
	h.hooks.waitEvent(EventAccountCreated, acct)
	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultDelayWebhook, EventType: EventAccountRefreshedTransactions, LatencyMS: 300}))
	require.NoError(t, h.srv.InjectFault(Fault{Kind: FaultDuplicateWebhook, EventType: EventAccountRefreshedBalance}))
	_, err := refreshBoth(h, acct)
	require.NoError(t, err)
	var order []string
	var balanceIDs []string
	deadline := time.After(5 * time.Second)
	for len(order) < 3 {
		select {
		case ev := <-h.hooks.events:
			order = append(order, string(ev.Type))
			if string(ev.Type) == EventAccountRefreshedBalance {
				balanceIDs = append(balanceIDs, ev.ID)
			}
		case <-deadline:
			t.Fatalf("events so far: %v", order)
		}
	}
	require.Equal(t, []string{EventAccountRefreshedBalance, EventAccountRefreshedBalance, EventAccountRefreshedTransactions}, order,
		"the delayed event arrives last, after the duplicated one")
	require.Equal(t, balanceIDs[0], balanceIDs[1], "a duplicate carries the same event id")
	require.Error(t, h.srv.InjectFault(Fault{Kind: FaultDelayWebhook}), "a delay needs latency_ms")
}

func TestSetPendingAtRefresh(t *testing.T) {
	s, err := New(Config{PersonaDir: "testdata/personas"})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	require.ErrorContains(t, s.SetPendingAtRefresh("fca_missing", PendingPost), "no such account")
	require.ErrorContains(t, s.SetPendingAtRefresh("fca_missing", "settle"), `"settle"`)
}
