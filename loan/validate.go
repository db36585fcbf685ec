package loan

import (
	"errors"
	"fmt"
	"strings"
)

// Bounds of a loan request. They reject typing errors and values no product has, not
// products: a lender with larger or longer loans raises them in code review, not by
// accident. The applications table's check constraints repeat them in SQL
// (migrations/009_constrain_application_loans.sql); a test keeps the two in step.
const (
	// MaxAmountMinor is the largest loan amount in minor units: 100 million in major units,
	// beyond any cash-flow loan, and small enough that a payment schedule's arithmetic
	// stays exact in int64 and float64.
	MaxAmountMinor = 100_000_000_00
	// MinTermMonths is the shortest term: one monthly payment.
	MinTermMonths = 1
	// MaxTermMonths is the longest term: 30 years, the longest common amortising loan (a
	// mortgage). Longer terms make the monthly payment, and with it payment-to-income,
	// meaningless.
	MaxTermMonths = 360
	// DefaultCurrency is the currency of a request that names none. Callers apply it
	// before Validate (the API when it decodes a request, the workflow for its input).
	DefaultCurrency = "usd"
)

// Field names of a loan request, as the API's JSON and the applications table spell them.
const (
	FieldAmount   = "loan_amount_minor"
	FieldTerm     = "term_months"
	FieldCurrency = "currency"
)

// Request is a loan request: what is applied for, not who applies.
type Request struct {
	// AmountMinor is the amount in minor units (cents for usd).
	AmountMinor int64
	// TermMonths is the term in months.
	TermMonths int
	// Currency is a lowercase three-letter ISO 4217 code such as usd.
	Currency string
}

// ErrInvalid is wrapped by every error Validate and the Check functions return.
var ErrInvalid = errors.New("invalid loan request")

// FieldError is one field of a loan request out of bounds. It wraps ErrInvalid.
type FieldError struct {
	// Field is one of the Field constants.
	Field string
	// Problem says what is wrong, in words an API client can show ("must be greater
	// than 0").
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate checks r against the loan bounds. It returns nil, or an error joining one
// *FieldError per field out of bounds in the order amount, term, currency; FieldErrors
// lists them.
func Validate(r Request) error {
	return errors.Join(CheckAmount(r.AmountMinor), CheckTerm(r.TermMonths), CheckCurrency(r.Currency))
}

// CheckAmount checks a loan amount in minor units: 0 < amount ≤ MaxAmountMinor. It
// returns nil or a *FieldError.
func CheckAmount(amountMinor int64) error {
	switch {
	case amountMinor <= 0:
		return &FieldError{FieldAmount, "must be greater than 0"}
	case amountMinor > MaxAmountMinor:
		return &FieldError{FieldAmount, fmt.Sprintf("must be at most %d", int64(MaxAmountMinor))}
	}
	return nil
}

// CheckTerm checks a term in months: MinTermMonths ≤ term ≤ MaxTermMonths. It returns
// nil or a *FieldError.
func CheckTerm(termMonths int) error {
	if termMonths < MinTermMonths || termMonths > MaxTermMonths {
		return &FieldError{FieldTerm, fmt.Sprintf("must be between %d and %d", MinTermMonths, MaxTermMonths)}
	}
	return nil
}

// CheckCurrency checks a currency code: exactly three lowercase ASCII letters (ISO 4217
// as Stripe spells it) naming a current currency of ISO 4217's List One (isoCurrencies;
// "xyz" has the shape and names nothing). Whether the code is a currency the lender offers
// is the lender's business, not a bound. It returns nil or a *FieldError.
//
// The applications table checks only the shape (applications_currency_check in
// migrations/009_constrain_application_loans.sql, '^[a-z]{3}$'), on purpose: a list in a
// check constraint would need a migration for each ISO amendment, and every row arrives
// through the API or the workflow, which apply this check first.
func CheckCurrency(code string) error {
	if err := CheckCurrencyFormat(code); err != nil {
		return err
	}
	if !isoCurrencySet[code] {
		return &FieldError{FieldCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", code)}
	}
	return nil
}

// CheckCurrencyFormat checks only a currency code's shape: exactly three lowercase ASCII
// letters. It was the whole currency check before the ISO 4217 list; workflows started
// then still validate with it (ValidateFormat), so that their histories replay.
func CheckCurrencyFormat(code string) error {
	if len(code) != 3 || strings.IndexFunc(code, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return &FieldError{FieldCurrency, "must be a three-letter lowercase ISO code such as " + DefaultCurrency}
	}
	return nil
}

// ValidateFormat is Validate with the currency's shape checked but not its place on the
// ISO 4217 list: the loan check of workflows started before that list.
func ValidateFormat(r Request) error {
	return errors.Join(CheckAmount(r.AmountMinor), CheckTerm(r.TermMonths), CheckCurrencyFormat(r.Currency))
}

// FieldErrors returns the *FieldError values in err, in order: those Validate joined, or
// one a Check function returned, also when wrapped with fmt.Errorf's %w. None for nil or
// any other error.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
