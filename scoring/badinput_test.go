package scoring_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// loadEngine loads a model and a policy file the way `underwriter score` does: each file
// is decoded and validated, then NewEngine checks that they fit together.
func loadEngine(model, policy []byte) (*scoring.Engine, error) {
	m, err := scoring.LoadModel(model)
	if err != nil {
		return nil, err
	}
	p, err := scoring.LoadPolicy(policy)
	if err != nil {
		return nil, err
	}
	return scoring.NewEngine(m, p)
}

// edited returns file (JSON) decoded, changed by edit and encoded again.
func edited(t *testing.T, file []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(file, &m))
	edit(m)
	b, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	return b
}

// at walks a decoded JSON document: keys for objects, ints for arrays.
func at(v any, path ...any) map[string]any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

// TestBadInputModelFile is issue 9's table for scorecard files: each bad file (the
// shipped v2 scorecard with one change) and the exact error, naming the field. The
// command adds the file's name (cmd/underwriter's TestBadInputModelAndPolicyFlags).
func TestBadInputModelFile(t *testing.T) {
	t.Parallel()
	good := scoring.DefaultModelFile()
	policy := scoring.DefaultPolicyFile()
	_, err := loadEngine(good, policy)
	require.NoError(t, err)
	text := func(old, new string) []byte {
		require.Equal(t, 1, strings.Count(string(good), old), "edit %q", old)
		return []byte(strings.Replace(string(good), old, new, 1))
	}
	with := func(edit func(m map[string]any)) []byte { return edited(t, good, edit) }
	char := func(m map[string]any, i int) map[string]any { return at(m, "characteristics", i) }
	bin := func(m map[string]any, i, j int) map[string]any { return at(m, "characteristics", i, "bins", j) }
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		// Not JSON, or JSON of the wrong shape.
		{"empty file", nil, "invalid model: decode model file: empty file"},
		{"truncated", good[:100], "invalid model: decode model file: line 4, column 33: unexpected end of JSON input"},
		{"NaN weight", text(`"slope": 0.03279249487864912`, `"slope": NaN`),
			"invalid model: decode model file: line 17, column 14: invalid character 'N' looking for beginning of value"},
		{"infinite weight", text(`"slope": 0.03279249487864912`, `"slope": 1e400`),
			"invalid model: decode model file: pd_calibration.slope: got number 1e400, want a finite number (line 17)"},
		{"points with decimals", text(`"base_points": 452`, `"base_points": 452.5`),
			"invalid model: decode model file: base_points: got number 452.5, want an integer (line 6)"},
		{"bin edge a string", with(func(m map[string]any) { bin(m, 0, 1)["lower"] = "0.7066" }),
			"invalid model: decode model file: characteristics.bins.lower: got string, want a finite number (line 19)"},
		{"unknown field", with(func(m map[string]any) { m["cutoff"] = 570 }),
			`invalid model: decode model file: json: unknown field "cutoff"`},
		{"misspelt field", with(func(m map[string]any) { char(m, 0)["undefined"] = char(m, 0)["undefined_points"] }),
			`invalid model: decode model file: json: unknown field "undefined"`},
		{"two files in one", append(append([]byte{}, good...), good...),
			"invalid model: decode model file: line 668, column 1: data after the JSON document"},

		// Versions and methods.
		{"no model_version", with(func(m map[string]any) { delete(m, "model_version") }),
			"invalid model: model_version: empty"},
		{"no feature_set_version", with(func(m map[string]any) { m["feature_set_version"] = "" }),
			"invalid model: feature_set_version: empty"},
		{"feature set this build cannot compute", with(func(m map[string]any) { m["feature_set_version"] = "fs-v9/cat-v2" }),
			`new engine: model v2: feature set version "fs-v9/cat-v2": unknown feature set "fs-v9" (this build computes fs-v2 and fs-v3)`},
		{"unknown kind", with(func(m map[string]any) { m["kind"] = "neural" }),
			`invalid model: kind: "neural" is not expert or trained`},
		{"unknown reason method", with(func(m map[string]any) { m["reason_method"] = "shap" }),
			`invalid model: reason_method: "shap" is not below_max_points`},

		// Scaling and calibration.
		{"zero pdo", with(func(m map[string]any) { at(m, "scaling")["pdo"] = 0 }),
			"invalid model: scaling: pdo and base_odds must be positive and score_at_base_odds finite"},
		{"factor that contradicts pdo", with(func(m map[string]any) { at(m, "scaling")["factor"] = 28.8 }),
			"invalid model: scaling.factor: 28.8 is not pdo/ln 2 = 28.85390081777927"},
		{"unknown calibration", with(func(m map[string]any) { at(m, "pd_calibration")["method"] = "isotonic" }),
			`invalid model: pd_calibration.method: "isotonic" is not scaling or logistic`},
		{"falling logistic calibration", with(func(m map[string]any) { at(m, "pd_calibration")["slope"] = -0.03 }),
			"invalid model: pd_calibration: logistic needs a finite intercept and a positive slope"},
		{"PD decimals out of range", with(func(m map[string]any) { at(m, "pd_calibration")["decimals"] = 0 }),
			"invalid model: pd_calibration.decimals: 0 is not in 1…12"},

		// Characteristics and bins.
		{"no characteristics", with(func(m map[string]any) { m["characteristics"] = []any{} }),
			"invalid model: characteristics: empty"},
		{"repeated reason code", with(func(m map[string]any) { char(m, 3)["code"] = "SC_SPEND_TO_INCOME" }),
			`invalid model: characteristics[3].code: "SC_SPEND_TO_INCOME" is empty or repeated`},
		{"no reason text", with(func(m map[string]any) { char(m, 2)["text"] = "" }),
			"invalid model: characteristics[2].text: empty"},
		{"unknown feature", with(func(m map[string]any) { char(m, 1)["feature"] = "credit_score" }),
			`invalid model: characteristics[1].feature: "credit_score" is not a numeric feature of fs-v3/cat-v2`},
		{"a text feature", with(func(m map[string]any) { char(m, 1)["feature"] = "currency" }),
			`invalid model: characteristics[1].feature: "currency" is not a numeric feature of fs-v3/cat-v2`},
		{"no bins", with(func(m map[string]any) { char(m, 0)["bins"] = []any{} }),
			"invalid model: characteristics[0].bins: empty"},
		{"first bin closed below", with(func(m map[string]any) { bin(m, 0, 0)["lower"] = 0 }),
			"invalid model: characteristics[0].bins[0].lower: must be null (−∞) in the first bin"},
		{"last bin closed above", with(func(m map[string]any) { bin(m, 1, 3)["upper"] = 100 }),
			"invalid model: characteristics[1].bins[3].upper: must be null (+∞) in the last bin"},
		{"gap between bins", with(func(m map[string]any) { bin(m, 0, 1)["lower"] = 0.71 }),
			"invalid model: characteristics[0].bins[1].lower: 0.71 does not equal bins[0].upper 0.7066"},
		{"overlapping bins", with(func(m map[string]any) { bin(m, 0, 1)["upper"] = 0.7; bin(m, 0, 2)["lower"] = 0.7 }),
			"invalid model: characteristics[0].bins[2].lower: 0.7 is not above bins[1].lower 0.7066"},
		{"bins out of order", with(func(m map[string]any) {
			b := at(m, "characteristics", 1)["bins"].([]any)
			b[1], b[2] = b[2], b[1]
		}), "invalid model: characteristics[1].bins[1].lower: 5 does not equal bins[0].upper 1"},
		{"max_points that is not the maximum", with(func(m map[string]any) { char(m, 0)["max_points"] = 50 }),
			"invalid model: characteristics[0].max_points: 50 is not the largest points of the bins and undefined, 51"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, err := loadEngine(c.file, policy)
			require.EqualError(t, err, c.want)
			require.Nil(t, e, "a refused file yields no engine")
		})
	}
}

