package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enums "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/replay"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// send makes a request of the API with the dev lender's key and returns its status and
// body.
func send(t *testing.T, c Client, method, path string, v any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	req, err := c.newRequest(context.Background(), method, path, bytes.NewReader(b))
	require.NoError(t, err)
	resp, err := c.HTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// TestDecisionInTheSameRequest: a returning customer's application asked with
// ?wait=decision is decided within the request, through Update-with-Start, and answers
// the decision GET records; a retry of the decided request answers it again; a wait too
// short for the decision answers as without wait; and what cannot be waited for is
// refused, naming the field, with nothing stored.
func TestDecisionInTheSameRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 2 * time.Second})
	steady, acct := returningCustomer(ctx, t, stack, "sync-first")
	c := stack.Client(&http.Client{Timeout: 2 * time.Minute})
	req := api.ApplicationRequest{ApplicationID: "sync-second", LoanAmountMinor: steady.LoanAmountMinor,
		TermMonths: steady.TermMonths, Currency: steady.Currency, AccountIDs: []string{acct.ID}}

	status, body := send(t, c, http.MethodPost, "/v1/applications?wait=decision&wait_timeout=40s", req)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var created api.ApplicationCreated
	require.NoError(t, json.Unmarshal(body, &created))
	require.Equal(t, loan.StageDecided, created.Stage)
	require.NotNil(t, created.Decision, "decided within the request")
	require.Equal(t, steady.ExpectedOutcome, created.Decision.Outcome)
	st, code, err := c.GetApplication(ctx, "sync-second")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, loan.StageDecided, st.Stage)
	require.Equal(t, st.Decision.Outcome, created.Decision.Outcome)
	require.Equal(t, st.Decision.Score, created.Decision.Score)
	require.Equal(t, st.Decision.RunID, created.Decision.RunID)
	require.JSONEq(t, string(st.Decision.Reasons), string(created.Decision.Reasons))

	// The history holds the update, sent with the start and completed by the decision.
	accepted, completed := updateEvents(t, ctx, stack, "sync-second")
	require.Equal(t, []string{workflows.UpdateDecision}, accepted)
	require.Equal(t, 1, completed)
	replaysWithItsDecision(t, ctx, stack, "sync-second")

	// The same request again: the workflow has ended; the answer is the recorded decision.
	status, body = send(t, c, http.MethodPost, "/v1/applications?wait=decision", req)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var again api.ApplicationCreated
	require.NoError(t, json.Unmarshal(body, &again))
	require.False(t, again.Created)
	require.NotNil(t, again.Decision)
	require.Equal(t, created.Decision.RunID, again.Decision.RunID, "the same decision, not a new run")

	// A wait shorter than Stripe takes (4 s to answer about the account) answers as
	// without wait; the decision follows, and GET finds it.
	req.ApplicationID = "sync-third"
	require.NoError(t, stack.Sandbox.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultLatency,
		PathPrefix: "/v1/financial_connections/accounts/", LatencyMS: 4000}))
	status, body = send(t, c, http.MethodPost, "/v1/applications?wait=decision&wait_timeout=1s", req)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var quick api.ApplicationCreated
	require.NoError(t, json.Unmarshal(body, &quick))
	require.Nil(t, quick.Decision)
	require.Equal(t, loan.StageRefreshing, quick.Stage)
	st, err = c.WaitForDecision(ctx, "sync-third")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)

	// Refused requests name the field and store nothing.
	for _, tc := range []struct {
		name, query string
		body        api.ApplicationRequest
		field       string
	}{
		{"no accounts", "?wait=decision", api.ApplicationRequest{ApplicationID: "sync-bad", LoanAmountMinor: 1000, TermMonths: 6}, "wait"},
		{"unknown wait", "?wait=soon", req, "wait"},
		{"wait too long", "?wait=decision&wait_timeout=5m", req, "wait_timeout"},
		{"timeout without wait", "?wait_timeout=10s", req, "wait_timeout"},
	} {
		tc.body.ApplicationID = "sync-bad"
		status, body := send(t, c, http.MethodPost, "/v1/applications"+tc.query, tc.body)
		require.Equal(t, http.StatusBadRequest, status, tc.name)
		var eb api.ErrorBody
		require.NoError(t, json.Unmarshal(body, &eb), tc.name)
		require.Equal(t, tc.field, eb.Error.Fields[0].Field, tc.name)
	}
	_, code, _ = c.GetApplication(ctx, "sync-bad")
	require.Equal(t, http.StatusNotFound, code, "a refused request stores nothing")
}

// updateEvents lists the names of the updates an application's history accepted, and how
// many completed.
func updateEvents(t *testing.T, ctx context.Context, stack *Stack, applicationID string) (accepted []string, completed int) {
	t.Helper()
	it := stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(DevKey(applicationID)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
			accepted = append(accepted, a.GetAcceptedRequest().GetInput().GetName())
		}
		if ev.GetWorkflowExecutionUpdateCompletedEventAttributes() != nil {
			completed++
		}
	}
	return accepted, completed
}

