//go:build unix && !linux

package pgembed

import "syscall"

// sysProcAttr puts the child in its own process group and runs it as cred
// (when not nil). Outside Linux there is no parent-death signal: a crashed
// parent can leave the cluster running until it is stopped by hand.
func sysProcAttr(cred *syscall.Credential, _ syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:    true,
		Credential: cred,
	}
}
