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
	// RefreshOutcome overrides the persona's refresh_outcome for this link:
	// RefreshSucceeded or RefreshFailed ("" = the persona's).
	RefreshOutcome string `json:"refresh_outcome,omitempty"`
	// DropRefreshWebhooks makes the refreshes of this link's accounts send no
	// webhooks (the events are still recorded, as Stripe's are when an
	// endpoint is unreachable): the platform must notice the refresh ended by
	// polling. The link's own account.created is delivered.
	DropRefreshWebhooks bool `json:"drop_refresh_webhooks,omitempty"`
	// Ledger, instead of Persona, links a ledger file of the applicant's own (the
	// console's uploaded statement, converted by ledger/csv): a one-off persona
	// named UploadedPersona, with the server's defaults.
	Ledger json.RawMessage `json:"ledger,omitempty"`
	// AfterLoan is the story after the loan of this link's accounts (Stories: what
	// their transactions do as the simulated clock moves, see Server.Advance); ""
	// means the persona's after_loan, else StorySteady. The persona field may also
	// name one as "<persona>_then_<story>", e.g. "steady_salaried_then_job_loss".
	AfterLoan string `json:"after_loan,omitempty"`
}

// UploadedPersona names the one-off persona of a link with its own ledger.
const UploadedPersona = "uploaded"

// linkOptions is how the accounts of one link behave.
type linkOptions struct {
	outcome             string
	pendingMode         string
	statusAtRefresh     string
	dropRefreshWebhooks bool
	afterLoan           string
}

// LinkResponse is the answer to a link: the session and the new account ids,
// in ledger order.
type LinkResponse struct {
	Session  string   `json:"session"`
	Accounts []string `json:"accounts"`
}

// link completes a session with a persona (POST /sandbox/v1/link): it checks the
// request, creates the persona's accounts under the session, then logs and emits
// account.created for each one outside the lock.
func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	var req LinkRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid JSON body: expected {\"client_secret\":\"…\",\"persona\":\"…\"}."))
		return
	}
	lf, aerr := s.checkLinkRequest(&req)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	sessID, ids, bodies, aerr := s.completeSession(req, lf, s.linkOptionsFor(req))
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	ri := info(r)
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

// checkLinkRequest returns the ledger of the request's persona, or the 400 a
// missing field, an unknown persona (the error lists the known ones) or an unknown
// refresh override gets. It checks nothing about the session, which needs s.mu.
func (s *Server) checkLinkRequest(req *LinkRequest) (*ledger.File, *apiError) {
	switch {
	case req.ClientSecret == "":
		return nil, errMissing("client_secret")
	case len(req.Ledger) > 0 && req.Persona != "":
		return nil, invalid(http.StatusBadRequest, "", "ledger", "Send either persona or ledger, not both.")
	case len(req.Ledger) > 0:
		lf, err := ledger.Parse(req.Ledger)
		if err != nil {
			return nil, invalid(http.StatusBadRequest, "", "ledger", "Invalid ledger: "+err.Error())
		}
		if len(lf.Accounts) == 0 {
			return nil, invalid(http.StatusBadRequest, "", "ledger", "Invalid ledger: no accounts.")
		}
		req.Persona = UploadedPersona
		return &lf, s.checkLinkOverrides(*req)
	case req.Persona == "":
		return nil, errMissing("persona")
	}
	lf, ok := s.ledgers[req.Persona]
	if base, story, cut := strings.Cut(req.Persona, storyAliasSep); !ok && cut && req.AfterLoan == "" {
		// "<persona>_then_<story>": the persona with that story after the loan.
		if l, known := s.ledgers[base]; known {
			if err := validStory(story); err != nil {
				return nil, invalid(http.StatusBadRequest, "", "persona", fmt.Sprintf("Invalid persona '%s': %v.", req.Persona, err))
			}
			req.Persona, req.AfterLoan, lf, ok = base, story, l, true
		}
	}
	if !ok {
		names := make([]string, 0, len(s.personas))
		for _, p := range s.personas {
			names = append(names, p.Name)
		}
		return nil, invalid(http.StatusBadRequest, "", "persona", fmt.Sprintf(
			"No such persona: '%s'. Known personas: %s.", req.Persona, strings.Join(names, ", ")))
	}
	return lf, s.checkLinkOverrides(*req)
}

