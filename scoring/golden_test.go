package scoring_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/[fs-v3/]<persona>.json from the current code")

const goldenDir = "../testdata/golden"

// goldenSets are the feature sets with golden vectors: fs-v2 (the feature set of
// scorecard v1, whose files predate fs-v3 and must never change) in testdata/golden,
// and fs-v3 in testdata/golden/fs-v3.
var goldenSets = []struct {
	version, dir string
}{
	{scoring.FeatureSetV2, goldenDir},
	{scoring.FeatureSetV3, filepath.Join(goldenDir, "fs-v3")},
}

// TestGoldenFeatures pins the full feature vector of every persona at its balance
// as_of, in every feature set. A change to any feature shows up as a diff of a golden
// file; the fs-v2 files are the record of past decisions and stay byte for byte; the
// fs-v3 ones may be regenerated with `go test ./scoring/ -run TestGoldenFeatures
// -update` after reviewing the diff (the fs-v2 files are then rewritten identically).
func TestGoldenFeatures(t *testing.T) {
	t.Parallel()
	for _, set := range goldenSets {
		opts, err := scoring.FeatureOptionsFor(set.version)
		require.NoError(t, err)
		for _, p := range loadManifest(t).Personas {
			t.Run(set.version+"/"+p.Name, func(t *testing.T) {
				t.Parallel()
				l := loadLedger(t, p.Ledger)
				f, err := scoring.ComputeFeaturesWith(l, scoring.LatestAsOf(l), scoring.Loan{AmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths}, opts)
				require.NoError(t, err)
				require.Equal(t, set.version, f.FeatureSetVersion)
				checkUndefinedConsistent(t, f)
				got, err := json.MarshalIndent(f, "", "  ")
				require.NoError(t, err)
				got = append(got, '\n')
				path := filepath.Join(set.dir, p.Name+".json")
				if *update {
					require.NoError(t, os.MkdirAll(set.dir, 0o755))
					require.NoError(t, os.WriteFile(path, got, 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "missing golden file: run go test ./scoring/ -run TestGoldenFeatures -update")
				require.Equal(t, string(want), string(got), "feature vector of %s changed", p.Name)
			})
		}
	}
}

func featuresJSON(t testing.TB, l scoring.Ledger, cutoff time.Time) []byte {
	t.Helper()
	f, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	b, err := json.Marshal(f)
	require.NoError(t, err)
	return b
}

// TestFeatureProperties: for every persona and the hand ledger, shuffling the
// transactions and accounts, or duplicating transactions (same Stripe id, as a
// re-delivered page would), leaves the feature vector byte-identical.
func TestFeatureProperties(t *testing.T) {
	t.Parallel()
	ledgers := map[string]scoring.Ledger{"hand": handLedger()}
	for _, p := range loadManifest(t).Personas {
		ledgers[p.Name] = loadLedger(t, p.Ledger)
	}
	for name, l := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cutoff := scoring.LatestAsOf(l)
			want := featuresJSON(t, l, cutoff)
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for i := 0; i < 5; i++ {
				s := scoring.Ledger{
					Accounts:     append([]scoring.Account(nil), l.Accounts...),
					Transactions: append([]scoring.Transaction(nil), l.Transactions...),
				}
				r.Shuffle(len(s.Transactions), func(a, b int) { s.Transactions[a], s.Transactions[b] = s.Transactions[b], s.Transactions[a] })
				r.Shuffle(len(s.Accounts), func(a, b int) { s.Accounts[a], s.Accounts[b] = s.Accounts[b], s.Accounts[a] })
				require.True(t, bytes.Equal(want, featuresJSON(t, s, cutoff)), "shuffle %d changed the features", i)

				d := scoring.Ledger{Accounts: s.Accounts, Transactions: append([]scoring.Transaction(nil), s.Transactions...)}
				for _, tx := range s.Transactions {
					if r.IntN(3) == 0 {
						d.Transactions = append(d.Transactions, tx)
					}
				}
				r.Shuffle(len(d.Transactions), func(a, b int) { d.Transactions[a], d.Transactions[b] = d.Transactions[b], d.Transactions[a] })
				require.True(t, bytes.Equal(want, featuresJSON(t, d, cutoff)), "duplicates %d changed the features", i)
			}
		})
	}
}

// TestPendingAndVoidNeverEnterHistory: turning every posted transaction into void
// leaves a ledger with no history, and adding pending ones changes only the
// pending_* current view.
func TestPendingAndVoidNeverEnterHistory(t *testing.T) {
	t.Parallel()
	l := handLedger()
	cutoff := day("2026-03-31", 20)
	base, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	p := tx("p2", day("2026-03-25", 9), 750000, "ACME PAYROLL BONUS")
	p.Status = scoring.StatusPending
	l.Transactions = append(l.Transactions, p)
	withPending, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, 2, withPending.PendingTxnCount)
	require.Equal(t, int64(745000), withPending.PendingNetAmount)
	withPending.PendingTxnCount, withPending.PendingNetAmount = base.PendingTxnCount, base.PendingNetAmount
	require.Equal(t, base, withPending)

	for i := range l.Transactions {
		l.Transactions[i].Status = scoring.StatusVoid
	}
	f, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, 0, f.PostedTxnCount)
	require.Equal(t, 0, f.PendingTxnCount)
	require.Contains(t, f.Undefined, "days_since_last_txn")
}
