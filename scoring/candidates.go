package scoring

// featureReasons gives every numeric feature (NumericFeatureNames) the stable reason code
// and the plain-language adverse-action text it carries when a trained scorecard keeps it
// as a characteristic. Texts follow the sample reasons of Regulation B (12 CFR 1002,
// appendix C: "Income insufficient for amount of credit requested", "Excessive
// obligations in relation to income", "Unable to verify income", "Temporary or irregular
// employment", "Limited credit experience", "Delinquent past or present credit
// obligations with others", "Collection action or judgment"), phrased for what a bank
// ledger shows. A text names the factor, in the direction that costs points where that
// direction is not in doubt, and neutrally ("Number of …", "Length of …") where it may be.
//
// Codes are unique, because a model may not repeat a code; texts may repeat, since
// several windows of one measure tell an applicant the same thing. The codes and texts of
// scorecard v1's characteristics are v1's own, so a reason keeps its code from one model
// to the next. TestFeatureReasonsCoverNumericFeatures fails when a numeric feature has no
// entry: whoever adds a feature adds its line here.
var featureReasons = map[string]struct{ Code, Text string }{
	// Context and loan.
	"cash_accounts":                 {"SC_CASH_ACCOUNTS", "Number of linked bank accounts"},
	"inactive_accounts":             {"SC_INACTIVE_ACCOUNTS", "Linked bank account not active"},
	"posted_txn_count":              {"SC_TXN_COUNT", "Limited bank account activity"},
	"pending_txn_count":             {"SC_PENDING_COUNT", "Number of pending transactions"},
	"pending_net_amount":            {"SC_PENDING_AMOUNT", "Pending payments from bank account"},
	"loan_amount":                   {"SC_LOAN_AMOUNT", "Amount of credit requested"},
	"loan_term_months":              {"SC_LOAN_TERM", "Term of credit requested"},
	"policy_apr":                    {"SC_POLICY_APR", "Terms of credit requested"},
	"proposed_monthly_payment":      {"SC_PROPOSED_PAYMENT", "Amount of credit requested"},
	"dscr_requested":                {"SC_DEBT_SERVICE_COVERAGE", "Income insufficient for amount of credit requested"},
	"payment_to_income":             {"SC_PAYMENT_TO_INCOME", "Proposed payment too high in relation to income"},
	"residual_income_after_payment": {"SC_RESIDUAL_INCOME", "Income insufficient for amount of credit requested"},

	// A. History and activity.
	"months_of_history":        {"SC_HISTORY_LENGTH", "Length of bank account history"},
	"complete_months_with_txn": {"SC_ACTIVE_MONTHS", "Length of bank account history"},
	"days_since_last_txn":      {"SC_DAYS_SINCE_TXN", "Insufficient recent bank account activity"},
	"days_since_last_inflow":   {"SC_DAYS_SINCE_DEPOSIT", "No recent deposits into bank account"},
	"days_since_last_outflow":  {"SC_DAYS_SINCE_PAYMENT", "Insufficient recent bank account activity"},
	"longest_gap_days":         {"SC_LONGEST_GAP", "Gaps in bank account activity"},
	"days_without_txn":         {"SC_DAYS_WITHOUT_TXN", "Gaps in bank account activity"},
	"days_without_txn_90d":     {"SC_DAYS_WITHOUT_TXN_90D", "Gaps in recent bank account activity"},
	"txn_count_inflow_30d":     {"SC_DEPOSIT_COUNT_30D", "Number of deposits into bank account"},
	"txn_count_inflow_60d":     {"SC_DEPOSIT_COUNT_60D", "Number of deposits into bank account"},
	"txn_count_inflow_90d":     {"SC_DEPOSIT_COUNT_90D", "Number of deposits into bank account"},
	"txn_count_outflow_30d":    {"SC_PAYMENT_COUNT_30D", "Number of payments from bank account"},
	"txn_count_outflow_60d":    {"SC_PAYMENT_COUNT_60D", "Number of payments from bank account"},
	"txn_count_outflow_90d":    {"SC_PAYMENT_COUNT_90D", "Number of payments from bank account"},

	// B. Flows.
	"inflow_total_30d":         {"SC_DEPOSITS_30D", "Deposits into bank account too low"},
	"inflow_total_60d":         {"SC_DEPOSITS_60D", "Deposits into bank account too low"},
	"inflow_total_90d":         {"SC_DEPOSITS_90D", "Deposits into bank account too low"},
	"outflow_total_30d":        {"SC_SPENDING_30D", "Level of spending from bank account"},
	"outflow_total_60d":        {"SC_SPENDING_60D", "Level of spending from bank account"},
	"outflow_total_90d":        {"SC_SPENDING_90D", "Level of spending from bank account"},
	"own_transfer_count_90d":   {"SC_OWN_TRANSFERS", "Number of transfers between own accounts"},
	"net_cash_flow_mean_3m":    {"SC_NET_CASH_FLOW_3M", "Spending exceeds income"},
	"net_cash_flow_mean_6m":    {"SC_NET_CASH_FLOW", "Spending exceeds income"},
	"net_cash_flow_mean_12m":   {"SC_NET_CASH_FLOW_12M", "Spending exceeds income"},
	"net_cash_flow_median_3m":  {"SC_NET_CASH_FLOW_MEDIAN_3M", "Spending exceeds income"},
	"net_cash_flow_median_6m":  {"SC_NET_CASH_FLOW_MEDIAN", "Spending exceeds income"},
	"net_cash_flow_median_12m": {"SC_NET_CASH_FLOW_MEDIAN_12M", "Spending exceeds income"},
	"free_cash_flow_avg_3m":    {"SC_FREE_CASH_FLOW_3M", "Excessive obligations in relation to income"},
	"free_cash_flow_avg_6m":    {"SC_FREE_CASH_FLOW", "Excessive obligations in relation to income"},

	// C. Balances.
	"avg_daily_balance_30d":     {"SC_RECENT_BALANCE", "Recent average bank account balance too low"},
	"avg_daily_balance_90d":     {"SC_AVG_BALANCE", "Average bank account balance too low"},
	"avg_daily_balance_180d":    {"SC_AVG_BALANCE_180D", "Average bank account balance too low"},
	"min_eod_balance_30d":       {"SC_MIN_BALANCE_30D", "Lowest bank account balance too low"},
	"min_eod_balance_90d":       {"SC_MIN_BALANCE", "Lowest bank account balance too low"},
	"eod_balance_p10_30d":       {"SC_LOW_BALANCE_30D", "Bank account balance often low"},
	"eod_balance_p10_60d":       {"SC_LOW_BALANCE_60D", "Bank account balance often low"},
	"eod_balance_p10_90d":       {"SC_LOW_BALANCE_90D", "Bank account balance often low"},
	"eod_balance_p10_31_60d":    {"SC_LOW_BALANCE_31_60D", "Bank account balance often low"},
	"eod_balance_p10_61_90d":    {"SC_LOW_BALANCE_61_90D", "Bank account balance often low"},
	"eod_balance_p50_30d":       {"SC_TYPICAL_BALANCE_30D", "Bank account balance too low"},
	"eod_balance_p50_60d":       {"SC_TYPICAL_BALANCE_60D", "Bank account balance too low"},
	"eod_balance_p50_90d":       {"SC_TYPICAL_BALANCE_90D", "Bank account balance too low"},
	"eod_balance_p50_31_60d":    {"SC_TYPICAL_BALANCE_31_60D", "Bank account balance too low"},
	"eod_balance_p50_61_90d":    {"SC_TYPICAL_BALANCE_61_90D", "Bank account balance too low"},
	"eod_balance_p90_30d":       {"SC_HIGH_BALANCE_30D", "Bank account balance too low"},
	"eod_balance_p90_60d":       {"SC_HIGH_BALANCE_60D", "Bank account balance too low"},
	"eod_balance_p90_90d":       {"SC_HIGH_BALANCE_90D", "Bank account balance too low"},
	"eod_balance_p90_31_60d":    {"SC_HIGH_BALANCE_31_60D", "Bank account balance too low"},
	"eod_balance_p90_61_90d":    {"SC_HIGH_BALANCE_61_90D", "Bank account balance too low"},
	"days_negative_balance_30d": {"SC_NEGATIVE_DAYS_30D", "Account overdrawn on one or more days"},
	"days_negative_balance_90d": {"SC_NEGATIVE_DAYS", "Account overdrawn on one or more days"},
	"balance_trend_ratio_30d":   {"SC_BALANCE_TREND_30D", "Bank account balance declining"},
	"balance_trend_ratio_60d":   {"SC_BALANCE_TREND_60D", "Bank account balance declining"},
	"balance_trend_ratio_90d":   {"SC_BALANCE_TREND_90D", "Bank account balance declining"},
	"current_balance":           {"SC_CURRENT_BALANCE", "Current bank account balance too low"},
	"current_available_balance": {"SC_AVAILABLE_BALANCE", "Current bank account balance too low"},

	// D. Distress.
	"nsf_od_fee_count_30d":    {"SC_RECENT_NSF_FEES", "Recent overdraft or insufficient-funds fees"},
	"nsf_od_fee_count_60d":    {"SC_NSF_FEES_60D", "Number of overdraft or insufficient-funds fees"},
	"nsf_od_fee_count_90d":    {"SC_NSF_FEES", "Number of overdraft or insufficient-funds fees"},
	"nsf_od_fee_count_total":  {"SC_NSF_FEES_TOTAL", "Number of overdraft or insufficient-funds fees"},
	"returned_item_count_90d": {"SC_RETURNED_ITEMS", "Returned or dishonoured payments"},
	"days_since_last_nsf":     {"SC_NSF_RECENCY", "Recent overdraft or insufficient-funds fee"},

	// E. Income.
	"monthly_income_est":          {"SC_INCOME_LEVEL", "Income insufficient for amount of credit requested"},
	"income_cv":                   {"SC_INCOME_STABILITY", "Income irregular or unstable"},
	"income_consistency":          {"SC_INCOME_CONSISTENCY", "Income irregular or unstable"},
	"consecutive_income_months":   {"SC_INCOME_MONTHS", "Length of regular income"},
	"payroll_share_of_inflow_90d": {"SC_PAYROLL_SHARE", "Share of deposits from regular employment"},
	"days_since_last_income":      {"SC_INCOME_RECENCY", "No recent income deposit"},

	// F. Obligations.
	"debt_payments_monthly":         {"SC_DEBT_PAYMENTS", "Excessive obligations in relation to income"},
	"recurring_obligations_monthly": {"SC_RECURRING_OBLIGATIONS", "Excessive obligations in relation to income"},

	// G. Volatility and trend.
	"inflow_cv_6m":            {"SC_DEPOSIT_VOLATILITY", "Deposits irregular or unstable"},
	"outflow_cv_6m":           {"SC_SPENDING_VOLATILITY", "Spending irregular or unstable"},
	"net_flow_cv_6m":          {"SC_NET_FLOW_VOLATILITY", "Cash flow irregular or unstable"},
	"inflow_std_6m":           {"SC_DEPOSIT_SPREAD", "Deposits irregular or unstable"},
	"outflow_std_6m":          {"SC_SPENDING_SPREAD", "Spending irregular or unstable"},
	"net_flow_std_6m":         {"SC_NET_FLOW_SPREAD", "Cash flow irregular or unstable"},
	"balance_volatility_90d":  {"SC_BALANCE_VOLATILITY", "Bank account balance unstable"},
	"balance_iqr_90d":         {"SC_BALANCE_RANGE", "Bank account balance unstable"},
	"net_flow_trend_slope_6m": {"SC_NET_FLOW_TREND", "Cash flow declining"},
	"cash_flow_trend_30d":     {"SC_CASH_FLOW_TREND_30D", "Cash flow declining"},
	"cash_flow_trend_60d":     {"SC_CASH_FLOW_TREND_60D", "Cash flow declining"},
	"cash_flow_trend_90d":     {"SC_CASH_FLOW_TREND_90D", "Cash flow declining"},

	// Feature set fs-v3 (docs/features.md B6, C7–C9, D4, E8, H4–H7).
	"savings_transfer_net_monthly_6m": {"SC_SAVINGS_TRANSFERS", "Little or no money put aside in savings"},
	"savings_balance_change_90d":      {"SC_SAVINGS_TREND", "Savings balance declining"},
	"cash_buffer_days":                {"SC_CASH_BUFFER", "Bank account balance low in relation to spending"},
	"negative_balance_day_share_180d": {"SC_NEGATIVE_DAY_SHARE", "Account frequently overdrawn"},
	"nsf_od_fee_months_6m":            {"SC_NSF_FEE_MONTHS", "Number of months with overdraft or insufficient-funds fees"},
	"income_regular_monthly":          {"SC_REGULAR_INCOME", "Regular income insufficient for amount of credit requested"},
	"income_irregular_monthly":        {"SC_IRREGULAR_INCOME", "Amount of income outside regular pay"},
	"income_regular_share":            {"SC_INCOME_REGULARITY", "Income not paid on a regular schedule"},
	"debt_to_income":                  {"SC_DEBT_TO_INCOME", "Excessive obligations in relation to income"},
	"obligations_to_income":           {"SC_OBLIGATIONS_TO_INCOME", "Excessive obligations in relation to income"},
	"spend_to_income_6m":              {"SC_SPEND_TO_INCOME", "Spending high in relation to income"},
	"savings_rate_6m":                 {"SC_SAVINGS_RATE", "Little or no saving in relation to income"},

	// I. Other risk.
	"large_deposit_count_60d":      {"SC_LARGE_DEPOSITS", "Large deposits not explained by income"},
	"large_deposit_count_90d":      {"SC_LARGE_DEPOSITS_90D", "Large deposits not explained by income"},
	"cash_deposit_share_90d":       {"SC_CASH_DEPOSITS", "Share of deposits made in cash"},
	"risk_outflow_gambling_90d":    {"SC_GAMBLING", "Payments to gambling merchants"},
	"risk_outflow_payday_90d":      {"SC_PAYDAY_LOANS", "Payments to payday lenders"},
	"risk_outflow_mca_90d":         {"SC_MCA", "Payments on merchant cash advances"},
	"risk_outflow_collections_90d": {"SC_COLLECTIONS", "Collection action or judgment"},
	"account_age_days":             {"SC_ACCOUNT_AGE", "Length of bank account history"},
}

// incomeTypeProxies are numeric features that say how income is earned — on a payroll
// schedule or as platform payouts — rather than how much comes in, how steadily, or
// what the applicant does with it. They stay in the feature vector for analysts, but
// the trainer does not score them by default: a scorecard must not prefer one way of
// earning a living over another, which is how a cash-flow model misreads gig workers.
// Irregularity still counts, measured as behaviour (income_cv, income_consistency).
var incomeTypeProxies = map[string]bool{
	"income_regular_monthly":      true,
	"income_irregular_monthly":    true,
	"income_regular_share":        true,
	"payroll_share_of_inflow_90d": true,
}

// DefaultCandidates returns the features the trainer considers by default: every
// numeric feature (NumericFeatureNames, sorted) but the income-type proxies, each with
// its reason code and text from featureReasons. A numeric feature without an entry there
// is left out (a test keeps the table complete).
func DefaultCandidates() []Candidate {
	var out []Candidate
	for _, name := range NumericFeatureNames() {
		if r, ok := featureReasons[name]; ok && !incomeTypeProxies[name] {
			out = append(out, Candidate{Feature: name, Code: r.Code, Text: r.Text})
		}
	}
	return out
}
