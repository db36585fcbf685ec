package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/wiring"
)

// TestStripeRateLimit: the workers share 80 % of the sandbox's limit, the API has 20 %;
// none without a limit.
func TestStripeRateLimit(t *testing.T) {
	require.Equal(t, "off", StripeRateLimit(-1, wiring.WorkerStripeShare, 2))
	require.Equal(t, "20", StripeRateLimit(0, wiring.WorkerStripeShare, 1), "the sandbox's default, Stripe's test mode: 25 a second")
	require.Equal(t, "10", StripeRateLimit(25, wiring.WorkerStripeShare, 2))
	require.Equal(t, "80", StripeRateLimit(100, wiring.WorkerStripeShare, 0))
	require.Equal(t, "5", StripeRateLimit(25, wiring.APIStripeShare, 1))
}
