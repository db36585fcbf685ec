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
	// featureSetBase names the feature definitions, stream parameters and time zone
	// (UTC) in this package, without the categorisation rules.
	featureSetBase = "fs-v2"
	// FeatureSetVersion is the version of features computed with the default rules and
	// stream options: "fs-v2/cat-v1". Features computed with other rules or options
	// carry their own version in Features.FeatureSetVersion.
	FeatureSetVersion = featureSetBase + "/" + DefaultCategoryRulesVersion
	// ModelVersion names the points scorecard in scorecard.go.
	ModelVersion = "v1"
	// PolicyVersion names the knock-out rules and thresholds in policy.go.
	PolicyVersion = "v1"
)

// Feature-set constants. Each is part of FeatureSetVersion.
const (
	// daysPerMonth converts a day span into months for A1 (mean Gregorian month).
	daysPerMonth = 30.44
	// monthlyWindowMonths: monthly statistics (B4, E3, G1, G3) default to the last 6
	// complete months.
	monthlyWindowMonths = 6
	// monthlySeriesMonths: monthly_cash_flow lists at most the last 12 complete months.
	monthlySeriesMonths = 12
	// balanceSeriesDays: the longest balance window (C1 180d).
	balanceSeriesDays = 180
	// largeDepositIncomeShare: Fannie Mae's large-deposit test, a deposit above 50 % of
	// monthly qualifying income.
	largeDepositIncomeShare = 0.5
	// largeDepositSigmas: the statistical alternative, above mean + 2σ of deposits.
	largeDepositSigmas = 2
	// LargeDepositFloorMinor is a project floor: a deposit below 500.00 is never
	// "large", so small refunds in a thin or income-less ledger never trigger
	// verification. It is in minor units of the ledger currency (v1 products are USD).
	LargeDepositFloorMinor = 50000
	// cvMeanEpsilon: a coefficient of variation (or a ratio to a mean) is undefined
	// when the mean is below one minor unit (≈ 0), per E3 and G1.
	cvMeanEpsilon = 1.0
	// incomeConsistencyShare: E4 counts months with income ≥ 80 % of the median month.
	incomeConsistencyShare = 0.8
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

// FeatureOptions configures ComputeFeaturesWith. The zero value is the default
// feature set (FeatureSetVersion).
type FeatureOptions struct {
	// Rules categorise transactions; nil means DefaultCategoryRules(). Use
	// LoadUserCategoryRules to extend the defaults with a user file.
	Rules *CategoryRules
	// Streams configures recurring-stream detection; nil means the defaults.
	Streams *StreamOptions
}

// MonthlyCashFlow is one complete calendar month (B3/B4), minor units. Inflow and
// Outflow exclude own transfers and fee reversals.
type MonthlyCashFlow struct {
	Month   string `json:"month"` // YYYY-MM
	Inflow  int64  `json:"inflow"`
	Outflow int64  `json:"outflow"`
	Net     int64  `json:"net"`
	// Income is the inflow of MATURE income-stream occurrences dated in the month (E3–E5).
	Income int64 `json:"income"`
	// Obligations is the outflow categorised as rent, utilities, insurance,
	// subscription or debt service (B5).
	Obligations int64 `json:"obligations"`
	// DebtPayments is the outflow categorised as debt service (F1).
	DebtPayments int64 `json:"debt_payments"`
	// TxnCount counts the month's posted transactions (own transfers included).
	TxnCount int `json:"txn_count"`
	// LongestGapDays is the largest gap between consecutive posted-transaction days
	// whose later day falls in the month (A3 per month); 0 when none does.
	LongestGapDays int `json:"longest_gap_days"`
}

// Features is the fs-v2 feature vector. The catalogue with formulas, units, windows and
// empty-input behaviour is in doc.go; each field comment names its catalogue id.
// Money is minor units of Currency. Undefined values are nil pointers and their json
// names are listed in Undefined; no field is ever NaN or ±Inf.
type Features struct {
	FeatureSetVersion    string `json:"feature_set_version"`    // fs-v2/<rules version>[+streams(…)]
	CategoryRulesVersion string `json:"category_rules_version"` // version of the categorisation rules used

	Cutoff           string `json:"cutoff"`        // YYYY-MM-DD, the as-of cutoff day (UTC)
	Currency         string `json:"currency"`      // the ledger's single currency ("" when empty)
	BalanceAsOf      string `json:"balance_as_of"` // newest balance.as_of, RFC 3339 ("" when none)
	CashAccounts     int    `json:"cash_accounts"`
	InactiveAccounts int    `json:"inactive_accounts"`  // ledger accounts whose status is set and not "active"
	PostedTxnCount   int    `json:"posted_txn_count"`   // posted cash txns dated ≤ cutoff
	PendingTxnCount  int    `json:"pending_txn_count"`  // current view: pending cash txns
	PendingNetAmount int64  `json:"pending_net_amount"` // current view: Σ signed pending amounts

	MonthsOfHistory      float64 `json:"months_of_history"`        // A1
	CompleteMonthsTxn    int     `json:"complete_months_with_txn"` // A1 (count variant)
	DaysSinceLastTxn     *int    `json:"days_since_last_txn"`      // A2
	DaysSinceLastInflow  *int    `json:"days_since_last_inflow"`   // A2
	DaysSinceLastOutflow *int    `json:"days_since_last_outflow"`  // A2
	LongestGapDays       *int    `json:"longest_gap_days"`         // A3 (per month in MonthlyCashFlow)
	DaysWithoutTxn       *int    `json:"days_without_txn"`         // A4 full
	DaysWithoutTxn90d    int     `json:"days_without_txn_90d"`     // A4
	TxnCountIn30d        int     `json:"txn_count_inflow_30d"`     // A5
	TxnCountIn60d        int     `json:"txn_count_inflow_60d"`     // A5
	TxnCountIn90d        int     `json:"txn_count_inflow_90d"`     // A5
	TxnCountOut30d       int     `json:"txn_count_outflow_30d"`    // A5
	TxnCountOut60d       int     `json:"txn_count_outflow_60d"`    // A5
	TxnCountOut90d       int     `json:"txn_count_outflow_90d"`    // A5

	InflowTotal30d    int64             `json:"inflow_total_30d"`         // B1
	InflowTotal60d    int64             `json:"inflow_total_60d"`         // B1
	InflowTotal90d    int64             `json:"inflow_total_90d"`         // B1
	OutflowTotal30d   int64             `json:"outflow_total_30d"`        // B2
	OutflowTotal60d   int64             `json:"outflow_total_60d"`        // B2
	OutflowTotal90d   int64             `json:"outflow_total_90d"`        // B2
	OwnTransfers90d   int               `json:"own_transfer_count_90d"`   // §1 own transfers (excluded)
	MonthlyCashFlow   []MonthlyCashFlow `json:"monthly_cash_flow"`        // B3 (≤ 12 complete months)
	NetCashFlowMean3m *float64          `json:"net_cash_flow_mean_3m"`    // B4
	NetCashFlowMean   *float64          `json:"net_cash_flow_mean_6m"`    // B4
	NetCashFlowMean12 *float64          `json:"net_cash_flow_mean_12m"`   // B4
	NetCashFlowMed3m  *float64          `json:"net_cash_flow_median_3m"`  // B4
	NetCashFlowMedian *float64          `json:"net_cash_flow_median_6m"`  // B4
	NetCashFlowMed12  *float64          `json:"net_cash_flow_median_12m"` // B4
	FreeCashFlowAvg3m *float64          `json:"free_cash_flow_avg_3m"`    // B5
	FreeCashFlowAvg6m *float64          `json:"free_cash_flow_avg_6m"`    // B5

	AvgDailyBalance30d  *float64 `json:"avg_daily_balance_30d"`     // C1
	AvgDailyBalance90d  *float64 `json:"avg_daily_balance_90d"`     // C1
	AvgDailyBalance180d *float64 `json:"avg_daily_balance_180d"`    // C1
	MinEODBalance30d    *int64   `json:"min_eod_balance_30d"`       // C2
	MinEODBalance90d    *int64   `json:"min_eod_balance_90d"`       // C2
	EODP10_30d          *int64   `json:"eod_balance_p10_30d"`       // C3
	EODP50_30d          *int64   `json:"eod_balance_p50_30d"`       // C3
	EODP90_30d          *int64   `json:"eod_balance_p90_30d"`       // C3
	EODP10_60d          *int64   `json:"eod_balance_p10_60d"`       // C3
	EODP50_60d          *int64   `json:"eod_balance_p50_60d"`       // C3
	EODP90_60d          *int64   `json:"eod_balance_p90_60d"`       // C3
	EODP10_90d          *int64   `json:"eod_balance_p10_90d"`       // C3
	EODP50_90d          *int64   `json:"eod_balance_p50_90d"`       // C3
	EODP90_90d          *int64   `json:"eod_balance_p90_90d"`       // C3
	EODP10_31to60d      *int64   `json:"eod_balance_p10_31_60d"`    // C3
	EODP50_31to60d      *int64   `json:"eod_balance_p50_31_60d"`    // C3
	EODP90_31to60d      *int64   `json:"eod_balance_p90_31_60d"`    // C3
	EODP10_61to90d      *int64   `json:"eod_balance_p10_61_90d"`    // C3
	EODP50_61to90d      *int64   `json:"eod_balance_p50_61_90d"`    // C3
	EODP90_61to90d      *int64   `json:"eod_balance_p90_61_90d"`    // C3
	DaysNegative30d     *int     `json:"days_negative_balance_30d"` // C4
	DaysNegative90d     *int     `json:"days_negative_balance_90d"` // C4
	BalanceTrend30d     *float64 `json:"balance_trend_ratio_30d"`   // C5
	BalanceTrend60d     *float64 `json:"balance_trend_ratio_60d"`   // C5
	BalanceTrend90d     *float64 `json:"balance_trend_ratio_90d"`   // C5
	CurrentBalance      *int64   `json:"current_balance"`           // C6 (current)
	CurrentAvailable    *int64   `json:"current_available_balance"` // C6

	NSFFeeCount30d   int  `json:"nsf_od_fee_count_30d"`    // D1
	NSFFeeCount60d   int  `json:"nsf_od_fee_count_60d"`    // D1
	NSFFeeCount90d   int  `json:"nsf_od_fee_count_90d"`    // D1
	NSFFeeCountTotal int  `json:"nsf_od_fee_count_total"`  // D1 full history
	ReturnedItems90d int  `json:"returned_item_count_90d"` // D2
	DaysSinceLastNSF *int `json:"days_since_last_nsf"`     // D3

	IncomeStreams           []Stream `json:"income_streams"`              // E1
	OutflowStreams          []Stream `json:"outflow_streams"`             // E1/F2 (outflow side)
	MonthlyIncomeEst        int64    `json:"monthly_income_est"`          // E2
	IncomeCV                *float64 `json:"income_cv"`                   // E3
	IncomeConsistency       *float64 `json:"income_consistency"`          // E4
	ConsecutiveIncomeMonths int      `json:"consecutive_income_months"`   // E5
	PayrollShare90d         *float64 `json:"payroll_share_of_inflow_90d"` // E6
	DaysSinceLastIncome     *int     `json:"days_since_last_income"`      // E7
	NextIncomeDate          *string  `json:"next_income_date"`            // E7

	DebtPaymentsMonthly         *int64 `json:"debt_payments_monthly"`         // F1
	RecurringObligationsMonthly int64  `json:"recurring_obligations_monthly"` // F2

	InflowCV6m           *float64 `json:"inflow_cv_6m"`            // G1
	OutflowCV6m          *float64 `json:"outflow_cv_6m"`           // G1
	NetFlowCV6m          *float64 `json:"net_flow_cv_6m"`          // G1
	InflowStd6m          *float64 `json:"inflow_std_6m"`           // G1
	OutflowStd6m         *float64 `json:"outflow_std_6m"`          // G1
	NetFlowStd6m         *float64 `json:"net_flow_std_6m"`         // G1
	BalanceVolatility90d *float64 `json:"balance_volatility_90d"`  // G2
	BalanceIQR90d        *int64   `json:"balance_iqr_90d"`         // G2 robust
	NetFlowTrendSlope6m  *float64 `json:"net_flow_trend_slope_6m"` // G3
	CashFlowTrend30d     *float64 `json:"cash_flow_trend_30d"`     // G4
	CashFlowTrend60d     *float64 `json:"cash_flow_trend_60d"`     // G4
	CashFlowTrend90d     *float64 `json:"cash_flow_trend_90d"`     // G4

	LoanAmount      int64    `json:"loan_amount"`
	LoanTermMonths  int      `json:"loan_term_months"`
	PolicyAPR       float64  `json:"policy_apr"`
	ProposedPayment int64    `json:"proposed_monthly_payment"`      // H2 numerator
	DSCRRequested   *float64 `json:"dscr_requested"`                // H1
	PaymentToIncome *float64 `json:"payment_to_income"`             // H2
	ResidualIncome  *int64   `json:"residual_income_after_payment"` // H3

	LargeDeposits60d     int                `json:"large_deposit_count_60d"`      // I1
	LargeDeposits90d     int                `json:"large_deposit_count_90d"`      // I1
	CashDepositShare90d  *float64           `json:"cash_deposit_share_90d"`       // I2
	RiskGambling90d      int64              `json:"risk_outflow_gambling_90d"`    // I3
	RiskPayday90d        int64              `json:"risk_outflow_payday_90d"`      // I3
	RiskMCA90d           int64              `json:"risk_outflow_mca_90d"`         // I3
	RiskCollections90d   int64              `json:"risk_outflow_collections_90d"` // I3
	AccountAgeDays       *int               `json:"account_age_days"`             // I4 (always undefined with FC v76)
	InflowByCategory90d  map[Category]int64 `json:"inflow_by_category_90d"`       // Σ inflow per category
	OutflowByCategory90d map[Category]int64 `json:"outflow_by_category_90d"`      // Σ outflow per category

	// Undefined lists, sorted, the json names of features that are undefined (nil).
	Undefined []string `json:"undefined"`
}

// round4 rounds ratios to 4 decimals and round2 money means to 2 decimals (hundredths
// of a minor unit), so the stored vector is readable; both are deterministic.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ptr[T any](v T) *T { return &v }

// undef collects the json names of undefined features and turns values into pointers:
// a value that is not ok, NaN or ±Inf becomes nil and is listed.
type undef []string

func (u *undef) f(name string, v float64, ok bool) *float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		*u = append(*u, name)
		return nil
	}
	return &v
}

