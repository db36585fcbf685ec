package scoring

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Category is the category of one transaction, assigned by CategoryRules from its
// description, direction and amount. Stripe Financial Connections supplies no
// categories, so categorisation is project configuration (part of FeatureSetVersion).
type Category string

// Categories of the embedded rules (rules/categories-v1.json and categories-v2.json;
// the last four only in cat-v2). User rules may introduce further categories; features
// only read the ones below.
const (
	CategoryPayroll              Category = "payroll"
	CategoryBenefits             Category = "benefits" // government benefits and pensions
	CategoryGigIncome            Category = "gig_income"
	CategoryInterest             Category = "interest"
	CategoryRefund               Category = "refund"
	CategoryNSFFee               Category = "nsf_fee"
	CategoryOverdraftFee         Category = "overdraft_fee"
	CategoryNSFFeeReversal       Category = "nsf_fee_reversal"
	CategoryOverdraftFeeReversal Category = "overdraft_fee_reversal"
	CategoryReturnedItem         Category = "returned_item"
	CategoryLoanPayment          Category = "loan_payment"
	CategoryCardPayment          Category = "card_payment"
	CategoryBNPL                 Category = "bnpl"
	CategoryPaydayLender         Category = "payday_lender"
	CategoryMCA                  Category = "mca"
	CategoryCollections          Category = "collections"
	CategoryGambling             Category = "gambling"
	CategoryRent                 Category = "rent"
	CategoryUtilities            Category = "utilities"
	CategoryInsurance            Category = "insurance"
	CategorySubscription         Category = "subscription"
	CategoryCashWithdrawal       Category = "cash_withdrawal"
	CategoryCashDeposit          Category = "cash_deposit"
	CategoryTransfer             Category = "transfer"
	CategoryUncategorised        Category = "uncategorised"
	// CategoryTaxRefund is a tax refund or a tax credit paid by a tax authority: not income.
	CategoryTaxRefund Category = "tax_refund"
	// CategoryLoanProceeds is money lent to the applicant: not income.
	CategoryLoanProceeds Category = "loan_proceeds"
	// CategorySavingsTransfer is money moved to a savings account or a savings or
	// investment product.
	CategorySavingsTransfer Category = "savings_transfer"
	// CategorySavingsWithdrawal is money moved back from a savings account or product.
	CategorySavingsWithdrawal Category = "savings_withdrawal"
)

// Rule directions.
const (
	DirectionInflow  = "inflow"
	DirectionOutflow = "outflow"
	DirectionAny     = "any"
)

// The embedded rules files. Each one is frozen once a feature set uses it: a change of
// categorisation is a new file with a new version, so features computed under an old
// version can be computed again (docs/features.md §6).
var (
	//go:embed rules/categories-v1.json
	rulesV1JSON []byte
	//go:embed rules/categories-v2.json
	rulesV2JSON []byte
)

// Versions of the embedded rules files. A test checks that each file carries its
// version.
const (
	// CategoryRulesV1 (rules/categories-v1.json) is the rules version of feature set fs-v2.
	CategoryRulesV1 = "cat-v1"
	// CategoryRulesV2 (rules/categories-v2.json) is the rules version of feature set
	// fs-v3: platform payouts, state unemployment agencies, pensions, more payroll
	// wordings (ACH "DES:" fields, NET PAY, PAYRLL), tax refunds, loan proceeds, savings
	// transfers, fee wordings (courtesy pay, unnamed fee reversals) and lenders.
	CategoryRulesV2 = "cat-v2"
	// DefaultCategoryRulesVersion is the version of DefaultCategoryRules: the rules of
	// the default feature set (FeatureSetVersion).
	DefaultCategoryRulesVersion = CategoryRulesV2
)

// defaultRulesJSON is the default rules file.
var defaultRulesJSON = rulesV2JSON

// CategoryRule is one categorisation rule as written in a rules file.
//
// A transaction matches when its direction fits Direction ("inflow", "outflow" or
// "any"), its absolute amount lies in [MinAmount, MaxAmount] (each bound optional,
// minor units), every group of Keywords has at least one keyword that occurs in the
// description as whole words, no Exclude keyword occurs, and Regex (when set) matches.
// Keywords are compared after upper-casing and turning punctuation into spaces, on
// both sides, so "PG&E" matches "PG&E WEB ONLINE" and "NSF" does not match
// "TRANSFER". Regex is Go RE2 syntax matched against the upper-cased description.
// Among matching rules the highest Priority wins; ties go to the smaller ID.
type CategoryRule struct {
	ID        string     `json:"id"`
	Category  Category   `json:"category"`
	Direction string     `json:"direction"`
	Priority  int        `json:"priority"`
	Keywords  [][]string `json:"keywords,omitempty"`
	Exclude   []string   `json:"exclude,omitempty"`
	Regex     string     `json:"regex,omitempty"`
	MinAmount *int64     `json:"min_amount,omitempty"`
	MaxAmount *int64     `json:"max_amount,omitempty"`
}

