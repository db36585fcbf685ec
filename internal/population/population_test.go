package population

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

var (
	flagN    = flag.Int("population.n", 0, "applicants in TestShippedModelTable (default 2000, 400 under -race)")
	flagSeed = flag.Uint64("population.seed", 2, "seed of the population of TestShippedModelTable (default 2: scorecard v2 was trained on seed 1)")
)

// raceEnabled is set by race_test.go under -race, where the full table would take minutes.
var raceEnabled = false

// tableSize is the population of TestShippedModelTable: the 2,000, fewer under
// the race detector, -population.n when given.
func tableSize() int {
	switch {
	case *flagN > 0:
		return *flagN
	case raceEnabled:
		return 400
	default:
		return 2000
	}
}

// TestShippedModelTable measures the shipped default engine (scorecard v2, policy v2) on
// applicants it was not trained on, logs the table, and holds it to issue 8's
// goals: income within ±10 % for at least 90 % of every income type, an AUC at least 0.90
// of the true PD's, a calibration error of at most 0.03 and, among applicants whose
// true PD is under 10 %, approval rates within four-fifths across income types. Those
// goals are set for 2,000 applicants (the default size, and `make test`'s model step);
// the smaller population the race detector affords gets looser bars (goalsFor).
func TestShippedModelTable(t *testing.T) {
	t.Parallel()
	n := tableSize()
	start := time.Now()
	results, err := Run(*flagSeed, n, nil, 0)
	require.NoError(t, err)
	rep, err := Summarise(results)
	require.NoError(t, err)
	t.Logf("go test ./internal/population/ -run TestShippedModelTable -v -population.n=%d -population.seed=%d (%s, %s)\n\n%s",
		n, *flagSeed, scoring.DefaultModel().ModelVersion, time.Since(start).Round(time.Second), rep.Markdown())

	require.Equal(t, n, rep.N)
	for _, typ := range IncomeTypes() {
		ts := rep.ByType[typ]
		require.Positive(t, ts.IncomeWithin.N, "no %s applicants", typ)
		require.Positive(t, ts.LowRiskApproved.N, "no low-risk %s applicants", typ)
	}
	require.Greater(t, rep.TruePDAUC, 0.75, "labels drawn from the true PD must rank by it")
	require.Greater(t, rep.ScoreAUC, 0.5, "the shipped score must beat chance")
	require.InDelta(t, rep.ScoreAUC/rep.TruePDAUC, rep.AUCRatio, 1e-12)
	g := goalsFor(n)
	for _, typ := range IncomeTypes() {
		require.GreaterOrEqual(t, rep.ByType[typ].IncomeWithin.Rate(), incomeGoal, "income accuracy of %s", typ)
	}
	require.GreaterOrEqual(t, rep.AUCRatio, g.minAUCRatio, "the shipped score ranks far below the true PD")
	require.LessOrEqual(t, rep.CalibrationError, g.maxCalibrationError, "the shipped PD is not calibrated")
	require.GreaterOrEqual(t, rep.MinApprovalRatio, g.minApprovalRatio, "low-risk applicants of one income type are approved far less often")
	total := 0
	for _, d := range rep.Deciles {
		total += d.N
		require.LessOrEqual(t, d.MinScore, d.MaxScore)
	}
	require.Equal(t, n, total)
	for _, k := range []string{"employer", "uber", "doordash", "ssa"} {
		found := false
		for key := range rep.Deposits {
			found = found || strings.HasPrefix(key, k+" | ")
		}
		require.True(t, found, "no %s deposits tallied", k)
	}
}

// shippedGoals are the bars TestShippedModelTable holds the shipped model to.
type shippedGoals struct{ minAUCRatio, maxCalibrationError, minApprovalRatio float64 }