func (u *undef) i(name string, v int, ok bool) *int {
	if !ok {
		*u = append(*u, name)
		return nil
	}
	return &v
}

func (u *undef) i64(name string, v int64, ok bool) *int64 {
	if !ok {
		*u = append(*u, name)
		return nil
	}
	return &v
}

// ProposedPayment returns the level monthly payment, in minor units rounded up, that
// amortises loan at PolicyAPR: P·r / (1 − (1 + r)^−n) with r = APR/12. It returns 0
// for a non-positive amount or term.
func ProposedPayment(loan Loan) int64 {
	if loan.AmountMinor <= 0 || loan.TermMonths <= 0 || loan.AmountMinor > MaxAmountMinor || loan.TermMonths > maxTermMonths {
		return 0
	}
	r := PolicyAPR / 12
	p := float64(loan.AmountMinor) * r / (1 - math.Pow(1+r, -float64(loan.TermMonths)))
	return int64(math.Ceil(p))
}

// ComputeFeatures computes the default feature vector (FeatureSetVersion) of l as of
// the UTC day of cutoff for the proposed loan: ComputeFeaturesWith with zero options.
func ComputeFeatures(l Ledger, cutoff time.Time, loan Loan) (Features, error) {
	return ComputeFeaturesWith(l, cutoff, loan, FeatureOptions{})
}

