package scoring

import (
	"math"
	"sort"
)

// woeSmoothing is added to the good and bad counts of a bin before taking the WoE
// logarithm, so an empty class gives a large but finite WoE.
const woeSmoothing = 0.5

// woe returns the weight of evidence ln(share of goods / share of bads) of a bin with
// g goods and b bads out of G goods and B bads, and the bin's information value term
// (share of goods − share of bads)·WoE.
func woe(g, b, totalG, totalB int) (w, iv float64) {
	pg := (float64(g) + woeSmoothing) / float64(totalG)
	pb := (float64(b) + woeSmoothing) / float64(totalB)
	w = math.Log(pg / pb)
	return w, (pg - pb) * w
}

// obs is one training observation of a characteristic.
type obs struct {
	v   *float64
	bad bool
}

// binningOptions control monotone binning.
type binningOptions struct {
	preBins     int     // quantile pre-bins
	minBinShare float64 // smallest share of the defined observations per bin
}

// binCharacteristic bins one feature for training: quantile pre-bins on the defined
// values, small bins merged into their smaller neighbour, then adjacent bins merged
// until both the WoE and the observed bad rate are monotone, in opposite senses
// (binning.monotone; the direction, WoE rising or falling, with the larger information
// value wins). The undefined values get their own WoE when there are at least as many
// as the smallest bin may hold, placed between the bins' WoE as their bad rate places
// them (binning.undefinedWoE); fewer count as the worst defined bin, as a value
// without training evidence should. It fills Bins (edges, WoE, counts), the undefined
// statistics and InformationValue of c; counts always go through BinIndex, the lookup
// scoring uses.
func binCharacteristic(c Characteristic, data []obs, opt binningOptions) Characteristic {
	bn := binning{c: c, data: data}
	var defined []float64
	for _, o := range data {
		if o.bad {
			bn.totalB++
		} else {
			bn.totalG++
		}
		if c.BinIndex(o.v) >= 0 {
			defined = append(defined, *o.v)
		}
	}
	sort.Float64s(defined)
	bn.minCount = max(1, int(math.Ceil(opt.minBinShare*float64(len(defined)))))
	cuts := bn.mergeSmall(quantileCuts(defined, opt.preBins), bn.minCount)
	best, bestIV := Characteristic{}, math.Inf(-1)
	for _, dir := range []float64{1, -1} {
		cc := bn.withWoE(bn.monotone(cuts, dir))
		if cc.InformationValue > bestIV {
			best, bestIV = cc, cc.InformationValue
		}
	}
	return best
}

// binning is one characteristic's training observations with their class totals (the
// denominators of every WoE), shared by the steps of binCharacteristic.
type binning struct {
	c              Characteristic
	data           []obs
	totalG, totalB int
	// minCount is the fewest observations a bin may hold, and the fewest undefined
	// values that earn a WoE of their own.
	minCount int
}

// quantileCuts returns the ascending, distinct cuts of preBins quantile pre-bins of the
// sorted defined values; a cut equal to the smallest value would leave an empty first
// bin, so it is skipped.
func quantileCuts(defined []float64, preBins int) []float64 {
	var cuts []float64
	for k := 1; k < preBins && len(defined) > 0; k++ {
		v := defined[k*len(defined)/preBins]
		if v > defined[0] && (len(cuts) == 0 || v > cuts[len(cuts)-1]) {
			cuts = append(cuts, v)
		}
	}
	return cuts
}

// count returns the goods and bads per bin of the bins delimited by cuts, and the
// characteristic with those bins and its undefined count and bads. Every observation
// is placed with BinIndex, the lookup scoring uses.
func (bn binning) count(cuts []float64) (g, b []int, cc Characteristic) {
	cc = bn.c
	cc.Bins = binsFromCuts(cuts)
	g, b = make([]int, len(cc.Bins)), make([]int, len(cc.Bins))
	cc.UndefinedCount, cc.UndefinedBads = 0, 0
	for _, o := range bn.data {
		i := cc.BinIndex(o.v)
		switch {
		case i < 0 && o.bad:
			cc.UndefinedCount++
			cc.UndefinedBads++
		case i < 0:
			cc.UndefinedCount++
		case o.bad:
			b[i]++
		default:
			g[i]++
		}
	}
	return g, b, cc
}

// mergeSmall merges each bin with fewer than minCount observations into its smaller
// neighbour, first small bin first, until none is left (or one bin remains).
func (bn binning) mergeSmall(cuts []float64, minCount int) []float64 {
	for len(cuts) > 0 {
		g, b, _ := bn.count(cuts)
		small := -1
		for i := range g {
			if g[i]+b[i] < minCount {
				small = i
				break
			}
		}
		if small < 0 {
			break
		}
		cuts = removeCut(cuts, mergeSide(g, b, small))
	}
	return cuts
}

