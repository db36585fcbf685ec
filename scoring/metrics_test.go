package scoring_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func TestRankMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		scores    []float64
		defaulted []bool
		auc, ks   float64
	}{
		// Perfect separation: every good above every bad.
		{"perfect", []float64{1, 2, 3, 4}, []bool{true, true, false, false}, 1, 1},
		// Reversed: every bad above every good.
		{"reversed", []float64{1, 2, 3, 4}, []bool{false, false, true, true}, 0, 1},
		// Goods {2, 4}, bads {1, 3}: pairs (g>b) = (2>1), (4>1), (4>3) = 3 of 4.
		// KS: at cutoff 2, goods below 0/2, bads below 1/2 ⇒ 0.5.
		{"three of four pairs", []float64{1, 2, 3, 4}, []bool{true, false, true, false}, 0.75, 0.5},
		// All tied: every pair counts one half; the distributions never separate.
		{"ties", []float64{5, 5, 5, 5}, []bool{true, false, true, false}, 0.5, 0},
		// Unsorted input; goods {9, 7, 3}, bads {8, 1}: pairs g>b = 9>8, 9>1, 7>1, 3>1 = 4 of 6.
		// Cumulative shares below cutoffs 3, 7, 8, 9: goods 0,1/3,2/3,2/3; bads 1/2,1/2,1/2,1.
		// max |diff| = 1/2 (cutoff 3).
		{"unsorted", []float64{9, 1, 7, 8, 3}, []bool{false, true, false, true, false}, 4.0 / 6, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auc, err := scoring.AUC(tc.scores, tc.defaulted)
			require.NoError(t, err)
			require.InDelta(t, tc.auc, auc, 1e-12)
			ks, err := scoring.KS(tc.scores, tc.defaulted)
			require.NoError(t, err)
			require.InDelta(t, tc.ks, ks, 1e-12)
			require.InDelta(t, 2*tc.auc-1, scoring.Gini(auc), 1e-12)
		})
	}
	_, err := scoring.AUC([]float64{1, 2}, []bool{false, false})
	require.ErrorIs(t, err, scoring.ErrOneClass)
	_, err = scoring.KS([]float64{1}, []bool{false, true})
	require.Error(t, err)
}

func TestPSI(t *testing.T) {
	t.Parallel()
	psi, err := scoring.PSI([]float64{50, 50}, []float64{50, 50})
	require.NoError(t, err)
	require.Zero(t, psi)
	// Shares 0.5/0.5 → 0.25/0.75: (0.25−0.5)·ln(0.5) + (0.75−0.5)·ln(1.5)
	// = 0.25·0.693147 + 0.25·0.405465 = 0.274653.
	psi, err = scoring.PSI([]float64{10, 10}, []float64{25, 75})
	require.NoError(t, err)
	require.InDelta(t, 0.25*math.Ln2+0.25*math.Log(1.5), psi, 1e-12)
	require.InDelta(t, 0.274653, psi, 1e-6)
	// An empty bin is floored at 0.0001: (0.0001−0.5)·ln(0.0002) + (1−0.5)·ln(2).
	psi, err = scoring.PSI([]float64{1, 1}, []float64{0, 4})
	require.NoError(t, err)
	require.InDelta(t, (0.0001-0.5)*math.Log(0.0002)+0.5*math.Ln2, psi, 1e-12)
	_, err = scoring.PSI([]float64{1}, []float64{1, 2})
	require.Error(t, err)
	_, err = scoring.PSI([]float64{0, 0}, []float64{1, 2})
	require.Error(t, err)
}

// TestCalibration works a calibration table by hand: 20 records in 4 groups of 5.
func TestCalibration(t *testing.T) {
	t.Parallel()
	var scores, pd []float64
	var defaulted []bool
	for i := range 20 {
		scores = append(scores, float64(100-i)) // descending: the table sorts them
		pd = append(pd, float64(i)/100)         // record i has PD i %
		defaulted = append(defaulted, i%5 == 0 || i%5 == 1 && i < 10)
	}
	groups, calErr, err := scoring.Calibration(scores, pd, defaulted, 4)
	require.NoError(t, err)
	require.Len(t, groups, 4)
	// Lowest scores first: records 19…15, 14…10, 9…5, 4…0.
	want := []scoring.CalibrationGroup{
		{MinScore: 81, MaxScore: 85, Count: 5, MeanPD: 0.17, ObservedRate: 0.2},
		{MinScore: 86, MaxScore: 90, Count: 5, MeanPD: 0.12, ObservedRate: 0.2},
		{MinScore: 91, MaxScore: 95, Count: 5, MeanPD: 0.07, ObservedRate: 0.4},
		{MinScore: 96, MaxScore: 100, Count: 5, MeanPD: 0.02, ObservedRate: 0.4},
	}
	for g := range want {
		require.Equal(t, want[g].MinScore, groups[g].MinScore)
		require.Equal(t, want[g].MaxScore, groups[g].MaxScore)
		require.Equal(t, want[g].Count, groups[g].Count)
		require.InDelta(t, want[g].MeanPD, groups[g].MeanPD, 1e-12)
		require.InDelta(t, want[g].ObservedRate, groups[g].ObservedRate, 1e-12)
	}
	require.InDelta(t, (0.03+0.08+0.33+0.38)/4, calErr, 1e-12)

	_, _, err = scoring.Calibration(scores[:3], pd[:3], defaulted[:3], 4)
	require.ErrorContains(t, err, "cannot fill 4 groups")
	_, _, err = scoring.Calibration(scores, pd[:3], defaulted, 4)
	require.ErrorContains(t, err, "20 scores, 3 PDs")
	pd[2] = math.NaN()
	_, _, err = scoring.Calibration(scores, pd, defaulted, 4)
	require.ErrorContains(t, err, "not finite")
}
