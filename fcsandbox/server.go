package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// APIVersion is the only Stripe API version the sandbox speaks (stripe-go v76).
const APIVersion = "2023-10-16"

// maxBodyBytes bounds request bodies; Stripe's own forms are far smaller.
const maxBodyBytes = 1 << 20

// Server is an in-memory, Stripe-compatible Financial Connections API. Create
// it with New, serve Handler, and Close it to stop timers and webhook retries.
type Server struct {
	cfg      Config
	log      *slog.Logger
	personas []Persona
	ledgers  map[string]*ledger.File
	mux      *http.ServeMux
	sandbox  *http.ServeMux

	// lifeMu guards closed and the Add side of wg, so that no goroutine starts
	// after Close began waiting.
	lifeMu sync.Mutex
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards everything below.
	mu              sync.Mutex
	customers       map[string]*customerJSON
	sessions        map[string]*session
	sessionBySecret map[string]string
	accounts        map[string]*account
	transactions    map[string]*txn
	events          map[string][]byte
	idem            map[string]*idemEntry
	seq             int64 // orders accounts and refreshes
	faults          []*Fault

	// advancedDays is how far Advance moved the simulated clock: now() is
	// Config.Now() plus this many days. Read without s.mu; changed under it.
	advancedDays atomic.Int64

	limiter *rateLimiter // nil when Config.RateLimit < 0
	// requests and rateLimited count the Stripe API requests served (the /sandbox/
	// paths excluded) and those refused with a 429 by the rate limit.
	requests, rateLimited atomic.Int64
	dice                  *faultDice // nil when Config.FaultRates injects nothing
	counts                faultCounters

	// gateMu guards gate: closed while webhooks are delivered, open (blocking
	// deliveries) between SuspendWebhooks and ResumeWebhooks.
	gateMu sync.Mutex
	gate   chan struct{}
}

type session struct {
	json     sessionJSON // Accounts is filled in when rendered
	accounts []string    // linked account ids, in link order
	linked   bool
}

type account struct {
	json           ledger.Account
	seq            int64
	persona        string
	refreshOutcome string
	ledgerBalance  *ledger.Balance // the rebased ledger balance, served once a balance refresh succeeds
	txns           []*txn
	refreshSeq     map[string]int64 // fctxnref id → order
	hasTxnData     bool             // a transaction refresh has succeeded
	// pendingMode is what later succeeded transaction refreshes do with
	// pending transactions: PendingKeep, PendingPost or PendingVoid.
	pendingMode string
	// statusAtRefresh, when set, is the status the account switches to at the
	// next refresh request (once), which is then refused as inactive.
	statusAtRefresh string
	// dropRefreshWebhooks records the refresh events of the account but never
	// delivers them (LinkRequest.DropRefreshWebhooks).
	dropRefreshWebhooks bool
	// afterLoan is the account's story after the loan ("" = StorySteady) and seed
	// the seed of its continuation; plan generates the continuation once the
	// simulated clock has moved (Advance), built on first use.
	afterLoan string
	seed      uint64
	plan      *futurePlan
}

type txn struct {
	json       ledger.Transaction
	refreshSeq int64 // 0 until a transaction refresh has delivered it
}

type idemEntry struct {
	fingerprint string
	inFlight    bool
	status      int
	body        []byte
}

type ctxKey struct{}

// reqInfo is what the middleware learned about an API request.
type reqInfo struct {
	id      string
	form    form
	idemKey string
	delay   time.Duration // a latency fault, served by holdFault
}

func info(r *http.Request) *reqInfo {
	ri, _ := r.Context().Value(ctxKey{}).(*reqInfo)
	return ri
}

