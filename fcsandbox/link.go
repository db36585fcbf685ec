package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// LinkPath is the Stripe.js stand-in: it completes a session with a persona.
const LinkPath = "/sandbox/v1/link"

// LinkRequest is the body of POST /sandbox/v1/link. The client secret travels
// in the body, never in a URL.
type LinkRequest struct {
	ClientSecret string `json:"client_secret"`
	Persona      string `json:"persona"`
	// PendingAtRefresh overrides the persona's pending_at_refresh for this
	// link: PendingKeep, PendingPost or PendingVoid ("" = the persona's).
	PendingAtRefresh string `json:"pending_at_refresh,omitempty"`
	// AccountStatusAtRefresh overrides the persona's account_status_at_refresh
	// for this link: StatusInactive or StatusDisconnected ("" = the persona's).
	AccountStatusAtRefresh string `json:"account_status_at_refresh,omitempty"`
}

// linkOptions is how the accounts of one link behave.
type linkOptions struct {
	outcome         string
	pendingMode     string
	statusAtRefresh string
}

// LinkResponse is the answer to a link: the session and the new account ids,
// in ledger order.
type LinkResponse struct {
	Session  string   `json:"session"`
	Accounts []string `json:"accounts"`
}

func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	ri := info(r)
	var req LinkRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid JSON body: expected {\"client_secret\":\"…\",\"persona\":\"…\"}."))
		return
	}
	switch {
	case req.ClientSecret == "":
		writeError(w, errMissing("client_secret"))
		return
	case req.Persona == "":
		writeError(w, errMissing("persona"))
		return
	}
	lf, ok := s.ledgers[req.Persona]
	if !ok {
		names := make([]string, 0, len(s.personas))
		for _, p := range s.personas {
			names = append(names, p.Name)
		}
		writeError(w, invalid(http.StatusBadRequest, "", "persona", fmt.Sprintf(
			"No such persona: '%s'. Known personas: %s.", req.Persona, strings.Join(names, ", "))))
		return
	}
	if err := validPendingMode(req.PendingAtRefresh); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "pending_at_refresh", "Invalid pending_at_refresh: "+err.Error()))
		return
	}
	if err := validStatusAtRefresh(req.AccountStatusAtRefresh); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "account_status_at_refresh", "Invalid account_status_at_refresh: "+err.Error()))
		return
	}
	opts := linkOptions{outcome: RefreshSucceeded, pendingMode: PendingKeep}
	if s.cfg.PostPendingOnRefresh {
		opts.pendingMode = PendingPost
	}
	for _, p := range s.personas {
		if p.Name != req.Persona {
			continue
		}
		if p.RefreshOutcome != "" {
			opts.outcome = p.RefreshOutcome
		}
		if p.PendingAtRefresh != "" {
			opts.pendingMode = p.PendingAtRefresh
		}
		opts.statusAtRefresh = p.AccountStatusAtRefresh
	}
	if req.PendingAtRefresh != "" {
		opts.pendingMode = req.PendingAtRefresh
	}
	if req.AccountStatusAtRefresh != "" {
		opts.statusAtRefresh = req.AccountStatusAtRefresh
	}

	s.mu.Lock()
	sessID, ok := s.sessionBySecret[req.ClientSecret]
	if !ok {
		s.mu.Unlock()
		// The secret itself is never echoed or logged.
		writeError(w, invalid(http.StatusBadRequest, "", "client_secret", "Invalid client_secret: no session has this client secret."))
		return
	}
	sess := s.sessions[sessID]
	if sess.linked {
		s.mu.Unlock()
		writeError(w, invalid(http.StatusBadRequest, "", "client_secret", "This session has already been completed."))
		return
	}
	accts := s.linkLedger(sess, lf, req.Persona, opts)
	sess.linked = true
	bodies := make([][]byte, len(accts))
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.json.ID
		b, err := json.Marshal(a.json)
		if err != nil {
			s.mu.Unlock()
			writeError(w, &apiError{status: http.StatusInternalServerError, body: errorBody{Type: typeAPI, Message: "encode account"}})
			return
		}
		bodies[i] = b
	}
	s.mu.Unlock()

	s.log.Info("session linked", "request_id", ri.id, "session_id", sessID, "persona", req.Persona, "fc_account_ids", ids)
	for i, b := range bodies {
		s.emit(EventAccountCreated, b, ri.id, "", ids[i])
	}
	body, aerr := marshal(LinkResponse{Session: sessID, Accounts: ids})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// linkLedger creates the persona's accounts for sess: new random ids, every
