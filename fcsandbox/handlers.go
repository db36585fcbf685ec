package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"cmp"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Enum values, as in the 2023-10-16 API reference.
var (
	sessionPermissions = []string{"balances", "ownership", "payment_method", "transactions"}
	sessionPrefetch    = []string{"balances", "ownership", "transactions"}
	refreshFeatures    = []string{"balance", "ownership", "transactions"}
	holderTypes        = []string{"account", "customer"}
)

const (
	objAccount     = "financial_connections.account"
	objSession     = "financial_connections.session"
	objTransaction = "financial_connections.transaction"
	objTxnRefresh  = "financial_connections.transaction_refresh"
	urlAccounts    = "/v1/financial_connections/accounts"
	urlTxns        = "/v1/financial_connections/transactions"
)

var expandSpec = paramSpec{kind: kindList}

// ---- customers ----

func (s *Server) createCustomer(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	f := ri.form
	if e := f.check(map[string]paramSpec{
		"address": {kind: kindAnyHash}, "description": {}, "email": {}, "metadata": {kind: kindAnyHash},
		"name": {}, "phone": {}, "preferred_locales": {kind: kindList}, "shipping": {kind: kindAnyHash},
		"expand": expandSpec,
	}); e != nil {
		return nil, e
	}
	email, _ := f.str("email")
	if email != "" && (!strings.Contains(email, "@") || strings.ContainsAny(email, " \t")) {
		return nil, invalid(http.StatusBadRequest, "email_invalid", "email", "Invalid email address: "+email)
	}
	md := f.hash("metadata")
	if len(md) > 50 {
		return nil, invalid(http.StatusBadRequest, "", "metadata", "Invalid metadata: metadata may have at most 50 keys.")
	}
	for k, v := range md {
		if k == "" || len(k) > 40 || len(v) > 500 {
			return nil, invalid(http.StatusBadRequest, "", "metadata", "Invalid metadata: keys are 1-40 characters, values at most 500.")
		}
		if v == "" {
			delete(md, k) // an empty value unsets a key
		}
	}
	name, _ := f.str("name")
	desc, _ := f.str("description")
	phone, _ := f.str("phone")
	locales, _ := f.list("preferred_locales")
	c := &customerJSON{
		ID: newID(prefixCustomer, 14), Object: "customer", Created: s.now().Unix(),
		Description: strOrNil(desc), Email: strOrNil(email), Name: strOrNil(name), Phone: strOrNil(phone),
		InvoicePrefix: strings.ToUpper(newID("", 8)), Metadata: md, NextInvoiceSequence: 1,
		PreferredLocales: append([]string{}, locales...), TaxExempt: "none",
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customers[c.ID] = c
	s.log.Info("customer created", "request_id", ri.id, "customer_id", c.ID)
	return marshal(c)
}

func (s *Server) getCustomer(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return nil, errNoSuch("customer", id, "id")
	}
	return marshal(c)
}

// ---- sessions ----

