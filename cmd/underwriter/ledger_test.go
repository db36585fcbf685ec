package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// berkaDir is the Berka data folder relative to this package (repo root ../shared).
const berkaDir = "../../../shared/data/berka"

func TestLedgerImportCSVGeneric(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ledger.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--in", "testdata/statement.csv", "--out", out, "--delimiter", ";",
		"--date-column", "Booking Date", "--date-format", "02/01/2006",
		"--debit-column", "Debit", "--credit-column", "Credit", "--description-column", "Text",
		"--balance-column", "Balance", "--currency", "EUR", "--account-id", "fca_statement"},
		env(nil), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Empty(t, stdout.String(), "the ledger goes to --out")
	require.Contains(t, stderr.String(), "converted 4 rows (0 skipped) into account fca_statement")

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	require.Len(t, l.Accounts, 1)
	a := l.Accounts[0]
	require.Equal(t, "fca_statement", a.ID)
	require.Equal(t, "eur", a.Currency)
	require.Equal(t, int64(105000), a.Current, "the running balance after the day's last posted row")
	require.Equal(t, "2024-03-05T23:59:59Z", a.AsOf.Format(time.RFC3339))
	var amounts []int64
	var descs []string
	for _, tx := range l.Transactions {
		amounts = append(amounts, tx.Amount)
		descs = append(descs, tx.Description)
	}
	// Newest-first input, reversed; on 2024-03-05 the balances put the payroll first.
	require.Equal(t, []int64{100000, -10000, 20000, -5000}, amounts)
	require.Equal(t, []string{`Opening "deposit"`, "ATM", "Payroll ACME", "Card; GROCER"}, descs)

	// The same input to stdout gives the same bytes.
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--in", "testdata/statement.csv", "--delimiter", ";",
		"--date-column", "Booking Date", "--date-format", "02/01/2006",
		"--debit-column", "Debit", "--credit-column", "Credit", "--description-column", "Text",
		"--balance-column", "Balance", "--currency", "EUR", "--account-id", "fca_statement"},
		env(nil), &stdout, &stderr))
	require.Equal(t, string(data), stdout.String())
}

func TestLedgerImportCSVBadRows(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	require.NoError(t, os.WriteFile(in, []byte("date,amount\n2024-01-01,10\n2024-01-02,\"12,3x\"\n2024-01-03,-4\n"), 0o600))
	out := filepath.Join(dir, "out.json")
	args := []string{"underwriter", "ledger", "import-csv", "--in", in, "--out", out, "--amount-column", "amount", "--currency", "usd"}

	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, env(nil), &stdout, &stderr)
	require.Error(t, err)
	require.Contains(t, err.Error(), `line 3, column amount: "12,3x" is not a number`)
	_, statErr := os.Stat(out)
	require.True(t, os.IsNotExist(statErr), "a failed conversion writes nothing")

	require.NoError(t, run(context.Background(), append(args, "--skip-bad-rows"), env(nil), &stdout, &stderr))
	require.Contains(t, stderr.String(), `skipped line 3, column amount: "12,3x" is not a number`)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	require.Len(t, l.Transactions, 2)
	require.False(t, l.Accounts[0].HasBalance, "no balance column and no --current-balance: no balance")
}

func TestLedgerImportCSVBerka(t *testing.T) {
	// One account to --out: 2378's last row is 1994-03-27, balance 27170.50.
	out := filepath.Join(t.TempDir(), "2378.json")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--format", "berka", "--dir", berkaDir, "--account", "2378", "--out", out}, env(nil), &stdout, &stderr))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	require.Equal(t, int64(2717050), l.Accounts[0].Current)
	require.Equal(t, "czk", l.Accounts[0].Currency)
	require.Equal(t, "1994-03-27T23:59:59Z", l.Accounts[0].AsOf.Format(time.RFC3339))

	// --as-of moves as_of and takes the bank's balance at the end of that day.
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--format", "berka", "--dir", berkaDir, "--account", "2378", "--as-of", "1993-01-31"}, env(nil), &stdout, &stderr))
	l, err = scoring.ParseLedgerFile(stdout.Bytes())
	require.NoError(t, err)
	require.Equal(t, int64(5945370), l.Accounts[0].Current)
	require.Equal(t, "1993-01-31T23:59:59Z", l.Accounts[0].AsOf.Format(time.RFC3339))

	// Every account into a folder, one <account_id>.json each.
	outDir := filepath.Join(t.TempDir(), "berka")
	stderr.Reset()
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--format", "berka", "--dir", berkaDir, "--out-dir", outDir}, env(nil), &stdout, &stderr))
	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	accounts, err := os.ReadFile(filepath.Join(berkaDir, "account.asc"))
	require.NoError(t, err)
	want := len(strings.Split(strings.TrimSpace(string(accounts)), "\n")) - 1 // account.asc lists exactly trans.asc's accounts
	require.Len(t, entries, want)
	require.Contains(t, stderr.String(), "converted 811 accounts")
	data, err = os.ReadFile(filepath.Join(outDir, "8957.json"))
	require.NoError(t, err)
	l, err = scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	require.Equal(t, int64(1803570), l.Accounts[0].Current)
}

func TestLedgerImportCSVBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--format", "ofx"}, `format: "ofx" is not generic or berka`},
		{"berka without dir", []string{"--format", "berka", "--account", "1"}, "dir: not set"},
		{"berka without account or out-dir", []string{"--format", "berka", "--dir", berkaDir}, "account: not set"},
		{"berka unknown account", []string{"--format", "berka", "--dir", berkaDir, "--account", "999999999"}, "account 999999999: no rows"},
		{"berka flags on a generic import", []string{"--dir", berkaDir, "--in", "testdata/statement.csv"}, "only with --format berka"},
		{"bad as-of", []string{"--as-of", "31.01.1994"}, `as-of: "31.01.1994" is not a date`},
		{"bad delimiter", []string{"--delimiter", ";;", "--in", "testdata/statement.csv"}, "delimiter"},
		{"missing input", []string{"--in", "testdata/nope.csv", "--amount-column", "a", "--currency", "usd"}, "open input"},
		{"column not in header", []string{"--in", "testdata/statement.csv", "--delimiter", ";", "--amount-column", "Amount", "--currency", "usd"}, `column "date" is not in the header`},
		{"no currency", []string{"--in", "testdata/statement.csv", "--delimiter", ";", "--date-column", "Booking Date", "--amount-column", "Debit"}, "currency: not set"},
		{"current balance with balance column", []string{"--balance-column", "Balance", "--current-balance", "10"}, "current-balance: not with --balance-column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"underwriter", "ledger", "import-csv"}, tc.args...), env(nil), &out, &out)
			require.Error(t, err)
			require.False(t, errors.Is(err, flag.ErrHelp))
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLedgerImportCSVHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"underwriter", "ledger", "import-csv", "--help"}, env(nil), &out, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	require.Contains(t, out.String(), "Usage: underwriter ledger import-csv")
	for _, f := range []string{"-format", "-dir", "-account", "-out-dir", "-balance-column", "-skip-bad-rows"} {
		require.Contains(t, out.String(), f)
	}
}

// TestFeaturesOnBerkaLedger runs import-csv and features end to end: the combined daily
// balance on the last day is the bank's balance.
func TestFeaturesOnBerkaLedger(t *testing.T) {
	ledger := filepath.Join(t.TempDir(), "8957.json")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--format", "berka", "--dir", berkaDir, "--account", "8957", "--out", ledger}, env(nil), &stdout, &stderr))
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"underwriter", "features", "--ledger", ledger, "--daily-balances"}, env(nil), &stdout, &stderr))
	var got struct {
		Features      map[string]any `json:"features"`
		DailyBalances map[string][]struct {
			Date         string `json:"date"`
			BalanceMinor int64  `json:"balance_minor"`
		} `json:"daily_balances"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got))
	require.Equal(t, "czk", got.Features["currency"])
	combined := got.DailyBalances["combined"]
	require.NotEmpty(t, combined)
	require.Equal(t, "1994-03-13", combined[len(combined)-1].Date)
	require.Equal(t, int64(1803570), combined[len(combined)-1].BalanceMinor)

	// --rules merges a user rules file (Berka's Czech codes) over the defaults.
	ledger = filepath.Join(t.TempDir(), "9635.json") // an account with pension payments (DUCHOD)
	require.NoError(t, run(context.Background(), []string{"underwriter", "ledger", "import-csv",
		"--format", "berka", "--dir", berkaDir, "--account", "9635", "--out", ledger}, env(nil), &stdout, &stderr))
	withRules := func(rules ...string) map[string]any {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"underwriter", "features", "--ledger", ledger, "--as-of", "1994-03-30"}, rules...)
		require.NoError(t, run(context.Background(), args, env(nil), &out, &stderr))
		var got struct {
			Features map[string]any `json:"features"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &got))
		return got.Features
	}
	plain, berka := withRules(), withRules("--rules", "testdata/berka-rules.json")
	require.Equal(t, plain["feature_set_version"].(string)+"+berka-1", berka["feature_set_version"])
	require.NotEqual(t, plain, berka, "the rules change the features")
}
