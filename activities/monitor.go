package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// The activities of the Monitor workflow, the watcher of a booked loan (issue 14,
// docs/monitoring.md). The workflow also calls SyncTransactions, RequestRefresh (for the
// balance only), RefreshStatus and StoreBalance, as Underwrite does. What travels through
// workflow history is ids, event types, counts, clocks and PDs: the ledger, the events'
// evidence and texts stay in Postgres.

// SubscribeInput names the accounts of a booked loan to subscribe to (or unsubscribe
// from) Stripe's daily transaction refreshes.
type SubscribeInput struct {
	ApplicationID string
	AccountIDs    []string
}

// SubscribeResult lists the accounts done and those skipped because Stripe reports them
// inactive or unknown: an inactive account cannot be subscribed until it is reactivated
// (the workflow subscribes it again then), and an account gone needs no unsubscribing.
type SubscribeResult struct {
	Done    []string `json:"Done,omitzero"`
	Skipped []string `json:"Skipped,omitzero"`
}

// Subscribe subscribes every account to transaction refreshes (Stripe then refreshes it
// daily and sends financial_connections.account.refreshed_transactions). Subscribing an
// account already subscribed changes nothing, so a retry is harmless.
func (a *Activities) Subscribe(ctx context.Context, in SubscribeInput) (SubscribeResult, error) {
	return a.subscription(ctx, in, true)
}

// Unsubscribe ends the accounts' transaction subscriptions when the loan closes. An
// account already unsubscribed, inactive or gone is no error.
func (a *Activities) Unsubscribe(ctx context.Context, in SubscribeInput) (SubscribeResult, error) {
	return a.subscription(ctx, in, false)
}

func (a *Activities) subscription(ctx context.Context, in SubscribeInput, on bool) (SubscribeResult, error) {
	defer keepAlive(ctx)()
	verb := "unsubscribe"
	if on {
		verb = "subscribe"
	}
	var res SubscribeResult
	for _, id := range in.AccountIDs {
		var err error
		if on {
			p := &stripe.FinancialConnectionsAccountSubscribeParams{Features: stripe.StringSlice([]string{FeatureTransactions})}
			p.Context = ctx
			_, err = a.Stripe.FinancialConnectionsAccounts.Subscribe(id, p)
		} else {
			p := &stripe.FinancialConnectionsAccountUnsubscribeParams{Features: stripe.StringSlice([]string{FeatureTransactions})}
			p.Context = ctx
			_, err = a.Stripe.FinancialConnectionsAccounts.Unsubscribe(id, p)
		}
		if err != nil {
			cerr := classify(verb+" account "+id, err)
			var appErr *temporal.ApplicationError
			if errors.As(cerr, &appErr) && (appErr.Type() == ErrTypeAccountInactive || appErr.Type() == ErrTypeResourceMissing) {
				a.log(ctx).Warn("account skipped: "+verb, "application_id", in.ApplicationID, "fc_account_id", id, "reason", appErr.Type())
				res.Skipped = append(res.Skipped, id)
				continue
			}
			return SubscribeResult{}, cerr
		}
		res.Done = append(res.Done, id)
	}
	a.log(ctx).Info("transactions subscription: "+verb, "application_id", in.ApplicationID,
		"account_count", len(res.Done), "skipped", len(res.Skipped))
	return res, nil
}

// MonitorEvalInput asks EvaluateMonitor for one check of a booked loan.
type MonitorEvalInput struct {
	ApplicationID string
	Loan          scoring.MonitoredLoan
	// MonitoringPolicyVersion is the shipped monitoring policy's version ("" means
	// scoring.DefaultMonitoringPolicyVersion).
	MonitoringPolicyVersion string `json:"MonitoringPolicyVersion,omitzero"`
	// Check is the previous check's Next (zero for the first check).
	Check scoring.MonitorCheck
}

// AlertRef names a stored alert: its id and event type, all of it that travels through
// workflow history.
type AlertRef struct {
	ID   int64
	Type string
}

// MonitorRescore is the check's re-scored PD in brief: the PD under the decision's model
// and policy, its change since origination, and the PD under the current default ones.
type MonitorRescore struct {
	PD        float64
	PDChange  float64
	DefaultPD float64
}

