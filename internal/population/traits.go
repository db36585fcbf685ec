package population

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// IncomeType is how an applicant earns.
type IncomeType string

// Income types of the population.
const (
	// Salaried: pay from one employer (two after a job change) on a fixed schedule.
	Salaried IncomeType = "salaried"
	// Gig: payouts from one to four platforms, irregular in amount and date.
	Gig IncomeType = "gig"
	// Benefits: Social Security, SSI, pensions, VA or unemployment benefits.
	Benefits IncomeType = "benefits"
	// SalariedSideGig: pay plus payouts from one or two platforms.
	SalariedSideGig IncomeType = "salaried_side_gig"
)

// IncomeTypes returns every income type in report order.
func IncomeTypes() []IncomeType { return []IncomeType{Salaried, Gig, Benefits, SalariedSideGig} }

// incomeTypeShares is the population mix, in the order of IncomeTypes: gig work is
// over-represented against the labour force (about a tenth) on purpose, because it is
// where a cash-flow model must prove itself.
var incomeTypeShares = []float64{0.45, 0.25, 0.15, 0.15}

// Platform is a gig or selling platform that pays an applicant.
type Platform string

// Platforms paying gig income. Marketplace stands for resale marketplaces (eBay,
// Poshmark, Mercari, Amazon sellers).
const (
	Uber        Platform = "uber"
	Lyft        Platform = "lyft"
	DoorDash    Platform = "doordash"
	Instacart   Platform = "instacart"
	Upwork      Platform = "upwork"
	Etsy        Platform = "etsy"
	Shopify     Platform = "shopify"
	Stripe      Platform = "stripe"
	Marketplace Platform = "marketplace"
)

// platforms and their popularity weights (drivers and delivery dominate gig work).
var (
	platforms       = []Platform{Uber, Lyft, DoorDash, Instacart, Upwork, Etsy, Shopify, Stripe, Marketplace}
	platformWeights = []float64{0.20, 0.12, 0.20, 0.12, 0.10, 0.07, 0.06, 0.05, 0.08}
)

// Benefit is a kind of benefit income.
type Benefit string

// Benefits paid to the population.
const (
	SocialSecurity Benefit = "ssa"          // retirement or disability, monthly on a Wednesday or the 3rd
	SSI            Benefit = "ssi"          // Supplemental Security Income, monthly on the 1st
	Pension        Benefit = "pension"      // employer or public pension, monthly
	Veterans       Benefit = "va"           // VA compensation, monthly on the 1st
	Unemployment   Benefit = "unemployment" // state unemployment insurance, weekly or biweekly
)

var (
	primaryBenefits      = []Benefit{SocialSecurity, SSI, Pension, Veterans, Unemployment}
	primaryBenefitShares = []float64{0.50, 0.15, 0.10, 0.10, 0.15}
)

// PayFrequency is a salary's schedule.
type PayFrequency string

// Pay frequencies and their shares among US employers (biweekly is the most common).
const (
	Weekly      PayFrequency = "weekly"
	Biweekly    PayFrequency = "biweekly"
	SemiMonthly PayFrequency = "semi_monthly"
	Monthly     PayFrequency = "monthly"
)

var (
	payFrequencies      = []PayFrequency{Weekly, Biweekly, SemiMonthly, Monthly}
	payFrequencyWeights = []float64{0.12, 0.50, 0.23, 0.15}
)

