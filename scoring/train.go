package scoring

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/optimize"
)

// TrainingSample is one labelled application: its feature vector and whether the loan
// defaulted.
type TrainingSample struct {
	ID        string
	Features  Features
	Defaulted bool
}

// Candidate is a feature the trainer may turn into a characteristic, with the reason
// code and text it gets in the model.
type Candidate struct {
	Feature string
	Code    string
	Text    string
}

// DefaultCandidates returns the features the trainer considers by default: the seven
// characteristics of scorecard v1 and further fs-v1 features, each with a reason code.
func DefaultCandidates() []Candidate {
	out := []Candidate{}
	for _, c := range DefaultModel().Characteristics {
		out = append(out, Candidate{Feature: c.Feature, Code: c.Code, Text: c.Text})
	}
	return append(out,
		Candidate{"avg_daily_balance_30d", "SC_RECENT_BALANCE", "Recent average bank account balance too low"},
		Candidate{"min_eod_balance_90d", "SC_MIN_BALANCE", "Lowest bank account balance too low"},
		Candidate{"nsf_od_fee_count_30d", "SC_RECENT_NSF_FEES", "Recent overdraft or insufficient-funds fees"},
		Candidate{"days_since_last_nsf", "SC_NSF_RECENCY", "Recent overdraft or insufficient-funds fee"},
		Candidate{"returned_item_count_90d", "SC_RETURNED_ITEMS", "Returned or dishonoured payments"},
		Candidate{"monthly_income_est", "SC_INCOME_LEVEL", "Income insufficient for amount of credit requested"},
		Candidate{"large_deposit_count_60d", "SC_LARGE_DEPOSITS", "Large deposits not explained by income"},
		Candidate{"net_cash_flow_median_6m", "SC_NET_CASH_FLOW_MEDIAN", "Spending exceeds income"},
	)
}

// TrainOptions configure Train. Zero values take the documented defaults.
type TrainOptions struct {
	// ModelVersion of the written model (default "trained").
	ModelVersion string
	// Candidates are the features considered (default DefaultCandidates()).
	Candidates []Candidate
	// HoldoutShare of the samples, per class, kept out of fitting for the metrics
	// (default 0.3; must be in (0, 1)).
	HoldoutShare float64
	// Seed of the hold-out split (PCG). The split depends only on the seed and the set
	// of sample ids, never on their order.
	Seed uint64
	// Scaling of points (default the v1 scaling: 600 at 30:1, PDO 20).
	Scaling *Scaling
	// PreBins is the number of quantile pre-bins per feature (default 10).
	PreBins int
	// MinBinShare is the smallest share of the defined training values in a bin
	// (default 0.05).
	MinBinShare float64
	// MinIV drops characteristics whose information value is below it (default 0.02,
	// "not predictive" in the usual scale).
	MinIV float64
	// L2 is the ridge penalty on the coefficients (not the intercept) of the mean
	// negative log-likelihood (default 1e-4), for numerical stability.
	L2 float64
}

// TrainingInfo records in the model file how a trained model was fitted.
type TrainingInfo struct {
	Samples        int     `json:"samples"`
	Defaults       int     `json:"defaults"`
	TrainSamples   int     `json:"train_samples"`
	HoldoutSamples int     `json:"holdout_samples"`
	HoldoutShare   float64 `json:"holdout_share"`
	Seed           uint64  `json:"seed"`
	Intercept      float64 `json:"intercept"`
	L2             float64 `json:"l2"`
	HoldoutAUC     float64 `json:"holdout_auc"`
	HoldoutKS      float64 `json:"holdout_ks"`
	HoldoutGini    float64 `json:"holdout_gini"`
	TrainAUC       float64 `json:"train_auc"`
}

// SampleScore is the score the training run gives one sample with the final model.
type SampleScore struct {
	ID        string  `json:"applicant_id"`
	Holdout   bool    `json:"holdout"`
	Defaulted bool    `json:"defaulted"`
	Score     int     `json:"score"`
	PD        float64 `json:"pd"`
}

// Dropped is a candidate left out of the model, and why.
type Dropped struct {
	Feature string  `json:"feature"`
	Reason  string  `json:"reason"`
	IV      float64 `json:"information_value"`
}

// TrainResult is a fitted model with its evaluation.
type TrainResult struct {
	Model *Model
	// Scores of every sample, sorted by id, computed with Model.Score.
	Scores  []SampleScore
	Dropped []Dropped
}

// ErrTraining is wrapped by Train's input errors.
var ErrTraining = errors.New("cannot train")

