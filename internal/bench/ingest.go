package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// Names of the ingest section's figures.
const (
	FigureIngestVsCopy    = "ingest_vs_copy"
	FigureIngestTxnsPerS  = "ingest_txns_per_s"
	FigureCopyTxnsPerS    = "copy_txns_per_s"
	TargetIngestVsCopy    = 0.5
	ingestPersona         = "steady_salaried"
	ingestCopyTable       = "bench_ingest_copy"
	defaultIngestAccounts = 40
)

// IngestSection compares the sync activity (Stripe pages of 100 over HTTP from the
// sandbox, rate limit off, upserted into Postgres) with a plain pgx CopyFrom of the same
// rows into an empty table of the same shape (its indexes included).
type IngestSection struct {
	Accounts     int `json:"accounts"`
	Transactions int `json:"transactions"`
	Pages        int `json:"pages"`
	// SyncSeconds is the wall time of activities.SyncTransactions over every account,
	// one after the other; CopySeconds of the CopyFrom of the same rows.
	SyncSeconds float64 `json:"sync_s"`
	// ListSeconds is the wall time of reading the same pages from the sandbox over HTTP
	// alone, without storing them: the part of SyncSeconds that is not Postgres.
	ListSeconds float64 `json:"list_s"`
	CopySeconds float64 `json:"copy_s"`
	// SyncTxnsPerSecond and CopyTxnsPerSecond are Transactions over those times;
	// IngestVsCopy the first over the second (target ≥ 0.5).
	SyncTxnsPerSecond float64 `json:"sync_txns_per_s"`
	CopyTxnsPerSecond float64 `json:"copy_txns_per_s"`
	IngestVsCopy      float64 `json:"ingest_vs_copy"`
}

