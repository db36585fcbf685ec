package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/store"
)

// The snapshot document is a ledger file (docs/ledger-format.md, written with the ledger
// package): Stripe's objects as API version 2023-10-16 returns them, limited to
// the fields scoring reads. The same bytes are hashed, stored and scored, so replays and
// re-scores read exactly what the decision read, and `underwriter features --ledger` reads
// an exported snapshot unchanged.

// FreezeSnapshot writes an immutable snapshot of the application's accounts, latest
// balances and transactions, identified by the SHA-256 of its document. Freezing the same
// data twice returns the same snapshot.
func (a *Activities) FreezeSnapshot(ctx context.Context, in SnapshotInput) (SnapshotRef, error) {
	accounts, err := a.Store.ListAccounts(ctx, in.ApplicationID)
	if err != nil {
		return SnapshotRef{}, fmt.Errorf("list accounts of %s: %w", in.ApplicationID, err)
	}
	var doc ledger.File
	var asOf time.Time
	txnCount := 0
	for _, acct := range accounts {
		e, balAsOf, err := a.snapshotEntry(ctx, acct)
		if err != nil {
			return SnapshotRef{}, err
		}
		if balAsOf.After(asOf) {
			asOf = balAsOf
		}
		txnCount += len(e.Transactions)
		doc.Accounts = append(doc.Accounts, e)
	}
	if asOf.IsZero() {
		asOf = a.now().Truncate(time.Second)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return SnapshotRef{}, fmt.Errorf("encode snapshot of %s: %w", in.ApplicationID, err)
	}
	sum := sha256.Sum256(body)
	snap, err := a.Store.InsertSnapshot(ctx, store.Snapshot{
		ApplicationID: in.ApplicationID,
		AsOf:          asOf,
		ContentHash:   "sha256:" + hex.EncodeToString(sum[:]),
		Ledger:        body,
		TxnCount:      txnCount,
		AccountCount:  len(accounts),
	})
	if err != nil {
		return SnapshotRef{}, fmt.Errorf("store snapshot of %s: %w", in.ApplicationID, err)
	}
	a.log(ctx).Info("snapshot frozen", "application_id", in.ApplicationID, "snapshot_id", snap.ID,
		"content_hash", snap.ContentHash, "txn_count", txnCount)
	return SnapshotRef{ID: snap.ID, ContentHash: snap.ContentHash, AsOf: snap.AsOf, Transactions: snap.TxnCount, Accounts: snap.AccountCount}, nil
}

// snapshotEntry is one account of a snapshot: the account, its latest balance and its
// transactions as ledger objects, and the balance's time (zero without a balance).
func (a *Activities) snapshotEntry(ctx context.Context, acct store.Account) (ledger.Entry, time.Time, error) {
	e := ledger.Entry{Account: ledger.Account{
		ID: acct.ID, Object: ledger.ObjectAccount, Category: acct.Category,
		Subcategory: acct.Subcategory, Status: acct.Status, InstitutionName: acct.InstitutionName,
	}, Transactions: []ledger.Transaction{}}
	var asOf time.Time
	bal, err := a.Store.LatestBalance(ctx, acct.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return ledger.Entry{}, time.Time{}, fmt.Errorf("read balance of %s: %w", acct.ID, err)
	default:
		// The stored balance is already in the project's sign convention, which is
		// Stripe's; SignedAmount is the identity both ways.
		b := &ledger.Balance{AsOf: bal.AsOf.Unix(), Type: bal.Type, Current: map[string]int64{bal.Currency: bal.CurrentMinor}}
		if bal.AvailableMinor != nil {
			b.Cash = &ledger.Cash{Available: map[string]int64{bal.Currency: *bal.AvailableMinor}}
		}
		e.Account.Balance = b
		asOf = bal.AsOf
	}
	txns, err := a.Store.ListTransactions(ctx, acct.ID)
	if err != nil {
		return ledger.Entry{}, time.Time{}, fmt.Errorf("read transactions of %s: %w", acct.ID, err)
	}
	for _, t := range txns {
		lt := ledger.Transaction{
			ID: t.ID, Object: ledger.ObjectTransaction, Account: t.AccountID,
			Amount: t.AmountMinor, Currency: t.Currency, Description: t.Description, Status: t.Status,
			TransactedAt: t.TransactedAt.Unix(), TransactionRefresh: t.TransactionRefresh,
			Updated: t.StripeUpdatedAt.Unix(),
		}
		if t.PostedAt != nil {
			v := t.PostedAt.Unix()
			lt.StatusTransitions.PostedAt = &v
		}
		if t.VoidAt != nil {
			v := t.VoidAt.Unix()
			lt.StatusTransitions.VoidAt = &v
		}
		e.Transactions = append(e.Transactions, lt)
	}
	return e, asOf, nil
}
