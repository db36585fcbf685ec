package scoring

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// SelectionMethod names, in the model file, how Train chooses characteristics.
const SelectionMethod = "forward stepwise by cross-validated AUC, after keeping the strongest of each correlated group"

// design is the training data as the regression sees it: the WoE value of every binned
// candidate for every sample, which samples were good, and the cross-validation folds
// with, per fold, every candidate binned again on the fold's fitting rows alone, so that
// no validation row's label shapes the bins or WoE it is scored with.
type design struct {
	chars   []Characteristic
	woe     [][]float64 // woe[j][i]: candidate j's WoE for sample i, binned on all training rows
	good    []bool
	folds   []fold
	foldWoE [][][]float64 // foldWoE[f][j][i]: the same, binned on fold f's fitting rows
}

func newDesign(ss []TrainingSample, chars []Characteristic, fs []fold, bopt binningOptions) *design {
	d := &design{chars: chars, woe: make([][]float64, len(chars)), good: make([]bool, len(ss)), folds: fs,
		foldWoE: make([][][]float64, len(fs))}
	for i := range ss {
		d.good[i] = !ss[i].Defaulted
	}
	for j, c := range chars {
		d.woe[j] = woeColumn(ss, c)
	}
	for f, fd := range fs {
		d.foldWoE[f] = make([][]float64, len(chars))
		for j, c := range chars {
			d.foldWoE[f][j] = woeColumn(ss, binOn(ss, fd.fit, c, bopt))
		}
	}
	return d
}

// woeColumn returns the WoE of every sample's value in c.
func woeColumn(ss []TrainingSample, c Characteristic) []float64 {
	out := make([]float64, len(ss))
	for i := range ss {
		out[i] = woeValue(c, c.Value(&ss[i].Features))
	}
	return out
}

// decorrelate keeps the strongest of each correlated group: candidates in order of
// decreasing information value (ties in candidate order), each kept unless the
// Pearson correlation of its WoE values with those of a kept one exceeds maxCorr in
// absolute value on the training rows. It returns the kept candidates' indices in that
// order, and the others as dropped, naming the candidate that stood in their way.
func (d *design) decorrelate(train []int, maxCorr float64) ([]int, []Dropped) {
	order := make([]int, len(d.chars))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(d.chars[b].InformationValue, d.chars[a].InformationValue)
	})
	cols := make([][]float64, len(d.chars))
	for j := range cols {
		cols[j] = make([]float64, len(train))
		for k, i := range train {
			cols[j][k] = d.woe[j][i]
		}
	}
	var kept []int
	var dropped []Dropped
	for _, j := range order {
		with, r := -1, 0.0
		for _, k := range kept {
			// A constant column has no correlation (NaN): it cannot repeat another.
			if c := stat.Correlation(cols[j], cols[k], nil); math.Abs(c) > maxCorr {
				with, r = k, c
				break
			}
		}
		if with >= 0 {
			dropped = append(dropped, Dropped{d.chars[j].Feature, fmt.Sprintf("WoE correlated %.2f with `%s`, which has the larger information value",
				r, d.chars[with].Feature), d.chars[j].InformationValue})
			continue
		}
		kept = append(kept, j)
	}
	return kept, dropped
}

// selection is the outcome of the forward selection: the characteristics kept (indices
// into design.chars, in the order they entered), each step's cross-validated AUC, and
// the candidates left out with the reason.
type selection struct {
	kept    []int
	steps   []SelectionStep
	dropped []Dropped
}

// info returns the selection record of the model file.
func (s selection) info(opt TrainOptions, candidates int) *SelectionInfo {
	return &SelectionInfo{Method: SelectionMethod, Candidates: candidates, MinIV: opt.MinIV, MaxCorrelation: opt.MaxCorrelation,
		Folds: opt.Folds, MinAUCGain: opt.MinAUCGain, MaxCharacteristics: opt.MaxCharacteristics, Steps: s.steps}
}

