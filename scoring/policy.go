package scoring

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/cashflow-underwriting/underwriter/loan"
)

// Outcomes a scoring decision reaches. They are loan's (the vocabulary's one home), named
// here for the callers that compare Decision.Outcome with them.
const (
	OutcomeApprove = loan.OutcomeApprove
	OutcomeRefer   = loan.OutcomeRefer
	OutcomeDecline = loan.OutcomeDecline
)

// check returns nil, or a *loan.FieldError naming the first of the loan's amount and term
// outside the loan package's bounds: the bounds the API, the workflow and the applications
// table share, so scoring refuses what they refuse (a 400-month term). They also keep the
// amortisation's powers finite and the payment exact in int64.
func (l Loan) check() error {
	if err := loan.CheckAmount(l.AmountMinor); err != nil {
		return err
	}
	return loan.CheckTerm(l.TermMonths)
}

// Operational carries facts about the data pipeline, not the applicant, that policy
// rules need.
type Operational struct {
	// RefreshFailed is true when the last transaction or balance refresh failed, so the
	// ledger may be stale.
	RefreshFailed bool
	// InactiveAccounts counts linked accounts whose FC status is not "active".
	InactiveAccounts int
}

// Rule names. They are stable ids used in RuleResult, policy files and as reason codes.
const (
	RuleAccountNotActive    = "ACCOUNT_NOT_ACTIVE"
	RuleStaleData           = "STALE_DATA"
	RuleInsufficientHistory = "INSUFFICIENT_HISTORY"
	RuleNoIncomeDetected    = "NO_INCOME_DETECTED"
	RuleIncomeBelowFloor    = "INCOME_BELOW_FLOOR"
	RuleNSFExcess           = "NSF_EXCESS"
	RuleNegativeDaysExcess  = "NEGATIVE_DAYS_EXCESS"
	RulePTIAboveMax         = "PTI_ABOVE_MAX"
	RuleLargeDeposits       = "LARGE_UNEXPLAINED_DEPOSITS"
	RuleDSCRBelowMin        = "DSCR_BELOW_MIN"
	RuleCurrencyMismatch    = "CURRENCY_MISMATCH"
)

// Policy v1 thresholds, as in the embedded policy-v1.json (the file is authoritative;
// TestDefaultPolicyMatchesConstants keeps these in step). The reasoning behind each is
// in scoring/models/MODEL_CARD-v1.md.
const (
	// MinMonthsOfHistory: INSUFFICIENT_HISTORY fails below 3 months.
	MinMonthsOfHistory = 3.0
	// MaxNSFFees90d: NSF_EXCESS fails above 3 fees in 90 days.
	MaxNSFFees90d = 3
	// MaxNegativeDays90d: NEGATIVE_DAYS_EXCESS fails above 10 overdrawn days in 90.
	MaxNegativeDays90d = 10
	// MaxPaymentToIncome: PTI_ABOVE_MAX fails above 15 % of monthly income.
	MaxPaymentToIncome = 0.15
	// MaxDaysSinceLastTxn: STALE_DATA fails after 30 days without a posted transaction.
	MaxDaysSinceLastTxn = 30
	// MaxLargeDeposits60d: LARGE_UNEXPLAINED_DEPOSITS fails above 0 in 60 days.
	MaxLargeDeposits60d = 0
)

// Rule actions: the outcome a failed rule leads to, spelled as that outcome.
const (
	actionDecline = loan.OutcomeDecline
	actionRefer   = loan.OutcomeRefer
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
	// Undefined says the rule failed because its feature is undefined (no data to judge),
	// not because of the applicant's value.
	Undefined bool `json:"undefined,omitempty"`
}

// Policy is a knock-out policy as stored in a policy file (versioned JSON): the rules
// with their thresholds and actions, the score bands and the counter-offer settings.
// A Policy is read-only once loaded.
type Policy struct {
	// PolicyVersion names the policy; it is recorded with every decision.
	PolicyVersion string `json:"policy_version"`
	// Rules run in this order and are recorded in this order.
	Rules []PolicyRule `json:"rules"`
	// Bands turn the score into an outcome when every rule passed.
	Bands ScoreBands `json:"score_bands"`
	// CounterOffer configures the smaller-amount offer when PTI_ABOVE_MAX is the only
	// failing rule; nil disables it.
	CounterOffer *CounterOfferPolicy `json:"counter_offer,omitempty"`
}

