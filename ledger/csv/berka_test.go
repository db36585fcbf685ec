package csv_test

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// berkaDir is the Berka data folder relative to this package (repo root ../shared).
const berkaDir = "../../../shared/data/berka"

// bankRow is a trans.asc row parsed independently of the package under test.
type bankRow struct {
	transID string
	amount  int64 // signed minor units
	balance int64
}

// bankDays parses trans.asc with plain string handling and returns, per account_id and
// YYMMDD date, the day's rows in file order.
func bankDays(t *testing.T) map[string]map[string][]bankRow {
	t.Helper()
	f, err := os.Open(filepath.Join(berkaDir, csv.BerkaFile))
	require.NoError(t, err, "the Berka data must be at %s", berkaDir)
	defer f.Close()
	cents := func(s string) int64 {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return int64(math.Round(v * 100))
	}
	out := map[string]map[string][]bankRow{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		p := strings.Split(strings.TrimRight(sc.Text(), "\r"), ";")
		require.Len(t, p, 10, sc.Text())
		amt := cents(p[5])
		if strings.Trim(p[3], `"`) != "PRIJEM" {
			amt = -amt
		}
		if out[p[1]] == nil {
			out[p[1]] = map[string][]bankRow{}
		}
		out[p[1]][p[2]] = append(out[p[1]][p[2]], bankRow{transID: p[0], amount: amt, balance: cents(p[6])})
	}
	require.NoError(t, sc.Err())
	return out
}

// bankEOD returns the bank's end-of-day balance of one account-day by brute force: the
// set of balances of the last row over every permutation of the day's rows in which
// each row satisfies prev + amount == balance within 0.10 CZK. The README says the
// order exists and is unique, so the set must have exactly one element.
func bankEOD(t *testing.T, prev int64, rows []bankRow) int64 {
	t.Helper()
	ends := map[int64]bool{}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	var perm func(k int)
	perm = func(k int) {
		if k == len(idx) {
			p := prev
			for _, i := range idx {
				if d := p + rows[i].amount - rows[i].balance; d > 10 || d < -10 {
					return
				}
				p = rows[i].balance
			}
			ends[p] = true
			return
		}
		for i := k; i < len(idx); i++ {
			idx[k], idx[i] = idx[i], idx[k]
			perm(k + 1)
			idx[k], idx[i] = idx[i], idx[k]
		}
	}
	perm(0)
	require.Len(t, ends, 1, "posting order of %d rows from %d: want exactly one end balance", len(rows), prev)
	for e := range ends {
		return e
	}
	return 0
}

