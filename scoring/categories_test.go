package scoring_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func TestCategoriseDefaultRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		desc   string
		amount int64
		want   scoring.Category
	}{
		{"ACME CORP PAYROLL PPD ID: 4470021938", 214837, scoring.CategoryPayroll},
		{"GLOBEX CORP DIR DEP", 486000, scoring.CategoryPayroll},
		{"SSA TREAS 310 XXSOC SEC", 150000, scoring.CategoryBenefits},
		{"UBER *TRIP PAYOUT", 46500, scoring.CategoryGigIncome},
		{"DOORDASH DASHER PAYOUT 0312", 9000, scoring.CategoryGigIncome},
		{"UBER *TRIP HELP.UBER.COM", -1200, scoring.CategoryUncategorised}, // a ride is spending, not gig income
		{"OVERDRAFT FEE", -3500, scoring.CategoryOverdraftFee},
		{"NSF FEE", -3500, scoring.CategoryNSFFee},
		{"OVERDRAFT FEE REVERSAL", 3500, scoring.CategoryOverdraftFeeReversal},
		{"NSF FEE REFUND", 3500, scoring.CategoryNSFFeeReversal},
		{"RETURNED ITEM ACH SPEEDY CASH", 18000, scoring.CategoryReturnedItem},
		{"SPEEDY CASH PAYMENT", -18000, scoring.CategoryPaydayLender},
		{"CARMAX AUTO FINANCE PMT", -48900, scoring.CategoryLoanPayment},
		{"ROCKET MORTGAGE PMT", -235000, scoring.CategoryLoanPayment},
		{"CHASE CREDIT CRD AUTOPAY", -150000, scoring.CategoryCardPayment},
		{"CREDIT ONE BANK PYMT", -4500, scoring.CategoryCardPayment},
		{"AFFIRM *PAYMENT", -8750, scoring.CategoryBNPL},
		{"RENT PYMT OAKWOOD MGMT", -78000, scoring.CategoryRent},
		{"ZELLE PAYMENT TO MARIA LOPEZ RENT", -90000, scoring.CategoryRent}, // rent outranks transfer
		{"DUKE ENERGY PAYMENT", -8000, scoring.CategoryUtilities},
		{"PG&E WEB ONLINE", -15000, scoring.CategoryUtilities},
		{"T-MOBILE AUTOPAY", -6500, scoring.CategoryUtilities},
		{"PROGRESSIVE INS AUTOPAY", -14210, scoring.CategoryInsurance},
		{"NETFLIX.COM", -2299, scoring.CategorySubscription},
		{"ATM WITHDRAWAL 123 MAIN ST", -6000, scoring.CategoryCashWithdrawal},
		{"ATM CASH DEPOSIT", 40000, scoring.CategoryCashDeposit},
		{"ONLINE TRANSFER TO SAVINGS XXXXXX8841", -150000, scoring.CategoryTransfer},
		{"DRAFTKINGS INC", -5000, scoring.CategoryGambling},
		{"ONDECK CAPITAL ACH", -25000, scoring.CategoryMCA},
		{"PORTFOLIO RECOVERY ASSOC", -10000, scoring.CategoryCollections},
		{"INTEREST PAYMENT", 4000, scoring.CategoryInterest},
		{"KROGER #0412", -6000, scoring.CategoryUncategorised},
		{"", 100, scoring.CategoryUncategorised},
	} {
		require.Equal(t, c.want, scoring.Categorise(scoring.Transaction{Amount: c.amount, Description: c.desc}), c.desc)
	}
}

func TestDefaultRulesVersion(t *testing.T) {
	t.Parallel()
	var f struct {
		Version string `json:"version"`
	}
	require.NoError(t, json.Unmarshal(scoring.DefaultCategoryRulesJSON(), &f))
	require.Equal(t, scoring.DefaultCategoryRulesVersion, f.Version)
	require.Equal(t, scoring.DefaultCategoryRulesVersion, scoring.DefaultCategoryRules().Version())
	require.Contains(t, scoring.FeatureSetVersion, scoring.DefaultCategoryRulesVersion)
	r, err := scoring.LoadCategoryRules(scoring.DefaultCategoryRulesJSON())
	require.NoError(t, err)
	require.Equal(t, scoring.DefaultCategoryRules().Rules(), r.Rules())
}

func TestLoadCategoryRulesErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, want string }{
		{"not json", `{`, "decode rules file"},
		{"unknown field", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","keyword":[["A"]]}]}`, `unknown field "keyword"`},
		{"no version", `{"rules":[{"id":"a","category":"x","direction":"any","keywords":[["A"]]}]}`, "version: empty"},
		{"no rules", `{"version":"u1","rules":[]}`, "rules: empty"},
		{"no id", `{"version":"u1","rules":[{"category":"x","direction":"any","keywords":[["A"]]}]}`, "rules[0].id: empty"},
		{"duplicate id", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","keywords":[["A"]]},{"id":"a","category":"y","direction":"any","keywords":[["B"]]}]}`, `rules[1].id: "a" already used by rules[0]`},
		{"no category", `{"version":"u1","rules":[{"id":"a","direction":"any","keywords":[["A"]]}]}`, "rules[0].category: empty"},
		{"bad category", `{"version":"u1","rules":[{"id":"a","category":"Rent Due","direction":"any","keywords":[["A"]]}]}`, "rules[0].category: \"Rent Due\" must be lower-case snake_case"},
		{"no direction", `{"version":"u1","rules":[{"id":"a","category":"x","keywords":[["A"]]}]}`, "rules[0].direction: empty"},
		{"bad direction", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"in","keywords":[["A"]]}]}`, `rules[0].direction: unknown value "in"`},
		{"no pattern", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any"}]}`, "rules[0]: needs keywords or regex"},
		{"empty group", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","keywords":[[]]}]}`, "rules[0].keywords[0]: empty group"},
		{"blank keyword", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","keywords":[["A","--"]]}]}`, "rules[0].keywords[0][1]: no letters or digits"},
		{"blank exclude", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","keywords":[["A"]],"exclude":[" "]}]}`, "rules[0].exclude[0]: no letters or digits"},
		{"bad regex", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","regex":"(["}]}`, "rules[0].regex: error parsing regexp"},
		{"negative min", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","regex":"A","min_amount":-1}]}`, "rules[0].min_amount: -1 is negative"},
		{"max below min", `{"version":"u1","rules":[{"id":"a","category":"x","direction":"any","regex":"A","min_amount":10,"max_amount":5}]}`, "rules[0].max_amount: 5 below min_amount 10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := scoring.LoadCategoryRules([]byte(c.in))
			require.ErrorIs(t, err, scoring.ErrInvalidRules)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestUserRulesMergeAndMatch(t *testing.T) {
	t.Parallel()
	user := `{"version": "acme-2", "rules": [
	  {"id": "payroll", "category": "payroll", "direction": "inflow", "priority": 50, "keywords": [["ACME PAYROLL"]]},
	  {"id": "big_tips", "category": "gig_income", "direction": "inflow", "priority": 60, "regex": "^TIPS [0-9]+$", "min_amount": 10000},
	  {"id": "landlord", "category": "rent", "direction": "outflow", "priority": 90, "keywords": [["ZELLE"], ["J SMITH", "JANE SMITH"]], "exclude": ["REFUND"]}
	]}`
	r, err := scoring.LoadUserCategoryRules([]byte(user))
	require.NoError(t, err)
	require.Equal(t, "cat-v1+acme-2", r.Version())
	for _, c := range []struct {
		desc   string
		amount int64
		want   scoring.Category
	}{
		{"ACME PAYROLL 0105", 200000, scoring.CategoryPayroll},
		{"GLOBEX DIR DEP", 200000, scoring.CategoryUncategorised}, // the user's "payroll" rule replaced the default one
		{"TIPS 123", 15000, scoring.CategoryGigIncome},
		{"TIPS 123", 5000, scoring.CategoryUncategorised},        // below min_amount
		{"TIPS 123 X", 15000, scoring.CategoryUncategorised},     // regex anchored
		{"ZELLE TO JANE SMITH", -90000, scoring.CategoryRent},    // both keyword groups match
		{"ZELLE TO BOB", -90000, scoring.CategoryTransfer},       // second group fails: default transfer rule
		{"ZELLE J SMITH REFUND", -100, scoring.CategoryTransfer}, // excluded
		{"OVERDRAFT FEE", -3500, scoring.CategoryOverdraftFee},   // defaults kept
	} {
		require.Equal(t, c.want, r.Categorise(scoring.Transaction{Amount: c.amount, Description: c.desc}), c.desc)
	}
	// ComputeFeaturesWith records the rules in the version and uses them.
	f, err := scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12},
		scoring.FeatureOptions{Rules: &r})
	require.NoError(t, err)
	require.Equal(t, "fs-v2/cat-v1+acme-2", f.FeatureSetVersion)
	require.Equal(t, 1.0, *f.PayrollShare90d)
	noPayroll, err := scoring.LoadCategoryRules([]byte(`{"version":"x1","rules":[{"id":"fee","category":"nsf_fee","direction":"outflow","keywords":[["FEE"]]}]}`))
	require.NoError(t, err)
	f, err = scoring.ComputeFeaturesWith(handLedger(), day("2026-03-31", 20), scoring.Loan{AmountMinor: 100000, TermMonths: 12},
		scoring.FeatureOptions{Rules: &noPayroll})
	require.NoError(t, err)
	require.Equal(t, 0.0, *f.PayrollShare90d)
	require.Equal(t, 2, f.NSFFeeCount90d) // no reversal rule: both fees count, the reversal is ordinary inflow
	require.Equal(t, int64(1403500), f.InflowTotal90d)
	var zero scoring.CategoryRules
	require.Equal(t, scoring.CategoryUncategorised, zero.Categorise(scoring.Transaction{Amount: -1, Description: "NSF FEE"}))
}
