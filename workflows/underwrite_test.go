package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

var testInput = UnderwriteInput{
	ApplicationID: "app-1", CustomerID: "cus_1", SessionID: "fcsess_1",
	LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd",
}

func pending(id string) activities.AccountState {
	return activities.AccountState{AccountID: id, Status: "active", TransactionRefreshID: "fctxnref_2",
		TransactionRefreshStatus: activities.RefreshPending, BalanceRefreshStatus: activities.RefreshPending}
}

func finished(id, status string) activities.AccountState {
	return activities.AccountState{AccountID: id, Status: "active", TransactionRefreshID: "fctxnref_2",
		TransactionRefreshStatus: status, BalanceRefreshStatus: status}
}

// harness wires a test environment whose activities follow the happy path unless a test
// overrides them; it records what the workflow asked of them.
type harness struct {
	env    *testsuite.TestWorkflowEnvironment
	linked []string // what the session shows once read, from linkAt on
	// linkAt is when the applicant links (zero: before the workflow starts).
	linkAt     time.Time
	registered []activities.RegisterInput
	failed     []activities.FailureInput
	// decideErr, when set, is Decide's error.
	decideErr error
	decided   []activities.DecideInput
	// oldWrites counts calls of Score and RecordDecision, the decision writers of runs
	// started before changeOneDecisionWriter.
	oldWrites int
}

func newHarness(t *testing.T, decision scoring.Decision) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	h := &harness{env: s.NewTestWorkflowEnvironment(), linked: []string{"fca_1"}}
	h.env.RegisterWorkflow(Underwrite)
	h.env.RegisterActivity(&activities.Activities{})
	h.env.OnActivity(acts.RegisterApplication, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RegisterInput) error {
			h.registered = append(h.registered, in)
			return nil
		}).Maybe()
	h.env.OnActivity(acts.LinkedAccounts, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.LinkedAccountsInput) (activities.LinkedAccountsResult, error) {
			if h.env.Now().Before(h.linkAt) {
				return activities.LinkedAccountsResult{}, nil
			}
			return activities.LinkedAccountsResult{AccountIDs: h.linked}, nil
		}).Maybe()
	h.env.OnActivity(acts.RecordFailure, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FailureInput) error {
			h.failed = append(h.failed, in)
			return nil
		}).Maybe()
	h.env.OnActivity(acts.SyncTransactions, mock.Anything, mock.Anything).Return(
		activities.SyncResult{AccountID: "fca_1", Pages: 2, Upserted: 150, Stored: 150}, nil).Maybe()
	h.env.OnActivity(acts.StoreBalance, mock.Anything, mock.Anything).Return(
		activities.BalanceResult{AccountID: "fca_1", Present: true}, nil).Maybe()
	h.env.OnActivity(acts.FreezeSnapshot, mock.Anything, mock.Anything).Return(
		activities.SnapshotRef{ID: 7, ContentHash: "sha256:abc", Transactions: 150, Accounts: 1}, nil).Maybe()
	h.env.OnActivity(acts.Decide, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecideInput) (activities.DecideResult, error) {
			h.decided = append(h.decided, in)
			if h.decideErr != nil {
				return activities.DecideResult{}, h.decideErr
			}
			if in.SnapshotID == 0 {
				return activities.DecideResult{Outcome: in.Outcome, Created: true}, nil
			}
			return activities.DecideResult{Outcome: decision.Outcome, Created: true,
				Score: &activities.ScoreResult{Decision: activities.VerdictOf(decision)}}, nil
		}).Maybe()
	h.env.OnActivity(acts.Score, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ScoreInput) (activities.ScoreResult, error) {
			h.oldWrites++
			return activities.ScoreResult{Decision: activities.VerdictOf(decision)}, nil
		}).Maybe()
	h.env.OnActivity(acts.RecordDecision, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RecordInput) (activities.RecordResult, error) {
			h.oldWrites++
			return activities.RecordResult{Created: true}, nil
		}).Maybe()
	return h
}

// linkAfter links the applicant's account d into the workflow, which Stripe reports with
// a webhook.
func (h *harness) linkAfter(d time.Duration) {
	h.linkAt = h.env.Now().Add(d)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalAccountLinked, AccountSignal{AccountID: "fca_1", EventID: "evt_1"})
	}, d)
}

