package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RescoreSelection selects the past applications a re-score reads: the lender's
// decisions decided in [From, To) that scored a snapshot (or referred it as unusable), so
// that there is a snapshot to score again. Expired applications have none and are left out.
//
// With SelectionID, only the applications SaveRescoreSelection stored under that id are
// selected (rescore --query), still within the lender and the period.
type RescoreSelection struct {
	Lender      string
	From, To    time.Time
	SelectionID string
}

// RescoreCandidate is one application to re-score: its snapshot, the loan applied for and
// the rule results of its original decision (the operational facts the workflow had, such
// as a failed refresh, survive only there).
type RescoreCandidate struct {
	ApplicationID   string `db:"application_id"`
	SnapshotID      int64  `db:"snapshot_id"`
	LoanAmountMinor int64  `db:"loan_amount_minor"`
	TermMonths      int    `db:"term_months"`
	Currency        string `db:"currency"`
	// Outcome is the original decision's outcome.
	Outcome string          `db:"outcome"`
	Rules   json.RawMessage `db:"rules"`
}

// The candidates of a selection, in application key order so that a key is a cursor.
const rescoreCandidatesWhere = `
		from decisions d
		join applications a on a.id = d.application_id
		where a.lender_id = $1 and d.decided_at >= $2 and d.decided_at < $3 and d.snapshot_id is not null
		  and ($4 = '' or exists (select 1 from rescore_selections rs
		                          where rs.selection_id = $4 and rs.application_id = d.application_id))`

// CountRescoreCandidates returns how many applications sel selects.
func (s *Store) CountRescoreCandidates(ctx context.Context, sel RescoreSelection) (int, error) {
	var n int
	q := `select count(*)` + rescoreCandidatesWhere
	if err := s.pool.QueryRow(ctx, q, sel.Lender, sel.From, sel.To, sel.SelectionID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count applications to re-score of lender %s: %w", sel.Lender, err)
	}
	return n, nil
}

// RescoreCandidates returns at most limit applications sel selects whose key sorts after
// after ("" for the first page), in key order: a re-score keeps the last key of a page as
// its cursor and resumes from it.
func (s *Store) RescoreCandidates(ctx context.Context, sel RescoreSelection, after string, limit int) ([]RescoreCandidate, error) {
	q := `select d.application_id, d.snapshot_id, a.loan_amount_minor, a.term_months, a.currency, d.outcome, d.rules` +
		rescoreCandidatesWhere + ` and d.application_id > $5 order by d.application_id limit $6`
	rows, _ := s.pool.Query(ctx, q, sel.Lender, sel.From, sel.To, sel.SelectionID, after, limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[RescoreCandidate])
	if err != nil {
		return nil, fmt.Errorf("list applications to re-score of lender %s after %q: %w", sel.Lender, after, err)
	}
	return out, nil
}

// Rescore is one application's snapshot scored under another model or policy (migration
// 012): the scoring columns of a Decision, under the versions that computed them.
type Rescore struct {
	ApplicationID     string `db:"application_id"`
	FeatureSetVersion string `db:"feature_set_version"`
	ModelVersion      string `db:"model_version"`
	PolicyVersion     string `db:"policy_version"`
	SnapshotID        int64  `db:"snapshot_id"`
	// Outcome is approve, decline or refer.
	Outcome string `db:"outcome"`
	// Score and PD are nil when the snapshot could not be scored (a DATA_UNUSABLE refer).
	Score                *int            `db:"score"`
	PD                   *float64        `db:"pd"`
	Reasons              json.RawMessage `db:"reasons"`
	Rules                json.RawMessage `db:"rules"`
	Features             json.RawMessage `db:"features"`
	Points               json.RawMessage `db:"points"`
	ReasonCodeMapVersion string          `db:"reason_code_map_version"`
	// Cutoff is the day the features are computed as of (a date).
	Cutoff       time.Time `db:"cutoff"`
	WorkflowID   string    `db:"workflow_id"`
	BuildVersion string    `db:"build_version"`
	RescoredAt   time.Time `db:"rescored_at"`
}

const rescoreColumns = `application_id, feature_set_version, model_version, policy_version, snapshot_id,
	outcome, score, pd, reasons, rules, features, points, reason_code_map_version, cutoff, workflow_id,
	build_version, rescored_at`

// InsertRescore stores r unless its application already has a re-score under the same
// feature-set, model and policy versions, and reports whether it stored it. The first row
// stands: a version names one model or policy file, so scoring the same snapshot under it
// again gives the same row, and a retried batch or a second run changes nothing.
func (s *Store) InsertRescore(ctx context.Context, r Rescore) (bool, error) {
	const q = `
		insert into rescores (` + rescoreColumns + `)
		values ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::jsonb, '[]'), coalesce($10::jsonb, '[]'),
			$11, $12, $13, $14, $15, $16, $17)
		on conflict (application_id, feature_set_version, model_version, policy_version) do nothing`
	tag, err := s.pool.Exec(ctx, q, r.ApplicationID, r.FeatureSetVersion, r.ModelVersion, r.PolicyVersion,
		r.SnapshotID, r.Outcome, r.Score, r.PD, jsonArg(r.Reasons), jsonArg(r.Rules), jsonArg(r.Features),
		jsonArg(r.Points), r.ReasonCodeMapVersion, day(r.Cutoff), r.WorkflowID, r.BuildVersion, r.RescoredAt)
	if err != nil {
		return false, fmt.Errorf("store re-score of application %s under %s/%s/%s: %w",
			r.ApplicationID, r.FeatureSetVersion, r.ModelVersion, r.PolicyVersion, err)
	}
	return tag.RowsAffected() == 1, nil
}

