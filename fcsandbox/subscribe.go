package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"net/http"
	"slices"
	"time"
)

// subscribeFeatures are the features of subscribe and unsubscribe in 2023-10-16:
// transactions only.
var subscribeFeatures = []string{featureTransactions}

// subscribeAccount is POST /v1/financial_connections/accounts/{id}/subscribe
// (features[]=transactions, required). It adds the feature to the account's
// subscriptions and, when it was not subscribed yet and no transaction refresh is
// pending, starts one (Stripe: subscribing starts a refresh; refreshed_transactions
// follows). Subscribing again changes nothing. An account that is not active is
// refused with financial_connections_account_inactive; one linked without the
// transactions permission with a 400 naming features. The answer is the account.
func (s *Server) subscribeAccount(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	features, a, e := s.subscriptionRequest(r, ri)
	if e != nil {
		return nil, e
	}
	defer s.mu.Unlock()
	if a.json.Status != StatusActive {
		return nil, invalid(http.StatusBadRequest, "financial_connections_account_inactive", "",
			"The account is "+a.json.Status+" and cannot be subscribed to.")
	}
	if e := checkPermissions(a, features); e != nil {
		return nil, e
	}
	id := a.json.ID
	for _, feat := range features {
		if slices.Contains(a.json.Subscriptions, feat) {
			continue
		}
		a.json.Subscriptions = append(a.json.Subscriptions, feat)
		s.log.Info("account subscribed", "request_id", ri.id, "fc_account_id", id, "feature", feat)
		if tr := a.json.TransactionRefresh; tr != nil && tr.Status == "pending" {
			continue
		}
		s.seq++
		ref := newID(prefixTxnRefresh, 24)
		a.refreshSeq[ref] = s.seq
		a.json.TransactionRefresh = &ledger.TransactionRefresh{ID: ref, LastAttemptedAt: s.now().Unix(), Status: "pending"}
		delay := s.cfg.RefreshDelay
		s.goBackground(func() {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
				s.completeRefresh(id, []string{featureTransactions}, ref)
			case <-s.ctx.Done():
			}
		})
	}
	return marshal(a.json)
}

// unsubscribeAccount is POST /v1/financial_connections/accounts/{id}/unsubscribe
// (features[]=transactions, required): it removes the features from the account's
// subscriptions, whatever its status; unsubscribing an account that is not
// subscribed changes nothing. The answer is the account.
func (s *Server) unsubscribeAccount(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	features, a, e := s.subscriptionRequest(r, ri)
	if e != nil {
		return nil, e
	}
	defer s.mu.Unlock()
	for _, feat := range features {
		if i := slices.Index(a.json.Subscriptions, feat); i >= 0 {
			a.json.Subscriptions = slices.Delete(slices.Clone(a.json.Subscriptions), i, i+1)
			s.log.Info("account unsubscribed", "request_id", ri.id, "fc_account_id", a.json.ID, "feature", feat)
		}
	}
	return marshal(a.json)
}

// subscriptionRequest checks a subscribe or unsubscribe request and returns its
// features and the account, with s.mu held (on success only).
func (s *Server) subscriptionRequest(r *http.Request, ri *reqInfo) ([]string, *account, *apiError) {
	f := ri.form
	if e := f.check(map[string]paramSpec{"features": {kind: kindList}, "expand": expandSpec}); e != nil {
		return nil, nil, e
	}
	features, e := f.enumList("features", true, subscribeFeatures)
	if e != nil {
		return nil, nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	a, ok := s.accounts[id]
	if !ok {
		s.mu.Unlock()
		return nil, nil, errNoSuch(objAccount, id, "account")
	}
	return features, a, nil
}
