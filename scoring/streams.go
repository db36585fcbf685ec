package scoring

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Stream frequencies (Plaid's vocabulary; docs/features.md §3).
const (
	FrequencyWeekly      = "WEEKLY"
	FrequencyBiweekly    = "BIWEEKLY"
	FrequencySemiMonthly = "SEMI_MONTHLY"
	FrequencyMonthly     = "MONTHLY"
	FrequencyUnknown     = "UNKNOWN"
)

// Stream statuses (§3). TOMBSTONED streams (an EARLY_DETECTION stream that missed its
// next expected date) and UNKNOWN-cadence groups are dropped by feature computation, so
// Features never lists them.
const (
	StreamMature         = "MATURE"
	StreamEarlyDetection = "EARLY_DETECTION"
	StreamTombstoned     = "TOMBSTONED"
)

// Recurring-stream defaults from §3; part of FeatureSetVersion.
const (
	// DefaultInflowAmountBand: an inflow belongs to a cluster when its amount is within
	// ±20 % of the cluster median (pay varies, so inflows use the looser band).
	DefaultInflowAmountBand = 0.20
	// DefaultOutflowAmountBand: the tighter band for outflows (bills are usually fixed).
	DefaultOutflowAmountBand = 0.15
	// DefaultOnCadenceDays: an occurrence is on cadence within ±3 days of the expected date.
	DefaultOnCadenceDays = 3
	// streamMatureOccurrences: Plaid's MATURE rule, at least 3 occurrences on cadence.
	streamMatureOccurrences = 3
	// semiMonthlyAnchorDays: a semi-monthly stream's days of month stay within ±3 days
	// of its two anchor days (the 1st/15th pattern survives weekends and short months).
	semiMonthlyAnchorDays = 3
	// semiMonthlyMinApart: the two anchor days of a semi-monthly stream are at least 10
	// days apart both ways round the month (the 1st and 15th: 14 and 17).
	semiMonthlyMinApart = 10
	// streamLookbackDays: amounts of the last 180 days (≈ 6 months, E2's window) form
	// average_amount; older occurrences still establish the cadence.
	streamLookbackDays = 180
)

// StreamOptions configures recurring-stream detection. Zero fields take the defaults
// (DefaultInflowAmountBand, DefaultOutflowAmountBand, DefaultOnCadenceDays).
type StreamOptions struct {
	InflowAmountBand  float64
	OutflowAmountBand float64
	OnCadenceDays     int
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.InflowAmountBand <= 0 || math.IsNaN(o.InflowAmountBand) {
		o.InflowAmountBand = DefaultInflowAmountBand
	}
	if o.OutflowAmountBand <= 0 || math.IsNaN(o.OutflowAmountBand) {
		o.OutflowAmountBand = DefaultOutflowAmountBand
	}
	if o.OnCadenceDays <= 0 {
		o.OnCadenceDays = DefaultOnCadenceDays
	}
	return o
}

// isDefault reports whether o (with defaults applied) equals the defaults, i.e. whether
// it leaves FeatureSetVersion unchanged.
func (o StreamOptions) isDefault() bool {
	return o == StreamOptions{}.withDefaults()
}

func (o StreamOptions) String() string {
	return fmt.Sprintf("streams(in=%g,out=%g,tol=%d)", o.InflowAmountBand, o.OutflowAmountBand, o.OnCadenceDays)
}

// Stream is one recurring inflow or outflow stream (E1, F2), after Plaid's recurring
// streams. Amounts are minor units and positive for both directions (magnitudes);
// dates are UTC days (YYYY-MM-DD).
type Stream struct {
	// Description is the normalised description shared by the occurrences.
	Description string `json:"description"`
	// Direction is "inflow" or "outflow".
	Direction string `json:"direction"`
	// Category is the most frequent category of the occurrences (ties: the smallest).
	Category  Category `json:"category"`
	Frequency string   `json:"frequency"`
	Status    string   `json:"status"`
	// IsActive is false when the stream missed its expected date (predicted next date
	// plus the cadence tolerance lies before the cutoff).
	IsActive          bool   `json:"is_active"`
	FirstDate         string `json:"first_date"`
	LastDate          string `json:"last_date"`
	PredictedNextDate string `json:"predicted_next_date"`
	// MedianGapDays is the median number of days between consecutive occurrences.
	MedianGapDays int `json:"median_gap_days"`
	Occurrences   int `json:"occurrences"`
	// AverageAmount is the mean occurrence magnitude over the last 180 days (all
	// occurrences when none fall in that window).
	AverageAmount int64 `json:"average_amount"`
	LastAmount    int64 `json:"last_amount"`
	// MonthlyAmount is AverageAmount normalised to a month: weekly × 52/12,
	// biweekly × 26/12, semi-monthly × 2, monthly × 1 (E2, F2).
	MonthlyAmount  int64    `json:"monthly_amount"`
	TransactionIDs []string `json:"transaction_ids"`
}

// IncomeStream is the name of Stream used by earlier code for inflow streams.
type IncomeStream = Stream

// monthlyFactor converts one occurrence to a monthly amount (E2).
func monthlyFactor(freq string) float64 {
	switch freq {
	case FrequencyWeekly:
		return 52.0 / 12.0
	case FrequencyBiweekly:
		return 26.0 / 12.0
	case FrequencySemiMonthly:
		return 2
	case FrequencyMonthly:
		return 1
	}
	return 0
}

// streamInput is one candidate occurrence: the transaction, its category, its
// normalised description and its UTC day.
type streamInput struct {
	t    *Transaction
	cat  Category
	key  string
	day  int64
	size int64 // |amount|
}

// cadenceRules are the parts of cadence detection that differ between feature sets.
type cadenceRules struct {
	// semiMonthly reports whether occurrence days follow a semi-monthly pattern
	// (semiMonthlyPattern in fs-v2, semiMonthlyCalendar from fs-v3).
	semiMonthly func(days []int64) bool
	// weekdayMonthly predicts the next occurrence of a MONTHLY stream whose gaps are
	// all whole weeks (benefits paid on the n-th weekday, such as Social Security's
	// second, third or fourth Wednesday) on the same n-th weekday of the next month,
	// not on the same day of month (from fs-v3; fs-v2 marks such a stream inactive
	// when the n-th weekday falls more than the tolerance after that day).
	weekdayMonthly bool
}

// detectStreams finds recurring streams among in (one direction; posted, cash-only,
// already filtered) as of cutoff day c under the feature set's cadence rules.
// Streams are sorted by monthly amount descending, then description, then first date;
// TOMBSTONED and UNKNOWN-cadence clusters are dropped.
//
// The occurrences are sorted once by description, then in occurrence order (byDay's),
// so that each description's group is one run, the groups come in description order,
// and the clusters amountClusters cuts from a group keep occurrence order.
func detectStreams(in []streamInput, c int64, dir string, band float64, tol int, rules cadenceRules) []Stream {
	sorted := sortedByKeyAndDay(in)
	var out []Stream
	for len(sorted) > 0 {
		k := sorted[0].key
		n := 1
		for n < len(sorted) && sorted[n].key == k {
			n++
		}
		for _, cl := range amountClusters(sorted[:n], band) {
			if s, ok := classifyStream(k, cl, c, tol, rules); ok && s.Status != StreamTombstoned {
				s.Direction = dir
				out = append(out, s)
			}
		}
		sorted = sorted[n:]
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].MonthlyAmount != out[j].MonthlyAmount {
			return out[i].MonthlyAmount > out[j].MonthlyAmount
		}
		if out[i].Description != out[j].Description {
			return out[i].Description < out[j].Description
		}
		return out[i].FirstDate < out[j].FirstDate
	})
	return out
}

