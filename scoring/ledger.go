package scoring

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// Transaction statuses as Stripe Financial Connections reports them (the ledger
// package's, named here for scoring's callers).
const (
	StatusPosted  = ledger.StatusPosted
	StatusPending = ledger.StatusPending
	StatusVoid    = ledger.StatusVoid
)

// Transaction is one bank transaction in project form.
//
// Amount is int64 minor units with the project sign: positive = money INTO the
// account, negative = money out, so the balance moves by exactly Amount. Build it
// from a Stripe amount only through SignedAmount.
type Transaction struct {
	ID           string
	AccountID    string
	Amount       int64
	Currency     string // lower-case ISO 4217 code, e.g. "usd"
	Status       string // posted | pending | void
	TransactedAt time.Time
	Description  string
}

// Account is one linked Financial Connections account with its balance snapshot.
//
// Current and Available are minor units in Currency at AsOf, copied from FC
// balance.current and balance.cash.available. HasBalance is false when FC returned no
// balance (the balance refresh never succeeded); then Current, Available and AsOf are
// meaningless and the account contributes no daily-balance series.
type Account struct {
	ID          string
	Category    string // cash | credit | investment | other ("" is treated as cash)
	Subcategory string // checking | savings | …
	Status      string // active | inactive | disconnected
	Currency    string
	Current     int64
	Available   *int64
	AsOf        time.Time
	HasBalance  bool
}

// Ledger is the input of feature computation: linked accounts and their transactions.
// Order does not matter; Normalize and ComputeFeatures sort.
type Ledger struct {
	Accounts     []Account
	Transactions []Transaction
}

// ErrMixedCurrency is returned when a ledger holds more than one currency; amounts in
// different currencies are never added.
var ErrMixedCurrency = errors.New("scoring: ledger mixes currencies")

// ErrInvalidLoan is returned when a Loan's amount or term lies outside the loan package's
// bounds (loan.CheckAmount, loan.CheckTerm); the error also wraps loan's field error.
var ErrInvalidLoan = errors.New("scoring: invalid loan")

// ErrAmountOutOfRange is returned for an amount beyond MaxAmountMinor; it is the ledger
// package's error, so one errors.Is test covers a bad file and a bad in-memory ledger.
var ErrAmountOutOfRange = ledger.ErrAmountOutOfRange

// MaxAmountMinor bounds every ledger amount and balance (minor units); the bound is the
// ledger package's (ledger.MaxAmountMinor), named here for scoring's callers. A loan's
// amount has the loan package's tighter bound, loan.MaxAmountMinor.
const MaxAmountMinor = ledger.MaxAmountMinor

// inRange reports whether |v| ≤ MaxAmountMinor.
func inRange(v int64) bool { return ledger.InRange(v) }

// SignedAmount converts a Stripe Financial Connections transaction amount into the
// project's signed amount (positive = money into the account).
//
// Stripe FC amounts are already positive for money entering the account and negative
// for money leaving it (a deposit raises balance.current by exactly amount), so the
// conversion is the identity. It is still one named function because the sign is the
// single most dangerous convention in the pipeline: Plaid, for example, uses the
// opposite sign, and every ingestion path (ledger files, the Stripe pull, fixtures)
// must go through this one place so that a change of source changes one line.
func SignedAmount(stripeAmount int64) int64 { return stripeAmount }

// ParseLedgerFile decodes and validates a ledger file with ledger.Parse
// (docs/ledger-format.md) and converts it with FromFile. Errors name the offending object
// and field, e.g. "accounts[1].transactions[3].currency: empty".
func ParseLedgerFile(data []byte) (Ledger, error) {
	f, err := ledger.Parse(data)
	if err != nil {
		return Ledger{}, err
	}
	return FromFile(f), nil
}

// FromFile converts a validated ledger file (ledger.File.Validate) into scoring's form:
// amounts go through SignedAmount, currencies are lower-cased, timestamps become UTC
// times, and an account's balance is read from its one currency. Cross-account checks
// (one currency per ledger) happen in Normalize.
func FromFile(f ledger.File) Ledger {
	var l Ledger
	n := 0
	for _, e := range f.Accounts {
		n += len(e.Transactions)
	}
	if n > 0 {
		l.Transactions = make([]Transaction, 0, n)
	}
	for _, e := range f.Accounts {
		l.Accounts = append(l.Accounts, fromAccount(e.Account))
		for _, t := range e.Transactions {
			l.Transactions = append(l.Transactions, Transaction{
				ID:           t.ID,
				AccountID:    t.Account,
				Amount:       SignedAmount(t.Amount),
				Currency:     strings.ToLower(t.Currency),
				Status:       t.Status,
				TransactedAt: time.Unix(t.TransactedAt, 0).UTC(),
				Description:  t.Description,
			})
		}
	}
	return l
}

