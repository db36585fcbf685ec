package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// Limits of an application request. They reject typing errors, not products: a lender with
// larger requests raises them in code review, not by accident. The loan's own bounds
// (amount, term, currency) are loan.Validate's, which the workflow and the applications
// table share.
const (
	// maxApplicationBody is far above any valid request (a few hundred bytes).
	maxApplicationBody = 64 << 10
	// maxAccounts bounds a returning customer's accounts: more is a mistake, not a bank.
	maxAccounts = 10
	// stripeTimeout bounds the Stripe calls of one request; stripe-go retries within it.
	stripeTimeout = 30 * time.Second
	// temporalTimeout bounds one call to Temporal (start, query).
	temporalTimeout = 10 * time.Second
)

var (
	accountIDPattern     = regexp.MustCompile(`^fca_[A-Za-z0-9]{1,64}$`)
	applicationIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
)

// ApplicationRequest is the body of POST /v1/applications.
type ApplicationRequest struct {
	// ApplicationID is the lender's own id; the same id always reaches the same workflow.
	ApplicationID string `json:"application_id"`
	// LoanAmountMinor is the requested amount in minor units (cents).
	LoanAmountMinor int64 `json:"loan_amount_minor"`
	// TermMonths is the requested term.
	TermMonths int `json:"term_months"`
	// Currency is a lowercase ISO code; default loan.DefaultCurrency (usd).
	Currency string `json:"currency,omitempty"`
	// Applicant is passed to Stripe's customer object and stored nowhere else.
	Applicant *Applicant `json:"applicant,omitempty"`
	// ReturnURL is where Stripe sends the applicant after an OAuth bank login.
	ReturnURL string `json:"return_url,omitempty"`
	// AccountIDs underwrites a returning customer on Financial Connections accounts
	// (fca_…) an earlier application of the same customer linked: no new link is needed,
	// and only what changed since the last sync is pulled. Applicant and ReturnURL are
	// then unused.
	AccountIDs []string `json:"account_ids,omitempty"`
}

// Applicant identifies the applicant to Stripe.
type Applicant struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// ApplicationCreated is the answer to POST /v1/applications. ClientSecret goes to the
// applicant's browser for stripe.collectFinancialConnectionsAccounts and nowhere else.
type ApplicationCreated struct {
	ApplicationID string `json:"application_id"`
	WorkflowID    string `json:"workflow_id"`
	RunID         string `json:"run_id,omitempty"`
	CustomerID    string `json:"customer_id"`
	SessionID     string `json:"session_id"`
	ClientSecret  string `json:"client_secret,omitempty"`
	Stage         string `json:"stage"`
	Created       bool   `json:"created"`
	// Decision is the recorded decision, for a request with ?wait=decision that was
	// decided within its wait (Stage is then decided).
	Decision *DecisionResponse `json:"decision,omitempty"`
}

func decodeApplication(body []byte) (ApplicationRequest, []FieldError) {
	var req ApplicationRequest
	if errs := decodeJSON(body, &req); len(errs) > 0 {
		return req, errs
	}
	if req.Currency == "" {
		req.Currency = loan.DefaultCurrency
	}
	var errs []FieldError
	if !applicationIDPattern.MatchString(req.ApplicationID) {
		errs = append(errs, FieldError{"application_id", "required: 1-64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit"})
	}
	for _, fe := range loan.FieldErrors(loan.Validate(loan.Request{
		AmountMinor: req.LoanAmountMinor, TermMonths: req.TermMonths, Currency: req.Currency,
	})) {
		errs = append(errs, FieldError{fe.Field, fe.Problem})
	}
	if req.Applicant != nil && req.Applicant.Email != "" && !strings.Contains(req.Applicant.Email, "@") {
		errs = append(errs, FieldError{"applicant.email", "must be an email address"})
	}
	if req.ReturnURL != "" && !strings.HasPrefix(req.ReturnURL, "https://") {
		errs = append(errs, FieldError{"return_url", "must be an https URL"})
	}
	seen := map[string]bool{}
	for i, id := range req.AccountIDs {
		field := fmt.Sprintf("account_ids[%d]", i)
		switch {
		case !accountIDPattern.MatchString(id):
			errs = append(errs, FieldError{field, "must be a Financial Connections account id fca_…"})
		case seen[id]:
			errs = append(errs, FieldError{field, "repeats " + id})
		}
		seen[id] = true
	}
	if len(req.AccountIDs) > maxAccounts {
		errs = append(errs, FieldError{"account_ids", fmt.Sprintf("at most %d accounts", maxAccounts)})
	}
	return req, errs
}

