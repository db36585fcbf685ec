package scoring_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// synthSamples draws feature vectors whose true default probability is known:
// logit(PD) = −2.2 + 0.8·nsf_fees − 0.5·(avg_balance/1,000.00) + 6·(payment_to_income − 0.08),
// plus noise features the model should not need.
func synthSamples(n int, seed uint64) []scoring.TrainingSample {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]scoring.TrainingSample, n)
	for i := range out {
		nsf := r.IntN(5)
		adb := math.Round(r.NormFloat64()*150000+200000) / 1
		pti := math.Round(r.Float64()*0.2*1e4) / 1e4
		months := math.Round((3+r.Float64()*20)*1e4) / 1e4
		z := -2.2 + 0.8*float64(nsf) - 0.5*adb/100000 + 6*(pti-0.08)
		pd := 1 / (1 + math.Exp(-z))
		f := scoring.Features{NSFFeeCount90d: nsf, AvgDailyBalance90d: &adb, PaymentToIncome: &pti, MonthsOfHistory: months}
		if r.IntN(10) == 0 {
			f.AvgDailyBalance90d = nil // undefined values get their own WoE
		}
		out[i] = scoring.TrainingSample{ID: "a" + strconv.Itoa(100000+i), Features: f, Defaulted: r.Float64() < pd}
	}
	return out
}

func TestTrainRecoversKnownRisk(t *testing.T) {
	t.Parallel()
	samples := synthSamples(4000, 1)
	res, err := scoring.Train(samples, scoring.TrainOptions{ModelVersion: "t-test", Seed: 42})
	require.NoError(t, err)
	m := res.Model
	info := m.Training
	t.Logf("hold-out AUC %.4f, KS %.4f, Gini %.4f", info.HoldoutAUC, info.HoldoutKS, info.HoldoutGini)
	require.Greater(t, info.HoldoutAUC, 0.75, "ranks far better than chance")
	require.InDelta(t, 2*info.HoldoutAUC-1, info.HoldoutGini, 1e-12)
	require.Greater(t, info.HoldoutKS, 0.3)
	require.Equal(t, 1200, info.HoldoutSamples)

	used := map[string]scoring.Characteristic{}
	for _, c := range m.Characteristics {
		used[c.Feature] = c
		require.Positive(t, c.Coefficient)
		require.GreaterOrEqual(t, c.InformationValue, 0.02)
		for i := 1; i < len(c.Bins); i++ { // monotone WoE
			require.True(t, (c.Bins[i].WoE-c.Bins[i-1].WoE)*(c.Bins[len(c.Bins)-1].WoE-c.Bins[0].WoE) >= 0, "%s not monotone", c.Feature)
		}
	}
	for _, f := range []string{"nsf_od_fee_count_90d", "avg_daily_balance_90d", "payment_to_income"} {
		require.Contains(t, used, f, "a true risk driver was dropped")
	}
	if noise, ok := used["months_of_history"]; ok { // pure noise may pass MinIV by chance, but ranks last
		for _, f := range []string{"nsf_od_fee_count_90d", "avg_daily_balance_90d", "payment_to_income"} {
			require.Less(t, noise.InformationValue, used[f].InformationValue)
		}
	}
	// More NSF fees never earn more points; a higher balance never earns fewer.
	nsf := used["nsf_od_fee_count_90d"]
	require.Greater(t, nsf.Bins[0].Points, nsf.Bins[len(nsf.Bins)-1].Points)
	adb := used["avg_daily_balance_90d"]
	require.Less(t, adb.Bins[0].Points, adb.Bins[len(adb.Bins)-1].Points)
	require.Equal(t, "< "+strconv.FormatFloat(*adb.Bins[0].Upper, 'f', -1, 64), adb.Bins[0].Label, "edges in original units")

	// Reload: the written file scores every sample exactly as the training run did,
	// one record at a time.
	data, err := m.Marshal()
	require.NoError(t, err)
	back, err := scoring.LoadModel(data)
	require.NoError(t, err)
	again, err := back.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(data), string(again))
	byID := map[string]scoring.Features{}
	for _, s := range samples {
		byID[s.ID] = s.Features
	}
	for _, s := range res.Scores {
		f := byID[s.ID]
		got := back.Score(&f)
		require.Equal(t, s.Score, got.Score, s.ID)
		require.Equal(t, s.PD, got.PD, s.ID)
	}

	// Same seed, same data in another order: the same model.
	rev := append([]scoring.TrainingSample(nil), samples...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	res2, err := scoring.Train(rev, scoring.TrainOptions{ModelVersion: "t-test", Seed: 42})
	require.NoError(t, err)
	data2, err := res2.Model.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(data), string(data2))

	card := scoring.ModelCard(m, res.Dropped)
	require.Contains(t, card, "AUC")
	require.Contains(t, card, "nsf_od_fee_count_90d")
	require.Contains(t, card, "Information value")
	for _, want := range []string{"## Characteristic selection", scoring.SelectionMethod, "## PD calibration",
		"| scores | count | mean predicted PD | observed default rate | difference |",
		fmt.Sprintf("| hold-out calibration error (mean over score deciles of the gap between mean PD and observed default rate) | %.4f |", info.HoldoutCalibrationError),
		fmt.Sprintf("| hold-out AUC | %.4f |", info.HoldoutAUC), fmt.Sprintf("| hold-out KS | %.4f |", info.HoldoutKS),
		fmt.Sprintf("| hold-out Gini | %.4f |", info.HoldoutGini)} {
		require.Contains(t, card, want)
	}
	for _, c := range m.Characteristics {
		require.Contains(t, card, "| "+c.Code+" | `"+c.Feature+"` | "+c.Text+" |")
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := synthSamples(200, 3)
	for i := range s {
		s[i].Defaulted = false
	}
	_, err := scoring.Train(s, scoring.TrainOptions{})
	require.ErrorIs(t, err, scoring.ErrTraining)
	require.ErrorContains(t, err, "needs both classes")

	s = synthSamples(200, 3)
	s[1].ID = s[0].ID
	_, err = scoring.Train(s, scoring.TrainOptions{})
	require.ErrorContains(t, err, "repeated")

	_, err = scoring.Train(synthSamples(200, 3), scoring.TrainOptions{HoldoutShare: 1.5})
	require.ErrorContains(t, err, "holdout share")
	_, err = scoring.Train(synthSamples(200, 3), scoring.TrainOptions{Folds: 1})
	require.ErrorContains(t, err, "folds")
	_, err = scoring.Train(synthSamples(200, 3), scoring.TrainOptions{MaxCorrelation: 1.5})
	require.ErrorContains(t, err, "max correlation")
	_, err = scoring.Train(synthSamples(200, 3), scoring.TrainOptions{Candidates: []scoring.Candidate{{"credit_score", "SC_X", "x"}}})
	require.ErrorContains(t, err, `candidate "credit_score" is not a numeric feature`)

	s = synthSamples(200, 3) // four defaults: too few for five folds
	bads := 0
	for i := range s {
		s[i].Defaulted = s[i].Defaulted && bads < 4
		if s[i].Defaulted {
			bads++
		}
	}
	_, err = scoring.Train(s, scoring.TrainOptions{HoldoutShare: 0.25})
	require.ErrorIs(t, err, scoring.ErrTraining)
	require.ErrorContains(t, err, "5 folds need 5 of each class")
}

