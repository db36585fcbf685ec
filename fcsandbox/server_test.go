package fcsandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

const tinyDir = "testdata/personas"

func TestLinkAndReadThroughStripeGo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	now := h.clock.Now().Unix()

	sess := h.newSession("balances", "transactions")
	require.True(t, strings.HasPrefix(sess.ID, "fcsess_"))
	require.True(t, strings.HasPrefix(sess.ClientSecret, sess.ID+"_secret_"))
	require.Equal(t, stripe.FinancialConnectionsSessionAccountHolderTypeCustomer, sess.AccountHolder.Type)
	require.True(t, strings.HasPrefix(sess.AccountHolder.Customer.ID, "cus_"))
	require.Equal(t, []stripe.FinancialConnectionsSessionPermission{"balances", "transactions"}, sess.Permissions)
	require.Equal(t, []stripe.FinancialConnectionsSessionPrefetch{"balances", "transactions"}, sess.Prefetch)
	require.NotNil(t, sess.Accounts)
	require.Empty(t, sess.Accounts.Data)
	require.True(t, strings.HasPrefix(sess.LastResponse.RequestID, "req_"))

	ids, err := CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret, "tiny")
	require.NoError(t, err)
	require.Len(t, ids, 1)
	acctID := ids[0]
	require.True(t, strings.HasPrefix(acctID, "fca_"))
	require.NotEqual(t, "fca_tiny_checking", acctID, "ids are new per link")

	ev := h.hooks.waitEvent(EventAccountCreated, acctID)
	require.Equal(t, "2023-10-16", ev.APIVersion)
	require.True(t, strings.HasPrefix(ev.ID, "evt_"))
	require.Equal(t, "event", ev.Object)
	require.False(t, ev.Livemode)
	require.Equal(t, int64(1), ev.PendingWebhooks)
	require.Equal(t, now, ev.Created)
	require.True(t, strings.HasPrefix(ev.Request.ID, "req_"))
	var evAcct stripe.FinancialConnectionsAccount
	require.NoError(t, json.Unmarshal(ev.Data.Raw, &evAcct))
	require.Equal(t, acctID, evAcct.ID)

	got, err := h.sc.FinancialConnectionsSessions.Get(sess.ID, &stripe.FinancialConnectionsSessionParams{})
	require.NoError(t, err)
	require.Len(t, got.Accounts.Data, 1)
	require.Equal(t, acctID, got.Accounts.Data[0].ID)
	require.Equal(t, sess.ClientSecret, got.ClientSecret)

	a, err := h.sc.FinancialConnectionsAccounts.GetByID(acctID, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, "financial_connections.account", a.Object)
	require.Equal(t, stripe.FinancialConnectionsAccountAccountHolderTypeCustomer, a.AccountHolder.Type)
	require.Equal(t, sess.AccountHolder.Customer.ID, a.AccountHolder.Customer.ID)
	require.Equal(t, stripe.FinancialConnectionsAccountCategoryCash, a.Category)
	require.Equal(t, stripe.FinancialConnectionsAccountSubcategoryChecking, a.Subcategory)
	require.Equal(t, stripe.FinancialConnectionsAccountStatusActive, a.Status)
	require.Equal(t, "StripeBank", a.InstitutionName)
	require.Equal(t, "Everyday Checking", a.DisplayName)
	require.Equal(t, "4321", a.Last4)
	require.False(t, a.Livemode)
	require.Equal(t, now, a.Created)
	require.Equal(t, []stripe.FinancialConnectionsAccountPermission{"balances", "transactions"}, a.Permissions)
	require.NotNil(t, a.Balance)
	require.Equal(t, now, a.Balance.AsOf, "newest balance.as_of is rebased to now")
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceTypeCash, a.Balance.Type)
	require.Equal(t, map[string]int64{"usd": 250000}, a.Balance.Current)
	require.Equal(t, map[string]int64{"usd": 245000}, a.Balance.Cash.Available)
	require.Nil(t, a.Balance.Credit)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatusSucceeded, a.BalanceRefresh.Status)
	require.Equal(t, now, a.BalanceRefresh.LastAttemptedAt)
	require.Equal(t, now, a.BalanceRefresh.NextRefreshAvailableAt)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusSucceeded, a.TransactionRefresh.Status)
	require.True(t, strings.HasPrefix(a.TransactionRefresh.ID, "fctxnref_"))
	require.Equal(t, now, a.TransactionRefresh.LastAttemptedAt)
	require.Nil(t, a.OwnershipRefresh)

	// The raw JSON has Stripe's nulls, not zero values.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(a.LastResponse.RawJSON, &raw))
	require.Contains(t, raw, "ownership")
	require.Nil(t, raw["ownership"])
	require.Equal(t, []any{}, raw["subscriptions"])

	it := h.sc.FinancialConnectionsAccounts.List(&stripe.FinancialConnectionsAccountListParams{Session: stripe.String(sess.ID)})
	require.True(t, it.Next())
	require.Equal(t, acctID, it.FinancialConnectionsAccount().ID)
	require.False(t, it.Next())
	require.NoError(t, it.Err())
	it = h.sc.FinancialConnectionsAccounts.List(&stripe.FinancialConnectionsAccountListParams{
		AccountHolder: &stripe.FinancialConnectionsAccountListAccountHolderParams{Customer: stripe.String(sess.AccountHolder.Customer.ID)},
	})
	require.True(t, it.Next())
	require.Equal(t, acctID, it.FinancialConnectionsAccount().ID)

	txns := h.listAll(acctID, "")
	require.Len(t, txns, 4)
	delta := now - 1700000000
	wantTimes := []int64{1699990000 + delta, 1699400000 + delta, 1699100000 + delta, 1699000000 + delta}
	for i, tx := range txns {
		require.Equal(t, wantTimes[i], tx.TransactedAt, "newest first, rebased")
		require.Equal(t, acctID, tx.Account)
		require.Equal(t, a.TransactionRefresh.ID, tx.TransactionRefresh)
		require.True(t, strings.HasPrefix(tx.ID, "fctxn_"))
		require.NotContains(t, []string{"fctxn_t1", "fctxn_t2", "fctxn_t3", "fctxn_t4"}, tx.ID)
		require.Equal(t, stripe.Currency("usd"), tx.Currency)
		require.Equal(t, "financial_connections.transaction", tx.Object)
	}
	require.Equal(t, stripe.FinancialConnectionsTransactionStatusPending, txns[0].Status)
	require.Zero(t, txns[0].StatusTransitions.PostedAt)
	require.Equal(t, stripe.FinancialConnectionsTransactionStatusVoid, txns[1].Status)
	require.Equal(t, 1699500000+delta, txns[1].StatusTransitions.VoidAt)
	require.Equal(t, int64(300000), txns[3].Amount)
	require.Equal(t, 1699000000+delta, txns[3].StatusTransitions.PostedAt)
	require.Equal(t, "ACME PAYROLL", txns[3].Description)

	one, err := h.sc.FinancialConnectionsTransactions.Get(txns[2].ID, &stripe.FinancialConnectionsTransactionParams{})
	require.NoError(t, err)
	require.Equal(t, int64(-120000), one.Amount)

	evGot, err := h.sc.Events.Get(ev.ID, &stripe.EventParams{})
	require.NoError(t, err)
	require.Equal(t, ev.ID, evGot.ID)

	// No secrets, last4 or descriptions in the logs.
	logs := h.logs.String()
	require.Contains(t, logs, acctID)
	// last4 is looked for as a JSON string: the bare digits also turn up inside
	// nanosecond timestamps and random ids.
	for _, secret := range []string{sess.ClientSecret, testKey, testSecret, `"4321"`, "last4", "ACME PAYROLL", "RENT"} {
		require.NotContains(t, logs, secret)
	}
}

