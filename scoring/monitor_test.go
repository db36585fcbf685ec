package scoring_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// The monitoring stories: six months of steady salaried history up to the origination
// day monOrig, then a booked loan watched for up to three months.
var (
	monStart = day("2025-07-01", 0)
	monOrig  = day("2026-01-01", 23)
)

const (
	monStartBalance = 300000 // balance before the first transaction
	monLoanAmount   = 300000
	monLoanTerm     = 6
)

// steadyTxs is a steady salaried account from monStart to end: biweekly payroll of
// 2,500 USD, rent of 1,200 USD on the 1st, utilities on the 12th, groceries weekly.
func steadyTxs(end time.Time) []scoring.Transaction {
	var out []scoring.Transaction
	for d, i := monStart.AddDate(0, 0, 4), 0; !d.After(end); d, i = d.AddDate(0, 0, 14), i+1 {
		out = append(out, tx(fmt.Sprintf("pay%03d", i), d.Add(9*time.Hour), 250000, "ACME CORP PAYROLL"))
	}
	for d, i := monStart, 0; !d.After(end); d, i = d.AddDate(0, 1, 0), i+1 {
		out = append(out, tx(fmt.Sprintf("rent%03d", i), d.Add(10*time.Hour), -120000, "RENT PAYMENT OAK APTS"))
		if u := d.AddDate(0, 0, 11).Add(10 * time.Hour); !u.After(end) {
			out = append(out, tx(fmt.Sprintf("util%03d", i), u, -9000-int64(i%3)*500, "CITY POWER UTILITIES"))
		}
	}
	for d, i := monStart.AddDate(0, 0, 2), 0; !d.After(end); d, i = d.AddDate(0, 0, 7), i+1 {
		out = append(out, tx(fmt.Sprintf("groc%03d", i), d.Add(18*time.Hour), -15000-int64(i%4)*1000, "CORNER MARKET"))
	}
	return out
}

// monLedger is the ledger as of asOf: the transactions dated on or before it, one
// checking account whose balance is monStartBalance plus their sum.
func monLedger(txs []scoring.Transaction, asOf time.Time) scoring.Ledger {
	l := scoring.Ledger{}
	bal := int64(monStartBalance)
	for _, t := range txs {
		if !t.TransactedAt.After(asOf) {
			l.Transactions = append(l.Transactions, t)
			bal += t.Amount
		}
	}
	l.Accounts = []scoring.Account{{ID: "fca_a", Category: "cash", Subcategory: "checking", Status: "active",
		Currency: "usd", Current: bal, AsOf: asOf, HasBalance: true}}
	return l
}

// balanceAt is the end-of-day balance of monLedger's account at t's day.
func balanceAt(t *testing.T, l scoring.Ledger, at time.Time) int64 {
	t.Helper()
	b, err := scoring.DailyBalances(l, at, at)
	if err != nil {
		t.Fatal(err)
	}
	return b.Combined.EOD[0]
}

func monLoan() scoring.MonitoredLoan {
	return scoring.MonitoredLoan{AmountMinor: monLoanAmount, TermMonths: monLoanTerm, Currency: "usd",
		FirstDue:        day("2026-02-01", 0),
		InstalmentMinor: scoring.ProposedPayment(scoring.Loan{AmountMinor: monLoanAmount, TermMonths: monLoanTerm})}
}

// booked adds the loan's own disbursement and instalments to a story: they must never
// raise an event.
func booked(txs []scoring.Transaction, end time.Time) []scoring.Transaction {
	out := append(slices.Clone(txs), tx("disb", monOrig.Add(12*time.Hour), monLoanAmount, "LOAN DISBURSEMENT UNDERWRITER"))
	loan := monLoan()
	for k := 0; k < monLoanTerm; k++ {
		d := loan.FirstDue.AddDate(0, k, 0).Add(8 * time.Hour)
		if !d.After(end) {
			out = append(out, tx(fmt.Sprintf("inst%d", k), d, -loan.InstalmentMinor, "UNDERWRITER LOAN PMT"))
		}
	}
	return out
}

