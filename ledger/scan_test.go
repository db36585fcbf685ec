package ledger

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeStd is the decode Parse used before scanFile: encoding/json into a File.
func decodeStd(data []byte) (File, error) {
	var f File
	err := json.Unmarshal(data, &f)
	return f, err
}

// requireScanMatches checks the scanner's contract on data: when it accepts data,
// encoding/json accepts it too and decodes the very same File (unexported fields
// included); when encoding/json refuses data, the scanner refuses it too.
func requireScanMatches(t *testing.T, data []byte) (accepted bool) {
	t.Helper()
	got, ok := scanFile(data)
	want, err := decodeStd(data)
	if !ok {
		require.Equal(t, File{}, got, "a refused scan returns the zero File")
		return false
	}
	require.NoError(t, err, "scanFile accepted what encoding/json refuses:\n%q", data)
	require.Equal(t, want, got, "scanFile decoded differently from encoding/json:\n%q", data)
	return true
}

// TestScanFileMatchesEncodingJSON runs the scanner and encoding/json side by side on
// ledgers as the pipeline writes them (compact and indented), on Stripe's complete
// objects, and on inputs that probe encoding/json's corners: key case, repeated keys,
// nulls, escapes, invalid UTF-8, numbers that are not int64, unknown fields of any shape.
func TestScanFileMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		f := randomFile(rand.New(rand.NewPCG(seed, 7)))
		compact, err := json.Marshal(f)
		require.NoError(t, err)
		indented, err := f.Marshal()
		require.NoError(t, err)
		for _, data := range [][]byte{compact, indented} {
			require.True(t, requireScanMatches(t, data), "the scanner must take a ledger the pipeline writes (seed %d)", seed)
		}
	}
	full := `{"accounts":[{"account":{"id":"fca_1","object":"financial_connections.account",
	  "account_holder":{"customer":"cus_1","type":"customer","extra":[1,{"a":null}]},
	  "balance":{"as_of":1700000000,"cash":{"available":{"usd":5}},"credit":{"used":{"usd":7}},"current":{"usd":9},"type":"cash"},
	  "balance_refresh":{"last_attempted_at":1,"next_refresh_available_at":null,"status":"succeeded"},
	  "category":"cash","created":1690000000,"display_name":"Checking","institution_name":"Bank","last4":"6789",
	  "livemode":true,"ownership":"fcaowns_1","ownership_refresh":{"last_attempted_at":2,"status":"pending"},
	  "permissions":["balances","transactions",null],"status":"active","subcategory":"checking","subscriptions":[],
	  "supported_payment_method_types":["us_bank_account"],
	  "transaction_refresh":{"id":"fctxnref_1","last_attempted_at":3,"next_refresh_available_at":4,"status":"succeeded"},
	  "future_field":{"nested":[true,false,null,-1.5e-3,"x\u00e9\n"]}},
	 "transactions":[{"id":"fctxn_1","object":"financial_connections.transaction","account":"fca_1","amount":-0,
	  "currency":"usd","description":"caf\u00e9 \"AT&T\" \u003c\\/\u003e","livemode":false,"status":"posted",
	  "status_transitions":{"posted_at":1699990000,"void_at":null},"transacted_at":1699990000,
	  "transaction_refresh":"fctxnref_1","updated":1699990001}]}]}`
	require.True(t, requireScanMatches(t, []byte(full)))
	good := `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[{"id":"t","account":"fca_1","amount":5,"currency":"usd","status":"posted","transacted_at":1700000000}]}]}`
	require.True(t, requireScanMatches(t, []byte(good)))
	for _, c := range []struct {
		old, new string
		scans    bool // whether the scanner takes the edited file itself
	}{
		{`"amount":5`, `"Amount":5`, false},                    // encoding/json matches keys case-insensitively
		{`"amount":5`, `"amount":5,"amount":6`, false},         // repeated key
		{`"amount":5`, `"amount":null`, false},                 // a missing amount
		{`"amount":5`, `"amount":5.0`, false},                  // not an integer
		{`"amount":5`, `"amount":1e3`, false},                  //
		{`"amount":5`, `"amount":99999999999999999999`, false}, // beyond int64
		{`"amount":5`, `"amount":"5"`, false},                  // a string
		{`"amount":5`, `"amount":05`, false},                   // not JSON
		{`"amount":5`, `"amount":-9223372036854775808`, true},  // the int64 bound
		{`"amount":5`, `"amount": 5 `, true},                   //
		{`"id":"t"`, `"id":null`, true},                        // null leaves a string empty
		{`"id":"t"`, `"id":"\ud800"`, true},                    // a lone surrogate: U+FFFD
		{`"id":"t"`, "\"id\":\"\xff\xfe\"", true},              // invalid UTF-8: U+FFFD
		{`"id":"t"`, "\"id\":\"\x01\"", false},                 // a control character: not JSON
		{`"id":"t"`, `"i\u0064":"t"`, false},                   // an escaped key
		{`"id":"t"`, "\"\u017fd\":\"t\"", false},               // a key that folds to "sd"
		{`"id":"t"`, `"id":"t","x":{"y":[1,2,{"z":"\u0041"}]}`, true},
		{`"id":"t"`, `"id":"t","x":1,"x":{"y":2}`, true},                   // a repeated unknown key: skipped twice
		{`"id":"t"`, `"id":"t","x":1,"X":2,"ID":"u"`, false},               // a known key again in other case
		{`"id":"t","account":"fca_1"`, `"account":"fca_1","id":"t"`, true}, // keys out of the struct's order
		{`"id":"t"`, `"id":"t","x":[1,]`, false},                           // not JSON in an unknown field
		{`"id":"t"`, `"id":"t","x":tru`, false},                            //
		{`{"id":"t"`, `null,{"id":"t"`, false},                             // a null transaction
		{`"transactions":[`, `"transactions":null,"x":[`, true},            // null transactions, an unknown array
		{`{"account":`, `null,{"account":`, false},                         // a null account entry
		{`"category":"cash"`, `"category":"cash","balance":null`, true},
		{`"category":"cash"`, `"category":"cash","balance":{"current":{}}`, true},
		{`"category":"cash"`, `"category":"cash","balance":{"current":{"usd":1,"usd":2}}`, true},
		{`"category":"cash"`, `"category":"cash","balance":{"current":{"usd":null}}`, true},
		{`"category":"cash"`, `"category":"cash","balance":[]`, false},
		{`"category":"cash"`, `"category":"cash","permissions":"x"`, false},
		{`"category":"cash"`, `"category":"cash","livemode":1`, false},
		{`]}`, `]} `, true},
		{`]}`, `]}x`, false}, // data after the document
		{`]}`, `]`, false},
	} {
		data := []byte(strings.Replace(good, c.old, c.new, 1))
		got := requireScanMatches(t, data)
		require.Equal(t, c.scans, got, "scanner on %s", data)
	}
	for _, data := range []string{"", "null", "[]", "{}", `{"accounts":null}`, `{"accounts":[]}`, "\ufeff{}", `{"accounts":[{}]}`} {
		requireScanMatches(t, []byte(data))
	}
	entries, err := filepath.Glob("../testdata/*/*.json")
	require.NoError(t, err)
	for _, p := range entries {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		requireScanMatches(t, data)
	}
}

