package fcsandbox

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

const sampleDir = "personas"

func subscribe(h *harness, acct string) (*stripe.FinancialConnectionsAccount, error) {
	return h.sc.FinancialConnectionsAccounts.Subscribe(acct, &stripe.FinancialConnectionsAccountSubscribeParams{
		Features: stripe.StringSlice([]string{"transactions"})})
}

func unsubscribe(h *harness, acct string) (*stripe.FinancialConnectionsAccount, error) {
	return h.sc.FinancialConnectionsAccounts.Unsubscribe(acct, &stripe.FinancialConnectionsAccountUnsubscribeParams{
		Features: stripe.StringSlice([]string{"transactions"})})
}

func subs(a *stripe.FinancialConnectionsAccount) []string {
	out := []string{}
	for _, s := range a.Subscriptions {
		out = append(out, string(s))
	}
	return out
}

func TestSubscribeUnsubscribe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, func(c *Config) { c.RefreshCooldown = -1 })
	acct := h.linkWith(LinkRequest{})
	require.Empty(t, subs(getAccount(t, h, acct)))

	a, err := subscribe(h, acct)
	require.NoError(t, err)
	require.Equal(t, []string{"transactions"}, subs(a))
	// Subscribing starts a transaction refresh, which ends with its webhook.
	require.Equal(t, stripe.FinancialConnectionsAccountTransactionRefreshStatusPending, a.TransactionRefresh.Status)
	ref := a.TransactionRefresh.ID
	ev := h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	require.Equal(t, ref, ev.GetObjectValue("transaction_refresh", "id"))
	require.Equal(t, "succeeded", ev.GetObjectValue("transaction_refresh", "status"))

	// Idempotent: subscribing again changes nothing and starts no refresh.
	a, err = subscribe(h, acct)
	require.NoError(t, err)
	require.Equal(t, []string{"transactions"}, subs(a))
	require.Equal(t, ref, a.TransactionRefresh.ID)

	a, err = unsubscribe(h, acct)
	require.NoError(t, err)
	require.Empty(t, subs(a))
	a, err = unsubscribe(h, acct)
	require.NoError(t, err)
	require.Empty(t, subs(a))
	require.Empty(t, subs(getAccount(t, h, acct)))

	// Errors as Stripe words them.
	_, err = subscribe(h, "fca_nope")
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)
	require.Equal(t, "No such financial_connections.account: 'fca_nope'", se.Msg)
	_, err = unsubscribe(h, "fca_nope")
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.HTTPStatusCode)

	res := h.do(http.MethodPost, "/v1/financial_connections/accounts/"+acct+"/subscribe", url.Values{"features[]": {"balance"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Equal(t, "features[0]", res.errField("param"))
	require.Equal(t, "Invalid features[0]: must be one of transactions", res.errField("message"))
	res = h.do(http.MethodPost, "/v1/financial_connections/accounts/"+acct+"/unsubscribe", url.Values{}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Equal(t, "parameter_missing", res.errField("code"))

	require.NoError(t, h.srv.SetAccountStatus(acct, StatusInactive))
	_, err = subscribe(h, acct)
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)
	require.Equal(t, stripe.ErrorCodeFinancialConnectionsAccountInactive, se.Code)
}

// linkSample links a sample persona (with a story, "" for the persona's) and returns
// its first account.
func (h *harness) linkSample(persona, story string) string {
	h.t.Helper()
	sess := h.newSession("balances", "transactions")
	ids, err := CompleteLinkWith(h.t.Context(), h.ts.Client(), h.ts.URL,
		LinkRequest{ClientSecret: sess.ClientSecret, Persona: persona, AfterLoan: story})
	require.NoError(h.t, err)
	return ids[0]
}

func TestAdvanceRefreshesSubscribedAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDir, func(c *Config) { c.RefreshCooldown = -1 })
	subscribed := h.linkSample("steady_salaried", "")
	other := h.linkSample("steady_salaried", "")
	_, err := subscribe(h, subscribed)
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, subscribed)
	before := getAccount(t, h, subscribed)
	linkedTxns := len(h.listAll(subscribed, ""))
	linkedBalance := before.Balance.Current["usd"]
	start := h.srv.Now()

	c, err := AdvanceClock(t.Context(), h.ts.Client(), h.ts.URL, testKey, 7)
	require.NoError(t, err)
	require.Equal(t, start.AddDate(0, 0, 7).Unix(), c.Now)
	require.EqualValues(t, 7, c.AdvancedDays)
	require.Len(t, c.Refreshes, 1, "only the subscribed account is refreshed")
	r := c.Refreshes[0]
	require.Equal(t, subscribed, r.Account)
	require.Equal(t, RefreshSucceeded, r.Status)
	require.Positive(t, r.Transactions)

	ev := h.hooks.waitEvent(EventAccountRefreshedTransactions, subscribed)
	require.Equal(t, r.TransactionRefresh, ev.GetObjectValue("transaction_refresh", "id"))
	a := getAccount(t, h, subscribed)
	require.Equal(t, r.TransactionRefresh, a.TransactionRefresh.ID)
	require.Equal(t, c.Now, a.TransactionRefresh.LastAttemptedAt)

	// Incremental listing returns exactly the new refresh's transactions, all dated in
	// the week that passed.
	fresh := h.listAll(subscribed, before.TransactionRefresh.ID)
	require.Len(t, fresh, r.Transactions)
	var sum int64
	for _, tx := range fresh {
		require.Equal(t, r.TransactionRefresh, tx.TransactionRefresh)
		require.Greater(t, tx.TransactedAt, before.Balance.AsOf)
		require.LessOrEqual(t, tx.TransactedAt, c.Now)
		require.Equal(t, stripe.FinancialConnectionsTransactionStatusPosted, tx.Status)
		sum += tx.Amount
	}
	require.Len(t, h.listAll(subscribed, ""), linkedTxns+r.Transactions)
	require.Empty(t, h.listAll(subscribed, r.TransactionRefresh))

	// The balance refresh reports the simulated now and the released transactions.
	_, err = h.sc.FinancialConnectionsAccounts.Refresh(subscribed, &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice([]string{"balance"})})
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedBalance, subscribed)
	a = getAccount(t, h, subscribed)
	require.Equal(t, c.Now, a.Balance.AsOf)
	require.Equal(t, linkedBalance+sum, a.Balance.Current["usd"])

	// The account not subscribed got no refresh; its week comes with its next refresh.
	o := getAccount(t, h, other)
	_, err = refreshBoth(h, other)
	require.NoError(t, err)
	ev = h.hooks.waitEvent(EventAccountRefreshedTransactions, other)
	require.Equal(t, "succeeded", ev.GetObjectValue("transaction_refresh", "status"))
	require.NotEmpty(t, h.listAll(other, o.TransactionRefresh.ID))

	// After unsubscribing, the clock moves without refreshes.
	_, err = unsubscribe(h, subscribed)
	require.NoError(t, err)
	c, err = h.srv.Advance(1)
	require.NoError(t, err)
	require.Empty(t, c.Refreshes)
	require.Equal(t, r.TransactionRefresh, getAccount(t, h, subscribed).TransactionRefresh.ID)
}

func TestClockPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, tinyDir, nil)
	res := h.do(http.MethodGet, ClockPath, nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, float64(h.clock.Now().Unix()), res.body["now"])
	require.Equal(t, float64(0), res.body["advanced_days"])
	res = h.do(http.MethodGet, ClockPath, nil, map[string]string{"Authorization": ""})
	require.Equal(t, http.StatusUnauthorized, res.status)

	for _, days := range []int{0, -1, MaxAdvanceDays + 1} {
		_, err := AdvanceClock(t.Context(), h.ts.Client(), h.ts.URL, testKey, days)
		require.ErrorContains(t, err, "400 Invalid days")
		_, err = h.srv.Advance(days)
		require.ErrorContains(t, err, "days")
	}
	_, err := AdvanceClock(t.Context(), h.ts.Client(), h.ts.URL, "sk_test_wrongkey", 1)
	require.ErrorContains(t, err, "401")
	c, err := AdvanceClock(t.Context(), h.ts.Client(), h.ts.URL, testKey, 2)
	require.NoError(t, err)
	require.Equal(t, h.clock.Now().Add(48*time.Hour).Unix(), c.Now)
	require.Equal(t, c.Now, h.srv.Now().Unix())

	res = h.do(http.MethodGet, StoriesPath, nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	var names []string
	for _, st := range res.body["data"].([]any) {
		names = append(names, st.(map[string]any)["name"].(string))
	}
	require.True(t, slices.Contains(names, StoryJobLoss) && slices.Contains(names, StorySteady), "stories %v", names)
}
