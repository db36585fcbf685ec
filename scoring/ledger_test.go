package scoring_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// goodFile is a ledger file with Stripe-shaped objects, including fields scoring
// ignores (object, livemode, status_transitions, …).
const goodFile = `{"accounts":[{"account":{"id":"fca_1","object":"financial_connections.account",
 "category":"cash","subcategory":"checking","status":"active","institution_name":"StripeBank","livemode":false,
 "balance":{"as_of":1793534400,"type":"cash","current":{"USD":123456},"cash":{"available":{"usd":120000}}}},
 "transactions":[
  {"id":"fctxn_1","object":"financial_connections.transaction","account":"fca_1","amount":-4599,"currency":"usd",
   "description":"KROGER #0412","status":"posted","status_transitions":{"posted_at":1793500000,"void_at":null},
   "transacted_at":1793490000,"transaction_refresh":"fctxnref_1","updated":1793500000},
  {"id":"fctxn_2","account":"fca_1","amount":250000,"currency":"usd","description":"ACME PAYROLL",
   "status":"pending","transacted_at":1793520000}]},
 {"account":{"id":"fca_2","category":"cash","subcategory":"savings","status":"inactive"},"transactions":[]}]}`

func TestParseLedgerFile(t *testing.T) {
	t.Parallel()
	l, err := scoring.ParseLedgerFile([]byte(goodFile))
	require.NoError(t, err)
	avail := int64(120000)
	require.Equal(t, scoring.Ledger{
		Accounts: []scoring.Account{
			{ID: "fca_1", Category: "cash", Subcategory: "checking", Status: "active", Currency: "usd",
				Current: 123456, Available: &avail, AsOf: time.Unix(1793534400, 0).UTC(), HasBalance: true},
			{ID: "fca_2", Category: "cash", Subcategory: "savings", Status: "inactive"},
		},
		Transactions: []scoring.Transaction{
			{ID: "fctxn_1", AccountID: "fca_1", Amount: -4599, Currency: "usd", Status: "posted",
				TransactedAt: time.Unix(1793490000, 0).UTC(), Description: "KROGER #0412"},
			{ID: "fctxn_2", AccountID: "fca_1", Amount: 250000, Currency: "usd", Status: "pending",
				TransactedAt: time.Unix(1793520000, 0).UTC(), Description: "ACME PAYROLL"},
		},
	}, l)
}

// TestParseLedgerFileNamesTheField checks that scoring's reader reports the ledger
// package's validation errors unchanged (the full table is in package ledger's tests).
func TestParseLedgerFileNamesTheField(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(goodFile, `"currency":"usd",
   "description":"KROGER #0412"`, `"currency":"",
   "description":"KROGER #0412"`, 1)
	_, err := scoring.ParseLedgerFile([]byte(doc))
	require.ErrorContains(t, err, "accounts[0].transactions[0].currency: empty")
	require.ErrorIs(t, err, ledger.ErrInvalid)
}

func TestSignedAmountIsIdentity(t *testing.T) {
	t.Parallel()
	// A Stripe FC deposit (money in) has a positive amount and raises balance.current by
	// exactly that amount, so the project sign equals Stripe's.
	for _, v := range []int64{-4599, 0, 250000} {
		require.Equal(t, v, scoring.SignedAmount(v))
	}
	l, err := scoring.ParseLedgerFile([]byte(goodFile))
	require.NoError(t, err)
	require.Equal(t, int64(-4599), l.Transactions[0].Amount)  // card purchase: money out
	require.Equal(t, int64(250000), l.Transactions[1].Amount) // payroll: money in
}

func TestMixedCurrencyLedgerFile(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(goodFile, `"amount":250000,"currency":"usd"`, `"amount":250000,"currency":"cad"`, 1)
	l, err := scoring.ParseLedgerFile([]byte(doc))
	require.NoError(t, err) // each object is valid on its own
	_, err = scoring.Normalize(l)
	require.ErrorIs(t, err, scoring.ErrMixedCurrency)
	_, err = scoring.Underwrite(l, time.Unix(1793534400, 0), scoring.Loan{AmountMinor: 1000, TermMonths: 3}, scoring.Operational{})
	require.ErrorIs(t, err, scoring.ErrMixedCurrency)
	require.ErrorContains(t, err, `"cad"`)
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	at := day("2026-03-01", 9)
	mk := func(id, status string, amount int64) scoring.Transaction {
		return scoring.Transaction{ID: id, AccountID: "a", Amount: amount, Currency: "USD", Status: status, TransactedAt: at}
	}
	in := scoring.Ledger{Transactions: []scoring.Transaction{
		mk("b", scoring.StatusPending, -100), mk("b", scoring.StatusPosted, -100), // pending then posted: posted kept
		mk("c", scoring.StatusPosted, -200), mk("c", scoring.StatusVoid, -200), // later voided: dropped
		mk("a", scoring.StatusPosted, 300), mk("a", scoring.StatusPosted, 300), // exact duplicate
		mk("d", scoring.StatusVoid, -5), // void
	}}
	got, err := scoring.Normalize(in)
	require.NoError(t, err)
	require.Equal(t, []scoring.Transaction{
		{ID: "a", AccountID: "a", Amount: 300, Currency: "usd", Status: scoring.StatusPosted, TransactedAt: at},
		{ID: "b", AccountID: "a", Amount: -100, Currency: "usd", Status: scoring.StatusPosted, TransactedAt: at},
	}, got.Transactions)
	require.Equal(t, "USD", in.Transactions[0].Currency, "input not modified")
}

