package scoring

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// ErrOneClass is returned by rank-ordering metrics when the sample lacks goods or bads.
var ErrOneClass = errors.New("metrics need both defaulted and non-defaulted records")

// roc returns the ROC curve of scores (higher = lower risk) with "not defaulted" as the
// positive class: fpr and tpr ascending, from stat.ROC on a sorted copy (stat.ROC
// panics on unsorted input).
func roc(scores []float64, defaulted []bool) (tpr, fpr []float64, err error) {
	if len(scores) != len(defaulted) {
		return nil, nil, fmt.Errorf("roc: %d scores but %d outcomes", len(scores), len(defaulted))
	}
	idx := make([]int, len(scores))
	bads := 0
	for i := range idx {
		idx[i] = i
		if !finite(scores[i]) {
			return nil, nil, fmt.Errorf("roc: score %d is not finite", i)
		}
		if defaulted[i] {
			bads++
		}
	}
	if bads == 0 || bads == len(scores) {
		return nil, nil, ErrOneClass
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	y := make([]float64, len(idx))
	good := make([]bool, len(idx))
	for i, j := range idx {
		y[i], good[i] = scores[j], !defaulted[j]
	}
	tpr, fpr, _ = stat.ROC(nil, y, good, nil)
	return tpr, fpr, nil
}

// AUC returns the area under the ROC curve: the probability that a random
// non-defaulter scores above a random defaulter, ties counting one half. Scores are
// "higher = lower risk" (as scorecard points are).
func AUC(scores []float64, defaulted []bool) (float64, error) {
	tpr, fpr, err := roc(scores, defaulted)
	if err != nil {
		return 0, err
	}
	return integrate.Trapezoidal(fpr, tpr), nil
}

// KS returns the Kolmogorov–Smirnov statistic: the largest distance between the
// cumulative score distributions of defaulters and non-defaulters, max |TPR − FPR|.
func KS(scores []float64, defaulted []bool) (float64, error) {
	tpr, fpr, err := roc(scores, defaulted)
	if err != nil {
		return 0, err
	}
	d := make([]float64, len(tpr))
	floats.SubTo(d, tpr, fpr)
	return math.Max(floats.Max(d), -floats.Min(d)), nil
}

// CalibrationGroups: calibration tables group records by score decile.
const CalibrationGroups = 10

// CalibrationGroup is one score group of a calibration table.
type CalibrationGroup struct {
	MinScore     float64 `json:"min_score"`
	MaxScore     float64 `json:"max_score"`
	Count        int     `json:"count"`
	MeanPD       float64 `json:"mean_pd"`
	ObservedRate float64 `json:"observed_default_rate"`
}

// Calibration sorts n records by score (ties keep their input order), splits them into
// groups of nearly equal size (group g holds sorted records ⌊g·n/groups⌋ up to
// ⌊(g+1)·n/groups⌋ − 1) and returns each group's score range, count, mean predicted
// PD and observed default rate, and the calibration error: the mean over the groups
// of |mean PD − observed rate|.
func Calibration(scores, pd []float64, defaulted []bool, groups int) ([]CalibrationGroup, float64, error) {
	n := len(scores)
	switch {
	case len(pd) != n || len(defaulted) != n:
		return nil, 0, fmt.Errorf("calibration: %d scores, %d PDs and %d outcomes", n, len(pd), len(defaulted))
	case groups < 1 || n < groups:
		return nil, 0, fmt.Errorf("calibration: %d records cannot fill %d groups", n, groups)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
		if !finite(scores[i]) || !finite(pd[i]) {
			return nil, 0, fmt.Errorf("calibration: record %d: score or PD not finite", i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	out := make([]CalibrationGroup, groups)
	var sum float64
	for g := range out {
		part := idx[g*n/groups : (g+1)*n/groups]
		cg := CalibrationGroup{MinScore: scores[part[0]], MaxScore: scores[part[len(part)-1]], Count: len(part)}
		bads := 0
		for _, i := range part {
			cg.MeanPD += pd[i]
			if defaulted[i] {
				bads++
			}
		}
		cg.MeanPD /= float64(len(part))
		cg.ObservedRate = float64(bads) / float64(len(part))
		sum += math.Abs(cg.MeanPD - cg.ObservedRate)
		out[g] = cg
	}
	return out, sum / float64(groups), nil
}

// Gini returns the Gini coefficient (accuracy ratio) of an AUC: 2·AUC − 1.
func Gini(auc float64) float64 { return 2*auc - 1 }

// psiFloor replaces an empty bin's share in PSI, which would otherwise be infinite.
const psiFloor = 1e-4

// PSI returns the population stability index between two distributions over the same
// bins, given as counts (or shares): Σ (a_i − e_i)·ln(a_i / e_i) over the normalised
// shares, with an empty bin's share floored at 0.0001. Rules of thumb: < 0.1 stable,
// 0.1–0.25 some shift, > 0.25 major shift.
func PSI(expected, actual []float64) (float64, error) {
	if len(expected) != len(actual) || len(expected) == 0 {
		return 0, fmt.Errorf("psi: %d expected and %d actual bins", len(expected), len(actual))
	}
	for i := range expected {
		if !(expected[i] >= 0) || !(actual[i] >= 0) || !finite(expected[i]) || !finite(actual[i]) {
			return 0, fmt.Errorf("psi: bin %d: counts must be finite and non-negative", i)
		}
	}
	se, sa := floats.Sum(expected), floats.Sum(actual)
	if se == 0 || sa == 0 {
		return 0, errors.New("psi: a distribution is empty")
	}
	var psi float64
	for i := range expected {
		e, a := math.Max(expected[i]/se, psiFloor), math.Max(actual[i]/sa, psiFloor)
		psi += (a - e) * math.Log(a/e)
	}
	return psi, nil
}

// BinCounts counts values per bin of a characteristic (undefined values last), with
// the same BinIndex that scoring uses; for PSI of a characteristic between samples.
func (c Characteristic) BinCounts(values []*float64) []float64 {
	out := make([]float64, len(c.Bins)+1)
	for _, v := range values {
		i := c.BinIndex(v)
		if i < 0 {
			i = len(c.Bins)
		}
		out[i]++
	}
	return out
}
