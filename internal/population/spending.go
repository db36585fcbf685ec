package population

import (
	"math"
	"time"
)

// Rates of inflows that are not income, per month.
const (
	refundsPerMonth = 0.3
	maxP2PPerMonth  = 3.0
	taxRefundChance = 0.6 // of filers who get a refund in a spring inside the history
	proceedsChance  = 0.3 // a personal loan taken out during the history shows its proceeds
	daysPerMonth    = 30.44
	minRefundMinor  = 800 // refunds of $8–$150, log-uniform
	maxRefundMinor  = 15000
	minP2PDollars   = 10
	maxP2PDollars   = 250
	// The IRS issues most refunds between mid-February and the end of April; the
	// average refund is a little over $3,000, the median far less.
	taxSeasonFromDay = 10
	taxSeasonToDay   = 30
	taxRefundMedian  = 1200.0
	taxRefundSigma   = 0.7
	minTaxRefund     = 100.0
	maxTaxRefund     = 8000.0
)

// scheduleOtherInflows schedules deposits that are not income: refunds, money from
// friends and family, and a tax refund each spring.
func (b *builder) scheduleOtherInflows() {
	p2p := b.r.uniform(0, maxP2PPerMonth)
	for i := range b.days() {
		if b.r.chance(refundsPerMonth / daysPerMonth) {
			amt := int64(math.Exp(b.r.uniform(math.Log(minRefundMinor), math.Log(maxRefundMinor))))
			b.add(i, event{minute: b.at(i, dayWindow), amount: amt,
				desc: b.payee(refundTemplates).describe(b.r, b.dates[i]), kind: evInflow})
		}
		if b.r.chance(p2p / daysPerMonth) {
			b.add(i, event{minute: b.at(i, p2pWindow), amount: 100 * b.r.between(minP2PDollars, maxP2PDollars),
				desc: b.payee(p2pTemplates).describe(b.r, b.dates[i]), kind: evInflow})
		}
	}
	for y := b.start.Year(); y <= b.dates[b.days()-1].Year(); y++ {
		from := b.dayIndex(time.Date(y, time.February, taxSeasonFromDay, 0, 0, 0, 0, time.UTC))
		to := b.dayIndex(time.Date(y, time.April, taxSeasonToDay, 0, 0, 0, 0, time.UTC))
		if from < 0 || to >= b.days() || !b.r.chance(taxRefundChance) {
			continue // only springs wholly inside the history, so every applicant is treated alike
		}
		i := from + b.r.intn(to-from+1)
		amt := int64(min(max(b.r.lognorm(taxRefundMedian, taxRefundSigma), minTaxRefund), maxTaxRefund) * 100)
		b.add(i, event{minute: b.at(i, earlyWindow), amount: amt,
			desc: b.payee(taxRefundTemplates).describe(b.r, b.dates[i]), kind: evInflow})
	}
}

// monthlyBill schedules a fixed or varying monthly debit on day dom of every month.
func (b *builder) monthlyBill(dom int, amount float64, spread float64, p payee, kind evKind) {
	for _, m := range b.monthsAround() {
		i := b.dayIndex(dayOfMonth(m, dom))
		if i < 0 || i >= b.days() {
			continue
		}
		amt := amount * (1 + spread*b.r.uniform(-1, 1))
		b.add(i, event{minute: b.at(i, achWindow), amount: -int64(math.Round(amt)),
			desc: p.describe(b.r, b.dates[i]), kind: kind})
	}
}

// Budget shares of consumption (SpendRatio × income). Housing: renters, owners with a
// mortgage, and those who live with family.
var (
	housingWeights      = []float64{0.72, 0.20, 0.08}
	billSharesInsured   = []float64{0.5, 0.25, 0.25} // utilities, phone, insurance
	billSharesUninsured = []float64{0.65, 0.35, 0}
)

const (
	minRentShare, maxRentShare         = 0.30, 0.45
	minMortgageShare, maxMortgageShare = 0.30, 0.40
	minBillsShare, maxBillsShare       = 0.08, 0.14
	lateRentChance                     = 0.3 // rent paid on one of the first five days, not the 1st
	rentGraceDays                      = 5
	maxSubscriptions                   = 4
	minSubscriptionMinor               = 999 // $9.99 …
	subscriptionPriceSteps             = 13  // … to $21.99
	insuranceChance                    = 0.65
	utilitySpread                      = 0.25 // utility bills vary ±25 % with the season
	cardPaymentSpread                  = 0.4  // card payments vary ±40 % with the statement
	minDiscretionaryShare              = 0.15 // housing and bills never leave less than this for the rest
	maxCommittedShare                  = 0.95 // housing, bills, debt and saving never exceed this share of income
)

