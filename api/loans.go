package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Limits of a loan booking.
const (
	// maxLoanBody is far above any valid booking (a few hundred bytes).
	maxLoanBody = 16 << 10
	// maxFirstDueAfterDecision bounds the first due date: a year after the decision is
	// beyond any first instalment, so a later date is a typing error (a wrong year).
	maxFirstDueAfterDecision = 366
)

// dateLayout is how the API spells a day: YYYY-MM-DD.
const dateLayout = time.DateOnly

// LoanRequest is the body of POST /v1/loans: the loan the lender booked on an approved
// application.
type LoanRequest struct {
	// ApplicationID is the lender's own application id (POST /v1/applications's); the
	// loan's id from then on.
	ApplicationID string `json:"application_id"`
	// AmountMinor is the booked amount in minor units; it may differ from the amount
	// applied for.
	AmountMinor int64 `json:"amount_minor"`
	// Currency defaults to the application's and must be it.
	Currency string `json:"currency,omitempty"`
	// TermMonths is the booked term.
	TermMonths int `json:"term_months"`
	// FirstDueDate is the first instalment's due day, YYYY-MM-DD, after the decision's
	// day on the ledger's clock (its as_of day, which the decision shows) and within a
	// year of it; instalment k is due k months later.
	FirstDueDate string `json:"first_due_date"`
	// InstalmentMinor is the amount due each month. Omitted, it is the principal alone
	// spread evenly, ceil(amount_minor / term_months): send it when the loan carries
	// interest or fees, so LOW_BALANCE compares the balance with what is really due.
	InstalmentMinor int64 `json:"instalment_minor,omitempty"`
}