// Traits are an applicant's latent characteristics. They show in the ledger only through
// behaviour, and they alone (with the loan) set the true probability of default.
type Traits struct {
	IncomeType IncomeType `json:"income_type"`
	// MonthlyIncome is the latent income rate (minor units a month) that deposits are
	// drawn around; TrueMonthlyIncome is what was actually deposited.
	MonthlyIncome int64 `json:"monthly_income"`
	// GigShare is the share of MonthlyIncome paid by platforms (1 for gig earners).
	GigShare     float64      `json:"gig_share"`
	Platforms    []Platform   `json:"platforms,omitempty"`
	PayFrequency PayFrequency `json:"pay_frequency,omitempty"`
	Benefits     []Benefit    `json:"benefits,omitempty"`
	// Regularity in [0, 1]: 1 is pay of the same amount on the same schedule; lower
	// values vary amounts, skip weeks and change how much is worked month to month.
	Regularity float64 `json:"regularity"`
	// SpendRatio is consumption (housing, bills, purchases, cash) over income.
	SpendRatio float64 `json:"spend_ratio"`
	// DebtShare is debt service (loans, buy-now-pay-later, card payments) over income.
	DebtShare float64 `json:"debt_share"`
	// SavingsRate is the share of income moved to savings (0 for non-savers).
	SavingsRate float64 `json:"savings_rate"`
	// SavingsLinked: the savings account is a second linked account (else it is at
	// another bank and only the outgoing transfers show).
	SavingsLinked bool `json:"savings_linked"`
	// OverdraftHabit in [0, 1]: how far below zero the applicant lets the account go.
	OverdraftHabit float64 `json:"overdraft_habit"`
	// BufferMonths is the opening checking balance in months of income.
	BufferMonths float64 `json:"buffer_months"`
	// HistoryDays is the length of the ledger's history (6 to 18 months).
	HistoryDays int `json:"history_days"`
}

// Profile is an applicant without its ledger: traits, the loan applied for, the true
// probability of default and the realised label. It is cheap to draw.
type Profile struct {
	ID     string `json:"applicant_id"`
	Index  int    `json:"index"`
	Traits Traits `json:"traits"`
	// Loan is the credit applied for.
	Loan scoring.Loan `json:"loan"`
	// PaymentToIncome is scoring.ProposedPayment(Loan) over Traits.MonthlyIncome.
	PaymentToIncome float64 `json:"payment_to_income"`
	// TruePD is the true probability of default (see TruePD).
	TruePD float64 `json:"true_pd"`
	// Defaulted is the realised outcome, drawn from TruePD.
	Defaulted bool `json:"defaulted"`
	// AsOf is balance.as_of of the ledger, the cutoff to score at.
	AsOf time.Time `json:"as_of"`
}

// LatestAsOf is the newest balance.as_of of the population; each applicant's as-of lies
// up to asOfSpreadDays before it, so that cutoffs fall on every day of the month.
var LatestAsOf = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// Calendar and history bounds.
const (
	asOfSpreadDays = 61  // two months of application dates
	minHistoryDays = 183 // six months, the shortest history
	maxHistoryDays = 548 // eighteen months
	// unemploymentHistoryDays caps the history of those living on unemployment benefits,
	// which last about 26 weeks (plus extensions) in most states.
	unemploymentHistoryDays = 243
)

// Income levels: monthly deposits are log-normal per type (medians in dollars of net
// pay, from the rough shape of US take-home pay, gig earnings and benefit amounts),
// tilted by the latent financial health, and clamped.
var incomeMedians = map[IncomeType]struct{ median, sigma float64 }{
	Salaried:        {3800, 0.45},
	Gig:             {2600, 0.50},
	Benefits:        {1700, 0.35},
	SalariedSideGig: {3900, 0.40},
}

const (
	healthIncomeTilt = 0.12    // log-income per unit of health
	minIncomeMinor   = 90000   // $900 a month: below it nobody applies for credit
	maxIncomeMinor   = 1500000 // $15,000 a month
)

// linearTrait is a behaviour trait drawn as clamp(Mean + Health·h + Noise·z, Lo, Hi),
// with h the applicant's latent financial health and z its own standard-normal noise.
type linearTrait struct{ Mean, Health, Noise, Lo, Hi float64 }

func (l linearTrait) draw(r *rng, health float64) float64 {
	return clamp(l.Mean+l.Health*health+l.Noise*r.norm(), l.Lo, l.Hi)
}

