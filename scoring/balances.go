package scoring

import (
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// secondsPerDay converts Unix seconds to UTC day numbers (ledger.SecondsPerDay).
const secondsPerDay = ledger.SecondsPerDay

// dayOf returns the UTC calendar day of t as days since 1970-01-01.
func dayOf(t time.Time) int64 { return ledger.Day(t.Unix()) }

// dayTime returns midnight UTC of day number d.
func dayTime(d int64) time.Time { return time.Unix(d*secondsPerDay, 0).UTC() }

// dayString formats day number d as YYYY-MM-DD (time.DateOnly).
func dayString(d int64) string {
	y, m, dd := dayTime(d).Date()
	if y < 0 || y > 9999 {
		return dayTime(d).Format(time.DateOnly) // time's own form of such years
	}
	var b [10]byte
	putDigits(b[0:4], y)
	b[4] = '-'
	putDigits(b[5:7], int(m))
	b[7] = '-'
	putDigits(b[8:10], dd)
	return string(b[:])
}

// monthKey is day number d's month as YYYY-MM, what dayTime(d).Format("2006-01") gives,
// in a value a map look-up can take without allocating: m[string(k[:])]. ok is false
// for a year outside 0–9999, whose form is not seven bytes.
func monthKey(d int64) (k [7]byte, ok bool) {
	y, m, _ := dayTime(d).Date()
	if y < 0 || y > 9999 {
		return k, false
	}
	putDigits(k[0:4], y)
	k[4] = '-'
	putDigits(k[5:7], int(m))
	return k, true
}

// putDigits writes v, which fits, as len(b) decimal digits with leading zeros.
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// BalanceSeries is the end-of-day (EOD) balance series of one account, or of all cash
// accounts combined (AccountID ""). EOD[i] is the balance in minor units at the end of
// the UTC day Start + i days.
type BalanceSeries struct {
	AccountID string
	Start     time.Time
	EOD       []int64
}

// At returns the EOD balance of day t (any time within the UTC day) and whether the
// day lies within the series.
func (s BalanceSeries) At(t time.Time) (int64, bool) {
	i := dayOf(t) - dayOf(s.Start)
	if i < 0 || i >= int64(len(s.EOD)) {
		return 0, false
	}
	return s.EOD[i], true
}

// DailyBalanceSet holds per-account and combined EOD series over the same day range
// [Start, End] (UTC days, both inclusive).
type DailyBalanceSet struct {
	Start, End time.Time
	// Accounts has one series per cash account with a balance, sorted by account id.
	Accounts []BalanceSeries
	// Combined is the day-by-day sum of Accounts. When no account has a balance it is
	// empty (len(EOD) == 0): the balance features are then undefined.
	Combined BalanceSeries
}

// DailyBalances reconstructs end-of-day balances for every cash account that has a
// balance, for each UTC day from the day of `from` to the day of `to` (inclusive),
// exactly as docs/features.md §1 prescribes. With D₀ the UTC day
// of the account's balance.as_of:
//
//	EOD(D₀)    = balance.current
//	EOD(d − 1) = EOD(d) − net_posted(d)   for d ≤ D₀ (walking backwards)
//	EOD(d)     = EOD(d − 1) + net_posted(d) for d > D₀ (posted txns dated after as_of walk forward)
//
// net_posted(d) is the sum of signed posted amounts on the account dated d. Pending
// and void transactions never move the reconstructed balance. Days before the oldest
// transaction keep the oldest reconstructed balance (the identity assumes the posted
// set is complete). The ledger is normalised first, so duplicates and order do not
// matter; a mixed-currency ledger returns ErrMixedCurrency. from after to yields an
// empty range.
func DailyBalances(l Ledger, from, to time.Time) (DailyBalanceSet, error) {
	n, err := Normalize(l)
	if err != nil {
		return DailyBalanceSet{}, err
	}
	return dailyBalances(n, dayOf(from), dayOf(to)), nil
}

// dailyBalances is DailyBalances over an already normalised ledger and day numbers.
func dailyBalances(l Ledger, from, to int64) DailyBalanceSet {
	set := DailyBalanceSet{Start: dayTime(from), End: dayTime(to)}
	set.Combined.Start = set.Start
	if to < from {
		return set
	}
	net := map[string]map[int64]int64{}
	for _, t := range l.Transactions {
		if t.Status != StatusPosted {
			continue
		}
		m := net[t.AccountID]
		if m == nil {
			m = map[int64]int64{}
			net[t.AccountID] = m
		}
		m[dayOf(t.TransactedAt)] += t.Amount
	}
	days := int(to - from + 1)
	for _, a := range l.Accounts { // sorted by id in Normalize
		if !isCash(a) || !a.HasBalance {
			continue
		}
		s := BalanceSeries{AccountID: a.ID, Start: set.Start, EOD: make([]int64, days)}
		d0 := dayOf(a.AsOf)
		m := net[a.ID]
		// Backwards from D₀ to min(from, D₀); forwards from D₀ to max(to, D₀). Days
		// outside [from, to] are walked but not stored.
		bal := a.Current
		for d := d0; d >= from; d-- {
			if d <= to {
				s.EOD[d-from] = bal
			}
			bal -= m[d]
		}
		bal = a.Current
		for d := d0 + 1; d <= to; d++ {
			bal += m[d]
			if d >= from {
				s.EOD[d-from] = bal
			}
		}
		set.Accounts = append(set.Accounts, s)
	}
	if len(set.Accounts) > 0 {
		set.Combined.EOD = make([]int64, days)
		for _, s := range set.Accounts {
			for i, v := range s.EOD {
				set.Combined.EOD[i] += v
			}
		}
	}
	return set
}