// baseline underwrites the story's history up to monOrig.
func baseline(t *testing.T, txs []scoring.Transaction) scoring.MonitorBaseline {
	t.Helper()
	d, err := scoring.Underwrite(monLedger(txs, monOrig), monOrig, scoring.Loan{AmountMinor: monLoanAmount, TermMonths: monLoanTerm}, scoring.Operational{})
	if err != nil {
		t.Fatal(err)
	}
	return scoring.BaselineFromDecision(d, monOrig)
}

func monitor(t *testing.T, l scoring.Ledger, base scoring.MonitorBaseline, prev scoring.MonitorCheck) scoring.MonitorResult {
	t.Helper()
	r, err := scoring.Monitor(l, monLoan(), base, prev, scoring.DefaultMonitoringPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ofType(r scoring.MonitorResult, typ string) []scoring.Event {
	var out []scoring.Event
	for _, e := range r.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// story runs Monitor once over (monOrig, now] on the story txs (with the booked loan
// added) and checks that typ fired exactly once, then that a second check on the same
// ledger, passing Next, fires nothing.
func story(t *testing.T, txs []scoring.Transaction, now time.Time, typ string) scoring.Event {
	t.Helper()
	base := baseline(t, txs)
	l := monLedger(booked(txs, now), now)
	r := monitor(t, l, base, scoring.MonitorCheck{})
	got := ofType(r, typ)
	if len(got) != 1 {
		t.Fatalf("%s fired %d times, want once; events: %+v", typ, len(got), r.Events)
	}
	again := monitor(t, l, base, r.Next)
	if len(again.Events) != 0 {
		t.Fatalf("second check on the same ledger fired %+v", again.Events)
	}
	e := got[0]
	if !strings.HasPrefix(e.Key, typ+":") || e.Text == "" || len(e.Evidence) == 0 {
		t.Fatalf("event %+v: want key, text and evidence", e)
	}
	return e
}

func TestMonitorSteadyFiresNothing(t *testing.T) {
	steady := steadyTxs(day("2026-04-01", 0))
	base := baseline(t, steady)
	if base.MonthlyIncomeEst <= 0 || len(base.IncomeStreams) == 0 {
		t.Fatalf("baseline without income: %+v", base)
	}
	prev := scoring.MonitorCheck{}
	for now := monOrig.AddDate(0, 0, 1); now.Before(day("2026-04-01", 0)); now = now.AddDate(0, 0, 1) {
		r := monitor(t, monLedger(booked(steady, now), now), base, prev)
		if len(r.Events) != 0 {
			t.Fatalf("steady ledger as of %s fired %+v", now.Format(time.DateOnly), r.Events)
		}
		prev = r.Next
	}
}

func TestMonitorNSFOverdraft(t *testing.T) {
	txs := append(steadyTxs(day("2026-02-15", 0)), tx("odfee", day("2026-01-20", 12), -3500, "OVERDRAFT FEE"))
	e := story(t, txs, day("2026-02-10", 23), scoring.EventNSFOverdraft)
	if e.Key != "NSF_OVERDRAFT_DETECTED:odfee" || e.Evidence[0].ID != "odfee" || e.Evidence[0].AmountMinor != -3500 || e.Date != "2026-01-20" {
		t.Fatalf("event %+v", e)
	}
	// A fee before origination is no news.
	old := append(steadyTxs(day("2026-02-15", 0)), tx("odfee", day("2025-12-20", 12), -3500, "OVERDRAFT FEE"))
	r := monitor(t, monLedger(booked(old, day("2026-02-10", 23)), day("2026-02-10", 23)), baseline(t, old), scoring.MonitorCheck{})
	if n := len(ofType(r, scoring.EventNSFOverdraft)); n != 0 {
		t.Fatalf("fee before origination fired %d events", n)
	}
}

func TestMonitorOverdrawnBalance(t *testing.T) {
	now := day("2026-01-20", 23)
	txs := drain(t, steadyTxs(now), day("2026-01-19", 20), -4000)
	e := story(t, txs, now, scoring.EventNSFOverdraft)
	if e.Key != "NSF_OVERDRAFT_DETECTED:overdrawn:2026-01-19" || e.Evidence[0].Kind != "balance" || e.Evidence[0].AmountMinor != -4000 {
		t.Fatalf("event %+v", e)
	}
}

// TestMonitorOverdrawnLaterTheSameDay checks daily at noon, as a balance's as_of may
// fall: a purchase at 15:00 overdraws the account, so the check of that day still sees
// a positive balance, and the purchase arrives only with the next day's refresh, dated
// the day before. The overdraft is reported once, by the next check, for its own day;
// LOW_BALANCE likewise; and a check that had already seen the day negative does not
// report it again.
func TestMonitorOverdrawnLaterTheSameDay(t *testing.T) {
	now := day("2026-01-25", 12)
	txs := drain(t, steadyTxs(now), day("2026-01-19", 15), -4000)
	base := baseline(t, txs)
	prev, keys := scoring.MonitorCheck{}, map[string]int{}
	for d := day("2026-01-02", 12); !d.After(now); d = d.AddDate(0, 0, 1) {
		r := monitor(t, monLedger(booked(txs, d), d), base, prev)
		for _, e := range r.Events {
			keys[e.Key]++
			if e.Type == scoring.EventNSFOverdraft && d.Format("2006-01-02") != "2026-01-20" {
				t.Errorf("overdraft reported by the check of %s, want the next day's", d.Format("2006-01-02"))
			}
		}
		prev = r.Next
	}
	for _, k := range []string{"NSF_OVERDRAFT_DETECTED:overdrawn:2026-01-19", "LOW_BALANCE:floor:2026-01-19"} {
		if keys[k] != 1 {
			t.Errorf("%s reported %d times, want once; all: %v", k, keys[k], keys)
		}
	}
}

// drain adds, at `at`, a purchase that leaves the balance at `leave`.
func drain(t *testing.T, txs []scoring.Transaction, at time.Time, leave int64) []scoring.Transaction {
	t.Helper()
	bal := balanceAt(t, monLedger(booked(txs, at), at), at)
	return append(txs, tx("big", at, -(bal-leave), "FURNITURE STORE"))
}

// daily checks the story every day from monOrig to now, passing Next along, and returns
// how often each event type fired.
func daily(t *testing.T, txs []scoring.Transaction, now time.Time) map[string]int {
	t.Helper()
	base := baseline(t, txs)
	prev, n := scoring.MonitorCheck{}, map[string]int{}
	for d := monOrig.AddDate(0, 0, 1); !d.After(now); d = d.AddDate(0, 0, 1) {
		r := monitor(t, monLedger(booked(txs, d), d), base, prev)
		for _, e := range r.Events {
			n[e.Type]++
		}
		prev = r.Next
	}
	return n
}

func TestMonitorLowBalanceFloor(t *testing.T) {
	// The balance stays at 50.00 from 2026-01-18 to 2026-01-20 (no transactions then).
	now := day("2026-01-20", 23)
	txs := drain(t, steadyTxs(now), day("2026-01-18", 20), 5000)
	e := story(t, txs, now, scoring.EventLowBalance)
	if e.Key != "LOW_BALANCE:floor:2026-01-18" || e.Evidence[0].AmountMinor != 5000 {
		t.Fatalf("event %+v", e)
	}
	if n := daily(t, txs, now); n[scoring.EventLowBalance] != 1 {
		t.Fatalf("checked daily: %v, want LOW_BALANCE once", n)
	}
	if n := len(ofType(monitor(t, monLedger(booked(txs, now), now), baseline(t, txs), scoring.MonitorCheck{}), scoring.EventNSFOverdraft)); n != 0 {
		t.Fatalf("a positive low balance fired %d overdraft events", n)
	}
	control := drain(t, steadyTxs(now), day("2026-01-20", 20), 30000)
	r := monitor(t, monLedger(booked(control, now), now), baseline(t, control), scoring.MonitorCheck{})
	if len(r.Events) != 0 {
		t.Fatalf("balance above the floor fired %+v", r.Events)
	}
}

func TestMonitorLowBalanceInstalment(t *testing.T) {
	inst := monLoan().InstalmentMinor
	if inst <= 20000 {
		t.Fatalf("instalment %d: the test needs one above the floor", inst)
	}
	// Two days before the first instalment (due 2026-02-01), the balance is above the floor
	// but below the instalment.
	now := day("2026-01-30", 23)
	txs := drain(t, steadyTxs(now), day("2026-01-30", 20), 20000)
	e := story(t, txs, now, scoring.EventLowBalance)
	if e.Key != "LOW_BALANCE:instalment:2026-02-01" || e.Evidence[1].AmountMinor != inst {
		t.Fatalf("event %+v", e)
	}
	// The low balance holds from 2026-01-28 (inside the window from 2026-01-29): checked
	// daily, it warns once.
	txs = drain(t, steadyTxs(now), day("2026-01-28", 20), 40000)
	if n := daily(t, txs, now); n[scoring.EventLowBalance] != 1 {
		t.Fatalf("checked daily: %v, want LOW_BALANCE once", n)
	}
	// Ten days before, the warning window has not begun.
	early := day("2026-01-22", 23)
	txs = drain(t, steadyTxs(early), day("2026-01-22", 20), 20000)
	r := monitor(t, monLedger(booked(txs, early), early), baseline(t, txs), scoring.MonitorCheck{})
	if len(r.Events) != 0 {
		t.Fatalf("outside the warning window fired %+v", r.Events)
	}
}

// withoutPayAfter drops the payroll deposits after t.
func withoutPayAfter(txs []scoring.Transaction, t time.Time) []scoring.Transaction {
	return slices.DeleteFunc(txs, func(x scoring.Transaction) bool {
		return strings.HasPrefix(x.ID, "pay") && x.TransactedAt.After(t)
	})
}

func TestMonitorIncomeStoppedRegular(t *testing.T) {
	now := day("2026-02-20", 23)
	txs := withoutPayAfter(steadyTxs(now), day("2026-01-10", 0))
	e := story(t, txs, now, scoring.EventIncomeStopped)
	if e.Evidence[0].Kind != "transaction" || e.Evidence[1].Kind != "expected_date" {
		t.Fatalf("event %+v", e)
	}
	// Checked day by day, it fires once, on the day the grace ran out.
	base := baseline(t, txs)
	prev, fired := scoring.MonitorCheck{}, []string{}
	for d := monOrig.AddDate(0, 0, 1); !d.After(now); d = d.AddDate(0, 0, 1) {
		r := monitor(t, monLedger(booked(txs, d), d), base, prev)
		for _, e := range ofType(r, scoring.EventIncomeStopped) {
			fired = append(fired, d.Format(time.DateOnly)+" "+e.Date)
		}
		prev = r.Next
	}
	if len(fired) != 1 {
		t.Fatalf("INCOME_STOPPED day by day: %v, want once", fired)
	}
}

// gigTxs is an irregular gig earner: payouts every 3 to 6 days of varying size, rent and
// groceries, until end.
func gigTxs(end time.Time) []scoring.Transaction {
	var out []scoring.Transaction
	gaps := []int{2, 5, 3, 6, 4}
	for d, i := monStart, 0; !d.After(end); d, i = d.AddDate(0, 0, gaps[i%len(gaps)]), i+1 {
		amount := 15000 + int64(i*7919%80)*1000 // 150 to 940 USD, no pattern
		out = append(out, tx(fmt.Sprintf("gig%03d", i), d.Add(15*time.Hour), amount, "DOORDASH DASHER"))
	}
	for d, i := monStart, 0; !d.After(end); d, i = d.AddDate(0, 1, 0), i+1 {
		out = append(out, tx(fmt.Sprintf("rent%03d", i), d.Add(10*time.Hour), -120000, "RENT PAYMENT OAK APTS"))
	}
	return out
}

func TestMonitorIncomeStoppedIrregular(t *testing.T) {
	now := day("2026-02-20", 23)
	txs := slices.DeleteFunc(gigTxs(now), func(x scoring.Transaction) bool {
		return strings.HasPrefix(x.ID, "gig") && x.TransactedAt.After(day("2026-01-05", 0))
	})
	base := baseline(t, txs)
	for _, s := range base.IncomeStreams {
		if s.Status == scoring.StreamMature && s.Frequency != scoring.FrequencyUnknown {
			t.Fatalf("gig baseline has a regular stream %+v", s)
		}
	}
	e := story(t, txs, now, scoring.EventIncomeStopped)
	if !strings.HasPrefix(e.Key, "INCOME_STOPPED:irregular:") {
		t.Fatalf("event %+v", e)
	}
	if n := daily(t, txs, now); n[scoring.EventIncomeStopped] != 1 {
		t.Fatalf("checked daily: %v, want INCOME_STOPPED once", n)
	}
	control := gigTxs(now)
	r := monitor(t, monLedger(booked(control, now), now), baseline(t, control), scoring.MonitorCheck{})
	if n := len(ofType(r, scoring.EventIncomeStopped)); n != 0 {
		t.Fatalf("continuing gig income fired %+v", r.Events)
	}
}

func TestMonitorIncomeDrop(t *testing.T) {
	now := day("2026-05-10", 23)
	txs := steadyTxs(now)
	for i := range txs {
		if strings.HasPrefix(txs[i].ID, "pay") && txs[i].TransactedAt.After(monOrig) {
			txs[i].Amount = 120000
		}
	}
	e := story(t, txs, now, scoring.EventIncomeDrop)
	if e.Evidence[0].AmountMinor >= e.Evidence[1].AmountMinor*7/10 {
		t.Fatalf("event %+v", e)
	}
	// The pay goes on, smaller: that is a drop, not a stop.
	if n := daily(t, txs, now); n[scoring.EventIncomeDrop] != 1 || n[scoring.EventIncomeStopped] != 0 {
		t.Fatalf("checked daily: %v, want INCOME_DROP once and no INCOME_STOPPED", n)
	}
}

func TestMonitorNewIncomeStream(t *testing.T) {
	now := day("2026-03-01", 23)
	txs := steadyTxs(now)
	for d, i := day("2026-01-06", 9), 0; !d.After(now); d, i = d.AddDate(0, 0, 7), i+1 {
		txs = append(txs, tx(fmt.Sprintf("side%02d", i), d, 40000, "GLOBEX PAYROLL"))
	}
	e := story(t, txs, now, scoring.EventNewIncomeStream)
	if e.Key != "NEW_INCOME_STREAM:side00" {
		t.Fatalf("event %+v", e)
	}
	if n := daily(t, txs, now); n[scoring.EventNewIncomeStream] != 1 {
		t.Fatalf("checked daily: %v, want NEW_INCOME_STREAM once", n)
	}
}

func TestMonitorNewLoanPayment(t *testing.T) {
	now := day("2026-03-01", 23)
	txs := append(steadyTxs(now),
		tx("auto1", day("2026-01-15", 10), -35000, "TOYOTA FINANCIAL PMT"),
		tx("auto2", day("2026-02-15", 10), -35000, "TOYOTA FINANCIAL PMT"))
	e := story(t, txs, now, scoring.EventNewLoanPayment)
	if e.Key != "NEW_LOAN_PAYMENT:auto1" || e.Evidence[0].AmountMinor != -35000 {
		t.Fatalf("event %+v", e)
	}
	// The same lender paid before origination is not new.
	control := append(steadyTxs(now), tx("auto0", day("2025-12-15", 10), -35000, "TOYOTA FINANCIAL PMT"),
		tx("auto1", day("2026-01-15", 10), -35000, "TOYOTA FINANCIAL PMT"))
	r := monitor(t, monLedger(booked(control, now), now), baseline(t, control), scoring.MonitorCheck{})
	if len(r.Events) != 0 {
		t.Fatalf("a known lender fired %+v", r.Events)
	}
}

func TestMonitorNewHighRiskLender(t *testing.T) {
	now := day("2026-03-01", 23)
	txs := append(steadyTxs(now),
		tx("pd1", day("2026-01-15", 10), 30000, "SPEEDY CASH"),
		tx("pd2", day("2026-01-29", 10), -34500, "SPEEDY CASH"))
	e := story(t, txs, now, scoring.EventNewHighRiskLender)
	if e.Key != "NEW_HIGH_RISK_LENDER:pd1" || !strings.Contains(e.Text, "payday") {
		t.Fatalf("event %+v", e)
	}
	if n := len(ofType(monitor(t, monLedger(booked(txs, now), now), baseline(t, txs), scoring.MonitorCheck{}), scoring.EventNewLoanPayment)); n != 0 {
		t.Fatalf("a payday lender also fired NEW_LOAN_PAYMENT %d times", n)
	}
}

func TestMonitorLargeDeposit(t *testing.T) {
	now := day("2026-02-01", 23)
	txs := append(steadyTxs(now), tx("dep", day("2026-01-21", 10), 900000, "MOBILE CHECK DEPOSIT"))
	e := story(t, txs, now, scoring.EventLargeDeposit)
	if e.Key != "LARGE_DEPOSIT:dep" || e.Evidence[0].AmountMinor != 900000 {
		t.Fatalf("event %+v", e)
	}
	// The usual pay is no windfall, even when one payment is more than the large-deposit
	// threshold (half the monthly income estimate): a semi-monthly salary is about that.
	// A bonus three times the usual pay under the payroll's description is one.
	base := baseline(t, steadyTxs(now))
	large := int64(scoring.DefaultMonitoringPolicy().LargeDepositIncomeShare * float64(base.MonthlyIncomeEst))
	for _, pay := range []int64{large + 1, 3 * 250000} {
		raised := append(steadyTxs(now), tx("pay-extra", day("2026-01-23", 9), pay, "ACME CORP PAYROLL"))
		r := monitor(t, monLedger(booked(raised, now), now), baseline(t, raised), scoring.MonitorCheck{})
		if got, want := len(ofType(r, scoring.EventLargeDeposit)), map[bool]int{true: 0, false: 1}[pay < 2*250000]; got != want {
			t.Fatalf("a payroll deposit of %d (threshold %d) fired %d LARGE_DEPOSIT, want %d: %+v", pay, large, got, want, r.Events)
		}
	}
	small := append(steadyTxs(now), tx("dep", day("2026-01-21", 10), 20000, "MOBILE CHECK DEPOSIT"))
	r := monitor(t, monLedger(booked(small, now), now), baseline(t, small), scoring.MonitorCheck{})
	if len(r.Events) != 0 {
		t.Fatalf("a small deposit fired %+v", r.Events)
	}
}

func TestMonitorAccountDisconnected(t *testing.T) {
	now := day("2026-02-01", 23)
	steady := steadyTxs(now)
	base := baseline(t, steady)
	l := monLedger(booked(steady, now), now)
	l.Accounts = append(l.Accounts, scoring.Account{ID: "fca_b", Category: "cash", Status: "disconnected"})
	r := monitor(t, l, base, scoring.MonitorCheck{})
	got := ofType(r, scoring.EventAccountDisconnected)
	if len(got) != 1 || got[0].Evidence[0].ID != "fca_b" || got[0].Hint == "" || !strings.Contains(got[0].Hint, "relink") {
		t.Fatalf("events %+v", r.Events)
	}
	if !reflect.DeepEqual(r.Next.Disconnected, []string{"fca_b"}) {
		t.Fatalf("Next = %+v", r.Next)
	}
	later := now.AddDate(0, 0, 3)
	l2 := monLedger(booked(steadyTxs(later), later), later)
	l2.Accounts = append(l2.Accounts, scoring.Account{ID: "fca_b", Category: "cash", Status: "disconnected"})
	if r2 := monitor(t, l2, base, r.Next); len(r2.Events) != 0 {
		t.Fatalf("still disconnected fired again: %+v", r2.Events)
	}
}

func TestMonitorDeterministicAndRescore(t *testing.T) {
	now := day("2026-03-01", 23)
	txs := append(withoutPayAfter(steadyTxs(now), day("2026-01-10", 0)),
		tx("odfee", day("2026-02-20", 12), -3500, "OVERDRAFT FEE"),
		tx("pd1", day("2026-02-15", 10), 30000, "SPEEDY CASH"))
	base := baseline(t, txs)
	l := monLedger(booked(txs, now), now)
	a := monitor(t, l, base, scoring.MonitorCheck{})
	rev := scoring.Ledger{Accounts: l.Accounts, Transactions: slices.Clone(l.Transactions)}
	slices.Reverse(rev.Transactions)
	b := monitor(t, rev, base, scoring.MonitorCheck{})
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same ledger, different results:\n%+v\n%+v", a, b)
	}
	if len(a.Events) < 3 || !slices.IsSortedFunc(a.Events, func(x, y scoring.Event) int { return strings.Compare(x.Date, y.Date) }) {
		t.Fatalf("events %+v", a.Events)
	}
	if !a.AsOf.Equal(now) || !a.Since.Equal(monOrig) {
		t.Fatalf("clock: as_of %v since %v", a.AsOf, a.Since)
	}
	rs := a.Rescore
	if rs.ModelVersion != base.ModelVersion || rs.DefaultModelVersion != scoring.DefaultModelVersion || rs.PD <= 0 {
		t.Fatalf("rescore %+v", rs)
	}
	if d := rs.PD - base.PD - rs.PDChange; d > 1e-4 || d < -1e-4 {
		t.Fatalf("rescore %+v: pd_change is not pd − %g", rs, base.PD)
	}
	if rs.PD <= base.PD {
		t.Fatalf("income stopped, an overdraft fee and a payday loan, yet PD %g ≤ %g at origination", rs.PD, base.PD)
	}
}

func TestMonitorRescoreUnderDecisionVersions(t *testing.T) {
	now := day("2026-02-01", 23)
	steady := steadyTxs(now)
	base := baseline(t, steady)
	base.ModelVersion, base.PolicyVersion = "v1", "v1"
	r := monitor(t, monLedger(booked(steady, now), now), base, scoring.MonitorCheck{})
	if r.Rescore.ModelVersion != "v1" || r.Rescore.PolicyVersion != "v1" || r.Rescore.DefaultModelVersion != scoring.DefaultModelVersion {
		t.Fatalf("rescore %+v", r.Rescore)
	}
	if base.FeatureSetVersion != scoring.FeatureSetV3 {
		t.Fatalf("baseline feature set %q", base.FeatureSetVersion)
	}
	base.FeatureSetVersion = scoring.FeatureSetV2 // a v1 decision: its streams and estimate were fs-v2's
	r = monitor(t, monLedger(booked(steady, now), now), base, scoring.MonitorCheck{})
	if len(r.Events) != 0 {
		t.Fatalf("steady ledger under fs-v2 fired %+v", r.Events)
	}
	base.FeatureSetVersion = "fs-v9/cat-v1"
	if _, err := scoring.Monitor(monLedger(steady, now), monLoan(), base, scoring.MonitorCheck{}, scoring.DefaultMonitoringPolicy()); err == nil || !strings.Contains(err.Error(), "feature set") {
		t.Fatalf("unknown feature set: err = %v", err)
	}
	base.FeatureSetVersion = scoring.FeatureSetV3
	base.ModelVersion = "v99"
	if _, err := scoring.Monitor(monLedger(steady, now), monLoan(), base, scoring.MonitorCheck{}, scoring.DefaultMonitoringPolicy()); err == nil || !strings.Contains(err.Error(), "v99") {
		t.Fatalf("unknown model version: err = %v", err)
	}
}

func TestMonitorBadInput(t *testing.T) {
	now := day("2026-02-01", 23)
	steady := steadyTxs(now)
	base := baseline(t, steady)
	p := scoring.DefaultMonitoringPolicy()
	l := monLedger(steady, now)
	noClock := l
	noClock.Accounts = []scoring.Account{{ID: "fca_a", Category: "cash", Status: "active"}}
	if _, err := scoring.Monitor(noClock, monLoan(), base, scoring.MonitorCheck{}, p); !errors.Is(err, scoring.ErrNoLedgerClock) {
		t.Fatalf("no balance: err = %v", err)
	}
	for field, mut := range map[string]func(*scoring.MonitoredLoan){
		"amount":     func(m *scoring.MonitoredLoan) { m.AmountMinor = 0 },
		"term":       func(m *scoring.MonitoredLoan) { m.TermMonths = 400 },
		"first_due":  func(m *scoring.MonitoredLoan) { m.FirstDue = time.Time{} },
		"instalment": func(m *scoring.MonitoredLoan) { m.InstalmentMinor = -1 },
	} {
		m := monLoan()
		mut(&m)
		_, err := scoring.Monitor(l, m, base, scoring.MonitorCheck{}, p)
		if !errors.Is(err, scoring.ErrInvalidMonitoredLoan) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	if _, err := scoring.Monitor(l, monLoan(), base, scoring.MonitorCheck{}, nil); !errors.Is(err, scoring.ErrInvalidMonitoringPolicy) {
		t.Errorf("nil policy: err = %v", err)
	}
}

// truncate is l as it looked at the end of day d: the transactions dated on or before d,
// each account's balance the reconstructed end-of-day balance of d.
func truncate(t *testing.T, l scoring.Ledger, d time.Time) scoring.Ledger {
	t.Helper()
	end := d.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
	out := scoring.Ledger{}
	for _, x := range l.Transactions {
		if !x.TransactedAt.After(end) {
			out.Transactions = append(out.Transactions, x)
		}
	}
	b, err := scoring.DailyBalances(l, end, end)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range l.Accounts {
		for _, s := range b.Accounts {
			if s.AccountID == a.ID {
				a.Current, a.Available, a.AsOf = s.EOD[0], nil, end
			}
		}
		out.Accounts = append(out.Accounts, a)
	}
	return out
}

// TestMonitorSteadySalariedPersona watches the sandbox's steady_salaried persona for its
// last 60 days, day by day, after a loan booked 60 days before its as_of: nothing fires.
// The overdraft_nsf persona, watched the same way, reports its fees, each once.
func TestMonitorSteadySalariedPersona(t *testing.T) {
	for _, c := range []struct {
		file   string
		expect string // an event type that must fire; "" for none at all
	}{{"steady_salaried.json", ""}, {"overdraft_nsf.json", scoring.EventNSFOverdraft}} {
		full := loadLedger(t, c.file)
		asOf := scoring.LatestAsOf(full)
		orig := truncate(t, full, asOf.AddDate(0, 0, -60))
		origAt := scoring.LatestAsOf(orig)
		d, err := scoring.Underwrite(orig, origAt, scoring.Loan{AmountMinor: 100000, TermMonths: 6}, scoring.Operational{})
		if err != nil {
			t.Fatal(err)
		}
		base := scoring.BaselineFromDecision(d, origAt)
		loan := scoring.MonitoredLoan{AmountMinor: 100000, TermMonths: 6, FirstDue: origAt.AddDate(0, 0, 30),
			InstalmentMinor: scoring.ProposedPayment(scoring.Loan{AmountMinor: 100000, TermMonths: 6})}
		prev, keys := scoring.MonitorCheck{}, map[string]int{}
		var all []scoring.Event
		for day := origAt.AddDate(0, 0, 1); !day.After(asOf); day = day.AddDate(0, 0, 1) {
			r, err := scoring.Monitor(truncate(t, full, day), loan, base, prev, scoring.DefaultMonitoringPolicy())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range r.Events {
				keys[e.Key]++
				all = append(all, e)
			}
			prev = r.Next
		}
		for _, e := range all {
			t.Logf("%s: %s %s", c.file, e.Date, e.Key)
		}
		for k, n := range keys {
			if n != 1 {
				t.Errorf("%s: %s fired %d times", c.file, k, n)
			}
		}
		if c.expect == "" && len(all) != 0 {
			t.Errorf("%s fired %+v", c.file, all)
		}
		if c.expect != "" && !slices.ContainsFunc(all, func(e scoring.Event) bool { return e.Type == c.expect }) {
			t.Errorf("%s: no %s in %+v", c.file, c.expect, all)
		}
	}
}
