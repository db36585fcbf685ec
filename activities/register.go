package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// registeredByWorkflow is the request hash of an application row the workflow created:
// one started with the Go client rather than through POST /v1/applications.
const registeredByWorkflow = "started-by-workflow"

// RegisterApplication makes sure the application has its row in Postgres, which accounts,
// snapshots, decisions and webhook routing refer to. A row the API created is left as it
// is; a workflow started directly with the Temporal client creates it here. Idempotent.
//
// A loan outside loan's bounds is a non-retryable ErrTypeInvalidInput: the table's check
// constraints would refuse it on every attempt. Workflows validate their input before
// they get here; this guards runs started before they did.
func (a *Activities) RegisterApplication(ctx context.Context, in RegisterInput) error {
	if err := loan.Validate(loan.Request{AmountMinor: in.LoanAmountMinor, TermMonths: in.TermMonths, Currency: in.Currency}); err != nil {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("register application %s: %v", in.ApplicationID, err), ErrTypeInvalidInput, err)
	}
	lender, external := in.Lender, in.ApplicationID
	if lender == "" {
		lender = store.DevLender
	}
	if k, ext, ok := strings.Cut(in.ApplicationID, "/"); ok && k == lender {
		external = ext
	}
	if err := a.Store.EnsureLender(ctx, lender, ""); err != nil {
		return fmt.Errorf("register application %s: %w", in.ApplicationID, err)
	}
	app := store.Application{
		ID: in.ApplicationID, LenderID: lender, ExternalID: external, RequestHash: registeredByWorkflow, LoanAmountMinor: in.LoanAmountMinor,
		TermMonths: in.TermMonths, Currency: in.Currency, WorkflowID: in.WorkflowID, Stage: loan.StageAwaitingLink,
	}
	if in.CustomerID != "" {
		app.CustomerID = &in.CustomerID
	}
	if in.SessionID != "" {
		app.SessionID = &in.SessionID
	}
	_, created, err := a.Store.CreateApplication(ctx, app)
	switch {
	case errors.Is(err, store.ErrConflict):
		// The API stored it, with the hash of its request body.
		return nil
	case err != nil:
		return fmt.Errorf("register application %s: %w", in.ApplicationID, err)
	}
	if created {
		a.log(ctx).Info("application registered by its workflow", "application_id", in.ApplicationID)
	}
	return nil
}

// RecordFailure stores stage failed and the cause on the application's row, when its
// workflow fails: GET /v1/applications/{id} shows them, and the same request may start the
// application again. A decided application stays decided; a missing row is no error (the
// workflow may fail before registering it). Idempotent.
func (a *Activities) RecordFailure(ctx context.Context, in FailureInput) error {
	if err := a.Store.MarkApplicationFailed(ctx, in.ApplicationID, in.Cause); err != nil {
		return err
	}
	a.log(ctx).Warn("application failed", "application_id", in.ApplicationID)
	return nil
}

// LoanChangeInput is ChangeLoan's input: the application and its new loan amount and
// term (the currency does not change).
type LoanChangeInput struct {
	ApplicationID   string
	LoanAmountMinor int64
	TermMonths      int
}

// ChangeLoan records a loan amount and term the workflow accepted (the change-loan
// update) on the application's row, so GET shows the loan the decision will be made
// for. A decided application is a non-retryable ErrTypeConflict: the workflow accepts
// a change only before it decides, so this means the row and the run disagree.
// Idempotent.
func (a *Activities) ChangeLoan(ctx context.Context, in LoanChangeInput) error {
	err := a.Store.ChangeApplicationLoan(ctx, in.ApplicationID, in.LoanAmountMinor, in.TermMonths)
	if errors.Is(err, store.ErrConflict) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err)
	}
	if err != nil {
		return err
	}
	a.log(ctx).Info("loan changed", "application_id", in.ApplicationID, "loan_amount_minor", in.LoanAmountMinor, "term_months", in.TermMonths)
	return nil
}
