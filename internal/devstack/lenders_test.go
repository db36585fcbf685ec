package devstack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/loan"
)

// newLender creates a lender with an API key in the stack's database and returns a client
// acting as it.
func newLender(ctx context.Context, t *testing.T, stack *Stack, lender string) Client {
	t.Helper()
	k, err := api.NewKey()
	require.NoError(t, err)
	require.NoError(t, stack.Store.EnsureLender(ctx, lender, ""))
	require.NoError(t, stack.Store.InsertAPIKey(ctx, lender, k.ID, "test", k.Hash))
	return Client{HTTP: &http.Client{Timeout: 30 * time.Second}, URL: stack.APIURL, Key: k.Secret}
}

// visible waits until the Temporal visibility query finds want workflows.
func visible(ctx context.Context, t *testing.T, stack *Stack, query string, want int) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.Executions) == want
	}, 30*time.Second, 100*time.Millisecond, "query %s", query)
}

// TestLendersAreIsolated is issue 9's attack, replayed: without a key nothing is served;
// another lender's application id is another application (its GET a 404, its POST a new
// application with its own workflow, Stripe customer and client_secret); a returning
// customer's account of another lender is not found; the UI can list a lender's workflows.
func TestLendersAreIsolated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	dev := stack.Client(&http.Client{Timeout: 30 * time.Second})
	zeta := newLender(ctx, t, stack, "zeta")
	steady := persona(t, stack, "steady_salaried")
	req := api.ApplicationRequest{ApplicationID: "shared-1", LoanAmountMinor: steady.LoanAmountMinor,
		TermMonths: steady.TermMonths, Currency: steady.Currency}

	mine, err := dev.CreateApplication(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "underwrite/dev/shared-1", mine.WorkflowID)

	_, code, _ := Client{HTTP: dev.HTTP, URL: dev.URL}.GetApplication(ctx, "shared-1")
	require.Equal(t, http.StatusUnauthorized, code, "no key")
	_, code, _ = zeta.GetApplication(ctx, "shared-1")
	require.Equal(t, http.StatusNotFound, code, "another lender's application is not found")

	theirs, err := zeta.CreateApplication(ctx, req)
	require.NoError(t, err)
	require.True(t, theirs.Created, "the same id is another application for another lender")
	require.Equal(t, "underwrite/zeta/shared-1", theirs.WorkflowID)
	require.NotEqual(t, mine.CustomerID, theirs.CustomerID)
	require.NotEqual(t, mine.ClientSecret, theirs.ClientSecret)
	again, err := zeta.CreateApplication(ctx, req)
	require.NoError(t, err)
	require.Equal(t, theirs.ClientSecret, again.ClientSecret, "a lender's retry gets its own secret back")
	require.NotEqual(t, mine.ClientSecret, again.ClientSecret)

	_, err = fcsandbox.CompleteLink(ctx, dev.HTTP, stack.SandboxURL, mine.ClientSecret, steady.Name)
	require.NoError(t, err)
	st, err := dev.WaitForDecision(ctx, "shared-1")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)
	require.Equal(t, "shared-1", st.ApplicationID, "a lender sees its own id")
	zst, _, err := zeta.GetApplication(ctx, "shared-1")
	require.NoError(t, err)
	require.Nil(t, zst.Decision, "dev's decision is not zeta's")
	require.Equal(t, loan.StageAwaitingLink, zst.Stage)

	accounts, err := stack.Store.ListAccounts(ctx, DevKey("shared-1"))
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	_, err = zeta.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "steal-1", LoanAmountMinor: 100000,
		TermMonths: 12, AccountIDs: []string{accounts[0].ID}})
	require.ErrorContains(t, err, "HTTP 400")
	require.ErrorContains(t, err, "no account "+accounts[0].ID+" was linked by an earlier application")
	_, code, _ = zeta.GetApplication(ctx, "steal-1")
	require.Equal(t, http.StatusNotFound, code, "a refused request stores nothing")

	visible(ctx, t, stack, "UnderwritingLender = 'zeta'", 1)
	visible(ctx, t, stack, "UnderwritingLender = 'dev' AND ApplicationID = 'dev/shared-1'", 1)
}

// TestFailedApplicationRestarts: a request Stripe refuses leaves its application at stage
// created, and a corrected request takes its place; a workflow that fails records stage
// failed with its cause (GET and the UnderwritingStage search attribute show it), and the
// same request starts the application again, which then decides.
func TestFailedApplicationRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	c := stack.Client(&http.Client{Timeout: 30 * time.Second})
	steady := persona(t, stack, "steady_salaried")

	// Stripe refuses the customer: nothing started, the row says created.
	require.NoError(t, stack.Sandbox.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultError, Method: http.MethodPost,
		PathPrefix: "/v1/customers", Status: http.StatusBadRequest, Code: "email_invalid"}))
	req := api.ApplicationRequest{ApplicationID: "fail-1", LoanAmountMinor: steady.LoanAmountMinor,
		TermMonths: steady.TermMonths, Currency: steady.Currency, Applicant: &api.Applicant{Email: "typo@example"}}
	_, err := c.CreateApplication(ctx, req)
	require.ErrorContains(t, err, "HTTP 400")
	require.ErrorContains(t, err, "email_invalid")
	st, _, err := c.GetApplication(ctx, "fail-1")
	require.NoError(t, err)
	require.Equal(t, loan.StageCreated, st.Stage, "no workflow runs yet")

	// The corrected request replaces it (no 409), and the workflow starts.
	req.Applicant.Email = "fixed@example.com"
	first, err := c.CreateApplication(ctx, req)
	require.NoError(t, err)
	require.Equal(t, loan.StageAwaitingLink, first.Stage)

	// Stripe refuses our key on the refresh: the workflow fails, and says so.
	require.NoError(t, stack.Sandbox.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultError, Method: http.MethodPost,
		PathPrefix: "/v1/financial_connections/accounts/", Status: http.StatusUnauthorized}))
	_, err = fcsandbox.CompleteLink(ctx, c.HTTP, stack.SandboxURL, first.ClientSecret, steady.Name)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, _, err = c.GetApplication(ctx, "fail-1")
		return err == nil && st.Stage == loan.StageFailed
	}, time.Minute, 100*time.Millisecond)
	require.True(t, strings.HasPrefix(st.FailureCause, "StripeAuthentication: "), st.FailureCause)
	require.Nil(t, st.Decision)
	visible(ctx, t, stack, fmt.Sprintf("ApplicationID = '%s' AND UnderwritingStage = '%s'", DevKey("fail-1"), loan.StageFailed), 1)

	// The same request starts it again: a new run, which finds the link already made.
	second, err := c.CreateApplication(ctx, req)
	require.NoError(t, err)
	require.False(t, second.Created)
	require.NotEqual(t, first.RunID, second.RunID, "a new run")
	require.Equal(t, first.ClientSecret, second.ClientSecret)
	st, err = c.WaitForDecision(ctx, "fail-1")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)
	require.Empty(t, st.FailureCause)
	n, err := stack.Store.CountDecisions(ctx, DevKey("fail-1"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
