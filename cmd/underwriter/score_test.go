package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

const scorePersonaDir = "../../fcsandbox/personas"

// loadPersonas reads the persona manifest with the sandbox's own loader.
func loadPersonas(t *testing.T) []fcsandbox.Persona {
	t.Helper()
	ps, err := fcsandbox.LoadPersonas(os.DirFS(scorePersonaDir))
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	return ps
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"underwriter"}, args...), env(nil), &out, &errOut)
	return out.String(), err
}

func TestScoreOneLedger(t *testing.T) {
	for _, p := range loadPersonas(t) {
		if p.RefreshOutcome == "failed" {
			continue // the CLI has no refresh facts: that persona's outcome comes from the pipeline
		}
		t.Run(p.Name, func(t *testing.T) {
			path := filepath.Join(scorePersonaDir, p.Ledger)
			out, err := runCmd(t, "score", "--ledger", path, "--amount", strconv.FormatInt(p.LoanAmountMinor, 10),
				"--term-months", strconv.Itoa(p.TermMonths))
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			for _, k := range []string{"outcome", "score", "pd", "reasons", "rules", "model_version", "policy_version", "feature_set_version"} {
				require.Contains(t, got, k)
			}
			require.Equal(t, p.ExpectedOutcome, got["outcome"])

			// The same decision as the library with the default cutoff (LatestAsOf).
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			l, err := scoring.ParseLedgerFile(data)
			require.NoError(t, err)
			d, err := scoring.Underwrite(l, scoring.LatestAsOf(l), scoring.Loan{AmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths}, scoring.Operational{})
			require.NoError(t, err)
			require.Equal(t, float64(d.Score), got["score"])
			require.Len(t, got["rules"], len(d.Rules))
			require.Len(t, got["reasons"], len(d.Reasons))
			for i, r := range got["reasons"].([]any) {
				require.Equal(t, map[string]any{"code": d.Reasons[i].Code, "text": d.Reasons[i].Text, "value": d.Reasons[i].Value}, r)
			}
		})
	}
}

func TestScoreModelAndPolicyFiles(t *testing.T) {
	p := loadPersonas(t)[0]
	ledger := filepath.Join(scorePersonaDir, p.Ledger)
	args := []string{"score", "--ledger", ledger, "--amount", strconv.FormatInt(p.LoanAmountMinor, 10), "--term-months", strconv.Itoa(p.TermMonths)}
	def, err := runCmd(t, args...)
	require.NoError(t, err)
	files, err := runCmd(t, append(args, "--model", "../../scoring/models/scorecard-v2.json", "--policy", "../../scoring/models/policy-v2.json")...)
	require.NoError(t, err)
	require.Equal(t, def, files, "the shipped v2 files are the embedded defaults")

	// The v1 files score on the feature set v1 was built on, as decisions recorded under v1 did.
	old, err := runCmd(t, append(args, "--model", "../../scoring/models/scorecard-v1.json", "--policy", "../../scoring/models/policy-v1.json")...)
	require.NoError(t, err)
	require.Contains(t, old, `"model_version":"v1","policy_version":"v1","feature_set_version":"fs-v2/cat-v1"`)
	require.Contains(t, def, `"model_version":"v2","policy_version":"v2","feature_set_version":"fs-v3/cat-v2"`)

	// A stricter policy file changes the outcome.
	var pol map[string]any
	require.NoError(t, json.Unmarshal(scoring.DefaultPolicyFile(), &pol))
	pol["policy_version"] = "strict"
	pol["score_bands"] = map[string]any{"approve_min": 2000, "refer_min": 1000}
	strict := filepath.Join(t.TempDir(), "policy.json")
	b, err := json.Marshal(pol)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(strict, b, 0o644))
	out, err := runCmd(t, append(args, "--policy", strict)...)
	require.NoError(t, err)
	require.Contains(t, out, `"outcome":"decline"`)
	require.Contains(t, out, `"policy_version":"strict"`)

	// Back-dated cutoff.
	out, err = runCmd(t, append(args, "--as-of", "2020-01-01")...)
	require.NoError(t, err)
	require.Contains(t, out, `"cutoff":"2020-01-01"`)
}

