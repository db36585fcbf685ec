package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// Overdraft fee policies of the simulated bank.
const (
	odNone       = iota // never charges
	odPerItem           // $35 per debit that posts while overdrawn, at most 3 a day
	odPerEpisode        // $35 once when the balance goes below zero
)

// odFee is the simulated bank's overdraft fee in cents.
const odFee = 3500

type txn struct {
	id, ref, desc, status string
	at                    time.Time
	amount                int64
	// discretionary purchases are skipped when they would take the balance below the
	// account's floor: people adapt what they spend to what they have.
	discretionary bool
}

type account struct {
	id, subcategory, display, last4 string
	opening                         int64
	odPolicy                        int
	floor                           *int64 // discretionary spending floor (nil: none)
	scheduled                       []txn
	posted                          []txn // after simulation, with fees
	extra                           []txn // pending and void, outside the balance
	current, available              int64
	pendingSum                      int64 // Σ pending amounts: available = current + pendingSum
}

// gen builds one persona's ledger.
type gen struct {
	r        *rng
	customer string
	refs     []string // transaction refresh ids; the last one is the newest refresh
	accounts []*account
	start    time.Time // first day of history (midnight UTC)
}

func newGen(seed uint64) *gen {
	g := &gen{r: &rng{s: seed}}
	g.customer = g.r.id("cus_", 14)
	for i := 0; i < 3; i++ {
		g.refs = append(g.refs, g.r.id("fctxnref_", 24))
	}
	return g
}

// history fixes the first day of history: `days` days before the as-of day.
func (g *gen) history(days int) {
	d := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	g.start = d.AddDate(0, 0, -days)
}

func (g *gen) account(subcategory, display, last4 string, opening int64, od int) *account {
	a := &account{id: g.r.id("fca_", 24), subcategory: subcategory, display: display, last4: last4, opening: opening, odPolicy: od}
	g.accounts = append(g.accounts, a)
	return a
}

// eachDay calls fn for every day of history up to and including the as-of day.
func (g *gen) eachDay(fn func(day time.Time, i int)) {
	last := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	for d, i := g.start, 0; !d.After(last); d, i = d.AddDate(0, 0, 1), i+1 {
		fn(d, i)
	}
}

// at returns a business-hours time on day: 08:00–17:59 UTC keeps every transaction far
// from midnight, so hour-level rebasing rarely moves it across a day boundary. On the
// as-of day the time stays before balance.as_of (12:00).
func (g *gen) at(day time.Time) time.Time {
	h := 8 + g.r.intn(10)
	if day.Year() == asOf.Year() && day.YearDay() == asOf.YearDay() {
		h = 8 + g.r.intn(3)
	}
	return day.Add(time.Duration(h)*time.Hour + time.Duration(g.r.intn(3600))*time.Second)
}

// post schedules a posted transaction; amount is signed (+ = into the account).
func (g *gen) post(a *account, day time.Time, amount int64, desc string) {
	if day.Before(g.start) || !day.Before(asOf) {
		return
	}
	a.scheduled = append(a.scheduled, txn{at: g.at(day), amount: amount, desc: desc, status: "posted"})
}

// monthly schedules fn's transaction on day-of-month dom (clamped to the month's
// length) of every month in the history.
func (g *gen) monthly(dom int, fn func(day time.Time)) {
	g.eachDay(func(day time.Time, _ int) {
		last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if day.Day() == min(dom, last) {
			fn(day)
		}
	})
}

// every schedules fn every `period` days starting at history day offset `first`.
func (g *gen) every(first, period int, fn func(day time.Time)) {
	g.eachDay(func(day time.Time, i int) {
		if i >= first && (i-first)%period == 0 {
			fn(day)
		}
	})
}

