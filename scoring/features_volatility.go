package scoring

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// volatilityFeatures computes group G, volatility and trend, from the monthly series
// x[m] of the last 6 complete calendar months (buildMonths), the combined EOD balance
// series of the last 90 days and the daily net flow d[i] of the last N days, oldest
// first; std is the sample (n − 1) standard deviation of stat.MeanStdDev:
//
//	inflow_cv_6m (outflow, net_flow)  = std(x) / |mean(x)|                  ratio
//	inflow_std_6m (outflow, net_flow) = std(x)                              minor units
//	balance_volatility_90d            = stat.StdDev(EOD) / stat.Mean(EOD)   ratio
//	balance_iqr_90d                   = Q(0.75) − Q(0.25) of sorted EOD     minor units
//	net_flow_trend_slope_6m           = β / mean(inflow[m])                 ratio per month
//	cash_flow_trend_Nd                = (mean(d[:N/2]) − mean(d[N/2:])) / std(d)
//
// with β the slope of stat.LinearRegression(month index, net[m], nil, false) → (α, β),
// Q stat.Quantile with Empirical, and N = 30, 60, 90. A positive cash_flow_trend
// means a declining flow. Ratios are rounded to 4 decimals, the stds to 2.
//
// Empty input: the stds are undefined with fewer than 2 months; a CV also with |mean|
// below 1 minor unit, net_flow_cv_6m also when the net series changes sign; the
// slope with fewer than 3 months or a mean inflow below 1 minor unit; both balance
// features without a balance, balance_volatility_90d also with a mean EOD below 1
// minor unit; cash_flow_trend without txns or with a zero std.
func (s *featureState) volatilityFeatures(f *Features, u *undef) {
	m6 := lastMonths(s.months, monthlyWindowMonths)
	in6, out6, net6 := monthValues(m6, monthInflow), monthValues(m6, monthOutflow), monthValues(m6, monthNet)
	for _, g := range []struct {
		x          []float64
		cv, std    **float64
		cvN, stdN  string
		signChange bool
	}{
		{in6, &f.InflowCV6m, &f.InflowStd6m, "inflow_cv_6m", "inflow_std_6m", false},
		{out6, &f.OutflowCV6m, &f.OutflowStd6m, "outflow_cv_6m", "outflow_std_6m", false},
		{net6, &f.NetFlowCV6m, &f.NetFlowStd6m, "net_flow_cv_6m", "net_flow_std_6m", changesSign(net6)},
	} {
		mean, std := meanStd(g.x)
		enough := len(g.x) >= minStdValues
		*g.std = u.f(g.stdN, round2(std), enough)
		*g.cv = u.f(g.cvN, round4(std/math.Abs(mean)), enough && !g.signChange && math.Abs(mean) >= cvMeanEpsilon)
	}
	f.NetFlowTrendSlope6m = netFlowTrendSlope(in6, net6, u)
	if b := s.balances; len(b.eod) > 0 {
		f.BalanceVolatility90d = u.f("balance_volatility_90d", round4(stat.StdDev(b.last(90), nil)/b.mean90), b.mean90 >= cvMeanEpsilon)
		q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, b.sorted90, nil) }
		f.BalanceIQR90d = ptr(int64(q(0.75) - q(0.25)))
	} else {
		u.add("balance_volatility_90d", "balance_iqr_90d")
	}
	s.cashFlowTrends(f, u)
}

// netFlowTrendSlope returns the OLS slope of the monthly net flow on the month index
// divided by the mean monthly inflow (G3), undefined with fewer than minSlopeMonths
// months or a mean inflow below one minor unit.
func netFlowTrendSlope(in, net []float64, u *undef) *float64 {
	const name = "net_flow_trend_slope_6m"
	inMean := meanOf(in)
	if len(net) < minSlopeMonths || inMean < cvMeanEpsilon {
		u.add(name)
		return nil
	}
	xs := make([]float64, len(net))
	for i := range xs {
		xs[i] = float64(i)
	}
	_, beta := stat.LinearRegression(xs, net, nil, false)
	return u.f(name, round4(beta/inMean), true)
}

// cashFlowTrends computes cash_flow_trend_{30,60,90}d (G4) from the daily net flow of
// the last 90 days, oldest day first.
func (s *featureState) cashFlowTrends(f *Features, u *undef) {
	w90 := s.win[window90d]
	daily := make([]float64, w90.days) // by age c − day
	for i := w90.start; i < len(s.hist); i++ {
		if s.flow[i] {
			daily[s.c-s.days[i]] += float64(s.hist[i].Amount)
		}
	}
	for _, w := range []namedWindow{
		{30, &f.CashFlowTrend30d, "cash_flow_trend_30d"},
		{60, &f.CashFlowTrend60d, "cash_flow_trend_60d"},
		{90, &f.CashFlowTrend90d, "cash_flow_trend_90d"},
	} {
		x := make([]float64, w.days)
		for age := range w.days {
			x[w.days-1-age] = daily[age]
		}
		std := stat.StdDev(x, nil)
		h := w.days / 2
		trend := (stat.Mean(x[:h], nil) - stat.Mean(x[h:], nil)) / std
		*w.dst = u.f(w.name, round4(trend), len(s.hist) > 0 && std > 0)
	}
}
