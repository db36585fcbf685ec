// Package console is the quickstart console `underwriter dev` serves under /console: a
// page where one clicks through an application of one's own, as a lender evaluating the
// project would. Its server side holds the development lender's API key and calls the
// real API over HTTP; the page talks only to the console's own origin, which forwards the
// few sandbox calls it needs (the personas, the link). The page keeps the session's
// client_secret in memory: it travels in request and response bodies only, never in a
// URL, a cookie or storage, and the console logs no bodies. Development only: the
// production `api` command does not serve it.
package console

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Prefix is where the console is mounted.
const Prefix = "/console"

// Bounds of what the console forwards.
const (
	// maxJSONBody bounds the page's JSON requests (an application, a link): far above any.
	maxJSONBody = 64 << 10
	// maxResponse bounds what the console reads back from the API and the sandbox; a
	// decision report with its charts is a few hundred kilobytes.
	maxResponse = 16 << 20
	// callTimeout bounds one forwarded call.
	callTimeout = 30 * time.Second
)

// Config is what the console talks to.
type Config struct {
	// APIURL is underwriter's API (http://host:port), called with LenderKey.
	APIURL string
	// LenderKey is the development lender's API key; it never reaches the page.
	LenderKey string
	// SandboxURL is the Stripe sandbox, for its personas and links.
	SandboxURL string
	// UIURL and Namespace make links to a workflow in the Temporal Web UI ("": none).
	UIURL, Namespace string
	// Client calls the API and the sandbox (nil: a client with callTimeout).
	Client *http.Client
	// Logger receives errors, never bodies.
	Logger *slog.Logger
}

//go:embed page.html
var pageHTML []byte

//go:embed console.js
var consoleJS []byte

// Handler serves the console under Prefix.
func Handler(cfg Config) http.Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: callTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &console{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/{$}", c.page)
	mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusFound)
	})
	mux.HandleFunc("GET "+Prefix+"/console.js", c.script)
	mux.HandleFunc("GET "+Prefix+"/api/personas", c.personas)
	mux.HandleFunc("GET "+Prefix+"/api/applications", c.listApplications)
	mux.HandleFunc("POST "+Prefix+"/api/applications", c.sameOrigin(c.createApplication))
	mux.HandleFunc("GET "+Prefix+"/api/applications/{id}", c.getApplication)
	mux.HandleFunc("GET "+Prefix+"/api/applications/{id}/report", c.report)
	mux.HandleFunc("POST "+Prefix+"/api/link", c.sameOrigin(c.link))
	mux.HandleFunc("POST "+Prefix+"/api/link-csv", c.sameOrigin(c.linkCSV))
	return mux
}

type console struct{ cfg Config }

// securityHeaders keep the page to its own origin: no external requests, no framing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (c *console) page(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(pageHTML)
}

func (c *console) script(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(consoleJS)
}

// sameOrigin refuses a state-changing request another site's page could send to this
// loopback address (a form post, a fetch without CORS): it must be JSON or a multipart
// upload from the console's own origin.
func (c *console) sameOrigin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			writeError(w, http.StatusForbidden, "origin", "the console takes requests from its own page only")
			return
		}
		if r.Header.Get("X-Console") != "1" {
			writeError(w, http.StatusForbidden, "X-Console", "send the header X-Console: 1 (the console's page does)")
			return
		}
		h(w, r)
	}
}

// ApplicationForm is what the page's form sends.
type ApplicationForm struct {
	// Amount is in major units as typed ("2500" or "2500.50").
	Amount     string `json:"amount"`
	TermMonths int    `json:"term_months"`
	Currency   string `json:"currency"`
	Name       string `json:"name"`
	Email      string `json:"email"`
}

// createApplication turns the form into POST /v1/applications as the development lender,
// with a new application id, and answers with the API's answer (client_secret included:
// the page needs it to link, and keeps it in memory).
func (c *console) createApplication(w http.ResponseWriter, r *http.Request) {
	var f ApplicationForm
	if !readJSON(w, r, &f) {
		return
	}
	amount, err := parseAmount(f.Amount)
	if err != nil {
		writeError(w, http.StatusBadRequest, "amount", err.Error())
		return
	}
	body := map[string]any{
		"application_id":    "console-" + time.Now().UTC().Format("20060102-150405") + "-" + randomHex(3),
		"loan_amount_minor": amount,
		"term_months":       f.TermMonths,
	}
	if f.Currency != "" {
		body["currency"] = strings.ToLower(strings.TrimSpace(f.Currency))
	}
	if f.Name != "" || f.Email != "" {
		body["applicant"] = map[string]string{"name": f.Name, "email": f.Email}
	}
	b, _ := json.Marshal(body)
	c.forward(w, r, http.MethodPost, c.cfg.APIURL+"/v1/applications", "application/json", b, true)
}

// parseAmount reads an amount in major units with up to two decimals into minor units.
func parseAmount(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 12 {
		return 0, fmt.Errorf("amount: %q is not an amount such as 2500 or 2500.50", s)
	}
	var n int64
	for _, d := range whole + (frac + "00")[:2] {
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("amount: %q is not an amount such as 2500 or 2500.50", s)
		}
		n = n*10 + int64(d-'0')
	}
	return n, nil
}

func (c *console) listApplications(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"limit": {"20"}}
	if v := r.URL.Query().Get("starting_after"); v != "" {
		q.Set("starting_after", v)
	}
	c.forward(w, r, http.MethodGet, c.cfg.APIURL+"/v1/applications?"+q.Encode(), "", nil, true)
}

