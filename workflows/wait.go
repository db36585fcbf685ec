package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// wait blocks until a signal arrives on one of chans or d passes, whichever comes first,
// and reports whether a signal woke it. The signal that woke it and any queued behind it
// on the same channel are consumed: several webhooks for one change need one re-read,
// which the caller makes either way. A timer that a signal beat is cancelled, so no timer
// fires later for nothing.
//
// It is the workflow's one way of waiting for a webhook with a polling fallback (the link,
// a refresh, a reactivation). Its commands (start a timer, cancel it when a signal came
// first) are what the recorded histories hold: changing them needs workflow.GetVersion.
//
// summary names the wait in the Web UI (the timer's summary).
func wait(ctx workflow.Context, d time.Duration, summary string, chans ...workflow.ReceiveChannel) (signalled bool) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	sel := workflow.NewSelector(ctx)
	for _, ch := range chans {
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
			var sig AccountSignal
			c.Receive(ctx, &sig)
			drain(c)
			signalled = true
		})
	}
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
	cancelTimer()
	return signalled
}

// drain empties a signal channel: several webhooks for one change need one re-read.
func drain(c workflow.ReceiveChannel) {
	for c.ReceiveAsync(nil) {
	}
}
