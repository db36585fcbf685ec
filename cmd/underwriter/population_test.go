package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/population"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

func TestPopulationGenerateWritesTrainingInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := runCmd(t, "population", "generate", "--n", "12", "--seed", "7", "--out", dir)
	require.NoError(t, err)

	apps := readCSV(t, filepath.Join(dir, "applications.csv"))
	labels := readCSV(t, filepath.Join(dir, "labels.csv"))
	truth := readCSV(t, filepath.Join(dir, "truth.csv"))
	require.Equal(t, []string{"applicant_id", "loan_amount_minor", "term_months"}, apps[0])
	require.Equal(t, []string{"applicant_id", "defaulted"}, labels[0])
	require.Len(t, apps, 13)
	require.Len(t, labels, 13)
	require.Len(t, truth, 13)
	for i, row := range apps[1:] {
		a := population.NewApplicant(7, i)
		require.Equal(t, a.ID, row[0])
		require.Equal(t, a.ID, labels[i+1][0])
		require.Equal(t, map[bool]string{true: "1", false: "0"}[a.Defaulted], labels[i+1][1])
		require.Equal(t, string(a.Traits.IncomeType), truth[i+1][1])
		want, err := a.Ledger.Marshal()
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, a.ID+".json"))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "ledger of %s", a.ID)
	}

	// The files are what score --ledgers reads: every applicant is scored.
	out, err := runCmd(t, "score", "--ledgers", dir, "--applications", filepath.Join(dir, "applications.csv"))
	require.NoError(t, err)
	require.Equal(t, 12, strings.Count(out, `"outcome"`), out)
}

func TestPopulationEvaluatePrintsTheTable(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, "population", "evaluate", "--n", "150", "--workers", "2")
	require.NoError(t, err)
	for _, want := range []string{"salaried", "gig", "benefits", "AUC"} {
		require.Contains(t, out, want)
	}
	_, err = runCmd(t, "population", "evaluate", "--n", "0")
	require.ErrorContains(t, err, "--n: 0 is below 1")
	_, err = runCmd(t, "population", "generate", "--n", "3")
	require.ErrorContains(t, err, "--out: not set")
}
