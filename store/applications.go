package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cashflow-underwriting/underwriter/loan"
)

// Application is one loan application, keyed by the lender's application id. It never
// holds the Financial Connections session's client_secret.
type Application struct {
	// ID is the lender's application id.
	ID string `db:"id"`
	// RequestHash is the sha256 of the canonical request; a different hash for the same ID
	// is a conflicting reuse of the id.
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
	Stage     string    `db:"stage"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const applicationColumns = `id, request_hash, loan_amount_minor, term_months, currency, customer_id,
	session_id, workflow_id, stage, created_at, updated_at`

// CreateApplication inserts a, or returns the application already stored under a.ID with
// created false. It returns an error wrapping ErrConflict when the stored request hash
// differs from a.RequestHash (the id was reused for another request). CreatedAt and
// UpdatedAt are set by the database; an empty Stage is stored as loan.StageCreated. The
// table's check constraints refuse a loan outside loan.Validate's bounds.
func (s *Store) CreateApplication(ctx context.Context, a Application) (Application, bool, error) {
	const q = `
		insert into applications (id, request_hash, loan_amount_minor, term_months, currency,
			customer_id, session_id, workflow_id, stage)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		on conflict (id) do nothing
		returning ` + applicationColumns
	stage := a.Stage
	if stage == "" {
		stage = loan.StageCreated
	}
	rows, _ := s.pool.Query(ctx, q, a.ID, a.RequestHash, a.LoanAmountMinor, a.TermMonths, a.Currency,
		a.CustomerID, a.SessionID, a.WorkflowID, stage)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Application{}, false, fmt.Errorf("create application %s: %w", a.ID, err)
	}
	stored, err := s.GetApplication(ctx, a.ID)
	if err != nil {
		return Application{}, false, fmt.Errorf("create application %s: %w", a.ID, err)
	}
	if stored.RequestHash != a.RequestHash {
		return stored, false, fmt.Errorf("create application %s: application_id already used with a different request: %w",
			a.ID, ErrConflict)
	}
	return stored, false, nil
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