// randomFile is a ledger as the pipeline writes it, with what Stripe varies: several
// accounts, pending and void transactions, balances with and without cash, several
// currencies, descriptions with characters that encoding/json escapes.
func randomFile(r *rand.Rand) File {
	var f File
	ccys := []string{"usd", "EUR", "gbp"}
	descs := []string{"ACME PAYROLL", "AT&T <BILL>", "café", "rent \"web\"", "", "tab\tsep", "日本"}
	for a := range 1 + r.IntN(3) {
		id := fmt.Sprintf("fca_%d", a)
		ccy := ccys[r.IntN(len(ccys))]
		acct := Account{ID: id, Object: ObjectAccount, Category: []string{CategoryCash, CategoryCredit, ""}[r.IntN(3)],
			Subcategory: "checking", Status: AccountActive, Livemode: r.IntN(2) == 0}
		if r.IntN(4) > 0 {
			acct.Balance = &Balance{AsOf: 1_700_000_000 + r.Int64N(1e6), Current: map[string]int64{ccy: r.Int64N(1e7) - 5e6}, Type: "cash"}
			if r.IntN(2) == 0 {
				acct.Balance.Cash = &Cash{Available: map[string]int64{ccy: r.Int64N(1e7)}}
			}
		}
		e := Entry{Account: acct, Transactions: []Transaction{}}
		for i := range r.IntN(60) {
			at := 1_690_000_000 + r.Int64N(1e7)
			t := Transaction{ID: fmt.Sprintf("fctxn_%d_%d", a, i), Object: ObjectTransaction, Account: id,
				Amount: r.Int64N(2e6) - 1e6, Currency: ccy, Description: descs[r.IntN(len(descs))],
				Status: []string{StatusPosted, StatusPending, StatusVoid}[r.IntN(3)], TransactedAt: at,
				TransactionRefresh: "fctxnref_1", Updated: at + 60}
			switch t.Status {
			case StatusPosted:
				t.StatusTransitions.PostedAt = &at
			case StatusVoid:
				t.StatusTransitions.VoidAt = &at
			}
			e.Transactions = append(e.Transactions, t)
		}
		f.Accounts = append(f.Accounts, e)
	}
	return f
}

// FuzzScanFile: on any input, the scanner either refuses it or decodes exactly what
// encoding/json decodes. Seeds: the FuzzParse corpus and a generated ledger.
func FuzzScanFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		// The corpus files are in the fuzzing format: []byte("…") on their second line.
		lines := strings.SplitN(string(data), "\n", 3)
		if len(lines) >= 2 {
			var s string
			if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"), "%q", &s); err == nil {
				f.Add([]byte(s))
			}
		}
	}
	gen, err := json.Marshal(randomFile(rand.New(rand.NewPCG(1, 2))))
	require.NoError(f, err)
	f.Add(gen)
	f.Fuzz(func(t *testing.T, data []byte) { requireScanMatches(t, data) })
}
