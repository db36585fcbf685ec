package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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
	loans, appsPath, labelsPath := writeTrainingSet(t, dir, r, 300, "tr", func(r *rand.Rand) int64 { return int64(100000 + 5000*r.IntN(80)) })
	out := filepath.Join(dir, "model")

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
