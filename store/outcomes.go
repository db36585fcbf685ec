package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Loan outcomes: what became of a loan, as its lender observed it (migration 011). They
// label decisions for training and monitoring: LoanDefaulted and LoanChargedOff are bad,
// LoanRepaid is good.
const (
	LoanRepaid     = "repaid"
	LoanDefaulted  = "defaulted"
	LoanChargedOff = "charged_off"
)

// LoanOutcomes lists the loan outcomes the outcomes table accepts, in the order error
// messages name them.
var LoanOutcomes = []string{LoanRepaid, LoanDefaulted, LoanChargedOff}

// IsBadLoanOutcome reports whether a loan outcome counts as a default when training:
// defaulted and charged_off do, repaid does not.
func IsBadLoanOutcome(outcome string) bool {
	return outcome == LoanDefaulted || outcome == LoanChargedOff
}

// OutcomeRecord is one outcome to import, as a lender's file gives it: the lender's own
// application id (applications.external_id), the outcome and the day it was observed.
// Line is the record's line in the file, for error messages.
type OutcomeRecord struct {
	Line       int
	ExternalID string
	Outcome    string
	// ObservedOn is the day observed; only its UTC year, month and day are stored.
	ObservedOn time.Time
}

// OutcomeProblem is why one line of an outcome file cannot be imported.
type OutcomeProblem struct {
	Line int
	// Field is the CSV column at fault: application_id, outcome or observed_on; "" when
	// the whole line is.
	Field   string
	Message string
}

// String is "line N (field): message", or "line N: message" for a problem of the whole
// line.
func (p OutcomeProblem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d (%s): %s", p.Line, p.Field, p.Message)
}

// OutcomeImportError is returned by ImportOutcomes when a record cannot be imported; the
// transaction is rolled back, so nothing of the file is stored.
type OutcomeImportError struct {
	// Problems holds every problem found, by line.
	Problems []OutcomeProblem
}

func (e *OutcomeImportError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return fmt.Sprintf("%d problems: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// OutcomeImport counts what ImportOutcomes did.
type OutcomeImport struct {
	// Stored is how many outcomes were new; Unchanged how many were stored already, the
	// same outcome on the same day.
	Stored, Unchanged int
}

// ImportOutcomes stores the lender's loan outcomes recs in one transaction: all of them,
// or, when any record names an application the lender does not have or contradicts an
// outcome already stored (another outcome or another day), none, with an
// *OutcomeImportError listing every such problem by line. Storing the same outcome again
// changes nothing, so a file can be imported twice. The records must not repeat an
// application (the caller reports that as a problem of the file). An unknown lender wraps
// ErrNotFound.
func (s *Store) ImportOutcomes(ctx context.Context, lender string, recs []OutcomeRecord) (OutcomeImport, error) {
	var res OutcomeImport
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		keys, problems, err := checkOutcomes(ctx, tx, lender, recs)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return &OutcomeImportError{Problems: problems}
		}
		// on conflict do nothing, then compare: a concurrent import of the same
		// application that committed after checkOutcomes read is still caught, because
		// the insert waits for it and the comparison below reads what it stored.
		const ins = `
			insert into outcomes (application_id, outcome, observed_on)
			select * from unnest($1::text[], $2::text[], $3::date[])
			on conflict (application_id) do nothing`
		outcomes, days := make([]string, len(recs)), make([]time.Time, len(recs))
		for i, r := range recs {
			outcomes[i], days[i] = r.Outcome, day(r.ObservedOn)
		}
		tag, err := tx.Exec(ctx, ins, keys, outcomes, days)
		if err != nil {
			return fmt.Errorf("store outcomes of lender %s: %w", lender, err)
		}
		res.Stored = int(tag.RowsAffected())
		res.Unchanged = len(recs) - res.Stored
		if problems, err := conflictingOutcomes(ctx, tx, recs, keys); err != nil {
			return err
		} else if len(problems) > 0 {
			return &OutcomeImportError{Problems: problems}
		}
		return nil
	})
	if err != nil {
		return OutcomeImport{}, err
	}
	return res, nil
}

// CheckOutcomes returns the problems ImportOutcomes would refuse recs for, storing
// nothing: records whose application the lender does not have, and records that
// contradict a stored outcome. An unknown lender wraps ErrNotFound.
func (s *Store) CheckOutcomes(ctx context.Context, lender string, recs []OutcomeRecord) ([]OutcomeProblem, error) {
	var problems []OutcomeProblem
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		_, problems, err = checkOutcomes(ctx, tx, lender, recs)
		return err
	})
	return problems, err
}

