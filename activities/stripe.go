package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/activity"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// pageSize is Stripe's maximum list limit; fewer round trips for long histories.
const pageSize = 100

// LinkedAccounts reads the Financial Connections session and records the accounts the
// applicant linked. It returns no accounts while the applicant has not finished.
func (a *Activities) LinkedAccounts(ctx context.Context, in LinkedAccountsInput) (LinkedAccountsResult, error) {
	p := &stripe.FinancialConnectionsSessionParams{}
	p.Context = ctx
	sess, err := a.Stripe.FinancialConnectionsSessions.Get(in.SessionID, p)
	if err != nil {
		return LinkedAccountsResult{}, classify("get session "+in.SessionID, err)
	}
	var res LinkedAccountsResult
	if sess.Accounts == nil {
		return res, nil
	}
	for _, acct := range sess.Accounts.Data {
		if err := a.Store.UpsertAccount(ctx, storeAccount(in.ApplicationID, acct)); err != nil {
			return LinkedAccountsResult{}, fmt.Errorf("store account %s: %w", acct.ID, err)
		}
		res.AccountIDs = append(res.AccountIDs, acct.ID)
	}
	sort.Strings(res.AccountIDs)
	a.log().InfoContext(ctx, "accounts linked", "application_id", in.ApplicationID, "fc_session_id", in.SessionID, "account_count", len(res.AccountIDs))
	return res, nil
}

// RequestRefresh asks Stripe for a transactions and balance refresh of every active account
// that has none pending and may be refreshed now. A retry after an unclear failure re-reads
// the account first, so it never asks twice for the same refresh.
func (a *Activities) RequestRefresh(ctx context.Context, in RefreshInput) (RefreshState, error) {
	var res RefreshState
	for _, id := range in.AccountIDs {
		acct, err := a.getAccount(ctx, id)
		if err != nil {
			return RefreshState{}, err
		}
		state := accountState(acct)
		if acct.Status == stripe.FinancialConnectionsAccountStatusActive && a.mayRefresh(state) {
			p := &stripe.FinancialConnectionsAccountRefreshParams{
				Features: stripe.StringSlice([]string{FeatureTransactions, FeatureBalance}),
			}
			p.Context = ctx
			p.SetIdempotencyKey(in.IdempotencyKey + "/" + id)
			acct, err = a.Stripe.FinancialConnectionsAccounts.Refresh(id, p)
			if err != nil {
				return RefreshState{}, classify("refresh account "+id, err)
			}
			state = accountState(acct)
			a.log().InfoContext(ctx, "refresh requested", "application_id", in.ApplicationID, "fc_account_id", id,
				"transaction_refresh_id", state.TransactionRefreshID, "request_id", acct.LastResponse.RequestID)
		}
		if err := a.Store.UpsertAccount(ctx, storeAccount(in.ApplicationID, acct)); err != nil {
			return RefreshState{}, fmt.Errorf("store account %s: %w", id, err)
		}
		res.Accounts = append(res.Accounts, state)
	}
	return res, nil
}

// mayRefresh follows Stripe's rules: never while a refresh is pending, and not before
// next_refresh_available_at. When a refresh may not start yet, the data Stripe holds is
// from a refresh that ended moments ago and is used as it is.
func (a *Activities) mayRefresh(s AccountState) bool {
	if s.TransactionRefreshStatus == RefreshPending || s.BalanceRefreshStatus == RefreshPending {
		return false
	}
	return s.NextRefreshAvailableAt.IsZero() || !a.now().Before(s.NextRefreshAvailableAt)
}

// RefreshStatus reads the refresh state of every account.
func (a *Activities) RefreshStatus(ctx context.Context, in RefreshStatusInput) (RefreshState, error) {
	var res RefreshState
	for _, id := range in.AccountIDs {
		acct, err := a.getAccount(ctx, id)
		if err != nil {
			return RefreshState{}, err
		}
		res.Accounts = append(res.Accounts, accountState(acct))
	}
	return res, nil
}

