package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/activities"
)

// refresh requests a transactions and balance refresh of every account and waits until
// none is pending, woken by refresh webhooks and, when they never come, by a durable
// polling timer with a doubling delay. From version 1 of changeRefreshWaits it also waits
// when Stripe does not allow a refresh yet and the data is stale, and waits for an
// inactive account to be reactivated; stale says the data could not be refreshed in time.
func (u *underwriting) refresh(ctx workflow.Context, accounts []string) (states []activities.AccountState, stale bool, err error) {
	round := 1
	if states, err = u.requestRefresh(ctx, accounts, round); err != nil {
		return nil, false, err
	}
	v := workflow.GetVersion(ctx, changeRefreshWaits, workflow.DefaultVersion, 1)
	carry := workflow.GetVersion(ctx, changeCarryRetryAt, workflow.DefaultVersion, 1) == 1
	retryDeadline := workflow.Now(ctx).Add(MaxRefreshDelay)
	reactivationDeadline := workflow.Now(ctx).Add(u.reactivationTimeout())
	for {
		requested := states
		if states, err = u.awaitRefresh(ctx, accounts, states); err != nil {
			return nil, false, err
		}
		if carry {
			// RefreshStatus reads carry no RetryAt: keep RequestRefresh's for the accounts
			// it could not refresh yet.
			states = withRetryAt(states, requested)
		}
		if v == workflow.DefaultVersion {
			return states, false, nil
		}
		if round >= maxRefreshRounds {
			return states, hasRetryAt(states), nil
		}
		if retryAt := latestRetryAt(states); !retryAt.IsZero() {
			// Stripe allows no refresh yet and the data it holds is stale: wait, then ask.
			if retryAt.After(retryDeadline) {
				return states, true, nil
			}
			if err := workflow.Sleep(ctx, retryAt.Sub(workflow.Now(ctx))); err != nil {
				return nil, false, err
			}
		} else if inactive := inactiveAccounts(states); len(inactive) > 0 {
			reactivated, err := u.awaitReactivation(ctx, accounts, reactivationDeadline)
			if err != nil {
				return nil, false, err
			}
			if !reactivated {
				return u.status.Refresh, false, nil
			}
		} else {
			return states, false, nil
		}
		round++
		if states, err = u.requestRefresh(ctx, accounts, round); err != nil {
			return nil, false, err
		}
	}
}

// requestRefresh asks for refresh round n. The idempotency key names the workflow and the
// round, so it is stable across activity retries and worker restarts but differs between
// applications and rounds.
func (u *underwriting) requestRefresh(ctx workflow.Context, accounts []string, round int) ([]activities.AccountState, error) {
	var state activities.RefreshState
	key := fmt.Sprintf("%s/refresh/%d", workflow.GetInfo(ctx).WorkflowExecution.ID, round)
	if err := workflow.ExecuteActivity(summarized(stripeOptions(ctx), fmt.Sprintf("request refresh %d of %d accounts", round, len(accounts))), acts.RequestRefresh, activities.RefreshInput{
		ApplicationID: u.in.ApplicationID, AccountIDs: accounts, IdempotencyKey: key,
	}).Get(ctx, &state); err != nil {
		return nil, fmt.Errorf("request refresh round %d: %w", round, err)
	}
	u.status.Refresh = state.Accounts
	return state.Accounts, nil
}

// awaitRefresh waits until no active account has a pending refresh, or RefreshTimeout. A
// refresh webhook or an account-status signal wakes it at once; without them it polls,
// the delay doubling from RefreshFirstPoll up to RefreshMaxPoll.
func (u *underwriting) awaitRefresh(ctx workflow.Context, accounts []string, states []activities.AccountState) ([]activities.AccountState, error) {
	deadline := workflow.Now(ctx).Add(RefreshTimeout)
	poll := RefreshFirstPoll
	for !allDone(states) {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return states, nil
		}
		pause := min(poll, remaining)
		detail(ctx, "refresh pending at Stripe since %s; waiting for its webhook, polling in %s", at(deadline.Add(-RefreshTimeout)), pause)
		if !wait(ctx, pause, "wait for the refresh webhook, at most "+pause.String(), u.refreshed, u.statusCh) {
			poll = min(2*poll, RefreshMaxPoll)
		}
		var err error
		if states, err = u.readRefreshStatus(ctx, accounts); err != nil {
			return nil, err
		}
	}
	return states, nil
}

