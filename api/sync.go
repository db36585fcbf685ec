package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Bounds of a synchronous decision (POST /v1/applications?wait=decision). A returning
// customer's refresh, sync and scoring take seconds when Stripe is quick; when it is not,
// the request answers as without wait and the backend polls, as it would anyway.
const (
	// DefaultDecisionWait is how long a request waits for the decision unless it says.
	DefaultDecisionWait = 20 * time.Second
	// MaxDecisionWait bounds wait_timeout: the server answers every request within
	// WriteTimeout (60 s), and the wait comes after the start (up to 10 s) and before
	// the reads of the answer; load balancers commonly give up after a minute too.
	MaxDecisionWait = 40 * time.Second
)

// waitRequest is what the query of POST /v1/applications asks: whether to wait for the
// decision, and how long at most.
type waitRequest struct {
	decision bool
	timeout  time.Duration
}

// parseWait reads wait and wait_timeout from the query of POST /v1/applications.
func parseWait(q url.Values) (waitRequest, *FieldError) {
	w := waitRequest{timeout: DefaultDecisionWait}
	switch v := q.Get("wait"); v {
	case "":
	case "decision":
		w.decision = true
	default:
		return w, &FieldError{"wait", fmt.Sprintf("%q: the one thing to wait for is decision", v)}
	}
	if v := q.Get("wait_timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > MaxDecisionWait {
			return w, &FieldError{"wait_timeout", fmt.Sprintf("%q is not a duration from 1s to %s, such as 20s", v, MaxDecisionWait)}
		}
		if !w.decision {
			return w, &FieldError{"wait_timeout", "needs wait=decision"}
		}
		w.timeout = d
	}
	return w, nil
}

// startWithDecisionUpdate starts the application's workflow, or finds it running, with
// the decision update in the same call (Update-with-Start): the update is admitted before
// the call returns, and its handle then waits for the decision. A decided (or otherwise
// closed) workflow cannot take the update: the returned handle is then nil, with the run
// id, and the caller reads the decision from Postgres.
func (s *Server) startWithDecisionUpdate(ctx context.Context, lender string, app store.Application, req ApplicationRequest, customerID, sessionID string) (string, tclient.WorkflowUpdateHandle, error) {
	opts, input := s.startRequest(lender, app, req, customerID, sessionID)
	tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.UnderwriteWorkflowName, input)
	handle, err := s.Temporal.UpdateWithStartWorkflow(tctx, tclient.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: tclient.UpdateWorkflowOptions{
			// One id per run: a retried request waits on the same update.
			UpdateID:     workflows.UpdateDecision,
			UpdateName:   workflows.UpdateDecision,
			WaitForStage: tclient.WorkflowUpdateStageAccepted,
		},
	})
	if err == nil {
		return handle.RunID(), handle, nil
	}
	// The workflow is closed (decided, or its id may not run again) or the update could
	// not be delivered in time (no worker polls): start or find it the usual way.
	runID, serr := s.startWorkflow(ctx, lender, app, req, customerID, sessionID)
	if serr != nil {
		return "", nil, errors.Join(err, serr)
	}
	return runID, nil, nil
}

// awaitDecision waits at most timeout for the decision update to complete, and returns
// the recorded decision, or nil when there is none yet. failed reports that the run failed
// before deciding.
func (s *Server) awaitDecision(ctx context.Context, log *slog.Logger, handle tclient.WorkflowUpdateHandle, appID string, timeout time.Duration) (d *DecisionResponse, failed bool) {
	if handle != nil {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var res workflows.UnderwriteResult
		err := handle.Get(wctx, &res)
		var appErr *temporal.ApplicationError
		switch {
		case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeApplicationFailed:
			return nil, true
		case err != nil && wctx.Err() != nil:
			return nil, false // not decided within the wait: the backend polls
		case err != nil:
			log.WarnContext(ctx, "wait for decision", "err", err)
		}
	}
	rec, err := s.Store.GetDecision(ctx, appID)
	if err != nil {
		if !isNotFound(err) {
			log.ErrorContext(ctx, "read decision", "err", err)
		}
		return nil, false
	}
	return decisionResponse(rec), false
}

// decisionResponse is a recorded decision as the API shows it.
func decisionResponse(d store.Decision) *DecisionResponse {
	return &DecisionResponse{
		Outcome: d.Outcome, Score: d.Score, PD: d.PD, Reasons: d.Reasons, Rules: d.Rules,
		ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion, FeatureSetVersion: d.FeatureSetVersion,
		SnapshotID: d.SnapshotID, ContentHash: d.ContentHash, AsOf: d.AsOf, DecidedAt: d.DecidedAt,
		WorkflowID: d.WorkflowID, RunID: d.RunID,
	}
}