// ApplicationView is GET /v1/applications/{id}'s answer with the console's links.
type ApplicationView struct {
	Application json.RawMessage `json:"application"`
	// WorkflowURL is the workflow's page in the Temporal Web UI ("": no UI).
	WorkflowURL string `json:"workflow_url,omitempty"`
	// ReportURL is the decision report through the console.
	ReportURL string `json:"report_url"`
}

func (c *console) getApplication(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	status, body, err := c.call(r, http.MethodGet, c.cfg.APIURL+"/v1/applications/"+url.PathEscape(id), "", nil, true)
	if err != nil {
		c.unavailable(w, "api", err)
		return
	}
	if status != http.StatusOK {
		writeRaw(w, status, "application/json", body)
		return
	}
	var app struct {
		WorkflowID string `json:"workflow_id"`
	}
	_ = json.Unmarshal(body, &app)
	v := ApplicationView{Application: body, ReportURL: Prefix + "/api/applications/" + url.PathEscape(id) + "/report"}
	if c.cfg.UIURL != "" && app.WorkflowID != "" {
		v.WorkflowURL = c.cfg.UIURL + "/namespaces/" + url.PathEscape(c.cfg.Namespace) + "/workflows/" + url.PathEscape(app.WorkflowID)
	}
	b, _ := json.Marshal(v)
	writeRaw(w, http.StatusOK, "application/json", b)
}

// report forwards the decision report, a self-contained page the API serves to the
// owning lender, with the API's own headers (its Content-Security-Policy loads nothing).
func (c *console) report(w http.ResponseWriter, r *http.Request) {
	u := c.cfg.APIURL + "/v1/applications/" + url.PathEscape(r.PathValue("id")) + "/report"
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
	if err != nil {
		c.unavailable(w, "api", err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.LenderKey)
	res, err := c.cfg.Client.Do(req)
	if err != nil {
		c.unavailable(w, "api", err)
		return
	}
	defer res.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Security-Policy", "Cache-Control", "X-Content-Type-Options"} {
		if v := res.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(res.Body, maxResponse))
}

func (c *console) personas(w http.ResponseWriter, r *http.Request) {
	c.forward(w, r, http.MethodGet, c.cfg.SandboxURL+"/sandbox/v1/personas", "", nil, false)
}

// LinkForm is what the link dialog sends for a persona: the session's client secret, the
// persona, and how the link should misbehave (LinkFailures).
type LinkForm struct {
	ClientSecret string `json:"client_secret"`
	Persona      string `json:"persona"`
	LinkFailures
}

// LinkFailures are the failure paths a user can ask of one link.
type LinkFailures struct {
	// AccountStatusAtRefresh is "inactive" or "disconnected" to deactivate the account at
	// the first refresh ("": it stays active).
	AccountStatusAtRefresh string `json:"account_status_at_refresh,omitempty"`
	// RefreshOutcome "failed" makes the link's refreshes fail.
	RefreshOutcome string `json:"refresh_outcome,omitempty"`
	// DropRefreshWebhooks drops the link's refresh webhooks: the workflow notices the
	// refresh ended by polling.
	DropRefreshWebhooks bool `json:"drop_refresh_webhooks,omitempty"`
}

// failuresFromForm reads LinkFailures from an upload's form fields.
func failuresFromForm(r *http.Request) LinkFailures {
	return LinkFailures{AccountStatusAtRefresh: r.FormValue("account_status_at_refresh"),
		RefreshOutcome: r.FormValue("refresh_outcome"), DropRefreshWebhooks: r.FormValue("drop_refresh_webhooks") == "true"}
}

func (c *console) link(w http.ResponseWriter, r *http.Request) {
	var f LinkForm
	if !readJSON(w, r, &f) {
		return
	}
	b, _ := json.Marshal(f)
	c.forward(w, r, http.MethodPost, c.cfg.SandboxURL+"/sandbox/v1/link", "application/json", b, false)
}

// forward makes one call and answers with its status and body.
func (c *console) forward(w http.ResponseWriter, r *http.Request, method, u, ctype string, body []byte, withKey bool) {
	status, out, err := c.call(r, method, u, ctype, body, withKey)
	if err != nil {
		name := "sandbox"
		if withKey {
			name = "api"
		}
		c.unavailable(w, name, err)
		return
	}
	writeRaw(w, status, "application/json", out)
}

// call makes one request to the API (withKey: as the development lender) or the sandbox.
func (c *console) call(r *http.Request, method, u, ctype string, body []byte, withKey bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if withKey {
		req.Header.Set("Authorization", "Bearer "+c.cfg.LenderKey)
	}
	res, err := c.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	return res.StatusCode, out, err
}

func (c *console) unavailable(w http.ResponseWriter, name string, err error) {
	// The error names a URL without a query (the console puts no secret in one).
	c.cfg.Logger.Error("console call", "to", name, "err", err)
	writeError(w, http.StatusBadGateway, name, "the "+name+" did not answer")
}

// readJSON decodes the page's JSON body into v, or answers 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body", "body: not the JSON the console's page sends: "+err.Error())
		return false
	}
	return true
}

// writeError answers in the API's error shape, so the page reads one shape.
func writeError(w http.ResponseWriter, status int, field, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "console", "message": msg,
		"fields": []map[string]string{{"field": field, "problem": msg}}}})
	writeRaw(w, status, "application/json", b)
}

func writeRaw(w http.ResponseWriter, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
