package csv_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/ledger/csv"
)

// fuzzMapping is the fixed mapping FuzzReadCSV reads with: signed amounts and a running
// balance, so that Build's posting-order search runs too.
var fuzzMapping = csv.Mapping{
	DateColumn: "date", AmountColumn: "amount", BalanceColumn: "balance",
	DescriptionColumn: "description", Currency: "usd",
}

// requireValidFile checks what an importer returned without error: a ledger that
// Validate accepts, whose written form Parse accepts and writes again unchanged. The
// written form, not f itself: encoding/json writes invalid UTF-8 in a description (a
// statement in a legacy encoding) as U+FFFD, so such a file differs from f once
// written, but it is stable from then on.
func requireValidFile(t *testing.T, f ledger.File) {
	t.Helper()
	require.NoError(t, f.Validate())
	out, err := f.Marshal()
	require.NoError(t, err)
	written, err := ledger.Parse(out)
	require.NoError(t, err)
	out2, err := written.Marshal()
	require.NoError(t, err)
	again, err := ledger.Parse(out2)
	require.NoError(t, err)
	require.Equal(t, written, again)
}

// requireUniqueIDs checks that no two transactions of f share an id: scoring keeps one
// transaction per id, so a repeated id would drop money from the ledger.
func requireUniqueIDs(t *testing.T, f ledger.File) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range f.Accounts {
		for _, tx := range e.Transactions {
			require.False(t, seen[tx.ID], "transaction id %s repeats", tx.ID)
			seen[tx.ID] = true
		}
	}
}

// FuzzReadCSV: ConvertCSV (ReadCSV, then Build) on arbitrary CSV text through
// fuzzMapping, with and without skipping bad rows, never panics, and a nil error means
// a valid ledger. Seeds: testdata/fuzz/FuzzReadCSV.
func FuzzReadCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string, skipBad bool) {
		m := fuzzMapping
		m.SkipBadRows = skipBad
		file, _, err := csv.ConvertCSV(strings.NewReader(text), m, csv.Options{})
		if err != nil {
			return
		}
		requireValidFile(t, file)
		requireUniqueIDs(t, file)
	})
}

// FuzzBerka: ConvertBerka on arbitrary trans.asc text never panics, and a nil error
// means one valid ledger per account, with no transaction id repeated across them.
// Seeds: testdata/fuzz/FuzzBerka.
func FuzzBerka(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		ledgers, err := csv.ConvertBerka(strings.NewReader(text), csv.BerkaOptions{})
		if err != nil {
			return
		}
		all := ledger.File{}
		for _, l := range ledgers {
			requireValidFile(t, l.File)
			all.Accounts = append(all.Accounts, l.File.Accounts...)
		}
		requireUniqueIDs(t, all)
	})
}