// GetRescore returns the application's re-score under the versions, or an error wrapping
// ErrNotFound.
func (s *Store) GetRescore(ctx context.Context, applicationID, featureSetVersion, modelVersion, policyVersion string) (Rescore, error) {
	const q = `select ` + rescoreColumns + ` from rescores
		where application_id = $1 and feature_set_version = $2 and model_version = $3 and policy_version = $4`
	rows, _ := s.pool.Query(ctx, q, applicationID, featureSetVersion, modelVersion, policyVersion)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Rescore])
	if err != nil {
		return Rescore{}, fmt.Errorf("get re-score of application %s under %s/%s/%s: %w",
			applicationID, featureSetVersion, modelVersion, policyVersion, notFound(err))
	}
	return r, nil
}

// RescorePair is one application's original decision beside its re-score, with the loan's
// outcome when one was imported: one row of a re-score's report.
type RescorePair struct {
	ApplicationID string
	Original      Decision
	Rescore       Rescore
	// LoanOutcome is the imported loan outcome (LoanOutcomes), nil while unknown.
	LoanOutcome *string
}

// RescorePairs returns, in application key order, the decisions sel selects that have a
// re-score under the versions, each with its re-score and loan outcome. A selected
// decision without one (a re-score not run yet) is left out; the caller compares the
// count with CountRescoreCandidates.
func (s *Store) RescorePairs(ctx context.Context, sel RescoreSelection, featureSetVersion, modelVersion, policyVersion string) ([]RescorePair, error) {
	q := `select o.outcome, ` + prefixed("d.", decisionColumns) + `, ` + prefixed("r.", rescoreColumns) + `
		from decisions d
		join applications a on a.id = d.application_id
		join rescores r on r.application_id = d.application_id
			and r.feature_set_version = $5 and r.model_version = $6 and r.policy_version = $7
		left join outcomes o on o.application_id = d.application_id
		where a.lender_id = $1 and d.decided_at >= $2 and d.decided_at < $3 and d.snapshot_id is not null
		  and ($4 = '' or exists (select 1 from rescore_selections rs
		                          where rs.selection_id = $4 and rs.application_id = d.application_id))
		order by d.application_id`
	rows, err := s.pool.Query(ctx, q, sel.Lender, sel.From, sel.To, sel.SelectionID, featureSetVersion, modelVersion, policyVersion)
	if err != nil {
		return nil, fmt.Errorf("read re-scores of lender %s: %w", sel.Lender, err)
	}
	defer rows.Close()
	var out []RescorePair
	for rows.Next() {
		var p RescorePair
		d, r := &p.Original, &p.Rescore
		if err := rows.Scan(&p.LoanOutcome,
			&d.ApplicationID, &d.WorkflowID, &d.RunID, &d.Outcome, &d.Score, &d.PD, &d.Reasons, &d.Rules,
			&d.Features, &d.Points, &d.ModelVersion, &d.PolicyVersion, &d.FeatureSetVersion, &d.ReasonCodeMapVersion,
			&d.SnapshotID, &d.ContentHash, &d.AsOf, &d.Cutoff, &d.DecidedAt, &d.BuildVersion, &d.CreatedAt, &d.DeploymentVersion,
			&r.ApplicationID, &r.FeatureSetVersion, &r.ModelVersion, &r.PolicyVersion, &r.SnapshotID,
			&r.Outcome, &r.Score, &r.PD, &r.Reasons, &r.Rules, &r.Features, &r.Points, &r.ReasonCodeMapVersion,
			&r.Cutoff, &r.WorkflowID, &r.BuildVersion, &r.RescoredAt); err != nil {
			return nil, fmt.Errorf("read re-scores of lender %s: %w", sel.Lender, err)
		}
		p.ApplicationID = d.ApplicationID
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read re-scores of lender %s: %w", sel.Lender, err)
	}
	return out, nil
}

// prefixed qualifies each of a comma-separated column list with prefix ("d.").
func prefixed(prefix, columns string) string {
	var out []byte
	start := true
	for i := 0; i < len(columns); i++ {
		c := columns[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			out = append(out, prefix...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}

// SaveRescoreSelection stores under id those of keys that are applications' keys (a
// workflow may outlive or predate its row) and returns how many they are. Saving the same
// selection again adds nothing.
func (s *Store) SaveRescoreSelection(ctx context.Context, id string, keys []string) (int, error) {
	const q = `
		with known as (select distinct a.id from unnest($2::text[]) as k join applications a on a.id = k),
		     saved as (insert into rescore_selections (selection_id, application_id)
		               select $1, id from known on conflict do nothing)
		select count(*) from known`
	var n int
	if err := s.pool.QueryRow(ctx, q, id, keys).Scan(&n); err != nil {
		return 0, fmt.Errorf("save re-score selection %s: %w", id, err)
	}
	return n, nil
}
