package scoring

import "gonum.org/v1/gonum/stat"

// otherRiskFeatures computes group I, other risk, from the flows in (c − 90 days, c]
// and monthly_income_est (E2, so group E must have run); minor units unless noted:
//
//	large_deposit_count_Nd  = #inflows a in (c − N days, c], N = 60, 90, that are not
//	                          explained (explainedDeposit: income, refunds…), with
//	                          a ≥ LargeDepositFloorMinor and
//	                          (a > 0.5 · monthly_income_est or a > mean + 2σ)
//	cash_deposit_share_90d  = Σ cash_deposit inflow / inflow_total_90d   ratio, 4 decimals
//	risk_outflow_K_90d      = Σ outflow categorised K, K = gambling, payday (payday_lender),
//	                          mca, collections
//	inflow_by_category_90d  = Σ inflow per category
//	outflow_by_category_90d = Σ outflow per category
//	account_age_days        = always undefined: FC v76 exposes no opening date
//
// The 0.5 share is Fannie Mae's large-deposit test and applies when
// monthly_income_est > 0; mean and σ are stat.MeanStdDev (n − 1) of the 90-day
// inflows and apply with at least two of them.
//
// Empty input: the counts and sums are 0, the maps {}, and cash_deposit_share_90d is
// undefined when inflow_total_90d = 0.
func (s *featureState) otherRiskFeatures(f *Features, u *undef) {
	f.LargeDeposits60d, f.LargeDeposits90d = s.largeDeposits(f.MonthlyIncomeEst)
	f.CashDepositShare90d = s.inflowShare90(CategoryCashDeposit, "cash_deposit_share_90d", u)
	f.RiskGambling90d = s.outflow90[CategoryGambling]
	f.RiskPayday90d = s.outflow90[CategoryPaydayLender]
	f.RiskMCA90d = s.outflow90[CategoryMCA]
	f.RiskCollections90d = s.outflow90[CategoryCollections]
	f.InflowByCategory90d, f.OutflowByCategory90d = s.inflow90, s.outflow90
	u.add("account_age_days")
}

// explainedDeposit reports whether inflow hist[i] is explained, so never a large
// deposit to verify (I1): recognised income (fs-v3: an occurrence of a MATURE income
// stream or a deposit of an income category, gig payouts included; fs-v2: MATURE
// income-stream occurrences only) or an explained category of the feature set (fee
// reversals, returned items, refunds, payday advances; from fs-v3 also interest,
// savings withdrawals and tax refunds).
func (s *featureState) explainedDeposit(i int) bool {
	return s.isIncome(i) || s.set.explained[s.cats[i]]
}

// largeDeposits counts the large deposits (I1) of the last 60 and 90 days that are not
// explained (explainedDeposit), given monthly_income_est incomeEst.
func (s *featureState) largeDeposits(incomeEst int64) (n60, n90 int) {
	w60, w90 := s.win[window60d], s.win[window90d]
	var deposits []float64
	for i := w90.start; i < len(s.hist); i++ {
		if s.flow[i] && s.hist[i].Amount > 0 {
			deposits = append(deposits, float64(s.hist[i].Amount))
		}
	}
	var mean, std float64
	useSigma := len(deposits) >= minStdValues
	if useSigma {
		mean, std = stat.MeanStdDev(deposits, nil)
	}
	for i := w90.start; i < len(s.hist); i++ {
		t := &s.hist[i]
		if t.Amount <= 0 || !s.flow[i] || s.explainedDeposit(i) || t.Amount < LargeDepositFloorMinor {
			continue
		}
		a := float64(t.Amount)
		if (incomeEst > 0 && a > largeDepositIncomeShare*float64(incomeEst)) ||
			(useSigma && a > mean+largeDepositSigmas*std) {
			n90++
			if i >= w60.start {
				n60++
			}
		}
	}
	return n60, n90
}
