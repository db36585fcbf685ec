package scoring

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestFeatureReasonsCoverNumericFeatures: every numeric feature can be a candidate, so
// every one needs a reason code and text; every entry names a numeric feature; codes
// are unique (a model may not repeat one); texts read as Reg B reasons.
func TestFeatureReasonsCoverNumericFeatures(t *testing.T) {
	t.Parallel()
	for _, name := range NumericFeatureNames() {
		_, ok := featureReasons[name]
		require.True(t, ok, "numeric feature %q has no entry in featureReasons (scoring/candidates.go)", name)
	}
	codes := map[string]string{}
	for name, r := range featureReasons {
		_, numeric := numericFeatures[name]
		require.True(t, numeric, "featureReasons names %q, which is not a numeric feature", name)
		require.True(t, strings.HasPrefix(r.Code, "SC_") && strings.ToUpper(r.Code) == r.Code, "%s: code %q", name, r.Code)
		require.NotContains(t, codes, r.Code, "%s and %s share code %s", name, codes[r.Code], r.Code)
		codes[r.Code] = name
		require.NotEmpty(t, r.Text, name)
		require.True(t, unicode.IsUpper([]rune(r.Text)[0]), "%s: text %q starts in lower case", name, r.Text)
		require.False(t, strings.HasSuffix(r.Text, "."), "%s: text %q ends with a full stop", name, r.Text)
	}

	var want []string
	for _, name := range NumericFeatureNames() {
		if !incomeTypeProxies[name] {
			want = append(want, name)
		}
	}
	cands := DefaultCandidates()
	require.Len(t, cands, len(want), "every numeric feature but the income-type proxies is a default candidate")
	for i, c := range cands {
		require.Equal(t, want[i], c.Feature)
		require.Equal(t, featureReasons[c.Feature].Code, c.Code)
		require.Equal(t, featureReasons[c.Feature].Text, c.Text)
	}
	for name := range incomeTypeProxies {
		_, numeric := numericFeatures[name]
		require.True(t, numeric, "incomeTypeProxies names %q, which is not a numeric feature", name)
	}
}

// TestDefaultModelScoresNoIncomeType: the shipped model scores how much income comes in
// and how steadily, never how it is earned.
func TestDefaultModelScoresNoIncomeType(t *testing.T) {
	t.Parallel()
	for _, c := range DefaultModel().Characteristics {
		require.False(t, incomeTypeProxies[c.Feature], "the default model scores %s, an income-type proxy", c.Feature)
	}
}

// TestFeatureReasonsKeepV1Codes: a trained model that keeps a characteristic of
// scorecard v1 gives it v1's code and text, so reasons stay comparable across models.
func TestFeatureReasonsKeepV1Codes(t *testing.T) {
	t.Parallel()
	for _, c := range shippedV1(t).Model.Characteristics {
		r, ok := featureReasons[c.Feature]
		require.True(t, ok, c.Feature)
		require.Equal(t, c.Code, r.Code, c.Feature)
		require.Equal(t, c.Text, r.Text, c.Feature)
	}
}
