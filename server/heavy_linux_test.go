//go:build linux

package server

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// schedPolicy is the calling thread's scheduling policy.
func schedPolicy(t *testing.T) int {
	p, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
	if e != 0 {
		t.Error(e)
	}
	return int(p)
}

// TestHeavyThreadNice: a heavy slot holder's thread moves to SCHED_IDLE
// and back, on a locked thread, when the process may do so.
func TestHeavyThreadNice(t *testing.T) {
	if !probeHeavyNice() {
		t.Skip("this process may not move a thread out of SCHED_IDLE (no CAP_SYS_NICE)")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // the checks below must see one thread
		defer runtime.UnlockOSThread()
		if got := schedPolicy(t); got != schedOther {
			t.Errorf("policy before = %d", got)
			return
		}
		if !heavyThreadEnter() {
			t.Error("heavyThreadEnter changed nothing")
			return
		}
		if got := schedPolicy(t); got != schedIdle {
			t.Errorf("policy while heavy = %d, want SCHED_IDLE", got)
		}
		if !heavyThreadExit(true) {
			t.Error("heavyThreadExit could not restore")
		}
		if got := schedPolicy(t); got != schedOther {
			t.Errorf("policy after = %d, want SCHED_OTHER", got)
		}
	}()
	<-done
}

// TestIdlePool: runIdle runs its function on a thread at SCHED_IDLE,
// concurrently up to the pool's size, and raises a panic again in the
// caller; the caller's thread is untouched.
func TestIdlePool(t *testing.T) {
	if !probeIdlePool() {
		t.Skip("this process may not move a thread to SCHED_IDLE")
	}
	var policy int
	if !runIdle(func() { policy = schedPolicy(t) }) {
		t.Fatal("no worker for one job")
	}
	if policy != schedIdle {
		t.Errorf("a pooled job ran at policy %d, want SCHED_IDLE", policy)
	}
	// Jobs that wait for each other need as many workers at once.
	const n = 8
	var wg sync.WaitGroup
	release := make(chan struct{})
	var ran atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !runIdle(func() { ran.Add(1); <-release }) {
				t.Error("no worker for a concurrent job")
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for ran.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if ran.Load() != n {
		t.Fatalf("%d of %d concurrent jobs ran", ran.Load(), n)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "boom") {
				t.Errorf("recovered %v, want the job's panic", r)
			}
		}()
		runIdle(func() { panic("boom") })
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if got := schedPolicy(t); got != schedOther {
		t.Errorf("the caller's thread is at policy %d", got)
	}
}

// TestIdlePoolServesPredicted: in a process that may not move a thread
// back from SCHED_IDLE (forced here), a tenant's command that may be
// long runs on the idle pool once one of its commands ran long in the
// last second, while another tenant is active, with the same reply; a
// fast command never does.
func TestIdlePoolServesPredicted(t *testing.T) {
	if !probeIdlePool() {
		t.Skip("this process may not move a thread to SCHED_IDLE")
	}
	srv := startServerWith(t, testConfig(), Options{unprivileged: true})
	if srv.heavyNice || !srv.idlePool {
		t.Fatalf("heavyNice %v idlePool %v, want the pool", srv.heavyNice, srv.idlePool)
	}
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	// Tenant b is active throughout (alone, a would run where it is).
	stop := make(chan struct{})
	pinged := make(chan struct{})
	rb := dialAs(t, srv.addr, "bob", "bob-pw")
	go func() {
		defer close(pinged)
		for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(time.Millisecond) {
			select {
			case <-stop:
				return
			default:
			}
			rb.do("PING")
		}
	}()
	defer func() { close(stop); <-pinged }()
	ta := srv.reg.Load().tenants["a"]
	for end := time.Now().Add(10 * time.Second); ta.adm.Alone(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("tenant a still alone with b pinging")
		}
	}
	for i := 0; i < 30_000; i += 1000 {
		args := []string{"MSET"}
		for j := i; j < i+1000; j++ {
			args = append(args, fmt.Sprintf("aaaaaaaaaa:%06d", j), "v")
		}
		r.do(args...)
	}
	info := func() string { return string(r.do("INFO", "server").([]byte)) }
	if !strings.Contains(info(), "\r\nheavy_thread_pool:1\r\nheavy_pool_commands:0\r\n") {
		t.Fatalf("INFO before: %s", info())
	}
	// Long enough to pass heavyAfter however fast the machine: a glob
	// with backtracking over 30K keys. The first, not predicted, moves
	// its own thread to SCHED_IDLE at its first checkpoint; as that
	// thread cannot come back, the connection goes on on a new goroutine
	// after it, pipelined commands included, and the old one ends.
	before := srv.retired.Load()
	r.send(append(append(encode("KEYS", "*a*a*a*a*a*b"), encode("PING")...), encode("GET", "aaaaaaaaaa:000003")...))
	if got := r.read(); fmt.Sprint(got) != "[]" {
		t.Fatalf("KEYS = %#v", got)
	}
	if got := r.read(); got != status("PONG") {
		t.Fatalf("PING after the KEYS = %#v", got)
	}
	if got := norm(r.read()); got != "v" {
		t.Fatalf("GET after the KEYS = %#v", got)
	}
	if got := srv.retired.Load() - before; got != 1 {
		t.Errorf("the connection moved %d times after a first long KEYS, want 1", got)
	}
	if got := r.do("KEYS", "*a*a*a*a*a*b"); fmt.Sprint(got) != "[]" {
		t.Fatalf("KEYS = %#v", got)
	}
	r.do("GET", "aaaaaaaaaa:000001")
	if got := r.do("KEYS", "*:000007"); fmt.Sprintf("%s", got) != "[aaaaaaaaaa:000007]" {
		t.Fatalf("KEYS on the pool = %#v", got)
	}
	if i := info(); !strings.Contains(i, "\r\nheavy_pool_commands:2\r\n") {
		t.Errorf("INFO after two predicted KEYS (the second and third) and a GET: %s", i)
	}
	if got := srv.retired.Load() - before; got != 1 {
		t.Errorf("the connection moved %d times, want 1: pooled commands leave its thread alone", got)
	}
	// A blocking command never runs on the pool: it would wait there, and
	// a wait releases its slot, after which its checkpoints could move
	// the pool thread.
	if got := r.do("BLPOP", "nolist", "0.01"); got != (nilArray{}) && got != nil {
		t.Fatalf("BLPOP = %#v", got)
	}
	if i := info(); !strings.Contains(i, "\r\nheavy_pool_commands:2\r\n") {
		t.Errorf("INFO after a BLPOP by a tenant known for long commands: %s", i)
	}
	// The moved connection ends once: its client is released.
	ta0 := ta.clients.Load()
	r.c.Close()
	for end := time.Now().Add(10 * time.Second); ta.clients.Load() != ta0-1; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("tenant a's clients %d after closing one of %d", ta.clients.Load(), ta0)
		}
	}
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
