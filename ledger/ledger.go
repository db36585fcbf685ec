// Package ledger is the Go form of a ledger file (DESIGN.md, "Ledger files"): Stripe's
// financial_connections.account and .transaction objects as API version 2023-10-16 returns
// them, limited to the fields underwriter writes. The CSV importer and the snapshots of the
// pipeline write ledger files with it; scoring.ParseLedgerFile reads them.
package ledger

import (
	"encoding/json"
	"fmt"
)

// Object names of the two Stripe objects a ledger holds.
const (
	ObjectAccount     = "financial_connections.account"
	ObjectTransaction = "financial_connections.transaction"
)

// File is a ledger file.
type File struct {
	Accounts []Entry `json:"accounts"`
}

// Entry is one account with its transactions.
type Entry struct {
	Account      Account       `json:"account"`
	Transactions []Transaction `json:"transactions"`
}

// Account is a financial_connections.account object (the fields a ledger needs). It never
// holds account numbers or last4.
type Account struct {
	ID              string   `json:"id"`
	Object          string   `json:"object"`
	Balance         *Balance `json:"balance"`
	Category        string   `json:"category"`
	DisplayName     string   `json:"display_name"`
	InstitutionName string   `json:"institution_name"`
	Livemode        bool     `json:"livemode"`
	Permissions     []string `json:"permissions"`
	Status          string   `json:"status"`
	Subcategory     string   `json:"subcategory"`
}

// Balance is an account's balance object: amounts per lowercase currency, in minor units,
// at AsOf (Unix seconds).
type Balance struct {
	AsOf    int64            `json:"as_of"`
	Current map[string]int64 `json:"current"`
	Type    string           `json:"type"`
	Cash    *Cash            `json:"cash,omitempty"`
}

// Cash is the cash part of a balance: what is available (current less holds).
type Cash struct {
	Available map[string]int64 `json:"available"`
}

// Transaction is a financial_connections.transaction object. Amount is positive when
// money enters the account.
type Transaction struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Account            string            `json:"account"`
	Amount             int64             `json:"amount"`
	Currency           string            `json:"currency"`
	Description        string            `json:"description"`
	Livemode           bool              `json:"livemode"`
	Status             string            `json:"status"`
	StatusTransitions  StatusTransitions `json:"status_transitions"`
	TransactedAt       int64             `json:"transacted_at"`
	TransactionRefresh string            `json:"transaction_refresh"`
	Updated            int64             `json:"updated"`
}

// StatusTransitions holds a transaction's posted_at and void_at (Unix seconds or null).
type StatusTransitions struct {
	PostedAt *int64 `json:"posted_at"`
	VoidAt   *int64 `json:"void_at"`
}

// Marshal encodes f as indented JSON with a trailing newline, the form files are written in.
func (f File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode ledger file: %w", err)
	}
	return append(b, '\n'), nil
}
