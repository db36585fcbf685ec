package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// lenderApps creates the lender (unless dev) and one application per external id, keyed
// as the API keys them.
func lenderApps(t *testing.T, s *store.Store, lender string, external ...string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.EnsureLender(ctx, lender, ""))
	for _, ext := range external {
		key := loan.ApplicationKey(lender, ext)
		_, _, err := s.CreateApplication(ctx, store.Application{ID: key, LenderID: lender, ExternalID: ext,
			RequestHash: "h", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/" + key})
		require.NoError(t, err)
	}
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestImportOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := store.New(pool)
	lenderApps(t, s, "acme", "loan-1", "loan-2", "loan-3")
	lenderApps(t, s, "other", "loan-9")

	good := []store.OutcomeRecord{
		{Line: 2, ExternalID: "loan-1", Outcome: store.LoanRepaid, ObservedOn: date("2026-03-01")},
		{Line: 3, ExternalID: "loan-2", Outcome: store.LoanDefaulted, ObservedOn: date("2026-04-15")},
	}
	res, err := s.ImportOutcomes(ctx, "acme", good)
	require.NoError(t, err)
	require.Equal(t, store.OutcomeImport{Stored: 2}, res)
	outcome, observed, err := s.GetOutcome(ctx, "acme/loan-2")
	require.NoError(t, err)
	require.Equal(t, store.LoanDefaulted, outcome)
	require.Equal(t, date("2026-04-15"), observed)

	// The same rows again change nothing; a new one beside them is stored.
	res, err = s.ImportOutcomes(ctx, "acme", append(good,
		store.OutcomeRecord{Line: 4, ExternalID: "loan-3", Outcome: store.LoanChargedOff, ObservedOn: date("2026-05-01")}))
	require.NoError(t, err)
	require.Equal(t, store.OutcomeImport{Stored: 1, Unchanged: 2}, res)
	require.Equal(t, 3, countRows(t, pool, "outcomes"))

	// A file with problems stores nothing, not even its good rows, and lists every problem
	// by line: another lender's id, an unknown id, another outcome, another day.
	_, err = pool.Exec(ctx, `delete from outcomes where application_id = 'acme/loan-3'`)
	require.NoError(t, err)
	bad := []store.OutcomeRecord{
		{Line: 2, ExternalID: "loan-3", Outcome: store.LoanRepaid, ObservedOn: date("2026-05-01")},
		{Line: 3, ExternalID: "loan-9", Outcome: store.LoanRepaid, ObservedOn: date("2026-05-01")},
		{Line: 4, ExternalID: "loan-2", Outcome: store.LoanRepaid, ObservedOn: date("2026-04-15")},
		{Line: 5, ExternalID: "loan-1", Outcome: store.LoanRepaid, ObservedOn: date("2026-03-02")},
		{Line: 6, ExternalID: "acme/loan-1", Outcome: store.LoanRepaid, ObservedOn: date("2026-03-01")},
	}
	_, err = s.ImportOutcomes(ctx, "acme", bad)
	var ie *store.OutcomeImportError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, []store.OutcomeProblem{
		{3, "application_id", `lender acme has no application "loan-9"`},
		{4, "outcome", "loan-2 is already stored as defaulted observed on 2026-04-15"},
		{5, "observed_on", "loan-1 is already stored as repaid observed on 2026-03-01"},
		{6, "application_id", `lender acme has no application "acme/loan-1"`},
	}, ie.Problems)
	require.Equal(t, 2, countRows(t, pool, "outcomes"), "nothing of a refused file is stored")
	checked, err := s.CheckOutcomes(ctx, "acme", bad)
	require.NoError(t, err)
	require.Equal(t, ie.Problems, checked)

	_, err = s.ImportOutcomes(ctx, "nobody", good)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.GetOutcome(ctx, "acme/loan-3")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// decide records a decision of the application with key app at decidedAt, with a
// snapshot when ledger is not nil.
func decide(t *testing.T, s *store.Store, app string, decidedAt time.Time, ledger []byte) {
	t.Helper()
	ctx := context.Background()
	d := store.Decision{ApplicationID: app, WorkflowID: "underwrite/" + app, RunID: "r", Outcome: loan.OutcomeExpired,
		ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs-v3/cat-v2", DecidedAt: decidedAt, BuildVersion: "test"}
	if ledger != nil {
		sn, err := s.InsertSnapshot(ctx, store.Snapshot{ApplicationID: app, AsOf: decidedAt, ContentHash: "sha256:" + app, Ledger: ledger})
		require.NoError(t, err)
		cutoff := decidedAt.Truncate(24 * time.Hour)
		d.Outcome, d.Score, d.PD, d.SnapshotID, d.Cutoff = loan.OutcomeApprove, ptr(640), ptr(0.05), &sn.ID, &cutoff
		d.Reasons = json.RawMessage(`[{"code":"R01","text":"t"},{"code":"R07","text":"u"}]`)
		d.Rules = json.RawMessage(`[{"rule":"min_history_days","passed":true},{"rule":"nsf_90d","passed":false}]`)
	}
	_, _, err := s.RecordDecision(ctx, d)
	require.NoError(t, err)
}

func TestLabelledSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	lenderApps(t, s, "acme", "a", "b", "c", "d")
	lenderApps(t, s, "other", "a")
	at := time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)
	decide(t, s, "acme/a", at, []byte(`{"a":1}`))
	decide(t, s, "acme/b", at, []byte(`{"b":1}`))
	decide(t, s, "acme/c", at, nil)                // expired: no snapshot
	decide(t, s, "other/a", at, []byte(`{"o":1}`)) // another lender's
	for lender, recs := range map[string][]store.OutcomeRecord{
		"acme": {
			{Line: 2, ExternalID: "b", Outcome: store.LoanChargedOff, ObservedOn: date("2026-06-01")},
			{Line: 3, ExternalID: "c", Outcome: store.LoanRepaid, ObservedOn: date("2026-06-01")},
			{Line: 4, ExternalID: "d", Outcome: store.LoanRepaid, ObservedOn: date("2026-06-01")}, // undecided
		},
		"other": {{Line: 2, ExternalID: "a", Outcome: store.LoanRepaid, ObservedOn: date("2026-06-01")}},
	} {
		_, err := s.ImportOutcomes(ctx, lender, recs)
		require.NoError(t, err)
	}

	got, err := s.LabelledSnapshots(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "b", got[0].ExternalID)
	require.Equal(t, store.LoanChargedOff, got[0].Outcome)
	require.True(t, store.IsBadLoanOutcome(got[0].Outcome))
	require.Equal(t, int64(300000), got[0].LoanAmountMinor)
	require.Equal(t, time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), got[0].Cutoff.UTC())
	sn, err := s.GetSnapshot(ctx, got[0].SnapshotID)
	require.NoError(t, err)
	require.Equal(t, `{"b":1}`, string(sn.Ledger))

	unlabelled, unscored, err := s.UnlabelledCounts(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, 1, unlabelled, "a: decided with a snapshot, no outcome")
	require.Equal(t, 2, unscored, "c (expired) and d (undecided) have outcomes but no snapshot")
}

func TestExportDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	lenderApps(t, s, "acme", "a", "b", "c")
	lenderApps(t, s, "other", "a")
	day1 := time.Date(2026, 2, 3, 23, 59, 0, 0, time.UTC)
	decide(t, s, "acme/b", day1, []byte(`{}`))
	decide(t, s, "acme/a", day1.Add(time.Minute), []byte(`{}`)) // the next day
	decide(t, s, "acme/c", day1.Add(-time.Hour), nil)
	decide(t, s, "other/a", day1, []byte(`{}`))
	_, err := s.ImportOutcomes(ctx, "acme", []store.OutcomeRecord{{Line: 2, ExternalID: "b", Outcome: store.LoanDefaulted, ObservedOn: date("2026-06-01")}})
	require.NoError(t, err)

	export := func(f store.DecisionFilter) []store.ExportedDecision {
		var out []store.ExportedDecision
		n, err := s.ExportDecisions(ctx, f, func(d *store.ExportedDecision) error {
			out = append(out, *d)
			return nil
		})
		require.NoError(t, err)
		require.Len(t, out, n)
		return out
	}
	feb3, feb4 := date("2026-02-03"), date("2026-02-04")
	got := export(store.DecisionFilter{Lender: "acme", From: feb3, To: feb4})
	require.Len(t, got, 2)
	require.Equal(t, []string{"c", "b"}, []string{got[0].ExternalID, got[1].ExternalID}, "by decided_at")
	c, b := got[0], got[1]
	require.Equal(t, loan.OutcomeExpired, c.Outcome)
	require.Nil(t, c.Score)
	require.Nil(t, c.LoanOutcome)
	require.JSONEq(t, `[]`, string(c.Reasons))
	require.Equal(t, "acme", b.LenderID)
	require.Equal(t, 640, *b.Score)
	require.Equal(t, 0.05, *b.PD)
	require.Equal(t, store.LoanDefaulted, *b.LoanOutcome)
	require.Equal(t, date("2026-06-01"), b.LoanObservedOn.UTC())
	require.Equal(t, []string{"v2", "v2", "fs-v3/cat-v2"}, []string{b.ModelVersion, b.PolicyVersion, b.FeatureSetVersion})
	require.JSONEq(t, `[{"code":"R01","text":"t"},{"code":"R07","text":"u"}]`, string(b.Reasons))
	require.JSONEq(t, `[{"rule":"min_history_days","passed":true},{"rule":"nsf_90d","passed":false}]`, string(b.Rules))
	require.True(t, day1.Equal(b.DecidedAt))

	require.Len(t, export(store.DecisionFilter{From: feb3, To: feb4}), 3, "every lender")
	require.Len(t, export(store.DecisionFilter{Lender: "acme", From: feb3, To: feb4.AddDate(0, 0, 1)}), 3)
	require.Empty(t, export(store.DecisionFilter{Lender: "nobody", From: feb3, To: feb4}))

	// An error from fn stops the export after that row.
	stop := errors.New("stop")
	n, err := s.ExportDecisions(ctx, store.DecisionFilter{From: feb3, To: feb4}, func(*store.ExportedDecision) error { return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
}