func (s *Server) createSession(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	f := ri.form
	if e := f.check(map[string]paramSpec{
		"account_holder": {kind: kindHash, subs: []string{"type", "customer", "account"}},
		"permissions":    {kind: kindList}, "prefetch": {kind: kindList},
		"filters": {kind: kindAnyHash}, "return_url": {}, "expand": expandSpec,
	}); e != nil {
		return nil, e
	}
	holder := f.hash("account_holder")
	if len(holder) == 0 {
		return nil, errMissing("account_holder")
	}
	typ, ok := holder["type"]
	switch {
	case !ok:
		return nil, errMissing("account_holder[type]")
	case typ == "":
		return nil, errEmpty("account_holder[type]")
	case !contains(holderTypes, typ):
		return nil, errEnum("account_holder[type]", typ, holderTypes)
	case typ == "account":
		return nil, invalid(http.StatusBadRequest, "", "account_holder[type]",
			"fcsandbox supports only account_holder[type]=customer.")
	}
	if _, ok := holder["account"]; ok {
		return nil, invalid(http.StatusBadRequest, "", "account_holder[account]",
			"account_holder[account] cannot be used with account_holder[type]=customer.")
	}
	cus, ok := holder["customer"]
	if !ok {
		return nil, errMissing("account_holder[customer]")
	}
	if cus == "" {
		return nil, errEmpty("account_holder[customer]")
	}
	perms, e := f.enumList("permissions", true, sessionPermissions)
	if e != nil {
		return nil, e
	}
	prefetch, e := f.enumList("prefetch", false, sessionPrefetch)
	if e != nil {
		return nil, e
	}
	for i, p := range prefetch {
		// Prefetching data the account holder did not permit makes no sense; the
		// sandbox refuses it rather than guess what Stripe does.
		if !contains(perms, p) {
			return nil, invalid(http.StatusBadRequest, "", fmt.Sprintf("prefetch[%d]", i),
				fmt.Sprintf("Invalid prefetch[%d]: %s needs the %s permission.", i, p, p))
		}
	}
	countries, _ := f.list("filters[countries]")
	if len(countries) == 0 {
		countries = []string{"US"}
	}
	returnURL, _ := f.str("return_url")

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.customers[cus]; !ok {
		return nil, errNoSuch("customer", cus, "account_holder[customer]")
	}
	id := newID(prefixSession, 24)
	sess := &session{json: sessionJSON{
		ID: id, Object: objSession, AccountHolder: ledger.AccountHolder{Customer: cus, Type: "customer"},
		ClientSecret: id + "_secret_" + newID("", 24), Filters: &filtersJSON{Countries: countries},
		Permissions: perms, Prefetch: prefetch, ReturnURL: strOrNil(returnURL),
	}}
	s.sessions[id] = sess
	s.sessionBySecret[sess.json.ClientSecret] = id
	s.log.Info("session created", "request_id", ri.id, "session_id", id, "customer_id", cus)
	return marshal(s.renderSession(sess))
}

// renderSession fills the accounts list; callers hold s.mu.
func (s *Server) renderSession(sess *session) sessionJSON {
	out := sess.json
	data := make([]ledger.Account, 0, len(sess.accounts))
	for _, id := range sess.accounts {
		data = append(data, s.accounts[id].json)
	}
	out.Accounts = listJSON{Object: "list", Data: data, HasMore: false, URL: urlAccounts}
	return out
}

func (s *Server) getSession(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil, errNoSuch(objSession, id, "session")
	}
	return marshal(s.renderSession(sess))
}

// ---- accounts ----

func (s *Server) getAccount(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, errNoSuch(objAccount, id, "account")
	}
	return marshal(a.json)
}

// pageParams are the common list parameters.
type pageParams struct {
	limit         int
	startingAfter string
	endingBefore  string
}

var listSpec = map[string]paramSpec{"limit": {}, "starting_after": {}, "ending_before": {}, "expand": expandSpec}

