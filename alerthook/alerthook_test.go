package alerthook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/alerthook"
)

// master is a fixed master key: 00 01 … 1f.
var master = func() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}()

func TestLenderSecret(t *testing.T) {
	t.Parallel()
	// Computed apart from this package (Python's hmac): the derivation is a documented
	// contract, so a lender's secret survives a rewrite of this code.
	require.Equal(t, "uwasec_cad1e2ef88acb36595e97c0d59ac96aacef2925889b8a7cda9c993162f471ee1",
		alerthook.LenderSecret(master, "acme"))
	require.NotEqual(t, alerthook.LenderSecret(master, "acme"), alerthook.LenderSecret(master, "dev"),
		"each lender has its own secret")
	other := append([]byte(nil), master...)
	other[0] ^= 1
	require.NotEqual(t, alerthook.LenderSecret(master, "acme"), alerthook.LenderSecret(other, "acme"),
		"another master key gives other secrets")
	require.Panics(t, func() { alerthook.LenderSecret(nil, "acme") })
}

func TestParseSigningKey(t *testing.T) {
	t.Parallel()
	k, err := alerthook.ParseSigningKey(" " + strings.Repeat("0a", 32) + "\n")
	require.NoError(t, err)
	require.Len(t, k, 32)
	require.Equal(t, byte(10), k[31])

	g := alerthook.GenerateSigningKey()
	k, err = alerthook.ParseSigningKey(g)
	require.NoError(t, err)
	require.Len(t, k, 32)
	require.NotEqual(t, g, alerthook.GenerateSigningKey())

	for _, c := range []struct{ in, want string }{
		{"", "not set"},
		{"zz" + strings.Repeat("0", 62), "not hex"},
		{strings.Repeat("0", 63), "not hex"},
		{strings.Repeat("ab", 16), "16 bytes, want 32"},
	} {
		_, err := alerthook.ParseSigningKey(c.in)
		require.ErrorContains(t, err, c.want, "key %q", c.in)
		if c.in != "" {
			require.NotContains(t, err.Error(), c.in, "the error never shows the key")
		}
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	at := time.Unix(1735689600, 0)
	body := []byte(`{"id":"1"}`)
	// The vector is Python's hmac over "1735689600.{\"id\":\"1\"}".
	header := alerthook.Sign("uwasec_test", at, body)
	require.Equal(t, "t=1735689600,v1=dfb9b35c52f9e33d50cdd4222be776f7fc0eaf89fa4456f06a4b43b7019eaace", header)
	require.NoError(t, alerthook.Verify("uwasec_test", header, body, at.Add(4*time.Minute), 0))
	require.NoError(t, alerthook.Verify("uwasec_test", header, body, at.Add(-4*time.Minute), 0), "a receiver's clock may lag")

	other := alerthook.Sign("uwasec_old", at, body)
	rotating := other + "," + strings.Split(header, ",")[1]
	require.NoError(t, alerthook.Verify("uwasec_test", rotating, body, at, 0), "any v1 may match")
	require.NoError(t, alerthook.Verify("uwasec_test", header+",v2=abc", body, at, 0), "unknown schemes are ignored")

	for _, c := range []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
		tolerance            time.Duration
		want                 error
	}{
		{"tampered body", "uwasec_test", header, []byte(`{"id":"2"}`), at, 0, alerthook.ErrSignatureMismatch},
		{"tampered timestamp", "uwasec_test", strings.Replace(header, "t=1735689600", "t=1735689601", 1), body, at, 0, alerthook.ErrSignatureMismatch},
		{"wrong secret", "uwasec_other", header, body, at, 0, alerthook.ErrSignatureMismatch},
		{"too old", "uwasec_test", header, body, at.Add(5*time.Minute + time.Second), 0, alerthook.ErrTimestamp},
		{"from the future", "uwasec_test", header, body, at.Add(-6 * time.Minute), 0, alerthook.ErrTimestamp},
		{"tighter tolerance", "uwasec_test", header, body, at.Add(2 * time.Minute), time.Minute, alerthook.ErrTimestamp},
		{"no header", "uwasec_test", "", body, at, 0, alerthook.ErrNoSignature},
		{"no timestamp", "uwasec_test", strings.Split(header, ",")[1], body, at, 0, alerthook.ErrMalformed},
		{"no signature", "uwasec_test", "t=1735689600", body, at, 0, alerthook.ErrMalformed},
		{"not hex", "uwasec_test", "t=1735689600,v1=xyz", body, at, 0, alerthook.ErrMalformed},
		{"no equals", "uwasec_test", "t=1735689600,v1", body, at, 0, alerthook.ErrMalformed},
	} {
		err := alerthook.Verify(c.secret, c.header, c.body, c.now, c.tolerance)
		require.ErrorIs(t, err, c.want, c.name)
		require.NotContains(t, err.Error(), "uwasec_", "%s: the error never shows a secret", c.name)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://lender.example/alerts", "https://lender.example:8443/a?x=1",
		"http://127.0.0.1:9000/alerts", "http://localhost/alerts", "http://[::1]:80/"} {
		require.NoError(t, alerthook.CheckURL(ok), ok)
	}
	for _, c := range []struct{ url, want string }{
		{"", "not an absolute http(s) URL"},
		{"lender.example/alerts", "not an absolute http(s) URL"},
		{"ftp://lender.example/alerts", "not an absolute http(s) URL"},
		{"https:///alerts", "not an absolute http(s) URL"},
		{"http://lender.example/alerts", "use https for lender.example"},
		{"http://10.0.0.1/alerts", "loopback host only"},
		{"https://user:pw@lender.example/alerts", "user or password"},
	} {
		err := alerthook.CheckURL(c.url)
		require.ErrorIs(t, err, alerthook.ErrBadURL, c.url)
		require.ErrorContains(t, err, c.want, c.url)
	}
}

