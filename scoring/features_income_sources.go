package scoring

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Income source kinds (IncomeSource.Kind).
const (
	// IncomeSourceStream is an active MATURE income stream, counted at its monthly
	// amount.
	IncomeSourceStream = "stream"
	// IncomeSourceIrregular is the income of one category outside those streams,
	// averaged over the months used.
	IncomeSourceIrregular = "irregular"
)

// Income confidences (income_confidence, E8), after Plaid's income insights.
const (
	IncomeConfidenceHigh   = "high"
	IncomeConfidenceMedium = "medium"
	IncomeConfidenceLow    = "low"
	IncomeConfidenceNone   = "none"
)

// Income-estimate constants (fs-v3, E2 and E8); each is part of the feature set.
const (
	// incomeMonths: irregular income averages the last 6 complete months, the window
	// of the monthly statistics and of lenders' income verification.
	incomeMonths = 6
	// confidentMonths: an estimate resting on fewer than 3 complete months of income is
	// low confidence (Plaid's MATURE rule asks for 3 occurrences; a quarter of history
	// is the least a lender reads income from).
	confidentMonths = 3
	// highRegularShare: at least 80 % of the estimate from active MATURE streams, paid
	// on a cadence, makes it high confidence.
	highRegularShare = 0.8
	// mediumRegularShare: at least half from streams, or a steady month-to-month
	// income, makes it medium confidence.
	mediumRegularShare = 0.5
	// steadyIncomeCV: monthly income with a coefficient of variation up to 30 % is
	// steady (the open-source MCA toolkit's volatility line, as in E3).
	steadyIncomeCV = 0.30
)

// IncomeSource is one source of the fs-v3 income estimate (E8), in the spirit of
// Plaid's income insights: an active MATURE income stream, or the irregular income of
// one category. The monthly amounts of the sources sum to monthly_income_est.
type IncomeSource struct {
	// Kind is IncomeSourceStream or IncomeSourceIrregular.
	Kind string `json:"kind"`
	// Category is the stream's category, or the category of the irregular deposits
	// (an irregular occurrence of a MATURE stream that is not active takes the
	// stream's category).
	Category Category `json:"category"`
	// Description and Frequency name a stream (empty for irregular income).
	Description string `json:"description,omitempty"`
	Frequency   string `json:"frequency,omitempty"`
	// Deposits counts the stream's occurrences, or the irregular deposits in the
	// months used.
	Deposits int `json:"deposits"`
	// MonthlyAmount is the source's part of monthly_income_est, minor units a month.
	MonthlyAmount int64 `json:"monthly_amount"`
}

// incomeEstimate is the fs-v3 income estimate (E2, E8).
type incomeEstimate struct {
	regular, irregular int64
	sources            []IncomeSource
	months             []MonthlyCashFlow // the months used
	confidence         string
}

// estimateIncome estimates monthly income from every source (fs-v3), payer by payer (a
// payer is a normalised description, the key of the recurring streams):
//
//	regular   = Σ monthly_amount of the active MATURE income streams of regular payers
//	irregular = Σ over categories k of round(Σ_{m ∈ M} irregular_k[m] / |M|)
//	estimate  = regular + irregular, or 0 when no income is current
//
// A payer is regular when its active MATURE income streams pay it on cadence through
// the months used M (regularPayers): then its income is the streams' monthly amounts,
// normalised as in fs-v2 (E2), which a payment moved across a month end does not
// disturb.
//
// Every other recognised income deposit (markIncome) dated in M is irregular: platform
// payouts in irregular amounts and dates, income of a stream that stopped, started
// inside M, missed a payment or is not yet MATURE, and every deposit of a payer that a
// stream explains only in part (bonuses, overtime and partial weeks outside its amount
// band). A stream normalised to a full month plus its payer's other deposits would
// count the same pay periods twice, so such a payer is averaged as a whole.
// irregular_k[m] sums the irregular deposits of category k dated in month m.
//
// The months used M are the last incomeMonths complete calendar months that start on or
// after the oldest history transaction and not before the month of the first recognised
// income deposit: the settled months the income covers. The average is the mean of
// those months, a month without income counting as 0 (a gap in work lowers it): with
// whole settled months, uncategorised and non-income deposits left out and stopped
// income dropped, the mean is the applicant's income per month over the period, and a
// median or trimmed mean would drop real income of payers who pay in lumps (a
// freelancer paid per project). Income is current while some payer is
// (currentIncome); when none is, every income has stopped and the estimate is 0. Own
// transfers, interest, refunds, tax refunds, loan proceeds and savings withdrawals are
// never income (featureSet.nonIncome). With no complete month since the first income, M
// is empty and only the active MATURE streams count.
func (s *featureState) estimateIncome(active []Stream) incomeEstimate {
	est := incomeEstimate{months: s.incomeMonthsUsed()}
	var lo, hi int64 = s.c + 1, s.c // M's first and last day; an empty range when M is empty
	if len(est.months) > 0 {
		lo = dayOf(mustDay(est.months[0].Month + "-01"))
		hi = monthEnd(dayOf(mustDay(est.months[len(est.months)-1].Month + "-01")))
	}
	if !s.currentIncome(active) {
		est.confidence = IncomeConfidenceNone
		return est
	}
	regular := s.regularPayers(active, lo, hi, len(est.months) > 0)
	regularIDs := map[string]bool{}
	for _, st := range active {
		if !regular[st.Description] {
			continue
		}
		est.regular += st.MonthlyAmount
		est.sources = append(est.sources, IncomeSource{Kind: IncomeSourceStream, Category: st.Category,
			Description: st.Description, Frequency: st.Frequency, Deposits: st.Occurrences, MonthlyAmount: st.MonthlyAmount})
		for _, id := range st.TransactionIDs {
			regularIDs[id] = true
		}
	}
	est.irregular, est.sources = s.irregularIncome(lo, hi, len(est.months), regularIDs, est.sources)
	sortSources(est.sources)
	est.confidence = s.incomeConfidence(est)
	return est
}

