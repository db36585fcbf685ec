// Package api is underwriter's HTTP interface: loan backends create applications, read
// decisions, book the approved loans and read their early-warning alerts, and Stripe
// delivers Financial Connections webhooks, which become signals to the applications'
// workflows and the booked loans' watchers.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76/client"
	tclient "go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/store"
)

// DefaultMaxWebhookBody bounds a webhook request body. Stripe's FC events carry one account
// object, a few kilobytes; a megabyte leaves room and stops abuse.
const DefaultMaxWebhookBody = 1 << 20

// Server holds the API's dependencies. Build one, then serve Handler().
type Server struct {
	// Stripe creates customers and Financial Connections sessions.
	Stripe *client.API
	// Store holds applications, decisions, processed webhook events and the lenders' API
	// keys.
	Store *store.Store
	// Keys finds API keys (nil: Store).
	Keys KeyLookup
	// Temporal starts, signals and queries workflows.
	Temporal tclient.Client
	// WebhookSecrets are the endpoint signing secrets (whsec_…). A signature matching any of
	// them passes, so a secret can be rotated without dropping events.
	WebhookSecrets []string
	// LinkTimeout is how long an applicant has to link an account (0: the workflow default).
	LinkTimeout time.Duration
	// ReactivationTimeout is how long an inactive account may take to be reactivated
	// before the application is referred (0: the workflow default).
	ReactivationTimeout time.Duration
	// Logger receives structured logs without secrets or personal data.
	Logger *slog.Logger
	// MaxWebhookBody bounds webhook bodies (0: DefaultMaxWebhookBody).
	MaxWebhookBody int64
	// RequestHashKeys key the HMAC that identifies a request's content (request_hash): the
	// first signs new applications, every one is accepted when a request is retried, so a
	// key can be rotated. At least one is required; each should be 32 random bytes or more.
	RequestHashKeys [][]byte
	// RequireClientCert makes every route that needs an API key need a verified TLS client
	// certificate too (mTLS: the server's tls.Config verifies certificates it is given
	// against the lenders' CA). The webhook and /healthz never need one: Stripe and load
	// balancers present none.
	RequireClientCert bool
}

// Handler routes the API. A path no route has is a 404 and a known path with another
// method a 405 with an Allow header, both with the API's JSON error body. It panics
// without RequestHashKeys, a programming error the commands check at start.
func (s *Server) Handler() http.Handler {
	if len(s.RequestHashKeys) == 0 {
		panic("api: Server.RequestHashKeys is empty")
	}
	mux := http.NewServeMux()
	// Every /v1 route but Stripe's webhook needs a lender's API key; the webhook proves
	// itself with Stripe's signature instead, and /healthz says nothing about applications.
	mux.HandleFunc("POST /v1/applications", s.authenticated(s.createApplication))
	mux.HandleFunc("GET /v1/applications", s.authenticated(s.listApplications))
	mux.HandleFunc("GET /v1/applications/{id}", s.authenticated(s.getApplication))
	mux.HandleFunc("PATCH /v1/applications/{id}", s.authenticated(s.changeApplication))
	mux.HandleFunc("GET /v1/applications/{id}/report", s.authenticated(s.getReport))
	mux.HandleFunc("POST /v1/loans", s.authenticated(s.bookLoan))
	mux.HandleFunc("GET /v1/loans/{id}", s.authenticated(s.getLoan))
	mux.HandleFunc("POST /v1/loans/{id}/close", s.authenticated(s.closeLoan))
	mux.HandleFunc("GET /v1/loans/{id}/alerts", s.authenticated(s.listAlerts))
	mux.HandleFunc("POST /v1/webhooks/stripe", s.stripeWebhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No pattern matched: ServeMux would answer a plain-text 404 or 405 (with Allow).
		// Ask it which, and answer in JSON.
		h, _ := mux.Handler(r)
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				r.Method+" "+r.URL.Path+": allowed "+probe.header.Get("Allow"), nil)
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path, nil)
	})
}

// statusProbe records the status and headers a handler sets and discards its body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }

func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// FieldError names one invalid field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error: a stable code, a message, and the fields at fault.
type ErrorDetail struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
	// StripeCode is Stripe's error code when Stripe refused what the request asked for.
	StripeCode string `json:"stripe_code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, fields []FieldError) {
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg, Fields: fields}})
}

// readBody reads the request body up to limit bytes. It answers the request itself when the
// body is too large (413) or could not be read, typically because the client sent it
// slower than the server's ReadTimeout allows (408).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return body, true
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body: larger than %d bytes", limit), nil)
	default:
		writeError(w, http.StatusRequestTimeout, "body_unreadable", "body: could not be read in time", nil)
	}
	return nil, false
}

func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound)
}
