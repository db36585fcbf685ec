package bench

import (
	"context"
	"errors"

	"github.com/cashflow-underwriting/underwriter/internal/devstack"
)

const defaultE2EApplications = 200

// E2ESection is the end-to-end section.
type E2ESection struct{}

func (r *Report) runE2E(ctx context.Context, st *devstack.Stack, opt Options) error {
	return errors.New("e2e: not built yet")
}
