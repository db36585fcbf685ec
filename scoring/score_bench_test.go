package scoring

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cashflow-underwriting/underwriter/internal/bench/benchledger"
	"github.com/cashflow-underwriting/underwriter/ledger"
)

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
		data, asOf, err := benchledger.Ledger(months, 0) // the ledgers `underwriter bench` measures
		if err != nil {
			b.Fatal(err)
		}
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
