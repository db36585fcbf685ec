package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// updateHistories rewrites testdata/histories from this run: do it once per shipped
// version of the workflow, so the replay test keeps proving that old runs still replay.
var updateHistories = flag.String("update-histories", "", "write the workflow histories of this run to testdata/histories/underwrite-<this label>-<persona>.json")

const personaDir = "../../fcsandbox/personas"

// personaTransactionCounts reads each persona's ledger file and counts its transactions, the
// number every application linked to that persona must end up storing.
func personaTransactionCounts(t *testing.T) map[string]int {
	t.Helper()
	personas, err := fcsandbox.LoadPersonas(os.DirFS(personaDir))
	require.NoError(t, err)
	counts := map[string]int{}
	for _, p := range personas {
		var ledger struct {
			Accounts []struct {
				Transactions []json.RawMessage `json:"transactions"`
			} `json:"accounts"`
		}
		b, err := os.ReadFile(filepath.Join(personaDir, p.Ledger))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &ledger))
		for _, a := range ledger.Accounts {
			counts[p.Name] += len(a.Transactions)
		}
	}
	return counts
}

// TestPipelineEndToEnd starts the embedded Temporal server, a real Postgres, the sandbox,
// the worker and the API, and drives every persona through HTTP exactly as a loan backend
// and Stripe would.
func TestPipelineEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	stack, err := Start(ctx, Config{
		DatabaseURL: pgtest.URL(t),
		UIPort:      0,
		// No PersonaDir: the samples built into the binary, as `underwriter dev` serves
		// them from any working directory; the expectations above read the same files.
		RefreshDelay: 200 * time.Millisecond,
		Logger:       logger,
		BuildVersion: "test",
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stack.Close()) })
	require.GreaterOrEqual(t, len(stack.Personas), 6)

	results := stack.UnderwriteSamples(ctx, "it", 2*time.Minute)
	counts := personaTransactionCounts(t)
	for _, r := range results {
		t.Run(r.Persona, func(t *testing.T) {
			require.NoError(t, r.Err)
			require.Equal(t, r.Expected, r.Outcome, "persona %s", r.Persona)

			n, err := stack.Store.CountDecisions(ctx, DevKey(r.ApplicationID))
			require.NoError(t, err)
			require.Equal(t, 1, n, "exactly one decision per application")
			d, err := stack.Store.GetDecision(ctx, DevKey(r.ApplicationID))
			require.NoError(t, err)
			require.Equal(t, r.Expected, d.Outcome)
			require.NotNil(t, d.SnapshotID)
			require.NotNil(t, d.ContentHash)
			require.Equal(t, "test", d.BuildVersion)

			accts, err := stack.Store.ListAccounts(ctx, DevKey(r.ApplicationID))
			require.NoError(t, err)
			stored := 0
			for _, a := range accts {
				c, err := stack.Store.CountTransactions(ctx, a.ID)
				require.NoError(t, err)
				stored += c
			}
			require.Equal(t, counts[r.Persona], stored, "stored transactions equal the persona's")

			snap, err := stack.Store.GetSnapshot(ctx, *d.SnapshotID)
			require.NoError(t, err)
			require.Equal(t, stored, snap.TxnCount)
			require.Equal(t, *d.ContentHash, snap.ContentHash)
		})
	}

	t.Run("search attributes are visible", func(t *testing.T) {
		for _, r := range results {
			q := fmt.Sprintf("ApplicationID = '%s' AND UnderwritingStage = '%s' AND UnderwritingOutcome = '%s'",
				DevKey(r.ApplicationID), loan.StageDecided, r.Expected)
			require.Eventually(t, func() bool {
				resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
				if err != nil || len(resp.Executions) != 1 {
					return false
				}
				e := resp.Executions[0]
				if e.Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
					return false
				}
				_, ok := e.SearchAttributes.GetIndexedFields()["UnderwritingScore"]
				return ok
			}, 30*time.Second, 100*time.Millisecond, "query %s", q)
		}
	})

	t.Run("client secret is never stored", func(t *testing.T) {
		var rows []string
		for _, table := range []string{"applications", "accounts", "decisions", "webhook_events", "snapshots"} {
			var dump string
			require.NoError(t, stack.Pool.QueryRow(ctx,
				fmt.Sprintf("SELECT coalesce(string_agg(t::text, '\n'), '') FROM %s t", table)).Scan(&dump))
			rows = append(rows, dump)
		}
		all := strings.Join(rows, "\n")
		require.NotEmpty(t, all)
		require.NotContains(t, all, "_secret_")
		require.NotContains(t, all, "sk_test_")
		require.NotContains(t, all, "whsec_")

		// Nor in workflow history, where no transaction description goes either.
		for _, r := range results {
			// Payloads are base64 in the export: historyText appends their decoded bytes.
			b, text := historyText(ctx, t, stack, workflows.WorkflowID(DevKey(r.ApplicationID)), DevKey(r.ApplicationID))
			upper := strings.ToUpper(text)
			for _, secret := range []string{"_secret_", "sk_test_", "whsec_", "PAYROLL", "OVERDRAFT FEE", "PPD ID", "\"description\""} {
				if i := strings.Index(upper, strings.ToUpper(secret)); i >= 0 {
					t.Errorf("%s: history holds %q: …%s…", r.Persona, secret, text[max(0, i-80):min(len(text), i+80)])
				}
			}
			if *updateHistories != "" {
				path := filepath.Join("../../testdata/histories", "underwrite-"+*updateHistories+"-"+r.Persona+".json")
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, b, 0o644))
			}
		}
	})

	t.Run("the same application twice reaches the same workflow", func(t *testing.T) {
		hc := &http.Client{Timeout: 30 * time.Second}
		req := api.ApplicationRequest{ApplicationID: "it-retry", LoanAmountMinor: 100000, TermMonths: 6, Currency: "usd"}
		first, err := stack.Client(hc).CreateApplication(ctx, req)
		require.NoError(t, err)
		require.True(t, first.Created)
		require.NotEmpty(t, first.ClientSecret)
		second, err := stack.Client(hc).CreateApplication(ctx, req)
		require.NoError(t, err)
		require.False(t, second.Created)
		require.Equal(t, first.WorkflowID, second.WorkflowID)
		require.Equal(t, first.RunID, second.RunID)
		require.Equal(t, first.SessionID, second.SessionID)
		require.Equal(t, first.ClientSecret, second.ClientSecret, "a retrying backend gets the secret again, read back from Stripe")

		req.LoanAmountMinor = 200000
		status, body := postJSON(t, stack.Client(hc), "/v1/applications", req)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, `"field": "application_id"`)

		st, code, err := stack.Client(hc).GetApplication(ctx, "it-retry")
		require.NoError(t, err, code)
		require.Equal(t, loan.StageAwaitingLink, st.Stage)
		require.Nil(t, st.Decision)
	})

	t.Run("bad input names the field", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second}
		status, body := postJSON(t, stack.Client(hc), "/v1/applications", map[string]any{
			"application_id": "it-bad", "loan_amount_minor": -5, "term_months": 12,
		})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, `"field": "loan_amount_minor"`)
		_, code, _ := stack.Client(hc).GetApplication(ctx, "it-bad")
		require.Equal(t, http.StatusNotFound, code, "a refused application is not stored")
	})

	t.Run("unsigned webhook is refused and signals nothing", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second}
		body := []byte(`{"id":"evt_forged","object":"event","type":"financial_connections.account.created","data":{"object":{"id":"fca_x"}}}`)
		for _, sig := range []string{"", "t=1,v1=deadbeef"} {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, stack.APIURL+"/v1/webhooks/stripe", bytes.NewReader(body))
			require.NoError(t, err)
			if sig != "" {
				req.Header.Set("Stripe-Signature", sig)
			}
			resp, err := hc.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		}
		var n int
		require.NoError(t, stack.Pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE id = 'evt_forged'").Scan(&n))
		require.Zero(t, n)
	})
}