// StoreBalance stores the account's current balance as Stripe reports it.
func (a *Activities) StoreBalance(ctx context.Context, in BalanceInput) (BalanceResult, error) {
	acct, err := a.getAccount(ctx, in.AccountID)
	if err != nil {
		return BalanceResult{}, err
	}
	res := BalanceResult{AccountID: in.AccountID}
	b := acct.Balance
	if b == nil || b.AsOf == 0 || len(b.Current) == 0 {
		return res, nil
	}
	ccys := make([]string, 0, len(b.Current))
	for c := range b.Current {
		ccys = append(ccys, c)
	}
	sort.Strings(ccys)
	ccy := ccys[0]
	bal := store.Balance{
		AccountID:    in.AccountID,
		AsOf:         time.Unix(b.AsOf, 0).UTC(),
		CurrentMinor: scoring.SignedAmount(b.Current[ccy]),
		Currency:     ccy,
		Type:         string(b.Type),
	}
	if b.Cash != nil {
		if v, ok := b.Cash.Available[ccy]; ok {
			bal.AvailableMinor = &v
		}
	}
	if err := a.Store.InsertBalance(ctx, bal); err != nil {
		return BalanceResult{}, fmt.Errorf("store balance of %s: %w", in.AccountID, err)
	}
	res.AsOf, res.Present = bal.AsOf, true
	return res, nil
}

// syncCursor is the heartbeat detail of SyncTransactions: a retry resumes after the last
// stored page instead of starting over.
type syncCursor struct {
	After         string
	Target        string
	StartingAfter string
	Pages         int
	Upserted      int64
}

// SyncTransactions pulls the account's transactions page by page into Postgres. The first
// sync of an account takes everything; later ones only what refreshes after the last fully
// synced one created or changed (transaction_refresh[after]). Each page is upserted by
// Stripe id in one round trip and then heartbeated, so re-reading a page after a retry
// stores nothing twice.
func (a *Activities) SyncTransactions(ctx context.Context, in SyncInput) (SyncResult, error) {
	var cur syncCursor
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &cur); err != nil {
			cur = syncCursor{}
		}
	}
	if cur.Target == "" {
		acct, err := a.getAccount(ctx, in.AccountID)
		if err != nil {
			return SyncResult{}, err
		}
		if acct.TransactionRefresh != nil {
			cur.Target = acct.TransactionRefresh.ID
		}
		stored, err := a.Store.GetAccount(ctx, in.AccountID)
		if err != nil {
			return SyncResult{}, fmt.Errorf("read account %s: %w", in.AccountID, err)
		}
		if stored.LastSyncedRefreshID != nil {
			cur.After = *stored.LastSyncedRefreshID
		}
	}
	for {
		p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(in.AccountID)}
		p.Context = ctx
		p.Limit = stripe.Int64(pageSize)
		p.Single = true
		if cur.StartingAfter != "" {
			p.StartingAfter = stripe.String(cur.StartingAfter)
		}
		if cur.After != "" {
			p.TransactionRefresh = &stripe.FinancialConnectionsTransactionListTransactionRefreshParams{After: stripe.String(cur.After)}
		}
		it := a.Stripe.FinancialConnectionsTransactions.List(p)
		var page []store.Transaction
		for it.Next() {
			page = append(page, storeTransaction(it.FinancialConnectionsTransaction()))
		}
		if err := it.Err(); err != nil {
			var se *stripe.Error
			if errors.As(err, &se) && se.Code == stripe.ErrorCodeFinancialConnectionsNoSuccessfulTransactionRefresh {
				// No refresh ever succeeded: there is nothing to read, which scoring sees
				// as missing data, not as a failure of the workflow.
				break
			}
			return SyncResult{}, classify(fmt.Sprintf("list transactions for %s page %d", in.AccountID, cur.Pages+1), err)
		}
		if len(page) > 0 {
			n, err := a.Store.UpsertTransactions(ctx, page)
			if err != nil {
				return SyncResult{}, fmt.Errorf("store transactions for %s page %d: %w", in.AccountID, cur.Pages+1, err)
			}
			cur.Upserted += n
			cur.StartingAfter = page[len(page)-1].ID
		}
		cur.Pages++
		activity.RecordHeartbeat(ctx, cur)
		if len(page) == 0 || !it.Meta().HasMore {
			break
		}
	}
	if cur.Target != "" {
		if err := a.Store.SetAccountSyncedRefresh(ctx, in.AccountID, cur.Target); err != nil {
			return SyncResult{}, fmt.Errorf("mark %s synced: %w", in.AccountID, err)
		}
	}
	stored, err := a.Store.CountTransactions(ctx, in.AccountID)
	if err != nil {
		return SyncResult{}, fmt.Errorf("count transactions of %s: %w", in.AccountID, err)
	}
	a.log().InfoContext(ctx, "transactions synced", "application_id", in.ApplicationID, "fc_account_id", in.AccountID,
		"pages", cur.Pages, "txn_upserted", cur.Upserted, "txn_count", stored)
	return SyncResult{AccountID: in.AccountID, Pages: cur.Pages, Upserted: cur.Upserted, Stored: stored, RefreshID: cur.Target}, nil
}

