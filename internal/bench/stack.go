package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
)

// leastRefreshDelay is the sandbox's refresh delay in the bench: the issue's "refresh
// delay at zero" (the sandbox takes 0 for its default of two seconds).
const leastRefreshDelay = time.Millisecond

// startStack starts the dev stack on loopback with a throwaway Postgres, no Web UI, the
// sandbox's refresh delay at its least and no refresh cooldown; rateLimit is the
// sandbox's requests per second (negative: none).
func startStack(ctx context.Context, rateLimit int) (*devstack.Stack, error) {
	st, err := devstack.Start(ctx, devstack.Config{
		UIPort:                 -1,
		RefreshDelay:           leastRefreshDelay,
		SandboxRefreshCooldown: -1,
		SandboxRateLimit:       rateLimit,
		BuildVersion:           "bench",
	})
	if err != nil {
		return nil, fmt.Errorf("start the dev stack: %w", err)
	}
	return st, nil
}