// decodeJSON decodes one JSON object into v, refusing unknown fields and trailing data,
// and names the field or the place of a problem.
func decodeJSON(body []byte, v any) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			return []FieldError{{Field: "body", Problem: "empty; send a JSON object"}}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return []FieldError{{Field: "body", Problem: "invalid JSON: it ends before the value does"}}
		case errors.As(err, &te) && te.Field == "": // the body itself: a number, a string, an array
			return []FieldError{{Field: "body", Problem: "must be a JSON object"}}
		case errors.As(err, &te):
			return []FieldError{{Field: te.Field, Problem: "must be a " + te.Type.String()}}
		case errors.As(err, &se):
			return []FieldError{{Field: "body", Problem: fmt.Sprintf("invalid JSON at byte %d", se.Offset)}}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if name == "" { // the key "" names no field to point at
				return []FieldError{{Field: "body", Problem: `unknown field ""`}}
			}
			return []FieldError{{Field: name, Problem: "unknown field"}}
		default:
			return []FieldError{{Field: "body", Problem: err.Error()}}
		}
	}
	if dec.More() {
		return []FieldError{{Field: "body", Problem: "more than one JSON value"}}
	}
	return nil
}

// createApplication answers POST /v1/applications: it validates the request, stores the
// application as the authenticated lender's, creates the Stripe customer and session (or
// reuses a returning customer's accounts) and starts the workflow. Every step is
// idempotent, so a retried request resumes where the first stopped and gets the same
// answer. Application ids are the lender's own: another lender's application with the same
// id is another application, never seen from here.
func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxApplicationBody)
	if !ok {
		return
	}
	req, ferrs := decodeApplication(body)
	wait, werr := parseWait(r.URL.Query())
	switch {
	case werr != nil:
		ferrs = append(ferrs, *werr)
	case wait.decision && len(req.AccountIDs) == 0:
		ferrs = append(ferrs, FieldError{"wait", "decision needs account_ids: an applicant who has still to link a bank account cannot be decided within the request"})
	}
	if len(ferrs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", ferrs[0].Field+": "+ferrs[0].Problem, ferrs)
		return
	}
	ctx := r.Context()
	lender := lenderOf(ctx)
	log := s.log().With("lender", lender, "application_id", req.ApplicationID)

	// A returning customer's accounts are checked before anything is stored: a refused
	// request leaves nothing behind.
	returning := ""
	if len(req.AccountIDs) > 0 {
		var ferr *FieldError
		if returning, ferr = s.returningCustomer(ctx, lender, req.AccountIDs); ferr != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", ferr.Field+": "+ferr.Problem, []FieldError{*ferr})
			return
		}
	}

	app, created, ok := s.storeApplication(w, r, log, lender, req)
	if !ok {
		return
	}

	var cus *stripe.Customer
	var sess *stripe.FinancialConnectionsSession
	if returning != "" {
		if err := s.Store.SetApplicationStripeIDs(ctx, app.ID, returning, ""); err != nil {
			log.ErrorContext(ctx, "store stripe ids", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not store the application's Stripe ids", nil)
			return
		}
		cus, sess = &stripe.Customer{ID: returning}, &stripe.FinancialConnectionsSession{}
	} else {
		var ok bool
		if cus, sess, ok = s.linkSession(w, r, log, req, app); !ok {
			return
		}
	}

	var runID string
	var decision tclient.WorkflowUpdateHandle
	var err error
	if wait.decision {
		runID, decision, err = s.startWithDecisionUpdate(ctx, lender, app, req, cus.ID, sess.ID)
	} else {
		runID, err = s.startWorkflow(ctx, lender, app, req, cus.ID, sess.ID)
	}
	if err != nil {
		log.ErrorContext(ctx, "start workflow", "workflow_id", app.WorkflowID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "workflow_unavailable", "could not start underwriting; retry the same request", nil)
		return
	}
	// The row said created until now: the workflow runs. A run that failed before is
	// replaced by the one just started.
	stage := loan.StageAwaitingLink
	if returning != "" {
		stage = loan.StageRefreshing
	}
	if err := s.Store.MarkApplicationStarted(ctx, app.ID, stage); err != nil {
		log.ErrorContext(ctx, "mark application started", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not record the application's start; retry the same request", nil)
		return
	}
	if app.Stage == loan.StageCreated || app.Stage == loan.StageFailed {
		app.Stage = stage
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		log.InfoContext(ctx, "application created", "workflow_id", app.WorkflowID, "customer_id", cus.ID, "fc_session_id", sess.ID)
	}
	out := ApplicationCreated{
		ApplicationID: req.ApplicationID, WorkflowID: app.WorkflowID, RunID: runID, CustomerID: cus.ID,
		SessionID: sess.ID, ClientSecret: sess.ClientSecret, Stage: app.Stage, Created: created,
	}
	if wait.decision {
		var failed bool
		out.Decision, failed = s.awaitDecision(ctx, log, decision, app.ID, wait.timeout)
		switch {
		case out.Decision != nil:
			out.Stage = loan.StageDecided
		case failed:
			out.Stage = loan.StageFailed
		}
	}
	writeJSON(w, status, out)
}

// storeApplication stores the lender's application, or finds the one a first attempt of
// the same request stored. The row comes first, so an application that was accepted is
// never lost, whatever fails after it; every later step is idempotent and a retry of the
// request resumes. The same id with another request is a 409, unless the application
// never started (Stripe refused its request): then the new request replaces it. It
// answers the request itself when it fails.
func (s *Server) storeApplication(w http.ResponseWriter, r *http.Request, log *slog.Logger, lender string, req ApplicationRequest) (store.Application, bool, bool) {
	ctx := r.Context()
	key := loan.ApplicationKey(lender, req.ApplicationID)
	app, created, err := s.Store.CreateApplication(ctx, store.Application{
		ID: key, LenderID: lender, ExternalID: req.ApplicationID, RequestHash: s.requestHash(req),
		LoanAmountMinor: req.LoanAmountMinor, TermMonths: req.TermMonths, Currency: req.Currency,
		WorkflowID: workflows.WorkflowID(key), Stage: loan.StageCreated,
	})
	if errors.Is(err, store.ErrConflict) {
		switch {
		case s.sameRequest(app.RequestHash, req):
			err = nil // a retry; the hash was made with a key being rotated out
		case app.Stage == loan.StageCreated && app.CustomerID == nil:
			app.RequestHash, app.LoanAmountMinor, app.TermMonths, app.Currency = s.requestHash(req), req.LoanAmountMinor, req.TermMonths, req.Currency
			app, err = s.Store.ReplaceUnstartedApplication(ctx, app)
		}
	}
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, "application_conflict",
			"application_id: "+req.ApplicationID+" already exists with a different request body", []FieldError{{"application_id", "already used with a different request body"}})
		return app, false, false
	}
	if err != nil {
		log.ErrorContext(ctx, "store application", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not store the application", nil)
		return app, false, false
	}
	return app, created, true
}

