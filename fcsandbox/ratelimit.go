package fcsandbox

import (
	"net/http"
	"sync"
	"time"
)

// rateLimiter is a token bucket per API key: rate tokens per second, at most
// rate tokens banked, one token per API request. It runs on the wall clock.
type rateLimiter struct {
	rate float64
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perSecond int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{rate: float64(perSecond), now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token for key; false when the bucket is empty. A nil limiter allows everything.
func (l *rateLimiter) allow(key string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.rate, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// errRateLimited is Stripe's 429 for too many requests: an
// invalid_request_error with code rate_limit and no Stripe-Should-Retry
// header, so stripe-go does not retry it by itself.
func errRateLimited() *apiError {
	return &apiError{status: http.StatusTooManyRequests, body: errorBody{
		Type: typeInvalidRequest, Code: "rate_limit", DocURL: docURL("rate_limit"),
		Message: "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
	}}
}
