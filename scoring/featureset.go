package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Feature-set versions (docs/features.md §6). A version is "<feature set>/<category
// rules version>", with "+<user rules>" or "+streams(…)" appended when the features
// were computed with user rules or non-default stream options. Every feature set this
// package ever shipped stays computable, so a past decision re-scores exactly under its
// own feature set, model and policy.
const (
	// FeatureSetV2 is the feature set of scorecard v1: income from recurring streams only.
	FeatureSetV2 = featureSetV2 + "/" + CategoryRulesV1
	// FeatureSetV3 adds income from every source (regular streams plus irregular income,
	// with its sources, confidence and months), debt-to-income, savings, spending
	// against income, overdraft habits and cash-buffer days (the fields tagged
	// `fs:"v3"` in Features), under the cat-v2 rules.
	FeatureSetV3 = featureSetV3 + "/" + CategoryRulesV2
	// FeatureSetVersion is the default feature set: what ComputeFeatures computes and
	// what Train records in a model.
	FeatureSetVersion = FeatureSetV3
)

// Feature-set names (FeatureOptions.FeatureSet).
const (
	featureSetV2 = "fs-v2"
	featureSetV3 = "fs-v3"
	// defaultFeatureSet is the name of FeatureSetVersion's feature set.
	defaultFeatureSet = featureSetV3
)

// incomeEstimator names how monthly_income_est (E2) is estimated.
type incomeEstimator int

const (
	// incomeFromStreams: Σ monthly_amount of the active MATURE income streams (fs-v2).
	incomeFromStreams incomeEstimator = iota
	// incomeFromAllSources: regular streams plus irregular income (fs-v3, E8).
	incomeFromAllSources
)

// featureSet is what differs between two versions of the feature definitions, as data:
// the code of every version is the same code, and a version is one of these values.
// Everything not named here (windows, rounding, the catalogue's other formulas) is
// shared by all versions.
type featureSet struct {
	name string
	// rules is the version of the embedded category rules the set is defined with.
	rules string
	// income is the E2 estimator; incomeFromAllSources also changes what counts as a
	// month's income (E3–E5, B5), the newest income (E7) and the large deposits (I1).
	income incomeEstimator
	// nonIncome are inflow categories that never form an income stream (§3).
	nonIncome map[Category]bool
	// explained are inflow categories that are never unexplained large deposits (I1),
	// besides recognised income.
	explained map[Category]bool
	// transferLike are categories whose legs are evidence of an own transfer, besides
	// the transferPatterns words (§1).
	transferLike map[Category]bool
	// cadence are the cadence rules of recurring streams (§3).
	cadence cadenceRules
	// v3 computes and reports the fields tagged `fs:"v3"` in Features.
	v3 bool
}

// incomeCategories are the categories of income wherever they are recognised by
// description (fs-v3): pay, government benefits and pensions, platform payouts.
var incomeCategories = map[Category]bool{CategoryPayroll: true, CategoryBenefits: true, CategoryGigIncome: true}

// featureSets are the feature sets this package computes, by name.
var featureSets = map[string]*featureSet{
	featureSetV2: {
		name:         featureSetV2,
		rules:        CategoryRulesV1,
		income:       incomeFromStreams,
		nonIncome:    nonIncomeInflow,
		explained:    nonIncomeInflow,
		transferLike: map[Category]bool{CategoryTransfer: true},
		cadence:      cadenceRules{semiMonthly: semiMonthlyPattern},
	},
	featureSetV3: {
		name:   featureSetV3,
		rules:  CategoryRulesV2,
		income: incomeFromAllSources,
		// Interest, transfers (own or person to person), savings withdrawals, tax
		// refunds and loan proceeds are never income (issue 8's definition).
		nonIncome: categorySet(CategoryNSFFeeReversal, CategoryOverdraftFeeReversal, CategoryReturnedItem,
			CategoryRefund, CategoryPaydayLender, CategoryInterest, CategoryTransfer, CategorySavingsWithdrawal,
			CategoryTaxRefund, CategoryLoanProceeds),
		// A transfer from a person and the proceeds of a new loan still need
		// verification: they stay candidates for I1.
		explained: categorySet(CategoryNSFFeeReversal, CategoryOverdraftFeeReversal, CategoryReturnedItem,
			CategoryRefund, CategoryPaydayLender, CategoryInterest, CategorySavingsWithdrawal, CategoryTaxRefund),
		transferLike: categorySet(CategoryTransfer, CategorySavingsTransfer, CategorySavingsWithdrawal),
		cadence:      cadenceRules{semiMonthly: semiMonthlyCalendar, weekdayMonthly: true},
		v3:           true,
	},
}

