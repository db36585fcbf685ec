package population

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
	"github.com/cashflow-underwriting/underwriter/scoring"
)

var flagIncomeMisses = flag.Int("population.misses", 0, "log up to this many fs-v3 income misses per income type in TestIncomeV3")

// This file measures feature set fs-v3's income estimate (issue 8 point 1) on the
// population beside fs-v2's, whatever feature set the default engine reads.

// incomeV3 is one applicant's fs-v3 income estimate beside fs-v2's and the truth.
type incomeV3 struct {
	typ      IncomeType
	subtype  string
	truth    int64
	est2     int64            // fs-v2's monthly_income_est
	large2   int              // fs-v2's large_deposit_count_60d
	features scoring.Features // fs-v3's vector
	a        Applicant        // without its ledger
}

// TestIncomeV3 measures feature set fs-v3's monthly_income_est on the population beside
// fs-v2's (what scorecard v1 reads): the share within ±IncomeTolerance of the true
// monthly income per income type, which issue 8 wants at 90 % or more for each, and
// the share of applicants with an unexplained large deposit in 60 days (I1, which
// referred gig earners whose payouts were not recognised as income). Run it with
//
//	go test ./internal/population/ -run TestIncomeV3 -v [-population.misses=5]
func TestIncomeV3(t *testing.T) {
	t.Parallel()
	n := tableSize()
	start := time.Now()
	out := make([]incomeV3, n)
	v2, err := scoring.FeatureOptionsFor(scoring.FeatureSetV2)
	require.NoError(t, err)
	v3, err := scoring.FeatureOptionsFor(scoring.FeatureSetV3)
	require.NoError(t, err)
	err = parallel(n, 0, func(i int) error {
		a := NewApplicant(*flagSeed, i)
		l := scoring.FromFile(a.Ledger)
		f, err := scoring.ComputeFeaturesWith(l, a.AsOf, a.Loan, v3)
		if err != nil {
			return err
		}
		old, err := scoring.ComputeFeaturesWith(l, a.AsOf, a.Loan, v2)
		if err != nil {
			return err
		}
		a.Ledger = ledger.File{}
		out[i] = incomeV3{typ: a.Traits.IncomeType, subtype: subtype(a.Traits), truth: a.TrueMonthlyIncome,
			est2: old.MonthlyIncomeEst, large2: old.LargeDeposits60d, features: f, a: a}
		return nil
	})
	require.NoError(t, err)
	within := map[IncomeType]*[2]Share{} // fs-v2, fs-v3
	large := map[IncomeType]*[2]Share{}
	for _, typ := range IncomeTypes() {
		within[typ], large[typ] = &[2]Share{}, &[2]Share{}
	}
	bySub := map[string]*Share{}
	var lines []string
	misses := map[IncomeType]int{}
	for _, r := range out {
		ok3 := accurate(r.features.MonthlyIncomeEst, r.truth)
		count(&within[r.typ][0], accurate(r.est2, r.truth))
		count(&within[r.typ][1], ok3)
		count(&large[r.typ][0], r.large2 > 0)
		count(&large[r.typ][1], r.features.LargeDeposits60d > 0)
		k := string(r.typ) + " " + r.subtype
		if bySub[k] == nil {
			bySub[k] = &Share{}
		}
		count(bySub[k], ok3)
		if !ok3 && misses[r.typ] < *flagIncomeMisses {
			misses[r.typ]++
			lines = append(lines, describeMiss(r))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "go test ./internal/population/ -run TestIncomeV3 -v -population.n=%d -population.seed=%d (%s)\n\n",
		n, *flagSeed, time.Since(start).Round(time.Second))
	b.WriteString("| income type | within ±10 %: fs-v2 (cat-v1) | fs-v3 (cat-v2) | large_deposit_count_60d ≥ 1: fs-v2 | fs-v3 |\n|---|---|---|---|---|\n")
	for _, typ := range IncomeTypes() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", typ, within[typ][0], within[typ][1], large[typ][0], large[typ][1])
	}
	b.WriteString("\nfs-v3 within ±10 % by subtype: ")
	for i, k := range slices.Sorted(maps.Keys(bySub)) {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", k, bySub[k])
	}
	b.WriteString("\n")
	for _, l := range lines {
		b.WriteString("\n" + l)
	}
	t.Log(b.String())
	for _, typ := range IncomeTypes() {
		require.Positive(t, within[typ][1].N, "no %s applicants", typ)
		require.GreaterOrEqual(t, within[typ][1].Rate(), incomeGoal, "fs-v3 income accuracy of %s", typ)
	}
}

// incomeGoal is issue 8's goal: income within ±10 % for at least 90 % of each income type.
const incomeGoal = 0.90

// count adds one case to s, a hit when hit.
func count(s *Share, hit bool) {
	s.N++
	if hit {
		s.Hits++
	}
}

// accurate reports whether est is within ±IncomeTolerance of truth.
func accurate(est, truth int64) bool {
	return math.Abs(float64(est-truth)) <= IncomeTolerance*float64(truth)
}

// describeMiss renders one inaccurate estimate: the truth by source, the estimate by
// source and the months each used.
func describeMiss(r incomeV3) string {
	var b strings.Builder
	f := r.features
	fmt.Fprintf(&b, "%s %s %s: est %d true %d (%.2f) conf %s months %v; true months %v\n", r.a.ID, r.typ, r.subtype,
		f.MonthlyIncomeEst, r.truth, float64(f.MonthlyIncomeEst)/float64(max(r.truth, 1)), f.IncomeConfidence,
		f.IncomeMonthsUsed, r.a.IncomeMonths)
	for _, s := range f.IncomeSources {
		fmt.Fprintf(&b, "    est %s %s %q %s n=%d %d\n", s.Kind, s.Category, s.Description, s.Frequency, s.Deposits, s.MonthlyAmount)
	}
	in := map[string]bool{}
	for _, m := range r.a.IncomeMonths {
		in[m] = true
	}
	bySrc := map[string]int64{}
	for _, it := range r.a.Income {
		if in[it.Month] {
			bySrc[it.Source+" | "+it.Template] += it.Amount
		}
	}
	for _, k := range slices.Sorted(maps.Keys(bySrc)) {
		fmt.Fprintf(&b, "    true %s %d\n", k, bySrc[k]/int64(max(len(r.a.IncomeMonths), 1)))
	}
	return b.String()
}