// Train fits a binned logistic-regression scorecard:
//
//  1. a stratified, seeded hold-out split (HoldoutShare of goods and of bads);
//  2. per candidate, monotone bins with weight of evidence on the training part
//     (binCharacteristic); candidates below MinIV are dropped;
//  3. logistic regression of ln(good:bad odds) on the WoE values, fitted with
//     gonum/optimize LBFGS on the mean negative log-likelihood and its gradient;
//     characteristics with a coefficient ≤ 0 (collinear with another) are dropped and
//     the fit repeated;
//  4. points = round(factor·βᵢ·WoEᵢⱼ), base points = round(offset + factor·β₀), each
//     characteristic shifted so that its lowest points are 0 (the shift moves to the
//     base points, so totals are unchanged);
//  5. AUC, KS and Gini of the final integer scores on the hold-out and AUC on the
//     training part.
//
// Every sample is scored with Model.Score, the function that scores applications, so
// reloading the written model reproduces Scores exactly.
func Train(samples []TrainingSample, opt TrainOptions) (*TrainResult, error) {
	opt = withTrainDefaults(opt)
	if !(opt.HoldoutShare > 0 && opt.HoldoutShare < 1) {
		return nil, fmt.Errorf("%w: holdout share %v is not in (0, 1)", ErrTraining, opt.HoldoutShare)
	}
	ss, err := sortedByID(samples)
	if err != nil {
		return nil, err
	}
	holdout := split(ss, opt.HoldoutShare, opt.Seed)
	train, test, bads := partition(ss, holdout)
	if err := twoClasses(ss, train, "training"); err != nil {
		return nil, err
	}
	if err := twoClasses(ss, test, "hold-out"); err != nil {
		return nil, err
	}

	chars, weak, err := binCandidates(ss, train, opt)
	if err != nil {
		return nil, err
	}
	beta, chars, collinear, err := fitPositive(ss, train, chars, opt.L2)
	if err != nil {
		return nil, err
	}
	res := &TrainResult{Dropped: append(weak, collinear...)}
	m, err := scorecard(opt, beta, chars)
	if err != nil {
		return nil, err
	}
	info := &TrainingInfo{Samples: len(ss), Defaults: bads, TrainSamples: len(train), HoldoutSamples: len(test),
		HoldoutShare: opt.HoldoutShare, Seed: opt.Seed, Intercept: beta[0], L2: opt.L2}
	if res.Scores, err = evaluate(m, ss, holdout, info); err != nil {
		return nil, err
	}
	m.Training = info
	res.Model = m
	return res, nil
}

// sortedByID returns a copy of samples sorted by applicant id, or an error when an id
// repeats: the hold-out split depends on the set of ids, never on the input order.
func sortedByID(samples []TrainingSample) ([]TrainingSample, error) {
	ss := slices.Clone(samples)
	sort.Slice(ss, func(a, b int) bool { return ss[a].ID < ss[b].ID })
	for i := 1; i < len(ss); i++ {
		if ss[i].ID == ss[i-1].ID {
			return nil, fmt.Errorf("%w: applicant id %q repeated", ErrTraining, ss[i].ID)
		}
	}
	return ss, nil
}