// categoryRulesFile is the rules file format: {"version": "...", "rules": [...]}.
type categoryRulesFile struct {
	Version string         `json:"version"`
	Rules   []CategoryRule `json:"rules"`
}

// compiledRule is a CategoryRule with its patterns prepared once: keywords padded
// with spaces for whole-word matching and the regex compiled.
type compiledRule struct {
	CategoryRule
	groups  [][]string
	exclude []string
	re      *regexp.Regexp
}

// CategoryRules is a validated, compiled, versioned rule set. Build it with
// LoadCategoryRules, DefaultCategoryRules or MergeCategoryRules; it is immutable and
// safe for concurrent use. The zero value has no rules and categorises every
// transaction as CategoryUncategorised.
type CategoryRules struct {
	version   string
	rules     []compiledRule // sorted by priority descending, then id
	hasBounds bool           // some rule has an amount bound (no per-description caching)
}

// Version returns the rule set's version string (recorded in the feature set version).
func (r CategoryRules) Version() string { return r.version }

// Rules returns a copy of the rules in evaluation order (priority descending, then id).
func (r CategoryRules) Rules() []CategoryRule {
	out := make([]CategoryRule, len(r.rules))
	for i, c := range r.rules {
		out[i] = c.CategoryRule
	}
	return out
}

// embeddedRules are the embedded rule sets by version.
var embeddedRules = func() map[string]CategoryRules {
	out := map[string]CategoryRules{}
	for _, data := range [][]byte{rulesV1JSON, rulesV2JSON} {
		r, err := LoadCategoryRules(data)
		if err != nil {
			panic("scoring: embedded category rules: " + err.Error())
		}
		out[r.Version()] = r
	}
	return out
}()

var defaultRules = embeddedRules[DefaultCategoryRulesVersion]

// DefaultCategoryRules returns the embedded default rule set (version
// DefaultCategoryRulesVersion).
func DefaultCategoryRules() CategoryRules { return defaultRules }

// ErrUnknownRules is returned by EmbeddedCategoryRules for a version this build does
// not embed.
var ErrUnknownRules = errors.New("unknown category rules version")

// EmbeddedCategoryRules returns the embedded rule set of version (CategoryRulesV1 or
// CategoryRulesV2), so features can be computed again under the rules a past decision
// used. Merged user rules ("cat-v2+acme-2") are not embedded: load them with
// LoadUserCategoryRules from the user's file.
func EmbeddedCategoryRules(version string) (CategoryRules, error) {
	r, ok := embeddedRules[version]
	if !ok {
		return CategoryRules{}, fmt.Errorf("%w %q (this build embeds %s and %s)", ErrUnknownRules, version,
			CategoryRulesV1, CategoryRulesV2)
	}
	return r, nil
}

// DefaultCategoryRulesJSON returns a copy of the embedded default rules file, a
// starting point for users who extend it.
func DefaultCategoryRulesJSON() []byte { return append([]byte(nil), defaultRulesJSON...) }

// ErrInvalidRules is wrapped by every LoadCategoryRules validation error.
var ErrInvalidRules = errors.New("invalid category rules")

// LoadCategoryRules decodes and validates a rules file
// ({"version": "...", "rules": [{"id", "category", "direction", "priority", "keywords",
// "exclude", "regex", "min_amount", "max_amount"}]}) and compiles it. Errors wrap
// ErrInvalidRules and name the field, e.g. `rules[2].regex: error parsing regexp: …`.
// Unknown fields are rejected so that a misspelt key cannot silently disable a rule.
func LoadCategoryRules(data []byte) (CategoryRules, error) {
	var f categoryRulesFile
	if err := decodeFile(data, &f); err != nil {
		return CategoryRules{}, fmt.Errorf("%w: decode rules file: %w", ErrInvalidRules, err)
	}
	if strings.TrimSpace(f.Version) == "" {
		return CategoryRules{}, fmt.Errorf("%w: version: empty", ErrInvalidRules)
	}
	if len(f.Rules) == 0 {
		return CategoryRules{}, fmt.Errorf("%w: rules: empty", ErrInvalidRules)
	}
	return compileRules(f.Version, f.Rules)
}