// startWorkflow starts the application's Underwrite workflow, or finds the one already
// started for it, and returns its run id. A workflow that ran to its end already is the
// same application, so it is answered as for a retry.
func (s *Server) startWorkflow(ctx context.Context, lender string, app store.Application, req ApplicationRequest, customerID, sessionID string) (string, error) {
	tctx, tcancel := context.WithTimeout(ctx, temporalTimeout)
	defer tcancel()
	opts, input := s.startRequest(lender, app, req, customerID, sessionID)
	run, err := s.Temporal.ExecuteWorkflow(tctx, opts, workflows.UnderwriteWorkflowName, input)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return run.GetRunID(), nil
	case errors.As(err, &already):
		return already.RunId, nil
	default:
		return "", err
	}
}

// startRequest is how the API starts an application's Underwrite workflow: its options
// and its input.
func (s *Server) startRequest(lender string, app store.Application, req ApplicationRequest, customerID, sessionID string) (tclient.StartWorkflowOptions, workflows.UnderwriteInput) {
	return tclient.StartWorkflowOptions{
			ID:        app.WorkflowID,
			TaskQueue: workflows.TaskQueue,
			// A workflow id runs once, unless its run failed: then the same request starts it
			// again (a decided or running application is answered as for a retry).
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			// What the Web UI shows above the history: ids and the loan, never the applicant.
			StaticSummary: fmt.Sprintf("%s: %d %s (minor units) over %d months", app.ID, req.LoanAmountMinor,
				strings.ToUpper(req.Currency), req.TermMonths),
			StaticDetails: startDetails(lender, app, req, customerID, sessionID),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.SAApplicationID.ValueSet(app.ID),
				workflows.SALender.ValueSet(lender),
				workflows.SAStage.ValueSet(loan.StageAwaitingLink),
			),
		}, workflows.UnderwriteInput{
			ApplicationID: app.ID, Lender: lender, CustomerID: customerID, SessionID: sessionID, AccountIDs: req.AccountIDs,
			LoanAmountMinor: req.LoanAmountMinor, TermMonths: req.TermMonths, Currency: req.Currency,
			LinkTimeout: s.LinkTimeout, ReactivationTimeout: s.ReactivationTimeout,
		}
}