// The behaviour model. The centres follow the rough shape of US household budgets:
// consumption about 80 % of take-home pay, debt service about a tenth for those who carry
// debt, savers putting away about 6 %, overdrafts concentrated in a minority.
var (
	spendTrait   = linearTrait{Mean: 0.80, Health: -0.10, Noise: 0.12, Lo: 0.45, Hi: 1.25}
	debtTrait    = linearTrait{Mean: 0.10, Health: -0.04, Noise: 0.07, Lo: 0.02, Hi: 0.40}
	savingsTrait = linearTrait{Mean: 0.06, Health: 0.03, Noise: 0.04, Lo: 0.01, Hi: 0.25}
	// overdraftTrait is on the log-odds scale: habit = sigmoid(draw), mean about 0.25.
	overdraftTrait = linearTrait{Mean: -1.3, Health: -1.2, Noise: 0.8, Lo: math.Inf(-1), Hi: math.Inf(1)}
	// saverTrait is the log-odds of saving at all (about 55 % do).
	saverTrait = linearTrait{Mean: 0.2, Health: 0.8, Noise: 0, Lo: math.Inf(-1), Hi: math.Inf(1)}
)

const (
	debtFreeChance      = 0.25 // a quarter of households carry no debt…
	debtFreeHealth      = 0.10 // …more of the healthy ones
	benefitsDebtFactor  = 0.6  // retirees and the disabled carry less consumer debt
	savingsLinkedChance = 0.55 // the savings account is at the same bank and linked
	secondBenefitChance = 0.30 // a pension beside Social Security, or the reverse
	bufferMedianMonths  = 0.35 // opening balance: a third of a month's income…
	bufferHealth        = 0.5  // …times exp(0.5·health)…
	bufferSigma         = 0.7  // …log-normal…
	minBufferMonths     = 0.02 // …times (1 − overdraft habit), clamped
	maxBufferMonths     = 4
	minSideGigShare     = 0.10
	maxSideGigShare     = 0.40
)

// regularity ranges per income type: salaries barely vary, benefits not at all, gig
// earnings a lot, a salary with a side gig in between.
var regularityRanges = map[IncomeType][2]float64{
	Salaried: {0.70, 1}, Gig: {0.10, 0.90}, Benefits: {0.85, 1}, SalariedSideGig: {0.40, 0.95},
}

// Platform counts: weights of one, two, three and four platforms.
var (
	gigPlatformCounts  = []float64{0.35, 0.35, 0.20, 0.10}
	sidePlatformCounts = []float64{0.70, 0.30}
)

// drawTraits draws one applicant's traits. A latent financial-health factor (standard
// normal) moves income, spending, debt, savings, the overdraft habit and the buffer
// together, as they move together in real households; each trait keeps its own noise.
func drawTraits(r *rng) Traits {
	var t Traits
	t.IncomeType = IncomeTypes()[r.weighted(incomeTypeShares)]
	health := r.norm()
	inc := incomeMedians[t.IncomeType]
	dollars := r.lognorm(inc.median, inc.sigma) * math.Exp(healthIncomeTilt*health)
	t.MonthlyIncome = min(max(int64(math.Round(dollars*100)), minIncomeMinor), maxIncomeMinor)
	reg := regularityRanges[t.IncomeType]
	t.Regularity = r.uniform(reg[0], reg[1])
	switch t.IncomeType {
	case Salaried:
		t.PayFrequency = payFrequencies[r.weighted(payFrequencyWeights)]
	case Gig:
		t.GigShare = 1
		t.Platforms = drawPlatforms(r, gigPlatformCounts)
	case Benefits:
		t.Benefits = []Benefit{primaryBenefits[r.weighted(primaryBenefitShares)]}
		if t.Benefits[0] != Unemployment && r.chance(secondBenefitChance) {
			second := SocialSecurity
			if t.Benefits[0] == SocialSecurity {
				second = Pension
			}
			t.Benefits = append(t.Benefits, second)
		}
	case SalariedSideGig:
		t.PayFrequency = payFrequencies[r.weighted(payFrequencyWeights)]
		t.GigShare = r.uniform(minSideGigShare, maxSideGigShare)
		t.Platforms = drawPlatforms(r, sidePlatformCounts)
	}
	t.SpendRatio = spendTrait.draw(r, health)
	if !r.chance(debtFreeChance + debtFreeHealth*health) {
		t.DebtShare = debtTrait.draw(r, health)
		if t.IncomeType == Benefits {
			t.DebtShare *= benefitsDebtFactor
		}
	}
	if r.chance(sigmoid(saverTrait.draw(r, health))) {
		t.SavingsRate = savingsTrait.draw(r, health)
		t.SavingsLinked = r.chance(savingsLinkedChance)
	}
	t.OverdraftHabit = sigmoid(overdraftTrait.draw(r, health))
	buffer := r.lognorm(bufferMedianMonths*math.Exp(bufferHealth*health), bufferSigma) * (1 - t.OverdraftHabit)
	t.BufferMonths = clamp(buffer, minBufferMonths, maxBufferMonths)
	t.HistoryDays = minHistoryDays + r.intn(maxHistoryDays-minHistoryDays+1)
	if len(t.Benefits) > 0 && t.Benefits[0] == Unemployment {
		t.HistoryDays = min(t.HistoryDays, unemploymentHistoryDays)
	}
	return t
}