// synthCollinear draws applicants whose risk rests on a latent balance level, NSF fees
// and payment-to-income. The balance level shows in four features that move together
// (the 30-, 90- and 180-day average balances, a few hundred dollars apart, and the
// lowest balance), the fees in two windows of one count: the collinear groups that made
// the old trainer drop features whose coefficient turned negative in a joint fit.
func synthCollinear(n int, seed uint64) []scoring.TrainingSample {
	r := rand.New(rand.NewPCG(seed, 9))
	out := make([]scoring.TrainingSample, n)
	for i := range out {
		level := r.NormFloat64()
		adb90 := math.Round(200000 + 150000*level)
		adb30 := math.Round(adb90 + 20000*r.NormFloat64())
		adb180 := math.Round(adb90 + 15000*r.NormFloat64())
		minEOD := int64(adb90 - 120000 + 40000*r.NormFloat64())
		nsf90 := r.IntN(5)
		nsf60 := max(0, nsf90-r.IntN(2))
		pti := math.Round(r.Float64()*0.2*1e4) / 1e4
		z := -2.0 + 0.6*float64(nsf90) - 0.9*level + 8*(pti-0.08)
		f := scoring.Features{AvgDailyBalance30d: &adb30, AvgDailyBalance90d: &adb90, AvgDailyBalance180d: &adb180,
			MinEODBalance90d: &minEOD, NSFFeeCount90d: nsf90, NSFFeeCount60d: nsf60, PaymentToIncome: &pti}
		if r.IntN(8) == 0 {
			f.PaymentToIncome = nil // no income found: undefined values get their own WoE
		}
		out[i] = scoring.TrainingSample{ID: "c" + strconv.Itoa(100000+i), Features: f, Defaulted: r.Float64() < 1/(1+math.Exp(-z))}
	}
	return out
}

