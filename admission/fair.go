package admission

import (
	"math"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Fair sharing: see the package documentation, "Fair sharing when
// contended", for the design and the measurements behind the constants.

const (
	// DefaultDelayTarget is the scheduling delay (p99 of the time goroutines
	// wait runnable, over the last delayWindow ticks) above which the
	// server counts as contended. Go's own baseline on an idle-to-busy
	// 2-core machine is 20-150µs at p99; a tenant's flood pushes it to
	// several milliseconds.
	DefaultDelayTarget = 200 * time.Microsecond

	// FairTick is how often Tick is meant to run: short enough that a flood
	// is caught within a few tens of milliseconds, long enough that a
	// window holds a useful number of samples.
	FairTick = 5 * time.Millisecond

	// activeFor is how long after its last command a tenant still counts
	// as active (it takes part in the weighted shares).
	activeFor = 250 * time.Millisecond

	// paceTolerance is the burst a throttled tenant may run ahead of its
	// allowance: 1ms of allowance, about 100 small commands at 0.1 core.
	paceTolerance = int64(time.Millisecond)

	// MinPaceWait: a pace wait shorter than this runs at once (the debt
	// stays in the tenant's schedule and a later command waits for it), so
	// that a throttled tenant's connections sleep rarely and for long
	// enough to matter rather than for every command.
	MinPaceWait = 200 * time.Microsecond

	// MaxPaceWait caps one sleep: a connection re-checks its tenant after
	// it (throttling may have ended), its debt still in the schedule.
	MaxPaceWait = 100 * time.Millisecond

	// ppm scales allowances: 1e6 = one core.
	ppm = 1_000_000

	// Control law, per tick: a tenant's throttle starts at its weighted
	// share (a flood is clamped within one tick: a victim's p99 over a
	// minute cannot afford a slow descent); the allowance halves (never
	// below the share) while the delay is above the target, grows by
	// increaseFactor plus increaseStep of the capacity while it is below
	// half the target, and is released once it reaches the capacity.
	decreaseFactor = 0.5
	increaseFactor = 1.01
	increaseStep   = 0.0025

	// delayWindow is how many ticks the delay percentile spans.
	delayWindow = 8

	// capacityDecay is the per-tick decay of the capacity estimate, and
	// minCapacity its floor as a fraction of the cores.
	capacityDecay = 0.9995
	minCapacity   = 0.1
)

// FairOptions configure fair sharing; the zero value disables it.
type FairOptions struct {
	// Enabled turns fair sharing on.
	Enabled bool
	// DelayTarget is the contention threshold; 0 means DefaultDelayTarget.
	DelayTarget time.Duration
	// Cores is the server's capacity in cores; 0 means GOMAXPROCS.
	Cores float64
	// Delay, when set, replaces the measured scheduling delay (tests).
	Delay func() time.Duration
}

// fairState is a tenant's controller state, used by Tick only.
type fairState struct {
	lastCost   int64
	lastCmds   uint64
	lastActive int64   // ns; 0 = never
	usage      float64 // cores, smoothed
	allow      float64 // cores; 0 = not throttled
	// fresh: active at this tick, not at the one before; probation: held
	// to its share since the last tick for that reason (Tick), with
	// pacedAt its paced count then.
	fresh, probation bool
	pacedAt          uint64
	reported         bool // throttled as Tick last reported it (probation is not reported)
}

// Pacing is what Pace reserved for one command, to be given to Charge
// (or to Unpace if the command does not run).
type Pacing struct {
	// Wait is how long the connection must wait before running the
	// command; 0 means now.
	Wait  time.Duration
	est   int64 // cost reserved, ns
	allow int64 // allowance in force, ppm of a core
}

// Reserved reports whether Pace reserved a slot (the tenant was throttled).
func (p Pacing) Reserved() bool { return p.allow != 0 }

// Throttled reports whether the tenant is held to an allowance now. It is
// one atomic load: the per-command check of an unthrottled tenant.
func (t *Tenant) Throttled() bool { return t.allow.Load() != 0 }

// Pace reserves the next slot of a throttled tenant's allowance for one
// command of its usual cost and says how long to wait for it. Consecutive
// reservations are spaced by cost/allowance, so a tenant's many
// connections wake one after another rather than all at once. It returns
// the zero Pacing when the tenant is not throttled.
func (t *Tenant) Pace() Pacing {
	a := t.allow.Load()
	if a == 0 {
		return Pacing{}
	}
	est := max(t.est.Load(), 1000)
	step := est * ppm / a
	now := t.c.nanotime()
	for {
		tat := t.paceTat.Load()
		start := max(now, tat-paceTolerance)
		next := max(tat, now-paceTolerance) + step
		if t.paceTat.CompareAndSwap(tat, next) {
			return Pacing{Wait: time.Duration(start - now), est: est, allow: a}
		}
	}
}

// Debt is how long a throttled tenant is behind its allowance: the wait
// Pace would give a command now, 0 when the tenant is not throttled or not
// behind. It reserves nothing. A long command's checkpoints use it: they
// charge what ran since the last one (Charge with the zero Pacing moves the
// schedule by all of it) and wait out the debt, so a tenant is held to its
// allowance during one long command, not only between commands.
func (t *Tenant) Debt() time.Duration {
	if t.allow.Load() == 0 {
		return 0
	}
	return time.Duration(max(t.paceTat.Load()-paceTolerance-t.c.nanotime(), 0))
}

// Refuse counts a refusal the caller made for the tenant (ReasonFairShare:
// the connection loop refuses a command whose pace wait would pass the
// tier timeout).
func (t *Tenant) Refuse(r Reason) { t.refused[r].Add(1) }

// Unpace gives back a reservation whose command was refused.
func (t *Tenant) Unpace(p Pacing) {
	if p.allow > 0 {
		t.paceTat.Add(-p.est * ppm / p.allow)
	}
}

// Slept records that a connection of the tenant waited d for its
// allowance (tcached_tenant_throttled_seconds_total).
func (t *Tenant) Slept(d time.Duration) {
	t.throttledNs.Add(int64(d))
	t.paced.Add(1)
}

// Charge adds ns of measured service time (parsing, executing, encoding
// and writing replies) to the tenant's cost. p is the command's Pacing (the
// zero Pacing for time no reservation covered): the difference between
// what was reserved and what was spent moves the tenant's schedule, so an
// expensive command delays the tenant's next ones by what it cost.
func (t *Tenant) Charge(ns int64, p Pacing) {
	if ns <= 0 {
		return
	}
	t.cost.Add(ns)
	a := p.allow
	d := ns - p.est
	if a == 0 {
		if a = t.allow.Load(); a == 0 {
			return
		}
		d = ns
	}
	if d != 0 {
		t.paceTat.Add(d * ppm / a)
	}
}

// ChargeServer adds ns of service time that belongs to no tenant
// (connections before AUTH, operator connections) to the server's busy time.
func (c *Controller) ChargeServer(ns int64) {
	if ns > 0 {
		c.unattributed.Add(ns)
	}
}

// Change is a tenant whose throttling started or stopped in a Tick.
type Change struct {
	Tenant    *Tenant
	Throttled bool
	// Allowance is the tenant's allowance in cores (when throttled), and
	// Usage what it used, in cores, before the change.
	Allowance, Usage float64
	// Delay is the scheduling delay that decided it.
	Delay time.Duration
}

// FairStatus is the controller's view at its last Tick.
type FairStatus struct {
	Enabled     bool
	DelayTarget time.Duration
	// Delay is the scheduling delay measured at the last Tick (p99 over
	// the last few ticks).
	Delay time.Duration
	// Cores is the machine's (GOMAXPROCS); Capacity the estimate of what
	// the server serves when saturated, in cores of charged service time,
	// which the weighted shares divide; Busy the service time of the last
	// tick over its length, in cores.
	Cores, Capacity, Busy float64
	// Contended: at least two tenants active and Delay above the target.
	Contended bool
	// Active is the number of tenants active at the last Tick.
	Active int
	// UnattributedSeconds is service time outside any tenant.
	UnattributedSeconds float64
}

// FairStatus returns the state of the last Tick.
func (c *Controller) FairStatus() FairStatus {
	s := FairStatus{Enabled: c.fairOn, DelayTarget: time.Duration(c.delayTarget), Cores: c.cores}
	if st := c.status.Load(); st != nil {
		s.Delay, s.Busy, s.Contended, s.Active = st.Delay, st.Busy, st.Contended, st.Active
		s.Capacity = st.Capacity
	}
	s.UnattributedSeconds = float64(c.unattributed.Load()) / 1e9
	return s
}

// Tick runs one round of fair sharing and returns the tenants whose
// throttling started or stopped. Call it every FairTick from one
// goroutine; it is a no-op when fair sharing is disabled.
//
// Each round measures every tenant's service time since the last round
// (its usage, in cores), the weighted share of the active tenants
// (weight / sum of active weights x cores), and the scheduling delay. When
// at least two tenants are active and the delay is above the target, a
// tenant using more than its weighted share is throttled, starting from
// what it uses; while the delay stays above the target every throttled
// tenant's allowance shrinks, never below its weighted share; below half
// the target it grows, and at all the cores, or when the tenant is alone
// or idle, throttling stops.
func (c *Controller) Tick() []Change {
	if !c.fairOn {
		return nil
	}
	now := c.nanotime()
	dt := now - c.lastTick
	c.lastTick = now
	if dt <= 0 {
		return nil
	}
	delay := c.measureDelay()
	c.mu.Lock()
	list := slices.Clone(c.fair)
	c.mu.Unlock()

	var sumW float64
	nActive, nStayed := 0, 0 // active tenants; those of them active at the last tick too
	var sole *Tenant         // the active tenant, when there is one
	var busy float64
	for _, t := range list {
		f := &t.fs
		cost := t.cost.Load()
		cmds := t.admitted()
		d := cost - f.lastCost
		n := cmds - f.lastCmds
		f.lastCost, f.lastCmds = cost, cmds
		u := float64(d) / float64(dt)
		busy += u
		f.usage = 0.5*f.usage + 0.5*u
		was := f.lastActive != 0 && now-f.lastActive < int64(activeFor)
		f.fresh = false
		if d > 0 || n > 0 {
			f.fresh = !was
			f.lastActive = now
		}
		if n > 0 && d > 0 {
			// Per-command cost, smoothed: what Pace reserves.
			e := d / int64(n)
			old := t.est.Load()
			if old > 0 {
				e = (old + e) / 2
			}
			t.est.Store(e)
		}
		if f.lastActive != 0 && now-f.lastActive < int64(activeFor) {
			if !f.fresh {
				nStayed++
			}
			nActive++
			sumW += float64(t.pol.Load().weight())
			sole = t
		}
	}
	contended := nActive >= 2 && delay > c.delayTarget
	// The capacity shares are cut from is what the server was seen to
	// serve, in charged service time, when nobody was throttled: a decaying
	// maximum of the busy time (half-life ~7s at 10ms ticks), held while
	// anyone is throttled. Charged time is only tcached's part of a
	// command's cost (the kernel's networking and the clients' CPU are
	// not in it), so a saturated 2-core machine charges ~1.2 cores, not 2:
	// shares of GOMAXPROCS would guarantee a flooder more than it can get.
	c.busy = 0.5*c.busy + 0.5*busy
	if c.throttled == 0 {
		c.capacity = max(c.busy, c.capacity*capacityDecay)
	}
	c.capacity = min(max(c.capacity, minCapacity*c.cores), c.cores)
	capacity := c.capacity
	c.status.Store(&fairSnapshot{Delay: time.Duration(delay), Busy: busy, Capacity: capacity, Contended: contended, Active: nActive, sole: sole})
	throttled := 0

	var changes []Change
	for _, t := range list {
		f := &t.fs
		active := f.lastActive != 0 && now-f.lastActive < int64(activeFor)
		share := capacity
		if sumW > 0 {
			share = float64(t.pol.Load().weight()) / sumW * capacity
		}
		switch {
		case !active || nActive < 2:
			f.allow = 0 // alone or idle: the whole server
			f.probation = false
		case f.fresh && f.allow == 0 && nStayed > 0:
			// A tenant that starts while others are active starts held
			// to its share, on probation: its usage (smoothed, and only
			// one tick of it) and the scheduling delay would take several
			// ticks to show a flood, which runs unchecked meanwhile.
			f.allow, f.probation, f.pacedAt = share, true, t.paced.Load()
		case f.probation:
			// Released unless its allowance held it back (it was paced,
			// or is behind its schedule): then the usual rules go on.
			f.probation = false
			if t.paced.Load() == f.pacedAt && t.paceTat.Load()-paceTolerance <= now {
				f.allow = 0
			}
		case f.allow == 0:
			if contended && f.usage > share {
				f.allow = share
			}
		case delay > c.delayTarget:
			f.allow = max(share, f.allow*decreaseFactor)
		case delay < c.delayTarget/2:
			f.allow = f.allow*increaseFactor + increaseStep*capacity
			if f.allow >= capacity {
				f.allow = 0
			}
		}
		var a int64
		if f.allow > 0 {
			a = max(int64(f.allow*ppm), 1)
		}
		if old := t.allow.Swap(a); old == 0 && a != 0 {
			// A fresh schedule: no debt from before the throttle.
			t.paceTat.Store(now)
		}
		if f.allow > 0 {
			throttled++
		}
		// Probation is not a throttle to report unless it goes on: a
		// tenant's every start would otherwise log one.
		if is := f.allow > 0 && !f.probation; is != f.reported {
			f.reported = is
			if is {
				t.throttles.Add(1)
			}
			changes = append(changes, Change{Tenant: t, Throttled: is, Allowance: f.allow, Usage: f.usage, Delay: time.Duration(delay)})
		}
	}
	c.throttled = throttled
	return changes
}

type fairSnapshot struct {
	Delay     time.Duration
	Busy      float64
	Capacity  float64
	Contended bool
	Active    int
	sole      *Tenant // the one active tenant when Active == 1 (Alone)
}

// Alone reports whether no tenant other than t was active at the last Tick
// (none ran a command within activeFor): t then has the server to itself,
// and work-conserving limits (the server's heavy slots) need not hold it
// back. It is false when fair sharing is off, which tracks no activity.
// One atomic load; a tenant that becomes active is seen at the next Tick.
func (t *Tenant) Alone() bool {
	if !t.c.fairOn {
		return false
	}
	st := t.c.status.Load()
	return st == nil || st.Active == 0 || st.Active == 1 && st.sole == t
}

// measureDelay returns the scheduling delay in ns: the injected one, or
// the p99 of the runtime's /sched/latencies:seconds histogram over the
// last delayWindow ticks.
func (c *Controller) measureDelay() int64 {
	if c.delayFn != nil {
		return int64(c.delayFn())
	}
	return c.sched.p99()
}

// weight is the policy's weight, at least 1.
func (p *policy) weight() int { return max(p.Weight, 1) }

// admitted is the number of commands admitted so far.
func (t *Tenant) admitted() uint64 {
	n := t.noWait.Load()
	for i := range t.waits {
		n += t.waits[i].Load()
	}
	return n
}

// Allowance is the tenant's allowance in cores, or 0 when it is not
// throttled.
func (t *Tenant) Allowance() float64 { return float64(t.allow.Load()) / ppm }

func (c *Controller) initFair(o FairOptions) {
	c.fairOn = o.Enabled
	c.delayTarget = int64(o.DelayTarget)
	if c.delayTarget <= 0 {
		c.delayTarget = int64(DefaultDelayTarget)
	}
	c.cores = o.Cores
	if !(c.cores > 0) || math.IsInf(c.cores, 0) {
		c.cores = float64(runtime.GOMAXPROCS(0))
	}
	c.delayFn = o.Delay
	if c.fairOn && c.delayFn == nil {
		c.sched = newSchedSampler()
	}
	c.lastTick = c.nanotime()
	c.capacity = c.cores / 2
}

// untrack removes t from the fair-sharing list; c.mu must be held.
func (c *Controller) untrack(t *Tenant) {
	if i := slices.Index(c.fair, t); i >= 0 {
		c.fair = slices.Delete(slices.Clone(c.fair), i, i+1)
	}
	t.allow.Store(0)
}

// fairFields are the Tenant fields of fair sharing, embedded in Tenant.
type fairFields struct {
	allow       atomic.Int64 // ppm of a core; 0 = not throttled (read per command)
	est         atomic.Int64 // ns per command, smoothed (Pace's reservation)
	_           [48]byte
	paceTat     atomic.Int64 // the allowance's schedule, ns since epoch
	throttledNs atomic.Int64 // ns its connections waited
	paced       atomic.Uint64
	throttles   atomic.Uint64 // times throttling started
	fs          fairState     // Tick only
}
