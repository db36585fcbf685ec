package population

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Measurement thresholds of the table.
const (
	// IncomeTolerance: an estimate is accurate within ±10 % of the true monthly income.
	IncomeTolerance = 0.10
	// LowRiskPD: applicants whose true PD is below 10 % are the "equally safe" group
	// whose approval rates are compared across income types.
	LowRiskPD = 0.10
	// FourFifths is the adverse-impact ratio below which approval rates differ too much
	// (the four-fifths rule of the US Uniform Guidelines).
	FourFifths = 0.8
	// calibrationGroups: calibration is measured over score deciles.
	calibrationGroups = 10
)

// Result is how one applicant fared under an engine, with the truth beside it.
type Result struct {
	ID         string     `json:"applicant_id"`
	IncomeType IncomeType `json:"income_type"`
	// Subtype refines IncomeType: the pay frequency of salaried earners, the first
	// benefit of benefit earners, the number of platforms of gig earners.
	Subtype           string  `json:"subtype"`
	TrueMonthlyIncome int64   `json:"true_monthly_income"`
	MonthlyIncomeEst  int64   `json:"monthly_income_est"`
	TruePD            float64 `json:"true_pd"`
	Defaulted         bool    `json:"defaulted"`
	Score             int     `json:"score"`
	PD                float64 `json:"pd"`
	Outcome           string  `json:"outcome"`
	// FailedRules names the policy rules that failed.
	FailedRules []string `json:"failed_rules"`
	// Deposits tallies the applicant's income deposits by source and description
	// template: how the category rules and the income streams saw them.
	Deposits map[string]DepositTally `json:"deposits"`
	// NonIncomeStreams are the descriptions of active MATURE income streams made mostly of
	// deposits that are not income (interest, transfers, refunds, advances…), and
	// NonIncomeStreamMonthly their monthly amount.
	NonIncomeStreams       []string `json:"non_income_streams"`
	NonIncomeStreamMonthly int64    `json:"non_income_stream_monthly"`
}

// subtype returns Result.Subtype of traits t.
func subtype(t Traits) string {
	switch t.IncomeType {
	case Benefits:
		return string(t.Benefits[0])
	case Gig:
		return fmt.Sprintf("%d platform(s)", len(t.Platforms))
	default:
		return string(t.PayFrequency)
	}
}

// DepositTally counts income deposits of one source and description template.
type DepositTally struct {
	Deposits int `json:"deposits"`
	// IncomeCategory counts deposits the default category rules call payroll, benefits or
	// gig_income.
	IncomeCategory int `json:"income_category"`
	// InMatureStream counts deposits inside an active MATURE income stream, the only
	// ones monthly_income_est counts.
	InMatureStream int `json:"in_mature_stream"`
	// Categories counts deposits per category.
	Categories map[scoring.Category]int `json:"categories"`
}

func (d *DepositTally) add(o DepositTally) {
	d.Deposits += o.Deposits
	d.IncomeCategory += o.IncomeCategory
	d.InMatureStream += o.InMatureStream
	if d.Categories == nil {
		d.Categories = map[scoring.Category]int{}
	}
	for k, v := range o.Categories {
		d.Categories[k] += v
	}
}

var incomeCategories = map[scoring.Category]bool{scoring.CategoryPayroll: true, scoring.CategoryBenefits: true,
	scoring.CategoryGigIncome: true}

// Evaluate underwrites a with engine e (the default engine when nil) at its as-of time,
// reading the ledger as the pipeline does (validated, then scoring.FromFile).
func Evaluate(a Applicant, e *scoring.Engine) (Result, error) {
	if e == nil {
		e = scoring.DefaultEngine()
	}
	if err := a.Ledger.Validate(); err != nil {
		return Result{}, fmt.Errorf("applicant %s: %w", a.ID, err)
	}
	d, err := e.Underwrite(scoring.FromFile(a.Ledger), a.AsOf, a.Loan, scoring.Operational{})
	if err != nil {
		return Result{}, fmt.Errorf("underwrite applicant %s: %w", a.ID, err)
	}
	r := Result{ID: a.ID, IncomeType: a.Traits.IncomeType, Subtype: subtype(a.Traits), TrueMonthlyIncome: a.TrueMonthlyIncome,
		MonthlyIncomeEst: d.Features.MonthlyIncomeEst, TruePD: a.TruePD, Defaulted: a.Defaulted, Score: d.Score,
		PD: d.PD, Outcome: d.Outcome, FailedRules: []string{}, Deposits: map[string]DepositTally{},
		NonIncomeStreams: []string{}}
	for _, rr := range d.Rules {
		if !rr.Passed {
			r.FailedRules = append(r.FailedRules, rr.Rule)
		}
	}
	inStream := map[string]bool{}
	income := map[string]bool{}
	for _, it := range a.Income {
		income[it.TransactionID] = true
	}
	for _, s := range d.Features.IncomeStreams {
		if s.Status != scoring.StreamMature || !s.IsActive {
			continue
		}
		n := 0
		for _, id := range s.TransactionIDs {
			inStream[id] = true
			if income[id] {
				n++
			}
		}
		if 2*n < len(s.TransactionIDs) {
			r.NonIncomeStreams = append(r.NonIncomeStreams, s.Description)
			r.NonIncomeStreamMonthly += s.MonthlyAmount
		}
	}
	cutoff := a.AsOf.Format("2006-01-02")
	for _, it := range a.Income {
		if it.Day > cutoff {
			continue
		}
		k := it.Source + " | " + it.Template
		t := r.Deposits[k]
		if t.Categories == nil {
			t.Categories = map[scoring.Category]int{}
		}
		cat := scoring.Categorise(scoring.Transaction{Amount: it.Amount, Description: it.Description})
		t.Deposits++
		t.Categories[cat]++
		if incomeCategories[cat] {
			t.IncomeCategory++
		}
		if inStream[it.TransactionID] {
			t.InMatureStream++
		}
		r.Deposits[k] = t
	}
	return r, nil
}

