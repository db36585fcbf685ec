package fcsandbox

// SuspendWebhooks holds every webhook delivery attempt until ResumeWebhooks: events
// created meanwhile, and retries that fall due, wait instead of being sent. Together
// with closing the listener that serves Handler, it is a restart of the sandbox that
// keeps its state: the objects, the idempotency keys, the pending refreshes (which still
// complete on time, as Stripe's back end keeps working through an outage of its API)
// and the events not yet delivered, which go out at ResumeWebhooks as Stripe's retries
// would. An attempt already in flight finishes. Calling it twice is harmless.
func (s *Server) SuspendWebhooks() {
	s.gateMu.Lock()
	defer s.gateMu.Unlock()
	select {
	case <-s.gate:
		s.gate = make(chan struct{})
		s.log.Info("webhook delivery suspended")
	default: // already suspended
	}
}

// ResumeWebhooks lets the deliveries SuspendWebhooks held go out. Calling it when not
// suspended is harmless.
func (s *Server) ResumeWebhooks() {
	s.gateMu.Lock()
	defer s.gateMu.Unlock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
		s.log.Info("webhook delivery resumed")
	}
}

// awaitDelivery waits until webhooks are not suspended; false when the server closed
// first.
func (s *Server) awaitDelivery() bool {
	s.gateMu.Lock()
	gate := s.gate
	s.gateMu.Unlock()
	select {
	case <-gate:
		return true
	case <-s.ctx.Done():
		return false
	}
}