// amountClusters splits one description group into amount bands: repeatedly take the
// (lower) median of the remaining magnitudes and claim every remaining occurrence
// within ±band of it. The claimed occurrences are a contiguous run of the remaining
// ones sorted by magnitude, so one sort serves every round.
//
// The rounds work on (magnitude, position) pairs, which hold no pointers and so sort
// fast; each cluster lists its occurrences in g's order.
func amountClusters(g []streamInput, band float64) [][]streamInput {
	rest := make([]sizeAt, len(g))
	for i, s := range g {
		rest[i] = sizeAt{s.size, int32(i)}
	}
	// Equal magnitudes always land in the same cluster, so their order is irrelevant.
	slices.SortFunc(rest, func(a, b sizeAt) int { return cmp.Compare(a.size, b.size) })
	all := make([]streamInput, len(g)) // the clusters, one after another
	pos := make([]int32, 0, len(g))
	var out [][]streamInput
	for len(rest) > 0 {
		m := rest[(len(rest)-1)/2].size
		lo, hi := float64(m)*(1-band), float64(m)*(1+band)
		i := sort.Search(len(rest), func(k int) bool { return float64(rest[k].size) >= lo || rest[k].size >= m })
		j := sort.Search(len(rest), func(k int) bool { return float64(rest[k].size) > hi && rest[k].size > m })
		pos = pos[:0] // never empty: holds the median
		for _, r := range rest[i:j] {
			pos = append(pos, r.at)
		}
		slices.Sort(pos)
		cl := all[:len(pos):len(pos)]
		all = all[len(pos):]
		for k, p := range pos {
			cl[k] = g[p]
		}
		out = append(out, cl)
		rest = append(rest[:i], rest[j:]...)
	}
	return out
}

