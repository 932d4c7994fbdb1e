//go:build linux

package server

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// An expensive command's OS thread runs at SCHED_IDLE while it holds a
// heavy slot (fair.go, "Long commands"): the kernel then runs any other
// thread before it. Measured with BenchmarkKeysFlood (another tenant's
// PING p99, flood over idle, medians of 6-8 runs): nice 10 5.5x, nice 19
// 2.8x, SCHED_IDLE 2.0x.
const (
	schedOther = 0 // SCHED_OTHER (SCHED_NORMAL)
	schedIdle  = 5 // SCHED_IDLE
)

// setSched sets thread tid's scheduling policy (sched_setscheduler(2),
// priority 0, which both policies require).
func setSched(tid, policy int) error {
	var param [1]int32 // struct sched_param {int sched_priority;}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param[0]))); e != 0 {
		return e
	}
	return nil
}

// probeHeavyNice reports whether this process may move a thread to
// SCHED_IDLE and back, which an unprivileged process may not: any thread
// may enter SCHED_IDLE, but leaving it needs CAP_SYS_NICE, or an
// RLIMIT_NICE that reaches the thread's nice value (the kernel treats
// SCHED_IDLE as nice 20). It reads both rather than trying, because a
// trial that cannot leave SCHED_IDLE would have to end its thread, and a
// thread that ends takes with it every child it forked with Pdeathsig
// (tests start redis-server that way). Without it the idle pool (below)
// serves instead.
func probeHeavyNice() bool {
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0) // the calling thread
	if err != nil {
		return false
	}
	nice := 20 - raw // the raw syscall answers 20 - nice
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

// heavyThreadEnter locks the calling goroutine to its thread and moves
// the thread to SCHED_IDLE; false when it changed nothing.
func heavyThreadEnter() bool {
	runtime.LockOSThread()
	if setSched(syscall.Gettid(), schedIdle) != nil {
		runtime.UnlockOSThread()
		return false
	}
	return true
}

// heavyThreadExit restores what heavyThreadEnter changed, and reports
// whether it could. If the thread cannot leave SCHED_IDLE (no
// CAP_SYS_NICE), the goroutine keeps it locked, so no other goroutine
// ever runs on it, and must end for the thread to end: the connection
// then goes on on a new goroutine (conn.go, runConn).
func heavyThreadExit(mayRestore bool) bool {
	if mayRestore && setSched(syscall.Gettid(), schedOther) == nil {
		runtime.UnlockOSThread()
		return true
	}
	return false
}

// The idle pool: where the process may not leave SCHED_IDLE (no
// CAP_SYS_NICE), a command cannot move its own thread there and back.
// Instead, worker goroutines lock threads that enter SCHED_IDLE once and
// stay there for the life of the process (they never end: see
// probeHeavyNice on Pdeathsig), and a command whose tenant ran an
// expensive command lately is handed to one from its start (fair.go,
// runPredicted). Workers are started on demand, up to idleMax; a command
// finding none free runs where it is.

// idleMax bounds the pool's threads: enough for every command of a flood
// of expensive ones to wait for its heavy slot on one (16 KEYS
// connections take 16), few enough that blocked ones cannot pile up.
const idleMax = 64

type idleJob struct {
	f    func()
	done chan any // nil, or the panic f raised (with its stack)
}

var idlePool struct {
	jobs   chan *idleJob // unbuffered: a send succeeds only to a waiting worker
	mu     sync.Mutex
	n      int  // workers started
	broken bool // a worker could not enter SCHED_IDLE: the pool is off
}

func init() { idlePool.jobs = make(chan *idleJob) }

// idleWorker runs jobs on its own thread, at SCHED_IDLE, for ever.
func idleWorker(first *idleJob, ready chan<- bool) {
	runtime.LockOSThread()
	ok := setSched(syscall.Gettid(), schedIdle) == nil
	if ready != nil {
		ready <- ok
	}
	if !ok {
		// Nothing changed on this thread: give it back and stop.
		runtime.UnlockOSThread()
		idlePool.mu.Lock()
		idlePool.n--
		idlePool.broken = true
		idlePool.mu.Unlock()
		if first != nil {
			first.run()
		}
		return
	}
	if first != nil {
		first.run()
	}
	for j := range idlePool.jobs {
		j.run()
	}
}

func (j *idleJob) run() {
	defer func() {
		if r := recover(); r != nil {
			j.done <- fmt.Sprintf("%v (on an idle-pool thread)\n%s", r, debug.Stack())
			return
		}
		j.done <- nil
	}()
	j.f()
}

// probeIdlePool starts the pool's first worker and reports whether its
// thread entered SCHED_IDLE.
func probeIdlePool() bool {
	idlePool.mu.Lock()
	if idlePool.broken {
		idlePool.mu.Unlock()
		return false
	}
	if idlePool.n > 0 {
		idlePool.mu.Unlock()
		return true
	}
	idlePool.n++
	idlePool.mu.Unlock()
	ready := make(chan bool, 1)
	go idleWorker(nil, ready)
	return <-ready
}

// runIdle runs f on an idle-pool thread and waits for it; false (f not
// run) when every worker is busy and no more may start. A panic in f is
// raised again here.
func runIdle(f func()) bool {
	j := &idleJob{f: f, done: make(chan any, 1)}
	select {
	case idlePool.jobs <- j:
	default:
		idlePool.mu.Lock()
		if idlePool.broken || idlePool.n >= idleMax {
			idlePool.mu.Unlock()
			return false
		}
		idlePool.n++
		idlePool.mu.Unlock()
		go idleWorker(j, nil)
	}
	if p := <-j.done; p != nil {
		panic(p)
	}
	return true
}
