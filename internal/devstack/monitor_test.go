package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// alertReceiver is a lender's alert endpoint: it verifies every delivery's signature and
// keeps what it received, by delivery id.
type alertReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    map[string][]alerthook.Body
	forged int
}

func (r *alertReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	if err := alerthook.Verify(r.secret, req.Header.Get(alerthook.SignatureHeader), b, time.Now(), alerthook.DefaultTolerance); err != nil {
		r.mu.Lock()
		r.forged++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var body alerthook.Body
	if err := json.Unmarshal(b, &body); err != nil || body.ID != req.Header.Get(alerthook.DeliveryHeader) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[body.ID] = append(r.got[body.ID], body)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// received returns, by loan id, the event keys received and how often each delivery came.
func (r *alertReceiver) received() (keys map[string][]string, deliveries map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys, deliveries = map[string][]string{}, map[string]int{}
	for id, bodies := range r.got {
		deliveries[id] = len(bodies)
		keys[bodies[0].LoanID] = append(keys[bodies[0].LoanID], bodies[0].Event.Key)
	}
	for _, k := range keys {
		slices.Sort(k)
	}
	return keys, deliveries
}

// TestLoanWatcherOnTheEmbeddedStack books two loans on the real stack, steady_salaried
// without a story and steady_salaried with the stacking_borrower story (a payday loan on
// day 20, another lender's on day 27), lets the sandbox play 30 days one at a time, and
// checks what the lender sees: each of the story's two NEW_HIGH_RISK_LENDER events stored
// once, within the refresh of the day it happened, and delivered once as a signed webhook;
// nothing for the steady loan; the at-risk loan findable by its MonitoringStatus search
// attribute; and a closed loan's watcher ended, its account unsubscribed.
func TestLoanWatcherOnTheEmbeddedStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	master, err := alerthook.ParseSigningKey(alerthook.GenerateSigningKey())
	require.NoError(t, err)
	recv := &alertReceiver{t: t, secret: alerthook.LenderSecret(master, loan.DevLender), got: map[string][]alerthook.Body{}}
	hook := httptest.NewServer(recv)
	defer hook.Close()

	stack, err := Start(ctx, Config{
		DatabaseURL: pgtest.URL(t), UIPort: -1, RefreshDelay: 20 * time.Millisecond,
		// A check refreshes the balance every simulated day: no cooldown between refreshes.
		SandboxRefreshCooldown: -1,
		AlertSigningKey:        master, AlertWebhookURL: hook.URL,
		Logger: logger, BuildVersion: "test",
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stack.Close()) })

	t.Cleanup(func() {
		if t.Failed() {
			for _, id := range []string{"watch-steady", "watch-stacking"} {
				logHistory(t, stack, workflows.MonitorWorkflowID(DevKey(id)))
			}
		}
	})
	hc := &http.Client{Timeout: 30 * time.Second}
	c := stack.Client(hc)
	personas := map[string]string{
		"watch-steady":   "steady_salaried",
		"watch-stacking": "steady_salaried_then_" + fcsandbox.StoryStackingBorrower,
	}
	accounts := map[string][]string{}
	for id, persona := range personas {
		created, err := c.CreateApplication(ctx, api.ApplicationRequest{ApplicationID: id, LoanAmountMinor: 300000, TermMonths: 12,
			Currency: "usd", Applicant: &api.Applicant{Name: "Watched " + id, Email: id + "@example.com"}})
		require.NoError(t, err)
		_, err = fcsandbox.CompleteLink(ctx, hc, stack.SandboxURL, created.ClientSecret, persona)
		require.NoError(t, err)
		st, err := c.WaitForDecision(ctx, id)
		require.NoError(t, err)
		require.Equal(t, loan.OutcomeApprove, st.Decision.Outcome, id)
		accts, err := stack.Store.ListAccounts(ctx, DevKey(id))
		require.NoError(t, err)
		for _, a := range accts {
			accounts[id] = append(accounts[id], a.ID)
		}
	}
	booked := stack.BookSampleLoans(ctx, []Result{
		{ApplicationID: "watch-steady", Outcome: loan.OutcomeApprove},
		{ApplicationID: "watch-stacking", Outcome: loan.OutcomeApprove},
	})
	require.Len(t, booked, 2)
	for _, b := range booked {
		require.NoError(t, b.Err)
		require.Equal(t, workflows.MonitorWorkflowID(DevKey(b.ApplicationID)), b.WorkflowID)
	}
	// Booking again is idempotent: the same loan, the same watcher.
	again, err := c.BookLoan(ctx, api.LoanRequest{ApplicationID: "watch-steady", AmountMinor: 300000, TermMonths: 12,
		FirstDueDate: mustLoan(t, ctx, c, "watch-steady").FirstDueDate})
	require.NoError(t, err)
	require.False(t, again.Created)

	// Each simulated day: the sandbox releases the day's transactions and sends each
	// subscribed account a refreshed_transactions webhook; the watcher syncs, refreshes
	// the balance (whose as_of is the sandbox's now) and checks. The next day starts once
	// both watchers have checked this one.
	require.NoError(t, stack.PlayDays(ctx, booked, 30))

	// The steady loan: nothing stored, nothing sent.
	steady, err := c.LoanAlerts(ctx, "watch-steady")
	require.NoError(t, err)
	require.Empty(t, steady, "no alert on steady_salaried")

	// The stacking borrower: two new high-risk lenders, each stored once, delivered once,
	// raised by the check of the day the loan was paid out.
	alerts, err := c.LoanAlerts(ctx, "watch-stacking")
	require.NoError(t, err)
	var keys []string
	for _, a := range alerts {
		require.Equal(t, scoring.EventNewHighRiskLender, a.Event.Type, "%+v", a.Event)
		require.NotNil(t, a.DeliveredAt, "alert %s delivered", a.ID)
		require.Equal(t, a.Event.Date, a.LedgerAsOf.Format(time.DateOnly), "raised by the refresh of the day it happened: %+v", a)
		keys = append(keys, a.Event.Key)
	}
	require.Len(t, keys, 2, "one alert per new lender: %v", keys)
	slices.Sort(keys)
	gotKeys, deliveries := recv.received()
	require.Equal(t, map[string][]string{"watch-stacking": keys}, gotKeys, "the lender received exactly the stored alerts")
	for id, n := range deliveries {
		require.Equal(t, 1, n, "delivery %s received %d times", id, n)
	}
	require.Zero(t, recv.forged, "every delivery carried a valid signature")

	// The UI's view: the at-risk loan is findable by its search attribute, the steady one
	// is not.
	require.Eventually(t, func() bool {
		resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: stack.Namespace, Query: `MonitoringStatus = "at_risk"`})
		if err != nil || len(resp.Executions) != 1 {
			return false
		}
		return resp.Executions[0].Execution.WorkflowId == workflows.MonitorWorkflowID(DevKey("watch-stacking"))
	}, 30*time.Second, 100*time.Millisecond, "MonitoringStatus=\"at_risk\" lists the stacking borrower's watcher alone")

	// The loan is repaid: the watcher unsubscribes and ends; the next day brings its
	// account no refresh.
	closed, err := c.CloseLoan(ctx, "watch-stacking", workflows.LoanRepaid)
	require.NoError(t, err)
	require.Equal(t, workflows.LoanRepaid, closed.Status)
	require.NoError(t, stack.Temporal.GetWorkflow(ctx, workflows.MonitorWorkflowID(DevKey("watch-stacking")), "").Get(ctx, nil))
	clock, err := stack.Sandbox.Advance(1)
	require.NoError(t, err)
	var refreshed []string
	for _, r := range clock.Refreshes {
		refreshed = append(refreshed, r.Account)
	}
	require.Subset(t, refreshed, accounts["watch-steady"], "the open loan's account is still subscribed")
	for _, a := range accounts["watch-stacking"] {
		require.NotContains(t, refreshed, a, "the closed loan's account is unsubscribed")
	}
	l, err := c.GetLoan(ctx, "watch-stacking")
	require.NoError(t, err)
	require.Equal(t, workflows.LoanRepaid, l.Status)
	require.Equal(t, 2, l.Alerts)
	require.Zero(t, l.Undelivered)
}

func mustLoan(t *testing.T, ctx context.Context, c Client, id string) api.LoanResponse {
	t.Helper()
	l, err := c.GetLoan(ctx, id)
	require.NoError(t, err)
	return l
}

// logHistory logs a workflow's events, for a failed test: what the watcher did and when.
func logHistory(t *testing.T, stack *Stack, workflowID string) {
	it := stack.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Logf("%s: history: %v", workflowID, err)
			return
		}
		what := ""
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			what = a.ActivityType.GetName()
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			what = a.SignalName
		}
		t.Logf("%s %d %s %s %s", workflowID, e.EventId, e.EventTime.AsTime().Format("15:04:05.000"), e.EventType, what)
	}
}
