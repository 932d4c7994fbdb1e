//go:build linux

package server

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// heavyNice is how much an expensive command's OS thread is niced while it
// holds a heavy slot (fair.go, "Long commands").
const heavyNice = 10

// probeHeavyNice reports whether this process may lower a thread's
// priority and raise it back, which an unprivileged process may not:
// raising needs CAP_SYS_NICE, or an RLIMIT_NICE that reaches the current
// nice value. It reads both rather than trying, because a trial that
// cannot raise the priority back would have to end its thread, and a
// thread that ends takes with it every child it forked with Pdeathsig
// (tests start redis-server that way).
func probeHeavyNice() bool {
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0) // the calling thread
	if err != nil {
		return false
	}
	nice := 20 - raw // the raw syscall answers 20 - nice
	if nice >= 19 {
		return false // heavyThreadEnter could not lower it
	}
	if hasCapSysNice() {
		return true
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(rlimitNice, &rl) != nil {
		return false
	}
	// RLIMIT_NICE r lets a thread set its nice down to 20 - r.
	return rl.Cur == ^uint64(0) || rl.Cur >= uint64(20-nice)
}

// rlimitNice is RLIMIT_NICE, which package syscall does not name.
const rlimitNice = 13

// capSysNice is CAP_SYS_NICE's bit in /proc/self/status's CapEff.
const capSysNice = 23

func hasCapSysNice() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<capSysNice) != 0
		}
	}
	return false
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