// TestBerkaDailyBalancesMatchTheBank converts every Berka account through the code of
// `underwriter ledger import-csv --format berka`, parses each ledger file, reconstructs
// daily balances backwards from balance.current, and compares every account-day with
// the bank's own end-of-day balance.
func TestBerkaDailyBalancesMatchTheBank(t *testing.T) {
	bank := bankDays(t)
	f, err := os.Open(filepath.Join(berkaDir, csv.BerkaFile))
	require.NoError(t, err)
	defer f.Close()
	ledgers, err := csv.ConvertBerka(f, csv.BerkaOptions{})
	require.NoError(t, err)
	require.Len(t, ledgers, len(bank), "one ledger per account")
	require.Len(t, ledgers, 811, "the README's account count")

	var rowDays, calDays int
	var maxDiff, sumDiff int64
	for _, bl := range ledgers {
		days := bank[bl.AccountID]
		require.NotEmpty(t, days, bl.AccountID)
		data, err := bl.File.Marshal()
		require.NoError(t, err)
		l, err := scoring.ParseLedgerFile(data)
		require.NoError(t, err, bl.AccountID)
		require.Len(t, l.Accounts, 1)

		dates := make([]string, 0, len(days))
		for d := range days {
			dates = append(dates, d)
		}
		sort.Strings(dates)
		first, err := time.Parse("060102", dates[0])
		require.NoError(t, err)
		last, err := time.Parse("060102", dates[len(dates)-1])
		require.NoError(t, err)
		require.Equal(t, last.Format(time.DateOnly), l.Accounts[0].AsOf.Format(time.DateOnly), "as_of is the account's last day")

		set, err := scoring.DailyBalances(l, first, last)
		require.NoError(t, err)
		require.Len(t, set.Accounts, 1)
		series := set.Accounts[0]

		var eod int64 // the first deposit opens the account at 0
		for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
			rowsOfDay, has := days[day.Format("060102")]
			if has {
				eod = bankEOD(t, eod, rowsOfDay)
			}
			got, ok := series.At(day)
			require.True(t, ok, "%s %s in the series", bl.AccountID, day.Format(time.DateOnly))
			diff := got - eod
			if diff < 0 {
				diff = -diff
			}
			require.Less(t, diff, int64(100), "account %s on %s: reconstructed %d, bank %d (minor units)", bl.AccountID, day.Format(time.DateOnly), got, eod)
			calDays++
			if has {
				rowDays++
				sumDiff += diff
				maxDiff = max(maxDiff, diff)
			}
		}
		got, _ := series.At(last)
		require.Equal(t, l.Accounts[0].Current, got, "the series ends at balance.current")
	}
	require.Positive(t, rowDays)
	t.Logf("berka: %d accounts, %d account-days with rows checked (%d calendar account-days), |reconstructed - bank EOD|: max %d minor units (%.2f CZK), mean %.4f minor units",
		len(ledgers), rowDays, calDays, maxDiff, float64(maxDiff)/100, float64(sumDiff)/float64(rowDays))
}

