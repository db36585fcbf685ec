package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// decided stores a snapshot and a scored decision decided at for the lender's application.
func decided(t *testing.T, s *store.Store, lender, ext, outcome string, score int, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	key := loan.ApplicationKey(lender, ext)
	sn, err := s.InsertSnapshot(ctx, store.Snapshot{ApplicationID: key, AsOf: at, ContentHash: "sha256:" + key,
		Ledger: []byte(`{"accounts":[]}`)})
	require.NoError(t, err)
	_, _, err = s.RecordDecision(ctx, store.Decision{ApplicationID: key, WorkflowID: "underwrite/" + key, RunID: "r",
		Outcome: outcome, Score: ptr(score), PD: ptr(0.05), Rules: json.RawMessage(`[{"rule":"STALE_DATA"}]`),
		ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs-v3/cat-v2", SnapshotID: &sn.ID,
		ContentHash: &sn.ContentHash, AsOf: &at, Cutoff: &at, DecidedAt: at, BuildVersion: "test"})
	require.NoError(t, err)
	return sn.ID
}

func TestRescores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	lenderApps(t, s, "acme", "a1", "a2", "a3", "late")
	lenderApps(t, s, "other", "o1")
	day := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	for i, ext := range []string{"a1", "a2", "a3"} {
		decided(t, s, "acme", ext, []string{"approve", "decline", "refer"}[i], 600+i, day)
	}
	decided(t, s, "acme", "late", "approve", 650, day.AddDate(0, 1, 0))
	decided(t, s, "other", "o1", "approve", 650, day)
	// An expired decision has no snapshot: nothing to re-score.
	lenderApps(t, s, "acme", "expired")
	_, _, err := s.RecordDecision(ctx, store.Decision{ApplicationID: "acme/expired", WorkflowID: "w", RunID: "r",
		Outcome: "expired", DecidedAt: day, BuildVersion: "test"})
	require.NoError(t, err)

	sel := store.RescoreSelection{Lender: "acme", From: day.Truncate(24 * time.Hour), To: day.AddDate(0, 0, 1)}
	n, err := s.CountRescoreCandidates(ctx, sel)
	require.NoError(t, err)
	require.Equal(t, 3, n, "acme's scored decisions of the day: not the later one, not other's, not the expired one")

	page, err := s.RescoreCandidates(ctx, sel, "", 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, "acme/a1", page[0].ApplicationID)
	require.Equal(t, "approve", page[0].Outcome)
	require.Equal(t, int64(300000), page[0].LoanAmountMinor)
	require.JSONEq(t, `[{"rule":"STALE_DATA"}]`, string(page[0].Rules))
	page, err = s.RescoreCandidates(ctx, sel, page[1].ApplicationID, 2)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "acme/a3", page[0].ApplicationID, "the cursor resumes after the last key")

	all, err := s.RescoreCandidates(ctx, sel, "", 10)
	require.NoError(t, err)
	for i, c := range all {
		created, err := s.InsertRescore(ctx, store.Rescore{ApplicationID: c.ApplicationID, FeatureSetVersion: "fs-v2/cat-v1",
			ModelVersion: "v1", PolicyVersion: "v1", SnapshotID: c.SnapshotID, Outcome: "refer", Score: ptr(590 + i),
			PD: ptr(0.06), Reasons: json.RawMessage(`[]`), Features: json.RawMessage(`{"x":1}`), Points: json.RawMessage(`[]`),
			Cutoff: day, WorkflowID: "rescore/x", BuildVersion: "test", RescoredAt: day})
		require.NoError(t, err)
		require.True(t, created)
	}
	// The same key again stores nothing, whatever the row says: the first stands.
	created, err := s.InsertRescore(ctx, store.Rescore{ApplicationID: "acme/a1", FeatureSetVersion: "fs-v2/cat-v1",
		ModelVersion: "v1", PolicyVersion: "v1", SnapshotID: all[0].SnapshotID, Outcome: "approve", Cutoff: day,
		WorkflowID: "rescore/y", BuildVersion: "test", RescoredAt: day})
	require.NoError(t, err)
	require.False(t, created)
	got, err := s.GetRescore(ctx, "acme/a1", "fs-v2/cat-v1", "v1", "v1")
	require.NoError(t, err)
	require.Equal(t, "refer", got.Outcome)
	require.Equal(t, 590, *got.Score)
	require.Equal(t, day.Truncate(24*time.Hour), got.Cutoff)
	_, err = s.GetRescore(ctx, "acme/a1", "fs-v3/cat-v2", "v2", "v2")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = s.ImportOutcomes(ctx, "acme", []store.OutcomeRecord{{Line: 2, ExternalID: "a2", Outcome: store.LoanDefaulted,
		ObservedOn: date("2026-11-01")}})
	require.NoError(t, err)
	pairs, err := s.RescorePairs(ctx, sel, "fs-v2/cat-v1", "v1", "v1")
	require.NoError(t, err)
	require.Len(t, pairs, 3)
	for i, p := range pairs {
		require.Equal(t, fmt.Sprintf("acme/a%d", i+1), p.ApplicationID)
		require.Equal(t, 600+i, *p.Original.Score)
		require.Equal(t, 590+i, *p.Rescore.Score)
		require.Equal(t, "v2", p.Original.ModelVersion)
		require.Equal(t, "v1", p.Rescore.ModelVersion)
	}
	require.Nil(t, pairs[0].LoanOutcome)
	require.Equal(t, store.LoanDefaulted, *pairs[1].LoanOutcome)
	none, err := s.RescorePairs(ctx, sel, "fs-v3/cat-v2", "v2", "v2")
	require.NoError(t, err)
	require.Empty(t, none)

	// A selection by query narrows the same lender and period to the keys stored under it.
	saved, err := s.SaveRescoreSelection(ctx, "q1", []string{"acme/a1", "acme/a3", "acme/gone"})
	require.NoError(t, err)
	require.Equal(t, 2, saved, "a key that is no application's is left out")
	saved, err = s.SaveRescoreSelection(ctx, "q1", []string{"acme/a1", "acme/a3"})
	require.NoError(t, err)
	require.Equal(t, 2, saved, "saving again adds nothing")
	narrowed := sel
	narrowed.SelectionID = "q1"
	n, err = s.CountRescoreCandidates(ctx, narrowed)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	page, err = s.RescoreCandidates(ctx, narrowed, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"acme/a1", "acme/a3"}, []string{page[0].ApplicationID, page[1].ApplicationID})
	pairs, err = s.RescorePairs(ctx, narrowed, "fs-v2/cat-v1", "v1", "v1")
	require.NoError(t, err)
	require.Len(t, pairs, 2)
	other := narrowed
	other.SelectionID = "q-unknown"
	n, err = s.CountRescoreCandidates(ctx, other)
	require.NoError(t, err)
	require.Zero(t, n)
}