// TestWebhookReceiverHardening sends signed deliveries the way Stripe can: replayed,
// duplicated, late, of unknown types and oversized.
func TestWebhookReceiverHardening(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	hc := &http.Client{Timeout: 10 * time.Second}
	deliver := func(body []byte, header string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, stack.APIURL+"/v1/webhooks/stripe", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Stripe-Signature", header)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	event := func(id, typ, object string) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,"type":%q,"livemode":false,"pending_webhooks":1,"data":{"object":%s}}`,
			id, time.Now().Unix(), typ, object))
	}
	sign := func(body []byte, at time.Time) string {
		return fcsandbox.SignatureHeader(body, stack.WebhookSecret, at)
	}
	events := func(id string) int {
		var n int
		require.NoError(t, stack.Pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE id = $1", id).Scan(&n))
		return n
	}

	t.Run("unknown type is acknowledged once, then a duplicate", func(t *testing.T) {
		body := event("evt_unknown_1", "customer.updated", `{"id":"cus_1","object":"customer"}`)
		status, out := deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"ignored"`)
		status, out = deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"duplicate"`)
		require.Equal(t, 1, events("evt_unknown_1"))
	})

	t.Run("replayed old delivery is refused", func(t *testing.T) {
		body := event("evt_old_1", "customer.updated", `{"id":"cus_1","object":"customer"}`)
		status, out := deliver(body, sign(body, time.Now().Add(-10*time.Minute)))
		require.Equal(t, http.StatusBadRequest, status, out)
		require.Zero(t, events("evt_old_1"))
	})

	t.Run("one of several v1 signatures may match", func(t *testing.T) {
		body := event("evt_rotated_1", "customer.updated", `{"id":"cus_1","object":"customer"}`)
		now := time.Now()
		header := sign(body, now)
		old := fcsandbox.SignatureHeader(body, "whsec_retired", now)
		status, out := deliver(body, old+","+header[strings.Index(header, "v1="):])
		require.Equal(t, http.StatusOK, status, out)
		require.Equal(t, 1, events("evt_rotated_1"))
	})

	t.Run("event for a customer we do not know is ignored", func(t *testing.T) {
		body := event("evt_stranger_1", "financial_connections.account.created",
			`{"id":"fca_stranger","object":"financial_connections.account","status":"active","account_holder":{"type":"customer","customer":"cus_stranger"}}`)
		status, out := deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"ignored"`)
	})

	t.Run("an event of a newer API version is accepted", func(t *testing.T) {
		body := []byte(fmt.Sprintf(`{"id":"evt_newer_1","object":"event","api_version":"2024-04-10","created":%d,"type":"customer.updated","livemode":false,"pending_webhooks":1,"data":{"object":{"id":"cus_1","object":"customer"}}}`, time.Now().Unix()))
		status, out := deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, out)
		require.Equal(t, 1, events("evt_newer_1"))
	})

	t.Run("oversized body is refused", func(t *testing.T) {
		body := bytes.Repeat([]byte("x"), api.DefaultMaxWebhookBody+1)
		status, _ := deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusRequestEntityTooLarge, status)
	})

	t.Run("duplicated and late webhooks change no decision", func(t *testing.T) {
		// The sandbox duplicates every webhook of this run; the application still ends with
		// one decision, and a webhook after the decision is acknowledged and ignored.
		require.NoError(t, stack.Sandbox.InjectFault(fcsandbox.Fault{Kind: fcsandbox.FaultDuplicateWebhook, Count: 100}))
		var steady fcsandbox.Persona
		for _, p := range stack.Personas {
			if p.Name == "steady_salaried" {
				steady = p
			}
		}
		res := stack.underwriteOne(ctx, "dup-steady", steady, time.Minute)
		require.NoError(t, res.Err)
		require.Equal(t, "approve", res.Outcome)
		n, err := stack.Store.CountDecisions(ctx, DevKey("dup-steady"))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		var dups int
		require.NoError(t, stack.Pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events").Scan(&dups))
		require.Positive(t, dups)

		// The decision is recorded a moment before the workflow completes; wait for that.
		require.NoError(t, stack.Temporal.GetWorkflow(ctx, workflows.WorkflowID(DevKey("dup-steady")), "").Get(ctx, nil))
		accts, err := stack.Store.ListAccounts(ctx, DevKey("dup-steady"))
		require.NoError(t, err)
		app, err := stack.Store.GetApplication(ctx, DevKey("dup-steady"))
		require.NoError(t, err)
		body := event("evt_late_1", "financial_connections.account.refreshed_transactions",
			fmt.Sprintf(`{"id":%q,"object":"financial_connections.account","status":"active","account_holder":{"type":"customer","customer":%q}}`,
				accts[0].ID, *app.CustomerID))
		status, out := deliver(body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"ignored"`, "the workflow has finished")
	})
}

