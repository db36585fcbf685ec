package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cashflow-underwriting/underwriter/loan"
)

// Application is one loan application of one lender. It never holds the Financial
// Connections session's client_secret.
type Application struct {
	// ID is the key every other table refers to and the workflow's application id:
	// "<lender>/<external id>", or the external id alone for an application created before
	// lenders existed.
	ID string `db:"id"`
	// LenderID is the lender that created the application ("" stores DevLender).
	LenderID string `db:"lender_id"`
	// ExternalID is the lender's own application id, unique per lender ("" stores ID).
	ExternalID string `db:"external_id"`
	// RequestHash identifies the request's content (the API stores an HMAC of it); a
	// different hash for the same lender and external id is a conflicting reuse of the id.
	RequestHash     string `db:"request_hash"`
	LoanAmountMinor int64  `db:"loan_amount_minor"`
	TermMonths      int    `db:"term_months"`
	Currency        string `db:"currency"`
	// CustomerID is the Stripe customer (cus_…), nil until created.
	CustomerID *string `db:"customer_id"`
	// SessionID is the Financial Connections session (fcsess_…), nil until created.
	SessionID  *string `db:"session_id"`
	WorkflowID string  `db:"workflow_id"`
	// Stage is one of loan's stages (loan.Stages).
	Stage string `db:"stage"`
	// FailureCause says why the application's workflow failed (Stage loan.StageFailed).
	FailureCause *string   `db:"failure_cause"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

// DevLender owns the applications created before lenders existed (migration 010).
const DevLender = "dev"

const applicationColumns = `id, lender_id, external_id, request_hash, loan_amount_minor, term_months,
	currency, customer_id, session_id, workflow_id, stage, failure_cause, created_at, updated_at`

// CreateApplication inserts a, or returns the application the lender already stored under
// the same external id (or the same ID) with created false; the returned row's ID and
// WorkflowID are the ones to use from then on (an application created before lenders keeps
// its own). It returns the stored row and an error wrapping ErrConflict when the stored
// request hash differs from a.RequestHash (the id was reused for another request).
// CreatedAt and UpdatedAt are set by the database; an empty Stage is stored as
// loan.StageCreated. The table's check constraints refuse a loan outside loan.Validate's
// bounds, and a lender that does not exist.
func (s *Store) CreateApplication(ctx context.Context, a Application) (Application, bool, error) {
	const q = `
		insert into applications (id, lender_id, external_id, request_hash, loan_amount_minor,
			term_months, currency, customer_id, session_id, workflow_id, stage)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		on conflict do nothing
		returning ` + applicationColumns
	if a.Stage == "" {
		a.Stage = loan.StageCreated
	}
	if a.LenderID == "" {
		a.LenderID = DevLender
	}
	if a.ExternalID == "" {
		a.ExternalID = a.ID
	}
	rows, _ := s.pool.Query(ctx, q, a.ID, a.LenderID, a.ExternalID, a.RequestHash, a.LoanAmountMinor,
		a.TermMonths, a.Currency, a.CustomerID, a.SessionID, a.WorkflowID, a.Stage)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Application{}, false, fmt.Errorf("create application %s: %w", a.ID, err)
	}
	stored, err := s.GetLenderApplication(ctx, a.LenderID, a.ExternalID)
	if errors.Is(err, ErrNotFound) {
		// The id is taken but not by this lender's external id: only a row written with a
		// mismatched ID could do that.
		stored, err = s.GetApplication(ctx, a.ID)
	}
	if err != nil {
		return Application{}, false, fmt.Errorf("create application %s: %w", a.ID, err)
	}
	if stored.RequestHash != a.RequestHash {
		return stored, false, fmt.Errorf("create application %s: application_id already used with a different request: %w",
			a.ID, ErrConflict)
	}
	return stored, false, nil
}

// GetLenderApplication returns the lender's application with the lender's own id, or an
// error wrapping ErrNotFound, also when another lender has an application with that id.
func (s *Store) GetLenderApplication(ctx context.Context, lenderID, externalID string) (Application, error) {
	const q = `select ` + applicationColumns + ` from applications where lender_id = $1 and external_id = $2`
	rows, _ := s.pool.Query(ctx, q, lenderID, externalID)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
	if err != nil {
		return Application{}, fmt.Errorf("get application %s of lender %s: %w", externalID, lenderID, notFound(err))
	}
	return a, nil
}

// ReplaceUnstartedApplication stores a's request (hash and loan) in place of the one
// stored under a.ID, but only while that application never reached Stripe or Temporal:
// stage loan.StageCreated and no Stripe customer. A lender may so correct a request Stripe
// refused. It returns the updated row, or an error wrapping ErrConflict when the
// application has started meanwhile.
func (s *Store) ReplaceUnstartedApplication(ctx context.Context, a Application) (Application, error) {
	const q = `
		update applications
		set request_hash = $2, loan_amount_minor = $3, term_months = $4, currency = $5, updated_at = now()
		where id = $1 and stage = '` + loan.StageCreated + `' and customer_id is null
		returning ` + applicationColumns
	rows, _ := s.pool.Query(ctx, q, a.ID, a.RequestHash, a.LoanAmountMinor, a.TermMonths, a.Currency)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
	if errors.Is(err, pgx.ErrNoRows) {
		return Application{}, fmt.Errorf("replace application %s: it has started: %w", a.ID, ErrConflict)
	}
	if err != nil {
		return Application{}, fmt.Errorf("replace application %s: %w", a.ID, err)
	}
	return got, nil
}

// MarkApplicationStarted records that the application's workflow runs: a row still
// created, or failed (a new run after a failed one), moves to stage and loses its failure
// cause. A row already further along is left alone. An unknown id wraps ErrNotFound.
func (s *Store) MarkApplicationStarted(ctx context.Context, id, stage string) error {
	const q = `
		update applications set stage = $2, failure_cause = null, updated_at = now()
		where id = $1 and stage in ('` + loan.StageCreated + `', '` + loan.StageFailed + `')`
	tag, err := s.pool.Exec(ctx, q, id, stage)
	if err != nil {
		return fmt.Errorf("mark application %s started: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.GetApplication(ctx, id); err != nil {
			return fmt.Errorf("mark application started: %w", err)
		}
	}
	return nil
}

// MarkApplicationFailed records that the application's workflow failed, and why. A decided
// application stays decided. An unknown id is not an error: a workflow may fail before its
// row exists.
func (s *Store) MarkApplicationFailed(ctx context.Context, id, cause string) error {
	const q = `
		update applications set stage = '` + loan.StageFailed + `', failure_cause = $2, updated_at = now()
		where id = $1 and stage <> '` + loan.StageDecided + `'
		  and not exists (select 1 from decisions d where d.application_id = $1)`
	if _, err := s.pool.Exec(ctx, q, id, cause); err != nil {
		return fmt.Errorf("mark application %s failed: %w", id, err)
	}
	return nil
}

// GetApplication returns the application with the given id, or an error wrapping ErrNotFound.
func (s *Store) GetApplication(ctx context.Context, id string) (Application, error) {
	const q = `select ` + applicationColumns + ` from applications where id = $1`
	rows, _ := s.pool.Query(ctx, q, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
	if err != nil {
		return Application{}, fmt.Errorf("get application %s: %w", id, notFound(err))
	}
	return a, nil
}

// UndecidedApplicationsByCustomer returns the applications of a Stripe customer (cus_…)
// that have no decision yet, oldest first: the workflows a webhook about the customer's
// accounts may concern. A returning customer can have several. None is an empty slice.
func (s *Store) UndecidedApplicationsByCustomer(ctx context.Context, customerID string) ([]Application, error) {
	const q = `select ` + applicationColumns + ` from applications a
		where customer_id = $1
		  and not exists (select 1 from decisions d where d.application_id = a.id)
		order by created_at, id`
	rows, _ := s.pool.Query(ctx, q, customerID)
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[Application])
	if err != nil {
		return nil, fmt.Errorf("list undecided applications of customer %s: %w", customerID, err)
	}
	return as, nil
}

// SetApplicationStripeIDs records the Stripe customer and Financial Connections session
// created for application id. Repeating the call with the same ids is a no-op, and a new
// session replaces an expired one; but an application keeps its first customer, and a
// session belongs to one application: either violation wraps ErrConflict. A customer may
// have several applications (a returning customer).
// An unknown id wraps ErrNotFound.
func (s *Store) SetApplicationStripeIDs(ctx context.Context, id, customerID, sessionID string) error {
	const q = `
		update applications
		set customer_id = $2, session_id = $3, updated_at = now()
		where id = $1 and (customer_id is null or customer_id = $2)`
	tag, err := s.pool.Exec(ctx, q, id, nullIfEmpty(customerID), nullIfEmpty(sessionID))
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("set stripe ids of application %s: session belongs to another application: %w",
				id, ErrConflict)
		}
		return fmt.Errorf("set stripe ids of application %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.GetApplication(ctx, id); err != nil {
		return fmt.Errorf("set stripe ids: %w", err)
	}
	return fmt.Errorf("set stripe ids of application %s: it already has another customer: %w", id, ErrConflict)
}

// SetApplicationStage records the workflow stage of application id; an unknown id wraps
// ErrNotFound.
func (s *Store) SetApplicationStage(ctx context.Context, id, stage string) error {
	const q = `update applications set stage = $2, updated_at = now() where id = $1`
	tag, err := s.pool.Exec(ctx, q, id, stage)
	if err != nil {
		return fmt.Errorf("set stage of application %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set stage of application %s: %w", id, ErrNotFound)
	}
	return nil
}

// ChangeApplicationLoan records a changed loan amount and term on an undecided
// application (the workflow accepted the change while it waited for a link or a
// refresh). Repeating it is a no-op. A decided application wraps ErrConflict: its
// decision was made for the loan it records; an unknown id wraps ErrNotFound.
func (s *Store) ChangeApplicationLoan(ctx context.Context, id string, amountMinor int64, termMonths int) error {
	const q = `
		update applications set loan_amount_minor = $2, term_months = $3, updated_at = now()
		where id = $1 and not exists (select 1 from decisions d where d.application_id = $1)`
	tag, err := s.pool.Exec(ctx, q, id, amountMinor, termMonths)
	if err != nil {
		return fmt.Errorf("change loan of application %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.GetApplication(ctx, id); err != nil {
		return fmt.Errorf("change loan: %w", err)
	}
	return fmt.Errorf("change loan of application %s: it is decided: %w", id, ErrConflict)
}
