//go:build unix && !linux

package cluster

import "syscall"

// sysProcAttr is empty where the kernel cannot kill children with their parent: a
// harness that dies leaves its processes running.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