// windows are the N-day windows of A5, B1, B2 and D1.
var windows = [3]int64{30, 60, 90}

// maxTermMonths bounds a loan's term: a hundred years is beyond any product, and keeps
// the amortisation's powers finite.
const maxTermMonths = 1200

// ComputeFeaturesWith computes the feature vector of l as of the UTC day of cutoff for
// the proposed loan, categorising with opts.Rules and detecting streams with
// opts.Streams. Only posted transactions of cash accounts dated on or before the
// cutoff day feed history features; the daily-balance series uses every posted
// transaction (§1); pending transactions feed only the pending_* current view. Thin or
// empty ledgers give a vector with undefined features, not an error. Errors:
// ErrMixedCurrency for a ledger in several currencies, ErrAmountOutOfRange for an amount
// beyond MaxAmountMinor, ErrInvalidLoan for a non-positive or out-of-range loan amount or
// term.
func ComputeFeaturesWith(l Ledger, cutoff time.Time, loan Loan, opts FeatureOptions) (Features, error) {
	if loan.AmountMinor <= 0 || loan.TermMonths <= 0 || loan.AmountMinor > MaxAmountMinor || loan.TermMonths > maxTermMonths {
		return Features{}, fmt.Errorf("%w: amount %d, term %d months", ErrInvalidLoan, loan.AmountMinor, loan.TermMonths)
	}
	rules := defaultRules
	if opts.Rules != nil {
		rules = *opts.Rules
	}
	var so StreamOptions
	if opts.Streams != nil {
		so = *opts.Streams
	}
	so = so.withDefaults()
	n, err := Normalize(l)
	if err != nil {
		return Features{}, err
	}
	ccy, _ := ledgerCurrency(n) // checked by Normalize
	c := dayOf(cutoff)
	version := featureSetBase + "/" + rules.Version()
	if !so.isDefault() {
		version += "+" + so.String()
	}
	f := Features{
		FeatureSetVersion:    version,
		CategoryRulesVersion: rules.Version(),
		Cutoff:               dayString(c),
		Currency:             ccy,
		LoanAmount:           loan.AmountMinor,
		LoanTermMonths:       loan.TermMonths,
		PolicyAPR:            PolicyAPR,
		ProposedPayment:      ProposedPayment(loan),
		MonthlyCashFlow:      []MonthlyCashFlow{},
		IncomeStreams:        []Stream{},
		OutflowStreams:       []Stream{},
		InflowByCategory90d:  map[Category]int64{},
		OutflowByCategory90d: map[Category]int64{},
	}
	var u undef
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
	hist := make([]Transaction, 0, len(n.Transactions))
	var days []int64
	for _, t := range n.Transactions {
		if !cash[t.AccountID] {
			continue
		}
		if t.Status == StatusPending {
			f.PendingTxnCount++
			f.PendingNetAmount += t.Amount
			continue
		}
		if d := dayOf(t.TransactedAt); t.Status == StatusPosted && d <= c {
			hist = append(hist, t)
			days = append(days, d)
		}
	}
	nh := len(hist)
	f.PostedTxnCount = nh

	// Categorise once per transaction; own transfers; flows.
	cats := make([]Category, nh)
	transferish := make([]bool, nh)
	type catKey struct {
		desc string
		sign int64
	}
	wordsCache := map[string]string{}
	catCache := map[catKey]Category{}
	for i := range hist {
		t := &hist[i]
		w, ok := wordsCache[t.Description]
		if !ok {
			w = " " + wordsOf(t.Description) + " "
			wordsCache[t.Description] = w
		}
		k := catKey{t.Description, sign(t.Amount)}
		cat, ok := catCache[k]
		if !ok || rules.hasBounds {
			cat = rules.categorise(*t, w, "")
			if !rules.hasBounds {
				catCache[k] = cat
			}
		}
		cats[i] = cat
		transferish[i] = cat == CategoryTransfer || containsPadded(w, transferPadded)
	}
	own := matchOwnTransfers(hist, days, transferish)
	flow := make([]bool, nh) // counts as inflow or outflow (B1/B2)
	for i := range hist {
		flow[i] = !own[i] && !isFeeReversal(cats[i])
	}

	// E1, F2: recurring streams over flows.
	inC := make([]streamInput, 0, nh)
	outC := make([]streamInput, 0, nh)
	keyCache := map[string]string{}
	for i := range hist {
		t := &hist[i]
		if !flow[i] || t.Amount == 0 {
			continue
		}
		key, ok := keyCache[t.Description]
		if !ok {
			key = normaliseDescription(t.Description)
			keyCache[t.Description] = key
		}
		if t.Amount > 0 {
			if !nonIncomeInflow[cats[i]] {
				inC = append(inC, streamInput{t: t, cat: cats[i], key: key, day: days[i], size: t.Amount})
			}
		} else {
			outC = append(outC, streamInput{t: t, cat: cats[i], key: key, day: days[i], size: -t.Amount})
		}
	}
	if s := detectStreams(inC, c, DirectionInflow, so.InflowAmountBand, so.OnCadenceDays); s != nil {
		f.IncomeStreams = s
	}
	if s := detectStreams(outC, c, DirectionOutflow, so.OutflowAmountBand, so.OnCadenceDays); s != nil {
		f.OutflowStreams = s
	}
	inStream := map[string]bool{} // ids of MATURE income-stream occurrences
	var primary *Stream           // E7: the largest active MATURE stream, else the largest MATURE
	for i := range f.IncomeStreams {
		s := &f.IncomeStreams[i]
		if s.Status != StreamMature {
			continue
		}
		for _, id := range s.TransactionIDs {
			inStream[id] = true
		}
		if s.IsActive {
			f.MonthlyIncomeEst += s.MonthlyAmount
		}
		if primary == nil || (s.IsActive && !primary.IsActive) {
			primary = s
		}
	}
	for _, s := range f.OutflowStreams {
		if s.Status == StreamMature && s.IsActive && obligationCategories[s.Category] {
			f.RecurringObligationsMonthly += s.MonthlyAmount
		}
	}
	f.DaysSinceLastIncome = u.i("days_since_last_income", 0, primary != nil)
	f.NextIncomeDate = nil
	if primary != nil {
		*f.DaysSinceLastIncome = int(c - dayOf(mustDay(primary.LastDate)))
		f.NextIncomeDate = ptr(primary.PredictedNextDate)
	} else {
		u = append(u, "next_income_date")
	}

	// A1–A4.
	lastIn, lastOut := int64(math.MinInt64), int64(math.MinInt64)
	if nh > 0 {
		first, last := days[0], days[nh-1]
		f.MonthsOfHistory = round4(float64(last-first) / daysPerMonth)
		f.DaysSinceLastTxn = ptr(int(c - last))
		distinct, distinct90, gap := 0, 0, int64(0)
		for i, d := range days {
			if i > 0 && d == days[i-1] {
				continue
			}
			distinct++
			if c-d < 90 {
				distinct90++
			}
			if i > 0 {
				gap = max(gap, d-days[i-1])
			}
		}
		f.LongestGapDays = u.i("longest_gap_days", int(gap), distinct >= 2)
		f.DaysWithoutTxn = ptr(int(c-first+1) - distinct)
		f.DaysWithoutTxn90d = 90 - distinct90
	} else {
		u = append(u, "days_since_last_txn", "longest_gap_days", "days_without_txn")
		f.DaysWithoutTxn90d = 90
	}
	for i, t := range hist {
		if t.Amount > 0 {
			lastIn = days[i]
		} else if t.Amount < 0 {
			lastOut = days[i]
		}
	}
	f.DaysSinceLastInflow = u.i("days_since_last_inflow", int(c-lastIn), lastIn != math.MinInt64)
	f.DaysSinceLastOutflow = u.i("days_since_last_outflow", int(c-lastOut), lastOut != math.MinInt64)

	// Complete calendar months since the oldest posted transaction (B3–B5, E3–E5, F1, G1, G3).
	var months []month
	if nh > 0 {
		months = completeMonths(days[0], c, 0)
	}
	mIdx := make(map[int64]int, len(months))
	ms := make([]MonthlyCashFlow, len(months))
	for i, m := range months {
		mIdx[m.start] = i
		ms[i].Month = dayTime(m.start).Format("2006-01")
	}
	f.CompleteMonthsTxn = countMonthsWithTxn(days, c)

	// One pass over the history for windows, categories and months.
	var cntIn, cntOut [3]int
	var sumIn, sumOut [3]int64
	var fees, revs [3]int
	feesAll, revsAll := 0, 0
	lastNSF := int64(math.MinInt64)
	var payroll90, cashDep90 int64
	var deposits90 []float64
	var dailyNet [90]float64 // by age (c − day)
	prevDay := int64(math.MinInt64)
	for i := range hist {
		t := &hist[i]
		d, cat := days[i], cats[i]
		age := c - d
		mi, inMonth := -1, false
		if len(months) > 0 && d >= months[0].start && d <= months[len(months)-1].end {
			mi, inMonth = mIdx[monthStart(d)]
		}
		if inMonth {
			ms[mi].TxnCount++
			if prevDay != math.MinInt64 && d != prevDay {
				ms[mi].LongestGapDays = max(ms[mi].LongestGapDays, int(d-prevDay))
			}
		}
		prevDay = d
		if own[i] && age < 90 {
			f.OwnTransfers90d++
		}
		if isNSFODFee(cat) {
			lastNSF = d
			feesAll++
			for k, w := range windows {
				if age < w {
					fees[k]++
				}
			}
		}
		if isFeeReversal(cat) {
			revsAll++
			for k, w := range windows {
				if age < w {
					revs[k]++
				}
			}
		}
		if cat == CategoryReturnedItem && age < 90 {
			f.ReturnedItems90d++
		}
		if !flow[i] {
			continue
		}
		if age < 90 {
			dailyNet[age] += float64(t.Amount)
		}
		if t.Amount > 0 {
			for k, w := range windows {
				if age < w {
					cntIn[k]++
					sumIn[k] += t.Amount
				}
			}
			if age < 90 {
				deposits90 = append(deposits90, float64(t.Amount))
				f.InflowByCategory90d[cat] += t.Amount
				switch cat {
				case CategoryPayroll:
					payroll90 += t.Amount
				case CategoryCashDeposit:
					cashDep90 += t.Amount
				}
			}
			if inMonth {
				ms[mi].Inflow += t.Amount
				if inStream[t.ID] {
					ms[mi].Income += t.Amount
				}
			}
		} else if t.Amount < 0 {
			out := -t.Amount
			for k, w := range windows {
				if age < w {
					cntOut[k]++
					sumOut[k] += out
				}
			}
			if age < 90 {
				f.OutflowByCategory90d[cat] += out
				switch cat {
				case CategoryGambling:
					f.RiskGambling90d += out
				case CategoryPaydayLender:
					f.RiskPayday90d += out
				case CategoryMCA:
					f.RiskMCA90d += out
				case CategoryCollections:
					f.RiskCollections90d += out
				}
			}
			if inMonth {
				ms[mi].Outflow += out
				if debtCategories[cat] {
					ms[mi].DebtPayments += out
					ms[mi].Obligations += out
				} else if obligationCategories[cat] {
					ms[mi].Obligations += out
				}
			}
		}
	}
	f.TxnCountIn30d, f.TxnCountIn60d, f.TxnCountIn90d = cntIn[0], cntIn[1], cntIn[2]
	f.TxnCountOut30d, f.TxnCountOut60d, f.TxnCountOut90d = cntOut[0], cntOut[1], cntOut[2]
	f.InflowTotal30d, f.InflowTotal60d, f.InflowTotal90d = sumIn[0], sumIn[1], sumIn[2]
	f.OutflowTotal30d, f.OutflowTotal60d, f.OutflowTotal90d = sumOut[0], sumOut[1], sumOut[2]
	f.NSFFeeCount30d = max(0, fees[0]-revs[0])
	f.NSFFeeCount60d = max(0, fees[1]-revs[1])
	f.NSFFeeCount90d = max(0, fees[2]-revs[2])
	f.NSFFeeCountTotal = max(0, feesAll-revsAll)
	f.DaysSinceLastNSF = u.i("days_since_last_nsf", int(c-lastNSF), lastNSF != math.MinInt64)

	// B3–B5, E3–E5, F1, G1, G3 over the complete months.
	for i := range ms {
		ms[i].Net = ms[i].Inflow - ms[i].Outflow
	}
	if len(ms) > monthlySeriesMonths {
		f.MonthlyCashFlow = append(f.MonthlyCashFlow, ms[len(ms)-monthlySeriesMonths:]...)
	} else {
		f.MonthlyCashFlow = append(f.MonthlyCashFlow, ms...)
	}
	tail := func(k int) []MonthlyCashFlow { return ms[max(0, len(ms)-k):] }
	series := func(m []MonthlyCashFlow, get func(MonthlyCashFlow) int64) []float64 {
		x := make([]float64, len(m))
		for i, v := range m {
			x[i] = float64(get(v))
		}
		return x
	}
	net := func(m MonthlyCashFlow) int64 { return m.Net }
	for _, w := range []struct {
		k            int
		mean, median **float64
		mName, dName string
	}{
		{3, &f.NetCashFlowMean3m, &f.NetCashFlowMed3m, "net_cash_flow_mean_3m", "net_cash_flow_median_3m"},
		{6, &f.NetCashFlowMean, &f.NetCashFlowMedian, "net_cash_flow_mean_6m", "net_cash_flow_median_6m"},
		{12, &f.NetCashFlowMean12, &f.NetCashFlowMed12, "net_cash_flow_mean_12m", "net_cash_flow_median_12m"},
	} {
		x := series(tail(w.k), net)
		*w.mean = u.f(w.mName, round2(meanOf(x)), len(x) > 0)
		*w.median = u.f(w.dName, round2(quantile(0.5, x)), len(x) > 0)
	}
	fcf := func(m MonthlyCashFlow) int64 { return m.Income - m.Obligations }
	x3, x6 := series(tail(3), fcf), series(tail(6), fcf)
	f.FreeCashFlowAvg3m = u.f("free_cash_flow_avg_3m", round2(meanOf(x3)), len(x3) > 0)
	f.FreeCashFlowAvg6m = u.f("free_cash_flow_avg_6m", round2(meanOf(x6)), len(x6) > 0)

	m6 := tail(monthlyWindowMonths)
	inc6 := series(m6, func(m MonthlyCashFlow) int64 { return m.Income })
	incMean, incStd := meanStd(inc6)
	f.IncomeCV = u.f("income_cv", round4(incStd/incMean), len(inc6) >= 2 && incMean >= cvMeanEpsilon)

	inc12 := series(tail(12), func(m MonthlyCashFlow) int64 { return m.Income })
	if len(inc12) > 0 {
		med := quantile(0.5, inc12)
		ok := 0
		for _, v := range inc12 {
			if v > 0 && v >= incomeConsistencyShare*med {
				ok++
			}
		}
		f.IncomeConsistency = ptr(round4(float64(ok) / float64(len(inc12))))
	} else {
		u = append(u, "income_consistency")
	}
	for i := len(ms) - 1; i >= 0 && ms[i].Income > 0; i-- {
		f.ConsecutiveIncomeMonths++
	}
	debt3 := series(tail(3), func(m MonthlyCashFlow) int64 { return m.DebtPayments })
	f.DebtPaymentsMonthly = u.i64("debt_payments_monthly", int64(math.Round(meanOf(debt3))), len(debt3) > 0)

	in6 := series(m6, func(m MonthlyCashFlow) int64 { return m.Inflow })
	out6 := series(m6, func(m MonthlyCashFlow) int64 { return m.Outflow })
	net6 := series(m6, net)
	for _, g := range []struct {
		x          []float64
		cv, std    **float64
		cvN, stdN  string
		signChange bool
	}{
		{in6, &f.InflowCV6m, &f.InflowStd6m, "inflow_cv_6m", "inflow_std_6m", false},
		{out6, &f.OutflowCV6m, &f.OutflowStd6m, "outflow_cv_6m", "outflow_std_6m", false},
		{net6, &f.NetFlowCV6m, &f.NetFlowStd6m, "net_flow_cv_6m", "net_flow_std_6m", changesSign(net6)},
	} {
		mean, std := meanStd(g.x)
		*g.std = u.f(g.stdN, round2(std), len(g.x) >= 2)
		*g.cv = u.f(g.cvN, round4(std/math.Abs(mean)), len(g.x) >= 2 && !g.signChange && math.Abs(mean) >= cvMeanEpsilon)
	}
	inMean := meanOf(in6)
	if len(net6) >= 3 && inMean >= cvMeanEpsilon {
		xs := make([]float64, len(net6))
		for i := range xs {
			xs[i] = float64(i)
		}
		_, beta := stat.LinearRegression(xs, net6, nil, false)
		f.NetFlowTrendSlope6m = u.f("net_flow_trend_slope_6m", round4(beta/inMean), true)
	} else {
		u = append(u, "net_flow_trend_slope_6m")
	}

	// G4 from daily net flows (chronological: oldest first).
	for _, w := range []struct {
		n    int
		dst  **float64
		name string
	}{{30, &f.CashFlowTrend30d, "cash_flow_trend_30d"}, {60, &f.CashFlowTrend60d, "cash_flow_trend_60d"},
		{90, &f.CashFlowTrend90d, "cash_flow_trend_90d"}} {
		x := make([]float64, w.n)
		for age := 0; age < w.n; age++ {
			x[w.n-1-age] = dailyNet[age]
		}
		std := stat.StdDev(x, nil)
		h := w.n / 2
		trend := (stat.Mean(x[:h], nil) - stat.Mean(x[h:], nil)) / std
		*w.dst = u.f(w.name, round4(trend), nh > 0 && std > 0)
	}

	// C1–C6 and G2 from the combined EOD series.
	bal := dailyBalances(n, c-balanceSeriesDays+1, c)
	if eod := bal.Combined.EOD; len(eod) > 0 {
		x := make([]float64, len(eod))
		for i, v := range eod {
			x[i] = float64(v)
		}
		last := func(k int) []float64 { return x[len(x)-k:] }
		f.AvgDailyBalance30d = ptr(round2(stat.Mean(last(30), nil)))
		f.AvgDailyBalance90d = ptr(round2(stat.Mean(last(90), nil)))
		f.AvgDailyBalance180d = ptr(round2(stat.Mean(x, nil)))
		f.MinEODBalance30d = ptr(int64(floats.Min(last(30)))) // exact: |EOD| < 2^53
		f.MinEODBalance90d = ptr(int64(floats.Min(last(90))))
		f.DaysNegative30d = ptr(countNegative(eod[len(eod)-30:]))
		f.DaysNegative90d = ptr(countNegative(eod[len(eod)-90:]))
		q := func(xs []float64, p10, p50, p90 **int64) {
			s := append([]float64(nil), xs...)
			sort.Float64s(s) // stat.Quantile panics on unsorted input
			*p10 = ptr(int64(stat.Quantile(0.10, stat.Empirical, s, nil)))
			*p50 = ptr(int64(stat.Quantile(0.50, stat.Empirical, s, nil)))
			*p90 = ptr(int64(stat.Quantile(0.90, stat.Empirical, s, nil)))
		}
		nx := len(x)
		q(last(30), &f.EODP10_30d, &f.EODP50_30d, &f.EODP90_30d)
		q(last(60), &f.EODP10_60d, &f.EODP50_60d, &f.EODP90_60d)
		q(last(90), &f.EODP10_90d, &f.EODP50_90d, &f.EODP90_90d)
		q(x[nx-60:nx-30], &f.EODP10_31to60d, &f.EODP50_31to60d, &f.EODP90_31to60d)
		q(x[nx-90:nx-60], &f.EODP10_61to90d, &f.EODP50_61to90d, &f.EODP90_61to90d)
		end := eod[len(eod)-1]
		for _, w := range []struct {
			n    int
			dst  **float64
			name string
		}{{30, &f.BalanceTrend30d, "balance_trend_ratio_30d"}, {60, &f.BalanceTrend60d, "balance_trend_ratio_60d"},
			{90, &f.BalanceTrend90d, "balance_trend_ratio_90d"}} {
			den := eod[len(eod)-1-w.n]
			*w.dst = u.f(w.name, round4(float64(end)/float64(den)), den > 0)
		}
		adb := stat.Mean(last(90), nil)
		f.BalanceVolatility90d = u.f("balance_volatility_90d", round4(stat.StdDev(last(90), nil)/adb), adb >= cvMeanEpsilon)
		s := append([]float64(nil), last(90)...)
		sort.Float64s(s)
		f.BalanceIQR90d = ptr(int64(stat.Quantile(0.75, stat.Empirical, s, nil) - stat.Quantile(0.25, stat.Empirical, s, nil)))
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
		u = append(u, "avg_daily_balance_30d", "avg_daily_balance_90d", "avg_daily_balance_180d",
			"min_eod_balance_30d", "min_eod_balance_90d", "days_negative_balance_30d", "days_negative_balance_90d",
			"balance_trend_ratio_30d", "balance_trend_ratio_60d", "balance_trend_ratio_90d",
			"balance_volatility_90d", "balance_iqr_90d", "current_balance", "current_available_balance")
		for _, w := range []string{"30d", "60d", "90d", "31_60d", "61_90d"} {
			for _, p := range []string{"p10", "p50", "p90"} {
				u = append(u, "eod_balance_"+p+"_"+w)
			}
		}
	}

	// E6, I2: shares of the 90-day inflow.
	f.PayrollShare90d = u.f("payroll_share_of_inflow_90d", round4(float64(payroll90)/float64(f.InflowTotal90d)), f.InflowTotal90d > 0)
	f.CashDepositShare90d = u.f("cash_deposit_share_90d", round4(float64(cashDep90)/float64(f.InflowTotal90d)), f.InflowTotal90d > 0)

	// I1: large deposits that no MATURE income stream explains.
	var depMean, depStd float64
	useSigma := len(deposits90) >= 2
	if useSigma {
		depMean, depStd = stat.MeanStdDev(deposits90, nil)
	}
	for i := range hist {
		t := &hist[i]
		age := c - days[i]
		if t.Amount <= 0 || !flow[i] || inStream[t.ID] || nonIncomeInflow[cats[i]] || age >= 90 || t.Amount < LargeDepositFloorMinor {
			continue
		}
		a := float64(t.Amount)
		if (f.MonthlyIncomeEst > 0 && a > largeDepositIncomeShare*float64(f.MonthlyIncomeEst)) ||
			(useSigma && a > depMean+largeDepositSigmas*depStd) {
			f.LargeDeposits90d++
			if age < 60 {
				f.LargeDeposits60d++
			}
		}
	}

	// H1–H3.
	f.PaymentToIncome = u.f("payment_to_income", round4(float64(f.ProposedPayment)/float64(f.MonthlyIncomeEst)), f.MonthlyIncomeEst > 0)
	if f.DebtPaymentsMonthly != nil {
		free := f.MonthlyIncomeEst - f.RecurringObligationsMonthly - *f.DebtPaymentsMonthly
		f.DSCRRequested = ptr(round4(float64(free) / float64(f.ProposedPayment)))
		f.ResidualIncome = ptr(free - f.ProposedPayment)
	} else {
		u = append(u, "dscr_requested", "residual_income_after_payment")
	}

	// I4: FC v76 exposes no account opening date.
	u = append(u, "account_age_days")

	sort.Strings(u)
	f.Undefined = append([]string{}, u...)
	return f, nil
}

