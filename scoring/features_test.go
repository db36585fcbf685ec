package scoring_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func day(s string, hour int) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Duration(hour) * time.Hour)
}

func tx(id string, at time.Time, amount int64, desc string) scoring.Transaction {
	return scoring.Transaction{ID: id, AccountID: "fca_a", Amount: amount, Currency: "usd", Status: scoring.StatusPosted, TransactedAt: at, Description: desc}
}

// handLedger is a one-account ledger whose every feature is computed by hand in
// TestComputeFeaturesHandLedger (EOD walk written out in the comments there).
func handLedger() scoring.Ledger {
	avail := int64(995000)
	txs := []scoring.Transaction{
		tx("t1", day("2026-01-05", 10), 200000, "ACME PAYROLL 0105"),
		tx("t2", day("2026-01-19", 10), 200000, "ACME PAYROLL 0119"),
		tx("t3", day("2026-02-02", 10), 200000, "ACME PAYROLL 0202"),
		tx("t4", day("2026-02-16", 10), 200000, "ACME PAYROLL 0216"),
		tx("t5", day("2026-03-02", 10), 200000, "ACME PAYROLL 0302"),
		tx("t6", day("2026-03-16", 10), 200000, "ACME PAYROLL 0316"),
		tx("t7", day("2026-03-30", 10), 200000, "ACME PAYROLL 0330"),
		tx("r1", day("2026-01-01", 9), -150000, "RENT AVALON"),
		tx("r2", day("2026-02-01", 9), -150000, "RENT AVALON"),
		tx("r3", day("2026-03-01", 9), -150000, "RENT AVALON"),
		tx("f1", day("2026-03-10", 12), -3500, "OVERDRAFT FEE"),
		tx("f2", day("2026-03-11", 12), -3500, "NSF FEE"),
		tx("f3", day("2026-03-12", 12), 3500, "OVERDRAFT FEE REVERSAL"),
		tx("t1", day("2026-01-05", 10), 200000, "ACME PAYROLL 0105"), // duplicate id
	}
	p := tx("p1", day("2026-03-31", 11), -5000, "PENDING STORE")
	p.Status = scoring.StatusPending
	v := tx("v1", day("2026-02-10", 11), -99999, "HOTEL HOLD")
	v.Status = scoring.StatusVoid
	txs = append(txs, p, v)
	return scoring.Ledger{
		Accounts: []scoring.Account{{ID: "fca_a", Category: "cash", Subcategory: "checking", Status: "active",
			Currency: "usd", Current: 1000000, Available: &avail, AsOf: day("2026-03-31", 18), HasBalance: true}},
		Transactions: txs,
	}
}

