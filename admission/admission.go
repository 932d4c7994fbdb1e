package admission

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/tiers"
)

// Clock is the source of time for admission: Now for the token bucket and
// service times, Sleep for waiting on the bucket. Tests inject a fake whose
// Sleep advances Now.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

// Policy is one tenant's admission limits, usually PolicyFromTier of the
// tenant's resolved tier. A zero field means unlimited, except Burst (see
// the package documentation); negative values are treated as zero.
type Policy struct {
	// Rate is the token-bucket refill in commands per second.
	Rate float64
	// Burst is the bucket size in commands; 0 means one second of Rate.
	Burst int
	// MaxConcurrent caps the tenant's admitted, not yet Done commands.
	MaxConcurrent int
	// MaxArgBytes caps the argument bytes of those commands.
	MaxArgBytes int64
	// Timeout is the longest a command may wait for a token, and the
	// service time above which Done counts an SLA violation.
	Timeout time.Duration
	// Priority orders shedding: lower is shed first.
	Priority int
	// Weight is the tenant's weight in fair sharing (at least 1).
	Weight int
}

// PolicyFromTier returns the admission policy of a (resolved) tier.
func PolicyFromTier(t tiers.Tier) Policy {
	return Policy{
		Rate:          t.RateLimit,
		Burst:         t.Burst,
		MaxConcurrent: t.MaxConcurrent,
		MaxArgBytes:   t.MaxArgBytes,
		Timeout:       t.Timeout,
		Priority:      t.Priority,
		Weight:        t.Weight,
	}
}

// Reason says why Admit refused a command.
type Reason uint8

const (
	ReasonNone        Reason = iota // admitted
	ReasonRate                      // no token within Timeout
	ReasonConcurrency               // MaxConcurrent commands in flight
	ReasonArgBytes                  // MaxArgBytes of arguments in flight
	ReasonShed                      // server saturated for this priority
	ReasonFairShare                 // throttled to its fair share past Timeout
	NumReasons                      // number of Reason values, for arrays
)

// String returns the reason as used in metric labels: none, rate,
// concurrency, arg_bytes, shed.
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonRate:
		return "rate"
	case ReasonConcurrency:
		return "concurrency"
	case ReasonArgBytes:
		return "arg_bytes"
	case ReasonShed:
		return "shed"
	case ReasonFairShare:
		return "fair_share"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Shedding thresholds, in percent of Options.MaxInFlight: the lowest
// priority present is shed from ShedFloorPercent, the highest at 100, the
// others evenly in between.
const ShedFloorPercent = 70

// Options configure a Controller.
type Options struct {
	// MaxInFlight is the global capacity in commands in flight across all
	// tenants that shedding protects; 0 disables shedding.
	MaxInFlight int
	// Clock supplies Now and Sleep; nil means the system clock.
	Clock Clock
	// Fair configures fair sharing of a contended server (fair.go).
	Fair FairOptions
}

// Controller is the global half of admission: it counts commands in flight
// across tenants and sheds by priority when that count nears MaxInFlight.
// It is safe for concurrent use.
type Controller struct {
	clock Clock     // nil: the system clock, read through time.Since
	epoch time.Time // origin of the int64 nanosecond times below
	max   int64

	_        [64]byte // keep the shared counter off the read-mostly fields' line
	inflight atomic.Int64
	_        [56]byte

	shed atomic.Pointer[shedTable] // nil when shedding is disabled

	mu    sync.Mutex  // guards prios, fair and the rebuild of shed
	prios map[int]int // priority -> number of open tenants with it
	fair  []*Tenant   // open tenants, for Tick; replaced, never modified

	// Fair sharing (fair.go). The fields above status are set by
	// NewController; lastTick and sched belong to Tick.
	fairOn       bool
	delayTarget  int64 // ns
	cores        float64
	delayFn      func() time.Duration
	sched        *schedSampler
	lastTick     int64
	busy         float64 // cores, smoothed
	capacity     float64 // cores of service time at saturation (estimate)
	throttled    int     // tenants throttled after the last Tick
	status       atomic.Pointer[fairSnapshot]
	unattributed atomic.Int64 // ns of service time outside tenants
}

// shedTable maps each priority present to its in-flight threshold. It is
// immutable once published.
type shedTable struct {
	prio  []int // ascending
	limit []int64
}

// limitFor returns the threshold of priority p. A priority not in the table
// (impossible for an open tenant) gets the full capacity.
func (s *shedTable) limitFor(p int, max int64) int64 {
	for i, q := range s.prio {
		if q == p {
			return s.limit[i]
		}
	}
	return max
}

