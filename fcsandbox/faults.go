package fcsandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultsPath takes a Fault as JSON (with the API key, like /v1 calls).
const FaultsPath = "/sandbox/v1/faults"

// Fault kinds.
const (
	// FaultError answers matching API requests with Status and Code instead of
	// executing them (so, unlike a real Stripe 500, nothing is stored under the
	// request's idempotency key).
	FaultError = "error"
	// FaultLatency delays matching API requests by LatencyMS, then serves them.
	FaultLatency = "latency"
	// FaultDropWebhook records matching events (GET /v1/events/{id}) but never delivers them.
	FaultDropWebhook = "drop_webhook"
	// FaultDuplicateWebhook delivers matching events twice.
	FaultDuplicateWebhook = "duplicate_webhook"
	// FaultDelayWebhook holds matching events for LatencyMS before the first
	// delivery attempt, so that events sent after them arrive first.
	FaultDelayWebhook = "delay_webhook"
)

// Fault makes the sandbox misbehave on purpose for the next Count matching
// requests or events, to exercise retries and fallbacks.
type Fault struct {
	// Kind is FaultError, FaultLatency, FaultDropWebhook or FaultDuplicateWebhook.
	Kind string `json:"kind"`
	// Method and PathPrefix select API requests ("" matches any); e.g. "POST"
	// and "/v1/financial_connections/accounts/".
	Method     string `json:"method,omitempty"`
	PathPrefix string `json:"path_prefix,omitempty"`
	// EventType selects events for webhook faults ("" matches any).
	EventType string `json:"event_type,omitempty"`
	// Status is the HTTP status of FaultError: 429, 500, 503, 409, …
	Status int `json:"status,omitempty"`
	// Code is the error code of FaultError, e.g. "rate_limit" or "lock_timeout" with 429.
	Code string `json:"code,omitempty"`
	// LatencyMS is the delay of FaultLatency and FaultDelayWebhook.
	LatencyMS int `json:"latency_ms,omitempty"`
	// Count is how many requests or events the fault applies to (0 = 1).
	Count int `json:"count,omitempty"`
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultError:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("fault status %d is not an HTTP error status", f.Status)
		}
	case FaultLatency, FaultDelayWebhook:
		if f.LatencyMS <= 0 || f.LatencyMS > 120_000 {
			return fmt.Errorf("fault latency_ms %d is not in 1..120000", f.LatencyMS)
		}
	case FaultDropWebhook, FaultDuplicateWebhook:
	default:
		return fmt.Errorf("fault kind %q is not error, latency, drop_webhook, duplicate_webhook or delay_webhook", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count %d is negative", f.Count)
	}
	return nil
}

// InjectFault arms f. Faults are consumed in the order they were armed.
func (s *Server) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("inject fault: %w", err)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	s.log.Info("fault armed", "kind", f.Kind, "method", f.Method, "path_prefix", f.PathPrefix,
		"event_type", f.EventType, "status", f.Status, "count", f.Count)
	return nil
}

// takeFault consumes one use of the first armed fault that matches; callers hold s.mu.
func (s *Server) takeFault(match func(*Fault) bool) *Fault {
	for i, f := range s.faults {
		if !match(f) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

// applyRequestFault runs an armed error fault for r (true when it answered),
// or records an armed latency fault in ri.delay for holdFault.
func (s *Server) applyRequestFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	f := s.takeFault(func(f *Fault) bool {
		return (f.Kind == FaultError || f.Kind == FaultLatency) &&
			(f.Method == "" || strings.EqualFold(f.Method, r.Method)) &&
			strings.HasPrefix(r.URL.Path, f.PathPrefix)
	})
	s.mu.Unlock()
	if f == nil {
		return false
	}
	s.log.Info("fault injected", "request_id", info(r).id, "kind", f.Kind, "status", f.Status)
	if f.Kind == FaultLatency {
		info(r).delay = time.Duration(f.LatencyMS) * time.Millisecond
		s.counts.delayed.Add(1)
		return false
	}
	writeError(w, injectedError(f.Status, f.Code))
	s.countErrorFault(f.Status)
	return true
}

// injectedError is the Stripe error an error fault answers with: api_error for a
// 5xx, Stripe's rate_limit shape for a 429 (code rate_limit unless code says
// otherwise, e.g. lock_timeout), invalid_request_error for other 4xx.
func injectedError(status int, code string) *apiError {
	e := &apiError{status: status, body: errorBody{Type: typeAPI, Code: code,
		Message: "An unknown error occurred (injected by fcsandbox)."}}
	switch {
	case status == http.StatusTooManyRequests:
		e.body.Type = typeInvalidRequest
		if e.body.Code == "" {
			e.body.Code = "rate_limit"
		}
		e.body.Message = "Request rate limit exceeded (injected by fcsandbox)."
	case status < 500:
		e.body.Type = typeInvalidRequest
		e.body.Message = "Injected error (fcsandbox)."
	}
	if e.body.Code != "" {
		e.body.DocURL = docURL(e.body.Code)
	}
	return e
}

// holdFault sleeps for the latency fault of the request, if any. It runs
// where the request is being processed: after its idempotency key is marked
// in flight, so that a concurrent request with the same key sees Stripe's 409.
func holdFault(r *http.Request) {
	d := info(r).delay
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// webhookPlan is how to deliver an event of type typ: copies is 0 when a
// drop fault matches, 2 for a duplicate fault or a duplicate drawn by
// FaultRates.DuplicateWebhook, else 1; delay is the wait before the first
// attempt (a delay fault).
func (s *Server) webhookPlan(typ string) (copies int, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.takeFault(func(f *Fault) bool {
		return (f.Kind == FaultDropWebhook || f.Kind == FaultDuplicateWebhook || f.Kind == FaultDelayWebhook) &&
			(f.EventType == "" || f.EventType == typ)
	})
	switch {
	case f == nil:
		if s.duplicateEvent() {
			s.counts.webhooksDuplicated.Add(1)
			return 2, 0
		}
		return 1, 0
	case f.Kind == FaultDropWebhook:
		s.counts.webhooksDropped.Add(1)
		return 0, 0
	case f.Kind == FaultDelayWebhook:
		return 1, time.Duration(f.LatencyMS) * time.Millisecond
	}
	s.counts.webhooksDuplicated.Add(1)
	return 2, 0
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	if _, aerr := s.authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	var f Fault
	if err := readJSON(r, &f); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid JSON body: "+err.Error()))
		return
	}
	if err := s.InjectFault(f); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "kind", err.Error()))
		return
	}
	body, aerr := marshal(map[string]any{"object": "fcsandbox.fault", "armed": true})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}
