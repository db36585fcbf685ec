package bench

import (
	"context"
	"errors"
)

const defaultLoadApplications = 1000

// LoadSection is the load section.
type LoadSection struct{}

func (r *Report) runLoad(ctx context.Context, opt Options) error {
	return errors.New("load: not built yet")
}
