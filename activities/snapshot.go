package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// registeredByWorkflow is the request hash of an application row the workflow created:
// one started with the Go client rather than through POST /v1/applications.
const registeredByWorkflow = "started-by-workflow"

// RegisterApplication makes sure the application has its row in Postgres, which accounts,
// snapshots, decisions and webhook routing refer to. A row the API created is left as it
// is; a workflow started directly with the Temporal client creates it here. Idempotent.
func (a *Activities) RegisterApplication(ctx context.Context, in RegisterInput) error {
	app := store.Application{
		ID: in.ApplicationID, RequestHash: registeredByWorkflow, LoanAmountMinor: in.LoanAmountMinor,
		TermMonths: in.TermMonths, Currency: in.Currency, WorkflowID: in.WorkflowID, Stage: "awaiting_link",
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
		a.log().InfoContext(ctx, "application registered by its workflow", "application_id", in.ApplicationID)
	}
	return nil
}

// The snapshot document is a ledger file (DESIGN.md, "Ledger files", written with
// internal/ledgerfile): Stripe's objects as API version 2023-10-16 returns them, limited to
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
		e := ledger.Entry{Account: ledger.Account{
			ID: acct.ID, Object: ledger.ObjectAccount, Category: acct.Category,
			Subcategory: acct.Subcategory, Status: acct.Status, InstitutionName: acct.InstitutionName,
		}, Transactions: []ledger.Transaction{}}
		bal, err := a.Store.LatestBalance(ctx, acct.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return SnapshotRef{}, fmt.Errorf("read balance of %s: %w", acct.ID, err)
		default:
			// The stored balance is already in the project's sign convention, which is
			// Stripe's; SignedAmount is the identity both ways.
			b := &ledger.Balance{AsOf: bal.AsOf.Unix(), Type: bal.Type, Current: map[string]int64{bal.Currency: bal.CurrentMinor}}
			if bal.AvailableMinor != nil {
				b.Cash = &ledger.Cash{Available: map[string]int64{bal.Currency: *bal.AvailableMinor}}
			}
			e.Account.Balance = b
			if bal.AsOf.After(asOf) {
				asOf = bal.AsOf
			}
		}
		txns, err := a.Store.ListTransactions(ctx, acct.ID)
		if err != nil {
			return SnapshotRef{}, fmt.Errorf("read transactions of %s: %w", acct.ID, err)
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
		txnCount += len(txns)
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
	a.log().InfoContext(ctx, "snapshot frozen", "application_id", in.ApplicationID, "snapshot_id", snap.ID,
		"content_hash", snap.ContentHash, "txn_count", txnCount)
	return SnapshotRef{ID: snap.ID, ContentHash: snap.ContentHash, AsOf: snap.AsOf, Transactions: snap.TxnCount, Accounts: snap.AccountCount}, nil
}

// Score computes the features of a snapshot, decides with the current scorecard and
// policy, and stores the decision with its full feature vector and points. It reads only the
// snapshot, never Stripe, so re-running it gives the same answer, and the stored decision
// is written once. It returns the decision without the feature vector, which stays out of
// workflow history; RecordDecision then completes the application.
func (a *Activities) Score(ctx context.Context, in ScoreInput) (ScoreResult, error) {
	snap, err := a.Store.GetSnapshot(ctx, in.SnapshotID)
	if err != nil {
		return ScoreResult{}, fmt.Errorf("read snapshot %d: %w", in.SnapshotID, err)
	}
	ledger, err := scoring.ParseLedgerFile(snap.Ledger)
	if err != nil {
		return ScoreResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("parse snapshot %d: %v", in.SnapshotID, err), ErrTypeBadData, err)
	}
	cutoff := snap.AsOf.UTC()
	day := time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day(), 0, 0, 0, 0, time.UTC)
	dec, err := scoring.Underwrite(ledger, cutoff, in.Loan, in.Operational)
	if err != nil {
		// Data that cannot be scored (accounts in several currencies, say) is a decision
		// for a person to make, not a failed workflow.
		return a.referUnscored(ctx, in, snap, day, err)
	}
	res := ScoreResult{Decision: VerdictOf(dec), Cutoff: day}
	wf := activity.GetInfo(ctx).WorkflowExecution
	row, err := a.decisionRow(in.ApplicationID, wf.ID, wf.RunID, dec.Outcome, &res, &SnapshotRef{
		ID: snap.ID, ContentHash: snap.ContentHash, AsOf: snap.AsOf,
	})
	if err != nil {
		return ScoreResult{}, err
	}
	if row.Features, err = json.Marshal(dec.Features); err != nil {
		return ScoreResult{}, fmt.Errorf("encode features: %w", err)
	}
	if row.Points, err = json.Marshal(nonNil(dec.Points)); err != nil {
		return ScoreResult{}, fmt.Errorf("encode points: %w", err)
	}
	row.ReasonCodeMapVersion = scoring.DefaultModel().ReasonCodeMapVersion
	if _, _, err := a.Store.RecordDecision(ctx, row); err != nil {
		return ScoreResult{}, fmt.Errorf("store decision for %s: %w", in.ApplicationID, err)
	}
	a.log().InfoContext(ctx, "scored", "application_id", in.ApplicationID, "snapshot_id", in.SnapshotID,
		"outcome", dec.Outcome, "score", dec.Score)
	return res, nil
}

