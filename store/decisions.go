package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Decision is the recorded underwriting decision of one application. Outcomes reached
// without scoring (loan.Unscored: expired, withdrawn) leave the scoring fields nil.
//
// The JSON documents are stored as jsonb, which keeps their meaning but not their bytes
// (keys come back reordered, whitespace dropped): compare them after decoding.
type Decision struct {
	ApplicationID string `db:"application_id"`
	WorkflowID    string `db:"workflow_id"`
	RunID         string `db:"run_id"`
	// Outcome is one of loan's outcomes (loan.Outcomes), as the table constrains it.
	Outcome string `db:"outcome"`
	Score   *int   `db:"score"`
	// PD is the probability of default in [0, 1].
	PD *float64 `db:"pd"`
	// Reasons holds up to four reason codes (a JSON array); nil is stored as [].
	Reasons json.RawMessage `db:"reasons"`
	// Rules holds every policy rule result {rule, actual, threshold, passed} (a JSON
	// array); nil is stored as [].
	Rules json.RawMessage `db:"rules"`
	// Features is the feature vector with its undefined flags (a JSON object), or nil.
	Features json.RawMessage `db:"features"`
	// Points holds the scorecard points per characteristic, or nil.
	Points               json.RawMessage `db:"points"`
	ModelVersion         string          `db:"model_version"`
	PolicyVersion        string          `db:"policy_version"`
	FeatureSetVersion    string          `db:"feature_set_version"`
	ReasonCodeMapVersion string          `db:"reason_code_map_version"`
	SnapshotID           *int64          `db:"snapshot_id"`
	ContentHash          *string         `db:"content_hash"`
	// AsOf is the balance time of the snapshot scored.
	AsOf *time.Time `db:"as_of"`
	// Cutoff is the cutoff day (a date; only its UTC year, month and day are stored).
	Cutoff       *time.Time `db:"cutoff"`
	DecidedAt    time.Time  `db:"decided_at"`
	BuildVersion string     `db:"build_version"`
	CreatedAt    time.Time  `db:"created_at"`
	// DeploymentVersion is the Worker Deployment Version of the worker that made the
	// decision, "<deployment name>:<build id>"; nil for an unversioned worker and for
	// decisions made before the column existed. It is written as given: "" is stored as nil.
	DeploymentVersion *string `db:"deployment_version"`
}

const decisionColumns = `application_id, workflow_id, run_id, outcome, score, pd, reasons, rules,
	features, points, model_version, policy_version, feature_set_version, reason_code_map_version,
	snapshot_id, content_hash, as_of, cutoff, decided_at, build_version, created_at, deployment_version`

// RecordDecision stores d unless the application already has a decision, and returns the
// stored decision with created reporting whether it was d. Writing a decision twice (an
// activity retry, a replayed workflow) therefore leaves the first one. CreatedAt is set
// by the database.
func (s *Store) RecordDecision(ctx context.Context, d Decision) (Decision, bool, error) {
	const q = `
		insert into decisions (application_id, workflow_id, run_id, outcome, score, pd, reasons,
			rules, features, points, model_version, policy_version, feature_set_version,
			reason_code_map_version, snapshot_id, content_hash, as_of, cutoff, decided_at, build_version,
			deployment_version)
		values ($1, $2, $3, $4, $5, $6, coalesce($7::jsonb, '[]'), coalesce($8::jsonb, '[]'),
			$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, nullif($21, ''))
		on conflict (application_id) do nothing
		returning ` + decisionColumns
	var cutoff *time.Time
	if d.Cutoff != nil {
		c := d.Cutoff.UTC()
		cutoff = &c
	}
	rows, _ := s.pool.Query(ctx, q, d.ApplicationID, d.WorkflowID, d.RunID, d.Outcome, d.Score, d.PD,
		jsonArg(d.Reasons), jsonArg(d.Rules), jsonArg(d.Features), jsonArg(d.Points),
		d.ModelVersion, d.PolicyVersion, d.FeatureSetVersion, d.ReasonCodeMapVersion,
		d.SnapshotID, d.ContentHash, d.AsOf, cutoff, d.DecidedAt, d.BuildVersion, d.DeploymentVersion)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Decision])
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Decision{}, false, fmt.Errorf("record decision of application %s: %w", d.ApplicationID, err)
	}
	got, err = s.GetDecision(ctx, d.ApplicationID)
	if err != nil {
		return Decision{}, false, fmt.Errorf("record decision: %w", err)
	}
	return got, false, nil
}

