package loan_test

import (
	"strings"
	"testing"

	"github.com/cashflow-underwriting/underwriter/loan"
)

func TestLenderIDsAndApplicationKeys(t *testing.T) {
	for _, ok := range []string{"dev", "acme", "bank-2", "a", strings.Repeat("a", 32)} {
		if err := loan.CheckLender(ok); err != nil {
			t.Errorf("CheckLender(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Acme", "-x", "a/b", "a b", strings.Repeat("a", 33), "é", "acme\x00"} {
		if loan.CheckLender(bad) == nil {
			t.Errorf("CheckLender(%q) accepted", bad)
		}
	}
	if key := loan.ApplicationKey("acme", "app-1"); key != "acme/app-1" {
		t.Errorf("ApplicationKey = %q", key)
	}
	if l, ext := loan.SplitApplicationKey("acme/app-1"); l != "acme" || ext != "app-1" {
		t.Errorf("SplitApplicationKey(acme/app-1) = %q, %q", l, ext)
	}
	if l, ext := loan.SplitApplicationKey("legacy-7"); l != loan.DevLender || ext != "legacy-7" {
		t.Errorf("SplitApplicationKey(legacy-7) = %q, %q", l, ext)
	}
}