func fromAccount(a ledger.Account) Account {
	out := Account{ID: a.ID, Category: a.Category, Subcategory: a.Subcategory, Status: a.Status}
	b := a.Balance
	if b == nil {
		return out
	}
	for ccy, v := range b.Current { // exactly one entry in a validated file
		out.Currency = strings.ToLower(ccy)
		out.Current = v
	}
	if b.Cash != nil {
		for _, v := range b.Cash.Available { // at most one, in the same currency
			out.Available = &v
		}
	}
	out.AsOf = time.Unix(b.AsOf, 0).UTC()
	out.HasBalance = true
	return out
}

// statusRank orders duplicate versions of one transaction id: a void version wins over
// posted, and posted over pending, because Stripe only moves pending → posted/void.
func statusRank(s string) int {
	switch s {
	case StatusVoid:
		return 0
	case StatusPosted:
		return 1
	default:
		return 2
	}
}

// Normalize returns a copy of l ready for feature computation:
//
//   - duplicate transaction ids are collapsed to one version (void beats posted beats
//     pending; remaining ties broken by content so the choice never depends on input
//     order);
//   - void transactions are dropped (pending ones are kept; history features filter to
//     posted themselves);
//   - accounts are sorted by id, transactions by (transacted_at, account, id);
//   - currencies are lower-cased and must be one per ledger, else ErrMixedCurrency.
//
// It never modifies l.
func Normalize(l Ledger) (Ledger, error) {
	if _, err := ledgerCurrency(l); err != nil {
		return Ledger{}, err
	}
	for _, a := range l.Accounts {
		if !inRange(a.Current) || (a.Available != nil && !inRange(*a.Available)) {
			return Ledger{}, fmt.Errorf("account %s balance beyond ±%d: %w", a.ID, int64(MaxAmountMinor), ErrAmountOutOfRange)
		}
	}
	for _, t := range l.Transactions {
		if !inRange(t.Amount) {
			return Ledger{}, fmt.Errorf("transaction %s amount %d beyond ±%d: %w", t.ID, t.Amount, int64(MaxAmountMinor), ErrAmountOutOfRange)
		}
	}
	txs := make([]Transaction, len(l.Transactions))
	copy(txs, l.Transactions)
	for i := range txs {
		txs[i].Currency = strings.ToLower(txs[i].Currency)
		txs[i].TransactedAt = txs[i].TransactedAt.UTC()
	}
	slices.SortFunc(txs, func(a, b Transaction) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		if c := cmp.Compare(statusRank(a.Status), statusRank(b.Status)); c != 0 {
			return c
		}
		if c := b.TransactedAt.Compare(a.TransactedAt); c != 0 {
			return c // newer first
		}
		if c := cmp.Compare(a.Amount, b.Amount); c != 0 {
			return c
		}
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.Description, b.Description)
	})
	out := txs[:0] // kept in place: txs is Normalize's own copy
	prev := ""
	for i, t := range txs {
		if i > 0 && t.ID == prev {
			continue // a lower-precedence version of the id just considered
		}
		prev = t.ID
		if t.Status == StatusVoid {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Transaction) int {
		if c := a.TransactedAt.Compare(b.TransactedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	accts := make([]Account, len(l.Accounts))
	copy(accts, l.Accounts)
	for i := range accts {
		accts[i].Currency = strings.ToLower(accts[i].Currency)
		accts[i].AsOf = accts[i].AsOf.UTC()
	}
	sort.Slice(accts, func(i, j int) bool { return accts[i].ID < accts[j].ID })
	return Ledger{Accounts: accts, Transactions: out}, nil
}

// ledgerCurrency returns the single currency of a ledger ("" when it holds no
// currency at all) or an error wrapping ErrMixedCurrency naming both currencies.
func ledgerCurrency(l Ledger) (string, error) {
	ccy, where := "", ""
	check := func(c, kind, id string) error {
		if c == "" {
			return nil
		}
		if ccy == "" {
			ccy, where = strings.ToLower(c), kind+" "+id
			return nil
		}
		if c != ccy && !strings.EqualFold(c, ccy) {
			return fmt.Errorf("%w: %s %s is %q but %s is %q", ErrMixedCurrency, kind, id, strings.ToLower(c), where, ccy)
		}
		return nil
	}
	for _, a := range l.Accounts {
		if err := check(a.Currency, "account", a.ID); err != nil {
			return "", err
		}
	}
	for _, t := range l.Transactions {
		if err := check(t.Currency, "transaction", t.ID); err != nil {
			return "", err
		}
	}
	return ccy, nil
}

// isCash reports whether an account's transactions and balance feed the cash-flow
// features. Credit, investment and other accounts are ignored in v1: a card payment
// would otherwise appear both as a checking outflow and as a card inflow.
func isCash(a Account) bool { return a.Category == "" || a.Category == "cash" }

// LatestAsOf returns the newest balance.as_of among accounts with a balance, or the
// zero time when none has one. Callers that score "now" for a freshly pulled ledger use
// it as the cutoff.
func LatestAsOf(l Ledger) time.Time {
	var t time.Time
	for _, a := range l.Accounts {
		if a.HasBalance && a.AsOf.After(t) {
			t = a.AsOf
		}
	}
	return t.UTC()
}
