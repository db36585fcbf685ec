package fcsandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// AccountStatusPath changes an account's status the way a bank or the
// account holder would (POST, JSON AccountStatusRequest, with the API key);
// {id} is the fca_… id. It is not a Stripe path.
const AccountStatusPath = "/sandbox/v1/accounts/{id}/status"

// AccountStatusRequest is the body of POST /sandbox/v1/accounts/{id}/status.
type AccountStatusRequest struct {
	// Status is StatusActive, StatusInactive or StatusDisconnected.
	Status string `json:"status"`
}

// setStatusLocked moves a to status and returns a function that sends the
// matching event (nil when nothing changed): active → inactive sends
// account.deactivated, inactive → active account.reactivated, and any →
// disconnected account.disconnected (subscriptions are dropped). A
// disconnected account stays disconnected: Stripe needs a new link. Callers
// hold s.mu and call the returned function after unlocking it.
func (s *Server) setStatusLocked(a *account, status, reqID, idemKey string) (func(), *apiError) {
	from := a.json.Status
	switch status {
	case StatusActive, StatusInactive, StatusDisconnected:
	default:
		return nil, errEnum("status", status, []string{StatusActive, StatusInactive, StatusDisconnected})
	}
	if from == status {
		return nil, nil
	}
	if from == StatusDisconnected {
		return nil, invalid(http.StatusBadRequest, "", "status",
			"The account is disconnected and cannot change status; link the bank account again.")
	}
	var typ string
	switch status {
	case StatusInactive:
		typ = EventAccountDeactivated
	case StatusActive:
		typ = EventAccountReactivated
	case StatusDisconnected:
		typ = EventAccountDisconnected
		a.json.Subscriptions = []string{}
	}
	a.json.Status = status
	body, e := marshal(a.json)
	if e != nil {
		return nil, e
	}
	id := a.json.ID
	s.log.Info("account status changed", "request_id", reqID, "fc_account_id", id, "from", from, "to", status)
	return func() { s.emit(typ, body, reqID, idemKey, id) }, nil
}

// SetAccountStatus changes the status of account id (StatusActive,
// StatusInactive or StatusDisconnected) and sends the matching event.
// Refreshes of an account that is not active are refused with
// financial_connections_account_inactive, and a refresh pending when it
// stops being active ends as failed; its data stays readable.
func (s *Server) SetAccountStatus(id, status string) error {
	s.mu.Lock()
	a, ok := s.accounts[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("set account status: no such account %s", id)
	}
	emit, e := s.setStatusLocked(a, status, "", "")
	s.mu.Unlock()
	if e != nil {
		return fmt.Errorf("set account status of %s: %w", id, e)
	}
	if emit != nil {
		emit()
	}
	return nil
}

func (s *Server) postAccountStatus(w http.ResponseWriter, r *http.Request) {
	ri := info(r)
	if _, aerr := s.authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	var req AccountStatusRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, invalid(http.StatusBadRequest, "", "", "Invalid JSON body: expected {\"status\":\"active|inactive|disconnected\"}."))
		return
	}
	if req.Status == "" {
		writeError(w, errMissing("status"))
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	a, ok := s.accounts[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, errNoSuch(objAccount, id, "account"))
		return
	}
	emit, aerr := s.setStatusLocked(a, req.Status, ri.id, "")
	var body []byte
	if aerr == nil {
		body, aerr = marshal(a.json)
	}
	s.mu.Unlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if emit != nil {
		emit()
	}
	writeRaw(w, http.StatusOK, body)
}

// SetAccountStatus asks the sandbox at baseURL to change the status of
// accountID (StatusActive, StatusInactive or StatusDisconnected), with the
// sandbox's API key. hc nil means http.DefaultClient.
func SetAccountStatus(ctx context.Context, hc *http.Client, baseURL, apiKey, accountID, status string) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	body, err := json.Marshal(AccountStatusRequest{Status: status})
	if err != nil {
		return fmt.Errorf("encode status request: %w", err)
	}
	path := strings.Replace(AccountStatusPath, "{id}", accountID, 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build status request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("set status of %s: %w", accountID, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("read status response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e errorJSON
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("set status of %s: %d %s", accountID, res.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("set status of %s: status %d", accountID, res.StatusCode)
	}
	return nil
}

// SetPendingAtRefresh changes what later succeeded transaction refreshes of account id do
// with its pending transactions (PendingKeep, PendingPost or PendingVoid), as a bank
// settles them over time. Tests use it to make data change between two refreshes.
func (s *Server) SetPendingAtRefresh(id, mode string) error {
	switch mode {
	case PendingKeep, PendingPost, PendingVoid:
	default:
		return fmt.Errorf("set pending mode of %s: %q is not %s, %s or %s", id, mode, PendingKeep, PendingPost, PendingVoid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("set pending mode: no such account %s", id)
	}
	a.pendingMode = mode
	return nil
}