// measureIngest links accounts sandbox accounts of one persona (transactions prefetched
// at the link, so no refresh is needed), records them as LinkedAccounts does, then times
// SyncTransactions over all of them and a CopyFrom of the rows it stored.
func measureIngest(ctx context.Context, st *devstack.Stack, accounts int) (IngestSection, error) {
	sc := wiring.NewStripe(wiring.StripeConfig{SecretKey: st.APIKey, APIBase: st.SandboxURL}, slog.New(slog.DiscardHandler))
	acts := &activities.Activities{Stripe: sc, Store: st.Store, BuildVersion: "bench"}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	run := fmt.Sprintf("bench-ingest-%d", time.Now().UnixNano())

	var syncs []activities.SyncInput
	for i := range accounts {
		appID := fmt.Sprintf("%s-%d", run, i)
		cus, err := sc.Customers.New(&stripe.CustomerParams{Params: stripe.Params{Context: ctx}})
		if err != nil {
			return IngestSection{}, fmt.Errorf("ingest: create customer: %w", err)
		}
		sess, err := sc.FinancialConnectionsSessions.New(&stripe.FinancialConnectionsSessionParams{
			Params: stripe.Params{Context: ctx},
			AccountHolder: &stripe.FinancialConnectionsSessionAccountHolderParams{
				Type: stripe.String("customer"), Customer: stripe.String(cus.ID)},
			Permissions: stripe.StringSlice([]string{"balances", "transactions"}),
			Prefetch:    stripe.StringSlice([]string{"balances", "transactions"}),
		})
		if err != nil {
			return IngestSection{}, fmt.Errorf("ingest: create session: %w", err)
		}
		if _, _, err := st.Store.CreateApplication(ctx, store.Application{ID: appID, RequestHash: "bench",
			LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd", WorkflowID: "bench/" + appID}); err != nil {
			return IngestSection{}, fmt.Errorf("ingest: %w", err)
		}
		if err := st.Store.SetApplicationStripeIDs(ctx, appID, cus.ID, sess.ID); err != nil {
			return IngestSection{}, fmt.Errorf("ingest: %w", err)
		}
		if _, err := fcsandbox.CompleteLink(ctx, http.DefaultClient, st.SandboxURL, sess.ClientSecret, ingestPersona); err != nil {
			return IngestSection{}, fmt.Errorf("ingest: link: %w", err)
		}
		v, err := env.ExecuteActivity(acts.LinkedAccounts, activities.LinkedAccountsInput{ApplicationID: appID, SessionID: sess.ID})
		if err != nil {
			return IngestSection{}, fmt.Errorf("ingest: linked accounts: %w", err)
		}
		var linked activities.LinkedAccountsResult
		if err := v.Get(&linked); err != nil {
			return IngestSection{}, err
		}
		// The workflow reads the refresh state before it syncs and passes the succeeded
		// refresh to the sync (SyncInput.TargetKnown); so does the bench, untimed.
		v, err = env.ExecuteActivity(acts.RefreshStatus, activities.RefreshStatusInput(linked))
		if err != nil {
			return IngestSection{}, fmt.Errorf("ingest: refresh status: %w", err)
		}
		var rs activities.RefreshState
		if err := v.Get(&rs); err != nil {
			return IngestSection{}, err
		}
		for _, a := range rs.Accounts {
			in := activities.SyncInput{ApplicationID: appID, AccountID: a.AccountID, TargetKnown: true}
			if a.TransactionRefreshStatus == activities.RefreshSucceeded {
				in.TargetRefreshID = a.TransactionRefreshID
			}
			syncs = append(syncs, in)
		}
	}

	s := IngestSection{Accounts: len(syncs)}
	ids := make([]string, len(syncs))
	start := time.Now()
	for i, in := range syncs {
		id := in.AccountID
		ids[i] = id
		v, err := env.ExecuteActivity(acts.SyncTransactions, in)
		if err != nil {
			return IngestSection{}, fmt.Errorf("ingest: sync %s: %w", id, err)
		}
		var res activities.SyncResult
		if err := v.Get(&res); err != nil {
			return IngestSection{}, err
		}
		if int64(res.Stored) != res.Upserted {
			return IngestSection{}, fmt.Errorf("ingest: sync %s stored %d transactions but upserted %d", id, res.Stored, res.Upserted)
		}
		s.Transactions += res.Stored
		s.Pages += res.Pages
	}
	s.SyncSeconds = time.Since(start).Seconds()

	start = time.Now()
	listed := 0
	for _, id := range ids {
		n, err := listAll(ctx, sc, id)
		if err != nil {
			return IngestSection{}, err
		}
		listed += n
	}
	s.ListSeconds = time.Since(start).Seconds()
	if listed != s.Transactions {
		return IngestSection{}, fmt.Errorf("ingest: listed %d transactions, synced %d", listed, s.Transactions)
	}

	copySeconds, n, err := copyTransactions(ctx, st, ids)
	if err != nil {
		return IngestSection{}, err
	}
	if n != s.Transactions {
		return IngestSection{}, fmt.Errorf("ingest: copied %d rows, synced %d", n, s.Transactions)
	}
	s.CopySeconds = copySeconds
	s.SyncTxnsPerSecond = float64(s.Transactions) / s.SyncSeconds
	s.CopyTxnsPerSecond = float64(s.Transactions) / s.CopySeconds
	s.IngestVsCopy = s.SyncTxnsPerSecond / s.CopyTxnsPerSecond
	return s, nil
}

// copyTransactions reads the accounts' stored transactions (untimed) and times a CopyFrom
// of them into an empty table like transactions (its indexes included), the cheapest way
// to put the same rows into Postgres; the table is dropped afterwards.
func copyTransactions(ctx context.Context, st *devstack.Stack, ids []string) (float64, int, error) {
	var rows [][]any
	for _, id := range ids {
		ts, err := st.Store.ListTransactions(ctx, id)
		if err != nil {
			return 0, 0, fmt.Errorf("ingest: %w", err)
		}
		for _, t := range ts {
			rows = append(rows, []any{t.ID, t.AccountID, t.AmountMinor, t.Currency, t.Description, t.Status,
				t.TransactedAt, t.PostedAt, t.VoidAt, t.TransactionRefresh, t.StripeUpdatedAt})
		}
	}
	conn, err := st.Pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `drop table if exists `+ingestCopyTable+`;
		create table `+ingestCopyTable+` (like transactions including defaults including indexes)`); err != nil {
		return 0, 0, fmt.Errorf("ingest: create copy table: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `drop table if exists `+ingestCopyTable) //nolint:errcheck
	cols := []string{"id", "account_id", "amount_minor", "currency", "description", "status",
		"transacted_at", "posted_at", "void_at", "transaction_refresh", "stripe_updated_at"}
	start := time.Now()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{ingestCopyTable}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, 0, fmt.Errorf("ingest: copy: %w", err)
	}
	return time.Since(start).Seconds(), int(n), nil
}

// listAll reads every transaction page of account id the way SyncTransactions does and
// returns how many transactions they held.
func listAll(ctx context.Context, sc *client.API, id string) (int, error) {
	n := 0
	after := ""
	for {
		p := &stripe.FinancialConnectionsTransactionListParams{Account: stripe.String(id)}
		p.Context = ctx
		p.Limit = stripe.Int64(100)
		p.Single = true
		if after != "" {
			p.StartingAfter = stripe.String(after)
		}
		it := sc.FinancialConnectionsTransactions.List(p)
		page := 0
		for it.Next() {
			after = it.FinancialConnectionsTransaction().ID
			page++
		}
		if err := it.Err(); err != nil {
			return 0, fmt.Errorf("ingest: list transactions of %s: %w", id, err)
		}
		n += page
		if page == 0 || !it.Meta().HasMore {
			return n, nil
		}
	}
}
