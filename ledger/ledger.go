// Package ledger is the one Go form of a ledger file (docs/ledger-format.md): Stripe's
// financial_connections.account and financial_connections.transaction objects as API
// version 2023-10-16 returns them, grouped by account. It is the project's central data
// format: the sandbox serves its personas from ledger files, the pipeline freezes each
// application's snapshot as one, the CSV importers (package ledger/csv) write them, and
// scoring and the offline commands read them.
//
// The package is pure data: types with Stripe's JSON field names and order, Parse (decode
// and validate), Validate and Marshal. Every validation error names the object and the
// field, for example "accounts[1].transactions[3].currency: empty", and wraps ErrInvalid.
//
// Sign convention: Amount is positive when money enters the account and negative when it
// leaves, so an account's balance moves by exactly Amount (Stripe's own convention).
package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Object names of the two Stripe objects a ledger holds.
const (
	ObjectAccount     = "financial_connections.account"
	ObjectTransaction = "financial_connections.transaction"
)

// Transaction statuses as Stripe reports them. Stripe only moves pending → posted or
// pending → void.
const (
	StatusPending = "pending"
	StatusPosted  = "posted"
	StatusVoid    = "void"
)

// Account statuses as Stripe reports them.
const (
	AccountActive       = "active"
	AccountInactive     = "inactive"
	AccountDisconnected = "disconnected"
)

// Account categories as Stripe reports them.
const (
	CategoryCash       = "cash"
	CategoryCredit     = "credit"
	CategoryInvestment = "investment"
	CategoryOther      = "other"
)

// MaxAmountMinor bounds every amount and balance (minor units): a trillion in major units,
// far beyond any bank account, so that the int64 sums of tens of thousands of them cannot
// overflow anywhere downstream.
const MaxAmountMinor = 1_000_000_000_000_00

// MaxUnix bounds every as_of and transacted_at: 9999-12-31T23:59:59Z, the last second
// with a four-digit year. A time beyond it is a corrupt value, and days between it and
// 1970 would make day-by-day series (daily balances) of billions of entries.
const MaxUnix = 253402300799

// ErrInvalid is wrapped by every validation error of Parse and Validate.
var ErrInvalid = errors.New("invalid ledger")

// ErrAmountOutOfRange is wrapped by the error for an amount or balance beyond
// ±MaxAmountMinor.
var ErrAmountOutOfRange = errors.New("amount out of range")

// File is a ledger file.
type File struct {
	Accounts []Entry `json:"accounts"`
}

// Entry is one account with its transactions.
type Entry struct {
	Account      Account       `json:"account"`
	Transactions []Transaction `json:"transactions"`
}

// Account is a financial_connections.account object, field for field in Stripe's order.
// Nullable fields are pointers so that they encode as null. A ledger written by the
// pipeline never holds account numbers; Last4 is the only part of one Stripe shows.
type Account struct {
	ID                          string              `json:"id"`
	Object                      string              `json:"object"`
	AccountHolder               *AccountHolder      `json:"account_holder"`
	Balance                     *Balance            `json:"balance"`
	BalanceRefresh              *BalanceRefresh     `json:"balance_refresh"`
	Category                    string              `json:"category"`
	Created                     int64               `json:"created"`
	DisplayName                 string              `json:"display_name"`
	InstitutionName             string              `json:"institution_name"`
	Last4                       string              `json:"last4"`
	Livemode                    bool                `json:"livemode"`
	Ownership                   *string             `json:"ownership"`
	OwnershipRefresh            *OwnershipRefresh   `json:"ownership_refresh"`
	Permissions                 []string            `json:"permissions"`
	Status                      string              `json:"status"`
	Subcategory                 string              `json:"subcategory"`
	Subscriptions               []string            `json:"subscriptions"`
	SupportedPaymentMethodTypes []string            `json:"supported_payment_method_types"`
	TransactionRefresh          *TransactionRefresh `json:"transaction_refresh"`
}

// AccountHolder is who owns the account in Stripe: a customer (or an account).
type AccountHolder struct {
	Customer string `json:"customer"`
	Type     string `json:"type"`
}

// Balance is an account's balance object: amounts per lowercase currency, in minor units,
// at AsOf (Unix seconds). Stripe includes only the hash named by Type (cash or credit).
type Balance struct {
	AsOf    int64            `json:"as_of"`
	Cash    *Cash            `json:"cash,omitempty"`
	Credit  *Credit          `json:"credit,omitempty"`
	Current map[string]int64 `json:"current"`
	Type    string           `json:"type"`
}

