package scoring_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// fuzzDescriptions exercise every category family, own transfers and stream grouping.
var fuzzDescriptions = []string{
	"ACME PAYROLL", "OVERDRAFT FEE", "NSF FEE", "OVERDRAFT FEE REVERSAL", "RETURNED ITEM", "ONLINE TRANSFER TO SAVINGS",
	"ONLINE TRANSFER FROM CHECKING", "SPEEDY CASH PAYMENT", "RENT PYMT", "ATM CASH DEPOSIT", "DRAFTKINGS", "UBER *TRIP PAYOUT",
	"KROGER #0412", "", "AFFIRM *PAYMENT", "SSA TREAS 310",
}

// ledgerFromBytes builds a ledger from fuzz bytes: 1–3 accounts (cash or credit, with
// or without balance), then 12-byte transaction records (account, status, day offset,
// hour, amount, description). Amounts stay within ±2^40 minor units, far beyond any
// real balance, so sums cannot overflow.
func ledgerFromBytes(data []byte) (scoring.Ledger, time.Time) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	next := func(n int) []byte {
		if len(data) < n {
			b := make([]byte, n)
			copy(b, data)
			data = nil
			return b
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	h := next(4)
	nAcct := 1 + int(h[0]%3)
	cutoff := base.AddDate(0, 0, int(h[1])*3).Add(time.Duration(h[2]) * time.Hour)
	var l scoring.Ledger
	for i := 0; i < nAcct; i++ {
		b := next(6)
		a := scoring.Account{ID: fmt.Sprintf("fca_%d", i), Category: "cash", Status: "active", Currency: "usd"}
		if b[0]%5 == 0 {
			a.Category = "credit"
		}
		if b[0]%7 != 0 {
			a.HasBalance = true
			a.Current = int64(int32(binary.LittleEndian.Uint32(b[1:5])))
			a.AsOf = cutoff.AddDate(0, 0, int(int8(b[5]))/8)
			if b[5]%2 == 0 {
				v := a.Current - int64(b[5])
				a.Available = &v
			}
		}
		l.Accounts = append(l.Accounts, a)
	}
	statuses := []string{scoring.StatusPosted, scoring.StatusPosted, scoring.StatusPosted, scoring.StatusPending, scoring.StatusVoid}
	for i := 0; len(data) > 0 && i < 2000; i++ {
		b := next(12)
		amt := int64(int32(binary.LittleEndian.Uint32(b[4:8])))
		if b[8]%4 == 0 {
			amt <<= 8 // occasional huge amounts
		}
		l.Transactions = append(l.Transactions, scoring.Transaction{
			ID:           fmt.Sprintf("tx_%d", binary.LittleEndian.Uint16(b[10:12])%512), // collisions test dedup
			AccountID:    fmt.Sprintf("fca_%d", int(b[0])%nAcct),
			Amount:       amt,
			Currency:     "usd",
			Status:       statuses[int(b[1])%len(statuses)],
			TransactedAt: cutoff.AddDate(0, 0, -int(binary.LittleEndian.Uint16(b[2:4])%800)+5).Add(time.Duration(b[9]) * time.Minute * 7),
			Description:  fuzzDescriptions[int(b[8]>>2)%len(fuzzDescriptions)] + " " + fmt.Sprint(b[9]%3),
		})
	}
	return l, cutoff
}

// FuzzComputeFeatures: random ledgers never panic and never produce NaN or ±Inf
// (encoding/json refuses to marshal them), and Undefined matches the null fields.
func FuzzComputeFeatures(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 10, 3, 0, 1, 2, 3, 4, 5, 6})
	f.Add([]byte("\x01\x40\x05\x00" + "\x01\x10\x27\x00\x00\x02" + "\x02\x00\x00\x00\x00" +
		"\x00\x00\x05\x00\x40\x0d\x03\x00\x00\x01\x01\x00" + "\x01\x00\x05\x00\xc0\xf2\xfc\xff\x14\x01\x02\x00" +
		"\x00\x00\x13\x00\x40\x0d\x03\x00\x00\x01\x03\x00" + "\x00\x00\x21\x00\x40\x0d\x03\x00\x00\x01\x04\x00"))
	seed := make([]byte, 4+18+12*300)
	for i := range seed {
		seed[i] = byte(i*7 + i/13)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, cutoff := ledgerFromBytes(data)
		feats, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: 100000, TermMonths: 12})
		require.NoError(t, err)
		checkUndefinedConsistent(t, feats)
		d := scoring.Decide(feats, scoring.Loan{AmountMinor: 100000, TermMonths: 12}, scoring.Operational{})
		_, err = json.Marshal(d)
		require.NoError(t, err)
	})
}
