package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// badCase is one bad request and the exact answer it must get.
type badCase struct {
	name    string
	req     *http.Request
	status  int
	code    string
	message string
	field   string // the first field named, "" for none
}

// TestBadInputAPI is issue 9's table for the API and its webhook receiver: each bad
// request gets its exact status, code, message and field, before Stripe or Temporal is
// reached (the server has neither: reaching one would panic), and nothing accepted before
// is lost or changed: an application of the lender, with its Stripe ids, and a processed
// webhook event.
func TestBadInputAPI(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.Pool(t))
	key, err := NewKey()
	require.NoError(t, err)
	require.NoError(t, st.EnsureLender(ctx, "acme", ""))
	require.NoError(t, st.InsertAPIKey(ctx, "acme", key.ID, "test", key.Hash))
	s := &Server{Store: st, WebhookSecrets: []string{testWebhookSecret}, RequestHashKeys: [][]byte{[]byte("bad input test request hash key.")}}

	// Accepted before: acme's application accepted-1, started, and a processed event.
	accepted, created, err := st.CreateApplication(ctx, store.Application{ID: "acme/accepted-1", LenderID: "acme",
		ExternalID: "accepted-1", RequestHash: "hmac-sha256:accepted", LoanAmountMinor: 300000, TermMonths: 12,
		Currency: "usd", WorkflowID: "underwrite/acme/accepted-1", Stage: loan.StageAwaitingLink})
	require.NoError(t, err)
	require.True(t, created)
	require.NoError(t, st.SetApplicationStripeIDs(ctx, accepted.ID, "cus_accepted", "fcsess_accepted"))
	accepted, err = st.GetApplication(ctx, accepted.ID)
	require.NoError(t, err)
	_, err = st.RecordWebhookEvent(ctx, "evt_accepted", "financial_connections.account.created", "fca_accepted")
	require.NoError(t, err)
	// Decided before: approved-1 and declined-1, on 2025-03-01, whose loans may be booked
	// (POST /v1/loans) only for the first.
	for id, outcome := range map[string]string{"approved-1": loan.OutcomeApprove, "declined-1": loan.OutcomeDecline} {
		_, _, err := st.CreateApplication(ctx, store.Application{ID: "acme/" + id, LenderID: "acme", ExternalID: id,
			RequestHash: "hmac-sha256:" + id, LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd",
			WorkflowID: "underwrite/acme/" + id, Stage: loan.StageDecided})
		require.NoError(t, err)
		_, _, err = st.RecordDecision(ctx, store.Decision{ApplicationID: "acme/" + id, WorkflowID: "underwrite/acme/" + id, RunID: "r",
			Outcome: outcome, DecidedAt: time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
	}

	post := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/applications", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		return r
	}
	postTo := func(path, body string) *http.Request {
		r := post(body)
		r.URL.RawQuery = strings.TrimPrefix(path, "/v1/applications?")
		return r
	}
	patch := func(path, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		return r
	}
	get := func(path string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		return r
	}
	const ok = `"application_id":"new-1","loan_amount_minor":300000,"term_months":12`
	book := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/loans", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		return r
	}
	closeLoan := func(id, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/loans/"+id+"/close", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		return r
	}
	const booking = `"application_id":"approved-1","amount_minor":250000,"term_months":12`
	now := time.Now()
	linked := "financial_connections.account.created"
	cases := []badCase{
		{"POST: no key", httptest.NewRequest(http.MethodPost, "/v1/applications", strings.NewReader("{"+ok+"}")),
			401, "missing_api_key", "Authorization: send the lender's API key as `Authorization: Bearer uwk_…`", ""},
		{"POST: a revoked-looking key", func() *http.Request {
			r := post("{" + ok + "}")
			r.Header.Set("Authorization", "Bearer "+KeyPrefix+key.ID+"_"+strings.Repeat("f", 64))
			return r
		}(), 401, "invalid_api_key", "Authorization: the API key is unknown or revoked", ""},
		{"POST: not JSON", post(`{"application_id":`), 400, "invalid_request", "body: invalid JSON: it ends before the value does", "body"},
		{"POST: empty body", post(``), 400, "invalid_request", "body: empty; send a JSON object", "body"},
		{"POST: a syntax error", post(`{"application_id" "x"}`), 400, "invalid_request", "body: invalid JSON at byte 19", "body"},
		{"POST: an array", post(`[1,2]`), 400, "invalid_request", "body: must be a JSON object", "body"},
		{"POST: two values", post("{" + ok + "}{}"), 400, "invalid_request", "body: more than one JSON value", "body"},
		{"POST: unknown field", post("{" + ok + `,"apr":5}`), 400, "invalid_request", "apr: unknown field", "apr"},
		{"POST: amount as a string", post(`{"application_id":"new-1","loan_amount_minor":"300000","term_months":12}`),
			400, "invalid_request", "loan_amount_minor: must be a int64", "loan_amount_minor"},
		{"POST: no application id", post(`{"loan_amount_minor":300000,"term_months":12}`), 400, "invalid_request",
			"application_id: required: 1-64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit", "application_id"},
		{"POST: an id with a slash", post(`{"application_id":"acme/accepted-1","loan_amount_minor":300000,"term_months":12}`), 400, "invalid_request",
			"application_id: required: 1-64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit", "application_id"},
		{"POST: zero amount", post(`{"application_id":"new-1","loan_amount_minor":0,"term_months":12}`), 400, "invalid_request",
			"loan_amount_minor: " + loanProblem(t, loan.Request{TermMonths: 12, Currency: "usd"}), "loan_amount_minor"},
		{"POST: 400-month term", post(`{"application_id":"new-1","loan_amount_minor":300000,"term_months":400}`), 400, "invalid_request",
			"term_months: " + loanProblem(t, loan.Request{AmountMinor: 300000, TermMonths: 400, Currency: "usd"}), "term_months"},
		{"POST: not an ISO 4217 currency", post("{" + ok + `,"currency":"xyz"}`), 400, "invalid_request",
			"currency: " + loanProblem(t, loan.Request{AmountMinor: 300000, TermMonths: 12, Currency: "xyz"}), "currency"},
		{"POST: email without @", post("{" + ok + `,"applicant":{"email":"nobody"}}`), 400, "invalid_request",
			"applicant.email: must be an email address", "applicant.email"},
		{"POST: http return_url", post("{" + ok + `,"return_url":"http://lender.example/back"}`), 400, "invalid_request",
			"return_url: must be an https URL", "return_url"},
		{"POST: account id not fca_", post("{" + ok + `,"account_ids":["acct_1"]}`), 400, "invalid_request",
			"account_ids[0]: must be a Financial Connections account id fca_…", "account_ids[0]"},
		{"POST: repeated account id", post("{" + ok + `,"account_ids":["fca_1","fca_1"]}`), 400, "invalid_request",
			"account_ids[1]: repeats fca_1", "account_ids[1]"},
		{"POST: an account never linked", post("{" + ok + `,"account_ids":["fca_accepted"]}`), 400, "invalid_request",
			"account_ids[0]: no account fca_accepted was linked by an earlier application", "account_ids[0]"},
		{"POST: the accepted id with another body", post(`{"application_id":"accepted-1","loan_amount_minor":999,"term_months":12}`),
			409, "application_conflict", "application_id: accepted-1 already exists with a different request body", "application_id"},
		{"POST: a body over 64 KiB", post(`{"application_id":"` + strings.Repeat("a", 70<<10) + `"}`), 413, "body_too_large",
			"body: larger than 65536 bytes", ""},
		{"POST: wait for something else", postTo("/v1/applications?wait=approval", "{"+ok+`,"account_ids":["fca_1"]}`), 400, "invalid_request",
			`wait: "approval": the one thing to wait for is decision`, "wait"},
		{"POST: wait for a decision that needs a link", postTo("/v1/applications?wait=decision", "{"+ok+"}"), 400, "invalid_request",
			"wait: decision needs account_ids: an applicant who has still to link a bank account cannot be decided within the request", "wait"},
		{"POST: wait five minutes", postTo("/v1/applications?wait=decision&wait_timeout=5m", "{"+ok+`,"account_ids":["fca_1"]}`), 400, "invalid_request",
			`wait_timeout: "5m" is not a duration from 1s to 40s, such as 20s`, "wait_timeout"},
		{"POST: wait_timeout without wait", postTo("/v1/applications?wait_timeout=5s", "{"+ok+`,"account_ids":["fca_1"]}`), 400, "invalid_request",
			"wait_timeout: needs wait=decision", "wait_timeout"},
		{"PATCH: no key", httptest.NewRequest(http.MethodPatch, "/v1/applications/accepted-1", strings.NewReader(`{}`)), 401, "missing_api_key",
			"Authorization: send the lender's API key as `Authorization: Bearer uwk_…`", ""},
		{"PATCH: not JSON", patch("/v1/applications/accepted-1", `{"term_months":`), 400, "invalid_request",
			"body: invalid JSON: it ends before the value does", "body"},
		{"PATCH: a field that cannot change", patch("/v1/applications/accepted-1", `{"loan_amount_minor":1000,"term_months":6,"currency":"eur"}`), 400, "invalid_request",
			"currency: unknown field", "currency"},
		{"PATCH: no term", patch("/v1/applications/accepted-1", `{"loan_amount_minor":1000}`), 400, "invalid_request",
			"term_months: required", "term_months"},
		{"PATCH: zero amount", patch("/v1/applications/accepted-1", `{"loan_amount_minor":0,"term_months":12}`), 400, "invalid_request",
			"loan_amount_minor: " + loanProblem(t, loan.Request{TermMonths: 12, Currency: "usd"}), "loan_amount_minor"},
		{"PATCH: an unknown id", patch("/v1/applications/new-1", `{"loan_amount_minor":1000,"term_months":6}`), 404, "application_not_found",
			"application_id: no application new-1", "application_id"},
		{"GET: no key", httptest.NewRequest(http.MethodGet, "/v1/applications/accepted-1", nil), 401, "missing_api_key",
			"Authorization: send the lender's API key as `Authorization: Bearer uwk_…`", ""},
		{"GET: a NUL in the id", get("/v1/applications/accepted%00-1"), 404, "application_not_found",
			"application_id: not a valid application id", "application_id"},
		{"GET: an unknown id", get("/v1/applications/new-1"), 404, "application_not_found", "application_id: no application new-1", "application_id"},
		{"report: an unknown id", get("/v1/applications/new-1/report"), 404, "application_not_found", "application_id: no application new-1", "application_id"},
		{"report: not decided", get("/v1/applications/accepted-1/report"), 409, "not_decided", "application_id: the application has no decision yet", "application_id"},
		{"report: an unknown format", get("/v1/applications/accepted-1/report?format=pdf"), 400, "invalid_request", "format: must be html or png", "format"},
		{"list: limit 0", get("/v1/applications?limit=0"), 400, "invalid_request", "limit: must be an integer from 1 to 100", "limit"},
		{"list: limit 101", get("/v1/applications?limit=101"), 400, "invalid_request", "limit: must be an integer from 1 to 100", "limit"},
		{"list: limit not a number", get("/v1/applications?limit=ten"), 400, "invalid_request", "limit: must be an integer from 1 to 100", "limit"},
		{"list: starting_after unknown", get("/v1/applications?starting_after=new-1"), 400, "invalid_request",
			"starting_after: no application new-1", "starting_after"},
		{"list: starting_after another lender's key", get("/v1/applications?starting_after=acme%2Faccepted-1"), 400, "invalid_request",
			"starting_after: not a valid application id", "starting_after"},
		{"list: an unknown parameter", get("/v1/applications?offset=10"), 400, "invalid_request",
			"offset: unknown parameter; use limit and starting_after", "offset"},
		{"GET: the key as the id", get("/v1/applications/acme%2Faccepted-1"), 404, "application_not_found",
			"application_id: not a valid application id", "application_id"},
		{"DELETE: wrong method", get("/v1/applications/accepted-1"), 0, "", "", ""},

		{"loans: no key", httptest.NewRequest(http.MethodPost, "/v1/loans", strings.NewReader("{"+booking+`,"first_due_date":"2025-04-01"}`)),
			401, "missing_api_key", "Authorization: send the lender's API key as `Authorization: Bearer uwk_…`", ""},
		{"loans: no first due date", book("{" + booking + "}"), 400, "invalid_request",
			"first_due_date: required: a day YYYY-MM-DD", "first_due_date"},
		{"loans: a first due date without its zeros", book("{" + booking + `,"first_due_date":"2025-4-1"}`), 400, "invalid_request",
			"first_due_date: required: a day YYYY-MM-DD", "first_due_date"},
		{"loans: no application id", book(`{"amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`), 400, "invalid_request",
			"application_id: required: the id of an approved application (POST /v1/applications's application_id)", "application_id"},
		{"loans: zero amount", book(`{"application_id":"approved-1","amount_minor":0,"term_months":12,"first_due_date":"2025-04-01"}`), 400, "invalid_request",
			"amount_minor: " + loanProblem(t, loan.Request{TermMonths: 12, Currency: "usd"}), "amount_minor"},
		{"loans: the application's field name", book(`{"application_id":"approved-1","loan_amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`),
			400, "invalid_request", "loan_amount_minor: unknown field", "loan_amount_minor"},
		{"loans: 400-month term", book(`{"application_id":"approved-1","amount_minor":250000,"term_months":400,"first_due_date":"2025-04-01"}`), 400, "invalid_request",
			"term_months: " + loanProblem(t, loan.Request{AmountMinor: 250000, TermMonths: 400, Currency: "usd"}), "term_months"},
		{"loans: negative instalment", book("{" + booking + `,"first_due_date":"2025-04-01","instalment_minor":-5}`), 400, "invalid_request",
			"instalment_minor: must be positive and at most 10000000000 (omit it for ceil(amount_minor / term_months))", "instalment_minor"},
		{"loans: an unknown application", book(`{"application_id":"new-1","amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`),
			404, "application_not_found", "application_id: no application new-1", "application_id"},
		{"loans: not decided", book(`{"application_id":"accepted-1","amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`),
			409, "not_approved", "application_id: the application has no decision yet; only an approved application's loan can be booked", "application_id"},
		{"loans: declined", book(`{"application_id":"declined-1","amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`),
			409, "not_approved", "application_id: the application was decided decline; only an approved application's loan can be booked", "application_id"},
		{"loans: first due on the decision's day", book("{" + booking + `,"first_due_date":"2025-03-01"}`), 400, "invalid_request",
			"first_due_date: must be after the decision's day, 2025-03-01", "first_due_date"},
		{"loans: first due a year too late", book("{" + booking + `,"first_due_date":"2026-04-01"}`), 400, "invalid_request",
			"first_due_date: must be within 366 days of the decision's day, 2025-03-01", "first_due_date"},
		{"loans: another currency", book("{" + booking + `,"first_due_date":"2025-04-01","currency":"eur"}`), 400, "invalid_request",
			"currency: must be the application's, usd", "currency"},
		{"loans: GET an unknown loan", get("/v1/loans/new-1"), 404, "loan_not_found", "application_id: no booked loan new-1", "application_id"},
		{"loans: GET an approved application's loan never booked", get("/v1/loans/approved-1"), 404, "loan_not_found",
			"application_id: no booked loan approved-1", "application_id"},
		{"loans: GET the alerts of an unknown loan", get("/v1/loans/new-1/alerts"), 404, "loan_not_found", "application_id: no booked loan new-1", "application_id"},
		{"loans: GET another lender's key as the id", get("/v1/loans/acme%2Fapproved-1"), 404, "loan_not_found",
			"application_id: no booked loan acme/approved-1", "application_id"},
		{"loans: close without a reason", closeLoan("approved-1", `{}`), 400, "invalid_request",
			"reason: required: one of repaid, charged_off, cancelled", "reason"},
		{"loans: close as term_ended", closeLoan("approved-1", `{"reason":"term_ended"}`), 400, "invalid_request",
			"reason: required: one of repaid, charged_off, cancelled", "reason"},
		{"loans: close a loan never booked", closeLoan("approved-1", `{"reason":"repaid"}`), 404, "loan_not_found",
			"application_id: no booked loan approved-1", "application_id"},

		{"webhook: unsigned", httptest.NewRequest(http.MethodPost, "/v1/webhooks/stripe", bytes.NewReader(event("evt_new", linked, "fca_accepted", "cus_accepted"))),
			400, "invalid_signature", "", "Stripe-Signature"},
		{"webhook: signed with another secret", signed(event("evt_new", linked, "fca_accepted", "cus_accepted"), "whsec_other", now),
			400, "invalid_signature", "", "Stripe-Signature"},
		{"webhook: replayed an hour later", signed(event("evt_new", linked, "fca_accepted", "cus_accepted"), testWebhookSecret, now.Add(-time.Hour)),
			400, "invalid_signature", "", "Stripe-Signature"},
		{"webhook: dated a year ahead", signed(event("evt_new", linked, "fca_accepted", "cus_accepted"), testWebhookSecret, now.AddDate(1, 0, 0)),
			400, "timestamp_in_future", "", "Stripe-Signature"},
		{"webhook: signed but not JSON", signed([]byte(`{"id":`), testWebhookSecret, now), 400, "invalid_payload", "", "body"},
		{"webhook: an account event without an account", signed([]byte(`{"id":"evt_new","object":"event","type":"`+linked+`","data":{"object":{"id":5}}}`), testWebhookSecret, now),
			400, "invalid_event", "data.object: not a financial_connections.account", "data.object"},
		{"webhook: not an event id", signed(event("evt new", linked, "fca_accepted", "cus_accepted"), testWebhookSecret, now),
			400, "invalid_event", "id: not a Stripe event id evt_…", "id"},
		{"webhook: not an account id", signed(event("evt_new", linked, "acct_1", "cus_accepted"), testWebhookSecret, now),
			400, "invalid_event", "data.object.id: not a Financial Connections account id fca_…", "data.object.id"},
		{"webhook: not a customer id", signed(event("evt_new", linked, "fca_accepted", "customer 1"), testWebhookSecret, now),
			400, "invalid_event", "data.object.account_holder.customer: not a Stripe customer id cus_…", "data.object.account_holder.customer"},
	}
	for i := range cases {
		if cases[i].name == "DELETE: wrong method" {
			cases[i].req.Method = http.MethodDelete
			cases[i].status, cases[i].code, cases[i].message = 405, "method_not_allowed", "DELETE /v1/applications/accepted-1: allowed GET, HEAD, PATCH"
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, tc.req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			var body ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			require.Equal(t, tc.code, body.Error.Code)
			if tc.message != "" {
				require.Equal(t, tc.message, body.Error.Message)
			} else {
				require.True(t, strings.HasPrefix(body.Error.Message, tc.field+": "), body.Error.Message)
			}
			if tc.field == "" {
				require.Empty(t, body.Error.Fields)
			} else {
				require.NotEmpty(t, body.Error.Fields, rec.Body.String())
				require.Equal(t, tc.field, body.Error.Fields[0].Field)
			}
		})
	}

	// Nothing accepted was lost or changed, and nothing refused was stored.
	got, err := st.GetApplication(ctx, accepted.ID)
	require.NoError(t, err)
	require.Equal(t, accepted, got)
	_, err = st.GetLenderApplication(ctx, "acme", "new-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, id := range []string{"acme/approved-1", "acme/declined-1", "acme/accepted-1"} {
		_, err = st.GetLoan(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound, "no loan was booked by a refused request")
	}
	isNew, err := st.RecordWebhookEvent(ctx, "evt_new", linked, "fca_accepted")
	require.NoError(t, err)
	require.True(t, isNew, "no refused event was recorded")
	isNew, err = st.RecordWebhookEvent(ctx, "evt_accepted", linked, "fca_accepted")
	require.NoError(t, err)
	require.False(t, isNew, "the processed event is still known")
}

// loanProblem is loan.Validate's problem text for the one bad field of r.
func loanProblem(t *testing.T, r loan.Request) string {
	t.Helper()
	fields := loan.FieldErrors(loan.Validate(r))
	require.Len(t, fields, 1, fmt.Sprint(r))
	return fields[0].Problem
}