// sizeAt is an occurrence's magnitude and its position in its group.
type sizeAt struct {
	size int64
	at   int32
}

// sortedByKeyAndDay returns in sorted by description, then in byDay's order (a stable
// sort: equal occurrences keep their order). The descriptions are few and the
// occurrences usually come in time order, so it groups them by description, orders the
// groups, and sorts a group only when it is not in byDay's order already.
func sortedByKeyAndDay(in []streamInput) []streamInput {
	group := map[string]int32{}
	var keys []string
	gid := make([]int32, len(in))
	for i := range in {
		g, ok := group[in[i].key]
		if !ok {
			g = int32(len(keys))
			group[in[i].key] = g
			keys = append(keys, in[i].key)
		}
		gid[i] = g
	}
	order := make([]int32, len(keys)) // group numbers by description
	for g := range order {
		order[g] = int32(g)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
	count := make([]int, len(keys)) // occurrences per group
	for _, g := range gid {
		count[g]++
	}
	offset := 0
	at := make([]int, len(keys)) // where group g's next occurrence goes
	for _, g := range order {
		at[g] = offset
		offset += count[g]
	}
	out := make([]streamInput, len(in))
	for i, g := range gid {
		out[at[g]] = in[i]
		at[g]++
	}
	for _, g := range order {
		run := out[at[g]-count[g] : at[g]] // at[g] is now the group's end
		if !slices.IsSortedFunc(run, compareByDay) {
			slices.SortStableFunc(run, compareByDay)
		}
	}
	return out
}

// classifyStream decides cadence and status of one amount cluster (docs/features.md §3
// steps 2–3).
func classifyStream(desc string, cl []streamInput, c int64, tol int, rules cadenceRules) (Stream, bool) {
	if len(cl) < 2 {
		return Stream{}, false
	}
	cl = byDay(cl)
	days := make([]int64, len(cl))
	for i, s := range cl {
		days[i] = s.day
	}
	gaps := make([]float64, 0, len(cl)-1)
	for i := 1; i < len(days); i++ {
		gaps = append(gaps, float64(days[i]-days[i-1]))
	}
	sorted := append([]float64(nil), gaps...)
	sort.Float64s(sorted) // stat.Quantile panics on unsorted input
	medGap := stat.Quantile(0.5, stat.Empirical, sorted, nil)
	freq := cadence(days, gaps, medGap, rules.semiMonthly)
	if freq == FrequencyUnknown {
		return Stream{}, false
	}
	last := days[len(days)-1]
	next := last + int64(medGap)
	if freq == FrequencyMonthly {
		if rules.weekdayMonthly && weekdayLocked(gaps) {
			next = dayOf(sameWeekdayNextMonth(dayTime(last))) // the same n-th weekday
		} else {
			next = dayOf(addMonthClamped(dayTime(last))) // same day of month
		}
	}
	active := c <= next+int64(tol)
	ids := make([]string, 0, len(cl))
	for _, s := range cl {
		ids = append(ids, s.t.ID)
	}
	avg := recentAverage(cl, c)
	return Stream{
		Description:       desc,
		Category:          dominantCategory(cl),
		Frequency:         freq,
		Status:            streamStatus(gaps, medGap, tol, active),
		IsActive:          active,
		FirstDate:         dayString(days[0]),
		LastDate:          dayString(last),
		PredictedNextDate: dayString(next),
		MedianGapDays:     int(medGap),
		Occurrences:       len(cl),
		AverageAmount:     int64(math.Round(avg)),
		LastAmount:        cl[len(cl)-1].size,
		MonthlyAmount:     int64(math.Round(avg * monthlyFactor(freq))),
		TransactionIDs:    ids,
	}, true
}

// byDay returns a copy of the cluster in occurrence order: by day, then transaction
// time, then id, so that equal days still give one order whatever the input's.
// A cluster already in that order (detectStreams' are) is returned as it is.
func byDay(cl []streamInput) []streamInput {
	if slices.IsSortedFunc(cl, compareByDay) {
		return cl
	}
	cl = append([]streamInput(nil), cl...)
	slices.SortFunc(cl, compareByDay)
	return cl
}

// compareByDay orders occurrences by day, then transaction time, then id.
func compareByDay(a, b streamInput) int {
	if c := cmp.Compare(a.day, b.day); c != 0 {
		return c
	}
	if c := a.t.TransactedAt.Compare(b.t.TransactedAt); c != 0 {
		return c
	}
	return strings.Compare(a.t.ID, b.t.ID)
}

// cadence returns the frequency of occurrences on days, with the given gaps between
// them and their median medGap (docs/features.md §3 step 2): 6–8 days weekly, 13–15
// biweekly, 13–17 semi-monthly when the days of month follow two anchors (semi) and
// the weekday does not, 28–33 monthly; anything else is FrequencyUnknown.
func cadence(days []int64, gaps []float64, medGap float64, semi func(days []int64) bool) string {
	switch {
	case medGap >= 6 && medGap <= 8:
		return FrequencyWeekly
	case medGap >= 13 && medGap <= 17:
		freq := FrequencyUnknown
		if medGap <= 15 {
			freq = FrequencyBiweekly
		}
		if semi(days) && !weekdayLocked(gaps) {
			freq = FrequencySemiMonthly
		}
		return freq
	case medGap >= 28 && medGap <= 33:
		return FrequencyMonthly
	}
	return FrequencyUnknown
}

// streamStatus returns MATURE when at least streamMatureOccurrences occurrences are on
// cadence (the first, and each whose gap is within tol days of the median gap),
// TOMBSTONED for an early detection that missed its next date (not active), and
// EARLY_DETECTION otherwise.
func streamStatus(gaps []float64, medGap float64, tol int, active bool) string {
	onCadence := 1
	for _, g := range gaps {
		if math.Abs(g-medGap) <= float64(tol) {
			onCadence++
		}
	}
	switch {
	case onCadence >= streamMatureOccurrences:
		return StreamMature
	case !active:
		return StreamTombstoned // early detection that missed its date
	}
	return StreamEarlyDetection
}

// recentAverage is the mean magnitude of the occurrences in the streamLookbackDays
// before cutoff day c, or of all occurrences when none falls in that window (Stream's
// AverageAmount before rounding).
func recentAverage(cl []streamInput, c int64) float64 {
	var sum float64
	var n int
	for _, s := range cl {
		if s.day > c-streamLookbackDays {
			sum += float64(s.size)
			n++
		}
	}
	if n == 0 {
		for _, s := range cl {
			sum += float64(s.size)
		}
		n = len(cl)
	}
	return sum / float64(n)
}

// dominantCategory is the most frequent category of the occurrences; a tie goes to the
// smallest category, so the result never depends on map order.
func dominantCategory(cl []streamInput) Category {
	catCount := map[Category]int{}
	for _, s := range cl {
		catCount[s.cat]++
	}
	var cat Category
	best := 0
	for k, v := range catCount {
		if v > best || (v == best && k < cat) {
			cat, best = k, v
		}
	}
	return cat
}

// semiMonthlyPattern reports whether the occurrence days follow two recurring days of
// the month (e.g. the 1st and the 15th): every day of month lies within
// semiMonthlyAnchorDays of one of two anchors at least 10 days apart. The anchors are
// the days of month of the first two occurrences; distances wrap around month ends so
// that the 30th and the 1st are close.
func semiMonthlyPattern(days []int64) bool {
	if len(days) < 3 {
		return false
	}
	a, b := dayTime(days[0]).Day(), dayTime(days[1]).Day()
	if circDist(a, b) < semiMonthlyMinApart {
		return false
	}
	for _, d := range days {
		dm := dayTime(d).Day()
		if circDist(dm, a) > semiMonthlyAnchorDays && circDist(dm, b) > semiMonthlyAnchorDays {
			return false
		}
	}
	return true
}

// semiMonthlyCalendar is the semi-monthly test of fs-v3: there are two days of the
// month a and b, at least semiMonthlyMinApart days apart both ways round the month,
// such that every occurrence lies within semiMonthlyAnchorDays calendar days of day a
// or day b of its own month or a neighbouring one, a day past a month's end meaning
// its last day (pay on the 31st is on April 30th and February 28th). Measured in
// calendar days, pay due on March 1st and paid on Friday February 27th is two days
// early, where semiMonthlyPattern's 31-day circle sees five, and the anchors are not
// taken from the first two occurrences, which may themselves be moved off a weekend.
func semiMonthlyCalendar(days []int64) bool {
	if len(days) < 3 {
		return false
	}
	var near [32][]bool // near[a][i]: occurrence i is within the tolerance of anchor day a
	flags := make([]bool, 32*len(days))
	for a := 1; a <= 31; a++ {
		near[a] = flags[a*len(days) : (a+1)*len(days) : (a+1)*len(days)]
	}
	for i, d := range days {
		ms := neighbourMonths(d) // the calendar work once per day, not once per anchor
		for a := 1; a <= 31; a++ {
			near[a][i] = ms.anchorDistance(d, a) <= semiMonthlyAnchorDays
		}
	}
	for a := 1; a <= 31; a++ {
		for b := a + semiMonthlyMinApart; b <= 31 && 31-(b-a) >= semiMonthlyMinApart; b++ {
			all := true
			for i := range days {
				if !near[a][i] && !near[b][i] {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
	}
	return false
}

// monthSpan is a calendar month as its first day (days since 1970) and its length.
type monthSpan struct {
	first int64
	days  int
}

// monthTriple is the month before a day's month, that month and the one after.
type monthTriple [3]monthSpan

// neighbourMonths returns the month before day d's month, d's month and the one after.
func neighbourMonths(d int64) monthTriple {
	t := dayTime(d)
	var ms monthTriple
	for k := -1; k <= 1; k++ {
		m := time.Date(t.Year(), t.Month()+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
		ms[k+1] = monthSpan{first: dayOf(m), days: m.AddDate(0, 1, -1).Day()}
	}
	return ms
}

// anchorDistance is the number of calendar days between day d and the nearest day a of
// d's month or a neighbouring month (clamped to the month's last day), for the months
// ms = neighbourMonths(d): day min(a, last) of a month is its first day plus
// min(a, last)-1, as time.Date counts it.
func (ms monthTriple) anchorDistance(d int64, a int) int64 {
	best := int64(math.MaxInt64)
	for _, m := range ms {
		diff := d - (m.first + int64(min(a, m.days)) - 1)
		best = min(best, max(diff, -diff))
	}
	return best
}

// weekdayLocked reports whether every gap is a whole number of weeks: pay that always
// lands on the same weekday is BIWEEKLY even when, over a few months, its days of
// month happen to fit a semi-monthly pattern.
func weekdayLocked(gaps []float64) bool {
	for _, g := range gaps {
		if int64(g)%7 != 0 {
			return false
		}
	}
	return true
}

// circDist is the distance between two days of month on a 31-day circle.
func circDist(a, b int) int {
	d := a - b
	if d < 0 {
		d = -d
	}
	if 31-d < d {
		d = 31 - d
	}
	return d
}

// sameWeekdayNextMonth is the day of next month on t's weekday with t's ordinal (the
// 3rd Wednesday gives the 3rd Wednesday), or that weekday's last occurrence when the
// month has no such ordinal (a 5th Friday).
func sameWeekdayNextMonth(t time.Time) time.Time {
	n := (t.Day() - 1) / 7 // 0-based ordinal
	first := time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	d := first.AddDate(0, 0, (int(t.Weekday())-int(first.Weekday())+7)%7+7*n)
	if d.Month() != first.Month() {
		d = d.AddDate(0, 0, -7)
	}
	return d
}

// addMonthClamped is t one calendar month later on the same day of the month, or on the
// month's last day when it is shorter: pay on Jan 31 is next due Feb 28 (29), not Mar 3
// as time.AddDate's normalisation would give.
func addMonthClamped(t time.Time) time.Time {
	y, m, d := t.Date()
	firstOfNext := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	last := firstOfNext.AddDate(0, 1, -1).Day()
	return time.Date(firstOfNext.Year(), firstOfNext.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}
