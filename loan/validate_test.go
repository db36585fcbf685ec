package loan_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cashflow-underwriting/underwriter/loan"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := loan.Request{AmountMinor: 300000, TermMonths: 12, Currency: "usd"}
	for _, tc := range []struct {
		name   string
		mod    func(r *loan.Request)
		fields []string
	}{
		{"valid", func(*loan.Request) {}, nil},
		{"smallest", func(r *loan.Request) { r.AmountMinor, r.TermMonths = 1, loan.MinTermMonths }, nil},
		{"largest", func(r *loan.Request) { r.AmountMinor, r.TermMonths = loan.MaxAmountMinor, loan.MaxTermMonths }, nil},
		{"zero amount", func(r *loan.Request) { r.AmountMinor = 0 }, []string{loan.FieldAmount}},
		{"negative amount", func(r *loan.Request) { r.AmountMinor = -5 }, []string{loan.FieldAmount}},
		{"amount over the max", func(r *loan.Request) { r.AmountMinor = loan.MaxAmountMinor + 1 }, []string{loan.FieldAmount}},
		{"zero term", func(r *loan.Request) { r.TermMonths = 0 }, []string{loan.FieldTerm}},
		{"400-month term", func(r *loan.Request) { r.TermMonths = 400 }, []string{loan.FieldTerm}},
		{"empty currency", func(r *loan.Request) { r.Currency = "" }, []string{loan.FieldCurrency}},
		{"upper-case currency", func(r *loan.Request) { r.Currency = "USD" }, []string{loan.FieldCurrency}},
		{"four letters", func(r *loan.Request) { r.Currency = "usdd" }, []string{loan.FieldCurrency}},
		{"non-ASCII letter", func(r *loan.Request) { r.Currency = "uś" }, []string{loan.FieldCurrency}},
		{"every field", func(r *loan.Request) { *r = loan.Request{TermMonths: 361, Currency: "x"} },
			[]string{loan.FieldAmount, loan.FieldTerm, loan.FieldCurrency}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := ok
			tc.mod(&r)
			err := loan.Validate(r)
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", r, err)
				}
				return
			}
			if !errors.Is(err, loan.ErrInvalid) {
				t.Fatalf("Validate(%+v) = %v, want an error wrapping ErrInvalid", r, err)
			}
			fes := loan.FieldErrors(err)
			if len(fes) != len(tc.fields) {
				t.Fatalf("FieldErrors = %v, want fields %v", fes, tc.fields)
			}
			for i, fe := range fes {
				if fe.Field != tc.fields[i] || fe.Problem == "" {
					t.Errorf("field error %d = %+v, want field %s with a problem", i, fe, tc.fields[i])
				}
			}
		})
	}
}

func TestFieldErrorsThroughWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("score: %w", loan.CheckTerm(1200))
	fes := loan.FieldErrors(err)
	if len(fes) != 1 || fes[0].Field != loan.FieldTerm {
		t.Fatalf("FieldErrors(%v) = %v, want one term_months error", err, fes)
	}
	if got := err.Error(); got != "score: term_months: must be between 1 and 360" {
		t.Errorf("message %q", got)
	}
	if loan.FieldErrors(nil) != nil || loan.FieldErrors(errors.New("other")) != nil {
		t.Error("FieldErrors of nil or a foreign error is not empty")
	}
}

func TestVocabulary(t *testing.T) {
	t.Parallel()
	// The decisions table's check constraint (migrations/006_create_decisions.sql) lists
	// exactly these, in this order.
	want := []string{"approve", "decline", "refer", "expired", "withdrawn"}
	if got := loan.Outcomes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Outcomes() = %v, want %v", got, want)
	}
	for _, o := range loan.Outcomes() {
		if got, want := loan.Unscored(o), o == "expired" || o == "withdrawn"; got != want {
			t.Errorf("Unscored(%q) = %v, want %v", o, got, want)
		}
	}
	stages := loan.Stages()
	if stages[0] != loan.StageCreated || stages[len(stages)-2] != loan.StageDecided || stages[len(stages)-1] != loan.StageFailed {
		t.Errorf("Stages() = %v: created first, then the path to decided, then failed", stages)
	}
	seen := map[string]bool{}
	for _, s := range stages {
		if seen[s] {
			t.Errorf("stage %q repeated", s)
		}
		seen[s] = true
	}
}

