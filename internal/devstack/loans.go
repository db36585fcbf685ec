package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// firstDueAfter is how long after the decision the sample loans' first instalment is due.
const firstDueAfter = 30 * 24 * time.Hour

// BookedLoan is a sample loan booked on an approved sample application.
type BookedLoan struct {
	ApplicationID string
	Persona       string
	WorkflowID    string
	Err           error
}

// BookSampleLoans books, as the loan backend would after an approval (POST /v1/loans), the
// loan each approved sample application asked for, first due 30 days after its decision's
// as_of (the ledger's clock),
// which starts one watcher per loan (workflows.Monitor). Applications not approved are
// left alone.
func (s *Stack) BookSampleLoans(ctx context.Context, results []Result) []BookedLoan {
	c := s.Client(&http.Client{Timeout: 30 * time.Second})
	var out []BookedLoan
	for _, r := range results {
		if r.Err != nil || r.Outcome != loan.OutcomeApprove {
			continue
		}
		b := BookedLoan{ApplicationID: r.ApplicationID, Persona: r.Persona}
		b.WorkflowID, b.Err = s.bookFor(ctx, c, r.ApplicationID)
		out = append(out, b)
	}
	return out
}

// bookFor books the loan an application asked for, first due 30 days after its decision.
func (s *Stack) bookFor(ctx context.Context, c Client, applicationID string) (string, error) {
	st, _, err := c.GetApplication(ctx, applicationID)
	if err != nil {
		return "", err
	}
	if st.Decision == nil {
		return "", fmt.Errorf("book loan %s: not decided", applicationID)
	}
	// The ledger's clock, not the machine's: the sandbox's samples are dated in the past.
	day := st.Decision.DecidedAt
	if st.Decision.AsOf != nil {
		day = *st.Decision.AsOf
	}
	due := day.Add(firstDueAfter).UTC().Format(time.DateOnly)
	l, err := c.BookLoan(ctx, api.LoanRequest{ApplicationID: applicationID, AmountMinor: st.LoanAmountMinor,
		Currency: st.Currency, TermMonths: st.TermMonths, FirstDueDate: due})
	if err != nil {
		return "", err
	}
	return l.WorkflowID, nil
}

// do sends a JSON request to the API and decodes a 2xx answer into out.
func (c Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// BookLoan is a loan backend's POST /v1/loans.
func (c Client) BookLoan(ctx context.Context, req api.LoanRequest) (api.LoanResponse, error) {
	var out api.LoanResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/loans", req, &out)
	return out, err
}

// GetLoan is a loan backend's GET /v1/loans/{id}.
func (c Client) GetLoan(ctx context.Context, id string) (api.LoanResponse, error) {
	var out api.LoanResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/loans/"+url.PathEscape(id), nil, &out)
	return out, err
}

// LoanAlerts is a loan backend's GET /v1/loans/{id}/alerts.
func (c Client) LoanAlerts(ctx context.Context, id string) ([]api.AlertResponse, error) {
	var out api.AlertList
	_, err := c.do(ctx, http.MethodGet, "/v1/loans/"+url.PathEscape(id)+"/alerts", nil, &out)
	return out.Alerts, err
}

// CloseLoan is a loan backend's POST /v1/loans/{id}/close.
func (c Client) CloseLoan(ctx context.Context, id, reason string) (api.LoanResponse, error) {
	var out api.LoanResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/loans/"+url.PathEscape(id)+"/close", api.CloseRequest{Reason: reason}, &out)
	return out, err
}

// PlayDays lets the sandbox's simulated clock run days days, one at a time, as Stripe's
// daily subscription refreshes would come: each day the sandbox releases the day's
// transactions (and each story's turn) and sends every subscribed account a
// refreshed_transactions webhook. After each day it waits until every booked loan's
// watcher has checked the day (its ledger clock, the refreshed balance's as_of, reached
// the sandbox's now) and has no alert delivery under way, so the next day starts on a
// settled ledger. It ends with ctx.
func (s *Stack) PlayDays(ctx context.Context, loans []BookedLoan, days int) error {
	for day := 1; day <= days; day++ {
		clock, err := s.Sandbox.Advance(1)
		if err != nil {
			return err
		}
		// The sandbox's clock runs on from the advanced now, so the balance of this
		// day's refresh is as of now or a moment later.
		now := time.Unix(clock.Now, 0).UTC()
		for _, l := range loans {
			if l.Err != nil {
				continue
			}
			for {
				st, err := s.WatcherStatus(ctx, l.ApplicationID)
				if err == nil && !st.LedgerAsOf.Before(now) && st.Deliveries == 0 {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("day %d: the watcher of loan %s did not check the day (last status %+v, %v): %w",
						day, l.ApplicationID, st, err, ctx.Err())
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

// WatcherStatus asks the watcher of the development lender's loan applicationID for its
// status (workflows.QueryMonitorStatus).
func (s *Stack) WatcherStatus(ctx context.Context, applicationID string) (workflows.MonitorStatus, error) {
	var st workflows.MonitorStatus
	v, err := s.Temporal.QueryWorkflow(ctx, workflows.MonitorWorkflowID(DevKey(applicationID)), "", workflows.QueryMonitorStatus)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}
