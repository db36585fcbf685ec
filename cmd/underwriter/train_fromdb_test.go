package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// storeDecided stores a decided application of the lender as the pipeline leaves it: the
// application with its loan, the ledger file as its snapshot, and a decision with the
// cutoff day.
func storeDecided(t *testing.T, st *store.Store, lender, ext string, amount int64, ledger []byte, cutoff time.Time) {
	t.Helper()
	ctx := context.Background()
	key := loan.ApplicationKey(lender, ext)
	_, _, err := st.CreateApplication(ctx, store.Application{ID: key, LenderID: lender, ExternalID: ext, RequestHash: "h",
		LoanAmountMinor: amount, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/" + key})
	require.NoError(t, err)
	sn, err := st.InsertSnapshot(ctx, store.Snapshot{ApplicationID: key, AsOf: cutoff, ContentHash: "sha256:" + key, Ledger: ledger})
	require.NoError(t, err)
	_, _, err = st.RecordDecision(ctx, store.Decision{ApplicationID: key, WorkflowID: "underwrite/" + key, RunID: "r",
		Outcome: loan.OutcomeApprove, ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs-v3/cat-v2",
		SnapshotID: &sn.ID, Cutoff: &cutoff, DecidedAt: cutoff, BuildVersion: "test"})
	require.NoError(t, err)
}

// TestTrainFromDB: the loop decide → observe → retrain on the database. 400 decided
// applications with their snapshots and imported outcomes train exactly the model that
// the same ledgers, loans and labels train from files: the data source changes, nothing
// else. Another lender's applications, decisions without an outcome and outcomes without a
// snapshot are left out and counted.
func TestTrainFromDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	loans, appsPath, labelsPath := writeTrainingSet(t, dir, r, 400, "app", func(r *rand.Rand) int64 { return int64(100000 + r.IntN(400000)) })
	fileOut := filepath.Join(dir, "from-files")
	stdout, err := runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", labelsPath,
		"--seed", "5", "--out", fileOut, "--model-version", "t-db")
	require.NoError(t, err)
	var fromFiles trainSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &fromFiles))

	dbURL, st, _ := analystDB(t)
	require.NoError(t, st.EnsureLender(ctx, "acme", ""))
	require.NoError(t, st.EnsureLender(ctx, "other", ""))
	labels := readCSV(t, labelsPath)
	cutoff := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC) // writeSynthLedger's as_of day
	var recs []store.OutcomeRecord
	for i, row := range labels[1:] {
		id := row[0]
		ledger, err := os.ReadFile(filepath.Join(dir, id+".json"))
		require.NoError(t, err)
		storeDecided(t, st, "acme", id, loans[id].AmountMinor, ledger, cutoff)
		outcome := store.LoanRepaid
		if row[1] == "1" {
			outcome = []string{store.LoanDefaulted, store.LoanChargedOff}[i%2] // both are bad
		}
		recs = append(recs, store.OutcomeRecord{Line: i + 2, ExternalID: id, Outcome: outcome, ObservedOn: cutoff.AddDate(0, 6, 0)})
		if i < 5 {
			// Another lender's decided and labelled applications: not acme's training set.
			storeDecided(t, st, "other", id, 300000, ledger, cutoff)
			_, err := st.ImportOutcomes(ctx, "other", []store.OutcomeRecord{{Line: 2, ExternalID: id, Outcome: store.LoanDefaulted, ObservedOn: cutoff}})
			require.NoError(t, err)
		}
	}
	// Three decisions still without an outcome, and one outcome of an application never scored.
	for i := range 3 {
		ledger, err := os.ReadFile(filepath.Join(dir, "app0000.json"))
		require.NoError(t, err)
		storeDecided(t, st, "acme", fmt.Sprintf("open-%d", i), 300000, ledger, cutoff)
	}
	createApps(t, st, "acme", "expired-1")
	recs = append(recs, store.OutcomeRecord{Line: 999, ExternalID: "expired-1", Outcome: store.LoanRepaid, ObservedOn: cutoff})
	_, err = st.ImportOutcomes(ctx, "acme", recs)
	require.NoError(t, err)

	dbOut := filepath.Join(dir, "from-db")
	stdout, err = runIn(t, map[string]string{"DATABASE_URL": dbURL}, "train", "--from-db", "--lender", "acme",
		"--seed", "5", "--out", dbOut, "--model-version", "t-db")
	require.NoError(t, err)
	var fromDB trainSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &fromDB))
	require.Equal(t, 400, fromDB.Samples)
	require.Equal(t, fromFiles.Defaults, fromDB.Defaults)
	require.Equal(t, 3, fromDB.UnlabelledApplications)
	require.Equal(t, 1, fromDB.LabelsWithoutApplications)
	require.Equal(t, fromFiles.HoldoutAUC, fromDB.HoldoutAUC)
	for _, f := range []string{"scorecard-t-db.json", "scores-t-db.csv", "MODEL_CARD-t-db.md"} {
		want, err := os.ReadFile(filepath.Join(fileOut, f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dbOut, f))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s: trained from the database differs from files", f)
	}

	// Scoped to the lender: the development lender has nothing to train on.
	_, err = runIn(t, map[string]string{"DATABASE_URL": dbURL}, "train", "--from-db", "--out", filepath.Join(dir, "dev"))
	require.EqualError(t, err, "train: --from-db: lender dev has no decided application with a snapshot and a loan outcome "+
		"(0 decided without an outcome; import outcomes with `underwriter outcomes import`)")
	_, err = runIn(t, map[string]string{"DATABASE_URL": dbURL}, "train", "--from-db", "--ledgers", dir)
	require.EqualError(t, err, "train: --from-db reads ledgers, loans and labels from Postgres: drop --ledgers, --applications and --labels")
	_, err = runIn(t, nil, "train", "--from-db", "--lender", "Acme")
	require.ErrorContains(t, err, `train: --lender: lender "Acme": must be`)
}
