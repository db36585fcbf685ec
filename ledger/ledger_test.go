package ledger_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	acct := `{"id":"fca_1","category":"cash","balance":{"as_of":1793534400,"current":{"usd":1}}}`
	txn := func(fields string) string {
		return `{"accounts":[{"account":` + acct + `,"transactions":[{"id":"fctxn_0","account":"fca_1","amount":1,` +
			`"currency":"usd","status":"posted","transacted_at":1},` + fields + `]}]}`
	}
	for _, c := range []struct{ name, doc, want string }{
		{"not json", `{`, "decode ledger file: line 1, column 2: unexpected end of JSON input"},
		{"wrong type", `{"accounts":[{"account":{"id":5}}]}`, "decode ledger file: accounts.account.id: got number, want a string"},
		{"no accounts", `{"accounts":[]}`, "accounts: empty"},
		{"missing account", `{"accounts":[{"transactions":[]}]}`, "accounts[0].account.id: empty"},
		{"unknown category", `{"accounts":[{"account":{"id":"a","category":"loan"}}]}`, `accounts[0].account.category: unknown value "loan"`},
		{"unknown status", `{"accounts":[{"account":{"id":"a","category":"cash","status":"closed"}}]}`, `accounts[0].account.status: unknown value "closed"`},
		{"wrong object", `{"accounts":[{"account":{"id":"a","object":"customer","category":"cash"}}]}`, `accounts[0].account.object: "customer" is not "financial_connections.account"`},
		{"account id", `{"accounts":[{"account":{"category":"cash"}}]}`, "accounts[0].account.id: empty"},
		{"category", `{"accounts":[{"account":{"id":"fca_1"}}]}`, "accounts[0].account.category: empty"},
		{"as_of", `{"accounts":[{"account":{"id":"a","category":"cash","balance":{"current":{"usd":1}}}}]}`, "accounts[0].account.balance.as_of: missing"},
		{"two currencies", `{"accounts":[{"account":{"id":"a","category":"cash","balance":{"as_of":5,"current":{"usd":1,"eur":2}}}}]}`,
			"accounts[0].account.balance.current: want exactly one currency, got 2"},
		{"available currency", `{"accounts":[{"account":{"id":"a","category":"cash","balance":{"as_of":5,"current":{"usd":1},"cash":{"available":{"eur":2}}}}}]}`,
			`accounts[0].account.balance.cash.available: currency "eur" differs from balance.current "usd"`},
		{"txn id", txn(`{"account":"fca_1"}`), "accounts[0].transactions[1].id: empty"},
		{"txn account", txn(`{"id":"x"}`), "accounts[0].transactions[1].account: empty"},
		{"txn other account", txn(`{"id":"x","account":"fca_9"}`), `accounts[0].transactions[1].account: "fca_9" differs from enclosing account "fca_1"`},
		{"txn amount", txn(`{"id":"x","account":"fca_1"}`), "accounts[0].transactions[1].amount: missing"},
		{"txn null amount", txn(`{"id":"x","account":"fca_1","amount":null}`), "accounts[0].transactions[1].amount: missing"},
		{"txn huge amount", txn(`{"id":"x","account":"fca_1","amount":100000000000001}`), "accounts[0].transactions[1].amount: 100000000000001 beyond"},
		{"txn currency", txn(`{"id":"x","account":"fca_1","amount":5}`), "accounts[0].transactions[1].currency: empty"},
		{"txn time", txn(`{"id":"x","account":"fca_1","amount":5,"currency":"usd"}`), "accounts[0].transactions[1].transacted_at: missing"},
		{"txn status", txn(`{"id":"x","account":"fca_1","amount":5,"currency":"usd","transacted_at":9}`), "accounts[0].transactions[1].status: empty"},
		{"txn bad status", txn(`{"id":"x","account":"fca_1","amount":5,"currency":"usd","transacted_at":9,"status":"settled"}`),
			`accounts[0].transactions[1].status: unknown value "settled"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ledger.Parse([]byte(c.doc))
			require.ErrorContains(t, err, c.want)
			require.ErrorIs(t, err, ledger.ErrInvalid)
		})
	}
}

func TestZeroAmountIsNotMissing(t *testing.T) {
	t.Parallel()
	doc := `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[` +
		`{"id":"t","account":"fca_1","amount":0,"currency":"usd","status":"posted","transacted_at":1}]}]}`
	f, err := ledger.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, int64(0), f.Accounts[0].Transactions[0].Amount)
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	posted := int64(1793500000)
	in := ledger.File{Accounts: []ledger.Entry{{
		Account: ledger.Account{ID: "fca_1", Object: ledger.ObjectAccount, Category: ledger.CategoryCash,
			Subcategory: "checking", Status: ledger.AccountActive,
			Balance: &ledger.Balance{AsOf: 1793534400, Type: "cash", Current: map[string]int64{"usd": 123456},
				Cash: &ledger.Cash{Available: map[string]int64{"usd": 120000}}}},
		Transactions: []ledger.Transaction{{ID: "fctxn_1", Object: ledger.ObjectTransaction, Account: "fca_1",
			Amount: -4599, Currency: "usd", Description: "KROGER", Status: ledger.StatusPosted,
			StatusTransitions: ledger.StatusTransitions{PostedAt: &posted}, TransactedAt: 1793490000, Updated: posted}},
	}}}
	data, err := in.Marshal()
	require.NoError(t, err)
	require.Equal(t, byte('\n'), data[len(data)-1])
	out, err := ledger.Parse(data)
	require.NoError(t, err)
	require.Equal(t, in, out)

	// Stripe's nullable fields stay present, as null, as Stripe sends them.
	var raw struct {
		Accounts []struct {
			Account map[string]json.RawMessage `json:"account"`
		} `json:"accounts"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	require.Equal(t, "null", string(raw.Accounts[0].Account["transaction_refresh"]))
}

func TestAnchor(t *testing.T) {
	t.Parallel()
	f := ledger.File{Accounts: []ledger.Entry{
		{Account: ledger.Account{ID: "a", Balance: &ledger.Balance{AsOf: 50}},
			Transactions: []ledger.Transaction{{TransactedAt: 70, Updated: 80}}},
		{Account: ledger.Account{ID: "b", Balance: &ledger.Balance{AsOf: 60}}},
	}}
	require.Equal(t, int64(60), f.Anchor(), "the newest balance wins over transaction times")
	f.Accounts[0].Account.Balance, f.Accounts[1].Account.Balance = nil, nil
	require.Equal(t, int64(80), f.Anchor(), "without balances, the newest transaction time")
	require.Zero(t, ledger.File{}.Anchor())
}

func TestDay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ unix, want int64 }{
		{0, 0}, {86399, 0}, {86400, 1}, {-1, -1}, {-86400, -1}, {-86401, -2},
		{1793534400, 20758}, // 2026-11-01 12:00 UTC
	} {
		require.Equal(t, c.want, ledger.Day(c.unix), "unix %d", c.unix)
	}
}
