package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// frozen links, syncs and freezes the fixture's application and returns its snapshot.
func (f *fixture) frozen(t *testing.T) activities.SnapshotRef {
	t.Helper()
	_, err := f.env.ExecuteActivity(f.acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: f.appID, SessionID: f.session})
	require.NoError(t, err)
	for _, id := range f.accounts {
		_, err = f.env.ExecuteActivity(f.acts.SyncTransactions, activities.SyncInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
		_, err = f.env.ExecuteActivity(f.acts.StoreBalance, activities.BalanceInput{ApplicationID: f.appID, AccountID: id})
		require.NoError(t, err)
	}
	v, err := f.env.ExecuteActivity(f.acts.FreezeSnapshot, activities.SnapshotInput{ApplicationID: f.appID})
	require.NoError(t, err)
	var snap activities.SnapshotRef
	require.NoError(t, v.Get(&snap))
	return snap
}

// TestDecideWritesTheDecisionOnce: Decide scores the snapshot exactly as scoring does,
// stores the one decision with its feature vector, marks the application decided, and a
// second call writes nothing.
func TestDecideWritesTheDecisionOnce(t *testing.T) {
	f := newFixture(t, "steady_salaried")
	ctx := context.Background()
	snap := f.frozen(t)
	ln := scoring.Loan{AmountMinor: 300000, TermMonths: 12}
	in := activities.DecideInput{ApplicationID: f.appID, SnapshotID: snap.ID, Loan: ln}

	var first activities.DecideResult
	for i, created := range []bool{true, false} {
		v, err := f.env.ExecuteActivity(f.acts.Decide, in)
		require.NoError(t, err)
		var res activities.DecideResult
		require.NoError(t, v.Get(&res))
		require.Equal(t, created, res.Created, "call %d", i)
		require.NotNil(t, res.Score)
		if i == 0 {
			first = res
		} else {
			require.Equal(t, first.Outcome, res.Outcome)
			require.True(t, first.DecidedAt.Equal(res.DecidedAt), "the first write stands")
		}
	}

	row, err := f.store.GetSnapshot(ctx, snap.ID)
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(row.Ledger)
	require.NoError(t, err)
	direct, err := scoring.Underwrite(l, row.AsOf, ln, scoring.Operational{})
	require.NoError(t, err)
	require.Equal(t, direct.Outcome, first.Outcome)
	require.Equal(t, direct.Score, first.Score.Decision.Score)

	n, err := f.store.CountDecisions(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, direct.Outcome, d.Outcome)
	require.Equal(t, snap.ContentHash, *d.ContentHash)
	require.Equal(t, direct.Score, *d.Score)
	var features map[string]any
	require.NoError(t, json.Unmarshal(d.Features, &features))
	require.Contains(t, features, "monthly_income_est")
	require.NotEqual(t, "[]", string(d.Points))
	app, err := f.store.GetApplication(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, loan.StageDecided, app.Stage)
	result, err := json.Marshal(first)
	require.NoError(t, err)
	require.NotContains(t, string(result), "PAYROLL", "no transaction description travels through workflow history")
}

// TestDecideReadsTheLoanCurrency: the loan's currency in DecideInput reaches scoring. A
// USD ledger for a EUR loan is referred with CURRENCY_MISMATCH as its first reason, in the
// result and in the stored decision; the same snapshot for a USD loan, or for a loan whose
// input names no currency (recorded before the field existed), is not.
func TestDecideReadsTheLoanCurrency(t *testing.T) {
	for _, tc := range []struct {
		currency string
		mismatch bool
	}{{"eur", true}, {"usd", false}, {"", false}} {
		name := tc.currency
		if name == "" {
			name = "none given"
		}
		t.Run("loan currency "+name, func(t *testing.T) {
			f := newFixture(t, "steady_salaried")
			ctx := context.Background()
			snap := f.frozen(t)
			in := activities.DecideInput{ApplicationID: f.appID, SnapshotID: snap.ID,
				Loan: scoring.Loan{AmountMinor: 300000, TermMonths: 12, Currency: tc.currency}}
			v, err := f.env.ExecuteActivity(f.acts.Decide, in)
			require.NoError(t, err)
			var res activities.DecideResult
			require.NoError(t, v.Get(&res))
			require.NotNil(t, res.Score)
			d, err := f.store.GetDecision(ctx, f.appID)
			require.NoError(t, err)
			var stored []scoring.Reason
			require.NoError(t, json.Unmarshal(d.Reasons, &stored))
			if !tc.mismatch {
				require.Equal(t, loan.OutcomeApprove, res.Outcome, "reasons %+v", res.Score.Decision.Reasons)
				require.Empty(t, stored)
				return
			}
			require.Equal(t, loan.OutcomeRefer, res.Outcome)
			require.Equal(t, loan.OutcomeRefer, d.Outcome)
			reasons := res.Score.Decision.Reasons
			require.NotEmpty(t, reasons)
			require.Equal(t, scoring.RuleCurrencyMismatch, reasons[0].Code)
			require.Equal(t, "Bank account currency differs from the loan's currency", reasons[0].Text)
			require.NotEmpty(t, stored)
			require.Equal(t, scoring.RuleCurrencyMismatch, stored[0].Code)
		})
	}
}

