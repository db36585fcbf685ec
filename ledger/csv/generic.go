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
	r := record{cols: c, rec: rec, line: line}
	ccy, e := r.currency(currency)
	if e != nil {
		return Row{}, e
	}
	row := Row{Line: line, Currency: ccy}
	digits := MinorDigits(row.Currency)
	if row.Date, e = r.date(layout); e != nil {
		return Row{}, e
	}
	if c.amount.idx >= 0 {
		row.Amount, e = r.minor(c.amount, digits)
	} else {
		row.Amount, e = r.debitCredit(digits)
	}
	if e != nil {
		return Row{}, e
	}
	if c.desc.idx >= 0 {
		if row.Description, e = r.get(c.desc); e != nil {
			return Row{}, e
		}
	}
	if c.balance.idx >= 0 {
		if row.Balance, e = r.minor(c.balance, digits); e != nil {
			return Row{}, e
		}
		row.HasBalance = true
	}
	return row, nil
}

// record is one data record with the columns that read it and the line it starts
// on, which every RowError names.
type record struct {
	cols columns
	rec  []string
	line int
}

// get returns the trimmed value of col, "" for a column not mapped, or an error when
// the record is too short to hold it.
func (r record) get(col column) (string, *RowError) {
	if col.idx < 0 {
		return "", nil
	}
	if col.idx >= len(r.rec) {
		return "", &RowError{Line: r.line, Problem: fmt.Sprintf("has %d fields, the header has %d (column %s is missing)", len(r.rec), r.cols.width, col.name)}
	}
	return strings.TrimSpace(r.rec[col.idx]), nil
}

// fail returns the error of value v of col.
func (r record) fail(col column, v, problem string) *RowError {
	return &RowError{Line: r.line, Column: col.name, Value: v, Problem: problem}
}

// currency returns the record's lower-case currency: the currency column's value,
// which must be an ISO 4217 code, or def when no column is mapped.
func (r record) currency(def string) (string, *RowError) {
	if r.cols.currency.idx < 0 {
		return strings.ToLower(def), nil
	}
	v, e := r.get(r.cols.currency)
	if e != nil {
		return "", e
	}
	if !isCurrencyCode(v) {
		return "", r.fail(r.cols.currency, v, "is not a three-letter ISO 4217 code")
	}
	return strings.ToLower(v), nil
}

// date returns the record's date in layout, as UTC. A date before 1970-01-02 is an
// error: Build needs a positive transacted_at, and the first row of 1970-01-01 would
// get 0.
func (r record) date(layout string) (time.Time, *RowError) {
	v, e := r.get(r.cols.date)
	if e != nil {
		return time.Time{}, e
	}
	d, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return time.Time{}, r.fail(r.cols.date, v, "is not a date in the format "+layout)
	}
	if d.Unix() < secondsPerDay {
		return time.Time{}, r.fail(r.cols.date, v, "is before 1970-01-02")
	}
	return d, nil
}

// minor returns the value of col in minor units of a currency with digits decimals.
func (r record) minor(col column, digits int) (int64, *RowError) {
	v, e := r.get(col)
	if e != nil {
		return 0, e
	}
	return r.parseMinor(col, v, digits)
}

// parseMinor parses value v of col in minor units; the error names col.
func (r record) parseMinor(col column, v string, digits int) (int64, *RowError) {
	a, err := ParseMinor(v, digits)
	if err != nil {
		return 0, r.fail(col, v, err.Error())
	}
	return a, nil
}

// debitCredit returns the signed amount of a record with a debit and a credit column
// (credit − debit, signs of the values ignored). Exactly one of them must hold a
// value: both empty, or both non-zero, is an error.
func (r record) debitCredit(digits int) (int64, *RowError) {
	c := r.cols
	dv, e := r.get(c.debit)
	if e != nil {
		return 0, e
	}
	cv, e := r.get(c.credit)
	if e != nil {
		return 0, e
	}
	var debit, credit int64
	if dv != "" {
		if debit, e = r.parseMinor(c.debit, dv, digits); e != nil {
			return 0, e
		}
	}
	if cv != "" {
		if credit, e = r.parseMinor(c.credit, cv, digits); e != nil {
			return 0, e
		}
	}
	switch {
	case dv == "" && cv == "":
		return 0, &RowError{Line: r.line, Problem: fmt.Sprintf("columns %s and %s are both empty", c.debit.name, c.credit.name)}
	case debit != 0 && credit != 0:
		return 0, r.fail(c.credit, cv, fmt.Sprintf("is set and so is column %s (%q): a row is a debit or a credit", c.debit.name, dv))
	}
	return abs(credit) - abs(debit), nil
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
