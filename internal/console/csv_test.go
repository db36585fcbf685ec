package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// statement is a bank export as many banks write it: newest first, US dates, Debit and
// Credit columns and a running balance.
func statement(days int) string {
	type row struct {
		d           time.Time
		desc        string
		debit, cred int64
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var rows []row
	for i := range days {
		d := start.AddDate(0, 0, i)
		if i%14 == 4 {
			rows = append(rows, row{d, "ACME CORP PAYROLL", 0, 210000})
		}
		if d.Day() == 2 {
			rows = append(rows, row{d, "RENT", 95000, 0})
		}
		if i%3 == 0 {
			rows = append(rows, row{d, "GROCERY MART", 4200 + int64(i%5)*100, 0})
		}
	}
	bal := int64(150000)
	lines := make([]string, len(rows))
	for i, r := range rows {
		bal += r.cred - r.debit
		amt := func(v int64) string {
			if v == 0 {
				return ""
			}
			return fmt.Sprintf("%d.%02d", v/100, v%100)
		}
		lines[len(rows)-1-i] = fmt.Sprintf("%s,%s,%s,%s,%d.%02d", r.d.Format("01/02/2006"), r.desc, amt(r.debit), amt(r.cred), bal/100, bal%100)
	}
	return "Posting Date,Description,Debit,Credit,Balance\n" + strings.Join(lines, "\n") + "\n"
}

func TestConvertStatementRecognisesCommonHeaders(t *testing.T) {
	out, n, m, err := convertStatement([]byte(statement(120)), MappingForm{})
	require.NoError(t, err)
	require.Equal(t, MappingForm{DateColumn: "Posting Date", DateFormat: "01/02/2006", DescriptionColumn: "Description",
		DebitColumn: "Debit", CreditColumn: "Credit", BalanceColumn: "Balance", Currency: "usd"}, m)
	lf, err := ledger.Parse(out)
	require.NoError(t, err)
	require.Len(t, lf.Accounts, 1)
	require.Equal(t, n, len(lf.Accounts[0].Transactions))
	require.Greater(t, n, 50)

	// A signed Amount column, ISO dates, mapped by hand where the header is unusual.
	csv := "When,What,Amount\n2026-03-01,PAY,100.00\n2026-03-02,SHOP,-20.50\n"
	_, _, _, err = convertStatement([]byte(csv), MappingForm{})
	require.ErrorContains(t, err, `line 1: the header "When,What,Amount" has no a date column`)
	_, n, m, err = convertStatement([]byte(csv), MappingForm{DateColumn: "When", DescriptionColumn: "What"})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "Amount", m.AmountColumn)
	require.Equal(t, "2006-01-02", m.DateFormat)
}

func TestConvertStatementNamesTheBadLine(t *testing.T) {
	bad := "Date,Description,Amount\n2026-03-01,PAY,100.00\n2026-03-02,SHOP\n2026-03-03,SHOP,-5.00\n"
	_, _, _, err := convertStatement([]byte(bad), MappingForm{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "line 3")
	bad = "Date,Description,Amount\n2026-03-01,PAY,100.00\n2026-03-02,SHOP,abc\n"
	_, _, _, err = convertStatement([]byte(bad), MappingForm{})
	require.EqualError(t, err, `line 3, column Amount: "abc" is not a number`)
}