// scheduleHousingAndBills schedules rent or a mortgage and the monthly bills, and returns
// what is left of consumption for purchases and cash (minor units a month).
func (b *builder) scheduleHousingAndBills() float64 {
	income := float64(b.t.MonthlyIncome)
	consumption := b.t.SpendRatio * income
	housing, tmpl := 0.0, rentTemplates
	switch b.r.weighted(housingWeights) {
	case 0:
		housing = consumption * b.r.uniform(minRentShare, maxRentShare)
	case 1:
		housing, tmpl = consumption*b.r.uniform(minMortgageShare, maxMortgageShare), mortgageTemplates
	}
	bills := consumption * b.r.uniform(minBillsShare, maxBillsShare)
	committed := housing + bills + (b.t.DebtShare+b.t.SavingsRate)*income
	if limit := maxCommittedShare * income; committed > limit && housing+bills > 0 {
		scale := max(0, (limit-(b.t.DebtShare+b.t.SavingsRate)*income)/(housing+bills))
		housing, bills = housing*scale, bills*scale
	}
	if housing > 0 {
		dom := 1
		if b.r.chance(lateRentChance) {
			dom = 1 + b.r.intn(rentGraceDays)
		}
		b.monthlyBill(dom, housing, 0, b.payee(tmpl), evBill)
	}
	var subs float64
	for range b.r.intn(maxSubscriptions) + 1 {
		s := float64(minSubscriptionMinor + 100*b.r.intn(subscriptionPriceSteps))
		subs += s
		b.monthlyBill(1+b.r.intn(28), s, 0, b.payee(subscriptionTemplates), evBill)
	}
	rest := max(bills-subs, 0)
	hasInsurance := b.r.chance(insuranceChance)
	shares := billSharesInsured // utilities, phone, insurance
	if !hasInsurance {
		shares = billSharesUninsured
	}
	b.monthlyBill(1+b.r.intn(28), rest*shares[0], utilitySpread, b.payee(utilityTemplates), evBill)
	b.monthlyBill(1+b.r.intn(28), rest*shares[1], 0, b.payee(phoneTemplates), evBill)
	if hasInsurance {
		b.monthlyBill(1+b.r.intn(28), rest*shares[2], 0, b.payee(insuranceTemplates), evBill)
	}
	return max(consumption-housing-bills, minDiscretionaryShare*consumption)
}

// Loans and buy now pay later.
const (
	proceedsFrom, proceedsTo         = 0.1, 0.8 // a new loan starts between 10 % and 80 % of the history
	minLoanPayments, maxLoanPayments = 15, 30   // its principal is 15–30 payments
	proceedsStepMinor                = 10000
	firstPaymentDays                 = 30
	bnplPlanDays                     = 42 // four instalments a fortnight apart span six weeks
	bnplInstalments                  = 4
	bnplIntervalDays                 = 14
	bnplGapDays                      = 28 // a new plan every four to eight weeks
	minBNPLPlan, maxBNPLPlan         = 0.6, 1.4
	bnplOverlap                      = 2.0 // plans overlap about half the time
)

// Debt instruments and how often households carry each.
var debtChances = []float64{0.60, 0.35, 0.25, 0.20, 0.25} // card, auto, student, personal, BNPL

// scheduleDebt schedules the debt service: card payments, auto, student and personal
// loan payments and buy-now-pay-later instalments, together DebtShare of income.
func (b *builder) scheduleDebt() {
	total := b.t.DebtShare * float64(b.t.MonthlyIncome)
	if total <= 0 {
		return
	}
	has := make([]bool, len(debtChances))
	w := make([]float64, len(debtChances))
	var sum float64
	for k, c := range debtChances {
		if has[k] = b.r.chance(c); has[k] {
			w[k] = b.r.uniform(minMixWeight, maxMixWeight)
			sum += w[k]
		}
	}
	if sum == 0 {
		has[0], w[0], sum = true, 1, 1
	}
	for k := range has {
		if !has[k] {
			continue
		}
		amt := total * w[k] / sum
		dom := 1 + b.r.intn(28)
		switch k {
		case 0:
			b.monthlyBill(dom, amt, cardPaymentSpread, b.payee(cardPaymentTemplates), evBill)
		case 1:
			b.monthlyBill(dom, amt, 0, b.payee(autoLoanTemplates), evBill)
		case 2:
			b.monthlyBill(dom, amt, 0, b.payee(studentLoanTemplates), evBill)
		case 3:
			b.personalLoan(dom, amt)
		default:
			b.bnpl(amt)
		}
	}
}

// personalLoan schedules a personal loan's payments; some loans start inside the
// history, with their proceeds deposited a month before the first payment.
func (b *builder) personalLoan(dom int, amt float64) {
	p := b.payee(personalLoanTemplates)
	from := 0
	if b.r.chance(proceedsChance) {
		from = int(float64(b.days()) * b.r.uniform(proceedsFrom, proceedsTo))
		proceeds := int64(amt*b.r.uniform(minLoanPayments, maxLoanPayments)/proceedsStepMinor) * proceedsStepMinor
		b.add(from, event{minute: b.at(from, afternoonWindow), amount: proceeds,
			desc: b.payee(loanProceedsTemplates).describe(b.r, b.dates[from]), kind: evInflow})
		from += firstPaymentDays
	}
	for _, m := range b.monthsAround() {
		i := b.dayIndex(dayOfMonth(m, dom))
		if i < from || i >= b.days() {
			continue
		}
		b.add(i, event{minute: b.at(i, achWindow), amount: -int64(math.Round(amt)), desc: p.describe(b.r, b.dates[i]), kind: evBill})
	}
}

