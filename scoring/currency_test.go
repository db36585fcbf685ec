package scoring_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// TestCurrencyMismatch: under the default policy (v2) a USD ledger with a EUR loan is
// referred, CURRENCY_MISMATCH its first reason, whatever the persona would otherwise get
// (approve or decline: an operational rule never declines); a matching currency, or none
// given, leaves every persona's decision as it was. Policy v1 has no such rule and
// decides as recorded.
func TestCurrencyMismatch(t *testing.T) {
	t.Parallel()
	for _, p := range loadManifest(t).Personas {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, "usd", p.Currency)
			l := loadLedger(t, p.Ledger)
			cutoff := scoring.LatestAsOf(l)
			op := scoring.Operational{RefreshFailed: p.RefreshOutcome == "failed"}
			decide := func(e *scoring.Engine, ccy string) scoring.Decision {
				t.Helper()
				d, err := e.Underwrite(l, cutoff, scoring.Loan{AmountMinor: p.LoanAmountMinor, TermMonths: p.TermMonths, Currency: ccy}, op)
				require.NoError(t, err)
				return d
			}
			base := decide(scoring.DefaultEngine(), "")
			require.Equal(t, p.ExpectedOutcome, base.Outcome)
			for _, ccy := range []string{"usd", "USD"} {
				d := decide(scoring.DefaultEngine(), ccy)
				require.Equal(t, base.Outcome, d.Outcome, "loan in %s", ccy)
				require.Equal(t, base.Reasons, d.Reasons, "loan in %s", ccy)
				require.Equal(t, base.Score, d.Score, "loan in %s", ccy)
				require.True(t, ruleResult(t, d.Rules, scoring.RuleCurrencyMismatch).Passed, "loan in %s", ccy)
			}
			mismatch := ruleResult(t, base.Rules, scoring.RuleCurrencyMismatch)
			require.True(t, mismatch.Passed, "no loan currency given: %+v", mismatch)
			require.Equal(t, "!= loan currency not given", mismatch.Threshold)

			d := decide(scoring.DefaultEngine(), "eur")
			require.Equal(t, scoring.OutcomeRefer, d.Outcome)
			require.NotEmpty(t, d.Reasons)
			require.Equal(t, scoring.Reason{Code: "CURRENCY_MISMATCH", Text: "Bank account currency differs from the loan's currency",
				Feature: "currency", Value: "usd", Reference: "!= loan currency eur"}, d.Reasons[0])
			require.Equal(t, scoring.RuleResult{Rule: "CURRENCY_MISMATCH", Actual: "usd", Threshold: "!= loan currency eur",
				Passed: false, Action: "refer", Operational: true}, ruleResult(t, d.Rules, scoring.RuleCurrencyMismatch))
			require.Equal(t, base.Score, d.Score, "the score does not read the currency")
			require.Nil(t, d.CounterOffer)

			old := decide(v1, "eur")
			require.Equal(t, p.ExpectedOutcome, old.Outcome, "policy v1 has no currency rule")
			for _, r := range old.Rules {
				require.NotEqual(t, scoring.RuleCurrencyMismatch, r.Rule)
			}
		})
	}
}

// TestCurrencyMismatchNeedsBothCurrencies: the rule fails only when the ledger's and the
// loan's currency are both known; Policy.Evaluate, which is given no loan, passes it.
func TestCurrencyMismatchNeedsBothCurrencies(t *testing.T) {
	t.Parallel()
	e := scoring.DefaultEngine()
	for _, tc := range []struct {
		ledger, loan string
		passed       bool
		actual       string
	}{
		{"usd", "eur", false, "usd"},
		{"usd", "usd", true, "usd"},
		{"usd", "", true, "usd"},
		{"", "eur", true, "undefined"},
		{"", "", true, "undefined"},
	} {
		f := goodFeatures()
		f.Currency = tc.ledger
		d := e.Decide(f, scoring.Loan{AmountMinor: 300000, TermMonths: 12, Currency: tc.loan}, scoring.Operational{})
		r := ruleResult(t, d.Rules, scoring.RuleCurrencyMismatch)
		require.Equal(t, tc.passed, r.Passed, "ledger %q loan %q", tc.ledger, tc.loan)
		require.Equal(t, tc.actual, r.Actual, "ledger %q loan %q", tc.ledger, tc.loan)
		require.False(t, r.Undefined)
		if !tc.passed {
			require.Equal(t, scoring.OutcomeRefer, d.Outcome)
		}
		f.Currency = "usd"
		ev := ruleResult(t, e.Policy.Evaluate(f, scoring.Operational{}), scoring.RuleCurrencyMismatch)
		require.True(t, ev.Passed, "Evaluate gives no loan currency")
	}
}

// TestCurrencyMismatchIsOperational: a policy file cannot make CURRENCY_MISMATCH decline.
func TestCurrencyMismatchIsOperational(t *testing.T) {
	t.Parallel()
	const rule = `{"rule":"CURRENCY_MISMATCH","threshold":0,"action":"%s"%s,"feature":"currency","reason_text":"t"}`
	for _, tc := range []struct{ action, operational, err string }{
		{"refer", `,"operational":true`, ""},
		{"refer", ``, `rules[0].operational: CURRENCY_MISMATCH concerns the data, not the applicant: it must be operational`},
		{"decline", ``, `rules[0].operational: CURRENCY_MISMATCH concerns the data, not the applicant: it must be operational`},
		{"decline", `,"operational":true`, `rules[0].action: an operational rule may only refer`},
	} {
		file := `{"policy_version":"x","rules":[` + fmt.Sprintf(rule, tc.action, tc.operational) + `],"score_bands":{"approve_min":1,"refer_min":0}}`
		_, err := scoring.LoadPolicy([]byte(file))
		if tc.err == "" {
			require.NoError(t, err, file)
			continue
		}
		require.ErrorIs(t, err, scoring.ErrInvalidPolicy, file)
		require.ErrorContains(t, err, tc.err, file)
	}
}

func ruleResult(t *testing.T, rules []scoring.RuleResult, rule string) scoring.RuleResult {
	t.Helper()
	for _, r := range rules {
		if r.Rule == rule {
			return r
		}
	}
	t.Fatalf("rule %s not evaluated in %+v", rule, rules)
	return scoring.RuleResult{}
}
