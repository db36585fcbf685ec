package csv_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
)

// TestBadInputGenericCSV is issue 9's table for generic CSV imports: each bad input and
// the exact error ConvertCSV gives, naming the line and the column. The good rows of a
// case are never lost: by default nothing is converted (the command writes nothing), and
// with SkipBadRows every good row is converted and the bad one reported with the same
// message.
func TestBadInputGenericCSV(t *testing.T) {
	t.Parallel()
	signed := csv.Mapping{DateColumn: "date", AmountColumn: "amount", DescriptionColumn: "memo", Currency: "usd"}
	withBalance := signed
	withBalance.BalanceColumn = "balance"
	debitCredit := csv.Mapping{DateColumn: "date", DebitColumn: "debit", CreditColumn: "credit", Currency: "usd"}
	perRow := csv.Mapping{DateColumn: "date", AmountColumn: "amount", CurrencyColumn: "ccy"}
	const head = "date,amount,memo\n2024-01-01,100.00,pay\n2024-01-02,-12.50,shop\n" // two good rows
	for _, c := range []struct {
		name string
		in   string
		m    csv.Mapping
		want string
		// good is the number of good rows a SkipBadRows run converts; -1 when the error
		// concerns the whole file (the mapping, the CSV syntax, the ordering), which no
		// skipping recovers from.
		good    int
		mapping bool // the error wraps csv.ErrMapping
	}{
		// Row values: the line and the column's header name.
		{name: "amount not a number", in: head + "2024-01-03,12.3x,x\n", m: signed, good: 2,
			want: `line 4, column amount: "12.3x" is not a number`},
		{name: "thousands separator comma", in: head + "2024-01-03,\"1,200.00\",x\n", m: signed, good: 2,
			want: `line 4, column amount: "1,200.00" is not a number`},
		{name: "empty amount", in: head + "2024-01-03,,x\n", m: signed, good: 2,
			want: `line 4, column amount: "" is empty`},
		{name: "more decimals than cents", in: head + "2024-01-03,1.005,x\n", m: signed, good: 2,
			want: `line 4, column amount: "1.005" has more decimals than the currency's minor unit`},
		{name: "decimals in a zero-decimal currency", in: "date,amount\n2024-01-01,500\n2024-01-02,1.5\n",
			m: csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "jpy"}, good: 1,
			want: `line 3, column amount: "1.5" has more decimals than the currency's minor unit`},
		{name: "amount beyond the ledger's range", in: head + "2024-01-03,1000000000000.01,x\n", m: signed, good: 2,
			want: `line 4, column amount: "1000000000000.01" is too large`},
		{name: "amount beyond int64", in: head + "2024-01-03,99999999999999999999,x\n", m: signed, good: 2,
			want: `line 4, column amount: "99999999999999999999" is too large`},
		{name: "date in another format", in: head + "03/01/2024,5,x\n", m: signed, good: 2,
			want: `line 4, column date: "03/01/2024" is not a date in the format 2006-01-02`},
		{name: "impossible date", in: head + "2024-02-30,5,x\n", m: signed, good: 2,
			want: `line 4, column date: "2024-02-30" is not a date in the format 2006-01-02`},
		{name: "date before 1970-01-02", in: head + "1969-12-31,5,x\n", m: signed, good: 2,
			want: `line 4, column date: "1969-12-31" is before 1970-01-02`},
		{name: "row too short", in: head + "2024-01-03\n", m: signed, good: 2,
			want: `line 4: has 1 fields, the header has 3 (column amount is missing)`},
		{name: "debit and credit both set", in: "date,debit,credit\n2024-01-01,,5\n2024-01-02,5,6\n", m: debitCredit, good: 1,
			want: `line 3, column credit: "6" is set and so is column debit ("5"): a row is a debit or a credit`},
		{name: "debit and credit both empty", in: "date,debit,credit\n2024-01-01,,5\n2024-01-02,,\n", m: debitCredit, good: 1,
			want: `line 3: columns debit and credit are both empty`},
		{name: "currency not a code", in: "date,amount,ccy\n2024-01-01,1,usd\n2024-01-02,1,US$\n", m: perRow, good: 1,
			want: `line 3, column ccy: "US$" is not a three-letter ISO 4217 code`},
		{name: "running balance not a number", in: "date,amount,memo,balance\n2024-01-01,10,a,10\n2024-01-02,5,b,n/a\n", m: withBalance, good: 1,
			want: `line 3, column balance: "n/a" is not a number`},

		// The whole file.
		{name: "empty file", in: "", m: signed, good: -1, want: "read csv: no header row"},
		{name: "header only", in: "date,amount,memo\n", m: signed, good: -1, want: "read csv: no rows"},
		{name: "unterminated quote", in: head + "2024-01-03,\"5,x\n", m: signed, good: -1,
			want: `read csv: parse error on line 4, column 17: extraneous or missing " in quoted-field`},
		{name: "bare quote in a field", in: head + "2024-01-03,5,a \"quoted\" memo\n", m: signed, good: -1,
			want: `read csv: parse error on line 4, column 16: bare " in non-quoted-field`},
		{name: "two currencies", in: "date,amount,ccy\n2024-01-01,1,usd\n2024-01-02,1,eur\n", m: perRow, good: -1,
			want: `line 3, column currency: "eur" differs from "usd" on line 2: a ledger account holds one currency`},
		{name: "running balance that contradicts the amounts", in: "date,amount,memo,balance\n2024-01-01,10,a,10\n2024-01-02,5,b,99\n", m: withBalance, good: -1,
			want: `lines 3: no order of the 1 rows dated 2024-01-02 makes previous balance + amount equal the balance within 0 minor units`},
		{name: "running balance on some rows only", in: "date,amount,memo,balance\n2024-01-01,10,a,10\n2024-01-02,5,b,\n", m: withBalance, good: -1,
			want: `line 3, column balance: "" is empty`},

		// The mapping (the command's flags): named by the flag's subject.
		{name: "date column not in the header", in: "day,amount,memo\n", m: signed, good: -1, mapping: true,
			want: `bad column mapping: date column: column "date" is not in the header (day, amount, memo)`},
		{name: "column twice in the header", in: "date,amount,amount\n", m: csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "usd"}, good: -1, mapping: true,
			want: `bad column mapping: amount column: column "amount" appears more than once in the header`},
		{name: "amount and debit columns", in: head, m: csv.Mapping{DateColumn: "date", AmountColumn: "amount", DebitColumn: "d", CreditColumn: "c", Currency: "usd"}, good: -1, mapping: true,
			want: "bad column mapping: set either an amount column or debit and credit columns, not both"},
		{name: "debit without credit", in: head, m: csv.Mapping{DateColumn: "date", DebitColumn: "d", Currency: "usd"}, good: -1, mapping: true,
			want: "bad column mapping: amount column: not set (or set both debit and credit columns)"},
		{name: "no currency", in: head, m: csv.Mapping{DateColumn: "date", AmountColumn: "amount"}, good: -1, mapping: true,
			want: "bad column mapping: currency: not set (set a currency or a currency column)"},
		{name: "currency not a code", in: head, m: csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "dollars"}, good: -1, mapping: true,
			want: `bad column mapping: currency: "dollars" is not a three-letter ISO 4217 code`},
		{name: "currency and currency column", in: head, m: csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "usd", CurrencyColumn: "ccy"}, good: -1, mapping: true,
			want: "bad column mapping: set either a currency or a currency column, not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, skipped, err := csv.ConvertCSV(strings.NewReader(c.in), c.m, csv.Options{})
			require.EqualError(t, err, c.want)
			require.Equal(t, c.mapping, errors.Is(err, csv.ErrMapping))
			require.Zero(t, f, "a refused input converts to nothing")
			require.Empty(t, skipped)
			if c.good < 0 {
				return
			}
			var rowErrs csv.RowErrors
			require.ErrorAs(t, err, &rowErrs)

			// Nothing accepted is lost: skipping the bad row converts every good one.
			m := c.m
			m.SkipBadRows = true
			f, skipped, err = csv.ConvertCSV(strings.NewReader(c.in), m, csv.Options{})
			require.NoError(t, err)
			require.Len(t, skipped, 1)
			require.Equal(t, c.want, skipped[0].Error())
			require.Len(t, f.Accounts[0].Transactions, c.good)
			require.NoError(t, f.Validate())
		})
	}
}

