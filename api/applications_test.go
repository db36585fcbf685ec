package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
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
	s, _ := testServer()
	require.Equal(t, s.requestHash(req), s.requestHash(same), "key order and an explicit default do not change the request")
	other, _ := decodeApplication([]byte(`{"application_id":"loan-1","loan_amount_minor":250001,"term_months":12}`))
	require.NotEqual(t, s.requestHash(req), s.requestHash(other))
}

// TestRequestHashIsKeyedAndRotates: request_hash is an HMAC under the server's key, so
// it cannot be recomputed from a guessed applicant without the key; a hash made under a
// key being rotated out, or the bare sha256 stored before hashes were keyed, still
// identifies a retry; another request never matches.
func TestRequestHashIsKeyedAndRotates(t *testing.T) {
	req, errs := decodeApplication([]byte(`{"application_id":"loan-1","loan_amount_minor":250000,"term_months":12,"applicant":{"name":"Ada","email":"ada@example.com"}}`))
	require.Empty(t, errs)
	other := req
	other.Applicant = &Applicant{Name: "Bob", Email: "bob@example.com"}

	oldKey, newKey := []byte("old request hash key, 32 bytes.."), []byte("new request hash key, 32 bytes..")
	before := &Server{RequestHashKeys: [][]byte{oldKey}}
	after := &Server{RequestHashKeys: [][]byte{newKey, oldKey}}
	stored := before.requestHash(req)
	require.True(t, strings.HasPrefix(stored, requestHashPrefix))
	require.NotEqual(t, stored, after.requestHash(req), "the key is part of the hash")
	require.True(t, after.sameRequest(stored, req), "a hash made under the old key still matches")
	require.False(t, after.sameRequest(stored, other))
	require.False(t, (&Server{RequestHashKeys: [][]byte{newKey}}).sameRequest(stored, req), "a retired key no longer matches")

	b, err := json.Marshal(req)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	unkeyed := hex.EncodeToString(sum[:])
	require.NotContains(t, []string{before.requestHash(req), after.requestHash(req)}, unkeyed)
	require.True(t, after.sameRequest(unkeyed, req), "an application stored before keyed hashes is retried")
	require.False(t, after.sameRequest(unkeyed, other))
}