// goalsFor returns issue 8's goals for 2,000 applicants or more, and looser bars for
// fewer: 400 applicants give score deciles of 40, whose observed default rates alone
// vary by ±0.05, and about 200 low-risk applicants split over four income types. The
// loose bars still fail a model that misreads gig income (v1: approval ratio 0.12) or
// an uncalibrated PD (v1: calibration error 0.11).
func goalsFor(n int) shippedGoals {
	if n >= 2000 {
		return shippedGoals{minAUCRatio: 0.90, maxCalibrationError: 0.03, minApprovalRatio: FourFifths}
	}
	return shippedGoals{minAUCRatio: 0.85, maxCalibrationError: 0.07, minApprovalRatio: 0.6}
}

// TestProfiles checks the mix of income types, the default rate and the PD on the issue's
// 2,000 applicants (profiles only: labels do not depend on ledgers).
func TestProfiles(t *testing.T) {
	t.Parallel()
	const n = 2000
	count := map[IncomeType]int{}
	var defaults int
	var meanPD float64
	scores, defaulted := make([]float64, n), make([]bool, n)
	for i := range n {
		p := NewProfile(1, i)
		tr := p.Traits
		count[tr.IncomeType]++
		if p.Defaulted {
			defaults++
		}
		meanPD += p.TruePD / n
		scores[i], defaulted[i] = -p.TruePD, p.Defaulted
		require.Equal(t, fmt.Sprintf("app%06d", i), p.ID)
		require.True(t, p.TruePD > 0 && p.TruePD < 1)
		require.InDelta(t, TruePD(tr, p.PaymentToIncome), p.TruePD, 0)
		require.InDelta(t, float64(scoring.ProposedPayment(p.Loan))/float64(tr.MonthlyIncome), p.PaymentToIncome, 1e-15)
		require.GreaterOrEqual(t, p.Loan.AmountMinor, int64(minLoanMinor))
		require.Zero(t, p.Loan.AmountMinor%loanStepMinor)
		require.Contains(t, loanTerms, p.Loan.TermMonths)
		require.True(t, tr.HistoryDays >= minHistoryDays && tr.HistoryDays <= maxHistoryDays, "history %d days", tr.HistoryDays)
		require.True(t, !p.AsOf.After(LatestAsOf) && p.AsOf.After(LatestAsOf.AddDate(0, 0, -asOfSpreadDays)))
		require.True(t, tr.MonthlyIncome >= minIncomeMinor && tr.MonthlyIncome <= maxIncomeMinor)
		switch tr.IncomeType {
		case Gig:
			require.True(t, len(tr.Platforms) >= 1 && len(tr.Platforms) <= 4)
			require.Equal(t, 1.0, tr.GigShare)
		case SalariedSideGig:
			require.True(t, len(tr.Platforms) >= 1 && len(tr.Platforms) <= 2)
			require.True(t, tr.GigShare > 0 && tr.GigShare < 1)
			require.NotEmpty(t, tr.PayFrequency)
		case Salaried:
			require.Empty(t, tr.Platforms)
			require.NotEmpty(t, tr.PayFrequency)
		case Benefits:
			require.NotEmpty(t, tr.Benefits)
		}
		require.Len(t, slices.Compact(slices.Sorted(slices.Values(tr.Platforms))), len(tr.Platforms), "platforms repeat")
	}
	for k, typ := range IncomeTypes() {
		share := float64(count[typ]) / n
		t.Logf("%s: %d (%.1f %%)", typ, count[typ], 100*share)
		require.InDelta(t, incomeTypeShares[k], share, 0.03, "share of %s", typ)
	}
	rate := float64(defaults) / n
	auc, err := scoring.AUC(scores, defaulted)
	require.NoError(t, err)
	t.Logf("default rate %.4f, mean true PD %.4f, AUC of the true PD %.4f, intercept %.4f", rate, meanPD, auc, pdIntercept())
	require.True(t, rate >= 0.10 && rate <= 0.16, "default rate %.4f outside 10–16 %%", rate)
	require.InDelta(t, TargetDefaultRate, meanPD, 0.01)
	require.Greater(t, auc, 0.75)
}

