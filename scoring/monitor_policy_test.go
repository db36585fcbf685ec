package scoring_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

func TestDefaultMonitoringPolicyLoads(t *testing.T) {
	p := scoring.DefaultMonitoringPolicy()
	if p.Version != "mon-v1" || p.LowBalanceFloorMinor != 10000 || p.InstalmentWarningDays != 3 ||
		p.IrregularIncomeWindowDays != 30 || p.IncomeDropShare != 0.3 {
		t.Fatalf("default monitoring policy = %+v", *p)
	}
	if _, err := scoring.ShippedMonitoringPolicy("v9"); err == nil {
		t.Fatal("ShippedMonitoringPolicy(v9): no error")
	}
}

func TestLoadMonitoringPolicyNamesTheField(t *testing.T) {
	good := `{"monitoring_policy_version":"x","low_balance_floor_minor":1,"instalment_warning_days":3,` +
		`"income_late_days":3,"irregular_income_window_days":30,"irregular_income_min_share":0.5,` +
		`"income_drop_share":0.3,"large_deposit_income_share":0.5,"large_deposit_min_minor":1}`
	if _, err := scoring.LoadMonitoringPolicy([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	for _, c := range []struct{ from, to, field string }{
		{`"monitoring_policy_version":"x"`, `"monitoring_policy_version":""`, "monitoring_policy_version"},
		{`"low_balance_floor_minor":1`, `"low_balance_floor_minor":-1`, "low_balance_floor_minor"},
		{`"instalment_warning_days":3`, `"instalment_warning_days":-2`, "instalment_warning_days"},
		{`"income_late_days":3`, `"income_late_days":100`, "income_late_days"},
		{`"irregular_income_window_days":30`, `"irregular_income_window_days":0`, "irregular_income_window_days"},
		{`"irregular_income_min_share":0.5`, `"irregular_income_min_share":1.5`, "irregular_income_min_share"},
		{`"income_drop_share":0.3`, `"income_drop_share":1`, "income_drop_share"},
		{`"large_deposit_income_share":0.5`, `"large_deposit_income_share":0`, "large_deposit_income_share"},
		{`"large_deposit_min_minor":1`, `"large_deposit_min_minor":-5`, "large_deposit_min_minor"},
		{`"large_deposit_min_minor":1`, `"large_deposit_min_minor":"1"`, "large_deposit_min_minor"},
		{`"income_late_days":3`, `"income_late_dayz":3`, "income_late_dayz"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		_, err := scoring.LoadMonitoringPolicy([]byte(bad))
		if !errors.Is(err, scoring.ErrInvalidMonitoringPolicy) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err = %v, want ErrInvalidMonitoringPolicy naming %s", c.to, err, c.field)
		}
	}
	if _, err := scoring.LoadMonitoringPolicy([]byte(good + "{}")); err == nil || !strings.Contains(err.Error(), "data after") {
		t.Errorf("trailing data: err = %v", err)
	}
}
