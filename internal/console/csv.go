package console

import (
	"bytes"
	encsv "encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger/csv"
)

// maxStatement bounds an uploaded statement: a few thousand rows, a year or more of a
// busy account. Its ledger (a few times larger as JSON) stays under the sandbox's
// request limit.
const maxStatement = 256 << 10

// Common bank headers, lower case, for each column the importer reads.
var (
	dateHeaders        = []string{"date", "posting date", "posted date", "transaction date", "booking date", "value date", "trans. date"}
	descriptionHeaders = []string{"description", "details", "memo", "narrative", "payee", "transaction description", "name"}
	amountHeaders      = []string{"amount", "transaction amount", "amount (usd)", "value"}
	debitHeaders       = []string{"debit", "debits", "withdrawal", "withdrawals", "money out", "paid out", "debit amount"}
	creditHeaders      = []string{"credit", "credits", "deposit", "deposits", "money in", "paid in", "credit amount"}
	balanceHeaders     = []string{"balance", "running balance", "available balance", "ledger balance"}
	// dateLayouts are tried in order on the first rows; month-first comes before
	// day-first, as US banks write dates.
	dateLayouts = []string{"2006-01-02", "01/02/2006", "1/2/2006", "02/01/2006", "2/1/2006", "2006/01/02", "02.01.2006",
		"01/02/06", "Jan 2, 2006", "2 Jan 2006", "02 Jan 2006", "2006-01-02T15:04:05Z07:00"}
)

// MappingForm is a column mapping as the page shows it; an empty field is recognised
// from the header.
type MappingForm struct {
	DateColumn        string `json:"date_column"`
	DateFormat        string `json:"date_format"`
	DescriptionColumn string `json:"description_column"`
	AmountColumn      string `json:"amount_column"`
	DebitColumn       string `json:"debit_column"`
	CreditColumn      string `json:"credit_column"`
	BalanceColumn     string `json:"balance_column"`
	Currency          string `json:"currency"`
}

// recognise fills the empty fields of f from the statement's header and first rows.
func recognise(data []byte, f MappingForm) (MappingForm, error) {
	cr := encsv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return f, fmt.Errorf("line 1: no header row (%v)", err)
	}
	find := func(names []string) string {
		for _, h := range header {
			for _, n := range names {
				if strings.EqualFold(strings.TrimSpace(h), n) {
					return strings.TrimSpace(h)
				}
			}
		}
		return ""
	}
	fill := func(dst *string, names []string) {
		if *dst == "" {
			*dst = find(names)
		}
	}
	fill(&f.DateColumn, dateHeaders)
	fill(&f.DescriptionColumn, descriptionHeaders)
	if f.DebitColumn == "" && f.CreditColumn == "" {
		fill(&f.AmountColumn, amountHeaders)
	}
	if f.AmountColumn == "" {
		fill(&f.DebitColumn, debitHeaders)
		fill(&f.CreditColumn, creditHeaders)
	}
	fill(&f.BalanceColumn, balanceHeaders)
	var missing []string
	if f.DateColumn == "" {
		missing = append(missing, "a date column (Date, Posting Date, …)")
	}
	if f.AmountColumn == "" && (f.DebitColumn == "" || f.CreditColumn == "") {
		missing = append(missing, "an Amount column or Debit and Credit columns")
	}
	if len(missing) > 0 {
		return f, fmt.Errorf("line 1: the header %q has no %s: map the columns by hand", strings.Join(header, ","), strings.Join(missing, " and "))
	}
	if f.DateFormat == "" {
		f.DateFormat = guessLayout(cr, header, f.DateColumn)
	}
	if f.Currency == "" {
		f.Currency = "usd"
	}
	return f, nil
}

// guessLayout returns the first layout that reads the date of each of the first rows
// ("": the importer's default, whose error then names the line).
func guessLayout(cr *encsv.Reader, header []string, col string) string {
	idx := -1
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), col) {
			idx = i
		}
	}
	var dates []string
	for len(dates) < 20 {
		rec, err := cr.Read()
		if err != nil {
			break
		}
		if idx >= 0 && idx < len(rec) && strings.TrimSpace(rec[idx]) != "" {
			dates = append(dates, strings.TrimSpace(rec[idx]))
		}
	}
	for _, layout := range dateLayouts {
		ok := len(dates) > 0
		for _, d := range dates {
			if _, err := time.Parse(layout, d); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return layout
		}
	}
	return ""
}

