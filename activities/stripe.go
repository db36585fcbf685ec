package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/stripe/stripe-go/v76"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// pageSize is Stripe's maximum list limit; fewer round trips for long histories.
const pageSize = 100

// flushRows is how many transactions SyncTransactions reads before it writes them.
const flushRows = 10 * pageSize

// LinkedAccounts reads the Financial Connections session and records the accounts the
// applicant linked. It returns no accounts while the applicant has not finished.
func (a *Activities) LinkedAccounts(ctx context.Context, in LinkedAccountsInput) (LinkedAccountsResult, error) {
	defer keepAlive(ctx)()
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
		if err := a.upsertAccount(ctx, in.ApplicationID, acct); err != nil {
			return LinkedAccountsResult{}, err
		}
		res.AccountIDs = append(res.AccountIDs, acct.ID)
	}
	sort.Strings(res.AccountIDs)
	a.log(ctx).Info("accounts linked", "application_id", in.ApplicationID, "fc_session_id", in.SessionID, "account_count", len(res.AccountIDs))
	return res, nil
}

// RequestRefresh asks Stripe for a refresh of every active account that has none pending
// and may be refreshed now: of its transactions and balance, or of in.Features alone. A
// refresh of a requested feature already pending brings the data; before
// next_refresh_available_at it uses data that is still fresh or returns RetryAt so that the
// workflow waits. The first attempt asks at once (one request per account: the refresh's
// answer is the account) and, when Stripe refuses because of the account's refresh state
// (pending, not allowed yet, inactive), reads the account and goes by its state: it waits,
// it does not fail. A retry after an unclear failure reads the account first, so it never
// asks twice for the same refresh. Every account state it ends with is stored, with what
// it says about the balance (store.RecordBalanceRead).
func (a *Activities) RequestRefresh(ctx context.Context, in RefreshInput) (RefreshState, error) {
	defer keepAlive(ctx)()
	features := in.features()
	for i, f := range features {
		if f != FeatureTransactions && f != FeatureBalance {
			return RefreshState{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("RefreshInput.Features[%d]: %q is not a refresh feature (want %q or %q)", i, f, FeatureTransactions, FeatureBalance),
				ErrTypeInvalidInput, nil)
		}
	}
	attempt := activity.GetInfo(ctx).Attempt
	var res RefreshState
	for _, id := range in.AccountIDs {
		// The first attempt asks at once: the refresh's answer is the account, and Stripe
		// refuses a refresh that is pending or not allowed yet, which is met below by
		// reading the account and going by its state, as a read first would have. A
		// retry reads first: its earlier attempt may have started the refresh.
		var acct *stripe.FinancialConnectionsAccount
		var state AccountState
		plan, retryAt := planRefresh, time.Time{}
		if attempt > 1 {
			var err error
			if acct, err = a.getAccount(ctx, id); err != nil {
				return RefreshState{}, err
			}
			state = accountState(acct)
			plan, retryAt = a.refreshPlan(acct, features)
			if acct.Status != stripe.FinancialConnectionsAccountStatusActive {
				plan = planUse
			}
		}
		switch plan {
		case planRefresh:
			refreshed, err := a.refresh(ctx, id, features, refreshKey(in.IdempotencyKey, id, attempt))
			if err != nil {
				// Stripe may refuse because a refresh started or ended meanwhile (a
				// subscription, another application of the same customer): re-read and
				// go by the account's state instead of failing.
				// An account deactivated meanwhile is reported as such: the workflow
				// waits for its reactivation or refers the application.
				again, gerr := a.getAccount(ctx, id)
				if gerr != nil {
					// The re-read failed (a 429, a 5xx): retry the activity, which
					// re-reads first. Returning the refusal instead would fail the
					// workflow on a non-retryable AccountInactive when the refusal
					// was only the account turning inactive.
					return RefreshState{}, gerr
				}
				active := again.Status == stripe.FinancialConnectionsAccountStatusActive
				plan, retryAt := a.refreshPlan(again, features)
				if active && plan == planRefresh {
					return RefreshState{}, err
				}
				acct, state = again, accountState(again)
				if active && plan == planWait {
					state.RetryAt = retryAt
				}
				a.log(ctx).Info("refresh refused; going by the account's state", "application_id", in.ApplicationID,
					"fc_account_id", id, "account_status", state.Status, "transaction_refresh_status", state.TransactionRefreshStatus)
				break
			}
			acct, state = refreshed, accountState(refreshed)
			state.Requested = true
			a.log(ctx).Info("refresh requested", "application_id", in.ApplicationID, "fc_account_id", id,
				"features", features, "transaction_refresh_id", state.TransactionRefreshID, "request_id", refreshed.LastResponse.RequestID)
		case planWait:
			state.RetryAt = retryAt
		}
		if err := a.upsertAccount(ctx, in.ApplicationID, acct); err != nil {
			return RefreshState{}, err
		}
		if err := a.recordBalanceRead(ctx, acct); err != nil {
			return RefreshState{}, err
		}
		res.Accounts = append(res.Accounts, state)
	}
	return res, nil
}

