package loan_test

import (
	"errors"
	"fmt"
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
	if stages[0] != loan.StageCreated || stages[len(stages)-1] != loan.StageDecided {
		t.Errorf("Stages() = %v: created first, decided last", stages)
	}
	seen := map[string]bool{}
	for _, s := range stages {
		if seen[s] {
			t.Errorf("stage %q repeated", s)
		}
		seen[s] = true
	}
}
