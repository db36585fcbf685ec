package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWorkerStripeRateLimit: the workers share 80 % of the sandbox's limit; none without one.
func TestWorkerStripeRateLimit(t *testing.T) {
	require.Equal(t, "off", workerStripeRateLimit(-1, 2))
	require.Equal(t, "20", workerStripeRateLimit(0, 1), "the sandbox's default, Stripe's test mode: 25 a second")
	require.Equal(t, "10", workerStripeRateLimit(25, 2))
	require.Equal(t, "80", workerStripeRateLimit(100, 0))
}
