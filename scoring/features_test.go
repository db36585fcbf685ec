package scoring_test

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/loan"
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

// TestComputeFeaturesHandLedger checks every feature of the hand ledger in both feature
// sets: the features the sets share have the same values here (the ledger holds
// nothing fs-v3 reads differently: one payroll stream, rent, fees), and
// TestComputeFeaturesHandLedgerV3 checks what fs-v3 adds.
func TestComputeFeaturesHandLedger(t *testing.T) {
	t.Parallel()
	for _, set := range []struct {
		version   string
		undefined []string
	}{
		{scoring.FeatureSetV2, []string{"account_age_days"}},
		{scoring.FeatureSetV3, []string{"account_age_days", "savings_balance_change_90d"}}, // no savings account
	} {
		t.Run(set.version, func(t *testing.T) {
			t.Parallel()
			opts, err := scoring.FeatureOptionsFor(set.version)
			require.NoError(t, err)
			checkHandLedger(t, opts, set.version, set.undefined)
		})
	}
}

// checkHandLedger checks the features shared by every feature set on the hand ledger.
func checkHandLedger(t *testing.T, opts scoring.FeatureOptions, version string, undefined []string) {
	t.Helper()
	loan := scoring.Loan{AmountMinor: 100000, TermMonths: 12}
	f, err := scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), loan, opts)
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
		{"undefined", f.Undefined, undefined},                             // I4 is always null with FC v76
		{"feature_set_version", f.FeatureSetVersion, version},
		{"pending_txn_count", f.PendingTxnCount, 1},                                     // p1 (current view only)
		{"pending_net_amount", f.PendingNetAmount, int64(-5000)},                        //
		{"days_since_last_inflow", *f.DaysSinceLastInflow, 1},                           // t7 Mar 30
		{"days_since_last_outflow", *f.DaysSinceLastOutflow, 20},                        // f2 Mar 11
		{"longest_gap_days", *f.LongestGapDays, 14},                                     // Jan 5 → Jan 19 (and others)
		{"days_without_txn", *f.DaysWithoutTxn, 77},                                     // 90 days Jan 1..Mar 31 − 13 txn days
		{"days_without_txn_90d", f.DaysWithoutTxn90d, 77},                               //
		{"txn_count_inflow_30d", f.TxnCountIn30d, 3},                                    // t5, t6, t7
		{"txn_count_inflow_60d", f.TxnCountIn60d, 5},                                    // window Jan 31..Mar 31: t3..t7
		{"txn_count_outflow_30d", f.TxnCountOut30d, 2},                                  // f1, f2
		{"txn_count_outflow_60d", f.TxnCountOut60d, 4},                                  // r2, r3, f1, f2
		{"inflow_total_60d", f.InflowTotal60d, int64(1000000)},                          //
		{"outflow_total_60d", f.OutflowTotal60d, int64(307000)},                         //
		{"nsf_od_fee_count_60d", f.NSFFeeCount60d, 1},                                   //
		{"nsf_od_fee_count_total", f.NSFFeeCountTotal, 1},                               //
		{"net_cash_flow_mean_3m", *f.NetCashFlowMean3m, 314333.33},                      // only 3 complete months
		{"net_cash_flow_mean_12m", *f.NetCashFlowMean12, 314333.33},                     //
		{"net_cash_flow_median_3m", *f.NetCashFlowMed3m, 250000.0},                      //
		{"free_cash_flow_avg_3m", *f.FreeCashFlowAvg3m, 316666.67},                      // income − rent: 250k, 250k, 450k
		{"free_cash_flow_avg_6m", *f.FreeCashFlowAvg6m, 316666.67},                      //
		{"avg_daily_balance_180d", *f.AvgDailyBalance180d, 245275.0},                    // 90 days at 53,500 before Jan 1 + 39,334,500
		{"min_eod_balance_30d", *f.MinEODBalance30d, int64(596500)},                     // Mar 11
		{"days_negative_balance_30d", *f.DaysNegative30d, 0},                            //
		{"eod_p10_30d", *f.EODP10_30d, int64(600000)},                                   // sorted EOD, element ⌈0.1·30⌉ = 3rd
		{"eod_p50_30d", *f.EODP50_30d, int64(800000)},                                   //
		{"eod_p90_30d", *f.EODP90_30d, int64(800000)},                                   //
		{"eod_p10_60d", *f.EODP10_60d, int64(353500)},                                   //
		{"eod_p50_60d", *f.EODP50_60d, int64(553500)},                                   //
		{"eod_p90_60d", *f.EODP90_60d, int64(800000)},                                   //
		{"eod_p10_90d", *f.EODP10_90d, int64(103500)},                                   //
		{"eod_p50_90d", *f.EODP50_90d, int64(353500)},                                   //
		{"eod_p90_90d", *f.EODP90_90d, int64(800000)},                                   //
		{"eod_p10_31_60d", *f.EODP10_31to60d, int64(353500)},                            // Jan 31..Mar 1
		{"eod_p50_31_60d", *f.EODP50_31to60d, int64(353500)},                            //
		{"eod_p90_31_60d", *f.EODP90_31to60d, int64(553500)},                            //
		{"eod_p10_61_90d", *f.EODP10_61to90d, int64(-96500)},                            // Jan 1..Jan 30
		{"eod_p50_61_90d", *f.EODP50_61to90d, int64(103500)},                            //
		{"eod_p90_61_90d", *f.EODP90_61to90d, int64(303500)},                            //
		{"balance_trend_ratio_30d", *f.BalanceTrend30d, 2.4783},                         // 1,000,000 / EOD(Mar 1) 403,500
		{"balance_trend_ratio_60d", *f.BalanceTrend60d, 3.2949},                         // / EOD(Jan 30) 303,500
		{"balance_trend_ratio_90d", *f.BalanceTrend90d, 18.6916},                        // / EOD(Dec 31) 53,500
		{"balance_volatility_90d", *f.BalanceVolatility90d, 0.6011},                     // sd 262,712 / ADB 437,050
		{"balance_iqr_90d", *f.BalanceIQR90d, int64(300000)},                            // p75 603,500 − p25 303,500
		{"income_consistency", *f.IncomeConsistency, 1.0},                               // all months ≥ 0.8 × 400k
		{"consecutive_income_months", f.ConsecutiveIncomeMonths, 3},                     //
		{"payroll_share_of_inflow_90d", *f.PayrollShare90d, 1.0},                        // every counted inflow is "ACME PAYROLL"
		{"days_since_last_income", *f.DaysSinceLastIncome, 1},                           //
		{"next_income_date", *f.NextIncomeDate, "2026-04-13"},                           //
		{"debt_payments_monthly", *f.DebtPaymentsMonthly, int64(0)},                     //
		{"recurring_obligations_monthly", f.RecurringObligationsMonthly, int64(150000)}, // MATURE monthly rent stream
		{"inflow_std_6m", *f.InflowStd6m, 115470.05},                                    // 400k, 400k, 600k
		{"inflow_cv_6m", *f.InflowCV6m, 0.2474},                                         //
		{"outflow_std_6m", *f.OutflowStd6m, 4041.45},                                    // 150k, 150k, 157k
		{"outflow_cv_6m", *f.OutflowCV6m, 0.0265},                                       //
		{"net_flow_std_6m", *f.NetFlowStd6m, 111428.6},                                  // 250k, 250k, 443k
		{"net_flow_cv_6m", *f.NetFlowCV6m, 0.3545},                                      //
		{"net_flow_trend_slope_6m", *f.NetFlowTrendSlope6m, 0.2068},                     // OLS slope 96,500 / mean inflow 466,667
		{"cash_flow_trend_30d", *f.CashFlowTrend30d, 0.2105},                            // first 15 days hold Mar 2 pay, the fees and Mar 16 pay
		{"cash_flow_trend_60d", *f.CashFlowTrend60d, -0.2593},                           //
		{"cash_flow_trend_90d", *f.CashFlowTrend90d, -0.1238},                           //
		{"dscr_requested", *f.DSCRRequested, 29.9633},                                   // (433,333 − 150,000 − 0) / 9,456
		{"residual_income_after_payment", *f.ResidualIncome, int64(273877)},             // 283,333 − 9,456
		{"large_deposit_count_90d", f.LargeDeposits90d, 0},                              //
		{"cash_deposit_share_90d", *f.CashDepositShare90d, 0.0},                         //
		{"risk_outflow_payday_90d", f.RiskPayday90d, int64(0)},                          //
		{"inflow_by_category_90d", f.InflowByCategory90d, map[scoring.Category]int64{scoring.CategoryPayroll: 1400000}},
		{"outflow_by_category_90d", f.OutflowByCategory90d, map[scoring.Category]int64{scoring.CategoryRent: 450000,
			scoring.CategoryOverdraftFee: 3500, scoring.CategoryNSFFee: 3500}},
		{"monthly_cash_flow", f.MonthlyCashFlow, []scoring.MonthlyCashFlow{ //
			{Month: "2026-01", Inflow: 400000, Outflow: 150000, Net: 250000, Income: 400000, Obligations: 150000, TxnCount: 3, LongestGapDays: 14},
			{Month: "2026-02", Inflow: 400000, Outflow: 150000, Net: 250000, Income: 400000, Obligations: 150000, TxnCount: 3, LongestGapDays: 14},
			{Month: "2026-03", Inflow: 600000, Outflow: 157000, Net: 443000, Income: 600000, Obligations: 150000, TxnCount: 7, LongestGapDays: 14},
		}},
	} {
		require.Equal(t, c.want, c.got, c.name)
	}
	require.Nil(t, f.AccountAgeDays)
	checkUndefinedConsistent(t, f)
	require.Equal(t, []scoring.Stream{{
		Description: "RENT AVALON", Direction: "outflow", Category: scoring.CategoryRent, Frequency: scoring.FrequencyMonthly,
		Status: scoring.StreamMature, IsActive: true, FirstDate: "2026-01-01", LastDate: "2026-03-01",
		PredictedNextDate: "2026-04-01", MedianGapDays: 28, Occurrences: 3, AverageAmount: 150000, LastAmount: 150000,
		MonthlyAmount: 150000, TransactionIDs: []string{"r1", "r2", "r3"},
	}}, f.OutflowStreams)
	require.Len(t, f.IncomeStreams, 1)
	s := f.IncomeStreams[0]
	require.Equal(t, scoring.IncomeStream{
		Description: "ACME PAYROLL", Direction: "inflow", Category: scoring.CategoryPayroll, Frequency: scoring.FrequencyBiweekly, Status: scoring.StreamMature, IsActive: true,
		FirstDate: "2026-01-05", LastDate: "2026-03-30", PredictedNextDate: "2026-04-13", MedianGapDays: 14,
		Occurrences: 7, AverageAmount: 200000, LastAmount: 200000, MonthlyAmount: 433333,
		TransactionIDs: []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"},
	}, s)
}

