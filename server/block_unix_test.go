//go:build unix

package server

import (
	"syscall"
	"testing"
	"time"
)

// processCPU sleeps d and returns the CPU time (user + system) the whole
// process used meanwhile, and the wall time.
func processCPU(t *testing.T, d time.Duration) (used, wall time.Duration) {
	t.Helper()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c0, start := cpu(), time.Now()
	time.Sleep(d)
	return cpu() - c0, time.Since(start)
}