// New loads the personas cfg names (Personas or PersonaDir, when set) and returns a Server.
func New(cfg Config) (*Server, error) {
	if err := cfg.FaultRates.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:             cfg,
		log:             cfg.Logger,
		ledgers:         map[string]*ledger.File{},
		customers:       map[string]*customerJSON{},
		sessions:        map[string]*session{},
		sessionBySecret: map[string]string{},
		accounts:        map[string]*account{},
		transactions:    map[string]*txn{},
		events:          map[string][]byte{},
		idem:            map[string]*idemEntry{},
	}
	if fsys := cfg.personas(); fsys != nil {
		ps, ledgers, err := loadPersonaLedgers(fsys)
		if err != nil {
			return nil, fmt.Errorf("load personas: %w", err)
		}
		s.personas, s.ledgers = ps, ledgers
	}
	s.limiter = newRateLimiter(cfg.RateLimit)
	if cfg.FaultRates.active() {
		s.dice = newFaultDice(cfg.FaultRates)
	}
	s.gate = make(chan struct{})
	close(s.gate)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	s.mux = http.NewServeMux()
	s.mux.Handle("POST /v1/customers", s.api(s.createCustomer))
	s.mux.Handle("GET /v1/customers/{id}", s.api(s.getCustomer))
	s.mux.Handle("POST /v1/financial_connections/sessions", s.api(s.createSession))
	s.mux.Handle("GET /v1/financial_connections/sessions/{id}", s.api(s.getSession))
	s.mux.Handle("GET /v1/financial_connections/accounts", s.api(s.listAccounts))
	s.mux.Handle("GET /v1/financial_connections/accounts/{id}", s.api(s.getAccount))
	s.mux.Handle("POST /v1/financial_connections/accounts/{id}/refresh", s.api(s.refreshAccount))
	s.mux.Handle("POST /v1/financial_connections/accounts/{id}/disconnect", s.api(s.disconnectAccount))
	s.mux.Handle("POST /v1/financial_connections/accounts/{id}/subscribe", s.api(s.subscribeAccount))
	s.mux.Handle("POST /v1/financial_connections/accounts/{id}/unsubscribe", s.api(s.unsubscribeAccount))
	s.mux.Handle("GET /v1/financial_connections/transactions", s.api(s.listTransactions))
	s.mux.Handle("GET /v1/financial_connections/transactions/{id}", s.api(s.getTransaction))
	s.mux.Handle("GET /v1/events/{id}", s.api(s.getEvent))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, unrecognized(r))
	})

	s.sandbox = http.NewServeMux()
	s.sandbox.HandleFunc("POST /sandbox/v1/link", s.link)
	s.sandbox.HandleFunc("GET /sandbox/v1/personas", s.listPersonas)
	s.sandbox.HandleFunc("POST "+FaultsPath, s.postFault)
	s.sandbox.HandleFunc("POST "+AccountStatusPath, s.postAccountStatus)
	s.sandbox.HandleFunc("GET "+ClockPath, s.getClock)
	s.sandbox.HandleFunc("POST "+ClockAdvancePath, s.postClockAdvance)
	s.sandbox.HandleFunc("GET "+StoriesPath, s.listStories)
	s.sandbox.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, unrecognized(r))
	})

	s.log.Info("sandbox ready", "personas", len(s.personas), "webhooks", cfg.WebhookURL != "")
	return s, nil
}

// Handler returns the HTTP handler serving the Stripe API and the /sandbox/ paths.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// WebhookSecret returns the secret that signs webhooks: Config.WebhookSecret
// or the one generated by New. Give it to the webhook receiver.
func (s *Server) WebhookSecret() string { return s.cfg.WebhookSecret }

// RequestCounts is how many Stripe API requests the sandbox served since it started.
type RequestCounts struct {
	// Requests counts every request to a Stripe path (the /sandbox/ paths are not
	// Stripe's), answered or refused.
	Requests int64
	// RateLimited counts those refused with a 429 because the key's rate limit was
	// reached (Config.RateLimit).
	RateLimited int64
}

// RequestCounts returns the requests served so far, as Stripe's dashboard would count
// them: what a client costs in Stripe requests.
func (s *Server) RequestCounts() RequestCounts {
	return RequestCounts{Requests: s.requests.Load(), RateLimited: s.rateLimited.Load()}
}

// Personas returns the loaded personas, in manifest order.
func (s *Server) Personas() []Persona { return append([]Persona(nil), s.personas...) }