// TestApplicantsDeterministic: an applicant is a pure function of (seed, index).
func TestApplicantsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := NewApplicant(7, 3), NewApplicant(7, 3)
	da, err := a.Ledger.Marshal()
	require.NoError(t, err)
	db, err := b.Ledger.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(da), string(db))
	require.Equal(t, a.Income, b.Income)
	require.Equal(t, NewProfile(7, 3), a.Profile)

	all := Generate(7, 5)
	dg, err := all[3].Ledger.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(da), string(dg), "Generate draws applicant i as NewApplicant does")

	other := NewApplicant(8, 3)
	do, err := other.Ledger.Marshal()
	require.NoError(t, err)
	require.NotEqual(t, string(da), string(do), "another seed, another applicant")
}

// TestLedgers checks, applicant by applicant, that the ledger is a valid ledger file that
// scoring parses, that balances agree with the posted transactions, and that the stored
// true income is what the ledger's income deposits give.
func TestLedgers(t *testing.T) {
	t.Parallel()
	n := 80
	if raceEnabled {
		n = 24
	}
	ratios := map[IncomeType][]float64{}
	for _, a := range Generate(2, n) {
		ratios[a.Traits.IncomeType] = append(ratios[a.Traits.IncomeType],
			float64(a.TrueMonthlyIncome)/float64(a.Traits.MonthlyIncome))
		t.Run(a.ID, func(t *testing.T) {
			checkLedger(t, a)
			checkSavingsLegs(t, a)
			checkIncome(t, a)
		})
	}
	require.Len(t, ratios, len(IncomeTypes()), "every income type is covered")
	for typ, r := range ratios {
		var mean float64
		for _, x := range r {
			mean += x / float64(len(r))
		}
		t.Logf("%s: true ÷ latent income %.3f on average over %d applicants", typ, mean, len(r))
		require.InDelta(t, 1, mean, 0.15, "%s deposits average the latent income", typ)
	}
}

func checkLedger(t *testing.T, a Applicant) {
	data, err := a.Ledger.Marshal()
	require.NoError(t, err)
	parsed, err := scoring.ParseLedgerFile(data)
	require.NoError(t, err)
	require.Equal(t, scoring.FromFile(a.Ledger), parsed, "the file round-trips through Marshal and ParseLedgerFile")

	wantAccounts := 1
	if a.Traits.SavingsRate > 0 && a.Traits.SavingsLinked {
		wantAccounts = 2
	}
	require.Len(t, a.Ledger.Accounts, wantAccounts)
	asOf := a.AsOf.Unix()
	ids := map[string]bool{}
	for k, e := range a.Ledger.Accounts {
		acct := e.Account
		require.Equal(t, []string{"checking", "savings"}[k], acct.Subcategory)
		require.Equal(t, asOf, acct.Balance.AsOf)
		var posted, pendingOut int64
		oldest := asOf
		for j, tx := range e.Transactions {
			require.False(t, ids[tx.ID], "transaction id %s repeated", tx.ID)
			ids[tx.ID] = true
			require.Equal(t, acct.ID, tx.Account)
			require.Less(t, tx.TransactedAt, asOf, "dated before balance.as_of")
			require.NotZero(t, tx.Amount)
			require.NotEmpty(t, strings.TrimSpace(tx.Description))
			if j > 0 {
				require.LessOrEqual(t, tx.TransactedAt, e.Transactions[j-1].TransactedAt, "newest first")
			}
			switch tx.Status {
			case ledger.StatusPosted:
				require.NotNil(t, tx.StatusTransitions.PostedAt)
				require.LessOrEqual(t, *tx.StatusTransitions.PostedAt, asOf)
				require.Nil(t, tx.StatusTransitions.VoidAt)
				posted += tx.Amount
				oldest = min(oldest, tx.TransactedAt)
			case ledger.StatusPending:
				require.Equal(t, a.AsOf.Format(time.DateOnly), time.Unix(tx.TransactedAt, 0).UTC().Format(time.DateOnly),
					"pending only on the as-of morning")
				if tx.Amount < 0 {
					pendingOut += tx.Amount
				}
			case ledger.StatusVoid:
				require.NotNil(t, tx.StatusTransitions.VoidAt)
				require.Nil(t, tx.StatusTransitions.PostedAt)
			default:
				t.Fatalf("status %q", tx.Status)
			}
		}
		current := acct.Balance.Current[currency]
		require.Equal(t, current+pendingOut, acct.Balance.Cash.Available[currency], "available = current less pending debits")
		if k == 0 {
			opening := int64(a.Traits.BufferMonths * float64(a.Traits.MonthlyIncome))
			require.Equal(t, opening, current-posted, "current balance = opening + Σ posted")
		} else {
			require.GreaterOrEqual(t, current-posted, int64(0), "the savings account opened with money in it")
		}
		if k == 0 {
			span := float64(asOf-oldest) / 86400
			require.InDelta(t, float64(a.Traits.HistoryDays), span, 10, "history of %d days", a.Traits.HistoryDays)
		}
	}
}

