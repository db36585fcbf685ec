package scoring

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Scorecard v1 scaling and bands, as in the embedded scorecard-v1.json and
// policy-v1.json (the files are authoritative; tests keep these constants in step).
// The reasoning behind each number is in scoring/models/MODEL_CARD-v1.md.
const (
	// ScoreAtBaseOdds is the score at BaseOdds: 600 at 30:1 good:bad (PD ≈ 3.2 %).
	ScoreAtBaseOdds = 600.0
	// BaseOdds are the good:bad odds at ScoreAtBaseOdds.
	BaseOdds = 30.0
	// PDO (points to double the odds) is 20.
	PDO = 20.0
	// BasePoints is the v1 intercept: 430 points ⇔ odds ≈ 0.86:1.
	BasePoints = 430
	// ApproveMinScore 620 ⇔ odds ≥ 60:1 ⇔ PD ≤ 1.6 %.
	ApproveMinScore = 620
	// ReferMinScore 580 ⇔ odds ≥ 15:1 ⇔ PD ≤ 6.25 %.
	ReferMinScore = 580
)

// shipped holds every scorecard and policy file this build ships, by version: the
// default ones and every earlier one, so that a past decision re-scores under its own
// model and policy versions.
//
//go:embed models/scorecard-*.json models/policy-*.json
var shipped embed.FS

// The versions of the default model and policy: scorecard v2 (trained on the synthetic
// population, feature set fs-v3) and policy v2. MODEL_CARD-v2.md gives the reasoning.
const (
	DefaultModelVersion  = "v2"
	DefaultPolicyVersion = "v2"
)

// ShippedModelFile returns the bytes of the shipped scorecard file of version (e.g. "v1").
func ShippedModelFile(version string) ([]byte, error) {
	return fs.ReadFile(shipped, "models/scorecard-"+version+".json")
}

// ShippedPolicyFile returns the bytes of the shipped policy file of version (e.g. "v1").
func ShippedPolicyFile(version string) ([]byte, error) {
	return fs.ReadFile(shipped, "models/policy-"+version+".json")
}

// DefaultModelFile returns the bytes of the default model file (scorecard v2).
func DefaultModelFile() []byte { return mustShipped(ShippedModelFile(DefaultModelVersion)) }

// DefaultPolicyFile returns the bytes of the default policy file (policy v2).
func DefaultPolicyFile() []byte { return mustShipped(ShippedPolicyFile(DefaultPolicyVersion)) }

func mustShipped(b []byte, err error) []byte {
	if err != nil {
		panic("scoring: shipped model files: " + err.Error()) // the default versions are embedded
	}
	return b
}

// ShippedEngine returns the engine of a shipped scorecard and policy version: how an
// analyst re-scores a past decision exactly under the versions it records (its model
// declares the feature set it scores on).
func ShippedEngine(modelVersion, policyVersion string) (*Engine, error) {
	mb, err := ShippedModelFile(modelVersion)
	if err != nil {
		return nil, fmt.Errorf("shipped model %q: %w", modelVersion, err)
	}
	pb, err := ShippedPolicyFile(policyVersion)
	if err != nil {
		return nil, fmt.Errorf("shipped policy %q: %w", policyVersion, err)
	}
	m, err := LoadModel(mb)
	if err != nil {
		return nil, fmt.Errorf("shipped model %q: %w", modelVersion, err)
	}
	p, err := LoadPolicy(pb)
	if err != nil {
		return nil, fmt.Errorf("shipped policy %q: %w", policyVersion, err)
	}
	return NewEngine(m, p)
}

var defaults = sync.OnceValue(func() *Engine {
	e, err := ShippedEngine(DefaultModelVersion, DefaultPolicyVersion)
	if err != nil {
		panic("scoring: embedded files: " + err.Error())
	}
	return e
})

// DefaultModel returns the default scorecard, v2 (shared; do not modify).
func DefaultModel() *Model { return defaults().Model }

// DefaultPolicy returns the default policy, v2 (shared; do not modify).
func DefaultPolicy() *Policy { return defaults().Policy }

// DefaultEngine returns the engine of the default scorecard and policy (v2).
func DefaultEngine() *Engine { return defaults() }

// Scorecard is the characteristics of the default model (read-only), kept for callers
// of the v1 API.
var Scorecard = DefaultModel().Characteristics

