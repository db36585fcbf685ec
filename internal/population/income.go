package population

import (
	"math"
	"time"
)

// Calendar helpers. Dates are midnight UTC.

// monthsAround returns the first day of every month from one month before the history
// to one month after it, so that schedules anchored on month days cover every day.
func (b *builder) monthsAround() []time.Time {
	first := time.Date(b.start.Year(), b.start.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	last := b.dates[b.days()-1].AddDate(0, 1, 0)
	var out []time.Time
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// dayOfMonth returns day d of month m, clamped to the month's length.
func dayOfMonth(m time.Time, d int) time.Time {
	last := m.AddDate(0, 1, -1).Day()
	return time.Date(m.Year(), m.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// businessBefore moves a weekend date back to Friday, as ACH pay and benefits do.
func businessBefore(d time.Time) time.Time {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// businessAfter moves a weekend date forward to Monday.
func businessAfter(d time.Time) time.Time {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// nthWeekday returns the n-th (1-based) weekday w of month m.
func nthWeekday(m time.Time, w time.Weekday, n int) time.Time {
	d := m
	for d.Weekday() != w {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 7*(n-1))
}

// weekdayDays returns the history indexes of every period-th weekday w, starting with the
// phase-th occurrence (phase < period/7), extended one period before the history.
func (b *builder) weekdayDays(w time.Weekday, period, phase int) []int {
	i := -period
	for b.start.AddDate(0, 0, i).Weekday() != w {
		i++
	}
	i += 7 * phase
	var out []int
	for ; i < b.days(); i += period {
		out = append(out, i)
	}
	return out
}

// scheduleIncome schedules every income deposit: salary, platform payouts and benefits,
// each share of the latent monthly income.
func (b *builder) scheduleIncome() {
	income := float64(b.t.MonthlyIncome)
	switch b.t.IncomeType {
	case Salaried, SalariedSideGig:
		b.scheduleSalary(income * (1 - b.t.GigShare))
	case Benefits:
		shares := []float64{1}
		if len(b.t.Benefits) == 2 {
			s := b.r.uniform(minPrimaryBenefitShare, maxPrimaryBenefitShare)
			shares = []float64{s, 1 - s}
		}
		for k, ben := range b.t.Benefits {
			b.scheduleBenefit(ben, income*shares[k])
		}
	}
	if b.t.GigShare > 0 {
		b.scheduleGig(income * b.t.GigShare)
	}
}

// Salary constants.
const (
	jobChangeFrom, jobChangeTo     = 0.2, 0.9   // a job change falls between 20 % and 90 % of the history
	minNewJobPay, maxNewJobPay     = 0.85, 1.25 // the new job pays 85 %–125 % of the old
	minRaise, maxRaise             = 1.02, 1.06
	minOvertime, maxOvertime       = 1.15, 1.5 // a pay with overtime
	minBonusMonths, maxBonusMonths = 0.3, 1.0  // a yearly bonus of a third to a whole month
	firstAnd15thChance             = 0.3       // semi-monthly pay on the 1st and 15th (else the 15th and the last day)
	uiWeeklyChance                 = 0.7       // most states pay unemployment weekly
	minUIPartial, maxUIPartial     = 0.4, 0.8  // a partial week's benefit
	ssaThirdChance                 = 0.2
	pensionFirstDayChance          = 0.5
	minPrimaryBenefitShare         = 0.55 // of two benefits, the first pays 55 %–80 %
	maxPrimaryBenefitShare         = 0.80
	// minMixWeight and maxMixWeight bound the relative weights that split income over
	// platforms and debt service over instruments.
	minMixWeight, maxMixWeight = 0.5, 1.5
	jobChangeChance            = 0.10 // a tenth of employees change jobs within a year and a half
	maxJobGapDays              = 21
	bonusChance                = 0.25 // a quarter get a yearly bonus
	raiseChance                = 0.30
	// payNoise scales the pay-to-pay variation of (1 − regularity): hours, shifts,
	// overtime; salaried pay at regularity 1 never varies.
	payNoise       = 0.25
	overtimeChance = 0.30 // per pay, scaled by (1 − regularity)
)

// scheduleSalary schedules pay worth monthly (minor units a month) on the applicant's
// pay frequency, with the amount noise of its regularity, now and then a bonus, a raise or
// a change of employer after a gap.
func (b *builder) scheduleSalary(monthly float64) {
	days, perYear := b.paydays(b.t.PayFrequency)
	irr := 1 - b.t.Regularity
	base := monthly * 12 / perYear
	emp := b.payee(payrollTemplates)
	change, gap, factor := b.days()+1, 0, 1.0
	var next payee
	if b.r.chance(jobChangeChance) {
		change = int(float64(b.days()) * b.r.uniform(jobChangeFrom, jobChangeTo))
		gap = b.r.intn(maxJobGapDays + 1)
		factor = b.r.uniform(minNewJobPay, maxNewJobPay)
		next = newPayee(b.r, pick(b.r, payrollTemplates), map[string]string{"EMP": pick(b.r, employers)})
	}
	raiseDay, raise := b.days()+1, 1.0
	if b.r.chance(raiseChance) {
		raiseDay, raise = b.r.intn(b.days()), b.r.uniform(minRaise, maxRaise)
	}
	bonusDay := -1
	if b.r.chance(bonusChance) {
		bonusDay = b.r.intn(b.days())
	}
	for _, pd := range days {
		i := pd.i
		p, amt := emp, base
		if i >= change {
			if i < change+gap {
				continue
			}
			p, amt = next, base*factor
		}
		if i >= raiseDay {
			amt *= raise
		}
		amt *= 1 + payNoise*math.Pow(irr, 1.2)*b.r.norm()
		if b.r.chance(overtimeChance * irr) {
			amt *= b.r.uniform(minOvertime, maxOvertime)
		}
		if bonusDay >= 0 && i >= bonusDay {
			amt += monthly * b.r.uniform(minBonusMonths, maxBonusMonths)
			bonusDay = -1
		}
		b.addIncome(i, b.at(i, payWindow), amt, pd.due, p, KindPay, "employer")
	}
}

// payday is a deposit day (history index) and the date it is due: pay due on a weekend
// arrives on the Friday before.
type payday struct {
	i   int
	due time.Time
}

// onDue returns the payday of a due date moved by adjust.
func (b *builder) onDue(due time.Time, adjust func(time.Time) time.Time) payday {
	return payday{i: b.dayIndex(adjust(due)), due: due}
}

// Pay days: most employers pay on Friday; monthly pay comes on the last business day, the
// first business day or the 15th.
var (
	payWeekdays           = []time.Weekday{time.Friday, time.Thursday, time.Wednesday}
	payWeekdayWeights     = []float64{0.7, 0.2, 0.1}
	monthlyPayRuleWeights = []float64{0.6, 0.25, 0.15}
)

// paydays returns the pay days of a frequency and the number of pays in a year.
func (b *builder) paydays(f PayFrequency) ([]payday, float64) {
	weekday := payWeekdays[b.r.weighted(payWeekdayWeights)]
	weekly := func(period, phase int) []payday {
		var out []payday
		for _, i := range b.weekdayDays(weekday, period, phase) {
			out = append(out, payday{i: i, due: b.start.AddDate(0, 0, i)})
		}
		return out
	}
	switch f {
	case Weekly:
		return weekly(7, 0), 52
	case Biweekly:
		return weekly(14, b.r.intn(2)), 26
	case SemiMonthly:
		firstAnd15th := b.r.chance(firstAnd15thChance)
		var out []payday
		for _, m := range b.monthsAround() {
			a, c := dayOfMonth(m, 15), dayOfMonth(m, 31)
			if firstAnd15th {
				a, c = m, dayOfMonth(m, 15)
			}
			out = append(out, b.onDue(a, businessBefore), b.onDue(c, businessBefore))
		}
		return out, 24
	default:
		rule := b.r.weighted(monthlyPayRuleWeights)
		var out []payday
		for _, m := range b.monthsAround() {
			switch rule {
			case 0:
				out = append(out, b.onDue(dayOfMonth(m, 31), businessBefore))
			case 1:
				out = append(out, b.onDue(m, businessAfter))
			default:
				out = append(out, b.onDue(dayOfMonth(m, 15), businessBefore))
			}
		}
		return out, 12
	}
}

// addIncome schedules an income deposit of amount (rounded to the cent, at least $1) on
// day i that pays for the month of due (see IncomeItem.Month).
func (b *builder) addIncome(i, minute int, amount float64, due time.Time, p payee, kind IncomeKind, source string) {
	if i < 0 || i >= b.days() {
		return
	}
	amt := max(int64(math.Round(amount)), 100)
	b.add(i, event{minute: minute, amount: amt, desc: p.describe(b.r, b.dates[i]), kind: evIncome,
		income: &IncomeItem{Month: due.Format(monthLayout), Kind: kind, Source: source, Template: p.template}})
}

// monthLayout formats IncomeItem.Month and Applicant.IncomeMonths.
const monthLayout = "2006-01"

// Benefit constants.
const (
	colaRate           = 0.025 // Social Security's cost-of-living adjustment each January
	uiMissedWeekChance = 0.04
	uiPartialChance    = 0.05
)

// scheduleBenefit schedules benefit deposits worth monthly (minor units a month) on the
// benefit's own calendar.
func (b *builder) scheduleBenefit(ben Benefit, monthly float64) {
	p := b.payee(benefitTemplates[ben])
	source := string(ben)
	cola := ben == SocialSecurity || ben == SSI || ben == Veterans
	asOfYear := b.dates[b.days()-1].Year()
	amountOn := func(d time.Time) float64 {
		if !cola {
			return monthly
		}
		return monthly / math.Pow(1+colaRate, float64(asOfYear-d.Year())) // COLA lands in January
	}
	if ben == Unemployment {
		weekly := b.r.chance(uiWeeklyChance)
		period, perMonth := 7, 52.0/12
		if !weekly {
			period, perMonth = 14, 26.0/12
		}
		w := []time.Weekday{time.Tuesday, time.Wednesday, time.Thursday}[b.r.intn(3)]
		for _, i := range b.weekdayDays(w, period, 0) {
			amt := monthly / perMonth
			switch {
			case b.r.chance(uiMissedWeekChance):
				continue
			case b.r.chance(uiPartialChance):
				amt *= b.r.uniform(minUIPartial, maxUIPartial)
			}
			b.addIncome(i, b.at(i, earlyWindow), amt, b.start.AddDate(0, 0, i), p, KindBenefit, source)
		}
		return
	}
	// due returns a month's due date; adjust moves it off weekends.
	var due func(m time.Time) time.Time
	adjust := businessBefore
	switch ben {
	case SocialSecurity:
		if b.r.chance(ssaThirdChance) { // on benefits since before 1997, or with SSI too: the 3rd
			due = func(m time.Time) time.Time { return dayOfMonth(m, 3) }
		} else { // the 2nd, 3rd or 4th Wednesday, by birthday
			n := 2 + b.r.intn(3)
			due = func(m time.Time) time.Time { return nthWeekday(m, time.Wednesday, n) }
		}
	case SSI, Veterans: // the 1st, or the business day before it (often in the month before)
		due = func(m time.Time) time.Time { return m }
	default: // pensions: the first or the last business day
		if b.r.chance(pensionFirstDayChance) {
			due, adjust = func(m time.Time) time.Time { return m }, businessAfter
		} else {
			due = func(m time.Time) time.Time { return dayOfMonth(m, 31) }
		}
	}
	for _, m := range b.monthsAround() {
		pd := b.onDue(due(m), adjust)
		b.addIncome(pd.i, b.at(pd.i, benefitWindow), amountOn(pd.due), pd.due, p, KindBenefit, source)
	}
}

// How platforms pay out.
type payoutMode uint8

const (
	payWeekly  payoutMode = iota // one deposit a week of the previous week's earnings
	payInstant                   // cash-outs on demand after work
	payMixed                     // weekly, with cash-outs in between
	payDaily                     // each business day, earnings of two days before
	payLumps                     // each project's earnings after a security hold (freelancing)
)

// platformPlan is how one platform pays an applicant.
type platformPlan struct {
	modes       []payoutMode
	modeWeights []float64
	weekday     time.Weekday // weekly deposit day
	dailySigma  float64      // spread of a working day's earnings
}

var platformPlans = map[Platform]platformPlan{
	Uber:        {[]payoutMode{payWeekly, payInstant, payMixed}, []float64{0.45, 0.25, 0.30}, time.Monday, 0.35},
	Lyft:        {[]payoutMode{payWeekly, payInstant, payMixed}, []float64{0.45, 0.25, 0.30}, time.Tuesday, 0.35},
	DoorDash:    {[]payoutMode{payWeekly, payInstant, payMixed}, []float64{0.45, 0.25, 0.30}, time.Wednesday, 0.40},
	Instacart:   {[]payoutMode{payWeekly, payInstant, payMixed}, []float64{0.45, 0.25, 0.30}, time.Wednesday, 0.40},
	Upwork:      {[]payoutMode{payLumps}, []float64{1}, time.Wednesday, 0.6},
	Etsy:        {[]payoutMode{payWeekly, payDaily, payInstant}, []float64{0.5, 0.3, 0.2}, time.Monday, 0.6},
	Shopify:     {[]payoutMode{payDaily, payWeekly}, []float64{0.6, 0.4}, time.Friday, 0.6},
	Stripe:      {[]payoutMode{payDaily, payWeekly}, []float64{0.6, 0.4}, time.Friday, 0.6},
	Marketplace: {[]payoutMode{payInstant, payWeekly}, []float64{0.6, 0.4}, time.Thursday, 0.7},
}

// Gig constants.
const (
	gigLeadDays    = 21 // earnings accrue three weeks before the history, so its first payouts are full
	instantCashout = 0.5
	mixedCashout   = 0.2
	weekOffChance  = 0.3 // per month, scaled by (1 − regularity): illness, a car repair, a holiday
	lumpHoldDays   = 5   // Upwork's security period before funds can be withdrawn
	settleDays     = 2   // daily payouts carry the sales of two days before (card settlement)
	// minProjectsPerMonth and maxProjectsPerMonth bound a freelancer's paid projects.
	minProjectsPerMonth, maxProjectsPerMonth = 1, 4
	minPayoutMinor                           = 100 // platforms pay nothing under a dollar
	// A month's earnings swing log-normally with σ = monthSigmaBase + monthSigmaIrreg·(1 −
	// regularity); a gig worker works a day with probability 0.35–0.85.
	monthSigmaBase   = 0.05
	monthSigmaIrreg  = 0.30
	workDayProbBase  = 0.35
	workDayProbRange = 0.50
)

// scheduleGig splits monthly (minor units a month) over the applicant's platforms and
// schedules each one's payouts.
func (b *builder) scheduleGig(monthly float64) {
	w := make([]float64, len(b.t.Platforms))
	var sum float64
	for k := range w {
		w[k] = b.r.uniform(minMixWeight, maxMixWeight)
		sum += w[k]
	}
	for k, pl := range b.t.Platforms {
		b.schedulePlatform(pl, monthly*w[k]/sum)
	}
}

// schedulePlatform draws a platform's daily earnings (work days, month-to-month swings,
// a week off now and then) and pays them out in the platform's way.
func (b *builder) schedulePlatform(pl Platform, monthly float64) {
	plan := platformPlans[pl]
	mode := plan.modes[b.r.weighted(plan.modeWeights)]
	tm := gigTemplates[pl]
	sched, inst := b.payee(tm.scheduled), b.payee(tm.instant)
	earn := b.gigEarnings(plan, mode, monthly)
	var acc float64 // earned, not yet paid
	pay := func(i int, p payee, amt float64, w window) {
		if amt < minPayoutMinor {
			return
		}
		if i >= 0 {
			b.addIncome(i, b.at(i, w), amt, b.start.AddDate(0, 0, i), p, KindGig, string(pl))
		}
		acc -= amt
	}
	for k := range earn {
		i := k - gigLeadDays
		var d time.Time
		if i < 0 {
			d = b.start.AddDate(0, 0, i)
		} else {
			d = b.dates[i]
		}
		switch mode {
		case payLumps:
			if k >= lumpHoldDays {
				pay(i, sched, earn[k-lumpHoldDays], lateDayWindow)
			}
			continue
		case payDaily: // sales settle after settleDays and are paid out on business days
			if k >= settleDays {
				acc += earn[k-settleDays]
			}
			if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
				pay(i, sched, acc, payWindow)
			}
			continue
		}
		if mode == payWeekly || mode == payMixed {
			if d.Weekday() == plan.weekday && k >= settleDays {
				pay(i, sched, acc, payWindow)
			}
		}
		acc += earn[k]
		q := mixedCashout
		if mode == payInstant {
			q = instantCashout
		}
		if earn[k] > 0 && mode != payWeekly && b.r.chance(q) {
			pay(i, inst, acc, eveningWindow)
		}
	}
}

// gigEarnings returns the earnings of each day from gigLeadDays before the history to
// the as-of day, averaging monthly a month: each day worked with the applicant's
// probability, a log-normal day, a log-normal month (wider for irregular earners) and a
// week off now and then. Freelancers earn in lumps, a few projects a month.
func (b *builder) gigEarnings(plan platformPlan, mode payoutMode, monthly float64) []float64 {
	irr := 1 - b.t.Regularity
	n := b.days() + gigLeadDays
	earn := make([]float64, n)
	perDay := monthly * 12 / 365
	monthSigma := monthSigmaBase + monthSigmaIrreg*irr
	active := workDayProbBase + workDayProbRange*b.r.float64()
	projects := 0.0
	if mode == payLumps {
		projects = b.r.uniform(minProjectsPerMonth, maxProjectsPerMonth)
		active = projects * 12 / 365
	}
	mean1 := func(sigma float64) float64 { return b.r.lognorm(1, sigma) / math.Exp(sigma*sigma/2) }
	monthMult, offFrom, curMonth := 1.0, -1, time.Month(0)
	for k := range n {
		d := b.start.AddDate(0, 0, k-gigLeadDays)
		if d.Month() != curMonth {
			curMonth, monthMult, offFrom = d.Month(), mean1(monthSigma), -1
			if b.r.chance(weekOffChance * irr) {
				offFrom = k + b.r.intn(24)
			}
		}
		if offFrom >= 0 && k >= offFrom && k < offFrom+7 {
			continue
		}
		if !b.r.chance(active) {
			continue
		}
		earn[k] = perDay / active * monthMult * mean1(plan.dailySigma)
	}
	return earn
}