func TestScoreBadInput(t *testing.T) {
	ledger := filepath.Join(scorePersonaDir, loadPersonas(t)[0].Ledger)
	bad := filepath.Join(t.TempDir(), "model.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"model_version":"x"}`), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", []string{"score"}, "give --ledger"},
		{"no amount", []string{"score", "--ledger", ledger, "--term-months", "12"}, "--amount"},
		{"no term", []string{"score", "--ledger", ledger, "--amount", "100"}, "--term-months"},
		{"bad as-of", []string{"score", "--ledger", ledger, "--amount", "100", "--term-months", "2", "--as-of", "yesterday"}, "--as-of"},
		{"bad model", []string{"score", "--ledger", ledger, "--amount", "100", "--term-months", "2", "--model", bad}, "feature_set_version: empty"},
		{"missing ledger", []string{"score", "--ledger", "nope.json", "--amount", "100", "--term-months", "2"}, "read ledger"},
		{"both modes", []string{"score", "--ledger", ledger, "--ledgers", "."}, "exclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, tc.args...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// writeApplications writes an applications CSV of the personas (repeated) into dir.
func TestScoreBatch(t *testing.T) {
	m := loadPersonas(t)
	dir := t.TempDir()
	var csvb strings.Builder
	csvb.WriteString("applicant_id,loan_amount_minor,term_months\n")
	var ids []string
	want := map[string]string{}
	for rep := 0; rep < 6; rep++ {
		for _, p := range m {
			id := fmt.Sprintf("%s-%d", p.Name, rep)
			data, err := os.ReadFile(filepath.Join(scorePersonaDir, p.Ledger))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, id+".json"), data, 0o644))
			fmt.Fprintf(&csvb, "%s,%d,%d\n", id, p.LoanAmountMinor, p.TermMonths)
			ids = append(ids, id)
			if p.RefreshOutcome != "failed" {
				want[id] = p.ExpectedOutcome
			}
		}
	}
	apps := filepath.Join(dir, "apps.csv")
	require.NoError(t, os.WriteFile(apps, []byte(csvb.String()), 0o644))
	out, err := runCmd(t, "score", "--ledgers", dir, "--applications", apps, "--workers", "3")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(ids))
	for i, line := range lines {
		var got struct {
			ApplicantID string `json:"applicant_id"`
			Outcome     string `json:"outcome"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &got))
		require.Equal(t, ids[i], got.ApplicantID, "input order")
		if w, ok := want[got.ApplicantID]; ok {
			require.Equal(t, w, got.Outcome, got.ApplicantID)
		}
	}
	// Workers do not change the output.
	one, err := runCmd(t, "score", "--ledgers", dir, "--applications", apps, "--workers", "1")
	require.NoError(t, err)
	require.Equal(t, out, one)

	// A bad row: every earlier row is printed, the error names line and column.
	badRows := csvb.String() + "x1,12ab,12\n" + "x2,100,12\n"
	badApps := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(badApps, []byte(badRows), 0o644))
	out, err = runCmd(t, "score", "--ledgers", dir, "--applications", badApps)
	require.ErrorContains(t, err, fmt.Sprintf("line %d column 4 (loan_amount_minor)", len(ids)+2))
	require.Equal(t, len(ids), strings.Count(out, "\n"))

	// A missing ledger prints an error line and the batch goes on.
	missing := filepath.Join(dir, "missing.csv")
	require.NoError(t, os.WriteFile(missing, []byte("applicant_id,loan_amount_minor,term_months\nghost,100,3\n"+ids[0]+",300000,12\n"), 0o644))
	out, err = runCmd(t, "score", "--ledgers", dir, "--applications", missing)
	require.ErrorContains(t, err, "1 of 2 could not be scored")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[0], `"applicant_id":"ghost","error":"read ledger`)
	require.Contains(t, lines[1], `"applicant_id":"`+ids[0]+`","outcome"`)

	// Header and field errors.
	for _, tc := range []struct{ csv, want string }{
		{"id,amount\n", `header lacks column "applicant_id"`},
		{"applicant_id,loan_amount_minor,term_months\n../etc,100,2\n", "line 2 column 1 (applicant_id)"},
		{"applicant_id,loan_amount_minor,term_months\na,100,0\n", "line 2 column 7 (term_months)"},
		{"applicant_id,loan_amount_minor,term_months\na,\"100,2\n", "line 2"},
	} {
		p := filepath.Join(t.TempDir(), "a.csv")
		require.NoError(t, os.WriteFile(p, []byte(tc.csv), 0o644))
		_, err := runCmd(t, "score", "--ledgers", dir, "--applications", p)
		require.ErrorContains(t, err, tc.want)
	}
}

// writeSynthLedger writes a six-month ledger of one checking account whose risk
// signals (NSF fees, overdrawn days) grow with risk ∈ [0, 1].
// writeTrainingSet writes n synthetic applicants into dir: ledgers whose risk is drawn
// from r (writeSynthLedger), a loan amount each from amount, 12-month terms, and a default
// label more likely the riskier the ledger. It returns the loans by id and the paths of
// the applications and labels CSV files, as train reads them.
func writeTrainingSet(t *testing.T, dir string, r *rand.Rand, n int, prefix string, amount func(*rand.Rand) int64) (loans map[string]scoring.Loan, appsPath, labelsPath string) {
	t.Helper()
	var apps, labels strings.Builder
	apps.WriteString("applicant_id,loan_amount_minor,term_months\n")
	labels.WriteString("applicant_id,defaulted\n")
	loans = map[string]scoring.Loan{}
	for i := range n {
		id := fmt.Sprintf("%s%04d", prefix, i)
		risk := r.Float64()
		writeSynthLedger(t, filepath.Join(dir, id+".json"), r, risk)
		loans[id] = scoring.Loan{AmountMinor: amount(r), TermMonths: 12}
		fmt.Fprintf(&apps, "%s,%d,12\n", id, loans[id].AmountMinor)
		def := 0
		if r.Float64() < 0.03+0.8*risk*risk {
			def = 1
		}
		fmt.Fprintf(&labels, "%s,%d\n", id, def)
	}
	appsPath, labelsPath = filepath.Join(dir, "apps.csv"), filepath.Join(dir, "labels.csv")
	require.NoError(t, os.WriteFile(appsPath, []byte(apps.String()), 0o644))
	require.NoError(t, os.WriteFile(labelsPath, []byte(labels.String()), 0o644))
	return loans, appsPath, labelsPath
}

func writeSynthLedger(t *testing.T, path string, r *rand.Rand, risk float64) {
	t.Helper()
	asOf := time.Date(2026, 9, 30, 18, 0, 0, 0, time.UTC)
	start := asOf.AddDate(0, -6, 0)
	type tx map[string]any
	var txs []tx
	add := func(at time.Time, amount int64, desc string) {
		txs = append(txs, tx{"id": fmt.Sprintf("fctxn_%d", len(txs)), "account": "fca_1", "amount": amount,
			"currency": "usd", "description": desc, "status": "posted", "transacted_at": at.Unix()})
	}
	pay := int64(150000 + r.IntN(200000))
	fees := int(math.Round(risk * 6 * (0.6 + 0.4*r.Float64())))
	for d, i := start, 0; d.Before(asOf); d, i = d.AddDate(0, 0, 1), i+1 {
		if i%14 == 3 {
			add(d.Add(9*time.Hour), pay, "ACME CORP PAYROLL")
		}
		if d.Day() == 2 {
			add(d.Add(9*time.Hour), -pay*2*int64(70+int(30*risk))/100, "AVALON APTS RENT")
		}
		if i%5 == 0 {
			add(d.Add(12*time.Hour), -int64(2000+r.IntN(6000)), "KROGER #0412")
		}
	}
	for k := 0; k < fees; k++ {
		add(asOf.AddDate(0, 0, -1-r.IntN(80)), -3500, "OVERDRAFT FEE")
	}
	bal := int64(50000 + (1-risk)*400000*r.Float64())
	file := map[string]any{"accounts": []any{map[string]any{
		"account": map[string]any{"id": "fca_1", "category": "cash", "subcategory": "checking", "status": "active",
			"balance": map[string]any{"as_of": asOf.Unix(), "current": map[string]int64{"usd": bal}}},
		"transactions": txs}}}
	b, err := json.Marshal(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	loans, appsPath, labelsPath := writeTrainingSet(t, dir, r, 400, "app", func(r *rand.Rand) int64 { return int64(100000 + r.IntN(400000)) })
	out := filepath.Join(dir, "model")

	stdout, err := runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", labelsPath,
		"--holdout", "0.3", "--seed", "5", "--out", out, "--model-version", "t-cli")
	require.NoError(t, err)
	var sum trainSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	require.Equal(t, 400, sum.Samples)
	require.Equal(t, 120, sum.HoldoutSamples)
	require.Greater(t, sum.HoldoutAUC, 0.7)
	card, err := os.ReadFile(sum.ModelCard)
	require.NoError(t, err)
	require.Contains(t, string(card), "hold-out AUC")

	// Scoring one applicant with the written model reproduces the training run's score.
	f, err := os.Open(sum.ScoresFile)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 401)
	for _, row := range rows[1:4] {
		amount := strconv.FormatInt(loans[row[0]].AmountMinor, 10)
		got, err := runCmd(t, "score", "--ledger", filepath.Join(dir, row[0]+".json"), "--amount", amount, "--term-months", "12", "--model", sum.ModelFile)
		require.NoError(t, err)
		require.Contains(t, got, `"score":`+row[3]+`,`, row[0])
		require.Contains(t, got, `"pd":`+row[4]+`,`, row[0])
		require.Contains(t, got, `"model_version":"t-cli"`)
	}

	// Bad labels name line and column.
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("applicant_id,defaulted\napp0000,yes\n"), 0o644))
	_, err = runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", bad)
	require.ErrorContains(t, err, "line 2 column 9 (defaulted)")
	_, err = runCmd(t, "train", "--ledgers", dir, "--applications", appsPath)
	require.ErrorContains(t, err, "--labels: not set")
	_, err = runCmd(t, "train", "--ledgers", dir, "--applications", appsPath, "--labels", labelsPath, "--holdout", "1")
	require.ErrorContains(t, err, "--holdout")
}
