package scoring_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// TestCategoriseRulesV1: the cat-v1 rules, frozen with feature set fs-v2.
func TestCategoriseRulesV1(t *testing.T) {
	t.Parallel()
	v1, err := scoring.EmbeddedCategoryRules(scoring.CategoryRulesV1)
	require.NoError(t, err)
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
		require.Equal(t, c.want, v1.Categorise(scoring.Transaction{Amount: c.amount, Description: c.desc}), c.desc)
	}
}

// TestCategoriseRulesV2: the default cat-v2 rules on the families of bank wording they
// were written for (issue 8), including every description the cat-v1 rules missed in
// the synthetic population, and on wording they must not take for income.
func TestCategoriseRulesV2(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		desc   string
		amount int64
		want   scoring.Category
	}{
		// Platform payouts, under their brand or company names, ACH "DES:" fields and
		// instant cash-outs.
		{"UBR* INSTANT CASHOUT 8KD02JX7QZ", 4200, scoring.CategoryGigIncome},
		{"Uber Technologi DES:PAYMENTS ID:X8DJ2K", 52000, scoring.CategoryGigIncome},
		{"MAPLEBEAR INC PAYMENTS", 31000, scoring.CategoryGigIncome},
		{"MAPLEBEAR INC DES:PAYROLL ID:Q7WE1", 28000, scoring.CategoryGigIncome}, // Instacart, not an employer's payroll
		{"ETSY INC DEPOSIT", 12000, scoring.CategoryGigIncome},
		{"ETSY, INC. DES:PAYOUT ID:Z8X", 12000, scoring.CategoryGigIncome},
		{"SHOPIFY DES:TRANSFER ID:ST-A8D9F0", 45000, scoring.CategoryGigIncome},
		{"SHOPIFY INC PAYOUT 88JD7", 45000, scoring.CategoryGigIncome},
		{"STRIPE TRANSFER ST-K2J3H4", 61000, scoring.CategoryGigIncome},
		{"STRIPE PAYMENTS PAYOUT", 61000, scoring.CategoryGigIncome},
		{"EBAY COMMERCE INC PAYOUT", 9000, scoring.CategoryGigIncome},
		{"POSHMARK INSTANT TRANSFER", 3000, scoring.CategoryGigIncome},
		{"MERCARI INSTANT PAY", 3000, scoring.CategoryGigIncome},
		{"AMAZON.COM SVCS DES:EDI PYMNTS ID:7Y6T", 88000, scoring.CategoryGigIncome},
		{"UPWORK ESCROW INC DES:PAYMENT ID:9F", 150000, scoring.CategoryGigIncome},
		{"AIRBNB PAYMENTS PAYOUT", 70000, scoring.CategoryGigIncome},
		{"SQUARE INC DES:SQ240315 ID:T3", 22000, scoring.CategoryGigIncome},
		{"ACME MARKETPLACE SELLER PAYOUT", 5000, scoring.CategoryGigIncome}, // an unknown platform's payout
		// Benefits: state unemployment agencies, veterans, pensions and annuities.
		{"NYS DOL UI DD", 40500, scoring.CategoryBenefits},
		{"FL DEO RA PAYMENT", 27500, scoring.CategoryBenefits},
		{"PA UC BENEFIT PMT", 38000, scoring.CategoryBenefits},
		{"TWC-BENEFITS UI PAYMENT", 52100, scoring.CategoryBenefits},
		{"CA EDD UI BENEFIT 77D", 45000, scoring.CategoryBenefits},
		{"IL DEPT EMPLOYMENT SECURITY", 40000, scoring.CategoryBenefits},
		{"DEPT VETERANS AFFAIRS DEP", 171600, scoring.CategoryBenefits},
		{"MET LIFE RETIREE PMT", 120000, scoring.CategoryBenefits},
		{"TIAA ANNUITY PAYMENT", 90000, scoring.CategoryBenefits},
		{"SSA TREAS 310 XXSOC SEC", 150000, scoring.CategoryBenefits},
		// Pay: ACH credits whatever the payroll word.
		{"ACH CREDIT GLOBEX CORP PAYRLL 0315", 240000, scoring.CategoryPayroll},
		{"HOME DEPOT USA NET PAY PPD", 180000, scoring.CategoryPayroll},
		{"ORIG CO NAME:INITECH CO ENTRY DESCR:PAYROLL SEC:PPD", 300000, scoring.CategoryPayroll},
		{"COUNTY OF ORANGE DES:REG.SALARY ID:1", 300000, scoring.CategoryPayroll},
		{"ZELLE FROM SAL MARTINEZ", 20000, scoring.CategoryTransfer}, // a first name is no pay word
		// Never income.
		{"IRS TREAS 310 TAX REF", 120000, scoring.CategoryTaxRefund},
		{"STATE OF CA TAX RFD", 30000, scoring.CategoryTaxRefund},
		{"NY DEPT REVENUE TAX REFUND", 30000, scoring.CategoryTaxRefund},
		{"UPSTART LOAN PROCEEDS", 500000, scoring.CategoryLoanProceeds},
		{"ONEMAIN FINANCIAL DISBURSEMENT 8J", 400000, scoring.CategoryLoanProceeds},
		{"INTEREST PAID", 312, scoring.CategoryInterest},
		{"Interest Earned", 48, scoring.CategoryInterest},
		{"SAVINGS INTEREST", 48, scoring.CategoryInterest},
		{"AMAZON MKTPLACE REFUND", 2599, scoring.CategoryRefund},
		{"UBER EATS REFUND", 1599, scoring.CategoryRefund},
		{"ZELLE FROM JOHN DOE ON 0312", 5000, scoring.CategoryTransfer},
		{"VENMO CASHOUT", 5000, scoring.CategoryTransfer},
		{"TRANSFER FROM ALLY BANK SAVINGS", 50000, scoring.CategorySavingsWithdrawal},
		{"MARCUS SAVINGS DES:WITHDRAWAL", 50000, scoring.CategorySavingsWithdrawal},
		{"CAPITAL ONE 360 DEPOSIT", 50000, scoring.CategorySavingsWithdrawal},
		// Savings.
		{"CAPITAL ONE 360 TRANSFER", -50000, scoring.CategorySavingsTransfer}, // not a card payment
		{"AUTO SAVE XFER TO SAV", -2500, scoring.CategorySavingsTransfer},
		{"ONLINE TRANSFER TO SAV XXXXXX1234", -10000, scoring.CategorySavingsTransfer},
		{"ACORNS INVEST", -500, scoring.CategorySavingsTransfer},
		{"ZELLE TO MARCUS WRIGHT", -4000, scoring.CategoryTransfer}, // a person, not Goldman's savings
		// Fees and their reversals, named or not.
		{"COURTESY PAY FEE", -2000, scoring.CategoryOverdraftFee},
		{"OVERDRAFT PAID FEE", -3600, scoring.CategoryOverdraftFee},
		{"OVERDRAFT FEE FOR A TRANSACTION", -3500, scoring.CategoryOverdraftFee},
		{"NSF: RETURNED ITEM FEE", -1000, scoring.CategoryNSFFee},
		{"FEE REVERSAL", 3500, scoring.CategoryOverdraftFeeReversal},
		{"COURTESY PAY FEE REFUND", 2000, scoring.CategoryOverdraftFeeReversal},
		{"ATM FEE REBATE", 300, scoring.CategoryRefund}, // not an overdraft fee given back
		{"PLANET FITNESS CLUB FEES", -2499, scoring.CategorySubscription},
		// Debt service.
		{"CITI AUTOPAY PAYMENT", -15000, scoring.CategoryCardPayment},
		{"BK OF AMER VISA ONLINE PMT", -20000, scoring.CategoryCardPayment},
		{"CHASE CREDIT CRD AUTOPAY", -150000, scoring.CategoryCardPayment},
		{"VISA DDA PUR WALMART", -5000, scoring.CategoryUncategorised}, // a debit-card purchase
		{"WESTLAKE FINANCIAL SVC", -38000, scoring.CategoryLoanPayment},
		{"SOFI PAYMENT 123456", -42000, scoring.CategoryLoanPayment},
		{"BEST EGG AUTOPAY", -30000, scoring.CategoryLoanPayment},
		{"EXETER FINANCE ACH PMT", -41000, scoring.CategoryLoanPayment},
		{"ACME CONSUMER FINANCE PAYMENT", -12000, scoring.CategoryLoanPayment}, // an unknown lender
		{"ZIP.CO PAY IN 4", -5000, scoring.CategoryBNPL},
		{"CHASE QUICKPAY WITH ZELLE PAYMENT TO JOHN", -5000, scoring.CategoryTransfer},
	} {
		require.Equal(t, c.want, scoring.Categorise(scoring.Transaction{Amount: c.amount, Description: c.desc}), c.desc)
	}
}

// TestRulesV1Frozen: features of fs-v2 are reproducible only while its rules file is the
// one past decisions used, byte for byte.
func TestRulesV1Frozen(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("rules/categories-v1.json")
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	require.Equal(t, "e125472d5b985e54ac4087a80e610bbe6ae074d3004621837f6e745c00118aac", hex.EncodeToString(sum[:]),
		"rules/categories-v1.json changed: add a new rules version instead")
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
	for _, v := range []string{scoring.CategoryRulesV1, scoring.CategoryRulesV2} {
		data, err := os.ReadFile("rules/categories-" + v[len("cat-"):] + ".json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &f))
		require.Equal(t, v, f.Version)
		r, err := scoring.EmbeddedCategoryRules(v)
		require.NoError(t, err)
		require.Equal(t, v, r.Version())
	}
	_, err = scoring.EmbeddedCategoryRules("cat-v1+acme-2")
	require.ErrorIs(t, err, scoring.ErrUnknownRules)
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
	require.Equal(t, "cat-v2+acme-2", r.Version())
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
	require.Equal(t, "fs-v3/cat-v2+acme-2", f.FeatureSetVersion)
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
