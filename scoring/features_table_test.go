package scoring_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// small builds a one- or two-account ledger with a balance at the cutoff 2026-06-30.
func small(current int64, txs ...scoring.Transaction) scoring.Ledger {
	return scoring.Ledger{
		Accounts: []scoring.Account{
			{ID: "fca_a", Category: "cash", Status: "active", Currency: "usd", Current: current, AsOf: day("2026-06-30", 20), HasBalance: true},
			{ID: "fca_s", Category: "cash", Status: "active", Currency: "usd", Current: 0, AsOf: day("2026-06-30", 20), HasBalance: true},
		},
		Transactions: txs,
	}
}

func on(acct string, t scoring.Transaction) scoring.Transaction { t.AccountID = acct; return t }

// TestFeatureTable checks single features on hand-built ledgers (cutoff 2026-06-30)
// with hand-computed answers.
func TestFeatureTable(t *testing.T) {
	t.Parallel()
	monthly := func(prefix, desc string, amount int64, dom int, months ...int) []scoring.Transaction {
		var out []scoring.Transaction
		for _, m := range months {
			out = append(out, tx(fmt.Sprintf("%s%d", prefix, m), time.Date(2026, time.Month(m), dom, 9, 0, 0, 0, time.UTC), amount, desc))
		}
		return out
	}
	cases := []struct {
		name  string
		l     scoring.Ledger
		check func(t *testing.T, f scoring.Features)
	}{
		{"NSF fees net of reversals per window", small(0,
			tx("f1", day("2026-03-10", 9), -3500, "NSF FEE"),                // 112 days: total only
			tx("f2", day("2026-04-15", 9), -3500, "OVERDRAFT ITEM FEE"),     // 76 days: 90d
			tx("f3", day("2026-05-20", 9), -3400, "INSUFFICIENT FUNDS FEE"), // 41 days: 60d, 90d
			tx("f4", day("2026-06-20", 9), -3500, "OD FEE"),                 // 10 days: all windows
			tx("r1", day("2026-06-21", 9), 3500, "OD FEE REFUND"),           // reversal in all windows
			tx("x", day("2026-06-22", 9), -3500, "ATM FEE")),                // not an NSF fee
			func(t *testing.T, f scoring.Features) {
				require.Equal(t, []int{0, 1, 2, 3}, []int{f.NSFFeeCount30d, f.NSFFeeCount60d, f.NSFFeeCount90d, f.NSFFeeCountTotal})
				require.Equal(t, 10, *f.DaysSinceLastNSF)
				require.Equal(t, int64(3500+3400+3500+3500), f.OutflowTotal90d) // fees are outflows; the reversal is not an inflow
				require.Equal(t, int64(0), f.InflowTotal90d)
			}},
		{"returned items, risk outflows, cash deposits", small(0,
			tx("a", day("2026-06-01", 9), 18000, "RETURNED ITEM ACH SPEEDY CASH"),
			tx("b", day("2026-06-02", 9), -5000, "DRAFTKINGS"),
			tx("c", day("2026-06-03", 9), -7000, "FANDUEL INC"),
			tx("d", day("2026-06-04", 9), -20000, "ADVANCE AMERICA PMT"),
			tx("e", day("2026-06-05", 9), -30000, "ONDECK CAPITAL"),
			tx("g", day("2026-06-06", 9), -4000, "MIDLAND CREDIT MGMT"),
			tx("h", day("2026-06-07", 9), 60000, "ATM CASH DEPOSIT"),
			tx("i", day("2026-06-08", 9), 22000, "ACME PAYROLL"),
			tx("j", day("2026-03-01", 9), -9999, "DRAFTKINGS")), // outside 90d
			func(t *testing.T, f scoring.Features) {
				require.Equal(t, 1, f.ReturnedItems90d)
				require.Equal(t, int64(12000), f.RiskGambling90d)
				require.Equal(t, int64(20000), f.RiskPayday90d)
				require.Equal(t, int64(30000), f.RiskMCA90d)
				require.Equal(t, int64(4000), f.RiskCollections90d)
				require.Equal(t, int64(100000), f.InflowTotal90d)      // returned item 18,000 + cash 60,000 + pay 22,000
				require.Equal(t, 0.6, *f.CashDepositShare90d)          // 60,000 / 100,000
				require.Equal(t, 0.22, *f.PayrollShare90d)             // 22,000 / 100,000
				require.Equal(t, int64(16667), *f.DebtPaymentsMonthly) // (Apr 0 + May 0 + Jun 50,000 payday and MCA) / 3
			}},
		{"own transfers: tolerance, same account, wording", small(0,
			tx("o1", day("2026-06-01", 9), -50000, "ONLINE TRANSFER TO SAVINGS"),
			on("fca_s", tx("i1", day("2026-06-04", 9), 50000, "DEPOSIT")), // 3 days later: matched
			tx("o2", day("2026-06-10", 9), -40000, "ONLINE TRANSFER TO SAVINGS"),
			on("fca_s", tx("i2", day("2026-06-14", 9), 40000, "DEPOSIT")), // 4 days later: not matched
			tx("o3", day("2026-06-20", 9), -30000, "ONLINE TRANSFER"),
			tx("i3", day("2026-06-20", 9), 30000, "ONLINE TRANSFER"), // same account: not own
			tx("o4", day("2026-06-25", 9), -20000, "BILL PAY"),
			on("fca_s", tx("i4", day("2026-06-25", 9), 20000, "CHECK DEPOSIT"))), // no transfer word: not own
			func(t *testing.T, f scoring.Features) {
				require.Equal(t, 2, f.OwnTransfers90d)
				require.Equal(t, int64(40000+30000+20000), f.InflowTotal30d)
				require.Equal(t, int64(40000+30000+20000), f.OutflowTotal30d)
			}},
		{"monthly flows, CV sign change, slope, E4/E5", small(0, append(append(
			monthly("p", "ACME PAYROLL", 300000, 5, 1, 2, 3, 4, 5, 6),
			monthly("r", "RENT PYMT", -200000, 1, 1, 2, 3, 4, 5, 6)...),
			tx("big", day("2026-02-10", 9), -400000, "HOME DEPOT"))...),
			func(t *testing.T, f scoring.Features) {
				// Nets: Jan 100k, Feb −300k, Mar–Jun 100k: the net series changes sign.
				require.Len(t, f.MonthlyCashFlow, 6)
				require.Nil(t, f.NetFlowCV6m)
				require.Contains(t, f.Undefined, "net_flow_cv_6m")
				require.InDelta(t, 163299.32, *f.NetFlowStd6m, 0.01) // sd of {1e5,−3e5,1e5,1e5,1e5,1e5}
				require.Equal(t, 0.0, *f.InflowCV6m)                 // constant pay
				require.Equal(t, 1.0, *f.IncomeConsistency)
				require.Equal(t, 6, f.ConsecutiveIncomeMonths)
				require.Equal(t, int64(200000), f.RecurringObligationsMonthly) // MATURE monthly rent
				require.Equal(t, 33333.33, *f.NetCashFlowMean)
				require.Equal(t, 100000.0, *f.NetCashFlowMed3m)
				// OLS slope of nets on 0..5: Σ(x−2.5)(y−ȳ) = 400,000·(−1.5) + … = 600,000 / 17.5 = 34,285.7; / 300,000
				require.Equal(t, 0.1143, *f.NetFlowTrendSlope6m)
				require.Equal(t, 100000.0, *f.FreeCashFlowAvg3m) // income 300k − rent 200k
			}},
		{"balance trend undefined on a non-positive denominator", small(-10000,
			tx("a", day("2026-05-15", 9), -20000, "KROGER")),
			func(t *testing.T, f scoring.Features) {
				// EOD is −10,000 from May 15 and +10,000 before: 30d denominator (May 31) < 0.
				require.Nil(t, f.BalanceTrend30d)
				require.Equal(t, -1.0, *f.BalanceTrend60d) // −10,000 / EOD(May 1) 10,000
				require.Equal(t, 47, *f.DaysNegative90d)   // May 15..31 (17) + June (30)
				require.Equal(t, 30, *f.DaysNegative30d)
				require.Nil(t, f.BalanceVolatility90d) // ADB < 0
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := scoring.ComputeFeatures(c.l, day("2026-06-30", 22), scoring.Loan{AmountMinor: 100000, TermMonths: 12})
			require.NoError(t, err)
			checkUndefinedConsistent(t, f)
			c.check(t, f)
		})
	}
}
