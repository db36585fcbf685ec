package fcsandbox

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// watcher plays the Monitor workflow's part against the sandbox, through stripe-go: after
// each day it pulls what the subscription refresh created (transaction_refresh[after]),
// refreshes the balance, and runs scoring.Monitor over the ledger it holds.
type watcher struct {
	t       *testing.T
	h       *harness
	acct    string
	txns    map[string]scoring.Transaction
	lastRef string
	base    scoring.MonitorBaseline
	loan    scoring.MonitoredLoan
	prev    scoring.MonitorCheck
	keys    map[string]int
	events  []scoring.Event
	// pulls counts the transactions each check pulled.
	pulls []int
}

func (w *watcher) pull(after string) int {
	n := 0
	for _, tx := range w.h.listAll(w.acct, after) {
		w.txns[tx.ID] = scoring.Transaction{ID: tx.ID, AccountID: tx.Account, Amount: scoring.SignedAmount(tx.Amount),
			Currency: string(tx.Currency), Status: string(tx.Status), TransactedAt: time.Unix(tx.TransactedAt, 0).UTC(),
			Description: tx.Description}
		n++
	}
	return n
}

func (w *watcher) ledger() scoring.Ledger {
	a := getAccount(w.t, w.h, w.acct)
	acc := scoring.Account{ID: a.ID, Category: string(a.Category), Subcategory: string(a.Subcategory), Status: string(a.Status)}
	if a.Balance != nil {
		acc.Currency, acc.Current, acc.AsOf, acc.HasBalance = "usd", a.Balance.Current["usd"], time.Unix(a.Balance.AsOf, 0).UTC(), true
		if a.Balance.Cash != nil {
			v := a.Balance.Cash.Available["usd"]
			acc.Available = &v
		}
	}
	l := scoring.Ledger{Accounts: []scoring.Account{acc}}
	for _, id := range slices.Sorted(maps.Keys(w.txns)) {
		l.Transactions = append(l.Transactions, w.txns[id])
	}
	return l
}

// newWatcher links steady_salaried with story, subscribes its account, and underwrites
// the linked ledger as the origination (a loan of the persona's 3,000.00 over 12 months,
// first due 30 days later).
func newWatcher(t *testing.T, h *harness, story string) *watcher {
	return newPersonaWatcher(t, h, "steady_salaried", story, "approve")
}

// newPersonaWatcher is newWatcher for another persona, decided outcome at origination
// (a referred applicant's loan may be booked after a review).
func newPersonaWatcher(t *testing.T, h *harness, persona, story, outcome string) *watcher {
	w := &watcher{t: t, h: h, acct: h.linkSample(persona, story), txns: map[string]scoring.Transaction{}, keys: map[string]int{}}
	a, err := subscribe(h, w.acct)
	require.NoError(t, err)
	w.waitRefresh()
	w.lastRef = getAccount(t, h, w.acct).TransactionRefresh.ID
	w.pull("")
	l := w.ledger()
	asOf := scoring.LatestAsOf(l)
	loan := scoring.Loan{AmountMinor: 300000, TermMonths: 12}
	d, err := scoring.Underwrite(l, asOf, loan, scoring.Operational{})
	require.NoError(t, err)
	require.Equal(t, outcome, string(d.Outcome), "%s at origination", persona)
	w.base = scoring.BaselineFromDecision(d, asOf)
	w.loan = scoring.MonitoredLoan{AmountMinor: loan.AmountMinor, TermMonths: loan.TermMonths, Currency: "usd",
		FirstDue: asOf.AddDate(0, 0, 30), InstalmentMinor: scoring.ProposedPayment(loan)}
	_ = a
	return w
}

// waitRefresh waits until no refresh of the account is pending.
func (w *watcher) waitRefresh() {
	w.t.Helper()
	for i := 0; ; i++ {
		a := getAccount(w.t, w.h, w.acct)
		if (a.TransactionRefresh == nil || a.TransactionRefresh.Status != stripe.FinancialConnectionsAccountTransactionRefreshStatusPending) &&
			(a.BalanceRefresh == nil || a.BalanceRefresh.Status != stripe.FinancialConnectionsAccountBalanceRefreshStatusPending) {
			return
		}
		require.Less(w.t, i, 2000, "refresh still pending")
		time.Sleep(time.Millisecond)
	}
}

