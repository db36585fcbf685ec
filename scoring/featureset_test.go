package scoring_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// v3Keys are json names that only fs-v3 vectors carry.
var v3Keys = []string{"income_sources", "income_confidence", "income_months_used", "income_regular_monthly",
	"income_irregular_monthly", "income_regular_share", "debt_to_income", "obligations_to_income", "spend_to_income_6m",
	"savings_rate_6m", "savings_transfer_net_monthly_6m", "savings_balance_change_90d", "cash_buffer_days",
	"negative_balance_day_share_180d", "nsf_od_fee_months_6m"}

// TestEnginesReadTheirFeatureSet: an engine computes the feature set its model declares,
// whatever the package default. Scorecard v1 declares fs-v2/cat-v1 and the default v2
// fs-v3/cat-v2: every persona's decision carries exactly the committed golden vector of
// that set (testdata/golden for fs-v2, testdata/golden/fs-v3), and deciding it again from
// that stored vector gives the same decision byte for byte, as a re-score of a recorded
// decision must.
func TestEnginesReadTheirFeatureSet(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, featureSet, base, golden string
		e                              *scoring.Engine
	}{
		{"v1", scoring.FeatureSetV2, "fs-v2", goldenDir, v1},
		{"default", scoring.FeatureSetVersion, "fs-v3", filepath.Join(goldenDir, "fs-v3"), scoring.DefaultEngine()},
	} {
		require.Equal(t, c.featureSet, c.e.Model.FeatureSetVersion, c.name)
		require.Equal(t, c.base, c.e.FeatureOptions().FeatureSet, c.name)
		for _, p := range loadManifest(t).Personas {
			t.Run(c.name+"/"+p.Name, func(t *testing.T) {
				t.Parallel()
				l := loadLedger(t, p.Ledger)
				loan := scoring.Loan{AmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths}
				d, err := c.e.Underwrite(l, scoring.LatestAsOf(l), loan, scoring.Operational{})
				require.NoError(t, err)
				require.Equal(t, c.featureSet, d.FeatureSetVersion)
				got, err := json.MarshalIndent(d.Features, "", "  ")
				require.NoError(t, err)
				want, err := os.ReadFile(filepath.Join(c.golden, p.Name+".json"))
				require.NoError(t, err)
				require.Equal(t, string(want), string(got)+"\n", "the %s engine must read the %s vector of %s", c.name, c.base, p.Name)

				var stored scoring.Features
				require.NoError(t, json.Unmarshal(want, &stored))
				again := c.e.Decide(stored, loan, scoring.Operational{})
				a, err := json.Marshal(d)
				require.NoError(t, err)
				b, err := json.Marshal(again)
				require.NoError(t, err)
				require.Equal(t, string(a), string(b))
			})
		}
	}
}

// TestFeatureSetJSON: an fs-v2 vector's JSON has no fs-v3 field (it is what fs-v2's
// code wrote), an fs-v3 vector's has them all, and a stored vector of either set
// round-trips to the same bytes.
func TestFeatureSetJSON(t *testing.T) {
	t.Parallel()
	for _, version := range []string{scoring.FeatureSetV2, scoring.FeatureSetV3} {
		opts, err := scoring.FeatureOptionsFor(version)
		require.NoError(t, err)
		f, err := scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12}, opts)
		require.NoError(t, err)
		b, err := json.Marshal(f)
		require.NoError(t, err)
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &m))
		for _, k := range v3Keys {
			_, ok := m[k]
			require.Equal(t, version == scoring.FeatureSetV3, ok, "%s in %s", k, version)
		}
		var back scoring.Features
		require.NoError(t, json.Unmarshal(b, &back))
		again, err := json.Marshal(back)
		require.NoError(t, err)
		require.True(t, bytes.Equal(b, again), "%s round trip", version)
	}
	// A hand-built vector (no feature set) keeps every field.
	b, err := json.Marshal(scoring.Features{})
	require.NoError(t, err)
	require.Contains(t, string(b), `"debt_to_income":null`)
}

// TestNewEngineFeatureSets: an engine computes the feature set its model declares and
// refuses a model whose feature set this build cannot compute or whose characteristics
// read features its set does not define.
func TestNewEngineFeatureSets(t *testing.T) {
	t.Parallel()
	load := func(version string) *scoring.Model {
		m, err := scoring.LoadModel(scoring.DefaultModelFile())
		require.NoError(t, err)
		m.FeatureSetVersion = version
		return m
	}
	p := scoring.DefaultPolicy()

	e, err := scoring.NewEngine(load(scoring.FeatureSetV3), p)
	require.NoError(t, err)
	l := handLedger()
	d, err := e.Underwrite(l, day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12}, scoring.Operational{})
	require.NoError(t, err)
	require.Equal(t, scoring.FeatureSetV3, d.FeatureSetVersion)
	require.Equal(t, scoring.IncomeConfidenceHigh, d.Features.IncomeConfidence)

	// fs-v3 under the cat-v1 rules is a feature set of its own.
	e, err = scoring.NewEngine(load("fs-v3/cat-v1"), p)
	require.NoError(t, err)
	f, err := e.ComputeFeatures(l, day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, "fs-v3/cat-v1", f.FeatureSetVersion)
	require.Equal(t, scoring.CategoryRulesV1, f.CategoryRulesVersion)

	for _, c := range []struct {
		version string
		want    error
	}{
		{"fs-v9/cat-v1", scoring.ErrUnknownFeatureSet},
		{"fs-v2/cat-v7", scoring.ErrUnknownRules},
		{"fs-v2/cat-v1+acme-2", scoring.ErrUnknownRules}, // user rules are not embedded
		{"fs-v2", nil},
	} {
		_, err := scoring.NewEngine(load(c.version), p)
		require.Error(t, err, c.version)
		if c.want != nil {
			require.ErrorIs(t, err, c.want, c.version)
		}
	}

	m := load(scoring.FeatureSetV2)
	m.Characteristics[0].Feature = "debt_to_income"
	_, err = scoring.NewEngine(m, p)
	require.ErrorContains(t, err, `feature "debt_to_income" is not in feature set fs-v2/cat-v1`)
	m.FeatureSetVersion = scoring.FeatureSetV3
	_, err = scoring.NewEngine(m, p)
	require.NoError(t, err)
}

// TestComputeFeaturesUnknownSet: asking for a feature set this build does not compute
// is an error, not the default.
func TestComputeFeaturesUnknownSet(t *testing.T) {
	t.Parallel()
	_, err := scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12},
		scoring.FeatureOptions{FeatureSet: "fs-v1"})
	require.ErrorIs(t, err, scoring.ErrUnknownFeatureSet)
	f, err := scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12},
		scoring.FeatureOptions{FeatureSet: "fs-v2"})
	require.NoError(t, err)
	require.Equal(t, scoring.FeatureSetV2, f.FeatureSetVersion, "fs-v2 takes its own rules, cat-v1")
}
