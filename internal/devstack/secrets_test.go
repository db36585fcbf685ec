package devstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// secretKind names a class of value that must stay out of logs, histories and the database.
type secretKind string

const (
	kindStripeKey     secretKind = "stripe secret key"
	kindWebhookSecret secretKind = "webhook secret"
	kindClientSecret  secretKind = "session client_secret"
	kindName          secretKind = "applicant name"
	kindEmail         secretKind = "applicant email"
	kindLast4         secretKind = "account last4"
	kindDescription   secretKind = "transaction description"
	kindLenderKey     secretKind = "lender API key"
	kindHashKey       secretKind = "request hash key"
	kindAlertKey      secretKind = "alert signing master key"
	kindAlertSecret   secretKind = "lender's alert webhook secret"
)

// secretAllowed lists, per place ("db <table>.<column>", "log", "history"), the kinds of
// secret that place is meant to hold, with the reason. Everything else is a leak. Each
// entry must also be seen holding its kind in the run, which proves the search reaches it
// and keeps the list from going stale.
// Applicant names and emails are allowed nowhere: the API passes them to Stripe's customer
// object only (api.ApplicationRequest.Applicant), and applications.request_hash holds a
// hash of them, not the text.
var secretAllowed = map[string]map[secretKind]string{
	"db transactions.description": {
		kindDescription: "the bank's own transaction text, stored to build the ledger that scoring reads",
		kindLast4:       "the bank's text of a transfer between the applicant's own accounts names the other one as XXXXXX<last4>",
	},
	"db snapshots.ledger": {
		kindDescription: "the frozen ledger document a decision was made on, hashed byte for byte for audit",
		kindLast4:       "the same bank transfer text as transactions.description, inside the frozen ledger",
	},
	"db decisions.features": {
		kindDescription: "the feature record names each recurring stream and income source by its normalised description (scoring.Stream), so a decision can be explained and checked",
	},
}

// secretApplicants are the applications of the run: distinctive names and emails that no
// other text in the stack could contain by chance. high_income_two_accounts links two
// accounts.
var secretApplicants = []struct{ persona, name, email string }{
	{"steady_salaried", "Ottoline Vasquez-Brandt", "ottoline.vb@applicant.example"},
	{"overdraft_nsf", "Quirinus Abernathy-Lowe", "q.abernathy.lowe@applicant.example"},
	{"high_income_two_accounts", "Perpetua Nakagawa-Oyelaran", "perpetua.no@applicant.example"},
	{"gig_irregular", "Barnaby Szczepanski-Haugh", "barnaby.sh@applicant.example"},
}

// secretNeedle is one value searched for.
type secretNeedle struct {
	kind  secretKind
	value string
	match func(text string) int // index of the first match, -1 for none
}

// contains matches value anywhere.
func contains(value string) func(string) int {
	return func(text string) int { return strings.Index(text, value) }
}

// uuidPattern matches a UUID: Temporal's run and request ids are UUIDs, whose 4-hex
// groups are four decimal digits often enough (one run in a few dozen found a last4 in a
// requestId) to be masked before a last4 is looked for.
var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// randomIDPattern matches the random ids of Stripe's objects and requests and of the
// sandbox's (fca_…, fctxn_…, req_…: a lower-case prefix, an underscore and ten or more
// letters and digits): "req_L92c4ukQ0032zo" holds four digits between letters, which a
// last4 search would otherwise report once the run logs enough requests. A bank's text
// of an account number ("XXXXXX4410") has no such prefix and is still found.
var randomIDPattern = regexp.MustCompile(`\b[a-z]{2,8}_[A-Za-z0-9]{10,}\b`)

// digitsAlone matches value only where no digit is next to it, so a last4 is not found
// inside a longer number such as a timestamp or an amount, and never inside a UUID.
func digitsAlone(value string) func(string) int {
	re := regexp.MustCompile(`(^|[^0-9])` + regexp.QuoteMeta(value) + `([^0-9]|$)`)
	return func(text string) int {
		hide := func(u string) string { return strings.Repeat("#", len(u)) }
		masked := randomIDPattern.ReplaceAllStringFunc(uuidPattern.ReplaceAllStringFunc(text, hide), hide)
		if loc := re.FindStringIndex(masked); loc != nil {
			return loc[0]
		}
		return -1
	}
}

