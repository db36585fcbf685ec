package scoring

// monthSavings is one complete month's savings flows (fs-v3), minor units ≥ 0, of the
// transactions of the accounts that are not savings accounts (the other side of a
// transfer between a linked checking and savings account is the same money).
type monthSavings struct {
	// in is the money moved to savings: outflows categorised savings_transfer, and
	// own-transfer legs whose other leg lands in a linked savings account.
	in int64
	// out is the money moved back: inflows categorised savings_withdrawal, and
	// own-transfer legs whose other leg leaves a linked savings account.
	out int64
	// flowOut is the part of the month's outflow (MonthlyCashFlow.Outflow) that went
	// to savings outside the linked accounts: saving, not spending.
	flowOut int64
}

// buildSavings returns the savings flows of every month of s.months, in its order.
func (s *featureState) buildSavings() []monthSavings {
	out := make([]monthSavings, len(s.months))
	if len(s.months) == 0 {
		return out
	}
	idx := make(map[string]int, len(s.months))
	for i, m := range s.months {
		idx[m.Month] = i
	}
	savings := s.savingsAccounts()
	for i := range s.hist {
		t := &s.hist[i]
		var m int
		var ok bool
		if k, fits := monthKey(s.days[i]); fits {
			m, ok = idx[string(k[:])]
		} else {
			m, ok = idx[dayTime(s.days[i]).Format("2006-01")]
		}
		if !ok || savings[t.AccountID] {
			continue
		}
		withSavings := s.pair[i] >= 0 && savings[s.hist[s.pair[i]].AccountID] // the other leg is in savings
		switch {
		case t.Amount < 0 && (s.cats[i] == CategorySavingsTransfer || withSavings):
			out[m].in -= t.Amount
			if s.flow[i] {
				out[m].flowOut -= t.Amount
			}
		case t.Amount > 0 && (s.cats[i] == CategorySavingsWithdrawal || withSavings):
			out[m].out += t.Amount
		}
	}
	return out
}

// lastSavings returns the savings flows of the last k complete months.
func (s *featureState) lastSavings(k int) []monthSavings { return s.savings[max(0, len(s.savings)-k):] }

// savingsFlowFeatures computes the fs-v3 savings feature of group B over the last 6
// complete months (monthSavings); minor units per month:
//
//	savings_transfer_net_monthly_6m = stat.Mean(in[m] − out[m]), 2 decimals   B6
//
// in[m] is the money moved to savings accounts and products in month m, out[m] the
// money moved back; negative when the applicant draws savings down.
//
// Empty input: undefined without a complete month.
func (s *featureState) savingsFlowFeatures(f *Features, u *undef) {
	ms := s.lastSavings(monthlyWindowMonths)
	net := make([]float64, len(ms))
	for i, m := range ms {
		net[i] = float64(m.in - m.out)
	}
	f.SavingsNetMonthly = u.f("savings_transfer_net_monthly_6m", round2(meanOf(net)), len(net) > 0)
}