// bnpl schedules buy-now-pay-later plans: four instalments a fortnight apart, a new plan
// now and then, averaging amt a month.
func (b *builder) bnpl(amt float64) {
	p := b.payee(bnplTemplates)
	for start := -bnplPlanDays + b.r.intn(bnplPlanDays); start < b.days(); start += bnplGapDays + b.r.intn(bnplGapDays) {
		inst := amt * 12 / 26 * b.r.uniform(minBNPLPlan, maxBNPLPlan) * bnplOverlap
		for k := range bnplInstalments {
			i := start + bnplIntervalDays*k
			if i >= 0 && i < b.days() {
				b.add(i, event{minute: b.at(i, achWindow), amount: -int64(math.Round(inst)), desc: p.describe(b.r, b.dates[i]), kind: evBill})
			}
		}
	}
}

// Purchases.
const (
	minPurchasesPerDay = 0.8
	maxPurchasesPerDay = 2.5
	purchaseSigma      = 0.5
	atmUserChance      = 0.5
	minATMShare        = 0.05 // cash users take 5 %–25 % of their spending in cash
	maxATMShare        = 0.25
	atmStepDollars     = 20 // $40–$200 a visit in $20 notes
	minATMSteps        = 2
	maxATMSteps        = 10
	minPurchaseMinor   = 50
	savePerPayChance   = 0.4  // some biweekly savers move money with every pay
	saveStepMinor      = 2500 // savers move round amounts, in $25 steps
)

// scheduleSpending schedules card purchases and cash withdrawals worth budget a month.
func (b *builder) scheduleSpending(budget float64) {
	lambda := b.r.uniform(minPurchasesPerDay, maxPurchasesPerDay)
	atmShare := 0.0
	if b.r.chance(atmUserChance) {
		atmShare = b.r.uniform(minATMShare, maxATMShare)
	}
	var meanTicket float64
	for _, m := range merchants {
		meanTicket += float64(m.ticket)
	}
	meanTicket /= float64(len(merchants))
	perPurchase := budget * (1 - atmShare) * 12 / 365 / lambda
	atm := b.payee(atmTemplates)
	atmAmount := 100 * float64(atmStepDollars*b.r.between(minATMSteps, maxATMSteps))
	atmPerDay := budget * atmShare * 12 / 365 / atmAmount
	correction := math.Exp(purchaseSigma * purchaseSigma / 2)
	for i := range b.days() {
		for range b.r.poisson(lambda) {
			m := merchants[b.r.intn(len(merchants))]
			amt := perPurchase * float64(m.ticket) / meanTicket * b.r.lognorm(1, purchaseSigma) / correction
			b.add(i, event{minute: b.at(i, shopWindow), amount: -max(int64(math.Round(amt)), minPurchaseMinor),
				desc: newPayee(b.r, m.desc, b.vars).describe(b.r, b.dates[i]), kind: evSpend})
		}
		if atmShare > 0 && b.r.chance(atmPerDay) {
			b.add(i, event{minute: b.at(i, shopWindow), amount: -int64(atmAmount),
				desc: atm.describe(b.r, b.dates[i]), kind: evSpend})
		}
	}
}

// scheduleSavings schedules the transfers to savings: a round amount on a fixed day of
// the month, or with every pay for some salaried savers.
func (b *builder) scheduleSavings() {
	if b.t.SavingsRate <= 0 {
		return
	}
	monthly := b.t.SavingsRate * float64(b.t.MonthlyIncome)
	var out, in payee
	if b.sav != nil {
		t := linkedSaveTemplates[b.saveTmpl]
		out = newPayee(b.r, t.out, map[string]string{"ACCT4": b.sav.last4})
		in = newPayee(b.r, t.in, map[string]string{"ACCT4": b.chk.last4})
	} else {
		out = newPayee(b.r, externalSaveTemplates[b.saveTmpl].out, b.vars)
	}
	roundTo := func(x float64) int64 { return max(int64(math.Round(x/saveStepMinor))*saveStepMinor, saveStepMinor) }
	add := func(i int, amt int64) {
		if i < 0 || i >= b.days() {
			return
		}
		ev := event{minute: b.at(i, lateDayWindow), amount: -amt, desc: out.describe(b.r, b.dates[i]), kind: evSave}
		if b.sav != nil {
			ev.savLeg = in.describe(b.r, b.dates[i])
		}
		b.add(i, ev)
	}
	if b.t.PayFrequency == Biweekly && b.r.chance(savePerPayChance) {
		days, _ := b.paydays(Biweekly)
		for _, pd := range days {
			add(pd.i+1, roundTo(monthly*12/26))
		}
		return
	}
	dom := 1 + b.r.intn(28)
	for _, m := range b.monthsAround() {
		add(b.dayIndex(dayOfMonth(m, dom)), roundTo(monthly))
	}
}