// LoanChangeRequest is the body of PATCH /v1/applications/{id}: the loan's new amount and
// term. Both are required; the currency does not change.
type LoanChangeRequest struct {
	LoanAmountMinor *int64 `json:"loan_amount_minor"`
	TermMonths      *int   `json:"term_months"`
}

// LoanChanged is the answer to PATCH /v1/applications/{id}: the loan the application will
// be decided for.
type LoanChanged struct {
	ApplicationID   string `json:"application_id"`
	LoanAmountMinor int64  `json:"loan_amount_minor"`
	TermMonths      int    `json:"term_months"`
	Currency        string `json:"currency"`
}

// changeApplication answers PATCH /v1/applications/{id}: a change of the loan's amount
// and term while the application waits for its link or refresh, sent to the workflow as
// the change-loan update. The workflow's validator refuses a change after that (409
// too_late), so a refused change leaves nothing in the workflow's history; after the
// decision a changed loan is a new application or a re-score.
func (s *Server) changeApplication(w http.ResponseWriter, r *http.Request) {
	app, ok := s.lenderApplication(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r, maxApplicationBody)
	if !ok {
		return
	}
	var req LoanChangeRequest
	if errs := decodeJSON(body, &req); len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", errs[0].Field+": "+errs[0].Problem, errs)
		return
	}
	var missing []FieldError
	if req.LoanAmountMinor == nil {
		missing = append(missing, FieldError{"loan_amount_minor", "required"})
	}
	if req.TermMonths == nil {
		missing = append(missing, FieldError{"term_months", "required"})
	}
	if len(missing) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", missing[0].Field+": "+missing[0].Problem, missing)
		return
	}
	ctx, id := r.Context(), app.ExternalID
	log := s.log().With("lender", app.LenderID, "application_id", id)
	var ferrs []FieldError
	for _, fe := range loan.FieldErrors(loan.Validate(loan.Request{AmountMinor: *req.LoanAmountMinor, TermMonths: *req.TermMonths, Currency: app.Currency})) {
		ferrs = append(ferrs, FieldError{fe.Field, fe.Problem})
	}
	if len(ferrs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", ferrs[0].Field+": "+ferrs[0].Problem, ferrs)
		return
	}
	switch app.Stage {
	case loan.StageDecided:
		writeError(w, http.StatusConflict, "too_late", "the application is decided: a new loan is a new application (or a re-score)", nil)
		return
	case loan.StageCreated, loan.StageFailed:
		writeError(w, http.StatusConflict, "not_running", "the application's underwriting is not running: send POST /v1/applications again with the loan you want", nil)
		return
	}
	change := workflows.LoanChange{LoanAmountMinor: *req.LoanAmountMinor, TermMonths: *req.TermMonths}
	tctx, cancel := context.WithTimeout(ctx, temporalTimeout+dbActivityWait)
	defer cancel()
	handle, err := s.Temporal.UpdateWorkflow(tctx, tclient.UpdateWorkflowOptions{
		WorkflowID: app.WorkflowID, UpdateName: workflows.UpdateChangeLoan, Args: []any{change},
		WaitForStage: tclient.WorkflowUpdateStageCompleted,
	})
	var got workflows.LoanChange
	if err == nil {
		err = handle.Get(tctx, &got)
	}
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		log.InfoContext(ctx, "loan changed", "loan_amount_minor", got.LoanAmountMinor, "term_months", got.TermMonths)
		writeJSON(w, http.StatusOK, LoanChanged{ApplicationID: id, LoanAmountMinor: got.LoanAmountMinor, TermMonths: got.TermMonths, Currency: app.Currency})
	case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeTooLate:
		writeError(w, http.StatusConflict, "too_late", appErr.Message(), nil)
	case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeChangeInProgress:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusConflict, "change_in_progress", appErr.Message(), nil)
	case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeInvalidInput:
		writeError(w, http.StatusBadRequest, "invalid_request", appErr.Message(), nil)
	case errors.As(err, &notFound):
		// The run ended since the row was read: decided or failed.
		writeError(w, http.StatusConflict, "too_late", "the application's underwriting has ended: a new loan is a new application (or a re-score)", nil)
	default:
		log.ErrorContext(ctx, "change loan", "workflow_id", app.WorkflowID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "workflow_unavailable", "could not change the loan; retry the same request", nil)
	}
}

// dbActivityWait is how long a loan change may take to be recorded (the ChangeLoan
// activity, one UPDATE) on top of reaching the workflow.
const dbActivityWait = 20 * time.Second