// postDiscretionary schedules a purchase that the simulation may skip (see txn).
func (g *gen) postDiscretionary(a *account, day time.Time, amount int64, desc string) {
	g.post(a, day, amount, desc)
	if n := len(a.scheduled); n > 0 && a.scheduled[n-1].desc == desc && a.scheduled[n-1].amount == amount {
		a.scheduled[n-1].discretionary = true
	}
}

type merchant struct {
	desc   string
	lo, hi int64 // cents
}

var (
	groceries = []merchant{{"KROGER #0412", 2500, 14000}, {"TRADER JOE'S #552", 1800, 9500}, {"WHOLEFDS MKT 10234", 2200, 12000}, {"SAFEWAY #1209", 1500, 11000}}
	dining    = []merchant{{"STARBUCKS STORE 09211", 450, 1400}, {"CHIPOTLE 1120", 1100, 2600}, {"MCDONALD'S F3321", 600, 1800}, {"DOORDASH*BURGER BARN", 1800, 4500}, {"SQ *BLUE BOTTLE COFFEE", 500, 1300}}
	fuel      = []merchant{{"SHELL OIL 57444", 3000, 6500}, {"CHEVRON 0093822", 2800, 7000}, {"EXXONMOBIL 4471", 2500, 6000}}
	shopping  = []merchant{{"AMAZON MKTPLACE PMTS", 1000, 9000}, {"TARGET T-1234", 1500, 11000}, {"WALMART SUPERCENTER #2231", 1200, 9000}, {"WALGREENS #8812", 600, 4000}, {"HOME DEPOT #0611", 1500, 15000}}
	rides     = []merchant{{"UBER *TRIP HELP.UBER.COM", 800, 3500}, {"LYFT *RIDE SUN 9PM", 900, 3000}}
)

// spend schedules card purchases: on each day up to maxPerDay purchases drawn from
// the merchant groups, amounts scaled by scale(dayIndex).
func (g *gen) spend(a *account, maxPerDay int, scale func(i int) float64, groups ...[]merchant) {
	g.eachDay(func(day time.Time, i int) {
		n := g.r.intn(maxPerDay + 1)
		for k := 0; k < n; k++ {
			grp := groups[g.r.intn(len(groups))]
			m := grp[g.r.intn(len(grp))]
			amt := float64(g.r.between(m.lo, m.hi)) * scale(i)
			g.postDiscretionary(a, day, -int64(amt), m.desc)
		}
	})
}

func flat(int) float64 { return 1 }

// simulate posts the scheduled transactions in time order, adds the bank's overdraft
// fees, and fixes balance.current.
func (a *account) simulate(g *gen) {
	sort.SliceStable(a.scheduled, func(i, j int) bool { return a.scheduled[i].at.Before(a.scheduled[j].at) })
	bal := a.opening
	feesToday, feeDay := 0, time.Time{}
	for _, t := range a.scheduled {
		if t.discretionary && a.floor != nil && bal+t.amount < *a.floor {
			continue
		}
		before := bal
		bal += t.amount
		a.posted = append(a.posted, t)
		if t.amount >= 0 || bal >= 0 {
			continue
		}
		day := t.at.Truncate(24 * time.Hour)
		if !day.Equal(feeDay) {
			feeDay, feesToday = day, 0
		}
		charge := false
		switch a.odPolicy {
		case odPerItem:
			charge = feesToday < 3
		case odPerEpisode:
			charge = before >= 0
		}
		if charge {
			feesToday++
			bal -= odFee
			a.posted = append(a.posted, txn{at: t.at.Add(time.Minute), amount: -odFee, desc: "OVERDRAFT FEE", status: "posted"})
		}
	}
	a.current = bal
	a.available = bal + a.pendingSum
	for i := range a.posted {
		a.posted[i].id = g.r.id("fctxn_", 24)
		a.posted[i].ref = g.refs[g.r.intn(len(g.refs))]
	}
}