func (a *Activities) refresh(ctx context.Context, id string, features []string, key string) (*stripe.FinancialConnectionsAccount, error) {
	p := &stripe.FinancialConnectionsAccountRefreshParams{
		Features: stripe.StringSlice(features),
	}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	acct, err := a.Stripe.FinancialConnectionsAccounts.Refresh(id, p)
	if err != nil {
		return nil, classify("refresh account "+id, err)
	}
	return acct, nil
}

// refreshKey is the Stripe idempotency key of one refresh request: the workflow's key for
// the round, the account, and the activity attempt. Stripe stores a first response under
// its key even when it is a 500 and replays it, so a retry that still finds no refresh
// pending (the account is re-read first) must ask under a new key; a retry that finds one
// pending does not ask at all.
func refreshKey(roundKey, accountID string, attempt int32) string {
	return fmt.Sprintf("%s/%s/%d", roundKey, accountID, attempt)
}

type refreshPlan int

const (
	planRefresh refreshPlan = iota // ask Stripe for a refresh now
	planUse                        // a refresh is pending, or fresh data is there: use it
	planWait                       // stale data and no refresh allowed yet: wait for retryAt
)

// featureRefresh is one refresh feature's state as Stripe reports it (zero times: null).
type featureRefresh struct {
	status        string
	lastAttempted time.Time
	next          time.Time
}

// featureRefreshOf reads the state of one refresh feature of the account.
func featureRefreshOf(acct *stripe.FinancialConnectionsAccount, feature string) featureRefresh {
	var f featureRefresh
	var last, next int64
	switch feature {
	case FeatureTransactions:
		if r := acct.TransactionRefresh; r != nil {
			f.status, last, next = string(r.Status), r.LastAttemptedAt, r.NextRefreshAvailableAt
		}
	case FeatureBalance:
		if r := acct.BalanceRefresh; r != nil {
			f.status, last, next = string(r.Status), r.LastAttemptedAt, r.NextRefreshAvailableAt
		}
	}
	if last > 0 {
		f.lastAttempted = time.Unix(last, 0).UTC()
	}
	if next > 0 {
		f.next = time.Unix(next, 0).UTC()
	}
	return f
}

// refreshPlan follows Stripe's rules for the features asked for: never while one's refresh
// is pending, and not before the latest of their next_refresh_available_at (returned as
// retryAt with planWait). Data is fresh when every feature's last refresh succeeded and
// the transaction refresh (for a balance-only refresh, the balance refresh) was attempted
// within the fresh-data window.
func (a *Activities) refreshPlan(acct *stripe.FinancialConnectionsAccount, features []string) (plan refreshPlan, retryAt time.Time) {
	states := make([]featureRefresh, len(features))
	for i, f := range features {
		states[i] = featureRefreshOf(acct, f)
		if states[i].status == RefreshPending {
			return planUse, time.Time{}
		}
	}
	var next, attempted time.Time
	succeeded := true
	for i, s := range states {
		if s.next.After(next) {
			next = s.next
		}
		if s.status != RefreshSucceeded {
			succeeded = false
		}
		if features[i] == FeatureTransactions || !slices.Contains(features, FeatureTransactions) {
			attempted = s.lastAttempted
		}
	}
	now := a.now()
	if next.IsZero() || !now.Before(next) {
		return planRefresh, time.Time{}
	}
	if succeeded && !attempted.IsZero() && now.Sub(attempted) <= a.freshDataWindow() {
		return planUse, time.Time{}
	}
	return planWait, next
}