// TestTrainHandlesCollinearGroups: of a group of near-duplicates one stays, features
// with their own signal are kept whatever a joint fit with everything would do to their
// sign, every coefficient is positive, each selection step raised the cross-validated
// AUC by the minimum gain, and every left-out candidate says why.
func TestTrainHandlesCollinearGroups(t *testing.T) {
	t.Parallel()
	res, err := scoring.Train(synthCollinear(4000, 2), scoring.TrainOptions{ModelVersion: "t-collinear", Seed: 3})
	require.NoError(t, err)
	m := res.Model
	kept := map[string]bool{}
	for _, c := range m.Characteristics {
		kept[c.Feature] = true
		require.Positive(t, c.Coefficient, c.Feature)
	}
	t.Logf("kept %v, hold-out AUC %.4f", kept, m.Training.HoldoutAUC)
	require.True(t, kept["payment_to_income"], "payment-to-income carries its own signal")
	require.True(t, kept["nsf_od_fee_count_90d"] || kept["nsf_od_fee_count_60d"])
	balances := 0
	for _, f := range []string{"avg_daily_balance_30d", "avg_daily_balance_90d", "avg_daily_balance_180d", "min_eod_balance_90d"} {
		if kept[f] {
			balances++
		}
	}
	require.GreaterOrEqual(t, balances, 1, "the balance level is the strongest risk driver")
	require.Greater(t, m.Training.HoldoutAUC, 0.75)

	sel := m.Training.Selection
	require.NotNil(t, sel)
	require.Len(t, sel.Steps, len(m.Characteristics))
	prev := 0.5
	for i, st := range sel.Steps {
		require.Equal(t, m.Characteristics[i].Feature, st.Feature, "characteristics in the order they entered")
		require.GreaterOrEqual(t, st.CVAUC-prev, sel.MinAUCGain, st.Feature)
		prev = st.CVAUC
	}
	require.Equal(t, len(scoring.DefaultCandidates()), sel.Candidates)
	require.Len(t, res.Dropped, sel.Candidates-len(m.Characteristics), "every candidate is kept or explained")
	correlated := 0
	for _, d := range res.Dropped {
		require.False(t, kept[d.Feature], d.Feature)
		require.NotContains(t, d.Reason, "non-positive coefficient (collinear)")
		if strings.HasPrefix(d.Reason, "WoE correlated") {
			correlated++
		}
	}
	require.Positive(t, correlated, "near-duplicate balances are left to the strongest of their group")
}

// pointsAgainstBadRate lists the pairs of c's groups whose points disagree with their
// observed training bad rates: a group with a higher bad rate than another and more
// points. The groups are the bins, and the undefined values when there are at least as
// many as the smallest bin must hold (minShare of the defined values, rounded up; fewer
// are scored as the worst bin by design).
func pointsAgainstBadRate(c scoring.Characteristic, minShare float64) []string {
	type group struct {
		name           string
		n, bads, point int
	}
	var gs []group
	defined := 0
	for _, b := range c.Bins {
		defined += b.Count
		if b.Count > 0 {
			gs = append(gs, group{b.Label, b.Count, b.Bads, b.Points})
		}
	}
	if n := c.UndefinedCount; n > 0 && float64(n) >= math.Ceil(minShare*float64(defined)) {
		gs = append(gs, group{"undefined", n, c.UndefinedBads, c.Undefined})
	}
	var out []string
	for _, a := range gs {
		for _, b := range gs {
			if a.bads*b.n > b.bads*a.n && a.point > b.point {
				out = append(out, fmt.Sprintf("%s: %s (%d bad of %d) earns %d points, %s (%d bad of %d) %d",
					c.Feature, a.name, a.bads, a.n, a.point, b.name, b.bads, b.n, b.point))
			}
		}
	}
	return out
}

// TestTrainedPointsFollowBadRate: in every trained characteristic the points rise as
// the observed bad rate falls, bins and undefined values alike.
func TestTrainedPointsFollowBadRate(t *testing.T) {
	t.Parallel()
	for name, samples := range map[string][]scoring.TrainingSample{
		"known risk": synthSamples(4000, 1), "collinear": synthCollinear(4000, 2), "small": synthCollinear(600, 5),
	} {
		res, err := scoring.Train(samples, scoring.TrainOptions{Seed: 7, MinBinShare: 0.05})
		require.NoError(t, err, name)
		for _, c := range res.Model.Characteristics {
			require.Empty(t, pointsAgainstBadRate(c, 0.05), "%s: %s", name, c.Feature)
			require.Greater(t, len(c.Bins), 1, "%s: %s has a single bin and no information", name, c.Feature)
		}
	}
}

