package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"fmt"
	"net/http"
	"slices"
	"time"
)

// Refresh features (singular "balance", unlike the session's "balances").
const (
	featureBalance      = "balance"
	featureOwnership    = "ownership"
	featureTransactions = "transactions"
)

// Event types the sandbox sends.
const (
	EventAccountCreated               = "financial_connections.account.created"
	EventAccountRefreshedBalance      = "financial_connections.account.refreshed_balance"
	EventAccountRefreshedTransactions = "financial_connections.account.refreshed_transactions"
	EventAccountRefreshedOwnership    = "financial_connections.account.refreshed_ownership"
	EventAccountDisconnected          = "financial_connections.account.disconnected"
	EventAccountDeactivated           = "financial_connections.account.deactivated"
	EventAccountReactivated           = "financial_connections.account.reactivated"
)

// checkPermissions refuses features the account was linked without the permission
// for, naming the first such feature.
func checkPermissions(a *account, features []string) *apiError {
	for i, feat := range features {
		if perm := featurePermission[feat]; !slices.Contains(a.json.Permissions, perm) {
			return invalid(http.StatusBadRequest, "", "features",
				"Invalid features["+itoa(i)+"]: the account was linked without the "+perm+" permission.")
		}
	}
	return nil
}

// featurePermission maps a refresh feature to the permission it needs.
var featurePermission = map[string]string{
	featureBalance: "balances", featureOwnership: "ownership", featureTransactions: "transactions",
}

func (s *Server) refreshAccount(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	f := ri.form
	if e := f.check(map[string]paramSpec{"features": {kind: kindList}, "expand": expandSpec}); e != nil {
		return nil, e
	}
	features, e := f.enumList("features", true, refreshFeatures)
	if e != nil {
		return nil, e
	}
	id := r.PathValue("id")

	var emitAfter []func()
	defer func() {
		for _, f := range emitAfter {
			f()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, errNoSuch(objAccount, id, "account")
	}
	if st := a.statusAtRefresh; st != "" && a.json.Status == StatusActive {
		// The persona's account stops working when the platform asks for
		// fresh data: the status changes (with its event) and the refresh is
		// refused like any refresh of an inactive account.
		a.statusAtRefresh = ""
		if emit, e := s.setStatusLocked(a, st, ri.id, ri.idemKey); e == nil && emit != nil {
			emitAfter = append(emitAfter, emit)
		}
	}
	if a.json.Status != StatusActive {
		return nil, invalid(http.StatusBadRequest, "financial_connections_account_inactive", "",
			"The account is "+a.json.Status+" and cannot be refreshed.")
	}
	if e := checkPermissions(a, features); e != nil {
		return nil, e
	}
	now := s.now().Unix()
	if e := refreshConflict(a, features, now); e != nil {
		s.log.Info("refresh refused: pending or cooling down", "request_id", ri.id, "fc_account_id", id)
		return nil, e
	}
	var started []string
	txnRefID := ""
	for _, feat := range features {
		switch feat {
		case featureTransactions:
			s.seq++
			txnRefID = newID(prefixTxnRefresh, 24)
			a.refreshSeq[txnRefID] = s.seq
			a.json.TransactionRefresh = &ledger.TransactionRefresh{ID: txnRefID, LastAttemptedAt: now, Status: "pending"}
		case featureBalance:
			a.json.BalanceRefresh = &ledger.BalanceRefresh{LastAttemptedAt: now, Status: "pending"}
		case featureOwnership:
			a.json.OwnershipRefresh = &ledger.OwnershipRefresh{LastAttemptedAt: now, Status: "pending"}
		}
		started = append(started, feat)
	}
	body, e := marshal(a.json)
	if e != nil {
		return nil, e
	}
	s.log.Info("refresh started", "request_id", ri.id, "fc_account_id", id,
		"features", started, "transaction_refresh_id", txnRefID)
	delay := s.cfg.RefreshDelay
	s.goBackground(func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			s.completeRefresh(id, started, txnRefID)
		case <-s.ctx.Done():
		}
	})
	return body, nil
}

// refreshConflict refuses a refresh when any requested feature still has one
// pending, or is before its next_refresh_available_at. Stripe documents
// neither case and stripe-go v76 has no error code for them, so the answer is
// a plain 400 invalid_request_error with param "features" and no code (see
// the package documentation); the whole request is refused and nothing starts.
// Callers hold s.mu.
func refreshConflict(a *account, features []string, now int64) *apiError {
	for i, feat := range features {
		status, next := "", (*int64)(nil)
		switch feat {
		case featureTransactions:
			if tr := a.json.TransactionRefresh; tr != nil {
				status, next = tr.Status, tr.NextRefreshAvailableAt
			}
		case featureBalance:
			if br := a.json.BalanceRefresh; br != nil {
				status, next = br.Status, br.NextRefreshAvailableAt
			}
		case featureOwnership:
			if or := a.json.OwnershipRefresh; or != nil {
				status = or.Status
			}
		}
		param := "features[" + itoa(i) + "]"
		switch {
		case status == "":
		case status == "pending":
			return invalid(http.StatusBadRequest, "", param, fmt.Sprintf(
				"A %s refresh is already pending for this account. Wait until it has finished before requesting another.", feat))
		case !refreshAvailable(status, next, now):
			return invalid(http.StatusBadRequest, "", param, fmt.Sprintf(
				"The next %s refresh for this account is available at %d (next_refresh_available_at). Try again after that time.", feat, *next))
		}
	}
	return nil
}

