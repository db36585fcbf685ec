package scoring

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
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

// Defaults of TrainOptions, each a common choice for application scorecards of a few
// thousand applicants.
const (
	// defaultHoldoutShare: 30 % of goods and of bads are held out, enough defaults
	// (≈ 150 of 4,000 at 13 %) for a stable AUC and a ten-group calibration table.
	defaultHoldoutShare = 0.3
	// defaultPreBins: ten quantile pre-bins, the usual start of coarse classing.
	defaultPreBins = 10
	// defaultMinBinShare: no bin holds less than 5 % of the defined values, so no WoE
	// rests on a handful of defaults.
	defaultMinBinShare = 0.05
	// defaultMinIV: an information value below 0.02 is "not predictive" on the usual
	// scale (0.02 weak, 0.1 medium, 0.3 strong).
	defaultMinIV = 0.02
	// defaultL2: a small ridge penalty keeps the Newton system well conditioned when
	// two characteristics are nearly collinear, without shrinking real effects.
	defaultL2 = 1e-4
	// defaultMaxCorrelation: two candidates whose WoE values correlate above 0.9 tell
	// the same story (a measure over two windows, a balance and its percentile); only
	// the one with the larger information value competes in the forward selection.
	defaultMaxCorrelation = 0.9
	// defaultFolds: five-fold cross-validation scores each forward step, every
	// training sample validating once.
	defaultFolds = 5
	// defaultMinAUCGain: a characteristic must add 0.001 to the cross-validated AUC to
	// enter. On a few thousand samples smaller gains are noise, and on the synthetic
	// population (internal/population) 0.002 stopped a characteristic early while 0.0005
	// kept the same ones as 0.001.
	defaultMinAUCGain = 0.001
	// defaultMaxCharacteristics: at most 12 characteristics, the usual size of an
	// application scorecard that people can still read and explain.
	defaultMaxCharacteristics = 12
	// defaultModelVersion names a trained model when the caller does not.
	defaultModelVersion = "trained"
	// pdDecimals: the PD is rounded to 6 decimals, as scorecard v1's, so that it
	// serialises identically everywhere.
	pdDecimals = 6
)

// TrainOptions configure Train. Zero values take the documented defaults.
type TrainOptions struct {
	// ModelVersion of the written model (default "trained").
	ModelVersion string
	// Candidates are the features considered (default DefaultCandidates(): every
	// numeric feature).
	Candidates []Candidate
	// HoldoutShare of the samples, per class, kept out of fitting for the metrics and
	// the PD calibration (default 0.3; must be in (0, 1)).
	HoldoutShare float64
	// Seed of the hold-out split and of the cross-validation folds (PCG). Both depend
	// only on the seed and the set of sample ids, never on their order.
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
	// MaxCorrelation: of candidates whose WoE values correlate above it in absolute
	// value (Pearson, training part), only the one with the largest information value
	// stays a candidate (default 0.9; 1 keeps them all).
	MaxCorrelation float64
	// Folds of the stratified cross-validation on the training part that scores each
	// forward-selection step (default 5; at least 2).
	Folds int
	// MinAUCGain: forward selection stops when no candidate adds at least this much to
	// the cross-validated AUC (default 0.001).
	MinAUCGain float64
	// MaxCharacteristics caps the characteristics of the model (default 12).
	MaxCharacteristics int
}

// TrainingInfo records in the model file how a trained model was fitted and how it
// did on the hold-out.
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
	// HoldoutCalibrationError is the mean over the HoldoutCalibration groups of
	// |mean PD − observed default rate|.
	HoldoutCalibrationError float64 `json:"holdout_calibration_error"`
	// HoldoutCalibration is the calibration table of the hold-out by score decile.
	HoldoutCalibration []CalibrationGroup `json:"holdout_calibration,omitempty"`
	// Selection records how the characteristics were chosen.
	Selection *SelectionInfo `json:"selection,omitempty"`
}

// SelectionInfo records the characteristic selection of a training run: the
// thresholds it used and, in order, each characteristic it added with the
// cross-validated AUC of the model after adding it.
type SelectionInfo struct {
	Method             string          `json:"method"`
	Candidates         int             `json:"candidates"`
	MinIV              float64         `json:"min_iv"`
	MaxCorrelation     float64         `json:"max_correlation"`
	Folds              int             `json:"folds"`
	MinAUCGain         float64         `json:"min_auc_gain"`
	MaxCharacteristics int             `json:"max_characteristics"`
	Steps              []SelectionStep `json:"steps"`
}

