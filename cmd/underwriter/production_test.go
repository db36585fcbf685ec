package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// TestProductionCommands runs `underwriter migrate`, `worker` and `api` the way an operator
// does, configured by environment variables only, against a Temporal server, a Postgres
// database and the Stripe sandbox, and underwrites one application through them.
func TestProductionCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ts, err := temporalembed.Start(ctx, temporalembed.Config{UIPort: temporalembed.NoUI, SearchAttributes: workflows.SearchAttributeTypes()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Stop() })
	dbURL := pgtest.URL(t)
	apiAddr := freeAddr(t)
	const key, secret = "sk_test_production", "whsec_production"
	sb, err := fcsandbox.New(fcsandbox.Config{APIKey: key, WebhookSecret: secret, PersonaDir: "../../fcsandbox/personas",
		WebhookURL: "http://" + apiAddr + "/v1/webhooks/stripe", RefreshDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(sbSrv.Close)

	env := map[string]string{
		"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": ts.FrontendAddress(), "TEMPORAL_NAMESPACE": ts.Namespace(),
		"STRIPE_SECRET_KEY": key, "STRIPE_API_BASE": sbSrv.URL, "STRIPE_WEBHOOK_SECRET": "whsec_retired," + secret,
		"UNDERWRITER_API_ADDR": apiAddr, "UNDERWRITER_LOG_LEVEL": "debug",
		"UNDERWRITER_REQUEST_HASH_KEY": "request-hash-key-of-the-production-test",
	}
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"underwriter", "migrate"}, getenvOf(env), &out, io.Discard))
	require.Contains(t, out.String(), "schema version")
	lenderKey, keyID := createLenderKey(ctx, t, env, "acme")

	procCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	var logs syncbuf.Buffer
	for _, cmd := range []string{"worker", "api"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- run(procCtx, []string{"underwriter", cmd}, getenvOf(env), io.Discard, &logs)
		}()
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	apiURL := "http://" + apiAddr
	require.Eventually(t, func() bool {
		resp, err := hc.Get(apiURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)

	lender := devstack.Client{HTTP: hc, URL: apiURL, Key: lenderKey}
	created, err := lender.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "prod-1",
		LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd"})
	require.NoError(t, err)
	require.Equal(t, "underwrite/acme/prod-1", created.WorkflowID, "the workflow id carries the lender")
	_, err = fcsandbox.CompleteLink(ctx, hc, sbSrv.URL, created.ClientSecret, "steady_salaried")
	require.NoError(t, err)
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	st, err := lender.WaitForDecision(dctx, "prod-1")
	require.NoError(t, err)
	require.Equal(t, "approve", st.Decision.Outcome)
	_, code, _ := devstack.Client{HTTP: hc, URL: apiURL}.GetApplication(ctx, "prod-1")
	require.Equal(t, http.StatusUnauthorized, code, "no key, no decision")

	// keys list shows the key (in use), never the key itself; a revoked key is refused at once.
	out.Reset()
	require.NoError(t, run(ctx, []string{"underwriter", "keys", "list", "--lender", "acme"}, getenvOf(env), &out, io.Discard))
	require.Contains(t, out.String(), keyID)
	require.NotContains(t, out.String(), lenderKey)
	require.NotContains(t, out.String(), " -  ", "the key's last use is recorded")
	out.Reset()
	require.NoError(t, run(ctx, []string{"underwriter", "keys", "revoke", "--id", keyID}, getenvOf(env), &out, io.Discard))
	require.Contains(t, out.String(), "revoked key "+keyID+" of lender acme")
	_, code, _ = lender.GetApplication(ctx, "prod-1")
	require.Equal(t, http.StatusUnauthorized, code, "a revoked key is refused")
	// The decision is visible as soon as Score stores it; let the workflow finish its last
	// steps before the worker stops.
	c, err := tclient.Dial(tclient.Options{HostPort: ts.FrontendAddress(), Namespace: ts.Namespace(),
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.GetWorkflow(dctx, created.WorkflowID, "").Get(dctx, nil))

	// An analyst replays the run from the server, by id and by query, against its decision row.
	out.Reset()
	require.NoError(t, run(ctx, []string{"underwriter", "replay", "--workflow-id", created.WorkflowID}, getenvOf(env), &out, io.Discard))
	require.Regexp(t, `underwrite/acme/prod-1\s+\S+\s+completed\s+ok\s+approve\s+\d+\s+\S+\s+equal`, out.String())
	require.Eventually(t, func() bool {
		out.Reset()
		err := run(ctx, []string{"underwriter", "replay", "--query", "ExecutionStatus = 'Completed'", "--lender", "acme", "--json"},
			getenvOf(env), &out, io.Discard)
		return err == nil && strings.Contains(out.String(), `"decision":"equal"`)
	}, 30*time.Second, 200*time.Millisecond, out.String())

	// The decision row names the deployment version of the worker that made it: the
	// deployment's first version, which that worker made current.
	out.Reset()
	days := []string{time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)}
	require.NoError(t, run(ctx, []string{"underwriter", "decisions", "export", "--from", days[0], "--to", days[1], "--format", "jsonl"},
		getenvOf(env), &out, io.Discard))
	require.Contains(t, out.String(), `"deployment_version":"underwriter:`+buildVersion()+`"`)

	// Both stop cleanly when interrupted.
	stop()
	wg.Wait()
	for range 2 {
		require.NoError(t, <-errs)
	}

	// Their logs, at debug level, name the work but never a secret or a description.
	logged := logs.String()
	require.Contains(t, logged, `"msg":"worker starting"`)
	require.Contains(t, logged, `"msg":"decision recorded"`)
	for _, never := range []string{key, secret, created.ClientSecret, "whsec_retired", "PAYROLL", "KROGER",
		lenderKey, env["UNDERWRITER_REQUEST_HASH_KEY"]} {
		require.NotContains(t, logged, never)
	}
}

// createLenderKey runs `underwriter keys create` for the lender and returns the key it
// prints once, and its id.
func createLenderKey(ctx context.Context, t *testing.T, env map[string]string, lender string) (key, id string) {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"underwriter", "keys", "create", "--lender", lender, "--label", "test"}, getenvOf(env), &out, io.Discard))
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "api key: "); ok {
			key = v
		}
		if v, ok := strings.CutPrefix(line, "key id:  "); ok {
			id = v
		}
	}
	require.NotEmpty(t, key, out.String())
	require.NotEmpty(t, id, out.String())
	return key, id
}

func getenvOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
