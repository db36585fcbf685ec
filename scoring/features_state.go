package scoring

import (
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// featureState is the intermediate state the feature groups A–I share. newFeatureState
// builds it once per ComputeFeaturesWith call, so no group normalises, categorises,
// matches own transfers, detects streams, sums windows or months, or reconstructs
// balances a second time. hist and the slices indexed like it are in the normalised
// (chronological) order, so every N-day window is a suffix of hist.
type featureState struct {
	ledger     Ledger          // the normalised ledger (Normalize)
	c          int64           // the cutoff day (UTC day number)
	set        *featureSet     // the feature set computed
	rules      CategoryRules   // the categorisation rules in use
	streamOpts StreamOptions   // the stream options in use, defaults filled in
	cash       map[string]bool // ids of cash accounts

	hist []Transaction // posted cash transactions dated on or before c
	days []int64       // UTC day of hist[i], ascending
	cats []Category    // category of hist[i]
	own  []bool        // hist[i] is a leg of an own transfer
	pair []int         // index of the other leg of own transfer hist[i], −1 when not own
	flow []bool        // hist[i] counts as inflow or outflow: not own, not a fee reversal

	win                 [len(windows)]window // the 30, 60 and 90-day windows
	inflow90, outflow90 map[Category]int64   // Σ inflow, Σ outflow of the 90-day flows per category

	incomeStreams  []Stream        // E1 inflow streams, [] when none
	outflowStreams []Stream        // E1/F2 outflow streams, [] when none
	inStream       map[string]bool // ids of MATURE income-stream occurrences
	// income marks the recognised income deposits (fs-v3): inflow flows of MATURE
	// income-stream occurrences or of an income category (incomeCategories).
	income []bool
	byID   map[string]int // index in hist of each transaction id (fs-v3)
	keys   []string       // normalised description (the stream key) of each non-zero flow, "" otherwise

	months   []MonthlyCashFlow // every complete month since the oldest txn, oldest first
	balances balanceSeries     // the combined EOD series (C, G2)
	// savings are the savings flows of each of months (fs-v3, B6, H6, H7).
	savings []monthSavings
	// savingsEOD is the day-by-day sum of the EOD series of the linked savings accounts
	// with a balance, like balances.eod (fs-v3, C7); empty when there is none.
	savingsEOD []int64
}

// window is the N-day window (c − N days, c] and the flows in it.
type window struct {
	days  int64 // N
	start int   // index in hist of the window's oldest transaction (len(hist) when none)
	// inCount, outCount, in and out count and sum (minor units, both ≥ 0) the flows
	// with amount > 0 and amount < 0 (A5, B1, B2).
	inCount, outCount int
	in, out           int64
}

// balanceSeries is the combined end-of-day balance series of the cash accounts with a
// balance over the balanceSeriesDays days ending on the cutoff day, with the 90-day
// statistics that both C and G2 use.
type balanceSeries struct {
	eod      []int64   // EOD balance, oldest day first; empty when no account has a balance
	x        []float64 // eod as float64, for gonum
	mean90   float64   // stat.Mean of the last 90 EOD values (C1 avg_daily_balance_90d, G2)
	sorted90 []float64 // the last 90 EOD values sorted, as stat.Quantile needs (C3, G2)
}

// newFeatureState normalises l and builds the shared state of feature set set as of
// cutoff day c with the rules and stream options of opts (nil means the set's rules and
// the default options). It returns the errors of Normalize.
func newFeatureState(l Ledger, c int64, set *featureSet, opts FeatureOptions) (*featureState, error) {
	s := &featureState{c: c, set: set, rules: embeddedRules[set.rules], cash: map[string]bool{}}
	if opts.Rules != nil {
		s.rules = *opts.Rules
	}
	if opts.Streams != nil {
		s.streamOpts = *opts.Streams
	}
	s.streamOpts = s.streamOpts.withDefaults()
	var err error
	if s.ledger, err = Normalize(l); err != nil {
		return nil, err
	}
	for _, a := range s.ledger.Accounts {
		if isCash(a) {
			s.cash[a.ID] = true
		}
	}
	s.selectHistory()
	transferish := s.categorise()
	s.pair = matchOwnTransfers(s.hist, s.days, transferish)
	s.own = make([]bool, len(s.hist))
	s.flow = make([]bool, len(s.hist))
	for i := range s.hist {
		s.own[i] = s.pair[i] >= 0
		s.flow[i] = !s.own[i] && !isFeeReversal(s.cats[i])
	}
	s.findStreams()
	s.markIncome()
	s.months = s.buildMonths()
	for k, n := range windows {
		s.win[k] = s.window(n)
	}
	s.inflow90, s.outflow90 = s.categoryTotals(s.win[window90d].start)
	balances := dailyBalances(s.ledger, c-balanceSeriesDays+1, c)
	s.balances = newBalanceSeries(balances.Combined.EOD)
	if s.set.v3 {
		s.savings = s.buildSavings()
		s.savingsEOD = s.sumSavings(balances)
	}
	return s, nil
}

// selectHistory fills hist and days with the posted cash transactions dated on or
// before the cutoff day.
//
// When the history is a prefix of the normalised ledger (one cash account, nothing
// pending: the usual case), hist is that prefix, not a copy; nothing writes to hist.
func (s *featureState) selectHistory() {
	all := s.ledger.Transactions
	s.days = make([]int64, 0, len(all))
	var picked []int
	prefix := true
	for i, t := range all {
		if !s.cash[t.AccountID] || t.Status != StatusPosted {
			prefix = false
			continue
		}
		if d := dayOf(t.TransactedAt); d <= s.c {
			if !prefix || len(s.days) != i {
				prefix = false
			}
			picked = append(picked, i)
			s.days = append(s.days, d)
		}
	}
	if prefix {
		s.hist = all[:len(s.days):len(s.days)]
		return
	}
	s.hist = make([]Transaction, len(picked))
	for k, i := range picked {
		s.hist[k] = all[i]
	}
}

// categorise fills cats with one category per history transaction and returns which
// ones look like a transfer (categorised transfer or carrying a transfer word), the
// evidence matchOwnTransfers needs. Descriptions repeat, so their word forms, whether
// they carry a transfer word and, when no rule has amount bounds, their categories per
// sign are computed once, found with one look-up per transaction.
func (s *featureState) categorise() (transferish []bool) {
	type descInfo struct {
		words    string
		transfer bool        // words carry a transfer word
		cat      [3]Category // per sign of the amount (−, 0, +) when no rule has bounds
		known    [3]bool
	}
	s.cats = make([]Category, len(s.hist))
	transferish = make([]bool, len(s.hist))
	cache := map[string]*descInfo{}
	for i := range s.hist {
		t := &s.hist[i]
		d, ok := cache[t.Description]
		if !ok {
			w := " " + wordsOf(t.Description) + " "
			d = &descInfo{words: w, transfer: containsPadded(w, transferPadded)}
			cache[t.Description] = d
		}
		var cat Category
		switch k := signIndex(t.Amount); {
		case s.rules.hasBounds:
			cat = s.rules.categorise(*t, d.words, "")
		case d.known[k]:
			cat = d.cat[k]
		default:
			cat = s.rules.categorise(*t, d.words, "")
			d.cat[k], d.known[k] = cat, true
		}
		s.cats[i] = cat
		transferish[i] = s.set.transferLike[cat] || d.transfer
	}
	return transferish
}

// signIndex is 0, 1 or 2 for a negative, zero or positive amount.
func signIndex(v int64) int {
	switch {
	case v < 0:
		return 0
	case v > 0:
		return 2
	}
	return 1
}

// findStreams detects the recurring streams (E1, F2) among the non-zero flows: inflows
// without a "never income" category of the feature set and all outflows, grouped by
// normalised description; it also records the ids of MATURE income-stream occurrences.
func (s *featureState) findStreams() {
	in := make([]streamInput, 0, len(s.hist))
	out := make([]streamInput, 0, len(s.hist))
	keyCache := map[string]string{}
	s.keys = make([]string, len(s.hist))
	for i := range s.hist {
		t := &s.hist[i]
		if !s.flow[i] || t.Amount == 0 {
			continue
		}
		key, ok := keyCache[t.Description]
		if !ok {
			key = normaliseDescription(t.Description)
			keyCache[t.Description] = key
		}
		s.keys[i] = key
		if t.Amount > 0 {
			if !s.set.nonIncome[s.cats[i]] {
				in = append(in, streamInput{t: t, cat: s.cats[i], key: key, day: s.days[i], size: t.Amount})
			}
		} else {
			out = append(out, streamInput{t: t, cat: s.cats[i], key: key, day: s.days[i], size: -t.Amount})
		}
	}
	o := s.streamOpts
	cr := s.set.cadence
	s.incomeStreams = nonNilStreams(detectStreams(in, s.c, DirectionInflow, o.InflowAmountBand, o.OnCadenceDays, cr))
	s.outflowStreams = nonNilStreams(detectStreams(out, s.c, DirectionOutflow, o.OutflowAmountBand, o.OnCadenceDays, cr))
	s.inStream = map[string]bool{}
	for _, st := range s.incomeStreams {
		if st.Status == StreamMature {
			for _, id := range st.TransactionIDs {
				s.inStream[id] = true
			}
		}
	}
}

// markIncome fills income, the recognised income deposits of feature sets that
// estimate income from every source (fs-v3): inflow flows without a "never income"
// category that
//   - are occurrences of a MATURE income stream,
//   - carry an income category (incomeCategories),
//   - come from the payer of a MATURE income stream (the same normalised description:
//     a bonus or an overtime pay outside the stream's amount band), or
//   - are occurrences of an EARLY_DETECTION income stream (two deposits on a pay
//     cadence: the first pays of a new job),
//
// the last two unless the description names no payer (genericPayer). Other sets leave
// it nil.
func (s *featureState) markIncome() {
	if s.set.income != incomeFromAllSources {
		return
	}
	payers, early := map[string]bool{}, map[string]bool{}
	for _, st := range s.incomeStreams {
		switch {
		case genericPayer(st.Description):
		case st.Status == StreamMature:
			payers[st.Description] = true
		case st.Status == StreamEarlyDetection:
			for _, id := range st.TransactionIDs {
				early[id] = true
			}
		}
	}
	s.income = make([]bool, len(s.hist))
	s.byID = make(map[string]int, len(s.hist))
	for i := range s.hist {
		t := &s.hist[i]
		s.income[i] = s.flow[i] && t.Amount > 0 && !s.set.nonIncome[s.cats[i]] &&
			(s.inStream[t.ID] || incomeCategories[s.cats[i]] || payers[s.keys[i]] || early[t.ID])
		s.byID[t.ID] = i
	}
}

// genericWords are words of deposit descriptions that name no payer: the kind of
// deposit, ACH field labels and standard entry classes.
var genericWords = func() map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields("DEPOSIT DEP DEPOSITED MOBILE EDEPOSIT REMOTE CHECK CHK ACH CREDIT CR PPD CCD WEB " +
		"ID REF NO DES INDN CO ENTRY DESCR ORIG NAME SEC TRN TRACE POS CASH ONLINE BRANCH ATM TELLER ELECTRONIC " +
		"EXTERNAL EXT INCOMING RECEIVED FUNDS PAYMENT PMT TRANSFER FROM TO THE OF FOR AND A") {
		out[w] = true
	}
	return out
}()