func TestLinkRebasesAllAccountsByOneDelta(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	now := h.clock.Now().Unix()
	_, ids := h.link("two_accounts")
	require.Len(t, ids, 2)
	delta := now - 1690001000 // the newest balance.as_of of the two
	checking, err := h.sc.FinancialConnectionsAccounts.GetByID(ids[0], &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	savings, err := h.sc.FinancialConnectionsAccounts.GetByID(ids[1], &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, 1690000000+delta, checking.Balance.AsOf)
	require.Equal(t, now, savings.Balance.AsOf)
	require.Equal(t, stripe.FinancialConnectionsAccountSubcategorySavings, savings.Subcategory)
	require.Equal(t, 1689990000+delta, h.listAll(ids[0], "")[0].TransactedAt)
	require.Equal(t, 1689000000+delta, h.listAll(ids[1], "")[0].TransactedAt)

	// Linking the same persona again gives new ids.
	_, again := h.link("two_accounts")
	require.NotEqual(t, ids, again)
	require.NotEqual(t, h.listAll(ids[0], "")[0].ID, h.listAll(again[0], "")[0].ID)
}

func TestTransactionPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t, writeManyPersona(t, 250), nil)
	_, ids := h.link("many")
	acct := ids[0]

	// Manual paging, as the pipeline's activity does it.
	var all []*stripe.FinancialConnectionsTransaction
	var pages []int
	var startingAfter *string
	for {
		p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(acct)}
		p.Limit = stripe.Int64(100)
		p.Single = true
		p.StartingAfter = startingAfter
		it := h.sc.FinancialConnectionsTransactions.List(p)
		n := 0
		var last string
		for it.Next() {
			tx := it.FinancialConnectionsTransaction()
			all = append(all, tx)
			last = tx.ID
			n++
		}
		require.NoError(t, it.Err())
		pages = append(pages, n)
		list := it.FinancialConnectionsTransactionList()
		require.Equal(t, "/v1/financial_connections/transactions", list.URL)
		if !list.HasMore {
			break
		}
		startingAfter = stripe.String(last)
	}
	require.Equal(t, []int{100, 100, 50}, pages)
	seen := map[string]bool{}
	for _, tx := range all {
		require.False(t, seen[tx.ID], "duplicate %s", tx.ID)
		seen[tx.ID] = true
	}
	require.True(t, sort.SliceIsSorted(all, func(i, j int) bool {
		if all[i].TransactedAt != all[j].TransactedAt {
			return all[i].TransactedAt > all[j].TransactedAt
		}
		return all[i].ID > all[j].ID
	}), "newest first, id descending on ties")

	// The auto-paging iterator sees the same sequence.
	auto := h.listAll(acct, "")
	require.Len(t, auto, 250)
	for i := range auto {
		require.Equal(t, all[i].ID, auto[i].ID)
	}

	// Default limit 10, and ending_before walks back.
	r := h.do(http.MethodGet, "/v1/financial_connections/transactions", url.Values{"account": {acct}}, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.body["data"], 10)
	require.Equal(t, true, r.body["has_more"])
	require.Equal(t, "list", r.body["object"])
	r = h.do(http.MethodGet, "/v1/financial_connections/transactions",
		url.Values{"account": {acct}, "ending_before": {all[105].ID}, "limit": {"5"}}, nil)
	require.Equal(t, http.StatusOK, r.status)
	data := r.body["data"].([]any)
	require.Len(t, data, 5)
	require.Equal(t, all[100].ID, data[0].(map[string]any)["id"])
	require.Equal(t, all[104].ID, data[4].(map[string]any)["id"])
}

