package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.temporal.io/api/serviceerror"

	"github.com/cashflow-underwriting/underwriter/workflows"
)

// signalFor maps the Financial Connections events the workflow listens to onto signals.
// Other event types are recorded, acknowledged and ignored, as Stripe expects of an
// endpoint.
var signalFor = map[stripe.EventType]string{
	stripe.EventTypeFinancialConnectionsAccountCreated:               workflows.SignalAccountLinked,
	stripe.EventTypeFinancialConnectionsAccountRefreshedTransactions: workflows.SignalRefreshUpdated,
	stripe.EventTypeFinancialConnectionsAccountRefreshedBalance:      workflows.SignalRefreshUpdated,
	stripe.EventTypeFinancialConnectionsAccountDeactivated:           workflows.SignalAccountStatus,
	stripe.EventTypeFinancialConnectionsAccountReactivated:           workflows.SignalAccountStatus,
	stripe.EventTypeFinancialConnectionsAccountDisconnected:          workflows.SignalAccountStatus,
}

// webhookAck is the body of a 200 answer to Stripe: what became of the event.
type webhookAck struct {
	Status string `json:"status"` // processed, duplicate, ignored
}

// stripeWebhook verifies a Stripe event over the raw body (signature and a 300 s timestamp
// tolerance, so a replayed old delivery is refused; any configured secret may match, for
// rotation), records it by its id so each event is processed once whatever Stripe
// redelivers, and signals the application's workflow. It answers 400 to anything unsigned
// or badly signed and then records and signals nothing. The workflow re-reads the account
// on each signal, so events arriving out of order change nothing.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	limit := s.MaxWebhookBody
	if limit <= 0 {
		limit = DefaultMaxWebhookBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "body: larger than the webhook limit", nil)
		return
	}
	ev, err := s.verifyEvent(body, r.Header.Get("Stripe-Signature"))
	if err != nil {
		s.log().WarnContext(r.Context(), "webhook refused", "reason", err.Error())
		writeError(w, http.StatusBadRequest, "invalid_signature", "Stripe-Signature: "+err.Error(), []FieldError{{"Stripe-Signature", err.Error()}})
		return
	}
	ctx := r.Context()
	log := s.log().With("event_id", ev.ID, "event_type", string(ev.Type))

	var acct stripe.FinancialConnectionsAccount
	signal, ours := signalFor[ev.Type]
	if ours {
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &acct) != nil || acct.ID == "" {
			writeError(w, http.StatusBadRequest, "invalid_event", "data.object: not a financial_connections.account",
				[]FieldError{{"data.object", "not a financial_connections.account"}})
			return
		}
		log = log.With("fc_account_id", acct.ID)
	}
	isNew, err := s.Store.RecordWebhookEvent(ctx, ev.ID, string(ev.Type), acct.ID)
	if err != nil {
		log.ErrorContext(ctx, "record webhook event", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not record the event", nil)
		return
	}
	switch {
	case !isNew:
		writeJSON(w, http.StatusOK, webhookAck{"duplicate"})
		return
	case !ours:
		writeJSON(w, http.StatusOK, webhookAck{"ignored"})
		return
	}
	// Once recorded, the event is delivered or forgotten even if Stripe stops waiting for
	// the answer: a recorded but undelivered event would answer every redelivery with
	// "duplicate" and leave the workflow to its polling.
	ctx = context.WithoutCancel(ctx)
	status, err := s.deliver(ctx, log, ev, acct, signal)
	if err != nil {
		// Forget the event so that Stripe's retry processes it again.
		if ferr := s.Store.ForgetWebhookEvent(ctx, ev.ID); ferr != nil {
			log.ErrorContext(ctx, "forget webhook event", "err", ferr)
		}
		log.ErrorContext(ctx, "deliver webhook", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not process the event; Stripe will retry", nil)
		return
	}
	writeJSON(w, http.StatusOK, webhookAck{status})
}

// verifyEvent checks the signature, within webhook.DefaultTolerance, against each
// configured secret in turn. An event rendered in another API version than stripe-go's
// 2023-10-16 is accepted: the receiver reads only the account's id, status and customer
// from it, and the workflow re-reads the account through the pinned API version. So a
// Stripe account or a `stripe listen` session on a newer default version works unchanged.
func (s *Server) verifyEvent(body []byte, header string) (stripe.Event, error) {
	err := errors.New("no webhook secret configured")
	for _, secret := range s.WebhookSecrets {
		var ev stripe.Event
		ev, err = webhook.ConstructEventWithOptions(body, header, secret, webhook.ConstructEventOptions{
			IgnoreAPIVersionMismatch: true,
		})
		if err == nil {
			return ev, nil
		}
	}
	return stripe.Event{}, err
}

// deliver signals the workflows of the customer's undecided applications: the one whose
// session linked the account, or, for a returning customer, those underwriting an account
// already linked. Each re-reads the account, so a signal that does not concern it changes
// nothing. Events for unknown customers (another integration on the same Stripe account)
// and for finished workflows are ignored.
func (s *Server) deliver(ctx context.Context, log *slog.Logger, ev stripe.Event, acct stripe.FinancialConnectionsAccount, signal string) (string, error) {
	if acct.AccountHolder == nil || acct.AccountHolder.Customer == nil {
		log.InfoContext(ctx, "webhook for an account without a customer holder; ignored")
		return "ignored", nil
	}
	apps, err := s.Store.UndecidedApplicationsByCustomer(ctx, acct.AccountHolder.Customer.ID)
	if err != nil {
		return "", err
	}
	status := "ignored"
	for _, app := range apps {
		tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
		err = s.Temporal.SignalWorkflow(tctx, app.WorkflowID, "", signal, workflows.AccountSignal{
			AccountID: acct.ID, EventID: ev.ID, EventType: string(ev.Type), Status: string(acct.Status),
		})
		cancel()
		var nf *serviceerror.NotFound
		switch {
		case err == nil:
			log.InfoContext(ctx, "webhook signalled", "application_id", app.ID, "signal", signal)
			status = "processed"
		case errors.As(err, &nf):
			// The workflow has finished: nothing waits for this event any more.
		default:
			return "", fmt.Errorf("signal %s: %w", app.WorkflowID, err)
		}
	}
	if status == "ignored" {
		log.InfoContext(ctx, "webhook concerns no running application; ignored")
	}
	return status, nil
}
