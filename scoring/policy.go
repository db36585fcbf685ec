package scoring

import (
	"strconv"
)

// Outcomes of a decision.
const (
	OutcomeApprove = "approve"
	OutcomeRefer   = "refer"
	OutcomeDecline = "decline"
)

// Operational carries facts about the data pipeline, not the applicant, that policy
// rules need.
type Operational struct {
	// RefreshFailed is true when the last transaction or balance refresh failed, so the
	// ledger may be stale.
	RefreshFailed bool
	// InactiveAccounts counts linked accounts whose FC status is not "active".
	InactiveAccounts int
}

// Rule names (policy v1). They are stable ids used in RuleResult and as reason codes.
const (
	RuleAccountNotActive    = "ACCOUNT_NOT_ACTIVE"
	RuleStaleData           = "STALE_DATA"
	RuleInsufficientHistory = "INSUFFICIENT_HISTORY"
	RuleNoIncomeDetected    = "NO_INCOME_DETECTED"
	RuleNSFExcess           = "NSF_EXCESS"
	RuleNegativeDaysExcess  = "NEGATIVE_DAYS_EXCESS"
	RulePTIAboveMax         = "PTI_ABOVE_MAX"
	RuleLargeDeposits       = "LARGE_UNEXPLAINED_DEPOSITS"
)

// Policy v1 thresholds. Every number is a project default from §4 of the features
// reference, not an industry standard; changing one requires a new PolicyVersion.
const (
	// MinMonthsOfHistory: Prism asks for at least three months of primary-account
	// history; fewer months make every monthly statistic unreliable.
	MinMonthsOfHistory = 3.0
	// MaxNSFFees90d: more than three NSF/overdraft fees in 90 days (one a month) shows
	// a repeated inability to cover payments.
	MaxNSFFees90d = 3
	// MaxNegativeDays90d: more than ten overdrawn days in 90 ("frequently overdrawn").
	MaxNegativeDays90d = 10
	// MaxPaymentToIncome: the proposed payment may take at most 15 % of monthly income.
	MaxPaymentToIncome = 0.15
	// MaxDaysSinceLastTxn: a primary account with no posted transaction for 30 days is
	// either dormant or not refreshing.
	MaxDaysSinceLastTxn = 30
	// MaxLargeDeposits60d: any unexplained large deposit in 60 days needs verification.
	MaxLargeDeposits60d = 0
)

// Rule actions.
const (
	actionDecline = "decline"
	actionRefer   = "refer"
)

// RuleResult records one knock-out rule evaluation, passed or failed, in MoneyThumb's
// {rule, actual, threshold} shape. Actual is the applicant's value ("undefined" when
// the feature is undefined) and Threshold the condition that fails the rule.
type RuleResult struct {
	Rule      string `json:"rule"`
	Actual    string `json:"actual"`
	Threshold string `json:"threshold"`
	Passed    bool   `json:"passed"`
	// Action is what a failure does: "decline" or "refer".
	Action string `json:"action"`
	// Operational rules concern the data, not the applicant; when one fails the outcome
	// is refer whatever else failed, because no adverse action may rest on data that
	// could not be verified as current.
	Operational bool `json:"operational"`
}

const undefinedValue = "undefined"

func fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func fmtIntPtr(p *int) string {
	if p == nil {
		return undefinedValue
	}
	return strconv.Itoa(*p)
}

