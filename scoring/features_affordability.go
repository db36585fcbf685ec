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
// dscr_requested and residual_income_after_payment when D is undefined.
func (s *featureState) affordabilityFeatures(f *Features, u *undef) {
	f.PaymentToIncome = u.f("payment_to_income", round4(float64(f.ProposedPayment)/float64(f.MonthlyIncomeEst)), f.MonthlyIncomeEst > 0)
	if f.DebtPaymentsMonthly == nil {
		u.add("dscr_requested", "residual_income_after_payment")
		return
	}
	free := f.MonthlyIncomeEst - f.RecurringObligationsMonthly - *f.DebtPaymentsMonthly
	f.DSCRRequested = ptr(round4(float64(free) / float64(f.ProposedPayment)))
	f.ResidualIncome = ptr(free - f.ProposedPayment)
}
