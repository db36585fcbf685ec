package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// TestUnderwriteRefusesAnInvalidLoan: a workflow started with the Go client and a loan
// outside loan's bounds fails at once, before any activity, with a non-retryable error
// that names the field, rather than retrying a Postgres check for hours.
func TestUnderwriteRefusesAnInvalidLoan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(in *UnderwriteInput)
		field string
	}{
		{"zero amount", func(in *UnderwriteInput) { in.LoanAmountMinor = 0 }, loan.FieldAmount},
		{"amount over the max", func(in *UnderwriteInput) { in.LoanAmountMinor = loan.MaxAmountMinor + 1 }, loan.FieldAmount},
		{"400-month term", func(in *UnderwriteInput) { in.TermMonths = 400 }, loan.FieldTerm},
		{"upper-case currency", func(in *UnderwriteInput) { in.Currency = "USD" }, loan.FieldCurrency},
		{"not an ISO 4217 currency", func(in *UnderwriteInput) { in.Currency = "xyz" }, loan.FieldCurrency},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
			in := testInput
			tc.mod(&in)
			start := h.env.Now()
			h.env.ExecuteWorkflow(Underwrite, in)

			require.True(t, h.env.IsWorkflowCompleted())
			err := h.env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Contains(t, appErr.Error(), tc.field)
			var fields []loan.FieldError
			require.NoError(t, appErr.Details(&fields))
			require.Len(t, fields, 1)
			require.Equal(t, tc.field, fields[0].Field)
			require.Empty(t, h.registered, "no activity runs for invalid input but the one recording it")
			require.Empty(t, h.decided)
			require.Len(t, h.failed, 1)
			require.Equal(t, in.ApplicationID, h.failed[0].ApplicationID)
			require.True(t, strings.HasPrefix(h.failed[0].Cause, ErrTypeInvalidInput+": input: "+tc.field), h.failed[0].Cause)
			require.Equal(t, start, h.env.Now(), "it fails without waiting")
		})
	}
}

// TestUnderwriteDefaultsTheCurrency: like the API, an input without a currency means
// loan.DefaultCurrency.
func TestUnderwriteDefaultsTheCurrency(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	in := testInput
	in.Currency = ""
	h.env.ExecuteWorkflow(Underwrite, in)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Len(t, h.registered, 1)
	require.Equal(t, loan.DefaultCurrency, h.registered[0].Currency)
}

// TestUnderwriteBeforeInputValidation: a run started before changeValidateInput does not
// check its loan (its history holds no such step).
func TestUnderwriteBeforeInputValidation(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnGetVersion(changeValidateInput, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	in := testInput
	in.TermMonths = 400
	h.env.ExecuteWorkflow(Underwrite, in)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Equal(t, 400, h.registered[0].TermMonths)
}

// TestUnderwriteBeforeCurrencyAllowList: a run started before changeCurrencyAllowList
// checks only its currency's shape, as it did then, so that its history replays: "xyz"
// passed then and must pass again on replay.
func TestUnderwriteBeforeCurrencyAllowList(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnGetVersion(changeCurrencyAllowList, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	in := testInput
	in.Currency = "xyz"
	h.env.ExecuteWorkflow(Underwrite, in)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Equal(t, "xyz", h.registered[0].Currency)
}

// TestUnderwriteBeforeOneDecisionWriter: a run started before changeOneDecisionWriter
// keeps its two steps, Score and then RecordDecision, and never calls Decide.
func TestUnderwriteBeforeOneDecisionWriter(t *testing.T) {
	for _, expired := range []bool{false, true} {
		t.Run(map[bool]string{false: "scored", true: "expired"}[expired], func(t *testing.T) {
			h := newHarness(t, scoring.Decision{Outcome: "decline", Score: 540})
			h.env.OnGetVersion(changeOneDecisionWriter, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
				activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil).Maybe()
			in := testInput
			want, writes := "decline", 2
			if expired {
				h.linked = nil
				in.LinkTimeout = time.Hour
				want, writes = loan.OutcomeExpired, 1
			}
			h.env.ExecuteWorkflow(Underwrite, in)

			res := h.result(t)
			require.Equal(t, want, res.Outcome)
			require.Equal(t, writes, h.oldWrites)
			require.Empty(t, h.decided)
		})
	}
}