// startDetails are the workflow's static details in the Web UI: who asked for what, and
// the Stripe ids the run waits on (ids only: no name, email or client_secret).
func startDetails(lender string, app store.Application, req ApplicationRequest, customerID, sessionID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lender: %s\napplication: %s\nloan: %d %s (minor units), %d months\ncustomer: %s\n",
		lender, app.ExternalID, req.LoanAmountMinor, req.Currency, req.TermMonths, customerID)
	if len(req.AccountIDs) > 0 {
		fmt.Fprintf(&b, "returning customer, accounts: %s\n", strings.Join(req.AccountIDs, ", "))
	} else {
		fmt.Fprintf(&b, "Financial Connections session: %s\n", sessionID)
	}
	return b.String()
}

// CustomerParams is the Stripe customer the API creates for the application stored under
// key (store.Application.ID). Its idempotency key derives from key, so a retried request
// gets Stripe's stored response: the same customer. Its metadata names the lender and the
// lender's application id.
func CustomerParams(ctx context.Context, key string, req ApplicationRequest) *stripe.CustomerParams {
	lender, _ := loan.SplitApplicationKey(key)
	cp := &stripe.CustomerParams{Metadata: map[string]string{"application_id": req.ApplicationID, "lender": lender}}
	cp.Context = ctx
	cp.SetIdempotencyKey("underwriter/" + key + "/customer")
	if req.Applicant != nil {
		if req.Applicant.Email != "" {
			cp.Email = stripe.String(req.Applicant.Email)
		}
		if req.Applicant.Name != "" {
			cp.Name = stripe.String(req.Applicant.Name)
		}
	}
	return cp
}

// SessionParams is the Financial Connections session the API creates for the application
// stored under key: the customer as account holder, balances and transactions permitted
// and prefetched (so the data is there when the link completes). Its idempotency key
// derives from key, so a retried request gets the same session and client_secret back.
func SessionParams(ctx context.Context, key string, req ApplicationRequest, customerID string) *stripe.FinancialConnectionsSessionParams {
	sp := &stripe.FinancialConnectionsSessionParams{
		AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{
			Type: stripe.String("customer"), Customer: stripe.String(customerID),
		},
		Permissions: stripe.StringSlice([]string{PermissionBalances, PermissionTransactions}),
		Prefetch:    stripe.StringSlice([]string{PermissionBalances, PermissionTransactions}),
	}
	if req.ReturnURL != "" {
		sp.ReturnURL = stripe.String(req.ReturnURL)
	}
	sp.Context = ctx
	sp.SetIdempotencyKey("underwriter/" + key + "/session")
	return sp
}

// Session permissions as Stripe spells them (plural "balances", unlike a refresh's
// singular "balance" feature).
const (
	PermissionBalances     = "balances"
	PermissionTransactions = "transactions"
)

