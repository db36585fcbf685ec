package scoring_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// goodFeatures is an applicant that passes every rule and earns 710 points.
func goodFeatures() scoring.Features {
	return scoring.Features{
		MonthsOfHistory: 8, DaysSinceLastTxn: ip(1), AvgDailyBalance90d: fp(300000), DaysNegative90d: ip(0),
		NSFFeeCount90d: 0, PaymentToIncome: fp(0.06), IncomeCV: fp(0.1), NetCashFlowMean: fp(20000),
		MonthlyIncomeEst: 450000,
		IncomeStreams:    []scoring.IncomeStream{{Description: "ACME PAYROLL", Frequency: scoring.FrequencyBiweekly, Status: scoring.StreamMature, IsActive: true}},
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	loan := scoring.Loan{AmountMinor: 300000, TermMonths: 12}
	cases := []struct {
		name    string
		mod     func(f *scoring.Features)
		op      scoring.Operational
		outcome string
		score   int
		reasons []string
	}{
		// 430 + 30 + 50 + 50 + 50 + 35 + 40 + 25
		{"approve", func(*scoring.Features) {}, scoring.Operational{}, scoring.OutcomeApprove, 710, []string{}},
		{"insufficient history", func(f *scoring.Features) { f.MonthsOfHistory = 2.5 }, scoring.Operational{},
			scoring.OutcomeDecline, 680, []string{"INSUFFICIENT_HISTORY", "SC_PAYMENT_TO_INCOME", "SC_AVG_BALANCE", "SC_NET_CASH_FLOW"}},
		{"no income", func(f *scoring.Features) { f.IncomeStreams = nil; f.PaymentToIncome = nil; f.MonthlyIncomeEst = 0 }, scoring.Operational{},
			scoring.OutcomeDecline, 675, []string{"NO_INCOME_DETECTED", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE", "SC_NET_CASH_FLOW"}},
		{"nsf excess", func(f *scoring.Features) { f.NSFFeeCount90d = 4 }, scoring.Operational{},
			scoring.OutcomeDecline, 660, []string{"NSF_EXCESS", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE"}},
		{"nsf at threshold passes", func(f *scoring.Features) { f.NSFFeeCount90d = 3 }, scoring.Operational{},
			scoring.OutcomeApprove, 670, []string{}},
		{"negative days", func(f *scoring.Features) { f.DaysNegative90d = ip(11) }, scoring.Operational{},
			scoring.OutcomeDecline, 660, []string{"NEGATIVE_DAYS_EXCESS", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE"}},
		{"pti", func(f *scoring.Features) { f.PaymentToIncome = fp(0.1501) }, scoring.Operational{},
			scoring.OutcomeDecline, 675, []string{"PTI_ABOVE_MAX", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE", "SC_NET_CASH_FLOW"}},
		{"large deposits refer", func(f *scoring.Features) { f.LargeDeposits60d = 1 }, scoring.Operational{},
			scoring.OutcomeRefer, 710, []string{"LARGE_UNEXPLAINED_DEPOSITS", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE"}},
		{"refresh failed refers", func(*scoring.Features) {}, scoring.Operational{RefreshFailed: true},
			scoring.OutcomeRefer, 710, []string{"STALE_DATA", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE"}},
		{"stale data never declines", func(f *scoring.Features) { f.DaysSinceLastTxn = ip(31); f.NSFFeeCount90d = 9 }, scoring.Operational{},
			scoring.OutcomeRefer, 660, []string{"STALE_DATA", "NSF_EXCESS", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH"}},
		{"inactive account", func(*scoring.Features) {}, scoring.Operational{InactiveAccounts: 1},
			scoring.OutcomeRefer, 710, []string{"ACCOUNT_NOT_ACTIVE", "SC_PAYMENT_TO_INCOME", "SC_HISTORY_LENGTH", "SC_AVG_BALANCE"}},
		{"refer band", func(f *scoring.Features) {
			f.AvgDailyBalance90d = fp(10000)
			f.DaysNegative90d = ip(2)
			f.IncomeCV = fp(0.45)
			f.NSFFeeCount90d = 1
		}, scoring.Operational{}, scoring.OutcomeRefer, 605, // 710 − 35 − 20 − 30 − 20; ties keep scorecard order
			[]string{"SC_AVG_BALANCE", "SC_INCOME_STABILITY", "SC_NEGATIVE_DAYS", "SC_NSF_FEES"}},
		{"decline band", func(f *scoring.Features) {
			f.AvgDailyBalance90d = fp(-100)
			f.DaysNegative90d = ip(5)
			f.IncomeCV = nil
			f.NetCashFlowMean = fp(-90000)
		}, scoring.Operational{}, scoring.OutcomeDecline, 565,
			[]string{"SC_AVG_BALANCE", "SC_NEGATIVE_DAYS", "SC_NET_CASH_FLOW", "SC_INCOME_STABILITY"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := goodFeatures()
			c.mod(&f)
			d := v1.Decide(f, loan, c.op)
			require.Equal(t, c.outcome, d.Outcome)
			require.Equal(t, c.score, d.Score)
			codes := []string{}
			for _, r := range d.Reasons {
				codes = append(codes, r.Code)
				require.NotEmpty(t, r.Text)
				require.NotEmpty(t, r.Feature)
				require.NotEmpty(t, r.Value)
			}
			require.Equal(t, c.reasons, codes)
			require.LessOrEqual(t, len(d.Reasons), scoring.MaxReasons)
			require.Len(t, d.Rules, 8, "every rule is recorded, passed or not")
			require.Len(t, d.Points, len(v1.Model.Characteristics))
			require.Equal(t, "v1", d.ModelVersion)
			require.Equal(t, "v1", d.PolicyVersion)
			require.Equal(t, scoring.FeatureSetV2, d.FeatureSetVersion, "a hand-built vector takes the feature set of the model that scores it")
		})
	}
}

func TestRuleResultShape(t *testing.T) {
	t.Parallel()
	f := goodFeatures()
	f.NSFFeeCount90d = 5
	d := v1.Decide(f, scoring.Loan{AmountMinor: 1, TermMonths: 1}, scoring.Operational{})
	require.Contains(t, d.Rules, scoring.RuleResult{Rule: "NSF_EXCESS", Actual: "5", Threshold: "> 3", Passed: false, Action: "decline"})
	require.Contains(t, d.Rules, scoring.RuleResult{Rule: "INSUFFICIENT_HISTORY", Actual: "8.00", Threshold: "< 3", Passed: true, Action: "decline"})
	require.Equal(t, scoring.Reason{Code: "NSF_EXCESS", Text: "Number of overdrafts or insufficient-funds items",
		Feature: "nsf_od_fee_count_90d", Value: "5", Reference: "> 3"}, d.Reasons[0])
	require.Equal(t, scoring.Reason{Code: "SC_PAYMENT_TO_INCOME", Text: "Proposed payment too high in relation to income",
		Feature: "payment_to_income", Value: "0.06", Reference: "< 0.05", PointsLost: 15}, d.Reasons[1])
}

func TestScorecardLookup(t *testing.T) {
	t.Parallel()
	byCode := map[string]scoring.Characteristic{}
	for _, c := range v1.Model.Characteristics {
		byCode[c.Code] = c
	}
	for _, c := range []struct {
		code   string
		v      *float64
		label  string
		points int
	}{
		{"SC_NSF_FEES", fp(0), "0", 50},
		{"SC_NSF_FEES", fp(1), "1", 30}, // on a cut point: the bin that starts there
		{"SC_NSF_FEES", fp(3), "2–3", 10},
		{"SC_NSF_FEES", fp(4), "> 3", 0},
		{"SC_NSF_FEES", fp(1e9), "> 3", 0}, // out of range above
		{"SC_PAYMENT_TO_INCOME", fp(0.05), "0.05–0.08", 35},
		{"SC_PAYMENT_TO_INCOME", fp(0.0499), "< 0.05", 50},
		{"SC_PAYMENT_TO_INCOME", fp(-1), "< 0.05", 50}, // out of range below
		{"SC_PAYMENT_TO_INCOME", nil, "undefined", 0},
		{"SC_AVG_BALANCE", fp(500000), ">= 5,000", 60},
		{"SC_AVG_BALANCE", fp(-0.01), "< 0", 0},
		{"SC_AVG_BALANCE", nil, "undefined", 10},
		{"SC_AVG_BALANCE", fp(math.NaN()), "undefined", 10},
		{"SC_INCOME_STABILITY", fp(0.25), "0.25–0.40", 25},
		{"SC_NET_CASH_FLOW", fp(-50000), "-500–0", 10},
	} {
		label, pts := byCode[c.code].Lookup(c.v)
		require.Equal(t, c.label, label, c.code)
		require.Equal(t, c.points, pts, c.code)
	}
	total := scoring.BasePoints
	for _, c := range v1.Model.Characteristics {
		total += c.MaxPoints()
	}
	require.Equal(t, 755, total)
}

func TestPDFromScore(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0.032258, v1.Model.PD(600))           // odds 30:1 ⇒ 1/31
	require.Equal(t, 0.016393, v1.Model.PD(620))           // 60:1 ⇒ 1/61
	require.Equal(t, 0.0625, v1.Model.PD(580))             // 15:1 ⇒ 1/16
	require.Greater(t, v1.Model.PD(430), v1.Model.PD(755)) // monotone
}
