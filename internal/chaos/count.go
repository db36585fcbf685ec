package chaos

import (
	"context"
	"fmt"
	"io/fs"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/ledger"
)

// Duplicates is what Postgres holds more than once after a run.
type Duplicates struct {
	// Decisions is the decision rows beyond one per application.
	Decisions int `json:"decisions"`
	// Transactions is the transaction rows beyond one per Stripe transaction id and
	// account, plus, per application, the rows beyond the number of transactions its
	// persona's ledger has: the same bank transaction stored under a second id.
	Transactions int `json:"transactions"`
	// Accounts is, per application, the accounts beyond its persona's ledger's: a second
	// link of the same bank.
	Accounts int `json:"accounts"`
}

// Why these queries: decisions.application_id and transactions.id are primary keys, so
// the first two counts are zero unless a constraint is dropped; they stay as the
// guard of that. What the keys cannot catch is a transaction stored again under
// another id (an account linked twice, or a sync that minted new rows), which shows as
// more rows or accounts for an application than its persona's ledger has.
const (
	duplicateDecisionsSQL = `select coalesce(sum(n - 1), 0) from (
		select count(*) as n from decisions group by application_id having count(*) > 1) d`
	duplicateTransactionIDsSQL = `select coalesce(sum(n - 1), 0) from (
		select count(*) as n from transactions group by account_id, id having count(*) > 1) t`
	applicationHoldingsSQL = `select a.external_id, count(distinct aa.account_id), count(t.id)
		from application_accounts aa join applications a on a.id = aa.application_id
		left join transactions t on t.account_id = aa.account_id
		group by a.external_id`
)

// ledgerSize is how many accounts and transactions a persona's ledger has.
type ledgerSize struct{ accounts, transactions int }

// ledgerSizes reads every persona's ledger from fsys.
func ledgerSizes(fsys fs.FS, personas []fcsandbox.Persona) (map[string]ledgerSize, error) {
	out := map[string]ledgerSize{}
	for _, p := range personas {
		b, err := fs.ReadFile(fsys, p.Ledger)
		if err != nil {
			return nil, fmt.Errorf("read the ledger of persona %s: %w", p.Name, err)
		}
		f, err := ledger.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("parse the ledger of persona %s: %w", p.Name, err)
		}
		s := ledgerSize{accounts: len(f.Accounts)}
		for _, e := range f.Accounts {
			s.transactions += len(e.Transactions)
		}
		out[p.Name] = s
	}
	return out, nil
}

// newestAnchor is the latest anchor (ledger "now") of the personas' ledgers.
func newestAnchor(fsys fs.FS, personas []fcsandbox.Persona) (int64, error) {
	var newest int64
	for _, p := range personas {
		b, err := fs.ReadFile(fsys, p.Ledger)
		if err != nil {
			return 0, fmt.Errorf("read the ledger of persona %s: %w", p.Name, err)
		}
		f, err := ledger.Parse(b)
		if err != nil {
			return 0, fmt.Errorf("parse the ledger of persona %s: %w", p.Name, err)
		}
		newest = max(newest, f.Anchor())
	}
	return newest, nil
}

// countDuplicates counts what the database at url holds more than once, the
// applications' holdings measured against their personas' ledgers.
func countDuplicates(ctx context.Context, url string, apps []applicant, sizes map[string]ledgerSize) (Duplicates, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return Duplicates{}, fmt.Errorf("connect to postgres to count duplicates: %w", err)
	}
	defer conn.Close(ctx)
	var d Duplicates
	if err := conn.QueryRow(ctx, duplicateDecisionsSQL).Scan(&d.Decisions); err != nil {
		return Duplicates{}, fmt.Errorf("count duplicate decisions: %w", err)
	}
	if err := conn.QueryRow(ctx, duplicateTransactionIDsSQL).Scan(&d.Transactions); err != nil {
		return Duplicates{}, fmt.Errorf("count duplicate transaction ids: %w", err)
	}
	rows, err := conn.Query(ctx, applicationHoldingsSQL)
	if err != nil {
		return Duplicates{}, fmt.Errorf("count the applications' accounts and transactions: %w", err)
	}
	type holding struct {
		ID           string
		Accounts     int
		Transactions int
	}
	held, err := pgx.CollectRows(rows, pgx.RowToStructByPos[holding])
	if err != nil {
		return Duplicates{}, fmt.Errorf("count the applications' accounts and transactions: %w", err)
	}
	persona := map[string]string{}
	for _, a := range apps {
		persona[a.id] = a.persona.Name
	}
	for _, h := range held {
		want, ok := sizes[persona[h.ID]]
		if !ok {
			return Duplicates{}, fmt.Errorf("application %s in the database is none of the run's", h.ID)
		}
		d.Accounts += max(0, h.Accounts-want.accounts)
		d.Transactions += max(0, h.Transactions-want.transactions)
	}
	return d, nil
}

// Mismatch is an application decided differently by the chaos run than by the
// fault-free run.
type Mismatch struct {
	ApplicationID string `json:"application_id"`
	Reference     Result `json:"reference"`
	Chaos         Result `json:"chaos"`
}

// compare returns the applications both runs decided, but differently: another
// outcome, score or list of reason codes.
func compare(reference, chaos []Result) []Mismatch {
	ref := map[string]Result{}
	for _, r := range reference {
		ref[r.ApplicationID] = r
	}
	var out []Mismatch
	for _, c := range chaos {
		r, ok := ref[c.ApplicationID]
		if !ok || !r.Decided() || !c.Decided() {
			continue
		}
		sameScore := (r.Score == nil) == (c.Score == nil) && (r.Score == nil || *r.Score == *c.Score)
		if r.Outcome != c.Outcome || !sameScore || !slices.Equal(r.ReasonCodes, c.ReasonCodes) {
			out = append(out, Mismatch{ApplicationID: c.ApplicationID, Reference: r, Chaos: c})
		}
	}
	return out
}
