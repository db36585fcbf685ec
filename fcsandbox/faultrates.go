package fcsandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// MaxFaultLatency bounds FaultRates.MaxLatency: well under stripe-go's and the
// project's HTTP timeouts, so jitter slows requests down without timing them out.
const MaxFaultLatency = 5 * time.Second

// FaultRates makes the sandbox misbehave at random, by rate, for as long as it
// runs: the chaos run's weather, where Fault is one armed storm. Each rate is a
// probability in [0, 1]; the zero value injects nothing.
//
// The draws come from one random stream seeded with Seed, taken in the order
// requests and deliveries reach the sandbox: the same seed and the same order
// of calls give the same faults. Concurrent clients make the order (not the
// rates) vary from run to run.
type FaultRates struct {
	// Seed seeds the random stream.
	Seed uint64
	// ServerError is the share of API requests (the /v1 paths) answered 500
	// api_error before they run: like a failure in front of Stripe's servers,
	// nothing is executed and nothing is stored under the request's
	// Idempotency-Key, so a retry with the same key runs the request.
	ServerError float64
	// RateLimit is the share of API requests answered 429 with Stripe's
	// rate_limit error shape ({"error":{"type":"invalid_request_error",
	// "code":"rate_limit",…}}), also before they run.
	RateLimit float64
	// MaxLatency delays every API request that is not answered by a fault by a
	// uniformly drawn time in [0, MaxLatency) (0 = none; at most
	// MaxFaultLatency). A POST is held after its Idempotency-Key is marked in
	// flight, as with FaultLatency.
	MaxLatency time.Duration
	// DropWebhook is the share of webhook delivery attempts lost in transit:
	// the request never reaches the endpoint, the attempt counts as failed (at
	// Stripe: a timeout) and the event is retried with the usual backoff
	// (Config.WebhookRetryBase doubling), like any failed attempt. An event is
	// lost only when every one of its Config.WebhookMaxAttempts attempts is.
	DropWebhook float64
	// DuplicateWebhook is the share of events delivered twice: two independent
	// deliveries of the same event, each retried until it succeeds.
	DuplicateWebhook float64
}

// validate checks that every rate is a probability and that the two request
// faults together are one.
func (r FaultRates) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"ServerError", r.ServerError}, {"RateLimit", r.RateLimit}, {"DropWebhook", r.DropWebhook}, {"DuplicateWebhook", r.DuplicateWebhook}} {
		if !(f.v >= 0 && f.v <= 1) { // also refuses NaN
			return fmt.Errorf("fault rates: %s %v is not a probability in [0, 1]", f.name, f.v)
		}
	}
	if r.ServerError+r.RateLimit > 1 {
		return fmt.Errorf("fault rates: ServerError %v and RateLimit %v add up to more than 1", r.ServerError, r.RateLimit)
	}
	if r.MaxLatency < 0 || r.MaxLatency > MaxFaultLatency {
		return fmt.Errorf("fault rates: MaxLatency %s is not in [0, %s]", r.MaxLatency, MaxFaultLatency)
	}
	// DropWebhook 1 would lose every event after WebhookMaxAttempts attempts; it is
	// allowed, as a way to test that loss.
	return nil
}

// active reports whether any rate can inject anything.
func (r FaultRates) active() bool {
	return r.ServerError > 0 || r.RateLimit > 0 || r.MaxLatency > 0 || r.DropWebhook > 0 || r.DuplicateWebhook > 0
}