// PolicyRule configures one knock-out rule of the built-in catalogue (RuleAccountNotActive
// and the other Rule constants). The meaning of Threshold per rule:
//
//   - ACCOUNT_NOT_ACTIVE: fails when inactive accounts > Threshold.
//   - STALE_DATA: fails when the refresh failed or days_since_last_txn > Threshold.
//   - INSUFFICIENT_HISTORY: fails when months_of_history < Threshold.
//   - NO_INCOME_DETECTED: fails when active MATURE income streams ≤ Threshold.
//   - INCOME_BELOW_FLOOR: fails when monthly_income_est < Threshold (minor units).
//   - NSF_EXCESS: fails when nsf_od_fee_count_90d > Threshold.
//   - NEGATIVE_DAYS_EXCESS: fails when days_negative_balance_90d > Threshold or undefined.
//   - PTI_ABOVE_MAX: fails when payment_to_income > Threshold or undefined.
//   - LARGE_UNEXPLAINED_DEPOSITS: fails when large_deposit_count_60d > Threshold.
//   - DSCR_BELOW_MIN: fails when dscr_requested < Threshold or undefined (a
//     commercial-lending convention, 1.25; consumer products use PTI_ABOVE_MAX).
//   - CURRENCY_MISMATCH: fails when the ledger's currency and the loan's (Loan.Currency)
//     are both known and differ: every amount would be compared with a loan in another
//     unit. Threshold is not read (write 0). An operational rule: nothing is wrong with
//     the applicant, a person sorts out which account or currency was meant.
//
// AboveAmount, when set, replaces Threshold for loans applied for above its amount: the
// reference's "months_of_history < 3 (< 6 above a configured loan amount)".
type PolicyRule struct {
	Rule      string  `json:"rule"`
	Threshold float64 `json:"threshold"`
	// Action is what a failure does: "decline" or "refer".
	Action string `json:"action"`
	// ActionWhenUndefined, when set, replaces Action when the rule fails because its
	// feature is undefined (the fault may be the data's).
	ActionWhenUndefined string `json:"action_when_undefined,omitempty"`
	// Operational marks rules about the data, not the applicant (see RuleResult).
	Operational bool `json:"operational,omitempty"`
	// Feature and ReasonText form the adverse-action reason of a failure.
	Feature    string `json:"feature"`
	ReasonText string `json:"reason_text"`
	// AboveAmount, when set, gives the threshold for larger loans.
	AboveAmount *AboveAmount `json:"above_amount,omitempty"`
}

// AboveAmount is a rule's threshold for loans applied for above AmountMinor.
type AboveAmount struct {
	AmountMinor int64   `json:"amount_minor"`
	Threshold   float64 `json:"threshold"`
}

// threshold is the rule's threshold for a loan of amount (minor units).
func (r PolicyRule) threshold(amount int64) float64 {
	if r.AboveAmount != nil && amount > r.AboveAmount.AmountMinor {
		return r.AboveAmount.Threshold
	}
	return r.Threshold
}

// ScoreBands: score ≥ ApproveMin approves, ≥ ReferMin refers, otherwise declines.
type ScoreBands struct {
	ApproveMin int `json:"approve_min"`
	ReferMin   int `json:"refer_min"`
}

// CounterOfferPolicy: when PTI_ABOVE_MAX is the only failing rule, offer the largest
// amount, a multiple of StepMinor no smaller than MinAmountMinor and below the amount
// applied for, at the same term, whose payment passes PTI_ABOVE_MAX and whose full
// decision (every rule and the score band) at that amount is approve.
type CounterOfferPolicy struct {
	StepMinor      int64 `json:"step_minor"`
	MinAmountMinor int64 `json:"min_amount_minor"`
}

// CounterOffer is a smaller loan the lender offers instead of the one applied for. The
// decision's outcome stays that of the amount applied for (a counter-offer is itself an
// adverse action on the application under Reg B until accepted).
type CounterOffer struct {
	AmountMinor     int64   `json:"amount_minor"`
	TermMonths      int     `json:"term_months"`
	PaymentMinor    int64   `json:"payment_minor"`
	PaymentToIncome float64 `json:"payment_to_income"`
	Score           int     `json:"score"`
}

