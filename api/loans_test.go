package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// fakeTemporal records the starts and signals the API sends, and answers the watcher's
// status query; every other method of tclient.Client panics (the nil embedded
// interface), so a handler reaching one fails the test.
type fakeTemporal struct {
	tclient.Client
	mu        sync.Mutex
	starts    []fakeStart
	signals   []fakeSignal
	startErr  error
	ended     map[string]bool // workflow ids that answer NotFound to a signal
	status    *workflows.MonitorStatus
	signalErr error
}

type fakeStart struct {
	opts  tclient.StartWorkflowOptions
	name  string
	input workflows.MonitorInput
}

type fakeSignal struct {
	workflowID, name string
	arg              any
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, opts tclient.StartWorkflowOptions, wf any, args ...any) (tclient.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return nil, f.startErr
	}
	f.starts = append(f.starts, fakeStart{opts: opts, name: wf.(string), input: args[0].(workflows.MonitorInput)})
	return nil, nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, runID, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signalErr != nil {
		return f.signalErr
	}
	if f.ended[id] {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	f.signals = append(f.signals, fakeSignal{id, name, arg})
	return nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if f.status == nil {
		return nil, errors.New("no worker")
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(*f.status)
	if err != nil {
		return nil, err
	}
	return fakeValue{p}, nil
}

func (f *fakeTemporal) takeSignals() []fakeSignal {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.signals
	f.signals = nil
	return s
}

// fakeValue is a query's answer, decoded as the SDK's client decodes one.
type fakeValue struct{ p *commonpb.Payloads }

func (v fakeValue) HasValue() bool { return v.p != nil }

func (v fakeValue) Get(ptr any) error {
	return converter.GetDefaultDataConverter().FromPayloads(v.p, ptr)
}

// loanFixture is a server over a real Postgres with lender acme's applications:
// approved-1 (approved on 2025-03-01, account fca_1 of cus_1), declined-1, pending-1
// (undecided, also cus_1's, waiting for its refresh), and lender zeta's approved-1.
type loanFixture struct {
	s       *Server
	st      *store.Store
	tc      *fakeTemporal
	acme    Key
	zeta    Key
	decided time.Time
}

func newLoanFixture(t *testing.T) *loanFixture {
	t.Helper()
	ctx := context.Background()
	st := store.New(pgtest.Pool(t))
	f := &loanFixture{st: st, tc: &fakeTemporal{ended: map[string]bool{}},
		decided: time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)}
	for _, lender := range []string{"acme", "zeta"} {
		k, err := NewKey()
		require.NoError(t, err)
		require.NoError(t, st.EnsureLender(ctx, lender, ""))
		require.NoError(t, st.InsertAPIKey(ctx, lender, k.ID, "test", k.Hash))
		if lender == "acme" {
			f.acme = k
		} else {
			f.zeta = k
		}
	}
	app := func(lender, id, outcome, account string) {
		key := loan.ApplicationKey(lender, id)
		_, _, err := st.CreateApplication(ctx, store.Application{ID: key, LenderID: lender, ExternalID: id, RequestHash: "h",
			LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: workflows.WorkflowID(key), Stage: loan.StageAwaitingLink})
		require.NoError(t, err)
		require.NoError(t, st.SetApplicationStripeIDs(ctx, key, "cus_"+lender, ""))
		require.NoError(t, st.UpsertAccount(ctx, store.Account{ID: account, ApplicationID: key, CustomerID: "cus_" + lender,
			Category: "cash", Subcategory: "checking", Status: "active", InstitutionName: "Bank", Currency: "usd"}))
		if outcome != "" {
			_, _, err = st.RecordDecision(ctx, store.Decision{ApplicationID: key, WorkflowID: workflows.WorkflowID(key), RunID: "r",
				Outcome: outcome, DecidedAt: f.decided})
			require.NoError(t, err)
		}
	}
	app("acme", "approved-1", loan.OutcomeApprove, "fca_1")
	app("acme", "approved-2", loan.OutcomeApprove, "fca_2")
	app("acme", "declined-1", loan.OutcomeDecline, "fca_3")
	app("acme", "pending-1", "", "fca_1") // a returning customer's account, under underwriting again
	app("zeta", "approved-1", loan.OutcomeApprove, "fca_9")
	f.s = &Server{Store: st, Temporal: f.tc, WebhookSecrets: []string{testWebhookSecret},
		RequestHashKeys: [][]byte{[]byte("loans test request hash key, 32+")}}
	return f
}

