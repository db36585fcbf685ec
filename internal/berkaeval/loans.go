package berkaeval

import (
	"bytes"
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

// LoanFile is the loans file inside a Berka data folder.
const LoanFile = "loan.asc"

// MinHistoryDays is the least account history a loan needs to be evaluated: its
// account's first transaction is at least this many days before the loan date, so
// every 30-, 60- and 90-day window of the feature set has data (issue 8 point 6).
const MinHistoryDays = 90

// minorPerCZK converts loan.asc's whole-CZK amounts into minor units (hellers).
const minorPerCZK = 100

// loanHeader is loan.asc's header, in order.
var loanHeader = []string{"loan_id", "account_id", "date", "amount", "duration", "payments", "status"}

// defaultStatus says which loan.asc statuses are defaults: B (finished, not paid) and
// D (running, client in debt); A (finished, no problems) and C (running, OK so far)
// are not.
var defaultStatus = map[string]bool{"A": false, "B": true, "C": false, "D": true}

// Loan is one row of loan.asc.
type Loan struct {
	ID        string
	AccountID string
	Date      time.Time // the day the loan was granted (UTC midnight)
	AmountCZK int64
	Months    int
	Status    string // A, B, C or D
}

// Defaulted reports whether the loan's status is a default (B or D).
func (l Loan) Defaulted() bool { return defaultStatus[l.Status] }

// ReadLoans reads loan.asc. Any bad value is an error naming its line and column.
func ReadLoans(r io.Reader) ([]Loan, error) {
	cr := encsv.NewReader(r)
	cr.Comma = ';'
	cr.FieldsPerRecord = len(loanHeader)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read loans header: %w", err)
	}
	if !slices.Equal(header, loanHeader) {
		return nil, fmt.Errorf("read loans header: %q, want %q", header, loanHeader)
	}
	var out []Loan
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read loans: %w", err)
		}
		line, _ := cr.FieldPos(0)
		l, err := loanRow(rec)
		if err != nil {
			return nil, fmt.Errorf("read loans: line %d: %w", line, err)
		}
		out = append(out, l)
	}
}

func loanRow(rec []string) (Loan, error) {
	bad := func(i int) error { return fmt.Errorf("%s %q is not valid", loanHeader[i], rec[i]) }
	d, err := time.ParseInLocation(csv.BerkaDateFormat, rec[2], time.UTC)
	if err != nil {
		return Loan{}, bad(2)
	}
	amt, err := strconv.ParseInt(rec[3], 10, 64)
	if err != nil || amt <= 0 {
		return Loan{}, bad(3)
	}
	months, err := strconv.Atoi(rec[4])
	if err != nil || months <= 0 {
		return Loan{}, bad(4)
	}
	if _, ok := defaultStatus[rec[6]]; !ok || rec[0] == "" || rec[1] == "" {
		return Loan{}, bad(6)
	}
	return Loan{ID: rec[0], AccountID: rec[1], Date: d, AmountCZK: amt, Months: months, Status: rec[6]}, nil
}

// transactions holds trans.asc split by account, as records, so that one account's
// rows before a date can be handed to csv.ConvertBerka (which has no date cut).
type transactions struct {
	header  []string
	byAcct  map[string][][]string
	first   map[string]time.Time // each account's first day
	dataEnd time.Time            // the last day of the file
	dateCol int
}

// readTransactions reads trans.asc as plain ';'-separated records, locating
// account_id and date by their header names; csv.ConvertBerka validates every value
// when each account is converted.
func readTransactions(r io.Reader) (*transactions, error) {
	cr := encsv.NewReader(r)
	cr.Comma = ';'
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read transactions header: %w", err)
	}
	acctCol, dateCol := slices.Index(header, "account_id"), slices.Index(header, "date")
	if acctCol < 0 || dateCol < 0 {
		return nil, fmt.Errorf("read transactions header: %q lacks account_id or date", header)
	}
	t := &transactions{header: header, byAcct: map[string][][]string{}, first: map[string]time.Time{}, dateCol: dateCol}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read transactions: %w", err)
		}
		d, err := time.ParseInLocation(csv.BerkaDateFormat, rec[dateCol], time.UTC)
		if err != nil {
			line, _ := cr.FieldPos(dateCol)
			return nil, fmt.Errorf("read transactions: line %d: date %q is not YYMMDD", line, rec[dateCol])
		}
		a := rec[acctCol]
		t.byAcct[a] = append(t.byAcct[a], rec)
		if f, ok := t.first[a]; !ok || d.Before(f) {
			t.first[a] = d
		}
		if d.After(t.dataEnd) {
			t.dataEnd = d
		}
	}
}

