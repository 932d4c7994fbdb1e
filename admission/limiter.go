package admission

import "sync/atomic"

// Limiter caps the number of commands of one tenant executing at once.
// It is safe for concurrent use and does not allocate.
//
// Deprecated: Limiter is the pre-issue-5 admission stage, kept only until the
// server dispatch switches to Controller/Tenant, which does everything it
// does (Policy.MaxConcurrent) and more. Delete it then.
type Limiter struct {
	max      int64 // 0 = unlimited
	inflight atomic.Int64
	refused  atomic.Int64
}

// NewLimiter returns a limiter admitting at most max concurrent commands;
// max <= 0 means unlimited.
func NewLimiter(max int) *Limiter {
	if max < 0 {
		max = 0
	}
	return &Limiter{max: int64(max)}
}

// Acquire admits one command, or reports false (and counts a refusal) when
// the tenant already has max commands in flight. Every true must be paired
// with one Release.
func (l *Limiter) Acquire() bool {
	n := l.inflight.Add(1)
	if l.max > 0 && n > l.max {
		l.inflight.Add(-1)
		l.refused.Add(1)
		return false
	}
	return true
}

// Release ends one admitted command.
func (l *Limiter) Release() { l.inflight.Add(-1) }

// InFlight is the number of admitted commands not yet released.
func (l *Limiter) InFlight() int64 { return l.inflight.Load() }

// Refused is the number of refused Acquire calls.
func (l *Limiter) Refused() int64 { return l.refused.Load() }