// payloadData matches the base64 data of a payload in an exported history.
var payloadData = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// postJSON posts v to the API's path as c's lender, once, and returns the status and body.
func postJSON(t *testing.T, c Client, path string, v any) (int, string) {
	t.Helper()
	status, body := send(t, c, http.MethodPost, path, v)
	return status, string(body)
}

// TestReturningCustomerSyncsOnlyWhatChanged underwrites a customer twice on the same linked
// account. The second application needs no new link, pulls only what refreshes after the
// first sync created or changed, and its snapshot holds exactly what a full re-sync from
// Stripe gives.
func TestReturningCustomerSyncsOnlyWhatChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	steady, acct := returningCustomer(ctx, t, stack, "ret-first")
	before, err := stack.Store.ListTransactions(ctx, acct.ID)
	require.NoError(t, err)
	firstSync := activityResults[activities.SyncResult](t, ctx, stack, "ret-first", "SyncTransactions")
	require.Len(t, firstSync, 1)
	require.Equal(t, int64(len(before)), firstSync[0].Upserted, "the first sync is a full one")

	hc := &http.Client{Timeout: 30 * time.Second}
	req := api.ApplicationRequest{ApplicationID: "ret-second", LoanAmountMinor: steady.LoanAmountMinor,
		TermMonths: steady.TermMonths, Currency: steady.Currency, AccountIDs: []string{acct.ID}}
	created, err := stack.Client(hc).CreateApplication(ctx, req)
	require.NoError(t, err)
	require.Empty(t, created.ClientSecret, "no new link, no client secret")
	st, err := stack.Client(hc).WaitForDecision(ctx, "ret-second")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)

	after, err := stack.Store.ListTransactions(ctx, acct.ID)
	require.NoError(t, err)
	require.Len(t, after, len(before), "nothing is stored twice")
	syncs := activityResults[activities.SyncResult](t, ctx, stack, "ret-second", "SyncTransactions")
	require.Len(t, syncs, 1)
	require.Zero(t, syncs[0].Upserted, "the bank changed nothing since the first sync, so nothing is pulled again")
	require.Equal(t, len(before), syncs[0].Stored)

	// A full re-sync from Stripe, compared with the second snapshot.
	d, err := stack.Store.GetDecision(ctx, DevKey("ret-second"))
	require.NoError(t, err)
	snap, err := stack.Store.GetSnapshot(ctx, *d.SnapshotID)
	require.NoError(t, err)
	require.Equal(t, fullListing(t, stack, acct.ID), snapshotTransactions(t, snap.Ledger))

	// Account ids nobody linked are refused, naming the field, and nothing is stored.
	status, body := postJSON(t, stack.Client(hc), "/v1/applications", api.ApplicationRequest{ApplicationID: "ret-bad",
		LoanAmountMinor: 1000, TermMonths: 6, AccountIDs: []string{"fca_nobodylinkedthis"}})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, `"field": "account_ids[0]"`)
	_, code, _ := stack.Client(hc).GetApplication(ctx, "ret-bad")
	require.Equal(t, http.StatusNotFound, code)
}

