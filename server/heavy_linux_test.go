//go:build linux

package server

import (
	"runtime"
	"syscall"
	"testing"
)

// TestHeavyThreadNice: a heavy slot holder's thread is niced by heavyNice
// and restored after, on a locked thread, when the process may do so.
func TestHeavyThreadNice(t *testing.T) {
	if !probeHeavyNice() {
		t.Skip("this process may not raise a thread's priority back (no CAP_SYS_NICE)")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // the checks below must see one thread
		defer runtime.UnlockOSThread()
		niceNow := func() int {
			raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
			if err != nil {
				t.Error(err)
			}
			return 20 - raw
		}
		before := niceNow()
		nice, ok := heavyThreadEnter()
		if before >= 19 {
			if ok {
				t.Error("a thread already at nice 19 reported as niced")
			}
			return
		}
		if !ok || nice != before {
			t.Errorf("enter = %d, %v; want %d, true", nice, ok, before)
			return
		}
		if got := niceNow(); got != min(19, before+heavyNice) {
			t.Errorf("nice while heavy = %d, want %d", got, min(19, before+heavyNice))
		}
		heavyThreadExit(nice)
		if got := niceNow(); got != before {
			t.Errorf("nice after = %d, want %d", got, before)
		}
	}()
	<-done
}
