package scoring

import (
	"sort"

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
	rules      CategoryRules   // the categorisation rules in use
	streamOpts StreamOptions   // the stream options in use, defaults filled in
	cash       map[string]bool // ids of cash accounts

	hist []Transaction // posted cash transactions dated on or before c
	days []int64       // UTC day of hist[i], ascending
	cats []Category    // category of hist[i]
	own  []bool        // hist[i] is a leg of an own transfer
	flow []bool        // hist[i] counts as inflow or outflow: not own, not a fee reversal

	win                 [len(windows)]window // the 30, 60 and 90-day windows
	inflow90, outflow90 map[Category]int64   // Σ inflow, Σ outflow of the 90-day flows per category

	incomeStreams  []Stream        // E1 inflow streams, [] when none
	outflowStreams []Stream        // E1/F2 outflow streams, [] when none
	inStream       map[string]bool // ids of MATURE income-stream occurrences

	months   []MonthlyCashFlow // every complete month since the oldest txn, oldest first
	balances balanceSeries     // the combined EOD series (C, G2)
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

// newFeatureState normalises l and builds the shared state as of cutoff day c with the
// rules and stream options of opts (nil means the defaults). It returns the errors of
// Normalize.
func newFeatureState(l Ledger, c int64, opts FeatureOptions) (*featureState, error) {
	s := &featureState{c: c, rules: defaultRules, cash: map[string]bool{}}
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
	s.own = matchOwnTransfers(s.hist, s.days, transferish)
	s.flow = make([]bool, len(s.hist))
	for i := range s.hist {
		s.flow[i] = !s.own[i] && !isFeeReversal(s.cats[i])
	}
	s.findStreams()
	s.months = s.buildMonths()
	for k, n := range windows {
		s.win[k] = s.window(n)
	}
	s.inflow90, s.outflow90 = s.categoryTotals(s.win[window90d].start)
	s.balances = newBalanceSeries(dailyBalances(s.ledger, c-balanceSeriesDays+1, c).Combined.EOD)
	return s, nil
}

// selectHistory fills hist and days with the posted cash transactions dated on or
// before the cutoff day.
func (s *featureState) selectHistory() {
	s.hist = make([]Transaction, 0, len(s.ledger.Transactions))
	for _, t := range s.ledger.Transactions {
		if !s.cash[t.AccountID] || t.Status != StatusPosted {
			continue
		}
		if d := dayOf(t.TransactedAt); d <= s.c {
			s.hist = append(s.hist, t)
			s.days = append(s.days, d)
		}
	}
}

// categorise fills cats with one category per history transaction and returns which
// ones look like a transfer (categorised transfer or carrying a transfer word), the
// evidence matchOwnTransfers needs. Descriptions repeat, so their word forms and, when
// no rule has amount bounds, their categories per sign are computed once.
func (s *featureState) categorise() (transferish []bool) {
	type catKey struct {
		desc string
		sign int64
	}
	s.cats = make([]Category, len(s.hist))
	transferish = make([]bool, len(s.hist))
	wordsCache := map[string]string{}
	catCache := map[catKey]Category{}
	for i := range s.hist {
		t := &s.hist[i]
		w, ok := wordsCache[t.Description]
		if !ok {
			w = " " + wordsOf(t.Description) + " "
			wordsCache[t.Description] = w
		}
		k := catKey{t.Description, sign(t.Amount)}
		cat, ok := catCache[k]
		if !ok || s.rules.hasBounds {
			cat = s.rules.categorise(*t, w, "")
			if !s.rules.hasBounds {
				catCache[k] = cat
			}
		}
		s.cats[i] = cat
		transferish[i] = cat == CategoryTransfer || containsPadded(w, transferPadded)
	}
	return transferish
}

// findStreams detects the recurring streams (E1, F2) among the non-zero flows: inflows
// without a "never income" category and all outflows, grouped by normalised
// description; it also records the ids of MATURE income-stream occurrences.
func (s *featureState) findStreams() {
	in := make([]streamInput, 0, len(s.hist))
	out := make([]streamInput, 0, len(s.hist))
	keyCache := map[string]string{}
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
		if t.Amount > 0 {
			if !nonIncomeInflow[s.cats[i]] {
				in = append(in, streamInput{t: t, cat: s.cats[i], key: key, day: s.days[i], size: t.Amount})
			}
		} else {
			out = append(out, streamInput{t: t, cat: s.cats[i], key: key, day: s.days[i], size: -t.Amount})
		}
	}
	o := s.streamOpts
	s.incomeStreams = nonNilStreams(detectStreams(in, s.c, DirectionInflow, o.InflowAmountBand, o.OnCadenceDays))
	s.outflowStreams = nonNilStreams(detectStreams(out, s.c, DirectionOutflow, o.OutflowAmountBand, o.OnCadenceDays))
	s.inStream = map[string]bool{}
	for _, st := range s.incomeStreams {
		if st.Status == StreamMature {
			for _, id := range st.TransactionIDs {
				s.inStream[id] = true
			}
		}
	}
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
