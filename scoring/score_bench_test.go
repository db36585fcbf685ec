package scoring

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// scoreBenchLedger returns a Stripe-shaped ledger file of `months` months with about
// 125 posted transactions a month on one checking account (biweekly pay, rent, a bill,
// four card purchases a day, an occasional overdraft fee).
func scoreBenchLedger(b *testing.B, months int) ([]byte, time.Time) {
	b.Helper()
	r := rand.New(rand.NewPCG(3, uint64(months)))
	asOf := time.Date(2026, 10, 15, 18, 0, 0, 0, time.UTC)
	start := asOf.AddDate(0, -months, 0)
	shops := []string{"KROGER #0412", "STARBUCKS STORE 09211", "SHELL OIL 57444", "AMAZON MKTPLACE PMTS", "TARGET T-1234",
		"CHIPOTLE 1120", "WALGREENS #8812", "HOME DEPOT #0611"}
	var txs []map[string]any
	add := func(at time.Time, amount int64, desc string) {
		id := fmt.Sprintf("fctxn_%024d", len(txs))
		txs = append(txs, map[string]any{"id": id, "object": "financial_connections.transaction", "account": "fca_b",
			"amount": amount, "currency": "usd", "description": desc, "livemode": false, "status": "posted",
			"status_transitions": map[string]any{"posted_at": at.Unix() + 3600, "void_at": nil},
			"transacted_at":      at.Unix(), "transaction_refresh": "fctxnref_" + id[6:], "updated": at.Unix() + 3600})
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
	file := map[string]any{"accounts": []any{map[string]any{
		"account": map[string]any{"id": "fca_b", "object": "financial_connections.account", "category": "cash",
			"subcategory": "checking", "status": "active", "display_name": "Everyday Checking", "last4": "6789",
			"balance": map[string]any{"as_of": asOf.Unix(), "current": map[string]int64{"usd": 650000},
				"cash": map[string]any{"available": map[string]int64{"usd": 640000}}, "type": "cash"}},
		"transactions": txs}}}
	data, err := json.Marshal(file)
	if err != nil {
		b.Fatal(err)
	}
	return data, asOf
}

// BenchmarkScoreVsDecode compares, per ledger, decoding the ledger JSON into the
// ledger file structure with encoding/json against computing the features and the
// decision (and the decision alone) with the default model and policy. The target
// (issue 12): features and score cost at most half the decode. parse_ledger_file is the
// project's parse (ledger.Parse: decode and validation) and the conversion into
// scoring's ledger; features is ComputeFeatures alone; bytes_to_decision is the whole
// hot path of a batch or of the Score activity, from the snapshot's bytes to the
// decision. -benchmem reports the allocations per ledger.
//
//	go test -run '^$' -bench ScoreVsDecode -benchmem ./scoring/
//
// plainLedgerFile is the ledger file's structure without ledger.Transaction's
// UnmarshalJSON (a defined type drops methods), so decode_json stays the plain
// encoding/json decode it is compared against.
type plainLedgerFile struct {
	Accounts []struct {
		Account      ledger.Account `json:"account"`
		Transactions []plainTxn     `json:"transactions"`
	} `json:"accounts"`
}

type plainTxn ledger.Transaction

func BenchmarkScoreVsDecode(b *testing.B) {
	loan := Loan{AmountMinor: 300000, TermMonths: 12}
	eng := DefaultEngine()
	for _, months := range []int{3, 12, 24} {
		data, asOf := scoreBenchLedger(b, months)
		l, err := ParseLedgerFile(data)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("%dm_%dtxn", months, len(l.Transactions))
		b.Run("decode_json/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var f plainLedgerFile
				if err := json.Unmarshal(data, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parse_ledger_file/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseLedgerFile(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("features_and_score/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eng.Underwrite(l, asOf, loan, Operational{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("features/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ComputeFeatures(l, asOf, loan); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("bytes_to_decision/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := ParseLedgerFile(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := eng.Underwrite(l, LatestAsOf(l), loan, Operational{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		f, err := ComputeFeatures(l, asOf, loan)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("score_only/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = eng.Decide(f, loan, Operational{})
			}
		})
	}
}
