package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// TestListApplications pages through a lender's applications newest first, never shows
// another lender's, and shows the outcome of a decided one.
func TestListApplications(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.Pool(t))
	key, err := NewKey()
	require.NoError(t, err)
	for _, l := range []string{"acme", "other"} {
		require.NoError(t, st.EnsureLender(ctx, l, ""))
	}
	require.NoError(t, st.InsertAPIKey(ctx, "acme", key.ID, "test", key.Hash))
	s := &Server{Store: st, RequestHashKeys: [][]byte{[]byte("list test request hash key, 32 b")}}
	create := func(lender, id string) {
		_, _, err := st.CreateApplication(ctx, store.Application{ID: lender + "/" + id, LenderID: lender, ExternalID: id,
			RequestHash: "h", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd",
			WorkflowID: "underwrite/" + lender + "/" + id, Stage: loan.StageAwaitingLink})
		require.NoError(t, err)
	}
	for i := 1; i <= 5; i++ {
		create("acme", fmt.Sprintf("app-%d", i))
		create("other", fmt.Sprintf("theirs-%d", i))
	}
	_, _, err = st.RecordDecision(ctx, store.Decision{ApplicationID: "acme/app-2", Outcome: "approve",
		WorkflowID: "underwrite/acme/app-2", RunID: "r", DecidedAt: time.Now()})
	require.NoError(t, err)

	list := func(query string) ApplicationList {
		r := httptest.NewRequest(http.MethodGet, "/v1/applications"+query, nil)
		r.Header.Set("Authorization", "Bearer "+key.Secret)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out ApplicationList
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	ids := func(l ApplicationList) []string {
		var out []string
		for _, a := range l.Data {
			out = append(out, a.ApplicationID)
		}
		return out
	}
	page := list("?limit=2")
	require.Equal(t, []string{"app-5", "app-4"}, ids(page))
	require.True(t, page.HasMore)
	page = list("?limit=2&starting_after=app-4")
	require.Equal(t, []string{"app-3", "app-2"}, ids(page))
	require.True(t, page.HasMore)
	require.Equal(t, "approve", page.Data[1].Outcome)
	require.Equal(t, loan.StageDecided, page.Data[1].Stage)
	require.Equal(t, loan.StageAwaitingLink, page.Data[0].Stage)
	page = list("?limit=2&starting_after=app-2")
	require.Equal(t, []string{"app-1"}, ids(page))
	require.False(t, page.HasMore)
	all := list("")
	require.Equal(t, []string{"app-5", "app-4", "app-3", "app-2", "app-1"}, ids(all), "default limit 10, acme's only")
}
