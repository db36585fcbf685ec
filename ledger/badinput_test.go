package ledger_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// goodLedger is a valid two-account ledger file; every case of TestBadInputLedger breaks
// it in one place, so the error can only come from that place.
const goodLedger = `{
  "accounts": [
    {
      "account": {"id": "fca_1", "object": "financial_connections.account", "category": "cash", "status": "active",
                  "balance": {"as_of": 1700000000, "type": "cash", "current": {"usd": 123456}, "cash": {"available": {"usd": 120000}}}},
      "transactions": [
        {"id": "fctxn_1", "object": "financial_connections.transaction", "account": "fca_1", "amount": -4599,
         "currency": "usd", "status": "posted", "transacted_at": 1699990000},
        {"id": "fctxn_2", "account": "fca_1", "amount": 250000, "currency": "usd", "status": "pending", "transacted_at": 1699995000}
      ]
    },
    {
      "account": {"id": "fca_2", "category": "credit"},
      "transactions": [
        {"id": "fctxn_3", "account": "fca_2", "amount": -100, "currency": "usd", "status": "void", "transacted_at": 1699990000}
      ]
    }
  ]
}`

// TestBadInputLedger is issue 9's table for ledger files: each malformed file and the
// exact error Parse gives, naming the object path and the field and wrapping ErrInvalid.
// Parse returns nothing of a refused file (the zero File), so no caller can go on with a
// part of it.
func TestBadInputLedger(t *testing.T) {
	t.Parallel()
	_, err := ledger.Parse([]byte(goodLedger))
	require.NoError(t, err, "the base ledger must be valid")

	// edit replaces old (which must occur exactly once) in the good ledger by new.
	edit := func(old, new string) string {
		require.Equal(t, 1, strings.Count(goodLedger, old), "edit %q", old)
		return strings.Replace(goodLedger, old, new, 1)
	}
	txn1 := `"id": "fctxn_1", "object": "financial_connections.transaction", "account": "fca_1", "amount": -4599,
         "currency": "usd", "status": "posted", "transacted_at": 1699990000`
	acct2 := `{"id": "fca_2", "category": "credit"}`
	for _, c := range []struct {
		name, doc, want string
		outOfRange      bool // the error also wraps ErrAmountOutOfRange
	}{
		// Not JSON, or JSON of the wrong shape: the line (and column) says where.
		{name: "empty file", doc: ``,
			want: "invalid ledger: decode ledger file: line 1, column 1: unexpected end of JSON input"},
		{name: "truncated", doc: goodLedger[:40],
			want: "invalid ledger: decode ledger file: line 4, column 17: unexpected end of JSON input"},
		{name: "missing comma", doc: edit(`"status": "active",`, `"status": "active"`),
			want: `invalid ledger: decode ledger file: line 5, column 19: invalid character '"' after object key:value pair`},
		{name: "trailing comma", doc: edit(`"transacted_at": 1699995000}`, `"transacted_at": 1699995000,}`),
			want: "invalid ledger: decode ledger file: line 9, column 133: invalid character '}' looking for beginning of object key string"},
		{name: "trailing data", doc: goodLedger + `{}`,
			want: "invalid ledger: decode ledger file: line 19, column 2: invalid character '{' after top-level value"},
		{name: "an array, not an object", doc: `[]`,
			want: "invalid ledger: decode ledger file: file: got array, want an object"},
		{name: "accounts an object", doc: `{"accounts": {}}`,
			want: "invalid ledger: decode ledger file: accounts: got object, want an array"},
		{name: "amount a string", doc: edit(`"amount": -4599`, `"amount": "-45.99"`),
			want: "invalid ledger: decode ledger file: accounts.transactions.amount: got string, want an integer"},
		{name: "amount with decimals", doc: edit(`"amount": -4599`, `"amount": -45.99`),
			want: "invalid ledger: decode ledger file: accounts.transactions.amount: got number -45.99, want an integer"},
		{name: "amount beyond int64", doc: edit(`"amount": -4599`, `"amount": -99999999999999999999`),
			want: "invalid ledger: decode ledger file: accounts.transactions.amount: got number -99999999999999999999, want an integer"},
		{name: "id a number", doc: edit(`"id": "fca_2"`, `"id": 2`),
			want: "invalid ledger: decode ledger file: accounts.account.id: got number, want a string"},
		{name: "as_of a date string", doc: edit(`"as_of": 1700000000`, `"as_of": "2023-11-14"`),
			want: "invalid ledger: decode ledger file: accounts.account.balance.as_of: got string, want an integer"},
		{name: "livemode a string", doc: edit(`"category": "credit"`, `"category": "credit", "livemode": "no"`),
			want: "invalid ledger: decode ledger file: accounts.account.livemode: got string, want true or false"},

		// The file and its accounts.
		{name: "no accounts", doc: `{"accounts": []}`, want: "invalid ledger: accounts: empty"},
		{name: "null", doc: `null`, want: "invalid ledger: accounts: empty"},
		{name: "account without id", doc: edit(acct2, `{"category": "credit"}`),
			want: "invalid ledger: accounts[1].account.id: empty"},
		{name: "wrong account object", doc: edit(`"object": "financial_connections.account"`, `"object": "account"`),
			want: `invalid ledger: accounts[0].account.object: "account" is not "financial_connections.account"`},
		{name: "account without category", doc: edit(acct2, `{"id": "fca_2"}`),
			want: "invalid ledger: accounts[1].account.category: empty"},
		{name: "unknown category", doc: edit(`"category": "credit"`, `"category": "loan"`),
			want: `invalid ledger: accounts[1].account.category: unknown value "loan"`},
		{name: "unknown account status", doc: edit(`"status": "active"`, `"status": "closed"`),
			want: `invalid ledger: accounts[0].account.status: unknown value "closed"`},

		// Balances.
		{name: "balance without as_of", doc: edit(`"as_of": 1700000000, `, ``),
			want: "invalid ledger: accounts[0].account.balance.as_of: missing"},
		{name: "as_of before 1970", doc: edit(`"as_of": 1700000000`, `"as_of": -86400`),
			want: "invalid ledger: accounts[0].account.balance.as_of: -86400 is before 1970"},
		{name: "as_of after year 9999", doc: edit(`"as_of": 1700000000`, `"as_of": 253402300800`),
			want: "invalid ledger: accounts[0].account.balance.as_of: 253402300800 is after 9999-12-31T23:59:59Z"},
		{name: "balance in two currencies", doc: edit(`"current": {"usd": 123456}`, `"current": {"usd": 123456, "eur": 1}`),
			want: "invalid ledger: accounts[0].account.balance.current: want exactly one currency, got 2"},
		{name: "balance in no currency", doc: edit(`"current": {"usd": 123456}`, `"current": {}`),
			want: "invalid ledger: accounts[0].account.balance.current: want exactly one currency, got 0"},
		{name: "balance currency not a code", doc: edit(`"current": {"usd": 123456}, "cash": {"available": {"usd": 120000}}`, `"current": {"dollars": 123456}`),
			want: `invalid ledger: accounts[0].account.balance.current: currency "dollars" is not a three-letter ISO 4217 code`},
		{name: "available contradicts current's currency", doc: edit(`"available": {"usd": 120000}`, `"available": {"eur": 120000}`),
			want: `invalid ledger: accounts[0].account.balance.cash.available: currency "eur" differs from balance.current "usd"`},
		{name: "available in two currencies", doc: edit(`"available": {"usd": 120000}`, `"available": {"usd": 1, "eur": 2}`),
			want: "invalid ledger: accounts[0].account.balance.cash.available: want exactly one currency, got 2"},
		{name: "current beyond the range", doc: edit(`"current": {"usd": 123456}`, `"current": {"usd": 100000000000001}`), outOfRange: true,
			want: "invalid ledger: accounts[0].account.balance.current: 100000000000001 beyond ±100000000000000: amount out of range"},
		{name: "available beyond the range", doc: edit(`"available": {"usd": 120000}`, `"available": {"usd": -100000000000001}`), outOfRange: true,
			want: "invalid ledger: accounts[0].account.balance.cash.available: -100000000000001 beyond ±100000000000000: amount out of range"},

		// Transactions.
		{name: "transaction without id", doc: edit(`"id": "fctxn_3", `, ``),
			want: "invalid ledger: accounts[1].transactions[0].id: empty"},
		{name: "wrong transaction object", doc: edit(`"object": "financial_connections.transaction"`, `"object": "transaction"`),
			want: `invalid ledger: accounts[0].transactions[0].object: "transaction" is not "financial_connections.transaction"`},
		{name: "transaction without account", doc: edit(`"id": "fctxn_3", "account": "fca_2", `, `"id": "fctxn_3", `),
			want: "invalid ledger: accounts[1].transactions[0].account: empty"},
		{name: "transaction of another account", doc: edit(`"id": "fctxn_3", "account": "fca_2"`, `"id": "fctxn_3", "account": "fca_1"`),
			want: `invalid ledger: accounts[1].transactions[0].account: "fca_1" differs from enclosing account "fca_2"`},
		{name: "missing amount", doc: edit(`"amount": 250000, `, ``),
			want: "invalid ledger: accounts[0].transactions[1].amount: missing"},
		{name: "null amount", doc: edit(`"amount": 250000`, `"amount": null`),
			want: "invalid ledger: accounts[0].transactions[1].amount: missing"},
		{name: "amount beyond the range", doc: edit(`"amount": 250000`, `"amount": 100000000000001`), outOfRange: true,
			want: "invalid ledger: accounts[0].transactions[1].amount: 100000000000001 beyond ±100000000000000: amount out of range"},
		{name: "negative amount beyond the range", doc: edit(`"amount": -100`, `"amount": -100000000000001`), outOfRange: true,
			want: "invalid ledger: accounts[1].transactions[0].amount: -100000000000001 beyond ±100000000000000: amount out of range"},
		{name: "missing currency", doc: edit(txn1, strings.Replace(txn1, `"currency": "usd", `, ``, 1)),
			want: "invalid ledger: accounts[0].transactions[0].currency: empty"},
		{name: "currency not a code", doc: edit(`"amount": -100, "currency": "usd"`, `"amount": -100, "currency": "us$"`),
			want: `invalid ledger: accounts[1].transactions[0].currency: "us$" is not a three-letter ISO 4217 code`},
		{name: "currency a name", doc: edit(`"amount": -100, "currency": "usd"`, `"amount": -100, "currency": "dollar"`),
			want: `invalid ledger: accounts[1].transactions[0].currency: "dollar" is not a three-letter ISO 4217 code`},
		{name: "missing transacted_at", doc: edit(`, "transacted_at": 1699995000`, ``),
			want: "invalid ledger: accounts[0].transactions[1].transacted_at: missing"},
		{name: "transacted_at before 1970", doc: edit(`"transacted_at": 1699995000`, `"transacted_at": -1`),
			want: "invalid ledger: accounts[0].transactions[1].transacted_at: -1 is before 1970"},
		{name: "transacted_at in milliseconds past year 9999", doc: edit(`"transacted_at": 1699995000`, `"transacted_at": 1699995000000000`),
			want: "invalid ledger: accounts[0].transactions[1].transacted_at: 1699995000000000 is after 9999-12-31T23:59:59Z"},
		{name: "missing status", doc: edit(`"status": "void", `, ``),
			want: "invalid ledger: accounts[1].transactions[0].status: empty"},
		{name: "unknown status", doc: edit(`"status": "void"`, `"status": "settled"`),
			want: `invalid ledger: accounts[1].transactions[0].status: unknown value "settled"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := ledger.Parse([]byte(c.doc))
			require.EqualError(t, err, c.want)
			require.ErrorIs(t, err, ledger.ErrInvalid)
			if c.outOfRange {
				require.ErrorIs(t, err, ledger.ErrAmountOutOfRange)
			}
			require.Zero(t, f, "a refused file yields nothing")
		})
	}
}

// TestBadInputLedgerAccepted lists what looks odd but is a valid ledger, and why, so the
// table above is not read as the whole list of rules.
func TestBadInputLedgerAccepted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, old, new string }{
		// Stripe reports a transaction again when its status changes; scoring.Normalize
		// keeps the latest status of each id (void beats posted beats pending).
		{"repeated transaction id", `"id": "fctxn_2"`, `"id": "fctxn_1"`},
		// Stripe's own codes are lower-case; upper case is read the same way.
		{"upper-case currency", `"amount": -100, "currency": "usd"`, `"amount": -100, "currency": "USD"`},
		// Whether a currency is one a loan may use is the loan package's decision.
		{"a code ISO 4217 does not define", `"amount": -100, "currency": "usd"`, `"amount": -100, "currency": "xyz"`},
		// Newer API versions add fields; they are ignored.
		{"unknown field", `"category": "credit"`, `"category": "credit", "brand_new_field": {"x": 1}`},
		// A zero amount is an amount (a $0 authorisation), unlike a missing one.
		{"zero amount", `"amount": -100`, `"amount": 0`},
		// A balance is optional (an account Stripe could not refresh).
		{"no balance", `"balance": {"as_of": 1700000000, "type": "cash", "current": {"usd": 123456}, "cash": {"available": {"usd": 120000}}}`, `"balance": null`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, 1, strings.Count(goodLedger, c.old))
			_, err := ledger.Parse([]byte(strings.Replace(goodLedger, c.old, c.new, 1)))
			require.NoError(t, err)
		})
	}
}