// MonitorEvalResult is one check's outcome as the workflow sees it.
type MonitorEvalResult struct {
	MonitoringPolicyVersion string
	// AsOf is the ledger's clock (its newest balance as_of).
	AsOf time.Time
	// Next is what to pass as Check to the next evaluation.
	Next scoring.MonitorCheck
	// Events counts the check's events; LastEvent is the type of the newest of them.
	Events    int    `json:"Events,omitzero"`
	LastEvent string `json:"LastEvent,omitzero"`
	// Undelivered are the check's alerts not delivered yet, in event order.
	Undelivered []AlertRef `json:"Undelivered,omitzero"`
	Rescore     MonitorRescore
}

// EvaluateMonitor runs one check of a booked loan: it builds the loan's ledger from
// Postgres (the accounts, their latest balances and transactions, as a snapshot is
// built), takes the baseline from the application's stored decision, computes the
// early-warning events with scoring.Monitor under the monitoring policy, and stores each
// event once as an alert (store.RecordAlerts, by loan and event key). It returns the
// check's alerts that are not delivered yet.
//
// It writes nothing but alerts, each once: a retried or repeated evaluation with the same
// Check on the same data returns the same undelivered alerts and stores nothing twice.
// A ledger scoring cannot read (no balance yet, mixed currencies) or a decision without
// scores is a non-retryable ErrTypeBadData.
func (a *Activities) EvaluateMonitor(ctx context.Context, in MonitorEvalInput) (MonitorEvalResult, error) {
	version := in.MonitoringPolicyVersion
	if version == "" {
		version = scoring.DefaultMonitoringPolicyVersion
	}
	policy, err := scoring.ShippedMonitoringPolicy(version)
	if err != nil {
		return MonitorEvalResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: %v", in.ApplicationID, err), ErrTypeInvalidInput, nil)
	}
	base, err := a.monitorBaseline(ctx, in.ApplicationID)
	if err != nil {
		return MonitorEvalResult{}, err
	}
	l, err := a.monitorLedger(ctx, in.ApplicationID)
	if err != nil {
		return MonitorEvalResult{}, err
	}
	res, err := scoring.Monitor(l, in.Loan, base, in.Check, policy)
	if err != nil {
		return MonitorEvalResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: %v", in.ApplicationID, err), ErrTypeBadData, nil)
	}
	out := MonitorEvalResult{
		MonitoringPolicyVersion: res.MonitoringPolicyVersion, AsOf: res.AsOf, Next: res.Next, Events: len(res.Events),
		Rescore: MonitorRescore{PD: res.Rescore.PD, PDChange: res.Rescore.PDChange, DefaultPD: res.Rescore.DefaultPD},
	}
	if len(res.Events) == 0 {
		a.log(ctx).Info("monitor check", "application_id", in.ApplicationID, "ledger_as_of", res.AsOf, "events", 0)
		return out, nil
	}
	out.LastEvent = res.Events[len(res.Events)-1].Type
	rescore, err := json.Marshal(res.Rescore)
	if err != nil {
		return MonitorEvalResult{}, fmt.Errorf("encode rescore: %w", err)
	}
	alerts := make([]store.Alert, len(res.Events))
	for i, e := range res.Events {
		day, err := time.Parse(time.DateOnly, e.Date)
		if err != nil {
			return MonitorEvalResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("monitor %s: event %s: date %q: %v", in.ApplicationID, e.Type, e.Date, err), ErrTypeBadData, nil)
		}
		evidence, err := json.Marshal(nonNil(e.Evidence))
		if err != nil {
			return MonitorEvalResult{}, fmt.Errorf("encode evidence: %w", err)
		}
		alerts[i] = store.Alert{
			ApplicationID: in.ApplicationID, EventType: e.Type, EventKey: e.Key, EventDate: day, Text: e.Text,
			Evidence: evidence, Hint: e.Hint, Rescore: rescore,
			MonitoringPolicyVersion: res.MonitoringPolicyVersion, LedgerAsOf: res.AsOf,
		}
	}
	stored, err := a.Store.RecordAlerts(ctx, in.ApplicationID, alerts)
	if err != nil {
		return MonitorEvalResult{}, err
	}
	for _, s := range stored {
		if s.DeliveredAt == nil {
			out.Undelivered = append(out.Undelivered, AlertRef{ID: s.ID, Type: s.EventType})
		}
	}
	a.log(ctx).Info("monitor check", "application_id", in.ApplicationID, "ledger_as_of", res.AsOf,
		"events", len(res.Events), "undelivered", len(out.Undelivered), "last_event", out.LastEvent)
	return out, nil
}

