package csv

import (
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Mapping says which header columns of a generic statement CSV hold what. Column names
// match the header case-insensitively, ignoring surrounding spaces.
type Mapping struct {
	DateColumn string
	// DateFormat is a Go time layout; empty means "2006-01-02". Dates are UTC.
	DateFormat string
	// AmountColumn holds signed amounts (positive = money in). Alternatively
	// DebitColumn (money out) and CreditColumn (money in) hold unsigned amounts; a row
	// fills one of them (the other empty or zero); a sign on a debit or credit value is
	// ignored.
	AmountColumn string
	DebitColumn  string
	CreditColumn string
	// DescriptionColumn is optional.
	DescriptionColumn string
	// BalanceColumn is optional: the running balance right after the row.
	BalanceColumn string
	// Currency applies to every row; CurrencyColumn reads it per row instead.
	Currency       string
	CurrencyColumn string
	// Delimiter separates fields; zero means ','.
	Delimiter rune
	// SkipBadRows drops rows with a bad value and reports them instead of failing.
	SkipBadRows bool
}

// RowError is one bad value: its line, the column's name and the problem.
type RowError struct {
	Line    int
	Column  string
	Value   string
	Problem string
}

// Error formats e as `line 17, column amount: "12,3x" is not a number`.
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("line %d, column %s: %q %s", e.Line, e.Column, e.Value, e.Problem)
}

// RowErrors is the list of every bad row of an input, in line order.
type RowErrors []RowError

// maxListedErrors bounds how many bad rows RowErrors.Error spells out.
const maxListedErrors = 10

