package clustertest

import "syscall"

// sysProcAttr makes the kernel SIGKILL a redis-server whose parent dies, so a
// test binary killed before its cleanups run (e.g. by -timeout) leaks nothing.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
