// Package ctxsleep is the harness's one way to pause: a sleep that a context ends early.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done, whichever comes first, and returns ctx's error in
// the second case. A d of zero or less returns at once (with ctx's error if it is done).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
