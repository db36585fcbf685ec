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
