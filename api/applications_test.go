package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeApplicationNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, body, field string
	}{
		{"missing id", `{"loan_amount_minor":100,"term_months":12}`, "application_id"},
		{"id with a slash", `{"application_id":"a/b","loan_amount_minor":100,"term_months":12}`, "application_id"},
		{"zero amount", `{"application_id":"a","loan_amount_minor":0,"term_months":12}`, "loan_amount_minor"},
		{"huge amount", `{"application_id":"a","loan_amount_minor":100000000000,"term_months":12}`, "loan_amount_minor"},
		{"amount as string", `{"application_id":"a","loan_amount_minor":"100","term_months":12}`, "loan_amount_minor"},
		{"term too long", `{"application_id":"a","loan_amount_minor":100,"term_months":361}`, "term_months"},
		{"upper-case currency", `{"application_id":"a","loan_amount_minor":100,"term_months":12,"currency":"USD"}`, "currency"},
		{"unknown field", `{"application_id":"a","loan_amount_minor":100,"term_months":12,"apr":5}`, "apr"},
		{"bad email", `{"application_id":"a","loan_amount_minor":100,"term_months":12,"applicant":{"email":"nope"}}`, "applicant.email"},
		{"http return url", `{"application_id":"a","loan_amount_minor":100,"term_months":12,"return_url":"http://x"}`, "return_url"},
		{"not json", `{"application_id":`, "body"},
		{"two values", `{"application_id":"a","loan_amount_minor":100,"term_months":12}{}`, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := decodeApplication([]byte(tc.body))
			require.NotEmpty(t, errs)
			require.Equal(t, tc.field, errs[0].Field, "%+v", errs)
			require.NotEmpty(t, errs[0].Problem)
		})
	}
}

func TestDecodeApplicationDefaultsAndHash(t *testing.T) {
	req, errs := decodeApplication([]byte(`{"application_id":"loan-1","loan_amount_minor":250000,"term_months":12}`))
	require.Empty(t, errs)
	require.Equal(t, "usd", req.Currency)

	same, _ := decodeApplication([]byte(`{"term_months":12,"loan_amount_minor":250000,"application_id":"loan-1","currency":"usd"}`))
	require.Equal(t, requestHash(req), requestHash(same), "key order and an explicit default do not change the request")
	other, _ := decodeApplication([]byte(`{"application_id":"loan-1","loan_amount_minor":250001,"term_months":12}`))
	require.NotEqual(t, requestHash(req), requestHash(other))
}