func TestComputeFeaturesHandLedger(t *testing.T) {
	t.Parallel()
	loan := scoring.Loan{AmountMinor: 100000, TermMonths: 12}
	f, err := scoring.ComputeFeatures(handLedger(), day("2026-03-31", 20), loan)
	require.NoError(t, err)

	// EOD walk back from 1,000,000 at 2026-03-31 (pending and void ignored):
	// Mar 30–31 1,000,000 | Mar 16–29 800,000 | Mar 12–15 600,000 | Mar 11 596,500 |
	// Mar 10 600,000 | Mar 2–9 603,500 | Mar 1 403,500 | Feb 16–28 553,500 |
	// Feb 2–15 353,500 | Feb 1 153,500 | Jan 19–31 303,500 | Jan 5–18 103,500 |
	// Jan 1–4 −96,500. Σ over Jan 1..Mar 31 (90 days) = 39,334,500.
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"cutoff", f.Cutoff, "2026-03-31"},
		{"currency", f.Currency, "usd"},
		{"posted_txn_count", f.PostedTxnCount, 13},                        // duplicate, pending, void gone
		{"months_of_history", f.MonthsOfHistory, 2.8909},                  // (Mar 30 − Jan 1) = 88 days / 30.44
		{"complete_months_with_txn", f.CompleteMonthsTxn, 3},              // Mar 31 is a month end
		{"days_since_last_txn", *f.DaysSinceLastTxn, 1},                   // Mar 31 − Mar 30
		{"inflow_total_30d", f.InflowTotal30d, int64(600000)},             // Mar 2, 16, 30 paychecks; reversal excluded
		{"outflow_total_30d", f.OutflowTotal30d, int64(7000)},             // two fees; Mar 1 rent is outside (Mar 1, Mar 31]
		{"inflow_total_90d", f.InflowTotal90d, int64(1400000)},            // 7 paychecks
		{"outflow_total_90d", f.OutflowTotal90d, int64(457000)},           // 3 rents + 2 fees
		{"txn_count_inflow_90d", f.TxnCountIn90d, 7},                      //
		{"txn_count_outflow_90d", f.TxnCountOut90d, 5},                    //
		{"nsf_od_fee_count_90d", f.NSFFeeCount90d, 1},                     // 2 fees − 1 reversal
		{"nsf_od_fee_count_30d", f.NSFFeeCount30d, 1},                     //
		{"days_since_last_nsf", *f.DaysSinceLastNSF, 20},                  // Mar 31 − Mar 11
		{"avg_daily_balance_90d", *f.AvgDailyBalance90d, 437050.0},        // 39,334,500 / 90
		{"avg_daily_balance_30d", *f.AvgDailyBalance30d, 720816.67},       // 21,624,500 / 30
		{"min_eod_balance_90d", *f.MinEODBalance90d, int64(-96500)},       // Jan 1–4
		{"days_negative_balance_90d", *f.DaysNegative90d, 4},              // Jan 1–4
		{"current_balance", *f.CurrentBalance, int64(1000000)},            //
		{"current_available_balance", *f.CurrentAvailable, int64(995000)}, //
		{"net_cash_flow_mean_6m", *f.NetCashFlowMean, 314333.33},          // (250,000 + 250,000 + 443,000) / 3
		{"net_cash_flow_median_6m", *f.NetCashFlowMedian, 250000.0},       // empirical median of 3
		{"monthly_income_est", f.MonthlyIncomeEst, int64(433333)},         // 200,000 × 26/12
		{"income_cv", *f.IncomeCV, 0.2474},                                // months 400k, 400k, 600k: sd 115,470 / mean 466,667
		{"large_deposit_count_60d", f.LargeDeposits60d, 0},                // paychecks are explained by the stream
		{"proposed_monthly_payment", f.ProposedPayment, int64(9456)},      // 100,000 · 0.02 / (1 − 1.02^−12) = 9,455.96 ↑
		{"payment_to_income", *f.PaymentToIncome, 0.0218},                 // 9,456 / 433,333
		{"undefined", f.Undefined, []string{}},                            //
		{"monthly_cash_flow", f.MonthlyCashFlow, []scoring.MonthlyCashFlow{ //
			{Month: "2026-01", Inflow: 400000, Outflow: 150000, Net: 250000},
			{Month: "2026-02", Inflow: 400000, Outflow: 150000, Net: 250000},
			{Month: "2026-03", Inflow: 600000, Outflow: 157000, Net: 443000},
		}},
	} {
		require.Equal(t, c.want, c.got, c.name)
	}
	require.Len(t, f.IncomeStreams, 1)
	s := f.IncomeStreams[0]
	require.Equal(t, scoring.IncomeStream{
		Description: "ACME PAYROLL", Frequency: scoring.FrequencyBiweekly, Status: scoring.StreamMature, IsActive: true,
		FirstDate: "2026-01-05", LastDate: "2026-03-30", PredictedNextDate: "2026-04-13", MedianGapDays: 14,
		Occurrences: 7, AverageAmount: 200000, LastAmount: 200000, MonthlyAmount: 433333,
		TransactionIDs: []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"},
	}, s)
}

func TestComputeFeaturesWindows(t *testing.T) {
	t.Parallel()
	// The cutoff month is dropped unless the cutoff is its last day; a cutoff before
	// as_of uses the same reconstructed series (retro-scoring).
	f, err := scoring.ComputeFeatures(handLedger(), day("2026-03-30", 1), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Len(t, f.MonthlyCashFlow, 2)
	require.Equal(t, "2026-02", f.MonthlyCashFlow[1].Month)
	require.Equal(t, 0, *f.DaysSinceLastTxn)
	require.Equal(t, int64(-96500), *f.MinEODBalance90d) // window Dec 31..Mar 30 still holds Jan 1–4
	require.Equal(t, 4, *f.DaysNegative90d)

	// A cutoff in the middle of the history ignores later transactions.
	f, err = scoring.ComputeFeatures(handLedger(), day("2026-01-31", 23), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, 3, f.PostedTxnCount)             // r1, t1, t2
	require.Equal(t, int64(400000), f.InflowTotal90d) // t1 + t2
	require.Equal(t, 0, f.NSFFeeCount90d)
	require.Nil(t, f.DaysSinceLastNSF)
	require.Contains(t, f.Undefined, "days_since_last_nsf")
}

func TestComputeFeaturesEmptyAndThin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		l         scoring.Ledger
		undefined []string
	}{
		{"no accounts", scoring.Ledger{}, []string{"avg_daily_balance_30d", "avg_daily_balance_90d", "current_available_balance",
			"current_balance", "days_negative_balance_90d", "days_since_last_nsf", "days_since_last_txn", "income_cv",
			"min_eod_balance_90d", "net_cash_flow_mean_6m", "net_cash_flow_median_6m", "payment_to_income"}},
		{"balance but no transactions", scoring.Ledger{Accounts: []scoring.Account{{ID: "fca_a", Category: "cash",
			Currency: "usd", Current: 5000, AsOf: day("2026-03-31", 12), HasBalance: true}}},
			[]string{"days_since_last_nsf", "days_since_last_txn", "income_cv",
				"net_cash_flow_mean_6m", "net_cash_flow_median_6m", "payment_to_income"}},
		{"one transaction", scoring.Ledger{Accounts: []scoring.Account{{ID: "fca_a", Category: "cash",
			Currency: "usd", Current: 5000, AsOf: day("2026-03-31", 12), HasBalance: true}},
			Transactions: []scoring.Transaction{tx("x", day("2026-03-20", 9), 5000, "ZELLE FROM MOM")}},
			[]string{"days_since_last_nsf", "income_cv",
				"net_cash_flow_mean_6m", "net_cash_flow_median_6m", "payment_to_income"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := scoring.ComputeFeatures(c.l, day("2026-03-31", 12), scoring.Loan{AmountMinor: 50000, TermMonths: 6})
			require.NoError(t, err)
			require.Equal(t, c.undefined, f.Undefined)
			_, err = json.Marshal(f) // fails on NaN or Inf
			require.NoError(t, err)
			d := scoring.Decide(f, scoring.Loan{AmountMinor: 50000, TermMonths: 6}, scoring.Operational{})
			require.Equal(t, scoring.OutcomeDecline, d.Outcome)
			require.Equal(t, scoring.RuleInsufficientHistory, d.Reasons[0].Code)
			_, err = json.Marshal(d)
			require.NoError(t, err)
		})
	}
}