// genericPayer reports whether a normalised description has only genericWords (such
// as "MOBILE DEPOSIT REF"): its deposits share no payer, so one MATURE stream among
// them says nothing about the others.
func genericPayer(key string) bool {
	for _, w := range strings.Fields(key) {
		if !genericWords[strings.Trim(w, "*&.")] {
			return false
		}
	}
	return true
}

// isIncome reports whether hist[i] is income of its month (MonthlyCashFlow.Income):
// a recognised income deposit under fs-v3, a MATURE income-stream occurrence before.
func (s *featureState) isIncome(i int) bool {
	if s.income != nil {
		return s.income[i]
	}
	return s.inStream[s.hist[i].ID]
}

// sumSavings returns the day-by-day sum of the EOD series of the savings accounts in
// balances (subcategory "savings"), or nil when none has a balance.
func (s *featureState) sumSavings(balances DailyBalanceSet) []int64 {
	savings := s.savingsAccounts()
	var out []int64
	for _, a := range balances.Accounts {
		if !savings[a.AccountID] {
			continue
		}
		if out == nil {
			out = make([]int64, len(a.EOD))
		}
		for i, v := range a.EOD {
			out[i] += v
		}
	}
	return out
}

// savingsAccounts returns the ids of the linked savings accounts (cash accounts of
// subcategory "savings").
func (s *featureState) savingsAccounts() map[string]bool {
	out := map[string]bool{}
	for _, a := range s.ledger.Accounts {
		if s.cash[a.ID] && a.Subcategory == "savings" {
			out[a.ID] = true
		}
	}
	return out
}

