package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

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

// watcherSignalFor maps the events a booked loan's watcher (the Monitor workflow) listens
// to onto its signals: a daily transactions refresh of a subscribed account, the balance
// refresh the watcher asked for, and an account's status changing.
var watcherSignalFor = map[stripe.EventType]string{
	stripe.EventTypeFinancialConnectionsAccountRefreshedTransactions: workflows.SignalTransactionsRefreshed,
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
// tolerance either way, so a replayed old delivery or one dated ahead is refused; any
// configured secret may match, for rotation), records it by its id so each event is
// processed once whatever Stripe redelivers, and signals the application's workflow and
// the watchers of the booked loans on the account. It
// answers 400 to anything unsigned, badly signed, not an event (invalid_payload) or
// carrying ids that are not Stripe's (invalid_event), and then records and signals
// nothing. The workflow re-reads the account on each signal, so events arriving out of
// order change nothing.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	limit := s.MaxWebhookBody
	if limit <= 0 {
		limit = DefaultMaxWebhookBody
	}
	body, ok := readBody(w, r, limit)
	if !ok {
		return
	}
	header := r.Header.Get("Stripe-Signature")
	if err := s.verifySignature(body, header, time.Now()); err != nil {
		s.log().WarnContext(r.Context(), "webhook refused", "reason", err.Error())
		code := "invalid_signature"
		if errors.Is(err, errTimestampInFuture) {
			code = "timestamp_in_future"
		}
		writeError(w, http.StatusBadRequest, code, "Stripe-Signature: "+err.Error(), []FieldError{{"Stripe-Signature", err.Error()}})
		return
	}
	var ev stripe.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_payload", "body: a signed body that is not a Stripe event: "+err.Error(),
			[]FieldError{{"body", "not a Stripe event"}})
		return
	}
	var acct stripe.FinancialConnectionsAccount
	signal, ours := signalFor[ev.Type]
	if ours && (ev.Data == nil || json.Unmarshal(ev.Data.Raw, &acct) != nil) {
		writeError(w, http.StatusBadRequest, "invalid_event", "data.object: not a financial_connections.account",
			[]FieldError{{"data.object", "not a financial_connections.account"}})
		return
	}
	if fe := checkEventIDs(ev, acct, ours); fe != nil {
		writeError(w, http.StatusBadRequest, "invalid_event", fe.Field+": "+fe.Problem, []FieldError{*fe})
		return
	}
	ctx := r.Context()
	log := s.log().With("event_id", ev.ID, "event_type", string(ev.Type))
	if ours {
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

// webhookTolerance is how far a signature's timestamp may lie from our clock, either way:
// Stripe's own default (300 s). Older is a replay; newer than the clock allows is a
// signature made for later, which a clock skew of minutes would not explain.
const webhookTolerance = webhook.DefaultTolerance

// Webhook id rules: Stripe's ids are a prefix and base-62 characters (test-mode and thin
// event ids add underscores), and event types are dotted lower-case words. Anything else
// is not from Stripe and is refused before it reaches Postgres, which cannot store a NUL
// byte or invalid UTF-8.
var (
	eventIDPattern    = regexp.MustCompile(`^evt_[A-Za-z0-9_]{1,255}$`)
	eventTypePattern  = regexp.MustCompile(`^[a-z0-9_.]{1,128}$`)
	customerIDPattern = regexp.MustCompile(`^cus_[A-Za-z0-9]{1,255}$`)
)

// errTimestampInFuture refuses a signature dated beyond webhookTolerance ahead of our clock.
var errTimestampInFuture = errors.New("timestamp is in the future beyond the tolerance")

// verifySignature checks the signature, within webhookTolerance of now in both
// directions, against each configured secret in turn. The body is decoded afterwards, so
// that a signed body that is not an event has its own error. An event rendered in another
// API version than stripe-go's 2023-10-16 is accepted: the receiver reads only the
// account's id, status and customer from it, and the workflow re-reads the account through
// the pinned API version. So a Stripe account or a `stripe listen` session on a newer
// default version works unchanged.
func (s *Server) verifySignature(body []byte, header string, now time.Time) error {
	err := errors.New("no webhook secret configured")
	for _, secret := range s.WebhookSecrets {
		if err = webhook.ValidatePayloadWithTolerance(body, header, secret, webhookTolerance); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	if ts, ok := signatureTimestamp(header); !ok || ts.After(now.Add(webhookTolerance)) {
		return errTimestampInFuture
	}
	return nil
}

// signatureTimestamp reads t= from a Stripe-Signature header (t=<unix>,v1=<hex>,…).
func signatureTimestamp(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(part, "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(sec, 0), err == nil
		}
	}
	return time.Time{}, false
}

// checkEventIDs checks the ids the handler stores or looks up: the event's id and type,
// and for a Financial Connections event the account's id and its customer's.
func checkEventIDs(ev stripe.Event, acct stripe.FinancialConnectionsAccount, ours bool) *FieldError {
	switch {
	case !eventIDPattern.MatchString(ev.ID):
		return &FieldError{"id", "not a Stripe event id evt_…"}
	case !eventTypePattern.MatchString(string(ev.Type)):
		return &FieldError{"type", "not a Stripe event type"}
	case !ours:
		return nil
	case !accountIDPattern.MatchString(acct.ID):
		return &FieldError{"data.object.id", "not a Financial Connections account id fca_…"}
	case acct.AccountHolder != nil && acct.AccountHolder.Customer != nil && !customerIDPattern.MatchString(acct.AccountHolder.Customer.ID):
		return &FieldError{"data.object.account_holder.customer", "not a Stripe customer id cus_…"}
	}
	return nil
}

// deliver signals the workflows the event concerns: the customer's undecided applications'
// (signalApplications) and the watchers of the active loans on the account
// (signalWatchers). It answers "processed" when it signalled one, "ignored" otherwise.
func (s *Server) deliver(ctx context.Context, log *slog.Logger, ev stripe.Event, acct stripe.FinancialConnectionsAccount, signal string) (string, error) {
	status, err := s.signalApplications(ctx, log, ev, acct, signal)
	if err != nil {
		return "", err
	}
	if watcher, ok := watcherSignalFor[ev.Type]; ok {
		watched, err := s.signalWatchers(ctx, log, ev, acct, watcher)
		if err != nil {
			return "", err
		}
		if watched {
			status = "processed"
		}
	}
	if status == "ignored" {
		log.InfoContext(ctx, "webhook concerns no running application or watched loan; ignored")
	}
	return status, nil
}

// signalWatchers signals the watcher of each active loan whose application has the
// account: a transactions refresh makes it sync what changed and check, a balance refresh
// completes the refresh it waits for, a status change makes it re-read the account. A
// watcher that has ended (its loan closed meanwhile) is skipped. It reports whether it
// signalled one.
func (s *Server) signalWatchers(ctx context.Context, log *slog.Logger, ev stripe.Event, acct stripe.FinancialConnectionsAccount, signal string) (bool, error) {
	apps, err := s.Store.ActiveLoansForAccount(ctx, acct.ID)
	if err != nil {
		return false, err
	}
	signalled := false
	for _, app := range apps {
		id := workflows.MonitorWorkflowID(app)
		tctx, cancel := context.WithTimeout(ctx, temporalTimeout)
		err = s.Temporal.SignalWorkflow(tctx, id, "", signal, workflows.AccountSignal{
			AccountID: acct.ID, EventID: ev.ID, EventType: string(ev.Type), Status: string(acct.Status),
		})
		cancel()
		var nf *serviceerror.NotFound
		switch {
		case err == nil:
			log.InfoContext(ctx, "webhook signalled watcher", "application_id", app, "signal", signal)
			signalled = true
		case errors.As(err, &nf):
			// The watcher has ended: its loan closed after this query read it active.
		default:
			return false, fmt.Errorf("signal %s: %w", id, err)
		}
	}
	return signalled, nil
}

// signalApplications signals the workflows of the customer's undecided applications: the
// one whose session linked the account, or, for a returning customer, those underwriting
// an account already linked. Each re-reads the account, so a signal that does not concern
// it changes nothing. Events for unknown customers (another integration on the same Stripe
// account) and for finished workflows are ignored.
func (s *Server) signalApplications(ctx context.Context, log *slog.Logger, ev stripe.Event, acct stripe.FinancialConnectionsAccount, signal string) (string, error) {
	if acct.AccountHolder == nil || acct.AccountHolder.Customer == nil {
		log.InfoContext(ctx, "webhook for an account without a customer holder; no application to signal")
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
	return status, nil
}