// ErrInvalidPolicy is wrapped by every policy-file validation error.
var ErrInvalidPolicy = errors.New("invalid policy")

func policyErr(field, format string, args ...any) error {
	return fieldError(ErrInvalidPolicy, field, format, args...)
}

// LoadPolicy decodes and validates a policy file. Unknown fields and unknown rules are
// errors naming the field.
func LoadPolicy(data []byte) (*Policy, error) {
	return loadFile[Policy](data, "policy", ErrInvalidPolicy)
}

// Marshal returns the policy file bytes (indented JSON with a trailing newline).
func (p *Policy) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return append(b, '\n'), nil
}

func (p *Policy) validate() error {
	if p.PolicyVersion == "" {
		return policyErr("policy_version", "empty")
	}
	seen := map[string]bool{}
	for i, r := range p.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if _, ok := ruleEvaluators[r.Rule]; !ok {
			return policyErr(f+".rule", "%q is not a known rule", r.Rule)
		}
		if seen[r.Rule] {
			return policyErr(f+".rule", "%q repeated", r.Rule)
		}
		seen[r.Rule] = true
		if !finite(r.Threshold) {
			return policyErr(f+".threshold", "not finite")
		}
		if r.Action != actionDecline && r.Action != actionRefer {
			return policyErr(f+".action", "%q is not decline or refer", r.Action)
		}
		if r.ActionWhenUndefined != "" && r.ActionWhenUndefined != actionDecline && r.ActionWhenUndefined != actionRefer {
			return policyErr(f+".action_when_undefined", "%q is not decline or refer", r.ActionWhenUndefined)
		}
		if r.Operational && r.Action != actionRefer {
			return policyErr(f+".action", "an operational rule may only refer")
		}
		if r.Rule == RuleCurrencyMismatch && !r.Operational {
			// No adverse action may rest on which account was linked: a person decides.
			return policyErr(f+".operational", "%s concerns the data, not the applicant: it must be operational", r.Rule)
		}
		if r.Feature == "" {
			return policyErr(f+".feature", "empty (the feature an adverse-action reason names)")
		}
		if !featureNames[r.Feature] {
			return policyErr(f+".feature", "%q is not a feature (a json name of Features)", r.Feature)
		}
		if r.ReasonText == "" {
			return policyErr(f+".reason_text", "empty (the adverse-action reason's text)")
		}
		if a := r.AboveAmount; a != nil {
			if a.AmountMinor <= 0 {
				return policyErr(f+".above_amount.amount_minor", "%d is not positive", a.AmountMinor)
			}
			if !finite(a.Threshold) {
				return policyErr(f+".above_amount.threshold", "not finite")
			}
		}
	}
	if p.Bands.ApproveMin < p.Bands.ReferMin {
		return policyErr("score_bands", "approve_min %d is below refer_min %d", p.Bands.ApproveMin, p.Bands.ReferMin)
	}
	if co := p.CounterOffer; co != nil {
		if co.StepMinor <= 0 {
			return policyErr("counter_offer.step_minor", "%d is not positive", co.StepMinor)
		}
		if co.MinAmountMinor <= 0 {
			return policyErr("counter_offer.min_amount_minor", "%d is not positive", co.MinAmountMinor)
		}
		if !seen[RulePTIAboveMax] {
			return policyErr("counter_offer", "needs the %s rule", RulePTIAboveMax)
		}
	}
	return nil
}

// featureNames holds the json name of every field of Features: what a rule's Feature may
// name, so that an adverse-action reason never names a feature no decision records.
var featureNames = func() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[Features]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}()

// ruleFacts is what a rule reads besides the feature vector: the operational facts and
// the currency of the loan applied for ("" when not given).
type ruleFacts struct {
	Operational
	LoanCurrency string
}