// TestNoSecretsOrPersonalData runs applications created with applicant names and emails
// through the whole stack, then searches every log line, every workflow history (payloads
// decoded) and every column of every table for the Stripe key, the webhook secret, each
// client_secret, the development lender's API key, the request hash key, the applicants'
// names and emails, each linked account's last4 and the linked ledgers' transaction
// descriptions. None may appear outside secretAllowed.
func TestNoSecretsOrPersonalData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &syncbuf.Buffer{}
	// The lender's alert endpoint: it takes every alert, so that deliveries are logged too.
	alertHook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer alertHook.Close()
	stack := startStack(ctx, t, Config{
		RefreshDelay:    200 * time.Millisecond,
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AlertWebhookURL: alertHook.URL,
	})

	needles := []secretNeedle{
		{kindStripeKey, stack.APIKey, contains(stack.APIKey)},
		{kindWebhookSecret, stack.WebhookSecret, contains(stack.WebhookSecret)},
		{kindLenderKey, stack.LenderKey, contains(stack.LenderKey)},
		// Its secret half alone, too: a key is never stored or logged in part.
		{kindLenderKey, stack.LenderKey[len(stack.LenderKey)-64:], contains(stack.LenderKey[len(stack.LenderKey)-64:])},
		{kindHashKey, string(stack.requestHashKey), contains(string(stack.requestHashKey))},
		{kindAlertKey, hex.EncodeToString(stack.AlertSigningKey), contains(hex.EncodeToString(stack.AlertSigningKey))},
		{kindAlertSecret, stack.AlertSecret(store.DevLender), contains(stack.AlertSecret(store.DevLender))},
		// The transactions the stacking_borrower story (high_income_two_accounts' after the
		// loan) releases, as the bank describes them.
		{kindDescription, "SPEEDY CASH", contains("SPEEDY CASH")},
		{kindDescription, "CHECK INTO CASH", contains("CHECK INTO CASH")},
	}
	needles = append(needles, ledgerSecrets(t)...)
	created := runSecretApplications(ctx, t, stack)
	for i, a := range secretApplicants {
		needles = append(needles,
			secretNeedle{kindClientSecret, created[i].ClientSecret, contains(created[i].ClientSecret)},
			secretNeedle{kindName, a.name, contains(a.name)},
			secretNeedle{kindEmail, a.email, contains(a.email)})
	}

	// After the loan: the approved applicants' loans are booked and watched for 30
	// simulated days; high_income_two_accounts' story raises alerts, which are stored and
	// delivered. Their histories, rows and log lines are searched like the rest.
	results := make([]Result, len(created))
	for i, c := range created {
		d, err := stack.Store.GetDecision(ctx, DevKey(c.ApplicationID))
		require.NoError(t, err)
		results[i] = Result{ApplicationID: c.ApplicationID, Persona: secretApplicants[i].persona, Outcome: d.Outcome}
	}
	loans := stack.BookSampleLoans(ctx, results)
	require.NotEmpty(t, loans)
	require.NoError(t, stack.PlayDays(ctx, loans, 30))
	alerts := 0
	for _, l := range loans {
		require.NoError(t, l.Err)
		as, err := stack.Store.ListAlerts(ctx, DevKey(l.ApplicationID))
		require.NoError(t, err)
		for _, a := range as {
			require.NotNil(t, a.DeliveredAt, "alert %d delivered", a.ID)
		}
		alerts += len(as)
	}
	require.Positive(t, alerts, "the story raised alerts, so their path is searched too")

	places := databaseDump(ctx, t, stack)
	for i := range secretApplicants {
		_, places["history "+created[i].WorkflowID] = historyText(ctx, t, stack, created[i].WorkflowID, DevKey(created[i].ApplicationID))
	}
	for _, l := range loans {
		_, places["history "+l.WorkflowID] = historyText(ctx, t, stack, l.WorkflowID, DevKey(l.ApplicationID))
	}
	for wid, text := range workflowMetadata(ctx, t, stack) {
		places["metadata "+wid] = text
	}
	// The stack stops before its log is read, so that every line it writes is searched.
	require.NoError(t, stack.Close())
	places["log"] = logs.String()
	for _, a := range secretApplicants {
		require.Contains(t, places["log"], a.persona, "the log is captured")
	}

	seen := map[string]map[secretKind]bool{}
	for where, text := range places {
		allowKey := where
		if strings.HasPrefix(where, "history ") {
			allowKey = "history"
		}
		for _, n := range needles {
			i := n.match(text)
			if i < 0 {
				continue
			}
			if _, ok := secretAllowed[allowKey][n.kind]; ok {
				if seen[allowKey] == nil {
					seen[allowKey] = map[secretKind]bool{}
				}
				seen[allowKey][n.kind] = true
				continue
			}
			t.Errorf("%s holds the %s %q: …%s…", where, n.kind, n.value, text[max(0, i-100):min(len(text), i+len(n.value)+100)])
		}
	}
	for where, kinds := range secretAllowed {
		for kind := range kinds {
			require.True(t, seen[where][kind], "allow-list entry %s / %s matched nothing: stale, or the search misses it", where, kind)
		}
	}
}