// NewController returns a Controller with no tenants.
func NewController(opts Options) *Controller {
	c := &Controller{clock: opts.Clock, max: int64(max(opts.MaxInFlight, 0)), prios: map[int]int{}}
	if c.clock == nil {
		c.epoch = time.Now()
	} else {
		c.epoch = c.clock.Now()
	}
	c.initFair(opts.Fair)
	return c
}

// nanotime is the clock's time in nanoseconds since the Controller was made.
// For the system clock it is time.Since, which reads only the monotonic
// clock: 21 ns here against 38-45 ns for time.Now, which reads the wall
// clock too, and no interface call.
// Now is the controller's clock: nanoseconds since it was created, on
// Options.Clock (monotonic when real). AdmitAt and DoneAt take a reading of
// it, so a caller that times its commands anyway reads the clock once.
func (c *Controller) Now() int64 { return c.nanotime() }

func (c *Controller) nanotime() int64 {
	if c.clock == nil {
		return int64(time.Since(c.epoch))
	}
	return int64(c.clock.Now().Sub(c.epoch))
}

func (c *Controller) sleep(d time.Duration) {
	if c.clock == nil {
		time.Sleep(d)
	} else {
		c.clock.Sleep(d)
	}
}

// InFlight is the number of admitted, not yet Done commands of all
// tenants. It is counted only while shedding is enabled (MaxInFlight > 0):
// the count is one cache line every command on every core writes, so it is
// not kept when nothing reads it. Sum Tenant.Stats().InFlight instead.
func (c *Controller) InFlight() int64 { return c.inflight.Load() }

// MaxInFlight is Options.MaxInFlight (0 = shedding disabled).
func (c *Controller) MaxInFlight() int { return int(c.max) }

// ShedThreshold is the global in-flight count above which a tenant of
// priority p is refused, or 0 when shedding is disabled.
func (c *Controller) ShedThreshold(p int) int64 {
	if t := c.shed.Load(); t != nil {
		return t.limitFor(p, c.max)
	}
	return 0
}

// register adds (delta 1) or removes (delta -1) one tenant of priority p
// and republishes the thresholds if the set of priorities changed. c.mu
// must be held.
func (c *Controller) register(p, delta int) {
	n := c.prios[p] + delta
	if n > 0 {
		c.prios[p] = n
	} else {
		delete(c.prios, p)
	}
	changed := delta > 0 && n == 1 || delta < 0 && n <= 0
	if c.max == 0 || !changed {
		return
	}
	prio := slices.Sorted(maps.Keys(c.prios))
	t := &shedTable{prio: prio, limit: make([]int64, len(prio))}
	k := int64(len(prio))
	for i := range prio {
		lim := c.max
		if k > 1 {
			pct := ShedFloorPercent*(k-1) + (100-ShedFloorPercent)*int64(i)
			lim = c.max * pct / (100 * (k - 1))
		}
		t.limit[i] = max(lim, 1)
	}
	c.shed.Store(t)
}

// Tenant registers a tenant with policy p. Call Close when the tenant is
// removed, so its priority stops counting in the shedding thresholds.
func (c *Controller) Tenant(p Policy) *Tenant {
	t := &Tenant{c: c}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.pol.Store(compile(p))
	c.register(p.Priority, 1)
	c.fair = append(slices.Clone(c.fair), t)
	return t
}

// policy is a Policy with the derived values the hot path needs.
type policy struct {
	Policy
	interval  int64 // ns between tokens; 0 = no rate limit
	tolerance int64 // Burst*interval: how far TAT may run ahead of now
	timeout   int64 // ns; 0 = unbounded
}

func compile(p Policy) *policy {
	if !(p.Rate > 0) || math.IsInf(p.Rate, 1) { // also catches NaN
		p.Rate, p.Burst = 0, 0
	}
	p.Burst = max(p.Burst, 0)
	p.MaxConcurrent = max(p.MaxConcurrent, 0)
	p.MaxArgBytes = max(p.MaxArgBytes, 0)
	p.Timeout = max(p.Timeout, 0)
	c := &policy{timeout: int64(p.Timeout)}
	if p.Rate > 0 {
		if p.Burst == 0 {
			p.Burst = int(min(math.Ceil(p.Rate), math.MaxInt32))
		}
		c.interval = int64(min(max(math.Round(1e9/p.Rate), 1), math.MaxInt64/4))
		if int64(p.Burst) > math.MaxInt64/4/c.interval {
			c.tolerance = math.MaxInt64 / 4
		} else {
			c.tolerance = int64(p.Burst) * c.interval
		}
	}
	c.Policy = p
	return c
}