// checkSavingsLegs: every transfer from checking to a linked savings account has its
// savings leg, the same amount, on the same day or the next (unless that is after as_of).
func checkSavingsLegs(t *testing.T, a Applicant) {
	if len(a.Ledger.Accounts) < 2 {
		return
	}
	chk, sav := a.Ledger.Accounts[0], a.Ledger.Accounts[1]
	legs := map[string]int64{} // "day|amount" of savings legs
	day := func(ts int64) time.Time { return time.Unix(ts, 0).UTC().Truncate(24 * time.Hour) }
	for _, tx := range sav.Transactions {
		legs[fmt.Sprintf("%s|%d", day(tx.TransactedAt).Format(time.DateOnly), tx.Amount)]++
	}
	asOfDay := a.AsOf.UTC().Truncate(24 * time.Hour)
	transfers := 0
	for _, tpl := range linkedSaveTemplates {
		out := strings.ReplaceAll(tpl.out, "{ACCT4}", sav.Account.Last4)
		for _, tx := range chk.Transactions {
			if tx.Description != out || tx.Status != ledger.StatusPosted {
				continue
			}
			transfers++
			d := day(tx.TransactedAt)
			same := fmt.Sprintf("%s|%d", d.Format(time.DateOnly), -tx.Amount)
			next := fmt.Sprintf("%s|%d", d.AddDate(0, 0, 1).Format(time.DateOnly), -tx.Amount)
			switch {
			case legs[same] > 0:
				legs[same]--
			case legs[next] > 0:
				legs[next]--
			default:
				require.True(t, d.Equal(asOfDay), "transfer of %d on %s has no savings leg", -tx.Amount, d.Format(time.DateOnly))
			}
		}
	}
	if a.Traits.SavingsRate > 0.02 && a.Traits.HistoryDays > 300 && a.Traits.OverdraftHabit < 0.2 {
		require.Positive(t, transfers, "a steady saver moves money to savings")
	}
}

func checkIncome(t *testing.T, a Applicant) {
	byID := map[string]ledger.Transaction{}
	for _, tx := range a.Ledger.Accounts[0].Transactions {
		byID[tx.ID] = tx
	}
	require.NotEmpty(t, a.Income)
	sources := map[string]bool{}
	for _, it := range a.Income {
		tx, ok := byID[it.TransactionID]
		require.True(t, ok, "income %s is a checking transaction", it.TransactionID)
		require.Equal(t, ledger.StatusPosted, tx.Status)
		require.Positive(t, tx.Amount)
		require.Equal(t, tx.Amount, it.Amount)
		require.Equal(t, tx.Description, it.Description)
		day := time.Unix(tx.TransactedAt, 0).UTC()
		require.Equal(t, day.Format(time.DateOnly), it.Day)
		if it.Month != day.Format(monthLayout) { // due on the 1st, paid the business day before
			require.Equal(t, day.AddDate(0, 0, 4).Format(monthLayout), it.Month, "%s paid %s for %s", it.Source, it.Day, it.Month)
		}
		require.True(t, isIncomeTemplate(it), "%s template %q is not an income template", it.Source, it.Template)
		sources[it.Source] = true
	}
	switch a.Traits.IncomeType {
	case Salaried:
		require.Equal(t, map[string]bool{"employer": true}, sources)
	case Gig:
		for _, p := range a.Traits.Platforms {
			require.True(t, sources[string(p)], "no payout from %s", p)
		}
	}

	// Recompute the window independently: complete months, newest six, starting at least
	// windowLeadDays after the first day of history.
	first := a.AsOf.AddDate(0, 0, -a.Traits.HistoryDays)
	first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	asOfDay := time.Date(a.AsOf.Year(), a.AsOf.Month(), a.AsOf.Day(), 0, 0, 0, 0, time.UTC)
	var months []string
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(asOfDay); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, -1)
		if m.Sub(first) >= windowLeadDays*24*time.Hour && !end.After(asOfDay) {
			months = append(months, m.Format(monthLayout))
		}
	}
	months = months[max(0, len(months)-trueIncomeMonths):]
	require.Equal(t, months, a.IncomeMonths)
	require.GreaterOrEqual(t, len(months), 4, "six months of history hold four complete months past the lead days")

	var sum int64
	for _, it := range a.Income {
		if slices.Contains(months, it.Month) {
			sum += byID[it.TransactionID].Amount
		}
	}
	want := int64(math.Round(float64(sum) / float64(len(months))))
	require.InDelta(t, want, a.TrueMonthlyIncome, 1, "true income is the window's income deposits per month")
	ratio := float64(a.TrueMonthlyIncome) / float64(a.Traits.MonthlyIncome)
	require.True(t, ratio > 0.4 && ratio < 2, "true income %d against latent %d", a.TrueMonthlyIncome, a.Traits.MonthlyIncome)
}