// pending adds a pending card purchase on the morning of the as-of day, before the
// balance was taken (so never in the future once the sandbox rebases the ledger): it is
// not in balance.current but reduces balance.cash.available.
func (g *gen) pending(a *account, amount int64, desc string) {
	t := txn{id: g.r.id("fctxn_", 24), ref: g.refs[len(g.refs)-1], at: g.at(asOf.Truncate(24 * time.Hour)), amount: amount, desc: desc, status: "pending"}
	a.extra = append(a.extra, t)
	a.pendingSum += amount
}

// void adds a voided authorisation (affects no balance).
func (g *gen) void(a *account, day time.Time, amount int64, desc string) {
	t := txn{id: g.r.id("fctxn_", 24), ref: g.refs[g.r.intn(len(g.refs))], at: g.at(day), amount: amount, desc: desc, status: "void"}
	a.extra = append(a.extra, t)
}

// Accounts and transactions are written with the ledger package's types, the one Go
// form of the ledger file; accounts carry all of Stripe's object (holder, refresh
// states, last4) so that the sandbox can serve them whole.

// render simulates every account and writes the ledger file: accounts indented,
// one transaction per line, newest first as Stripe lists them.
func (g *gen) render() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("{\n  \"accounts\": [\n")
	created := asOf.Add(-10 * time.Minute).Unix()
	for ai, a := range g.accounts {
		if a.posted == nil {
			a.simulate(g)
		}
		st := ledger.Account{
			ID: a.id, Object: ledger.ObjectAccount,
			AccountHolder: &ledger.AccountHolder{Customer: g.customer, Type: "customer"},
			Balance: &ledger.Balance{AsOf: asOf.Unix(), Cash: &ledger.Cash{Available: map[string]int64{"usd": a.available}},
				Current: map[string]int64{"usd": a.current}, Type: "cash"},
			BalanceRefresh: &ledger.BalanceRefresh{LastAttemptedAt: asOf.Unix(), Status: "succeeded"},
			Category:       "cash", Created: created, DisplayName: a.display, InstitutionName: "StripeBank",
			Last4: a.last4, Permissions: []string{"balances", "transactions"}, Status: "active",
			Subcategory: a.subcategory, Subscriptions: []string{},
			SupportedPaymentMethodTypes: []string{"link", "us_bank_account"},
			TransactionRefresh:          &ledger.TransactionRefresh{ID: g.refs[len(g.refs)-1], LastAttemptedAt: asOf.Unix(), Status: "succeeded"},
		}
		acct, err := json.MarshalIndent(st, "      ", "  ")
		if err != nil {
			return nil, fmt.Errorf("marshal account %s: %w", a.id, err)
		}
		buf.WriteString("    {\n      \"account\": ")
		buf.Write(acct)
		buf.WriteString(",\n      \"transactions\": [\n")
		all := append(append([]txn(nil), a.posted...), a.extra...)
		sort.SliceStable(all, func(i, j int) bool {
			if !all[i].at.Equal(all[j].at) {
				return all[i].at.After(all[j].at)
			}
			return all[i].id < all[j].id
		})
		for ti, t := range all {
			ts := t.at.Unix()
			tr := ledger.Transaction{ID: t.id, Object: ledger.ObjectTransaction, Account: a.id,
				Amount: t.amount, Currency: "usd", Description: t.desc, Status: t.status,
				TransactedAt: ts, TransactionRefresh: t.ref, Updated: ts}
			switch t.status {
			case "posted":
				p := ts + 3600 // posted an hour after the authorisation
				tr.StatusTransitions.PostedAt = &p
				tr.Updated = p
			case "void":
				v := ts + 2*86400
				tr.StatusTransitions.VoidAt = &v
				tr.Updated = v
			}
			line, err := json.Marshal(tr)
			if err != nil {
				return nil, fmt.Errorf("marshal transaction %s: %w", t.id, err)
			}
			buf.WriteString("        ")
			buf.Write(line)
			if ti < len(all)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString("      ]\n    }")
		if ai < len(g.accounts)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("  ]\n}\n")
	return buf.Bytes(), nil
}
