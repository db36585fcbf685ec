package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Paths of the simulated clock and the stories (not Stripe paths). Both clock paths
// take the API key, like the faults and status paths.
const (
	// ClockPath answers the simulated clock (GET): a Clock without refreshes.
	ClockPath = "/sandbox/v1/clock"
	// ClockAdvancePath moves the simulated clock forward (POST, JSON AdvanceRequest)
	// and answers the Clock with the subscription refreshes it made (see Advance).
	ClockAdvancePath = "/sandbox/v1/clock/advance"
	// StoriesPath lists the stories after the loan (GET, no key): Stories().
	StoriesPath = "/sandbox/v1/stories"
)

// MaxAdvanceDays bounds one Advance (ten years).
const MaxAdvanceDays = 3660

// AdvanceRequest is the body of POST /sandbox/v1/clock/advance.
type AdvanceRequest struct {
	// Days is how many whole days pass, 1 to MaxAdvanceDays.
	Days int `json:"days"`
}

// Clock is the simulated clock after an Advance (or as GET /sandbox/v1/clock reads it).
type Clock struct {
	// Object is "fcsandbox.clock".
	Object string `json:"object"`
	// Now is the simulated now, unix seconds: Config.Now plus AdvancedDays days. Every
	// timestamp the sandbox writes from then on (refreshes, balance.as_of, events'
	// created) uses it.
	Now int64 `json:"now"`
	// AdvancedDays is the total of every Advance so far.
	AdvancedDays int64 `json:"advanced_days"`
	// Refreshes are the subscription refreshes this Advance made, one per subscribed
	// active account, in link order (empty for GET).
	Refreshes []SubscriptionRefresh `json:"refreshes"`
}

// SubscriptionRefresh is the transaction refresh an Advance made for a subscribed
// account.
type SubscriptionRefresh struct {
	Account string `json:"account"`
	// TransactionRefresh is the new fctxnref_… id: transaction_refresh[after] of the
	// previous one lists exactly the transactions this refresh created.
	TransactionRefresh string `json:"transaction_refresh"`
	// Status is succeeded, or failed for a persona or link whose refreshes fail.
	Status string `json:"status"`
	// Transactions counts the transactions the refresh created or updated.
	Transactions int `json:"transactions"`
}

// Advance moves the simulated clock forward by days whole days (1 to MaxAdvanceDays),
// as if they had passed at once, and returns the clock with the refreshes it made.
//
// Each linked account's story after the loan (StorySteady unless the link chose one)
// releases the transactions dated up to the new now; a story's status change (the
// StoryDisconnect day) happens, with its event. Then every active account subscribed
// to transactions gets one new transaction refresh, already succeeded (or failed, for
// a persona or link whose refreshes fail), that delivers every released transaction
// not yet delivered, and one financial_connections.account.refreshed_transactions
// webhook, signed like every other: one refresh and one webhook per account per
// Advance, whatever the number of days (advance one day at a time for daily
// webhooks). An account with a transaction refresh pending gets none: the pending
// refresh delivers them when it ends. Accounts not subscribed get no refresh; their
// released transactions come with the next refresh the platform requests. A balance
// refresh that succeeds after the clock moved reports the balance of the released
// transactions as of the simulated now (balance.as_of = Clock.Now).
//
// Until the first Advance the sandbox serves the linked ledgers only, as before.
func (s *Server) Advance(days int) (Clock, error) {
	if days < 1 || days > MaxAdvanceDays {
		return Clock{}, fmt.Errorf("advance clock: days: %d is not in 1..%d", days, MaxAdvanceDays)
	}
	var emits []func()
	s.mu.Lock()
	total := s.advancedDays.Add(int64(days))
	now := s.now()
	out := Clock{Object: "fcsandbox.clock", Now: now.Unix(), AdvancedDays: total, Refreshes: []SubscriptionRefresh{}}
	accts := make([]*account, 0, len(s.accounts))
	for _, a := range s.accounts {
		accts = append(accts, a)
	}
	slices.SortFunc(accts, func(x, y *account) int { return cmp.Compare(x.seq, y.seq) })
	for _, a := range accts {
		if st := s.catchUpLocked(a, now); st != "" {
			if emit, e := s.setStatusLocked(a, st, "", ""); e == nil && emit != nil {
				emits = append(emits, emit)
			}
		}
		if r, emit := s.subscriptionRefreshLocked(a, now); emit != nil {
			out.Refreshes = append(out.Refreshes, r)
			emits = append(emits, emit)
		}
	}
	s.mu.Unlock()
	s.log.Info("clock advanced", "days", days, "advanced_days", total, "subscription_refreshes", len(out.Refreshes))
	for _, emit := range emits {
		emit()
	}
	return out, nil
}

// Now returns the simulated now: Config.Now plus the days Advance added.
func (s *Server) Now() time.Time { return s.now() }

// catchUpLocked generates the account's story up to now and releases what is dated up
// to now into the account (undelivered until a transaction refresh), moving the bank's
// balance with it. It returns the status the story switches the account to, once
// ("" for none). Nothing happens before the first Advance. Callers hold s.mu.
func (s *Server) catchUpLocked(a *account, now time.Time) string {
	if s.advancedDays.Load() == 0 {
		return ""
	}
	if a.plan == nil {
		a.plan = newFuturePlan(a)
	}
	p := a.plan
	n := now.Unix()
	for p.nextDay <= dayNum(n) {
		p.queue = append(p.queue, p.generateDay(p.nextDay)...)
		p.nextDay++
	}
	i := 0
	for ; i < len(p.queue) && p.queue[i].at.Unix() <= n; i++ {
		s.releaseLocked(a, p.queue[i])
	}
	p.queue = p.queue[i:]
	if p.disconnectAt > 0 && p.disconnectAt <= n {
		p.disconnectAt = 0
		return StatusDisconnected
	}
	return ""
}

