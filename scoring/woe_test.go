package scoring

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// groups builds training observations: per group, n values v of which bads defaulted
// (v nil: undefined).
func groups(gs ...struct {
	v       *float64
	n, bads int
}) []obs {
	var out []obs
	for _, g := range gs {
		for k := range g.n {
			out = append(out, obs{v: g.v, bad: k < g.bads})
		}
	}
	return out
}

type group = struct {
	v       *float64
	n, bads int
}

// testBinning is binCharacteristic with 20 pre-bins (enough to cut every distinct
// value of these data) and bins of at least 5 %.
func testBinning(data []obs) Characteristic {
	c := Characteristic{Code: "SC_T", Feature: "months_of_history", Text: "t", field: numericFeatures["months_of_history"]}
	return binCharacteristic(c, data, binningOptions{preBins: 20, minBinShare: 0.05})
}

// TestMonotoneBinsFollowBadRate: three values whose bad rates are 0.1 %, 0 % and 33 %
// have WoE falling from bin to bin (the smoothing of woe ranks 1 bad in 1,001 above 0 in
// 100), so WoE alone would keep three bins and give the first more points than the
// second although its bad rate is higher. The binning merges them: bad rate and WoE
// are both monotone, in opposite senses.
func TestMonotoneBinsFollowBadRate(t *testing.T) {
	t.Parallel()
	data := groups(group{ptr(1.0), 1001, 1}, group{ptr(2.0), 100, 0}, group{ptr(3.0), 150, 50})
	totalG, totalB := 1200, 51
	w1, _ := woe(1000, 1, totalG, totalB)
	w2, _ := woe(100, 0, totalG, totalB)
	w3, _ := woe(100, 50, totalG, totalB)
	require.True(t, w1 > w2 && w2 > w3, "the WoE of the three values falls: %v %v %v", w1, w2, w3)

	c := testBinning(data)
	require.Len(t, c.Bins, 2, "the first two values merge")
	require.Equal(t, []int{1101, 150}, []int{c.Bins[0].Count, c.Bins[1].Count})
	require.Equal(t, []int{1, 50}, []int{c.Bins[0].Bads, c.Bins[1].Bads})
	require.Greater(t, c.Bins[0].WoE, c.Bins[1].WoE)
	require.Equal(t, 3.0, *c.Bins[0].Upper, "the cut between the merged values is gone")
	require.Positive(t, c.InformationValue)
}

// TestUndefinedWoE: a handful of undefined values count as the worst bin; many get
// their own WoE, clamped between the bins' as their bad rate ranks them.
func TestUndefinedWoE(t *testing.T) {
	t.Parallel()
	t.Run("few are the worst bin", func(t *testing.T) {
		c := testBinning(groups(group{ptr(1.0), 500, 10}, group{ptr(2.0), 500, 100}, group{nil, 20, 0}))
		require.Len(t, c.Bins, 2)
		require.Equal(t, 20, c.UndefinedCount)
		require.Equal(t, c.Bins[1].WoE, c.UndefinedWoE, "20 values are fewer than a bin's 50: no evidence of their own")
	})
	t.Run("many have their own", func(t *testing.T) {
		c := testBinning(groups(group{ptr(1.0), 500, 10}, group{ptr(2.0), 500, 100}, group{nil, 300, 30}))
		w, _ := woe(270, 30, 1160, 140)
		require.Equal(t, w, c.UndefinedWoE)
		require.True(t, c.Bins[1].WoE < w && w < c.Bins[0].WoE, "10 %% bad lies between 2 %% and 20 %%")
	})
	t.Run("clamped to the bad-rate order", func(t *testing.T) {
		// 0 bad in 100 undefined is the lowest bad rate, but smoothing gives it less WoE
		// than 1 bad in 1,001: it gets the best bin's WoE, not less.
		c := testBinning(groups(group{ptr(1.0), 1001, 1}, group{ptr(3.0), 150, 50}, group{nil, 100, 0}))
		own, _ := woe(100, 0, 1200, 51)
		require.Less(t, own, c.Bins[0].WoE)
		require.Equal(t, c.Bins[0].WoE, c.UndefinedWoE)
	})
}
