package scoring

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// decisionCore is the part of a decision the model and policy produce.
func decisionCore(t *testing.T, outcome string, score int, pd float64, reasons, rules, points any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"outcome": outcome, "score": score, "pd": pd, "reasons": reasons, "rules": rules, "points": points})
	require.NoError(t, err)
	return string(b)
}

// TestFilesReproduceLegacyV1 loads scoring/models (the shipped files, embedded in the
// binary) and checks that
// they decide exactly as the hard-coded v1 code did, on the personas under time shifts
// and on random feature vectors around every cut point.
func TestFilesReproduceLegacyV1(t *testing.T) {
	t.Parallel()
	mb, err := os.ReadFile("models/scorecard-v1.json")
	require.NoError(t, err)
	pb, err := os.ReadFile("models/policy-v1.json")
	require.NoError(t, err)
	m, err := LoadModel(mb)
	require.NoError(t, err)
	p, err := LoadPolicy(pb)
	require.NoError(t, err)
	e, err := NewEngine(m, p)
	require.NoError(t, err)

	var vectors []Features
	files, err := filepath.Glob("../fcsandbox/personas/*.json")
	require.NoError(t, err)
	for _, file := range files {
		if filepath.Base(file) == "personas.json" {
			continue
		}
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		l, err := ParseLedgerFile(data)
		require.NoError(t, err)
		for _, shift := range []time.Duration{0, -40 * 24 * time.Hour, -100 * 24 * time.Hour} {
			for _, amount := range []int64{50000, 300000, 1500000} {
				f, err := e.ComputeFeatures(l, LatestAsOf(l).Add(shift), Loan{AmountMinor: amount, TermMonths: 12}) // v1 reads fs-v2
				require.NoError(t, err)
				vectors = append(vectors, f)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...float64) *float64 {
		if r.IntN(8) == 0 {
			return nil
		}
		return ptr(xs[r.IntN(len(xs))])
	}
	ipick := func(xs ...int) *int {
		if r.IntN(8) == 0 {
			return nil
		}
		return ptr(xs[r.IntN(len(xs))])
	}
	for range 3000 {
		f := Features{
			MonthsOfHistory:    []float64{0, 2.99, 3, 5.99, 6, 11.99, 12, 30}[r.IntN(8)],
			DaysSinceLastTxn:   ipick(0, 30, 31),
			AvgDailyBalance90d: pick(-1, 0, 49999.99, 50000, 199999, 200000, 500000, 1e7),
			DaysNegative90d:    ipick(0, 1, 3, 4, 10, 11, 40),
			NSFFeeCount90d:     r.IntN(6),
			PaymentToIncome:    pick(0, 0.0499, 0.05, 0.08, 0.12, 0.15, 0.1501, 0.4),
			IncomeCV:           pick(0, 0.25, 0.4, 0.6, 2),
			NetCashFlowMean:    pick(-50001, -50000, 0, 49999, 50000),
			LargeDeposits60d:   r.IntN(3) / 2,
			InactiveAccounts:   r.IntN(5) / 4,
			MonthlyIncomeEst:   int64(r.IntN(500000)),
		}
		if r.IntN(4) > 0 {
			f.IncomeStreams = []IncomeStream{{Status: StreamMature, IsActive: r.IntN(6) > 0}}
		}
		vectors = append(vectors, f)
	}
	compared := 0
	for i, f := range vectors {
		op := Operational{RefreshFailed: i%7 == 0, InactiveAccounts: i % 11 / 10}
		want := legacy_Decide(f, Loan{}, legacy_Operational(op))
		// Reasons follow the Regulation B selection added after v1 (no refer-only or
		// data-less rule as a reason to decline, see reasonsFor); where it changes nothing,
		// they must equal v1's exactly. TestDeclineReasons covers the cases it changes.
		sameReasons := !(want.Outcome == OutcomeDecline && regBFilters(want.Rules))
		for _, eng := range []*Engine{e, shippedV1(t)} {
			got := eng.Decide(f, Loan{}, op)
			wantReasons, gotReasons := any(want.Reasons), any(withoutReference(got.Reasons))
			if !sameReasons {
				wantReasons, gotReasons = nil, nil
			}
			require.JSONEq(t,
				decisionCore(t, want.Outcome, want.Score, want.PD, wantReasons, want.Rules, want.Points),
				decisionCore(t, got.Outcome, got.Score, got.PD, gotReasons, withoutUndefined(got.Rules), got.Points), "vector %d", i)
			require.Equal(t, "v1", got.ModelVersion)
			require.Equal(t, "v1", got.PolicyVersion)
		}
		if sameReasons {
			compared++
		}
	}
	require.Greater(t, compared, len(vectors)*3/4, "most vectors still compare their reasons with v1")
}

// regBFilters reports whether v1's reasons for a decline named a rule that reasonsFor now
// leaves out: a failed refer-only rule, or an undefined failure beside a defined one.
func regBFilters(rules []legacy_RuleResult) bool {
	for _, r := range rules {
		if r.Passed {
			continue
		}
		if r.Rule == RuleLargeDeposits || r.Actual == undefinedValue || r.Action == actionRefer {
			return true
		}
	}
	return false
}

func withoutReference(reasons []Reason) []Reason {
	out := make([]Reason, len(reasons))
	copy(out, reasons)
	for i := range out {
		out[i].Reference = ""
	}
	return out
}

func withoutUndefined(rules []RuleResult) []RuleResult {
	out := append([]RuleResult(nil), rules...)
	for i := range out {
		out[i].Undefined = false
	}
	return out
}

// TestDeclineReasons: the reasons given for a decline name only what declined.
func TestDeclineReasons(t *testing.T) {
	t.Parallel()
	base := Features{
		MonthsOfHistory: 8, DaysSinceLastTxn: ptr(1), AvgDailyBalance90d: ptr(300000.0), DaysNegative90d: ptr(0),
		IncomeCV: ptr(0.1), NetCashFlowMean: ptr(20000.0), MonthlyIncomeEst: 400000, PaymentToIncome: ptr(0.05),
		IncomeStreams: []IncomeStream{{Status: StreamMature, IsActive: true}},
	}
	codes := func(d Decision) []string {
		var c []string
		for _, r := range d.Reasons {
			c = append(c, r.Code)
		}
		return c
	}

	t.Run("a refer-only rule is no reason to decline", func(t *testing.T) {
		f := base
		f.NSFFeeCount90d, f.LargeDeposits60d = 5, 2
		d := shippedV1(t).Decide(f, Loan{}, Operational{})
		require.Equal(t, OutcomeDecline, d.Outcome)
		require.Contains(t, codes(d), RuleNSFExcess)
		require.NotContains(t, codes(d), RuleLargeDeposits)
	})
	t.Run("without income, PTI is no reason beside NO_INCOME_DETECTED", func(t *testing.T) {
		f := base
		f.IncomeStreams, f.MonthlyIncomeEst, f.PaymentToIncome = nil, 0, nil
		d := shippedV1(t).Decide(f, Loan{}, Operational{})
		require.Equal(t, OutcomeDecline, d.Outcome)
		require.Equal(t, RuleNoIncomeDetected, codes(d)[0])
		require.NotContains(t, codes(d), RulePTIAboveMax)
		for _, r := range d.Rules {
			if r.Rule == RulePTIAboveMax {
				require.False(t, r.Passed, "the rule result is still recorded")
				require.True(t, r.Undefined)
			}
		}
	})
	t.Run("an undefined failure alone is the reason", func(t *testing.T) {
		f := base
		f.PaymentToIncome = nil
		d := shippedV1(t).Decide(f, Loan{}, Operational{})
		require.Equal(t, OutcomeDecline, d.Outcome)
		require.Equal(t, RulePTIAboveMax, codes(d)[0])
	})
	t.Run("each reason names what it was measured against", func(t *testing.T) {
		f := base
		f.NSFFeeCount90d = 5
		d := shippedV1(t).Decide(f, Loan{}, Operational{})
		require.Equal(t, "> 3", d.Reasons[0].Reference, "the rule's failed condition")
		for _, r := range d.Reasons[1:] {
			require.NotEmpty(t, r.Reference, "the best bin of %s", r.Code)
		}
	})
	t.Run("a referral keeps every failed rule", func(t *testing.T) {
		f := base
		f.LargeDeposits60d = 1
		d := shippedV1(t).Decide(f, Loan{}, Operational{})
		require.Equal(t, OutcomeRefer, d.Outcome)
		require.Equal(t, RuleLargeDeposits, codes(d)[0])
	})
}

func TestDefaultsMatchConstants(t *testing.T) {
	t.Parallel()
	m, p := shippedV1(t).Model, shippedV1(t).Policy
	require.Equal(t, NewScaling(ScoreAtBaseOdds, BaseOdds, PDO), m.Scaling)
	require.Equal(t, BasePoints, m.BasePoints)
	require.Equal(t, ScoreBands{ApproveMin: ApproveMinScore, ReferMin: ReferMinScore}, p.Bands)
	th := map[string]float64{}
	for _, r := range p.Rules {
		th[r.Rule] = r.Threshold
	}
	require.Equal(t, map[string]float64{
		RuleAccountNotActive: 0, RuleStaleData: MaxDaysSinceLastTxn, RuleInsufficientHistory: MinMonthsOfHistory,
		RuleNoIncomeDetected: 0, RuleNSFExcess: MaxNSFFees90d, RuleNegativeDaysExcess: MaxNegativeDays90d,
		RulePTIAboveMax: MaxPaymentToIncome, RuleLargeDeposits: MaxLargeDeposits60d,
	}, th)
	require.Equal(t, 755, m.MaxScore())
}

func TestBinIndex(t *testing.T) {
	t.Parallel()
	c := Characteristic{Bins: binsFromCuts([]float64{-5, 0, 2.5})}
	for _, tc := range []struct {
		name string
		v    *float64
		want int
	}{
		{"far below", ptr(-1e300), 0},
		{"just below first cut", ptr(math.Nextafter(-5, -10)), 0},
		{"on first cut", ptr(-5.0), 1},
		{"on zero cut", ptr(0.0), 2},
		{"between", ptr(1.0), 2},
		{"on last cut", ptr(2.5), 3},
		{"far above", ptr(1e300), 3},
		{"nil", nil, -1},
		{"NaN", ptr(math.NaN()), -1},
		{"+Inf", ptr(math.Inf(1)), -1},
		{"-Inf", ptr(math.Inf(-1)), -1},
	} {
		require.Equal(t, tc.want, c.BinIndex(tc.v), tc.name)
	}
	one := Characteristic{Bins: binsFromCuts(nil), Undefined: 3}
	require.Equal(t, 0, one.BinIndex(ptr(7.0)))
	label, pts := one.Lookup(nil)
	require.Equal(t, "undefined", label)
	require.Equal(t, 3, pts)
	require.Equal(t, []string{"< -5", "[-5, 0)", "[0, 2.5)", ">= 2.5"},
		[]string{c.Bins[0].Label, c.Bins[1].Label, c.Bins[2].Label, c.Bins[3].Label})
}

func TestLoadModelErrors(t *testing.T) {
	t.Parallel()
	base := func() map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(shippedV1File(t), &m))
		return m
	}
	char0 := func(m map[string]any) map[string]any { return m["characteristics"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name string
		mod  func(m map[string]any)
		want string
	}{
		{"unknown field", func(m map[string]any) { m["pdo"] = 20 }, `unknown field "pdo"`},
		{"no version", func(m map[string]any) { m["model_version"] = "" }, "model_version: empty"},
		{"bad factor", func(m map[string]any) { m["scaling"].(map[string]any)["factor"] = 28.8 }, "scaling.factor"},
		{"bad offset", func(m map[string]any) { m["scaling"].(map[string]any)["offset"] = 500 }, "scaling.offset"},
		{"unknown feature", func(m map[string]any) { char0(m)["feature"] = "credit_score" }, `characteristics[0].feature: "credit_score"`},
		{"gap between bins", func(m map[string]any) {
			char0(m)["bins"].([]any)[1].(map[string]any)["lower"] = 4
		}, "characteristics[0].bins[1].lower: 4 does not equal bins[0].upper 3"},
		{"open first bin", func(m map[string]any) { char0(m)["bins"].([]any)[0].(map[string]any)["lower"] = 0 }, "bins[0].lower: must be null"},
		{"wrong max", func(m map[string]any) { char0(m)["max_points"] = 41 }, "characteristics[0].max_points: 41"},
		{"calibration", func(m map[string]any) { m["pd_calibration"].(map[string]any)["method"] = "isotonic" }, "pd_calibration.method"},
		{"calibration samples", func(m map[string]any) { m["pd_calibration"].(map[string]any)["samples"] = -1 }, "pd_calibration.samples: -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.mod(m)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			_, err = LoadModel(b)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown rule", `{"policy_version":"x","rules":[{"rule":"CREDIT_SCORE","threshold":1,"action":"decline","feature":"f","reason_text":"t"}],"score_bands":{"approve_min":1,"refer_min":0}}`, `rules[0].rule: "CREDIT_SCORE" is not a known rule`},
		{"bad action", `{"policy_version":"x","rules":[{"rule":"NSF_EXCESS","threshold":1,"action":"approve","feature":"f","reason_text":"t"}],"score_bands":{"approve_min":1,"refer_min":0}}`, `rules[0].action: "approve"`},
		{"bands", `{"policy_version":"x","rules":[],"score_bands":{"approve_min":1,"refer_min":2}}`, "score_bands: approve_min 1 is below refer_min 2"},
		{"counter-offer without PTI", `{"policy_version":"x","rules":[],"score_bands":{"approve_min":1,"refer_min":0},"counter_offer":{"step_minor":1,"min_amount_minor":1}}`, "counter_offer: needs the PTI_ABOVE_MAX rule"},
		{"operational decline", `{"policy_version":"x","rules":[{"rule":"STALE_DATA","threshold":1,"action":"decline","operational":true,"feature":"f","reason_text":"t"}],"score_bands":{"approve_min":1,"refer_min":0}}`, "operational rule may only refer"},
		{"above_amount without amount", `{"policy_version":"x","rules":[{"rule":"INSUFFICIENT_HISTORY","threshold":3,"action":"decline","feature":"months_of_history","reason_text":"t","above_amount":{"amount_minor":0,"threshold":6}}],"score_bands":{"approve_min":1,"refer_min":0}}`, "rules[0].above_amount.amount_minor: 0 is not positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPolicy([]byte(tc.file))
			require.ErrorIs(t, err, ErrInvalidPolicy)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPDCalibration(t *testing.T) {
	t.Parallel()
	m := *shippedV1(t).Model
	require.Equal(t, PDCalibration{Method: CalibrationScaling, Decimals: 6}, m.PDCalibration,
		"the v1 file has no fitted_on or samples: the fields trained models add are optional")
	out, err := m.Marshal()
	require.NoError(t, err)
	for _, field := range []string{"fitted_on", "samples", "training", "holdout_calibration"} {
		require.NotContains(t, string(out), `"`+field+`"`)
	}
	require.Equal(t, 0.032258, m.PD(600)) // odds 30:1 ⇒ 1/31
	m.PDCalibration = PDCalibration{Method: CalibrationLogistic, Intercept: -2, Slope: 0.01, Decimals: 4}
	require.Equal(t, 0.8808, m.PD(0)) // odds e^−2 ⇒ PD 1/(1 + 0.1353) = 0.88080
	require.Equal(t, 0.5, m.PD(200))  // ln odds 0 ⇒ even
}

func TestCounterOffer(t *testing.T) {
	t.Parallel()
	f := Features{
		MonthsOfHistory: 8, DaysSinceLastTxn: ptr(1), AvgDailyBalance90d: ptr(300000.0), DaysNegative90d: ptr(0),
		IncomeCV: ptr(0.1), NetCashFlowMean: ptr(20000.0), MonthlyIncomeEst: 200000,
		IncomeStreams: []IncomeStream{{Status: StreamMature, IsActive: true}},
	}
	// 10,000.00 over 12 months at 24 % costs 945.60 a month: PTI 0.47, the only failure.
	applied := withLoan(f, Loan{AmountMinor: 1000000, TermMonths: 12})
	d := shippedV1(t).Decide(applied, Loan{}, Operational{})
	require.Equal(t, OutcomeDecline, d.Outcome)
	require.Equal(t, RulePTIAboveMax, d.Reasons[0].Code)
	require.NotNil(t, d.CounterOffer)
	co := *d.CounterOffer
	require.Zero(t, co.AmountMinor%5000)
	require.LessOrEqual(t, co.PaymentToIncome, 0.15)
	require.Equal(t, ProposedPayment(Loan{AmountMinor: co.AmountMinor, TermMonths: 12}), co.PaymentMinor)
	// The next step up fails PTI: the offer is the largest.
	next := withLoan(f, Loan{AmountMinor: co.AmountMinor + 5000, TermMonths: 12})
	require.Greater(t, *next.PaymentToIncome, 0.15)
	require.Equal(t, OutcomeApprove, shippedV1(t).Decide(withLoan(f, Loan{AmountMinor: co.AmountMinor, TermMonths: 12}), Loan{}, Operational{}).Outcome)

	// Another failing rule: no counter-offer.
	applied.NSFFeeCount90d = 4
	require.Nil(t, shippedV1(t).Decide(applied, Loan{}, Operational{}).CounterOffer)
	// Income too small for even the minimum amount: none.
	small := withLoan(f, Loan{AmountMinor: 1000000, TermMonths: 12})
	small.MonthlyIncomeEst = 10000
	small = withLoan(small, Loan{AmountMinor: 1000000, TermMonths: 12})
	require.Nil(t, shippedV1(t).Decide(small, Loan{}, Operational{}).CounterOffer)
}

// TestLargerLoansNeedLongerHistory: a policy asks for 3 months of history, and 6 above a
// configured loan amount (the reference's default); the same applicant passes for the small
// loan and fails for the large one, with the threshold applied shown in the rule result.
func TestLargerLoansNeedLongerHistory(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy([]byte(`{"policy_version":"x","rules":[{"rule":"INSUFFICIENT_HISTORY","threshold":3,"action":"decline",
		"feature":"months_of_history","reason_text":"Insufficient bank account history",
		"above_amount":{"amount_minor":500000,"threshold":6}}],"score_bands":{"approve_min":0,"refer_min":0}}`))
	require.NoError(t, err)
	f := Features{MonthsOfHistory: 4.5, LoanAmount: 500000}
	small := p.Evaluate(f, Operational{})
	require.True(t, small[0].Passed, "%+v", small[0])
	require.Equal(t, "< 3", small[0].Threshold)
	f.LoanAmount = 500001
	large := p.Evaluate(f, Operational{})
	require.False(t, large[0].Passed)
	require.Equal(t, "< 6", large[0].Threshold)
	require.Equal(t, "4.50", large[0].Actual)
}

func TestDSCRBelowMin(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy([]byte(`{"policy_version":"x","rules":[{"rule":"DSCR_BELOW_MIN","threshold":1.25,"action":"decline",
		"action_when_undefined":"refer","feature":"dscr_requested","reason_text":"Excessive obligations in relation to income"}],
		"score_bands":{"approve_min":0,"refer_min":0}}`))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		dscr   *float64
		passed bool
		action string
	}{
		{"covered", ptr(1.25), true, "decline"},
		{"short", ptr(1.2499), false, "decline"},
		{"undefined", nil, false, "refer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Evaluate(Features{DSCRRequested: tc.dscr}, Operational{})[0]
			require.Equal(t, tc.passed, r.Passed)
			require.Equal(t, tc.action, r.Action)
			require.Equal(t, "< 1.25", r.Threshold)
		})
	}
}

// shippedV1 is the engine of scorecard v1 and policy v1, whose behaviour these tests pin:
// every decision recorded under those versions must re-score to exactly it.
func shippedV1(t testing.TB) *Engine {
	t.Helper()
	e, err := ShippedEngine("v1", "v1")
	require.NoError(t, err)
	return e
}

// shippedV1File is the bytes of the shipped scorecard v1 file.
func shippedV1File(t testing.TB) []byte {
	t.Helper()
	b, err := ShippedModelFile("v1")
	require.NoError(t, err)
	return b
}