// Tenant is one tenant's admission state. It is safe for concurrent use.
//
// The fields every command writes share one cache line, padded away from
// the read-mostly ones, so that when several cores serve one tenant each
// command moves one contended line, not three.
type Tenant struct {
	c   *Controller
	pol atomic.Pointer[policy]
	_   [64]byte

	inflight atomic.Int64
	argBytes atomic.Int64
	noWait   atomic.Uint64 // admitted without waiting (wait bucket 0)
	tat      atomic.Int64  // GCRA theoretical arrival time, ns since c.epoch
	cost     atomic.Int64  // ns of service time charged, total (fair.go)
	_        [64]byte

	fairFields

	waiting atomic.Int64
	refused [NumReasons]atomic.Uint64
	sla     atomic.Uint64
	waits   [NumWaitBuckets]atomic.Uint64 // admitted after a wait; [0] unused
	waitSum atomic.Int64                  // ns

	closed bool // guarded by c.mu
}

// Ticket is an admitted command's receipt, to be passed to Done. The zero
// Ticket (what a refusal returns) is accepted by Done and does nothing.
type Ticket struct {
	start   int64 // ns since epoch at Admit; meaningful when timeout > 0
	timeout int64 // the SLA bound in force at Admit
	bytes   int64
	ok      bool
	lease   *Lease // admitted on a lease's slot (lease.go)
}

// Admit decides whether a command carrying argBytes bytes of arguments may
// run, waiting (through the Clock) for a rate token if that fits in
// Policy.Timeout. It returns a Ticket for Done and true, or the Reason and
// false; a refused command must not run at all. Admit does not allocate.
func (t *Tenant) Admit(argBytes int64) (Ticket, Reason, bool) {
	return t.AdmitAfter(argBytes, 0)
}

// AdmitAfter is Admit for a command that has already waited queued since it
// arrived (in a connection's buffer, behind the commands pipelined before
// it). The wait for a rate token plus queued must fit in Policy.Timeout, so
// a pipelined flood is refused once its commands would run later than the
// tier timeout after they arrived, not just after admission began; the SLA
// clock starts at arrival too.
func (t *Tenant) AdmitAfter(argBytes int64, queued time.Duration) (Ticket, Reason, bool) {
	return t.admit(argBytes, queued, 0, false)
}

// AdmitAt is AdmitAfter for a caller that has just read Controller.Now
// (at): the server reads the clock once per command and shares the
// reading, instead of each stage reading it again.
func (t *Tenant) AdmitAt(argBytes int64, at int64, queued time.Duration) (Ticket, Reason, bool) {
	return t.admit(argBytes, queued, at, true)
}

func (t *Tenant) admit(argBytes int64, queued time.Duration, at int64, haveAt bool) (Ticket, Reason, bool) {
	p := t.pol.Load()
	c := t.c
	argBytes = max(argBytes, 0)
	q := max(int64(queued), 0)
	var now int64 // the command's arrival
	if p.interval > 0 || p.timeout > 0 {
		if !haveAt {
			at = c.nanotime()
		}
		now = at - q
	}
	if p.interval > 0 {
		var wait int64
		for {
			tat := t.tat.Load()
			arrived := now + q // the command's "now" for the bucket
			next := max(tat, arrived) + p.interval
			wait = next - p.tolerance - arrived
			if wait > 0 {
				if p.timeout > 0 && wait+q > p.timeout {
					return t.refuse(ReasonRate)
				}
				// Don't take a token and sleep for a command that the
				// other checks would refuse now anyway.
				if r := t.precheck(p, argBytes); r != ReasonNone {
					return t.refuse(r)
				}
			}
			if t.tat.CompareAndSwap(tat, next) {
				break
			}
		}
		if wait > 0 {
			t.waiting.Add(1)
			c.sleep(time.Duration(wait))
			t.waiting.Add(-1)
			waited := c.nanotime() - now // since arrival
			if p.timeout > 0 && waited > p.timeout {
				return t.refuse(ReasonRate) // never run late
			}
			if r := t.acquire(p, argBytes); r != ReasonNone {
				return t.refuse(r)
			}
			// A real sleep never returns early; a fake clock may not move.
			waited = max(waited, wait+q)
			t.waits[waitBucket(waited)].Add(1)
			t.waitSum.Add(waited)
			return Ticket{start: now, timeout: p.timeout, bytes: argBytes, ok: true}, ReasonNone, true
		}
	}
	if r := t.acquire(p, argBytes); r != ReasonNone {
		return t.refuse(r)
	}
	t.noWait.Add(1)
	return Ticket{start: now, timeout: p.timeout, bytes: argBytes, ok: true}, ReasonNone, true
}

