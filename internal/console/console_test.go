package console

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeBackends answers as the API and the sandbox do, recording what reached them.
func fakeBackends(t *testing.T) (api, sandbox *httptest.Server, seen *[]string) {
	var log []string
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		log = append(log, "api "+r.Method+" "+r.URL.String()+" auth="+r.Header.Get("Authorization")+" "+string(body))
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/applications":
			_, _ = w.Write([]byte(`{"application_id":"a1","client_secret":"fcsess_1_secret_XYZ","stage":"awaiting_link"}`))
		case r.URL.Path == "/v1/applications/a1":
			_, _ = w.Write([]byte(`{"application_id":"a1","workflow_id":"underwrite/dev/a1","stage":"decided"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no"}}`))
		}
	}))
	sandbox = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		log = append(log, "sandbox "+r.Method+" "+r.URL.String()+" "+string(body))
		_, _ = w.Write([]byte(`{"session":"fcsess_1","accounts":["fca_1"]}`))
	}))
	t.Cleanup(api.Close)
	t.Cleanup(sandbox.Close)
	return api, sandbox, &log
}

func TestConsoleForwardsAsTheLenderAndKeepsTheSecretOutOfURLsAndLogs(t *testing.T) {
	api, sandbox, seen := fakeBackends(t)
	var logs bytes.Buffer
	h := Handler(Config{APIURL: api.URL, LenderKey: "uwk_devkey", SandboxURL: sandbox.URL, UIURL: "http://ui", Namespace: "default",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	do := func(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	page := do("GET", "/console/", "", nil)
	require.Equal(t, 200, page.Code)
	require.NotContains(t, page.Body.String(), "uwk_devkey", "the page never sees the lender's key")
	require.Contains(t, page.Header().Get("Content-Security-Policy"), "default-src 'self'")

	// Another site's form post carries no X-Console header, or another Origin.
	require.Equal(t, 403, do("POST", "/console/api/applications", `{"amount":"1"}`, nil).Code)
	require.Equal(t, 403, do("POST", "/console/api/applications", `{"amount":"1"}`,
		map[string]string{"X-Console": "1", "Origin": "http://evil.example"}).Code)
	require.Empty(t, *seen, "a refused request reaches nothing")

	rec := do("POST", "/console/api/applications", `{"amount":"2,500.5","term_months":12,"currency":"USD","name":"J","email":"j@x.com"}`,
		map[string]string{"X-Console": "1"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "fcsess_1_secret_XYZ", "the page gets the client secret in the body")
	require.Len(t, *seen, 1)
	require.Contains(t, (*seen)[0], "auth=Bearer uwk_devkey")
	var sent map[string]any
	require.NoError(t, json.Unmarshal([]byte((*seen)[0][strings.Index((*seen)[0], "{"):]), &sent))
	require.Equal(t, float64(250050), sent["loan_amount_minor"])
	require.Equal(t, "usd", sent["currency"])
	require.Regexp(t, `^console-\d{8}-\d{6}-[0-9a-f]{6}$`, sent["application_id"])

	rec = do("POST", "/console/api/link", `{"client_secret":"fcsess_1_secret_XYZ","persona":"steady_salaried","account_status_at_refresh":"inactive"}`,
		map[string]string{"X-Console": "1"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	last := (*seen)[len(*seen)-1]
	require.True(t, strings.HasPrefix(last, "sandbox POST /sandbox/v1/link {"), last)
	require.Contains(t, last, `"account_status_at_refresh":"inactive"`)
	rec = do("POST", "/console/api/link", `{"client_secret":"fcsess_1_secret_XYZ","persona":"steady_salaried","refresh_outcome":"failed","drop_refresh_webhooks":true}`,
		map[string]string{"X-Console": "1"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	last = (*seen)[len(*seen)-1]
	require.Contains(t, last, `"refresh_outcome":"failed","drop_refresh_webhooks":true`)

	rec = do("GET", "/console/api/applications/a1", "", nil)
	require.Equal(t, 200, rec.Code)
	var v ApplicationView
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	require.Equal(t, "http://ui/namespaces/default/workflows/underwrite%2Fdev%2Fa1", v.WorkflowURL)
	require.Equal(t, "/console/api/applications/a1/report", v.ReportURL)

	for _, s := range *seen {
		url := strings.Fields(s)[2]
		require.NotContains(t, url, "secret", "a URL the console called")
	}
	require.NotContains(t, logs.String(), "secret_XYZ")
	require.NotContains(t, logs.String(), "uwk_devkey")
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"2500": 250000, "2500.5": 250050, "2,500.05": 250005, " 7 ": 700} {
		got, err := parseAmount(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-5", "1.234", "1e3", "abc", ".5"} {
		_, err := parseAmount(in)
		require.Error(t, err, in)
		require.Contains(t, err.Error(), "amount: ")
	}
}