// regularPayers returns the payers whose active MATURE income streams (active) pay
// them on cadence through [lo, hi], the months used: every recognised income deposit of
// the payer dated there is an occurrence of one of those streams, and each of the
// streams was paying in its first period of the months used (its first occurrence at
// most its median gap plus the cadence tolerance after lo) and has no gap over
// missedPaymentGaps median gaps between occurrences after lo (no missed payment).
// Without months used (inM false) every payer with an active MATURE stream is regular.
func (s *featureState) regularPayers(active []Stream, lo, hi int64, inM bool) map[string]bool {
	out := map[string]bool{}
	ids := map[string]bool{}
	for _, st := range active {
		out[st.Description] = true
		for _, id := range st.TransactionIDs {
			ids[id] = true
		}
	}
	if !inM {
		return out
	}
	for i := range s.hist {
		if s.income[i] && s.days[i] >= lo && s.days[i] <= hi && !ids[s.hist[i].ID] {
			delete(out, s.keys[i]) // a deposit the streams do not explain
		}
	}
	for _, st := range active {
		if !s.onCadenceThrough(st, lo) {
			delete(out, st.Description)
		}
	}
	return out
}

// missedPaymentGaps: a gap between two occurrences longer than 1.5 median gaps skips
// a payment (one missed payment doubles the gap; pay moved off a weekend or a holiday
// stretches one by at most a few days).
const missedPaymentGaps = 1.5

// onCadenceThrough reports whether stream st paid in its first period from day lo and
// then without a missed payment (see regularPayers).
func (s *featureState) onCadenceThrough(st Stream, lo int64) bool {
	limit := missedPaymentGaps * float64(st.MedianGapDays)
	prev := dayOf(mustDay(st.FirstDate))
	if prev-lo > int64(st.MedianGapDays+s.streamOpts.OnCadenceDays) {
		return false // started inside the months used
	}
	for _, id := range st.TransactionIDs[1:] {
		d := s.days[s.byID[id]]
		if d >= lo && float64(d-prev) > limit {
			return false
		}
		prev = d
	}
	return true
}

// currentIncomeDays: income outside recurring streams is current while its newest
// deposit is at most 62 days old. Payers who pay in lumps (a freelancer paid per
// project) may go a month without a payout; two months without any income deposit
// means it stopped.
const currentIncomeDays = 62

// currentIncome reports whether some income is current at the cutoff: an active MATURE
// income stream, an EARLY_DETECTION income stream whose deposits are recognised income
// (every early stream is active), or a recognised income deposit at most
// currentIncomeDays old that is not an occurrence of a MATURE stream gone inactive (pay
// that missed its date has stopped, however recent its last deposit).
func (s *featureState) currentIncome(active []Stream) bool {
	if len(active) > 0 {
		return true
	}
	for _, st := range s.incomeStreams {
		if st.Status == StreamEarlyDetection && s.income[s.byID[st.TransactionIDs[0]]] {
			return true
		}
	}
	for i := len(s.hist) - 1; i >= 0 && s.c-s.days[i] <= currentIncomeDays; i-- {
		if s.income[i] && !s.inStream[s.hist[i].ID] {
			return true
		}
	}
	return false
}