// releaseLocked adds one generated transaction to the account, posted at its time,
// and to the bank's balance. Callers hold s.mu.
func (s *Server) releaseLocked(a *account, f futureTxn) {
	at, ccy := f.at.Unix(), a.plan.ccy
	t := &txn{json: ledger.Transaction{
		ID: newID(prefixTransaction, 24), Object: objTransaction, Account: a.json.ID,
		Amount: f.amount, Currency: ccy, Description: f.desc, Status: "posted",
		TransactedAt: at, Updated: at,
	}}
	t.json.StatusTransitions.PostedAt = ptr(at)
	a.txns = append(a.txns, t)
	s.transactions[t.json.ID] = t
	if b := a.ledgerBalance; b != nil {
		if b.Current != nil {
			b.Current[ccy] += f.amount
		}
		if b.Cash != nil && b.Cash.Available != nil {
			b.Cash.Available[ccy] += f.amount
		}
	}
}

// subscriptionRefreshLocked makes the daily refresh of a subscribed active account
// (Advance); nil emit when the account gets none. Callers hold s.mu and call emit
// after unlocking.
func (s *Server) subscriptionRefreshLocked(a *account, now time.Time) (SubscriptionRefresh, func()) {
	if !slices.Contains(a.json.Subscriptions, featureTransactions) || a.json.Status != StatusActive {
		return SubscriptionRefresh{}, nil
	}
	if tr := a.json.TransactionRefresh; tr != nil && tr.Status == "pending" {
		return SubscriptionRefresh{}, nil
	}
	s.seq++
	ref := newID(prefixTxnRefresh, 24)
	a.refreshSeq[ref] = s.seq
	n := now.Unix()
	a.json.TransactionRefresh = &ledger.TransactionRefresh{ID: ref, LastAttemptedAt: n,
		NextRefreshAvailableAt: ptr(n + int64(s.cfg.RefreshCooldown/time.Second)), Status: a.refreshOutcome}
	r := SubscriptionRefresh{Account: a.json.ID, TransactionRefresh: ref, Status: a.refreshOutcome}
	if a.refreshOutcome == RefreshSucceeded {
		s.deliverTransactions(a, ref, n)
		for _, t := range a.txns {
			if t.json.TransactionRefresh == ref {
				r.Transactions++
			}
		}
	}
	body, e := marshal(a.json)
	if e != nil {
		s.log.Error("encode account", "fc_account_id", a.json.ID, "error", e.Error())
		return SubscriptionRefresh{}, nil
	}
	id, drop := a.json.ID, a.dropRefreshWebhooks
	s.log.Info("subscription refresh", "fc_account_id", id, "status", r.Status, "transaction_refresh_id", ref, "transactions", r.Transactions)
	return r, func() {
		if drop {
			s.emitUndelivered(EventAccountRefreshedTransactions, body, id)
			return
		}
		s.emit(EventAccountRefreshedTransactions, body, "", "", id)
	}
}

func (s *Server) clockLocked() Clock {
	return Clock{Object: "fcsandbox.clock", Now: s.now().Unix(), AdvancedDays: s.advancedDays.Load(), Refreshes: []SubscriptionRefresh{}}
}

func (s *Server) getClock(w http.ResponseWriter, r *http.Request) {
	if _, aerr := s.authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	s.mu.Lock()
	c := s.clockLocked()
	s.mu.Unlock()
	body, aerr := marshal(c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

func (s *Server) postClockAdvance(w http.ResponseWriter, r *http.Request) {
	if _, aerr := s.authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	var req AdvanceRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid JSON body: expected {\"days\": <1.."+itoa(MaxAdvanceDays)+">}."))
		return
	}
	if req.Days < 1 || req.Days > MaxAdvanceDays {
		writeError(w, invalid(http.StatusBadRequest, "", "days", fmt.Sprintf("Invalid days: %d is not in 1..%d.", req.Days, MaxAdvanceDays)))
		return
	}
	c, err := s.Advance(req.Days)
	if err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "days", err.Error()))
		return
	}
	body, aerr := marshal(c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

func (s *Server) listStories(w http.ResponseWriter, r *http.Request) {
	body, aerr := marshal(listJSON{Object: "list", Data: Stories(), URL: StoriesPath})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// AdvanceClock asks the sandbox at baseURL to move its simulated clock forward by days
// (Server.Advance over HTTP), with the sandbox's API key. hc nil means http.DefaultClient.
func AdvanceClock(ctx context.Context, hc *http.Client, baseURL, apiKey string, days int) (Clock, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	body, err := json.Marshal(AdvanceRequest{Days: days})
	if err != nil {
		return Clock{}, fmt.Errorf("encode advance request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+ClockAdvancePath, bytes.NewReader(body))
	if err != nil {
		return Clock{}, fmt.Errorf("build advance request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	res, err := hc.Do(req)
	if err != nil {
		return Clock{}, fmt.Errorf("advance clock: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return Clock{}, fmt.Errorf("read advance response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e errorJSON
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return Clock{}, fmt.Errorf("advance clock by %d days: %d %s", days, res.StatusCode, e.Error.Message)
		}
		return Clock{}, fmt.Errorf("advance clock by %d days: status %d", days, res.StatusCode)
	}
	var c Clock
	if err := json.Unmarshal(raw, &c); err != nil {
		return Clock{}, fmt.Errorf("decode advance response: %w", err)
	}
	return c, nil
}
