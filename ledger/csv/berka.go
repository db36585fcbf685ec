package csv

import (
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Berka preset: the PKDD'99 financial data set's trans.asc (see
// ../shared/data/berka/README.md).
const (
	// BerkaFile is the transactions file inside a Berka data folder.
	BerkaFile = "trans.asc"
	// BerkaDateFormat is the Go layout of Berka dates (YYMMDD).
	BerkaDateFormat = "060102"
	// BerkaCurrency is the currency of every Berka amount.
	BerkaCurrency = "czk"
	// BerkaTolerance is how far, in minor units, a Berka row's balance may differ from
	// previous balance + amount: the README finds every link of the posting order within
	// 0.10 CZK (the bank's interest rounding).
	BerkaTolerance = 10
	// BerkaInstitution is the institution_name of converted Berka accounts.
	BerkaInstitution = "Berka (PKDD'99 financial data set)"
)

// berkaHeader is trans.asc's header, in order.
var berkaHeader = []string{"trans_id", "account_id", "date", "type", "operation", "amount", "balance", "k_symbol", "bank", "account"}

// berkaOperations and berkaPurposes translate the Czech codes of the README.
var berkaOperations = map[string]string{
	"VKLAD":          "cash deposit",
	"PREVOD Z UCTU":  "collection from another bank",
	"PREVOD NA UCET": "remittance to another bank",
	"VYBER":          "cash withdrawal",
	"VYBER KARTOU":   "credit card withdrawal",
}

var berkaPurposes = map[string]string{
	"SIPO":        "household",
	"UVER":        "loan payment",
	"POJISTNE":    "insurance",
	"DUCHOD":      "pension",
	"UROK":        "interest credited",
	"SANKC. UROK": "penalty interest on a negative balance",
	"SLUZBY":      "statement fee",
}

// BerkaDescription builds a transaction description from a Berka row's operation and
// k_symbol: the Czech codes (so rules can match them) followed by their English
// meaning, e.g. "PREVOD Z UCTU DUCHOD (collection from another bank: pension)" or
// "UROK (interest credited)" for interest, whose operation is empty.
func BerkaDescription(operation, kSymbol string) string {
	op, ks := strings.TrimSpace(operation), strings.TrimSpace(kSymbol)
	var codes, words []string
	if op != "" {
		codes = append(codes, op)
		if w, ok := berkaOperations[op]; ok {
			words = append(words, w)
		}
	}
	if ks != "" {
		codes = append(codes, ks)
		if w, ok := berkaPurposes[ks]; ok {
			words = append(words, w)
		}
	}
	if len(codes) == 0 {
		return "(no operation)"
	}
	s := strings.Join(codes, " ")
	if len(words) > 0 {
		s += " (" + strings.Join(words, ": ") + ")"
	}
	return s
}

// BerkaAccountID is the ledger account id of Berka account_id id.
func BerkaAccountID(id string) string { return "fca_berka" + id }

// BerkaRows are the rows of one Berka account, in file order.
type BerkaRows struct {
	AccountID string // Berka account_id
	Rows      []Row
}

// ReadBerka reads trans.asc and returns the rows of every account, sorted by numeric
// account_id. Signs come from type: PRIJEM is money in, VYDAJ and VYBER money out.
// Row.Key is the trans_id, unique in the file: a repeated one is an error naming both
// lines, since the ledger would hold two transactions with one id and scoring keeps one
// transaction per id, so money would silently vanish. Any bad value is an error naming
// its line and column.
func ReadBerka(r io.Reader) ([]BerkaRows, error) {
	cr := encsv.NewReader(r)
	cr.Comma = ';'
	cr.FieldsPerRecord = len(berkaHeader)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read berka header: %w", err)
	}
	for i, h := range berkaHeader {
		if strings.TrimSpace(header[i]) != h {
			return nil, fmt.Errorf("read berka header: column %d is %q, want %q", i+1, header[i], h)
		}
	}
	byAcct := map[string]*BerkaRows{}
	seen := map[string]int{} // trans_id → its line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read berka: %w", err)
		}
		line, _ := cr.FieldPos(0)
		row, err := berkaRow(rec, line)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[row.Key]; dup {
			return nil, RowError{Line: line, Column: berkaHeader[0], Value: rec[0], Problem: fmt.Sprintf("repeats the trans_id of line %d", first)}
		}
		seen[row.Key] = line
		id := strings.TrimSpace(rec[1])
		a := byAcct[id]
		if a == nil {
			a = &BerkaRows{AccountID: id}
			byAcct[id] = a
		}
		a.Rows = append(a.Rows, row)
	}
	out := make([]BerkaRows, 0, len(byAcct))
	for _, a := range byAcct {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return numLess(out[i].AccountID, out[j].AccountID) })
	return out, nil
}

func numLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func berkaRow(rec []string, line int) (Row, error) {
	f := func(i int) string { return strings.TrimSpace(rec[i]) }
	bad := func(i int, problem string) error {
		return RowError{Line: line, Column: berkaHeader[i], Value: rec[i], Problem: problem}
	}
	if f(0) == "" {
		return Row{}, bad(0, "is empty")
	}
	if _, err := strconv.ParseUint(f(1), 10, 64); err != nil {
		return Row{}, bad(1, "is not an account number")
	}
	d, err := time.ParseInLocation(BerkaDateFormat, f(2), time.UTC)
	if err != nil {
		return Row{}, bad(2, "is not a date in the format YYMMDD")
	}
	amt, err := ParseMinor(f(5), 2)
	if err != nil {
		return Row{}, bad(5, err.Error())
	}
	if amt < 0 {
		return Row{}, bad(5, "is negative (the sign comes from type)")
	}
	switch f(3) {
	case "PRIJEM":
	case "VYDAJ", "VYBER":
		amt = -amt
	default:
		return Row{}, bad(3, "is not PRIJEM, VYDAJ or VYBER")
	}
	bal, err := ParseMinor(f(6), 2)
	if err != nil {
		return Row{}, bad(6, err.Error())
	}
	return Row{
		Line:        line,
		Key:         "berka:" + f(0),
		Date:        d,
		Amount:      amt,
		Balance:     bal,
		HasBalance:  true,
		Currency:    BerkaCurrency,
		Description: BerkaDescription(rec[4], rec[7]),
	}, nil
}

// BerkaOptions selects what ConvertBerka converts.
type BerkaOptions struct {
	// Accounts lists Berka account_ids to convert; empty converts every account.
	Accounts []string
	// AsOf is every account's balance.as_of; zero means the end (23:59:59 UTC) of the
	// account's last day, with balance.current the bank's balance after its last row.
	AsOf time.Time
}

// BerkaLedger is one converted Berka account.
type BerkaLedger struct {
	AccountID string // Berka account_id
	File      File
}

// ConvertBerka converts trans.asc into one ledger file per account (sorted by
// account_id). Each account starts at balance 0 (every account opens inside the
// window), its rows are put in the bank's posting order within BerkaTolerance, and
// balance.current is the bank's running balance at as_of, so reconstructing daily
// balances backwards from it reproduces the bank's end-of-day balances.
func ConvertBerka(r io.Reader, opt BerkaOptions) ([]BerkaLedger, error) {
	accts, err := ReadBerka(r)
	if err != nil {
		return nil, err
	}
	want, missing := map[string]bool{}, map[string]bool{}
	for _, a := range opt.Accounts {
		want[strings.TrimSpace(a)] = true
		missing[strings.TrimSpace(a)] = true
	}
	var out []BerkaLedger
	for _, a := range accts {
		if len(want) > 0 && !want[a.AccountID] {
			continue
		}
		delete(missing, a.AccountID)
		e, err := Build(a.Rows, Options{
			AccountID:       BerkaAccountID(a.AccountID),
			DisplayName:     "Berka account " + a.AccountID,
			InstitutionName: BerkaInstitution,
			Currency:        BerkaCurrency,
			AsOf:            opt.AsOf,
			OpeningBalance:  ptr(int64(0)),
			Tolerance:       BerkaTolerance,
		})
		if err != nil {
			return nil, fmt.Errorf("convert berka account %s: %w", a.AccountID, err)
		}
		out = append(out, BerkaLedger{AccountID: a.AccountID, File: File{Accounts: []Entry{e}}})
	}
	if len(missing) > 0 {
		ids := make([]string, 0, len(missing))
		for a := range missing {
			ids = append(ids, a)
		}
		sort.Slice(ids, func(i, j int) bool { return numLess(ids[i], ids[j]) })
		return nil, fmt.Errorf("convert berka: account %s: no rows in %s", strings.Join(ids, ", "), BerkaFile)
	}
	return out, nil
}