// drawPlatforms draws distinct platforms by popularity; countWeights[k] is the weight of
// k+1 platforms.
func drawPlatforms(r *rng, countWeights []float64) []Platform {
	n := r.weighted(countWeights) + 1
	w := append([]float64(nil), platformWeights...)
	var out []Platform
	for range n {
		i := r.weighted(w)
		out = append(out, platforms[i])
		w[i] = 0
	}
	return out
}

// Loan request: the applicant aims at a payment of targetPTI of income and picks a term.
var (
	loanTerms       = []int{3, 6, 9, 12, 18, 24}
	loanTermWeights = []float64{0.05, 0.20, 0.10, 0.35, 0.15, 0.15}
)

const (
	minTargetPTI    = 0.02
	maxTargetPTI    = 0.20  // beyond the policy's 15 %: some apply for more than they can carry
	loanStepMinor   = 5000  // amounts are whole multiples of $50
	minLoanMinor    = 30000 // $300
	maxLoanMinor    = 2500000
	planningRate    = 0.02 // monthly rate the applicant plans with (≈ 24 % APR)
	loanTargetCurve = 1.3  // u^1.3 leans towards modest payments
)

// drawLoan draws the loan applied for.
func drawLoan(r *rng, income int64) scoring.Loan {
	term := loanTerms[r.weighted(loanTermWeights)]
	pti := minTargetPTI + (maxTargetPTI-minTargetPTI)*math.Pow(r.float64(), loanTargetCurve)
	factor := planningRate / (1 - math.Pow(1+planningRate, -float64(term)))
	amount := int64(math.Round(pti*float64(income)/factor/loanStepMinor)) * loanStepMinor
	return scoring.Loan{AmountMinor: min(max(amount, minLoanMinor), maxLoanMinor), TermMonths: term}
}

// pdCoefficients are the weights of the true probability of default (log-odds of
// default per unit of each driver). Their signs are the textbook ones; their sizes make
// the true probability rank defaults with an AUC of about 0.87 on the population: more
// than a good bureau score reaches, since the truth knows every trait.
var pdCoefficients = struct {
	logIncome, irregularity, overspend, debt, savings, overdraft, buffer, pti float64
	typeEffect                                                                map[IncomeType]float64
}{
	logIncome:    0.7,   // per ln($3,000 / income)
	irregularity: 1.3,   // per unit of (1 − regularity)
	overspend:    3.6,   // per unit of (spend ratio + debt share − 0.9)
	debt:         2.4,   // per unit of debt share, beyond its part in overspending
	savings:      -7.0,  // per unit of savings rate
	overdraft:    2.2,   // per unit of overdraft habit
	buffer:       -0.25, // per ln(buffer months / 0.35)
	pti:          7.0,   // per unit of (payment-to-income − 0.08)
	typeEffect:   map[IncomeType]float64{Gig: 0.25, SalariedSideGig: -0.10, Benefits: 0.10},
}