// goodPolicy is a small valid policy; the cases of TestBadInputPolicyFile break it.
const goodPolicy = `{
  "policy_version": "p1",
  "rules": [
    {"rule": "STALE_DATA", "threshold": 30, "action": "refer", "operational": true, "feature": "days_since_last_txn", "reason_text": "Data out of date"},
    {"rule": "INSUFFICIENT_HISTORY", "threshold": 3, "action": "decline", "feature": "months_of_history", "reason_text": "Insufficient history",
     "above_amount": {"amount_minor": 500000, "threshold": 6}},
    {"rule": "PTI_ABOVE_MAX", "threshold": 0.15, "action": "decline", "feature": "payment_to_income", "reason_text": "Excessive obligations"}
  ],
  "score_bands": {"approve_min": 570, "refer_min": 556},
  "counter_offer": {"step_minor": 5000, "min_amount_minor": 50000}
}`

// TestBadInputPolicyFile is issue 9's table for policy files, each case goodPolicy with
// one change, against the shipped v2 scorecard.
func TestBadInputPolicyFile(t *testing.T) {
	t.Parallel()
	model := scoring.DefaultModelFile()
	_, err := loadEngine(model, []byte(goodPolicy))
	require.NoError(t, err)
	text := func(old, new string) []byte {
		require.Equal(t, 1, strings.Count(goodPolicy, old), "edit %q", old)
		return []byte(strings.Replace(goodPolicy, old, new, 1))
	}
	rule := func(i int, edit func(r map[string]any)) []byte {
		return edited(t, []byte(goodPolicy), func(m map[string]any) { edit(at(m, "rules", i)) })
	}
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"not JSON", []byte(`policy_version: p1`), "invalid policy: decode policy file: line 1, column 1: invalid character 'p' looking for beginning of value"},
		{"threshold a string", text(`"threshold": 0.15`, `"threshold": "15%"`),
			"invalid policy: decode policy file: rules.threshold: got string, want a finite number (line 7)"},
		{"infinite threshold", text(`"threshold": 0.15`, `"threshold": -1e999`),
			"invalid policy: decode policy file: rules.threshold: got number -1e999, want a finite number (line 7)"},
		{"unknown field", text(`"action": "decline", "feature": "payment_to_income"`, `"action": "decline", "weight": 2, "feature": "payment_to_income"`),
			`invalid policy: decode policy file: json: unknown field "weight"`},
		{"data after the document", []byte(goodPolicy + "\n}"), "invalid policy: decode policy file: line 12, column 1: data after the JSON document"},
		{"no policy_version", text(`"policy_version": "p1"`, `"policy_version": ""`), "invalid policy: policy_version: empty"},
		{"unknown rule", rule(1, func(r map[string]any) { r["rule"] = "CREDIT_SCORE_BELOW" }),
			`invalid policy: rules[1].rule: "CREDIT_SCORE_BELOW" is not a known rule`},
		{"repeated rule", rule(2, func(r map[string]any) { r["rule"] = "STALE_DATA"; r["action"] = "refer"; r["operational"] = true }),
			`invalid policy: rules[2].rule: "STALE_DATA" repeated`},
		{"approve is not an action", rule(1, func(r map[string]any) { r["action"] = "approve" }),
			`invalid policy: rules[1].action: "approve" is not decline or refer`},
		{"unknown action when undefined", rule(1, func(r map[string]any) { r["action_when_undefined"] = "ignore" }),
			`invalid policy: rules[1].action_when_undefined: "ignore" is not decline or refer`},
		{"operational rule that declines", rule(0, func(r map[string]any) { r["action"] = "decline" }),
			"invalid policy: rules[0].action: an operational rule may only refer"},
		{"currency rule not operational", rule(0, func(r map[string]any) {
			r["rule"] = "CURRENCY_MISMATCH"
			delete(r, "operational")
		}), "invalid policy: rules[0].operational: CURRENCY_MISMATCH concerns the data, not the applicant: it must be operational"},
		{"no reason feature", rule(1, func(r map[string]any) { delete(r, "feature") }),
			"invalid policy: rules[1].feature: empty (the feature an adverse-action reason names)"},
		{"no reason text", rule(1, func(r map[string]any) { r["reason_text"] = "" }),
			"invalid policy: rules[1].reason_text: empty (the adverse-action reason's text)"},
		{"reason feature that is not a feature", rule(1, func(r map[string]any) { r["feature"] = "credit_score" }),
			`invalid policy: rules[1].feature: "credit_score" is not a feature (a json name of Features)`},
		{"above_amount without an amount", rule(1, func(r map[string]any) { at(r, "above_amount")["amount_minor"] = 0 }),
			"invalid policy: rules[1].above_amount.amount_minor: 0 is not positive"},
		{"bands out of order", text(`"approve_min": 570, "refer_min": 556`, `"approve_min": 556, "refer_min": 570`),
			"invalid policy: score_bands: approve_min 556 is below refer_min 570"},
		{"counter-offer step zero", text(`"step_minor": 5000`, `"step_minor": 0`),
			"invalid policy: counter_offer.step_minor: 0 is not positive"},
		{"counter-offer minimum negative", text(`"min_amount_minor": 50000`, `"min_amount_minor": -1`),
			"invalid policy: counter_offer.min_amount_minor: -1 is not positive"},
		{"counter-offer without its rule", rule(2, func(r map[string]any) { r["rule"] = "NSF_EXCESS"; r["feature"] = "nsf_od_fee_count_90d" }),
			"invalid policy: counter_offer: needs the PTI_ABOVE_MAX rule"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, err := loadEngine(model, c.file)
			require.EqualError(t, err, c.want)
			require.Nil(t, e, "a refused file yields no engine")
		})
	}
}

