package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/bench/benchledger"
	"github.com/cashflow-underwriting/underwriter/internal/population"
	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/ledger/csv"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// updateDecisions rewrites testdata/decisions.golden from the current code. Do it only
// when a change is meant to change decisions; the speed-ups of issue 12 must not.
var updateDecisions = flag.Bool("update-decisions", false, "rewrite testdata/decisions.golden")

// berkaDir is the Berka data folder relative to this package (repo root ../shared).
const berkaDir = "../../../shared/data/berka"

// namedLedger is one ledger of the equivalence corpus with the cutoff and loan it is
// decided at.
type namedLedger struct {
	name string
	file ledger.File
	asOf time.Time
	loan scoring.Loan
}

// corpus is the ledgers the fast paths are checked on: applicants of the synthetic
// population (6 to 18 months, savers with a linked savings account), the same with
// Stripe's variations added (pending, void and re-reported transactions, a credit
// account, upper-case and mixed currencies), the bench ledgers of every length, and
// every account of the Berka data, converted by the CSV importer.
func corpus(t *testing.T) []namedLedger {
	t.Helper()
	all := fullCorpus(t)
	if !raceEnabled {
		return all
	}
	var out []namedLedger
	for i := 0; i < len(all); i += raceStride {
		out = append(out, all[i])
	}
	return out
}

// raceEnabled is set under the race detector (race_test.go): the corpus is then every
// raceStride-th ledger.
var raceEnabled bool

const raceStride = 20

func fullCorpus(t *testing.T) []namedLedger {
	t.Helper()
	var out []namedLedger
	for _, a := range population.Generate(12, 240) {
		out = append(out, namedLedger{"population/" + a.ID, a.Ledger, a.AsOf, a.Loan})
	}
	for i, a := range population.Generate(13, 60) {
		out = append(out, namedLedger{fmt.Sprintf("variations/%s", a.ID), vary(a.Ledger, i), a.AsOf, a.Loan})
	}
	for _, months := range []int{1, 3, 12, 24} {
		for v := range 3 {
			data, asOf, err := benchledger.Ledger(months, v)
			require.NoError(t, err)
			var f ledger.File
			require.NoError(t, json.Unmarshal(data, &f))
			out = append(out, namedLedger{fmt.Sprintf("bench/%dm/%d", months, v), f, asOf, benchLoan})
		}
	}
	rf, err := os.Open(filepath.Join(berkaDir, csv.BerkaFile))
	require.NoError(t, err, "the Berka data must be at %s", berkaDir)
	defer rf.Close()
	ls, err := csv.ConvertBerka(bufio.NewReader(rf), csv.BerkaOptions{})
	require.NoError(t, err)
	for _, l := range ls {
		out = append(out, namedLedger{"berka/" + l.AccountID, l.File, time.Time{}, benchLoan})
	}
	return out
}

// vary adds to an applicant's ledger what Stripe also sends, differently for each i.
func vary(f ledger.File, i int) ledger.File {
	b, _ := json.Marshal(f)
	var g ledger.File
	_ = json.Unmarshal(b, &g) // a deep copy
	txs := g.Accounts[0].Transactions
	for j := range txs {
		switch (i + j) % 11 {
		case 0:
			txs[j].Status = ledger.StatusPending
			txs[j].StatusTransitions.PostedAt = nil
		case 3:
			v := txs[j].TransactedAt + 86400
			txs[j].Status, txs[j].StatusTransitions.VoidAt = ledger.StatusVoid, &v
		case 5: // reported again once posted, as Stripe does after a refresh
			again := txs[j]
			txs[j].Status = ledger.StatusPending
			g.Accounts[0].Transactions = append(g.Accounts[0].Transactions, again)
		}
	}
	if i%3 == 0 {
		for j := range g.Accounts[0].Transactions {
			g.Accounts[0].Transactions[j].Currency = "USD"
		}
	}
	if i%4 == 1 {
		g.Accounts = append(g.Accounts, ledger.Entry{Account: ledger.Account{ID: "fca_card", Object: ledger.ObjectAccount,
			Category: ledger.CategoryCredit, Status: ledger.AccountActive,
			Balance: &ledger.Balance{AsOf: txs[len(txs)-1].TransactedAt, Current: map[string]int64{"usd": -45000}, Type: "credit"}},
			Transactions: []ledger.Transaction{{ID: "fctxn_card_1", Object: ledger.ObjectTransaction, Account: "fca_card",
				Amount: -2599, Currency: "usd", Description: "CARD PURCHASE", Status: ledger.StatusPosted,
				TransactedAt: txs[len(txs)-1].TransactedAt - 86400}}})
	}
	if i%10 == 7 { // a second currency: scoring refuses the ledger, and must keep saying why
		g.Accounts[0].Transactions[0].Currency = "eur"
	}
	return g
}

