package activities

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
)

// TestKeepAliveHeartbeatsUntilStopped: inside an activity keepAlive heartbeats while the
// activity waits (the SDK batches heartbeats, so the listener sees at least one), and
// stops when told; outside an activity it is a no-op.
func TestKeepAliveHeartbeatsUntilStopped(t *testing.T) {
	keepAliveEvery = 10 * time.Millisecond
	t.Cleanup(func() { keepAliveEvery = KeepAliveInterval })

	var beats atomic.Int32
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
	var atStop int32
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		stop := keepAlive(ctx)
		time.Sleep(200 * time.Millisecond) // a slow Stripe call
		stop()
		atStop = beats.Load()
		time.Sleep(50 * time.Millisecond)
		return nil
	}, activity.RegisterOptions{Name: "slow"})
	_, err := env.ExecuteActivity("slow")
	require.NoError(t, err)
	require.Positive(t, atStop, "heartbeats while waiting")
	require.Equal(t, atStop, beats.Load(), "none after stop")

	keepAlive(context.Background())() // outside an activity: nothing to do, no panic
}