// PDFromScore converts a score to a probability of default with the default model's
// calibration (Model.PD).
func PDFromScore(score int) float64 { return DefaultModel().PD(score) }

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
	Code    string `json:"code"`
	Text    string `json:"text"`
	Feature string `json:"feature"`
	Value   string `json:"value"`
	// Reference is what the value was measured against (docs/features.md §5): the
	// failed condition of a rule, or the range of a characteristic's best bin.
	Reference  string  `json:"reference,omitempty"`
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
	// CounterOffer is set when the policy offers a smaller amount (see
	// CounterOfferPolicy); the outcome still refers to the amount applied for.
	CounterOffer *CounterOffer `json:"counter_offer,omitempty"`
}

func fmtValue(v *float64) string {
	if v == nil {
		return undefinedValue
	}
	// Shortest exact representation: features are already rounded (money to 2
	// decimals, ratios to 4), so "147026.13", "0.0806" and "3" come out as stored.
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// Engine decides applications with one model and one policy, on the feature set the
// model declares. It is read-only and safe for concurrent use.
type Engine struct {
	Model  *Model
	Policy *Policy
	// reasons maps a rule to its adverse-action feature and text.
	reasons map[string]PolicyRule
	// features computes the model's feature set (Model.FeatureSetVersion).
	features FeatureOptions
}

// NewEngine pairs a model and a policy. The engine computes the features of the feature
// set the model declares (FeatureOptionsFor(m.FeatureSetVersion)), so a model keeps
// scoring exactly the vectors it was built on after newer feature sets ship: scorecard
// v1 declares FeatureSetV2. It fails when this build cannot compute that feature set,
// or when a characteristic or a rule reads a feature the set does not define.
func NewEngine(m *Model, p *Policy) (*Engine, error) {
	if m == nil || p == nil {
		return nil, fmt.Errorf("new engine: model and policy are required")
	}
	opts, err := FeatureOptionsFor(m.FeatureSetVersion)
	if err != nil {
		return nil, fmt.Errorf("new engine: model %s: %w", m.ModelVersion, err)
	}
	set, err := lookupFeatureSet(opts.FeatureSet)
	if err != nil {
		return nil, fmt.Errorf("new engine: model %s: %w", m.ModelVersion, err)
	}
	for _, c := range m.Characteristics {
		if !set.hasFeature(c.Feature) {
			return nil, fmt.Errorf("new engine: model %s characteristic %s: feature %q is not in feature set %s",
				m.ModelVersion, c.Code, c.Feature, m.FeatureSetVersion)
		}
	}
	for _, r := range p.Rules {
		if r.Feature != "" && !set.hasFeature(r.Feature) {
			return nil, fmt.Errorf("new engine: policy %s rule %s: feature %q is not in feature set %s",
				p.PolicyVersion, r.Rule, r.Feature, m.FeatureSetVersion)
		}
	}
	e := &Engine{Model: m, Policy: p, reasons: map[string]PolicyRule{}, features: opts}
	for _, r := range p.Rules {
		e.reasons[r.Rule] = r
	}
	return e, nil
}

// FeatureOptions returns the options that compute the engine's feature set.
func (e *Engine) FeatureOptions() FeatureOptions { return e.features }

// ComputeFeatures computes the features of l as of cutoff in the feature set of the
// engine's model: ComputeFeaturesWith(l, cutoff, loan, e.FeatureOptions()).
func (e *Engine) ComputeFeatures(l Ledger, cutoff time.Time, loan Loan) (Features, error) {
	return ComputeFeaturesWith(l, cutoff, loan, e.features)
}

// Decide applies the engine's policy and model to a feature vector.
//
// Outcome: a failed operational rule ⇒ refer; else a failed decline rule ⇒ decline;
// else a failed refer rule ⇒ refer; else the score band (≥ approve_min approve,
// ≥ refer_min refer, otherwise decline). The score is always computed.
//
// Reasons (refer and decline only, at most MaxReasons): failed rules in rule order,
// then scorecard characteristics ranked by points lost against their maximum
// ("below maximum points", §5), ties in model order, only those that lost points and
// whose feature no rule reason already names.
//
// CounterOffer: see CounterOfferPolicy.
//
// The loan's amount and term are already inside the features (payment_to_income); Decide
// reads only its currency, for the CURRENCY_MISMATCH rule.
func (e *Engine) Decide(f Features, loan Loan, op Operational) Decision {
	facts := ruleFacts{Operational: op, LoanCurrency: loan.Currency}
	s := e.Model.Score(&f)
	d := Decision{
		Score:             s.Score,
		PD:                s.PD,
		Rules:             e.Policy.evaluate(&f, facts),
		BasePoints:        e.Model.BasePoints,
		Points:            s.Points,
		Features:          f,
		ModelVersion:      e.Model.ModelVersion,
		PolicyVersion:     e.Policy.PolicyVersion,
		FeatureSetVersion: f.FeatureSetVersion,
	}
	if d.FeatureSetVersion == "" { // a hand-built vector: the model's feature set
		d.FeatureSetVersion = e.Model.FeatureSetVersion
	}
	d.Outcome = e.Policy.outcome(d.Rules, d.Score)
	d.Reasons = e.reasonsFor(d.Outcome, d.Rules, d.Points)
	if d.Outcome != OutcomeApprove {
		d.CounterOffer = e.counterOffer(&f, facts, d.Rules)
	}
	return d
}

// reasonsFor returns the reasons of a decision (empty for approve). For a decline they are
// the adverse-action reasons of Regulation B: the knock-out rules that declined, then the
// characteristics that cost the most points. A failed rule that can only refer
// (LARGE_UNEXPLAINED_DEPOSITS: verification, not denial) is no reason to decline, and a
// rule that failed only for want of data is left out when a rule with data declined (PTI
// without income is explained by NO_INCOME_DETECTED, not by "excessive obligations").
func (e *Engine) reasonsFor(outcome string, rules []RuleResult, points []CharacteristicPoints) []Reason {
	out := []Reason{}
	if outcome == OutcomeApprove {
		return out
	}
	decline, declinedWithData := outcome == OutcomeDecline, false
	for _, r := range rules {
		if !r.Passed && r.Action == actionDecline && !r.Operational && !r.Undefined {
			declinedWithData = true
		}
	}
	covered := map[string]bool{} // features already explained by a rule reason
	for _, r := range rules {
		if decline && !r.Passed && r.Undefined && declinedWithData {
			// The missing value is a consequence of what declined (no income, no
			// payment-to-income): neither the rule nor its characteristic is a reason.
			covered[e.reasons[r.Rule].Feature] = true
			continue
		}
		if decline && (r.Action != actionDecline || r.Operational) {
			continue
		}
		if !r.Passed && len(out) < MaxReasons {
			pr := e.reasons[r.Rule]
			out = append(out, Reason{Code: r.Rule, Text: pr.ReasonText, Feature: pr.Feature, Value: r.Actual, Reference: r.Threshold})
			covered[pr.Feature] = true
		}
	}
	type lost struct{ i, lost int }
	var losses []lost
	for i, p := range points {
		if l := p.MaxPoints - p.Points; l > 0 {
			losses = append(losses, lost{i, l})
		}
	}
	sort.SliceStable(losses, func(a, b int) bool { return losses[a].lost > losses[b].lost })
	for _, l := range losses {
		if len(out) >= MaxReasons {
			break
		}
		c, p := e.Model.Characteristics[l.i], points[l.i]
		if covered[c.Feature] {
			continue // the knock-out reason already names this factor
		}
		out = append(out, Reason{Code: c.Code, Text: c.Text, Feature: c.Feature, Value: p.Value,
			Reference: bestBinLabel(c), PointsLost: float64(l.lost)})
	}
	return out
}

// Underwrite computes the features of l as of cutoff in the model's feature set and
// decides the loan: Engine.ComputeFeatures followed by Decide. Errors are
// ComputeFeaturesWith's errors.
func (e *Engine) Underwrite(l Ledger, cutoff time.Time, loan Loan, op Operational) (Decision, error) {
	f, err := e.ComputeFeatures(l, cutoff, loan)
	if err != nil {
		return Decision{}, err
	}
	return e.Decide(f, loan, op), nil
}

// Decide applies the default policy and scorecard (v2) to a feature vector; see
// Engine.Decide.
func Decide(f Features, loan Loan, op Operational) Decision {
	return DefaultEngine().Decide(f, loan, op)
}

// Underwrite computes the features of l as of cutoff and decides the loan with the
// default model and policy, on the default model's feature set (DefaultEngine().
// Underwrite). Errors are ComputeFeaturesWith's errors.
func Underwrite(l Ledger, cutoff time.Time, loan Loan, op Operational) (Decision, error) {
	return DefaultEngine().Underwrite(l, cutoff, loan, op)
}

// bestBinLabel is the range of the characteristic's highest-scoring bin: what an applicant
// would need to lose no points there.
func bestBinLabel(c Characteristic) string {
	best := -1
	for i, b := range c.Bins {
		if best < 0 || b.Points > c.Bins[best].Points {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return c.Bins[best].Label
}
