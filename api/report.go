package api

import (
	"net/http"

	"github.com/cashflow-underwriting/underwriter/report"
)

// getReport answers GET /v1/applications/{id}/report: the decision report of the lender's
// application, a self-contained HTML page (or, with ?format=png, the one-page summary
// image), made from the stored decision and its frozen snapshot. Another lender's id, or an
// unknown one, is 404; an application without a decision yet is 409.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "html"
	}
	if format != "html" && format != "png" {
		writeError(w, http.StatusBadRequest, "invalid_request", "format: must be html or png",
			[]FieldError{{"format", "must be html or png"}})
		return
	}
	app, ok := s.lenderApplication(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), app.ExternalID
	d, err := s.Store.GetDecision(ctx, app.ID)
	if isNotFound(err) {
		writeError(w, http.StatusConflict, "not_decided", "application_id: the application has no decision yet",
			[]FieldError{{"application_id", "not decided yet"}})
		return
	}
	if err != nil {
		s.log().ErrorContext(ctx, "read decision", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not read the decision", nil)
		return
	}
	in := report.DecisionInput{ApplicationID: app.ExternalID, Lender: app.LenderID, LoanAmountMinor: app.LoanAmountMinor,
		TermMonths: app.TermMonths, Currency: app.Currency, Decision: d}
	if d.SnapshotID != nil {
		snap, err := s.Store.GetSnapshot(ctx, *d.SnapshotID)
		if err != nil {
			s.log().ErrorContext(ctx, "read snapshot", "application_id", id, "snapshot_id", *d.SnapshotID, "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not read the decision's snapshot", nil)
			return
		}
		in.Ledger = snap.Ledger
	}
	var body []byte
	ctype := "text/html; charset=utf-8"
	if format == "png" {
		body, err = report.DecisionPNG(in)
		ctype = "image/png"
	} else {
		body, err = report.DecisionHTML(in)
	}
	if err != nil {
		s.log().ErrorContext(ctx, "render report", "application_id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not render the report", nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The page loads nothing: its charts are data: URIs and its style is inline.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
