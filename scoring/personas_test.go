package scoring_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

const personaDir = "../fcsandbox/personas"

// manifest is the sample persona manifest, loaded by the sandbox's own loader.
type manifest struct {
	Personas []fcsandbox.Persona
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	ps, err := fcsandbox.LoadPersonas(os.DirFS(personaDir))
	require.NoError(t, err)
	require.Len(t, ps, 7)
	return manifest{Personas: ps}
}

func loadLedger(t *testing.T, file string) scoring.Ledger {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(personaDir, file))
	require.NoError(t, err)
	l, err := scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	return l
}

// shift moves every timestamp of l by d, as the sandbox does when it rebases a persona.
func shift(l scoring.Ledger, d time.Duration) scoring.Ledger {
	out := scoring.Ledger{
		Accounts:     append([]scoring.Account(nil), l.Accounts...),
		Transactions: append([]scoring.Transaction(nil), l.Transactions...),
	}
	for i := range out.Accounts {
		out.Accounts[i].AsOf = out.Accounts[i].AsOf.Add(d)
	}
	for i := range out.Transactions {
		out.Transactions[i].TransactedAt = out.Transactions[i].TransactedAt.Add(d)
	}
	return out
}

func TestPersonaOutcomes(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	// The offsets the brief names, plus a sweep of every day offset over a year with a
	// rotating hour offset: calendar months, weekdays and day boundaries all move.
	shifts := []time.Duration{0, 3 * day, 17 * day, 45 * day, 100 * day, 100*day + 5*time.Hour,
		29*day + 13*time.Hour, -61*day - 7*time.Hour, 200*day + 23*time.Hour, 365 * day}
	for i := 1; i <= 366; i += 5 {
		shifts = append(shifts, time.Duration(i)*day+time.Duration(i%24)*time.Hour)
	}
	// Every persona keeps its outcome, for its story's reason, under the default engine
	// and under v1 (which the decisions recorded under v1 re-score with). approveMargin is
	// how far above the approve band a persona that approves must score: two doublings
	// of the odds under v1; a quarter of one under v2, which reads steady_salaried (no
	// savings, 90 % of income spent) as a PD of about 7 %, inside the band of 10 %.
	for _, eng := range []struct {
		name          string
		e             *scoring.Engine
		approveMargin int
	}{{"v1", v1, 40}, {"default", scoring.DefaultEngine(), 5}} {
		for _, p := range loadManifest(t).Personas {
			t.Run(eng.name+"/"+p.Name, func(t *testing.T) {
				t.Parallel()
				l := loadLedger(t, p.Ledger)
				loan := scoring.Loan{AmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths}
				op := scoring.Operational{RefreshFailed: p.RefreshOutcome == "failed"}
				for _, s := range shifts {
					sl := shift(l, s)
					d, err := eng.e.Underwrite(sl, scoring.LatestAsOf(sl), loan, op)
					require.NoError(t, err)
					require.Equal(t, p.ExpectedOutcome, d.Outcome, "shift %v: score %d reasons %+v", s, d.Score, d.Reasons)
					require.Equal(t, p.Currency, d.Features.Currency)
					checkStory(t, p.Name, d, eng.e.Policy.Bands.ApproveMin+eng.approveMargin)
				}
			})
		}
	}
}

// checkStory pins the reason each persona gets its outcome, so that a persona cannot
// keep its outcome for the wrong reason.
func checkStory(t *testing.T, name string, d scoring.Decision, approveWithMargin int) {
	t.Helper()
	failed := map[string]bool{}
	for _, r := range d.Rules {
		if !r.Passed {
			failed[r.Rule] = true
		}
	}
	f := d.Features
	switch name {
	case "steady_salaried", "high_income_two_accounts":
		require.Empty(t, failed)
		require.GreaterOrEqual(t, d.Score, approveWithMargin, "approve with margin")
		require.Empty(t, d.Reasons)
	case "gig_irregular":
		require.Equal(t, map[string]bool{scoring.RuleLargeDeposits: true}, failed)
		require.Equal(t, scoring.RuleLargeDeposits, d.Reasons[0].Code)
		require.LessOrEqual(t, f.NSFFeeCount90d, 1)
		require.LessOrEqual(t, *f.DaysNegative90d, 5)
	case "overdraft_nsf":
		require.True(t, failed[scoring.RuleNSFExcess])
		require.GreaterOrEqual(t, f.NSFFeeCount90d, 5)
		require.Equal(t, scoring.RuleNSFExcess, d.Reasons[0].Code)
	case "thin_file":
		require.True(t, failed[scoring.RuleInsufficientHistory])
		require.Equal(t, scoring.RuleInsufficientHistory, d.Reasons[0].Code)
		require.Less(t, f.MonthsOfHistory, 2.0)
	case "declining_balances":
		require.True(t, failed[scoring.RuleNegativeDaysExcess])
		require.GreaterOrEqual(t, *f.DaysNegative90d, 20)
		require.False(t, failed[scoring.RuleNSFExcess])
	case "refresh_fails":
		require.Equal(t, map[string]bool{scoring.RuleStaleData: true}, failed)
		require.Equal(t, scoring.RuleStaleData, d.Reasons[0].Code)
		require.GreaterOrEqual(t, d.Score, approveWithMargin, "would approve if the refresh succeeded")
	default:
		t.Fatalf("persona %s has no story check", name)
	}
}
