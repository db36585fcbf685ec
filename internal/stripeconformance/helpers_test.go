package stripeconformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
)

// StripeMockVersion is the stripe-mock release that embeds the 2023-10-16 spec.
const StripeMockVersion = "v0.183.0"

const installHint = "go install github.com/stripe/stripe-mock@" + StripeMockVersion

// goEnv returns `go env name`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	require.NoError(t, err, "go env %s", name)
	return strings.TrimSpace(string(out))
}

// findStripeMock returns the stripe-mock binary: on PATH, else in $(go env GOPATH)/bin.
func findStripeMock(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(goEnv(t, "GOPATH")) {
		p := filepath.Join(dir, "bin", "stripe-mock")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("stripe-mock not found on PATH or in $(go env GOPATH)/bin; install it with: %s", installHint)
	return ""
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startStripeMock runs stripe-mock with both listeners on loopback and
// -strict-version-check, waits until it answers, and returns its HTTP URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := findStripeMock(t)
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-http-addr", httpAddr, "-https-addr", httpsAddr, "-strict-version-check")
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "start %s", bin)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	base := "http://" + httpAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("stripe-mock exited early: %s", out.String())
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers/cus_ping", nil)
		req.Header.Set("Authorization", "Bearer sk_test_ping")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not answer on %s within 30s: %s", httpAddr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exchange is one recorded request and its answer.
type exchange struct {
	Method string
	Path   string
	Form   url.Values // query for GET, form body for POST
	Header http.Header
	Status int
	Body   []byte
}

func (e exchange) String() string {
	return fmt.Sprintf("%s %s %s → %d", e.Method, e.Path, e.Form.Encode(), e.Status)
}

// recorder is an http.RoundTripper that records every exchange.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	form := req.URL.Query()
	if len(reqBody) > 0 {
		form, err = url.ParseQuery(string(reqBody))
		if err != nil {
			return nil, fmt.Errorf("parse request form: %w", err)
		}
	}
	r.mu.Lock()
	r.log = append(r.log, exchange{Method: req.Method, Path: req.URL.Path, Form: form, Header: req.Header.Clone(), Status: res.StatusCode, Body: body})
	r.mu.Unlock()
	return res, nil
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

// recordingProxy is a reverse proxy to target that records every exchange;
// clients built by the project's own wiring are pointed at its URL.
func recordingProxy(t *testing.T, target string) (string, *recorder) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rec := &recorder{next: http.DefaultTransport}
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = rec
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// keySet returns every key path of a decoded JSON value ("a.b", "list[].c").
// Array elements share one path.
func keySet(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = sub
			keySet(p, sub, out)
		}
	case []any:
		for _, sub := range x {
			keySet(prefix+"[]", sub, out)
		}
	}
}

// lostFields decodes raw into a fresh value of target's type, encodes it
// again and returns the key paths of raw that the round trip lost. An
// expandable field (an id string that comes back as an object) keeps its key.
func lostFields(raw []byte, target any) ([]string, error) {
	if err := json.Unmarshal(raw, target); err != nil {
		return nil, fmt.Errorf("decode into %T: %w", target, err)
	}
	again, err := json.Marshal(target)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", target, err)
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode raw: %w", err)
	}
	if err := json.Unmarshal(again, &b); err != nil {
		return nil, fmt.Errorf("decode re-encoded: %w", err)
	}
	ka, kb := map[string]any{}, map[string]any{}
	keySet("", a, ka)
	keySet("", b, kb)
	var lost []string
	for k := range ka {
		if _, ok := kb[k]; ok {
			continue
		}
		if (k == "object" || strings.HasSuffix(k, ".object")) && ka[k] == "list" {
			// stripe.ListMeta (v76 params.go) has no Object field: every list's
			// constant "object": "list" is dropped by the library itself.
			continue
		}
		lost = append(lost, k)
	}
	return lost, nil
}
