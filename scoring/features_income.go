package scoring

// incomeFeatures computes group E, income, from the recurring streams (findStreams)
// and the complete calendar months (buildMonths). income[m] is the inflow of MATURE
// income-stream occurrences dated in month m; the primary stream is the largest
// active MATURE income stream, else the largest MATURE one:
//
//	income_streams              = inflow streams, by monthly amount descending (E1)
//	monthly_income_est          = Σ monthly_amount of active MATURE income streams
//	income_cv                   = std / mean of income[m] (stat.MeanStdDev, n − 1)
//	income_consistency          = #{m : income[m] > 0, income[m] ≥ 0.8 · median} / #months
//	consecutive_income_months   = #months in the run with income[m] > 0 ending at the newest
//	payroll_share_of_inflow_90d = Σ payroll inflow in (c − 90 days, c] / inflow_total_90d
//	days_since_last_income      = c − last_date of the primary stream
//	next_income_date            = predicted_next_date of the primary stream
//
// outflow_streams (E1, outflow side) are the outflow streams likewise. Units: minor
// units per month for the estimate, ratios to 4 decimals, days, YYYY-MM-DD. Windows:
// income_cv the last 6 months, income_consistency the last 12, with the median
// stat.Quantile(0.5, Empirical) of the sorted months; the run the full history.
//
// Empty input: the streams are [], monthly_income_est and the run are 0; income_cv is
// undefined with fewer than 2 months or a mean below 1 minor unit, income_consistency
// without a complete month, the payroll share when inflow_total_90d = 0, and
// days_since_last_income and next_income_date without a MATURE income stream.
func (s *featureState) incomeFeatures(f *Features, u *undef) {
	f.IncomeStreams, f.OutflowStreams = s.incomeStreams, s.outflowStreams
	var primary *Stream
	var regular []Stream
	for i := range f.IncomeStreams {
		st := &f.IncomeStreams[i]
		if st.Status != StreamMature {
			continue
		}
		if st.IsActive {
			f.MonthlyIncomeEst += st.MonthlyAmount
			regular = append(regular, *st)
		}
		if primary == nil || (st.IsActive && !primary.IsActive) {
			primary = st
		}
	}
	if s.set.income == incomeFromAllSources {
		s.incomeSourceFeatures(f, u, regular)
	}
	inc6 := monthValues(lastMonths(s.months, monthlyWindowMonths), monthIncome)
	incMean, incStd := meanStd(inc6)
	f.IncomeCV = u.f("income_cv", round4(incStd/incMean), len(inc6) >= minStdValues && incMean >= cvMeanEpsilon)
	inc12 := monthValues(lastMonths(s.months, incomeConsistencyMonths), monthIncome)
	f.IncomeConsistency = u.f("income_consistency", round4(consistentShare(inc12)), len(inc12) > 0)
	for i := len(s.months) - 1; i >= 0 && s.months[i].Income > 0; i-- {
		f.ConsecutiveIncomeMonths++
	}
	f.PayrollShare90d = s.inflowShare90(CategoryPayroll, "payroll_share_of_inflow_90d", u)
	if s.income != nil { // fs-v3: the newest recognised income deposit, streams or not
		last := s.lastIndex(func(i int) bool { return s.income[i] })
		f.DaysSinceLastIncome = u.i("days_since_last_income", s.ageOf(last), last >= 0)
	}
	if primary == nil {
		if s.income == nil {
			u.add("days_since_last_income")
		}
		u.add("next_income_date")
		return
	}
	if s.income == nil {
		f.DaysSinceLastIncome = ptr(int(s.c - dayOf(mustDay(primary.LastDate))))
	}
	f.NextIncomeDate = ptr(primary.PredictedNextDate)
}

// incomeSourceFeatures computes the fs-v3 income estimate and its insights (E2, E8)
// with estimateIncome, given the active MATURE income streams:
//
//	monthly_income_est       = income_regular_monthly + income_irregular_monthly
//	income_regular_monthly   = Σ monthly_amount of the active MATURE income streams
//	income_irregular_monthly = Σ over categories of the monthly average of the other
//	                           recognised income over income_months_used
//	income_regular_share     = income_regular_monthly / monthly_income_est, 4 decimals
//	income_sources           = the streams and categories with their monthly amounts
//	income_confidence        = high, medium, low or none (incomeConfidence)
//	income_months_used       = the months irregular income is averaged over (YYYY-MM)
//
// Empty input: the amounts are 0, income_sources and income_months_used [],
// income_confidence "none", and income_regular_share undefined when the estimate is 0.
func (s *featureState) incomeSourceFeatures(f *Features, u *undef, regular []Stream) {
	est := s.estimateIncome(regular)
	f.IncomeRegularMonthly, f.IncomeIrregularMonthly = est.regular, est.irregular
	f.MonthlyIncomeEst = est.regular + est.irregular
	f.IncomeRegularShare = u.f("income_regular_share", round4(float64(est.regular)/float64(f.MonthlyIncomeEst)),
		f.MonthlyIncomeEst > 0)
	f.IncomeSources = append([]IncomeSource{}, est.sources...)
	f.IncomeConfidence = est.confidence
	f.IncomeMonthsUsed = []string{}
	for _, m := range est.months {
		f.IncomeMonthsUsed = append(f.IncomeMonthsUsed, m.Month)
	}
}

// consistentShare returns the share of months whose income is positive and at least
// incomeConsistencyShare of the median month (E4); 0 without months.
func consistentShare(income []float64) float64 {
	if len(income) == 0 {
		return 0
	}
	floor := incomeConsistencyShare * quantile(0.5, income)
	ok := 0
	for _, v := range income {
		if v > 0 && v >= floor {
			ok++
		}
	}
	return float64(ok) / float64(len(income))
}

// inflowShare90 returns Σ inflow of category cat over the 90-day flows divided by
// inflow_total_90d, rounded to 4 decimals (E6, I2); undefined (listed as name) when
// the total is 0.
func (s *featureState) inflowShare90(cat Category, name string, u *undef) *float64 {
	total := s.win[window90d].in
	return u.f(name, round4(float64(s.inflow90[cat])/float64(total)), total > 0)
}
