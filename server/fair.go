package server

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
)

// Cost accounting and fair sharing (package admission, "Fair sharing when
// contended"). The connection loop measures each command's service time
// with the clock reading it takes anyway (the command's start, for
// admission and latency): the span from one command's start to the next's
// is the first command's cost (parsing the next one included), and the
// span up to the end of the flush is the last one's, plus the write. What
// a connection costs outside its commands is charged too, so a flood of
// big values or of new connections is seen in full (bench/charged.sh):
// the read system calls, timed apart from the sleep for input
// (sockread_unix.go), a big command's read-buffer growth, and each
// connection's setup and close (connCost, bindCharge). A throttled
// tenant's connection waits for its allowance before each command;
// nothing else pays for the check but one atomic load.

// maxFlushCharge caps what one flush is charged: a write to a client that
// does not read blocks in the kernel, which is waiting, not work. 2ms is
// several times the cost of writing a 512 KiB reply here.
const maxFlushCharge = 2 * time.Millisecond

// pace runs before each command: it charges the span since the previous
// mark, and for a throttled tenant waits for the tenant's allowance. It
// reports true when it answered the command itself (refused: the wait
// would pass the tier timeout), which must then not be dispatched.
// mono is the server's clock for timing commands: admission's (ns since
// the controller started, monotonic when real), read once per read and
// once per command and shared by latency, admission, the SLA clock, cost
// accounting and CLIENT LIST's idle time. It is not the TTL clock
// (Options.Now, wall time): a monotonic reading costs about half of a
// time.Now here (25 vs 47 ns), and a command needs no wall time unless it
// looks at a TTL.
func (s *Server) mono() int64 { return s.admission.Now() }

// wallMs is the TTL clock, unix ms, for shard's expiry checks and the
// handlers' (Ctx.NowMs): nearly every key carries its tier's TTL, so a
// GET reads it once and a SET two or three times. With real clocks it is
// a monotonic reading plus the offset syncWall takes from time.Now every
// expiry round (100 ms), which costs half a time.Now and follows a step
// of the wall clock within a round; with a fake Options.Now, that clock.
func (s *Server) wallMs() int64 {
	if !s.realWall {
		return s.now().UnixMilli()
	}
	return (s.mono() + s.wallOff.Load()) / int64(time.Millisecond)
}

// syncWall re-reads the wall clock's offset from mono (New, expireRound).
func (s *Server) syncWall() {
	if s.realWall {
		s.wallOff.Store(time.Now().UnixNano() - s.mono())
	}
}

func (s *Server) pace(c *client) bool {
	// One clock reading per command: the end of the previous one, read by
	// dispatch (or the read that brought this one), when there is one.
	now := c.now
	c.now = 0
	if now == 0 {
		now = s.mono()
	}
	s.charge(c, now)
	c.cmdStart = now
	c.work.ran = 0
	t := c.tenant
	if t == nil || !t.adm.Throttled() {
		return false
	}
	p := t.adm.Pace()
	if p.Wait < admission.MinPaceWait {
		c.pacing = p
		return false
	}
	if to := t.cfg().Tier.Timeout; to > 0 && time.Duration(now-c.readAt)+p.Wait > to {
		t.adm.Unpace(p)
		t.adm.Refuse(admission.ReasonFairShare)
		c.reject(nil, errFairShare)
		// As after a rate refusal: read nothing more for a while, so a
		// closed-loop client waits in its own socket.
		c.backoff = min(p.Wait, to)
		return true
	}
	c.beforeWait()
	// Replies already encoded go out first: the wait must not hold them.
	s.flushCharged(c)
	after := s.paceWait(t, p.Wait, now)
	c.cmdStart, c.mark = after, after
	c.pacing = p
	return false
}

// charge charges the span from c.mark to now, less unbilled waits, to the
// connection's tenant (or to the server, before AUTH and for operators).
func (s *Server) charge(c *client, now int64) {
	d := time.Duration(now-c.mark) - c.unbilled
	c.mark, c.unbilled = now, 0
	s.bill(c, d, c.pacing)
	c.pacing = admission.Pacing{}
}

