package stripeconformance

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mockTxnAccount is the account of stripe-mock's transaction fixture
// (fixtures3.json, financial_connections.transaction); stored rows need it.
const mockTxnAccount = "fca_1OPouwJN5vQBdWExhxva8Q8m"

// heartbeat mirrors the fields of SyncTransactions' heartbeat detail, so a
// test can resume a sync mid-way (starting_after) as a retried activity does.
type heartbeat struct {
	After         string
	Target        string
	StartingAfter string
	Pages         int
	Upserted      int64
}

// TestProjectRequestsAgainstStripeMock runs every Stripe request underwriter
// makes, through its own client wiring and activities, against stripe-mock
// with -strict-version-check; stripe-mock must accept each one.
func TestProjectRequestsAgainstStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	base, rec := recordingProxy(t, mock)
	ctx := context.Background()
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: "sk_test_conformance", APIBase: base}, slog.New(slog.DiscardHandler))

	// api/applications.go: the customer and session, with the params the API builds.
	req := api.ApplicationRequest{ApplicationID: "app-conformance", LoanAmountMinor: 100000, TermMonths: 6,
		Currency: "usd", Applicant: &api.Applicant{Name: "A. Applicant", Email: "applicant@example.com"},
		ReturnURL: "https://lender.example/return"}
	cus, err := sc.Customers.New(api.CustomerParams(ctx, req.ApplicationID, req))
	require.NoError(t, err)
	sess, err := sc.FinancialConnectionsSessions.New(api.SessionParams(ctx, req.ApplicationID, req, cus.ID))
	require.NoError(t, err)

	// activities/: through the activities themselves, with a real store.
	st := store.New(pgtest.Pool(t))
	const appID = "app-conformance"
	_, _, err = st.CreateApplication(ctx, store.Application{ID: appID, RequestHash: "h", LoanAmountMinor: 100000,
		TermMonths: 6, Currency: "usd", WorkflowID: "underwrite/" + appID})
	require.NoError(t, err)
	require.NoError(t, st.UpsertAccount(ctx, store.Account{ID: mockTxnAccount, ApplicationID: appID, CustomerID: cus.ID,
		Category: "cash", Subcategory: "checking", Status: "active", InstitutionName: "StripeBank", Currency: "usd"}))
	acts := &activities.Activities{Stripe: sc, Store: st, BuildVersion: "conformance", Logger: slog.New(slog.DiscardHandler)}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	_, err = env.ExecuteActivity(acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: appID, SessionID: sess.ID})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.RequestRefresh, activities.RefreshInput{ApplicationID: appID, AccountIDs: []string{mockTxnAccount},
		IdempotencyKey: "underwrite/" + appID + "/refresh/1"})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.RefreshStatus, activities.RefreshStatusInput{AccountIDs: []string{mockTxnAccount}})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.StoreBalance, activities.BalanceInput{ApplicationID: appID, AccountID: mockTxnAccount})
	require.NoError(t, err)
	// First sync: no cursor.
	_, err = env.ExecuteActivity(acts.SyncTransactions, activities.SyncInput{ApplicationID: appID, AccountID: mockTxnAccount})
	require.NoError(t, err)
	// Incremental sync: transaction_refresh[after] from the stored cursor.
	require.NoError(t, st.SetAccountSyncedRefresh(ctx, mockTxnAccount, "fctxnref_PEHT703aotlKawfHY2I61XWP"))
	_, err = env.ExecuteActivity(acts.SyncTransactions, activities.SyncInput{ApplicationID: appID, AccountID: mockTxnAccount})
	require.NoError(t, err)
	// A retried sync resumes after its last page: starting_after.
	resumed := suite.NewTestActivityEnvironment()
	resumed.RegisterActivity(acts)
	resumed.SetHeartbeatDetails(heartbeat{After: "fctxnref_PEHT703aotlKawfHY2I61XWP", Target: "fctxnref_PEHT703aotlKawfHY2I61XWP",
		StartingAfter: "fctxn_1OPouwJN5vQBdWExrPGADkLG", Pages: 1})
	_, err = resumed.ExecuteActivity(acts.SyncTransactions, activities.SyncInput{ApplicationID: appID, AccountID: mockTxnAccount})
	require.NoError(t, err)

	// Every request was accepted, and every request shape the pipeline uses was sent.
	exs := rec.exchanges()
	seen := map[string]bool{}
	for _, ex := range exs {
		require.GreaterOrEqual(t, ex.Status, 200, "%s\n%s", ex, ex.Body)
		require.Less(t, ex.Status, 300, "stripe-mock refused %s\n%s", ex, ex.Body)
		require.Equal(t, stripe.APIVersion, ex.Header.Get("Stripe-Version"), "%s", ex)
		key := ex.Method + " " + templatePath(ex.Path)
		seen[key] = true
		for k := range ex.Form {
			seen[key+" "+k] = true
		}
		if ex.Method == http.MethodPost {
			require.NotEmpty(t, ex.Header.Get("Idempotency-Key"), "%s: POSTs carry an idempotency key", ex)
		}
	}
	t.Logf("stripe-mock accepted %d requests", len(exs))
	require.GreaterOrEqual(t, len(exs), 12)
	for _, want := range []string{
		"POST /v1/customers email", "POST /v1/customers name", "POST /v1/customers metadata[application_id]",
		"POST /v1/financial_connections/sessions account_holder[type]",
		"POST /v1/financial_connections/sessions account_holder[customer]",
		"POST /v1/financial_connections/sessions permissions[0]", "POST /v1/financial_connections/sessions prefetch[1]",
		"POST /v1/financial_connections/sessions return_url",
		"GET /v1/financial_connections/sessions/{id}",
		"GET /v1/financial_connections/accounts/{id}",
		"POST /v1/financial_connections/accounts/{id}/refresh features[0]",
		"POST /v1/financial_connections/accounts/{id}/refresh features[1]",
		"GET /v1/financial_connections/transactions account",
		"GET /v1/financial_connections/transactions limit",
		"GET /v1/financial_connections/transactions transaction_refresh[after]",
		"GET /v1/financial_connections/transactions starting_after",
	} {
		require.True(t, seen[want], "no request %q was made; seen %v", want, seen)
	}
	for _, ex := range exs {
		if strings.HasSuffix(ex.Path, "/refresh") {
			require.Equal(t, []string{"transactions"}, ex.Form["features[0]"])
			require.Equal(t, []string{"balance"}, ex.Form["features[1]"])
		}
	}
}