// day lets one simulated day pass and checks.
func (w *watcher) day() {
	w.t.Helper()
	c, err := w.h.srv.Advance(1)
	require.NoError(w.t, err)
	pulled := 0
	for _, r := range c.Refreshes {
		if r.Account == w.acct {
			pulled = w.pull(w.lastRef)
			require.Equal(w.t, r.Transactions, pulled, "transaction_refresh[after] lists exactly the new refresh's transactions")
			w.lastRef = r.TransactionRefresh
		}
	}
	w.pulls = append(w.pulls, pulled)
	active := getAccount(w.t, w.h, w.acct).Status == stripe.FinancialConnectionsAccountStatusActive
	if active {
		_, err = w.h.sc.FinancialConnectionsAccounts.Refresh(w.acct, &stripe.FinancialConnectionsAccountRefreshParams{
			Features: stripe.StringSlice([]string{"balance"})})
		require.NoError(w.t, err)
		w.waitRefresh()
	}
	l := w.ledger()
	if active {
		require.Equal(w.t, c.Now, scoring.LatestAsOf(l).Unix(), "balance.as_of is the simulated now")
	}
	r, err := scoring.Monitor(l, w.loan, w.base, w.prev, scoring.DefaultMonitoringPolicy())
	require.NoError(w.t, err)
	for _, e := range r.Events {
		w.keys[e.Key]++
		w.events = append(w.events, e)
	}
	w.prev = r.Next
}

// TestStoriesFireTheirEvents watches steady_salaried for 120 simulated days under each
// story, checking daily as the Monitor workflow does: each event key fires once, the
// story's event types all fire, and steady_salaried without a story fires nothing.
func TestStoriesFireTheirEvents(t *testing.T) {
	t.Parallel()
	for _, st := range Stories() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sampleDir, func(c *Config) {
				c.WebhookURL, c.RefreshDelay, c.RefreshCooldown = "", time.Millisecond, -1
			})
			w := newWatcher(t, h, st.Name)
			for range 120 {
				w.day()
			}
			types := map[string]bool{}
			for _, e := range w.events {
				t.Logf("%s %s %s", e.Date, e.Key, e.Text)
				types[e.Type] = true
			}
			for k, n := range w.keys {
				require.Equal(t, 1, n, "%s fired %d times", k, n)
			}
			if st.Name == StorySteady {
				require.Empty(t, w.events)
			}
			for _, typ := range st.Events {
				require.True(t, types[typ], "%s did not fire; fired %v", typ, slices.Sorted(maps.Keys(types)))
			}
		})
	}
}

// TestNoIncomeAlarmsWithoutAStory watches, for 120 simulated days of the steady story
// (income and bills go on as before), the borrowers most easily misread: a salaried
// engineer paid semi-monthly with two accounts (one payday about half the monthly
// income, the other on the 1st or the 12th) and a gig worker whose payouts become
// regular enough to be a stream only after origination. Nothing about their income may
// fire: no INCOME_DROP, INCOME_STOPPED, NEW_INCOME_STREAM or LARGE_DEPOSIT. (The gig
// worker's replayed spending may still overdraw and draw a fee: that is an event.)
func TestNoIncomeAlarmsWithoutAStory(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ persona, outcome string }{{"high_income_two_accounts", "approve"}, {"gig_irregular", "refer"}} {
		t.Run(c.persona, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sampleDir, func(cfg *Config) {
				cfg.WebhookURL, cfg.RefreshDelay, cfg.RefreshCooldown = "", time.Millisecond, -1
			})
			w := newPersonaWatcher(t, h, c.persona, StorySteady, c.outcome)
			for range 120 {
				w.day()
			}
			for _, e := range w.events {
				switch e.Type {
				case scoring.EventIncomeDrop, scoring.EventIncomeStopped, scoring.EventNewIncomeStream, scoring.EventLargeDeposit:
					t.Errorf("%s on %s: %s", e.Type, e.Date, e.Text)
				}
			}
		})
	}
}