// TestBadInputRulesFile is issue 9's table for categorisation rules files
// (`underwriter features --rules`), each case with its exact error.
func TestBadInputRulesFile(t *testing.T) {
	t.Parallel()
	const good = `{"version": "u1", "rules": [{"id": "PAYROLL_ACME", "category": "payroll", "direction": "inflow", "keywords": [["ACME", "PAYROLL"]]}]}`
	_, err := scoring.LoadUserCategoryRules([]byte(good))
	require.NoError(t, err)
	for _, c := range []struct{ name, file, want string }{
		{"not JSON", `{"version": "u1",`, "invalid category rules: decode rules file: line 1, column 18: unexpected end of JSON input"},
		{"unknown field", strings.Replace(good, `"keywords"`, `"keyword"`, 1), `invalid category rules: decode rules file: json: unknown field "keyword"`},
		{"two documents", good + good, "invalid category rules: decode rules file: line 1, column 134: data after the JSON document"},
		{"no version", strings.Replace(good, `"u1"`, `" "`, 1), "invalid category rules: version: empty"},
		{"no rules", `{"version": "u1", "rules": []}`, "invalid category rules: rules: empty"},
		{"rule without id", strings.Replace(good, `"PAYROLL_ACME"`, `""`, 1), "invalid category rules: rules[0].id: empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := scoring.LoadUserCategoryRules([]byte(c.file))
			require.EqualError(t, err, c.want)
			require.ErrorIs(t, err, scoring.ErrInvalidRules)
		})
	}
}