func TestTransactedAtFilter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("tiny")
	delta := h.clock.Now().Unix() - 1700000000

	p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(ids[0]),
		TransactedAtRange: &stripe.RangeQueryParams{GreaterThanOrEqual: 1699100000 + delta, LesserThan: 1699990000 + delta}}
	it := h.sc.FinancialConnectionsTransactions.List(p)
	var got []int64
	for it.Next() {
		got = append(got, it.FinancialConnectionsTransaction().TransactedAt)
	}
	require.NoError(t, it.Err())
	require.Equal(t, []int64{1699400000 + delta, 1699100000 + delta}, got)

	p = &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(ids[0]), TransactedAt: stripe.Int64(1699000000 + delta)}
	it = h.sc.FinancialConnectionsTransactions.List(p)
	require.True(t, it.Next())
	require.Equal(t, int64(300000), it.FinancialConnectionsTransaction().Amount)
	require.False(t, it.Next())
}

func TestRefreshSucceeds(t *testing.T) {
	t.Parallel()
	// The refresh must still be pending when the clock advances below, even under -race.
	h := newHarness(t, tinyDir, func(c *Config) {
		c.RefreshCooldown, c.PostPendingOnRefresh, c.RefreshDelay = 5*time.Minute, true, time.Second
	})
	_, ids := h.link("tiny")
	acct := ids[0]
	h.hooks.waitEvent(EventAccountCreated, acct)
	before, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	initialRef := before.TransactionRefresh.ID

	h.clock.Advance(time.Hour)
	started := h.clock.Now().Unix()
	p := &stripe.FinancialConnectionsAccountRefreshParams{Features: stripe.StringSlice([]string{"transactions", "balance"})}
	p.SetIdempotencyKey("wf-1/refresh/" + acct + "/1")
	a, err := h.sc.FinancialConnectionsAccounts.Refresh(acct, p)
	require.NoError(t, err)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusPending, a.TransactionRefresh.Status)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatusPending, a.BalanceRefresh.Status)
	require.NotEqual(t, initialRef, a.TransactionRefresh.ID)
	require.True(t, strings.HasPrefix(a.TransactionRefresh.ID, "fctxnref_"))
	require.Equal(t, started, a.TransactionRefresh.LastAttemptedAt)
	require.Zero(t, a.TransactionRefresh.NextRefreshAvailableAt, "null while pending")
	require.Zero(t, a.BalanceRefresh.NextRefreshAvailableAt)
	newRef := a.TransactionRefresh.ID

	// A second Refresh while pending is refused and changes nothing.
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions", "balance"})})
	requireRefreshRefused(t, err, "features[0]", "already pending")
	again, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, newRef, again.TransactionRefresh.ID)
	require.Equal(t, started, again.TransactionRefresh.LastAttemptedAt)

	h.clock.Advance(10 * time.Second) // completion happens at started+10s
	done := started + 10
	evTx := h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	require.Equal(t, newRef, evTx.GetObjectValue("transaction_refresh", "id"))
	require.Equal(t, "succeeded", evTx.GetObjectValue("transaction_refresh", "status"))
	require.Empty(t, evTx.Request.ID, "asynchronous events have a null request id")
	evBal := h.hooks.waitEvent(EventAccountRefreshedBalance, acct)
	require.Equal(t, "succeeded", evBal.GetObjectValue("balance_refresh", "status"))

	after, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusSucceeded, after.TransactionRefresh.Status)
	require.Equal(t, newRef, after.TransactionRefresh.ID)
	require.Equal(t, done+300, after.TransactionRefresh.NextRefreshAvailableAt)
	require.Equal(t, done+300, after.BalanceRefresh.NextRefreshAvailableAt)
	require.Equal(t, done, after.Balance.AsOf)
	require.Equal(t, int64(250000-5000), after.Balance.Current["usd"], "the posted card payment moved the balance")

	// Incremental sync: only what the new refresh created or updated.
	changed := h.listAll(acct, initialRef)
	require.Len(t, changed, 1)
	require.Equal(t, stripe.FinancialConnectionsTransactionStatusPosted, changed[0].Status)
	require.Equal(t, newRef, changed[0].TransactionRefresh)
	require.Equal(t, done, changed[0].Updated)
	require.Equal(t, done, changed[0].StatusTransitions.PostedAt)
	require.Empty(t, h.listAll(acct, newRef), "the given refresh itself is excluded")
	require.Len(t, h.listAll(acct, ""), 4)

	// During the cool-down a Refresh is refused and changes nothing.
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions"})})
	requireRefreshRefused(t, err, "features[0]", "next_refresh_available_at")
	cool, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, newRef, cool.TransactionRefresh.ID)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusSucceeded, cool.TransactionRefresh.Status)

	// After it, a new refresh starts.
	h.clock.Advance(6 * time.Minute)
	next, err := h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions"})})
	require.NoError(t, err)
	require.NotEqual(t, newRef, next.TransactionRefresh.ID)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusPending, next.TransactionRefresh.Status)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatusSucceeded, next.BalanceRefresh.Status)
}

func TestRefreshFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("refresh_fails")
	acct := ids[0]
	linkedAt := h.clock.Now().Unix()
	h.clock.Advance(time.Minute)
	a, err := h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions", "balance"})})
	require.NoError(t, err)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusPending, a.TransactionRefresh.Status)

	ev := h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	require.Equal(t, "failed", ev.GetObjectValue("transaction_refresh", "status"))
	ev = h.hooks.waitEvent(EventAccountRefreshedBalance, acct)
	require.Equal(t, "failed", ev.GetObjectValue("balance_refresh", "status"))

	got, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusFailed, got.TransactionRefresh.Status)
	require.Equal(t, stripe.FinancialConnectionsAccountBalanceRefreshStatusFailed, got.BalanceRefresh.Status)
	require.NotZero(t, got.TransactionRefresh.NextRefreshAvailableAt)
	require.Equal(t, linkedAt, got.Balance.AsOf, "a failed balance refresh leaves the balance stale")
	require.Empty(t, h.listAll(acct, got.TransactionRefresh.ID))
	require.Len(t, h.listAll(acct, ""), 4, "data from the prefetch stays readable")
}

func TestRefreshWithoutPrefetch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	sess := h.newSession()
	ids, err := CompleteLink(t.Context(), h.ts.Client(), h.ts.URL, sess.ClientSecret, "tiny")
	require.NoError(t, err)
	a, err := h.sc.FinancialConnectionsAccounts.GetByID(ids[0], &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Nil(t, a.Balance)
	require.Nil(t, a.TransactionRefresh)
	require.Nil(t, a.BalanceRefresh)

	r := h.do(http.MethodGet, "/v1/financial_connections/transactions", url.Values{"account": {ids[0]}}, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "financial_connections_no_successful_transaction_refresh", r.errField("code"))

	_, err = h.sc.FinancialConnectionsAccounts.Refresh(ids[0], &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions", "balance"})})
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedBalance, ids[0])
	a, err = h.sc.FinancialConnectionsAccounts.GetByID(ids[0], &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, int64(250000), a.Balance.Current["usd"])
	txns := h.listAll(ids[0], "")
	require.Len(t, txns, 4)
	require.Equal(t, stripe.FinancialConnectionsTransactionStatusPending, txns[0].Status, "the first refresh delivers, it does not post")
	for _, tx := range txns {
		require.Equal(t, a.TransactionRefresh.ID, tx.TransactionRefresh)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("tiny")
	acct := ids[0]
	path := "/v1/financial_connections/accounts/" + acct + "/refresh"
	form := url.Values{"features[0]": {"transactions"}, "features[1]": {"balance"}}
	hdr := map[string]string{"Idempotency-Key": "key-1"}

	first := h.do(http.MethodPost, path, form, hdr)
	require.Equal(t, http.StatusOK, first.status)
	require.Empty(t, first.header.Get("Idempotent-Replayed"))
	require.Equal(t, "key-1", first.header.Get("Idempotency-Key"))
	second := h.do(http.MethodPost, path, form, hdr)
	require.Equal(t, http.StatusOK, second.status)
	require.Equal(t, "true", second.header.Get("Idempotent-Replayed"))
	require.Equal(t, first.raw, second.raw)
	require.NotEqual(t, first.header.Get("Request-Id"), second.header.Get("Request-Id"))

	// Same key, other parameters.
	mismatch := h.do(http.MethodPost, path, url.Values{"features[0]": {"balance"}}, hdr)
	require.Equal(t, http.StatusBadRequest, mismatch.status)
	require.Equal(t, "idempotency_error", mismatch.errField("type"))
	require.Contains(t, mismatch.errField("message"), "same parameters")

	// Through stripe-go: replays give the same object; a mismatch is an *stripe.Error.
	cp := &stripe.CustomerParams{Email: stripe.String("x@example.com")}
	cp.SetIdempotencyKey("cus-key")
	c1, err := h.sc.Customers.New(cp)
	require.NoError(t, err)
	c2, err := h.sc.Customers.New(cp)
	require.NoError(t, err)
	require.Equal(t, c1.ID, c2.ID)
	cp.Email = stripe.String("y@example.com")
	_, err = h.sc.Customers.New(cp)
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, stripe.ErrorTypeIdempotency, se.Type)
	require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)

	// Validation failures are not stored: the key can be used again.
	bad := h.do(http.MethodPost, "/v1/customers", url.Values{"email": {"not an email"}}, map[string]string{"Idempotency-Key": "key-2"})
	require.Equal(t, http.StatusBadRequest, bad.status)
	ok := h.do(http.MethodPost, "/v1/customers", url.Values{"email": {"ok@example.com"}}, map[string]string{"Idempotency-Key": "key-2"})
	require.Equal(t, http.StatusOK, ok.status)
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	sess, ids := h.link("tiny")
	acct := ids[0]
	txnPath := "/v1/financial_connections/transactions"
	sessPath := "/v1/financial_connections/sessions"
	cus := sess.AccountHolder.Customer.ID
	holder := url.Values{"account_holder[type]": {"customer"}, "account_holder[customer]": {cus}}
	with := func(base url.Values, kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name          string
		method, path  string
		form          url.Values
		header        map[string]string
		status        int
		typ, code     string
		param         string
		messageSubstr string
	}{
		{name: "no key", method: "GET", path: "/v1/financial_connections/accounts/" + acct,
			header: map[string]string{"Authorization": ""}, status: 401, typ: "invalid_request_error", messageSubstr: "did not provide an API key"},
		{name: "wrong key", method: "GET", path: "/v1/financial_connections/accounts/" + acct,
			header: map[string]string{"Authorization": "Bearer sk_test_wrongwrongwrong1"}, status: 401, typ: "invalid_request_error", messageSubstr: "Invalid API Key provided: sk_test_"},
		{name: "wrong api version", method: "GET", path: "/v1/financial_connections/accounts/" + acct,
			header: map[string]string{"Stripe-Version": "2024-04-10"}, status: 400, typ: "invalid_request_error", messageSubstr: "2023-10-16"},
		{name: "unknown url", method: "GET", path: "/v1/nope", status: 404, typ: "invalid_request_error", messageSubstr: "Unrecognized request URL (GET: /v1/nope)"},
		{name: "wrong method", method: "DELETE", path: "/v1/financial_connections/accounts/" + acct, status: 404, typ: "invalid_request_error", messageSubstr: "Unrecognized request URL"},
		{name: "missing account", method: "GET", path: txnPath, form: url.Values{}, status: 400, typ: "invalid_request_error", code: "parameter_missing", param: "account"},
		{name: "empty account", method: "GET", path: txnPath, form: url.Values{"account": {""}}, status: 400, code: "parameter_invalid_empty", param: "account", typ: "invalid_request_error"},
		{name: "unknown account", method: "GET", path: txnPath, form: url.Values{"account": {"fca_nope"}}, status: 404, code: "resource_missing", param: "account", typ: "invalid_request_error"},
		{name: "limit zero", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "limit": {"0"}}, status: 400, param: "limit", typ: "invalid_request_error"},
		{name: "limit too big", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "limit": {"101"}}, status: 400, param: "limit", typ: "invalid_request_error"},
		{name: "limit not integer", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "limit": {"ten"}}, status: 400, code: "parameter_invalid_integer", param: "limit", typ: "invalid_request_error"},
		{name: "unknown refresh after", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "transaction_refresh[after]": {"fctxnref_nope"}}, status: 404, code: "resource_missing", param: "transaction_refresh[after]", typ: "invalid_request_error"},
		{name: "unknown starting_after", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "starting_after": {"fctxn_nope"}}, status: 404, code: "resource_missing", param: "starting_after", typ: "invalid_request_error"},
		{name: "unknown param", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "acount": {"x"}}, status: 400, code: "parameter_unknown", param: "acount", typ: "invalid_request_error"},
		{name: "unknown nested param", method: "GET", path: txnPath, form: url.Values{"account": {acct}, "transacted_at[gtx]": {"1"}}, status: 400, code: "parameter_unknown", param: "transacted_at[gtx]", typ: "invalid_request_error"},
		{name: "account 404", method: "GET", path: "/v1/financial_connections/accounts/fca_nope", status: 404, code: "resource_missing", typ: "invalid_request_error", messageSubstr: "No such financial_connections.account: 'fca_nope'"},
		{name: "session 404", method: "GET", path: sessPath + "/fcsess_nope", status: 404, code: "resource_missing", typ: "invalid_request_error"},
		{name: "refresh features missing", method: "POST", path: "/v1/financial_connections/accounts/" + acct + "/refresh", form: url.Values{}, status: 400, code: "parameter_missing", param: "features", typ: "invalid_request_error"},
		{name: "refresh features empty", method: "POST", path: "/v1/financial_connections/accounts/" + acct + "/refresh", form: url.Values{"features": {""}}, status: 400, code: "parameter_invalid_empty", param: "features", typ: "invalid_request_error"},
		{name: "refresh balances plural", method: "POST", path: "/v1/financial_connections/accounts/" + acct + "/refresh", form: url.Values{"features[0]": {"balances"}}, status: 400, param: "features[0]", typ: "invalid_request_error", messageSubstr: "must be one of balance, ownership, or transactions"},
		{name: "refresh without permission", method: "POST", path: "/v1/financial_connections/accounts/" + acct + "/refresh", form: url.Values{"features[0]": {"ownership"}}, status: 400, param: "features", typ: "invalid_request_error"},
		{name: "refresh 404", method: "POST", path: "/v1/financial_connections/accounts/fca_nope/refresh", form: url.Values{"features[0]": {"balance"}}, status: 404, code: "resource_missing", typ: "invalid_request_error"},
		{name: "session permissions missing", method: "POST", path: sessPath, form: holder, status: 400, code: "parameter_missing", param: "permissions", typ: "invalid_request_error"},
		{name: "session permission singular", method: "POST", path: sessPath, form: with(holder, "permissions[0]", "balance"), status: 400, param: "permissions[0]", typ: "invalid_request_error"},
		{name: "session prefetch singular", method: "POST", path: sessPath, form: with(holder, "permissions[0]", "balances", "prefetch[0]", "balance"), status: 400, param: "prefetch[0]", typ: "invalid_request_error"},
		{name: "session holder missing", method: "POST", path: sessPath, form: url.Values{"permissions[0]": {"balances"}}, status: 400, code: "parameter_missing", param: "account_holder", typ: "invalid_request_error"},
		{name: "session holder type invalid", method: "POST", path: sessPath, form: with(holder, "account_holder[type]", "person", "permissions[0]", "balances"), status: 400, param: "account_holder[type]", typ: "invalid_request_error"},
		{name: "session unknown customer", method: "POST", path: sessPath, form: with(holder, "account_holder[customer]", "cus_nope", "permissions[0]", "balances"), status: 404, code: "resource_missing", param: "account_holder[customer]", typ: "invalid_request_error"},
		{name: "customer unknown param", method: "POST", path: "/v1/customers", form: url.Values{"emial": {"x@example.com"}}, status: 400, code: "parameter_unknown", param: "emial", typ: "invalid_request_error"},
		{name: "customer 404", method: "GET", path: "/v1/customers/cus_nope", status: 404, code: "resource_missing", typ: "invalid_request_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.form, tc.header)
			require.Equal(t, tc.status, r.status, "body %s", r.raw)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.Equal(t, tc.typ, r.errField("type"))
			require.NotEmpty(t, r.errField("message"))
			if tc.code != "" {
				require.Equal(t, tc.code, r.errField("code"))
			}
			if tc.param != "" {
				require.Equal(t, tc.param, r.errField("param"))
			}
			if tc.messageSubstr != "" {
				require.Contains(t, r.errField("message"), tc.messageSubstr)
			}
			require.NotContains(t, string(r.raw), "wrongwrongwrong", "keys are masked")
		})
	}

	// stripe-go surfaces the same errors as *stripe.Error.
	_, err := newStripeClient(h.ts.URL, "sk_test_wrongkey000").FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.HTTPStatusCode)
	it := h.sc.FinancialConnectionsTransactions.List(&stripe.FinancialConnectionsTransactionListParams{})
	require.False(t, it.Next())
	require.ErrorAs(t, it.Err(), &se)
	require.Equal(t, stripe.ErrorCodeParameterMissing, se.Code)
	require.Equal(t, "account", se.Param)
	require.True(t, strings.HasPrefix(se.RequestID, "req_"))
}

func TestAuthVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.APIKey = "" })
	req, err := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/customers/cus_nope", nil)
	require.NoError(t, err)
	req.SetBasicAuth("sk_test_anything", "")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode, "Basic auth with any sk_test_ key passes auth")

	r := h.do(http.MethodGet, "/v1/customers/cus_nope", nil, map[string]string{"Authorization": "Bearer sk_live_abcdefghijklmnop"})
	require.Equal(t, http.StatusUnauthorized, r.status, "live keys are refused")
}

func TestLinkErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	sess := h.newSession("balances", "transactions")
	_, err := CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret+"x", "tiny")
	require.ErrorContains(t, err, "Invalid client_secret")
	require.NotContains(t, err.Error(), sess.ClientSecret)
	_, err = CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret, "nobody")
	require.ErrorContains(t, err, "No such persona: 'nobody'")
	require.ErrorContains(t, err, "tiny, two_accounts, refresh_fails")
	_, err = CompleteLink(t.Context(), nil, h.ts.URL, "", "tiny")
	require.ErrorContains(t, err, "client_secret")
	_, err = CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret, "tiny")
	require.NoError(t, err)
	_, err = CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret, "tiny")
	require.ErrorContains(t, err, "already been completed")
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	h.hooks.mu.Lock()
	h.hooks.failFirst = 2
	h.hooks.mu.Unlock()
	_, ids := h.link("tiny")
	h.hooks.waitEvent(EventAccountCreated, ids[0])
	require.Equal(t, 3, h.hooks.Attempts())
}

func TestCloseStopsWebhookRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.WebhookMaxAttempts = 1000 })
	h.hooks.mu.Lock()
	h.hooks.failFirst = 1 << 30
	h.hooks.mu.Unlock()
	h.link("tiny")
	require.Eventually(t, func() bool { return h.hooks.Attempts() >= 3 }, 5*time.Second, 5*time.Millisecond)
	done := make(chan struct{})
	go func() { h.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	n := h.hooks.Attempts()
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, n, h.hooks.Attempts(), "no attempts after Close")
}

func TestWebhookMaxAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.WebhookMaxAttempts = 3 })
	h.hooks.mu.Lock()
	h.hooks.failFirst = 1 << 30
	h.hooks.mu.Unlock()
	h.link("tiny")
	require.Eventually(t, func() bool { return h.hooks.Attempts() == 3 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 3, h.hooks.Attempts())
	require.Contains(t, h.logs.String(), "webhook abandoned")
}

func TestGeneratedWebhookSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.WebhookSecret = "" })
	secret := h.srv.WebhookSecret()
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	h.hooks.mu.Lock()
	h.hooks.secret = secret
	h.hooks.mu.Unlock()
	_, ids := h.link("tiny")
	h.hooks.waitEvent(EventAccountCreated, ids[0])
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, writeManyPersona(t, 120), func(c *Config) { c.RefreshDelay = 5 * time.Millisecond; c.RefreshCooldown = -1 })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess := h.newSession("balances", "transactions")
			ids, err := CompleteLink(t.Context(), nil, h.ts.URL, sess.ClientSecret, "many")
			if err != nil {
				errs <- err
				return
			}
			for range 5 {
				_, err := h.sc.FinancialConnectionsAccounts.Refresh(ids[0], &stripe.FinancialConnectionsAccountRefreshParams{
					Features: stripe.StringSlice([]string{"transactions", "balance"})})
				var se *stripe.Error
				if err != nil && !(errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest && strings.HasPrefix(se.Param, "features")) {
					errs <- err // only "refresh pending" refusals are expected
					return
				}
				p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(ids[0])}
				p.Limit = stripe.Int64(50)
				it := h.sc.FinancialConnectionsTransactions.List(p)
				n := 0
				for it.Next() {
					n++
				}
				if it.Err() != nil || n != 120 {
					errs <- errors.Join(it.Err(), errors.New("wrong count"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestRefreshKeepsTransactionsByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	_, ids := h.link("tiny")
	acct := ids[0]
	before, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	h.clock.Advance(time.Minute)
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(acct, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"transactions", "balance"})})
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	h.hooks.waitEvent(EventAccountRefreshedBalance, acct)
	after, err := h.sc.FinancialConnectionsAccounts.GetByID(acct, &stripe.FinancialConnectionsAccountParams{})
	require.NoError(t, err)
	require.Equal(t, before.Balance.Current, after.Balance.Current)
	require.Equal(t, h.clock.Now().Unix(), after.Balance.AsOf)
	require.Empty(t, h.listAll(acct, before.TransactionRefresh.ID))
	require.Equal(t, stripe.FinancialConnectionsTransactionStatusPending, h.listAll(acct, "")[0].Status)
}