// monotone returns a copy of cuts with adjacent bins merged, first violation first,
// until from bin to bin the WoE rises (dir 1) or falls (dir −1) and the observed bad
// rate moves the other way, each weakly. Both are needed: the smoothing of woe can
// order two bins of close bad rates and different sizes against their bad rates, and
// the points, which follow the WoE, must rise as the bad rate falls.
func (bn binning) monotone(cuts []float64, dir float64) []float64 {
	cs := append([]float64(nil), cuts...)
	for {
		g, b, _ := bn.count(cs)
		viol := -1
		for i := 0; i+1 < len(g) && viol < 0; i++ {
			wi, _ := woe(g[i], b[i], bn.totalG, bn.totalB)
			wj, _ := woe(g[i+1], b[i+1], bn.totalG, bn.totalB)
			// The bad rate b/(g+b) of bin i+1 against bin i, cross-multiplied (exact).
			rateUp := float64(b[i+1]*(g[i]+b[i]) - b[i]*(g[i+1]+b[i+1]))
			if dir*(wj-wi) < 0 || dir*rateUp > 0 {
				viol = i
			}
		}
		if viol < 0 {
			return cs
		}
		cs = removeCut(cs, viol)
	}
}

// withWoE returns the characteristic binned by cuts with each bin's WoE and counts,
// the undefined values' WoE (undefinedWoE) and the information value, the sum of the
// bins' and the undefined values' terms.
func (bn binning) withWoE(cuts []float64) Characteristic {
	g, b, cc := bn.count(cuts)
	iv := 0.0
	for i := range cc.Bins {
		w, t := woe(g[i], b[i], bn.totalG, bn.totalB)
		cc.Bins[i].WoE, cc.Bins[i].Count, cc.Bins[i].Bads = w, g[i]+b[i], b[i]
		iv += t
	}
	cc.UndefinedWoE = bn.undefinedWoE(cc)
	if n := cc.UndefinedCount; n > 0 {
		pg := float64(n-cc.UndefinedBads) / float64(bn.totalG)
		pb := float64(cc.UndefinedBads) / float64(bn.totalB)
		iv += (pg - pb) * cc.UndefinedWoE
	}
	cc.InformationValue = iv
	return cc
}

// undefinedWoE returns the WoE of cc's undefined values. With fewer than minCount of
// them it is the worst (lowest) WoE of the defined bins: too little evidence to score
// them better than the worst value seen. Otherwise it is their own WoE, clamped
// between the WoE of the bins with a higher bad rate and of those with a lower one, so
// that their points, like every bin's, rise as the bad rate falls.
func (bn binning) undefinedWoE(cc Characteristic) float64 {
	n, bad := cc.UndefinedCount, cc.UndefinedBads
	if n < bn.minCount {
		worst := math.Inf(1)
		for _, b := range cc.Bins {
			worst = math.Min(worst, b.WoE)
		}
		return worst
	}
	w, _ := woe(n-bad, bad, bn.totalG, bn.totalB)
	lo, hi := math.Inf(-1), math.Inf(1)
	for _, b := range cc.Bins {
		if b.Count == 0 {
			continue
		}
		switch d := b.Bads*n - bad*b.Count; { // the bin's bad rate against the undefined one's
		case d > 0:
			lo = math.Max(lo, b.WoE)
		case d < 0:
			hi = math.Min(hi, b.WoE)
		}
	}
	return math.Min(math.Max(w, lo), hi)
}

// mergeSide returns the cut to remove to merge bin i with its smaller neighbour.
func mergeSide(g, b []int, i int) int {
	switch {
	case i == 0:
		return 0
	case i == len(g)-1:
		return i - 1
	case g[i-1]+b[i-1] <= g[i+1]+b[i+1]:
		return i - 1
	default:
		return i
	}
}

func removeCut(cuts []float64, i int) []float64 {
	return append(append([]float64(nil), cuts[:i]...), cuts[i+1:]...)
}

// binsFromCuts returns the bins delimited by ascending cuts, with labels in original
// units: "< a", "[a, b)", ">= b".
func binsFromCuts(cuts []float64) []Bin {
	bins := make([]Bin, len(cuts)+1)
	for i := range bins {
		if i > 0 {
			bins[i].Lower = ptr(cuts[i-1])
		}
		if i < len(cuts) {
			bins[i].Upper = ptr(cuts[i])
		}
		switch {
		case len(cuts) == 0:
			bins[i].Label = "all"
		case i == 0:
			bins[i].Label = "< " + fmtNum(cuts[0])
		case i == len(cuts):
			bins[i].Label = ">= " + fmtNum(cuts[i-1])
		default:
			bins[i].Label = "[" + fmtNum(cuts[i-1]) + ", " + fmtNum(cuts[i]) + ")"
		}
	}
	return bins
}