// convertStatement turns an uploaded statement into a ledger file with ledger/csv, the
// importer of `underwriter ledger import-csv`, with its errors (a bad row names its line
// and column).
func convertStatement(data []byte, f MappingForm) ([]byte, int, MappingForm, error) {
	f, err := recognise(data, f)
	if err != nil {
		return nil, 0, f, err
	}
	m := csv.Mapping{DateColumn: f.DateColumn, DateFormat: f.DateFormat, AmountColumn: f.AmountColumn,
		DebitColumn: f.DebitColumn, CreditColumn: f.CreditColumn, DescriptionColumn: f.DescriptionColumn,
		BalanceColumn: f.BalanceColumn, Currency: strings.ToLower(f.Currency)}
	file, _, err := csv.ConvertCSV(bytes.NewReader(data), m, csv.Options{Currency: m.Currency,
		DisplayName: "Uploaded statement", InstitutionName: "Your bank"})
	if err != nil {
		return nil, 0, f, err
	}
	out, err := file.Marshal()
	if err != nil {
		return nil, 0, f, err
	}
	n := 0
	for _, a := range file.Accounts {
		n += len(a.Transactions)
	}
	return out, n, f, nil
}

// StatementLinked is the answer to an uploaded statement's link.
type StatementLinked struct {
	Accounts []string    `json:"accounts"`
	Rows     int         `json:"rows"`
	Mapping  MappingForm `json:"mapping"`
}

// linkCSV takes a multipart upload (client_secret, file, the mapping's fields), converts
// the statement and links the session to it as a one-off persona.
func (c *console) linkCSV(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxStatement+maxJSONBody)
	if err := r.ParseMultipartForm(maxStatement + maxJSONBody); err != nil {
		writeError(w, http.StatusBadRequest, "file", fmt.Sprintf("file: not an upload of at most %d KiB", maxStatement>>10))
		return
	}
	secret := r.FormValue("client_secret")
	if secret == "" {
		writeError(w, http.StatusBadRequest, "client_secret", "client_secret: missing")
		return
	}
	fh, _, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusBadRequest, "file", "file: choose a CSV bank statement")
		return
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxStatement+1))
	_ = fh.Close()
	if err != nil || len(data) > maxStatement {
		writeError(w, http.StatusBadRequest, "file", fmt.Sprintf("file: larger than %d KiB", maxStatement>>10))
		return
	}
	form := MappingForm{DateColumn: r.FormValue("date_column"), DateFormat: r.FormValue("date_format"),
		DescriptionColumn: r.FormValue("description_column"), AmountColumn: r.FormValue("amount_column"),
		DebitColumn: r.FormValue("debit_column"), CreditColumn: r.FormValue("credit_column"),
		BalanceColumn: r.FormValue("balance_column"), Currency: r.FormValue("currency")}
	ledgerJSON, rows, mapping, err := convertStatement(data, form)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, csv.ErrMapping) {
			msg += " (map the columns by hand)"
		}
		writeError(w, http.StatusBadRequest, "file", "file: "+msg)
		return
	}
	body, _ := json.Marshal(struct {
		ClientSecret string          `json:"client_secret"`
		Ledger       json.RawMessage `json:"ledger"`
		LinkFailures
	}{secret, ledgerJSON, failuresFromForm(r)})
	status, out, err := c.call(r, http.MethodPost, c.cfg.SandboxURL+"/sandbox/v1/link", "application/json", body, false)
	if err != nil {
		c.unavailable(w, "sandbox", err)
		return
	}
	if status != http.StatusOK {
		writeRaw(w, status, "application/json", out)
		return
	}
	var linked struct {
		Accounts []string `json:"accounts"`
	}
	_ = json.Unmarshal(out, &linked)
	b, _ := json.Marshal(StatementLinked{Accounts: linked.Accounts, Rows: rows, Mapping: mapping})
	writeRaw(w, http.StatusOK, "application/json", b)
}