// LoanResponse is a booked loan as the API shows it (POST /v1/loans, GET /v1/loans/{id},
// POST /v1/loans/{id}/close).
type LoanResponse struct {
	ApplicationID   string `json:"application_id"`
	WorkflowID      string `json:"workflow_id"`
	AmountMinor     int64  `json:"amount_minor"`
	Currency        string `json:"currency"`
	TermMonths      int    `json:"term_months"`
	FirstDueDate    string `json:"first_due_date"`
	InstalmentMinor int64  `json:"instalment_minor"`
	// Status is active, or why the loan ended: repaid, charged_off, cancelled or
	// term_ended.
	Status   string     `json:"status"`
	BookedAt time.Time  `json:"booked_at"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// Created says whether this POST /v1/loans booked the loan (false: a repeat).
	Created bool `json:"created,omitempty"`
	// Alerts counts the loan's stored alerts, Undelivered those its lender's endpoint has
	// not accepted yet; LastAlert is the latest one's event type.
	Alerts      int    `json:"alerts"`
	Undelivered int    `json:"undelivered_alerts"`
	LastAlert   string `json:"last_alert,omitempty"`
	// Monitoring is the watcher's own view, when it answers (it does not once closed, or
	// while no worker runs).
	Monitoring *MonitoringResponse `json:"monitoring,omitempty"`
}

// MonitoringResponse is a watcher's answer to workflows.QueryMonitorStatus.
type MonitoringResponse struct {
	// Status is watching, at_risk or closed (the MonitoringStatus search attribute).
	Status    string `json:"status"`
	Checks    int    `json:"checks"`
	Alerts    int    `json:"alerts"`
	LastAlert string `json:"last_alert,omitempty"`
	// LedgerAsOf is the ledger clock of the last check.
	LedgerAsOf *time.Time `json:"ledger_as_of,omitempty"`
}

// AlertResponse is one of a loan's alerts (GET /v1/loans/{id}/alerts): the webhook's
// event and how its delivery went.
type AlertResponse struct {
	// ID is the webhook's id and Underwriter-Delivery header.
	ID                      string          `json:"id"`
	Event                   alerthook.Event `json:"event"`
	Rescore                 json.RawMessage `json:"rescore,omitempty"`
	MonitoringPolicyVersion string          `json:"monitoring_policy_version"`
	LedgerAsOf              time.Time       `json:"ledger_as_of"`
	CreatedAt               time.Time       `json:"created_at"`
	// DeliveredAt is when the lender's endpoint accepted it, absent until then (also
	// when the lender has no alert webhook URL).
	DeliveredAt       *time.Time `json:"delivered_at,omitempty"`
	DeliveryAttempts  int        `json:"delivery_attempts"`
	LastDeliveryError string     `json:"last_delivery_error,omitempty"`
}

// AlertList is the answer to GET /v1/loans/{id}/alerts, oldest first.
type AlertList struct {
	Alerts []AlertResponse `json:"alerts"`
}

// CloseRequest is the body of POST /v1/loans/{id}/close.
type CloseRequest struct {
	// Reason is repaid, charged_off or cancelled.
	Reason string `json:"reason"`
}

// closeReasons are the reasons a lender may close a loan with (term_ended is the
// watcher's own).
var closeReasons = []string{workflows.LoanRepaid, workflows.LoanChargedOff, workflows.LoanCancelled}

func decodeLoan(body []byte) (LoanRequest, time.Time, []FieldError) {
	var req LoanRequest
	if errs := decodeJSON(body, &req); len(errs) > 0 {
		return req, time.Time{}, errs
	}
	var errs []FieldError
	if !applicationIDPattern.MatchString(req.ApplicationID) {
		errs = append(errs, FieldError{"application_id", "required: the id of an approved application (POST /v1/applications's application_id)"})
	}
	currency := req.Currency
	if currency == "" {
		currency = loan.DefaultCurrency // only to check the rest; the application's is used
	}
	for _, fe := range loan.FieldErrors(loan.Validate(loan.Request{
		AmountMinor: req.AmountMinor, TermMonths: req.TermMonths, Currency: currency,
	})) {
		field := fe.Field
		if field == loan.FieldAmount {
			field = "amount_minor"
		}
		errs = append(errs, FieldError{field, fe.Problem})
	}
	due, err := time.Parse(dateLayout, req.FirstDueDate)
	if err != nil {
		errs = append(errs, FieldError{"first_due_date", "required: a day YYYY-MM-DD"})
	}
	if req.InstalmentMinor < 0 || req.InstalmentMinor > loan.MaxAmountMinor {
		errs = append(errs, FieldError{"instalment_minor", fmt.Sprintf("must be positive and at most %d (omit it for ceil(amount_minor / term_months))", int64(loan.MaxAmountMinor))})
	}
	return req, due, errs
}

// levelInstalment is the default instalment: the principal spread evenly over the term,
// rounded up so that the instalments cover it.
func levelInstalment(amount int64, term int) int64 {
	return (amount + int64(term) - 1) / int64(term)
}

// bookLoan answers POST /v1/loans: it books the loan of the lender's approved application
// and starts its watcher, the Monitor workflow monitor/<application key>. Booking is
// idempotent: the same request again answers 200 with the stored loan (and starts the
// watcher if the first attempt could not); the same application with other terms is a
// 409. The loan row comes first, so a booking the lender was told about is never lost.
func (s *Server) bookLoan(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxLoanBody)
	if !ok {
		return
	}
	req, due, ferrs := decodeLoan(body)
	if len(ferrs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", ferrs[0].Field+": "+ferrs[0].Problem, ferrs)
		return
	}
	ctx := r.Context()
	lender := lenderOf(ctx)
	log := s.log().With("lender", lender, "application_id", req.ApplicationID)
	app, err := s.Store.GetLenderApplication(ctx, lender, req.ApplicationID)
	if isNotFound(err) {
		writeError(w, http.StatusNotFound, "application_not_found", "application_id: no application "+req.ApplicationID,
			[]FieldError{{"application_id", "not found"}})
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "read application", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the application", nil)
		return
	}
	d, err := s.Store.GetDecision(ctx, app.ID)
	switch {
	case isNotFound(err):
		writeError(w, http.StatusConflict, "not_approved", "application_id: the application has no decision yet; only an approved application's loan can be booked",
			[]FieldError{{"application_id", "not decided yet"}})
		return
	case err != nil:
		log.ErrorContext(ctx, "read decision", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the decision", nil)
		return
	case d.Outcome != loan.OutcomeApprove:
		writeError(w, http.StatusConflict, "not_approved", "application_id: the application was decided "+d.Outcome+"; only an approved application's loan can be booked",
			[]FieldError{{"application_id", "decided " + d.Outcome + ", not approve"}})
		return
	}
	if req.Currency == "" {
		req.Currency = app.Currency
	}
	// The decision's day on the ledger's clock (the scored balances' as_of), the clock the
	// watcher compares due dates with; the decision time when nothing was scored.
	decidedDay := d.DecidedAt.UTC().Truncate(24 * time.Hour)
	if d.AsOf != nil {
		decidedDay = d.AsOf.UTC().Truncate(24 * time.Hour)
	}
	decided := decidedDay.Format(dateLayout)
	switch {
	case req.Currency != app.Currency:
		ferrs = append(ferrs, FieldError{"currency", "must be the application's, " + app.Currency})
	case !due.After(decidedDay):
		ferrs = append(ferrs, FieldError{"first_due_date", "must be after the decision's day, " + decided})
	case due.After(decidedDay.AddDate(0, 0, maxFirstDueAfterDecision)):
		ferrs = append(ferrs, FieldError{"first_due_date", fmt.Sprintf("must be within %d days of the decision's day, %s", maxFirstDueAfterDecision, decided)})
	}
	if len(ferrs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", ferrs[0].Field+": "+ferrs[0].Problem, ferrs)
		return
	}
	if req.InstalmentMinor == 0 {
		req.InstalmentMinor = levelInstalment(req.AmountMinor, req.TermMonths)
	}
	l, created, err := s.Store.CreateLoan(ctx, store.Loan{ApplicationID: app.ID, AmountMinor: req.AmountMinor,
		Currency: req.Currency, TermMonths: req.TermMonths, FirstDue: due, InstalmentMinor: req.InstalmentMinor,
		WorkflowID: workflows.MonitorWorkflowID(app.ID)})
	if errors.Is(err, store.ErrLoanConflict) {
		writeError(w, http.StatusConflict, "loan_conflict", "application_id: its loan is already booked with other terms",
			[]FieldError{{"application_id", "loan already booked with other terms"}})
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "book loan", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not store the loan", nil)
		return
	}
	if l.Status == store.LoanActive {
		if err := s.startWatcher(ctx, lender, app, l); err != nil {
			log.ErrorContext(ctx, "start watcher", "workflow_id", l.WorkflowID, "err", err)
			writeError(w, http.StatusServiceUnavailable, "workflow_unavailable", "the loan is booked but its watcher could not start; retry the same request", nil)
			return
		}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		log.InfoContext(ctx, "loan booked", "workflow_id", l.WorkflowID)
	}
	out, ok := s.loanResponse(w, r, app, l)
	if !ok {
		return
	}
	out.Created = created
	writeJSON(w, status, out)
}

// startWatcher starts the loan's Monitor workflow on the application's accounts, or finds
// it running. A watcher that already ran to its end (the loan closed) is not started
// again: the id's reuse policy refuses it, and that answer is the same as "running".
func (s *Server) startWatcher(ctx context.Context, lender string, app store.Application, l store.Loan) error {
	accounts, err := s.Store.ListAccounts(ctx, app.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	_, err = s.Temporal.ExecuteWorkflow(tctx, tclient.StartWorkflowOptions{
		ID:        l.WorkflowID,
		TaskQueue: workflows.TaskQueue,
		// One watcher per loan, ever: a booking repeated while it runs finds it, and one
		// repeated after it ended does not restart it.
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary: fmt.Sprintf("watching %s's loan: %d %s (minor units) over %d months from %s", app.ID,
			l.AmountMinor, strings.ToUpper(l.Currency), l.TermMonths, l.FirstDue.UTC().Format(dateLayout)),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAApplicationID.ValueSet(app.ID),
			workflows.SALender.ValueSet(lender),
			workflows.SAMonitoringStatus.ValueSet(workflows.MonitoringWatching),
		),
	}, workflows.MonitorWorkflowName, workflows.MonitorInput{
		ApplicationID: app.ID, Lender: lender, AccountIDs: ids,
		Loan: scoring.MonitoredLoan{AmountMinor: l.AmountMinor, TermMonths: l.TermMonths, Currency: l.Currency,
			FirstDue: l.FirstDue.UTC(), InstalmentMinor: l.InstalmentMinor},
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return nil
	}
	return err
}

// lenderLoan reads the authenticated lender's loan named by the path's {id} (the lender's
// application id). It answers the request itself when there is none (404 loan_not_found,
// also for another lender's loan) or it cannot be read.
func (s *Server) lenderLoan(w http.ResponseWriter, r *http.Request) (store.Application, store.Loan, bool) {
	id := r.PathValue("id")
	notFound := func() {
		writeError(w, http.StatusNotFound, "loan_not_found", "application_id: no booked loan "+id,
			[]FieldError{{"application_id", "no booked loan"}})
	}
	if !applicationIDPattern.MatchString(id) {
		notFound()
		return store.Application{}, store.Loan{}, false
	}
	ctx := r.Context()
	app, err := s.Store.GetLenderApplication(ctx, lenderOf(ctx), id)
	var l store.Loan
	if err == nil {
		l, err = s.Store.GetLoan(ctx, app.ID)
	}
	if isNotFound(err) {
		notFound()
		return app, l, false
	}
	if err != nil {
		s.log().ErrorContext(ctx, "read loan", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the loan", nil)
		return app, l, false
	}
	return app, l, true
}

// loanResponse is l as the API shows it, with its alerts' counts. It answers the request
// itself when the alerts cannot be read.
func (s *Server) loanResponse(w http.ResponseWriter, r *http.Request, app store.Application, l store.Loan) (LoanResponse, bool) {
	ctx := r.Context()
	alerts, err := s.Store.ListAlerts(ctx, app.ID)
	if err != nil {
		s.log().ErrorContext(ctx, "list alerts", "application_id", app.ExternalID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the loan's alerts", nil)
		return LoanResponse{}, false
	}
	out := LoanResponse{
		ApplicationID: app.ExternalID, WorkflowID: l.WorkflowID, AmountMinor: l.AmountMinor, Currency: l.Currency,
		TermMonths: l.TermMonths, FirstDueDate: l.FirstDue.UTC().Format(dateLayout), InstalmentMinor: l.InstalmentMinor,
		Status: l.Status, BookedAt: l.BookedAt, ClosedAt: l.ClosedAt, Alerts: len(alerts),
	}
	for _, a := range alerts {
		if a.DeliveredAt == nil {
			out.Undelivered++
		}
		out.LastAlert = a.EventType
	}
	return out, true
}

func (s *Server) getLoan(w http.ResponseWriter, r *http.Request) {
	app, l, ok := s.lenderLoan(w, r)
	if !ok {
		return
	}
	out, ok := s.loanResponse(w, r, app, l)
	if !ok {
		return
	}
	if l.Status == store.LoanActive {
		out.Monitoring = s.monitorStatus(r.Context(), l.WorkflowID)
	}
	writeJSON(w, http.StatusOK, out)
}

// monitorStatus asks the watcher for its status; nil when it cannot answer (no worker,
// or it has ended).
func (s *Server) monitorStatus(ctx context.Context, workflowID string) *MonitoringResponse {
	qctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(qctx, workflowID, "", workflows.QueryMonitorStatus)
	if err != nil {
		return nil
	}
	var st workflows.MonitorStatus
	if v.Get(&st) != nil || st.Status == "" {
		return nil
	}
	out := &MonitoringResponse{Status: st.Status, Checks: st.Checks, Alerts: st.Alerts, LastAlert: st.LastAlert}
	if !st.LedgerAsOf.IsZero() {
		t := st.LedgerAsOf.UTC()
		out.LedgerAsOf = &t
	}
	return out
}

// closeLoan answers POST /v1/loans/{id}/close: it records why the loan ended and tells its
// watcher, which unsubscribes the accounts and completes. Closing again with the same
// reason answers the same (and tells the watcher again, harmlessly); with another reason
// it is a 409: the first close stands.
func (s *Server) closeLoan(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxLoanBody)
	if !ok {
		return
	}
	var req CloseRequest
	ferrs := decodeJSON(body, &req)
	if len(ferrs) == 0 && !slices.Contains(closeReasons, req.Reason) {
		ferrs = []FieldError{{"reason", "required: one of " + strings.Join(closeReasons, ", ")}}
	}
	if len(ferrs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", ferrs[0].Field+": "+ferrs[0].Problem, ferrs)
		return
	}
	app, l, ok := s.lenderLoan(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	log := s.log().With("lender", app.LenderID, "application_id", app.ExternalID)
	l, err := s.Store.CloseLoan(ctx, app.ID, req.Reason)
	if err != nil {
		log.ErrorContext(ctx, "close loan", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not close the loan", nil)
		return
	}
	if l.Status != req.Reason {
		writeError(w, http.StatusConflict, "loan_closed", "reason: the loan was already closed as "+l.Status,
			[]FieldError{{"reason", "already closed as " + l.Status}})
		return
	}
	tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	err = s.Temporal.SignalWorkflow(tctx, l.WorkflowID, "", workflows.SignalCloseLoan, workflows.LoanClose{Reason: req.Reason})
	cancel()
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		log.ErrorContext(ctx, "signal close", "workflow_id", l.WorkflowID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "workflow_unavailable", "the loan is closed but its watcher could not be told; retry the same request", nil)
		return
	}
	log.InfoContext(ctx, "loan closed", "reason", req.Reason)
	out, ok := s.loanResponse(w, r, app, l)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	app, _, ok := s.lenderLoan(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	alerts, err := s.Store.ListAlerts(ctx, app.ID)
	if err != nil {
		s.log().ErrorContext(ctx, "list alerts", "application_id", app.ExternalID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the loan's alerts", nil)
		return
	}
	out := AlertList{Alerts: make([]AlertResponse, len(alerts))}
	for i, a := range alerts {
		out.Alerts[i] = AlertResponse{
			ID: strconv.FormatInt(a.ID, 10),
			Event: alerthook.Event{Type: a.EventType, Key: a.EventKey, Date: a.EventDate.UTC().Format(dateLayout),
				Text: a.Text, Evidence: a.Evidence, Hint: a.Hint},
			Rescore: a.Rescore, MonitoringPolicyVersion: a.MonitoringPolicyVersion, LedgerAsOf: a.LedgerAsOf,
			CreatedAt: a.CreatedAt, DeliveredAt: a.DeliveredAt, DeliveryAttempts: a.DeliveryAttempts,
		}
		if a.LastDeliveryError != nil {
			out.Alerts[i].LastDeliveryError = *a.LastDeliveryError
		}
	}
	writeJSON(w, http.StatusOK, out)
}