// isIncomeTemplate reports whether an income item's template is one of its source's
// income templates (never a transfer, refund or advance).
func isIncomeTemplate(it IncomeItem) bool {
	switch it.Kind {
	case KindPay:
		return it.Source == "employer" && slices.Contains(payrollTemplates, it.Template)
	case KindBenefit:
		return slices.Contains(benefitTemplates[Benefit(it.Source)], it.Template)
	case KindGig:
		tm := gigTemplates[Platform(it.Source)]
		return slices.Contains(tm.scheduled, it.Template) || slices.Contains(tm.instant, it.Template)
	}
	return false
}

func TestIncomeWindow(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return v.Add(12 * time.Hour)
	}
	months := func(ts []time.Time) []string {
		out := []string{}
		for _, m := range ts {
			out = append(out, m.Format(monthLayout))
		}
		return out
	}
	for _, tc := range []struct {
		name, start, asOf string
		want              []string
	}{
		{"mid-month as-of drops its month", "2025-01-01", "2026-10-15",
			[]string{"2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"}},
		{"month-end as-of keeps its month", "2025-01-01", "2026-09-30",
			[]string{"2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"}},
		{"short history", "2026-04-20", "2026-11-01",
			[]string{"2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"}},
		{"a month starting within the lead days is left out", "2026-04-29", "2026-10-20",
			[]string{"2026-06", "2026-07", "2026-08", "2026-09"}},
		{"a month starting exactly the lead days after is kept", "2026-04-27", "2026-10-20",
			[]string{"2026-05", "2026-06", "2026-07", "2026-08", "2026-09"}},
		{"the history's own first month needs the lead days too", "2026-05-01", "2026-11-01",
			[]string{"2026-06", "2026-07", "2026-08", "2026-09", "2026-10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, months(IncomeWindow(d(tc.start), d(tc.asOf))))
		})
	}
}

