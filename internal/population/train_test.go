package population

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Sizes of TestTrainedModelTable. The measurement trains on 4,000 applicants
// and scores 2,000 others (-population.n=2000 trains on twice n); the default is small
// enough for every test run and still large enough that a broken trainer fails.
const (
	// ciTrainN and ciScoreN: 1,500 applicants give ≈ 195 defaults, about 135 to fit on
	// and 60 in the hold-out; 800 scored give ≈ 100 defaults for the AUC.
	ciTrainN = 1500
	ciScoreN = 800
	// raceTrainN and raceScoreN: under the race detector the CI sizes take 40 s; these
	// take 25 s and still leave about 85 defaults to fit on.
	raceTrainN = 1000
	raceScoreN = 500
	// trainSeedOffset: the training population's seed is the scored population's plus
	// this, so that the two never share an applicant.
	trainSeedOffset = 1000
)

// bars are the least AUC ratio and the largest calibration error TestTrainedModelTable
// accepts. They sit below the goals (ratio ≥ 0.92, calibration error ≤ 0.03),
// which small populations cannot resolve (800 applicants give score deciles of 80,
// whose observed default rates alone vary by ±0.04), and well above what a trainer that
// loses the signal or a PD off by the default rate gives (the shipped expert scorecard:
// calibration error 0.10–0.14). Measured with the fs-v2 features: ratio 0.917 and
// error 0.049 at the race size, 0.889 and 0.040 at the CI size; 0.918 and 0.019 at the
// issue's size (0.909–0.921 and 0.018–0.026 over trainer seeds 0–4). With fs-v3: 0.941
// and 0.057 at the CI size, 0.954 and 0.020 at the size.
type bars struct{ minAUCRatio, maxCalibrationError float64 }

// trainedSizes returns the training and scored population sizes, 2n and n with
// -population.n, else the CI sizes, and the bars for the scored size.
func trainedSizes() (train, score int, b bars) {
	switch {
	case *flagN > 0:
		train, score = 2**flagN, *flagN
	case raceEnabled:
		train, score = raceTrainN, raceScoreN
	default:
		train, score = ciTrainN, ciScoreN
	}
	switch {
	case score >= 2000:
		b = bars{0.88, 0.04}
	case score >= ciScoreN:
		b = bars{0.85, 0.07}
	default:
		b = bars{0.80, 0.10}
	}
	return train, score, b
}

// trainingSamples draws applicants 0 … n−1 of the population of seed and computes their
// feature vectors as the pipeline would (validated ledger, scoring.FromFile, the loan
// applied for, at the as-of time), labelled with the drawn default. Ledgers and the
// long per-transaction lists of the vector are dropped as soon as they are read.
func trainingSamples(seed uint64, n int) ([]scoring.TrainingSample, error) {
	out := make([]scoring.TrainingSample, n)
	err := parallel(n, 0, func(i int) error {
		a := NewApplicant(seed, i)
		if err := a.Ledger.Validate(); err != nil {
			return fmt.Errorf("applicant %s: %w", a.ID, err)
		}
		f, err := scoring.ComputeFeatures(scoring.FromFile(a.Ledger), a.AsOf, a.Loan)
		if err != nil {
			return fmt.Errorf("applicant %s: %w", a.ID, err)
		}
		f.IncomeStreams, f.OutflowStreams, f.MonthlyCashFlow = nil, nil, nil
		out[i] = scoring.TrainingSample{ID: a.ID, Features: f, Defaulted: a.Defaulted}
		return nil
	})
	return out, err
}

// TestTrainedModelTable is issue 8's training measurement: train a scorecard with the
// default options on one population, score a fresh population of another seed with it
// (and policy v1), and report the AUC of the score as a share of the AUC of the true PD,
// and the calibration error over score deciles. Full size:
//
//	go test ./internal/population/ -run TestTrainedModelTable -v -population.n=2000
func TestTrainedModelTable(t *testing.T) {
	t.Parallel()
	trainN, scoreN, bar := trainedSizes()
	scoreSeed := *flagSeed
	trainSeed := scoreSeed + trainSeedOffset
	start := time.Now()
	samples, err := trainingSamples(trainSeed, trainN)
	require.NoError(t, err)
	res, err := scoring.Train(samples, scoring.TrainOptions{ModelVersion: "population-test"})
	require.NoError(t, err)
	trained := time.Since(start)
	eng, err := scoring.NewEngine(res.Model, scoring.DefaultPolicy())
	require.NoError(t, err)
	results, err := Run(scoreSeed, scoreN, eng, 0)
	require.NoError(t, err)
	rep, err := Summarise(results)
	require.NoError(t, err)

	info := res.Model.Training
	var kept []string
	for _, c := range res.Model.Characteristics {
		kept = append(kept, c.Feature)
	}
	t.Logf("issue size: go test ./internal/population/ -run TestTrainedModelTable -v -population.n=2000 -population.seed=%d\n"+
		"trained on %d applicants of seed %d (%d defaults) in %s, scored %d applicants of seed %d in %s\n"+
		"hold-out: AUC %.4f, KS %.4f, Gini %.4f, calibration error %.4f; characteristics %v\n\n"+
		"AUC ratio %.3f (goal ≥ 0.92), calibration error %.3f (goal ≤ 0.03)\n\n%s",
		scoreSeed, trainN, trainSeed, info.Defaults, trained.Round(time.Second), scoreN, scoreSeed,
		(time.Since(start) - trained).Round(time.Second), info.HoldoutAUC, info.HoldoutKS, info.HoldoutGini,
		info.HoldoutCalibrationError, kept, rep.AUCRatio, rep.CalibrationError, rep.Markdown())

	require.Equal(t, scoreN, rep.N)
	require.GreaterOrEqual(t, rep.AUCRatio, bar.minAUCRatio, "the trained score ranks far below the true PD")
	require.LessOrEqual(t, rep.CalibrationError, bar.maxCalibrationError, "the trained PD is not calibrated")
	require.InDelta(t, float64(rep.Defaults)/float64(rep.N), rep.MeanPD, bar.maxCalibrationError,
		"mean PD far from the observed default rate")
	for _, c := range res.Model.Characteristics {
		require.Positive(t, c.Coefficient, c.Feature)
		for _, a := range c.Bins { // points rise as the training bad rate falls
			for _, b := range c.Bins {
				if a.Bads*b.Count > b.Bads*a.Count {
					require.LessOrEqual(t, a.Points, b.Points, "%s: %s has the higher bad rate, %s", c.Feature, a.Label, b.Label)
				}
			}
		}
	}
}
