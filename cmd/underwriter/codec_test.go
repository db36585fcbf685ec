package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/internal/syncbuf"
)

// TestBadPayloadKeysStopTheCommands: a bad UNDERWRITER_PAYLOAD_KEYS stops every command
// that dials Temporal at start, naming the variable, the key id and the problem, and never
// the key.
func TestBadPayloadKeysStopTheCommands(t *testing.T) {
	secret := strings.Repeat("5a", 31) // 31 bytes: one short
	env := map[string]string{
		"UNDERWRITER_PAYLOAD_KEYS": "k2:" + secret,
		"DATABASE_URL":             "postgres://postgres@127.0.0.1:1/postgres",
		"STRIPE_SECRET_KEY":        "sk_test_x",
	}
	for _, args := range [][]string{{"worker"}, {"api"}, {"replay", "--workflow-id", "w"}, {"codec", "--ui-origin", "http://127.0.0.1:1"}} {
		err := run(context.Background(), append([]string{"underwriter"}, args...), getenvOf(env), io.Discard, io.Discard)
		require.Error(t, err, args)
		require.Contains(t, err.Error(), `UNDERWRITER_PAYLOAD_KEYS: key id "k2": the key is 31 bytes, not 32`, args)
		require.NotContains(t, err.Error(), secret[:10], args)
	}
}

// TestCodecCommandServes: `underwriter codec` prints a login URL; the login sets the
// session cookie, with which /decode decrypts what the keys encrypted.
func TestCodecCommandServes(t *testing.T) {
	key := codec.GenerateKey()
	env := map[string]string{"UNDERWRITER_PAYLOAD_KEYS": "k1:" + key}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"underwriter", "codec", "--addr", "127.0.0.1:0", "--ui-origin", "http://127.0.0.1:8233"}, getenvOf(env), &out, io.Discard)
	}()
	loginRE := regexp.MustCompile(`(http://[0-9.:]+)/login\?token=[0-9a-f]+`)
	var login, base string
	require.Eventually(t, func() bool {
		m := loginRE.FindStringSubmatch(out.String())
		if m == nil {
			return false
		}
		login, base = m[0], m[1]
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	require.NotContains(t, out.String(), key)

	resp, err := http.Post(base+"/decode", "application/json", strings.NewReader(`{"payloads":[]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, err = http.Get(login)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)

	pc, err := codec.ParseKeys("k1:" + key)
	require.NoError(t, err)
	p, err := pc.DataConverter().ToPayload("app_7")
	require.NoError(t, err)
	body := `{"payloads":[{"metadata":{"encoding":"` + b64(p.Metadata["encoding"]) + `","encryption-key-id":"` + b64(p.Metadata["encryption-key-id"]) + `"},"data":"` + b64(p.Data) + `"}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/decode", strings.NewReader(body))
	req.AddCookie(cookies[0])
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
	require.Contains(t, string(got), b64([]byte(`"app_7"`)))

	cancel()
	require.NoError(t, <-done)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