// bill charges d to the connection's tenant, or to the server when it has
// none. An unthrottled tenant's charges collect in the connection and reach
// the tenant's shared counter once per flush (settle): one atomic add per
// pipeline instead of one per command, on a cache line all the tenant's
// connections write. A throttled tenant's are added at once, as its
// schedule moves with every command.
func (s *Server) bill(c *client, d time.Duration, p admission.Pacing) {
	t := c.tenant
	if t == nil {
		if c.operator {
			s.admission.ChargeServer(int64(d))
		} else {
			// Before AUTH: the tenant that authenticates pays (bind),
			// the server if none does (dropClient).
			c.preAuth += d
		}
		return
	}
	if !p.Reserved() && !t.adm.Throttled() {
		c.owed += d
		return
	}
	t.adm.Charge(int64(d+c.owed), p)
	c.owed = 0
}

// connCost is what a connection costs the server outside its commands:
// accepting it (the accept loop, the goroutine, the client's state), the
// kernel's handshake and teardown, and closing it. Half is charged to its
// tenant when it binds (AUTH, or default_tenant at connect) and half when
// it closes, beside the close's own measured time, so a tenant that opens
// a connection per request pays for them (bench/charged.sh measures it).
const connCost = 15 * time.Microsecond

// bindCharge charges a connection's setup to the tenant it binds to: half
// its connCost and its service time before AUTH. Binding as an operator
// (t nil) leaves that time to the server.
func (s *Server) bindCharge(c *client, t *tenant) {
	d := c.preAuth
	c.preAuth = 0
	if t == nil {
		s.admission.ChargeServer(int64(d))
		return
	}
	t.adm.Charge(int64(d+connCost/2), admission.Pacing{})
}

// settle adds the connection's owed charges to its tenant.
func (s *Server) settle(c *client) {
	if c.owed != 0 && c.tenant != nil {
		c.tenant.adm.Charge(int64(c.owed), admission.Pacing{})
	}
	c.owed = 0
}

// flushCharged writes the buffered replies, charging the last command's
// span and the write (capped at maxFlushCharge).
func (s *Server) flushCharged(c *client) error {
	c.flushBatch()
	now := s.mono()
	s.charge(c, now)
	err := c.conn.flush()
	end := s.mono()
	c.mark = end
	s.bill(c, min(time.Duration(end-now), maxFlushCharge), admission.Pacing{})
	s.settle(c)
	return err
}

