package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/loan"
)

// pollEvery is how often the driver reads an application's status, as a loan backend
// would.
const pollEvery = 100 * time.Millisecond

// Result is one sample application's journey.
type Result struct {
	ApplicationID string
	Persona       string
	Expected      string
	Outcome       string // "" when no decision came in time
	Score         *int
	ReasonCodes   []string
	Elapsed       time.Duration
	Err           error
}

// Correct reports whether the application was decided with the persona's expected outcome.
func (r Result) Correct() bool { return r.Err == nil && r.Outcome != "" && r.Outcome == r.Expected }

// UnderwriteSamples drives one application per persona the way production does: the loan
// backend's POST /v1/applications, the applicant's bank link in the sandbox (what Stripe.js
// does in a browser), then GET /v1/applications/{id} until the decision is there. The
// webhooks flow from the sandbox to the API on their own. runID makes application ids
// unique per run.
func (s *Stack) UnderwriteSamples(ctx context.Context, runID string, timeout time.Duration) []Result {
	results := make([]Result, len(s.Personas))
	var wg sync.WaitGroup
	for i, p := range s.Personas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.underwriteOne(ctx, fmt.Sprintf("%s-%s", runID, p.Name), p, timeout)
		}()
	}
	wg.Wait()
	return results
}

func (s *Stack) underwriteOne(ctx context.Context, appID string, p fcsandbox.Persona, timeout time.Duration) (res Result) {
	res = Result{ApplicationID: appID, Persona: p.Name, Expected: p.ExpectedOutcome}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	hc := &http.Client{Timeout: 30 * time.Second}
	c := s.Client(hc)

	created, err := c.CreateApplication(ctx, api.ApplicationRequest{
		ApplicationID: appID, LoanAmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: p.Currency,
		Applicant: &api.Applicant{Name: "Sample " + p.Name, Email: p.Name + "@example.com"},
	})
	if err != nil {
		res.Err = err
		return res
	}
	if _, err := fcsandbox.CompleteLink(ctx, hc, s.SandboxURL, created.ClientSecret, p.Name); err != nil {
		res.Err = fmt.Errorf("link bank account: %w", err)
		return res
	}
	st, err := c.WaitForDecision(ctx, appID)
	if err != nil {
		res.Err = err
		return res
	}
	res.Outcome = st.Decision.Outcome
	res.Score = st.Decision.Score
	var reasons []struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(st.Decision.Reasons, &reasons)
	for _, r := range reasons {
		res.ReasonCodes = append(res.ReasonCodes, r.Code)
	}
	return res
}

// DevKey is the Postgres key (store.Application.ID) of the development lender's
// application id: the application id its workflow and every table know.
func DevKey(applicationID string) string {
	return loan.ApplicationKey(loan.DevLender, applicationID)
}

// Client is a loan backend's client of the API: its base URL and the lender's API key,
// sent as a bearer token with every request ("" sends none).
type Client struct {
	HTTP *http.Client
	URL  string
	Key  string
}

// Client is a client of the stack's API as its development lender, over hc.
func (s *Stack) Client(hc *http.Client) Client {
	return Client{HTTP: hc, URL: s.APIURL, Key: s.LenderKey}
}

// newRequest builds a request to the API with the client's key.
func (c Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return nil, err
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// CreateApplication is a loan backend's POST /v1/applications. Like a careful backend it
// retries the same request (the API is idempotent by application id) when the API answers
// 503, honouring Retry-After, a few times.
func (c Client) CreateApplication(ctx context.Context, req api.ApplicationRequest) (api.ApplicationCreated, error) {
	const attempts = 5
	var out api.ApplicationCreated
	body, _ := json.Marshal(req)
	for attempt := 1; ; attempt++ {
		hreq, err := c.newRequest(ctx, http.MethodPost, "/v1/applications", bytes.NewReader(body))
		if err != nil {
			return out, err
		}
		resp, err := c.HTTP.Do(hreq)
		if err != nil {
			return out, fmt.Errorf("create application %s: %w", req.ApplicationID, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < attempts {
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			return out, fmt.Errorf("create application %s: HTTP %d: %s", req.ApplicationID, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return out, fmt.Errorf("create application %s: decode answer: %w", req.ApplicationID, err)
		}
		return out, nil
	}
}

// GetApplication is a loan backend's GET /v1/applications/{id}.
func (c Client) GetApplication(ctx context.Context, id string) (api.ApplicationStatus, int, error) {
	var st api.ApplicationStatus
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/applications/"+id, nil)
	if err != nil {
		return st, 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return st, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return st, resp.StatusCode, fmt.Errorf("get application %s: HTTP %d: %s", id, resp.StatusCode, b)
	}
	return st, resp.StatusCode, json.Unmarshal(b, &st)
}

// WaitForDecision polls GET /v1/applications/{id} until a decision is recorded or ctx ends.
func (c Client) WaitForDecision(ctx context.Context, id string) (api.ApplicationStatus, error) {
	stage := ""
	for {
		st, _, err := c.GetApplication(ctx, id)
		if err == nil && st.Decision != nil {
			return st, nil
		}
		if err == nil {
			stage = st.Stage
			if st.FailureCause != "" {
				stage += ": " + st.FailureCause
			}
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("application %s: no decision (last stage %q): %w", id, stage, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}