// TestBadInputGenericCSVListsEveryBadRow: a file with several bad rows names each of
// them in one error, so one run shows the user everything to fix, and the first ten in
// full when there are more.
func TestBadInputGenericCSVListsEveryBadRow(t *testing.T) {
	t.Parallel()
	m := csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "usd"}
	in := "date,amount\n" + strings.Repeat("2024-01-01,x\n", 12) + "2024-01-02,1\n"
	_, _, err := csv.ConvertCSV(strings.NewReader(in), m, csv.Options{})
	want := make([]string, 10)
	for i := range want {
		want[i] = `line ` + string(rune('2'+i)) + `, column amount: "x" is not a number`
	}
	want[8] = `line 10, column amount: "x" is not a number`
	want[9] = `line 11, column amount: "x" is not a number`
	require.EqualError(t, err, strings.Join(want, "; ")+"; and 2 more bad rows")
}

// berkaHead is trans.asc's header and two good rows of account 1.
const berkaHead = `"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"` + "\n" +
	`"1";"1";"930101";"PRIJEM";"VKLAD";"1000.0";"1000.0";"";"";""` + "\n" +
	`"2";"1";"930102";"VYDAJ";"VYBER";"200.0";"800.0";"";"";""` + "\n"

// TestBadInputBerka is issue 9's table for Berka imports: each bad trans.asc and the
// exact error, naming the line and the column. A refused file converts no account, so
// the command writes no file.
func TestBadInputBerka(t *testing.T) {
	t.Parallel()
	row := func(fields string) string { return berkaHead + fields + "\n" }
	for _, c := range []struct {
		name, in string
		opt      csv.BerkaOptions
		want     string
	}{
		{name: "empty file", in: "", want: "read berka header: EOF"},
		{name: "another file's header", in: `"account_id";"district_id";"frequency";"date";"x";"y";"z";"a";"b";"c"` + "\n",
			want: `read berka header: column 1 is "account_id", want "trans_id"`},
		{name: "a missing field", in: row(`"3";"1";"930103";"VYDAJ";"VYBER";"1.0";"799.0";"";""`),
			want: "read berka: record on line 4: wrong number of fields"},
		{name: "empty trans_id", in: row(`"";"1";"930103";"VYDAJ";"VYBER";"1.0";"799.0";"";"";""`),
			want: `line 4, column trans_id: "" is empty`},
		{name: "repeated trans_id", in: row(`"2";"1";"930103";"VYDAJ";"VYBER";"1.0";"799.0";"";"";""`),
			want: `line 4, column trans_id: "2" repeats the trans_id of line 3`},
		{name: "account_id not a number", in: row(`"3";"A1";"930103";"VYDAJ";"VYBER";"1.0";"799.0";"";"";""`),
			want: `line 4, column account_id: "A1" is not an account number`},
		{name: "date not YYMMDD", in: row(`"3";"1";"1993-01-03";"VYDAJ";"VYBER";"1.0";"799.0";"";"";""`),
			want: `line 4, column date: "1993-01-03" is not a date in the format YYMMDD`},
		{name: "unknown type", in: row(`"3";"1";"930103";"OUT";"VYBER";"1.0";"799.0";"";"";""`),
			want: `line 4, column type: "OUT" is not PRIJEM, VYDAJ or VYBER`},
		{name: "negative amount", in: row(`"3";"1";"930103";"VYDAJ";"VYBER";"-1.0";"799.0";"";"";""`),
			want: `line 4, column amount: "-1.0" is negative (the sign comes from type)`},
		{name: "amount not a number", in: row(`"3";"1";"930103";"VYDAJ";"VYBER";"1,0";"799.0";"";"";""`),
			want: `line 4, column amount: "1,0" is not a number`},
		{name: "balance not a number", in: row(`"3";"1";"930103";"VYDAJ";"VYBER";"1.0";"";"";"";""`),
			want: `line 4, column balance: "" is empty`},
		{name: "balance that contradicts the amounts", in: row(`"3";"1";"930103";"VYDAJ";"VYBER";"1.0";"500.0";"";"";""`),
			want: "convert berka account 1: lines 4: no order of the 1 rows dated 1993-01-03 makes previous balance + amount equal the balance within 10 minor units"},
		{name: "account not in the file", in: berkaHead, opt: csv.BerkaOptions{Accounts: []string{"7"}},
			want: "convert berka: account 7: no rows in trans.asc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := csv.ConvertBerka(strings.NewReader(c.in), c.opt)
			require.EqualError(t, err, c.want)
			require.Nil(t, got, "a refused file converts no account")
		})
	}
	// The base file converts, so each error above comes from its one change.
	got, err := csv.ConvertBerka(strings.NewReader(berkaHead), csv.BerkaOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, got[0].File.Validate())
	require.Equal(t, int64(80000), got[0].File.Accounts[0].Account.Balance.Current[csv.BerkaCurrency])
}
