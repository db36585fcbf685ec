// Package csv converts bank-statement CSV files into ledger files (docs/ledger-format.md:
// Stripe financial_connections.account and transaction objects, API version 2023-10-16). It holds pure functions over io.Reader and small types; the
// `underwriter ledger import-csv` command does the file handling.
//
// Conversion runs in two steps: a reader (ReadCSV for a generic column mapping,
// ReadBerka for the PKDD'99 "Berka" bank data) turns CSV records into Rows, and Build
// orders one account's rows into posting order and writes the account object and its
// transactions. Amounts are int64 minor units with the project sign (positive = money
// into the account), which is also Stripe's sign.
package csv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// APIVersion is the Stripe API version whose object shapes the ledger file holds.
const APIVersion = "2023-10-16"

// maxChainSteps bounds the search for a day's posting order (see Build); a day that
// needs more steps is too ambiguous to order from its balances.
const maxChainSteps = 1_000_000

// Row is one statement row in project form, before ordering.
type Row struct {
	// Line is the 1-based input line the row starts on; errors name it.
	Line int
	// Key identifies the row in its source (a bank's transaction id). When empty the
	// transaction id is derived from the row's content and its occurrence number.
	Key string
	// Date is the row's day (UTC midnight) or, when the source gives one, its time.
	Date time.Time
	// Amount is signed minor units: positive = money into the account.
	Amount int64
	// Balance is the account's running balance right after the row, minor units;
	// meaningful only when HasBalance.
	Balance    int64
	HasBalance bool
	// Currency is a lower-case ISO 4217 code.
	Currency    string
	Description string
}

// Options describes the ledger account that Build writes.
type Options struct {
	// AccountID is the ledger account id ("fca_…"); empty derives one from the rows.
	AccountID       string
	DisplayName     string
	InstitutionName string
	// Currency is used when the rows carry none.
	Currency string
	// AsOf is balance.as_of. Zero means the end (23:59:59 UTC) of the last row's day.
	AsOf time.Time
	// CurrentBalance is balance.current when the rows carry no running balance. When
	// both are missing the account has no balance object.
	CurrentBalance *int64
	// OpeningBalance is the balance before the first row, when known (Berka: 0). It
	// fixes which row comes first on the first day.
	OpeningBalance *int64
	// Tolerance is how far, in minor units, "previous balance + amount" may differ from
	// a row's balance when ordering a day's rows (bank rounding; Berka: 10).
	Tolerance int64
	// InputOrderOnChainFailure orders a day whose rows do not chain by input order
	// instead of failing (used with skipped bad rows, which break the chain).
	InputOrderOnChainFailure bool
}

// The ledger file types live in package ledger, shared with the pipeline's snapshots.
type (
	// File is a ledger file: the JSON document docs/ledger-format.md describes.
	File = ledger.File
	// Entry is one account with its transactions.
	Entry = ledger.Entry
	// Account is a financial_connections.account object (the fields a ledger needs).
	Account = ledger.Account
	// Balance is an account's balance object.
	Balance = ledger.Balance
	// Transaction is a financial_connections.transaction object.
	Transaction = ledger.Transaction
	// StatusTransitions holds a transaction's posted_at and void_at.
	StatusTransitions = ledger.StatusTransitions
)

// ErrNoRows is returned by Build for an empty row set.
var ErrNoRows = errors.New("no rows")

// Build turns one account's rows into a ledger file entry.
//
// Rows are sorted by date and time (stable, so input order is kept among rows with
// the same time). When the rows
// carry a running balance, each day's rows are put in posting order: the order in
// which every row satisfies previous balance + amount == balance within
// opt.Tolerance, starting from the previous day's last balance (or opt.OpeningBalance,
// or, on the first day when no opening balance is known, from any row). Rows dated at
// midnight get transacted_at = midnight + their position in the day in seconds, so the
// posting order survives in the file.
//
// balance.current is the running balance after the last row dated on or before the
// day of as_of (the opening balance when there is none); without running balances it
// is opt.CurrentBalance, and without either the account has no balance. Transaction
// ids are "fctxn_" + a hash of the account id and the row's Key, or of its content
// and occurrence number when Key is empty, so the same input gives the same file.
func Build(rows []Row, opt Options) (Entry, error) {
	if len(rows) == 0 {
		return Entry{}, ErrNoRows
	}
	ccy, err := oneCurrency(rows, opt.Currency)
	if err != nil {
		return Entry{}, err
	}
	sorted, withBalance, err := orderRows(rows, opt)
	if err != nil {
		return Entry{}, err
	}
	acct, err := buildAccount(sorted, withBalance, ccy, opt)
	if err != nil {
		return Entry{}, err
	}
	txs, err := buildTransactions(sorted, acct.ID, ccy)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Account: acct, Transactions: txs}, nil
}