func (a *Activities) getAccount(ctx context.Context, id string) (*stripe.FinancialConnectionsAccount, error) {
	p := &stripe.FinancialConnectionsAccountParams{}
	p.Context = ctx
	acct, err := a.Stripe.FinancialConnectionsAccounts.GetByID(id, p)
	if err != nil {
		return nil, classify("get account "+id, err)
	}
	return acct, nil
}

func accountState(acct *stripe.FinancialConnectionsAccount) AccountState {
	s := AccountState{AccountID: acct.ID, Status: string(acct.Status)}
	if r := acct.TransactionRefresh; r != nil {
		s.TransactionRefreshID = r.ID
		s.TransactionRefreshStatus = string(r.Status)
		if r.NextRefreshAvailableAt > 0 {
			s.NextRefreshAvailableAt = time.Unix(r.NextRefreshAvailableAt, 0).UTC()
		}
	}
	if r := acct.BalanceRefresh; r != nil {
		s.BalanceRefreshStatus = string(r.Status)
		if r.NextRefreshAvailableAt > 0 {
			t := time.Unix(r.NextRefreshAvailableAt, 0).UTC()
			if t.After(s.NextRefreshAvailableAt) {
				s.NextRefreshAvailableAt = t
			}
		}
	}
	return s
}

func storeAccount(applicationID string, acct *stripe.FinancialConnectionsAccount) store.Account {
	a := store.Account{
		ID:              acct.ID,
		ApplicationID:   applicationID,
		Category:        string(acct.Category),
		Subcategory:     string(acct.Subcategory),
		Status:          string(acct.Status),
		InstitutionName: acct.InstitutionName,
	}
	if acct.AccountHolder != nil && acct.AccountHolder.Customer != nil {
		a.CustomerID = acct.AccountHolder.Customer.ID
	}
	if acct.Balance != nil {
		for c := range acct.Balance.Current {
			if a.Currency == "" || c < a.Currency {
				a.Currency = c
			}
		}
	}
	return a
}

// storeTransaction converts a Stripe transaction to its stored form; the amount's sign goes
// through scoring.SignedAmount, the one place that knows Stripe's convention.
func storeTransaction(t *stripe.FinancialConnectionsTransaction) store.Transaction {
	st := store.Transaction{
		ID:                 t.ID,
		AccountID:          t.Account,
		AmountMinor:        scoring.SignedAmount(t.Amount),
		Currency:           string(t.Currency),
		Description:        t.Description,
		Status:             string(t.Status),
		TransactedAt:       time.Unix(t.TransactedAt, 0).UTC(),
		TransactionRefresh: t.TransactionRefresh,
		StripeUpdatedAt:    time.Unix(t.Updated, 0).UTC(),
	}
	if tr := t.StatusTransitions; tr != nil {
		if tr.PostedAt > 0 {
			v := time.Unix(tr.PostedAt, 0).UTC()
			st.PostedAt = &v
		}
		if tr.VoidAt > 0 {
			v := time.Unix(tr.VoidAt, 0).UTC()
			st.VoidAt = &v
		}
	}
	return st
}