// TestShuffleChangesNothing: the order of accounts and transactions in a ledger (and
// duplicated deliveries of the same transaction) never changes the decision bytes.
func TestShuffleChangesNothing(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"high_income_two_accounts.json", "gig_irregular.json"} {
		l := loadLedger(t, name)
		cutoff := scoring.LatestAsOf(l)
		loan := scoring.Loan{AmountMinor: 500000, TermMonths: 12}
		want := decisionJSON(t, l, cutoff, loan)
		seed := uint64(7)
		for round := 0; round < 5; round++ {
			s := scoring.Ledger{
				Accounts:     append([]scoring.Account(nil), l.Accounts...),
				Transactions: append([]scoring.Transaction(nil), l.Transactions...),
			}
			for i := len(s.Transactions) - 1; i > 0; i-- { // Fisher–Yates with a fixed LCG
				seed = seed*6364136223846793005 + 1442695040888963407
				j := int(seed>>33) % (i + 1)
				s.Transactions[i], s.Transactions[j] = s.Transactions[j], s.Transactions[i]
			}
			if len(s.Accounts) > 1 {
				s.Accounts[0], s.Accounts[1] = s.Accounts[1], s.Accounts[0]
			}
			s.Transactions = append(s.Transactions, s.Transactions[:round*10]...) // redelivered duplicates
			require.Equal(t, want, decisionJSON(t, s, cutoff, loan), "%s round %d", name, round)
		}
	}
}

func decisionJSON(t *testing.T, l scoring.Ledger, cutoff time.Time, loan scoring.Loan) string {
	t.Helper()
	d, err := scoring.Underwrite(l, cutoff, loan, scoring.Operational{})
	require.NoError(t, err)
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return string(b)
}

func TestDecisionDeterministic(t *testing.T) {
	t.Parallel()
	l := loadLedger(t, "steady_salaried.json")
	loan := scoring.Loan{AmountMinor: 300000, TermMonths: 12}
	first := decisionJSON(t, l, scoring.LatestAsOf(l), loan)
	for i := 0; i < 3; i++ {
		require.Equal(t, first, decisionJSON(t, l, scoring.LatestAsOf(l), loan))
	}
}

func TestAmountsOutOfRange(t *testing.T) {
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	l := scoring.Ledger{
		Accounts: []scoring.Account{{ID: "fca_1", Category: "cash", Status: "active", Currency: "usd", HasBalance: true, Current: 1000, AsOf: at}},
		Transactions: []scoring.Transaction{{ID: "fctxn_1", AccountID: "fca_1", Amount: math.MinInt64, Currency: "usd",
			Status: scoring.StatusPosted, TransactedAt: at}},
	}
	_, err := scoring.ComputeFeatures(l, at, scoring.Loan{AmountMinor: 1000, TermMonths: 12})
	require.ErrorIs(t, err, scoring.ErrAmountOutOfRange)
	require.ErrorContains(t, err, "fctxn_1")

	l.Transactions[0].Amount = -1000
	_, err = scoring.ComputeFeatures(l, at, scoring.Loan{AmountMinor: math.MaxInt64, TermMonths: 1})
	require.ErrorIs(t, err, scoring.ErrInvalidLoan, "a payment that would overflow is refused, not scored")
	f, err := scoring.ComputeFeatures(l, at, scoring.Loan{AmountMinor: loan.MaxAmountMinor, TermMonths: 1})
	require.NoError(t, err)
	require.Positive(t, f.ProposedPayment)

	_, err = scoring.ParseLedgerFile([]byte(`{"accounts":[{"account":{"id":"fca_1","category":"cash","status":"active"},
		"transactions":[{"id":"fctxn_1","account":"fca_1","amount":-9223372036854775808,"currency":"usd","status":"posted","transacted_at":1700000000}]}]}`))
	require.ErrorIs(t, err, scoring.ErrAmountOutOfRange)
	require.ErrorContains(t, err, "accounts[0].transactions[0].amount")
}