func (h *harness) result(t *testing.T) UnderwriteResult {
	t.Helper()
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var res UnderwriteResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	return res
}

func TestUnderwriteDecisionPaths(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dec   scoring.Decision
		score int
	}{
		{"approve", scoring.Decision{Outcome: "approve", Score: 655}, 655},
		{"decline", scoring.Decision{Outcome: "decline", Score: 540, Reasons: []scoring.Reason{{Code: "NSF_EXCESS"}}}, 540},
		{"refer", scoring.Decision{Outcome: "refer", Score: 600, Reasons: []scoring.Reason{{Code: "INCOME_IRREGULAR"}}}, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.dec)
			h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
				activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil).Once()
			h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
				activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil).Once()
			h.linkAfter(time.Minute)
			h.env.RegisterDelayedCallback(func() {
				h.env.SignalWorkflow(SignalRefreshUpdated, AccountSignal{AccountID: "fca_1", EventID: "evt_2"})
			}, time.Minute+5*time.Second)
			h.env.ExecuteWorkflow(Underwrite, testInput)

			res := h.result(t)
			require.Equal(t, tc.name, res.Outcome)
			require.Equal(t, tc.score, res.Score)
			require.Equal(t, int64(7), res.SnapshotID)
			require.Equal(t, "underwrite/app-1", WorkflowID(testInput.ApplicationID))
			require.Len(t, h.decided, 1, "one activity writes the decision, once")
			require.Zero(t, h.oldWrites, "Score and RecordDecision write no decision for a new run")
			require.Equal(t, int64(7), h.decided[0].SnapshotID)
			require.False(t, h.decided[0].Operational.RefreshFailed)
			require.Equal(t, scoring.Loan{AmountMinor: 300000, TermMonths: 12, Currency: "usd"}, h.decided[0].Loan)
			h.env.AssertExpectations(t)
		})
	}
}

func TestUnderwriteLinkExpires(t *testing.T) {
	h := newHarness(t, scoring.Decision{})
	h.linked = nil // the applicant never finishes linking
	in := testInput
	in.LinkTimeout = 2 * time.Hour
	h.env.ExecuteWorkflow(Underwrite, in)

	res := h.result(t)
	require.Equal(t, loan.OutcomeExpired, res.Outcome)
	require.Len(t, h.decided, 1)
	require.Equal(t, loan.OutcomeExpired, h.decided[0].Outcome)
	require.Zero(t, h.decided[0].SnapshotID, "an expired application is never scored")
	require.Zero(t, h.oldWrites)
}

func TestUnderwriteFailedRefreshIsScoredAsFailed(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "refer", Score: 640})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil).Once()
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshFailed)}}, nil).Once()
	h.linkAfter(time.Second)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalRefreshUpdated, AccountSignal{AccountID: "fca_1"})
	}, 3*time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	res := h.result(t)
	require.Equal(t, "refer", res.Outcome)
	require.Len(t, h.decided, 1)
	require.True(t, h.decided[0].Operational.RefreshFailed, "a failed refresh must reach the policy")
}

func TestUnderwritePollsWhenWebhooksNeverCome(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 650})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil).Once()
	polls := 0
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.RefreshStatusInput) (activities.RefreshState, error) {
			polls++
			if polls < 3 {
				return activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil
			}
			return activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil
		})
	// No account-linked webhook either: the session poll finds the account.
	h.env.ExecuteWorkflow(Underwrite, testInput)

	res := h.result(t)
	require.Equal(t, "approve", res.Outcome)
	require.Equal(t, 3, polls, "the workflow polls until the refresh is done")
	require.False(t, h.decided[0].Operational.RefreshFailed)
}

func TestUnderwriteRefreshTimeoutIsAFailedRefresh(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "refer", Score: 640})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil).Once()
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil)
	h.linkAfter(time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	res := h.result(t)
	require.Equal(t, "refer", res.Outcome)
	require.True(t, h.decided[0].Operational.RefreshFailed)
}

func TestUnderwriteStatusQueryAtEveryStage(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 650})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil).Once()
	var stages []string
	query := func() {
		v, err := h.env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		var st Status
		require.NoError(t, v.Get(&st))
		stages = append(stages, st.Stage)
	}
	h.env.RegisterDelayedCallback(query, 30*time.Second)
	h.linkAfter(time.Minute)
	h.env.ExecuteWorkflow(Underwrite, testInput)
	query()

	h.result(t)
	require.Equal(t, []string{loan.StageAwaitingLink, loan.StageDecided}, stages)
}

