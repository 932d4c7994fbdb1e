// Package tiers describes service tiers as plain data.
//
// A tier is a bundle of policy that the layers above apply to every tenant
// assigned to it: the TTL given to keys written without one, how long a
// request may wait for admission, how many requests per second a tenant may
// start, how many it may have in flight and with how many argument bytes,
// how many connections a tenant may hold open, how many bytes it may keep in
// the backing Redis Cluster (L2) when one is configured, and the order in
// which tenants are shed under overload. The package holds no state and
// imports nothing from tcached, so config, admission and server can all
// depend on it without creating cycles.
//
// # Zero values
//
// A zero field means "no limit" rather than "limit of zero": DefaultTTL 0
// means keys written without a TTL never expire (or expire after MaxTTL,
// when the tier has one), MaxTTL 0 means no retention cap, Timeout 0 means the wait is
// not bounded by the tier, and RateLimit 0, MaxConcurrent 0, MaxArgBytes 0,
// MaxConnections 0 and L2Quota 0 mean unlimited. The one exception is
// Burst, which only has a meaning with a RateLimit: Burst 0 means one
// second's worth of RateLimit (at least 1), since an unlimited burst would
// be no rate limit.
// This lets a custom tier declared with only some fields behave sensibly,
// and matches Redis, where a key without EXPIRE lives until evicted.
//
// ClientMemory bounds what a tenant's connections make the server hold
// (not what it stores: that is the quota). 0, the built-ins' value, means
// derived from the tenant's quota (see package config).
//
// # Built-in tiers
//
//	name      default TTL  timeout  rate limit  max in flight  max arg bytes  max connections  L2 quota  priority  weight
//	platinum  1h           200ms    0 (none)    1000           256MiB         2000             4GiB      3         4
//	gold      30m          500ms    0 (none)    500            128MiB         1000             1GiB      2         2
//	silver    15m          1s       0 (none)    200            64MiB          500              256MiB    1         1
//
// Timeout is the tier's latency promise: a request that would wait longer
// than this for admission is refused rather than run late, and a request
// whose service time exceeds it is counted as an SLA violation.
//
// RateLimit is 0 in every built-in tier. A commands-per-second figure is a
// statement about the hardware and the tenant's contract, neither of which
// tcached knows: this 2-core machine serves about 89K non-pipelined and 1.4M
// pipelined commands per second, so any built-in number would either
// throttle a tenant on an idle server (redis-benchmark -c 50 reaches
// ~150K/s on faster hardware, and a throttled benchmark measures the
// throttle) or protect no one. Operators set rate_limit per tier or tenant
// where they sell a rate; out of the box a tenant is bounded by what does
// not depend on hardware speed: MaxConcurrent, MaxArgBytes, MaxConnections
// and priority-ordered shedding.
//
// MaxArgBytes bounds the memory one tenant's in-flight commands pin
// (request arguments, and the copies a write makes of them). The defaults
// halve per tier like MaxConcurrent roughly does, stay below the default
// proto_max_bulk_len (512MiB) so that one tenant cannot hold the largest
// legal request several times over, and are far above any cache value a
// tenant of that tier would sensibly store. A single command larger than
// MaxArgBytes is always refused, so it is also the largest request a
// tenant of the tier may send.
//
// L2Quota is what one tenant may keep in the backing Redis Cluster (the
// store of record behind the tenant's in-memory partition, L1) when the
// configuration has a backing section; without one it has no effect. L2 is
// sized by the cluster rather than by this host's memory; the defaults
// step down by a factor of four per tier and hold at least four of the
// tier's largest requests (MaxArgBytes). They are starting points: set
// l2_quota per tier or tenant to what was sold.
//
// Priority orders shedding: when the server must refuse work, it refuses the
// lowest priority first. Custom tiers default to priority 1 (with silver).
//
// Weight is the tier's share of a contended server: when the server is
// contended, each active tenant is guaranteed at least weight / (sum of the
// active tenants' weights) of it, and a tenant above its share is slowed
// (fair sharing, in admission). An uncontended server is not shared out:
// a tenant alone gets all of it. Custom tiers default to weight 1.
//
// HeavySlots caps how many expensive commands (KEYS, SCAN, SORT, big
// replies: those past a few hundred µs of work) of one tenant run at once
// while another tenant is active; the others wait for a slot. 0, the
// built-ins' value, means half the cores the server runs on (GOMAXPROCS/2,
// at least 1), which only the server knows. Like fair sharing it is
// work-conserving: a tenant alone on the server is not held to it.
package tiers