// TestStripeMockIsStrict is the control for the test above: stripe-mock
// refuses what real Stripe refuses, so its 2xx answers mean something.
func TestStripeMockIsStrict(t *testing.T) {
	mock := startStripeMock(t)
	base, rec := recordingProxy(t, mock)
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: "sk_test_conformance", APIBase: base}, slog.New(slog.DiscardHandler))
	tests := []struct {
		name string
		call func() error
	}{
		{"plural balances on refresh", func() error {
			_, err := sc.FinancialConnectionsAccounts.Refresh("fca_x", &stripe.FinancialConnectionsAccountRefreshParams{
				Features: stripe.StringSlice([]string{"balances"})})
			return err
		}},
		{"transactions without account", func() error {
			p := &stripe.FinancialConnectionsTransactionListParams{}
			p.Single = true
			it := sc.FinancialConnectionsTransactions.List(p)
			it.Next()
			return it.Err()
		}},
		{"other API version", func() error {
			p := &stripe.FinancialConnectionsAccountParams{}
			p.Headers = http.Header{"Stripe-Version": {"2024-04-10"}}
			_, err := sc.FinancialConnectionsAccounts.GetByID("fca_x", p)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var se *stripe.Error
			require.ErrorAs(t, tc.call(), &se)
			require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)
		})
	}
	for _, ex := range rec.exchanges() {
		require.Equal(t, http.StatusBadRequest, ex.Status, "%s", ex)
	}
}

// templatePath replaces object ids in a Stripe path by {id}.
func templatePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.Contains(s, "_") && i >= 3 && !strings.Contains(s, "financial_connections") {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}
