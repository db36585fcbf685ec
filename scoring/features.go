package scoring

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// Versions recorded with every decision (§6 of the features reference).
const (
	// FeatureSetVersion names the feature definitions, categorisation patterns, stream
	// parameters and time zone (UTC) in this package.
	FeatureSetVersion = "fs-v1"
	// ModelVersion names the points scorecard in scorecard.go.
	ModelVersion = "v1"
	// PolicyVersion names the knock-out rules and thresholds in policy.go.
	PolicyVersion = "v1"
)

// Feature-set constants. Each is part of FeatureSetVersion.
const (
	// daysPerMonth converts a day span into months for A1 (mean Gregorian month).
	daysPerMonth = 30.44
	// monthlyWindowMonths: monthly statistics (B4, E3) use the last 6 complete months.
	monthlyWindowMonths = 6
	// largeDepositIncomeShare: Fannie Mae's large-deposit test, a deposit above 50 % of
	// monthly qualifying income.
	largeDepositIncomeShare = 0.5
	// largeDepositSigmas: the statistical alternative, above mean + 2σ of deposits.
	largeDepositSigmas = 2
	// LargeDepositFloorMinor is a project floor: a deposit below 500.00 is never
	// "large", so small refunds in a thin or income-less ledger never trigger
	// verification. It is in minor units of the ledger currency (v1 products are USD).
	LargeDepositFloorMinor = 50000
	// cvMeanEpsilon: a coefficient of variation is undefined when the mean is below one
	// minor unit (≈ 0), per E3.
	cvMeanEpsilon = 1.0
)

// PolicyAPR is the annual percentage rate used to amortise the proposed loan for
// proposed_monthly_payment and payment_to_income (H2). 24 % is the v1 product's
// maximum APR: pricing is not known when features are computed, so affordability is
// tested at the most expensive rate the applicant could be offered (conservative).
const PolicyAPR = 0.24

// Loan is the credit applied for: principal in minor units of the ledger currency and
// the term in months.
type Loan struct {
	AmountMinor int64
	TermMonths  int
}

// MonthlyCashFlow is one complete calendar month of flows (B3/B4), minor units.
type MonthlyCashFlow struct {
	Month   string `json:"month"` // YYYY-MM
	Inflow  int64  `json:"inflow"`
	Outflow int64  `json:"outflow"`
	Net     int64  `json:"net"`
}

// Features is the fs-v1 feature vector. The catalogue with formulas, units, windows and
// empty-input behaviour is in doc.go; each field comment names its catalogue id.
// Money is minor units of Currency. Undefined values are nil pointers and their json
// names are listed in Undefined; no field is ever NaN or ±Inf.
type Features struct {
	Cutoff             string            `json:"cutoff"`        // YYYY-MM-DD, the as-of cutoff day (UTC)
	Currency           string            `json:"currency"`      // the ledger's single currency ("" when empty)
	BalanceAsOf        string            `json:"balance_as_of"` // newest balance.as_of, RFC 3339 ("" when none)
	CashAccounts       int               `json:"cash_accounts"`
	InactiveAccounts   int               `json:"inactive_accounts"`         // ledger accounts whose status is set and not "active"
	PostedTxnCount     int               `json:"posted_txn_count"`          // posted cash txns dated ≤ cutoff
	MonthsOfHistory    float64           `json:"months_of_history"`         // A1
	CompleteMonthsTxn  int               `json:"complete_months_with_txn"`  // A1 (count variant)
	DaysSinceLastTxn   *int              `json:"days_since_last_txn"`       // A2
	TxnCountIn90d      int               `json:"txn_count_inflow_90d"`      // A5
	TxnCountOut90d     int               `json:"txn_count_outflow_90d"`     // A5
	InflowTotal30d     int64             `json:"inflow_total_30d"`          // B1
	InflowTotal90d     int64             `json:"inflow_total_90d"`          // B1
	OutflowTotal30d    int64             `json:"outflow_total_30d"`         // B2
	OutflowTotal90d    int64             `json:"outflow_total_90d"`         // B2
	OwnTransfers90d    int               `json:"own_transfer_count_90d"`    // §1 own transfers (excluded)
	MonthlyCashFlow    []MonthlyCashFlow `json:"monthly_cash_flow"`         // B3/B4
	NetCashFlowMean    *float64          `json:"net_cash_flow_mean_6m"`     // B4
	NetCashFlowMedian  *float64          `json:"net_cash_flow_median_6m"`   // B4
	AvgDailyBalance30d *float64          `json:"avg_daily_balance_30d"`     // C1
	AvgDailyBalance90d *float64          `json:"avg_daily_balance_90d"`     // C1
	MinEODBalance90d   *int64            `json:"min_eod_balance_90d"`       // C2
	DaysNegative90d    *int              `json:"days_negative_balance_90d"` // C4
	CurrentBalance     *int64            `json:"current_balance"`           // C6 (current)
	CurrentAvailable   *int64            `json:"current_available_balance"` // C6
	NSFFeeCount30d     int               `json:"nsf_od_fee_count_30d"`      // D1
	NSFFeeCount90d     int               `json:"nsf_od_fee_count_90d"`      // D1
	ReturnedItems90d   int               `json:"returned_item_count_90d"`   // D2
	DaysSinceLastNSF   *int              `json:"days_since_last_nsf"`       // D3
	IncomeStreams      []IncomeStream    `json:"income_streams"`            // E1
	MonthlyIncomeEst   int64             `json:"monthly_income_est"`        // E2
	IncomeCV           *float64          `json:"income_cv"`                 // E3
	LargeDeposits60d   int               `json:"large_deposit_count_60d"`   // I1
	LoanAmount         int64             `json:"loan_amount"`
	LoanTermMonths     int               `json:"loan_term_months"`
	PolicyAPR          float64           `json:"policy_apr"`
	ProposedPayment    int64             `json:"proposed_monthly_payment"` // H2 numerator
	PaymentToIncome    *float64          `json:"payment_to_income"`        // H2
	// Undefined lists, sorted, the json names of features that are undefined (nil).
	Undefined []string `json:"undefined"`
}