func (f *loanFixture) do(t *testing.T, key Key, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+key.Secret)
	rec := httptest.NewRecorder()
	f.s.Handler().ServeHTTP(rec, r)
	return rec
}

func loanBody(t *testing.T, rec *httptest.ResponseRecorder) LoanResponse {
	t.Helper()
	var out LoanResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return out
}

const booking = `{"application_id":"approved-1","amount_minor":250000,"term_months":12,"first_due_date":"2025-04-01"}`

// TestBookLoan: an approved application's loan is stored and its watcher started with the
// application's accounts; the same booking again answers 200 and reaches the same
// watcher; other terms are a 409; a watcher that could not start is started by the retry.
func TestBookLoan(t *testing.T) {
	ctx := context.Background()
	f := newLoanFixture(t)

	rec := f.do(t, f.acme, http.MethodPost, "/v1/loans", booking)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := loanBody(t, rec)
	require.Equal(t, LoanResponse{ApplicationID: "approved-1", WorkflowID: "monitor/acme/approved-1", AmountMinor: 250000,
		Currency: "usd", TermMonths: 12, FirstDueDate: "2025-04-01", InstalmentMinor: 20834, Status: "active",
		BookedAt: got.BookedAt, Created: true}, got, "the instalment defaults to ceil(250000 / 12)")

	require.Len(t, f.tc.starts, 1)
	start := f.tc.starts[0]
	require.Equal(t, workflows.MonitorWorkflowName, start.name)
	require.Equal(t, "monitor/acme/approved-1", start.opts.ID)
	require.Equal(t, workflows.TaskQueue, start.opts.TaskQueue)
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, start.opts.WorkflowIDReusePolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, start.opts.WorkflowIDConflictPolicy)
	require.Equal(t, workflows.MonitorInput{ApplicationID: "acme/approved-1", Lender: "acme", AccountIDs: []string{"fca_1"},
		Loan: scoring.MonitoredLoan{AmountMinor: 250000, TermMonths: 12, Currency: "usd",
			FirstDue: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), InstalmentMinor: 20834}}, start.input)

	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", booking)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.False(t, loanBody(t, rec).Created)
	require.Len(t, f.tc.starts, 2, "a repeat asks for the same watcher (the conflict policy finds it)")
	require.Equal(t, "monitor/acme/approved-1", f.tc.starts[1].opts.ID)

	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", strings.Replace(booking, `"amount_minor":250000`, `"amount_minor":260000`, 1))
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	require.Equal(t, "loan_conflict", decodeError(t, rec).Code)

	// zeta's application with the same id is zeta's own: booking it starts zeta's watcher.
	rec = f.do(t, f.zeta, http.MethodPost, "/v1/loans", strings.Replace(booking, `"amount_minor":250000`, `"amount_minor":100000`, 1))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, "monitor/zeta/approved-1", f.tc.starts[2].opts.ID)
	require.Equal(t, []string{"fca_9"}, f.tc.starts[2].input.AccountIDs)

	// Temporal down: the loan is booked, the lender told to retry, and the retry starts it.
	f.tc.startErr = errors.New("unavailable")
	second := `{"application_id":"approved-2","amount_minor":300000,"term_months":6,"first_due_date":"2025-03-02","instalment_minor":52000}`
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", second)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Equal(t, "workflow_unavailable", decodeError(t, rec).Code)
	stored, err := f.st.GetLoan(ctx, "acme/approved-2")
	require.NoError(t, err)
	require.Equal(t, int64(52000), stored.InstalmentMinor)
	f.tc.startErr = nil
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", second)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "monitor/acme/approved-2", f.tc.starts[len(f.tc.starts)-1].opts.ID)
}

