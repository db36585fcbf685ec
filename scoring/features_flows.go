package scoring

// flowFeatures computes group B, flows, from the flows (posted cash transactions dated
// on or before the cutoff day c, neither own-transfer legs nor fee reversals) and the
// complete calendar months; inflow = amount > 0, outflow = −amount for amount < 0,
// exact int64 sums in minor units:
//
//	inflow_total_Nd          = Σ inflow over (c − N days, c]            N = 30, 60, 90
//	outflow_total_Nd         = Σ outflow over (c − N days, c]           N = 30, 60, 90
//	own_transfer_count_90d   = #own-transfer legs in (c − 90 days, c]   count
//	monthly_cash_flow        = the last 12 complete months (buildMonths), oldest first
//	net_cash_flow_mean_km    = stat.Mean(net[m])                        k = 3, 6, 12 months
//	net_cash_flow_median_km  = stat.Quantile(0.5, Empirical, net[m])    k = 3, 6, 12 months
//	free_cash_flow_avg_km    = stat.Mean(income[m] − obligations[m])    k = 3, 6 months
//
// over the last k complete months, with net[m] = inflow[m] − outflow[m] and
// obligations[m] the recurring-obligation, essential-spend and debt-service outflow by
// category; the median sorts a copy first. Means and medians are rounded to 2 decimals
// of a minor unit.
//
// Empty input: the totals and the count are 0 and monthly_cash_flow is []; with no
// complete month the means and medians are undefined. From fs-v3 it adds B6
// (savingsFlowFeatures).
func (s *featureState) flowFeatures(f *Features, u *undef) {
	w30, w60, w90 := s.win[window30d], s.win[window60d], s.win[window90d]
	f.InflowTotal30d, f.InflowTotal60d, f.InflowTotal90d = w30.in, w60.in, w90.in
	f.OutflowTotal30d, f.OutflowTotal60d, f.OutflowTotal90d = w30.out, w60.out, w90.out
	for i := w90.start; i < len(s.hist); i++ {
		if s.own[i] {
			f.OwnTransfers90d++
		}
	}
	f.MonthlyCashFlow = append([]MonthlyCashFlow{}, lastMonths(s.months, monthlySeriesMonths)...)
	for _, w := range []struct {
		k            int
		mean, median **float64
		mName, dName string
	}{
		{3, &f.NetCashFlowMean3m, &f.NetCashFlowMed3m, "net_cash_flow_mean_3m", "net_cash_flow_median_3m"},
		{6, &f.NetCashFlowMean, &f.NetCashFlowMedian, "net_cash_flow_mean_6m", "net_cash_flow_median_6m"},
		{12, &f.NetCashFlowMean12, &f.NetCashFlowMed12, "net_cash_flow_mean_12m", "net_cash_flow_median_12m"},
	} {
		x := monthValues(lastMonths(s.months, w.k), monthNet)
		*w.mean = u.f(w.mName, round2(meanOf(x)), len(x) > 0)
		*w.median = u.f(w.dName, round2(quantile(0.5, x)), len(x) > 0)
	}
	fcf := func(m MonthlyCashFlow) int64 { return m.Income - m.Obligations }
	x3, x6 := monthValues(lastMonths(s.months, 3), fcf), monthValues(lastMonths(s.months, 6), fcf)
	f.FreeCashFlowAvg3m = u.f("free_cash_flow_avg_3m", round2(meanOf(x3)), len(x3) > 0)
	f.FreeCashFlowAvg6m = u.f("free_cash_flow_avg_6m", round2(meanOf(x6)), len(x6) > 0)
	if s.set.v3 {
		s.savingsFlowFeatures(f, u)
	}
}
