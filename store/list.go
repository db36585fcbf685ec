package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ListedApplication is one row of a lender's application list: the application and, when
// it was decided, the outcome.
type ListedApplication struct {
	Application
	// Outcome is the decision's outcome, nil before a decision.
	Outcome *string `db:"outcome"`
}

// ListLenderApplications returns up to limit of the lender's applications, newest first
// (created_at, then id, descending: two applications created in the same microsecond still
// have one order). With after set (a lender's own application id), the list starts after
// that application, as Stripe's starting_after does; an after the lender does not have is
// an error wrapping ErrNotFound. The lender's rows are found through the unique
// (lender_id, external_id) index and sorted; a lender's list in development is small.
func (s *Store) ListLenderApplications(ctx context.Context, lenderID, after string, limit int) ([]ListedApplication, error) {
	const cols = `a.id, a.lender_id, a.external_id, a.request_hash, a.loan_amount_minor, a.term_months,
		a.currency, a.customer_id, a.session_id, a.workflow_id, a.stage, a.failure_cause, a.created_at,
		a.updated_at, d.outcome`
	const first = `select ` + cols + ` from applications a left join decisions d on d.application_id = a.id
		where a.lender_id = $1 order by a.created_at desc, a.id desc limit $2`
	const next = `select ` + cols + ` from applications a left join decisions d on d.application_id = a.id
		where a.lender_id = $1 and (a.created_at, a.id) < (select c.created_at, c.id from applications c
			where c.lender_id = $1 and c.external_id = $3)
		order by a.created_at desc, a.id desc limit $2`
	if limit <= 0 {
		return nil, fmt.Errorf("list applications of lender %s: limit %d is not positive", lenderID, limit)
	}
	var rows pgx.Rows
	if after == "" {
		rows, _ = s.pool.Query(ctx, first, lenderID, limit)
	} else {
		if _, err := s.GetLenderApplication(ctx, lenderID, after); err != nil {
			return nil, fmt.Errorf("list applications of lender %s: %w", lenderID, err)
		}
		rows, _ = s.pool.Query(ctx, next, lenderID, limit, after)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[ListedApplication])
	if err != nil {
		return nil, fmt.Errorf("list applications of lender %s: %w", lenderID, err)
	}
	return out, nil
}