// TestLoanStatusAndAlerts: GET /v1/loans/{id} counts the stored alerts and shows the
// watcher's own status; GET …/alerts lists them oldest first with their delivery; another
// lender sees none of it.
func TestLoanStatusAndAlerts(t *testing.T) {
	ctx := context.Background()
	f := newLoanFixture(t)
	require.Equal(t, http.StatusCreated, f.do(t, f.acme, http.MethodPost, "/v1/loans", booking).Code)

	rec := f.do(t, f.acme, http.MethodGet, "/v1/loans/approved-1", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := loanBody(t, rec)
	require.Zero(t, got.Alerts)
	require.Nil(t, got.Monitoring, "a watcher that cannot be asked shows nothing")

	asOf := time.Date(2025, 4, 3, 0, 0, 0, 0, time.UTC)
	alerts, err := f.st.RecordAlerts(ctx, "acme/approved-1", []store.Alert{
		{EventType: scoring.EventLowBalance, EventKey: "LOW_BALANCE:k", EventDate: asOf, Text: "low",
			Evidence: json.RawMessage(`[{"kind":"balance","amount_minor":900}]`), Rescore: json.RawMessage(`{"pd":0.2}`),
			MonitoringPolicyVersion: "mon-v1", LedgerAsOf: asOf},
		{EventType: scoring.EventAccountDisconnected, EventKey: "ACCOUNT_DISCONNECTED:fca_1", EventDate: asOf, Text: "gone",
			Hint: "relink", MonitoringPolicyVersion: "mon-v1", LedgerAsOf: asOf},
	})
	require.NoError(t, err)
	require.NoError(t, f.st.MarkAlertDelivered(ctx, alerts[0].ID))
	require.NoError(t, f.st.RecordAlertDeliveryFailure(ctx, alerts[1].ID, "lender's alert endpoint answered HTTP 503 Service Unavailable"))
	f.tc.status = &workflows.MonitorStatus{ApplicationID: "acme/approved-1", Status: workflows.MonitoringAtRisk, Checks: 3, Alerts: 2,
		LastAlert: scoring.EventAccountDisconnected, LedgerAsOf: asOf}

	got = loanBody(t, f.do(t, f.acme, http.MethodGet, "/v1/loans/approved-1", ""))
	require.Equal(t, 2, got.Alerts)
	require.Equal(t, 1, got.Undelivered)
	require.Equal(t, scoring.EventAccountDisconnected, got.LastAlert)
	require.Equal(t, &MonitoringResponse{Status: "at_risk", Checks: 3, Alerts: 2, LastAlert: scoring.EventAccountDisconnected, LedgerAsOf: &asOf}, got.Monitoring)

	rec = f.do(t, f.acme, http.MethodGet, "/v1/loans/approved-1/alerts", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var list AlertList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Len(t, list.Alerts, 2)
	first, second := list.Alerts[0], list.Alerts[1]
	require.Equal(t, alerts[0].ID, mustAtoi(t, first.ID))
	require.Equal(t, "LOW_BALANCE", first.Event.Type)
	require.Equal(t, "2025-04-03", first.Event.Date)
	require.JSONEq(t, `[{"kind":"balance","amount_minor":900}]`, string(first.Event.Evidence))
	require.JSONEq(t, `{"pd":0.2}`, string(first.Rescore))
	require.NotNil(t, first.DeliveredAt)
	require.Equal(t, 1, first.DeliveryAttempts)
	require.Equal(t, "relink", second.Event.Hint)
	require.Nil(t, second.DeliveredAt)
	require.Equal(t, "lender's alert endpoint answered HTTP 503 Service Unavailable", second.LastDeliveryError)
	require.JSONEq(t, `[]`, string(second.Event.Evidence))

	for _, path := range []string{"/v1/loans/approved-1", "/v1/loans/approved-1/alerts"} {
		rec = f.do(t, f.zeta, http.MethodGet, path, "")
		require.Equal(t, http.StatusNotFound, rec.Code, "zeta has booked no loan approved-1 yet: %s", path)
		require.Equal(t, "loan_not_found", decodeError(t, rec).Code)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}

// TestCloseLoan: closing records the reason and signals the watcher; the same close again
// answers the same; another reason is a 409; a watcher already gone is no error.
func TestCloseLoanSignalsTheWatcher(t *testing.T) {
	ctx := context.Background()
	f := newLoanFixture(t)
	require.Equal(t, http.StatusCreated, f.do(t, f.acme, http.MethodPost, "/v1/loans", booking).Code)

	rec := f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-1/close", `{"reason":"repaid"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := loanBody(t, rec)
	require.Equal(t, "repaid", got.Status)
	require.NotNil(t, got.ClosedAt)
	require.Equal(t, []fakeSignal{{"monitor/acme/approved-1", workflows.SignalCloseLoan, workflows.LoanClose{Reason: "repaid"}}}, f.tc.takeSignals())

	f.tc.ended["monitor/acme/approved-1"] = true
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-1/close", `{"reason":"repaid"}`)
	require.Equal(t, http.StatusOK, rec.Code, "closing again, the watcher gone: %s", rec.Body.String())
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-1/close", `{"reason":"charged_off"}`)
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	require.Equal(t, "reason: the loan was already closed as repaid", decodeError(t, rec).Message)

	// Booking the closed loan again answers it as stored, and starts no new watcher.
	starts := len(f.tc.starts)
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", booking)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "repaid", loanBody(t, rec).Status)
	require.Len(t, f.tc.starts, starts)

	// A signal Temporal cannot take: the lender is told to retry; the row is closed.
	require.Equal(t, http.StatusCreated, f.do(t, f.acme, http.MethodPost, "/v1/loans",
		`{"application_id":"approved-2","amount_minor":300000,"term_months":6,"first_due_date":"2025-03-02"}`).Code)
	f.tc.signalErr = errors.New("unavailable")
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-2/close", `{"reason":"cancelled"}`)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	l, err := f.st.GetLoan(ctx, "acme/approved-2")
	require.NoError(t, err)
	require.Equal(t, store.LoanCancelled, l.Status)
	f.tc.signalErr = nil
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-2/close", `{"reason":"cancelled"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, workflows.SignalCloseLoan, f.tc.takeSignals()[0].name)
}

// TestWebhooksReachWatchers: a refreshed_transactions, refreshed_balance or status event
// of a watched account signals its loan's watcher with the watcher's signal, next to the
// signal the account's undecided application gets as before; a watcher that has ended,
// and a closed loan's, are skipped.
func TestWebhooksReachWatchers(t *testing.T) {
	f := newLoanFixture(t)
	require.Equal(t, http.StatusCreated, f.do(t, f.acme, http.MethodPost, "/v1/loans", booking).Code)
	now := time.Now()
	n := 0
	send := func(typ stripe.EventType, account string) webhookAck {
		t.Helper()
		n++
		rec := httptest.NewRecorder()
		f.s.Handler().ServeHTTP(rec, signed(event("evt_"+string(rune('a'+n)), string(typ), account, "cus_acme"), testWebhookSecret, now))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var ack webhookAck
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &ack))
		return ack
	}
	watcher, pending := "monitor/acme/approved-1", workflows.WorkflowID("acme/pending-1")
	sig := func(id, name string, typ stripe.EventType, account string) fakeSignal {
		return fakeSignal{id, name, workflows.AccountSignal{AccountID: account, EventID: "evt_" + string(rune('a'+n)), EventType: string(typ)}}
	}
	for _, c := range []struct {
		typ               stripe.EventType
		watcher, underway string
	}{
		{stripe.EventTypeFinancialConnectionsAccountRefreshedTransactions, workflows.SignalTransactionsRefreshed, workflows.SignalRefreshUpdated},
		{stripe.EventTypeFinancialConnectionsAccountRefreshedBalance, workflows.SignalRefreshUpdated, workflows.SignalRefreshUpdated},
		{stripe.EventTypeFinancialConnectionsAccountDisconnected, workflows.SignalAccountStatus, workflows.SignalAccountStatus},
		{stripe.EventTypeFinancialConnectionsAccountReactivated, workflows.SignalAccountStatus, workflows.SignalAccountStatus},
	} {
		require.Equal(t, "processed", send(c.typ, "fca_1").Status)
		require.Equal(t, []fakeSignal{sig(pending, c.underway, c.typ, "fca_1"), sig(watcher, c.watcher, c.typ, "fca_1")},
			f.tc.takeSignals(), string(c.typ))
	}

	created := stripe.EventTypeFinancialConnectionsAccountCreated
	send(created, "fca_1")
	require.Equal(t, []fakeSignal{sig(pending, workflows.SignalAccountLinked, created, "fca_1")}, f.tc.takeSignals(),
		"a link concerns no watcher")

	refreshed := stripe.EventTypeFinancialConnectionsAccountRefreshedTransactions
	send(refreshed, "fca_2")
	require.Equal(t, []fakeSignal{sig(pending, workflows.SignalRefreshUpdated, refreshed, "fca_2")}, f.tc.takeSignals(),
		"approved-2's loan is not booked: only the customer's application underway hears of it")

	f.tc.ended[pending] = true
	f.tc.ended[watcher] = true
	require.Equal(t, "ignored", send(refreshed, "fca_1").Status, "an ended watcher is skipped")
	require.Empty(t, f.tc.takeSignals())

	delete(f.tc.ended, watcher)
	require.Equal(t, http.StatusOK, f.do(t, f.acme, http.MethodPost, "/v1/loans/approved-1/close", `{"reason":"repaid"}`).Code)
	f.tc.takeSignals()
	require.Equal(t, "ignored", send(refreshed, "fca_1").Status, "a closed loan's watcher is not signalled")
	require.Empty(t, f.tc.takeSignals())
}

// TestFirstDueOnTheLedgersClock: the first due date is checked against the decision's
// as_of day, the ledger's clock the watcher compares due dates with, not the day the
// decision was written: a decision written on 2025-03-01 on balances as of 2025-01-10
// takes a first instalment due on 2025-02-01, and refuses one on its as_of day.
func TestFirstDueOnTheLedgersClock(t *testing.T) {
	ctx := context.Background()
	f := newLoanFixture(t)
	key := loan.ApplicationKey("acme", "stale-1")
	_, _, err := f.st.CreateApplication(ctx, store.Application{ID: key, LenderID: "acme", ExternalID: "stale-1", RequestHash: "h",
		LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: workflows.WorkflowID(key), Stage: loan.StageAwaitingLink})
	require.NoError(t, err)
	require.NoError(t, f.st.UpsertAccount(ctx, store.Account{ID: "fca_stale", ApplicationID: key, Category: "cash",
		Subcategory: "checking", Status: "active", InstitutionName: "Bank", Currency: "usd"}))
	asOf := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	_, _, err = f.st.RecordDecision(ctx, store.Decision{ApplicationID: key, WorkflowID: workflows.WorkflowID(key), RunID: "r",
		Outcome: loan.OutcomeApprove, AsOf: &asOf, DecidedAt: f.decided})
	require.NoError(t, err)

	body := `{"application_id":"stale-1","amount_minor":300000,"term_months":12,"first_due_date":"%s"}`
	rec := f.do(t, f.acme, http.MethodPost, "/v1/loans", fmt.Sprintf(body, "2025-01-10"))
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "must be after the decision's day, 2025-01-10")
	rec = f.do(t, f.acme, http.MethodPost, "/v1/loans", fmt.Sprintf(body, "2025-02-01"))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
}