// awaitReactivation waits until every inactive account is active again (the
// account-status signal from the reactivated webhook, or a poll), or the deadline passes.
// Disconnected accounts never come back: the applicant must link again.
func (u *underwriting) awaitReactivation(ctx workflow.Context, accounts []string, deadline time.Time) (bool, error) {
	for {
		states := u.status.Refresh
		if len(inactiveAccounts(states)) == 0 {
			return true, nil
		}
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 || anyDisconnected(states) {
			return false, nil
		}
		detail(ctx, "an account is inactive at its bank; waiting for its reactivation until %s", at(deadline))
		wait(ctx, min(LinkPollInterval, remaining), "wait for reactivation", u.statusCh)
		if _, err := u.readRefreshStatus(ctx, accounts); err != nil {
			return false, err
		}
	}
}

// readRefreshStatus reads every account's refresh state from Stripe and keeps it for the
// status query.
func (u *underwriting) readRefreshStatus(ctx workflow.Context, accounts []string) ([]activities.AccountState, error) {
	var state activities.RefreshState
	if err := workflow.ExecuteActivity(summarized(stripeOptions(ctx), "read the refresh status"), acts.RefreshStatus, activities.RefreshStatusInput{
		AccountIDs: accounts,
	}).Get(ctx, &state); err != nil {
		return nil, fmt.Errorf("read refresh status: %w", err)
	}
	u.status.Refresh = state.Accounts
	return state.Accounts, nil
}

// reactivationTimeout is the input's ReactivationTimeout, or DefaultReactivationTimeout.
func (u *underwriting) reactivationTimeout() time.Duration {
	if u.in.ReactivationTimeout > 0 {
		return u.in.ReactivationTimeout
	}
	return DefaultReactivationTimeout
}

// withRetryAt copies each account's RetryAt from requested into states.
func withRetryAt(states, requested []activities.AccountState) []activities.AccountState {
	out := append([]activities.AccountState(nil), states...)
	for i := range out {
		for _, r := range requested {
			if r.AccountID == out[i].AccountID && out[i].RetryAt.IsZero() {
				out[i].RetryAt = r.RetryAt
			}
		}
	}
	return out
}

// latestRetryAt is the latest RetryAt of the active accounts: when Stripe allows every
// refresh the workflow waits for. Zero when none waits.
func latestRetryAt(states []activities.AccountState) time.Time {
	var t time.Time
	for _, s := range states {
		if s.Active() && s.RetryAt.After(t) {
			t = s.RetryAt
		}
	}
	return t
}

// hasRetryAt reports whether an active account still waits for a refresh to be allowed.
func hasRetryAt(states []activities.AccountState) bool { return !latestRetryAt(states).IsZero() }

// inactiveAccounts lists the accounts that are not active (inactive or disconnected).
func inactiveAccounts(states []activities.AccountState) []string {
	var ids []string
	for _, s := range states {
		if !s.Active() {
			ids = append(ids, s.AccountID)
		}
	}
	return ids
}

// anyDisconnected reports whether an account is disconnected, which only a new link cures.
func anyDisconnected(states []activities.AccountState) bool {
	for _, s := range states {
		if s.Status == "disconnected" {
			return true
		}
	}
	return false
}

// allDone reports whether no active account has a refresh pending.
func allDone(states []activities.AccountState) bool {
	for _, s := range states {
		if s.Status == "active" && !s.Done() {
			return false
		}
	}
	return true
}
