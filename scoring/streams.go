package scoring

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Stream frequencies (Plaid's vocabulary; §3 of the features reference).
const (
	FrequencyWeekly      = "WEEKLY"
	FrequencyBiweekly    = "BIWEEKLY"
	FrequencySemiMonthly = "SEMI_MONTHLY"
	FrequencyMonthly     = "MONTHLY"
	FrequencyUnknown     = "UNKNOWN"
)

// Stream statuses (§3). TOMBSTONED streams are dropped, so they never appear.
const (
	StreamMature         = "MATURE"
	StreamEarlyDetection = "EARLY_DETECTION"
)

// Recurring-stream parameters; project defaults from §3, part of FeatureSetVersion.
const (
	// streamAmountBand: an occurrence belongs to a cluster when its amount is within
	// ±20 % of the cluster median (inflows use the looser band because pay varies).
	streamAmountBand = 0.20
	// streamOnCadenceDays: an occurrence is on cadence within ±3 days of the expected date.
	streamOnCadenceDays = 3
	// streamMatureOccurrences: Plaid's MATURE rule, at least 3 occurrences on cadence.
	streamMatureOccurrences = 3
	// semiMonthlyAnchorDays: a semi-monthly stream's days of month stay within ±3 days
	// of its two anchor days (the 1st/15th pattern survives weekends and short months).
	semiMonthlyAnchorDays = 3
	// streamLookbackDays: amounts of the last 180 days (≈ 6 months, E2's window) form
	// average_amount; older occurrences still establish the cadence.
	streamLookbackDays = 180
)

// IncomeStream is one recurring inflow stream (E1), after Plaid's recurring streams.
// Amounts are minor units; dates are UTC days (YYYY-MM-DD).
type IncomeStream struct {
	// Description is the normalised description shared by the occurrences.
	Description string `json:"description"`
	Frequency   string `json:"frequency"`
	Status      string `json:"status"`
	// IsActive is false when the stream missed its expected date (predicted next date
	// plus the cadence tolerance lies before the cutoff).
	IsActive          bool   `json:"is_active"`
	FirstDate         string `json:"first_date"`
	LastDate          string `json:"last_date"`
	PredictedNextDate string `json:"predicted_next_date"`
	// MedianGapDays is the median number of days between consecutive occurrences.
	MedianGapDays int `json:"median_gap_days"`
	Occurrences   int `json:"occurrences"`
	// AverageAmount is the mean occurrence amount over the last 180 days (all
	// occurrences when none fall in that window).
	AverageAmount int64 `json:"average_amount"`
	LastAmount    int64 `json:"last_amount"`
	// MonthlyAmount is AverageAmount normalised to a month: weekly × 52/12,
	// biweekly × 26/12, semi-monthly × 2, monthly × 1 (E2).
	MonthlyAmount  int64    `json:"monthly_amount"`
	TransactionIDs []string `json:"transaction_ids"`
}

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

// detectIncomeStreams finds recurring inflow streams among txs (normalised, posted,
// cash-only, inflows already filtered to the ones that may be income) as of cutoff day
// c. Streams are sorted by monthly amount descending, then description, then first
// date; TOMBSTONED and UNKNOWN-cadence clusters are dropped.
func detectIncomeStreams(txs []Transaction, c int64) []IncomeStream {
	groups := map[string][]Transaction{}
	var keys []string
	for _, t := range txs {
		k := normaliseDescription(t.Description)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], t)
	}
	sort.Strings(keys)
	var out []IncomeStream
	for _, k := range keys {
		for _, cl := range amountClusters(groups[k]) {
			if s, ok := classifyStream(k, cl, c); ok {
				out = append(out, s)
			}
		}
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
// (lower) median of the remaining amounts and claim every remaining occurrence within
// ±streamAmountBand of it. Each cluster keeps its transactions in date order.
func amountClusters(g []Transaction) [][]Transaction {
	rest := append([]Transaction(nil), g...)
	var out [][]Transaction
	for len(rest) > 0 {
		amts := make([]int64, len(rest))
		for i, t := range rest {
			amts[i] = t.Amount
		}
		sort.Slice(amts, func(i, j int) bool { return amts[i] < amts[j] })
		med := float64(amts[(len(amts)-1)/2])
		lo, hi := med*(1-streamAmountBand), med*(1+streamAmountBand)
		var in, next []Transaction
		for _, t := range rest {
			if a := float64(t.Amount); a >= lo && a <= hi {
				in = append(in, t)
			} else {
				next = append(next, t)
			}
		}
		out = append(out, in) // never empty: the median itself is in its band
		rest = next
	}
	return out
}

// classifyStream decides cadence and status of one amount cluster (§3 steps 2–3).
func classifyStream(desc string, cl []Transaction, c int64) (IncomeStream, bool) {
	if len(cl) < 2 {
		return IncomeStream{}, false
	}
	cl = append([]Transaction(nil), cl...)
	sort.Slice(cl, func(i, j int) bool {
		if !cl[i].TransactedAt.Equal(cl[j].TransactedAt) {
			return cl[i].TransactedAt.Before(cl[j].TransactedAt)
		}
		return cl[i].ID < cl[j].ID
	})
	days := make([]int64, len(cl))
	for i, t := range cl {
		days[i] = dayOf(t.TransactedAt)
	}
	gaps := make([]float64, 0, len(cl)-1)
	for i := 1; i < len(days); i++ {
		gaps = append(gaps, float64(days[i]-days[i-1]))
	}
	sorted := append([]float64(nil), gaps...)
	sort.Float64s(sorted) // stat.Quantile panics on unsorted input
	medGap := stat.Quantile(0.5, stat.Empirical, sorted, nil)
	freq := FrequencyUnknown
	switch {
	case medGap >= 6 && medGap <= 8:
		freq = FrequencyWeekly
	case medGap >= 13 && medGap <= 17:
		if medGap <= 15 {
			freq = FrequencyBiweekly
		}
		if semiMonthlyPattern(days) && !weekdayLocked(gaps) {
			freq = FrequencySemiMonthly
		}
	case medGap >= 28 && medGap <= 33:
		freq = FrequencyMonthly
	}
	if freq == FrequencyUnknown {
		return IncomeStream{}, false
	}
	onCadence := 1
	for _, g := range gaps {
		if math.Abs(g-medGap) <= streamOnCadenceDays {
			onCadence++
		}
	}
	last := days[len(days)-1]
	next := last + int64(medGap)
	if freq == FrequencyMonthly {
		next = dayOf(dayTime(last).AddDate(0, 1, 0)) // same day of month
	}
	active := c <= next+streamOnCadenceDays
	status := StreamEarlyDetection
	if onCadence >= streamMatureOccurrences {
		status = StreamMature
	} else if !active {
		return IncomeStream{}, false // TOMBSTONED: early detection that missed its date
	}
	var sum float64
	var n int
	var ids []string
	for i, t := range cl {
		ids = append(ids, t.ID)
		if days[i] > c-streamLookbackDays {
			sum += float64(t.Amount)
			n++
		}
	}
	if n == 0 {
		for _, t := range cl {
			sum += float64(t.Amount)
		}
		n = len(cl)
	}
	avg := sum / float64(n)
	return IncomeStream{
		Description:       desc,
		Frequency:         freq,
		Status:            status,
		IsActive:          active,
		FirstDate:         dayString(days[0]),
		LastDate:          dayString(last),
		PredictedNextDate: dayString(next),
		MedianGapDays:     int(medGap),
		Occurrences:       len(cl),
		AverageAmount:     int64(math.Round(avg)),
		LastAmount:        cl[len(cl)-1].Amount,
		MonthlyAmount:     int64(math.Round(avg * monthlyFactor(freq))),
		TransactionIDs:    ids,
	}, true
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
	if circDist(a, b) < 10 {
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
