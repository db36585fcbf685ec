package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.temporal.io/api/serviceerror"

	"github.com/cashflow-underwriting/underwriter/workflows"
)

// signalFor maps the Financial Connections events the workflow listens to onto signals.
// Other event types are acknowledged and ignored, as Stripe expects of an endpoint.
var signalFor = map[stripe.EventType]string{
	stripe.EventTypeFinancialConnectionsAccountCreated:               workflows.SignalAccountLinked,
	stripe.EventTypeFinancialConnectionsAccountRefreshedTransactions: workflows.SignalRefreshUpdated,
	stripe.EventTypeFinancialConnectionsAccountRefreshedBalance:      workflows.SignalRefreshUpdated,
}

// stripeWebhook verifies a Stripe event over the raw body, records it by its id so each is
// processed once, and signals the application's workflow. It answers 400 to anything
// unsigned or badly signed and signals nothing then.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	limit := s.MaxWebhookBody
	if limit <= 0 {
		limit = DefaultMaxWebhookBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "body: too large", nil)
		return
	}
	header := r.Header.Get("Stripe-Signature")
	var ev stripe.Event
	err = errors.New("no webhook secret configured")
	for _, secret := range s.WebhookSecrets {
		if ev, err = webhook.ConstructEvent(body, header, secret); err == nil {
			break
		}
	}
	if err != nil {
		s.log().WarnContext(r.Context(), "webhook refused", "reason", err.Error())
		writeError(w, http.StatusBadRequest, "invalid_signature", "Stripe-Signature: "+err.Error(), []FieldError{{"Stripe-Signature", err.Error()}})
		return
	}
	ctx := r.Context()
	log := s.log().With("event_id", ev.ID, "event_type", string(ev.Type))
	signal, ok := signalFor[ev.Type]
	if !ok {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	var acct stripe.FinancialConnectionsAccount
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &acct) != nil || acct.ID == "" {
		writeError(w, http.StatusBadRequest, "invalid_event", "data.object: not a financial_connections.account", []FieldError{{"data.object", "not a financial_connections.account"}})
		return
	}
	log = log.With("fc_account_id", acct.ID)
	if acct.AccountHolder == nil || acct.AccountHolder.Customer == nil {
		log.InfoContext(ctx, "webhook for an account without a customer holder; ignored")
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	app, err := s.Store.ApplicationByCustomer(ctx, acct.AccountHolder.Customer.ID)
	if isNotFound(err) {
		log.InfoContext(ctx, "webhook for an unknown customer; ignored")
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "find application", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not find the application", nil)
		return
	}
	isNew, err := s.Store.RecordWebhookEvent(ctx, ev.ID, string(ev.Type), acct.ID)
	if err != nil {
		log.ErrorContext(ctx, "record webhook event", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not record the event", nil)
		return
	}
	if !isNew {
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	}
	tctx, cancel := withTimeout(ctx, temporalTimeout)
	defer cancel()
	err = s.Temporal.SignalWorkflow(tctx, app.WorkflowID, "", signal, workflows.AccountSignal{
		AccountID: acct.ID, EventID: ev.ID, EventType: string(ev.Type),
	})
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		log.InfoContext(ctx, "webhook signalled", "application_id", app.ID, "signal", signal)
	case errors.As(err, &nf):
		// The workflow has finished: nothing waits for this event any more.
		log.InfoContext(ctx, "webhook for a finished workflow; ignored", "application_id", app.ID)
	default:
		// Forget the event so Stripe's retry processes it again.
		if ferr := s.Store.ForgetWebhookEvent(ctx, ev.ID); ferr != nil {
			log.ErrorContext(ctx, "forget webhook event", "err", ferr)
		}
		log.ErrorContext(ctx, "signal workflow", "application_id", app.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "workflow_unavailable", "could not signal the workflow; Stripe will retry", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "processed"})
}