// Run draws applicants 0 … n−1 of the population of seed and evaluates each with engine
// e (the default engine when nil) on workers goroutines (GOMAXPROCS when ≤ 0). Ledgers
// are dropped as soon as they are scored, so memory stays small whatever n. Results are
// in index order and depend only on (seed, n, e).
func Run(seed uint64, n int, e *scoring.Engine, workers int) ([]Result, error) {
	out := make([]Result, n)
	err := parallel(n, workers, func(i int) error {
		r, err := Evaluate(NewApplicant(seed, i), e)
		out[i] = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Share is a count of hits among a count of cases.
type Share struct {
	Hits int `json:"hits"`
	N    int `json:"n"`
}

// Rate returns Hits/N, or NaN when N is 0.
func (s Share) Rate() float64 {
	if s.N == 0 {
		return math.NaN()
	}
	return float64(s.Hits) / float64(s.N)
}

// String renders the share as "87.6 % (771 of 880)".
func (s Share) String() string {
	return fmt.Sprintf("%.1f %% (%d of %d)", 100*s.Rate(), s.Hits, s.N)
}

// Decile is one score group of the calibration table.
type Decile struct {
	MinScore, MaxScore int
	N                  int
	MeanPD             float64 // the model's
	MeanTruePD         float64
	DefaultRate        float64 // observed
}

// TypeSummary holds the per-income-type lines of a Report.
type TypeSummary struct {
	// IncomeWithin counts estimates within ±IncomeTolerance of the true income, and
	// IncomeWithinBySubtype the same per Result.Subtype.
	IncomeWithin          Share
	IncomeWithinBySubtype map[string]Share
	// ZeroEstimate counts estimates of 0 (no active MATURE income stream).
	ZeroEstimate Share
	// MedianEstimateRatio is the median of monthly_income_est / true monthly income.
	MedianEstimateRatio float64
	// LowRiskApproved counts approvals among applicants with true PD < LowRiskPD.
	LowRiskApproved Share
	// LowRiskApprovalRatio is this type's low-risk approval rate over the salaried one.
	LowRiskApprovalRatio float64
	// Outcomes counts outcomes of every applicant of the type.
	Outcomes map[string]int
	// LowRiskFailedRules counts, among low-risk applicants not approved, each failed rule.
	LowRiskFailedRules map[string]int
	// LowRiskScoreDeclines counts low-risk applicants who passed every rule but not the
	// score band.
	LowRiskScoreDeclines int
}

// Report is the table for one engine on one population, with diagnostics.
type Report struct {
	N        int
	Defaults int
	// MeanTruePD and MeanPD are the mean true and model PDs.
	MeanTruePD, MeanPD float64
	ByType             map[IncomeType]*TypeSummary
	// ScoreAUC is the AUC of the score against the default label; TruePDAUC that of the
	// true PD (the best any model can do on this sample); AUCRatio their quotient.
	ScoreAUC, TruePDAUC, AUCRatio float64
	// CalibrationError is the mean over score deciles of |mean PD − observed default rate|.
	CalibrationError float64
	Deciles          []Decile
	// MinApprovalRatio is the smallest low-risk approval rate over the largest, across
	// income types (≥ FourFifths passes the four-fifths rule).
	MinApprovalRatio float64
	// Deposits tallies income deposits per "source | template".
	Deposits map[string]*DepositTally
	// NonIncomeStreams counts applicants with an active MATURE income stream made mostly of
	// deposits that are not income, and NonIncomeStreamDescriptions those applicants per
	// stream description.
	NonIncomeStreams            Share
	NonIncomeStreamDescriptions map[string]int
}

// Summarise computes the Report of results.
func Summarise(results []Result) (Report, error) {
	rep := Report{N: len(results), ByType: map[IncomeType]*TypeSummary{}, Deposits: map[string]*DepositTally{},
		NonIncomeStreamDescriptions: map[string]int{}}
	if len(results) < calibrationGroups {
		return rep, fmt.Errorf("summarise: %d results, need at least %d", len(results), calibrationGroups)
	}
	for _, t := range IncomeTypes() {
		rep.ByType[t] = &TypeSummary{Outcomes: map[string]int{}, LowRiskFailedRules: map[string]int{},
			IncomeWithinBySubtype: map[string]Share{}}
	}
	scores, truePD := make([]float64, len(results)), make([]float64, len(results))
	defaulted := make([]bool, len(results))
	ratios := map[IncomeType][]float64{}
	for i, r := range results {
		if err := rep.add(r, ratios); err != nil {
			return rep, err
		}
		scores[i], truePD[i], defaulted[i] = float64(r.Score), -r.TruePD, r.Defaulted
	}
	var err error
	if rep.ScoreAUC, err = scoring.AUC(scores, defaulted); err != nil {
		return rep, fmt.Errorf("summarise: score AUC: %w", err)
	}
	if rep.TruePDAUC, err = scoring.AUC(truePD, defaulted); err != nil {
		return rep, fmt.Errorf("summarise: true PD AUC: %w", err)
	}
	rep.AUCRatio = rep.ScoreAUC / rep.TruePDAUC
	rep.Deciles, rep.CalibrationError = calibration(results)
	salaried := rep.ByType[Salaried].LowRiskApproved.Rate()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range IncomeTypes() {
		ts := rep.ByType[t]
		v := ratios[t]
		slices.Sort(v)
		if len(v) > 0 {
			ts.MedianEstimateRatio = v[(len(v)-1)/2]
		}
		rate := ts.LowRiskApproved.Rate()
		ts.LowRiskApprovalRatio = rate / salaried
		if !math.IsNaN(rate) {
			lo, hi = min(lo, rate), max(hi, rate)
		}
	}
	rep.MinApprovalRatio = lo / hi
	return rep, nil
}

// add counts one result into the report's totals, its income type's summary and the
// deposit tallies, and appends its estimate ÷ true income to ratios.
func (rep *Report) add(r Result, ratios map[IncomeType][]float64) error {
	ts := rep.ByType[r.IncomeType]
	if ts == nil {
		return fmt.Errorf("summarise: applicant %s has unknown income type %q", r.ID, r.IncomeType)
	}
	if r.Defaulted {
		rep.Defaults++
	}
	rep.MeanTruePD += r.TruePD / float64(rep.N)
	rep.MeanPD += r.PD / float64(rep.N)
	ts.IncomeWithin.N++
	ts.ZeroEstimate.N++
	sub := ts.IncomeWithinBySubtype[r.Subtype]
	sub.N++
	if math.Abs(float64(r.MonthlyIncomeEst-r.TrueMonthlyIncome)) <= IncomeTolerance*float64(r.TrueMonthlyIncome) {
		ts.IncomeWithin.Hits++
		sub.Hits++
	}
	ts.IncomeWithinBySubtype[r.Subtype] = sub
	if r.MonthlyIncomeEst == 0 {
		ts.ZeroEstimate.Hits++
	}
	ratios[r.IncomeType] = append(ratios[r.IncomeType], float64(r.MonthlyIncomeEst)/float64(max(r.TrueMonthlyIncome, 1)))
	ts.Outcomes[r.Outcome]++
	if r.TruePD < LowRiskPD {
		ts.LowRiskApproved.N++
		switch {
		case r.Outcome == scoring.OutcomeApprove:
			ts.LowRiskApproved.Hits++
		case len(r.FailedRules) == 0:
			ts.LowRiskScoreDeclines++
		}
		for _, f := range r.FailedRules {
			ts.LowRiskFailedRules[f]++
		}
	}
	for k, d := range r.Deposits {
		if rep.Deposits[k] == nil {
			rep.Deposits[k] = &DepositTally{}
		}
		rep.Deposits[k].add(d)
	}
	rep.NonIncomeStreams.N++
	if len(r.NonIncomeStreams) > 0 {
		rep.NonIncomeStreams.Hits++
	}
	for _, d := range slices.Compact(slices.Sorted(slices.Values(r.NonIncomeStreams))) {
		rep.NonIncomeStreamDescriptions[d]++
	}
	return nil
}

// calibration splits results by score (ties by id) into calibrationGroups groups of
// nearly equal size and returns each group's figures and the mean |mean PD − observed
// default rate|.
func calibration(results []Result) ([]Decile, float64) {
	rs := slices.Clone(results)
	slices.SortFunc(rs, func(a, b Result) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]Decile, calibrationGroups)
	var errSum float64
	for g := range out {
		part := rs[g*len(rs)/calibrationGroups : (g+1)*len(rs)/calibrationGroups]
		d := Decile{MinScore: part[0].Score, MaxScore: part[len(part)-1].Score, N: len(part)}
		bad := 0
		for _, r := range part {
			d.MeanPD += r.PD
			d.MeanTruePD += r.TruePD
			if r.Defaulted {
				bad++
			}
		}
		d.MeanPD /= float64(len(part))
		d.MeanTruePD /= float64(len(part))
		d.DefaultRate = float64(bad) / float64(len(part))
		errSum += math.Abs(d.MeanPD - d.DefaultRate)
		out[g] = d
	}
	return out, errSum / calibrationGroups
}

// Markdown renders the report: the table, then the calibration deciles and the
// diagnostics (outcomes, failed rules and deposit recognition per source).
func (r Report) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Population: %d applicants, %d defaults (%.1f %%), mean true PD %.3f, mean model PD %.3f\n\n",
		r.N, r.Defaults, 100*float64(r.Defaults)/float64(r.N), r.MeanTruePD, r.MeanPD)
	p("| measure | value |\n|---|---|\n")
	for _, t := range IncomeTypes() {
		p("| monthly_income_est within ±10 %% of true income — %s | %s |\n", t, r.ByType[t].IncomeWithin)
	}
	p("| AUC of the score / AUC of the true PD | %.3f / %.3f = %.3f |\n", r.ScoreAUC, r.TruePDAUC, r.AUCRatio)
	p("| calibration error over score deciles (mean model PD %.3f, observed %.3f) | %.3f |\n",
		r.MeanPD, float64(r.Defaults)/float64(r.N), r.CalibrationError)
	for _, t := range IncomeTypes() {
		ts := r.ByType[t]
		p("| true PD < 10 %%: approval rate — %s (÷ salaried) | %s (%.2f) |\n", t, ts.LowRiskApproved, ts.LowRiskApprovalRatio)
	}
	p("| true PD < 10 %%: lowest ÷ highest approval rate across types | %.2f |\n\n", r.MinApprovalRatio)

	p("Calibration by score decile:\n\n| scores | n | mean model PD | mean true PD | observed |\n|---|---|---|---|---|\n")
	for _, d := range r.Deciles {
		p("| %d–%d | %d | %.3f | %.3f | %.3f |\n", d.MinScore, d.MaxScore, d.N, d.MeanPD, d.MeanTruePD, d.DefaultRate)
	}
	p("\nPer income type:\n\n| type | estimate = 0 | median est ÷ true | outcomes | low-risk: failed rules (not approved) | low-risk: declined or referred by score alone |\n|---|---|---|---|---|---|\n")
	for _, t := range IncomeTypes() {
		ts := r.ByType[t]
		p("| %s | %s | %.2f | %s | %s | %d |\n", t, ts.ZeroEstimate, ts.MedianEstimateRatio, counts(ts.Outcomes),
			counts(ts.LowRiskFailedRules), ts.LowRiskScoreDeclines)
	}
	p("\nmonthly_income_est within ±10 %% by subtype: ")
	var subs []string
	for _, t := range IncomeTypes() {
		m := r.ByType[t].IncomeWithinBySubtype
		for _, k := range slices.Sorted(maps.Keys(m)) {
			subs = append(subs, fmt.Sprintf("%s %s %s", t, k, m[k]))
		}
	}
	p("%s.\n", strings.Join(subs, "; "))
	p("\nApplicants with an active MATURE income stream made mostly of non-income deposits: %s (%s)\n",
		r.NonIncomeStreams, counts(r.NonIncomeStreamDescriptions))
	p("\nIncome deposits by source and description template (default category rules; active MATURE income streams):\n\n")
	p("| source | template | deposits | categorised as income | in a MATURE stream | categories |\n|---|---|---|---|---|---|\n")
	keys := make([]string, 0, len(r.Deposits))
	for k := range r.Deposits {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d := r.Deposits[k]
		src, tmpl, _ := strings.Cut(k, " | ")
		cats := map[string]int{}
		for c, n := range d.Categories {
			cats[string(c)] = n
		}
		p("| %s | `%s` | %d | %.0f %% | %.0f %% | %s |\n", src, tmpl, d.Deposits,
			100*float64(d.IncomeCategory)/float64(d.Deposits), 100*float64(d.InMatureStream)/float64(d.Deposits), counts(cats))
	}
	return b.String()
}

// counts renders a map of counts, largest first (ties by key).
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
