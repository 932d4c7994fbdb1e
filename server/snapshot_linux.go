//go:build linux

package server

import (
	"runtime"
	"syscall"
)

// snapshotNice is how much a background snapshot's thread is niced.
const snapshotNice = 10

// runNiced runs fn on a fresh OS thread niced by snapshotNice and waits
// for it. The goroutine never unlocks its thread, so the thread ends with
// it and no other goroutine ever runs at the lowered priority; lowering a
// thread's own priority needs no privilege (raising it back would, which
// is why the thread is thrown away rather than restored). fn forks
// nothing, so no child is tied to the thread's end.
func runNiced(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		tid := syscall.Gettid()
		if raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid); err == nil {
			syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, 20-raw+snapshotNice))
		}
		fn()
	}()
	<-done
}