// Clone returns a deep copy of b (nil for nil), so a copy can change without touching b.
func (b *Balance) Clone() *Balance {
	if b == nil {
		return nil
	}
	c := *b
	c.Current = maps.Clone(b.Current)
	if b.Cash != nil {
		c.Cash = &Cash{Available: maps.Clone(b.Cash.Available)}
	}
	if b.Credit != nil {
		c.Credit = &Credit{Used: maps.Clone(b.Credit.Used)}
	}
	return &c
}

// Cash is the cash part of a balance: what is available (current less holds).
type Cash struct {
	Available map[string]int64 `json:"available"`
}

// Credit is the credit part of a balance: what is used of the credit line.
type Credit struct {
	Used map[string]int64 `json:"used"`
}

// BalanceRefresh is the state of an account's latest balance refresh.
type BalanceRefresh struct {
	LastAttemptedAt        int64  `json:"last_attempted_at"`
	NextRefreshAvailableAt *int64 `json:"next_refresh_available_at"`
	Status                 string `json:"status"`
}

// TransactionRefresh is the state of an account's latest transaction refresh; ID is the
// fctxnref_ id that transactions delivered by it carry.
type TransactionRefresh struct {
	ID                     string `json:"id"`
	LastAttemptedAt        int64  `json:"last_attempted_at"`
	NextRefreshAvailableAt *int64 `json:"next_refresh_available_at"`
	Status                 string `json:"status"`
}

// OwnershipRefresh is the state of an account's latest ownership refresh.
type OwnershipRefresh struct {
	LastAttemptedAt int64  `json:"last_attempted_at"`
	Status          string `json:"status"`
}

// Transaction is a financial_connections.transaction object. Amount is positive when
// money enters the account.
type Transaction struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Account            string            `json:"account"`
	Amount             int64             `json:"amount"`
	Currency           string            `json:"currency"`
	Description        string            `json:"description"`
	Livemode           bool              `json:"livemode"`
	Status             string            `json:"status"`
	StatusTransitions  StatusTransitions `json:"status_transitions"`
	TransactedAt       int64             `json:"transacted_at"`
	TransactionRefresh string            `json:"transaction_refresh"`
	Updated            int64             `json:"updated"`

	// amountMissing is set by UnmarshalJSON for a transaction sent without an amount.
	amountMissing bool
}

// StatusTransitions holds a transaction's posted_at and void_at (Unix seconds or null).
type StatusTransitions struct {
	PostedAt *int64 `json:"posted_at"`
	VoidAt   *int64 `json:"void_at"`
}

// UnmarshalJSON decodes a transaction and notes whether it was sent without an amount:
// Stripe always sends one, and a missing amount must not pass as a zero-amount
// transaction. Validate reports it.
func (t *Transaction) UnmarshalJSON(data []byte) error {
	type plain Transaction // the same fields, without this method
	var w struct {
		plain
		Amount *int64 `json:"amount"` // shadows plain.Amount, to see whether it was sent
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*t = Transaction(w.plain)
	t.amountMissing = w.Amount == nil
	if w.Amount != nil {
		t.Amount = *w.Amount
	}
	return nil
}

// Parse decodes a ledger file and validates it (see Validate). Unknown fields are
// ignored, so complete Stripe objects, and those of newer API versions, load unchanged.
//
// It decodes with a scanner written for the ledger file (scanFile), which gives the File
// encoding/json gives, several times faster, and hands whatever it does not understand,
// malformed input included, to encoding/json, so every error reads as it always did.
// Strings in the File share one copy of data.
func Parse(data []byte) (File, error) {
	f, ok := scanFile(data)
	if !ok {
		f = File{}
		if err := json.Unmarshal(data, &f); err != nil {
			return File{}, decodeError(data, err)
		}
	}
	if err := f.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// decodeError turns a JSON decoding error of data into one that says where: the line
// and column of a syntax error, or the field path of a value of the wrong type
// ("accounts.transactions.amount: got string, want an integer"; without indexes, which
// encoding/json does not report).
func decodeError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the offending byte itself; point at it, unless the input ended.
		off := se.Offset
		if off > 0 && off < int64(len(data)) {
			off--
		}
		line, col := JSONPosition(data, off)
		return fmt.Errorf("%w: decode ledger file: line %d, column %d: %s", ErrInvalid, line, col, se.Error())
	case errors.As(err, &te):
		// No line here: inside Transaction.UnmarshalJSON the offset counts from the
		// transaction, not the file.
		field := te.Field
		if field == "" {
			field = "file"
		}
		return fmt.Errorf("%w: decode ledger file: %s: got %s, want %s", ErrInvalid, field, te.Value, JSONKind(te.Type))
	}
	return fmt.Errorf("%w: decode ledger file: %w", ErrInvalid, err)
}