type txnKey struct {
	ID, Status string
	Amount     int64
}

func fullListing(t *testing.T, stack *Stack, accountID string) map[txnKey]bool {
	t.Helper()
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: stack.APIKey, APIBase: stack.SandboxURL}, slog.New(slog.DiscardHandler))
	p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(accountID)}
	p.Limit = stripe.Int64(100)
	it := sc.FinancialConnectionsTransactions.List(p)
	out := map[txnKey]bool{}
	for it.Next() {
		tx := it.FinancialConnectionsTransaction()
		out[txnKey{tx.ID, string(tx.Status), tx.Amount}] = true
	}
	require.NoError(t, it.Err())
	return out
}

func snapshotTransactions(t *testing.T, ledger []byte) map[txnKey]bool {
	t.Helper()
	var doc struct {
		Accounts []struct {
			Transactions []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Amount int64  `json:"amount"`
			} `json:"transactions"`
		} `json:"accounts"`
	}
	require.NoError(t, json.Unmarshal(ledger, &doc))
	out := map[txnKey]bool{}
	for _, a := range doc.Accounts {
		for _, tx := range a.Transactions {
			out[txnKey{tx.ID, tx.Status, tx.Amount}] = true
		}
	}
	return out
}

// startStack starts a quiet stack on a fresh database, without the Web UI, with the
// sample personas, and stops it when the test ends.
func startStack(ctx context.Context, t *testing.T, cfg Config) *Stack {
	t.Helper()
	cfg.DatabaseURL, cfg.UIPort, cfg.PersonaDir = pgtest.URL(t), -1, personaDir
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	stack, err := Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stack.Close()) })
	return stack
}

