//go:build linux

package server

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/tcached/tcached/command"
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

// TestHeavyThreadNiceReported: whether expensive commands run niced is
// logged when the server starts and shown in INFO (a tenant's and an
// operator's) as heavy_thread_nice; a process with CAP_SYS_NICE has it.
// cmd/tcached's TestHeavyThreadNiceWithoutCapSysNice runs the binary
// without the capability.
func TestHeavyThreadNiceReported(t *testing.T) {
	var logBuf syncBuffer
	srv := startServerWith(t, testConfig(), Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if hasCapSysNice() && !srv.heavyNice {
		t.Error("the process has CAP_SYS_NICE, but expensive commands do not run niced")
	}
	want := fmt.Sprintf("heavy_thread_nice=%v", srv.heavyNice)
	if logged := logBuf.String(); !strings.Contains(logged, want) {
		t.Errorf("start-up log lacks %s:\n%s", want, logged)
	}
	field := fmt.Sprintf("\r\nheavy_thread_nice:%d\r\n", command.B2i(srv.heavyNice))
	if info := string(dialAs(t, srv.addr, "alice", "alice-pw").do("INFO", "server").([]byte)); !strings.Contains(info, field) {
		t.Errorf("INFO server lacks %q:\n%s", field, info)
	}
	if info := string(dialAs(t, srv.addr, "ops", "ops-pw").do("INFO").([]byte)); !strings.Contains(info, field) {
		t.Errorf("operator INFO lacks %q:\n%s", field, info)
	}
}
