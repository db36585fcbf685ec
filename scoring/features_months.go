package scoring

import (
	"math"
	"time"
)

// noDay marks "no previous day" in day walks.
const noDay = int64(math.MinInt64)

// buildMonths returns the monthly cash-flow series (B3) of every complete calendar
// month that starts on or after the oldest history transaction, oldest first; nil
// without history. Per month, in minor units: inflow and outflow of the flows, net =
// inflow − outflow, income = inflow of MATURE income-stream occurrences (fs-v2) or of
// recognised income deposits (fs-v3, markIncome), obligations =
// obligation and debt-service outflow, debt payments = debt-service outflow, the count
// of posted transactions (own transfers included) and the longest gap between
// consecutive transaction days whose later day falls in the month (A3 per month).
func (s *featureState) buildMonths() []MonthlyCashFlow {
	if len(s.hist) == 0 {
		return nil
	}
	months := completeMonths(s.days[0], s.c, 0)
	if len(months) == 0 {
		return nil
	}
	ms := make([]MonthlyCashFlow, len(months))
	idx := make(map[int64]int, len(months))
	for i, m := range months {
		idx[m.start] = i
		ms[i].Month = dayTime(m.start).Format("2006-01")
	}
	lo, hi := months[0].start, months[len(months)-1].end
	prev := noDay
	for i, d := range s.days {
		gapFrom := prev
		prev = d
		if d < lo || d > hi {
			continue
		}
		m := &ms[idx[monthStart(d)]]
		m.TxnCount++
		if gapFrom != noDay && d != gapFrom {
			m.LongestGapDays = max(m.LongestGapDays, int(d-gapFrom))
		}
		if s.flow[i] {
			s.addFlow(m, i)
		}
	}
	for i := range ms {
		ms[i].Net = ms[i].Inflow - ms[i].Outflow
	}
	return ms
}

// addFlow adds flow hist[i] to its month's inflow and income, or outflow, obligations
// and debt payments.
func (s *featureState) addFlow(m *MonthlyCashFlow, i int) {
	t := &s.hist[i]
	switch cat := s.cats[i]; {
	case t.Amount > 0:
		m.Inflow += t.Amount
		if s.isIncome(i) {
			m.Income += t.Amount
		}
	case t.Amount < 0:
		out := -t.Amount
		m.Outflow += out
		if debtCategories[cat] {
			m.DebtPayments += out
			m.Obligations += out
		} else if obligationCategories[cat] {
			m.Obligations += out
		}
	}
}

// lastMonths returns the last k months of ms (all of them when there are fewer).
func lastMonths(ms []MonthlyCashFlow, k int) []MonthlyCashFlow { return ms[max(0, len(ms)-k):] }

// monthValues returns get of each month as float64, for gonum.
func monthValues(ms []MonthlyCashFlow, get func(MonthlyCashFlow) int64) []float64 {
	x := make([]float64, len(ms))
	for i, m := range ms {
		x[i] = float64(get(m))
	}
	return x
}

// Month fields for monthValues.
func monthNet(m MonthlyCashFlow) int64     { return m.Net }
func monthInflow(m MonthlyCashFlow) int64  { return m.Inflow }
func monthOutflow(m MonthlyCashFlow) int64 { return m.Outflow }
func monthIncome(m MonthlyCashFlow) int64  { return m.Income }

type month struct{ start, end int64 } // day numbers, inclusive

// monthStart returns the day number of the first day of d's calendar month.
func monthStart(d int64) int64 {
	t := dayTime(d)
	return dayOf(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}

// lastCompleteMonthEnd returns the last day of the newest calendar month that is
// complete at cutoff day c: the cutoff month itself when c is its last day, otherwise
// the month before.
func lastCompleteMonthEnd(c int64) int64 {
	if monthStart(c+1) == c+1 {
		return c
	}
	return monthStart(c) - 1
}

// completeMonths returns the complete calendar months ending at or before cutoff day
// c whose first day is not before day first (a month the history only partly covers
// would understate flows), oldest first; at most limit months when limit > 0.
func completeMonths(first, c int64, limit int) []month {
	var out []month
	end := lastCompleteMonthEnd(c)
	for limit <= 0 || len(out) < limit {
		start := monthStart(end)
		if start < first {
			break
		}
		out = append(out, month{start, end})
		end = start - 1
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// countMonthsWithTxn counts complete calendar months (ending ≤ cutoff day c) with at
// least one posted transaction (A1, count variant); days are sorted.
func countMonthsWithTxn(days []int64, c int64) int {
	end := lastCompleteMonthEnd(c)
	n := 0
	prev := noDay
	for _, d := range days {
		if d > end {
			break
		}
		if ms := monthStart(d); ms != prev {
			n++
			prev = ms
		}
	}
	return n
}
