package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/loan"
)

// LoanChange is the argument and the answer of UpdateChangeLoan: the loan's new amount
// (minor units) and term. The currency does not change.
type LoanChange struct {
	LoanAmountMinor int64
	TermMonths      int
}

// The updates are handlers, not commands: registering them changes no command
// sequence, and a run that receives none replays as before, so no workflow.GetVersion
// guards them. A run that receives them records the update's events and, for a loan
// change, the ChangeLoan activity.

// setUpdateHandlers registers UpdateDecision and UpdateChangeLoan. setup calls it in the
// first workflow task, so an update sent with the start (Update-with-Start) finds them.
func (u *underwriting) setUpdateHandlers(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecision, u.awaitDecision, workflow.UpdateHandlerOptions{
		Description: "completes with the decision once it is recorded",
	}); err != nil {
		return fmt.Errorf("set %s update handler: %w", UpdateDecision, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateChangeLoan, u.changeLoan, workflow.UpdateHandlerOptions{
		Validator:   u.validateLoanChange,
		Description: "changes the loan's amount and term while the application waits for its link or refresh",
	}); err != nil {
		return fmt.Errorf("set %s update handler: %w", UpdateChangeLoan, err)
	}
	return nil
}

// awaitDecision is UpdateDecision's handler: it waits for the run to end, and answers its
// decision, or the run's failure.
func (u *underwriting) awaitDecision(ctx workflow.Context) (UnderwriteResult, error) {
	if err := workflow.Await(ctx, func() bool { return u.ended }); err != nil {
		return UnderwriteResult{}, err
	}
	if u.endErr != nil {
		return UnderwriteResult{}, temporal.NewNonRetryableApplicationError(FailureCause(u.endErr), ErrTypeApplicationFailed, nil)
	}
	return u.result, nil
}

// validateLoanChange refuses a loan change, before anything is written to history, once
// the run has gone past the refresh (its data is being scored for the loan asked for),
// for a loan outside loan's bounds (the error's details hold the []*loan.FieldError, as
// for the workflow's input), or while another change is being recorded.
func (u *underwriting) validateLoanChange(ctx workflow.Context, c LoanChange) error {
	switch stage := u.status.Stage; stage {
	case "", loan.StageCreated, loan.StageAwaitingLink, loan.StageRefreshing:
	default:
		return temporal.NewApplicationError(fmt.Sprintf(
			"the application is at stage %s: its loan may change only while it waits for its link or refresh", stage), ErrTypeTooLate)
	}
	currency := u.in.Currency
	if currency == "" {
		currency = loan.DefaultCurrency
	}
	fields := loan.FieldErrors(loan.Validate(loan.Request{AmountMinor: c.LoanAmountMinor, TermMonths: c.TermMonths, Currency: currency}))
	if len(fields) == 0 {
		if u.changing {
			return temporal.NewApplicationError("another change of the loan is being recorded; retry when it has answered", ErrTypeChangeInProgress)
		}
		return nil
	}
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Error()
	}
	return temporal.NewApplicationError("loan change: "+strings.Join(msgs, "; "), ErrTypeInvalidInput, fields)
}

// changeLoan is UpdateChangeLoan's handler: it records the new loan on the application's
// row, then makes it the loan the run decides for. The decision waits for a change being
// recorded (awaitLoanChange), so a change accepted during the refresh is never lost.
func (u *underwriting) changeLoan(ctx workflow.Context, c LoanChange) (LoanChange, error) {
	u.changing = true
	defer func() { u.changing = false }()
	summary := fmt.Sprintf("change the loan to %d %s (minor units) over %d months", c.LoanAmountMinor, strings.ToUpper(u.in.Currency), c.TermMonths)
	if err := workflow.ExecuteActivity(summarized(dbOptions(ctx), summary), acts.ChangeLoan, activities.LoanChangeInput{
		ApplicationID: u.in.ApplicationID, LoanAmountMinor: c.LoanAmountMinor, TermMonths: c.TermMonths,
	}).Get(ctx, nil); err != nil {
		return LoanChange{}, fmt.Errorf("record the changed loan: %w", err)
	}
	u.in.LoanAmountMinor, u.in.TermMonths = c.LoanAmountMinor, c.TermMonths
	workflow.GetLogger(ctx).Info("loan changed", "application_id", u.in.ApplicationID)
	return c, nil
}

// awaitLoanChange waits until no loan change is being recorded. Without one (every run
// before the update existed) it returns at once and issues no command.
func (u *underwriting) awaitLoanChange(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !u.changing })
}

// finish ends the run: it makes res and err what UpdateDecision answers, then waits for
// the update handlers still running (an UpdateDecision sent just now answers before the
// run completes). Without an update it issues no command.
func (u *underwriting) finish(ctx workflow.Context, res UnderwriteResult, err error) {
	u.ended, u.result, u.endErr = true, res, err
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}