// orderRows returns a copy of rows sorted by date and time (stable) and, when they
// carry running balances, each day in posting order (postingOrder). Either every row
// has a running balance or none has; withBalance says which.
func orderRows(rows []Row, opt Options) (sorted []Row, withBalance bool, err error) {
	sorted = make([]Row, len(rows))
	copy(sorted, rows)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Date.Before(sorted[j].Date) })

	withBalance = sorted[0].HasBalance
	for _, r := range sorted {
		if r.HasBalance != withBalance {
			return nil, false, fmt.Errorf("line %d: some rows have a running balance and others do not", r.Line)
		}
	}
	if withBalance {
		if sorted, err = postingOrder(sorted, opt); err != nil {
			return nil, false, err
		}
	}
	return sorted, withBalance, nil
}

// buildAccount returns the account object of the sorted rows: opt.AccountID or an id
// derived from the rows' content, a cash checking account, and its balance in ccy as
// of opt.AsOf (default the end of the last row's day), from the running balances or
// opt.CurrentBalance; without either, no balance.
func buildAccount(sorted []Row, withBalance bool, ccy string, opt Options) (Account, error) {
	acctID := opt.AccountID
	if acctID == "" {
		acctID = "fca_" + hashID(append([]string{"account"}, contentHashes(sorted)...)...)
	}
	asOf := opt.AsOf
	if asOf.IsZero() {
		asOf = endOfDay(sorted[len(sorted)-1].Date)
	}
	acct := Account{
		ID:              acctID,
		Object:          "financial_connections.account",
		Category:        "cash",
		DisplayName:     opt.DisplayName,
		InstitutionName: opt.InstitutionName,
		Permissions:     []string{"balances", "transactions"},
		Status:          "active",
		Subcategory:     "checking",
	}
	var current *int64
	switch {
	case withBalance:
		current = ptr(balanceAt(sorted, dayOf(asOf), opt.OpeningBalance))
	case opt.CurrentBalance != nil:
		current = ptr(*opt.CurrentBalance)
	}
	if current != nil {
		if asOf.Unix() <= 0 {
			return Account{}, fmt.Errorf("as-of %s: before 1970", asOf.Format(time.RFC3339))
		}
		acct.Balance = &Balance{AsOf: asOf.Unix(), Current: map[string]int64{ccy: *current}, Type: "cash"}
	}
	return acct, nil
}

// buildTransactions returns the posted transaction objects of the sorted rows on
// account acctID, in order. A row dated at midnight gets midnight + its position in
// the day in seconds, so the posting order survives; a time not after 1970 is an
// error. Ids hash the account id with the row's Key or, without one, its content and
// occurrence number, so the same input gives the same ids.
func buildTransactions(sorted []Row, acctID, ccy string) ([]Transaction, error) {
	refresh := "fctxnref_" + hashID("refresh", acctID)
	txs := make([]Transaction, 0, len(sorted))
	seen := map[string]int{}
	pos, lastDay := 0, int64(-1<<62)
	for _, r := range sorted {
		if d := dayOf(r.Date); d != lastDay {
			pos, lastDay = 0, d
		}
		at := r.Date.UTC()
		if at.Equal(startOfDay(at)) {
			at = at.Add(time.Duration(pos) * time.Second)
		}
		pos++
		if at.Unix() <= 0 {
			return nil, fmt.Errorf("line %d: date %s: before 1970", r.Line, at.Format(time.DateOnly))
		}
		key := r.Key
		if key == "" {
			c := contentHash(r)
			seen[c]++
			key = c + "#" + strconv.Itoa(seen[c])
		}
		ts := at.Unix()
		txs = append(txs, Transaction{
			ID:                 "fctxn_" + hashID("transaction", acctID, key),
			Object:             "financial_connections.transaction",
			Account:            acctID,
			Amount:             r.Amount, // the project sign is Stripe's sign (scoring.SignedAmount)
			Currency:           ccy,
			Description:        r.Description,
			Status:             "posted",
			StatusTransitions:  StatusTransitions{PostedAt: ptr(ts)},
			TransactedAt:       ts,
			TransactionRefresh: refresh,
			Updated:            ts,
		})
	}
	return txs, nil
}

// oneCurrency returns the single currency of rows (def for rows without one).
func oneCurrency(rows []Row, def string) (string, error) {
	ccy, line := "", 0
	for _, r := range rows {
		c := strings.ToLower(r.Currency)
		if c == "" {
			c = strings.ToLower(def)
		}
		if c == "" {
			return "", fmt.Errorf("line %d: no currency (set a currency or a currency column)", r.Line)
		}
		if ccy == "" {
			ccy, line = c, r.Line
			continue
		}
		if c != ccy {
			return "", fmt.Errorf("line %d, column currency: %q differs from %q on line %d: a ledger account holds one currency", r.Line, c, ccy, line)
		}
	}
	return ccy, nil
}

