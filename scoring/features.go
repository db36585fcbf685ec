package scoring

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Versions recorded with every decision (docs/features.md §6); the feature-set
// versions are in featureset.go.
const (
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
	// incomeConsistencyMonths: E4 looks at the last 12 complete months, the longest
	// window the catalogue allows (6–12 m).
	incomeConsistencyMonths = 12
	// minStdValues: a sample standard deviation (n − 1) needs two values, so the stds
	// and CVs of E3 and G1 and the mean + 2σ test of I1 need at least two.
	minStdValues = 2
	// minSlopeMonths: the G3 slope needs three months; through two points it is only
	// their difference.
	minSlopeMonths = 3
)

// PolicyAPR is the annual percentage rate used to amortise the proposed loan for
// proposed_monthly_payment and payment_to_income (H2). 24 % is the v1 product's
// maximum APR: pricing is not known when features are computed, so affordability is
// tested at the most expensive rate the applicant could be offered (conservative).
const PolicyAPR = 0.24

// Loan is the credit applied for: principal in minor units of the ledger currency, the
// term in months and the loan's currency.
type Loan struct {
	AmountMinor int64
	TermMonths  int
	// Currency is the loan's lower-case ISO 4217 code (loan.CheckCurrency); "" means not
	// given. Features are computed in the ledger's currency whatever it says; only the
	// CURRENCY_MISMATCH policy rule reads it. Empty is left out of JSON, so a workflow
	// activity input recorded before the field existed reads the same.
	Currency string `json:",omitempty"`
}