// ruleEval evaluates one rule: the applicant's value, the failing condition, whether it
// passed and whether it failed because its feature is undefined.
type ruleEval func(f *Features, op ruleFacts, th float64) (actual, threshold string, passed, undefined bool)

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ruleEvaluators is the rule catalogue of the policy engine.
var ruleEvaluators = map[string]ruleEval{
	RuleAccountNotActive: func(f *Features, op ruleFacts, th float64) (string, string, bool, bool) {
		n := max(op.InactiveAccounts, f.InactiveAccounts)
		return strconv.Itoa(n), "> " + fmtNum(th), float64(n) <= th, false
	},
	RuleStaleData: func(f *Features, op ruleFacts, th float64) (string, string, bool, bool) {
		stale := op.RefreshFailed || (f.DaysSinceLastTxn != nil && float64(*f.DaysSinceLastTxn) > th)
		return "refresh_failed=" + strconv.FormatBool(op.RefreshFailed) + ", days_since_last_txn=" + fmtIntPtr(f.DaysSinceLastTxn),
			"refresh_failed or days_since_last_txn > " + fmtNum(th), !stale, false
	},
	RuleInsufficientHistory: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		return fmtFloat(f.MonthsOfHistory, 2), "< " + fmtNum(th), f.MonthsOfHistory >= th, false
	},
	RuleNoIncomeDetected: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		mature := 0
		for _, s := range f.IncomeStreams {
			if s.Status == StreamMature && s.IsActive {
				mature++
			}
		}
		cond := "active MATURE income streams <= " + fmtNum(th)
		if th == 0 {
			cond = "active MATURE income streams = 0"
		}
		return strconv.Itoa(mature), cond, float64(mature) > th, false
	},
	RuleIncomeBelowFloor: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		return strconv.FormatInt(f.MonthlyIncomeEst, 10), "< " + fmtNum(th), float64(f.MonthlyIncomeEst) >= th, false
	},
	RuleNSFExcess: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		return strconv.Itoa(f.NSFFeeCount90d), "> " + fmtNum(th), float64(f.NSFFeeCount90d) <= th, false
	},
	RuleNegativeDaysExcess: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		if f.DaysNegative90d == nil {
			return undefinedValue, "> " + fmtNum(th), false, true
		}
		return strconv.Itoa(*f.DaysNegative90d), "> " + fmtNum(th), float64(*f.DaysNegative90d) <= th, false
	},
	RulePTIAboveMax: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		if f.PaymentToIncome == nil {
			return undefinedValue, "> " + fmtNum(th), false, true
		}
		return fmtFloat(*f.PaymentToIncome, 4), "> " + fmtNum(th), *f.PaymentToIncome <= th, false
	},
	RuleLargeDeposits: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		return strconv.Itoa(f.LargeDeposits60d), "> " + fmtNum(th), float64(f.LargeDeposits60d) <= th, false
	},
	RuleDSCRBelowMin: func(f *Features, _ ruleFacts, th float64) (string, string, bool, bool) {
		if f.DSCRRequested == nil {
			return undefinedValue, "< " + fmtNum(th), false, true
		}
		return fmtFloat(*f.DSCRRequested, 4), "< " + fmtNum(th), *f.DSCRRequested >= th, false
	},
	RuleCurrencyMismatch: func(f *Features, op ruleFacts, _ float64) (string, string, bool, bool) {
		actual, loanCcy := f.Currency, op.LoanCurrency
		if actual == "" {
			actual = undefinedValue
		}
		if loanCcy == "" {
			loanCcy = "not given"
		}
		known := f.Currency != "" && op.LoanCurrency != ""
		return actual, "!= loan currency " + loanCcy, !known || strings.EqualFold(f.Currency, op.LoanCurrency), false
	},
}

const undefinedValue = "undefined"

func fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func fmtIntPtr(p *int) string {
	if p == nil {
		return undefinedValue
	}
	return strconv.Itoa(*p)
}

// Evaluate runs the policy's rules over a feature vector and operational facts and
// returns every rule result in policy order. The loan's currency is not given, so
// CURRENCY_MISMATCH passes; Engine.Decide reads it from the loan.
func (p *Policy) Evaluate(f Features, op Operational) []RuleResult {
	return p.evaluate(&f, ruleFacts{Operational: op})
}

func (p *Policy) evaluate(f *Features, op ruleFacts) []RuleResult {
	out := make([]RuleResult, len(p.Rules))
	for i, r := range p.Rules {
		actual, cond, passed, undef := ruleEvaluators[r.Rule](f, op, r.threshold(f.LoanAmount))
		action := r.Action
		if undef && r.ActionWhenUndefined != "" {
			action = r.ActionWhenUndefined
		}
		out[i] = RuleResult{Rule: r.Rule, Actual: actual, Threshold: cond, Passed: passed, Action: action,
			Operational: r.Operational, Undefined: undef && !passed}
	}
	return out
}

