package wiring

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

// countingTransport answers every request 200 and counts them.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// TestRateLimitedWaitsWithTheRequestsContext: beyond its rate a request waits for its
// turn; one whose context ends first (or would end before its turn) never reaches the
// transport and fails with the context's error.
func TestRateLimitedWaitsWithTheRequestsContext(t *testing.T) {
	next := &countingTransport{}
	rt := newRateLimited(next, 1.0/3600) // one an hour: the second request's turn is far away
	do := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://stripe.invalid/v1/customers", nil)
		require.NoError(t, err)
		_, err = rt.RoundTrip(req)
		return err
	}
	require.NoError(t, do(context.Background()), "the first request goes at once")
	require.Equal(t, int64(1), next.n.Load())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := do(ctx)
	require.ErrorContains(t, err, "stripe rate limit")
	require.Equal(t, int64(1), next.n.Load(), "a request that cannot have its turn before its deadline is not sent")

	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	require.ErrorIs(t, do(cancelled), context.Canceled)
	require.Equal(t, int64(1), next.n.Load())
}

// TestStripeRateLimitKeepsUnderTheSandboxs: 12 requests at once against the sandbox with
// a limit of 5 a second draw 429s from a client without a limit, and none from one
// limited to 4 a second (the sandbox counts both).
func TestStripeRateLimitKeepsUnderTheSandboxs(t *testing.T) {
	burst := func(limit float64) fcsandbox.RequestCounts {
		sb, err := fcsandbox.New(fcsandbox.Config{PersonaDir: "../../fcsandbox/personas", RateLimit: 5})
		require.NoError(t, err)
		defer sb.Close()
		srv := httptest.NewServer(sb.Handler())
		defer srv.Close()
		sc := NewStripe(StripeConfig{SecretKey: "sk_test_ratelimit", APIBase: srv.URL, RateLimit: limit}, slog.New(slog.DiscardHandler))
		var wg sync.WaitGroup
		errs := make(chan error, 12)
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := sc.Customers.New(&stripe.CustomerParams{Params: stripe.Params{Context: context.Background()}})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			var se *stripe.Error
			if err != nil && !(errors.As(err, &se) && se.HTTPStatusCode == http.StatusTooManyRequests) {
				require.NoError(t, err)
			}
		}
		return sb.RequestCounts()
	}
	unlimited := burst(0)
	require.Positive(t, unlimited.RateLimited, "12 at once exceed the sandbox's 5 a second")
	limited := burst(4)
	require.Equal(t, int64(12), limited.Requests)
	require.Zero(t, limited.RateLimited, "the limiter keeps the client under the sandbox's limit")
}

func TestParseStripeRateLimit(t *testing.T) {
	for _, c := range []struct {
		in, key string
		share   float64
		want    float64
	}{
		{"", "sk_test_x", WorkerStripeShare, 20}, {"", "rk_test_x", WorkerStripeShare, 20},
		{"", "sk_live_x", WorkerStripeShare, 80}, {"", "rk_live_x", WorkerStripeShare, 80},
		{"", "sk_test_x", APIStripeShare, 5}, {"", "sk_live_x", APIStripeShare, 20},
		{"off", "sk_live_x", WorkerStripeShare, 0}, {" 12.5 ", "sk_test_x", WorkerStripeShare, 12.5},
	} {
		got, err := ParseStripeRateLimit(c.in, c.key, c.share)
		require.NoError(t, err, c.in)
		require.InDelta(t, c.want, got, 1e-9, "%q with %s", c.in, c.key)
	}
	for _, bad := range []string{"0", "-1", "fast", "NaN", "1e9"} {
		_, err := ParseStripeRateLimit(bad, "sk_test_x", WorkerStripeShare)
		require.ErrorContains(t, err, "is not a number of requests a second", bad)
	}
}