// TestUnderwriteRecordFailureFailsTheWorkflow: a workflow that cannot record its decision
// fails, and records first that it failed and why: stage failed, with the innermost
// error's type and message as the cause.
func TestUnderwriteRecordFailureFailsTheWorkflow(t *testing.T) {
	h := newHarness(t, scoring.Decision{})
	h.linked = nil
	h.decideErr = temporal.NewNonRetryableApplicationError("database gone", "Test", errors.New("database gone"))
	in := testInput
	in.LinkTimeout = time.Minute
	h.env.ExecuteWorkflow(Underwrite, in)
	require.True(t, h.env.IsWorkflowCompleted())
	require.ErrorContains(t, h.env.GetWorkflowError(), "record decision")
	require.Equal(t, []activities.FailureInput{{ApplicationID: in.ApplicationID, Cause: "Test: database gone"}}, h.failed)
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var st Status
	require.NoError(t, v.Get(&st))
	require.Equal(t, loan.StageFailed, st.Stage)
}

// TestUnderwriteFindsALinkMadeBeforeItStarted: the new run of an application whose run
// failed (or a start delayed past a fast applicant) finds the link at once, without
// waiting LinkPollInterval for a webhook that came before it.
func TestUnderwriteFindsALinkMadeBeforeItStarted(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	start := h.env.Now()
	h.env.ExecuteWorkflow(Underwrite, testInput)
	require.Equal(t, "approve", h.result(t).Outcome)
	require.Less(t, h.env.Now().Sub(start), LinkPollInterval)
}

func TestFailureCause(t *testing.T) {
	long := strings.Repeat("é", 400)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{temporal.NewNonRetryableApplicationError("input.Lender: bad", ErrTypeInvalidInput, nil), ErrTypeInvalidInput + ": input.Lender: bad"},
		{fmt.Errorf("register application: %w", temporal.NewApplicationError("boom", "")), "boom"},
		{errors.New("plain"), "plain"},
		// Cut at maxCauseLength bytes, and back to a whole rune ("é" is 2 bytes).
		{temporal.NewApplicationError(long, "T"), "T: " + long[:maxCauseLength-4] + "…"},
	} {
		got := FailureCause(tc.err)
		require.Equal(t, tc.want, got)
		require.True(t, utf8.ValidString(got))
	}
}

func TestUnderwriteRejectsInputWithoutSession(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	in := testInput
	in.SessionID = ""
	env.ExecuteWorkflow(Underwrite, in)
	require.ErrorContains(t, env.GetWorkflowError(), "SessionID")
}

func inactive(id string) activities.AccountState {
	s := finished(id, activities.RefreshSucceeded)
	s.Status = "inactive"
	return s
}

func TestUnderwriteWaitsForReactivation(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 650})
	var keys []string
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefreshInput) (activities.RefreshState, error) {
			keys = append(keys, in.IdempotencyKey)
			if len(keys) == 1 {
				return activities.RefreshState{Accounts: []activities.AccountState{inactive("fca_1")}}, nil
			}
			return activities.RefreshState{Accounts: []activities.AccountState{pending("fca_1")}}, nil
		})
	reactivated := false
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RefreshStatusInput) (activities.RefreshState, error) {
			if !reactivated {
				return activities.RefreshState{Accounts: []activities.AccountState{inactive("fca_1")}}, nil
			}
			return activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil
		})
	h.linkAfter(time.Second)
	h.env.RegisterDelayedCallback(func() {
		reactivated = true
		h.env.SignalWorkflow(SignalAccountStatus, AccountSignal{AccountID: "fca_1", Status: "active",
			EventType: "financial_connections.account.reactivated"})
	}, 3*time.Hour)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	res := h.result(t)
	require.Equal(t, "approve", res.Outcome)
	require.Equal(t, []string{"default-test-workflow-id/refresh/1", "default-test-workflow-id/refresh/2"}, keys,
		"a reactivated account is refreshed again under a new key")
	require.Zero(t, h.decided[0].Operational.InactiveAccounts)
	require.False(t, h.decided[0].Operational.RefreshFailed)
}