// EvaluateRules runs the default policy (v1) over a feature vector and operational
// facts and returns every rule result in policy order (Policy.Evaluate).
func EvaluateRules(f Features, op Operational) []RuleResult {
	return DefaultPolicy().Evaluate(f, op)
}

// outcome combines rule results and the score: a failed operational rule ⇒ refer;
// else a failed decline rule ⇒ decline; else a failed refer rule ⇒ refer; else the
// score band.
func (p *Policy) outcome(rules []RuleResult, score int) string {
	var opFail, declineFail, referFail bool
	for _, r := range rules {
		if r.Passed {
			continue
		}
		switch {
		case r.Operational:
			opFail = true
		case r.Action == actionDecline:
			declineFail = true
		default:
			referFail = true
		}
	}
	switch {
	case opFail:
		return OutcomeRefer
	case declineFail:
		return OutcomeDecline
	case referFail:
		return OutcomeRefer
	case score >= p.Bands.ApproveMin:
		return OutcomeApprove
	case score >= p.Bands.ReferMin:
		return OutcomeRefer
	default:
		return OutcomeDecline
	}
}

// withLoan returns f with the loan-dependent features (H1–H3) recomputed for loan, as
// ComputeFeatures computes them (keep in step with features.go).
func withLoan(f Features, loan Loan) Features {
	f.LoanAmount = loan.AmountMinor
	f.LoanTermMonths = loan.TermMonths
	f.ProposedPayment = ProposedPayment(loan)
	if f.MonthlyIncomeEst > 0 {
		f.PaymentToIncome = ptr(round4(float64(f.ProposedPayment) / float64(f.MonthlyIncomeEst)))
	}
	if f.DebtPaymentsMonthly != nil && f.ProposedPayment > 0 {
		free := f.MonthlyIncomeEst - f.RecurringObligationsMonthly - *f.DebtPaymentsMonthly
		f.DSCRRequested = ptr(round4(float64(free) / float64(f.ProposedPayment)))
		f.ResidualIncome = ptr(free - f.ProposedPayment)
	}
	return f
}

// counterOffer looks for the counter-offer of the policy when PTI_ABOVE_MAX is the only
// failing rule and payment_to_income is defined; nil otherwise. The payment grows with
// the amount, so the largest passing amount is found by bisection over multiples of
// the step.
func (e *Engine) counterOffer(f *Features, op ruleFacts, rules []RuleResult) *CounterOffer {
	co := e.Policy.CounterOffer
	if co == nil || f.PaymentToIncome == nil || f.LoanTermMonths <= 0 {
		return nil
	}
	for _, r := range rules {
		if !r.Passed && r.Rule != RulePTIAboveMax {
			return nil
		}
	}
	var pti PolicyRule
	for _, r := range e.Policy.Rules {
		if r.Rule == RulePTIAboveMax {
			pti = r
		}
	}
	passes := func(amount int64) bool {
		g := withLoan(*f, Loan{AmountMinor: amount, TermMonths: f.LoanTermMonths})
		return g.PaymentToIncome != nil && *g.PaymentToIncome <= pti.threshold(amount)
	}
	lo := (co.MinAmountMinor + co.StepMinor - 1) / co.StepMinor // smallest multiple ≥ min
	hi := (f.LoanAmount - 1) / co.StepMinor                     // largest multiple < applied
	if lo > hi || !passes(lo*co.StepMinor) {
		return nil
	}
	for lo < hi { // invariant: lo passes
		mid := lo + (hi-lo+1)/2
		if passes(mid * co.StepMinor) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	loan := Loan{AmountMinor: lo * co.StepMinor, TermMonths: f.LoanTermMonths}
	g := withLoan(*f, loan)
	rr := e.Policy.evaluate(&g, op)
	s := e.Model.Score(&g)
	if e.Policy.outcome(rr, s.Score) != OutcomeApprove {
		return nil
	}
	return &CounterOffer{AmountMinor: loan.AmountMinor, TermMonths: loan.TermMonths,
		PaymentMinor: g.ProposedPayment, PaymentToIncome: *g.PaymentToIncome, Score: s.Score}
}