import "time"

// DefaultWeight is the fair-sharing weight of a custom tier that does not
// set one: silver's.
const DefaultWeight = 1

// DefaultPriority is the priority of a custom tier that does not set one. It
// equals silver's, so a new tier is never shed after a paid built-in tier
// unless the operator says so.
const DefaultPriority = 1

// Tier is one service tier's policy. It is a value type: copy it freely.
type Tier struct {
	// Name identifies the tier in configuration, metrics and logs.
	Name string
	// DefaultTTL is applied to keys written without a TTL; 0 means none.
	DefaultTTL time.Duration
	// MaxTTL is the longest a key may live after the write that left it
	// (the retention cap): a longer or absent TTL is capped to it, or
	// refused when MaxTTLPolicy says so; 0 means no cap.
	MaxTTL time.Duration
	// MaxTTLPolicy says what a command that asks for a TTL past MaxTTL
	// (or for none: PERSIST) gets: the cap, or an error.
	MaxTTLPolicy TTLPolicy
	// Timeout bounds how long a request may wait for admission (the tier's
	// latency SLA); 0 means unbounded.
	Timeout time.Duration
	// RateLimit is the token-bucket refill of one tenant, in commands per
	// second; 0 means unlimited.
	RateLimit float64
	// Burst is the token-bucket size in commands; 0 means one second of
	// RateLimit. It has no effect when RateLimit is 0.
	Burst int
	// MaxConcurrent caps one tenant's in-flight requests; 0 means unlimited.
	MaxConcurrent int
	// MaxArgBytes caps the argument bytes of one tenant's in-flight
	// requests, and so the size of its largest request; 0 means unlimited.
	MaxArgBytes int64
	// MaxConnections caps one tenant's open connections (counted once a
	// connection is bound to the tenant); 0 means unlimited.
	MaxConnections int
	// L2Quota caps the bytes one tenant may keep in the backing Redis
	// Cluster (L2); 0 means unlimited. It has no effect without a backing
	// store.
	L2Quota int64
	// L1CollMax is the largest collection (hash, list, set, sorted set,
	// stream; bitmaps and HyperLogLogs too), by Redis's MEMORY USAGE in
	// L2, that backed mode caches in the tenant's L1; bigger ones are
	// read through. 0: no collection is cached. No effect without a
	// backing store.
	L1CollMax int64
	// Priority orders shedding: higher is shed later.
	Priority int
	// Weight is the tenant's share of a contended server relative to the
	// other active tenants' weights (fair sharing); 0 counts as 1.
	Weight int
	// HeavySlots caps one tenant's expensive commands running at once while
	// other tenants are active; 0 means half of GOMAXPROCS, at least 1.
	HeavySlots int
	// ClientMemory is the tenant's client-memory budget: the bytes all its
	// connections may make the server hold (query buffers, reply and
	// pub/sub queues, MULTI queues, WATCH tables). 0 means "derived from
	// the tenant's quota" (config.DefaultClientMemory), the built-ins'
	// value: a budget is about what the tenant stores and sends, which
	// the quota measures better than the tier does.
	ClientMemory int64
	// ScriptTimeLimit is Redis's busy-reply-threshold (lua-time-limit) for
	// the tenant's scripts: once a script has run this long, the tenant's
	// other commands are answered BUSY and SCRIPT KILL / FUNCTION KILL may
	// stop it. 0 means DefaultScriptTimeLimit.
	ScriptTimeLimit time.Duration
	// ScriptMaxTime stops a script that has run this long, written or not
	// (tcached's own limit: Redis lets it run until SCRIPT KILL or SHUTDOWN
	// NOSAVE). 0 means DefaultScriptMaxTime.
	ScriptMaxTime time.Duration
}

// TTLPolicy is what a command asking for a TTL past the tier's MaxTTL
// gets.
type TTLPolicy uint8