// TestDecideInputWithoutCurrency: an input recorded before scoring.Loan had a currency
// decodes with none, and an input without one encodes exactly as before, so the
// histories of older runs replay and their payloads keep their bytes.
func TestDecideInputWithoutCurrency(t *testing.T) {
	t.Parallel()
	const old = `{"ApplicationID":"app_1","SnapshotID":7,"Loan":{"AmountMinor":300000,"TermMonths":12},"Operational":{"RefreshFailed":false,"InactiveAccounts":0},"Outcome":""}`
	var in activities.DecideInput
	require.NoError(t, json.Unmarshal([]byte(old), &in))
	require.Equal(t, scoring.Loan{AmountMinor: 300000, TermMonths: 12}, in.Loan)
	again, err := json.Marshal(in)
	require.NoError(t, err)
	require.Equal(t, old, string(again))
	in.Loan.Currency = "usd"
	withCcy, err := json.Marshal(in)
	require.NoError(t, err)
	require.Contains(t, string(withCcy), `"Loan":{"AmountMinor":300000,"TermMonths":12,"Currency":"usd"}`)
}

// TestDecideUnscored: without a snapshot Decide writes an outcome reached without
// scoring, once, and refuses a scoring outcome it has nothing to score for.
func TestDecideUnscored(t *testing.T) {
	f := newFixture(t, "thin_file")
	ctx := context.Background()
	for i, created := range []bool{true, false} {
		v, err := f.env.ExecuteActivity(f.acts.Decide, activities.DecideInput{ApplicationID: f.appID, Outcome: loan.OutcomeExpired})
		require.NoError(t, err)
		var res activities.DecideResult
		require.NoError(t, v.Get(&res))
		require.Equal(t, created, res.Created, "call %d", i)
		require.Equal(t, loan.OutcomeExpired, res.Outcome)
		require.Nil(t, res.Score)
	}
	d, err := f.store.GetDecision(ctx, f.appID)
	require.NoError(t, err)
	require.Equal(t, loan.OutcomeExpired, d.Outcome)
	require.Nil(t, d.Score)
	require.Nil(t, d.SnapshotID)

	_, _, err = f.store.CreateApplication(ctx, store.Application{ID: "app-unsure", RequestHash: "h", LoanAmountMinor: 1000,
		TermMonths: 6, Currency: "usd", WorkflowID: "underwrite/app-unsure"})
	require.NoError(t, err)
	_, err = f.env.ExecuteActivity(f.acts.Decide, activities.DecideInput{ApplicationID: "app-unsure", Outcome: loan.OutcomeApprove})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.True(t, appErr.NonRetryable())
	n, err := f.store.CountDecisions(ctx, "app-unsure")
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestRegisterRefusesAnInvalidLoan: a run started before the workflow validated its input
// fails at once on a loan the applications table would refuse on every retry.
func TestRegisterRefusesAnInvalidLoan(t *testing.T) {
	f := newFixture(t, "thin_file")
	_, err := f.env.ExecuteActivity(f.acts.RegisterApplication, activities.RegisterInput{ApplicationID: "app-long",
		WorkflowID: "underwrite/app-long", SessionID: "fcsess_x", LoanAmountMinor: 1000, TermMonths: 400, Currency: "usd"})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Error(), loan.FieldTerm)
	_, err = f.store.GetApplication(context.Background(), "app-long")
	require.ErrorIs(t, err, store.ErrNotFound)
}
