package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// KeepAliveInterval is how often an activity that makes outside calls tells Temporal it
// is alive. The workflow gives those activities a heartbeat timeout a few intervals long,
// so when a worker dies mid-call its activity is retried on another worker after that
// timeout (seconds) rather than after its start-to-close timeout (minutes).
const KeepAliveInterval = 5 * time.Second

// keepAliveEvery is KeepAliveInterval, shorter in tests.
var keepAliveEvery = KeepAliveInterval

// keepAlive heartbeats every KeepAliveInterval until the returned stop is called. It is
// for activities whose heartbeats carry no progress (SyncTransactions heartbeats its
// cursor itself); outside an activity (a direct call in a test) it does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(keepAliveEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