// TestChangeTheLoanWhileWaitingForTheLink: PATCH changes the loan of an application whose
// applicant has not linked yet (the change-loan update); the row and the decision follow
// the change. A change the workflow's validator refuses leaves nothing in the history, and
// after the decision a change is refused as too late.
func TestChangeTheLoanWhileWaitingForTheLink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	steady := persona(t, stack, "steady_salaried")
	hc := &http.Client{Timeout: 30 * time.Second}
	c := stack.Client(hc)
	created, err := c.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "change-1",
		LoanAmountMinor: steady.LoanAmountMinor, TermMonths: steady.TermMonths, Currency: steady.Currency})
	require.NoError(t, err)

	newAmount, newTerm := steady.LoanAmountMinor/2, steady.TermMonths+6
	status, body := send(t, c, http.MethodPatch, "/v1/applications/change-1", map[string]any{
		"loan_amount_minor": newAmount, "term_months": newTerm})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var changed api.LoanChanged
	require.NoError(t, json.Unmarshal(body, &changed))
	require.Equal(t, api.LoanChanged{ApplicationID: "change-1", LoanAmountMinor: newAmount, TermMonths: newTerm, Currency: steady.Currency}, changed)
	st, _, err := c.GetApplication(ctx, "change-1")
	require.NoError(t, err)
	require.Equal(t, newAmount, st.LoanAmountMinor)
	require.Equal(t, newTerm, st.TermMonths)

	// Bad bodies are refused by the API, naming the field.
	for body, field := range map[string]string{
		`{"loan_amount_minor": 0, "term_months": 12}`:             "loan_amount_minor",
		`{"loan_amount_minor": 100000}`:                           "term_months",
		`{"loan_amount_minor": 100000, "term_months": "12"}`:      "term_months",
		`{"loan_amount_minor": 100000, "term_months": 12, "x":1}`: "x",
	} {
		req, err := c.newRequest(ctx, http.MethodPatch, "/v1/applications/change-1", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		var eb api.ErrorBody
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		require.Equal(t, field, eb.Error.Fields[0].Field, body)
	}

	// The workflow's own validator refuses a loan outside loan's bounds (sent straight
	// to Temporal, past the API's check): no trace in history.
	handle, err := stack.Temporal.UpdateWorkflow(ctx, tclient.UpdateWorkflowOptions{
		WorkflowID: created.WorkflowID, UpdateName: workflows.UpdateChangeLoan,
		Args: []any{workflows.LoanChange{LoanAmountMinor: -5, TermMonths: 12}}, WaitForStage: tclient.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, workflows.ErrTypeInvalidInput, appErr.Type())
	accepted, completed := updateEvents(t, ctx, stack, "change-1")
	require.Equal(t, []string{workflows.UpdateChangeLoan}, accepted, "only the accepted change is in the history")
	require.Equal(t, 1, completed)

	// The applicant links; the decision is made for the changed loan.
	_, err = fcsandbox.CompleteLink(ctx, hc, stack.SandboxURL, created.ClientSecret, steady.Name)
	require.NoError(t, err)
	st, err = c.WaitForDecision(ctx, "change-1")
	require.NoError(t, err)
	require.Equal(t, newAmount, st.LoanAmountMinor)
	decide := activityInputs[struct {
		Loan struct {
			AmountMinor int64
			TermMonths  int
		}
	}](t, ctx, stack, "change-1", "Decide")
	require.Len(t, decide, 1)
	require.Equal(t, newAmount, decide[0].Loan.AmountMinor, "scored for the changed loan")
	require.Equal(t, newTerm, decide[0].Loan.TermMonths)

	replaysWithItsDecision(t, ctx, stack, "change-1")

	status, body = send(t, c, http.MethodPatch, "/v1/applications/change-1", map[string]any{
		"loan_amount_minor": newAmount, "term_months": newTerm})
	require.Equal(t, http.StatusConflict, status, "%s", body)
	require.Contains(t, string(body), `"too_late"`)
	status, _ = send(t, c, http.MethodPatch, "/v1/applications/nobody", map[string]any{"loan_amount_minor": 1000, "term_months": 6})
	require.Equal(t, http.StatusNotFound, status)
}

// activityInputs decodes the inputs of an application's activities of one type.
func activityInputs[T any](t *testing.T, ctx context.Context, stack *Stack, applicationID, activityType string) []T {
	t.Helper()
	it := stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(DevKey(applicationID)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []T
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.ActivityType.GetName() == activityType {
			var in T
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.Input, &in))
			out = append(out, in)
		}
	}
	return out
}

// replaysWithItsDecision replays a decided application's history, updates and all,
// against this build, and compares its result with the decision row.
func replaysWithItsDecision(t *testing.T, ctx context.Context, stack *Stack, applicationID string) {
	t.Helper()
	wid := workflows.WorkflowID(DevKey(applicationID))
	require.NoError(t, stack.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, nil))
	h, err := replay.Fetch(ctx, stack.Temporal, wid, "")
	require.NoError(t, err)
	r := replay.History(h, "server", wid, "", nil)
	require.NoError(t, replay.CompareDecision(ctx, stack.Store, &r))
	require.True(t, r.OK(), "%+v", r)
	require.Equal(t, "equal", r.Decision)
}