// SelectionStep is one forward-selection step: the characteristic added and the mean
// AUC over the cross-validation folds of the model with it.
type SelectionStep struct {
	Feature string  `json:"feature"`
	CVAUC   float64 `json:"cv_auc"`
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
	Scores []SampleScore
	// Dropped lists the candidates left out: below MinIV, correlated with a stronger
	// one, then those the forward selection did not take.
	Dropped []Dropped
}

// ErrTraining is wrapped by Train's input errors.
var ErrTraining = errors.New("cannot train")

// Train fits a binned logistic-regression scorecard:
//
//  1. a stratified, seeded hold-out split (HoldoutShare of goods and of bads);
//  2. per candidate, monotone bins with weight of evidence on the training part
//     (binCharacteristic); candidates below MinIV are dropped;
//  3. of candidates whose WoE values correlate above MaxCorrelation, the one with the
//     largest information value stays (decorrelate);
//  4. forward stepwise selection (selectForward): each step adds the candidate that
//     most raises the mean AUC over Folds cross-validation folds of the training part
//     (every candidate binned again on each fold's fitting rows, so the validation rows
//     are new to it), provided every coefficient of the refitted model stays positive, until no
//     candidate adds MinAUCGain or MaxCharacteristics are kept; a candidate is never
//     dropped because its coefficient turned negative in a fit with everything;
//  5. the final logistic regression of ln(good:bad odds) on the WoE values of the kept
//     characteristics (Newton's method on the mean negative log-likelihood with a
//     ridge L2), every coefficient positive;
//  6. points = round(factor·βᵢ·WoEᵢⱼ), base points = round(offset + factor·β₀), each
//     characteristic shifted so that its lowest points are 0 (the shift moves to the
//     base points, so totals are unchanged);
//  7. the PD calibrated on the hold-out by Platt scaling of the score (calibratePD;
//     a hold-out with fewer than 10 defaults or non-defaults keeps the regression's
//     own PD, the scaling calibration);
//  8. AUC, KS, Gini and the calibration table of the hold-out, and AUC of the training
//     part, all on the final integer scores and PDs.
//
// Every sample is scored with Model.Score, the function that scores applications, so
// reloading the written model reproduces Scores exactly.
func Train(samples []TrainingSample, opt TrainOptions) (*TrainResult, error) {
	opt = withTrainDefaults(opt)
	if err := opt.check(); err != nil {
		return nil, err
	}
	ss, err := sortedByID(samples)
	if err != nil {
		return nil, err
	}
	holdout := split(ss, opt.HoldoutShare, opt.Seed)
	train, test, bads := partition(ss, holdout)
	if err := twoClasses(ss, train, "training", opt.Folds); err != nil {
		return nil, err
	}
	if err := twoClasses(ss, test, "hold-out", 1); err != nil {
		return nil, err
	}

	chars, dropped, err := binCandidates(ss, train, opt)
	if err != nil {
		return nil, err
	}
	d := newDesign(ss, chars, folds(ss, train, opt.Folds, opt.Seed), opt.binning())
	pool, correlated := d.decorrelate(train, opt.MaxCorrelation)
	sel, err := d.selectForward(pool, train, opt)
	if err != nil {
		return nil, err
	}
	beta, err := d.fit(sel.kept, train, opt.L2)
	if err != nil {
		return nil, err
	}
	kept := make([]Characteristic, len(sel.kept))
	for j, c := range sel.kept {
		if !(beta[j+1] > 0) {
			return nil, fmt.Errorf("%w: final fit gives %s a non-positive coefficient", ErrTraining, chars[c].Feature)
		}
		kept[j] = chars[c]
	}
	m, err := scorecard(opt, beta, kept)
	if err != nil {
		return nil, err
	}
	if err := calibratePD(m, ss, test, opt.L2); err != nil {
		return nil, err
	}
	info := &TrainingInfo{Samples: len(ss), Defaults: bads, TrainSamples: len(train), HoldoutSamples: len(test),
		HoldoutShare: opt.HoldoutShare, Seed: opt.Seed, Intercept: beta[0], L2: opt.L2,
		Selection: sel.info(opt, len(opt.Candidates))}
	res := &TrainResult{Dropped: slices.Concat(dropped, correlated, sel.dropped)}
	if res.Scores, err = evaluate(m, ss, holdout, info); err != nil {
		return nil, err
	}
	m.Training = info
	res.Model = m
	return res, nil
}