// sign returns −1, 0 or 1.
func sign(v int64) int64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// mustDay parses a YYYY-MM-DD produced by dayString.
func mustDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("scoring: internal date " + s)
	}
	return t
}

// meanOf is stat.Mean, 0 for an empty slice (callers mark the value undefined).
func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return stat.Mean(x, nil)
}

// meanStd is stat.MeanStdDev (n − 1), zeros for fewer than two values.
func meanStd(x []float64) (float64, float64) {
	if len(x) < 2 {
		return meanOf(x), 0
	}
	return stat.MeanStdDev(x, nil)
}

// quantile is stat.Quantile(p, Empirical) on a sorted copy, 0 for an empty slice.
func quantile(p float64, x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s) // stat.Quantile panics on unsorted input
	return stat.Quantile(p, stat.Empirical, s, nil)
}

// changesSign reports whether x holds both a positive and a negative value (or zero
// with any non-zero value), where a coefficient of variation is meaningless (G1).
func changesSign(x []float64) bool {
	pos, neg, zero := false, false, false
	for _, v := range x {
		switch {
		case v > 0:
			pos = true
		case v < 0:
			neg = true
		default:
			zero = true
		}
	}
	return (pos && neg) || (zero && (pos || neg))
}

func countNegative(eod []int64) int {
	n := 0
	for _, v := range eod {
		if v < 0 {
			n++
		}
	}
	return n
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

// completeMonths returns the complete calendar months ending at or before cutoff day
// c whose first day is not before day first (a month the history only partly covers
// would understate flows), oldest first; at most limit months when limit > 0.
func completeMonths(first, c int64, limit int) []month {
	var out []month
	end := lastCompleteMonthEnd(c)
	for limit <= 0 || len(out) < limit {
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
// least one posted transaction (A1, count variant); days are sorted.
func countMonthsWithTxn(days []int64, c int64) int {
	end := lastCompleteMonthEnd(c)
	n := 0
	prev := int64(math.MinInt64)
	for _, d := range days {
		if d > end {
			break
		}
		if ms := monthStart(d); ms != prev {
			n++
			prev = ms
		}
	}
	return n
}
