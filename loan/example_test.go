package loan_test

import (
	"fmt"

	"github.com/cashflow-underwriting/underwriter/loan"
)

func ExampleValidate() {
	err := loan.Validate(loan.Request{AmountMinor: 0, TermMonths: 400, Currency: "usd"})
	for _, fe := range loan.FieldErrors(err) {
		fmt.Println(fe)
	}
	// Output:
	// loan_amount_minor: must be greater than 0
	// term_months: must be between 1 and 360
}