// monitorBaseline is what the application's decision knew at origination.
func (a *Activities) monitorBaseline(ctx context.Context, applicationID string) (scoring.MonitorBaseline, error) {
	d, err := a.Store.GetDecision(ctx, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return scoring.MonitorBaseline{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: no decision", applicationID), ErrTypeBadData, nil)
	}
	if err != nil {
		return scoring.MonitorBaseline{}, err
	}
	if d.PD == nil || d.AsOf == nil || len(d.Features) == 0 {
		return scoring.MonitorBaseline{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: the decision (%s) was not scored: no baseline to watch against", applicationID, d.Outcome), ErrTypeBadData, nil)
	}
	var f scoring.Features
	if err := json.Unmarshal(d.Features, &f); err != nil {
		return scoring.MonitorBaseline{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: decode the decision's features: %v", applicationID, err), ErrTypeBadData, nil)
	}
	return scoring.BaselineFromDecision(scoring.Decision{
		PD: *d.PD, Features: f, ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion,
		FeatureSetVersion: d.FeatureSetVersion,
	}, *d.AsOf), nil
}

// monitorLedger is the application's ledger as Postgres holds it now, built as a
// snapshot's document is (snapshotEntry) but not stored.
func (a *Activities) monitorLedger(ctx context.Context, applicationID string) (scoring.Ledger, error) {
	accounts, err := a.Store.ListAccounts(ctx, applicationID)
	if err != nil {
		return scoring.Ledger{}, fmt.Errorf("list accounts of %s: %w", applicationID, err)
	}
	var doc ledger.File
	for _, acct := range accounts {
		e, _, err := a.snapshotEntry(ctx, acct)
		if err != nil {
			return scoring.Ledger{}, err
		}
		doc.Accounts = append(doc.Accounts, e)
	}
	if err := doc.Validate(); err != nil {
		return scoring.Ledger{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("monitor %s: ledger: %v", applicationID, err), ErrTypeBadData, nil)
	}
	return scoring.FromFile(doc), nil
}

// CloseLoanInput ends a booked loan's row.
type CloseLoanInput struct {
	ApplicationID string
	Reason        string
}

// CloseLoanResult is the loan's status as stored: the first close wins, so it may be
// another reason than the input's (the lender closed it before the term ended).
type CloseLoanResult struct {
	Status string
}

// CloseLoanRecord sets the loan's status to in.Reason unless it is closed already
// (store.CloseLoan: the first close wins). Idempotent.
func (a *Activities) CloseLoanRecord(ctx context.Context, in CloseLoanInput) (CloseLoanResult, error) {
	l, err := a.Store.CloseLoan(ctx, in.ApplicationID, in.Reason)
	if errors.Is(err, store.ErrNotFound) {
		return CloseLoanResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("close loan %s: not booked", in.ApplicationID), ErrTypeInvalidInput, nil)
	}
	if err != nil {
		return CloseLoanResult{}, err
	}
	a.log(ctx).Info("loan closed", "application_id", in.ApplicationID, "status", l.Status)
	return CloseLoanResult{Status: l.Status}, nil
}

// DeliverAlertInput names the alert to deliver.
type DeliverAlertInput struct {
	ApplicationID string
	AlertID       int64
}

// DeliverAlertResult says whether the lender's endpoint has the alert: Delivered, or
// NoEndpoint when the lender has no alert webhook URL (the alert is stored and listed,
// not sent).
type DeliverAlertResult struct {
	Delivered  bool `json:"Delivered,omitzero"`
	NoEndpoint bool `json:"NoEndpoint,omitzero"`
}

// ErrTypeAlertUndeliverable is a delivery no retry can make: the lender's URL is refused
// (alerthook.CheckURL) or the worker has no AlertSigningKey to sign with. The failure is
// recorded on the alert.
const ErrTypeAlertUndeliverable = "AlertUndeliverable"

// DeliverAlert sends stored alert in.AlertID to its lender's alert webhook, signed with
// the lender's secret (alerthook.LenderSecret of AlertSigningKey), and marks it
// delivered when the endpoint answers 2xx. An alert already delivered is not sent again
// (a retry after a success nobody saw); the Underwriter-Delivery header, the alert's id,
// lets receivers drop a repeat all the same. A failed attempt is recorded on the alert
// (its count and error: an HTTP status or a network error naming the host) and returned
// as retryable, so Temporal retries with back-off; a lender without a URL gets nothing
// (NoEndpoint: the alert is listed by GET /v1/loans/{id}/alerts). Neither the secret nor
// the body reaches a log or an error.
func (a *Activities) DeliverAlert(ctx context.Context, in DeliverAlertInput) (DeliverAlertResult, error) {
	defer keepAlive(ctx)()
	al, err := a.Store.GetAlert(ctx, in.AlertID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && al.ApplicationID != in.ApplicationID) {
		return DeliverAlertResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("deliver alert %d: no such alert of loan %s", in.AlertID, in.ApplicationID), ErrTypeInvalidInput, nil)
	}
	if err != nil {
		return DeliverAlertResult{}, err
	}
	if al.DeliveredAt != nil {
		return DeliverAlertResult{Delivered: true}, nil
	}
	l, err := a.Store.GetLoan(ctx, al.ApplicationID)
	if err != nil {
		return DeliverAlertResult{}, fmt.Errorf("deliver alert %d: %w", al.ID, err)
	}
	url, err := a.Store.LenderAlertWebhook(ctx, l.LenderID)
	if err != nil {
		return DeliverAlertResult{}, fmt.Errorf("deliver alert %d: %w", al.ID, err)
	}
	if url == "" {
		a.log(ctx).Info("alert not sent: the lender has no alert webhook", "application_id", al.ApplicationID, "alert_id", al.ID, "lender", l.LenderID)
		return DeliverAlertResult{NoEndpoint: true}, nil
	}
	app, err := a.Store.GetApplication(ctx, al.ApplicationID)
	if err != nil {
		return DeliverAlertResult{}, fmt.Errorf("deliver alert %d: %w", al.ID, err)
	}
	secret := ""
	if len(a.AlertSigningKey) > 0 {
		secret = alerthook.LenderSecret(a.AlertSigningKey, l.LenderID)
	}
	body := alerthook.Body{
		ID: strconv.FormatInt(al.ID, 10), Type: alerthook.BodyType, Created: al.CreatedAt.UTC(),
		Lender: l.LenderID, LoanID: app.ExternalID,
		Event: alerthook.Event{Type: al.EventType, Key: al.EventKey, Date: al.EventDate.UTC().Format(time.DateOnly),
			Text: al.Text, Evidence: al.Evidence, Hint: al.Hint},
		Rescore: al.Rescore, MonitoringPolicyVersion: al.MonitoringPolicyVersion, LedgerAsOf: al.LedgerAsOf.UTC(),
	}
	if err := alerthook.Deliver(ctx, nil, url, secret, body); err != nil {
		if rerr := a.Store.RecordAlertDeliveryFailure(ctx, al.ID, err.Error()); rerr != nil {
			a.log(ctx).Error("record alert delivery failure", "alert_id", al.ID, "err", rerr)
		}
		a.log(ctx).Warn("alert delivery failed", "application_id", al.ApplicationID, "alert_id", al.ID, "err", err.Error())
		if errors.Is(err, alerthook.ErrBadURL) || errors.Is(err, alerthook.ErrNoSecret) {
			return DeliverAlertResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("deliver alert %d: %v", al.ID, err), ErrTypeAlertUndeliverable, nil)
		}
		return DeliverAlertResult{}, fmt.Errorf("deliver alert %d: %w", al.ID, err)
	}
	if err := a.Store.MarkAlertDelivered(ctx, al.ID); err != nil {
		return DeliverAlertResult{}, fmt.Errorf("deliver alert %d: delivered, but: %w", al.ID, err)
	}
	a.log(ctx).Info("alert delivered", "application_id", al.ApplicationID, "alert_id", al.ID, "event_type", al.EventType)
	return DeliverAlertResult{Delivered: true}, nil
}
