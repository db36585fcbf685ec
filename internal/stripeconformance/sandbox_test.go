package stripeconformance

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

const sandboxKey = "sk_test_conformance"

// repoPersonas is the repository's persona directory.
func repoPersonas(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..", "fcsandbox", "personas")
}

// stripeTarget is the stripe-go type each successful response must decode into.
func stripeTarget(method, path string) any {
	switch {
	case path == "/v1/customers" || strings.HasPrefix(path, "/v1/customers/"):
		return &stripe.Customer{}
	case strings.HasPrefix(path, "/v1/financial_connections/sessions"):
		return &stripe.FinancialConnectionsSession{}
	case path == "/v1/financial_connections/accounts":
		return &stripe.FinancialConnectionsAccountList{}
	case strings.HasPrefix(path, "/v1/financial_connections/accounts/"):
		return &stripe.FinancialConnectionsAccount{}
	case path == "/v1/financial_connections/transactions":
		return &stripe.FinancialConnectionsTransactionList{}
	case strings.HasPrefix(path, "/v1/financial_connections/transactions/"):
		return &stripe.FinancialConnectionsTransaction{}
	}
	return nil
}

// TestSandboxResponsesMatchSpec drives fcsandbox through every endpoint the
// pipeline uses, and the errors it can meet, and checks each answer against
// the 2023-10-16 spec and the stripe-go v76 types.
func TestSandboxResponsesMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	personas := repoPersonas(t)
	ps, err := fcsandbox.LoadPersonas(os.DirFS(personas))
	require.NoError(t, err)
	require.NotEmpty(t, ps)

	sb, err := fcsandbox.New(fcsandbox.Config{
		APIKey: sandboxKey, PersonaDir: personas, RefreshDelay: 300 * time.Millisecond, RefreshCooldown: -1,
		PostPendingOnRefresh: true, RateLimit: 1000, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		ts.Close()
		sb.Close()
	})
	rec := &recorder{next: http.DefaultTransport}
	sc := client.New(sandboxKey, stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(ts.URL), MaxNetworkRetries: stripe.Int64(0),
		HTTPClient:    &http.Client{Transport: rec, Timeout: 10 * time.Second},
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
	raw := func(method, path string, form url.Values, hdr map[string]string) {
		t.Helper()
		var body io.Reader
		target := ts.URL + path
		if method == http.MethodGet {
			target += "?" + form.Encode()
		} else {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, target, body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+sandboxKey)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := (&http.Client{Transport: rec}).Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}

	// The pipeline's happy path, with params as api/ and activities/ build them.
	cp := &stripe.CustomerParams{Email: stripe.String("applicant@example.com"), Name: stripe.String("A. Applicant"),
		Metadata: map[string]string{"application_id": "app-conformance"}}
	cus, err := sc.Customers.New(cp)
	require.NoError(t, err)
	_, err = sc.Customers.Get(cus.ID, &stripe.CustomerParams{})
	require.NoError(t, err)
	sess, err := sc.FinancialConnectionsSessions.New(&stripe.FinancialConnectionsSessionParams{
		AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{Type: stripe.String("customer"), Customer: stripe.String(cus.ID)},
		Permissions:   stripe.StringSlice([]string{"balances", "transactions"}),
		Prefetch:      stripe.StringSlice([]string{"balances", "transactions"}),
		ReturnURL:     stripe.String("https://lender.example/return"),
	})
	require.NoError(t, err)
	_, err = sc.FinancialConnectionsSessions.Get(sess.ID, &stripe.FinancialConnectionsSessionParams{})
	require.NoError(t, err, "session before link")
	ids, err := fcsandbox.CompleteLink(t.Context(), nil, ts.URL, sess.ClientSecret, ps[0].Name)
	require.NoError(t, err)
	_, err = sc.FinancialConnectionsSessions.Get(sess.ID, &stripe.FinancialConnectionsSessionParams{})
	require.NoError(t, err)
	acct := ids[0]
	lp := &stripe.FinancialConnectionsAccountListParams{Session: stripe.String(sess.ID)}
	it := sc.FinancialConnectionsAccounts.List(lp)
	for it.Next() {
	}
	require.NoError(t, it.Err())
	lp = &stripe.FinancialConnectionsAccountListParams{AccountHolder: &stripe.FinancialConnectionsAccountListAccountHolderParams{Customer: stripe.String(cus.ID)}}
	lp.Limit = stripe.Int64(1)
	it = sc.FinancialConnectionsAccounts.List(lp)
	for it.Next() {
	}
	require.NoError(t, it.Err())
	before, err := sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)

	listTxns := func(after string, limit int64, window bool) []*stripe.FinancialConnectionsTransaction {
		p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(acct)}
		p.Limit = stripe.Int64(limit)
		if after != "" {
			p.TransactionRefresh = &stripe.FinancialConnectionsTransactionListTransactionRefreshParams{After: stripe.String(after)}
		}
		if window {
			p.TransactedAtRange = &stripe.RangeQueryParams{GreaterThanOrEqual: 1, LesserThan: time.Now().Add(48 * time.Hour).Unix()}
		}
		it := sc.FinancialConnectionsTransactions.List(p) // pages with starting_after
		var out []*stripe.FinancialConnectionsTransaction
		for it.Next() {
			out = append(out, it.FinancialConnectionsTransaction())
		}
		require.NoError(t, it.Err())
		return out
	}
	all := listTxns("", 100, false)
	require.NotEmpty(t, all)
	listTxns("", 7, true)
	_, err = sc.FinancialConnectionsTransactions.Get(all[0].ID, &stripe.FinancialConnectionsTransactionParams{})
	require.NoError(t, err)

	rp := &stripe.FinancialConnectionsAccountRefreshParams{Features: stripe.StringSlice([]string{"transactions", "balance"})}
	rp.SetIdempotencyKey("conformance/refresh/" + acct + "/1")
	_, err = sc.FinancialConnectionsAccounts.Refresh(acct, rp)
	require.NoError(t, err)
	_, err = sc.FinancialConnectionsAccounts.Refresh(acct, rp) // replayed
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
		return err == nil && a.TransactionRefresh.Status != stripe.FinancialConnectionsAccountTransactionRefreshStatusPending &&
			a.BalanceRefresh.Status != stripe.FinancialConnectionsAccountBalanceRefreshStatusPending
	}, 5*time.Second, 20*time.Millisecond)
	listTxns(before.TransactionRefresh.ID, 100, false)
	// The watcher of a booked loan (issue 14): subscribe (twice: idempotent), then
	// unsubscribe. Subscribing starts a transaction refresh; wait for it.
	subP := &stripe.FinancialConnectionsAccountSubscribeParams{Features: stripe.StringSlice([]string{"transactions"})}
	_, err = sc.FinancialConnectionsAccounts.Subscribe(acct, subP)
	require.NoError(t, err)
	_, err = sc.FinancialConnectionsAccounts.Subscribe(acct, subP)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
		return err == nil && a.TransactionRefresh.Status != stripe.FinancialConnectionsAccountTransactionRefreshStatusPending
	}, 5*time.Second, 20*time.Millisecond)
	_, err = sc.FinancialConnectionsAccounts.Unsubscribe(acct, &stripe.FinancialConnectionsAccountUnsubscribeParams{Features: stripe.StringSlice([]string{"transactions"})})
	require.NoError(t, err)

	// The errors the pipeline can meet.
	txnPath := "/v1/financial_connections/transactions"
	refreshPath := "/v1/financial_connections/accounts/" + acct + "/refresh"
	raw(http.MethodGet, txnPath, url.Values{}, nil)                                                                // parameter_missing
	raw(http.MethodGet, txnPath, url.Values{"account": {"fca_missing"}}, nil)                                      // resource_missing
	raw(http.MethodGet, txnPath, url.Values{"account": {acct}, "transaction_refresh[after]": {"fctxnref_x"}}, nil) // 404 refresh
	raw(http.MethodGet, txnPath, url.Values{"account": {acct}, "limit": {"101"}}, nil)
	raw(http.MethodGet, "/v1/financial_connections/accounts/fca_missing", url.Values{}, nil)
	raw(http.MethodPost, refreshPath, url.Values{"features[0]": {"balances"}}, nil)                                                                            // enum
	raw(http.MethodPost, refreshPath, url.Values{"features[0]": {"balance"}, "x": {"1"}}, nil)                                                                 // unknown param
	raw(http.MethodPost, refreshPath, url.Values{"features[0]": {"transactions"}}, map[string]string{"Idempotency-Key": "conformance/refresh/" + acct + "/1"}) // idempotency_error
	subscribePath := "/v1/financial_connections/accounts/" + acct + "/subscribe"
	raw(http.MethodPost, subscribePath, url.Values{"features[0]": {"balance"}}, nil)                                                     // enum
	raw(http.MethodPost, "/v1/financial_connections/accounts/fca_missing/unsubscribe", url.Values{"features[0]": {"transactions"}}, nil) // resource_missing
	raw(http.MethodPost, "/v1/financial_connections/sessions", url.Values{"account_holder[type]": {"customer"}, "account_holder[customer]": {cus.ID}}, nil)
	raw(http.MethodGet, "/v1/customers/"+cus.ID, url.Values{}, map[string]string{"Authorization": "Bearer sk_test_wrongkey00000"})
	raw(http.MethodGet, "/v1/customers/"+cus.ID, url.Values{}, map[string]string{"Stripe-Version": "2020-08-27"})
	// Refresh while pending, then while cooling down, needs a fresh account.
	sb2ids, err := fcsandbox.CompleteLink(t.Context(), nil, ts.URL, mustSession(t, sc, cus.ID).ClientSecret, ps[0].Name)
	require.NoError(t, err)
	_, err = sc.FinancialConnectionsAccounts.Refresh(sb2ids[0], &stripe.FinancialConnectionsAccountRefreshParams{Features: stripe.StringSlice([]string{"balance"})})
	require.NoError(t, err)
	raw(http.MethodPost, "/v1/financial_connections/accounts/"+sb2ids[0]+"/refresh", url.Values{"features[0]": {"balance"}}, nil) // pending
	require.NoError(t, sb.SetAccountStatus(acct, fcsandbox.StatusInactive))
	raw(http.MethodPost, refreshPath, url.Values{"features[0]": {"balance"}}, nil)        // account inactive
	raw(http.MethodPost, subscribePath, url.Values{"features[0]": {"transactions"}}, nil) // account inactive
	_, err = sc.FinancialConnectionsAccounts.Disconnect(acct, &stripe.FinancialConnectionsAccountDisconnectParams{})
	require.NoError(t, err)
	require.NoError(t, sb.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultError, Status: 500}))
	raw(http.MethodGet, "/v1/financial_connections/accounts/"+acct, url.Values{}, nil)
	require.NoError(t, sb.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultError, Status: 429}))
	raw(http.MethodGet, "/v1/financial_connections/accounts/"+acct, url.Values{}, nil)
	// In flight: a held request and a second one with its key.
	require.NoError(t, sb.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultLatency, Method: "POST", PathPrefix: "/v1/customers", LatencyMS: 1000}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		raw(http.MethodPost, "/v1/customers", url.Values{"email": {"a@example.com"}}, map[string]string{"Idempotency-Key": "held"})
	}()
	time.Sleep(200 * time.Millisecond)
	raw(http.MethodPost, "/v1/customers", url.Values{"email": {"a@example.com"}}, map[string]string{"Idempotency-Key": "held"})
	wg.Wait()
	// Rate limit: a limiter of 1000/s is hard to hit, so use a second sandbox's real limit.
	rl, err := fcsandbox.New(fcsandbox.Config{APIKey: sandboxKey, RateLimit: 1})
	require.NoError(t, err)
	t.Cleanup(rl.Close)
	rlts := httptest.NewServer(rl.Handler())
	t.Cleanup(rlts.Close)
	for range 2 {
		req, err := http.NewRequest(http.MethodGet, rlts.URL+"/v1/financial_connections/accounts", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+sandboxKey)
		res, err := (&http.Client{Transport: rec}).Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}

	// Every answer validates; successes decode into stripe-go without loss.
	statuses := map[int]int{}
	codes := map[string]bool{}
	for _, ex := range rec.exchanges() {
		statuses[ex.Status]++
		if !strings.HasPrefix(ex.Path, "/v1/") {
			continue
		}
		require.NoError(t, validateResponse(doc, ex.Method, ex.Path, ex.Status, ex.Body), "%s\n%s", ex, ex.Body)
		if ex.Status >= 400 {
			var e struct {
				Error map[string]any `json:"error"`
			}
			var inner struct {
				Error json.RawMessage `json:"error"`
			}
			require.NoError(t, json.Unmarshal(ex.Body, &e), "%s", ex)
			require.NoError(t, json.Unmarshal(ex.Body, &inner), "%s", ex)
			require.NotEmpty(t, e.Error["type"], "%s", ex)
			require.NotEmpty(t, e.Error["message"], "%s", ex)
			code, _ := e.Error["code"].(string)
			codes[strings.TrimSpace(code)] = true
			lost, err := lostFields(inner.Error, &stripe.Error{})
			require.NoError(t, err, "%s", ex)
			require.Empty(t, lost, "%s: fields lost decoding the error into stripe.Error", ex)
			continue
		}
		target := stripeTarget(ex.Method, ex.Path)
		require.NotNil(t, target, "%s", ex)
		lost, err := lostFields(ex.Body, target)
		require.NoError(t, err, "%s", ex)
		require.Empty(t, lost, "%s: fields lost decoding into %T", ex, target)
	}
	t.Logf("validated %d answers by status: %v; error codes: %v", len(rec.exchanges()), statuses, codes)
	for _, want := range []int{200, 400, 401, 404, 409, 429, 500} {
		require.Positive(t, statuses[want], "no %d answer was exercised", want)
	}
	for _, want := range []string{"parameter_missing", "resource_missing", "financial_connections_account_inactive", "rate_limit", "idempotency_key_in_use"} {
		require.True(t, codes[want], "error code %s was not exercised", want)
	}
}

func mustSession(t *testing.T, sc *client.API, customer string) *stripe.FinancialConnectionsSession {
	t.Helper()
	sess, err := sc.FinancialConnectionsSessions.New(&stripe.FinancialConnectionsSessionParams{
		AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{Type: stripe.String("customer"), Customer: stripe.String(customer)},
		Permissions:   stripe.StringSlice([]string{"balances", "transactions"}),
		Prefetch:      stripe.StringSlice([]string{"balances", "transactions"}),
	})
	require.NoError(t, err)
	return sess
}