// EvaluateRules runs policy v1 over a feature vector and operational facts and returns
// every rule result in a fixed order: operational rules, then decline rules, then
// refer rules.
func EvaluateRules(f Features, op Operational) []RuleResult {
	inactive := max(op.InactiveAccounts, f.InactiveAccounts)
	stale := op.RefreshFailed || (f.DaysSinceLastTxn != nil && *f.DaysSinceLastTxn > MaxDaysSinceLastTxn)
	staleActual := "refresh_failed=" + strconv.FormatBool(op.RefreshFailed) + ", days_since_last_txn=" + fmtIntPtr(f.DaysSinceLastTxn)

	ptiActual, ptiPassed := undefinedValue, false
	if f.PaymentToIncome != nil {
		ptiActual = fmtFloat(*f.PaymentToIncome, 4)
		ptiPassed = *f.PaymentToIncome <= MaxPaymentToIncome
	}
	negActual, negPassed := fmtIntPtr(f.DaysNegative90d), false
	if f.DaysNegative90d != nil {
		negPassed = *f.DaysNegative90d <= MaxNegativeDays90d
	}
	mature := 0
	for _, s := range f.IncomeStreams {
		if s.Status == StreamMature && s.IsActive {
			mature++
		}
	}
	hasIncome := mature > 0
	return []RuleResult{
		{Rule: RuleAccountNotActive, Actual: strconv.Itoa(inactive), Threshold: "> 0",
			Passed: inactive == 0, Action: actionRefer, Operational: true},
		{Rule: RuleStaleData, Actual: staleActual,
			Threshold: "refresh_failed or days_since_last_txn > " + strconv.Itoa(MaxDaysSinceLastTxn),
			Passed:    !stale, Action: actionRefer, Operational: true},
		{Rule: RuleInsufficientHistory, Actual: fmtFloat(f.MonthsOfHistory, 2),
			Threshold: "< " + fmtFloat(MinMonthsOfHistory, 0),
			Passed:    f.MonthsOfHistory >= MinMonthsOfHistory, Action: actionDecline},
		{Rule: RuleNoIncomeDetected, Actual: strconv.Itoa(mature),
			Threshold: "active MATURE income streams = 0", Passed: hasIncome, Action: actionDecline},
		{Rule: RuleNSFExcess, Actual: strconv.Itoa(f.NSFFeeCount90d),
			Threshold: "> " + strconv.Itoa(MaxNSFFees90d),
			Passed:    f.NSFFeeCount90d <= MaxNSFFees90d, Action: actionDecline},
		// An undefined negative-day count (no balance) cannot prove the account healthy;
		// the rule fails but only refers, since the fault may be the data's.
		{Rule: RuleNegativeDaysExcess, Actual: negActual, Threshold: "> " + strconv.Itoa(MaxNegativeDays90d),
			Passed: negPassed, Action: map[bool]string{true: actionRefer, false: actionDecline}[f.DaysNegative90d == nil]},
		{Rule: RulePTIAboveMax, Actual: ptiActual, Threshold: "> " + fmtFloat(MaxPaymentToIncome, 2),
			Passed: ptiPassed, Action: actionDecline},
		{Rule: RuleLargeDeposits, Actual: strconv.Itoa(f.LargeDeposits60d),
			Threshold: "> " + strconv.Itoa(MaxLargeDeposits60d),
			Passed:    f.LargeDeposits60d <= MaxLargeDeposits60d, Action: actionRefer},
	}
}

// ruleReason is the adverse-action (Reg B style) reason of a failed rule: the feature
// it concerns and the text shown to the applicant.
var ruleReason = map[string]struct{ feature, text string }{
	RuleAccountNotActive:    {"inactive_accounts", "A linked bank account is not active"},
	RuleStaleData:           {"days_since_last_txn", "Bank account data could not be refreshed or is out of date"},
	RuleInsufficientHistory: {"months_of_history", "Insufficient bank account history"},
	RuleNoIncomeDetected:    {"monthly_income_est", "Unable to verify income"},
	RuleNSFExcess:           {"nsf_od_fee_count_90d", "Number of overdrafts or insufficient-funds items"},
	RuleNegativeDaysExcess:  {"days_negative_balance_90d", "Account frequently overdrawn"},
	RulePTIAboveMax:         {"payment_to_income", "Excessive obligations in relation to income"},
	RuleLargeDeposits:       {"large_deposit_count_60d", "Large deposits require verification"},
}
