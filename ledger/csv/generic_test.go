package csv_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// txn is the part of a converted transaction the tests compare.
type txn struct {
	Day         string
	Amount      int64
	Description string
}

func TestConvertCSV(t *testing.T) {
	usd := csv.Mapping{DateColumn: "date", AmountColumn: "amount", DescriptionColumn: "description", Currency: "USD"}
	for _, tc := range []struct {
		name    string
		csv     string
		m       csv.Mapping
		opt     csv.Options
		want    []txn
		ccy     string
		current *int64 // nil: no balance object
		asOf    string // RFC 3339 of balance.as_of
	}{
		{
			name: "signed amount column",
			csv:  "date,amount,description\n2024-01-02,1500.00,Payroll ACME\n2024-01-03,-45.9,Coffee\n2024-01-03,+.5,Refund\n",
			m:    usd,
			want: []txn{{"2024-01-02", 150000, "Payroll ACME"}, {"2024-01-03", -4590, "Coffee"}, {"2024-01-03", 50, "Refund"}},
			ccy:  "usd",
		},
		{
			name: "debit and credit columns with a zero in the other column",
			csv:  "Booking Date,Text,Debit,Credit\n02/01/2024,\"Rent, January\",1200.00,0\n" + "03/01/2024,\"Salary \"\"ACME\"\"\",0.00,2500\n",
			m: csv.Mapping{DateColumn: "booking date", DateFormat: "02/01/2006", DebitColumn: "Debit", CreditColumn: "Credit",
				DescriptionColumn: "Text", Currency: "eur"},
			want: []txn{{"2024-01-02", -120000, "Rent, January"}, {"2024-01-03", 250000, `Salary "ACME"`}},
			ccy:  "eur",
		},
		{
			name: "running balance orders a day's rows and sets balance.current",
			// On 2024-03-05 the file lists the rows in the wrong order; the balances
			// say the deposit (900 -> 1100) came before the card payment (1100 -> 1050).
			csv:     "date,amount,balance,description\n2024-03-01,1000,1000,Opening deposit\n2024-03-04,-100,900,ATM\n2024-03-05,-50,1050,Card\n2024-03-05,200,1100,Deposit\n",
			m:       csv.Mapping{DateColumn: "date", AmountColumn: "amount", BalanceColumn: "balance", DescriptionColumn: "description", Currency: "usd"},
			want:    []txn{{"2024-03-01", 100000, "Opening deposit"}, {"2024-03-04", -10000, "ATM"}, {"2024-03-05", 20000, "Deposit"}, {"2024-03-05", -5000, "Card"}},
			ccy:     "usd",
			current: ptr(int64(105000)),
			asOf:    "2024-03-05T23:59:59Z",
		},
		{
			name:    "newest-first export, semicolon delimiter, explicit as-of",
			csv:     "Datum;Betrag;Saldo;Text\n2024-03-05;-50;1050;Card\n2024-03-04;-100;1100;ATM\n2024-03-01;1200;1200;Deposit\n",
			m:       csv.Mapping{DateColumn: "Datum", AmountColumn: "Betrag", BalanceColumn: "Saldo", DescriptionColumn: "Text", Currency: "chf", Delimiter: ';'},
			opt:     csv.Options{AsOf: csv.EndOfDay(time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC))},
			want:    []txn{{"2024-03-01", 120000, "Deposit"}, {"2024-03-04", -10000, "ATM"}, {"2024-03-05", -5000, "Card"}},
			ccy:     "chf",
			current: ptr(int64(110000)), // the balance at the end of 2024-03-04; the card payment walks forward
			asOf:    "2024-03-04T23:59:59Z",
		},
		{
			name: "currency column, zero-decimal currency, time of day kept",
			csv:  "when,amt,ccy\n2024-05-01 09:30,1500,JPY\n2024-05-01 08:00,-300,jpy\n",
			m:    csv.Mapping{DateColumn: "when", DateFormat: "2006-01-02 15:04", AmountColumn: "amt", CurrencyColumn: "ccy"},
			want: []txn{{"2024-05-01", -300, ""}, {"2024-05-01", 1500, ""}}, // by time of day
			ccy:  "jpy",
		},
		{
			name:    "current balance given without a balance column",
			csv:     "date,amount\n2024-01-02,10\n",
			m:       csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "usd"},
			opt:     csv.Options{CurrentBalance: ptr(int64(7700))},
			want:    []txn{{"2024-01-02", 1000, ""}},
			ccy:     "usd",
			current: ptr(int64(7700)),
			asOf:    "2024-01-02T23:59:59Z",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, skipped, err := csv.ConvertCSV(strings.NewReader(tc.csv), tc.m, tc.opt)
			require.NoError(t, err)
			require.Empty(t, skipped)
			data, err := f.Marshal()
			require.NoError(t, err)
			l, err := scoring.ParseLedgerFile(data)
			require.NoError(t, err)

			var got []txn
			for _, tx := range l.Transactions {
				require.Equal(t, tc.ccy, tx.Currency)
				require.Equal(t, scoring.StatusPosted, tx.Status)
				require.True(t, strings.HasPrefix(tx.ID, "fctxn_"), tx.ID)
				got = append(got, txn{tx.TransactedAt.Format(time.DateOnly), tx.Amount, tx.Description})
			}
			require.Equal(t, tc.want, got)
			require.Len(t, l.Accounts, 1)
			a := l.Accounts[0]
			require.True(t, strings.HasPrefix(a.ID, "fca_"), a.ID)
			require.Equal(t, "cash", a.Category)
			if tc.current == nil {
				require.False(t, a.HasBalance)
				return
			}
			require.True(t, a.HasBalance)
			require.Equal(t, *tc.current, a.Current)
			require.Equal(t, tc.ccy, a.Currency)
			require.Equal(t, tc.asOf, a.AsOf.Format(time.RFC3339))

			// Same input, same file: ids are derived from the input.
			again, _, err := csv.ConvertCSV(strings.NewReader(tc.csv), tc.m, tc.opt)
			require.NoError(t, err)
			data2, err := again.Marshal()
			require.NoError(t, err)
			require.Equal(t, string(data), string(data2))
		})
	}
}