func withList(extra map[string]paramSpec) map[string]paramSpec {
	m := map[string]paramSpec{}
	for k, v := range listSpec {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (f form) page() (pageParams, *apiError) {
	p := pageParams{limit: 10}
	n, ok, e := f.int64Param("limit")
	if e != nil {
		return p, e
	}
	if ok {
		switch {
		case n < 1:
			return p, invalid(http.StatusBadRequest, "", "limit", "This value must be greater than or equal to 1.")
		case n > 100:
			return p, invalid(http.StatusBadRequest, "", "limit", "This value must be less than or equal to 100.")
		}
		p.limit = int(n)
	}
	p.startingAfter, _ = f.str("starting_after")
	p.endingBefore, _ = f.str("ending_before")
	if p.startingAfter != "" && p.endingBefore != "" {
		return p, invalid(http.StatusBadRequest, "", "ending_before",
			"You may only specify one of these parameters: ending_before, starting_after.")
	}
	return p, nil
}

// paginate returns one page of items, which are sorted by before (list order).
// The cursor is an object's sort position, so pages stay stable while objects
// are updated between calls.
func paginate[T any](items []T, before func(a, b T) bool, cursor *T, p pageParams) ([]T, bool) {
	switch {
	case cursor != nil && p.startingAfter != "":
		i := sort.Search(len(items), func(i int) bool { return before(*cursor, items[i]) })
		end := min(i+p.limit, len(items))
		return items[i:end], end < len(items)
	case cursor != nil && p.endingBefore != "":
		j := sort.Search(len(items), func(i int) bool { return !before(items[i], *cursor) })
		start := max(j-p.limit, 0)
		return items[start:j], start > 0
	}
	end := min(p.limit, len(items))
	return items[:end], end < len(items)
}

func (s *Server) listAccounts(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	f := ri.form
	if e := f.check(withList(map[string]paramSpec{
		"session": {}, "account_holder": {kind: kindHash, subs: []string{"account", "customer"}},
	})); e != nil {
		return nil, e
	}
	p, e := f.page()
	if e != nil {
		return nil, e
	}
	holder := f.hash("account_holder")
	if _, ok := holder["account"]; ok {
		if _, ok := holder["customer"]; ok {
			return nil, invalid(http.StatusBadRequest, "", "account_holder",
				"You may only specify one of these parameters: account_holder[account], account_holder[customer].")
		}
	}
	sessID, hasSess := f.str("session")
	cus, hasCus := holder["customer"]
	connected, hasConnected := holder["account"]

	s.mu.Lock()
	defer s.mu.Unlock()
	if hasSess {
		if _, ok := s.sessions[sessID]; !ok {
			return nil, errNoSuch(objSession, sessID, "session")
		}
	}
	if hasCus {
		if _, ok := s.customers[cus]; !ok {
			return nil, errNoSuch("customer", cus, "account_holder[customer]")
		}
	}
	if hasConnected {
		return nil, errNoSuch("account", connected, "account_holder[account]")
	}
	var items []*account
	for _, a := range s.accounts {
		if hasSess && !slices.Contains(s.sessions[sessID].accounts, a.json.ID) {
			continue
		}
		if hasCus && a.json.AccountHolder.Customer != cus {
			continue
		}
		items = append(items, a)
	}
	// Newest first; accounts linked together keep their link order reversed.
	before := func(a, b *account) bool { return a.seq > b.seq }
	slices.SortFunc(items, func(a, b *account) int { return cmp.Compare(b.seq, a.seq) })
	var cursor **account
	if id := p.startingAfter + p.endingBefore; id != "" {
		c, ok := s.accounts[id]
		if !ok {
			return nil, errNoSuch(objAccount, id, cursorParam(p))
		}
		cursor = &c
	}
	page, more := paginate(items, before, cursor, p)
	data := make([]ledger.Account, 0, len(page))
	for _, a := range page {
		data = append(data, a.json)
	}
	return marshal(listJSON{Object: "list", Data: data, HasMore: more, URL: urlAccounts})
}

func cursorParam(p pageParams) string {
	if p.startingAfter != "" {
		return "starting_after"
	}
	return "ending_before"
}

func (s *Server) disconnectAccount(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	a, ok := s.accounts[id]
	if !ok {
		s.mu.Unlock()
		return nil, errNoSuch(objAccount, id, "account")
	}
	emit, e := s.setStatusLocked(a, StatusDisconnected, ri.id, ri.idemKey)
	var body []byte
	if e == nil {
		body, e = marshal(a.json)
	}
	s.mu.Unlock()
	if emit != nil {
		emit()
	}
	return body, e
}

// ---- transactions ----

func (s *Server) listTransactions(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	f := ri.form
	if e := f.check(withList(map[string]paramSpec{
		"account":             {},
		"transacted_at":       {kind: kindIntRange},
		"transaction_refresh": {kind: kindHash, subs: []string{"after"}},
	})); e != nil {
		return nil, e
	}
	acctID, ok := f.str("account")
	if !ok {
		return nil, errMissing("account")
	}
	if acctID == "" {
		return nil, errEmpty("account")
	}
	p, e := f.page()
	if e != nil {
		return nil, e
	}
	match, e := f.transactedAt()
	if e != nil {
		return nil, e
	}
	after, hasAfter := f.v["transaction_refresh[after]"]

	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[acctID]
	if !ok {
		return nil, errNoSuch(objAccount, acctID, "account")
	}
	if !a.hasTxnData {
		return nil, invalid(http.StatusBadRequest, "financial_connections_no_successful_transaction_refresh", "account",
			"This account has no successful transaction refresh. Refresh its transactions before listing them.")
	}
	var afterSeq int64
	if hasAfter {
		ref := after[len(after)-1]
		seq, ok := a.refreshSeq[ref]
		if !ok {
			return nil, errNoSuch(objTxnRefresh, ref, "transaction_refresh[after]")
		}
		afterSeq = seq
	}
	var items []*txn
	for _, t := range a.txns {
		if t.refreshSeq == 0 || t.refreshSeq <= afterSeq || !match(t.json.TransactedAt) {
			continue
		}
		items = append(items, t)
	}
	slices.SortFunc(items, compareTxn)
	before := func(x, y *txn) bool { return compareTxn(x, y) < 0 }
	var cursor **txn
	if id := p.startingAfter + p.endingBefore; id != "" {
		c, ok := s.transactions[id]
		if !ok || c.json.Account != acctID {
			return nil, errNoSuch(objTransaction, id, cursorParam(p))
		}
		cursor = &c
	}
	page, more := paginate(items, before, cursor, p)
	data := make([]ledger.Transaction, 0, len(page))
	for _, t := range page {
		data = append(data, t.json)
	}
	return marshal(listJSON{Object: "list", Data: data, HasMore: more, URL: urlTxns})
}

// compareTxn orders transactions newest first: transacted_at descending, then
// id descending as the tie-break. Neither changes after link, so the order is stable.
func compareTxn(a, b *txn) int {
	if c := cmp.Compare(b.json.TransactedAt, a.json.TransactedAt); c != 0 {
		return c
	}
	return strings.Compare(b.json.ID, a.json.ID)
}

// transactedAt parses transacted_at=<int> or transacted_at[gt|gte|lt|lte]=<int>.
func (f form) transactedAt() (func(int64) bool, *apiError) {
	exact, hasExact, e := f.int64Param("transacted_at")
	if e != nil {
		return nil, e
	}
	type bound struct {
		op string
		v  int64
	}
	var bounds []bound
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		name := "transacted_at[" + op + "]"
		v, ok, e := f.int64Param(name)
		if e != nil {
			return nil, e
		}
		if ok {
			bounds = append(bounds, bound{op, v})
		}
	}
	if hasExact && len(bounds) > 0 {
		return nil, invalid(http.StatusBadRequest, "", "transacted_at",
			"transacted_at takes either an integer or a hash of gt, gte, lt and lte, not both.")
	}
	return func(t int64) bool {
		if hasExact {
			return t == exact
		}
		for _, b := range bounds {
			switch {
			case b.op == "gt" && !(t > b.v), b.op == "gte" && !(t >= b.v),
				b.op == "lt" && !(t < b.v), b.op == "lte" && !(t <= b.v):
				return false
			}
		}
		return true
	}, nil
}

func (s *Server) getTransaction(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transactions[id]
	if !ok || t.refreshSeq == 0 {
		return nil, errNoSuch(objTransaction, id, "transaction")
	}
	return marshal(t.json)
}

// ---- events ----

func (s *Server) getEvent(r *http.Request, ri *reqInfo) ([]byte, *apiError) {
	if e := ri.form.check(map[string]paramSpec{"expand": expandSpec}); e != nil {
		return nil, e
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.events[id]
	if !ok {
		return nil, errNoSuch("event", id, "id")
	}
	return b, nil
}