// returningCustomer underwrites a first application of the steady persona and returns the
// persona and the account it linked, for a second application on that account.
func returningCustomer(ctx context.Context, t *testing.T, stack *Stack, appID string) (fcsandbox.Persona, store.Account) {
	t.Helper()
	steady := persona(t, stack, "steady_salaried")
	first := stack.underwriteOne(ctx, appID, steady, time.Minute)
	require.NoError(t, first.Err)
	accts, err := stack.Store.ListAccounts(ctx, DevKey(appID))
	require.NoError(t, err)
	require.Len(t, accts, 1)
	return steady, accts[0]
}

// linkWith drives one application whose bank link uses lr's options.
func linkWith(t *testing.T, ctx context.Context, stack *Stack, appID string, p fcsandbox.Persona, lr fcsandbox.LinkRequest) {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	created, err := stack.Client(hc).CreateApplication(ctx, api.ApplicationRequest{ApplicationID: appID,
		LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency})
	require.NoError(t, err)
	lr.ClientSecret, lr.Persona = created.ClientSecret, p.Name
	_, err = fcsandbox.CompleteLinkWith(ctx, hc, stack.SandboxURL, lr)
	require.NoError(t, err)
}

func persona(t *testing.T, stack *Stack, name string) fcsandbox.Persona {
	t.Helper()
	for _, p := range stack.Personas {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no persona %s", name)
	return fcsandbox.Persona{}
}

func reasonCodes(t *testing.T, st api.ApplicationStatus) []string {
	t.Helper()
	var reasons []struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal(st.Decision.Reasons, &reasons))
	var codes []string
	for _, r := range reasons {
		codes = append(codes, r.Code)
	}
	return codes
}