// timestamp shifted by one delta so that the ledger's newest balance.as_of is
// now, and the session's prefetch applied as already-succeeded refreshes.
// Callers hold s.mu.
func (s *Server) linkLedger(sess *session, lf *ledger.File, persona string, opts linkOptions) []*account {
	now := s.now().Unix()
	delta := now - lf.Anchor()
	shift := func(p *int64) *int64 {
		if p == nil || *p == 0 {
			return nil
		}
		return ptr(*p + delta)
	}
	prefetch := sess.json.Prefetch
	holder := sess.json.AccountHolder // one copy, shared read-only by the session's accounts
	out := make([]*account, 0, len(lf.Accounts))
	for _, la := range lf.Accounts {
		s.seq++
		src := la.Account
		a := &account{
			seq: s.seq, persona: persona, refreshOutcome: opts.outcome,
			pendingMode: opts.pendingMode, statusAtRefresh: opts.statusAtRefresh,
			refreshSeq: map[string]int64{},
			json: ledger.Account{
				ID: newID(prefixAccount, 24), Object: objAccount,
				AccountHolder:   &holder,
				Category:        orDefault(src.Category, "cash"),
				Created:         now,
				DisplayName:     orDefault(src.DisplayName, "Sandbox Checking"),
				InstitutionName: orDefault(src.InstitutionName, "StripeBank"),
				Last4:           orDefault(src.Last4, "6789"),
				Permissions:     slices.Clone(sess.json.Permissions),
				Status:          orDefault(src.Status, "active"),
				Subcategory:     orDefault(src.Subcategory, "checking"),
				Subscriptions:   []string{},
			},
		}
		a.json.SupportedPaymentMethodTypes = []string{}
		if a.json.Category == "cash" && (a.json.Subcategory == "checking" || a.json.Subcategory == "savings") {
			a.json.SupportedPaymentMethodTypes = []string{"link", "us_bank_account"}
		}
		if b := src.Balance.Clone(); b != nil {
			b.AsOf += delta
			if b.Type == "" {
				b.Type = "cash"
				if a.json.Category == "credit" {
					b.Type = "credit"
				}
			}
			a.ledgerBalance = b
		}
		for _, lt := range la.Transactions {
			t := &txn{json: ledger.Transaction{
				ID: newID(prefixTransaction, 24), Object: objTransaction, Account: a.json.ID,
				Amount: lt.Amount, Currency: strings.ToLower(orDefault(lt.Currency, "usd")),
				Description: lt.Description, Status: lt.Status,
				TransactedAt: lt.TransactedAt + delta,
			}}
			t.json.StatusTransitions.PostedAt = shift(lt.StatusTransitions.PostedAt)
			t.json.StatusTransitions.VoidAt = shift(lt.StatusTransitions.VoidAt)
			if lt.Status == "posted" && t.json.StatusTransitions.PostedAt == nil {
				t.json.StatusTransitions.PostedAt = ptr(t.json.TransactedAt)
			}
			if lt.Status == "void" && t.json.StatusTransitions.VoidAt == nil {
				t.json.StatusTransitions.VoidAt = ptr(t.json.TransactedAt)
			}
			t.json.Updated = t.json.TransactedAt
			if lt.Updated > 0 {
				t.json.Updated = lt.Updated + delta
			}
			a.txns = append(a.txns, t)
			s.transactions[t.json.ID] = t
		}
		// Prefetched data counts as refreshes that succeeded at link time. The
		// next refresh is available at once: the prefetch was not requested by
		// the platform, and the pipeline refreshes right after linking.
		if slices.Contains(prefetch, "transactions") {
			s.seq++
			ref := newID(prefixTxnRefresh, 24)
			a.refreshSeq[ref] = s.seq
			a.json.TransactionRefresh = &ledger.TransactionRefresh{ID: ref, LastAttemptedAt: now, NextRefreshAvailableAt: ptr(now), Status: RefreshSucceeded}
			s.deliverTransactions(a, ref, now)
		}
		if slices.Contains(prefetch, "balances") {
			a.json.BalanceRefresh = &ledger.BalanceRefresh{LastAttemptedAt: now, NextRefreshAvailableAt: ptr(now), Status: RefreshSucceeded}
			a.json.Balance = a.ledgerBalance.Clone()
		}
		if slices.Contains(prefetch, "ownership") {
			a.json.OwnershipRefresh = &ledger.OwnershipRefresh{LastAttemptedAt: now, Status: RefreshSucceeded}
			a.json.Ownership = ptr(newID(prefixOwnership, 24))
		}
		s.accounts[a.json.ID] = a
		sess.accounts = append(sess.accounts, a.json.ID)
		out = append(out, a)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) listPersonas(w http.ResponseWriter, r *http.Request) {
	body, aerr := marshal(listJSON{Object: "list", Data: s.Personas(), URL: "/sandbox/v1/personas"})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// CompleteLink plays the applicant's part in the browser: it completes the
// session behind clientSecret with the named persona at the sandbox at baseURL
// and returns the new account ids. hc nil means http.DefaultClient.
func CompleteLink(ctx context.Context, hc *http.Client, baseURL, clientSecret, persona string) ([]string, error) {
	return CompleteLinkWith(ctx, hc, baseURL, LinkRequest{ClientSecret: clientSecret, Persona: persona})
}

// CompleteLinkWith is CompleteLink with the per-link options of LinkRequest
// (pending_at_refresh, account_status_at_refresh).
func CompleteLinkWith(ctx context.Context, hc *http.Client, baseURL string, lr LinkRequest) ([]string, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	persona := lr.Persona
	body, err := json.Marshal(lr)
	if err != nil {
		return nil, fmt.Errorf("encode link request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+LinkPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build link request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("link persona %s: %w", persona, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("read link response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e errorJSON
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("link persona %s: %d %s", persona, res.StatusCode, e.Error.Message)
		}
		return nil, fmt.Errorf("link persona %s: status %d", persona, res.StatusCode)
	}
	var out LinkResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode link response: %w", err)
	}
	if len(out.Accounts) == 0 {
		return nil, errors.New("decode link response: no accounts")
	}
	return out.Accounts, nil
}