// linkSession creates (or, on a retried request, gets back through Stripe's idempotency)
// the application's customer and Financial Connections session. It answers the request
// itself when Stripe fails.
func (s *Server) linkSession(w http.ResponseWriter, r *http.Request, log *slog.Logger, req ApplicationRequest, app store.Application) (*stripe.Customer, *stripe.FinancialConnectionsSession, bool) {
	ctx := r.Context()
	sctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	if app.CustomerID != nil && app.SessionID != nil {
		// A retried request: the customer and session exist (and the workflow waits on
		// this session). Read the session back for its client_secret rather than rely on
		// Stripe's idempotency keys, which Stripe prunes after 24 hours.
		p := &stripe.FinancialConnectionsSessionParams{}
		p.Context = sctx
		var sess *stripe.FinancialConnectionsSession
		err := retryRateLimited(sctx, func() (err error) {
			sess, err = s.Stripe.FinancialConnectionsSessions.Get(*app.SessionID, p)
			return err
		})
		if err != nil {
			s.stripeFailure(w, r, log, "read financial connections session", err)
			return nil, nil, false
		}
		return &stripe.Customer{ID: *app.CustomerID}, sess, true
	}
	var cus *stripe.Customer
	err := retryRateLimited(sctx, func() (err error) {
		cus, err = s.Stripe.Customers.New(CustomerParams(sctx, app.ID, req))
		return err
	})
	if err != nil {
		s.stripeFailure(w, r, log, "create customer", err)
		return nil, nil, false
	}
	var sess *stripe.FinancialConnectionsSession
	err = retryRateLimited(sctx, func() (err error) {
		sess, err = s.Stripe.FinancialConnectionsSessions.New(SessionParams(sctx, app.ID, req, cus.ID))
		return err
	})
	if err != nil {
		s.stripeFailure(w, r, log, "create financial connections session", err)
		return nil, nil, false
	}
	if err := s.Store.SetApplicationStripeIDs(ctx, app.ID, cus.ID, sess.ID); err != nil {
		log.ErrorContext(ctx, "store stripe ids", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not store the application's Stripe ids", nil)
		return nil, nil, false
	}

	return cus, sess, true
}

// returningCustomer checks that every account was linked before, by an application of the
// same lender and one customer, and returns that customer. Another lender's account is
// answered as one never linked.
func (s *Server) returningCustomer(ctx context.Context, lender string, ids []string) (string, *FieldError) {
	customer := ""
	for i, id := range ids {
		field := fmt.Sprintf("account_ids[%d]", i)
		cus, err := s.Store.LenderAccountCustomer(ctx, lender, id)
		if isNotFound(err) {
			return "", &FieldError{field, "no account " + id + " was linked by an earlier application"}
		}
		if err != nil {
			return "", &FieldError{field, "could not be read; retry"}
		}
		if customer != "" && cus != customer {
			return "", &FieldError{field, "belongs to another customer than account_ids[0]"}
		}
		customer = cus
	}
	return customer, nil
}

// Rate-limit retries inside one API request. stripe-go does not retry Stripe's 429
// rate_limit; a few short waits ride out a burst (Stripe's limits are per second) without
// holding the loan backend's request for long.
const (
	rateLimitAttempts = 4
	rateLimitBackoff  = 250 * time.Millisecond
)

// retryRateLimited calls fn until it succeeds, fails with something other than a 429, or
// rateLimitAttempts are spent, waiting a doubling backoff in between. Retrying is safe:
// every call carries a deterministic idempotency key.
func retryRateLimited(ctx context.Context, fn func() error) error {
	wait := rateLimitBackoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !isRateLimited(err) || attempt == rateLimitAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func isRateLimited(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.HTTPStatusCode == http.StatusTooManyRequests
}

// stripeFailure answers a failed Stripe call, quoting Stripe's request id so the lender can
// quote it to Stripe, by who can fix it:
//   - the request (a Stripe 400, 404 or other 4xx): 400 stripe_invalid_request with Stripe's
//     error code in stripe_code; the same request will fail again;
//   - the operator (a Stripe 401 or 403: our API key is wrong or lacks a permission): 500
//     stripe_auth_failed; retrying cannot help until the key is fixed;
//   - nobody yet (429, 409 idempotency in flight, 5xx, network): 503 with Retry-After for a
//     rate limit, 502 otherwise; every Stripe call is idempotent, so the same request may be
//     retried.
//
// It logs Stripe's status, code and request id only: an error body may echo what the
// applicant sent.
func (s *Server) stripeFailure(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	ctx := r.Context()
	var se *stripe.Error
	if !errors.As(err, &se) {
		log.ErrorContext(ctx, what, "err", err)
		writeError(w, http.StatusBadGateway, "stripe_unavailable", what+" at Stripe failed; retry the same request", nil)
		return
	}
	attrs := []any{"stripe_status", se.HTTPStatusCode, "stripe_code", string(se.Code), "stripe_request_id", se.RequestID}
	switch status := se.HTTPStatusCode; {
	case status == http.StatusTooManyRequests:
		log.WarnContext(ctx, what, attrs...)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "stripe_rate_limited",
			fmt.Sprintf("%s: Stripe is rate limiting (request %s); retry the same request", what, se.RequestID), nil)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		log.ErrorContext(ctx, what+": Stripe refused underwriter's API key", attrs...)
		writeError(w, http.StatusInternalServerError, "stripe_auth_failed",
			fmt.Sprintf("%s: Stripe refused underwriter's API key (%d, request %s); an operator must fix the key, retrying will not help",
				what, status, se.RequestID), nil)
	case status >= http.StatusBadRequest && status < http.StatusInternalServerError && status != http.StatusConflict:
		log.WarnContext(ctx, what+": Stripe refused the request", attrs...)
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: ErrorDetail{
			Code:       "stripe_invalid_request",
			Message:    fmt.Sprintf("%s: Stripe refused the request (%d %s, request %s): %s", what, status, se.Code, se.RequestID, se.Msg),
			StripeCode: string(se.Code),
		}})
	default:
		log.ErrorContext(ctx, what, attrs...)
		writeError(w, http.StatusBadGateway, "stripe_unavailable",
			fmt.Sprintf("%s at Stripe failed (%d, request %s); retry the same request", what, status, se.RequestID), nil)
	}
}
