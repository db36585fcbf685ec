package chaos

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

func TestScheduleHasEveryEventAmongTheStarts(t *testing.T) {
	t.Parallel()
	p := Plan{WorkerKills: 3, APIKills: 2, PostgresRestarts: 1, SandboxRestarts: 1}
	events := schedule(p, 30, rand.New(rand.NewPCG(1, 2)))
	count := map[string]int{}
	for i, ev := range events {
		count[ev.kind]++
		require.GreaterOrEqual(t, ev.after, int64(1))
		require.LessOrEqual(t, ev.after, int64(20), "within the first two thirds of 30 starts")
		if i > 0 {
			require.GreaterOrEqual(t, ev.after, events[i-1].after, "in order of their turn")
		}
	}
	require.Equal(t, map[string]int{KillWorker: 3, KillAPI: 2, RestartPostgres: 1, RestartSandbox: 1}, count)
	require.Equal(t, events, schedule(p, 30, rand.New(rand.NewPCG(1, 2))), "the same seed, the same schedule")
	require.Len(t, schedule(DefaultPlan(1), 1, rand.New(rand.NewPCG(1, 2))), 4, "one application still gets one of each")
}

func TestDueCountsTheEventsWhoseTurnCame(t *testing.T) {
	t.Parallel()
	events := []event{{KillAPI, 2}, {KillWorker, 2}, {RestartPostgres, 5}}
	require.EqualValues(t, 0, due(events, 1))
	require.EqualValues(t, 2, due(events, 2))
	require.EqualValues(t, 2, due(events, 4))
	require.EqualValues(t, 3, due(events, 5))
}

func TestDefaultPlan(t *testing.T) {
	t.Parallel()
	p := DefaultPlan(200)
	require.Equal(t, 10, p.WorkerKills)
	require.Equal(t, 5, p.APIKills)
	require.Equal(t, 1, p.PostgresRestarts)
	require.Equal(t, 1, p.SandboxRestarts)
	require.Equal(t, 1, DefaultPlan(12).WorkerKills)
}

func TestCompareFindsEveryDifference(t *testing.T) {
	t.Parallel()
	score := func(v int) *int { return &v }
	ref := []Result{
		{ApplicationID: "a", Outcome: "approve", Score: score(600)},
		{ApplicationID: "b", Outcome: "decline", Score: score(500), ReasonCodes: []string{"X", "Y"}},
		{ApplicationID: "c", Outcome: "refer", Score: score(550)},
		{ApplicationID: "d", Outcome: "expired"},
		{ApplicationID: "e", Outcome: "approve", Score: score(600)},
		{ApplicationID: "f", Outcome: "approve", Score: score(600)},
	}
	chaos := []Result{
		{ApplicationID: "a", Outcome: "approve", Score: score(600)},                                  // same
		{ApplicationID: "b", Outcome: "decline", Score: score(500), ReasonCodes: []string{"Y", "X"}}, // reasons reordered
		{ApplicationID: "c", Outcome: "refer", Score: score(551)},                                    // score
		{ApplicationID: "d", Outcome: "expired", Score: score(0)},                                    // a score where none was
		{ApplicationID: "e", Outcome: "refer", Score: score(600)},                                    // outcome
		{ApplicationID: "f", Error: "no decision"},                                                   // undecided: not a mismatch
	}
	var ids []string
	for _, m := range compare(ref, chaos) {
		ids = append(ids, m.ApplicationID)
	}
	require.Equal(t, []string{"b", "c", "d", "e"}, ids)
}

func TestProblemsNameEveryMiss(t *testing.T) {
	t.Parallel()
	ok := Report{Applications: 3, Decided: 3, ReferenceDecided: 3}
	require.Empty(t, ok.Problems())
	bad := ok
	bad.Decided, bad.DuplicateDecisions, bad.DuplicateTransactions, bad.MismatchedDecisions = 2, 1, 4, 1
	bad.UTCMidnightCrossed = true
	p := strings.Join(bad.Problems(), "; ")
	for _, want := range []string{"2 of 3 applications decided", "1 duplicate decisions", "4 duplicate transactions", "1 decisions differ", "UTC midnight"} {
		require.Contains(t, p, want)
	}
	var out bytes.Buffer
	require.NoError(t, bad.WriteTable(&out))
	require.Contains(t, out.String(), "target missed")
	require.Contains(t, out.String(), "duplicate_transactions  4")
}

func TestReportJSONKeys(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Report{})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"applications", "decided", "duplicate_decisions", "duplicate_transactions", "mismatched_decisions",
		"worker_kills", "api_kills", "postgres_restarts", "sandbox_restarts", "webhooks_dropped", "webhooks_duplicated",
		"stripe_5xx", "stripe_429", "wall_seconds"} {
		require.Contains(t, m, k)
	}
}

func TestLinkAnchorKeepsTheLedgersTimeOfDay(t *testing.T) {
	t.Parallel()
	fsys := fcsandbox.SamplePersonas()
	personas, err := fcsandbox.LoadPersonas(fsys)
	require.NoError(t, err)
	newest, err := newestAnchor(fsys, personas)
	require.NoError(t, err)
	for _, now := range []time.Time{
		time.Date(2026, 11, 30, 8, 7, 0, 0, time.UTC),
		time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC),
		time.Unix(newest, 0).Add(90 * 24 * time.Hour),
	} {
		a, err := linkAnchor(fsys, personas, now)
		require.NoError(t, err)
		require.False(t, a.After(now), "never after now")
		require.Less(t, now.Sub(a), 24*time.Hour, "less than a day old")
		require.Equal(t, newest%86400, a.Unix()%86400, "on the ledgers' time of day")
	}
}

func TestCrossesMidnight(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 11, 30, 23, 50, 0, 0, time.UTC)
	require.False(t, crossesMidnight(d, d.Add(9*time.Minute)))
	require.True(t, crossesMidnight(d, d.Add(11*time.Minute)))
}

func TestRetryTransportRetriesLikeACarefulBackend(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		require.Equal(t, `{"same":"body"}`, string(body), "every attempt sends the whole body")
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()
	hc := &http.Client{Transport: retryTransport{next: http.DefaultTransport}}
	res, err := hc.Post(srv.URL, "application/json", strings.NewReader(`{"same":"body"}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	require.EqualValues(t, 3, calls.Load())

	// A 4xx is an answer, not a failure to retry.
	calls.Store(0)
	four := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusConflict)
	}))
	defer four.Close()
	res, err = hc.Get(four.URL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusConflict, res.StatusCode)
	require.EqualValues(t, 1, calls.Load())
}

func TestRetryTransportWaitsForAServerThatIsDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // down: connections are refused
	go func() {
		time.Sleep(300 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	}()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: retryTransport{next: http.DefaultTransport}}
	res, err := hc.Get("http://" + addr + "/healthz")
	require.NoError(t, err, "the request waits until the server is back")
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