func compileRules(version string, rules []CategoryRule) (CategoryRules, error) {
	out := CategoryRules{version: version, rules: make([]compiledRule, 0, len(rules))}
	seen := map[string]int{}
	for i, r := range rules {
		p := fmt.Sprintf("rules[%d]", i)
		if r.ID == "" {
			return CategoryRules{}, fmt.Errorf("%w: %s.id: empty", ErrInvalidRules, p)
		}
		if j, dup := seen[r.ID]; dup {
			return CategoryRules{}, fmt.Errorf("%w: %s.id: %q already used by rules[%d]", ErrInvalidRules, p, r.ID, j)
		}
		seen[r.ID] = i
		if r.Category == "" {
			return CategoryRules{}, fmt.Errorf("%w: %s.category: empty", ErrInvalidRules, p)
		}
		if strings.IndexFunc(string(r.Category), func(c rune) bool {
			return !(c == '_' || unicode.IsDigit(c) || (c >= 'a' && c <= 'z'))
		}) >= 0 {
			return CategoryRules{}, fmt.Errorf("%w: %s.category: %q must be lower-case snake_case", ErrInvalidRules, p, r.Category)
		}
		switch r.Direction {
		case DirectionInflow, DirectionOutflow, DirectionAny:
		case "":
			return CategoryRules{}, fmt.Errorf("%w: %s.direction: empty (want inflow, outflow or any)", ErrInvalidRules, p)
		default:
			return CategoryRules{}, fmt.Errorf("%w: %s.direction: unknown value %q (want inflow, outflow or any)", ErrInvalidRules, p, r.Direction)
		}
		if r.MinAmount != nil && *r.MinAmount < 0 {
			return CategoryRules{}, fmt.Errorf("%w: %s.min_amount: %d is negative (bounds apply to the absolute amount)", ErrInvalidRules, p, *r.MinAmount)
		}
		if r.MaxAmount != nil && *r.MaxAmount < 0 {
			return CategoryRules{}, fmt.Errorf("%w: %s.max_amount: %d is negative (bounds apply to the absolute amount)", ErrInvalidRules, p, *r.MaxAmount)
		}
		if r.MinAmount != nil && r.MaxAmount != nil && *r.MinAmount > *r.MaxAmount {
			return CategoryRules{}, fmt.Errorf("%w: %s.max_amount: %d below min_amount %d", ErrInvalidRules, p, *r.MaxAmount, *r.MinAmount)
		}
		if len(r.Keywords) == 0 && r.Regex == "" {
			return CategoryRules{}, fmt.Errorf("%w: %s: needs keywords or regex", ErrInvalidRules, p)
		}
		c := compiledRule{CategoryRule: r}
		for g, group := range r.Keywords {
			if len(group) == 0 {
				return CategoryRules{}, fmt.Errorf("%w: %s.keywords[%d]: empty group", ErrInvalidRules, p, g)
			}
			var pg []string
			for k, kw := range group {
				w := wordsOf(kw)
				if w == "" {
					return CategoryRules{}, fmt.Errorf("%w: %s.keywords[%d][%d]: no letters or digits in %q", ErrInvalidRules, p, g, k, kw)
				}
				pg = append(pg, " "+w+" ")
			}
			c.groups = append(c.groups, pg)
		}
		for k, kw := range r.Exclude {
			w := wordsOf(kw)
			if w == "" {
				return CategoryRules{}, fmt.Errorf("%w: %s.exclude[%d]: no letters or digits in %q", ErrInvalidRules, p, k, kw)
			}
			c.exclude = append(c.exclude, " "+w+" ")
		}
		if r.Regex != "" {
			re, err := regexp.Compile(r.Regex)
			if err != nil {
				return CategoryRules{}, fmt.Errorf("%w: %s.regex: %w", ErrInvalidRules, p, err)
			}
			c.re = re
		}
		out.rules = append(out.rules, c)
		out.hasBounds = out.hasBounds || r.MinAmount != nil || r.MaxAmount != nil
	}
	out.sortRules()
	return out, nil
}