// partition returns the indices of the training and hold-out samples (in id order)
// and the number of defaults among all samples, which the training info records.
func partition(ss []TrainingSample, holdout []bool) (train, test []int, bads int) {
	for i, s := range ss {
		if s.Defaulted {
			bads++
		}
		if holdout[i] {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test, bads
}

// binCandidates bins every candidate on the training rows (binCharacteristic) and
// keeps those whose information value reaches opt.MinIV; the others are returned as
// dropped, in candidate order. A candidate that is not a numeric feature is an error.
func binCandidates(ss []TrainingSample, train []int, opt TrainOptions) ([]Characteristic, []Dropped, error) {
	bopt := binningOptions{preBins: opt.PreBins, minBinShare: opt.MinBinShare}
	var chars []Characteristic
	var dropped []Dropped
	for _, cand := range opt.Candidates {
		idx, ok := numericFeatures[cand.Feature]
		if !ok {
			return nil, nil, fmt.Errorf("%w: candidate %q is not a numeric feature", ErrTraining, cand.Feature)
		}
		c := Characteristic{Code: cand.Code, Feature: cand.Feature, Text: cand.Text, field: idx}
		data := make([]obs, len(train))
		for k, i := range train {
			data[k] = obs{v: c.Value(&ss[i].Features), bad: ss[i].Defaulted}
		}
		c = binCharacteristic(c, data, bopt)
		if c.InformationValue < opt.MinIV {
			dropped = append(dropped, Dropped{cand.Feature, "information value below the minimum", c.InformationValue})
			continue
		}
		chars = append(chars, c)
	}
	return chars, dropped, nil
}

// fitPositive fits the logistic regression (fitLogistic) and refits without the
// characteristics whose coefficient is not positive (collinear with another: a
// scorecard must give more points to better evidence) until every coefficient is
// positive. It returns the coefficients (β₀ first), the kept characteristics and the
// dropped ones in the order they were dropped.
func fitPositive(ss []TrainingSample, train []int, chars []Characteristic, l2 float64) ([]float64, []Characteristic, []Dropped, error) {
	var dropped []Dropped
	for {
		if len(chars) == 0 {
			return nil, nil, nil, fmt.Errorf("%w: no candidate characteristic is predictive", ErrTraining)
		}
		beta, err := fitLogistic(ss, train, chars, l2)
		if err != nil {
			return nil, nil, nil, err
		}
		keep := chars[:0:0]
		for j, c := range chars {
			if beta[j+1] > 0 {
				keep = append(keep, c)
			} else {
				dropped = append(dropped, Dropped{c.Feature, "non-positive coefficient (collinear)", c.InformationValue})
			}
		}
		if len(keep) == len(chars) {
			return beta, chars, dropped, nil
		}
		chars = keep
	}
}

// scorecard turns the fitted coefficients into the trained model (step 4 of Train):
// base points round(offset + factor·β₀) plus every characteristic's shift to a lowest
// points of 0 (scaleToPoints), then validates it as LoadModel would.
func scorecard(opt TrainOptions, beta []float64, chars []Characteristic) (*Model, error) {
	sc := *opt.Scaling
	m := &Model{ModelVersion: opt.ModelVersion, FeatureSetVersion: FeatureSetVersion, ReasonCodeMapVersion: "rc-" + opt.ModelVersion,
		Kind: "trained", Scaling: sc, PDCalibration: PDCalibration{Method: CalibrationScaling, Decimals: 6},
		ReasonMethod: "below_max_points"}
	base := int(math.Round(sc.Offset + sc.Factor*beta[0]))
	for j, c := range chars {
		c.Coefficient = beta[j+1]
		var lo int
		chars[j], lo = scaleToPoints(c, sc.Factor)
		base += lo
	}
	m.BasePoints = base
	m.Characteristics = chars
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("validate trained model: %w", err)
	}
	return m, nil
}

// scaleToPoints gives c's bins and undefined value the points round(factor·β·WoE),
// shifted so that the lowest is 0, and returns the shift, which the caller adds to the
// base points so that totals are unchanged. Without training evidence for undefined
// values, they get the worst defined bin's points.
func scaleToPoints(c Characteristic, factor float64) (Characteristic, int) {
	pts := func(w float64) int { return int(math.Round(factor * c.Coefficient * w)) }
	c.Undefined = pts(c.UndefinedWoE)
	lo := c.Undefined
	for k := range c.Bins {
		c.Bins[k].Points = pts(c.Bins[k].WoE)
		lo = min(lo, c.Bins[k].Points)
	}
	if c.UndefinedCount == 0 {
		// No training evidence for undefined values: the worst defined bin's points.
		lo = c.Bins[0].Points
		for _, b := range c.Bins {
			lo = min(lo, b.Points)
		}
		c.Undefined = lo
	}
	for k := range c.Bins {
		c.Bins[k].Points -= lo
	}
	c.Undefined -= lo
	c.MaxPointsRef = c.MaxPoints()
	return c, lo
}

// evaluate scores every sample with m.Score, the function that scores applications
// (so a reloaded model reproduces the scores), and records in info the AUC, KS and
// Gini of the integer scores on the hold-out and the AUC on the training part.
func evaluate(m *Model, ss []TrainingSample, holdout []bool, info *TrainingInfo) ([]SampleScore, error) {
	var scores []SampleScore
	var trS, teS []float64
	var trD, teD []bool
	for i := range ss {
		s := m.Score(&ss[i].Features)
		scores = append(scores, SampleScore{ID: ss[i].ID, Holdout: holdout[i], Defaulted: ss[i].Defaulted, Score: s.Score, PD: s.PD})
		if holdout[i] {
			teS, teD = append(teS, float64(s.Score)), append(teD, ss[i].Defaulted)
		} else {
			trS, trD = append(trS, float64(s.Score)), append(trD, ss[i].Defaulted)
		}
	}
	var err error
	if info.HoldoutAUC, err = AUC(teS, teD); err != nil {
		return nil, err
	}
	if info.HoldoutKS, err = KS(teS, teD); err != nil {
		return nil, err
	}
	info.HoldoutGini = Gini(info.HoldoutAUC)
	if info.TrainAUC, err = AUC(trS, trD); err != nil {
		return nil, err
	}
	return scores, nil
}

func withTrainDefaults(o TrainOptions) TrainOptions {
	if o.ModelVersion == "" {
		o.ModelVersion = "trained"
	}
	if o.Candidates == nil {
		o.Candidates = DefaultCandidates()
	}
	if o.HoldoutShare == 0 {
		o.HoldoutShare = 0.3
	}
	if o.Scaling == nil {
		s := NewScaling(ScoreAtBaseOdds, BaseOdds, PDO)
		o.Scaling = &s
	}
	if o.PreBins == 0 {
		o.PreBins = 10
	}
	if o.MinBinShare == 0 {
		o.MinBinShare = 0.05
	}
	if o.MinIV == 0 {
		o.MinIV = 0.02
	}
	if o.L2 == 0 {
		o.L2 = 1e-4
	}
	return o
}

// split marks a seeded, stratified hold-out: within goods and within bads (both in id
// order), a PCG(seed) shuffle picks round(share·n) samples.
func split(ss []TrainingSample, share float64, seed uint64) []bool {
	r := rand.New(rand.NewPCG(seed, 0x5eed_cafe))
	out := make([]bool, len(ss))
	for _, class := range []bool{false, true} {
		var idx []int
		for i, s := range ss {
			if s.Defaulted == class {
				idx = append(idx, i)
			}
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		n := int(math.Round(share * float64(len(idx))))
		for _, i := range idx[:n] {
			out[i] = true
		}
	}
	return out
}

func twoClasses(ss []TrainingSample, idx []int, part string) error {
	bads := 0
	for _, i := range idx {
		if ss[i].Defaulted {
			bads++
		}
	}
	if bads == 0 || bads == len(idx) {
		return fmt.Errorf("%w: the %s part has %d defaults among %d samples; it needs both classes", ErrTraining, part, bads, len(idx))
	}
	return nil
}

// woeValue returns the WoE of v in c: its bin's, or the undefined WoE.
func woeValue(c Characteristic, v *float64) float64 {
	if i := c.BinIndex(v); i >= 0 {
		return c.Bins[i].WoE
	}
	return c.UndefinedWoE
}

// fitLogistic fits ln(P(good)/P(bad)) = β₀ + Σ βⱼ·WoEⱼ on the training rows by
// minimising the mean negative log-likelihood plus (l2/2)·Σβⱼ² (j ≥ 1) with LBFGS.
func fitLogistic(ss []TrainingSample, rows []int, chars []Characteristic, l2 float64) ([]float64, error) {
	k := len(chars) + 1
	x := make([][]float64, len(rows))
	y := make([]float64, len(rows))
	for r, i := range rows {
		x[r] = make([]float64, k)
		x[r][0] = 1
		for j, c := range chars {
			x[r][j+1] = woeValue(c, c.Value(&ss[i].Features))
		}
		if !ss[i].Defaulted {
			y[r] = 1
		}
	}
	n := float64(len(rows))
	p := optimize.Problem{
		Func: func(b []float64) float64 {
			var nll float64
			for r := range x {
				z := dot(x[r], b)
				// −[y·z − ln(1 + e^z)], computed stably.
				nll += softplus(z) - y[r]*z
			}
			reg := 0.0
			for _, v := range b[1:] {
				reg += v * v
			}
			return nll/n + l2/2*reg
		},
		Grad: func(g, b []float64) {
			clear(g)
			for r := range x {
				e := sigmoid(dot(x[r], b)) - y[r]
				for j := range g {
					g[j] += e * x[r][j]
				}
			}
			for j := range g {
				g[j] /= n
				if j > 0 {
					g[j] += l2 * b[j]
				}
			}
		},
	}
	init := make([]float64, k)
	res, err := optimize.Minimize(p, init, &optimize.Settings{GradientThreshold: 1e-9}, &optimize.LBFGS{})
	if err != nil {
		return nil, fmt.Errorf("fit logistic regression: %w", err)
	}
	for _, v := range res.X {
		if !finite(v) {
			return nil, fmt.Errorf("fit logistic regression: coefficient not finite")
		}
	}
	return res.X, nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// softplus is ln(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
