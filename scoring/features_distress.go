package scoring

// distressFeatures computes group D, distress, from the posted cash transactions dated
// on or before the cutoff day c by category, own transfers and fee reversals
// included (they are evidence here); counts, in the window (c − N days, c]:
//
//	nsf_od_fee_count_Nd     = max(0, #NSF and overdraft fees − #fee reversals)  N = 30, 60, 90
//	nsf_od_fee_count_total  = the same over the full history
//	returned_item_count_90d = #returned_item txns (the items, not their fees)   N = 90
//	days_since_last_nsf     = c − day of the newest NSF or overdraft fee        days
//
// Empty input: the counts are 0; days_since_last_nsf is undefined without an NSF or
// overdraft fee. From fs-v3 it adds D4 (overdraftHabitFeatures).
func (s *featureState) distressFeatures(f *Features, u *undef) {
	f.NSFFeeCount30d = s.netNSFFees(s.win[window30d].start)
	f.NSFFeeCount60d = s.netNSFFees(s.win[window60d].start)
	f.NSFFeeCount90d = s.netNSFFees(s.win[window90d].start)
	f.NSFFeeCountTotal = s.netNSFFees(0)
	for i := s.win[window90d].start; i < len(s.hist); i++ {
		if s.cats[i] == CategoryReturnedItem {
			f.ReturnedItems90d++
		}
	}
	last := s.lastIndex(func(i int) bool { return isNSFODFee(s.cats[i]) })
	f.DaysSinceLastNSF = u.i("days_since_last_nsf", s.ageOf(last), last >= 0)
	if s.set.v3 {
		s.overdraftHabitFeatures(f, u)
	}
}

// overdraftHabitFeatures computes the fs-v3 distress feature D4 over the last 6
// complete months:
//
//	nsf_od_fee_months_6m = #months m with (#NSF and overdraft fees − #fee reversals)[m] > 0
//
// A habit shows as fees month after month; a burst of fees in one bad month counts
// once. Empty input: undefined without a complete month.
func (s *featureState) overdraftHabitFeatures(f *Features, u *undef) {
	ms := lastMonths(s.months, monthlyWindowMonths)
	net := make(map[string]int, len(ms))
	for i, c := range s.cats {
		if isNSFODFee(c) {
			net[dayTime(s.days[i]).Format("2006-01")]++
		} else if isFeeReversal(c) {
			net[dayTime(s.days[i]).Format("2006-01")]--
		}
	}
	n := 0
	for _, m := range ms {
		if net[m.Month] > 0 {
			n++
		}
	}
	f.NSFFeeMonths6m = u.i("nsf_od_fee_months_6m", n, len(ms) > 0)
}

// netNSFFees counts the NSF and overdraft fees in hist[start:] minus the fee reversals
// there, floored at 0: a reversed fee is not distress.
func (s *featureState) netNSFFees(start int) int {
	n := 0
	for _, c := range s.cats[start:] {
		if isNSFODFee(c) {
			n++
		} else if isFeeReversal(c) {
			n--
		}
	}
	return max(0, n)
}