// refreshAvailable reports whether a feature may start a new refresh: not
// while pending, and not before next_refresh_available_at.
func refreshAvailable(status string, next *int64, now int64) bool {
	if status == "pending" {
		return false
	}
	return next == nil || now >= *next
}

// completeRefresh ends the refreshes started together, with the persona's
// outcome, and sends one event per feature.
func (s *Server) completeRefresh(id string, features []string, txnRefID string) {
	s.mu.Lock()
	a := s.accounts[id]
	nowT := s.now()
	now := nowT.Unix()
	next := now + int64(s.cfg.RefreshCooldown/time.Second)
	var statusEmit func()
	if st := s.catchUpLocked(a, nowT); st != "" {
		// The account's story disconnects it before this refresh ends.
		statusEmit, _ = s.setStatusLocked(a, st, "", "")
	}
	outcome, drop := a.refreshOutcome, a.dropRefreshWebhooks
	if a.json.Status != StatusActive {
		// The account was deactivated or disconnected while the refresh ran.
		outcome = RefreshFailed
	}
	var events []string
	for _, feat := range features {
		switch feat {
		case featureTransactions:
			tr := a.json.TransactionRefresh
			if tr == nil || tr.ID != txnRefID || tr.Status != "pending" {
				continue
			}
			tr.Status, tr.NextRefreshAvailableAt = outcome, ptr(next)
			if outcome == RefreshSucceeded {
				s.deliverTransactions(a, txnRefID, now)
			}
			events = append(events, EventAccountRefreshedTransactions)
		case featureBalance:
			br := a.json.BalanceRefresh
			if br == nil || br.Status != "pending" {
				continue
			}
			br.Status, br.NextRefreshAvailableAt = outcome, ptr(next)
			if outcome == RefreshSucceeded && a.ledgerBalance != nil {
				// The bank's balance now: the linked one moved by the
				// transactions released since (Advance) and by settled
				// pending ones.
				a.json.Balance = a.ledgerBalance.Clone()
				a.json.Balance.AsOf = now
			}
			events = append(events, EventAccountRefreshedBalance)
		case featureOwnership:
			or := a.json.OwnershipRefresh
			if or == nil || or.Status != "pending" {
				continue
			}
			or.Status = outcome
			if outcome == RefreshSucceeded && a.json.Ownership == nil {
				a.json.Ownership = ptr(newID(prefixOwnership, 24))
			}
			events = append(events, EventAccountRefreshedOwnership)
		}
	}
	body, err := marshal(a.json)
	s.mu.Unlock()
	if statusEmit != nil {
		statusEmit()
	}
	if err != nil {
		s.log.Error("encode account", "fc_account_id", id, "error", err.Error())
		return
	}
	s.log.Info("refresh completed", "fc_account_id", id, "status", outcome, "transaction_refresh_id", txnRefID)
	for _, typ := range events {
		if drop {
			s.emitUndelivered(typ, body, id)
			continue
		}
		s.emit(typ, body, "", "", id)
	}
}

// deliverTransactions applies a succeeded transaction refresh: the first one
// delivers every ledger transaction; later ones resolve the pending
// transactions as the account's pendingMode says. PendingPost moves
// balance.current by their amounts (cash.available already counted them);
// PendingVoid releases them from cash.available (current never counted them).
// Every transaction it creates or updates carries refID, so
// transaction_refresh[after] returns it. Callers hold s.mu.
func (s *Server) deliverTransactions(a *account, refID string, now int64) {
	seq := a.refreshSeq[refID]
	first := !a.hasTxnData
	a.hasTxnData = true
	for _, t := range a.txns {
		switch {
		case t.refreshSeq == 0:
			t.refreshSeq, t.json.TransactionRefresh = seq, refID
		case first || t.json.Status != "pending" || a.pendingMode == PendingKeep || a.pendingMode == "":
		case a.pendingMode == PendingPost:
			t.refreshSeq, t.json.TransactionRefresh = seq, refID
			t.json.Status = "posted"
			t.json.StatusTransitions.PostedAt = ptr(now)
			t.json.Updated = now
			for _, b := range []*ledger.Balance{a.json.Balance, a.ledgerBalance} {
				if b != nil && b.Current != nil {
					b.Current[t.json.Currency] += t.json.Amount
				}
			}
		case a.pendingMode == PendingVoid:
			t.refreshSeq, t.json.TransactionRefresh = seq, refID
			t.json.Status = "void"
			t.json.StatusTransitions.VoidAt = ptr(now)
			t.json.Updated = now
			for _, b := range []*ledger.Balance{a.json.Balance, a.ledgerBalance} {
				if b != nil && b.Cash != nil && b.Cash.Available != nil {
					b.Cash.Available[t.json.Currency] -= t.json.Amount
				}
			}
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
