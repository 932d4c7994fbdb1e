package bench

import (
	"syscall"
	"time"
)

// isoSysProcAttr makes a child of BenchmarkIsolation (tcached, redis-server,
// the aggressor) die with the benchmark process, even when that is killed
// (go test -timeout, ^C, SIGKILL) before its cleanups run.
func isoSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// isoSleep sleeps in the nanosleep system call rather than on a runtime
// timer: with every P idle, the Go scheduler waits for its next timer in
// epoll_pwait, whose millisecond timeout makes an idle victim wake up to
// ~1ms late, a floor the open-loop schedule would count as latency. A
// goroutine in nanosleep holds its own thread and wakes within the kernel's
// timer slack (50µs by default).
func isoSleep(d time.Duration) {
	deadline := time.Now().Add(d)
	for d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil) // EINTR: sleep the rest
		d = time.Until(deadline)
	}
}