// check rejects options outside their domains (after withTrainDefaults).
func (o TrainOptions) check() error {
	switch {
	case !(o.HoldoutShare > 0 && o.HoldoutShare < 1):
		return fmt.Errorf("%w: holdout share %v is not in (0, 1)", ErrTraining, o.HoldoutShare)
	case o.Folds < 2:
		return fmt.Errorf("%w: %d cross-validation folds, need at least 2", ErrTraining, o.Folds)
	case o.MaxCharacteristics < 1:
		return fmt.Errorf("%w: max characteristics %d is below 1", ErrTraining, o.MaxCharacteristics)
	case !(o.MaxCorrelation > 0 && o.MaxCorrelation <= 1):
		return fmt.Errorf("%w: max correlation %v is not in (0, 1]", ErrTraining, o.MaxCorrelation)
	case !(o.MinAUCGain >= 0):
		return fmt.Errorf("%w: min AUC gain %v is negative", ErrTraining, o.MinAUCGain)
	}
	return nil
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

// binCandidates bins every candidate on the training rows (binOn) and keeps those
// whose information value reaches opt.MinIV; the others are returned as dropped, in
// candidate order. A candidate that is not a numeric feature is an error.
func binCandidates(ss []TrainingSample, train []int, opt TrainOptions) ([]Characteristic, []Dropped, error) {
	var chars []Characteristic
	var dropped []Dropped
	for _, cand := range opt.Candidates {
		idx, ok := numericFeatures[cand.Feature]
		if !ok {
			return nil, nil, fmt.Errorf("%w: candidate %q is not a numeric feature", ErrTraining, cand.Feature)
		}
		c := binOn(ss, train, Characteristic{Code: cand.Code, Feature: cand.Feature, Text: cand.Text, field: idx}, opt.binning())
		if c.InformationValue < opt.MinIV {
			dropped = append(dropped, Dropped{cand.Feature, fmt.Sprintf("information value below %g", opt.MinIV), c.InformationValue})
			continue
		}
		chars = append(chars, c)
	}
	return chars, dropped, nil
}

// binning returns the binning options of o.
func (o TrainOptions) binning() binningOptions {
	return binningOptions{preBins: o.PreBins, minBinShare: o.MinBinShare}
}

// binOn bins c's feature on the given rows of ss (binCharacteristic).
func binOn(ss []TrainingSample, rows []int, c Characteristic, opt binningOptions) Characteristic {
	data := make([]obs, len(rows))
	for k, i := range rows {
		data[k] = obs{v: c.Value(&ss[i].Features), bad: ss[i].Defaulted}
	}
	return binCharacteristic(c, data, opt)
}

// scorecard turns the fitted coefficients into the trained model (step 6 of Train):
// base points round(offset + factor·β₀) plus every characteristic's shift to a lowest
// points of 0 (scaleToPoints). Its PD calibration is the scaling's until calibratePD
// replaces it.
func scorecard(opt TrainOptions, beta []float64, chars []Characteristic) (*Model, error) {
	sc := *opt.Scaling
	m := &Model{ModelVersion: opt.ModelVersion, FeatureSetVersion: FeatureSetVersion, ReasonCodeMapVersion: "rc-" + opt.ModelVersion,
		Kind: "trained", Scaling: sc, PDCalibration: PDCalibration{Method: CalibrationScaling, Decimals: pdDecimals},
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
// base points so that totals are unchanged. (binCharacteristic already gave undefined
// values without enough training evidence the worst bin's WoE.)
func scaleToPoints(c Characteristic, factor float64) (Characteristic, int) {
	pts := func(w float64) int { return int(math.Round(factor * c.Coefficient * w)) }
	c.Undefined = pts(c.UndefinedWoE)
	lo := c.Undefined
	for k := range c.Bins {
		c.Bins[k].Points = pts(c.Bins[k].WoE)
		lo = min(lo, c.Bins[k].Points)
	}
	for k := range c.Bins {
		c.Bins[k].Points -= lo
	}
	c.Undefined -= lo
	c.MaxPointsRef = c.MaxPoints()
	return c, lo
}

// evaluate scores every sample with m.Score, the function that scores applications
// (so a reloaded model reproduces the scores), and records in info the AUC, KS, Gini
// and calibration table of the hold-out and the AUC of the training part.
func evaluate(m *Model, ss []TrainingSample, holdout []bool, info *TrainingInfo) ([]SampleScore, error) {
	var scores []SampleScore
	var trS, teS, tePD []float64
	var trD, teD []bool
	for i := range ss {
		s := m.Score(&ss[i].Features)
		scores = append(scores, SampleScore{ID: ss[i].ID, Holdout: holdout[i], Defaulted: ss[i].Defaulted, Score: s.Score, PD: s.PD})
		if holdout[i] {
			teS, tePD, teD = append(teS, float64(s.Score)), append(tePD, s.PD), append(teD, ss[i].Defaulted)
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
	groups := min(CalibrationGroups, len(teS)) // a hold-out of fewer records has a group each
	if info.HoldoutCalibration, info.HoldoutCalibrationError, err = Calibration(teS, tePD, teD, groups); err != nil {
		return nil, err
	}
	return scores, nil
}

func withTrainDefaults(o TrainOptions) TrainOptions {
	if o.ModelVersion == "" {
		o.ModelVersion = defaultModelVersion
	}
	if o.Candidates == nil {
		o.Candidates = DefaultCandidates()
	}
	if o.Scaling == nil {
		s := NewScaling(ScoreAtBaseOdds, BaseOdds, PDO)
		o.Scaling = &s
	}
	orDefault(&o.HoldoutShare, defaultHoldoutShare)
	orDefault(&o.PreBins, defaultPreBins)
	orDefault(&o.MinBinShare, defaultMinBinShare)
	orDefault(&o.MinIV, defaultMinIV)
	orDefault(&o.L2, defaultL2)
	orDefault(&o.MaxCorrelation, defaultMaxCorrelation)
	orDefault(&o.Folds, defaultFolds)
	orDefault(&o.MinAUCGain, defaultMinAUCGain)
	orDefault(&o.MaxCharacteristics, defaultMaxCharacteristics)
	return o
}

// orDefault sets *v to def when *v is zero.
func orDefault[T int | float64](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Streams of the PCG generators that split samples, so that the hold-out and the folds
// are independent draws from one seed.
const (
	holdoutStream = 0x5eed_cafe
	foldStream    = 0xf01d_5eed
)

// split marks a seeded, stratified hold-out: within goods and within bads (both in id
// order), a PCG(seed) shuffle picks round(share·n) samples.
func split(ss []TrainingSample, share float64, seed uint64) []bool {
	all := make([]int, len(ss))
	for i := range all {
		all[i] = i
	}
	out := make([]bool, len(ss))
	for _, idx := range shuffledByClass(ss, all, rand.New(rand.NewPCG(seed, holdoutStream))) {
		n := int(math.Round(share * float64(len(idx))))
		for _, i := range idx[:n] {
			out[i] = true
		}
	}
	return out
}

// shuffledByClass returns the rows of the goods and then of the bads, each in the order
// rows gives them, shuffled by r: goods first, so the draws of r never depend on how
// many bads there are.
func shuffledByClass(ss []TrainingSample, rows []int, r *rand.Rand) [2][]int {
	var out [2][]int
	for c, class := range []bool{false, true} {
		for _, i := range rows {
			if ss[i].Defaulted == class {
				out[c] = append(out[c], i)
			}
		}
		idx := out[c]
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	}
	return out
}

// fold is one cross-validation fold: the rows fitted and the rows validated.
type fold struct{ fit, val []int }

// folds splits the training rows into k stratified folds: within goods and within bads
// (in id order), a PCG(seed) shuffle deals the rows out in turn.
func folds(ss []TrainingSample, train []int, k int, seed uint64) []fold {
	of := make(map[int]int, len(train))
	for _, idx := range shuffledByClass(ss, train, rand.New(rand.NewPCG(seed, foldStream))) {
		for p, i := range idx {
			of[i] = p % k
		}
	}
	out := make([]fold, k)
	for _, i := range train {
		for f := range out {
			if of[i] == f {
				out[f].val = append(out[f].val, i)
			} else {
				out[f].fit = append(out[f].fit, i)
			}
		}
	}
	return out
}

// twoClasses checks that the rows idx hold both classes, and at least `least` of each:
// the cross-validation needs one of each in every fold.
func twoClasses(ss []TrainingSample, idx []int, part string, least int) error {
	bads := 0
	for _, i := range idx {
		if ss[i].Defaulted {
			bads++
		}
	}
	if bads == 0 || bads == len(idx) {
		return fmt.Errorf("%w: the %s part has %d defaults among %d samples; it needs both classes", ErrTraining, part, bads, len(idx))
	}
	if bads < least || len(idx)-bads < least {
		return fmt.Errorf("%w: the %s part has %d defaults among %d samples; %d folds need %d of each class",
			ErrTraining, part, bads, len(idx), least, least)
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