// checkLinkOverrides checks the request's per-link settings.
func (s *Server) checkLinkOverrides(req LinkRequest) *apiError {
	if err := validPendingMode(req.PendingAtRefresh); err != nil {
		return invalid(http.StatusBadRequest, "", "pending_at_refresh", "Invalid pending_at_refresh: "+err.Error())
	}
	if err := validStatusAtRefresh(req.AccountStatusAtRefresh); err != nil {
		return invalid(http.StatusBadRequest, "", "account_status_at_refresh", "Invalid account_status_at_refresh: "+err.Error())
	}
	switch req.RefreshOutcome {
	case "", RefreshSucceeded, RefreshFailed:
	default:
		return invalid(http.StatusBadRequest, "", "refresh_outcome", fmt.Sprintf("Invalid refresh_outcome: %q is not succeeded or failed", req.RefreshOutcome))
	}
	if req.AfterLoan != "" {
		if err := validStory(req.AfterLoan); err != nil {
			return invalid(http.StatusBadRequest, "", "after_loan", "Invalid after_loan: "+err.Error()+".")
		}
	}
	return nil
}

// linkOptionsFor returns how the request's accounts behave: the server's default,
// overridden by the persona's settings, overridden in turn by the request's.
func (s *Server) linkOptionsFor(req LinkRequest) linkOptions {
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
		opts.afterLoan = p.AfterLoan
	}
	if req.AfterLoan != "" {
		opts.afterLoan = req.AfterLoan
	}
	if req.PendingAtRefresh != "" {
		opts.pendingMode = req.PendingAtRefresh
	}
	if req.AccountStatusAtRefresh != "" {
		opts.statusAtRefresh = req.AccountStatusAtRefresh
	}
	if req.RefreshOutcome != "" {
		opts.outcome = req.RefreshOutcome
	}
	opts.dropRefreshWebhooks = req.DropRefreshWebhooks
	return opts
}

// completeSession links the session behind req.ClientSecret to the persona's ledger,
// under s.mu so that a session is linked once, and returns its id with the new
// account ids and their JSON bodies (encoded under the lock, for the events sent
// after it). An unknown secret or a session already completed is a 400; the secret
// itself is never echoed or logged.
func (s *Server) completeSession(req LinkRequest, lf *ledger.File, opts linkOptions) (string, []string, [][]byte, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sessID, ok := s.sessionBySecret[req.ClientSecret]
	if !ok {
		return "", nil, nil, invalid(http.StatusBadRequest, "", "client_secret", "Invalid client_secret: no session has this client secret.")
	}
	sess := s.sessions[sessID]
	if sess.linked {
		return "", nil, nil, invalid(http.StatusBadRequest, "", "client_secret", "This session has already been completed.")
	}
	accts := s.linkLedger(sess, lf, req.Persona, opts)
	sess.linked = true
	bodies := make([][]byte, len(accts))
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.json.ID
		b, err := json.Marshal(a.json)
		if err != nil {
			return "", nil, nil, &apiError{status: http.StatusInternalServerError, body: errorBody{Type: typeAPI, Message: "encode account"}}
		}
		bodies[i] = b
	}
	return sessID, ids, bodies, nil
}