func TestConvertCSVIdsAreStableAndDistinct(t *testing.T) {
	m := csv.Mapping{DateColumn: "date", AmountColumn: "amount", DescriptionColumn: "d", Currency: "usd"}
	opt := csv.Options{AccountID: "fca_mine"}
	// Two identical coffees on one day are two transactions with different ids; adding
	// a row elsewhere changes no existing id.
	a, _, err := csv.ConvertCSV(strings.NewReader("date,amount,d\n2024-01-02,-3,Coffee\n2024-01-02,-3,Coffee\n"), m, opt)
	require.NoError(t, err)
	b, _, err := csv.ConvertCSV(strings.NewReader("date,amount,d\n2024-01-01,50,Deposit\n2024-01-02,-3,Coffee\n2024-01-02,-3,Coffee\n"), m, opt)
	require.NoError(t, err)
	ta, tb := a.Accounts[0].Transactions, b.Accounts[0].Transactions
	require.NotEqual(t, ta[0].ID, ta[1].ID)
	require.Equal(t, ta[0].ID, tb[1].ID)
	require.Equal(t, ta[1].ID, tb[2].ID)
	require.Equal(t, "fca_mine", ta[0].Account)
}

func TestConvertCSVErrorsNameLineAndColumn(t *testing.T) {
	base := csv.Mapping{DateColumn: "date", AmountColumn: "amount", Currency: "usd"}
	dc := csv.Mapping{DateColumn: "date", DebitColumn: "debit", CreditColumn: "credit", Currency: "usd"}
	for _, tc := range []struct {
		name    string
		csv     string
		m       csv.Mapping
		want    string
		mapping bool // a mapping error, not a row error
	}{
		{"bad amount", "date,amount\n2024-01-01,10\n2024-01-02,\"12,3x\"\n", base, `line 3, column amount: "12,3x" is not a number`, false},
		{"thousands comma is not a decimal point", "date,amount\n2024-01-02,\"1,200.00\"\n", base, `line 2, column amount: "1,200.00" is not a number`, false},
		{"bad date", "date,amount\n2024-13-01,10\n", base, `line 2, column date: "2024-13-01" is not a date in the format 2006-01-02`, false},
		{"empty amount", "date,amount\n2024-01-01,\n", base, `line 2, column amount: "" is empty`, false},
		{"too many decimals", "date,amount\n2024-01-01,1.234\n", base, `line 2, column amount: "1.234" has more decimals than the currency's minor unit`, false},
		{"short row", "date,x,amount\n2024-01-01\n", base, `line 2: has 1 fields, the header has 3 (column amount is missing)`, false},
		{"line after a multi-line quoted field", "date,amount,d\n2024-01-01,1,\"two\nlines\"\n2024-01-02,x,y\n", base, `line 4, column amount: "x" is not a number`, false},
		{"debit and credit both set", "date,debit,credit\n2024-01-01,5,6\n", dc, `line 2, column credit: "6" is set and so is column debit ("5"): a row is a debit or a credit`, false},
		{"debit and credit both empty", "date,debit,credit\n2024-01-01,,\n", dc, `line 2: columns debit and credit are both empty`, false},
		{"mixed currencies", "date,amount,c\n2024-01-01,1,usd\n2024-01-02,1,eur\n", csv.Mapping{DateColumn: "date", AmountColumn: "amount", CurrencyColumn: "c"}, `line 3, column currency: "eur" differs from "usd" on line 2`, false},
		{"bad currency code", "date,amount,c\n2024-01-01,1,dollars\n", csv.Mapping{DateColumn: "date", AmountColumn: "amount", CurrencyColumn: "c"}, `line 2, column c: "dollars" is not a three-letter ISO 4217 code`, false},
		{"balance chain broken", "date,amount,balance\n2024-01-01,10,10\n2024-01-02,5,99\n", csv.Mapping{DateColumn: "date", AmountColumn: "amount", BalanceColumn: "balance", Currency: "usd"}, `lines 3: no order of the 1 rows dated 2024-01-02`, false},
		{"column not in header", "day,amount\n", base, `date column: column "date" is not in the header (day, amount)`, true},
		{"amount and debit", "date,amount\n", csv.Mapping{DateColumn: "date", AmountColumn: "amount", DebitColumn: "d", CreditColumn: "c", Currency: "usd"}, "either an amount column or debit and credit columns", true},
		{"no currency", "date,amount\n", csv.Mapping{DateColumn: "date", AmountColumn: "amount"}, "currency: not set", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := csv.ConvertCSV(strings.NewReader(tc.csv), tc.m, csv.Options{})
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Equal(t, tc.mapping, errors.Is(err, csv.ErrMapping))
		})
	}
}

