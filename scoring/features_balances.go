package scoring

import (
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// balanceFeatures computes group C, balances, from EOD, the combined end-of-day
// balance series of the cash accounts with a balance (DailyBalances), over the N
// calendar days ending on the cutoff day c, weekends included; minor units:
//
//	avg_daily_balance_Nd      = stat.Mean(EOD), 2 decimals                   N = 30, 90, 180
//	min_eod_balance_Nd        = floats.Min(EOD)                              N = 30, 90
//	eod_balance_pP_W          = stat.Quantile(P/100, Empirical, sorted EOD)  P = 10, 50, 90
//	days_negative_balance_Nd  = #days with EOD < 0                           N = 30, 90
//	balance_trend_ratio_Nd    = EOD(c) / EOD(c − N), ratio                   N = 30, 60, 90
//	current_balance           = Σ balance.current at as_of
//	current_available_balance = Σ balance.cash.available at as_of
//
// The quantile windows W are the last 30, 60 and 90 days and days 31–60 and 61–90
// before the cutoff; Empirical returns an observed value. An account without
// cash.available contributes its current balance (no holds reported).
//
// Empty input: with no balance every C feature is undefined; balance_trend_ratio_Nd
// is also undefined when EOD(c − N) ≤ 0. From fs-v3 it adds C7–C9
// (balanceHabitFeatures).
func (s *featureState) balanceFeatures(f *Features, u *undef) {
	s.balanceLevelFeatures(f, u)
	if s.set.v3 {
		s.balanceHabitFeatures(f, u)
	}
}

// balanceLevelFeatures computes C1–C6 (balanceFeatures).
func (s *featureState) balanceLevelFeatures(f *Features, u *undef) {
	b := s.balances
	if len(b.eod) == 0 {
		u.add("avg_daily_balance_30d", "avg_daily_balance_90d", "avg_daily_balance_180d",
			"min_eod_balance_30d", "min_eod_balance_90d", "days_negative_balance_30d", "days_negative_balance_90d",
			"balance_trend_ratio_30d", "balance_trend_ratio_60d", "balance_trend_ratio_90d",
			"current_balance", "current_available_balance")
		for _, w := range []string{"30d", "60d", "90d", "31_60d", "61_90d"} {
			for _, p := range []string{"p10", "p50", "p90"} {
				u.add("eod_balance_" + p + "_" + w)
			}
		}
		return
	}
	f.AvgDailyBalance30d = ptr(round2(stat.Mean(b.last(30), nil)))
	f.AvgDailyBalance90d = ptr(round2(b.mean90))
	f.AvgDailyBalance180d = ptr(round2(stat.Mean(b.x, nil)))
	f.MinEODBalance30d = ptr(int64(floats.Min(b.last(30)))) // exact: |EOD| < 2^53
	f.MinEODBalance90d = ptr(int64(floats.Min(b.last(90))))
	f.DaysNegative30d = ptr(countNegative(b.eod[len(b.eod)-30:]))
	f.DaysNegative90d = ptr(countNegative(b.eod[len(b.eod)-90:]))

	nx := len(b.x)
	f.EODP10_30d, f.EODP50_30d, f.EODP90_30d = eodPercentiles(sortedCopy(b.last(30)))
	f.EODP10_60d, f.EODP50_60d, f.EODP90_60d = eodPercentiles(sortedCopy(b.last(60)))
	f.EODP10_90d, f.EODP50_90d, f.EODP90_90d = eodPercentiles(b.sorted90)
	f.EODP10_31to60d, f.EODP50_31to60d, f.EODP90_31to60d = eodPercentiles(sortedCopy(b.x[nx-60 : nx-30]))
	f.EODP10_61to90d, f.EODP50_61to90d, f.EODP90_61to90d = eodPercentiles(sortedCopy(b.x[nx-90 : nx-60]))

	end := b.eod[len(b.eod)-1]
	for _, w := range []namedWindow{
		{30, &f.BalanceTrend30d, "balance_trend_ratio_30d"},
		{60, &f.BalanceTrend60d, "balance_trend_ratio_60d"},
		{90, &f.BalanceTrend90d, "balance_trend_ratio_90d"},
	} {
		den := b.eod[len(b.eod)-1-w.days]
		*w.dst = u.f(w.name, round4(float64(end)/float64(den)), den > 0)
	}
	f.CurrentBalance, f.CurrentAvailable = s.currentBalances()
}

// namedWindow is an N-day ratio feature: its window, its field and its json name.
type namedWindow struct {
	days int
	dst  **float64
	name string
}

// eodPercentiles returns the empirical 10th, 50th and 90th percentiles of the sorted
// EOD values (observed values, exact in int64 as |EOD| < 2^53).
func eodPercentiles(sorted []float64) (p10, p50, p90 *int64) {
	q := func(p float64) *int64 { return ptr(int64(stat.Quantile(p, stat.Empirical, sorted, nil))) }
	return q(0.10), q(0.50), q(0.90)
}

// currentBalances returns Σ balance.current and Σ balance.cash.available of the cash
// accounts with a balance (C6); an account without cash.available reports no holds, so
// its available balance is its current one.
func (s *featureState) currentBalances() (current, available *int64) {
	var cur, avail int64
	for _, a := range s.ledger.Accounts {
		if !s.cash[a.ID] || !a.HasBalance {
			continue
		}
		cur += a.Current
		if a.Available != nil {
			avail += *a.Available
		} else {
			avail += a.Current
		}
	}
	return ptr(cur), ptr(avail)
}

// balanceHabitFeatures computes the fs-v3 balance features C7–C9 from the EOD series
// over the balanceSeriesDays (180) days ending on the cutoff day c; group B must have
// run:
//
//	savings_balance_change_90d      = EODsav(c) − EODsav(c − 90)          minor units
//	cash_buffer_days                = avg_daily_balance_30d / (spend90 / 90)   days, 2 decimals
//	negative_balance_day_share_180d = #days with EOD < 0 / 180             ratio, 4 decimals
//
// EODsav is the summed EOD series of the linked savings accounts (subcategory
// "savings"). spend90 is outflow_total_90d without the flows categorised
// savings_transfer: money put aside is not spending. A negative buffer means the
// accounts are overdrawn on average.
//
// Empty input: savings_balance_change_90d is undefined without a linked savings account
// with a balance; cash_buffer_days without a balance or when spend90 = 0; the share
// without a balance.
func (s *featureState) balanceHabitFeatures(f *Features, u *undef) {
	sav := s.savingsEOD
	ok := len(sav) > 90
	delta := int64(0)
	if ok {
		delta = sav[len(sav)-1] - sav[len(sav)-1-90]
	}
	f.SavingsBalanceDelta = u.i64("savings_balance_change_90d", delta, ok)
	spend90 := f.OutflowTotal90d - s.outflow90[CategorySavingsTransfer]
	adb := 0.0
	if f.AvgDailyBalance30d != nil {
		adb = *f.AvgDailyBalance30d
	}
	f.CashBufferDays = u.f("cash_buffer_days", round2(adb/(float64(spend90)/float64(windows[window90d]))),
		f.AvgDailyBalance30d != nil && spend90 > 0)
	eod := s.balances.eod
	f.NegativeDayShare = u.f("negative_balance_day_share_180d", round4(float64(countNegative(eod))/float64(len(eod))),
		len(eod) > 0)
}