// balanceAt returns the running balance after the last row (in posting order) dated
// on or before day d, or the opening balance when no row is.
func balanceAt(rows []Row, d int64, opening *int64) int64 {
	bal := rows[0].Balance - rows[0].Amount
	if opening != nil {
		bal = *opening
	}
	for _, r := range rows {
		if dayOf(r.Date) > d {
			break
		}
		bal = r.Balance
	}
	return bal
}

// postingOrder orders each day's rows (rows sorted by day) so that the running
// balances chain; see Build.
func postingOrder(rows []Row, opt Options) ([]Row, error) {
	out := make([]Row, 0, len(rows))
	var prev int64
	known := opt.OpeningBalance != nil
	if known {
		prev = *opt.OpeningBalance
	}
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && dayOf(rows[j].Date) == dayOf(rows[i].Date) {
			j++
		}
		day := rows[i:j]
		order, ok := chain(day, prev, known, opt.Tolerance)
		if !ok {
			if !opt.InputOrderOnChainFailure {
				return nil, fmt.Errorf("lines %s: no order of the %d rows dated %s makes previous balance + amount equal the balance within %d minor units",
					lineList(day), len(day), rows[i].Date.Format(time.DateOnly), opt.Tolerance)
			}
			order = make([]int, len(day))
			for k := range order {
				order[k] = k
			}
		}
		for _, k := range order {
			out = append(out, day[k])
		}
		prev, known = out[len(out)-1].Balance, true
		i = j
	}
	return out, nil
}

// chain finds the posting order of one day's rows by depth-first search: the next row
// is one whose prev + amount matches its balance within tol, closest match first. When
// the previous balance is not known, any row may come first. It returns indexes into
// day and whether an order exists.
func chain(day []Row, prev int64, known bool, tol int64) ([]int, bool) {
	used := make([]bool, len(day))
	order := make([]int, 0, len(day))
	steps := 0
	var dfs func(prev int64, known bool) bool
	dfs = func(prev int64, known bool) bool {
		if len(order) == len(day) {
			return true
		}
		if steps++; steps > maxChainSteps {
			return false
		}
		type cand struct {
			k    int
			diff int64
		}
		var cands []cand
		for k, r := range day {
			if used[k] {
				continue
			}
			diff := int64(0)
			if known {
				diff = abs(prev + r.Amount - r.Balance)
			}
			if diff <= tol {
				cands = append(cands, cand{k, diff})
			}
		}
		sort.SliceStable(cands, func(a, b int) bool { return cands[a].diff < cands[b].diff })
		for _, c := range cands {
			used[c.k] = true
			order = append(order, c.k)
			if dfs(day[c.k].Balance, true) {
				return true
			}
			used[c.k] = false
			order = order[:len(order)-1]
		}
		return false
	}
	return order, dfs(prev, known)
}

func lineList(rows []Row) string {
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = strconv.Itoa(r.Line)
	}
	return strings.Join(s, ",")
}

// contentHash identifies a row by what it says, not where it is in the file.
func contentHash(r Row) string {
	bal := ""
	if r.HasBalance {
		bal = strconv.FormatInt(r.Balance, 10)
	}
	return hashID("row", r.Date.UTC().Format(time.RFC3339), strconv.FormatInt(r.Amount, 10), bal, strings.ToLower(r.Currency), r.Description)
}

func contentHashes(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
		if r.Key == "" {
			out[i] = contentHash(r)
		}
	}
	return out
}

// hashID returns 24 lower-case hex digits of the SHA-256 of the parts (length-prefixed,
// so no two part lists collide by concatenation).
func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// secondsPerDay is ledger.SecondsPerDay: days are UTC calendar days.
const secondsPerDay = ledger.SecondsPerDay

// dayOf returns the UTC calendar day of t as days since 1970-01-01.
func dayOf(t time.Time) int64 { return ledger.Day(t.Unix()) }

func startOfDay(t time.Time) time.Time { return time.Unix(dayOf(t)*secondsPerDay, 0).UTC() }

// endOfDay returns 23:59:59 UTC of t's UTC day.
func endOfDay(t time.Time) time.Time {
	return startOfDay(t).Add(secondsPerDay*time.Second - time.Second)
}

// EndOfDay returns 23:59:59 UTC of the UTC day of t: the as_of of a balance taken at
// the end of that day.
func EndOfDay(t time.Time) time.Time { return endOfDay(t) }

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func ptr[T any](v T) *T { return &v }
