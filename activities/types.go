package activities

import (
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Error types of non-retryable application errors. Workflows match them with
// temporal.ApplicationError.Type().
const (
	// ErrTypeInvalidRequest is a Stripe 400 other than the cases below: a bug or bad input.
	ErrTypeInvalidRequest = "StripeInvalidRequest"
	// ErrTypeResourceMissing is a Stripe resource_missing (404).
	ErrTypeResourceMissing = "StripeResourceMissing"
	// ErrTypeAccountInactive is financial_connections_account_inactive.
	ErrTypeAccountInactive = "AccountInactive"
	// ErrTypeAuthentication is a Stripe 401/403: the key is wrong, retrying cannot help.
	ErrTypeAuthentication = "StripeAuthentication"
	// ErrTypeBadData is data that cannot be scored (for example a mixed-currency ledger).
	ErrTypeBadData = "BadData"
	// ErrTypeConflict is stored data that contradicts the request (an account already
	// stored for another customer).
	ErrTypeConflict = "Conflict"
	// ErrTypeInvalidInput is input no retry can make valid: a loan outside loan's bounds,
	// an unscored decision with a scoring outcome. The workflow fails with the same type
	// when its own input is invalid (workflows.ErrTypeInvalidInput).
	ErrTypeInvalidInput = "InvalidInput"
)

// Refresh features as Stripe spells them: the singular "balance", where a session's
// permissions take the plural "balances" (api.PermissionBalances).
const (
	FeatureTransactions = "transactions"
	FeatureBalance      = "balance"
)

// Refresh statuses (Stripe's transaction_refresh.status / balance_refresh.status).
const (
	RefreshPending   = "pending"
	RefreshSucceeded = "succeeded"
	RefreshFailed    = "failed"
)

// LinkedAccountsInput names the Financial Connections session whose accounts to read.
type LinkedAccountsInput struct {
	ApplicationID string
	SessionID     string
}

// LinkedAccountsResult lists the accounts the applicant linked (empty while they have not).
type LinkedAccountsResult struct {
	AccountIDs []string
}

// RefreshInput asks for a transactions and balance refresh of every account.
type RefreshInput struct {
	ApplicationID string
	AccountIDs    []string
	// IdempotencyKey is the workflow's deterministic key for this refresh round; the
	// account id is appended per request.
	IdempotencyKey string
	// Features are the refresh features to ask for (FeatureTransactions, FeatureBalance);
	// nil asks for both, as every input recorded before the field existed does. Only the
	// features asked for decide whether a refresh is pending, allowed or fresh enough: a
	// balance-only refresh goes by the balance refresh's state alone.
	Features []string `json:"Features,omitzero"`
}

// features is the input's Features, or both when none are named.
func (in RefreshInput) features() []string {
	if len(in.Features) == 0 {
		return []string{FeatureTransactions, FeatureBalance}
	}
	return in.Features
}

// RefreshStatusInput names the accounts whose refresh state to read.
type RefreshStatusInput struct {
	AccountIDs []string
}

// AccountState is the refresh-relevant state of one account as Stripe reports it.
type AccountState struct {
	AccountID                string
	Status                   string // active, inactive, disconnected
	TransactionRefreshID     string
	TransactionRefreshStatus string
	BalanceRefreshStatus     string
	// NextRefreshAvailableAt is zero when Stripe reports null. Zero times and false are
	// left out of the JSON payload (omitzero): "RetryAt":"0001-01-01T00:00:00Z" in a
	// history says nothing.
	NextRefreshAvailableAt time.Time `json:"NextRefreshAvailableAt,omitzero"`
	// LastAttemptedAt is when the latest transaction refresh started (zero: never).
	LastAttemptedAt time.Time `json:"LastAttemptedAt,omitzero"`
	// Requested says RequestRefresh started a refresh of this account in this call.
	Requested bool `json:"Requested,omitzero"`
	// RetryAt is set by RequestRefresh when it could not start a refresh yet (Stripe's
	// next_refresh_available_at is still ahead) and the data Stripe holds is older than
	// the fresh-data window: the workflow waits until then and asks again.
	RetryAt time.Time `json:"RetryAt,omitzero"`
}

// DefaultFreshDataWindow is how old the data of a succeeded refresh may be and still be
// used without a new refresh when Stripe does not allow one yet: an applicant who linked
// minutes ago has data as fresh as a refresh would give.
const DefaultFreshDataWindow = time.Hour

// Active reports whether the account is active at Stripe.
func (s AccountState) Active() bool { return s.Status == "active" }

// Done reports whether neither refresh of the account is still pending.
func (s AccountState) Done() bool {
	return s.TransactionRefreshStatus != RefreshPending && s.BalanceRefreshStatus != RefreshPending
}

// Failed reports whether a refresh of the account ended in failure or was never possible.
func (s AccountState) Failed() bool {
	return s.TransactionRefreshStatus == RefreshFailed || s.BalanceRefreshStatus == RefreshFailed ||
		s.TransactionRefreshStatus == "" || s.BalanceRefreshStatus == ""
}

// RefreshState is the state of every account of an application.
type RefreshState struct {
	Accounts []AccountState
}

// SyncInput names one account to sync into Postgres.
type SyncInput struct {
	ApplicationID string
	AccountID     string
	// TargetKnown says the workflow read the account's refresh state just before (its
	// refresh step) and passes TargetRefreshID, the transaction refresh that had succeeded
	// then ("" for none), so the sync does not read the account from Stripe again. A sync
	// scheduled without it (by an older workflow) reads the account.
	TargetKnown     bool   `json:"TargetKnown,omitzero"`
	TargetRefreshID string `json:"TargetRefreshID,omitzero"`
}

// SyncResult reports what a sync stored. Transactions themselves stay in Postgres.
type SyncResult struct {
	AccountID string
	Pages     int
	Upserted  int64
	Stored    int
	// RefreshID is the transaction refresh the stored data is complete up to; the next
	// sync passes it as transaction_refresh[after].
	RefreshID string
}

// BalanceInput names one account whose balance to store.
type BalanceInput struct {
	ApplicationID string
	AccountID     string
}

// BalanceResult reports the stored balance's time, zero when Stripe had none.
type BalanceResult struct {
	AccountID string
	AsOf      time.Time
	Present   bool
}

// SnapshotInput freezes the application's accounts, balances and transactions.
type SnapshotInput struct {
	ApplicationID string
}

// SnapshotRef identifies an immutable snapshot.
type SnapshotRef struct {
	ID           int64
	ContentHash  string
	AsOf         time.Time
	Transactions int
	Accounts     int
}

// ScoreInput scores one snapshot for one loan request.
type ScoreInput struct {
	ApplicationID string
	SnapshotID    int64
	// Loan is the loan applied for. Its Currency, the application's, is compared with the
	// ledger's by the CURRENCY_MISMATCH rule; inputs recorded before it existed carry
	// none, and the rule passes (scoring.Loan).
	Loan        scoring.Loan
	Operational scoring.Operational
}

// ScoreResult is the scoring decision and the cutoff day it was computed at.
type ScoreResult struct {
	Decision Verdict
	// Cutoff is the as-of day of the features (UTC midnight).
	Cutoff time.Time
}

// Verdict is a scoring decision as it travels through workflow history: everything but the
// feature vector and the points, which Decide (or Score) stores with the decision in Postgres (they
// are large, and recurring streams name transactions by their descriptions). Its JSON keys
// are scoring.Decision's, so results recorded with the whole decision decode into it.
type Verdict struct {
	Outcome           string                `json:"outcome"`
	Score             int                   `json:"score"`
	PD                float64               `json:"pd"`
	Reasons           []scoring.Reason      `json:"reasons"`
	Rules             []scoring.RuleResult  `json:"rules"`
	ModelVersion      string                `json:"model_version"`
	PolicyVersion     string                `json:"policy_version"`
	FeatureSetVersion string                `json:"feature_set_version"`
	CounterOffer      *scoring.CounterOffer `json:"counter_offer,omitempty"`
	// Unscored marks a referral made because the data could not be scored (Score and PD
	// are then meaningless and not recorded).
	Unscored bool `json:"unscored,omitempty"`
}

// VerdictOf is d without its feature vector and points.
func VerdictOf(d scoring.Decision) Verdict {
	return Verdict{
		Outcome: d.Outcome, Score: d.Score, PD: d.PD, Reasons: d.Reasons, Rules: d.Rules,
		ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion, FeatureSetVersion: d.FeatureSetVersion,
		CounterOffer: d.CounterOffer,
	}
}

// DecideInput asks Decide for the application's one decision. With a SnapshotID, that
// snapshot is scored for Loan under Operational; without one, Outcome (an outcome reached
// without scoring, loan.Unscored) is written.
type DecideInput struct {
	ApplicationID string
	SnapshotID    int64
	// Loan is the loan applied for, with the application's currency as ScoreInput's.
	Loan        scoring.Loan
	Operational scoring.Operational
	// Outcome is the unscored outcome (expired); ignored when SnapshotID is set.
	Outcome string
}

// DecideResult is the stored decision in brief.
type DecideResult struct {
	// Outcome is the stored decision's outcome.
	Outcome string
	// Score is the scoring result, nil for an unscored outcome.
	Score *ScoreResult
	// Created reports whether this call wrote the decision or found it already written.
	Created   bool
	DecidedAt time.Time
}

// RecordInput is a decision for RecordDecision to write. Score is nil for outcomes that
// were not scored (expired).
type RecordInput struct {
	ApplicationID string
	WorkflowID    string
	RunID         string
	Outcome       string
	Score         *ScoreResult
	Snapshot      *SnapshotRef
}

// RecordResult reports whether this call wrote the decision or found it already written.
type RecordResult struct {
	Created   bool
	DecidedAt time.Time
}

// RegisterInput is the application a workflow was started for.
type RegisterInput struct {
	ApplicationID string
	// Lender owns the application ("" is the development lender, store.DevLender).
	Lender          string
	WorkflowID      string
	CustomerID      string
	SessionID       string
	LoanAmountMinor int64
	TermMonths      int
	Currency        string
}

// FailureInput is RecordFailure's input: the application whose workflow failed, and why.
type FailureInput struct {
	ApplicationID string
	Cause         string
}
