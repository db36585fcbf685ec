package pgembed

import "syscall"

// sysProcAttr puts the child in its own process group, runs it as cred (when
// not nil) and has the kernel send it deathSig when the parent dies, so a
// crashed or killed parent does not leave a cluster running. (Pdeathsig is
// tied to the OS thread that started the child; the Go runtime keeps threads
// alive unless a goroutine locked to one exits, which this package never
// does.)
func sysProcAttr(cred *syscall.Credential, deathSig syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:    true,
		Credential: cred,
		Pdeathsig:  deathSig,
	}
}