func TestUnderwriteRefersWhenAccountStaysInactive(t *testing.T) {
	for _, status := range []string{"inactive", "disconnected"} {
		t.Run(status, func(t *testing.T) {
			h := newHarness(t, scoring.Decision{Outcome: "refer", Score: 650})
			st := inactive("fca_1")
			st.Status = status
			requests := 0
			h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.RefreshInput) (activities.RefreshState, error) {
					requests++
					return activities.RefreshState{Accounts: []activities.AccountState{st}}, nil
				})
			h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
				activities.RefreshState{Accounts: []activities.AccountState{st}}, nil).Maybe()
			h.linkAfter(time.Second)
			start := h.env.Now()
			h.env.ExecuteWorkflow(Underwrite, testInput)

			res := h.result(t)
			require.Equal(t, "refer", res.Outcome)
			require.Equal(t, 1, requests)
			require.Equal(t, 1, h.decided[0].Operational.InactiveAccounts, "the policy sees the unusable account")
			waited := h.env.Now().Sub(start)
			if status == "inactive" {
				require.GreaterOrEqual(t, waited, DefaultReactivationTimeout, "an inactive account gets its reactivation window")
			} else {
				require.Less(t, waited, time.Hour, "a disconnected account is not waited for")
			}
		})
	}
}

func TestUnderwriteWaitsUntilRefreshIsAllowed(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 650})
	var calls []time.Time
	var keys []string
	retryAt := time.Time{}
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefreshInput) (activities.RefreshState, error) {
			calls = append(calls, h.env.Now())
			keys = append(keys, in.IdempotencyKey)
			if len(calls) == 1 {
				st := finished("fca_1", activities.RefreshSucceeded)
				retryAt = h.env.Now().Add(90 * time.Minute)
				st.RetryAt = retryAt
				return activities.RefreshState{Accounts: []activities.AccountState{st}}, nil
			}
			st := finished("fca_1", activities.RefreshSucceeded)
			st.Requested = true
			return activities.RefreshState{Accounts: []activities.AccountState{st}}, nil
		})
	h.linkAfter(time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	res := h.result(t)
	require.Equal(t, "approve", res.Outcome)
	require.Len(t, calls, 2)
	require.False(t, calls[1].Before(retryAt), "the second request waits for next_refresh_available_at")
	require.Equal(t, "default-test-workflow-id/refresh/2", keys[1])
	require.False(t, h.decided[0].Operational.RefreshFailed)
}

func TestUnderwriteDoesNotWaitPastMaxRefreshDelay(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "refer", Score: 650})
	requests := 0
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RefreshInput) (activities.RefreshState, error) {
			requests++
			st := finished("fca_1", activities.RefreshSucceeded)
			st.RetryAt = h.env.Now().Add(MaxRefreshDelay + time.Hour)
			return activities.RefreshState{Accounts: []activities.AccountState{st}}, nil
		})
	h.linkAfter(time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	require.Equal(t, "refer", h.result(t).Outcome)
	require.Equal(t, 1, requests)
	require.True(t, h.decided[0].Operational.RefreshFailed, "stale data that cannot be refreshed in time is a failed refresh")
}

func TestUnderwriteReturningCustomerSkipsTheLink(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	linkReads := 0
	h.env.OnActivity(acts.LinkedAccounts, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.LinkedAccountsInput) (activities.LinkedAccountsResult, error) {
			linkReads++
			return activities.LinkedAccountsResult{}, nil
		}).Maybe()
	var refreshed []string
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefreshInput) (activities.RefreshState, error) {
			refreshed = in.AccountIDs
			return activities.RefreshState{Accounts: []activities.AccountState{
				finished("fca_a", activities.RefreshSucceeded), finished("fca_b", activities.RefreshSucceeded)}}, nil
		})
	in := testInput
	in.SessionID = ""
	in.AccountIDs = []string{"fca_b", "fca_a"}
	h.env.ExecuteWorkflow(Underwrite, in)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Zero(t, linkReads, "no link to wait for")
	require.Equal(t, []string{"fca_a", "fca_b"}, refreshed)
}