// nonNilStreams returns streams, or an empty slice for nil, so a vector without
// streams serialises them as [].
func nonNilStreams(streams []Stream) []Stream {
	if streams == nil {
		return []Stream{}
	}
	return streams
}

// window returns the n-day window ending on the cutoff day with its flow counts and
// sums.
func (s *featureState) window(n int64) window {
	w := window{days: n, start: sort.Search(len(s.days), func(i int) bool { return s.c-s.days[i] < n })}
	for i := w.start; i < len(s.hist); i++ {
		if !s.flow[i] {
			continue
		}
		if a := s.hist[i].Amount; a > 0 {
			w.inCount++
			w.in += a
		} else if a < 0 {
			w.outCount++
			w.out -= a
		}
	}
	return w
}

// categoryTotals sums the inflow and the outflow of the flows in hist[start:] per
// category (minor units, both ≥ 0).
func (s *featureState) categoryTotals(start int) (in, out map[Category]int64) {
	in, out = map[Category]int64{}, map[Category]int64{}
	for i := start; i < len(s.hist); i++ {
		if !s.flow[i] {
			continue
		}
		if a := s.hist[i].Amount; a > 0 {
			in[s.cats[i]] += a
		} else if a < 0 {
			out[s.cats[i]] -= a
		}
	}
	return in, out
}

// newBalanceSeries wraps an EOD series (at least 90 days long, or empty) with its
// float64 copy and 90-day statistics.
func newBalanceSeries(eod []int64) balanceSeries {
	b := balanceSeries{eod: eod}
	if len(eod) == 0 {
		return b
	}
	b.x = make([]float64, len(eod))
	for i, v := range eod {
		b.x[i] = float64(v)
	}
	last90 := b.last(90)
	b.mean90 = stat.Mean(last90, nil)
	b.sorted90 = sortedCopy(last90)
	return b
}

// last returns the float EOD values of the last k days of the series.
func (b balanceSeries) last(k int) []float64 { return b.x[len(b.x)-k:] }

// ageOf returns the age in days (c − day) of hist[i], 0 when i < 0 (no such
// transaction; the caller marks the feature undefined).
func (s *featureState) ageOf(i int) int {
	if i < 0 {
		return 0
	}
	return int(s.c - s.days[i])
}

// lastIndex returns the index of the newest history transaction for which match is
// true, or −1.
func (s *featureState) lastIndex(match func(i int) bool) int {
	for i := len(s.hist) - 1; i >= 0; i-- {
		if match(i) {
			return i
		}
	}
	return -1
}
