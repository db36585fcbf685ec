package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestReportRoute(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.Pool(t))
	keys := map[string]Key{}
	for _, lender := range []string{"acme", "other"} {
		k, err := NewKey()
		require.NoError(t, err)
		require.NoError(t, st.EnsureLender(ctx, lender, ""))
		require.NoError(t, st.InsertAPIKey(ctx, lender, k.ID, "test", k.Hash))
		keys[lender] = k
	}
	for _, ext := range []string{"loan-1", "undecided"} {
		_, _, err := st.CreateApplication(ctx, store.Application{ID: "acme/" + ext, LenderID: "acme", ExternalID: ext,
			RequestHash: "h", LoanAmountMinor: 250000, TermMonths: 9, Currency: "usd", WorkflowID: "underwrite/acme/" + ext})
		require.NoError(t, err)
	}
	score, pd := 612, 0.031
	_, _, err := st.RecordDecision(ctx, store.Decision{ApplicationID: "acme/loan-1", WorkflowID: "underwrite/acme/loan-1", RunID: "r",
		Outcome: "decline", Score: &score, PD: &pd, DecidedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Reasons:      json.RawMessage(`[{"code":"NSF_EXCESS","text":"Too many overdraft fees","value":"5","reference":"at most 3"}]`),
		Rules:        json.RawMessage(`[{"rule":"NSF_EXCESS","actual":"5","threshold":"> 3","passed":false,"action":"decline"}]`),
		ModelVersion: "v2", PolicyVersion: "v2", FeatureSetVersion: "fs-v3/cat-v2", BuildVersion: "test"})
	require.NoError(t, err)
	s := &Server{Store: st, RequestHashKeys: [][]byte{[]byte("report test request hash key 32b")}}
	get := func(lender, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer "+keys[lender].Secret)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		return rec
	}

	rec := get("acme", "/v1/applications/loan-1/report")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Body.String(), `data-field="outcome">decline<`)
	require.Contains(t, rec.Body.String(), `data-field="score">612<`)
	require.Contains(t, rec.Body.String(), `data-reason="NSF_EXCESS"`)
	require.Contains(t, rec.Body.String(), `data-field="amount">2,500.00 USD<`)

	rec = get("acme", "/v1/applications/loan-1/report?format=png")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "image/png", rec.Header().Get("Content-Type"))
	require.True(t, strings.HasPrefix(rec.Body.String(), "\x89PNG"))

	// Another lender's application is not found, as if it did not exist.
	for _, c := range []struct {
		lender, path string
		status       int
		code, field  string
	}{
		{"other", "/v1/applications/loan-1/report", 404, "application_not_found", "application_id"},
		{"acme", "/v1/applications/nope/report", 404, "application_not_found", "application_id"},
		{"acme", "/v1/applications/loan%00/report", 404, "application_not_found", "application_id"},
		{"acme", "/v1/applications/undecided/report", 409, "not_decided", "application_id"},
		{"acme", "/v1/applications/loan-1/report?format=pdf", 400, "invalid_request", "format"},
	} {
		rec := get(c.lender, c.path)
		require.Equal(t, c.status, rec.Code, "%s %s: %s", c.lender, c.path, rec.Body.String())
		e := decodeError(t, rec)
		require.Equal(t, c.code, e.Code, c.path)
		require.NotEmpty(t, e.Fields, c.path)
		require.Equal(t, c.field, e.Fields[0].Field, c.path)
		require.NotContains(t, rec.Body.String(), "612", "nothing of the decision leaks")
	}

	// No key: 401 before anything is read.
	r := httptest.NewRequest(http.MethodGet, "/v1/applications/loan-1/report", nil)
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}
