package scoring_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// dated builds transactions of one description from "MM-DD amount" pairs in 2026.
func dated(prefix, desc string, entries ...any) []scoring.Transaction {
	var out []scoring.Transaction
	for i := 0; i < len(entries); i += 2 {
		out = append(out, tx(fmt.Sprintf("%s%d", prefix, i/2), day("2026-"+entries[i].(string), 9), int64(entries[i+1].(int)), desc))
	}
	return out
}

// monthlyOn returns one transaction a month, January to June 2026, on day dom.
func monthlyOn(prefix, desc string, amount int64, dom int) []scoring.Transaction {
	var out []scoring.Transaction
	for m := 1; m <= 6; m++ {
		out = append(out, tx(fmt.Sprintf("%s%d", prefix, m), day(fmt.Sprintf("2026-%02d-%02d", m, dom), 9), amount, desc))
	}
	return out
}

// biweekly returns n transactions 14 days apart from first.
func biweekly(prefix, desc string, amount int64, first string, n int) []scoring.Transaction {
	var out []scoring.Transaction
	d := day(first, 9)
	for i := range n {
		out = append(out, tx(fmt.Sprintf("%s%d", prefix, i), d.AddDate(0, 0, 14*i), amount, desc))
	}
	return out
}

// join concatenates transaction lists.
func join(lists ...[]scoring.Transaction) []scoring.Transaction {
	var out []scoring.Transaction
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// incomeFeatures computes fs-v3 features as of 2026-06-30 on a one-account ledger
// whose history starts with rent on January 1st.
func incomeFeatures(t *testing.T, txs ...[]scoring.Transaction) scoring.Features {
	t.Helper()
	l := small(200000, join(append(txs, monthlyOn("rent", "RENT PYMT OAKWOOD", -90000, 1))...)...)
	f, err := scoring.ComputeFeatures(l, day("2026-06-30", 22), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	checkUndefinedConsistent(t, f)
	return f
}

var firstHalf2026 = []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"}

// TestIncomeGigOnly: payouts of three platforms in irregular amounts and dates form no
// stream; fs-v3 averages them over the six settled months, and neither interest, a tax
// refund nor loan proceeds count. fs-v2 saw only the interest "stream".
func TestIncomeGigOnly(t *testing.T) {
	t.Parallel()
	uber := dated("u", "UBR* INSTANT CASHOUT 8KD02J",
		"01-02", 21000, "01-06", 38000, "01-19", 27000, "02-04", 44000, "02-05", 12000, "02-21", 30000,
		"03-10", 51000, "03-28", 16000, "04-01", 25000, "04-13", 33000, "04-14", 9000, "04-30", 40000,
		"05-07", 28000, "05-22", 47000, "06-03", 19000, "06-11", 36000, "06-26", 30000) // 506,000
	etsy := dated("e", "ETSY INC DEPOSIT", "01-15", 60000, "03-02", 45000, "03-30", 20000, "05-18", 70000, "06-20", 30000) // 225,000
	upwork := dated("w", "UPWORK ESCROW INC", "05-12", 150000)
	other := join(monthlyOn("int", "INTEREST PAID", 300, 28),
		dated("x", "IRS TREAS 310 TAX REF", "04-20", 120000),
		dated("y", "UPSTART LOAN PROCEEDS", "02-10", 300000),
		dated("z", "ZELLE FROM JOHN DOE", "06-15", 150000))
	f := incomeFeatures(t, uber, etsy, upwork, other)

	require.Equal(t, int64(146833), f.MonthlyIncomeEst) // (506,000 + 225,000 + 150,000) / 6
	require.Equal(t, int64(0), f.IncomeRegularMonthly)
	require.Equal(t, int64(146833), f.IncomeIrregularMonthly)
	require.Equal(t, 0.0, *f.IncomeRegularShare)
	require.Equal(t, []scoring.IncomeSource{{Kind: scoring.IncomeSourceIrregular, Category: scoring.CategoryGigIncome,
		Deposits: 23, MonthlyAmount: 146833}}, f.IncomeSources)
	require.Equal(t, firstHalf2026, f.IncomeMonthsUsed)
	// Months 146k, 86k, 132k, 107k, 295k, 115k: CV ≈ 0.51, irregular and unsteady.
	require.Equal(t, scoring.IncomeConfidenceLow, f.IncomeConfidence)
	require.Equal(t, 4, *f.DaysSinceLastIncome) // Jun 26 cash-out
	require.Nil(t, f.NextIncomeDate, "no stream to predict from")
	// Only the Zelle transfer is unexplained: the payouts are income, the refund a tax
	// refund (both over half the income estimate, 73,417).
	require.Equal(t, 1, f.LargeDeposits90d)
	require.Equal(t, 1, f.LargeDeposits60d)
	require.Equal(t, 0.0644, *f.PaymentToIncome) // 9,456 / 146,833

	v2, err := scoring.FeatureOptionsFor(scoring.FeatureSetV2)
	require.NoError(t, err)
	l := small(200000, join(uber, etsy, upwork, other, monthlyOn("rent", "RENT PYMT OAKWOOD", -90000, 1))...)
	old, err := scoring.ComputeFeaturesWith(l, day("2026-06-30", 22), scoring.Loan{AmountMinor: 100000, TermMonths: 12}, v2)
	require.NoError(t, err)
	require.Equal(t, int64(300), old.MonthlyIncomeEst, "fs-v2 counted savings interest as the only income")
}

// TestIncomeSalaryAndSideGig: a salary paid on cadence is regular (normalised to a
// month); side-gig payouts add their monthly average.
func TestIncomeSalaryAndSideGig(t *testing.T) {
	t.Parallel()
	pay := biweekly("p", "ACME CORP PPD ID 4470021938", 200000, "2026-01-02", 13) // Jan 2 … Jun 19, no payroll word
	gig := dated("g", "DOORDASH DASHER PAYOUT", "02-08", 12000, "04-18", 9000, "06-07", 15000)
	f := incomeFeatures(t, pay, gig)
	require.Equal(t, int64(433333+6000), f.MonthlyIncomeEst) // 200,000 × 26/12 + 36,000 / 6
	require.Equal(t, int64(433333), f.IncomeRegularMonthly)
	require.Equal(t, int64(6000), f.IncomeIrregularMonthly)
	require.Equal(t, []scoring.IncomeSource{
		{Kind: scoring.IncomeSourceStream, Category: scoring.CategoryUncategorised, Description: "ACME CORP PPD ID",
			Frequency: scoring.FrequencyBiweekly, Deposits: 13, MonthlyAmount: 433333},
		{Kind: scoring.IncomeSourceIrregular, Category: scoring.CategoryGigIncome, Deposits: 3, MonthlyAmount: 6000},
	}, f.IncomeSources)
	require.Equal(t, scoring.IncomeConfidenceHigh, f.IncomeConfidence) // 98.6 % regular
	require.Equal(t, 0.9863, *f.IncomeRegularShare)                    // 433,333 / 439,333
}

// TestIncomePayerPartlyExplained: a bonus from the employer (same description, outside
// the pay stream's amount band) makes the payer irregular: its deposits are averaged
// over the months as a whole, so no pay period counts twice.
func TestIncomePayerPartlyExplained(t *testing.T) {
	t.Parallel()
	pay := biweekly("p", "ACME CORP PPD ID 4470021938", 200000, "2026-01-02", 13)
	bonus := dated("b", "ACME CORP PPD ID 4470021938", "03-20", 150000)
	f := incomeFeatures(t, pay, bonus)
	require.Equal(t, int64(458333), f.MonthlyIncomeEst) // (13 × 200,000 + 150,000) / 6
	require.Equal(t, int64(0), f.IncomeRegularMonthly)
	require.Equal(t, []scoring.IncomeSource{{Kind: scoring.IncomeSourceIrregular, Category: scoring.CategoryUncategorised,
		Deposits: 14, MonthlyAmount: 458333}}, f.IncomeSources)
	require.Equal(t, 0, f.LargeDeposits90d, "the employer's bonus is income")
}

// TestIncomeJobChange: pay that stopped in March and pay that started in April are both
// the income of the months used; the new stream started inside them, so it is averaged
// too rather than counted for a full month.
func TestIncomeJobChange(t *testing.T) {
	t.Parallel()
	old := biweekly("o", "GLOBEX CORP PAYROLL", 200000, "2026-01-02", 7) // Jan 2 … Mar 27
	cur := biweekly("n", "INITECH INC DIR DEP", 220000, "2026-04-10", 6) // Apr 10 … Jun 19
	f := incomeFeatures(t, old, cur)
	require.Equal(t, int64(453333), f.MonthlyIncomeEst) // (7 × 200,000 + 6 × 220,000) / 6
	require.Equal(t, []scoring.IncomeSource{{Kind: scoring.IncomeSourceIrregular, Category: scoring.CategoryPayroll,
		Deposits: 13, MonthlyAmount: 453333}}, f.IncomeSources)
	// Months 600k, 400k, 400k, 440k, 440k, 440k: CV 0.17, steady.
	require.Equal(t, scoring.IncomeConfidenceMedium, f.IncomeConfidence)
	require.Equal(t, "2026-07-03", *f.NextIncomeDate) // from the new, active stream
}

// TestIncomeStopped: when every income has stopped there is no current income, however
// much was deposited in the months used.
func TestIncomeStopped(t *testing.T) {
	t.Parallel()
	gig := dated("g", "LYFT DRIVER EARNINGS", "01-09", 90000, "01-27", 70000, "02-13", 85000, "03-06", 60000, "04-20", 75000)
	f := incomeFeatures(t, gig) // the newest payout is 71 days old
	require.Equal(t, int64(0), f.MonthlyIncomeEst)
	require.Equal(t, scoring.IncomeConfidenceNone, f.IncomeConfidence)
	require.Empty(t, f.IncomeSources)
	require.Nil(t, f.IncomeRegularShare)
	require.Contains(t, f.Undefined, "income_regular_share")
	require.Equal(t, 71, *f.DaysSinceLastIncome)

	recent := append(gig, dated("h", "LYFT DRIVER EARNINGS", "05-15", 80000)...)
	f = incomeFeatures(t, recent)                      // 46 days old: current
	require.Equal(t, int64(76667), f.MonthlyIncomeEst) // 460,000 / 6
}

// TestSavingsAndSpending: moves to a linked savings account (own transfers) and to a
// savings product count as saving, net of money moved back; spending leaves them out.
func TestSavingsAndSpending(t *testing.T) {
	t.Parallel()
	asOf := day("2026-06-30", 20)
	onSav := func(l []scoring.Transaction) []scoring.Transaction {
		for i := range l {
			l[i].AccountID = "fca_s"
		}
		return l
	}
	txs := join(
		monthlyOn("pay", "ACME PAYROLL", 300000, 1),
		monthlyOn("rent", "RENT PYMT OAKWOOD", -100000, 2),
		monthlyOn("out", "ONLINE TRANSFER TO SAV XXXXXX1234", -50000, 5),
		onSav(monthlyOn("in", "ONLINE TRANSFER FROM CHK XXXXXX9876", 50000, 5)),
		monthlyOn("ally", "TRANSFER TO ALLY BANK SAVINGS", -10000, 10),
		onSav(dated("back", "ONLINE TRANSFER TO CHK XXXXXX9876", "05-20", -20000)),
		dated("home", "ONLINE TRANSFER FROM SAV XXXXXX1234", "05-20", 20000),
	)
	l := scoring.Ledger{
		Accounts: []scoring.Account{
			{ID: "fca_a", Category: "cash", Subcategory: "checking", Status: "active", Currency: "usd", Current: 400000, AsOf: asOf, HasBalance: true},
			{ID: "fca_s", Category: "cash", Subcategory: "savings", Status: "active", Currency: "usd", Current: 500000, AsOf: asOf, HasBalance: true},
		},
		Transactions: txs,
	}
	f, err := scoring.ComputeFeatures(l, asOf, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	checkUndefinedConsistent(t, f)
	require.Equal(t, int64(300000), f.MonthlyIncomeEst)
	require.Equal(t, 56666.67, *f.SavingsNetMonthly)        // (5 × 60,000 + 40,000) / 6
	require.Equal(t, 0.1889, *f.SavingsRate6m)              // 56,666.67 / 300,000
	require.Equal(t, 0.3333, *f.SpendToIncome6m)            // (rent 100,000 + Ally 10,000 − 10,000 saved) / 300,000
	require.Equal(t, int64(130000), *f.SavingsBalanceDelta) // Apr 5, May 5, Jun 5 in, May 20 out, since Apr 1
	require.Equal(t, 0.0, *f.DebtToIncome)                  // no debt service
	require.Equal(t, 0.3333, *f.ObligationsToIncome)        // recurring rent 100,000 / 300,000
	require.Equal(t, 8, f.OwnTransfers90d)                  // Apr 5, May 5, Jun 5 and May 20: 4 pairs
	require.Equal(t, int64(10000*3), f.OutflowByCategory90d[scoring.CategorySavingsTransfer])
}

// TestOverdraftHabit: D4 counts months with fees net of reversals.
func TestOverdraftHabit(t *testing.T) {
	t.Parallel()
	fees := dated("f", "OVERDRAFT FEE", "02-03", -3500, "02-17", -3500, "04-08", -3500, "06-22", -3500)
	rev := dated("r", "FEE REVERSAL", "04-10", 3500) // April's fee given back
	f := incomeFeatures(t, fees, rev, monthlyOn("pay", "ACME PAYROLL", 300000, 15))
	require.Equal(t, 2, *f.NSFFeeMonths6m) // February and June
	require.Equal(t, 1, f.NSFFeeCount90d)  // April's fee and its reversal cancel; June's counts
}
