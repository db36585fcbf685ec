package scoring_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func TestDailyBalances(t *testing.T) {
	t.Parallel()
	chk := tx("c1", day("2026-03-09", 9), 100, "A")
	l := scoring.Ledger{
		Accounts: []scoring.Account{
			{ID: "fca_a", Category: "cash", Currency: "usd", Current: 1000, AsOf: day("2026-03-10", 12), HasBalance: true},
			{ID: "fca_b", Category: "cash", Currency: "usd", Current: -50, AsOf: day("2026-03-11", 23), HasBalance: true},
			{ID: "fca_c", Category: "credit", Currency: "usd", Current: -9999, AsOf: day("2026-03-10", 12), HasBalance: true},
			{ID: "fca_d", Category: "cash", Currency: "usd"}, // no balance: no series
		},
		Transactions: []scoring.Transaction{
			chk,
			tx("c2", day("2026-03-10", 18), -50, "B"), // on D₀ after as_of: still part of EOD(D₀) = current
			tx("c3", day("2026-03-12", 9), 300, "C"),  // after D₀: walks forward
			tx("c3", day("2026-03-12", 9), 300, "C"),  // duplicate
			{ID: "c4", AccountID: "fca_a", Amount: -700, Currency: "usd", Status: scoring.StatusPending, TransactedAt: day("2026-03-11", 9)},
			{ID: "b1", AccountID: "fca_b", Amount: -20, Currency: "usd", Status: scoring.StatusPosted, TransactedAt: day("2026-03-11", 9)},
			{ID: "k1", AccountID: "fca_c", Amount: -500, Currency: "usd", Status: scoring.StatusPosted, TransactedAt: day("2026-03-09", 9)},
		},
	}
	set, err := scoring.DailyBalances(l, day("2026-03-08", 0), day("2026-03-13", 15))
	require.NoError(t, err)
	require.Equal(t, day("2026-03-08", 0), set.Start)
	require.Equal(t, day("2026-03-13", 0), set.End)
	require.Len(t, set.Accounts, 2)
	// Account a, D₀ = Mar 10: EOD(10) = 1000; EOD(9) = 1000 − (−50) = 1050;
	// EOD(8) = 1050 − 100 = 950; EOD(11) = 1000 (pending ignored); EOD(12) = 1300.
	require.Equal(t, scoring.BalanceSeries{AccountID: "fca_a", Start: set.Start, EOD: []int64{950, 1050, 1000, 1000, 1300, 1300}}, set.Accounts[0])
	// Account b, D₀ = Mar 11: EOD(11) = −50, earlier days −50 + 20 = −30.
	require.Equal(t, []int64{-30, -30, -30, -50, -50, -50}, set.Accounts[1].EOD)
	require.Equal(t, []int64{920, 1020, 970, 950, 1250, 1250}, set.Combined.EOD)
	v, ok := set.Accounts[0].At(day("2026-03-12", 22))
	require.True(t, ok)
	require.Equal(t, int64(1300), v)
	_, ok = set.Accounts[0].At(day("2026-03-14", 0))
	require.False(t, ok)

	// A window entirely before D₀ and one entirely after it use the same identity.
	before, err := scoring.DailyBalances(l, day("2026-03-01", 0), day("2026-03-08", 0))
	require.NoError(t, err)
	require.Equal(t, []int64{950, 950, 950, 950, 950, 950, 950, 950}, before.Accounts[0].EOD)
	after, err := scoring.DailyBalances(l, day("2026-03-12", 0), day("2026-03-14", 0))
	require.NoError(t, err)
	require.Equal(t, []int64{1300, 1300, 1300}, after.Accounts[0].EOD)

	empty, err := scoring.DailyBalances(scoring.Ledger{}, day("2026-03-12", 0), day("2026-03-14", 0))
	require.NoError(t, err)
	require.Empty(t, empty.Combined.EOD)
}

// TestDailyBalancesMatchRunningBalance checks the reconstruction against a ledger that
// carries the bank's own running balance: a forward simulation from an opening balance.
func TestDailyBalancesMatchRunningBalance(t *testing.T) {
	t.Parallel()
	seed := uint64(42)
	next := func(n int64) int64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int64(seed>>33) % n
	}
	start := day("2026-01-01", 0)
	running := map[string]int64{} // bank's EOD by day
	bal := int64(12345)
	var txs []scoring.Transaction
	for d := 0; d < 120; d++ {
		date := start.AddDate(0, 0, d)
		for k := int64(0); k < next(4); k++ {
			amt := next(40000) - 25000
			txs = append(txs, tx(date.Format("0102")+string(rune('a'+k)), date.Add(time.Duration(next(86400))*time.Second), amt, "X"))
			bal += amt
		}
		running[date.Format(time.DateOnly)] = bal
	}
	asOf := start.AddDate(0, 0, 100).Add(15 * time.Hour) // later txns walk forward
	l := scoring.Ledger{
		Accounts:     []scoring.Account{{ID: "fca_a", Category: "cash", Currency: "usd", Current: running[asOf.Format(time.DateOnly)], AsOf: asOf, HasBalance: true}},
		Transactions: txs,
	}
	set, err := scoring.DailyBalances(l, start, start.AddDate(0, 0, 119))
	require.NoError(t, err)
	for i, v := range set.Combined.EOD {
		require.Equal(t, running[start.AddDate(0, 0, i).Format(time.DateOnly)], v, "day %d", i)
	}
}
