package fcsandbox

import (
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
)

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

	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, errNoSuch(objAccount, id, "account")
	}
	if a.json.Status != "active" {
		return nil, invalid(http.StatusBadRequest, "financial_connections_account_inactive", "",
			"The account is "+a.json.Status+" and cannot be refreshed.")
	}
	for i, feat := range features {
		if perm := featurePermission[feat]; !slices.Contains(a.json.Permissions, perm) {
			return nil, invalid(http.StatusBadRequest, "", "features",
				"Invalid features["+itoa(i)+"]: the account was linked without the "+perm+" permission.")
		}
	}
	now := s.now().Unix()
	var started []string
	txnRefID := ""
	for _, feat := range features {
		switch feat {
		case featureTransactions:
			if tr := a.json.TransactionRefresh; tr != nil && !refreshAvailable(tr.Status, tr.NextRefreshAvailableAt, now) {
				continue
			}
			s.seq++
			txnRefID = newID(prefixTxnRefresh, 24)
			a.refreshSeq[txnRefID] = s.seq
			a.json.TransactionRefresh = &transactionRefreshJSON{ID: txnRefID, LastAttemptedAt: now, Status: "pending"}
		case featureBalance:
			if br := a.json.BalanceRefresh; br != nil && !refreshAvailable(br.Status, br.NextRefreshAvailableAt, now) {
				continue
			}
			a.json.BalanceRefresh = &balanceRefreshJSON{LastAttemptedAt: now, Status: "pending"}
		case featureOwnership:
			if or := a.json.OwnershipRefresh; or != nil && or.Status == "pending" {
				continue
			}
			a.json.OwnershipRefresh = &ownershipRefreshJSON{LastAttemptedAt: now, Status: "pending"}
		}
		started = append(started, feat)
	}
	body, e := marshal(a.json)
	if e != nil {
		return nil, e
	}
	if len(started) == 0 {
		s.log.Info("refresh not started: pending or cooling down", "request_id", ri.id, "fc_account_id", id)
		return body, nil
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
	now := s.now().Unix()
	next := now + int64(s.cfg.RefreshCooldown/time.Second)
	outcome := a.refreshOutcome
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
			if outcome == RefreshSucceeded {
				if a.json.Balance == nil {
					a.json.Balance = a.ledgerBalance.clone()
				}
				if a.json.Balance != nil {
					a.json.Balance.AsOf = now
				}
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
	if err != nil {
		s.log.Error("encode account", "fc_account_id", id, "error", err.Error())
		return
	}
	s.log.Info("refresh completed", "fc_account_id", id, "status", outcome, "transaction_refresh_id", txnRefID)
	for _, typ := range events {
		s.emit(typ, body, "", "", id)
	}
}

// deliverTransactions applies a succeeded transaction refresh: the first one
// delivers every ledger transaction; with Config.PostPendingOnRefresh, later
// ones post the pending transactions (balance.current moves by their amounts;
// cash.available already counted them). Every transaction it creates or
// updates carries refID. Callers hold s.mu.
func (s *Server) deliverTransactions(a *account, refID string, now int64) {
	seq := a.refreshSeq[refID]
	first := !a.hasTxnData
	a.hasTxnData = true
	for _, t := range a.txns {
		switch {
		case t.refreshSeq == 0:
			t.refreshSeq, t.json.TransactionRefresh = seq, refID
		case !first && s.cfg.PostPendingOnRefresh && t.json.Status == "pending":
			t.refreshSeq, t.json.TransactionRefresh = seq, refID
			t.json.Status = "posted"
			t.json.StatusTransitions.PostedAt = ptr(now)
			t.json.Updated = now
			for _, b := range []*balanceJSON{a.json.Balance, a.ledgerBalance} {
				if b != nil && b.Current != nil {
					b.Current[t.json.Currency] += t.json.Amount
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