// TestBerkaAccountDaysByHand checks account-days worked out by hand from trans.asc.
//
// Account 2378, 1993-01-31 (previous EOD 94059.00 on 1993-01-26):
//
//	3608592 PRIJEM UROK   94.70 -> 94153.70  (94059.00 + 94.70: first)
//	695560  VYDAJ  VYBER 34700.00 -> 59453.70 (94153.70 - 34700.00: last)  => EOD 59453.70
//
// 1993-02-01 has no rows: EOD stays 59453.70. 1993-02-28 (previous EOD 71107.70):
//
//	3608593 PRIJEM UROK  344.80 -> 71452.40 (71107.70 + 344.80 = 71452.50, 0.10 rounding)
//	695490  VYDAJ  SLUZBY 14.60 -> 71437.80                                 => EOD 71437.80
//
// Account 8957, 1994-01-31 (previous EOD -2630.00 on 1994-01-21), five rows:
//
//	3455950 UROK +123.40 -> -2506.60; 3505581 UROK +42.90 -> -2463.70;
//	3455951 SANKC. UROK -10.20 -> -2473.90; 3505582 SANKC. UROK -10.20 -> -2484.10;
//	2707558 SLUZBY -14.60 -> -2498.70                                      => EOD -2498.70
func TestBerkaAccountDaysByHand(t *testing.T) {
	f, err := os.Open(filepath.Join(berkaDir, csv.BerkaFile))
	require.NoError(t, err, "the Berka data must be at %s", berkaDir)
	defer f.Close()
	ledgers, err := csv.ConvertBerka(f, csv.BerkaOptions{Accounts: []string{"8957", "2378"}})
	require.NoError(t, err)
	require.Len(t, ledgers, 2)
	byID := map[string]scoring.Ledger{}
	files := map[string]csv.File{}
	for _, bl := range ledgers {
		data, err := bl.File.Marshal()
		require.NoError(t, err)
		l, err := scoring.ParseLedgerFile(data)
		require.NoError(t, err)
		byID[bl.AccountID], files[bl.AccountID] = l, bl.File
	}
	// The reconstruction walks back from balance.current by summing amounts, so it
	// equals the bank's balance within the bank's interest rounding (< 1 CZK), and
	// the change between two days is exactly the sum of the amounts between them.
	recon := func(acct, day string) int64 {
		t.Helper()
		d, err := time.Parse(time.DateOnly, day)
		require.NoError(t, err)
		l := byID[acct]
		set, err := scoring.DailyBalances(l, l.Transactions[0].TransactedAt, l.Accounts[0].AsOf)
		require.NoError(t, err)
		got, ok := set.Accounts[0].At(d)
		require.True(t, ok, "%s %s in the series", acct, day)
		return got
	}
	for _, tc := range []struct {
		acct, day string
		bank      int64
	}{
		{"2378", "1993-01-26", 9405900},
		{"2378", "1993-01-31", 5945370},
		{"2378", "1993-02-01", 5945370},
		{"2378", "1993-02-28", 7143780},
		{"8957", "1994-01-21", -263000},
		{"8957", "1994-01-31", -249870},
	} {
		t.Run(tc.acct+"/"+tc.day, func(t *testing.T) {
			require.InDelta(t, tc.bank, recon(tc.acct, tc.day), 99)
		})
	}
	require.Equal(t, int64(9470-3470000), recon("2378", "1993-01-31")-recon("2378", "1993-01-26"))
	require.Equal(t, int64(34480-1460), recon("2378", "1993-02-28")-recon("2378", "1993-02-20"))
	require.Equal(t, int64(12340+4290-1020-1020-1460), recon("8957", "1994-01-31")-recon("8957", "1994-01-21"))

	// Posting order survives in the file: on 1994-01-31 account 8957's rows are in
	// the hand-found order, with increasing transacted_at.
	var ids []int64
	var at []int64
	for _, tx := range files["8957"].Accounts[0].Transactions {
		if time.Unix(tx.TransactedAt, 0).UTC().Format(time.DateOnly) == "1994-01-31" {
			ids = append(ids, tx.Amount)
			at = append(at, tx.TransactedAt)
		}
	}
	require.Equal(t, []int64{12340, 4290, -1020, -1020, -1460}, ids)
	require.IsIncreasing(t, at)

	// balance.current is the bank's balance after the last row (2378: 1994-03-27,
	// 27170.50; 8957: 1994-03-13, 18035.70), as_of the end of that day.
	for _, tc := range []struct {
		acct, asOf string
		current    int64
	}{
		{"2378", "1994-03-27T23:59:59Z", 2717050},
		{"8957", "1994-03-13T23:59:59Z", 1803570},
	} {
		acct := files[tc.acct].Accounts[0].Account
		require.Equal(t, csv.BerkaAccountID(tc.acct), acct.ID)
		require.NotNil(t, acct.Balance)
		require.Equal(t, map[string]int64{"czk": tc.current}, acct.Balance.Current)
		require.Equal(t, tc.asOf, time.Unix(acct.Balance.AsOf, 0).UTC().Format(time.RFC3339))
		require.Equal(t, "cash", acct.Balance.Type)
	}
}

// TestReadBerkaRefusesARepeatedTransID: two rows with one trans_id would become two
// transactions with one id, of which scoring keeps one; the file is refused, naming both
// lines.
func TestReadBerkaRefusesARepeatedTransID(t *testing.T) {
	t.Parallel()
	const header = `"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"` + "\r\n"
	ok := header + "695247;2378;930101;\"PRIJEM\";\"VKLAD\";700.00;700.00;\"\";;\r\n" +
		"695248;2378;930102;\"PRIJEM\";\"VKLAD\";100.00;800.00;\"\";;\r\n"
	_, err := csv.ReadBerka(strings.NewReader(ok))
	require.NoError(t, err)

	repeated := header + "695247;2378;930101;\"PRIJEM\";\"VKLAD\";700.00;700.00;\"\";;\r\n" +
		"695247;2378;930102;\"PRIJEM\";\"VKLAD\";100.00;800.00;\"\";;\r\n"
	_, err = csv.ReadBerka(strings.NewReader(repeated))
	require.ErrorContains(t, err, "line 3")
	require.ErrorContains(t, err, "repeats the trans_id of line 2")
}