// linkLedger creates the persona's accounts for sess: new random ids, every
// timestamp shifted by one delta so that the ledger's newest balance.as_of is
// now (or Config.LinkAnchor), and the session's prefetch applied as
// already-succeeded refreshes.
// Callers hold s.mu.
func (s *Server) linkLedger(sess *session, lf *ledger.File, persona string, opts linkOptions) []*account {
	now := s.now().Unix()
	base := now
	if !s.cfg.LinkAnchor.IsZero() {
		base = s.cfg.LinkAnchor.Unix()
	}
	delta := base - lf.Anchor()
	holder := sess.json.AccountHolder // one copy, shared read-only by the session's accounts
	out := make([]*account, 0, len(lf.Accounts))
	for i, la := range lf.Accounts {
		s.seq++
		a := &account{
			seq: s.seq, persona: persona, refreshOutcome: opts.outcome,
			pendingMode: opts.pendingMode, statusAtRefresh: opts.statusAtRefresh, dropRefreshWebhooks: opts.dropRefreshWebhooks,
			afterLoan: opts.afterLoan, seed: planSeed(persona, opts.afterLoan, i),
			refreshSeq: map[string]int64{},
			json:       newAccountJSON(la.Account, &holder, sess.json.Permissions, now),
		}
		if b := la.Account.Balance.Clone(); b != nil {
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
			t := &txn{json: rebasedTransaction(lt, a.json.ID, delta)}
			a.txns = append(a.txns, t)
			s.transactions[t.json.ID] = t
		}
		s.applyPrefetch(a, sess.json.Prefetch, now)
		s.accounts[a.json.ID] = a
		sess.accounts = append(sess.accounts, a.json.ID)
		out = append(out, a)
	}
	return out
}

// newAccountJSON returns the Stripe object of a new account for the ledger account
// src: a new random id, created now, the session's holder and permissions, and
// Stripe's sandbox defaults for the fields the ledger leaves empty. Cash checking and
// savings accounts support the link and us_bank_account payment methods, as Stripe's
// do.
func newAccountJSON(src ledger.Account, holder *ledger.AccountHolder, permissions []string, now int64) ledger.Account {
	a := ledger.Account{
		ID: newID(prefixAccount, 24), Object: objAccount,
		AccountHolder:   holder,
		Category:        orDefault(src.Category, "cash"),
		Created:         now,
		DisplayName:     orDefault(src.DisplayName, "Sandbox Checking"),
		InstitutionName: orDefault(src.InstitutionName, "StripeBank"),
		Last4:           orDefault(src.Last4, "6789"),
		Permissions:     slices.Clone(permissions),
		Status:          orDefault(src.Status, "active"),
		Subcategory:     orDefault(src.Subcategory, "checking"),
		Subscriptions:   []string{},
	}
	a.SupportedPaymentMethodTypes = []string{}
	if a.Category == "cash" && (a.Subcategory == "checking" || a.Subcategory == "savings") {
		a.SupportedPaymentMethodTypes = []string{"link", "us_bank_account"}
	}
	return a
}

// rebasedTransaction returns the Stripe object of ledger transaction lt on account
// acct: a new random id, every timestamp moved by delta seconds, a posted or void
// transaction without its transition time given its transacted_at, and updated
// defaulting to transacted_at.
func rebasedTransaction(lt ledger.Transaction, acct string, delta int64) ledger.Transaction {
	shift := func(p *int64) *int64 {
		if p == nil || *p == 0 {
			return nil
		}
		return ptr(*p + delta)
	}
	t := ledger.Transaction{
		ID: newID(prefixTransaction, 24), Object: objTransaction, Account: acct,
		Amount: lt.Amount, Currency: strings.ToLower(orDefault(lt.Currency, "usd")),
		Description: lt.Description, Status: lt.Status,
		TransactedAt: lt.TransactedAt + delta,
	}
	t.StatusTransitions.PostedAt = shift(lt.StatusTransitions.PostedAt)
	t.StatusTransitions.VoidAt = shift(lt.StatusTransitions.VoidAt)
	if lt.Status == "posted" && t.StatusTransitions.PostedAt == nil {
		t.StatusTransitions.PostedAt = ptr(t.TransactedAt)
	}
	if lt.Status == "void" && t.StatusTransitions.VoidAt == nil {
		t.StatusTransitions.VoidAt = ptr(t.TransactedAt)
	}
	t.Updated = t.TransactedAt
	if lt.Updated > 0 {
		t.Updated = lt.Updated + delta
	}
	return t
}

// applyPrefetch records the session's prefetched data on a new account as refreshes
// that succeeded at link time. The next refresh is available at once: the prefetch
// was not requested by the platform, and the pipeline refreshes right after linking.
// Callers hold s.mu.
func (s *Server) applyPrefetch(a *account, prefetch []string, now int64) {
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
