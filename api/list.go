package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cashflow-underwriting/underwriter/loan"
)

// Bounds of GET /v1/applications, as Stripe's list endpoints have them.
const (
	defaultListLimit = 10
	maxListLimit     = 100
)

// ApplicationList is the answer to GET /v1/applications: a page of the lender's
// applications, newest first. HasMore says that ?starting_after=<the last id> gives more.
type ApplicationList struct {
	Object  string             `json:"object"`
	Data    []ApplicationBrief `json:"data"`
	HasMore bool               `json:"has_more"`
}

// ApplicationBrief is one application in a list: what it asked for, its stage as stored
// and the outcome once decided. GET /v1/applications/{id} has the rest.
type ApplicationBrief struct {
	ApplicationID   string    `json:"application_id"`
	WorkflowID      string    `json:"workflow_id"`
	Stage           string    `json:"stage"`
	Outcome         string    `json:"outcome,omitempty"`
	LoanAmountMinor int64     `json:"loan_amount_minor"`
	TermMonths      int       `json:"term_months"`
	Currency        string    `json:"currency"`
	CreatedAt       time.Time `json:"created_at"`
}

// listApplications answers GET /v1/applications?limit=&starting_after=: the authenticated
// lender's applications, newest first, at most limit (1…100, default 10) per page. The
// stage is the one Postgres holds, read without asking Temporal (a page of a hundred would
// be a hundred queries): created, awaiting_link from the workflow's start until the
// decision (decided, with its outcome) or a failure; GET /v1/applications/{id} has the
// live stage.
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultListLimit
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "invalid_request", "limit: must be an integer from 1 to 100",
				[]FieldError{{"limit", "must be an integer from 1 to 100"}})
			return
		}
		limit = n
	}
	after := q.Get("starting_after")
	if q.Has("starting_after") && !applicationIDPattern.MatchString(after) {
		writeError(w, http.StatusBadRequest, "invalid_request", "starting_after: not a valid application id",
			[]FieldError{{"starting_after", "not a valid application id"}})
		return
	}
	for name := range q {
		if name != "limit" && name != "starting_after" {
			writeError(w, http.StatusBadRequest, "invalid_request", name+": unknown parameter; use limit and starting_after",
				[]FieldError{{name, "unknown parameter"}})
			return
		}
	}
	ctx := r.Context()
	// One more than asked says whether there is a next page.
	rows, err := s.Store.ListLenderApplications(ctx, lenderOf(ctx), after, limit+1)
	if isNotFound(err) {
		writeError(w, http.StatusBadRequest, "invalid_request", "starting_after: no application "+after,
			[]FieldError{{"starting_after", "no such application"}})
		return
	}
	if err != nil {
		s.log().ErrorContext(ctx, "list applications", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not list the applications", nil)
		return
	}
	out := ApplicationList{Object: "list", Data: []ApplicationBrief{}, HasMore: len(rows) > limit}
	for _, a := range rows[:min(len(rows), limit)] {
		b := ApplicationBrief{ApplicationID: a.ExternalID, WorkflowID: a.WorkflowID, Stage: a.Stage,
			LoanAmountMinor: a.LoanAmountMinor, TermMonths: a.TermMonths, Currency: a.Currency, CreatedAt: a.CreatedAt}
		if a.Outcome != nil {
			b.Stage, b.Outcome = loan.StageDecided, *a.Outcome
		}
		out.Data = append(out.Data, b)
	}
	writeJSON(w, http.StatusOK, out)
}