// oldParse is ledger.Parse as it was before its scanner: encoding/json, then Validate.
func oldParse(data []byte) (ledger.File, error) {
	var f ledger.File
	if err := json.Unmarshal(data, &f); err != nil {
		return ledger.File{}, err
	}
	if err := f.Validate(); err != nil {
		return ledger.File{}, err
	}
	return f, nil
}

// TestParseMatchesEncodingJSON: on every ledger of the corpus, as a snapshot stores it
// (compact) and as files are written (indented), ledger.Parse gives exactly the File
// of encoding/json and Validate.
func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, l := range corpus(t) {
		compact, err := json.Marshal(l.file)
		require.NoError(t, err)
		indented, err := l.file.Marshal()
		require.NoError(t, err)
		for _, data := range [][]byte{compact, indented} {
			got, err := ledger.Parse(data)
			require.NoError(t, err, l.name)
			want, err := oldParse(data)
			require.NoError(t, err, l.name)
			require.Equal(t, want, got, l.name)
		}
	}
}

// TestDecisionsUnchanged decides every ledger of the corpus from its bytes and compares
// each decision (outcome, score, PD, reasons, rules, points and the whole feature
// vector, as JSON, whose floats are exact) with testdata/decisions.golden, written
// before the speed-ups of issue 12: they must not change one bit.
func TestDecisionsUnchanged(t *testing.T) {
	eng := scoring.DefaultEngine()
	var lines []string
	for _, l := range corpus(t) {
		data, err := json.Marshal(l.file)
		require.NoError(t, err)
		sl, err := scoring.ParseLedgerFile(data)
		require.NoError(t, err, l.name)
		asOf := l.asOf
		if asOf.IsZero() {
			asOf = scoring.LatestAsOf(sl)
		}
		var fp string
		d, err := eng.Underwrite(sl, asOf, l.loan, scoring.Operational{})
		switch {
		case err != nil: // a mixed currency, too short a history: the reason must not change either
			fp = "error: " + err.Error()
		default:
			b, err := json.Marshal(d)
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			fp = fmt.Sprintf("%s %d %s", d.Outcome, d.Score, hex.EncodeToString(sum[:8]))
		}
		lines = append(lines, l.name+" "+fp)
	}
	got := strings.Join(lines, "\n") + "\n"
	const golden = "testdata/decisions.golden"
	if *updateDecisions {
		require.False(t, raceEnabled, "write the golden file without -race: it holds every ledger")
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	b, err := os.ReadFile(golden)
	require.NoError(t, err)
	want := string(b)
	if raceEnabled { // the golden lines of the ledgers decided
		all := strings.SplitAfter(want, "\n")
		var some []string
		for i := 0; i < len(all)-1; i += raceStride {
			some = append(some, all[i])
		}
		want = strings.Join(some, "")
	}
	require.Equal(t, want, got, "decisions changed; if that is meant: go test ./internal/bench -run TestDecisionsUnchanged -update-decisions")
}