// round4 rounds ratios to 4 decimals and round2 money means to 2 decimals (hundredths
// of a minor unit), so the stored vector is readable; both are deterministic.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ptr[T any](v T) *T { return &v }

// inWindow reports whether day d is in the N-day window ending on cutoff day c:
// (c − N, c], the N calendar days ending with the cutoff day itself.
func inWindow(d, c int64, n int64) bool { return d > c-n && d <= c }

// ProposedPayment returns the level monthly payment, in minor units rounded up, that
// amortises loan at PolicyAPR: P·r / (1 − (1 + r)^−n) with r = APR/12. It returns 0
// for a non-positive amount or term.
func ProposedPayment(loan Loan) int64 {
	if loan.AmountMinor <= 0 || loan.TermMonths <= 0 {
		return 0
	}
	r := PolicyAPR / 12
	p := float64(loan.AmountMinor) * r / (1 - math.Pow(1+r, -float64(loan.TermMonths)))
	return int64(math.Ceil(p))
}

// ComputeFeatures computes the fs-v1 feature vector of l as of the UTC day of cutoff
// for the proposed loan. Only posted transactions of cash accounts dated on or before
// the cutoff day feed history features; the daily-balance series uses every posted
// transaction (§1). Thin or empty ledgers give a vector with undefined features, not
// an error. Errors: ErrMixedCurrency for a ledger in several currencies, ErrInvalidLoan
// for a non-positive loan amount or term.
func ComputeFeatures(l Ledger, cutoff time.Time, loan Loan) (Features, error) {
	if loan.AmountMinor <= 0 || loan.TermMonths <= 0 {
		return Features{}, fmt.Errorf("%w: amount %d, term %d months", ErrInvalidLoan, loan.AmountMinor, loan.TermMonths)
	}
	n, err := Normalize(l)
	if err != nil {
		return Features{}, err
	}
	ccy, _ := ledgerCurrency(n) // checked by Normalize
	c := dayOf(cutoff)
	f := Features{
		Cutoff:          dayString(c),
		Currency:        ccy,
		LoanAmount:      loan.AmountMinor,
		LoanTermMonths:  loan.TermMonths,
		PolicyAPR:       PolicyAPR,
		ProposedPayment: ProposedPayment(loan),
		MonthlyCashFlow: []MonthlyCashFlow{},
		IncomeStreams:   []IncomeStream{},
	}
	var undef []string
	cash := map[string]bool{}
	for _, a := range n.Accounts {
		if a.Status != "" && a.Status != "active" {
			f.InactiveAccounts++
		}
		if !isCash(a) {
			continue
		}
		cash[a.ID] = true
		f.CashAccounts++
	}
	if asOf := LatestAsOf(n); !asOf.IsZero() {
		f.BalanceAsOf = asOf.Format(time.RFC3339)
	}

	// History: posted cash transactions dated on or before the cutoff day.
	var hist []Transaction
	for _, t := range n.Transactions {
		if t.Status == StatusPosted && cash[t.AccountID] && dayOf(t.TransactedAt) <= c {
			hist = append(hist, t)
		}
	}
	f.PostedTxnCount = len(hist)
	own := matchOwnTransfers(hist)

	// A1, A2.
	if len(hist) > 0 {
		first, last := dayOf(hist[0].TransactedAt), dayOf(hist[len(hist)-1].TransactedAt)
		f.MonthsOfHistory = round4(float64(last-first) / daysPerMonth)
		f.DaysSinceLastTxn = ptr(int(c - last))
	} else {
		undef = append(undef, "days_since_last_txn")
	}

	// Flow classification shared by A5, B1–B4, D1–D3, E, I1.
	isFlow := func(t Transaction) bool { return !own[t.ID] && !isNSFReversal(t) }
	var lastNSF int64 = math.MinInt64
	fees30, fees90, rev30, rev90 := 0, 0, 0, 0
	var deposits90 []float64
	for _, t := range hist {
		d := dayOf(t.TransactedAt)
		if own[t.ID] && inWindow(d, c, 90) {
			f.OwnTransfers90d++
		}
		if isNSFFee(t) {
			lastNSF = d
			if inWindow(d, c, 90) {
				fees90++
			}
			if inWindow(d, c, 30) {
				fees30++
			}
		}
		if isNSFReversal(t) {
			if inWindow(d, c, 90) {
				rev90++
			}
			if inWindow(d, c, 30) {
				rev30++
			}
		}
		if isReturnedItem(t) && inWindow(d, c, 90) {
			f.ReturnedItems90d++
		}
		if !isFlow(t) {
			continue
		}
		if t.Amount > 0 {
			if inWindow(d, c, 90) {
				f.TxnCountIn90d++
				f.InflowTotal90d += t.Amount
				deposits90 = append(deposits90, float64(t.Amount))
			}
			if inWindow(d, c, 30) {
				f.InflowTotal30d += t.Amount
			}
		} else if t.Amount < 0 {
			if inWindow(d, c, 90) {
				f.TxnCountOut90d++
				f.OutflowTotal90d += -t.Amount
			}
			if inWindow(d, c, 30) {
				f.OutflowTotal30d += -t.Amount
			}
		}
	}
	f.NSFFeeCount90d = max(0, fees90-rev90)
	f.NSFFeeCount30d = max(0, fees30-rev30)
	if lastNSF != math.MinInt64 {
		f.DaysSinceLastNSF = ptr(int(c - lastNSF))
	} else {
		undef = append(undef, "days_since_last_nsf")
	}

	// B3/B4: complete calendar months inside the history.
	months := completeMonths(hist, c)
	f.CompleteMonthsTxn = countMonthsWithTxn(hist, c)
	if len(months) > 0 {
		idx := map[int64]int{}
		for i, m := range months {
			idx[m.start] = i
			f.MonthlyCashFlow = append(f.MonthlyCashFlow, MonthlyCashFlow{Month: dayTime(m.start).Format("2006-01")})
		}
		for _, t := range hist {
			if !isFlow(t) {
				continue
			}
			i, ok := idx[monthStart(dayOf(t.TransactedAt))]
			if !ok {
				continue
			}
			if t.Amount > 0 {
				f.MonthlyCashFlow[i].Inflow += t.Amount
			} else {
				f.MonthlyCashFlow[i].Outflow += -t.Amount
			}
		}
		nets := make([]float64, len(f.MonthlyCashFlow))
		for i := range f.MonthlyCashFlow {
			m := &f.MonthlyCashFlow[i]
			m.Net = m.Inflow - m.Outflow
			nets[i] = float64(m.Net)
		}
		f.NetCashFlowMean = ptr(round2(stat.Mean(nets, nil)))
		sort.Float64s(nets) // stat.Quantile needs sorted input
		f.NetCashFlowMedian = ptr(round2(stat.Quantile(0.5, stat.Empirical, nets, nil)))
	} else {
		undef = append(undef, "net_cash_flow_mean_6m", "net_cash_flow_median_6m")
	}

	// C1, C2, C4, C6 from the combined EOD series.
	bal := dailyBalances(n, c-89, c)
	if len(bal.Combined.EOD) > 0 {
		eod := bal.Combined.EOD
		x := make([]float64, len(eod))
		neg := 0
		for i, v := range eod {
			x[i] = float64(v)
			if v < 0 {
				neg++
			}
		}
		f.AvgDailyBalance90d = ptr(round2(stat.Mean(x, nil)))
		f.AvgDailyBalance30d = ptr(round2(stat.Mean(x[len(x)-30:], nil)))
		f.MinEODBalance90d = ptr(int64(floats.Min(x))) // exact: |EOD| < 2^53
		f.DaysNegative90d = ptr(neg)
		var cur, avail int64
		for _, a := range n.Accounts {
			if !cash[a.ID] || !a.HasBalance {
				continue
			}
			cur += a.Current
			if a.Available != nil {
				avail += *a.Available
			} else {
				avail += a.Current // no holds reported: available = current
			}
		}
		f.CurrentBalance = ptr(cur)
		f.CurrentAvailable = ptr(avail)
	} else {
		undef = append(undef, "avg_daily_balance_30d", "avg_daily_balance_90d", "min_eod_balance_90d",
			"days_negative_balance_90d", "current_balance", "current_available_balance")
	}

	// E1/E2: recurring inflow streams.
	var incomeCands []Transaction
	for _, t := range hist {
		if t.Amount > 0 && isFlow(t) {
			incomeCands = append(incomeCands, t)
		}
	}
	streams := detectIncomeStreams(incomeCands, c)
	if streams != nil {
		f.IncomeStreams = streams
	}
	inStream := map[string]bool{}
	for _, s := range streams {
		if s.Status != StreamMature {
			continue
		}
		for _, id := range s.TransactionIDs {
			inStream[id] = true
		}
		if s.IsActive {
			f.MonthlyIncomeEst += s.MonthlyAmount
		}
	}

	// E3: CV of monthly MATURE-stream income over the complete months.
	if len(months) >= 2 {
		inc := make([]float64, len(months))
		idx := map[int64]int{}
		for i, m := range months {
			idx[m.start] = i
		}
		for _, t := range hist {
			if !inStream[t.ID] {
				continue
			}
			if i, ok := idx[monthStart(dayOf(t.TransactedAt))]; ok {
				inc[i] += float64(t.Amount)
			}
		}
		mean, std := stat.MeanStdDev(inc, nil)
		if mean >= cvMeanEpsilon {
			f.IncomeCV = ptr(round4(std / mean))
		}
	}
	if f.IncomeCV == nil {
		undef = append(undef, "income_cv")
	}

	// I1: large deposits in the last 60 days that no MATURE income stream explains.
	var depMean, depStd float64
	useSigma := len(deposits90) >= 2
	if useSigma {
		depMean, depStd = stat.MeanStdDev(deposits90, nil)
	}
	for _, t := range hist {
		d := dayOf(t.TransactedAt)
		if t.Amount <= 0 || !isFlow(t) || inStream[t.ID] || !inWindow(d, c, 60) || t.Amount < LargeDepositFloorMinor {
			continue
		}
		a := float64(t.Amount)
		if (f.MonthlyIncomeEst > 0 && a > largeDepositIncomeShare*float64(f.MonthlyIncomeEst)) ||
			(useSigma && a > depMean+largeDepositSigmas*depStd) {
			f.LargeDeposits60d++
		}
	}

	// H2.
	if f.MonthlyIncomeEst > 0 {
		f.PaymentToIncome = ptr(round4(float64(f.ProposedPayment) / float64(f.MonthlyIncomeEst)))
	} else {
		undef = append(undef, "payment_to_income")
	}

	sort.Strings(undef)
	if undef == nil {
		undef = []string{}
	}
	f.Undefined = undef
	return f, nil
}