// Validate checks every field the pipeline relies on and returns the first problem,
// naming the object and the field:
//
//   - at least one account; each with an id and a known category (cash, credit,
//     investment, other) and, when set, a known status and object name;
//   - a balance, when present, has as_of and exactly one currency in current, and
//     cash.available in the same currency;
//   - each transaction has an id, belongs to its enclosing account, has a currency, a
//     transacted_at, a status of pending, posted or void, and, when set, the object name;
//   - currencies are three ASCII letters (an ISO 4217 code's shape; which codes a loan
//     may use is the loan package's decision);
//   - as_of and transacted_at lie in 1970-01-01T00:00:01Z…MaxUnix;
//   - amounts and balances lie within ±MaxAmountMinor.
//
// A transaction id may repeat: Stripe reports a transaction again when its status
// changes, and scoring.Normalize keeps the latest status of each id.
//
// Currencies in different accounts may differ here; whether a mix can be scored is
// scoring's decision.
func (f File) Validate() error {
	if len(f.Accounts) == 0 {
		return fmt.Errorf("%w: accounts: empty", ErrInvalid)
	}
	for i, e := range f.Accounts {
		p := fmt.Sprintf("accounts[%d].account", i)
		if err := e.Account.validate(p); err != nil {
			return err
		}
		for j := range e.Transactions {
			if err := e.Transactions[j].validate(txnPath{i, j}, e.Account.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// invalid formats a validation error for field at path p.
func invalid(p, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s.%s: %s", ErrInvalid, p, field, fmt.Sprintf(format, args...))
}

func (a Account) validate(p string) error {
	if a.ID == "" {
		return invalid(p, "id", "empty")
	}
	if a.Object != "" && a.Object != ObjectAccount {
		return invalid(p, "object", "%q is not %q", a.Object, ObjectAccount)
	}
	switch a.Category {
	case CategoryCash, CategoryCredit, CategoryInvestment, CategoryOther:
	case "":
		return invalid(p, "category", "empty")
	default:
		return invalid(p, "category", "unknown value %q", a.Category)
	}
	switch a.Status {
	case "", AccountActive, AccountInactive, AccountDisconnected:
	default:
		return invalid(p, "status", "unknown value %q", a.Status)
	}
	if a.Balance == nil {
		return nil
	}
	return a.Balance.validate(p + ".balance")
}

func (b Balance) validate(p string) error {
	if err := checkTime(p, "as_of", b.AsOf); err != nil {
		return err
	}
	if len(b.Current) != 1 {
		return invalid(p, "current", "want exactly one currency, got %d", len(b.Current))
	}
	var ccy string
	for c, v := range b.Current { // exactly one entry
		if c == "" {
			return invalid(p, "current", "empty currency code")
		}
		if !currencyShape(c) {
			return invalid(p, "current", "currency %q is not a three-letter ISO 4217 code", c)
		}
		if !InRange(v) {
			return fmt.Errorf("%w: %s.current: %d beyond ±%d: %w", ErrInvalid, p, v, int64(MaxAmountMinor), ErrAmountOutOfRange)
		}
		ccy = c
	}
	if b.Cash == nil || len(b.Cash.Available) == 0 {
		return nil
	}
	if len(b.Cash.Available) != 1 {
		return invalid(p, "cash.available", "want exactly one currency, got %d", len(b.Cash.Available))
	}
	for c, v := range b.Cash.Available {
		if !strings.EqualFold(c, ccy) {
			return invalid(p, "cash.available", "currency %q differs from balance.current %q", c, ccy)
		}
		if !InRange(v) {
			return fmt.Errorf("%w: %s.cash.available: %d beyond ±%d: %w", ErrInvalid, p, v, int64(MaxAmountMinor), ErrAmountOutOfRange)
		}
	}
	return nil
}

// txnPath is where a transaction is in a file, formatted only for an error:
// "accounts[1].transactions[3]".
type txnPath struct{ account, txn int }

func (p txnPath) String() string {
	return fmt.Sprintf("accounts[%d].transactions[%d]", p.account, p.txn)
}

func (t *Transaction) validate(at txnPath, accountID string) error {
	if t.valid(accountID) {
		return nil
	}
	p := at.String()
	switch {
	case t.ID == "":
		return invalid(p, "id", "empty")
	case t.Object != "" && t.Object != ObjectTransaction:
		return invalid(p, "object", "%q is not %q", t.Object, ObjectTransaction)
	case t.Account == "":
		return invalid(p, "account", "empty")
	case t.Account != accountID:
		return invalid(p, "account", "%q differs from enclosing account %q", t.Account, accountID)
	case t.amountMissing:
		return invalid(p, "amount", "missing")
	case !InRange(t.Amount):
		return fmt.Errorf("%w: %s.amount: %d beyond ±%d: %w", ErrInvalid, p, t.Amount, int64(MaxAmountMinor), ErrAmountOutOfRange)
	case t.Currency == "":
		return invalid(p, "currency", "empty")
	case !currencyShape(t.Currency):
		return invalid(p, "currency", "%q is not a three-letter ISO 4217 code", t.Currency)
	}
	if err := checkTime(p, "transacted_at", t.TransactedAt); err != nil {
		return err
	}
	switch t.Status {
	case StatusPosted, StatusPending, StatusVoid:
		return nil
	case "":
		return invalid(p, "status", "empty")
	default:
		return invalid(p, "status", "unknown value %q", t.Status)
	}
}

// valid reports whether validate finds nothing wrong with t, without building the
// path an error names: the common case, tens of thousands of times per file.
func (t *Transaction) valid(accountID string) bool {
	if t.ID == "" || t.Object != "" && t.Object != ObjectTransaction || t.Account == "" || t.Account != accountID ||
		t.amountMissing || !InRange(t.Amount) || !currencyShape(t.Currency) ||
		t.TransactedAt <= 0 || t.TransactedAt > MaxUnix {
		return false
	}
	switch t.Status {
	case StatusPosted, StatusPending, StatusVoid:
		return true
	}
	return false
}

// checkTime checks a Unix time that must be set: 0 is missing, and a time before 1970
// or after MaxUnix is out of range.
func checkTime(p, field string, unix int64) error {
	switch {
	case unix == 0:
		return invalid(p, field, "missing")
	case unix < 0:
		return invalid(p, field, "%d is before 1970", unix)
	case unix > MaxUnix:
		return invalid(p, field, "%d is after 9999-12-31T23:59:59Z", unix)
	}
	return nil
}

// currencyShape reports whether c has the shape of an ISO 4217 code: three ASCII
// letters (Stripe writes them lower-case; scoring lower-cases them).
func currencyShape(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range []byte(c) {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// SecondsPerDay is the length of a calendar day in the project's time zone, UTC (part
// of the feature-set version): a day is exactly 86 400 s.
const SecondsPerDay = 86400

// Day returns the UTC calendar day of Unix time unix as days since 1970-01-01, rounding
// towards the past for times before 1970.
func Day(unix int64) int64 {
	d := unix / SecondsPerDay
	if unix%SecondsPerDay < 0 {
		d--
	}
	return d
}

// InRange reports whether |v| ≤ MaxAmountMinor.
func InRange(v int64) bool { return v >= -MaxAmountMinor && v <= MaxAmountMinor }

// Marshal encodes f as indented JSON with a trailing newline, the form files are written in.
func (f File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode ledger file: %w", err)
	}
	return append(b, '\n'), nil
}

// Anchor is the ledger's "now": the newest balance.as_of, or, when no account has a
// balance, the newest transacted_at or updated time. Zero for an empty ledger.
func (f File) Anchor() int64 {
	var newest int64
	for _, e := range f.Accounts {
		if b := e.Account.Balance; b != nil && b.AsOf > newest {
			newest = b.AsOf
		}
	}
	if newest > 0 {
		return newest
	}
	for _, e := range f.Accounts {
		for _, t := range e.Transactions {
			newest = max(newest, t.TransactedAt, t.Updated)
		}
	}
	return newest
}