// TestComputeFeaturesHandLedgerV3 checks the features fs-v3 adds on the hand ledger
// (EOD walk and months in TestComputeFeaturesHandLedger).
func TestComputeFeaturesHandLedgerV3(t *testing.T) {
	t.Parallel()
	f, err := scoring.ComputeFeatures(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
	require.NoError(t, err)
	require.Equal(t, scoring.FeatureSetV3, f.FeatureSetVersion)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"monthly_income_est", f.MonthlyIncomeEst, int64(433333)},               // the one regular payer, 200,000 × 26/12
		{"income_regular_monthly", f.IncomeRegularMonthly, int64(433333)},       //
		{"income_irregular_monthly", f.IncomeIrregularMonthly, int64(0)},        // no other income
		{"income_regular_share", *f.IncomeRegularShare, 1.0},                    //
		{"income_confidence", f.IncomeConfidence, scoring.IncomeConfidenceHigh}, // all regular, 3 months
		{"income_months_used", f.IncomeMonthsUsed, []string{"2026-01", "2026-02", "2026-03"}},
		{"days_since_last_income", *f.DaysSinceLastIncome, 1},            // Mar 30 pay
		{"savings_transfer_net_monthly_6m", *f.SavingsNetMonthly, 0.0},   // nothing saved
		{"cash_buffer_days", *f.CashBufferDays, 141.96},                  // ADB30 720,816.67 / (457,000 / 90)
		{"negative_balance_day_share_180d", *f.NegativeDayShare, 0.0222}, // Jan 1–4: 4 / 180
		{"nsf_od_fee_months_6m", *f.NSFFeeMonths6m, 1},                   // March: 2 fees − 1 reversal
		{"debt_to_income", *f.DebtToIncome, 0.0},                         // no debt service
		{"obligations_to_income", *f.ObligationsToIncome, 0.3462},        // rent 150,000 / 433,333
		{"spend_to_income_6m", *f.SpendToIncome6m, 0.3515},               // mean(150k, 150k, 157k) / 433,333
		{"savings_rate_6m", *f.SavingsRate6m, 0.0},                       //
		{"income_sources", f.IncomeSources, []scoring.IncomeSource{{Kind: scoring.IncomeSourceStream,
			Category: scoring.CategoryPayroll, Description: "ACME PAYROLL", Frequency: scoring.FrequencyBiweekly,
			Deposits: 7, MonthlyAmount: 433333}}},
	} {
		require.Equal(t, c.want, c.got, c.name)
	}
	require.Nil(t, f.SavingsBalanceDelta, "no linked savings account")
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