// categorySet returns the set of cats.
func categorySet(cats ...Category) map[Category]bool {
	out := make(map[Category]bool, len(cats))
	for _, c := range cats {
		out[c] = true
	}
	return out
}

// ErrUnknownFeatureSet is returned for a feature set this build does not compute.
var ErrUnknownFeatureSet = errors.New("unknown feature set")

// lookupFeatureSet returns the feature set named name ("" is the default).
func lookupFeatureSet(name string) (*featureSet, error) {
	if name == "" {
		name = defaultFeatureSet
	}
	fs, ok := featureSets[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (this build computes %s and %s)", ErrUnknownFeatureSet, name, featureSetV2, featureSetV3)
	}
	return fs, nil
}

// FeatureOptionsFor returns the options that compute features of version, a full
// feature-set version such as FeatureSetV2 ("fs-v2/cat-v1") as recorded with a model or
// a decision. Versions with user rules or non-default stream options cannot be
// rebuilt from the version string alone and return an error, as do unknown feature
// sets (ErrUnknownFeatureSet) and rules this build does not embed (ErrUnknownRules).
func FeatureOptionsFor(version string) (FeatureOptions, error) {
	name, rulesVersion, ok := strings.Cut(version, "/")
	if !ok {
		return FeatureOptions{}, fmt.Errorf("feature set version %q: want <feature set>/<rules version>", version)
	}
	if _, err := lookupFeatureSet(name); err != nil {
		return FeatureOptions{}, fmt.Errorf("feature set version %q: %w", version, err)
	}
	rules, err := EmbeddedCategoryRules(rulesVersion)
	if err != nil {
		return FeatureOptions{}, fmt.Errorf("feature set version %q: %w", version, err)
	}
	return FeatureOptions{FeatureSet: name, Rules: &rules}, nil
}

// v3Fields are the json names of the Features fields tagged `fs:"v3"`: computed and
// reported only by feature sets from fs-v3 on.
var v3Fields = func() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[Features]()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Tag.Get("fs") == "v3" {
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			out[name] = true
		}
	}
	return out
}()

// hasFeature reports whether the feature set computes the feature of json name.
func (fs *featureSet) hasFeature(name string) bool { return fs.v3 || !v3Fields[name] }

// MarshalJSON encodes the vector with the fields of its own feature set only: a vector
// of a set before fs-v3 has no fs-v3 field, so its JSON is byte for byte what that
// set's code wrote (the golden files in testdata/golden pin it). A vector without a
// known feature set (hand-built) keeps every field.
func (f Features) MarshalJSON() ([]byte, error) {
	type plain Features // the same fields without this method
	b, err := json.Marshal(plain(f))
	if err != nil {
		return nil, err
	}
	name, _, _ := strings.Cut(f.FeatureSetVersion, "/")
	fs, ok := featureSets[name]
	if !ok || fs.v3 {
		return b, nil
	}
	return dropKeys(b, v3Fields)
}

// dropKeys returns the JSON object obj without the top-level keys in drop, the other
// members unchanged and in order.
func dropKeys(obj []byte, drop map[string]bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(obj))
	out.WriteByte('{')
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if drop[key] {
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
