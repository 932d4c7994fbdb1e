package server

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tcached/tcached/admission"
)

// Cost accounting and fair sharing (package admission, "Fair sharing when
// contended"). The connection loop measures each command's service time
// with the clock reading it takes anyway (the command's start, for
// admission and latency): the span from one command's start to the next's
// is the first command's cost (parsing the next one included), and the
// span up to the end of the flush is the last one's, plus the write. A
// throttled tenant's connection waits for its allowance before each
// command; nothing else pays for the check but one atomic load.

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
		s.admission.ChargeServer(int64(d))
		return
	}
	if !p.Reserved() && !t.adm.Throttled() {
		c.owed += d
		return
	}
	t.adm.Charge(int64(d+c.owed), p)
	c.owed = 0
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
// did). So on Linux, when the process may raise a thread's priority back
// (probed at New: root or CAP_SYS_NICE/RLIMIT_NICE), a command holding a
// slot runs locked to its thread, niced by heavyNice (10) until it ends:
// the kernel then lets any other thread preempt it at once. Measured there:
// the victim's p99 under the flood went from ~2.8 ms to ~0.6-1 ms (idle
// ~0.23 ms), the flood's throughput unchanged. Two syscalls and a thread
// lock per expensive command, nothing for the others. Unprivileged
// processes skip it (INFO heavy_thread_nice, logged at start). A command
// running alone without a slot is niced too (its tenant's own cheap
// commands preempt it), and gives the nice back before it waits for a
// slot, so no thread sleeps locked.
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
	niced bool          // its thread runs niced (heavy_linux.go), to be restored to nice
	nice  int
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
	if c.work.heavy == nil && c.work.ran >= heavyAfter && !(c.work.alone && t.adm.Alone()) {
		c.beforeWait() // a long command: it may wait for a slot, and may run niced
		if c.work.niced {
			// It may wait for a slot: not on a locked, niced thread.
			heavyThreadExit(c.work.nice)
			c.work.niced = false
		}
		slot, run := t.heavy.acquire(heavyLimit(t), t.adm.Alone, heavyRecheck, s.stop, c.killCh)
		if slot {
			c.work.heavy = t
		}
		c.work.alone = run && !slot
		if run && s.heavyNice {
			c.work.nice, c.work.niced = heavyThreadEnter()
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
	if c.work.niced {
		heavyThreadExit(c.work.nice)
	}
	if t := c.work.heavy; t != nil {
		t.heavy.release()
	}
	c.work = workState{}
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