const (
	// TTLCap stores the command's write with the TTL capped at MaxTTL.
	TTLCap TTLPolicy = iota
	// TTLRefuse answers an error and writes nothing.
	TTLRefuse
)

func (p TTLPolicy) String() string {
	switch p {
	case TTLCap:
		return "cap"
	case TTLRefuse:
		return "refuse"
	}
	return "TTLPolicy(" + string(rune('0'+p)) + ")"
}

// DefaultScriptTimeLimit is Redis's busy-reply-threshold default.
const DefaultScriptTimeLimit = 5 * time.Second

// DefaultScriptMaxTime is how long a script may run before the server
// stops it: twelve busy thresholds, enough for any script a cache should
// run, short enough that a forgotten loop does not hold its tenant (and a
// core) for long.
const DefaultScriptMaxTime = time.Minute

// Builtin returns the built-in tiers keyed by name. The map is freshly
// allocated on every call, so callers may modify it (config adds custom tiers
// and overrides to it) without affecting other callers.
func Builtin() map[string]Tier {
	return map[string]Tier{
		"platinum": {Name: "platinum", DefaultTTL: time.Hour, Timeout: 200 * time.Millisecond, MaxConcurrent: 1000, MaxArgBytes: 256 << 20, MaxConnections: 2000, L2Quota: 4 << 30, L1CollMax: 64 << 10, Priority: 3, Weight: 4},
		"gold":     {Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2},
		"silver":   {Name: "silver", DefaultTTL: 15 * time.Minute, Timeout: time.Second, MaxConcurrent: 200, MaxArgBytes: 64 << 20, MaxConnections: 500, L2Quota: 256 << 20, L1CollMax: 16 << 10, Priority: 1, Weight: 1},
	}
}

// Overrides replaces selected fields of a Tier. A nil field leaves the
// tier's value unchanged; a non-nil field replaces it, including with zero
// (so an override can remove a default TTL).
type Overrides struct {
	DefaultTTL     *time.Duration
	MaxTTL         *time.Duration
	MaxTTLPolicy   *TTLPolicy
	Timeout        *time.Duration
	RateLimit      *float64
	Burst          *int
	MaxConcurrent  *int
	MaxArgBytes    *int64
	MaxConnections *int
	L2Quota        *int64
	Priority       *int
	Weight         *int
	HeavySlots     *int
	ClientMemory   *int64
	// ScriptTimeLimit and ScriptMaxTime override the script limits.
	ScriptTimeLimit *time.Duration
	ScriptMaxTime   *time.Duration
}

// With returns a copy of t with the non-nil fields of o applied. The Name is
// kept: a tenant that overrides its tier's TTL is still in that tier.
func (t Tier) With(o Overrides) Tier {
	if o.DefaultTTL != nil {
		t.DefaultTTL = *o.DefaultTTL
	}
	if o.MaxTTL != nil {
		t.MaxTTL = *o.MaxTTL
	}
	if o.MaxTTLPolicy != nil {
		t.MaxTTLPolicy = *o.MaxTTLPolicy
	}
	if o.Timeout != nil {
		t.Timeout = *o.Timeout
	}
	if o.RateLimit != nil {
		t.RateLimit = *o.RateLimit
	}
	if o.Burst != nil {
		t.Burst = *o.Burst
	}
	if o.MaxConcurrent != nil {
		t.MaxConcurrent = *o.MaxConcurrent
	}
	if o.MaxArgBytes != nil {
		t.MaxArgBytes = *o.MaxArgBytes
	}
	if o.MaxConnections != nil {
		t.MaxConnections = *o.MaxConnections
	}
	if o.L2Quota != nil {
		t.L2Quota = *o.L2Quota
	}
	if o.Priority != nil {
		t.Priority = *o.Priority
	}
	if o.Weight != nil {
		t.Weight = *o.Weight
	}
	if o.HeavySlots != nil {
		t.HeavySlots = *o.HeavySlots
	}
	if o.ClientMemory != nil {
		t.ClientMemory = *o.ClientMemory
	}
	if o.ScriptTimeLimit != nil {
		t.ScriptTimeLimit = *o.ScriptTimeLimit
	}
	if o.ScriptMaxTime != nil {
		t.ScriptMaxTime = *o.ScriptMaxTime
	}
	return t
}
