package scoring

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

// MonitoringPolicy holds the thresholds of the early-warning events (Monitor), as stored
// in a versioned monitoring-policy file (scoring/monitoring/<version>.json, embedded).
// docs/monitoring.md describes each field. A MonitoringPolicy is read-only once loaded.
type MonitoringPolicy struct {
	// Version names the policy; every MonitorResult records it.
	Version string `json:"monitoring_policy_version"`
	// LowBalanceFloorMinor: LOW_BALANCE fires when the combined cash balance falls below it.
	LowBalanceFloorMinor int64 `json:"low_balance_floor_minor"`
	// InstalmentWarningDays: LOW_BALANCE also fires when, this many days or fewer before an
	// instalment's due date, the balance is below the instalment.
	InstalmentWarningDays int `json:"instalment_warning_days"`
	// IncomeLateDays: INCOME_STOPPED fires for a regular income stream when its predicted
	// next date plus the cadence tolerance (DefaultOnCadenceDays) plus these days has passed.
	IncomeLateDays int `json:"income_late_days"`
	// IrregularIncomeWindowDays and IrregularIncomeMinShare: for a borrower without a
	// regular income stream at origination, INCOME_STOPPED fires when the income of the last
	// window days is below share × the monthly income estimate at origination.
	IrregularIncomeWindowDays int     `json:"irregular_income_window_days"`
	IrregularIncomeMinShare   float64 `json:"irregular_income_min_share"`
	// IncomeDropShare: INCOME_DROP fires when the income of the last 90 days, as a monthly
	// rate, is more than this share below the monthly income estimate at origination.
	IncomeDropShare float64 `json:"income_drop_share"`
	// LargeDepositIncomeShare and LargeDepositMinMinor: LARGE_DEPOSIT fires for an inflow
	// above both share × the monthly income estimate at origination and the minimum.
	LargeDepositIncomeShare float64 `json:"large_deposit_income_share"`
	LargeDepositMinMinor    int64   `json:"large_deposit_min_minor"`
}

// ErrInvalidMonitoringPolicy is wrapped by every monitoring-policy validation error.
var ErrInvalidMonitoringPolicy = errors.New("invalid monitoring policy")

func monPolicyErr(field, format string, args ...any) error {
	return fieldError(ErrInvalidMonitoringPolicy, field, format, args...)
}

//go:embed monitoring/*.json
var shippedMonitoring embed.FS

// DefaultMonitoringPolicyVersion is the file name (without .json) of the default
// monitoring policy.
const DefaultMonitoringPolicyVersion = "v1"

// ShippedMonitoringPolicy loads the shipped monitoring-policy file of version (e.g. "v1").
func ShippedMonitoringPolicy(version string) (*MonitoringPolicy, error) {
	b, err := fs.ReadFile(shippedMonitoring, "monitoring/"+version+".json")
	if err != nil {
		return nil, fmt.Errorf("shipped monitoring policy %q: %w", version, err)
	}
	return LoadMonitoringPolicy(b)
}

// DefaultMonitoringPolicy returns the default shipped monitoring policy (v1).
func DefaultMonitoringPolicy() *MonitoringPolicy {
	p, err := ShippedMonitoringPolicy(DefaultMonitoringPolicyVersion)
	if err != nil {
		panic("scoring: embedded monitoring policy: " + err.Error())
	}
	return p
}

// LoadMonitoringPolicy decodes and validates a monitoring-policy file. Unknown fields,
// missing versions and out-of-range thresholds are errors naming the field.
func LoadMonitoringPolicy(data []byte) (*MonitoringPolicy, error) {
	return loadFile[MonitoringPolicy](data, "monitoring policy", ErrInvalidMonitoringPolicy)
}

func (p *MonitoringPolicy) validate() error {
	switch {
	case p.Version == "":
		return monPolicyErr("monitoring_policy_version", "empty")
	case p.LowBalanceFloorMinor < 0 || !inRange(p.LowBalanceFloorMinor):
		return monPolicyErr("low_balance_floor_minor", "%d is not in [0, %d]", p.LowBalanceFloorMinor, int64(MaxAmountMinor))
	case p.InstalmentWarningDays < 0 || p.InstalmentWarningDays > 31:
		return monPolicyErr("instalment_warning_days", "%d is not in [0, 31]", p.InstalmentWarningDays)
	case p.IncomeLateDays < 0 || p.IncomeLateDays > 62:
		return monPolicyErr("income_late_days", "%d is not in [0, 62]", p.IncomeLateDays)
	case p.IrregularIncomeWindowDays < 1 || p.IrregularIncomeWindowDays > 366:
		return monPolicyErr("irregular_income_window_days", "%d is not in [1, 366]", p.IrregularIncomeWindowDays)
	case !finite(p.IrregularIncomeMinShare) || p.IrregularIncomeMinShare <= 0 || p.IrregularIncomeMinShare > 1:
		return monPolicyErr("irregular_income_min_share", "%g is not in (0, 1]", p.IrregularIncomeMinShare)
	case !finite(p.IncomeDropShare) || p.IncomeDropShare <= 0 || p.IncomeDropShare >= 1:
		return monPolicyErr("income_drop_share", "%g is not in (0, 1)", p.IncomeDropShare)
	case !finite(p.LargeDepositIncomeShare) || p.LargeDepositIncomeShare <= 0:
		return monPolicyErr("large_deposit_income_share", "%g is not a positive number", p.LargeDepositIncomeShare)
	case p.LargeDepositMinMinor < 0 || !inRange(p.LargeDepositMinMinor):
		return monPolicyErr("large_deposit_min_minor", "%d is not in [0, %d]", p.LargeDepositMinMinor, int64(MaxAmountMinor))
	}
	return nil
}