// TakeToken takes one rate token for a command run inside an admitted
// one (a script's redis.call), without waiting: the caller holds its
// tenant's lock, so it cannot sleep for a token. It reports false, counted
// as a rate refusal, when the bucket is empty. Concurrency, argument
// bytes and shedding were checked for the command that runs it.
func (t *Tenant) TakeToken(at int64) bool {
	p := t.pol.Load()
	if p.interval <= 0 {
		return true
	}
	for {
		tat := t.tat.Load()
		next := max(tat, at) + p.interval
		if next-p.tolerance > at {
			t.refused[ReasonRate].Add(1)
			return false
		}
		if t.tat.CompareAndSwap(tat, next) {
			return true
		}
	}
}

func (t *Tenant) refuse(r Reason) (Ticket, Reason, bool) {
	t.refused[r].Add(1)
	return Ticket{}, r, false
}

// precheck reports which of the concurrency, argument-bytes and shedding
// checks would refuse a command now, without changing anything.
func (t *Tenant) precheck(p *policy, argBytes int64) Reason {
	if p.MaxConcurrent > 0 && t.inflight.Load() >= int64(p.MaxConcurrent) {
		return ReasonConcurrency
	}
	if p.MaxArgBytes > 0 && t.argBytes.Load()+argBytes > p.MaxArgBytes {
		return ReasonArgBytes
	}
	if s := t.c.shed.Load(); s != nil && t.c.inflight.Load() >= s.limitFor(p.Priority, t.c.max) {
		return ReasonShed
	}
	return ReasonNone
}

// acquire takes a concurrency slot, the argument bytes and a share of the
// global in-flight count, or takes nothing and reports why not.
func (t *Tenant) acquire(p *policy, argBytes int64) Reason {
	if n := t.inflight.Add(1); p.MaxConcurrent > 0 && n > int64(p.MaxConcurrent) {
		t.inflight.Add(-1)
		return ReasonConcurrency
	}
	if argBytes > 0 {
		if b := t.argBytes.Add(argBytes); p.MaxArgBytes > 0 && b > p.MaxArgBytes {
			t.argBytes.Add(-argBytes)
			t.inflight.Add(-1)
			return ReasonArgBytes
		}
	}
	c := t.c
	if c.max == 0 {
		return ReasonNone // no shedding: leave the shared counter alone
	}
	n := c.inflight.Add(1)
	if s := c.shed.Load(); s != nil && n > s.limitFor(p.Priority, c.max) {
		c.inflight.Add(-1)
		t.argBytes.Add(-argBytes)
		t.inflight.Add(-1)
		return ReasonShed
	}
	return ReasonNone
}

// Done ends an admitted command: it releases what Admit took and counts an
// SLA violation if the command's service time (from Admit to Done) exceeded
// the Timeout in force at Admit. Call it exactly once per admitted ticket;
// the zero Ticket is ignored.
func (t *Tenant) Done(tk Ticket) {
	if !tk.ok {
		return
	}
	if tk.timeout > 0 {
		t.DoneAt(tk, t.c.nanotime())
		return
	}
	t.giveBack(tk)
}

// DoneAt is Done for a caller that has just read Controller.Now (at).
func (t *Tenant) DoneAt(tk Ticket, at int64) {
	if !tk.ok {
		return
	}
	t.countSLA(tk, at)
	t.giveBack(tk)
}

// countSLA counts an SLA violation if the command's service time, from
// Admit to at, exceeded the Timeout in force at Admit.
func (t *Tenant) countSLA(tk Ticket, at int64) {
	if tk.timeout > 0 && at-tk.start > tk.timeout {
		t.sla.Add(1)
	}
}

// giveBack releases what tk holds: its own slot, or, for a ticket admitted
// on a lease's slot, everything the lease holds (lease.go).
func (t *Tenant) giveBack(tk Ticket) {
	if tk.lease != nil {
		tk.lease.Release()
		return
	}
	t.release(tk)
}

func (t *Tenant) release(tk Ticket) {
	if tk.bytes > 0 {
		t.argBytes.Add(-tk.bytes)
	}
	t.inflight.Add(-1)
	if t.c.max != 0 {
		t.c.inflight.Add(-1)
	}
}