// historyBefore converts the rows of account acct dated strictly before day into a
// scoring ledger with csv.ConvertBerka (the code of `underwriter ledger import-csv
// --format berka`), with balance.as_of at the end of asOf's day, and parses it as a
// ledger file.
func (t *transactions) historyBefore(acct string, day, asOf time.Time) (scoring.Ledger, error) {
	var buf bytes.Buffer
	w := encsv.NewWriter(&buf)
	w.Comma = ';'
	rows := [][]string{t.header}
	for _, rec := range t.byAcct[acct] {
		// Same layout on both sides: YYMMDD of one century orders as text.
		if rec[t.dateCol] < day.Format(csv.BerkaDateFormat) {
			rows = append(rows, rec)
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return scoring.Ledger{}, fmt.Errorf("write account %s: %w", acct, err)
	}
	ls, err := csv.ConvertBerka(&buf, csv.BerkaOptions{Accounts: []string{acct}, AsOf: endOfDay(asOf)})
	if err != nil {
		return scoring.Ledger{}, err
	}
	data, err := ls[0].File.Marshal()
	if err != nil {
		return scoring.Ledger{}, fmt.Errorf("marshal account %s: %w", acct, err)
	}
	l, err := scoring.ParseLedgerFile(data)
	if err != nil {
		return scoring.Ledger{}, fmt.Errorf("parse account %s: %w", acct, err)
	}
	return l, nil
}

// endOfDay is the last second (23:59:59 UTC) of d's day.
func endOfDay(d time.Time) time.Time { return d.AddDate(0, 0, 1).Add(-time.Second) }

// Sample is one evaluated loan: its features on the account's history before the loan
// date, and the cutoff day they were computed at.
type Sample struct {
	Loan     Loan
	Cutoff   time.Time // the day before the loan date, or the file's last day if earlier
	Features scoring.Features
}

// Data is the evaluated population and what was left out.
type Data struct {
	LoansInFile int       // rows of loan.asc
	WithRows    int       // loans whose account has rows in trans.asc
	DataEnd     time.Time // the last day of trans.asc
	Samples     []Sample  // loans with MinHistoryDays of history, in loan.asc order
	// Categories counts the samples' transactions by the default rules' category.
	Categories map[scoring.Category]int
}

// Load reads loan.asc and trans.asc in dir and builds one Sample per loan whose
// account has at least MinHistoryDays of transactions before the loan date. Only rows
// dated strictly before the loan date enter its ledger. The features are computed as
// of the day before the loan date; when the loan was granted after trans.asc ends,
// as of trans.asc's last day, the latest evidence the sample holds. The loan's amount
// (CZK, in minor units) and duration are the proposed loan.
func Load(dir string) (Data, error) {
	loans, err := readFile(filepath.Join(dir, LoanFile), ReadLoans)
	if err != nil {
		return Data{}, err
	}
	tx, err := readFile(filepath.Join(dir, csv.BerkaFile), readTransactions)
	if err != nil {
		return Data{}, err
	}
	d := Data{LoansInFile: len(loans), DataEnd: tx.dataEnd, Categories: map[scoring.Category]int{}}
	for _, ln := range loans {
		first, ok := tx.first[ln.AccountID]
		if !ok {
			continue
		}
		d.WithRows++
		if ln.Date.Sub(first) < MinHistoryDays*24*time.Hour {
			continue
		}
		cutoff := ln.Date.AddDate(0, 0, -1)
		if cutoff.After(tx.dataEnd) {
			cutoff = tx.dataEnd
		}
		l, err := tx.historyBefore(ln.AccountID, ln.Date, cutoff)
		if err != nil {
			return Data{}, fmt.Errorf("loan %s: %w", ln.ID, err)
		}
		f, err := scoring.ComputeFeatures(l, cutoff, scoring.Loan{AmountMinor: ln.AmountCZK * minorPerCZK, TermMonths: ln.Months})
		if err != nil {
			return Data{}, fmt.Errorf("loan %s: features: %w", ln.ID, err)
		}
		for _, t := range l.Transactions {
			d.Categories[scoring.Categorise(t)]++
		}
		d.Samples = append(d.Samples, Sample{Loan: ln, Cutoff: cutoff, Features: f})
	}
	return d, nil
}

// readFile opens path and reads it with read.
func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("open berka data: %w", err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return v, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return v, nil
}