// TestInactiveAccount: an account that turns inactive when refreshed is referred with a
// clear reason when it stays inactive, and underwritten normally when the bank connection
// is reactivated in time (the reactivated webhook wakes the workflow).
func TestInactiveAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}

	t.Run("stays inactive: refer", func(t *testing.T) {
		stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, ReactivationTimeout: 2 * time.Second})
		linkWith(t, ctx, stack, "inactive-stays", persona(t, stack, "steady_salaried"),
			fcsandbox.LinkRequest{AccountStatusAtRefresh: fcsandbox.StatusInactive})
		st, err := stack.Client(hc).WaitForDecision(ctx, "inactive-stays")
		require.NoError(t, err)
		require.Equal(t, "refer", st.Decision.Outcome)
		require.Contains(t, reasonCodes(t, st), "ACCOUNT_NOT_ACTIVE")
	})

	t.Run("disconnected: refer without waiting", func(t *testing.T) {
		stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, ReactivationTimeout: 2 * time.Minute})
		start := time.Now()
		linkWith(t, ctx, stack, "disconnected", persona(t, stack, "steady_salaried"),
			fcsandbox.LinkRequest{AccountStatusAtRefresh: fcsandbox.StatusDisconnected})
		st, err := stack.Client(hc).WaitForDecision(ctx, "disconnected")
		require.NoError(t, err)
		require.Equal(t, "refer", st.Decision.Outcome)
		require.Contains(t, reasonCodes(t, st), "ACCOUNT_NOT_ACTIVE")
		require.Less(t, time.Since(start), time.Minute, "a disconnected account never comes back, so nothing waits for it")
	})

	t.Run("reactivated in time: decided on fresh data", func(t *testing.T) {
		stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, ReactivationTimeout: 2 * time.Minute})
		linkWith(t, ctx, stack, "inactive-back", persona(t, stack, "steady_salaried"),
			fcsandbox.LinkRequest{AccountStatusAtRefresh: fcsandbox.StatusInactive})

		// Wait until the workflow sees the account inactive, then the bank reconnects.
		var inactiveID string
		require.Eventually(t, func() bool {
			v, err := stack.Temporal.QueryWorkflow(ctx, workflows.WorkflowID(DevKey("inactive-back")), "", workflows.QueryStatus)
			if err != nil {
				return false
			}
			var st workflows.Status
			if v.Get(&st) != nil {
				return false
			}
			for _, a := range st.Refresh {
				if a.Status == fcsandbox.StatusInactive {
					inactiveID = a.AccountID
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond)
		require.NoError(t, stack.Sandbox.SetAccountStatus(inactiveID, fcsandbox.StatusActive))

		st, err := stack.Client(hc).WaitForDecision(ctx, "inactive-back")
		require.NoError(t, err)
		require.Equal(t, "approve", st.Decision.Outcome)
		require.NotContains(t, reasonCodes(t, st), "ACCOUNT_NOT_ACTIVE")
	})
}

// TestRateLimitedStripe runs every persona against a sandbox that allows only a few
// requests per second, answering the rest with Stripe's 429: the activities back off and
// every application is still decided as expected.
func TestRateLimitedStripe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, SandboxRateLimit: 4})

	results := stack.UnderwriteSamples(ctx, "rl", 3*time.Minute)
	retried := 0
	for _, r := range results {
		require.NoError(t, r.Err, r.Persona)
		require.Equal(t, r.Expected, r.Outcome, r.Persona)
		it := stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(DevKey(r.ApplicationID)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.Attempt > 1 &&
				strings.Contains(a.GetLastFailure().GetMessage(), "429") {
				retried++
			}
		}
	}
	require.Positive(t, retried, "some Stripe calls were rate limited and retried")
	t.Logf("%d activity attempts retried after a 429", retried)
}

