package activities_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

func shippedFiles(t *testing.T, version string) (model, policy []byte) {
	t.Helper()
	model, err := scoring.ShippedModelFile(version)
	require.NoError(t, err)
	policy, err = scoring.ShippedPolicyFile(version)
	require.NoError(t, err)
	return model, policy
}

// TestRescoreBatchReproducesTheDecision: a re-score under the decision's own versions
// stores the decision's feature vector, points, score, PD, rules and reasons exactly,
// including the operational facts the workflow passed (a failed refresh, an inactive
// account), recovered from the decision's rules; a second batch stores nothing; a
// re-score under scorecard and policy v1 stores its own row, on v1's feature set.
func TestRescoreBatchReproducesTheDecision(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	ctx := context.Background()
	snap := f.frozen(t)
	_, err := f.env.ExecuteActivity(f.acts.Decide, activities.DecideInput{ApplicationID: f.appID, SnapshotID: snap.ID,
		Loan:        scoring.Loan{AmountMinor: 300000, TermMonths: 12, Currency: "usd"},
		Operational: scoring.Operational{RefreshFailed: true, InactiveAccounts: 1}})
	require.NoError(t, err)
	d, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, loan.OutcomeRefer, d.Outcome, "stale data refers")

	now := time.Now().UTC()
	sel := activities.RescoreSelection{Lender: loan.DevLender, From: now.Add(-time.Hour), To: now.Add(time.Hour)}
	v, err := f.env.ExecuteActivity(f.acts.CountRescore, sel)
	require.NoError(t, err)
	var total int
	require.NoError(t, v.Get(&total))
	require.Equal(t, 1, total)

	model, policy := shippedFiles(t, scoring.DefaultModelVersion)
	in := activities.RescoreBatchInput{Selection: sel, Model: model, Policy: policy, Limit: 10}
	for i, stored := range []int{1, 0} {
		v, err := f.env.ExecuteActivity(f.acts.RescoreBatch, in)
		require.NoError(t, err)
		var res activities.RescoreBatchResult
		require.NoError(t, v.Get(&res))
		require.Equal(t, activities.RescoreBatchResult{Last: f.appID, Scored: 1, Stored: stored}, res, "call %d", i)
	}
	r, err := f.store.GetRescore(ctx, f.appID, d.FeatureSetVersion, d.ModelVersion, d.PolicyVersion)
	require.NoError(t, err)
	require.Equal(t, d.Outcome, r.Outcome)
	require.Equal(t, *d.Score, *r.Score)
	require.Equal(t, *d.PD, *r.PD)
	require.JSONEq(t, string(d.Features), string(r.Features))
	require.JSONEq(t, string(d.Points), string(r.Points))
	require.JSONEq(t, string(d.Rules), string(r.Rules))
	require.JSONEq(t, string(d.Reasons), string(r.Reasons))
	require.Equal(t, d.ReasonCodeMapVersion, r.ReasonCodeMapVersion)
	require.True(t, d.Cutoff.Equal(r.Cutoff))

	in.Model, in.Policy = shippedFiles(t, "v1")
	v, err = f.env.ExecuteActivity(f.acts.RescoreBatch, in)
	require.NoError(t, err)
	var res activities.RescoreBatchResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 1, res.Stored)
	r1, err := f.store.GetRescore(ctx, f.appID, scoring.FeatureSetV2, "v1", "v1")
	require.NoError(t, err)
	require.Equal(t, loan.OutcomeRefer, r1.Outcome, "the facts of the refresh hold under v1 too")
	require.Contains(t, string(r1.Reasons), scoring.RuleStaleData)
}

// TestRescoreBatchRefusesBadFiles: a model file that does not load fails the batch without
// a retry, naming the file.
func TestRescoreBatchRefusesBadFiles(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	_, policy := shippedFiles(t, "v2")
	_, err := f.env.ExecuteActivity(f.acts.RescoreBatch, activities.RescoreBatchInput{
		Selection: activities.RescoreSelection{Lender: loan.DevLender}, Model: []byte(`{"model_version":"x"}`), Policy: policy, Limit: 1})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.Contains(t, appErr.Message(), "rescore model:")
}

func TestOperationalOf(t *testing.T) {
	for name, tc := range map[string]struct {
		rules string
		want  scoring.Operational
		err   string
	}{
		"none":           {rules: ``, want: scoring.Operational{}},
		"unscored":       {rules: `[]`, want: scoring.Operational{}},
		"fresh, active":  {rules: `[{"rule":"STALE_DATA","actual":"refresh_failed=false, days_since_last_txn=2"},{"rule":"ACCOUNT_NOT_ACTIVE","actual":"0"}]`},
		"failed refresh": {rules: `[{"rule":"STALE_DATA","actual":"refresh_failed=true, days_since_last_txn=undefined"}]`, want: scoring.Operational{RefreshFailed: true}},
		"inactive":       {rules: `[{"rule":"ACCOUNT_NOT_ACTIVE","actual":"2"}]`, want: scoring.Operational{InactiveAccounts: 2}},
		"bad count":      {rules: `[{"rule":"ACCOUNT_NOT_ACTIVE","actual":"two"}]`, err: `ACCOUNT_NOT_ACTIVE: actual "two" is not a count`},
		"bad stale":      {rules: `[{"rule":"STALE_DATA","actual":"stale"}]`, err: `STALE_DATA: actual "stale" has no refresh_failed`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := activities.OperationalOf(json.RawMessage(tc.rules))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
