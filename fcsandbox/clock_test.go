package fcsandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

// released returns the transactions listed after ref, as (offset from the ledger's
// end in seconds, amount, description) lines sorted by time.
func released(h *harness, acct, ref string, end int64) []string {
	var out []string
	for _, tx := range h.listAll(acct, ref) {
		out = append(out, fmt.Sprintf("%08d %d %s", tx.TransactedAt-end, tx.Amount, tx.Description))
	}
	slices.Sort(out)
	return out
}

func TestStoryReleasesOnItsDays(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDir, func(c *Config) { c.RefreshCooldown = -1 })
	// The persona field names the story as "<persona>_then_<story>".
	acct := h.linkSample("steady_salaried_then_stacking_borrower", "")
	a := getAccount(t, h, acct)
	end := a.Balance.AsOf
	_, err := subscribe(h, acct)
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	ref := getAccount(t, h, acct).TransactionRefresh.ID
	lenders := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if strings.Contains(l, "SPEEDY CASH") || strings.Contains(l, "CHECK INTO CASH") {
				out = append(out, l[9:])
			}
		}
		return out
	}
	c, err := h.srv.Advance(19)
	require.NoError(t, err)
	require.Empty(t, lenders(released(h, acct, ref, end)), "nothing before day 20")
	ref = c.Refreshes[0].TransactionRefresh
	c, err = h.srv.Advance(1)
	require.NoError(t, err)
	require.Equal(t, []string{"40000 SPEEDY CASH"}, lenders(released(h, acct, ref, end)), "day 20")
	ref = c.Refreshes[0].TransactionRefresh
	_, err = h.srv.Advance(21)
	require.NoError(t, err)
	require.Equal(t, []string{"-46000 SPEEDY CASH", "-57500 CHECK INTO CASH", "50000 CHECK INTO CASH"},
		slices.Sorted(slices.Values(lenders(released(h, acct, ref, end)))), "days 21 to 41")

	// job_loss: the payroll is paid up to day 60 and never after.
	job := h.linkSample("steady_salaried", StoryJobLoss)
	jobEnd := getAccount(t, h, job).Balance.AsOf
	jobRef := getAccount(t, h, job).TransactionRefresh.ID
	_, err = h.srv.Advance(120)
	require.NoError(t, err)
	_, err = refreshBoth(h, job)
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, job)
	var paid []int64
	for _, tx := range h.listAll(job, jobRef) {
		if strings.Contains(tx.Description, "ACME CORP PAYROLL") {
			paid = append(paid, (tx.TransactedAt-jobEnd)/86400)
		}
	}
	require.NotEmpty(t, paid)
	require.LessOrEqual(t, slices.Max(paid), int64(60), "pay days %v", paid)
	require.Greater(t, slices.Max(paid), int64(45), "pay days %v", paid)
}

func TestStoryDisconnects(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDir, func(c *Config) { c.RefreshCooldown = -1 })
	acct := h.linkSample("steady_salaried", StoryDisconnect)
	_, err := subscribe(h, acct)
	require.NoError(t, err)
	h.hooks.waitEvent(EventAccountRefreshedTransactions, acct)
	c, err := h.srv.Advance(44)
	require.NoError(t, err)
	require.Len(t, c.Refreshes, 1)
	require.Equal(t, stripe.FinancialConnectionsAccountStatusActive, getAccount(t, h, acct).Status)
	c, err = h.srv.Advance(1)
	require.NoError(t, err)
	require.Empty(t, c.Refreshes, "a disconnected account is not refreshed")
	ev := h.hooks.waitEvent(EventAccountDisconnected, acct)
	require.Equal(t, "disconnected", ev.GetObjectValue("status"))
	a := getAccount(t, h, acct)
	require.Equal(t, stripe.FinancialConnectionsAccountStatusDisconnected, a.Status)
	require.Empty(t, subs(a))
}

// TestStoriesAreDeterministic links the same persona and story twice: the released
// transactions are the same (ids aside); another story differs.
func TestStoriesAreDeterministic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDir, func(c *Config) { c.RefreshCooldown = -1 })
	ids := []string{h.linkSample("steady_salaried", StoryJobLoss), h.linkSample("steady_salaried", StoryJobLoss),
		h.linkSample("steady_salaried", StoryOverdraftSpiral)}
	var refs []string
	for _, id := range ids {
		refs = append(refs, getAccount(t, h, id).TransactionRefresh.ID)
	}
	// Two advances for the first link's server state, one for the others: the
	// chunking of the clock does not matter.
	_, err := h.srv.Advance(30)
	require.NoError(t, err)
	_, err = h.srv.Advance(40)
	require.NoError(t, err)
	var got [][]string
	for i, id := range ids {
		_, err := refreshBoth(h, id)
		require.NoError(t, err)
		h.hooks.waitEvent(EventAccountRefreshedTransactions, id)
		got = append(got, released(h, id, refs[i], getAccount(t, h, id).Created))
	}
	require.Greater(t, len(got[0]), 100, "70 days of transactions")
	require.Equal(t, got[0], got[1])
	require.NotEqual(t, got[0], got[2])

	h2 := newHarness(t, sampleDir, func(c *Config) { c.RefreshCooldown = -1 })
	id := h2.linkSample("steady_salaried", StoryJobLoss)
	ref := getAccount(t, h2, id).TransactionRefresh.ID
	for range 70 {
		_, err := h2.srv.Advance(1)
		require.NoError(t, err)
	}
	_, err = refreshBoth(h2, id)
	require.NoError(t, err)
	h2.hooks.waitEvent(EventAccountRefreshedTransactions, id)
	require.Equal(t, got[0], released(h2, id, ref, getAccount(t, h2, id).Created), "a day at a time gives the same days")
}