// Policy returns the tenant's current policy, normalized (negative values
// as 0, Burst filled in from Rate).
func (t *Tenant) Policy() Policy { return t.pol.Load().Policy }

// SetPolicy replaces the tenant's policy, for commands admitted from now
// on; commands in flight keep the ticket they have. It is safe to call
// concurrently with Admit and Done. Lowering MaxConcurrent or MaxArgBytes
// below what is in flight refuses new commands until enough are Done; the
// token bucket keeps its state, so a new Rate applies from the next token.
func (t *Tenant) SetPolicy(p Policy) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	old := t.pol.Load()
	t.pol.Store(compile(p))
	if !t.closed && old.Priority != p.Priority {
		c.register(p.Priority, 1)
		c.register(old.Priority, -1)
	}
}

// Close removes the tenant's priority from the shedding thresholds. The
// Tenant still works afterwards (commands in flight may finish), but a
// closed tenant should not be used for new commands. Close is idempotent.
func (t *Tenant) Close() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.closed {
		t.closed = true
		c.register(t.pol.Load().Priority, -1)
		c.untrack(t)
	}
}

// Wait-time histogram buckets: admitted commands are counted in the first
// bucket whose upper bound (inclusive) is at least their admission wait;
// the last bucket is +Inf. The first bucket, 0, holds the commands that did
// not wait, normally nearly all of them.
const NumWaitBuckets = 8

// WaitBucketBound is the inclusive upper bound of wait bucket i, or -1 for
// the last (+Inf) bucket.
func WaitBucketBound(i int) time.Duration {
	switch i {
	case 0:
		return 0
	case 1:
		return time.Millisecond
	case 2:
		return 5 * time.Millisecond
	case 3:
		return 25 * time.Millisecond
	case 4:
		return 100 * time.Millisecond
	case 5:
		return 250 * time.Millisecond
	case 6:
		return time.Second
	}
	return -1
}

func waitBucket(ns int64) int {
	for i := 0; i < NumWaitBuckets-1; i++ {
		if ns <= int64(WaitBucketBound(i)) {
			return i
		}
	}
	return NumWaitBuckets - 1
}

// WaitHistogram counts admitted commands by admission wait. Counts are per
// bucket, not cumulative (Prometheus wants the running sum over buckets).
type WaitHistogram struct {
	Counts [NumWaitBuckets]uint64
	Sum    time.Duration
}

// Stats is a snapshot of one tenant's counters. The fields are read one by
// one, so under load they are not mutually consistent to the command.
type Stats struct {
	// Admitted counts admitted commands (the histogram's total).
	Admitted uint64
	// Refused counts refusals by Reason; Refused[ReasonNone] is 0.
	Refused [NumReasons]uint64
	// InFlight is the number of admitted commands not yet Done, and
	// InFlightArgBytes their argument bytes.
	InFlight         int64
	InFlightArgBytes int64
	// Waiting is the number of commands sleeping for a rate token now.
	Waiting int64
	// SLAViolations counts commands whose service time exceeded Timeout.
	SLAViolations uint64
	Wait          WaitHistogram
	// CPU is the service time charged to the tenant (Charge): its cost of
	// the server, for chargeback and fair sharing.
	CPU time.Duration
	// Throttled is the time its connections waited for its fair-share
	// allowance, Paced the number of such waits, and Throttles how many
	// times throttling started.
	Throttled        time.Duration
	Paced, Throttles uint64
	// Allowance is its allowance in cores while throttled, else 0.
	Allowance float64
}

// Stats returns the tenant's counters.
func (t *Tenant) Stats() Stats {
	var s Stats
	for i := range t.waits {
		s.Wait.Counts[i] = t.waits[i].Load()
	}
	s.Wait.Counts[0] += t.noWait.Load()
	s.Admitted = t.admitted()
	s.Wait.Sum = time.Duration(t.waitSum.Load())
	for i := range t.refused {
		s.Refused[i] = t.refused[i].Load()
	}
	s.InFlight = t.inflight.Load()
	s.InFlightArgBytes = t.argBytes.Load()
	s.Waiting = t.waiting.Load()
	s.SLAViolations = t.sla.Load()
	s.CPU = time.Duration(t.cost.Load())
	s.Throttled = time.Duration(t.throttledNs.Load())
	s.Paced, s.Throttles = t.paced.Load(), t.throttles.Load()
	s.Allowance = t.Allowance()
	return s
}