// MergeCategoryRules returns base extended by user: a user rule whose id equals a base
// rule's id replaces it, other user rules are added. The merged version is
// "<base version>+<user version>", so features computed with user rules never share a
// feature-set version with the default.
func MergeCategoryRules(base, user CategoryRules) CategoryRules {
	byID := map[string]compiledRule{}
	for _, r := range base.rules {
		byID[r.ID] = r
	}
	for _, r := range user.rules {
		byID[r.ID] = r
	}
	out := CategoryRules{version: base.version + "+" + user.version, rules: make([]compiledRule, 0, len(byID))}
	for _, r := range byID {
		out.rules = append(out.rules, r)
		out.hasBounds = out.hasBounds || r.MinAmount != nil || r.MaxAmount != nil
	}
	out.sortRules()
	return out
}

// sortRules orders the rules by priority, highest first, then by id. Ids are unique
// within a rule set, so the order is total and the first match never depends on the
// file's or the map's order.
func (c *CategoryRules) sortRules() {
	slices.SortFunc(c.rules, func(a, b compiledRule) int {
		if a.Priority != b.Priority {
			return cmp.Compare(b.Priority, a.Priority)
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// LoadUserCategoryRules loads a user rules file and merges it over the default rules
// (MergeCategoryRules(DefaultCategoryRules(), user)): the usual way to apply a
// --rules FILE.
func LoadUserCategoryRules(data []byte) (CategoryRules, error) {
	u, err := LoadCategoryRules(data)
	if err != nil {
		return CategoryRules{}, err
	}
	return MergeCategoryRules(DefaultCategoryRules(), u), nil
}

// Categorise returns the category of t under the default rules.
func Categorise(t Transaction) Category { return defaultRules.Categorise(t) }

// Categorise returns the category of t: the category of the highest-priority matching
// rule, or CategoryUncategorised. A zero amount matches only "any" direction rules.
func (r CategoryRules) Categorise(t Transaction) Category {
	return r.categorise(t, " "+wordsOf(t.Description)+" ", "")
}

// categorise matches prepared text: words is " "+wordsOf(desc)+" "; upper is the
// upper-cased description, computed lazily ("" = not yet) for regex rules only.
func (r CategoryRules) categorise(t Transaction, words, upper string) Category {
	abs := t.Amount
	if abs < 0 {
		abs = -abs
	}
	for i := range r.rules {
		c := &r.rules[i]
		switch c.Direction {
		case DirectionInflow:
			if t.Amount <= 0 {
				continue
			}
		case DirectionOutflow:
			if t.Amount >= 0 {
				continue
			}
		}
		if (c.MinAmount != nil && abs < *c.MinAmount) || (c.MaxAmount != nil && abs > *c.MaxAmount) {
			continue
		}
		if !matchGroups(words, c.groups) || containsPadded(words, c.exclude) {
			continue
		}
		if c.re != nil {
			if upper == "" {
				upper = strings.ToUpper(t.Description)
			}
			if !c.re.MatchString(upper) {
				continue
			}
		}
		return c.Category
	}
	return CategoryUncategorised
}

func matchGroups(words string, groups [][]string) bool {
	for _, g := range groups {
		if !containsPadded(words, g) {
			return false
		}
	}
	return true
}

func containsPadded(words string, pats []string) bool {
	for _, p := range pats {
		if strings.Contains(words, p) {
			return true
		}
	}
	return false
}

// Category groups used by features (part of FeatureSetVersion).
var (
	// debtCategories are debt service outflows (F1).
	debtCategories = map[Category]bool{CategoryLoanPayment: true, CategoryCardPayment: true, CategoryBNPL: true,
		CategoryPaydayLender: true, CategoryMCA: true}
	// obligationCategories are the recurring obligations of F2 (and essential spend of B5).
	obligationCategories = map[Category]bool{CategoryRent: true, CategoryUtilities: true, CategoryInsurance: true,
		CategorySubscription: true}
	// nonIncomeInflow are inflow categories never treated as income (streams, I1).
	nonIncomeInflow = map[Category]bool{CategoryNSFFeeReversal: true, CategoryOverdraftFeeReversal: true,
		CategoryReturnedItem: true, CategoryRefund: true, CategoryPaydayLender: true}
)

// isFeeReversal reports whether c gives back an NSF or overdraft fee.
func isFeeReversal(c Category) bool {
	return c == CategoryNSFFeeReversal || c == CategoryOverdraftFeeReversal
}

// isNSFODFee reports whether c is an NSF or overdraft fee (D1).
func isNSFODFee(c Category) bool { return c == CategoryNSFFee || c == CategoryOverdraftFee }

// transferPadded are transferPatterns prepared for containsPadded.
var transferPadded = func() []string {
	out := make([]string, len(transferPatterns))
	for i, p := range transferPatterns {
		out[i] = " " + wordsOf(p) + " "
	}
	return out
}()