// TestRepositoryPersonas links every persona of the repository's persona
// directory (written by the scoring engineer) and checks the rebase.
func TestRepositoryPersonas(t *testing.T) {
	t.Parallel()
	const dir = "personas"
	personas, err := LoadPersonas(SamplePersonas())
	require.NoError(t, err)
	h := newHarness(t, dir, nil)
	now := h.clock.Now().Unix()
	for _, p := range personas {
		_, ids := h.link(p.Name)
		newest := int64(0)
		total := 0
		for _, id := range ids {
			a, err := h.sc.FinancialConnectionsAccounts.GetByID(id, &stripe.FinancialConnectionsAccountParams{})
			require.NoError(t, err)
			newest = max(newest, a.Balance.AsOf)
			total += len(h.listAll(id, ""))
		}
		require.Equal(t, now, newest, p.Name)
		require.Positive(t, total, p.Name)
	}
}

// TestRequestCounts: every Stripe request counts, the /sandbox/ paths do not, and a 429
// of the rate limit counts in both.
func TestRequestCounts(t *testing.T) {
	sb, err := New(Config{APIKey: "sk_test_counts", RateLimit: 2, Personas: SamplePersonas()})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	get := func(path string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.SetBasicAuth("sk_test_counts", "")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, RequestCounts{}, sb.RequestCounts())
	get("/sandbox/v1/personas")
	require.Equal(t, RequestCounts{}, sb.RequestCounts(), "the sandbox's own paths are not Stripe requests")
	codes := []int{get("/v1/customers/cus_missing"), get("/v1/customers/cus_missing"), get("/v1/customers/cus_missing")}
	require.Equal(t, http.StatusTooManyRequests, codes[2], "the third request within a second is over a limit of 2: %v", codes)
	require.Equal(t, RequestCounts{Requests: 3, RateLimited: 1}, sb.RequestCounts())
}
