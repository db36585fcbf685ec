package scoring

// historyFeatures computes group A, history and activity, from the posted cash
// transactions dated on or before the cutoff day c ("txns"; their UTC days d₁ ≤ … ≤ dₙ)
// and the flows among them (txns that are neither own-transfer legs nor fee reversals):
//
//	months_of_history        = (dₙ − d₁) / 30.44                          months, full history
//	complete_months_with_txn = #complete calendar months with a txn       count, full history
//	days_since_last_txn      = c − dₙ                                     days
//	days_since_last_inflow   = c − day of the newest txn with amount > 0  days
//	days_since_last_outflow  = c − day of the newest txn with amount < 0  days
//	longest_gap_days         = max (dᵢ₊₁ − dᵢ) over consecutive txn days  days, full history
//	days_without_txn         = (c − d₁ + 1) − #distinct txn days          days, full history
//	days_without_txn_90d     = 90 − #distinct txn days in (c − 90, c]     days, 90d
//	txn_count_inflow_Nd      = #flows with amount > 0 in (c − N days, c]  count, N = 30, 60, 90
//	txn_count_outflow_Nd     = #flows with amount < 0 in (c − N days, c]  count, N = 30, 60, 90
//
// The per-month longest gap is in monthly_cash_flow (buildMonths).
//
// Empty input: without txns the counts and months_of_history are 0,
// days_without_txn_90d is 90, and days_since_last_txn, longest_gap_days and
// days_without_txn are undefined; longest_gap_days is also undefined with a single
// txn day, and days_since_last_inflow (outflow) without a txn of that sign.
func (s *featureState) historyFeatures(f *Features, u *undef) {
	n := len(s.hist)
	distinct := distinctDays(s.days)
	span := 0
	if n > 0 {
		f.MonthsOfHistory = round4(float64(s.days[n-1]-s.days[0]) / daysPerMonth)
		span = int(s.c - s.days[0] + 1)
	}
	f.CompleteMonthsTxn = countMonthsWithTxn(s.days, s.c)
	f.DaysSinceLastTxn = u.i("days_since_last_txn", s.ageOf(n-1), n > 0)
	lastIn := s.lastIndex(func(i int) bool { return s.hist[i].Amount > 0 })
	lastOut := s.lastIndex(func(i int) bool { return s.hist[i].Amount < 0 })
	f.DaysSinceLastInflow = u.i("days_since_last_inflow", s.ageOf(lastIn), lastIn >= 0)
	f.DaysSinceLastOutflow = u.i("days_since_last_outflow", s.ageOf(lastOut), lastOut >= 0)
	f.LongestGapDays = u.i("longest_gap_days", longestGap(s.days), distinct >= 2)
	f.DaysWithoutTxn = u.i("days_without_txn", span-distinct, n > 0)
	w90 := s.win[window90d]
	f.DaysWithoutTxn90d = int(w90.days) - distinctDays(s.days[w90.start:])

	w30, w60 := s.win[window30d], s.win[window60d]
	f.TxnCountIn30d, f.TxnCountIn60d, f.TxnCountIn90d = w30.inCount, w60.inCount, w90.inCount
	f.TxnCountOut30d, f.TxnCountOut60d, f.TxnCountOut90d = w30.outCount, w60.outCount, w90.outCount
}

// distinctDays counts the distinct values of the ascending days.
func distinctDays(days []int64) int {
	n := 0
	for i, d := range days {
		if i == 0 || d != days[i-1] {
			n++
		}
	}
	return n
}

// longestGap returns the largest difference between consecutive ascending days, 0
// with fewer than two distinct days.
func longestGap(days []int64) int {
	gap := int64(0)
	for i := 1; i < len(days); i++ {
		gap = max(gap, days[i]-days[i-1])
	}
	return int(gap)
}
