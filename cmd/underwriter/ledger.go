package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
)

// joinSubcommand turns `underwriter ledger import-csv …` into the two-word command name
// "ledger import-csv" when such a command exists, so run can dispatch it like any other.
func joinSubcommand(cmds []command, args []string) []string {
	if len(args) < 3 || strings.HasPrefix(args[2], "-") {
		return args
	}
	name := args[1] + " " + args[2]
	for _, c := range cmds {
		if c.name == name {
			return append([]string{args[0], name}, args[3:]...)
		}
	}
	return args
}

// formatUsage explains the conversion in --help (commandUsage prints a one-line summary
// and the flags).
const formatUsage = `input format: generic or berka.
Output: a ledger file (Stripe financial_connections account + transaction objects, API 2023-10-16),
amounts in minor units, positive = money in, status posted, one account.
generic: name the header columns with -date-column, -amount-column (or -debit-column and
-credit-column), -description-column, -balance-column and -currency or -currency-column.
Amounts use '.' as the decimal point ("1,200.00" is rejected; "1 200.00" and "(12.50)" are
accepted). Rows may be oldest-first or newest-first. With a balance column (the running balance
after each row) each day's rows are put in the order in which previous balance + amount ==
balance, and balance.current is the running balance at -as-of. A row with a bad value fails the
whole conversion, naming every bad row's line and column ("line 17, column amount: \"12,3x\" is
not a number"), and nothing is written; with -skip-bad-rows the bad rows are listed on stderr and
left out. Transaction ids are fctxn_ + a hash of the account id and the row's content and
occurrence, so the same input always gives the same file.
berka: reads trans.asc of the PKDD'99 bank data set in -dir and writes one account (-account) or
every account (-out-dir, one <account_id>.json each) in CZK, with each day's rows in the bank's
posting order and balance.current = the bank's balance at as_of`

// ledgerImportCSVCommand is `underwriter ledger import-csv`: its flags live in
// importCSVFlags, which also runs it.
func ledgerImportCSVCommand() command {
	return command{
		name:    "ledger import-csv",
		summary: "Convert a bank-statement CSV (generic column mapping, or --format berka) into a ledger file (docs/ledger-format.md).",
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			f := &importCSVFlags{}
			f.define(fs)
			return f.run
		},
	}
}

// importCSVFlags holds the flags of `underwriter ledger import-csv` once parsed: the
// generic column mapping, the ledger account's options and berka's folder and account.
type importCSVFlags struct {
	format, in, out, delim      string
	m                           csv.Mapping
	accountID, currentBal, asOf string
	tolerance                   int64
	dir, account, outDir        string
}

// define declares the flags on fs with their defaults and help.
func (f *importCSVFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "generic", formatUsage)
	fs.StringVar(&f.in, "in", "-", "generic: input CSV file; - reads stdin")
	fs.StringVar(&f.out, "out", "-", "output ledger file; - writes stdout (written only when the conversion succeeds)")
	m := &f.m
	fs.StringVar(&m.DateColumn, "date-column", "date", "generic: header of the date column")
	fs.StringVar(&m.DateFormat, "date-format", time.DateOnly, "generic: Go time layout of the dates, e.g. 02/01/2006 or 2006-01-02 15:04 (UTC)")
	fs.StringVar(&m.AmountColumn, "amount-column", "", "generic: header of the signed amount column (positive = money in); or use --debit-column and --credit-column")
	fs.StringVar(&m.DebitColumn, "debit-column", "", "generic: header of the money-out column (unsigned amounts)")
	fs.StringVar(&m.CreditColumn, "credit-column", "", "generic: header of the money-in column (unsigned amounts)")
	fs.StringVar(&m.DescriptionColumn, "description-column", "", "generic: header of the description column (optional)")
	fs.StringVar(&m.BalanceColumn, "balance-column", "", "generic: header of the running balance after each row (optional): orders same-day rows and sets balance.current")
	fs.StringVar(&m.Currency, "currency", "", "generic: ISO 4217 currency of every row, e.g. usd; or use --currency-column")
	fs.StringVar(&m.CurrencyColumn, "currency-column", "", "generic: header of a per-row currency column (the file must still hold one currency)")
	fs.StringVar(&f.delim, "delimiter", ",", `generic: field delimiter, one character; "tab" or "\t" for tab`)
	fs.BoolVar(&m.SkipBadRows, "skip-bad-rows", false, "generic: leave out rows with a bad value and list them on stderr instead of failing")
	fs.StringVar(&f.accountID, "account-id", "", "generic: ledger account id, e.g. fca_checking (default: fca_ + a hash of the rows; set it for ids that stay stable across exports)")
	fs.StringVar(&f.currentBal, "current-balance", "", "generic without --balance-column: balance at --as-of in major units, e.g. 1234.56 (default: no balance, so no daily balances)")
	fs.Int64Var(&f.tolerance, "balance-tolerance", 0, "generic: minor units by which previous balance + amount may differ from the balance column (bank rounding)")
	fs.StringVar(&f.asOf, "as-of", "", "balance.as_of day, YYYY-MM-DD (the balance at the end of that day, UTC); default: the end of the last row's day")
	fs.StringVar(&f.dir, "dir", "", "berka: folder holding trans.asc")
	fs.StringVar(&f.account, "account", "", "berka: account_id to convert into --out")
	fs.StringVar(&f.outDir, "out-dir", "", "berka: write every account (or --account) into this folder as <account_id>.json")
}

