package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// TestTrainWrittenModelReproducesScores: the summary reports the hold-out AUC, KS, Gini
// and calibration error the model file and card hold, and loading the written model
// and scoring each applicant's ledger gives exactly the score and PD of the training
// run's scores file.
func TestTrainWrittenModelReproducesScores(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(21, 22))
	var apps, labels strings.Builder
	apps.WriteString("applicant_id,loan_amount_minor,term_months\n")
	labels.WriteString("applicant_id,defaulted\n")
	loans := map[string]scoring.Loan{}
	for i := range 300 {
		id := fmt.Sprintf("tr%04d", i)
		risk := r.Float64()
		writeSynthLedger(t, filepath.Join(dir, id+".json"), r, risk)
		loans[id] = scoring.Loan{AmountMinor: int64(100000 + 5000*r.IntN(80)), TermMonths: 12}
		fmt.Fprintf(&apps, "%s,%d,12\n", id, loans[id].AmountMinor)
		def := 0
		if r.Float64() < 0.03+0.8*risk*risk {
			def = 1
		}
		fmt.Fprintf(&labels, "%s,%d\n", id, def)
	}
	appsPath, labelsPath, out := filepath.Join(dir, "apps.csv"), filepath.Join(dir, "labels.csv"), filepath.Join(dir, "model")
	require.NoError(t, os.WriteFile(appsPath, []byte(apps.String()), 0o644))
	require.NoError(t, os.WriteFile(labelsPath, []byte(labels.String()), 0o644))

	stdout, err := runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", labelsPath,
		"--seed", "3", "--out", out, "--model-version", "t-repro", "--max-characteristics", "4")
	require.NoError(t, err)
	var sum trainSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	data, err := os.ReadFile(sum.ModelFile)
	require.NoError(t, err)
	m, err := scoring.LoadModel(data)
	require.NoError(t, err)
	info := m.Training
	require.Equal(t, info.HoldoutAUC, sum.HoldoutAUC)
	require.Equal(t, info.HoldoutKS, sum.HoldoutKS)
	require.Equal(t, info.HoldoutGini, sum.HoldoutGini)
	require.Equal(t, info.HoldoutCalibrationError, sum.HoldoutCalibrationError)
	require.Equal(t, info.TrainAUC, sum.TrainAUC)
	require.Positive(t, sum.HoldoutCalibrationError)
	require.LessOrEqual(t, len(sum.Characteristics), 4)
	require.Equal(t, len(scoring.DefaultCandidates())-len(sum.Characteristics), sum.LeftOut)
	require.Equal(t, scoring.CalibrationLogistic, m.PDCalibration.Method)
	card, err := os.ReadFile(sum.ModelCard)
	require.NoError(t, err)
	for _, want := range []string{"## PD calibration", "## Characteristic selection",
		fmt.Sprintf("| %.4f |", sum.HoldoutCalibrationError), fmt.Sprintf("| hold-out AUC | %.4f |", sum.HoldoutAUC)} {
		require.Contains(t, string(card), want)
	}

	f, err := os.Open(sum.ScoresFile)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 301)
	for _, row := range rows[1:] {
		l, cutoff, err := readLedger(filepath.Join(dir, row[0]+".json"), time.Time{})
		require.NoError(t, err)
		feats, err := scoring.ComputeFeatures(l, cutoff, loans[row[0]])
		require.NoError(t, err)
		got := m.Score(&feats)
		require.Equal(t, row[3], strconv.Itoa(got.Score), row[0])
		require.Equal(t, row[4], strconv.FormatFloat(got.PD, 'f', -1, 64), row[0])
	}

	for flag, value := range map[string]string{"--max-correlation": "1.5", "--min-auc-gain": "-0.1", "--max-characteristics": "-1"} {
		_, err = runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", labelsPath, flag, value)
		require.ErrorContains(t, err, flag)
	}
}
