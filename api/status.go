package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// ApplicationStatus is the answer to GET /v1/applications/{id}.
type ApplicationStatus struct {
	ApplicationID   string   `json:"application_id"`
	WorkflowID      string   `json:"workflow_id"`
	Stage           string   `json:"stage"`
	LoanAmountMinor int64    `json:"loan_amount_minor"`
	TermMonths      int      `json:"term_months"`
	Currency        string   `json:"currency"`
	AccountIDs      []string `json:"account_ids,omitempty"`
	Transactions    int      `json:"transactions,omitempty"`
	// FailureCause says why the workflow failed, with Stage "failed". The same request
	// (POST /v1/applications with the same body) starts the application again.
	FailureCause string            `json:"failure_cause,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	Decision     *DecisionResponse `json:"decision,omitempty"`
}

// DecisionResponse is a recorded decision as the API shows it.
type DecisionResponse struct {
	Outcome           string          `json:"outcome"`
	Score             *int            `json:"score,omitempty"`
	PD                *float64        `json:"pd,omitempty"`
	Reasons           json.RawMessage `json:"reasons"`
	Rules             json.RawMessage `json:"rules"`
	ModelVersion      string          `json:"model_version,omitempty"`
	PolicyVersion     string          `json:"policy_version,omitempty"`
	FeatureSetVersion string          `json:"feature_set_version,omitempty"`
	SnapshotID        *int64          `json:"snapshot_id,omitempty"`
	ContentHash       *string         `json:"content_hash,omitempty"`
	AsOf              *time.Time      `json:"as_of,omitempty"`
	DecidedAt         time.Time       `json:"decided_at"`
	WorkflowID        string          `json:"workflow_id"`
	RunID             string          `json:"run_id"`
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	app, ok := s.lenderApplication(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), app.ExternalID
	out := ApplicationStatus{
		ApplicationID: app.ExternalID, WorkflowID: app.WorkflowID, Stage: app.Stage,
		LoanAmountMinor: app.LoanAmountMinor, TermMonths: app.TermMonths, Currency: app.Currency,
		CreatedAt: app.CreatedAt,
	}
	d, err := s.Store.GetDecision(ctx, app.ID)
	switch {
	case err == nil:
		out.Stage = loan.StageDecided
		out.Decision = decisionResponse(d)
	case !isNotFound(err):
		s.log().ErrorContext(ctx, "read decision", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the decision", nil)
		return
	case app.Stage == loan.StageFailed:
		if app.FailureCause != nil {
			out.FailureCause = *app.FailureCause
		}
	case app.Stage != loan.StageCreated:
		s.liveStage(ctx, app.WorkflowID, &out)
		if out.Stage == loan.StageFailed && out.FailureCause == "" {
			// The run failed since the row was read: it stores its cause before it says so.
			if again, err := s.Store.GetApplication(ctx, app.ID); err == nil && again.FailureCause != nil {
				out.FailureCause = *again.FailureCause
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// liveStage fills out's stage from the workflow. A run that ended without a decision
// (failed before it could record it, terminated by an operator, timed out) is stage
// failed, with how it ended as its cause. A running workflow knows its stage; when it
// cannot be asked (the worker is down) out keeps what Postgres has.
func (s *Server) liveStage(ctx context.Context, workflowID string, out *ApplicationStatus) {
	qctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	if desc, err := s.Temporal.DescribeWorkflowExecution(qctx, workflowID, ""); err == nil {
		if ended, ok := endedWithoutDecision[desc.GetWorkflowExecutionInfo().GetStatus()]; ok {
			out.Stage, out.FailureCause = loan.StageFailed, "workflow "+ended
			return
		}
	}
	v, err := s.Temporal.QueryWorkflow(qctx, workflowID, "", workflows.QueryStatus)
	if err != nil {
		return
	}
	var st workflows.Status
	if v.Get(&st) == nil && st.Stage != "" {
		out.Stage = st.Stage
		out.AccountIDs = st.AccountIDs
		out.Transactions = st.Transactions
	}
}

// endedWithoutDecision names the ways a run can end without a decision.
var endedWithoutDecision = map[enumspb.WorkflowExecutionStatus]string{
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:     "failed",
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED: "terminated",
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:  "timed out",
	enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:   "canceled",
}

// lenderApplication reads the authenticated lender's application named by the path's
// {id}. It answers the request itself when there is none (404: another lender's
// application with this id is not found, ids are per lender) or it cannot be read.
func (s *Server) lenderApplication(w http.ResponseWriter, r *http.Request) (store.Application, bool) {
	id := r.PathValue("id")
	if !applicationIDPattern.MatchString(id) {
		// No application can have this id (a NUL byte, invalid UTF-8, a slash…): Postgres
		// would refuse some of them outright, so they never reach it.
		writeError(w, http.StatusNotFound, "application_not_found", "application_id: not a valid application id",
			[]FieldError{{"application_id", "not a valid application id"}})
		return store.Application{}, false
	}
	ctx := r.Context()
	app, err := s.Store.GetLenderApplication(ctx, lenderOf(ctx), id)
	if isNotFound(err) {
		writeError(w, http.StatusNotFound, "application_not_found", "application_id: no application "+id, []FieldError{{"application_id", "not found"}})
		return app, false
	}
	if err != nil {
		s.log().ErrorContext(ctx, "read application", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the application", nil)
		return app, false
	}
	return app, true
}