// run converts the input in the format the flags name.
func (f *importCSVFlags) run(_ context.Context, stdout, stderr io.Writer) error {
	var at time.Time
	if f.asOf != "" {
		d, err := time.Parse(time.DateOnly, f.asOf)
		if err != nil {
			return fmt.Errorf("as-of: %q is not a date YYYY-MM-DD", f.asOf)
		}
		at = csv.EndOfDay(d)
	}
	switch f.format {
	case "berka":
		return importBerka(f.dir, f.account, f.out, f.outDir, at, stdout, stderr)
	case "generic", "":
	default:
		return fmt.Errorf("format: %q is not generic or berka", f.format)
	}
	if f.dir != "" || f.account != "" || f.outDir != "" {
		return errors.New("dir, account, out-dir: only with --format berka")
	}
	m, opt, err := f.genericOptions(at)
	if err != nil {
		return err
	}
	return importGeneric(f.in, f.out, m, opt, stdout, stderr)
}

// genericOptions returns the column mapping with its delimiter and the ledger
// account's options (balance as of at), checking the flags only the generic format
// reads: a current balance is given in major units and only without a balance column,
// which sets it.
func (f *importCSVFlags) genericOptions(at time.Time) (csv.Mapping, csv.Options, error) {
	m := f.m
	r, err := delimiterRune(f.delim)
	if err != nil {
		return csv.Mapping{}, csv.Options{}, err
	}
	m.Delimiter = r
	opt := csv.Options{AccountID: f.accountID, AsOf: at, Tolerance: f.tolerance, Currency: m.Currency}
	if f.tolerance < 0 {
		return csv.Mapping{}, csv.Options{}, fmt.Errorf("balance-tolerance: %d is negative", f.tolerance)
	}
	if f.currentBal != "" {
		if m.BalanceColumn != "" {
			return csv.Mapping{}, csv.Options{}, errors.New("current-balance: not with --balance-column (the balance column sets it)")
		}
		v, err := csv.ParseMinor(f.currentBal, csv.MinorDigits(m.Currency))
		if err != nil {
			return csv.Mapping{}, csv.Options{}, fmt.Errorf("current-balance: %q %s", f.currentBal, err)
		}
		opt.CurrentBalance = &v
	}
	return m, opt, nil
}

// importGeneric converts the generic CSV at in ("-" or "" = stdin) into a ledger file
// written to out only when the conversion succeeds, and reports on stderr the rows it
// skipped and what it converted.
func importGeneric(in, out string, m csv.Mapping, opt csv.Options, stdout, stderr io.Writer) error {
	var src io.Reader = os.Stdin
	if in != "-" && in != "" {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		src = f
	}
	file, skipped, err := csv.ConvertCSV(src, m, opt)
	if err != nil {
		return fmt.Errorf("convert %s: %w", inputName(in), err)
	}
	for _, s := range skipped {
		fmt.Fprintf(stderr, "skipped %s\n", s.Error())
	}
	data, err := file.Marshal()
	if err != nil {
		return err
	}
	if err := writeOutput(out, data, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "converted %d rows (%d skipped) into account %s\n", len(file.Accounts[0].Transactions), len(skipped), file.Accounts[0].Account.ID)
	return nil
}

func importBerka(dir, account, out, outDir string, asOf time.Time, stdout, stderr io.Writer) error {
	if dir == "" {
		return errors.New("dir: not set (the folder holding trans.asc)")
	}
	if account == "" && outDir == "" {
		return errors.New("account: not set (or set --out-dir to convert every account)")
	}
	if outDir != "" && out != "-" && out != "" {
		return errors.New("out: not with --out-dir")
	}
	f, err := os.Open(filepath.Join(dir, csv.BerkaFile))
	if err != nil {
		return fmt.Errorf("open berka data: %w", err)
	}
	defer f.Close()
	opt := csv.BerkaOptions{AsOf: asOf}
	if account != "" {
		opt.Accounts = []string{account}
	}
	ledgers, err := csv.ConvertBerka(f, opt)
	if err != nil {
		return err
	}
	if outDir == "" {
		data, err := ledgers[0].File.Marshal()
		if err != nil {
			return err
		}
		return writeOutput(out, data, stdout)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create out-dir: %w", err)
	}
	txns := 0
	for _, l := range ledgers {
		data, err := l.File.Marshal()
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(outDir, l.AccountID+".json"), data); err != nil {
			return err
		}
		txns += len(l.File.Accounts[0].Transactions)
	}
	fmt.Fprintf(stderr, "converted %d accounts, %d transactions into %s\n", len(ledgers), txns, outDir)
	return nil
}

func delimiterRune(s string) (rune, error) {
	switch s {
	case "tab", `\t`:
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if s == "" || size != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, fmt.Errorf("delimiter: %q is not one character other than a quote or a newline", s)
	}
	return r, nil
}

func inputName(in string) string {
	if in == "" || in == "-" {
		return "stdin"
	}
	return in
}

// writeOutput writes data to path ("-" = stdout), atomically for files, so a failed
// run never leaves a half-written ledger.
func writeOutput(path string, data []byte, stdout io.Writer) error {
	if path == "" || path == "-" {
		_, err := io.Copy(stdout, bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("write ledger: %w", err)
		}
		return nil
	}
	return writeFileAtomic(path, data)
}

// writeFileAtomic writes data to path through a temporary file in the same directory
// renamed over it, so a failed run never leaves a half-written file and an existing one
// stays whole until the new one replaces it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
