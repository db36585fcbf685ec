package codec

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

const uiOrigin = "http://127.0.0.1:8233"

type fixture struct {
	h     *Handler
	codec *Codec
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{codec: mustParse(t, "k1:"+GenerateKey()), now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h, err := NewHandler(ServerConfig{Codec: f.codec, Origin: uiOrigin, LoginToken: "0123456789abcdef0123", Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func (f *fixture) do(method, target, origin string, body string, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *fixture) login(t *testing.T) *http.Cookie {
	t.Helper()
	w := f.do(http.MethodGet, "/login?token=0123456789abcdef0123", "", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != CookieName || !cs[0].HttpOnly {
		t.Fatalf("login cookies %+v, want one HttpOnly %s", cs, CookieName)
	}
	return cs[0]
}

func (f *fixture) encryptedBody(t *testing.T) string {
	t.Helper()
	enc, err := f.codec.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"ApplicationID":"app_42"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	return string(b)
}

func TestCORSPreflight(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodOptions, "/decode", nil)
	r.Header.Set("Origin", uiOrigin)
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != uiOrigin ||
		w.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the UI: %d %v", w.Code, w.Header())
	}
	w = f.do(http.MethodOptions, "/decode", "https://evil.example", "", nil)
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", w.Code, w.Header())
	}
}

func TestDecodeNeedsSession(t *testing.T) {
	f := newFixture(t)
	body := f.encryptedBody(t)
	if w := f.do(http.MethodPost, "/decode", uiOrigin, body, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("decode without cookie: %d, want 401", w.Code)
	}
	if w := f.do(http.MethodGet, "/login?token=wrong", "", "", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("login with a wrong token: %d, want 401", w.Code)
	}
	cookie := f.login(t)
	w := f.do(http.MethodPost, "/decode", uiOrigin, body, cookie)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != uiOrigin {
		t.Fatalf("decode with cookie: %d %s", w.Code, w.Body)
	}
	var out struct {
		Payloads []struct{ Data []byte } `json:"payloads"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Payloads) != 1 || string(out.Payloads[0].Data) != `{"ApplicationID":"app_42"}` {
		t.Fatalf("decoded %s (%v)", w.Body, err)
	}
	// The UI also encodes (for signals and queries sent from it).
	if w := f.do(http.MethodPost, "/encode", uiOrigin, `{"payloads":[{"data":"eyJ4IjoxfQ=="}]}`, cookie); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "YmluYXJ5L2VuY3J5cHRlZA") {
		t.Fatalf("encode: %d %s", w.Code, w.Body)
	}
	// Another origin with a valid cookie is refused.
	if w := f.do(http.MethodPost, "/decode", "https://evil.example", body, cookie); w.Code != http.StatusForbidden {
		t.Fatalf("decode from another origin: %d, want 403", w.Code)
	}
	// The login token works once.
	if w := f.do(http.MethodGet, "/login?token=0123456789abcdef0123", "", "", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("second login with the token: %d, want 401", w.Code)
	}
}

func TestExpiredAndForgedCookies(t *testing.T) {
	f := newFixture(t)
	body := f.encryptedBody(t)
	cookie := f.login(t)
	forged := &http.Cookie{Name: CookieName, Value: cookie.Value[:strings.LastIndex(cookie.Value, ".")] + ".AAAA"}
	if w := f.do(http.MethodPost, "/decode", uiOrigin, body, forged); w.Code != http.StatusUnauthorized {
		t.Fatalf("forged cookie: %d, want 401", w.Code)
	}
	// A later expiry under the old signature is refused too.
	parts := strings.Split(cookie.Value, ".")
	longer := &http.Cookie{Name: CookieName, Value: parts[0] + ".99999999999." + parts[2]}
	if w := f.do(http.MethodPost, "/decode", uiOrigin, body, longer); w.Code != http.StatusUnauthorized {
		t.Fatalf("extended cookie: %d, want 401", w.Code)
	}
	f.now = f.now.Add(DefaultSessionTTL + time.Second)
	if w := f.do(http.MethodPost, "/decode", uiOrigin, body, cookie); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "expired") {
		t.Fatalf("expired cookie: %d %s, want 401 expired", w.Code, w.Body)
	}
}
