package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Booked loan statuses (loans.status). A loan is LoanActive from booking until it ends
// once: LoanRepaid, LoanChargedOff (spelt as the outcomes of the same name), LoanCancelled
// or LoanTermEnded, the close reasons of workflows.LoanClose.
const (
	LoanActive    = "active"
	LoanCancelled = "cancelled"
	// LoanTermEnded is set by the loan's watcher when the term is over.
	LoanTermEnded = "term_ended"
)

// ErrLoanConflict is returned (wrapped) by CreateLoan when the application's loan is
// already booked with other terms. It wraps ErrConflict too.
var ErrLoanConflict = fmt.Errorf("loan already booked with other terms: %w", ErrConflict)

// Loan is a booked loan, watched after its decision (migration 016). Its key is its
// application's (store.Application.ID).
type Loan struct {
	ApplicationID string `db:"application_id"`
	// LenderID is the application's lender; CreateLoan copies it from the application.
	LenderID    string `db:"lender_id"`
	AmountMinor int64  `db:"amount_minor"`
	// Currency is a lower-case ISO 4217 code.
	Currency   string `db:"currency"`
	TermMonths int    `db:"term_months"`
	// FirstDue is the due day of the first instalment (a date: only its UTC year, month
	// and day are stored).
	FirstDue time.Time `db:"first_due"`
	// InstalmentMinor is the amount due each month.
	InstalmentMinor int64 `db:"instalment_minor"`
	// Status is LoanActive or the reason the loan ended.
	Status   string     `db:"status"`
	BookedAt time.Time  `db:"booked_at"`
	ClosedAt *time.Time `db:"closed_at"`
	// WorkflowID is the loan's watcher (workflows.MonitorWorkflowID).
	WorkflowID string `db:"workflow_id"`
}

const loanColumns = `application_id, lender_id, amount_minor, currency, term_months, first_due,
	instalment_minor, status, booked_at, closed_at, workflow_id`

// sameTerms reports whether a booking of l matches the stored loan: amount, currency,
// term, first due day and instalment.
func (l Loan) sameTerms(stored Loan) bool {
	return l.AmountMinor == stored.AmountMinor && l.Currency == stored.Currency &&
		l.TermMonths == stored.TermMonths && l.InstalmentMinor == stored.InstalmentMinor &&
		dateOnly(l.FirstDue).Equal(dateOnly(stored.FirstDue))
}

// dateOnly is t's UTC day at midnight UTC, as a date column stores it.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CreateLoan books l.ApplicationID's loan and returns the stored row with created true.
// Booking is idempotent: when the application's loan is already booked with the same
// terms (amount, currency, term, first due day, instalment) it returns that row, whatever
// its status, with created false; with other terms it returns the stored row and an error
// wrapping ErrLoanConflict. The lender is the application's (l.LenderID is ignored); an
// unknown application wraps ErrNotFound. The table's checks refuse terms outside
// loan.Validate's bounds. Whether the application may be booked (decided, approved) is the
// caller's rule.
func (s *Store) CreateLoan(ctx context.Context, l Loan) (Loan, bool, error) {
	const q = `
		insert into loans (application_id, lender_id, amount_minor, currency, term_months, first_due,
			instalment_minor, workflow_id)
		select a.id, a.lender_id, $2, $3, $4, $5, $6, $7 from applications a where a.id = $1
		on conflict (application_id) do nothing
		returning ` + loanColumns
	rows, _ := s.pool.Query(ctx, q, l.ApplicationID, l.AmountMinor, l.Currency, l.TermMonths,
		dateOnly(l.FirstDue), l.InstalmentMinor, l.WorkflowID)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Loan])
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Loan{}, false, fmt.Errorf("book loan of application %s: %w", l.ApplicationID, err)
	}
	// Nothing inserted: the loan is booked already, or the application is unknown.
	stored, err := s.GetLoan(ctx, l.ApplicationID)
	if errors.Is(err, ErrNotFound) {
		if _, aerr := s.GetApplication(ctx, l.ApplicationID); aerr != nil {
			return Loan{}, false, fmt.Errorf("book loan: %w", aerr)
		}
	}
	if err != nil {
		return Loan{}, false, fmt.Errorf("book loan: %w", err)
	}
	if !l.sameTerms(stored) {
		return stored, false, fmt.Errorf("book loan of application %s: %w", l.ApplicationID, ErrLoanConflict)
	}
	return stored, false, nil
}

