package fcsandbox

import (
	"io/fs"

	"github.com/cashflow-underwriting/underwriter/ledger"

	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ManifestFile is the persona manifest's file name inside a persona directory.
const ManifestFile = "personas.json"

// Refresh outcomes a persona can ask for.
const (
	RefreshSucceeded = "succeeded"
	RefreshFailed    = "failed"
)

// What a succeeded transaction refresh after the link does with pending
// transactions (Persona.PendingAtRefresh, LinkRequest.PendingAtRefresh).
const (
	// PendingKeep leaves them pending.
	PendingKeep = "keep"
	// PendingPost posts them: status posted, posted_at and updated = now,
	// balance.current moved by their amounts.
	PendingPost = "post"
	// PendingVoid voids them: status void, void_at and updated = now,
	// balance.cash.available no longer holds their amounts.
	PendingVoid = "void"
)

// Account statuses (Persona.AccountStatusAtRefresh, SetAccountStatus).
const (
	StatusActive       = ledger.AccountActive
	StatusInactive     = ledger.AccountInactive
	StatusDisconnected = ledger.AccountDisconnected
)

// Persona is one entry of the persona manifest: a named ledger file with the
// loan it applies for and the outcome the scoring engine is expected to reach.
type Persona struct {
	// Name identifies the persona in links (e.g. "steady_salaried").
	Name string `json:"name"`
	// Ledger is the ledger file name, relative to the persona directory.
	Ledger string `json:"ledger"`
	// Story is one sentence describing the applicant.
	Story string `json:"story"`
	// ExpectedOutcome is approve, decline or refer.
	ExpectedOutcome string `json:"expected_outcome"`
	// LoanAmountMinor is the requested amount in minor units.
	LoanAmountMinor int64 `json:"loan_amount_minor"`
	// TermMonths is the requested term.
	TermMonths int `json:"term_months"`
	// Currency is a lowercase ISO code.
	Currency string `json:"currency"`
	// RefreshOutcome is "succeeded" (default when empty) or "failed": how
	// refreshes requested after the link end.
	RefreshOutcome string `json:"refresh_outcome"`
	// PendingAtRefresh is PendingKeep, PendingPost or PendingVoid: what
	// refreshes after the link do with pending transactions ("" follows
	// Config.PostPendingOnRefresh).
	PendingAtRefresh string `json:"pending_at_refresh,omitempty"`
	// AccountStatusAtRefresh is StatusInactive or StatusDisconnected to make
	// the linked accounts switch to it at the first refresh request after the
	// link (which is then refused with financial_connections_account_inactive
	// and sends the account.deactivated or account.disconnected event); ""
	// keeps them active.
	AccountStatusAtRefresh string `json:"account_status_at_refresh,omitempty"`
	// AfterLoan is the story after the loan of the persona's linked accounts (one of
	// Stories; "" = StorySteady): what their transactions do as the simulated clock
	// moves (Server.Advance). A link may choose another (LinkRequest.AfterLoan).
	AfterLoan string `json:"after_loan,omitempty"`
}

type manifest struct {
	Personas []Persona `json:"personas"`
}

// LoadPersonas reads personas.json from fsys (SamplePersonas(), or os.DirFS of a
// directory), validates it and checks that every ledger file exists and parses.
func LoadPersonas(fsys fs.FS) ([]Persona, error) {
	ps, _, err := loadPersonaLedgers(fsys)
	return ps, err
}

// loadPersonaLedgers loads the manifest and every ledger, keyed by persona name.
func loadPersonaLedgers(fsys fs.FS) ([]Persona, map[string]*ledger.File, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read persona manifest: %w", err)
	}
	var m manifest
	// Unknown manifest fields are allowed: the manifest also serves other tools.
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("decode persona manifest %s: %w", ManifestFile, err)
	}
	if len(m.Personas) == 0 {
		return nil, nil, fmt.Errorf("decode persona manifest %s: no personas", ManifestFile)
	}
	ledgers := make(map[string]*ledger.File, len(m.Personas))
	for i, p := range m.Personas {
		if err := p.validate(); err != nil {
			return nil, nil, fmt.Errorf("persona %d: %w", i, err)
		}
		if _, dup := ledgers[p.Name]; dup {
			return nil, nil, fmt.Errorf("persona %q: duplicate name", p.Name)
		}
		raw, err := fs.ReadFile(fsys, p.Ledger)
		if err != nil {
			return nil, nil, fmt.Errorf("read ledger of persona %q: %w", p.Name, err)
		}
		lf, err := ledger.Parse(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("parse ledger of persona %q: %w", p.Name, err)
		}
		ledgers[p.Name] = &lf
	}
	return m.Personas, ledgers, nil
}

func (p Persona) validate() error {
	switch {
	case p.Name == "":
		return errors.New("missing name")
	case !fs.ValidPath(p.Ledger) || p.Ledger == "." || strings.Contains(p.Ledger, `\`):
		return fmt.Errorf("persona %q: ledger must be a relative file name", p.Name)
	}
	switch p.ExpectedOutcome {
	case "", "approve", "decline", "refer":
	default:
		return fmt.Errorf("persona %q: expected_outcome %q is not approve, decline or refer", p.Name, p.ExpectedOutcome)
	}
	switch p.RefreshOutcome {
	case "", RefreshSucceeded, RefreshFailed:
	default:
		return fmt.Errorf("persona %q: refresh_outcome %q is not succeeded or failed", p.Name, p.RefreshOutcome)
	}
	if err := validPendingMode(p.PendingAtRefresh); err != nil {
		return fmt.Errorf("persona %q: pending_at_refresh: %w", p.Name, err)
	}
	if err := validStatusAtRefresh(p.AccountStatusAtRefresh); err != nil {
		return fmt.Errorf("persona %q: account_status_at_refresh: %w", p.Name, err)
	}
	if p.AfterLoan != "" {
		if err := validStory(p.AfterLoan); err != nil {
			return fmt.Errorf("persona %q: after_loan: %w", p.Name, err)
		}
	}
	return nil
}

func validPendingMode(m string) error {
	switch m {
	case "", PendingKeep, PendingPost, PendingVoid:
		return nil
	}
	return fmt.Errorf("%q is not keep, post or void", m)
}

func validStatusAtRefresh(st string) error {
	switch st {
	case "", StatusInactive, StatusDisconnected:
		return nil
	}
	return fmt.Errorf("%q is not inactive or disconnected", st)
}
