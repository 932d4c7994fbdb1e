//go:build linux

package server

import (
	"runtime"
	"syscall"
)

// heavyNice is how much an expensive command's OS thread is niced while it
// holds a heavy slot (fair.go, "Long commands").
const heavyNice = 10

// probeHeavyNice reports whether this process may lower a thread's
// priority and raise it back, which an unprivileged process may not (raising
// needs CAP_SYS_NICE or RLIMIT_NICE). It tries on a thread of its own that it
// never unlocks, so the thread ends with the probe whatever happened.
func probeHeavyNice() bool {
	ok := make(chan bool, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		tid := syscall.Gettid()
		raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		if err != nil {
			ok <- false
			return
		}
		nice := 20 - raw // the raw syscall answers 20 - nice
		if nice >= 19 || syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice+1) != nil {
			ok <- false
			return
		}
		ok <- syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice) == nil
	}()
	return <-ok
}

// heavyThreadEnter locks the calling goroutine to its thread and lowers the
// thread's priority by heavyNice. It returns the nice value to restore, or
// ok false when it changed nothing.
func heavyThreadEnter() (nice int, ok bool) {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		runtime.UnlockOSThread()
		return 0, false
	}
	nice = 20 - raw
	if nice >= 19 || syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, nice+heavyNice)) != nil {
		runtime.UnlockOSThread()
		return 0, false
	}
	return nice, true
}

// heavyThreadExit restores what heavyThreadEnter changed. If the priority
// cannot be raised back (the probe said it could), the goroutine keeps the
// thread locked, so no other goroutine ever runs on a lowered thread; the
// thread ends with the connection.
func heavyThreadExit(nice int) {
	if syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice) == nil {
		runtime.UnlockOSThread()
	}
}
