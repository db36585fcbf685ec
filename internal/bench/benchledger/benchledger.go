// Package benchledger makes the synthetic ledgers issue 12's measurements run on: one
// checking account at about TxnsPerMonth transactions a month, as a snapshot stores it.
// `underwriter bench` (package bench) and scoring's BenchmarkScoreVsDecode both measure
// these ledgers, so their figures are of the same bytes; it imports only the ledger
// package, so scoring's test binary stays small.
package benchledger

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// TxnsPerMonth is about how many transactions a month the bench ledgers hold (issue 12:
// about 125).
const TxnsPerMonth = 125

// Ledger returns a ledger file of months months as a snapshot stores it (compact JSON
// of Stripe's objects, ledger.File as encoding/json writes it), with about TxnsPerMonth
// posted transactions a month on one checking account: biweekly pay, rent, a bill, four
// card purchases a day and an occasional overdraft fee; and its balance's as_of, the
// cutoff it is scored at. variant picks one of many such ledgers (other amounts and
// shops); BenchmarkScoreVsDecode and the bench's scoring section measure variant 0.
func Ledger(months, variant int) ([]byte, time.Time, error) {
	r := rand.New(rand.NewPCG(3+uint64(variant)*1000003, uint64(months)))
	asOf := time.Date(2026, 10, 15, 18, 0, 0, 0, time.UTC)
	start := asOf.AddDate(0, -months, 0)
	shops := []string{"KROGER #0412", "STARBUCKS STORE 09211", "SHELL OIL 57444", "AMAZON MKTPLACE PMTS", "TARGET T-1234",
		"CHIPOTLE 1120", "WALGREENS #8812", "HOME DEPOT #0611"}
	var txs []ledger.Transaction
	add := func(at time.Time, amount int64, desc string) {
		id := fmt.Sprintf("fctxn_%024d", len(txs))
		posted := at.Unix() + 3600
		txs = append(txs, ledger.Transaction{ID: id, Object: ledger.ObjectTransaction, Account: "fca_b",
			Amount: amount, Currency: "usd", Description: desc, Status: ledger.StatusPosted,
			StatusTransitions: ledger.StatusTransitions{PostedAt: &posted},
			TransactedAt:      at.Unix(), TransactionRefresh: "fctxnref_" + id[6:], Updated: posted})
	}
	for d, i := start, 0; d.Before(asOf); d, i = d.AddDate(0, 0, 1), i+1 {
		if i%14 == 0 {
			add(d.Add(9*time.Hour), 210000+r.Int64N(3000), "ACME CORP PAYROLL PPD ID: 4470021938")
		}
		if d.Day() == 1 {
			add(d.Add(8*time.Hour), -145000, "AVALON APTS RENT WEB PMT")
		}
		if d.Day() == 12 {
			add(d.Add(8*time.Hour), -8999, "COMCAST CABLE COMM")
		}
		if r.IntN(60) == 0 {
			add(d.Add(20*time.Hour), -3500, "OVERDRAFT FEE")
		}
		for k := range 4 {
			add(d.Add(time.Duration(10+3*k)*time.Hour), -(500 + r.Int64N(6000)), shops[r.IntN(len(shops))])
		}
	}
	f := ledger.File{Accounts: []ledger.Entry{{
		Account: ledger.Account{ID: "fca_b", Object: ledger.ObjectAccount, Category: ledger.CategoryCash,
			Subcategory: "checking", Status: ledger.AccountActive, DisplayName: "Everyday Checking", Last4: "6789",
			Balance: &ledger.Balance{AsOf: asOf.Unix(), Current: map[string]int64{"usd": 650000},
				Cash: &ledger.Cash{Available: map[string]int64{"usd": 640000}}, Type: "cash"}},
		Transactions: txs}}}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("encode bench ledger: %w", err)
	}
	return data, asOf, nil
}
