//go:build browser

package browser

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
)

type cardEnv struct {
	flags []chromedp.ExecAllocatorOption
}

func setUpCard(t *testing.T, cfg *devstack.Config) *cardEnv                   { return nil }
func (c *cardEnv) start(t *testing.T, s *devstack.Stack)                      {}
func (c *cardEnv) check(bctx context.Context, t *testing.T, u, k, dir string) {}
