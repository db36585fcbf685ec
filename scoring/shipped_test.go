package scoring_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// v1 is the engine of scorecard v1 and policy v1 on feature set fs-v2: the tests that
// pin v1's decisions use it, since every decision recorded under those versions must
// re-score to exactly what they pin.
var v1 = func() *scoring.Engine {
	e, err := scoring.ShippedEngine("v1", "v1")
	if err != nil {
		panic(err)
	}
	return e
}()

func TestShippedEngines(t *testing.T) {
	t.Parallel()
	require.Equal(t, "v1", v1.Model.ModelVersion)
	require.Equal(t, "fs-v2/cat-v1", v1.Model.FeatureSetVersion)
	require.Equal(t, "v1", v1.Policy.PolicyVersion)

	d := scoring.DefaultEngine()
	require.Equal(t, scoring.DefaultModelVersion, d.Model.ModelVersion)
	require.Equal(t, scoring.DefaultPolicyVersion, d.Policy.PolicyVersion)
	require.Equal(t, "v2", d.Model.ModelVersion)
	require.Equal(t, scoring.FeatureSetVersion, d.Model.FeatureSetVersion, "the default model scores the newest feature set")
	mb, err := scoring.ShippedModelFile("v2")
	require.NoError(t, err)
	require.Equal(t, scoring.DefaultModelFile(), mb)
	pb, err := scoring.ShippedPolicyFile("v2")
	require.NoError(t, err)
	require.Equal(t, scoring.DefaultPolicyFile(), pb)

	_, err = scoring.ShippedEngine("v0", "v1")
	require.ErrorContains(t, err, `shipped model "v0"`)
	_, err = scoring.ShippedEngine("v1", "v9")
	require.ErrorContains(t, err, `shipped policy "v9"`)
}
