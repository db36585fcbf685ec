package scoring_test

import (
	"fmt"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// ExampleUnderwrite scores a small hand-built ledger: five months of biweekly pay, rent
// and groceries, and one recent overdraft fee. The balance reconstructed backwards from
// 2,500.00 shows 13 overdrawn days in 90, so the NEGATIVE_DAYS_EXCESS knock-out declines;
// the knock-out reason comes first, then the characteristics of scorecard v2 that lost
// the most points (a low typical balance, nothing saved, 82 % of income spent).
func ExampleUnderwrite() {
	asOf := time.Date(2026, 6, 30, 18, 0, 0, 0, time.UTC)
	l := scoring.Ledger{Accounts: []scoring.Account{{
		ID: "fca_demo", Category: "cash", Subcategory: "checking", Status: "active",
		Currency: "usd", Current: 250000, AsOf: asOf, HasBalance: true,
	}}}
	add := func(id string, at time.Time, amount int64, desc string) {
		l.Transactions = append(l.Transactions, scoring.Transaction{ID: id, AccountID: "fca_demo",
			Amount: scoring.SignedAmount(amount), Currency: "usd", Status: scoring.StatusPosted, TransactedAt: at, Description: desc})
	}
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 13; i++ {
		add(fmt.Sprintf("pay%d", i), start.AddDate(0, 0, 14*i), 180000, "ACME CORP PAYROLL")
	}
	for m := time.January; m <= time.June; m++ {
		add(fmt.Sprintf("rent%d", m), time.Date(2026, m, 1, 9, 0, 0, 0, time.UTC), -140000, "AVALON APTS RENT")
		for w := 0; w < 4; w++ {
			add(fmt.Sprintf("groc%d-%d", m, w), time.Date(2026, m, 3+7*w, 12, 0, 0, 0, time.UTC), -45000, "KROGER #0412")
		}
	}
	add("fee1", time.Date(2026, 6, 12, 15, 0, 0, 0, time.UTC), -3500, "OVERDRAFT FEE")

	d, err := scoring.Underwrite(l, asOf, scoring.Loan{AmountMinor: 200000, TermMonths: 12}, scoring.Operational{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Outcome, d.Score, d.PD)
	fmt.Println("income/month:", d.Features.MonthlyIncomeEst, "payment:", d.Features.ProposedPayment, "pti:", *d.Features.PaymentToIncome)
	for _, r := range d.Reasons {
		fmt.Printf("%s (%s = %s): %s\n", r.Code, r.Feature, r.Value, r.Text)
	}
	// Output:
	// decline 565 0.115489
	// income/month: 390000 payment: 18912 pti: 0.0485
	// NEGATIVE_DAYS_EXCESS (days_negative_balance_90d = 13): Account frequently overdrawn
	// SC_TYPICAL_BALANCE_60D (eod_balance_p50_60d = 163500): Bank account balance too low
	// SC_SAVINGS_TRANSFERS (savings_transfer_net_monthly_6m = 0): Little or no money put aside in savings
	// SC_SPEND_TO_INCOME (spend_to_income_6m = 0.822): Spending high in relation to income
}

// ExampleProposedPayment amortises 3,000.00 over 12 months at PolicyAPR (24 %).
func ExampleProposedPayment() {
	fmt.Println(scoring.ProposedPayment(scoring.Loan{AmountMinor: 300000, TermMonths: 12}))
	// Output: 28368
}
