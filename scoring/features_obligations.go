package scoring

import "math"

// obligationFeatures computes group F, obligations, from the complete calendar months
// (buildMonths) and the outflow streams (findStreams); minor units per month:
//
//	debt_payments_monthly         = stat.Mean(debt-service outflow[m]), rounded, last 3 months
//	recurring_obligations_monthly = Σ monthly_amount of active MATURE outflow streams
//	                                categorised rent, utilities, insurance or subscription
//
// Debt service is loan_payment, card_payment, bnpl, payday_lender and mca; debt
// streams count in F1 only, so F2 leaves them out.
//
// Empty input: debt_payments_monthly is undefined without a complete month;
// recurring_obligations_monthly is 0 without a stream.
func (s *featureState) obligationFeatures(f *Features, u *undef) {
	debt3 := monthValues(lastMonths(s.months, 3), func(m MonthlyCashFlow) int64 { return m.DebtPayments })
	f.DebtPaymentsMonthly = u.i64("debt_payments_monthly", int64(math.Round(meanOf(debt3))), len(debt3) > 0)
	for _, st := range s.outflowStreams {
		if st.Status == StreamMature && st.IsActive && obligationCategories[st.Category] {
			f.RecurringObligationsMonthly += st.MonthlyAmount
		}
	}
}