// GetDecision returns the decision of applicationID, or an error wrapping ErrNotFound.
func (s *Store) GetDecision(ctx context.Context, applicationID string) (Decision, error) {
	const q = `select ` + decisionColumns + ` from decisions where application_id = $1`
	rows, _ := s.pool.Query(ctx, q, applicationID)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Decision])
	if err != nil {
		return Decision{}, fmt.Errorf("get decision of application %s: %w", applicationID, notFound(err))
	}
	return d, nil
}

// CountDecisions returns how many decisions are stored for applicationID: 0 or 1.
func (s *Store) CountDecisions(ctx context.Context, applicationID string) (int, error) {
	const q = `select count(*) from decisions where application_id = $1`
	var n int
	if err := s.pool.QueryRow(ctx, q, applicationID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count decisions of application %s: %w", applicationID, err)
	}
	return n, nil
}

// jsonArg passes a JSON document as text, nil (or empty) as SQL NULL.
func jsonArg(m json.RawMessage) *string {
	if len(m) == 0 {
		return nil
	}
	s := string(m)
	return &s
}

// PortfolioDecision is one decision as the portfolio report reads it: the lender's view of
// the application and its loan, the verdict, the reason codes and scorecard points as
// stored, and the loan's outcome when one was imported.
type PortfolioDecision struct {
	ExternalID      string
	LenderID        string
	DecidedAt       time.Time
	Outcome         string
	Score           *int
	PD              *float64
	LoanAmountMinor int64
	TermMonths      int
	Currency        string
	// Reasons and Points are the decision's JSON arrays as stored (Points nil when the
	// decision was not scored).
	Reasons json.RawMessage
	Points  json.RawMessage
	// LoanOutcome is the imported outcome (repaid, defaulted, charged_off), nil while unknown.
	LoanOutcome *string
	// ModelVersion is the scorecard version that made the decision.
	ModelVersion string
}

// PortfolioDecisions calls fn with each decision f selects, in no particular order (the
// report's tallies do not need one, and Postgres need not sort a million rows), as the
// rows arrive from Postgres (ExportDecisions' contract: fn gets the same
// *PortfolioDecision each time and must not keep it or the slices in it), so a million
// decisions need the memory of one row. It returns how many rows fn saw.
func (s *Store) PortfolioDecisions(ctx context.Context, f DecisionFilter, fn func(*PortfolioDecision) error) (int, error) {
	const q = `
		select a.external_id, a.lender_id, d.decided_at, d.outcome, d.score, d.pd, a.loan_amount_minor,
			a.term_months, a.currency, d.reasons::text, d.points::text, o.outcome,
			d.model_version
		from decisions d
		join applications a on a.id = d.application_id
		left join outcomes o on o.application_id = d.application_id
		where d.decided_at >= $1 and d.decided_at < $2 and ($3 = '' or a.lender_id = $3)`
	rows, err := s.pool.Query(ctx, q, f.From, f.To, f.Lender)
	if err != nil {
		return 0, fmt.Errorf("portfolio decisions: %w", err)
	}
	defer rows.Close()
	var d PortfolioDecision
	// reasons and points come as text into byte slices: the report decodes them once, so
	// pgx need not check them as JSON first.
	dst := []any{&d.ExternalID, &d.LenderID, &d.DecidedAt, &d.Outcome, &d.Score, &d.PD, &d.LoanAmountMinor,
		&d.TermMonths, &d.Currency, (*[]byte)(&d.Reasons), (*[]byte)(&d.Points), &d.LoanOutcome, &d.ModelVersion}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return n, fmt.Errorf("portfolio decisions: row %d: %w", n+1, err)
		}
		n++
		if err := fn(&d); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("portfolio decisions: %w", err)
	}
	return n, nil
}