func body() alerthook.Body {
	return alerthook.Body{
		ID: "42", Type: alerthook.BodyType, Created: time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC),
		Lender: "acme", LoanID: "loan-7",
		Event: alerthook.Event{Type: "LOW_BALANCE", Key: "LOW_BALANCE:2025-04-02", Date: "2025-04-02",
			Text: "The balance fell below the floor.", Evidence: json.RawMessage(`[{"kind":"balance","amount_minor":1200}]`)},
		Rescore:                 json.RawMessage(`{"pd":0.12}`),
		MonitoringPolicyVersion: "mon-v1", LedgerAsOf: time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC),
	}
}

// receiver is a lender's endpoint as the package doc describes it: it verifies every
// request under its secret and counts what it stored, once per delivery id.
type receiver struct {
	secret string
	mu     sync.Mutex
	stored map[string]alerthook.Body
	posts  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts++
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	if req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "not json", http.StatusUnsupportedMediaType)
		return
	}
	if err := alerthook.Verify(r.secret, req.Header.Get(alerthook.SignatureHeader), raw, time.Now(), 0); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := req.Header.Get(alerthook.DeliveryHeader)
	if _, ok := r.stored[id]; ok {
		return
	}
	var b alerthook.Body
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.stored[id] = b
}

func TestDeliver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	secret := alerthook.LenderSecret(master, "acme")

	t.Run("verified by the lender, once per id", func(t *testing.T) {
		t.Parallel()
		rcv := &receiver{secret: secret, stored: map[string]alerthook.Body{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		require.NoError(t, alerthook.Deliver(ctx, nil, srv.URL+"/alerts", secret, body()))
		require.NoError(t, alerthook.Deliver(ctx, srv.Client(), srv.URL+"/alerts", secret, body()), "a retry is accepted again")
		require.Equal(t, 2, rcv.posts)
		require.Len(t, rcv.stored, 1, "the receiver de-duplicates by the delivery id")
		got := rcv.stored["42"]
		want := body()
		require.JSONEq(t, string(want.Event.Evidence), string(got.Event.Evidence))
		require.JSONEq(t, string(want.Rescore), string(got.Rescore))
		got.Event.Evidence, got.Rescore, want.Event.Evidence, want.Rescore = nil, nil, nil, nil
		require.Equal(t, want, got)
	})
	t.Run("another lender's secret is refused", func(t *testing.T) {
		t.Parallel()
		rcv := &receiver{secret: alerthook.LenderSecret(master, "zeta"), stored: map[string]alerthook.Body{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		err := alerthook.Deliver(ctx, nil, srv.URL, secret, body())
		var se *alerthook.StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, http.StatusBadRequest, se.StatusCode)
		require.Empty(t, rcv.stored)
	})
	t.Run("a failing endpoint's status", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "secret-looking internals", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		err := alerthook.Deliver(ctx, nil, srv.URL+"/alerts?token=abc", secret, body())
		var se *alerthook.StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
		require.ErrorContains(t, err, "HTTP 503 Service Unavailable")
		require.NotContains(t, err.Error(), "internals", "the answer's body is not kept")
		require.NotContains(t, err.Error(), "token=abc", "the URL's query is not in the error")
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		t.Parallel()
		var hit atomic.Bool
		elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Store(true) }))
		defer elsewhere.Close()
		srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
		defer srv.Close()
		err := alerthook.Deliver(ctx, srv.Client(), srv.URL, secret, body())
		var se *alerthook.StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, http.StatusTemporaryRedirect, se.StatusCode)
		require.False(t, hit.Load(), "the signed alert is never sent elsewhere")
	})
	t.Run("network error names the host only", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + "/alerts?token=abc"
		srv.Close()
		err := alerthook.Deliver(ctx, nil, url, secret, body())
		require.Error(t, err)
		require.ErrorContains(t, err, strings.TrimPrefix(srv.URL, "http://"))
		require.NotContains(t, err.Error(), "token=abc")
		require.False(t, errors.Is(err, alerthook.ErrBadURL), "a network error is worth retrying")
	})
	t.Run("nothing sent without a usable URL or secret", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, alerthook.Deliver(ctx, nil, "http://lender.example/alerts", secret, body()), alerthook.ErrBadURL)
		require.ErrorIs(t, alerthook.Deliver(ctx, nil, "https://lender.example/alerts", "", body()), alerthook.ErrNoSecret)
	})
}

// ExampleVerify checks a request as a lender's receiver does (package doc), here with a
// fixed clock.
func ExampleVerify() {
	secret := "uwasec_test" // as `underwriter alerts set-webhook` printed it
	raw := []byte(`{"id":"1"}`)
	header := "t=1735689600,v1=dfb9b35c52f9e33d50cdd4222be776f7fc0eaf89fa4456f06a4b43b7019eaace"
	now := time.Unix(1735689600, 0).Add(time.Minute)

	fmt.Println(alerthook.Verify(secret, header, raw, now, alerthook.DefaultTolerance))
	fmt.Println(alerthook.Verify(secret, header, []byte(`{"id":"2"}`), now, alerthook.DefaultTolerance))
	fmt.Println(errors.Is(alerthook.Verify(secret, header, raw, now.Add(time.Hour), alerthook.DefaultTolerance),
		alerthook.ErrTimestamp))
	// Output:
	// <nil>
	// no v1 signature matches the body under this secret
	// true
}
