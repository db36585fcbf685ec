package scoring

// affordabilityFeatures computes group H, affordability, from the proposed monthly
// payment P (ProposedPayment at PolicyAPR) and from groups E and F, which must have
// run: I = monthly_income_est (E2), O = recurring_obligations_monthly (F2) and
// D = debt_payments_monthly (F1); minor units per month:
//
//	dscr_requested                = (I − O − D) / P   ratio, 4 decimals
//	payment_to_income             = P / I             ratio, 4 decimals
//	residual_income_after_payment = I − O − D − P     minor units per month
//
// Empty input: payment_to_income is undefined when no income is detected (I = 0);
// dscr_requested and residual_income_after_payment when D is undefined. From fs-v3 it
// adds H4–H7 (incomeRatioFeatures).
func (s *featureState) affordabilityFeatures(f *Features, u *undef) {
	f.PaymentToIncome = u.f("payment_to_income", round4(float64(f.ProposedPayment)/float64(f.MonthlyIncomeEst)), f.MonthlyIncomeEst > 0)
	if s.set.v3 {
		s.incomeRatioFeatures(f, u)
	}
	if f.DebtPaymentsMonthly == nil {
		u.add("dscr_requested", "residual_income_after_payment")
		return
	}
	free := f.MonthlyIncomeEst - f.RecurringObligationsMonthly - *f.DebtPaymentsMonthly
	f.DSCRRequested = ptr(round4(float64(free) / float64(f.ProposedPayment)))
	f.ResidualIncome = ptr(free - f.ProposedPayment)
}

// incomeRatioFeatures computes the fs-v3 features H4–H7, what the applicant pays and
// puts aside against income, from I = monthly_income_est (E2), D =
// debt_payments_monthly (F1), O = recurring_obligations_monthly (F2) and the savings
// flows of the last 6 complete months (B6); ratios to 4 decimals:
//
//	debt_to_income        = D / I                                     H4
//	obligations_to_income = (D + O) / I                               H5
//	spend_to_income_6m    = stat.Mean(outflow[m] − saved[m]) / I       H6
//	savings_rate_6m       = savings_transfer_net_monthly_6m / I       H7
//
// outflow[m] is the month's outflow (B3) and saved[m] the part of it that went to
// savings outside the linked accounts (monthSavings.flowOut).
//
// Empty input: every ratio is undefined when I = 0; debt_to_income and
// obligations_to_income also when D is undefined, spend_to_income_6m and
// savings_rate_6m without a complete month.
func (s *featureState) incomeRatioFeatures(f *Features, u *undef) {
	income := float64(f.MonthlyIncomeEst)
	hasIncome, hasDebt := f.MonthlyIncomeEst > 0, f.DebtPaymentsMonthly != nil
	debt := int64(0)
	if hasDebt {
		debt = *f.DebtPaymentsMonthly
	}
	f.DebtToIncome = u.f("debt_to_income", round4(float64(debt)/income), hasIncome && hasDebt)
	f.ObligationsToIncome = u.f("obligations_to_income", round4(float64(debt+f.RecurringObligationsMonthly)/income),
		hasIncome && hasDebt)
	ms, sav := lastMonths(s.months, monthlyWindowMonths), s.lastSavings(monthlyWindowMonths)
	spend := make([]float64, len(ms))
	for i, m := range ms {
		spend[i] = float64(m.Outflow - sav[i].flowOut)
	}
	f.SpendToIncome6m = u.f("spend_to_income_6m", round4(meanOf(spend)/income), hasIncome && len(spend) > 0)
	saved := 0.0
	if f.SavingsNetMonthly != nil {
		saved = *f.SavingsNetMonthly
	}
	f.SavingsRate6m = u.f("savings_rate_6m", round4(saved/income), hasIncome && f.SavingsNetMonthly != nil)
}