// runSecretApplications creates secretApplicants' applications with their names and
// emails, links their personas and waits for every decision.
func runSecretApplications(ctx context.Context, t *testing.T, stack *Stack) []api.ApplicationCreated {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	created := make([]api.ApplicationCreated, len(secretApplicants))
	errs := make([]error, len(secretApplicants))
	var wg sync.WaitGroup
	for i, a := range secretApplicants {
		p := persona(t, stack, a.persona)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := stack.Client(hc).CreateApplication(ctx, api.ApplicationRequest{
				ApplicationID: "secrets-" + a.persona, LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths,
				Currency: p.Currency, Applicant: &api.Applicant{Name: a.name, Email: a.email},
			})
			if err == nil {
				_, err = fcsandbox.CompleteLink(ctx, hc, stack.SandboxURL, c.ClientSecret, a.persona)
			}
			if err == nil {
				_, err = stack.Client(hc).WaitForDecision(ctx, c.ApplicationID)
			}
			created[i], errs[i] = c, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, secretApplicants[i].persona)
		require.NotEmpty(t, created[i].ClientSecret)
	}
	return created
}

// ledgerSecrets reads the linked personas' ledger files: each account's last4 and every
// distinct transaction description.
func ledgerSecrets(t *testing.T) []secretNeedle {
	t.Helper()
	descriptions := map[string]bool{}
	var out []secretNeedle
	for _, a := range secretApplicants {
		var ledger struct {
			Accounts []struct {
				Account struct {
					Last4 string `json:"last4"`
				} `json:"account"`
				Transactions []struct {
					Description string `json:"description"`
				} `json:"transactions"`
			} `json:"accounts"`
		}
		b, err := os.ReadFile(filepath.Join(personaDir, a.persona+".json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &ledger))
		for _, acct := range ledger.Accounts {
			require.Len(t, acct.Account.Last4, 4, a.persona)
			out = append(out, secretNeedle{kindLast4, acct.Account.Last4, digitsAlone(acct.Account.Last4)})
			for _, tx := range acct.Transactions {
				descriptions[tx.Description] = true
			}
		}
	}
	require.NotEmpty(t, descriptions)
	sorted := make([]string, 0, len(descriptions))
	for d := range descriptions {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		out = append(out, secretNeedle{kindDescription, d, contains(d)})
	}
	return out
}

// databaseDump returns every column of every table in the public schema as text, keyed
// "db <table>.<column>", one value a line. bytea columns are read as their bytes, so that
// a JSON document stored as bytea is searched as the text it is.
func databaseDump(ctx context.Context, t *testing.T, stack *Stack) map[string]string {
	t.Helper()
	rows, err := stack.Pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)
	require.NoError(t, err)
	type column struct{ table, name, dataType string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		return c, r.Scan(&c.table, &c.name, &c.dataType)
	})
	require.NoError(t, err)
	require.NotEmpty(t, cols)
	out := map[string]string{}
	for _, c := range cols {
		expr := pgx.Identifier{c.name}.Sanitize() + "::text"
		if c.dataType == "bytea" {
			expr = pgx.Identifier{c.name}.Sanitize()
		}
		q := fmt.Sprintf("SELECT %s FROM %s", expr, pgx.Identifier{c.table}.Sanitize())
		rows, err := stack.Pool.Query(ctx, q)
		require.NoError(t, err, q)
		values, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		require.NoError(t, err, q)
		out["db "+c.table+"."+c.name] = string(bytes.Join(values, []byte("\n")))
	}
	require.Contains(t, out["db applications.id"], "secrets-steady_salaried", "the dump holds this run's rows")
	return out
}

