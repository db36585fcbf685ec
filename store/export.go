package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ExportedDecision is one decision as `underwriter decisions export` writes it: the
// lender's view of the application, the decision's versions and verdict, and the loan's
// outcome when one was imported.
type ExportedDecision struct {
	// ExternalID is the lender's own application id; LenderID the lender.
	ExternalID        string
	LenderID          string
	DecidedAt         time.Time
	ModelVersion      string
	PolicyVersion     string
	FeatureSetVersion string
	// Outcome is the decision's outcome (approve, decline, refer, expired, withdrawn).
	Outcome string
	Score   *int
	PD      *float64
	// LoanOutcome is the imported loan outcome (LoanOutcomes) and LoanObservedOn its day;
	// both nil while unknown.
	LoanOutcome    *string
	LoanObservedOn *time.Time
	// Reasons and Rules are the decision's JSON arrays as stored (jsonb: keys reordered).
	Reasons json.RawMessage
	Rules   json.RawMessage
	// DeploymentVersion is the Worker Deployment Version that made the decision
	// ("<deployment>:<build id>"), nil for an unversioned worker or an older decision.
	DeploymentVersion *string
}

// DecisionFilter selects decisions to export: decided in [From, To), of one lender or, with
// Lender "", of every lender.
type DecisionFilter struct {
	Lender   string
	From, To time.Time
}

// ExportDecisions calls fn with each decision f selects, in decided_at order (ties by
// application key), as the rows arrive from Postgres: it never holds more than one row, so
// a million decisions export in the memory of one. fn receives the same *ExportedDecision
// each time, overwritten by the next row; it must not keep it, nor the slices in it. An
// error from fn stops the export and is returned as is. It returns how many rows fn saw.
func (s *Store) ExportDecisions(ctx context.Context, f DecisionFilter, fn func(*ExportedDecision) error) (int, error) {
	const q = `
		select a.external_id, a.lender_id, d.decided_at, d.model_version, d.policy_version,
			d.feature_set_version, d.outcome, d.score, d.pd, o.outcome, o.observed_on, d.reasons, d.rules,
			d.deployment_version
		from decisions d
		join applications a on a.id = d.application_id
		left join outcomes o on o.application_id = d.application_id
		where d.decided_at >= $1 and d.decided_at < $2 and ($3 = '' or a.lender_id = $3)
		order by d.decided_at, d.application_id`
	rows, err := s.pool.Query(ctx, q, f.From, f.To, f.Lender)
	if err != nil {
		return 0, fmt.Errorf("export decisions: %w", err)
	}
	defer rows.Close()
	var d ExportedDecision
	// One ExportedDecision for every row: what a row leaves behind is garbage as soon as
	// fn returns, so memory does not grow with the number of rows.
	dst := []any{&d.ExternalID, &d.LenderID, &d.DecidedAt, &d.ModelVersion, &d.PolicyVersion,
		&d.FeatureSetVersion, &d.Outcome, &d.Score, &d.PD, &d.LoanOutcome, &d.LoanObservedOn, &d.Reasons, &d.Rules,
		&d.DeploymentVersion}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return n, fmt.Errorf("export decisions: row %d: %w", n+1, err)
		}
		n++
		if err := fn(&d); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export decisions: %w", err)
	}
	return n, nil
}
