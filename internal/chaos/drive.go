package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/cluster"
	"github.com/cashflow-underwriting/underwriter/loan"
)

const (
	// pollEvery is how often a loan backend reads an application's status: a second
	// keeps 200 applications' polling light on the API.
	pollEvery = time.Second
	// requestTimeout bounds one request to the API or the sandbox with its retries: more
	// than any outage the run causes (a restart takes seconds), less than the run.
	requestTimeout = 2 * time.Minute
	// retryFirst and retryMax are the careful backend's backoff between retries: it
	// doubles from retryFirst up to retryMax, or follows Retry-After.
	retryFirst = 100 * time.Millisecond
	retryMax   = 2 * time.Second
)

// Result is what one applicant's loan backend saw.
type Result struct {
	ApplicationID string   `json:"application_id"`
	Persona       string   `json:"persona"`
	Outcome       string   `json:"outcome,omitempty"` // "" when no decision came
	Score         *int     `json:"score,omitempty"`
	ReasonCodes   []string `json:"reason_codes,omitempty"`
	Error         string   `json:"error,omitempty"`
	// Elapsed is from the first POST to the decision.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Decided reports whether a decision came.
func (r Result) Decided() bool { return r.Outcome != "" }

// applicant is one application of a run: the same in the reference and the chaos run.
type applicant struct {
	id      string
	persona fcsandbox.Persona
}

// applicants cycles through the personas: application i is persona i mod len(personas),
// with an id naming the seed, its number and its persona.
func applicants(n int, seed uint64, personas []fcsandbox.Persona) []applicant {
	out := make([]applicant, n)
	for i := range out {
		p := personas[i%len(personas)]
		out[i] = applicant{id: fmt.Sprintf("chaos-s%d-%04d-%s", seed, i, p.Name), persona: p}
	}
	return out
}

// driveAll underwrites every applicant, at most concurrency at once, and counts the
// applications started in started (the chaos schedule follows it). Before each start it
// calls hold with the number started so far, which may wait (nil: no wait).
func driveAll(ctx context.Context, cl *cluster.Cluster, apps []applicant, concurrency int, timeout time.Duration,
	started *atomic.Int64, hold func(started int64)) []Result {
	results := make([]Result, len(apps))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, a := range apps {
		if hold != nil {
			hold(started.Load())
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = Result{ApplicationID: a.id, Persona: a.persona.Name, Error: ctx.Err().Error()}
			continue
		}
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = driveOne(ctx, cl, a, timeout)
		}()
	}
	wg.Wait()
	return results
}

// driveOne plays one application as production would: the loan backend's POST
// /v1/applications (retried, as the API is idempotent by application id), the
// applicant's bank link in the sandbox (what Stripe.js does), then GET
// /v1/applications/{id} until the decision is there.
func driveOne(ctx context.Context, cl *cluster.Cluster, a applicant, timeout time.Duration) (res Result) {
	res = Result{ApplicationID: a.id, Persona: a.persona.Name}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	hc := &http.Client{Timeout: requestTimeout, Transport: retryTransport{next: http.DefaultTransport}}
	c := cl.Client(hc)
	p := a.persona
	created, err := c.CreateApplication(ctx, api.ApplicationRequest{
		ApplicationID: a.id, LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency,
		Applicant: &api.Applicant{Name: "Chaos " + p.Name, Email: p.Name + "@example.com"},
	})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if err := link(ctx, hc, cl.SandboxURL, created.ClientSecret, p.Name); err != nil {
		res.Error = err.Error()
		return res
	}
	stage := ""
	for {
		st, _, err := c.GetApplication(ctx, a.id)
		if err == nil {
			stage = st.Stage
			if stage == loan.StageFailed {
				// A finding, not a reason to retry: a backend could start the application
				// again with the same request, which would hide it.
				res.Error = fmt.Sprintf("application %s failed: %s", a.id, st.FailureCause)
				return res
			}
		}
		if err == nil && st.Decision != nil {
			res.Outcome, res.Score = st.Decision.Outcome, st.Decision.Score
			var reasons []struct {
				Code string `json:"code"`
			}
			if err := json.Unmarshal(st.Decision.Reasons, &reasons); err != nil {
				res.Error = fmt.Sprintf("decode the reasons of %s: %v", a.id, err)
				return res
			}
			for _, r := range reasons {
				res.ReasonCodes = append(res.ReasonCodes, r.Code)
			}
			return res
		}
		select {
		case <-ctx.Done():
			res.Error = fmt.Sprintf("application %s: no decision in %s (last stage %q)", a.id, timeout, stage)
			return res
		case <-time.After(pollEvery):
		}
	}
}

// alreadyLinked is the sandbox's answer to a link of a session already completed: after
// a retry, the first attempt got through though its answer was lost.
const alreadyLinked = "already been completed"

// link completes the applicant's bank link, retrying when the sandbox cannot be reached.
func link(ctx context.Context, hc *http.Client, sandboxURL, clientSecret, persona string) error {
	_, err := fcsandbox.CompleteLink(ctx, hc, sandboxURL, clientSecret, persona)
	if err != nil && strings.Contains(err.Error(), alreadyLinked) {
		return nil
	}
	return err
}

// retryTransport retries a request the way a careful loan backend does: on a connection
// error or a 5xx answer, with a doubling backoff (or the answer's Retry-After), until the
// request's context ends. POST /v1/applications is idempotent by application id and the
// sandbox's link refuses a second completion, so retrying after a lost answer is safe.
type retryTransport struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	wait := retryFirst
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("rewind the body of %s %s: %w", req.Method, req.URL.Path, err)
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err == nil && resp.StatusCode < 500 {
			return resp, nil
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, err // the body cannot be sent again
		}
		d := wait
		if resp != nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
				d = time.Duration(s) * time.Second
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		select {
		case <-req.Context().Done():
			if err == nil {
				err = fmt.Errorf("%s %s: HTTP %d until %w", req.Method, req.URL.Path, resp.StatusCode, req.Context().Err())
			}
			return nil, errors.Join(err, req.Context().Err())
		case <-time.After(d):
		}
		wait = min(wait*2, retryMax)
	}
}