// workflowMetadata returns, per workflow of the run, what the Web UI shows besides the
// history: every search attribute's name and value, the static summary and details, and
// the current details. Only the attributes the workflows declare may be set, and they hold
// ids and enums.
func workflowMetadata(ctx context.Context, t *testing.T, stack *Stack) map[string]string {
	t.Helper()
	resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{})
	require.NoError(t, err)
	require.NotEmpty(t, resp.Executions)
	out := map[string]string{}
	dc := converter.GetDefaultDataConverter()
	for _, e := range resp.Executions {
		wid := e.GetExecution().GetWorkflowId()
		var b strings.Builder
		for name, p := range e.GetSearchAttributes().GetIndexedFields() {
			var v any
			require.NoError(t, dc.FromPayload(p, &v))
			if _, ok := workflows.SearchAttributeTypes()[name]; !ok && !strings.HasPrefix(name, "Temporal") && name != "BuildIds" {
				t.Errorf("%s: search attribute %s is not one the workflows declare", wid, name)
			}
			fmt.Fprintf(&b, "%s=%v\n", name, v)
		}
		desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, wid, e.GetExecution().GetRunId())
		require.NoError(t, err)
		md := desc.GetExecutionConfig().GetUserMetadata()
		var summary, details string
		require.NoError(t, dc.FromPayload(md.GetSummary(), &summary))
		require.NoError(t, dc.FromPayload(md.GetDetails(), &details))
		app := strings.TrimPrefix(strings.TrimPrefix(wid, "underwrite/"), "monitor/")
		require.Contains(t, summary, app, "the summary names the application")
		fmt.Fprintf(&b, "summary: %s\ndetails: %s\n", summary, details)
		out[wid] = b.String()
	}
	return out
}

// historyText exports a workflow's history as JSON and returns the export and, for
// searching, the export with every payload decoded from its base64 appended, so that what
// the workflow passed around is searched as written.
func historyText(ctx context.Context, t *testing.T, stack *Stack, workflowID, applicationID string) (export []byte, text string) {
	t.Helper()
	require.Contains(t, []string{workflows.WorkflowID(applicationID), workflows.MonitorWorkflowID(applicationID)}, workflowID)
	b, err := wiring.ExportHistory(ctx, stack.Temporal, workflowID, "")
	require.NoError(t, err)
	text = string(b)
	for _, m := range payloadData.FindAllStringSubmatch(text, -1) {
		raw, err := base64.StdEncoding.DecodeString(m[1])
		require.NoError(t, err)
		text += "\n" + string(raw)
	}
	require.Contains(t, text, `"ApplicationID":"`+applicationID+`"`, "the decoded payloads are searched")
	return b, text
}

func TestDigitsAlone(t *testing.T) {
	t.Parallel()
	find := digitsAlone("4410")
	for _, text := range []string{"card ending 4410.", "XXXXXX4410", `"last4":"4410"`, "4410"} {
		require.GreaterOrEqual(t, find(text), 0, text)
	}
	for _, text := range []string{"7f8a97ce-414b-4410-afeb-c00c7da63c44", "1744100", "amount 44100", `"request_id":"req_L92c4ukQ4410zo"`, "fca_1hdvq5ugzQ4410r4nJUohqy4RV"} {
		require.Equal(t, -1, find(text), text)
	}
}