// GetLoan returns the loan of application applicationID, or an error wrapping ErrNotFound
// when it was never booked.
func (s *Store) GetLoan(ctx context.Context, applicationID string) (Loan, error) {
	const q = `select ` + loanColumns + ` from loans where application_id = $1`
	rows, _ := s.pool.Query(ctx, q, applicationID)
	l, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Loan])
	if err != nil {
		return Loan{}, fmt.Errorf("get loan of application %s: %w", applicationID, notFound(err))
	}
	return l, nil
}

// CloseLoan ends the active loan of applicationID with status (LoanRepaid, LoanChargedOff,
// LoanCancelled or LoanTermEnded) and returns the stored row. The first close wins: a loan
// already closed keeps its status and closed_at, and is returned without error, so the
// watcher closing after the lender did (or a retried close) changes nothing; callers
// compare the returned Status with theirs. An unknown loan wraps ErrNotFound; a status
// outside the list is refused by the table.
func (s *Store) CloseLoan(ctx context.Context, applicationID, status string) (Loan, error) {
	const q = `
		update loans set status = $2, closed_at = now()
		where application_id = $1 and status = '` + LoanActive + `'
		returning ` + loanColumns
	if status == LoanActive {
		return Loan{}, fmt.Errorf("close loan of application %s: status %q is not a close reason", applicationID, status)
	}
	rows, _ := s.pool.Query(ctx, q, applicationID, status)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Loan])
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Loan{}, fmt.Errorf("close loan of application %s: %w", applicationID, err)
	}
	stored, err := s.GetLoan(ctx, applicationID)
	if err != nil {
		return Loan{}, fmt.Errorf("close loan: %w", err)
	}
	return stored, nil
}

// ActiveLoansForAccount returns the keys of the applications whose active loan watches the
// Financial Connections account accountID (through the application's linked accounts),
// sorted; none is an empty slice. A webhook about the account signals their watchers.
func (s *Store) ActiveLoansForAccount(ctx context.Context, accountID string) ([]string, error) {
	const q = `
		select l.application_id from loans l
		join application_accounts aa on aa.application_id = l.application_id
		where aa.account_id = $1 and l.status = '` + LoanActive + `'
		order by l.application_id`
	rows, _ := s.pool.Query(ctx, q, accountID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("active loans of account %s: %w", accountID, err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// SetLenderAlertWebhook sets the URL where the lender receives its loans' alerts; ""
// removes it (alerts are then stored and listed, not sent). The URL is stored as given:
// the caller checks it (internal/alerthook.CheckURL). An unknown lender wraps ErrNotFound.
func (s *Store) SetLenderAlertWebhook(ctx context.Context, lenderID, url string) error {
	const q = `update lenders set alert_webhook_url = $2 where id = $1`
	tag, err := s.pool.Exec(ctx, q, lenderID, nullIfEmpty(url))
	if err != nil {
		return fmt.Errorf("set alert webhook of lender %s: %w", lenderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set alert webhook of lender %s: %w", lenderID, ErrNotFound)
	}
	return nil
}

// LenderAlertWebhook returns the lender's alert webhook URL, "" when it has none. An
// unknown lender wraps ErrNotFound.
func (s *Store) LenderAlertWebhook(ctx context.Context, lenderID string) (string, error) {
	const q = `select coalesce(alert_webhook_url, '') from lenders where id = $1`
	var url string
	if err := s.pool.QueryRow(ctx, q, lenderID).Scan(&url); err != nil {
		return "", fmt.Errorf("alert webhook of lender %s: %w", lenderID, notFound(err))
	}
	return url, nil
}