const (
	pdReferenceIncome = 3000.0 // dollars a month
	pdReferenceSpend  = 0.9    // consumption plus debt at 90 % of income is neutral
	pdReferenceBuffer = 0.35   // months of income
	pdReferencePTI    = 0.08
	// TargetDefaultRate is the population default rate the intercept is calibrated to,
	// the rate of the issue's own population.
	TargetDefaultRate = 0.13
	// calibrationSize profiles (of a fixed calibration seed) fix the intercept.
	calibrationSize = 20000
)

// riskScore is the true log-odds of default without the intercept.
func riskScore(t Traits, pti float64) float64 {
	c := pdCoefficients
	return c.logIncome*math.Log(pdReferenceIncome*100/float64(t.MonthlyIncome)) +
		c.irregularity*(1-t.Regularity) +
		c.overspend*(t.SpendRatio+t.DebtShare-pdReferenceSpend) +
		c.debt*t.DebtShare +
		c.savings*t.SavingsRate +
		c.overdraft*t.OverdraftHabit +
		c.buffer*math.Log(t.BufferMonths/pdReferenceBuffer) +
		c.pti*(pti-pdReferencePTI) +
		c.typeEffect[t.IncomeType]
}

// pdIntercept is the intercept that makes the mean true PD of calibrationSize profiles
// equal TargetDefaultRate, found by bisection once. It depends on no population seed,
// so every population shares one PD function.
var pdIntercept = sync.OnceValue(func() float64 {
	scores := make([]float64, calibrationSize)
	for i := range scores {
		r := newStream(0, i, purposeCalibration)
		t := drawTraits(r)
		loan := drawLoan(r, t.MonthlyIncome)
		scores[i] = riskScore(t, paymentToIncome(loan, t.MonthlyIncome))
	}
	lo, hi := -20.0, 20.0
	for range 100 {
		mid := (lo + hi) / 2
		var sum float64
		for _, s := range scores {
			sum += sigmoid(mid + s)
		}
		if sum/calibrationSize > TargetDefaultRate {
			hi = mid
		} else {
			lo = mid
		}
	}
	return (lo + hi) / 2
})

// TruePD is the true probability of default of traits t applying for a loan with
// payment-to-income pti (on the latent income):
//
//	PD = 1 / (1 + exp(−(β₀ + riskScore(t, pti))))
//
// with the weights of pdCoefficients and β₀ calibrated so that the population's mean PD is
// TargetDefaultRate.
func TruePD(t Traits, pti float64) float64 { return sigmoid(pdIntercept() + riskScore(t, pti)) }

func paymentToIncome(loan scoring.Loan, income int64) float64 {
	return float64(scoring.ProposedPayment(loan)) / float64(income)
}

// NewProfile draws applicant index of the population of seed: its traits, loan, true
// PD, label and as-of time. It is a pure function of (seed, index).
func NewProfile(seed uint64, index int) Profile {
	r := newStream(seed, index, purposeTraits)
	t := drawTraits(r)
	loan := drawLoan(r, t.MonthlyIncome)
	asOf := LatestAsOf.AddDate(0, 0, -r.intn(asOfSpreadDays))
	pti := paymentToIncome(loan, t.MonthlyIncome)
	pd := TruePD(t, pti)
	return Profile{
		ID:              fmt.Sprintf("app%06d", index),
		Index:           index,
		Traits:          t,
		Loan:            loan,
		PaymentToIncome: pti,
		TruePD:          pd,
		Defaulted:       newStream(seed, index, purposeLabel).chance(pd),
		AsOf:            asOf,
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
