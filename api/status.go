package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// ApplicationStatus is the answer to GET /v1/applications/{id}.
type ApplicationStatus struct {
	ApplicationID   string            `json:"application_id"`
	WorkflowID      string            `json:"workflow_id"`
	Stage           string            `json:"stage"`
	LoanAmountMinor int64             `json:"loan_amount_minor"`
	TermMonths      int               `json:"term_months"`
	Currency        string            `json:"currency"`
	AccountIDs      []string          `json:"account_ids,omitempty"`
	Transactions    int               `json:"transactions,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	Decision        *DecisionResponse `json:"decision,omitempty"`
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
	id := r.PathValue("id")
	if !applicationIDPattern.MatchString(id) {
		// No application can have this id (a NUL byte, invalid UTF-8, a slash…): Postgres
		// would refuse some of them outright, so they never reach it.
		writeError(w, http.StatusNotFound, "application_not_found", "application_id: not a valid application id",
			[]FieldError{{"application_id", "not a valid application id"}})
		return
	}
	ctx := r.Context()
	app, err := s.Store.GetApplication(ctx, id)
	if isNotFound(err) {
		writeError(w, http.StatusNotFound, "application_not_found", "application_id: no application "+id, []FieldError{{"application_id", "not found"}})
		return
	}
	if err != nil {
		s.log().ErrorContext(ctx, "read application", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the application", nil)
		return
	}
	out := ApplicationStatus{
		ApplicationID: app.ID, WorkflowID: app.WorkflowID, Stage: app.Stage,
		LoanAmountMinor: app.LoanAmountMinor, TermMonths: app.TermMonths, Currency: app.Currency,
		CreatedAt: app.CreatedAt,
	}
	d, err := s.Store.GetDecision(ctx, id)
	switch {
	case err == nil:
		out.Stage = loan.StageDecided
		out.Decision = &DecisionResponse{
			Outcome: d.Outcome, Score: d.Score, PD: d.PD, Reasons: d.Reasons, Rules: d.Rules,
			ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion, FeatureSetVersion: d.FeatureSetVersion,
			SnapshotID: d.SnapshotID, ContentHash: d.ContentHash, AsOf: d.AsOf, DecidedAt: d.DecidedAt,
			WorkflowID: d.WorkflowID, RunID: d.RunID,
		}
	case !isNotFound(err):
		s.log().ErrorContext(ctx, "read decision", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the decision", nil)
		return
	default:
		// Undecided: the workflow knows its stage. A query failure (the worker is down)
		// still answers with what Postgres has.
		qctx, cancel := context.WithTimeout(ctx, temporalTimeout)
		defer cancel()
		if v, err := s.Temporal.QueryWorkflow(qctx, app.WorkflowID, "", workflows.QueryStatus); err == nil {
			var st workflows.Status
			if v.Get(&st) == nil && st.Stage != "" {
				out.Stage = st.Stage
				out.AccountIDs = st.AccountIDs
				out.Transactions = st.Transactions
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
