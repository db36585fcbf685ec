package cluster

import "syscall"

// sysProcAttr has the kernel kill a worker or API process when the harness dies, so a
// crashed test or an interrupted chaos run leaves no process behind. (Pdeathsig is tied
// to the OS thread that started the child; the Go runtime keeps threads alive unless a
// goroutine locked to one exits, which this package never does.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