// TestReturningCustomerSyncsTheBanksChanges: between two applications of one customer the
// bank settles the pending transactions (the sandbox's next refresh posts them). The second
// application's refresh brings exactly those changes, its incremental sync pulls only them
// (transaction_refresh[after] the first sync's refresh), and its snapshot equals a full
// re-sync from Stripe.
func TestReturningCustomerSyncsTheBanksChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, SandboxRefreshCooldown: -1})
	steady, acct := returningCustomer(ctx, t, stack, "settle-first")
	before, err := stack.Store.ListTransactions(ctx, acct.ID)
	require.NoError(t, err)
	var pending []string
	for _, tx := range before {
		if tx.Status == "pending" {
			pending = append(pending, tx.ID)
		}
	}
	require.NotEmpty(t, pending, "the persona needs pending transactions")

	// The bank settles: the next refresh posts the pending transactions.
	require.NoError(t, stack.Sandbox.SetPendingAtRefresh(acct.ID, fcsandbox.PendingPost))
	hc := &http.Client{Timeout: 30 * time.Second}
	_, err = stack.Client(hc).CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "settle-second",
		LoanAmountMinor: steady.LoanAmountMinor, TermMonths: steady.TermMonths, Currency: steady.Currency,
		AccountIDs: []string{acct.ID}})
	require.NoError(t, err)
	st, err := stack.Client(hc).WaitForDecision(ctx, "settle-second")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)

	syncs := activityResults[activities.SyncResult](t, ctx, stack, "settle-second", "SyncTransactions")
	require.Len(t, syncs, 1)
	require.Equal(t, int64(len(pending)), syncs[0].Upserted, "the incremental sync pulls exactly the settled transactions")
	after, err := stack.Store.ListTransactions(ctx, acct.ID)
	require.NoError(t, err)
	require.Len(t, after, len(before), "settling changes rows, it adds none")
	for _, tx := range after {
		require.NotEqual(t, "pending", tx.Status, "%s is settled in Postgres too", tx.ID)
	}
	d, err := stack.Store.GetDecision(ctx, DevKey("settle-second"))
	require.NoError(t, err)
	snap, err := stack.Store.GetSnapshot(ctx, *d.SnapshotID)
	require.NoError(t, err)
	require.Equal(t, fullListing(t, stack, acct.ID), snapshotTransactions(t, snap.Ledger), "the snapshot equals a full re-sync")
}

// TestRefreshNotYetAllowedIsWaitedFor: Stripe allows no refresh yet and the data it holds
// is older than the fresh-data window, so the workflow waits for next_refresh_available_at
// and refreshes then, rather than failing or deciding on stale data.
func TestRefreshNotYetAllowedIsWaitedFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Long enough that the first application's refresh is still cooling down when the
	// second asks, even under -race on a loaded machine (at 3 s a slow first run outlived it).
	const cooldown = 10 * time.Second
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, SandboxRefreshCooldown: cooldown, FreshDataWindow: time.Millisecond})
	steady, acct := returningCustomer(ctx, t, stack, "wait-first")

	hc := &http.Client{Timeout: 30 * time.Second}
	_, err := stack.Client(hc).CreateApplication(ctx, api.ApplicationRequest{ApplicationID: "wait-second",
		LoanAmountMinor: steady.LoanAmountMinor, TermMonths: steady.TermMonths, Currency: steady.Currency,
		AccountIDs: []string{acct.ID}})
	require.NoError(t, err)
	st, err := stack.Client(hc).WaitForDecision(ctx, "wait-second")
	require.NoError(t, err)
	require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome)
	require.NotContains(t, reasonCodes(t, st), "STALE_DATA")

	// The history shows the wait: a refresh round that asked nothing, a timer, a second
	// round that refreshed.
	rounds, timers := 0, 0
	it := stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(DevKey("wait-second")), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.ActivityType.GetName() == "RequestRefresh" {
			rounds++
		}
		// The refresh polls use 30 s timers; the wait for the cool-down is shorter.
		if a := ev.GetTimerStartedEventAttributes(); a != nil && a.StartToFireTimeout.AsDuration() <= cooldown+time.Second {
			timers++
		}
	}
	require.Equal(t, 2, rounds, "one round refused by the cool-down, one after it")
	require.Positive(t, timers, "the workflow slept until next_refresh_available_at")
}

