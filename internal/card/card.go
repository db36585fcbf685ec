// Package card serves the decision card: a small page the embedded Temporal Web UI shows
// on a workflow's page (ui-server's iframe extension, slot workflow.header.after-details)
// with the application's decision as Postgres recorded it: outcome, score, reasons, every
// policy rule result and the combined daily balance the snapshot held.
//
// The UI hands the workflow's id to an extension only when the extension is on an HTTPS
// origin of its own (a privileged extension with the context:workflow permission), so the
// card is served over TLS (SelfSigned makes a loopback certificate for `underwriter dev`).
// The page itself carries no data: it greets the UI over postMessage, receives the
// workflow id, and fetches /decision, which answers only a browser holding a session: a
// short-lived token (minutes) signed with HMAC-SHA256 under a key of the card's own, kept
// in an HttpOnly cookie and renewed while the operator keeps using the card. The cookie is
// Partitioned (CHIPS): browsers that block third-party cookies still keep one for the card
// framed by this UI, and only there. The operator starts a session inside the card by
// pasting the login token `underwriter dev` prints; it goes in a POST body, and the session
// token never appears in a URL.
package card

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/hmactoken"
	"github.com/cashflow-underwriting/underwriter/store"
)

// errNoSession is a request without a session cookie.
var errNoSession = errors.New("no session")

// CookieName is the session cookie that carries the card's token.
const CookieName = "underwriter_card_session"

// DefaultTokenTTL is how long a token lasts: a few minutes, renewed with every card the
// operator opens, so an idle or stolen token soon dies.
const DefaultTokenTTL = 10 * time.Minute

// ExtensionID is the card's id in the UI's iframe extension configuration and in every
// postMessage between them.
const ExtensionID = "decision-card"

// Decisions reads recorded decisions and their snapshots (store.Store).
type Decisions interface {
	GetDecision(ctx context.Context, applicationID string) (store.Decision, error)
	GetSnapshot(ctx context.Context, id int64) (store.Snapshot, error)
}

// Config configures New.
type Config struct {
	// Store reads the decisions.
	Store Decisions
	// UIOrigin is the Web UI's origin (http://127.0.0.1:8233): the only page that may frame
	// the card and the only one it talks to.
	UIOrigin string
	// LoginToken is the token /login exchanges for a session token (at least 16
	// characters). It stays valid for the process, so an operator whose session lapsed
	// logs in again with the URL printed at start.
	LoginToken string
	// Key signs the session tokens (HMAC-SHA256, at least 32 bytes); nil: a random key, so
	// sessions end with the process. It is the card's own key, never another component's.
	Key []byte
	// TokenTTL is a token's lifetime (0: DefaultTokenTTL).
	TokenTTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler serves the card: GET / (the page), GET /card.js, POST /login, GET /decision.
type Handler struct {
	cfg Config
}

// New returns the card's handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("decision card: no store")
	}
	if scheme, rest, ok := strings.Cut(cfg.UIOrigin, "://"); !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#") {
		return nil, fmt.Errorf("decision card: ui origin %q: not an origin such as http://127.0.0.1:8233", cfg.UIOrigin)
	}
	if len(cfg.LoginToken) < 16 {
		return nil, errors.New("decision card: login token shorter than 16 characters")
	}
	if cfg.Key == nil {
		cfg.Key = make([]byte, 32)
		if _, err := rand.Read(cfg.Key); err != nil {
			return nil, fmt.Errorf("decision card: key: %w", err)
		}
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("decision card: key shorter than 32 bytes")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenTTL < 0 {
		return nil, fmt.Errorf("decision card: token ttl %s is negative", cfg.TokenTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}, nil
}

// NewLoginToken returns a random login token (32 hex digits).
func NewLoginToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("card: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// ServeHTTP routes the card's paths.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The login token travels only in a POST body; everything else is read-only.
	want := http.MethodGet
	if r.URL.Path == "/login" {
		want = http.MethodPost
	}
	if r.Method != want {
		http.Error(w, want+" only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/":
		h.page(w, r)
	case "/card.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(strings.ReplaceAll(cardJS, "UI_ORIGIN", strconv.Quote(h.cfg.UIOrigin))))
	case "/login":
		h.login(w, r)
	case "/decision":
		h.decision(w, r)
	default:
		http.NotFound(w, r)
	}
}

// page is the card's shell: no data, only the script that asks the UI for the workflow.
func (h *Handler) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Only the UI may frame the card; the page runs only its own script and talks only to
	// its own origin.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; "+
		"style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors "+h.cfg.UIOrigin)
	_, _ = w.Write([]byte(pageHTML))
}

// login exchanges the login token (form field token, in the body) for a session token.
// Only the card's own page may post it (Origin is checked): another site's form cannot
// start a session in the operator's browser.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && o != "https://"+r.Host {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1024)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "token: unreadable form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(h.cfg.LoginToken)) != 1 {
		http.Error(w, "unauthorized: wrong login token", http.StatusUnauthorized)
		return
	}
	h.setCookie(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "decision card session started; it ends %s after the last card you open.\n", h.cfg.TokenTTL)
}

// setCookie issues a fresh token. SameSite=None: the card is framed by the UI, another
// site (http, another port), and browsers send such a cookie only with Secure, over https;
// Partitioned keeps it to the card framed by that site, where browsers that block
// third-party cookies still allow it.
func (h *Handler) setCookie(w http.ResponseWriter) {
	now := h.cfg.Now()
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: h.Issue(now), Path: "/", Expires: now.Add(h.cfg.TokenTTL),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true,
	})
}

// Issue returns a session token valid from now for the token lifetime.
func (h *Handler) Issue(now time.Time) string { return h.signer().Issue(now.Add(h.cfg.TokenTTL)) }

// Verify accepts a token this card signed that has not expired at now.
func (h *Handler) Verify(tok string, now time.Time) error {
	err := h.signer().Verify(tok, now)
	if errors.Is(err, hmactoken.ErrForged) {
		return errors.New("token not signed by this card")
	}
	return err
}

func (h *Handler) signer() hmactoken.Signer {
	return hmactoken.Signer{Key: h.cfg.Key, Purpose: "underwriter-decision-card"}
}

// session checks the request's token and renews it.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return errNoSession
	}
	if err := h.Verify(c.Value, h.cfg.Now()); err != nil {
		return err
	}
	h.setCookie(w)
	return nil
}