// checkUndefinedConsistent checks that Undefined lists exactly the features that
// marshal as null, sorted.
func checkUndefinedConsistent(t *testing.T, f scoring.Features) {
	t.Helper()
	b, err := json.Marshal(f) // fails on NaN or Inf
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	var nulls []string
	for k, v := range m {
		if string(v) == "null" {
			nulls = append(nulls, k)
		}
	}
	sort.Strings(nulls)
	require.Equal(t, nulls, f.Undefined)
}

func TestComputeFeaturesEmptyAndThin(t *testing.T) {
	t.Parallel()
	balance := scoring.Account{ID: "fca_a", Category: "cash", Currency: "usd", Current: 5000, AsOf: day("2026-03-31", 12), HasBalance: true}
	cases := []struct {
		name               string
		l                  scoring.Ledger
		undefined, defined []string
	}{
		{"no accounts", scoring.Ledger{},
			[]string{"avg_daily_balance_30d", "current_balance", "days_negative_balance_90d", "days_since_last_txn",
				"eod_balance_p50_61_90d", "income_cv", "net_cash_flow_mean_6m", "payment_to_income", "dscr_requested",
				"cash_flow_trend_30d", "longest_gap_days", "account_age_days", "payroll_share_of_inflow_90d"},
			nil},
		{"balance but no transactions", scoring.Ledger{Accounts: []scoring.Account{balance}},
			[]string{"days_since_last_nsf", "days_since_last_txn", "income_cv", "net_cash_flow_mean_6m", "payment_to_income",
				"cash_flow_trend_90d", "account_age_days"},
			[]string{"avg_daily_balance_180d", "eod_balance_p10_30d", "balance_trend_ratio_90d", "balance_iqr_90d", "balance_volatility_90d"}}, // constant 5,000: volatility 0
		{"one transaction", scoring.Ledger{Accounts: []scoring.Account{balance},
			Transactions: []scoring.Transaction{tx("x", day("2026-03-20", 9), 5000, "ZELLE FROM MOM")}},
			// EOD before Mar 20 is 0: every trend ratio's denominator is 0.
			[]string{"days_since_last_nsf", "income_cv", "net_cash_flow_mean_6m", "payment_to_income", "longest_gap_days",
				"balance_trend_ratio_30d", "balance_trend_ratio_90d", "days_since_last_outflow", "debt_payments_monthly"},
			[]string{"days_since_last_txn", "days_since_last_inflow", "cash_flow_trend_30d", "payroll_share_of_inflow_90d",
				"days_without_txn"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := scoring.ComputeFeatures(c.l, day("2026-03-31", 12), scoring.Loan{AmountMinor: 50000, TermMonths: 6})
			require.NoError(t, err)
			checkUndefinedConsistent(t, f)
			for _, name := range c.undefined {
				require.Contains(t, f.Undefined, name)
			}
			for _, name := range c.defined {
				require.NotContains(t, f.Undefined, name)
			}
			d := scoring.Decide(f, scoring.Loan{AmountMinor: 50000, TermMonths: 6}, scoring.Operational{})
			dv1 := v1.Decide(f, scoring.Loan{AmountMinor: 50000, TermMonths: 6}, scoring.Operational{})
			require.Equal(t, scoring.OutcomeDecline, dv1.Outcome)
			require.Equal(t, scoring.RuleInsufficientHistory, dv1.Reasons[0].Code)
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
	_, err = scoring.ComputeFeatures(handLedger(), day("2026-03-31", 12), scoring.Loan{AmountMinor: 100, TermMonths: 400})
	require.ErrorIs(t, err, scoring.ErrInvalidLoan, "a term the API refuses is not scored")
	require.ErrorIs(t, err, loan.ErrInvalid)
	require.ErrorContains(t, err, loan.FieldTerm)

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
	require.Equal(t, int64(1), scoring.ProposedPayment(scoring.Loan{AmountMinor: 1, TermMonths: 360})) // never below one minor unit
	require.Zero(t, scoring.ProposedPayment(scoring.Loan{AmountMinor: 1000, TermMonths: 400}), "beyond loan.MaxTermMonths")
}