// TestCheckCurrency: the allow-list, with the exact message an API client sees. The API
// turns an absent or empty currency into loan.DefaultCurrency before it validates and
// passes any other spelling through as sent, so "" and "USD" are refused here as they
// would be had a client's code reached Validate unchanged.
func TestCheckCurrency(t *testing.T) {
	t.Parallel()
	const shape = "currency: must be a three-letter lowercase ISO code such as usd"
	for _, tc := range []struct {
		code, want string // want "": accepted
	}{
		{"usd", ""},
		{"eur", ""},
		{"jpy", ""},
		{"gbp", ""},
		{"xof", ""}, // an X-code that is a currency (CFA franc BCEAO)
		{"zwg", ""}, // newest in the list
		{"xyz", `currency: "xyz" is not an ISO 4217 currency code`},
		{"xau", `currency: "xau" is not an ISO 4217 currency code`}, // gold
		{"xts", `currency: "xts" is not an ISO 4217 currency code`}, // testing
		{"xxx", `currency: "xxx" is not an ISO 4217 currency code`}, // no currency
		{"clf", `currency: "clf" is not an ISO 4217 currency code`}, // a fund code
		{"bgn", `currency: "bgn" is not an ISO 4217 currency code`}, // withdrawn 2026
		{"usd ", shape},
		{"US", shape},
		{"", shape},
		{"USD", shape},
		{"Eur", shape},
	} {
		err := loan.CheckCurrency(tc.code)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckCurrency(%q) = %v, want nil", tc.code, err)
			}
			if v := loan.Validate(loan.Request{AmountMinor: 1, TermMonths: 1, Currency: tc.code}); v != nil {
				t.Errorf("Validate with currency %q = %v, want nil", tc.code, v)
			}
			continue
		}
		if err == nil || err.Error() != tc.want || !errors.Is(err, loan.ErrInvalid) {
			t.Errorf("CheckCurrency(%q) = %v, want %q wrapping ErrInvalid", tc.code, err, tc.want)
		}
		fes := loan.FieldErrors(loan.Validate(loan.Request{AmountMinor: 1, TermMonths: 1, Currency: tc.code}))
		if len(fes) != 1 || fes[0].Error() != tc.want {
			t.Errorf("Validate with currency %q: field errors %v, want [%s]", tc.code, fes, tc.want)
		}
	}
}

// TestISOCurrencies: the list is sorted, unique, lower-case three-letter codes, holds no
// X-code that is not a currency, and keeps its size, so a code lost in an edit shows.
func TestISOCurrencies(t *testing.T) {
	t.Parallel()
	// The current currencies of List One, 1 January 2026, without the X-codes that are no
	// currency and the fund codes (loan/currency.go).
	const want = 155
	codes := loan.ISOCurrencies()
	if len(codes) != want {
		t.Errorf("%d codes, want %d", len(codes), want)
	}
	currencyX := map[string]bool{"xaf": true, "xcd": true, "xcg": true, "xof": true, "xpf": true}
	for i, c := range codes {
		if len(c) != 3 || strings.ToLower(c) != c {
			t.Errorf("code %q is not three lower-case letters", c)
		}
		if i > 0 && codes[i-1] >= c {
			t.Errorf("%q follows %q: not sorted or repeated", c, codes[i-1])
		}
		if c[0] == 'x' && !currencyX[c] {
			t.Errorf("%q is an X-code that is no currency", c)
		}
		if err := loan.CheckCurrency(c); err != nil {
			t.Errorf("listed code refused: %v", err)
		}
	}
}