// FeatureOptions configures ComputeFeaturesWith. The zero value is the default
// feature set (FeatureSetVersion); FeatureOptionsFor rebuilds the options of a recorded
// version.
type FeatureOptions struct {
	// FeatureSet names the feature definitions: "fs-v2" or "fs-v3"; "" means the
	// default, fs-v3.
	FeatureSet string
	// Rules categorise transactions; nil means the feature set's own embedded rules
	// (cat-v1 for fs-v2, cat-v2 for fs-v3). Use LoadUserCategoryRules to extend the
	// defaults with a user file.
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

// Features is the feature vector. The catalogue with formulas, units, windows and
// empty-input behaviour is in doc.go; each field comment names its catalogue id.
// Money is minor units of Currency. Undefined values are nil pointers and their json
// names are listed in Undefined; no field is ever NaN or ±Inf. Fields tagged `fs:"v3"`
// exist from feature set fs-v3 on: a vector of fs-v2 leaves them zero and its JSON
// omits them (Features.MarshalJSON).
type Features struct {
	FeatureSetVersion    string `json:"feature_set_version"`    // <feature set>/<rules version>[+streams(…)]
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

	InflowTotal30d    int64             `json:"inflow_total_30d"`                        // B1
	InflowTotal60d    int64             `json:"inflow_total_60d"`                        // B1
	InflowTotal90d    int64             `json:"inflow_total_90d"`                        // B1
	OutflowTotal30d   int64             `json:"outflow_total_30d"`                       // B2
	OutflowTotal60d   int64             `json:"outflow_total_60d"`                       // B2
	OutflowTotal90d   int64             `json:"outflow_total_90d"`                       // B2
	OwnTransfers90d   int               `json:"own_transfer_count_90d"`                  // §1 own transfers (excluded)
	MonthlyCashFlow   []MonthlyCashFlow `json:"monthly_cash_flow"`                       // B3 (≤ 12 complete months)
	NetCashFlowMean3m *float64          `json:"net_cash_flow_mean_3m"`                   // B4
	NetCashFlowMean   *float64          `json:"net_cash_flow_mean_6m"`                   // B4
	NetCashFlowMean12 *float64          `json:"net_cash_flow_mean_12m"`                  // B4
	NetCashFlowMed3m  *float64          `json:"net_cash_flow_median_3m"`                 // B4
	NetCashFlowMedian *float64          `json:"net_cash_flow_median_6m"`                 // B4
	NetCashFlowMed12  *float64          `json:"net_cash_flow_median_12m"`                // B4
	FreeCashFlowAvg3m *float64          `json:"free_cash_flow_avg_3m"`                   // B5
	FreeCashFlowAvg6m *float64          `json:"free_cash_flow_avg_6m"`                   // B5
	SavingsNetMonthly *float64          `json:"savings_transfer_net_monthly_6m" fs:"v3"` // B6

	AvgDailyBalance30d  *float64 `json:"avg_daily_balance_30d"`                   // C1
	AvgDailyBalance90d  *float64 `json:"avg_daily_balance_90d"`                   // C1
	AvgDailyBalance180d *float64 `json:"avg_daily_balance_180d"`                  // C1
	MinEODBalance30d    *int64   `json:"min_eod_balance_30d"`                     // C2
	MinEODBalance90d    *int64   `json:"min_eod_balance_90d"`                     // C2
	EODP10_30d          *int64   `json:"eod_balance_p10_30d"`                     // C3
	EODP50_30d          *int64   `json:"eod_balance_p50_30d"`                     // C3
	EODP90_30d          *int64   `json:"eod_balance_p90_30d"`                     // C3
	EODP10_60d          *int64   `json:"eod_balance_p10_60d"`                     // C3
	EODP50_60d          *int64   `json:"eod_balance_p50_60d"`                     // C3
	EODP90_60d          *int64   `json:"eod_balance_p90_60d"`                     // C3
	EODP10_90d          *int64   `json:"eod_balance_p10_90d"`                     // C3
	EODP50_90d          *int64   `json:"eod_balance_p50_90d"`                     // C3
	EODP90_90d          *int64   `json:"eod_balance_p90_90d"`                     // C3
	EODP10_31to60d      *int64   `json:"eod_balance_p10_31_60d"`                  // C3
	EODP50_31to60d      *int64   `json:"eod_balance_p50_31_60d"`                  // C3
	EODP90_31to60d      *int64   `json:"eod_balance_p90_31_60d"`                  // C3
	EODP10_61to90d      *int64   `json:"eod_balance_p10_61_90d"`                  // C3
	EODP50_61to90d      *int64   `json:"eod_balance_p50_61_90d"`                  // C3
	EODP90_61to90d      *int64   `json:"eod_balance_p90_61_90d"`                  // C3
	DaysNegative30d     *int     `json:"days_negative_balance_30d"`               // C4
	DaysNegative90d     *int     `json:"days_negative_balance_90d"`               // C4
	BalanceTrend30d     *float64 `json:"balance_trend_ratio_30d"`                 // C5
	BalanceTrend60d     *float64 `json:"balance_trend_ratio_60d"`                 // C5
	BalanceTrend90d     *float64 `json:"balance_trend_ratio_90d"`                 // C5
	CurrentBalance      *int64   `json:"current_balance"`                         // C6 (current)
	CurrentAvailable    *int64   `json:"current_available_balance"`               // C6
	SavingsBalanceDelta *int64   `json:"savings_balance_change_90d" fs:"v3"`      // C7
	CashBufferDays      *float64 `json:"cash_buffer_days" fs:"v3"`                // C8
	NegativeDayShare    *float64 `json:"negative_balance_day_share_180d" fs:"v3"` // C9

	NSFFeeCount30d   int  `json:"nsf_od_fee_count_30d"`         // D1
	NSFFeeCount60d   int  `json:"nsf_od_fee_count_60d"`         // D1
	NSFFeeCount90d   int  `json:"nsf_od_fee_count_90d"`         // D1
	NSFFeeCountTotal int  `json:"nsf_od_fee_count_total"`       // D1 full history
	ReturnedItems90d int  `json:"returned_item_count_90d"`      // D2
	DaysSinceLastNSF *int `json:"days_since_last_nsf"`          // D3
	NSFFeeMonths6m   *int `json:"nsf_od_fee_months_6m" fs:"v3"` // D4

	IncomeStreams           []Stream       `json:"income_streams"`                   // E1
	OutflowStreams          []Stream       `json:"outflow_streams"`                  // E1/F2 (outflow side)
	MonthlyIncomeEst        int64          `json:"monthly_income_est"`               // E2
	IncomeCV                *float64       `json:"income_cv"`                        // E3
	IncomeConsistency       *float64       `json:"income_consistency"`               // E4
	ConsecutiveIncomeMonths int            `json:"consecutive_income_months"`        // E5
	PayrollShare90d         *float64       `json:"payroll_share_of_inflow_90d"`      // E6
	DaysSinceLastIncome     *int           `json:"days_since_last_income"`           // E7
	NextIncomeDate          *string        `json:"next_income_date"`                 // E7
	IncomeRegularMonthly    int64          `json:"income_regular_monthly" fs:"v3"`   // E8
	IncomeIrregularMonthly  int64          `json:"income_irregular_monthly" fs:"v3"` // E8
	IncomeRegularShare      *float64       `json:"income_regular_share" fs:"v3"`     // E8
	IncomeSources           []IncomeSource `json:"income_sources" fs:"v3"`           // E8
	IncomeConfidence        string         `json:"income_confidence" fs:"v3"`        // E8
	IncomeMonthsUsed        []string       `json:"income_months_used" fs:"v3"`       // E8

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

	LoanAmount          int64    `json:"loan_amount"`
	LoanTermMonths      int      `json:"loan_term_months"`
	PolicyAPR           float64  `json:"policy_apr"`
	ProposedPayment     int64    `json:"proposed_monthly_payment"`      // H2 numerator
	DSCRRequested       *float64 `json:"dscr_requested"`                // H1
	PaymentToIncome     *float64 `json:"payment_to_income"`             // H2
	ResidualIncome      *int64   `json:"residual_income_after_payment"` // H3
	DebtToIncome        *float64 `json:"debt_to_income" fs:"v3"`        // H4
	ObligationsToIncome *float64 `json:"obligations_to_income" fs:"v3"` // H5
	SpendToIncome6m     *float64 `json:"spend_to_income_6m" fs:"v3"`    // H6
	SavingsRate6m       *float64 `json:"savings_rate_6m" fs:"v3"`       // H7

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

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// undef collects the json names of undefined features and turns values into pointers:
// a value that is not ok, NaN or ±Inf becomes nil and is listed.
type undef []string

// f returns &v, or nil with name listed when !ok or v is NaN or ±Inf.
func (u *undef) f(name string, v float64, ok bool) *float64 {
	return defined(u, name, v, ok && !math.IsNaN(v) && !math.IsInf(v, 0))
}

// i returns &v, or nil with name listed when !ok.
func (u *undef) i(name string, v int, ok bool) *int { return defined(u, name, v, ok) }

// i64 returns &v, or nil with name listed when !ok.
func (u *undef) i64(name string, v int64, ok bool) *int64 { return defined(u, name, v, ok) }

// defined returns &v when ok, else lists name in u and returns nil.
func defined[T any](u *undef, name string, v T, ok bool) *T {
	if !ok {
		u.add(name)
		return nil
	}
	return &v
}

// add lists names as undefined.
func (u *undef) add(names ...string) { *u = append(*u, names...) }

// ProposedPayment returns the level monthly payment, in minor units rounded up, that
// amortises loan at PolicyAPR: P·r / (1 − (1 + r)^−n) with r = APR/12. It returns 0
// for a loan outside the loan package's bounds (Loan.check).
func ProposedPayment(loan Loan) int64 {
	if loan.check() != nil {
		return 0
	}
	r := PolicyAPR / 12
	p := float64(loan.AmountMinor) * r / (1 - math.Pow(1+r, -float64(loan.TermMonths)))
	return int64(math.Ceil(p))
}

// ComputeFeatures computes the default feature vector (FeatureSetVersion) of l as of
// the UTC day of cutoff for the proposed loan: ComputeFeaturesWith with zero options.
// Engine.ComputeFeatures computes the feature set of an engine's model instead.
func ComputeFeatures(l Ledger, cutoff time.Time, loan Loan) (Features, error) {
	return ComputeFeaturesWith(l, cutoff, loan, FeatureOptions{})
}

// windows are the N-day windows (c − N days, c] of A5, B1, B2 and D1, in days; the
// longest, 90 days, is also the window of A4 days_without_txn_90d, the own-transfer
// count, D2, E6, G4 and I1–I3. featureState.win holds them in this order.
var windows = [3]int64{30, 60, 90}

// Indices into windows and featureState.win.
const (
	window30d = iota
	window60d
	window90d
)

// ComputeFeaturesWith computes the feature vector of l as of the UTC day of cutoff for
// the proposed loan in feature set opts.FeatureSet, categorising with opts.Rules and
// detecting streams with opts.Streams. Only posted transactions of cash accounts dated on or before the
// cutoff day feed history features; the daily-balance series uses every posted
// transaction (§1); pending transactions feed only the pending_* current view. Thin or
// empty ledgers give a vector with undefined features, not an error. Errors:
// ErrMixedCurrency for a ledger in several currencies, ErrAmountOutOfRange for an amount
// beyond MaxAmountMinor, ErrInvalidLoan (wrapping the loan package's field error) for a
// loan amount or term outside loan.Validate's bounds, ErrUnknownFeatureSet for a
// feature set this build does not compute.
//
// The work is one featureState, built once (normalised ledger, categorised history,
// own transfers, streams, complete months, windows, balances), then one function per
// catalogue group A–I. The groups run in catalogue order because later ones read
// earlier results: H reads E2, F1 and F2, and I1 reads E2.
func ComputeFeaturesWith(l Ledger, cutoff time.Time, loan Loan, opts FeatureOptions) (Features, error) {
	if err := loan.check(); err != nil {
		return Features{}, fmt.Errorf("%w: %w", ErrInvalidLoan, err)
	}
	set, err := lookupFeatureSet(opts.FeatureSet)
	if err != nil {
		return Features{}, err
	}
	s, err := newFeatureState(l, dayOf(cutoff), set, opts)
	if err != nil {
		return Features{}, err
	}
	f := s.contextFeatures(loan)
	var u undef
	s.historyFeatures(&f, &u)       // A
	s.flowFeatures(&f, &u)          // B
	s.balanceFeatures(&f, &u)       // C
	s.distressFeatures(&f, &u)      // D
	s.incomeFeatures(&f, &u)        // E
	s.obligationFeatures(&f, &u)    // F
	s.volatilityFeatures(&f, &u)    // G
	s.affordabilityFeatures(&f, &u) // H
	s.otherRiskFeatures(&f, &u)     // I
	sort.Strings(u)
	f.Undefined = append([]string{}, u...)
	return f, nil
}

// contextFeatures returns a vector holding the versions and the context fields: the
// feature-set and rules versions, the cutoff, the currency, the newest balance as_of,
// the account counts, the posted history's size, the pending current view (count and
// Σ signed amount of pending cash transactions, the only place pending appears) and
// the loan with its proposed payment. Empty input gives zeros and "".
func (s *featureState) contextFeatures(loan Loan) Features {
	version := s.set.name + "/" + s.rules.Version()
	if !s.streamOpts.isDefault() {
		version += "+" + s.streamOpts.String()
	}
	ccy, _ := ledgerCurrency(s.ledger) // checked by Normalize
	f := Features{
		FeatureSetVersion:    version,
		CategoryRulesVersion: s.rules.Version(),
		Cutoff:               dayString(s.c),
		Currency:             ccy,
		PostedTxnCount:       len(s.hist),
		LoanAmount:           loan.AmountMinor,
		LoanTermMonths:       loan.TermMonths,
		PolicyAPR:            PolicyAPR,
		ProposedPayment:      ProposedPayment(loan),
	}
	for _, a := range s.ledger.Accounts {
		if a.Status != "" && a.Status != "active" {
			f.InactiveAccounts++
		}
		if isCash(a) {
			f.CashAccounts++
		}
	}
	if asOf := LatestAsOf(s.ledger); !asOf.IsZero() {
		f.BalanceAsOf = asOf.Format(time.RFC3339)
	}
	for _, t := range s.ledger.Transactions {
		if s.cash[t.AccountID] && t.Status == StatusPending {
			f.PendingTxnCount++
			f.PendingNetAmount += t.Amount
		}
	}
	return f
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
	return stat.Quantile(p, stat.Empirical, sortedCopy(x), nil)
}

// sortedCopy returns a sorted copy of x: stat.Quantile panics on unsorted input.
func sortedCopy(x []float64) []float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s
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

// countNegative counts the days with a negative EOD balance (C4).
func countNegative(eod []int64) int {
	n := 0
	for _, v := range eod {
		if v < 0 {
			n++
		}
	}
	return n
}