// RefreshStatus reads the refresh state of every account.
func (a *Activities) RefreshStatus(ctx context.Context, in RefreshStatusInput) (RefreshState, error) {
	defer keepAlive(ctx)()
	var res RefreshState
	for _, id := range in.AccountIDs {
		acct, err := a.getAccount(ctx, id)
		if err != nil {
			return RefreshState{}, err
		}
		if err := a.recordBalanceRead(ctx, acct); err != nil {
			return RefreshState{}, err
		}
		res.Accounts = append(res.Accounts, accountState(acct))
	}
	return res, nil
}

// StoreBalance stores the account's current balance as Stripe reports it. When the
// account's latest read (by RequestRefresh or RefreshStatus, recorded with
// store.RecordBalanceRead) showed a succeeded balance refresh and returned a balance, that
// balance is already stored and is the current one: the workflow stores the balance after
// its refresh step saw every refresh done, so that read is the refresh's or a later one's
// (reads of an earlier refresh never replace it, and one recorded before the account was
// last stored is not used). Otherwise it reads the account.
func (a *Activities) StoreBalance(ctx context.Context, in BalanceInput) (BalanceResult, error) {
	defer keepAlive(ctx)()
	res := BalanceResult{AccountID: in.AccountID}
	read, current, err := a.Store.LatestBalanceRead(ctx, in.AccountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return BalanceResult{}, fmt.Errorf("read the balance read of %s: %w", in.AccountID, err)
	}
	if current && read.Status == RefreshSucceeded && !read.AttemptedAt.IsZero() && read.Balance != nil {
		res.AsOf, res.Present = read.Balance.AsOf, true
		return res, nil
	}
	acct, err := a.getAccount(ctx, in.AccountID)
	if err != nil {
		return BalanceResult{}, err
	}
	if err := a.recordBalanceRead(ctx, acct); err != nil {
		return BalanceResult{}, err
	}
	bal := balanceOf(acct)
	if bal == nil {
		return res, nil
	}
	if err := a.Store.InsertBalance(ctx, *bal); err != nil {
		return BalanceResult{}, fmt.Errorf("store balance of %s: %w", in.AccountID, err)
	}
	res.AsOf, res.Present = bal.AsOf, true
	return res, nil
}