// irregularIncome averages the recognised income deposits dated in [lo, hi] that are
// not occurrences of the regular streams (regularIDs) over months months, per
// category; it returns their sum and sources with one irregular source per category
// appended.
func (s *featureState) irregularIncome(lo, hi int64, months int, regularIDs map[string]bool, sources []IncomeSource) (int64, []IncomeSource) {
	if months == 0 {
		return 0, sources
	}
	sums, counts := map[Category]int64{}, map[Category]int{}
	for i := range s.hist {
		if !s.income[i] || regularIDs[s.hist[i].ID] || s.days[i] < lo || s.days[i] > hi {
			continue
		}
		k := s.incomeCategory(i)
		sums[k] += s.hist[i].Amount
		counts[k]++
	}
	var total int64
	for k, sum := range sums {
		monthly := int64(math.Round(float64(sum) / float64(months)))
		total += monthly
		sources = append(sources, IncomeSource{Kind: IncomeSourceIrregular, Category: k, Deposits: counts[k], MonthlyAmount: monthly})
	}
	return total, sources
}

// incomeCategory is the category an irregular income deposit hist[i] is reported
// under: its own when it is an income category, else that of the MATURE income stream
// it belongs to.
func (s *featureState) incomeCategory(i int) Category {
	if incomeCategories[s.cats[i]] {
		return s.cats[i]
	}
	id := s.hist[i].ID
	for _, st := range s.incomeStreams {
		if st.Status == StreamMature && slices.Contains(st.TransactionIDs, id) {
			return st.Category
		}
	}
	return s.cats[i]
}

// incomeMonthsUsed returns the months irregular income is averaged over (see
// estimateIncome), oldest first; none without a recognised income deposit.
func (s *featureState) incomeMonthsUsed() []MonthlyCashFlow {
	first := slices.Index(s.income, true)
	if first < 0 {
		return nil
	}
	start := monthStart(s.days[first])
	ms := lastMonths(s.months, incomeMonths)
	for len(ms) > 0 && dayOf(mustDay(ms[0].Month+"-01")) < start {
		ms = ms[1:]
	}
	return ms
}

// monthEnd returns the last day of day d's calendar month.
func monthEnd(d int64) int64 { return monthStart(monthStart(d)+31) - 1 }

// incomeConfidence grades an estimate (income_confidence, E8):
//
//	none    the estimate is 0
//	high    ≥ highRegularShare of it from active MATURE streams, ≥ confidentMonths months used
//	medium  ≥ confidentMonths months used, and ≥ mediumRegularShare of it from streams or
//	        a monthly income (MonthlyCashFlow.Income over the months used) with a
//	        coefficient of variation ≤ steadyIncomeCV
//	low     otherwise: too few months, or mostly irregular and unsteady income
func (s *featureState) incomeConfidence(est incomeEstimate) string {
	total := est.regular + est.irregular
	if total <= 0 {
		return IncomeConfidenceNone
	}
	if len(est.months) < confidentMonths {
		return IncomeConfidenceLow
	}
	share := float64(est.regular) / float64(total)
	if share >= highRegularShare {
		return IncomeConfidenceHigh
	}
	mean, std := meanStd(monthValues(est.months, monthIncome))
	if share >= mediumRegularShare || (mean >= cvMeanEpsilon && std/mean <= steadyIncomeCV) {
		return IncomeConfidenceMedium
	}
	return IncomeConfidenceLow
}

// sortSources orders income sources by monthly amount, largest first, then kind,
// category, description, frequency and deposits, so the order never depends on map
// iteration (sources equal in all of these are interchangeable).
func sortSources(src []IncomeSource) {
	slices.SortFunc(src, func(a, b IncomeSource) int {
		if c := cmp.Compare(b.MonthlyAmount, a.MonthlyAmount); c != 0 {
			return c
		}
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Category), string(b.Category)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Description, b.Description); c != 0 {
			return c
		}
		if c := strings.Compare(a.Frequency, b.Frequency); c != 0 {
			return c
		}
		return cmp.Compare(a.Deposits, b.Deposits)
	})
}