// TestPointsCheckCatchesDisagreement: the check above fails a characteristic whose
// points were swapped between a good and a bad bin.
func TestPointsCheckCatchesDisagreement(t *testing.T) {
	t.Parallel()
	res, err := scoring.Train(synthSamples(2000, 4), scoring.TrainOptions{Seed: 7})
	require.NoError(t, err)
	c := res.Model.Characteristics[0]
	require.Empty(t, pointsAgainstBadRate(c, 0.05))
	c.Bins = append([]scoring.Bin(nil), c.Bins...)
	last := len(c.Bins) - 1
	c.Bins[0].Points, c.Bins[last].Points = c.Bins[last].Points, c.Bins[0].Points
	require.NotEmpty(t, pointsAgainstBadRate(c, 0.05))
}

// TestTrainCalibratesPD: the PD is Platt-scaled on the hold-out and stored in the model
// file; the file's calibration table is the one the scores give; the hold-out's mean PD
// is its default rate, and fresh applicants of the same kind are calibrated too.
func TestTrainCalibratesPD(t *testing.T) {
	t.Parallel()
	res, err := scoring.Train(synthSamples(4000, 1), scoring.TrainOptions{ModelVersion: "t-cal", Seed: 42})
	require.NoError(t, err)
	m, info := res.Model, res.Model.Training
	require.Equal(t, scoring.CalibrationLogistic, m.PDCalibration.Method)
	require.Equal(t, scoring.CalibrationFittedOnHoldout, m.PDCalibration.FittedOn)
	require.Equal(t, info.HoldoutSamples, m.PDCalibration.Samples)
	require.Positive(t, m.PDCalibration.Slope)

	var scores, pds []float64
	var bad []bool
	var meanPD, rate float64
	for _, s := range res.Scores {
		if s.Holdout {
			scores, pds, bad = append(scores, float64(s.Score)), append(pds, s.PD), append(bad, s.Defaulted)
			meanPD += s.PD / float64(info.HoldoutSamples)
			if s.Defaulted {
				rate += 1 / float64(info.HoldoutSamples)
			}
		}
	}
	groups, calErr, err := scoring.Calibration(scores, pds, bad, scoring.CalibrationGroups)
	require.NoError(t, err)
	require.Equal(t, groups, info.HoldoutCalibration)
	require.Equal(t, calErr, info.HoldoutCalibrationError)
	require.InDelta(t, rate, meanPD, 1e-3, "Platt's intercept matches the hold-out's default rate")
	require.Less(t, info.HoldoutCalibrationError, 0.03)

	fresh := synthSamples(4000, 77)
	scores, pds, bad = nil, nil, nil
	for i := range fresh {
		s := m.Score(&fresh[i].Features)
		scores, pds, bad = append(scores, float64(s.Score)), append(pds, s.PD), append(bad, fresh[i].Defaulted)
	}
	_, freshErr, err := scoring.Calibration(scores, pds, bad, scoring.CalibrationGroups)
	require.NoError(t, err)
	t.Logf("calibration error: hold-out %.4f, fresh %.4f", info.HoldoutCalibrationError, freshErr)
	require.Less(t, freshErr, 0.03)

	data, err := m.Marshal()
	require.NoError(t, err)
	var file struct {
		PD       map[string]any `json:"pd_calibration"`
		Training map[string]any `json:"training"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.Equal(t, "holdout", file.PD["fitted_on"])
	require.Equal(t, "logistic", file.PD["method"])
	require.Len(t, file.Training["holdout_calibration"], scoring.CalibrationGroups)
	require.Contains(t, file.Training, "holdout_calibration_error")
	require.Contains(t, file.Training, "selection")
}

// TestTrainSmallHoldoutKeepsRegressionPD: a hold-out with fewer than ten defaults is too
// small for Platt scaling; the PD stays the regression's own, and the card says why.
func TestTrainSmallHoldoutKeepsRegressionPD(t *testing.T) {
	t.Parallel()
	res, err := scoring.Train(synthSamples(300, 3), scoring.TrainOptions{HoldoutShare: 0.1, Seed: 1})
	require.NoError(t, err)
	m := res.Model
	require.Equal(t, scoring.PDCalibration{Method: scoring.CalibrationScaling, Decimals: 6}, m.PDCalibration)
	require.Len(t, m.Training.HoldoutCalibration, scoring.CalibrationGroups)
	require.Contains(t, scoring.ModelCard(m, res.Dropped), "too few for Platt scaling")

	res, err = scoring.Train(synthSamples(60, 3), scoring.TrainOptions{HoldoutShare: 0.1, Seed: 1})
	require.NoError(t, err)
	require.Len(t, res.Model.Training.HoldoutCalibration, res.Model.Training.HoldoutSamples, "six records, a group each")
}