// balanceOf is the account's balance in its stored form (the first currency in order when
// Stripe reports several), nil when Stripe reports none.
func balanceOf(acct *stripe.FinancialConnectionsAccount) *store.Balance {
	b := acct.Balance
	if b == nil || b.AsOf == 0 || len(b.Current) == 0 {
		return nil
	}
	ccys := make([]string, 0, len(b.Current))
	for c := range b.Current {
		ccys = append(ccys, c)
	}
	sort.Strings(ccys)
	ccy := ccys[0]
	bal := &store.Balance{
		AccountID:    acct.ID,
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
	return bal
}

// recordBalanceRead records what a read of the account said about its balance refresh,
// with the balance it returned, so that StoreBalance need not read it again.
func (a *Activities) recordBalanceRead(ctx context.Context, acct *stripe.FinancialConnectionsAccount) error {
	r := store.BalanceRead{Balance: balanceOf(acct)}
	if br := acct.BalanceRefresh; br != nil {
		r.Status = string(br.Status)
		if br.LastAttemptedAt > 0 {
			r.AttemptedAt = time.Unix(br.LastAttemptedAt, 0).UTC()
		}
	}
	if _, err := a.Store.RecordBalanceRead(ctx, acct.ID, r); err != nil {
		return fmt.Errorf("record the balance read of %s: %w", acct.ID, err)
	}
	return nil
}

// syncCursor is the heartbeat detail of SyncTransactions: a retry resumes after the last
// stored page instead of starting over.
type syncCursor struct {
	// Started says After and Target were read; a retry keeps them.
	Started       bool
	After         string
	Target        string
	StartingAfter string
	Pages         int
	Upserted      int64
}

// SyncTransactions pulls the account's transactions page by page into Postgres. The first
// sync of an account takes everything; later ones only what refreshes after the last fully
// synced one created or changed (transaction_refresh[after]). Pages are upserted by
// Stripe id up to ten at a time in one round trip and then heartbeated, so re-reading a
// page after a retry stores nothing twice.
func (a *Activities) SyncTransactions(ctx context.Context, in SyncInput) (SyncResult, error) {
	var cur syncCursor
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &cur); err != nil {
			cur = syncCursor{}
		}
	}
	if !cur.Started {
		// Only a succeeded refresh moves the cursor: a pending one may still create
		// transactions, and transaction_refresh[after] excludes the refresh it names, so
		// marking a pending refresh synced would lose them for the next sync. A target
		// older than the account's latest succeeded refresh is safe: the next sync reads
		// again what came after it, and upserts store nothing twice.
		if in.TargetKnown {
			cur.Target = in.TargetRefreshID
		} else {
			acct, err := a.getAccount(ctx, in.AccountID)
			if err != nil {
				return SyncResult{}, err
			}
			if r := acct.TransactionRefresh; r != nil && r.Status == stripe.FinancialConnectionsAccountTransactionRefreshStatusSucceeded {
				cur.Target = r.ID
			}
		}
		stored, err := a.Store.GetAccount(ctx, in.AccountID)
		if err != nil {
			return SyncResult{}, fmt.Errorf("read account %s: %w", in.AccountID, err)
		}
		if stored.LastSyncedRefreshID != nil {
			cur.After = *stored.LastSyncedRefreshID
		}
		cur.Started = true
	}
	// Pages are read one after the other but written flushRows at a time: a write is a
	// round trip and a commit, which cost more than the rows themselves, so ten pages
	// cost one instead of ten. The cursor moves, and is heartbeated, only after a write,
	// so a retry reads again at most the pages of one unwritten batch.
	after := cur.StartingAfter
	var pending []store.Transaction
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := a.Store.UpsertTransactions(ctx, pending)
		if err != nil {
			return fmt.Errorf("store transactions for %s up to page %d: %w", in.AccountID, cur.Pages, err)
		}
		cur.Upserted += n
		cur.StartingAfter = pending[len(pending)-1].ID
		pending = pending[:0]
		activity.RecordHeartbeat(ctx, cur)
		return nil
	}
	for {
		p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(in.AccountID)}
		p.Context = ctx
		p.Limit = stripe.Int64(pageSize)
		p.Single = true
		if after != "" {
			p.StartingAfter = stripe.String(after)
		}
		if cur.After != "" {
			p.TransactionRefresh = &stripe.FinancialConnectionsTransactionListTransactionRefreshParams{After: stripe.String(cur.After)}
		}
		it := a.Stripe.FinancialConnectionsTransactions.List(p)
		n := 0
		for it.Next() {
			pending = append(pending, storeTransaction(it.FinancialConnectionsTransaction()))
			n++
		}
		if err := it.Err(); err != nil {
			var se *stripe.Error
			if errors.As(err, &se) && se.Code == stripe.ErrorCodeFinancialConnectionsNoSuccessfulTransactionRefresh {
				// No refresh ever succeeded: there is nothing to read, which scoring sees
				// as missing data, not as a failure of the workflow.
				break
			}
			// Keep what was read before this page: a retry resumes after it.
			if ferr := flush(); ferr != nil {
				return SyncResult{}, ferr
			}
			return SyncResult{}, classify(fmt.Sprintf("list transactions for %s page %d", in.AccountID, cur.Pages+1), err)
		}
		cur.Pages++
		if n > 0 {
			after = pending[len(pending)-1].ID
		}
		last := n == 0 || !it.Meta().HasMore
		if last || len(pending) >= flushRows {
			if err := flush(); err != nil {
				return SyncResult{}, err
			}
		}
		if last {
			break
		}
	}
	if err := flush(); err != nil {
		return SyncResult{}, err
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
	a.log(ctx).Info("transactions synced", "application_id", in.ApplicationID, "fc_account_id", in.AccountID,
		"pages", cur.Pages, "txn_upserted", cur.Upserted, "txn_count", stored)
	return SyncResult{AccountID: in.AccountID, Pages: cur.Pages, Upserted: cur.Upserted, Stored: stored, RefreshID: cur.Target}, nil
}

// upsertAccount stores the account for the application. An account already stored for
// another customer cannot be fixed by retrying: that error is non-retryable.
func (a *Activities) upsertAccount(ctx context.Context, applicationID string, acct *stripe.FinancialConnectionsAccount) error {
	err := a.Store.UpsertAccount(ctx, storeAccount(applicationID, acct))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("store account %s: %v", acct.ID, err), ErrTypeConflict, err)
	default:
		return fmt.Errorf("store account %s: %w", acct.ID, err)
	}
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
		if r.LastAttemptedAt > 0 {
			s.LastAttemptedAt = time.Unix(r.LastAttemptedAt, 0).UTC()
		}
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