func TestUnderwriteRegistersItsApplication(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 700})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	h.linkAfter(time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Equal(t, []activities.RegisterInput{{ApplicationID: "app-1", WorkflowID: "default-test-workflow-id",
		CustomerID: "cus_1", SessionID: "fcsess_1", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd"}}, h.registered,
		"a workflow started with the Go client has its application row")
}

// TestUnderwriteWaitsForTheStaleAccountWhileAnotherRefreshes: account A refreshes, account
// B holds stale data and may not be refreshed yet. Polling A to completion must not make
// the workflow forget B's wait.
func TestUnderwriteWaitsForTheStaleAccountWhileAnotherRefreshes(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "approve", Score: 650})
	h.linked = []string{"fca_a", "fca_b"}
	var rounds []time.Time
	var retryAt time.Time
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RefreshInput) (activities.RefreshState, error) {
			rounds = append(rounds, h.env.Now())
			b := finished("fca_b", activities.RefreshSucceeded)
			if len(rounds) == 1 {
				retryAt = h.env.Now().Add(2 * time.Hour)
				b.RetryAt = retryAt
				return activities.RefreshState{Accounts: []activities.AccountState{pending("fca_a"), b}}, nil
			}
			b.Requested = true
			return activities.RefreshState{Accounts: []activities.AccountState{finished("fca_a", activities.RefreshSucceeded), b}}, nil
		})
	h.env.OnActivity(acts.RefreshStatus, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{
			finished("fca_a", activities.RefreshSucceeded), finished("fca_b", activities.RefreshSucceeded)}}, nil)
	h.linkAfter(time.Second)
	h.env.ExecuteWorkflow(Underwrite, testInput)

	require.Equal(t, "approve", h.result(t).Outcome)
	require.Len(t, rounds, 2, "B is refreshed once Stripe allows it")
	require.False(t, rounds[1].Before(retryAt))
	require.False(t, h.decided[0].Operational.RefreshFailed)
}

// currentDetails reads the run's current details through Temporal's built-in metadata
// query, as the Web UI does.
func currentDetails(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

// TestUnderwriteSaysWhatItWaitsFor: the run's current details say what it waits for while
// it waits for the link (with the deadline), and its outcome and reason codes once
// decided.
func TestUnderwriteSaysWhatItWaitsFor(t *testing.T) {
	h := newHarness(t, scoring.Decision{Outcome: "decline", Score: 531,
		Reasons: []scoring.Reason{{Code: "NSF_EXCESS"}, {Code: "NEGATIVE_DAYS_EXCESS"}}})
	h.env.OnActivity(acts.RequestRefresh, mock.Anything, mock.Anything).Return(
		activities.RefreshState{Accounts: []activities.AccountState{finished("fca_1", activities.RefreshSucceeded)}}, nil)
	var waiting string
	h.env.RegisterDelayedCallback(func() { waiting = currentDetails(t, h.env) }, 30*time.Second)
	h.linkAfter(time.Minute)
	h.env.ExecuteWorkflow(Underwrite, testInput)
	h.result(t)
	require.Regexp(t, `^waiting for the applicant to link a bank account; expires \d{4}-\d\d-\d\dT`, waiting)
	require.Equal(t, "decided: decline, score 531 — NSF_EXCESS, NEGATIVE_DAYS_EXCESS", currentDetails(t, h.env))
}

// TestPayloadsLeaveOutDefaults: a history shows what was asked, not zero values that mean
// "the default" ("LinkTimeout":0) or "never" ("RetryAt":"0001-01-01T00:00:00Z"); a set value
// is there, and the JSON decodes back to the same value.
func TestPayloadsLeaveOutDefaults(t *testing.T) {
	b, err := json.Marshal(testInput)
	require.NoError(t, err)
	for _, absent := range []string{"LinkTimeout", "ReactivationTimeout", "AccountIDs", "Lender"} {
		require.NotContains(t, string(b), `"`+absent+`"`)
	}
	in := testInput
	in.LinkTimeout, in.Lender = time.Hour, "acme"
	b, err = json.Marshal(in)
	require.NoError(t, err)
	require.Contains(t, string(b), `"LinkTimeout":3600000000000`)
	var back UnderwriteInput
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, in, back)

	b, err = json.Marshal(activities.AccountState{AccountID: "fca_1", Status: "active"})
	require.NoError(t, err)
	require.JSONEq(t, `{"AccountID":"fca_1","Status":"active","TransactionRefreshID":"","TransactionRefreshStatus":"","BalanceRefreshStatus":""}`, string(b))
}
