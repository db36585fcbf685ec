package wiring

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/time/rate"
)

// Stripe's request rate limits per account (https://docs.stripe.com/rate-limits): test
// mode and live mode, in requests a second. Every process that uses one account's keys
// shares them.
const (
	StripeTestModeRateLimit = 25
	StripeLiveModeRateLimit = 100
)

// Default shares of the key mode's limit: a worker's and an API process's default
// --stripe-rate-limit. An application costs the API two requests (the customer and the
// session) and the worker about eight (README "Performance"), so one API and one worker
// at these shares run at the same pace of applications and together stay at 100 % of
// Stripe's limit. Several processes of one Stripe account divide their share by their
// number: two workers 0.4 each.
const (
	WorkerStripeShare = 0.8
	APIStripeShare    = 0.2
)

// StripeModeRateLimit is Stripe's limit for the key's mode: live keys (sk_live_, rk_live_)
// 100 a second, every other 25.
func StripeModeRateLimit(secretKey string) float64 {
	if strings.Contains(secretKey, "_live_") {
		return StripeLiveModeRateLimit
	}
	return StripeTestModeRateLimit
}

// ParseStripeRateLimit parses a --stripe-rate-limit value: "" for share of the key mode's
// limit (StripeModeRateLimit), "off" for none (0), or a positive number of requests a
// second.
func ParseStripeRateLimit(s, secretKey string, share float64) (float64, error) {
	switch s = strings.TrimSpace(s); s {
	case "":
		return share * StripeModeRateLimit(secretKey), nil
	case "off":
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v <= 10000) {
		return 0, fmt.Errorf("%q is not a number of requests a second (above 0, at most 10000) or off", s)
	}
	return v, nil
}

// rateLimited is an http.RoundTripper that admits at most its limiter's rate of requests
// to next, each waiting for its turn with its own context: a request whose context ends
// while it waits fails with the context's error and never reaches Stripe.
type rateLimited struct {
	next    http.RoundTripper
	limiter *rate.Limiter
}

// newRateLimited limits next to perSecond requests a second, one at a time (burst 1):
// Stripe counts requests over short windows, so an even pace is what stays under it.
func newRateLimited(next http.RoundTripper, perSecond float64) *rateLimited {
	return &rateLimited{next: next, limiter: rate.NewLimiter(rate.Limit(perSecond), 1)}
}

func (t *rateLimited) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("stripe rate limit: waiting for a turn: %w", err)
	}
	return t.next.RoundTrip(req)
}