// TestConcurrentRefreshesOfOneAccount: two applications of a returning customer start at
// once on the same account. Stripe runs one refresh at a time: one workflow starts it, the
// other finds it pending (or is refused, as Stripe refuses a refresh while one is pending)
// and waits for it instead of failing. Both are decided.
func TestConcurrentRefreshesOfOneAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: time.Second, SandboxRefreshCooldown: -1})
	steady, acct := returningCustomer(ctx, t, stack, "conc-first")

	hc := &http.Client{Timeout: 30 * time.Second}
	ids := []string{"conc-b", "conc-c"}
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() {
			_, err := stack.Client(hc).CreateApplication(ctx, api.ApplicationRequest{ApplicationID: id,
				LoanAmountMinor: steady.LoanAmountMinor, TermMonths: steady.TermMonths, Currency: steady.Currency,
				AccountIDs: []string{acct.ID}})
			errs <- err
		}()
	}
	for range ids {
		require.NoError(t, <-errs)
	}
	requested := 0
	for _, id := range ids {
		st, err := stack.Client(hc).WaitForDecision(ctx, id)
		require.NoError(t, err)
		require.Equal(t, steady.ExpectedOutcome, st.Decision.Outcome, id)
		require.NotContains(t, reasonCodes(t, st), "STALE_DATA", id)
		for _, rs := range activityResults[activities.RefreshState](t, ctx, stack, id, "RequestRefresh") {
			for _, a := range rs.Accounts {
				if a.Requested {
					requested++
				}
			}
		}
	}
	require.Equal(t, 1, requested, "one workflow started the refresh, the other waited for it")
}

// activityResults decodes the results of an application's activities of one type, in the
// order they completed, from the workflow's history.
func activityResults[T any](t *testing.T, ctx context.Context, stack *Stack, applicationID, activityType string) []T {
	t.Helper()
	it := stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(DevKey(applicationID)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]string{}
	var out []T
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.EventId] = a.ActivityType.GetName()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && scheduled[a.ScheduledEventId] == activityType {
			var res T
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.Result, &res))
			out = append(out, res)
		}
	}
	return out
}

// TestStartedWithTheGoClient follows the README's Go-client integration: the backend creates
// the Stripe customer and session itself and starts Underwrite with the Temporal client; the
// workflow registers its application, so webhooks reach it and the decision is recorded.
func TestStartedWithTheGoClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond})
	req := api.ApplicationRequest{ApplicationID: "go-client-1", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd"}
	run := startWithGoClient(ctx, t, stack, req, "steady_salaried")
	hc := &http.Client{Timeout: 30 * time.Second}
	var res workflows.UnderwriteResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, "approve", res.Outcome)
	st, err := stack.Client(hc).WaitForDecision(ctx, req.ApplicationID)
	require.NoError(t, err)
	require.Equal(t, "approve", st.Decision.Outcome)
}

// startWithGoClient starts req's Underwrite workflow as the README's Go-client
// integration does (the backend creates the Stripe customer and session itself and
// starts the workflow with the Temporal client), then links persona's account once the
// workflow has registered the application: a webhook before that is acknowledged and
// ignored (the workflow's session poll would still find the link, only later).
func startWithGoClient(ctx context.Context, t *testing.T, stack *Stack, req api.ApplicationRequest, persona string) tclient.WorkflowRun {
	t.Helper()
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: stack.APIKey, APIBase: stack.SandboxURL}, slog.New(slog.DiscardHandler))
	cus, err := sc.Customers.New(api.CustomerParams(ctx, req.ApplicationID, req))
	require.NoError(t, err)
	sess, err := sc.FinancialConnectionsSessions.New(api.SessionParams(ctx, req.ApplicationID, req, cus.ID))
	require.NoError(t, err)
	run, err := stack.Temporal.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		ID: workflows.WorkflowID(req.ApplicationID), TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.Underwrite, workflows.UnderwriteInput{
		ApplicationID: req.ApplicationID, CustomerID: cus.ID, SessionID: sess.ID,
		LoanAmountMinor: req.LoanAmountMinor, TermMonths: req.TermMonths, Currency: req.Currency,
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := stack.Store.GetApplication(ctx, req.ApplicationID)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)
	_, err = fcsandbox.CompleteLink(ctx, &http.Client{Timeout: 30 * time.Second}, stack.SandboxURL, sess.ClientSecret, persona)
	require.NoError(t, err)
	return run
}