// FaultCounts counts the faults the sandbox injected since New, by rate
// (Config.FaultRates) and by armed faults (InjectFault) together.
type FaultCounts struct {
	// ServerErrors is the API requests answered 5xx by a fault.
	ServerErrors int64 `json:"server_errors"`
	// RateLimited is the API requests answered 429 by a fault (not those the
	// rate limiter, Config.RateLimit, refused).
	RateLimited int64 `json:"rate_limited"`
	// Delayed is the API requests held by a latency fault or jitter.
	Delayed int64 `json:"delayed"`
	// WebhookAttemptsDropped is the delivery attempts lost in transit
	// (FaultRates.DropWebhook).
	WebhookAttemptsDropped int64 `json:"webhook_attempts_dropped"`
	// WebhooksDropped is the events never delivered at all because an armed
	// FaultDropWebhook matched them.
	WebhooksDropped int64 `json:"webhooks_dropped"`
	// WebhooksDuplicated is the events delivered twice.
	WebhooksDuplicated int64 `json:"webhooks_duplicated"`
}

// faultCounters are FaultCounts as they are counted.
type faultCounters struct {
	serverErrors, rateLimited, delayed                   atomic.Int64
	attemptsDropped, webhooksDropped, webhooksDuplicated atomic.Int64
}

// FaultCounts returns the faults injected so far.
func (s *Server) FaultCounts() FaultCounts {
	c := &s.counts
	return FaultCounts{
		ServerErrors: c.serverErrors.Load(), RateLimited: c.rateLimited.Load(), Delayed: c.delayed.Load(),
		WebhookAttemptsDropped: c.attemptsDropped.Load(), WebhooksDropped: c.webhooksDropped.Load(),
		WebhooksDuplicated: c.webhooksDuplicated.Load(),
	}
}

// faultDice draws the rate faults from one seeded stream.
type faultDice struct {
	rates FaultRates
	mu    sync.Mutex
	rng   *rand.Rand
}

func newFaultDice(r FaultRates) *faultDice {
	// PCG takes two words; the second is a fixed odd constant so that seeds 0, 1, …
	// each give a stream of their own.
	return &faultDice{rates: r, rng: rand.New(rand.NewPCG(r.Seed, 0x9e3779b97f4a7c15))}
}

// float draws a number in [0, 1).
func (d *faultDice) float() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64()
}

// request draws the fate of one API request: the status of an error answer (0
// for none) and the latency to add.
func (d *faultDice) request() (status int, delay time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.rng.Float64()
	switch {
	case u < d.rates.ServerError:
		return http.StatusInternalServerError, 0
	case u < d.rates.ServerError+d.rates.RateLimit:
		return http.StatusTooManyRequests, 0
	}
	if d.rates.MaxLatency > 0 {
		delay = time.Duration(d.rng.Int64N(int64(d.rates.MaxLatency)))
	}
	return 0, delay
}

// applyRateFault answers r with a rate-drawn error (true when it did), or
// records the drawn latency in ri.delay for holdFault.
func (s *Server) applyRateFault(w http.ResponseWriter, r *http.Request) bool {
	if s.dice == nil {
		return false
	}
	status, delay := s.dice.request()
	ri := info(r)
	if status == 0 {
		if delay > 0 && ri.delay == 0 {
			ri.delay = delay
			s.counts.delayed.Add(1)
		}
		return false
	}
	s.log.Info("fault injected by rate", "request_id", ri.id, "status", status)
	writeError(w, injectedError(status, ""))
	s.countErrorFault(status)
	return true
}

// countErrorFault counts one API request answered with an injected error status.
func (s *Server) countErrorFault(status int) {
	switch {
	case status == http.StatusTooManyRequests:
		s.counts.rateLimited.Add(1)
	case status >= 500:
		s.counts.serverErrors.Add(1)
	}
}

// dropAttempt draws whether one webhook delivery attempt is lost in transit.
func (s *Server) dropAttempt() bool {
	if s.dice == nil || s.dice.rates.DropWebhook == 0 {
		return false
	}
	if s.dice.float() >= s.dice.rates.DropWebhook {
		return false
	}
	s.counts.attemptsDropped.Add(1)
	return true
}

// duplicateEvent draws whether an event is delivered twice.
func (s *Server) duplicateEvent() bool {
	return s.dice != nil && s.dice.rates.DuplicateWebhook > 0 && s.dice.float() < s.dice.rates.DuplicateWebhook
}
