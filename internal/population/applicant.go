package population

import (
	"runtime"
	"sync"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// IncomeKind is what an income deposit pays.
type IncomeKind string

// Income kinds.
const (
	KindPay     IncomeKind = "pay"
	KindGig     IncomeKind = "gig"
	KindBenefit IncomeKind = "benefit"
)

// IncomeItem is one posted income deposit of a ledger: pay, a platform payout or a
// benefit. Own-account transfers, loan proceeds, refunds, tax refunds, person-to-person
// payments, cash advances and interest are never income items.
type IncomeItem struct {
	TransactionID string `json:"transaction_id"`
	Day           string `json:"day"` // UTC, YYYY-MM-DD
	Amount        int64  `json:"amount"`
	// Month (YYYY-MM) is the month the deposit pays for: the month of the day it is due,
	// which differs from the deposit's own month only when pay or a benefit due on the 1st
	// arrives on the business day before it.
	Month string     `json:"month"`
	Kind  IncomeKind `json:"kind"`
	// Source is the payer: "employer", a Platform or a Benefit.
	Source string `json:"source"`
	// Template is the description template (placeholders unfilled): the family of
	// descriptions the deposit belongs to.
	Template    string `json:"template"`
	Description string `json:"description"`
}

// Applicant is a Profile with its ledger and the income it deposited.
type Applicant struct {
	Profile
	// Ledger holds the checking account and, for savers whose savings account is
	// linked, the savings account.
	Ledger ledger.File `json:"-"`
	// Income lists every posted income deposit, oldest first.
	Income []IncomeItem `json:"-"`
	// IncomeMonths are the months (YYYY-MM) TrueMonthlyIncome averages over; see
	// IncomeWindow.
	IncomeMonths []string `json:"income_months"`
	// TrueMonthlyIncome is the Σ of the Income amounts whose Month is in IncomeMonths,
	// divided by len(IncomeMonths) and rounded to the minor unit: the income actually
	// deposited, per month, with a deposit counted in the month it pays for.
	TrueMonthlyIncome int64 `json:"true_monthly_income"`
}

// trueIncomeMonths: true income averages the newest six complete months, the window of
// scoring's monthly statistics and of lenders' income verification.
const trueIncomeMonths = 6

// windowLeadDays: a window month starts at least this long after the history's first day,
// so that pay due on its 1st but deposited on the business day before (at most three
// days earlier, over a weekend and a holiday) lies inside the history.
const windowLeadDays = 4

// NewApplicant draws applicant index of the population of seed with its ledger. It is a
// pure function of (seed, index).
func NewApplicant(seed uint64, index int) Applicant {
	p := NewProfile(seed, index)
	b := newBuilder(newStream(seed, index, purposeLedger), p)
	b.build()
	a := Applicant{Profile: p, Ledger: b.file(), Income: b.income}
	in := map[string]bool{}
	for _, m := range IncomeWindow(b.start, p.AsOf) {
		a.IncomeMonths = append(a.IncomeMonths, m.Format(monthLayout))
		in[m.Format(monthLayout)] = true
	}
	var sum int64
	for _, it := range a.Income {
		if in[it.Month] {
			sum += it.Amount
		}
	}
	if n := int64(len(a.IncomeMonths)); n > 0 {
		a.TrueMonthlyIncome = (sum + n/2) / n
	}
	return a
}

// IncomeWindow returns the first days of the months TrueMonthlyIncome averages over,
// oldest first, for a history whose first day is start and whose balance is as of asOf:
// the trueIncomeMonths newest complete calendar months that start windowLeadDays or more
// after start. A month is complete when the as-of day is after it or is its last day
// (scoring's convention for monthly statistics).
func IncomeWindow(start, asOf time.Time) []time.Time {
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	first := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, windowLeadDays)
	m := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	if day.AddDate(0, 0, 1).Day() != 1 { // the as-of day is not the month's last: drop its month
		m = m.AddDate(0, -1, 0)
	}
	var out []time.Time
	for len(out) < trueIncomeMonths && !m.Before(first) {
		out = append([]time.Time{m}, out...)
		m = m.AddDate(0, -1, 0)
	}
	return out
}

// Generate returns applicants 0 … n−1 of the population of seed, drawn in parallel on
// GOMAXPROCS goroutines. The result depends only on (seed, n).
func Generate(seed uint64, n int) []Applicant {
	out := make([]Applicant, n)
	_ = parallel(n, 0, func(i int) error { // NewApplicant cannot fail
		out[i] = NewApplicant(seed, i)
		return nil
	})
	return out
}

// parallel calls fn(0 … n−1) on workers goroutines (GOMAXPROCS when ≤ 0) and returns the
// error of the smallest index that failed, so the error does not depend on scheduling.
func parallel(n, workers int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