// Close stops pending refresh timers and webhook retries and waits for their
// goroutines. Requests served after Close still work, but refreshes started
// then never complete and no webhooks are sent.
func (s *Server) Close() {
	s.lifeMu.Lock()
	s.closed = true
	s.lifeMu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// goBackground runs f in a goroutine tracked by Close; false when closed.
func (s *Server) goBackground(f func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// now is the simulated clock: Config.Now moved forward by the days Advance added.
func (s *Server) now() time.Time {
	return s.cfg.Now().Add(time.Duration(s.advancedDays.Load()) * 24 * time.Hour)
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{id: newID(prefixRequest, 14)}
	rw.Header().Set("Request-Id", ri.id)
	w := &statusWriter{ResponseWriter: rw}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	defer func() {
		// Ids only: the path holds object ids, never secrets; the query is not
		// logged. Successful calls log at debug level, as clients poll.
		level := slog.LevelDebug
		if w.status >= 400 {
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "request", "request_id", ri.id, "method", r.Method, "path", r.URL.Path,
			"status", w.status, "duration_ms", time.Since(start).Milliseconds())
	}()
	if strings.HasPrefix(r.URL.Path, "/sandbox/") {
		s.sandbox.ServeHTTP(w, r)
		return
	}
	s.requests.Add(1)
	key, aerr := s.authenticate(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if v := r.Header.Get("Stripe-Version"); v != "" && v != APIVersion {
		writeError(w, invalid(http.StatusBadRequest, "", "", fmt.Sprintf(
			"Invalid Stripe API version: %s. fcsandbox speaks only %s (stripe-go v76).", v, APIVersion)))
		return
	}
	if !s.limiter.allow(key) {
		s.rateLimited.Add(1)
		writeError(w, errRateLimited())
		return
	}
	if s.applyRequestFault(w, r) || s.applyRateFault(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid request body: could not parse form."))
		return
	}
	ri.form = form{v: r.Form}
	if r.Method != http.MethodPost {
		holdFault(r)
		s.mux.ServeHTTP(w, r)
		return
	}
	ri.idemKey = strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if ri.idemKey == "" {
		holdFault(r)
		s.mux.ServeHTTP(w, r)
		return
	}
	s.serveIdempotent(w, r, key, ri)
}

// serveIdempotent applies Stripe's idempotency layer: the first response for a
// key is stored and replayed for the same parameters; other parameters get a
// 400 idempotency_error, a concurrent request a 409. As at Stripe, responses to
// requests that failed validation (4xx) are not stored; 2xx and 5xx are.
func (s *Server) serveIdempotent(w http.ResponseWriter, r *http.Request, apiKey string, ri *reqInfo) {
	w.Header().Set("Idempotency-Key", ri.idemKey)
	if len(ri.idemKey) > 255 {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Idempotency keys may be at most 255 characters."))
		return
	}
	mapKey := apiKey + "\x00" + ri.idemKey
	fingerprint := r.Method + " " + r.URL.Path + "\x00" + ri.form.canonical()

	s.mu.Lock()
	e := s.idem[mapKey]
	switch {
	case e == nil:
		s.idem[mapKey] = &idemEntry{fingerprint: fingerprint, inFlight: true}
	case e.inFlight:
		s.mu.Unlock()
		// Stripe's error code for it is idempotency_key_in_use (409); stripe-go
		// retries any 409 by itself.
		writeError(w, invalid(http.StatusConflict, "idempotency_key_in_use", "",
			"There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later."))
		return
	case e.fingerprint != fingerprint:
		s.mu.Unlock()
		writeError(w, &apiError{status: http.StatusBadRequest, body: errorBody{Type: typeIdempotency,
			Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", ri.idemKey)}})
		return
	default:
		status, body := e.status, e.body
		s.mu.Unlock()
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, status, body)
		return
	}
	s.mu.Unlock()

	rec := &recorder{header: http.Header{}}
	holdFault(r)
	s.mux.ServeHTTP(rec, r)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	s.mu.Lock()
	if status < 400 || status >= 500 {
		s.idem[mapKey] = &idemEntry{fingerprint: fingerprint, status: status, body: rec.body}
	} else {
		delete(s.idem, mapKey)
	}
	s.mu.Unlock()
	for k, vs := range rec.header {
		w.Header()[k] = vs
	}
	writeRaw(w, status, rec.body)
}

// recorder buffers a response so the idempotency layer can store it.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}

// authenticate returns the API key from "Authorization: Bearer <key>" (what
// stripe-go sends) or HTTP Basic with the key as user (what curl -u sends).
func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	var key string
	h := r.Header.Get("Authorization")
	if user, _, ok := r.BasicAuth(); ok {
		key = user
	} else if after, ok := strings.CutPrefix(h, "Bearer "); ok {
		key = strings.TrimSpace(after)
	}
	if key == "" {
		return "", &apiError{status: http.StatusUnauthorized, body: errorBody{Type: typeInvalidRequest,
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."}}
	}
	ok := false
	if s.cfg.APIKey != "" {
		ok = subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) == 1
	} else {
		ok = (strings.HasPrefix(key, "sk_test_") || strings.HasPrefix(key, "rk_test_")) && len(key) > len("sk_test_")
	}
	if !ok {
		return "", &apiError{status: http.StatusUnauthorized, body: errorBody{Type: typeInvalidRequest,
			Message: "Invalid API Key provided: " + maskKey(key)}}
	}
	return key, nil
}

// maskKey shows a key the way Stripe's 401 does: prefix, stars, last four.
func maskKey(key string) string {
	if len(key) < 16 {
		return strings.Repeat("*", len(key))
	}
	prefix := ""
	if i := strings.Index(key[3:], "_"); i >= 0 && strings.Count(key[:3+i+1], "_") == 2 {
		prefix = key[:3+i+1]
	}
	return prefix + strings.Repeat("*", len(key)-len(prefix)-4) + key[len(key)-4:]
}

func unrecognized(r *http.Request) *apiError {
	return &apiError{status: http.StatusNotFound, body: errorBody{Type: typeInvalidRequest, Message: fmt.Sprintf(
		"Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
		r.Method, r.URL.Path)}}
}

// apiHandler answers one API call with a JSON body already marshalled (under
// the state lock) or a Stripe error.
type apiHandler func(r *http.Request, ri *reqInfo) ([]byte, *apiError)

func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, aerr := h(r, info(r))
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		writeRaw(w, http.StatusOK, body)
	})
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Version", APIVersion)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body, err := json.MarshalIndent(errorJSON{Error: e.body}, "", "  ")
	if err != nil {
		body = []byte(`{"error":{"type":"api_error","message":"encode error"}}`)
	}
	writeRaw(w, e.status, body)
}

// marshal encodes v as Stripe does (indented JSON). Encoding our own types
// cannot fail; a failure is a programming error reported as a 500.
func marshal(v any) ([]byte, *apiError) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, body: errorBody{Type: typeAPI, Message: "encode response: " + err.Error()}}
	}
	return b, nil
}

// readJSON decodes a small JSON request body, rejecting unknown fields.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decode body: trailing data")
	}
	return nil
}
