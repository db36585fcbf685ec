package scoring_test

import (
	"math"
	"math/rand/v2"
	"strconv"
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
}
