//go:build !linux

package cluster

import (
	"errors"
	"time"
)

// processCPU is only known on Linux, for a running process; an exited one's comes from
// its process state on every system.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("the CPU time of a running process is read from /proc, on Linux only")
}