// TestSummarise checks the report's arithmetic on results small enough to work by hand.
func TestSummarise(t *testing.T) {
	t.Parallel()
	var rs []Result
	// 20 applicants: scores 500, 510, …; every fourth defaults; PD 0.1 below 600, else 0.
	for i := range 20 {
		typ := []IncomeType{Salaried, Gig, Benefits, SalariedSideGig}[i%4]
		r := Result{ID: fmt.Sprintf("r%02d", i), IncomeType: typ, TrueMonthlyIncome: 100000,
			MonthlyIncomeEst: 100000, Score: 500 + 10*i, TruePD: 0.05, Defaulted: i%4 == 1, Outcome: scoring.OutcomeDecline}
		if i < 10 {
			r.PD = 0.1
		}
		if typ == Gig {
			r.MonthlyIncomeEst = 0
			r.FailedRules = []string{scoring.RuleNoIncomeDetected}
		} else {
			r.Outcome = scoring.OutcomeApprove
		}
		if i == 0 {
			r.MonthlyIncomeEst = 111000 // outside ±10 %
		}
		rs = append(rs, r)
	}
	rep, err := Summarise(rs)
	require.NoError(t, err)
	require.Equal(t, 20, rep.N)
	require.Equal(t, 5, rep.Defaults)
	require.Equal(t, Share{Hits: 4, N: 5}, rep.ByType[Salaried].IncomeWithin)
	require.Equal(t, Share{Hits: 0, N: 5}, rep.ByType[Gig].IncomeWithin)
	require.Equal(t, Share{Hits: 5, N: 5}, rep.ByType[Gig].ZeroEstimate)
	require.Equal(t, Share{Hits: 0, N: 5}, rep.ByType[Gig].LowRiskApproved)
	require.Equal(t, 5, rep.ByType[Gig].LowRiskFailedRules[scoring.RuleNoIncomeDetected])
	require.Equal(t, 1.0, rep.ByType[Benefits].LowRiskApprovalRatio)
	require.Equal(t, 0.0, rep.ByType[Gig].LowRiskApprovalRatio)
	require.Equal(t, 0.0, rep.MinApprovalRatio)
	// Defaulters are the gig applicants (i ≡ 1 mod 4), scores 510, 550, 590, 630, 670:
	// AUC = P(score of a good > score of a bad).
	var above float64
	for i := range 20 {
		if i%4 == 1 {
			continue
		}
		for j := 1; j < 20; j += 4 {
			if i > j {
				above++
			}
		}
	}
	require.InDelta(t, above/(15*5), rep.ScoreAUC, 1e-12)
	require.InDelta(t, 0.5, rep.TruePDAUC, 1e-12, "a constant true PD ranks nothing")
	// Deciles of two: defaults at 510 (decile 0), 550 (2), 590 (4), 630 (6), 670 (8),
	// each a rate of 0.5; mean PD 0.1 in deciles 0–4, 0 in 5–9.
	require.Len(t, rep.Deciles, 10)
	var want float64
	for g := range 10 {
		pd, rate := 0.0, 0.0
		if g < 5 {
			pd = 0.1
		}
		if g%2 == 0 {
			rate = 0.5
		}
		want += math.Abs(pd-rate) / 10
		require.Equal(t, 500+20*g, rep.Deciles[g].MinScore)
	}
	require.InDelta(t, want, rep.CalibrationError, 1e-12)
	require.Contains(t, rep.Markdown(), "| monthly_income_est within ±10 % of true income — gig | 0.0 % (0 of 5) |")

	_, err = Summarise(rs[:5])
	require.ErrorContains(t, err, "at least 10")
}

func TestPayeeFillsFixedPlaceholdersOnce(t *testing.T) {
	t.Parallel()
	r := newStream(1, 0, purposeLedger)
	vars := map[string]string{}
	p := newPayee(r, "{EMP} DES:PAYROLL ID:{REF} CO ID:{ID10} {DATE}", vars)
	require.Equal(t, "{EMP} DES:PAYROLL ID:{REF} CO ID:{ID10} {DATE}", p.template)
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	a, b := p.describe(r, day), p.describe(r, day)
	require.NotEqual(t, a, b, "the reference changes from deposit to deposit")
	fa, fb := strings.Fields(a), strings.Fields(b)
	require.Equal(t, fa[len(fa)-1], "0305")
	require.Equal(t, vars["ID10"], strings.TrimPrefix(fa[len(fa)-2], "ID:"))
	require.True(t, strings.HasPrefix(a, vars["EMP"]+" DES:PAYROLL ID:"))
	require.Equal(t, strings.Join(fa[len(fa)-3:], " "), strings.Join(fb[len(fb)-3:], " "))
	q := newPayee(r, "{EMP} SALARY", vars)
	require.Equal(t, vars["EMP"]+" SALARY", q.describe(r, day), "payees of one applicant share its employer")
}