// Error names the first bad rows and the count of the rest.
func (es RowErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == maxListedErrors {
			fmt.Fprintf(&b, "; and %d more bad rows", len(es)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// ErrMapping marks a mapping that does not fit the input (a column not in the header,
// both or neither of amount and debit/credit, …).
var ErrMapping = errors.New("bad column mapping")

// ReadCSV reads a statement CSV with a header row through mapping m and returns its
// rows in input order.
//
// Every data row is checked; a bad value (a date not in the format, an amount that is
// not a number, a missing field) becomes a RowError naming the line and the column. Without
// m.SkipBadRows, ReadCSV returns the good rows and a RowErrors error listing every bad
// row (the caller writes nothing); with it, the bad rows are returned as skipped and
// the error is nil. Empty lines are ignored. A malformed CSV (an unterminated quote) is
// an error that no skipping recovers from.
func ReadCSV(r io.Reader, m Mapping) (rows []Row, skipped []RowError, err error) {
	cr := encsv.NewReader(r)
	cr.Comma = ','
	if m.Delimiter != 0 {
		cr.Comma = m.Delimiter
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("read csv: no header row")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read csv header: %w", err)
	}
	cols, err := m.resolve(header)
	if err != nil {
		return nil, nil, err
	}
	layout := m.DateFormat
	if layout == "" {
		layout = time.DateOnly
	}
	var bad RowErrors
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		row, rerr := cols.row(rec, line, layout, m.Currency)
		if rerr != nil {
			bad = append(bad, *rerr)
			continue
		}
		rows = append(rows, row)
	}
	if len(bad) > 0 && !m.SkipBadRows {
		return rows, nil, bad
	}
	return rows, bad, nil
}

// column is one mapped column: its name as the user gave it and its index.
type column struct {
	name string
	idx  int // -1 = not mapped
}

type columns struct {
	date, amount, debit, credit, desc, balance, currency column
	width                                                int
}

func (m Mapping) resolve(header []string) (columns, error) {
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	index := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[k]; dup && k != "" {
			index[k] = -2 // ambiguous
			continue
		}
		index[k] = i
	}
	cols := columns{width: len(header)}
	find := func(flag, name string, required bool) (column, error) {
		if name == "" {
			if required {
				return column{}, fmt.Errorf("%w: %s: not set", ErrMapping, flag)
			}
			return column{idx: -1}, nil
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(name))]
		switch {
		case !ok:
			return column{}, fmt.Errorf("%w: %s: column %q is not in the header (%s)", ErrMapping, flag, name, strings.Join(header, ", "))
		case i == -2:
			return column{}, fmt.Errorf("%w: %s: column %q appears more than once in the header", ErrMapping, flag, name)
		}
		return column{name: name, idx: i}, nil
	}
	var err error
	if cols.date, err = find("date column", m.DateColumn, true); err != nil {
		return columns{}, err
	}
	switch {
	case m.AmountColumn != "" && (m.DebitColumn != "" || m.CreditColumn != ""):
		return columns{}, fmt.Errorf("%w: set either an amount column or debit and credit columns, not both", ErrMapping)
	case m.AmountColumn == "" && (m.DebitColumn == "" || m.CreditColumn == ""):
		return columns{}, fmt.Errorf("%w: amount column: not set (or set both debit and credit columns)", ErrMapping)
	}
	if cols.amount, err = find("amount column", m.AmountColumn, false); err != nil {
		return columns{}, err
	}
	if cols.debit, err = find("debit column", m.DebitColumn, false); err != nil {
		return columns{}, err
	}
	if cols.credit, err = find("credit column", m.CreditColumn, false); err != nil {
		return columns{}, err
	}
	if cols.desc, err = find("description column", m.DescriptionColumn, false); err != nil {
		return columns{}, err
	}
	if cols.balance, err = find("balance column", m.BalanceColumn, false); err != nil {
		return columns{}, err
	}
	switch {
	case m.Currency != "" && m.CurrencyColumn != "":
		return columns{}, fmt.Errorf("%w: set either a currency or a currency column, not both", ErrMapping)
	case m.Currency == "" && m.CurrencyColumn == "":
		return columns{}, fmt.Errorf("%w: currency: not set (set a currency or a currency column)", ErrMapping)
	case m.Currency != "" && !isCurrencyCode(m.Currency):
		return columns{}, fmt.Errorf("%w: currency: %q is not a three-letter ISO 4217 code", ErrMapping, m.Currency)
	}
	if cols.currency, err = find("currency column", m.CurrencyColumn, false); err != nil {
		return columns{}, err
	}
	return cols, nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// row converts one record; the error names the line and column.
func (c columns) row(rec []string, line int, layout, currency string) (Row, *RowError) {
	get := func(col column) (string, *RowError) {
		if col.idx < 0 {
			return "", nil
		}
		if col.idx >= len(rec) {
			return "", &RowError{Line: line, Problem: fmt.Sprintf("has %d fields, the header has %d (column %s is missing)", len(rec), c.width, col.name)}
		}
		return strings.TrimSpace(rec[col.idx]), nil
	}
	fail := func(col column, v, problem string) (Row, *RowError) {
		return Row{}, &RowError{Line: line, Column: col.name, Value: v, Problem: problem}
	}
	row := Row{Line: line, Currency: strings.ToLower(currency)}
	if c.currency.idx >= 0 {
		v, e := get(c.currency)
		if e != nil {
			return Row{}, e
		}
		if !isCurrencyCode(v) {
			return fail(c.currency, v, "is not a three-letter ISO 4217 code")
		}
		row.Currency = strings.ToLower(v)
	}
	digits := MinorDigits(row.Currency)

	v, e := get(c.date)
	if e != nil {
		return Row{}, e
	}
	d, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return fail(c.date, v, "is not a date in the format "+layout)
	}
	if d.Unix() < secondsPerDay {
		return fail(c.date, v, "is before 1970-01-02")
	}
	row.Date = d

	if c.amount.idx >= 0 {
		v, e := get(c.amount)
		if e != nil {
			return Row{}, e
		}
		a, err := ParseMinor(v, digits)
		if err != nil {
			return fail(c.amount, v, err.Error())
		}
		row.Amount = a
	} else {
		dv, e := get(c.debit)
		if e != nil {
			return Row{}, e
		}
		cv, e := get(c.credit)
		if e != nil {
			return Row{}, e
		}
		var debit, credit int64
		if dv != "" {
			if debit, err = ParseMinor(dv, digits); err != nil {
				return fail(c.debit, dv, err.Error())
			}
		}
		if cv != "" {
			if credit, err = ParseMinor(cv, digits); err != nil {
				return fail(c.credit, cv, err.Error())
			}
		}
		switch {
		case dv == "" && cv == "":
			return Row{}, &RowError{Line: line, Problem: fmt.Sprintf("columns %s and %s are both empty", c.debit.name, c.credit.name)}
		case debit != 0 && credit != 0:
			return fail(c.credit, cv, fmt.Sprintf("is set and so is column %s (%q): a row is a debit or a credit", c.debit.name, dv))
		}
		row.Amount = abs(credit) - abs(debit)
	}

	if c.desc.idx >= 0 {
		if row.Description, e = get(c.desc); e != nil {
			return Row{}, e
		}
	}
	if c.balance.idx >= 0 {
		v, e := get(c.balance)
		if e != nil {
			return Row{}, e
		}
		b, err := ParseMinor(v, digits)
		if err != nil {
			return fail(c.balance, v, err.Error())
		}
		row.Balance, row.HasBalance = b, true
	}
	return row, nil
}

// NewestFirst reports whether rows run from the newest date to the oldest (many banks
// export statements that way); ConvertCSV then reverses them, so rows of one day keep
// their relative order read from the bottom.
func NewestFirst(rows []Row) bool {
	return len(rows) > 1 && dayOf(rows[0].Date) > dayOf(rows[len(rows)-1].Date)
}

// ConvertCSV reads a generic statement CSV (ReadCSV) and builds a one-account ledger
// file (Build). Rows in newest-first order are reversed first. Skipped bad rows (with
// m.SkipBadRows) are returned; with skipped rows a day whose running balances no
// longer chain keeps its input order instead of failing.
func ConvertCSV(r io.Reader, m Mapping, opt Options) (File, []RowError, error) {
	rows, skipped, err := ReadCSV(r, m)
	if err != nil {
		return File{}, nil, err
	}
	if len(rows) == 0 {
		return File{}, skipped, fmt.Errorf("read csv: %w", ErrNoRows)
	}
	if NewestFirst(rows) {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	if len(skipped) > 0 {
		opt.InputOrderOnChainFailure = true
	}
	if opt.Currency == "" {
		opt.Currency = m.Currency
	}
	e, err := Build(rows, opt)
	if err != nil {
		return File{}, skipped, err
	}
	return File{Accounts: []Entry{e}}, skipped, nil
}
