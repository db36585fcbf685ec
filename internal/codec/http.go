package codec

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/internal/hmactoken"
)

// CookieName is the session cookie the endpoint issues at /login.
const CookieName = "underwriter_codec_session"

// DefaultSessionTTL is how long a session cookie lasts: a working day of an operator.
const DefaultSessionTTL = 8 * time.Hour

// ServerConfig configures NewHandler.
type ServerConfig struct {
	// Codec encodes and decodes the payloads.
	Codec converter.PayloadCodec
	// Origin is the one Web UI origin allowed to call the endpoint from a browser, such as
	// http://127.0.0.1:8233 (scheme, host and port; no path).
	Origin string
	// LoginToken is the token /login accepts once, in exchange for a session cookie.
	LoginToken string
	// SessionKey signs session cookies (HMAC-SHA256); nil: a random key, so sessions end
	// with the process.
	SessionKey []byte
	// SessionTTL is a session's lifetime (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// TLS says the endpoint is served over https: the cookie is then Secure and
	// SameSite=None, so a UI on another site may send it.
	TLS bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler serves Temporal's remote codec protocol (POST /encode, POST /decode with
// {"payloads":[…]}) to one UI origin, with CORS and a cookie session, and GET /login.
type Handler struct {
	cfg   ServerConfig
	codec http.Handler

	mu        sync.Mutex
	tokenUsed bool
}

// NewHandler returns the endpoint's handler.
func NewHandler(cfg ServerConfig) (*Handler, error) {
	if cfg.Codec == nil {
		return nil, errors.New("codec endpoint: no codec")
	}
	if err := checkOrigin(cfg.Origin); err != nil {
		return nil, err
	}
	if len(cfg.LoginToken) < 16 {
		return nil, errors.New("codec endpoint: login token shorter than 16 characters")
	}
	if cfg.SessionKey == nil {
		cfg.SessionKey = make([]byte, 32)
		if _, err := rand.Read(cfg.SessionKey); err != nil {
			return nil, fmt.Errorf("codec endpoint: session key: %w", err)
		}
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg, codec: converter.NewPayloadCodecHTTPHandler(cfg.Codec)}, nil
}

// checkOrigin refuses what is not scheme://host[:port].
func checkOrigin(o string) error {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#") {
		return fmt.Errorf("ui origin %q: not an origin such as http://127.0.0.1:8233 (scheme://host:port, no path)", o)
	}
	return nil
}

// NewLoginToken returns a random login token (32 hex digits).
func NewLoginToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("codec: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// ServeHTTP routes /login, /encode and /decode (also under a path prefix such as
// /namespace/default/, as the UI may add one).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" {
		if origin != h.cfg.Origin {
			// A browser page on another origin: no CORS headers, and no work done.
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		if origin == "" {
			http.Error(w, "preflight without an origin", http.StatusBadRequest)
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
		// The UI sends Content-Type and X-Namespace; the origin is already the one allowed
		// and every call still needs the session cookie, so its request headers are echoed.
		if hdr := r.Header.Get("Access-Control-Request-Headers"); hdr != "" {
			w.Header().Set("Access-Control-Allow-Headers", hdr)
		}
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case r.URL.Path == "/login":
		h.login(w, r)
	case strings.HasSuffix(r.URL.Path, "/encode") || strings.HasSuffix(r.URL.Path, "/decode"):
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if err := h.checkSession(r); err != nil {
			http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
			return
		}
		h.codec.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// login exchanges the one-time token for a session cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	tok := r.URL.Query().Get("token")
	h.mu.Lock()
	ok := !h.tokenUsed && subtle.ConstantTimeCompare([]byte(tok), []byte(h.cfg.LoginToken)) == 1
	if ok {
		h.tokenUsed = true
	}
	h.mu.Unlock()
	if !ok {
		http.Error(w, "unauthorized: wrong or already used login token", http.StatusUnauthorized)
		return
	}
	exp := h.cfg.Now().Add(h.cfg.SessionTTL)
	c := &http.Cookie{
		Name:     CookieName,
		Value:    h.sign(exp),
		Path:     "/",
		Expires:  exp,
		HttpOnly: true,
		Secure:   h.cfg.TLS,
		// SameSite=None lets a UI on another site send the cookie, and browsers accept it
		// only with Secure. Over plain http (the loopback dev stack) the UI and the endpoint
		// are the same site (ports do not count), where Lax is sent with fetch.
		SameSite: http.SameSiteLaxMode,
	}
	if h.cfg.TLS {
		c.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "codec session started; it expires %s. The Web UI at %s now decodes payloads.\n", exp.UTC().Format(time.RFC3339), h.cfg.Origin)
}

// sign is a session value valid until exp.
func (h *Handler) sign(exp time.Time) string { return h.signer().Issue(exp) }

func (h *Handler) signer() hmactoken.Signer {
	return hmactoken.Signer{Key: h.cfg.SessionKey, Purpose: "underwriter-codec-session"}
}

// checkSession accepts a cookie this endpoint signed that has not expired.
func (h *Handler) checkSession(r *http.Request) error {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return errors.New("no session cookie; open /login?token=… first")
	}
	switch err := h.signer().Verify(c.Value, h.cfg.Now()); {
	case errors.Is(err, hmactoken.ErrExpired):
		return errors.New("session expired; log in again")
	case errors.Is(err, hmactoken.ErrForged):
		return errors.New("session cookie not signed by this endpoint")
	case err != nil:
		return errors.New("malformed session cookie")
	}
	return nil
}
