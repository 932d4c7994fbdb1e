// Package tiers describes service tiers as plain data.
//
// A tier is a bundle of policy that the layers above apply to every tenant
// assigned to it: the TTL given to keys written without one, how long a
// request may wait for admission, how many requests a tenant may have in
// flight, how many connections a tenant may hold open, and the order in
// which tenants are shed under overload. The package
// holds no state and imports nothing from tcached, so config, admission and
// server can all depend on it without creating cycles.
//
// # Zero values
//
// A zero field means "no limit" rather than "limit of zero": DefaultTTL 0
// means keys written without a TTL never expire, Timeout 0 means the wait is
// not bounded by the tier, and MaxConcurrent 0 and MaxConnections 0 mean
// unlimited. This lets a
// custom tier declared with only some fields behave sensibly, and matches
// Redis, where a key without EXPIRE lives until evicted.
//
// # Built-in tiers
//
//	name      default TTL  timeout  max in flight  max connections  priority
//	platinum  1h           200ms    1000           2000             3
//	gold      30m          500ms    500            1000             2
//	silver    15m          1s       200            500              1
//
// Priority orders shedding: when the server must refuse work, it refuses the
// lowest priority first. Custom tiers default to priority 1 (with silver).
package tiers

import "time"

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
	// Timeout bounds how long a request may wait for admission (the tier's
	// latency SLA); 0 means unbounded.
	Timeout time.Duration
	// MaxConcurrent caps one tenant's in-flight requests; 0 means unlimited.
	MaxConcurrent int
	// MaxConnections caps one tenant's open connections (counted once a
	// connection is bound to the tenant); 0 means unlimited.
	MaxConnections int
	// Priority orders shedding: higher is shed later.
	Priority int
}

// Builtin returns the built-in tiers keyed by name. The map is freshly
// allocated on every call, so callers may modify it (config adds custom tiers
// and overrides to it) without affecting other callers.
func Builtin() map[string]Tier {
	return map[string]Tier{
		"platinum": {Name: "platinum", DefaultTTL: time.Hour, Timeout: 200 * time.Millisecond, MaxConcurrent: 1000, MaxConnections: 2000, Priority: 3},
		"gold":     {Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxConnections: 1000, Priority: 2},
		"silver":   {Name: "silver", DefaultTTL: 15 * time.Minute, Timeout: time.Second, MaxConcurrent: 200, MaxConnections: 500, Priority: 1},
	}
}

// Overrides replaces selected fields of a Tier. A nil field leaves the
// tier's value unchanged; a non-nil field replaces it, including with zero
// (so an override can remove a default TTL).
type Overrides struct {
	DefaultTTL     *time.Duration
	Timeout        *time.Duration
	MaxConcurrent  *int
	MaxConnections *int
	Priority       *int
}

// With returns a copy of t with the non-nil fields of o applied. The Name is
// kept: a tenant that overrides its tier's TTL is still in that tier.
func (t Tier) With(o Overrides) Tier {
	if o.DefaultTTL != nil {
		t.DefaultTTL = *o.DefaultTTL
	}
	if o.Timeout != nil {
		t.Timeout = *o.Timeout
	}
	if o.MaxConcurrent != nil {
		t.MaxConcurrent = *o.MaxConcurrent
	}
	if o.MaxConnections != nil {
		t.MaxConnections = *o.MaxConnections
	}
	if o.Priority != nil {
		t.Priority = *o.Priority
	}
	return t
}