// checkOutcomes resolves each record's application key (keys[i] for recs[i], "" when the
// lender has no such application) and returns the problems of recs, by line.
func checkOutcomes(ctx context.Context, tx pgx.Tx, lender string, recs []OutcomeRecord) (keys []string, problems []OutcomeProblem, err error) {
	var exists bool
	if err := tx.QueryRow(ctx, `select exists (select 1 from lenders where id = $1)`, lender).Scan(&exists); err != nil {
		return nil, nil, fmt.Errorf("look up lender %s: %w", lender, err)
	}
	if !exists {
		return nil, nil, fmt.Errorf("lender %s: %w", lender, ErrNotFound)
	}
	external := make([]string, len(recs))
	for i, r := range recs {
		external[i] = r.ExternalID
	}
	// One query for the whole file: ord keeps the records' order, so keys[i] is recs[i]'s.
	const q = `
		select coalesce(a.id, '') from unnest($2::text[]) with ordinality as f (external_id, ord)
		left join applications a on a.lender_id = $1 and a.external_id = f.external_id
		order by f.ord`
	rows, _ := tx.Query(ctx, q, lender, external)
	keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("look up applications of lender %s: %w", lender, err)
	}
	for i, r := range recs {
		if keys[i] == "" {
			problems = append(problems, OutcomeProblem{r.Line, "application_id",
				fmt.Sprintf("lender %s has no application %q", lender, r.ExternalID)})
		}
	}
	conflicts, err := conflictingOutcomes(ctx, tx, recs, keys)
	if err != nil {
		return nil, nil, err
	}
	problems = append(problems, conflicts...)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return keys, problems, nil
}

// conflictingOutcomes returns a problem for each record whose application already has
// another outcome, or the same outcome observed on another day.
func conflictingOutcomes(ctx context.Context, tx pgx.Tx, recs []OutcomeRecord, keys []string) ([]OutcomeProblem, error) {
	const q = `
		select f.ord::int, o.outcome, o.observed_on from unnest($1::text[]) with ordinality as f (application_id, ord)
		join outcomes o on o.application_id = f.application_id
		order by f.ord`
	rows, _ := tx.Query(ctx, q, keys)
	var problems []OutcomeProblem
	var ord int
	var outcome string
	var observed time.Time
	_, err := pgx.ForEachRow(rows, []any{&ord, &outcome, &observed}, func() error {
		r := recs[ord-1]
		field := "outcome"
		if outcome == r.Outcome {
			if observed.Equal(day(r.ObservedOn)) {
				return nil
			}
			field = "observed_on"
		}
		problems = append(problems, OutcomeProblem{r.Line, field, fmt.Sprintf("%s is already stored as %s observed on %s",
			r.ExternalID, outcome, observed.Format(time.DateOnly))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compare stored outcomes: %w", err)
	}
	return problems, nil
}

// day is t's UTC day at midnight UTC, the value a date column stores and returns.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// LabelledSnapshot is a decided application of a lender with a frozen snapshot and a known
// loan outcome: one training sample for `underwriter train --from-db`.
type LabelledSnapshot struct {
	// ExternalID is the lender's own application id.
	ExternalID      string `db:"external_id"`
	LoanAmountMinor int64  `db:"loan_amount_minor"`
	TermMonths      int    `db:"term_months"`
	Currency        string `db:"currency"`
	SnapshotID      int64  `db:"snapshot_id"`
	// Cutoff is the day the decision's features were computed as of (nil for a decision
	// recorded without one).
	Cutoff  *time.Time `db:"cutoff"`
	Outcome string     `db:"outcome"`
}

// LabelledSnapshots returns the lender's decided applications whose decision scored a
// snapshot and whose loan outcome is known, by the lender's application id. The ledgers
// stay in Postgres (GetSnapshot reads one), so the list stays small however large the
// snapshots are.
func (s *Store) LabelledSnapshots(ctx context.Context, lender string) ([]LabelledSnapshot, error) {
	const q = `
		select a.external_id, a.loan_amount_minor, a.term_months, a.currency, d.snapshot_id, d.cutoff, o.outcome
		from decisions d
		join applications a on a.id = d.application_id
		join outcomes o on o.application_id = d.application_id
		where a.lender_id = $1 and d.snapshot_id is not null
		order by a.external_id`
	rows, _ := s.pool.Query(ctx, q, lender)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[LabelledSnapshot])
	if err != nil {
		return nil, fmt.Errorf("list labelled snapshots of lender %s: %w", lender, err)
	}
	return out, nil
}

// UnlabelledCounts returns, for the lender, how many decisions scored a snapshot but have
// no loan outcome yet (unlabelled), and how many outcomes have no decision with a snapshot
// (unscored: an expired application, say), the two sets train --from-db leaves out.
func (s *Store) UnlabelledCounts(ctx context.Context, lender string) (unlabelled, unscored int, err error) {
	const q = `
		select
			(select count(*) from decisions d join applications a on a.id = d.application_id
			 where a.lender_id = $1 and d.snapshot_id is not null
			   and not exists (select 1 from outcomes o where o.application_id = d.application_id)),
			(select count(*) from outcomes o join applications a on a.id = o.application_id
			 where a.lender_id = $1
			   and not exists (select 1 from decisions d where d.application_id = o.application_id and d.snapshot_id is not null))`
	if err := s.pool.QueryRow(ctx, q, lender).Scan(&unlabelled, &unscored); err != nil {
		return 0, 0, fmt.Errorf("count unlabelled decisions of lender %s: %w", lender, err)
	}
	return unlabelled, unscored, nil
}

// GetOutcome returns the loan outcome of the application with key applicationID, or an
// error wrapping ErrNotFound.
func (s *Store) GetOutcome(ctx context.Context, applicationID string) (outcome string, observedOn time.Time, err error) {
	const q = `select outcome, observed_on from outcomes where application_id = $1`
	if err := s.pool.QueryRow(ctx, q, applicationID).Scan(&outcome, &observedOn); err != nil {
		return "", time.Time{}, fmt.Errorf("get outcome of application %s: %w", applicationID, notFound(err))
	}
	return outcome, observedOn, nil
}