func TestConvertCSVBadRows(t *testing.T) {
	in := "date,amount,d\n2024-01-01,10,a\n2024-01-02,1O,b\n2024-01-03,-4,c\n2024-01-0x,1,d\n"
	m := csv.Mapping{DateColumn: "date", AmountColumn: "amount", DescriptionColumn: "d", Currency: "usd"}

	// Default: fail whole, naming every bad row.
	_, _, err := csv.ConvertCSV(strings.NewReader(in), m, csv.Options{})
	var rowErrs csv.RowErrors
	require.ErrorAs(t, err, &rowErrs)
	require.Equal(t, []int{3, 5}, []int{rowErrs[0].Line, rowErrs[1].Line})
	require.Equal(t, `line 3, column amount: "1O" is not a number; line 5, column date: "2024-01-0x" is not a date in the format 2006-01-02`, err.Error())

	// --skip-bad-rows: the good rows all convert, the bad ones are reported.
	m.SkipBadRows = true
	f, skipped, err := csv.ConvertCSV(strings.NewReader(in), m, csv.Options{})
	require.NoError(t, err)
	require.Len(t, skipped, 2)
	var got []string
	for _, tx := range f.Accounts[0].Transactions {
		got = append(got, tx.Description)
	}
	require.Equal(t, []string{"a", "c"}, got)
}

func TestParseMinor(t *testing.T) {
	for _, tc := range []struct {
		in     string
		digits int
		want   int64
		err    string
	}{
		{"0", 2, 0, ""},
		{"12.3", 2, 1230, ""},
		{"-12.30", 2, -1230, ""},
		{"(45.10)", 2, -4510, ""},
		{"1 234.50", 2, 123450, ""},
		{"7.", 2, 700, ""},
		{".07", 2, 7, ""},
		{"1500", 0, 1500, ""},
		{"1.50", 0, 0, "has more decimals than the currency's minor unit"},
		{"2.500", 2, 250, ""},
		{"", 2, 0, "is empty"},
		{"-", 2, 0, "is not a number"},
		{"1e3", 2, 0, "is not a number"},
		{"92233720368547758.08", 2, 0, "is too large"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := csv.ParseMinor(tc.in, tc.digits)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestBerkaDescription(t *testing.T) {
	for _, tc := range []struct{ op, ks, want string }{
		{"VKLAD", "", "VKLAD (cash deposit)"},
		{"PREVOD Z UCTU", "DUCHOD", "PREVOD Z UCTU DUCHOD (collection from another bank: pension)"},
		{"", "UROK", "UROK (interest credited)"},
		{"VYBER", " ", "VYBER (cash withdrawal)"},
		{"", "", "(no operation)"},
	} {
		require.Equal(t, tc.want, csv.BerkaDescription(tc.op, tc.ks))
	}
}

func ptr[T any](v T) *T { return &v }
