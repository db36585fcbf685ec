package berkaeval

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// TestHistoryBefore checks the date cut and the balance against trans.asc by hand:
// account 1787's four rows before 1993-07-05 end at 20100.00 CZK. Account 10663's ten
// rows end on 1994-03-08, whose posting order (the README's rule) is the credit
// 43339.00 (81561.70 → 124900.70), then the withdrawals 46900.00 (→ 78000.70) and
// 25400.00 (→ 52600.70): the balance is 52600.70, not the file's last row's.
func TestHistoryBefore(t *testing.T) {
	t.Parallel()
	tx, err := readFile(filepath.Join("../../../shared/data/berka", csv.BerkaFile), readTransactions)
	require.NoError(t, err)
	for _, c := range []struct {
		acct          string
		before, asOf  string
		txns          int
		current, last string
	}{
		{"1787", "1993-07-05", "1993-07-04", 4, "20100.00", "1993-06-20"},
		{"10663", "1995-10-28", "1994-03-30", 10, "52600.70", "1994-03-08"},
	} {
		before, _ := time.Parse(time.DateOnly, c.before)
		asOf, _ := time.Parse(time.DateOnly, c.asOf)
		l, err := tx.historyBefore(c.acct, before, asOf)
		require.NoError(t, err)
		require.Len(t, l.Transactions, c.txns, c.acct)
		var last time.Time
		for _, x := range l.Transactions {
			require.True(t, x.TransactedAt.Before(before), "%s: %s is not before the loan date", c.acct, x.TransactedAt)
			if x.TransactedAt.After(last) {
				last = x.TransactedAt
			}
		}
		require.Equal(t, c.last, last.Format(time.DateOnly), c.acct)
		require.Len(t, l.Accounts, 1)
		require.Equal(t, c.current, fmt.Sprintf("%d.%02d", l.Accounts[0].Current/100, l.Accounts[0].Current%100), c.acct)
		require.Equal(t, c.asOf+"T23:59:59Z", l.Accounts[0].AsOf.Format(time.RFC3339), c.acct)
	}
}

// TestEstimate checks the AUC and its interval on scores whose AUC is known: a
// perfect ranking (1 in every resample), the reverse (0) and all ties (0.5).
func TestEstimate(t *testing.T) {
	t.Parallel()
	defaulted := []bool{true, false, true, false, false, false, true, false}
	perfect, reverse, ties := make([]float64, len(defaulted)), make([]float64, len(defaulted)), make([]float64, len(defaulted))
	for i, d := range defaulted {
		if !d {
			perfect[i], reverse[i] = float64(600+i), float64(500-i)
		} else {
			perfect[i], reverse[i] = float64(500-i), float64(600+i)
		}
		ties[i] = 550
	}
	opt := withDefaults(Options{Resamples: 200})
	for name, c := range map[string]struct {
		sets [][]float64
		want float64
	}{
		"perfect": {[][]float64{perfect}, 1},
		"reverse": {[][]float64{reverse}, 0},
		"ties":    {[][]float64{ties}, 0.5},
		"mean":    {[][]float64{perfect, reverse}, 0.5},
	} {
		e, lo, hi, err := estimate(c.sets, defaulted, opt)
		require.NoError(t, err, name)
		require.InDelta(t, c.want, e.AUC, 1e-12, name)
		if name != "mean" {
			require.Equal(t, Estimate{c.want, c.want, c.want}, e, name)
			require.Equal(t, []float64{c.want, c.want}, []float64{lo, hi}, name)
		} else {
			require.Equal(t, []float64{0, 1}, []float64{lo, hi}, "the repeats' range")
		}
	}
}

// TestStratifiedFolds deals 109 samples with 17 defaults into five folds: each fold
// holds 21 or 22 samples and 3 or 4 defaults, and the same seed deals the same folds.
func TestStratifiedFolds(t *testing.T) {
	t.Parallel()
	samples := make([]scoring.TrainingSample, 109)
	for i := range samples {
		samples[i] = scoring.TrainingSample{ID: fmt.Sprint(i), Defaulted: i < 17}
	}
	fold := stratifiedFolds(samples, DefaultFolds, rand.New(rand.NewPCG(DefaultSeed, 0)))
	size, bads := make([]int, DefaultFolds), make([]int, DefaultFolds)
	for i, f := range fold {
		size[f]++
		if samples[i].Defaulted {
			bads[f]++
		}
	}
	for f := range DefaultFolds {
		require.Contains(t, []int{21, 22}, size[f], "fold %d", f)
		require.Contains(t, []int{3, 4}, bads[f], "fold %d", f)
	}
	require.Equal(t, fold, stratifiedFolds(samples, DefaultFolds, rand.New(rand.NewPCG(DefaultSeed, 0))))
	require.NotEqual(t, fold, stratifiedFolds(samples, DefaultFolds, rand.New(rand.NewPCG(DefaultSeed, 1))))
}