// referUnscored stores and returns a referral whose reason is the scoring error.
func (a *Activities) referUnscored(ctx context.Context, in ScoreInput, snap store.Snapshot, day time.Time, cause error) (ScoreResult, error) {
	m := scoring.DefaultModel()
	res := ScoreResult{Cutoff: day, Decision: Verdict{
		Outcome: "refer", Unscored: true, Rules: []scoring.RuleResult{},
		Reasons: []scoring.Reason{{Code: ReasonDataUnusable,
			Text: "The linked bank account data could not be scored automatically", Value: cause.Error()}},
		ModelVersion: m.ModelVersion, PolicyVersion: scoring.DefaultPolicy().PolicyVersion, FeatureSetVersion: scoring.FeatureSetVersion,
	}}
	wf := activity.GetInfo(ctx).WorkflowExecution
	row, err := a.decisionRow(in.ApplicationID, wf.ID, wf.RunID, res.Decision.Outcome, &res, &SnapshotRef{
		ID: snap.ID, ContentHash: snap.ContentHash, AsOf: snap.AsOf,
	})
	if err != nil {
		return ScoreResult{}, err
	}
	if _, _, err := a.Store.RecordDecision(ctx, row); err != nil {
		return ScoreResult{}, fmt.Errorf("store decision for %s: %w", in.ApplicationID, err)
	}
	a.log().WarnContext(ctx, "snapshot could not be scored; referred", "application_id", in.ApplicationID,
		"snapshot_id", in.SnapshotID, "err", cause.Error())
	return res, nil
}

// RecordDecision completes the application's one decision: it writes the decisions that
// were not scored (expired) and finds those Score stored, then marks the application
// decided. A second call (an activity retry, a replayed workflow) finds the first row and
// writes nothing.
func (a *Activities) RecordDecision(ctx context.Context, in RecordInput) (RecordResult, error) {
	row, err := a.decisionRow(in.ApplicationID, in.WorkflowID, in.RunID, in.Outcome, in.Score, in.Snapshot)
	if err != nil {
		return RecordResult{}, err
	}
	stored, created, err := a.Store.RecordDecision(ctx, row)
	if err != nil {
		return RecordResult{}, fmt.Errorf("record decision for %s: %w", in.ApplicationID, err)
	}
	if err := a.Store.SetApplicationStage(ctx, in.ApplicationID, "decided"); err != nil {
		return RecordResult{}, fmt.Errorf("mark %s decided: %w", in.ApplicationID, err)
	}
	a.log().InfoContext(ctx, "decision recorded", "application_id", in.ApplicationID, "outcome", stored.Outcome, "created", created)
	return RecordResult{Created: created, DecidedAt: stored.DecidedAt}, nil
}

// decisionRow is the stored form of a decision; scored is nil for outcomes that were not
// scored. Features and points are filled in by Score, which has them.
func (a *Activities) decisionRow(appID, workflowID, runID, outcome string, scored *ScoreResult, snap *SnapshotRef) (store.Decision, error) {
	d := store.Decision{
		ApplicationID: appID, WorkflowID: workflowID, RunID: runID, Outcome: outcome,
		DecidedAt: a.now(), BuildVersion: a.BuildVersion,
		Reasons: json.RawMessage("[]"), Rules: json.RawMessage("[]"), Features: json.RawMessage("{}"), Points: json.RawMessage("[]"),
	}
	if scored != nil {
		v := scored.Decision
		cutoff := scored.Cutoff
		d.Cutoff = &cutoff
		if !v.Unscored {
			score, pd := v.Score, v.PD
			d.Score, d.PD = &score, &pd
		}
		var err error
		if d.Reasons, err = json.Marshal(nonNil(v.Reasons)); err != nil {
			return d, fmt.Errorf("encode reasons: %w", err)
		}
		if d.Rules, err = json.Marshal(nonNil(v.Rules)); err != nil {
			return d, fmt.Errorf("encode rules: %w", err)
		}
		d.ModelVersion, d.PolicyVersion, d.FeatureSetVersion = v.ModelVersion, v.PolicyVersion, v.FeatureSetVersion
	}
	if snap != nil {
		id, hash, asOf := snap.ID, snap.ContentHash, snap.AsOf
		d.SnapshotID, d.ContentHash, d.AsOf = &id, &hash, &asOf
	}
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
