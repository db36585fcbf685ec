package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// The Monitor workflow watches a booked loan's bank accounts after the decision (README
// "After the loan", docs/monitoring.md). Its names, like the Underwrite workflow's, are part
// of the contract with the API and with operators, so they never change.
const (
	// MonitorWorkflowName is the registered workflow type of Monitor. Unlike Underwrite it
	// is never pinned to a worker version: a watcher runs for the loan's term, months, so
	// its changes go behind workflow.GetVersion.
	MonitorWorkflowName = "Monitor"
	// SignalTransactionsRefreshed tells a watcher that Stripe refreshed one of its accounts'
	// transactions (financial_connections.account.refreshed_transactions, sent daily for a
	// subscribed account). The payload is an AccountSignal; the watcher syncs what changed.
	SignalTransactionsRefreshed = "transactions-refreshed"
	// SignalCloseLoan ends a watcher: the loan was repaid, charged off or cancelled. The
	// payload is a LoanClose. The watcher unsubscribes its accounts and completes.
	SignalCloseLoan = "close-loan"
	// QueryMonitorStatus answers a watcher's MonitorStatus.
	QueryMonitorStatus = "monitor-status"
)

// Monitoring statuses, shown in the MonitoringStatus search attribute and MonitorStatus.
const (
	// MonitoringWatching: the watcher is running and has raised no event in the last
	// MonitorAtRiskWindow of the ledger's clock.
	MonitoringWatching = "watching"
	// MonitoringAtRisk: a check raised at least one early-warning event, less than
	// MonitorAtRiskWindow ago by the ledger's clock.
	MonitoringAtRisk = "at_risk"
	// MonitoringClosed: the loan was closed (repaid, charged off, cancelled) or its term
	// ended; the accounts are unsubscribed.
	MonitoringClosed = "closed"
)

// Reasons a loan closes (LoanClose.Reason, POST /v1/loans/{id}/close).
const (
	LoanRepaid     = "repaid"
	LoanChargedOff = "charged_off"
	LoanCancelled  = "cancelled"
	// LoanTermEnded is set by the watcher itself when the loan's term is over.
	LoanTermEnded = "term_ended"
)

// Monitor search attributes: at-risk loans are findable in the Temporal UI
// (MonitoringStatus="at_risk"), with the type of the last event raised.
var (
	SAMonitoringStatus = temporal.NewSearchAttributeKeyKeyword("MonitoringStatus")
	SALastAlert        = temporal.NewSearchAttributeKeyKeyword("LastAlert")
)

// MonitorWorkflowID is the one watcher of a booked loan, given its application's key
// (store.Application.ID): monitor/<application key>. Booking twice reaches the same one.
func MonitorWorkflowID(applicationKey string) string {
	return "monitor/" + applicationKey
}

// MonitorInput starts a watcher; continue-as-new passes it on with State filled in.
type MonitorInput struct {
	// ApplicationID is the approved application whose loan is booked (its Postgres key).
	ApplicationID string
	Lender        string `json:"Lender,omitzero"`
	// AccountIDs are the application's linked Financial Connections accounts.
	AccountIDs []string
	// Loan is the booked loan: amount, term, currency, first due date, instalment.
	Loan scoring.MonitoredLoan
	// MonitoringPolicyVersion is the monitoring policy's version ("" means the shipped
	// default, scoring.DefaultMonitoringPolicy).
	MonitoringPolicyVersion string `json:"MonitoringPolicyVersion,omitzero"`
	// PollInterval is how long the watcher waits for a webhook before it looks by itself
	// (0 means DefaultMonitorPoll).
	PollInterval time.Duration `json:"PollInterval,omitzero"`
	// State is what a previous run carried over continue-as-new; zero on the first run.
	State MonitorState `json:"State,omitzero"`
}

// DefaultMonitorPoll is a watcher's daily poll when webhooks stop coming.
const DefaultMonitorPoll = 24 * time.Hour

// MonitorState is what a watcher carries from one run to the next.
type MonitorState struct {
	// Subscribed says the accounts' transactions subscription was made.
	Subscribed bool `json:"Subscribed,omitzero"`
	// Check is scoring.MonitorResult.Next of the last check.
	Check scoring.MonitorCheck `json:"Check,omitzero"`
	// Checks and Alerts count the checks made and the events raised so far.
	Checks int `json:"Checks,omitzero"`
	Alerts int `json:"Alerts,omitzero"`
	// Status and LastAlert are the search attributes' values.
	Status    string `json:"Status,omitzero"`
	LastAlert string `json:"LastAlert,omitzero"`
	// Booked is the workflow time the first run started: the watcher ends by itself when
	// the term plus MonitorTermGrace has passed since, even if no check moves the ledger
	// clock past the last due date.
	Booked time.Time `json:"Booked,omitzero"`
	// LastAlertAt is the ledger clock of the check that raised the last event: the status
	// stays at_risk until the ledger clock is MonitorAtRiskWindow past it.
	LastAlertAt time.Time `json:"LastAlertAt,omitzero"`
	// Pending says a cause for a check (a webhook signal) arrived as the previous run
	// continued as new: the new run checks at once.
	Pending bool `json:"Pending,omitzero"`
	// Runs counts the runs so far (continue-as-new), this one included.
	Runs int `json:"Runs,omitzero"`
}

// LoanClose is SignalCloseLoan's payload.
type LoanClose struct {
	Reason string
}

// MonitorStatus is the answer to QueryMonitorStatus.
type MonitorStatus struct {
	ApplicationID string
	Status        string
	Checks        int
	Alerts        int
	LastAlert     string
	// LedgerAsOf is the ledger clock of the last check.
	LedgerAsOf time.Time
	// Delivered counts the alerts this run delivered; Deliveries the deliveries still
	// being tried (each retried for up to MonitorDeliveryWindow); DeliveryFailures the
	// alerts whose delivery gave up (recorded on the alert: GET /v1/loans/{id}/alerts).
	Delivered        int `json:"Delivered,omitzero"`
	Deliveries       int `json:"Deliveries,omitzero"`
	DeliveryFailures int `json:"DeliveryFailures,omitzero"`
	// LastCheckError is why the last check failed ("" when it succeeded); the watcher
	// goes on and checks again on the next webhook or poll.
	LastCheckError string `json:"LastCheckError,omitzero"`
	// CloseReason is why the watcher ended, once it has (LoanRepaid, …, LoanTermEnded).
	CloseReason string `json:"CloseReason,omitzero"`
}