type month struct{ start, end int64 } // day numbers, inclusive

// monthStart returns the day number of the first day of d's calendar month.
func monthStart(d int64) int64 {
	t := dayTime(d)
	return dayOf(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}

// lastCompleteMonthEnd returns the last day of the newest calendar month that is
// complete at cutoff day c: the cutoff month itself when c is its last day, otherwise
// the month before.
func lastCompleteMonthEnd(c int64) int64 {
	if monthStart(c+1) == c+1 {
		return c
	}
	return monthStart(c) - 1
}

// completeMonths returns up to monthlyWindowMonths complete calendar months ending at
// or before cutoff day c whose first day is not before the oldest posted transaction
// (a month the history only partly covers would understate flows), oldest first.
func completeMonths(hist []Transaction, c int64) []month {
	if len(hist) == 0 {
		return nil
	}
	first := dayOf(hist[0].TransactedAt)
	var out []month
	end := lastCompleteMonthEnd(c)
	for len(out) < monthlyWindowMonths {
		start := monthStart(end)
		if start < first {
			break
		}
		out = append(out, month{start, end})
		end = start - 1
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// countMonthsWithTxn counts complete calendar months (ending ≤ cutoff day c) with at
// least one posted transaction (A1, count variant).
func countMonthsWithTxn(hist []Transaction, c int64) int {
	end := lastCompleteMonthEnd(c)
	seen := map[int64]bool{}
	for _, t := range hist {
		if d := dayOf(t.TransactedAt); d <= end {
			seen[monthStart(d)] = true
		}
	}
	return len(seen)
}
