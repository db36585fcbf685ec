package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// updateOutcome collects what an update's callbacks reported.
type updateOutcome struct {
	accepted bool
	rejected error
	done     bool
	result   any
	err      error
}

func (o *updateOutcome) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() { o.accepted = true },
		OnReject:   func(err error) { o.rejected = err },
		OnComplete: func(res any, err error) { o.done, o.result, o.err = true, res, err },
	}
}

func refreshSucceeds(h *harness) {
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil).Maybe()
}

// recordsChanges makes ChangeLoan record its inputs, taking d of workflow time.
func recordsChanges(h *harness, d time.Duration) *[]activities.LoanChangeInput {
	var changes []activities.LoanChangeInput
	h.env.OnActivity(acts.ChangeLoan, mock.Anything, mock.Anything).After(d).Return(
		func(_ context.Context, in activities.LoanChangeInput) error {
			changes = append(changes, in)
			return nil
		}).Maybe()
	return &changes
}

func TestUpdateChangeLoanWhileWaitingForTheLink(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	refreshSucceeds(h)
	changes := recordsChanges(h, 0)
	h.linkAfter(time.Hour)
	var change, bad updateOutcome
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateChangeLoan, "change-1", change.callbacks(), LoanChange{LoanAmountMinor: 450000, TermMonths: 18})
		h.env.UpdateWorkflow(UpdateChangeLoan, "change-2", bad.callbacks(), LoanChange{LoanAmountMinor: 0, TermMonths: 18})
	}, 10*time.Minute)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.True(t, change.accepted)
	require.NoError(t, change.err)
	require.Equal(t, LoanChange{LoanAmountMinor: 450000, TermMonths: 18}, change.result)
	require.Equal(t, []activities.LoanChangeInput{{ApplicationID: "app-1", LoanAmountMinor: 450000, TermMonths: 18}}, *changes)
	require.Len(t, h.decided, 1)
	require.Equal(t, scoring.Loan{AmountMinor: 450000, TermMonths: 18, Currency: "usd"}, h.decided[0].Loan, "decided for the changed loan")

	// The second change (amount 0) was refused by the validator: never accepted, nothing recorded.
	require.False(t, bad.accepted)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(bad.rejected, &appErr), "%v", bad.rejected)
	require.Equal(t, ErrTypeInvalidInput, appErr.Type())
	require.Contains(t, appErr.Message(), "amount")
}

// TestUpdateDecisionWaitsForAChangeBeingRecorded: a change accepted during the refresh
// whose activity is still running when the data is ready holds the decision back, so the
// decision is made for the changed loan.
func TestUpdateDecisionWaitsForAChangeBeingRecorded(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil).Once()
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil).Maybe()
	recordsChanges(h, 10*time.Minute) // far longer than the rest of the run
	var change updateOutcome
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateChangeLoan, "change-1", change.callbacks(), LoanChange{LoanAmountMinor: 90000, TermMonths: 6})
	}, 5*time.Second)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalRefreshUpdated, AccountSignal{AccountID: "fca_1"})
	}, 6*time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	h.result(t)
	require.True(t, change.accepted)
	require.NoError(t, change.err)
	require.Len(t, h.decided, 1)
	require.Equal(t, int64(90000), h.decided[0].Loan.AmountMinor)
	require.Equal(t, 6, h.decided[0].Loan.TermMonths)
}

func TestUpdateDecisionAnswersTheDecision(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "decline", Score: 480,
		Reasons: []scoring.Reason{{Code: "NSF_EXCESS"}}})
	refreshSucceeds(h)
	var got updateOutcome
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateDecision, "decision", got.callbacks())
	}, 0)
	in := testInput
	in.SessionID, in.AccountIDs = "", []string{"fca_1"}
	h.env.ExecuteWorkflow(Underwrite, in)

	res := h.result(t)
	require.True(t, got.accepted)
	require.True(t, got.done, "the update completed before the run ended")
	require.NoError(t, got.err)
	require.Equal(t, res, got.result)
	require.Equal(t, "decline", got.result.(UnderwriteResult).Outcome)
}

func TestUpdateDecisionFailsWithTheRun(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve"})
	refreshSucceeds(h)
	h.decideErr = temporal.NewNonRetryableApplicationError("no decision", "Boom", nil)
	var got updateOutcome
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateDecision, "decision", got.callbacks())
	}, 0)
	in := testInput
	in.SessionID, in.AccountIDs = "", []string{"fca_1"}
	h.env.ExecuteWorkflow(Underwrite, in)

	require.Error(t, h.env.GetWorkflowError())
	require.True(t, got.done)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(got.err, &appErr), "%v", got.err)
	require.Equal(t, ErrTypeApplicationFailed, appErr.Type())
	require.Contains(t, appErr.Message(), "Boom: no decision")
}

func TestValidateLoanChange(t *testing.T) {
	ok := LoanChange{LoanAmountMinor: 100000, TermMonths: 12}
	for _, stage := range []string{"", loan.StageCreated, loan.StageAwaitingLink, loan.StageRefreshing} {
		u := &underwriting{in: testInput, status: Status{Stage: stage}}
		require.NoError(t, u.validateLoanChange(nil, ok), stage)
	}
	for _, stage := range []string{loan.StageSyncing, loan.StageSnapshot, loan.StageScoring, loan.StageRecording, loan.StageDecided, loan.StageFailed} {
		u := &underwriting{in: testInput, status: Status{Stage: stage}}
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(u.validateLoanChange(nil, ok), &appErr), stage)
		require.Equal(t, ErrTypeTooLate, appErr.Type(), stage)
	}
	u := &underwriting{in: testInput, status: Status{Stage: loan.StageAwaitingLink}, changing: true}
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(u.validateLoanChange(nil, ok), &appErr))
	require.Equal(t, ErrTypeChangeInProgress, appErr.Type())

	u = &underwriting{in: testInput, status: Status{Stage: loan.StageAwaitingLink}}
	require.True(t, errors.As(u.validateLoanChange(nil, LoanChange{LoanAmountMinor: 100000, TermMonths: 0}), &appErr))
	require.Equal(t, ErrTypeInvalidInput, appErr.Type())
	require.Contains(t, appErr.Message(), "term")
}