// selectForward chooses characteristics from pool by forward stepwise selection on the
// training rows and the design's folds. Each step fits, for every remaining candidate, the current characteristics plus it on
// every fold's fitting rows, and takes the candidate whose mean AUC over the folds'
// validation rows is highest, provided it raises that AUC by opt.MinAUCGain and the
// refit on all the training rows gives every coefficient a positive sign (a scorecard
// must give more points to better evidence; a candidate that would flip a sign adds
// nothing the kept ones do not already say). Ties go to the earlier candidate in pool.
// It stops when no candidate qualifies or opt.MaxCharacteristics are kept.
func (d *design) selectForward(pool, train []int, opt TrainOptions) (selection, error) {
	var s selection
	cur := 0.5 // the AUC of a model without characteristics
	remaining := slices.Clone(pool)
	for len(s.kept) < opt.MaxCharacteristics && len(remaining) > 0 {
		gains := make([]float64, len(remaining))
		for k, c := range remaining {
			auc, err := d.cvAUC(slices.Concat(s.kept, []int{c}), opt.L2)
			if err != nil {
				return s, err
			}
			gains[k] = auc - cur
		}
		byGain := make([]int, len(remaining))
		for k := range byGain {
			byGain[k] = k
		}
		slices.SortStableFunc(byGain, func(a, b int) int { return cmp.Compare(gains[b], gains[a]) })
		added, flips := -1, map[int]string{}
		for _, k := range byGain {
			if gains[k] < opt.MinAUCGain {
				break
			}
			set := slices.Concat(s.kept, []int{remaining[k]})
			beta, err := d.fit(set, train, opt.L2)
			if err != nil {
				return s, err
			}
			if j := slices.IndexFunc(beta[1:], func(b float64) bool { return !(b > 0) }); j >= 0 {
				flips[k] = d.chars[set[j]].Feature
				continue
			}
			added = k
			break
		}
		if added < 0 {
			s.dropped = append(s.dropped, d.leftOut(remaining, gains, flips, opt.MinAUCGain)...)
			remaining = nil
			break
		}
		c := remaining[added]
		cur += gains[added]
		s.kept = append(s.kept, c)
		s.steps = append(s.steps, SelectionStep{Feature: d.chars[c].Feature, CVAUC: cur})
		remaining = slices.Delete(remaining, added, added+1)
	}
	for _, c := range remaining {
		s.dropped = append(s.dropped, Dropped{d.chars[c].Feature,
			fmt.Sprintf("the scorecard reached its %d characteristics first", opt.MaxCharacteristics), d.chars[c].InformationValue})
	}
	if len(s.kept) == 0 {
		return s, fmt.Errorf("%w: no candidate characteristic is predictive", ErrTraining)
	}
	return s, nil
}

// leftOut explains, at the step where the selection stopped, why each remaining
// candidate did not enter: its gain in cross-validated AUC was too small, or its refit
// turned a coefficient non-positive.
func (d *design) leftOut(remaining []int, gains []float64, flips map[int]string, minGain float64) []Dropped {
	out := make([]Dropped, len(remaining))
	for k, c := range remaining {
		reason := fmt.Sprintf("adds %.4f to the cross-validated AUC, less than %g", gains[k], minGain)
		if f, ok := flips[k]; ok {
			reason = fmt.Sprintf("collinear with the kept characteristics: the refit with it gives `%s` a non-positive coefficient", f)
		}
		out[k] = Dropped{d.chars[c].Feature, reason, d.chars[c].InformationValue}
	}
	return out
}

// cvAUC returns the mean over the folds of the AUC, on the fold's validation rows, of
// the logistic regression on set fitted on the fold's other rows, every candidate binned
// on those rows alone.
func (d *design) cvAUC(set []int, l2 float64) (float64, error) {
	var sum float64
	for f, fd := range d.folds {
		cols := make([][]float64, len(set))
		for j, c := range set {
			cols[j] = d.foldWoE[f][c]
		}
		beta, err := fitLogistic(cols, d.good, fd.fit, l2)
		if err != nil {
			return 0, err
		}
		z := make([]float64, len(fd.val))
		bad := make([]bool, len(fd.val))
		for r, i := range fd.val {
			z[r] = beta[0]
			for j, col := range cols {
				z[r] += beta[j+1] * col[i]
			}
			bad[r] = !d.good[i]
		}
		auc, err := AUC(z, bad)
		if err != nil {
			return 0, fmt.Errorf("cross-validation fold: %w", err)
		}
		sum += auc
	}
	return sum / float64(len(d.folds)), nil
}

// fit fits the logistic regression of the good:bad log-odds on the WoE values of the
// candidates in set over rows (fitLogistic).
func (d *design) fit(set, rows []int, l2 float64) ([]float64, error) {
	cols := make([][]float64, len(set))
	for j, c := range set {
		cols[j] = d.woe[c]
	}
	return fitLogistic(cols, d.good, rows, l2)
}