// fairTick runs one round of fair sharing and reports throttling changes
// (log, audit log).
func (s *Server) fairTick() {
	changes := s.admission.Tick()
	if len(changes) == 0 {
		return
	}
	order := s.reg.Load().order
	for _, ch := range changes {
		var t *tenant
		for _, x := range order {
			if x.adm == ch.Tenant {
				t = x
				break
			}
		}
		if t == nil {
			continue // removed by a reload meanwhile
		}
		result := "released"
		if ch.Throttled {
			result = "throttled"
		}
		attrs := []any{"tier", t.cfg().TierName, "usage_cores", round3(ch.Usage),
			"allowance_cores", round3(ch.Allowance), "sched_delay_us", ch.Delay.Microseconds()}
		s.log.Warn("fair share", append([]any{"tenant", t.id, "result", result}, attrs...)...)
		s.audit("fair_share", t.id, "", "", "", result, attrs...)
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// # Long commands
//
// A command whose work grows with the data (KEYS, SCAN, SORT, a big
// LRANGE, HGETALL or SMEMBERS reply, a blocking command registering many
// keys) runs in steps and calls yield between them, holding no sub-shard
// and no registry lock, every few hundred items. A checkpoint costs one
// clock read; every yieldQuantum of work it
//
//   - charges the work so far to the tenant, so fair sharing sees a long
//     command while it runs, not once it is over;
//   - takes a heavy slot (below) once the command has run heavyAfter;
//   - waits out the tenant's debt when it is throttled (admission.Debt),
//     so a throttled tenant is held to its allowance inside one long
//     command too: 16 concurrent KEYS are paced mid-walk.
//
// It does not call runtime.Gosched: measured with 16 KEYS over 200K keys
// against another tenant's PING (BenchmarkKeysFlood), a Gosched every
// checkpoint made the victim's p50 up to 60x worse. A Gosched'd goroutine
// goes to the global run queue, which the scheduler serves before it
// polls the network, and the command hops between Ps, so the P that
// would have answered the PING from its netpoll wait is busy; without it
// the expensive command keeps one P and the other stays free for the
// network. Fairness between goroutines on one P is left to the runtime's
// preemption; the heavy slots keep one tenant's long commands off at
// least half the Ps.
//
// A command that has run for heavyAfter (250µs) takes one of its tenant's
// heavy slots at its next checkpoint and keeps it to its end: at most
// heavy_slots (tier or tenant; by default max(1, GOMAXPROCS/2)) expensive
// commands of one tenant run at once, the others wait (asleep, not
// runnable, and not charged) in arrival order. One tenant's expensive
// commands can therefore never occupy more than half the cores by
// default, whatever its max_concurrent allows, and cheap commands never
// meet the slots.
//
// The slots are work-conserving, like fair sharing: they protect other
// tenants, so a tenant alone on the server (admission's Tenant.Alone: no
// other tenant ran a command in the last 250ms, as fair sharing's Tick
// sees it) is not held to them. When no slot is free and the tenant is
// alone, the command runs without one; at each later checkpoint it asks
// again, so once another tenant becomes active (seen at the next Tick,
// within 10ms) it queues for a slot like the rest, within 250µs of work.
// A waiter that finds its tenant alone again stops waiting (it looks every
// heavyRecheck). With fair_share off no activity is tracked and the cap
// always holds.
//
// At the OS level a slot holder still keeps one core busy, and on a 2-core
// machine the victims' request/response wake-ups often land behind it
// (BenchmarkKeysFlood: about half the slow PINGs ended exactly when a KEYS
// did). So on Linux expensive commands run at SCHED_IDLE, which lets the
// kernel run any other thread first, in two ways (heavy_linux.go):
//
//   - In place: a command holding a slot runs locked to its thread, moved
//     to SCHED_IDLE, until it ends. Where the process may move the thread
//     back (probed at New: root, CAP_SYS_NICE or RLIMIT_NICE) it does, and
//     unlocks it; a command running alone without a slot moves too (its
//     tenant's own cheap commands preempt it), and moves back before it
//     waits for a slot, so no thread sleeps locked. Elsewhere only slot
//     holders move, and the thread cannot come back: after the command
//     the connection goes on on a new goroutine and the old one ends,
//     taking its thread with it (conn.go, runConn). Two syscalls and a
//     thread lock per expensive command, or a new thread; nothing for the
//     others.
//   - The idle pool: threads that entered SCHED_IDLE once, for good. A
//     command moves in place only at its first checkpoint, after 250µs at
//     normal priority, so the pool serves commands predicted long: not
//     Fast, on keys, from a tenant one of whose commands ran past
//     heavyAfter in the last heavyMemory (10s), while another tenant is
//     active. Such a command takes its heavy slot first, on its own
//     goroutine (runHandler), then runs on a pool thread while its
//     goroutine waits. Only slot holders go there: a goroutine locked to
//     an idle-priority thread takes a P with it when it wakes, and a P
//     whose thread the kernel starves is lost to every tenant.
//
// Measured (BenchmarkKeysFlood, another tenant's PING p99 under 16 KEYS
// over 200K keys, flood over idle, medians of 4-8 runs, 2026-12-05):
// niced by 10 in place, as before, 5.5x, and 25x without CAP_SYS_NICE
// (no nicing); SCHED_IDLE in place alone 2.1x; in place and the pool
// 0.94x with CAP_SYS_NICE and 1.04x without (the pool alone, without:
// ~7x). INFO shows heavy_thread_nice (threads move back),
// heavy_thread_pool and heavy_pool_commands; the mode is logged at start.
//
// Lock order: tenant.txMu (held shared by dispatch, or exclusively by EXEC)
// -> tenant.heavy -> a sub-shard lock or tenant.blocked.mu. A heavy slot is
// only waited for at a checkpoint, where no sub-shard or registry lock is
// held, and every holder holds txMu already and needs nothing else to
// finish, so the wait cannot close a cycle.

const (
	// yieldQuantum is the work between two effective checkpoints: short
	// against the victims' latency, long against a checkpoint's cost
	// (about 1µs with the charge and a Gosched).
	yieldQuantum = 250 * time.Microsecond
	// heavyAfter is the work after which a command counts as expensive
	// and takes a heavy slot: its first effective checkpoint. Kept short
	// because a command not yet queued for a slot runs on a core of its
	// own: 16 fresh KEYS each running a millisecond before queueing kept
	// the second core busy often enough to show in a victim's p99.
	heavyAfter = yieldQuantum
	// heavyRecheck is how often a command waiting for a heavy slot looks
	// whether its tenant is alone again: fair sharing's tick, which is
	// when that can change.
	heavyRecheck = admission.FairTick
)

// workState is the running command's progress through its checkpoints.
type workState struct {
	ran   time.Duration // work charged at checkpoints since the command began
	heavy *tenant       // the tenant whose heavy slot the command holds
	alone bool          // past heavyAfter without a slot: its tenant was alone
	niced bool          // its thread runs at SCHED_IDLE (heavy_linux.go), to be restored
}

// yield is a long command's checkpoint (see "Long commands"). It must be
// called with no sub-shard or registry lock held.
func (c *client) yield() {
	now := c.srv.mono()
	d := time.Duration(now-c.mark) - c.unbilled
	if d < yieldQuantum {
		return
	}
	s := c.srv
	s.charge(c, now)
	s.settle(c) // into the tenant now: Tick must see a long command while it runs
	c.work.ran += d
	t := c.tenant
	if t == nil {
		return
	}
	if c.work.ran >= heavyAfter {
		t.heavySeen.Store(now) // the tenant's next long commands start on the idle pool
	}
	if c.work.heavy == nil && c.work.ran >= heavyAfter && !(c.work.alone && t.adm.Alone()) {
		c.beforeWait() // a long command: it may wait for a slot, and may run at SCHED_IDLE
		if c.work.niced {
			// It may wait for a slot: not on a locked SCHED_IDLE thread
			// (only where it may move back: see below).
			heavyThreadExit(true)
			c.work.niced = false
		}
		slot, run := t.heavy.acquire(heavyLimit(t), t.adm.Alone, heavyRecheck, s.stop, c.killCh)
		if slot {
			c.work.heavy = t
		}
		c.work.alone = run && !slot
		// Where the thread cannot leave SCHED_IDLE again, only a slot
		// holder moves (it waits for nothing more), and its goroutine
		// ends after the command (endWork).
		// Never on a pool thread (c.onPool: a command whose slot a
		// wait released, BLPOP's say), which is at SCHED_IDLE already and
		// must stay there.
		if (run && s.heavyNice || slot && s.heavyRetire) && !c.onPool {
			c.work.niced = heavyThreadEnter()
		}
		c.mark = s.mono() // the wait for a slot is not work
	}
	if debt := t.adm.Debt(); debt >= admission.MinPaceWait {
		c.beforeWait()
		c.mark = s.paceWait(t, debt, s.mono())
	}
}

// paceWait sleeps a throttled tenant's connection for d (at most
// admission.MaxPaceWait, less if the server stops), counts the time since
// from as throttled, and returns when it woke.
func (s *Server) paceWait(t *tenant, d time.Duration, from int64) int64 {
	timer := time.NewTimer(min(d, admission.MaxPaceWait))
	select {
	case <-timer.C:
	case <-s.stop:
		timer.Stop()
	}
	end := s.mono()
	t.adm.Slept(time.Duration(end - from))
	return end
}

// endWork ends the running command's checkpoints: its heavy slot, if it
// took one, goes to the next waiter. A blocking command calls it before it
// waits; dispatch after every handler.
func (c *client) endWork() {
	if c.work.niced && !heavyThreadExit(c.srv.heavyNice) {
		c.retire = true // connLoop goes on on a new goroutine; this one ends, and its thread
	}
	if t := c.work.heavy; t != nil {
		t.heavy.release()
	}
	c.work = workState{}
}

// heavyMemory is how long after one of its commands ran past heavyAfter a
// tenant's commands that may be long start on the idle pool.
const heavyMemory = 10 * time.Second

// runHandler runs a command's handler, on the idle pool (heavy_linux.go)
// when the process cannot move a thread to SCHED_IDLE and back, the
// command may be long (not Fast, on keys) and its tenant ran a long one
// in the last heavyMemory. Such a process cannot move a command's thread
// once the command turns out to be long, so a command predicted long
// starts on an idle-priority thread instead. It takes its heavy slot
// first, here, as it would at its first checkpoint: only slot holders
// run on the pool, because a goroutine locked to an idle-priority
// thread takes a P with it whenever it wakes, and one the kernel then
// starves is a P lost to every tenant; waiters for a slot wait here,
// at normal priority, holding none. A tenant alone runs here as usual.
// The connection's goroutine waits while the handler runs, so the
// handler owns the client as it would here; with no free worker it runs
// here.
func (c *client) runHandler(t *tenant, cmd *command.Spec, args [][]byte) {
	if !c.predictedLong(t, cmd) || !c.runOnPool(t, cmd, args) {
		c.run(cmd, cmd.Handler, args)
	}
}

// predictedLong reports whether cmd starts on the idle pool (runHandler).
func (c *client) predictedLong(t *tenant, cmd *command.Spec) bool {
	s := c.srv
	if !s.idlePool || cmd.Flags&command.Fast != 0 || cmd.Flags&(command.Read|command.Write) == 0 || mayBlock(cmd) {
		return false
	}
	seen := t.heavySeen.Load()
	return seen != 0 && s.mono()-seen < int64(heavyMemory) && !t.adm.Alone()
}

// runOnPool takes a heavy slot, then runs cmd on an idle-pool thread; false
// when it ran nothing (no slot: the tenant is alone again, or stopping;
// or no free worker), and the caller runs it.
func (c *client) runOnPool(t *tenant, cmd *command.Spec, args [][]byte) bool {
	s := c.srv
	start := s.mono()
	c.beforeWait()
	slot, _ := t.heavy.acquire(heavyLimit(t), t.adm.Alone, heavyRecheck, s.stop, c.killCh)
	c.mark += s.mono() - start // the wait for a slot is not work
	if !slot {
		c.work.alone = true // as yield notes it
		return false
	}
	c.work.heavy = t
	c.onPool = true
	ran := runIdle(func() { c.run(cmd, cmd.Handler, args) })
	c.onPool = false
	if ran {
		s.idleRuns.Add(1)
	}
	return ran
}

// mayBlock reports whether cmd is a blocking command (BLPOP, BZPOPMIN,
// XREAD ... BLOCK, ...): it may wait for a long time, which it must not do
// on an idle-pool thread (a waiter there holds a thread, and takes a P to
// it when it wakes).
func mayBlock(cmd *command.Spec) bool {
	switch cmd.Backed {
	case command.BackedBlock, command.BackedBlockNum, command.BackedBlockXRd:
		return true
	}
	return false
}

// heavyLimit is how many expensive commands of tenant t may run at once
// while other tenants are active: its heavy_slots, by default half the
// cores.
func heavyLimit(t *tenant) int {
	if n := t.cfg().Tier.HeavySlots; n > 0 {
		return n
	}
	return max(1, runtime.GOMAXPROCS(0)/2)
}

// heavySlots is a tenant's semaphore of expensive commands (tenant.heavy),
// FIFO; the zero value is ready to use.
type heavySlots struct {
	mu      sync.Mutex // guards running and queue
	running int
	queue   []chan struct{} // waiters in arrival order; a slot is handed over by closing
}

// acquire takes a slot if one of limit is free. Otherwise, while alone()
// reports the tenant alone, the command may run without one; else it
// waits for a slot in arrival order, looking at alone() every recheck,
// until stop or kill is closed. It reports whether it holds a slot, and
// whether the command may run past the cap (with a slot, or alone); both
// false when it was stopped or killed.
func (h *heavySlots) acquire(limit int, alone func() bool, recheck time.Duration, stop, kill <-chan struct{}) (slot, run bool) {
	h.mu.Lock()
	if h.running < limit {
		h.running++
		h.mu.Unlock()
		return true, true
	}
	if alone() {
		h.mu.Unlock()
		return false, true
	}
	ch := make(chan struct{})
	h.queue = append(h.queue, ch)
	h.mu.Unlock()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
wait:
	for {
		select {
		case <-ch:
			return true, true
		case <-tick.C:
			if run = alone(); run {
				break wait // alone again: run without a slot
			}
		case <-stop:
			break wait
		case <-kill:
			break wait
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(h.queue, ch); i >= 0 {
		h.queue = slices.Delete(h.queue, i, i+1)
		return false, run
	}
	return true, true // handed over meanwhile: keep it
}

// release gives a slot back, to the longest waiter if there is one.
func (h *heavySlots) release() {
	h.mu.Lock()
	if len(h.queue) > 0 {
		close(h.queue[0])
		h.queue[0] = nil
		h.queue = h.queue[1:]
	} else {
		h.running--
	}
	h.mu.Unlock()
}
