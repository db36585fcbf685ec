package fcsandbox

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// emit records an event whose data.object is the account JSON obj and
// delivers it asynchronously. reqID and idemKey name the API request that
// caused it ("" for asynchronous completions, which Stripe sends with nulls).
func (s *Server) emit(typ string, obj []byte, reqID, idemKey, accountID string) {
	ev, payload, ok := s.recordEvent(typ, obj, reqID, idemKey, accountID)
	if !ok || s.cfg.WebhookURL == "" {
		return
	}
	copies, delay := s.webhookPlan(typ)
	if copies == 0 {
		s.log.Info("webhook dropped by fault", "event_id", ev.ID, "type", typ)
	}
	for range copies {
		s.goBackground(func() {
			if delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-s.ctx.Done():
					t.Stop()
					return
				}
			}
			s.deliver(ev.ID, typ, payload)
		})
	}
}

// emitUndelivered records an event as emit does (GET /v1/events/{id} serves it) but
// never delivers it: a link made with drop_refresh_webhooks.
func (s *Server) emitUndelivered(typ string, obj []byte, accountID string) {
	ev, _, ok := s.recordEvent(typ, obj, "", "", accountID)
	if ok && s.cfg.WebhookURL != "" {
		s.counts.webhooksDropped.Add(1)
		s.log.Info("webhook dropped for this link", "event_id", ev.ID, "type", typ, "fc_account_id", accountID)
	}
}

// recordEvent builds and stores an event; false when it could not be encoded.
func (s *Server) recordEvent(typ string, obj []byte, reqID, idemKey, accountID string) (eventJSON, []byte, bool) {
	ev := eventJSON{
		ID: newID(prefixEvent, 24), Object: "event", APIVersion: APIVersion,
		Created: s.now().Unix(), Data: eventDataJSON{Object: json.RawMessage(obj)},
		Request: eventRequestJSON{ID: strOrNil(reqID), IdempotencyKey: strOrNil(idemKey)},
		Type:    typ,
	}
	if s.cfg.WebhookURL != "" {
		ev.PendingWebhooks = 1
	}
	payload, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		s.log.Error("encode event", "type", typ, "fc_account_id", accountID, "error", err.Error())
		return ev, nil, false
	}
	s.mu.Lock()
	s.events[ev.ID] = payload
	s.mu.Unlock()
	s.log.Info("event created", "event_id", ev.ID, "type", typ, "fc_account_id", accountID)
	return ev, payload, true
}

// deliver POSTs one event until a 2xx answer, retrying with exponential
// backoff (WebhookRetryBase doubling, capped at WebhookRetryMax) for at most
// WebhookMaxAttempts attempts, or until Close. Attempts wait while webhooks
// are suspended (SuspendWebhooks); an attempt lost in transit
// (FaultRates.DropWebhook) fails like an endpoint that never answered.
func (s *Server) deliver(eventID, typ string, payload []byte) {
	wait := s.cfg.WebhookRetryBase
	for attempt := 1; ; attempt++ {
		if !s.awaitDelivery() {
			return
		}
		var status int
		var err error
		if s.dropAttempt() {
			err = errDroppedInTransit
			s.log.Info("webhook attempt dropped by fault rate", "event_id", eventID, "type", typ, "attempt", attempt)
		} else {
			status, err = s.post(payload)
		}
		if err == nil && status >= 200 && status < 300 {
			s.log.Info("webhook delivered", "event_id", eventID, "type", typ, "attempt", attempt, "status", status)
			return
		}
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if attempt >= s.cfg.WebhookMaxAttempts {
			s.log.Warn("webhook abandoned", "event_id", eventID, "type", typ, "attempts", attempt, "status", status, "error", errText)
			return
		}
		s.log.Warn("webhook failed; will retry", "event_id", eventID, "type", typ, "attempt", attempt,
			"status", status, "error", errText, "retry_in_ms", wait.Milliseconds())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
		wait = min(wait*2, s.cfg.WebhookRetryMax)
	}
}

// errDroppedInTransit is the error of a delivery attempt FaultRates.DropWebhook
// lost: the endpoint never got the request, and Stripe sees no answer.
var errDroppedInTransit = errors.New("delivery attempt lost in transit (fault rate): no answer")

// post sends one signed attempt. The signature's timestamp is the wall clock
// of this attempt, as at Stripe, so receivers' tolerance checks pass on retries.
func (s *Server) post(payload []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", SignatureHeader(payload, s.cfg.WebhookSecret, time.Now()))
	res, err := s.cfg.WebhookClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	return res.StatusCode, nil
}

// SignatureHeader returns a Stripe-Signature header value for payload:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" keyed by secret>",
// which webhook.ConstructEvent verifies.
func SignatureHeader(payload []byte, secret string, t time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(webhook.ComputeSignature(t, payload, secret)))
}