func TestComputeFeaturesErrors(t *testing.T) {
	t.Parallel()
	_, err := scoring.ComputeFeatures(handLedger(), day("2026-03-31", 12), scoring.Loan{AmountMinor: 0, TermMonths: 12})
	require.ErrorIs(t, err, scoring.ErrInvalidLoan)
	_, err = scoring.ComputeFeatures(handLedger(), day("2026-03-31", 12), scoring.Loan{AmountMinor: 100, TermMonths: 0})
	require.ErrorIs(t, err, scoring.ErrInvalidLoan)

	l := handLedger()
	l.Transactions = append(l.Transactions, scoring.Transaction{ID: "eur1", AccountID: "fca_a", Amount: 100,
		Currency: "EUR", Status: scoring.StatusPosted, TransactedAt: day("2026-03-03", 9)})
	_, err = scoring.ComputeFeatures(l, day("2026-03-31", 12), scoring.Loan{AmountMinor: 100, TermMonths: 12})
	require.ErrorIs(t, err, scoring.ErrMixedCurrency)
	require.ErrorContains(t, err, `transaction eur1 is "eur" but account fca_a is "usd"`)
	_, err = scoring.Underwrite(l, day("2026-03-31", 12), scoring.Loan{AmountMinor: 100, TermMonths: 12}, scoring.Operational{})
	require.ErrorIs(t, err, scoring.ErrMixedCurrency)
	_, err = scoring.DailyBalances(l, day("2026-03-01", 0), day("2026-03-31", 0))
	require.ErrorIs(t, err, scoring.ErrMixedCurrency)
}

func TestOwnTransfersExcluded(t *testing.T) {
	t.Parallel()
	l := handLedger()
	l.Accounts = append(l.Accounts, scoring.Account{ID: "fca_s", Category: "cash", Subcategory: "savings",
		Status: "active", Currency: "usd", Current: 300000, AsOf: day("2026-03-31", 18), HasBalance: true})
	out := tx("x1", day("2026-03-17", 9), -50000, "ONLINE TRANSFER TO SAVINGS XXXX1234")
	in := tx("x2", day("2026-03-18", 9), 50000, "ONLINE TRANSFER FROM CHECKING XXXX9876")
	in.AccountID = "fca_s"
	notOwn := tx("x3", day("2026-03-18", 9), 50000, "ZELLE FROM J SMITH") // same amount, same account as x1: not a pair
	l.Transactions = append(l.Transactions, out, in, notOwn)
	f, err := scoring.ComputeFeatures(l, day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, 2, f.OwnTransfers90d)
	require.Equal(t, int64(600000+50000), f.InflowTotal30d) // the Zelle counts, the transfer does not
	require.Equal(t, int64(7000), f.OutflowTotal30d)
	require.Equal(t, 2, f.CashAccounts)
	require.Equal(t, int64(1000000+300000), *f.CurrentBalance)
	require.Equal(t, int64(995000+300000), *f.CurrentAvailable) // savings reports no available: its current counts
}

func TestProposedPayment(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		loan scoring.Loan
		want int64
	}{
		{scoring.Loan{AmountMinor: 100000, TermMonths: 12}, 9456},   // 9,455.96 rounded up
		{scoring.Loan{AmountMinor: 1500000, TermMonths: 24}, 79307}, // 793.06 rounded up: 15,000 over 24 months at 24 %
		{scoring.Loan{AmountMinor: 120000, TermMonths: 1}, 122400},  // one payment: principal + 2 % interest
		{scoring.Loan{AmountMinor: 0, TermMonths: 12}, 0},           // invalid
		{scoring.Loan{AmountMinor: 1000, TermMonths: -1}, 0},        // invalid
	} {
		require.Equal(t, c.want, scoring.ProposedPayment(c.loan), "%+v", c.loan)
	}
	require.Equal(t, int64(1), scoring.ProposedPayment(scoring.Loan{AmountMinor: 1, TermMonths: 600})) // never below one minor unit
}
