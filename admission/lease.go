package admission

import "time"

// Lease keeps an admitted connection's hold on its in-flight slot (one of
// its tenant's in-flight count, its argument bytes, and one of the
// controller's in-flight count) from one command to the next of the same
// pipelined batch. A pipeline of n commands then takes the slot and gives
// it back once instead of n times: the six atomic read-modify-writes each
// command made on cache lines every core serving the tenant writes (and,
// for the controller's count, every tenant) become two per batch, plus one
// for a command whose arguments are larger or smaller than the previous
// one's.
//
// The owner releases the lease before anything that can wait: reading the
// next batch, a pacing wait, a blocking command's wait, the end of the
// connection. A connection that is not executing commands holds nothing,
// so max_concurrent and shedding count what they counted before. The zero
// Lease holds nothing. A Lease belongs to one connection and is not safe
// for concurrent use.
type Lease struct {
	t     *Tenant
	bytes int64  // the argument bytes held
	n     uint64 // commands admitted under the lease, not yet in noWait
}

// leaseCount is how many commands a lease counts before adding them to the
// tenant's admitted count, so a very long batch does not hide its commands
// from the fair-sharing tick (fair.go, admitted) until it ends.
const leaseCount = 64

// AdmitLeased is AdmitAt for a connection that holds l. While l holds a
// slot of t and nothing about admitting the command can differ from the
// previous one's (no rate limit, the in-flight count under its priority's
// shedding threshold, its arguments within max_arg_bytes), the command
// runs on the held slot. Otherwise l is released and the command is
// admitted as by AdmitAt. The Ticket ends with DoneLeased, which keeps the
// slot in l, or with Done, which gives it back.
func (t *Tenant) AdmitLeased(l *Lease, argBytes int64, at int64, queued time.Duration) (Ticket, Reason, bool) {
	argBytes = max(argBytes, 0)
	if l.t == t {
		if p := t.pol.Load(); l.reuse(p, argBytes) {
			var start int64
			if p.timeout > 0 {
				start = at - max(int64(queued), 0)
			}
			return Ticket{start: start, timeout: p.timeout, bytes: argBytes, ok: true, lease: l}, ReasonNone, true
		}
	}
	l.Release()
	return t.AdmitAt(argBytes, at, queued)
}

// reuse admits a command of argBytes on the slot l holds, under policy p,
// or reports false, changing nothing, when it must be admitted afresh.
func (l *Lease) reuse(p *policy, argBytes int64) bool {
	t := l.t
	if p.interval != 0 || t.c.shedding(p.Priority) {
		return false
	}
	if d := argBytes - l.bytes; d != 0 {
		if b := t.argBytes.Add(d); d > 0 && p.MaxArgBytes > 0 && b > p.MaxArgBytes {
			t.argBytes.Add(-d)
			return false
		}
		l.bytes = argBytes
	}
	if l.n++; l.n >= leaseCount {
		t.noWait.Add(l.n)
		l.n = 0
	}
	return true
}

// DoneLeased is DoneAt that keeps the command's slot in l for the next
// command of the batch: a Ticket from AdmitAt hands its hold to l, one
// from AdmitLeased leaves it there.
func (t *Tenant) DoneLeased(l *Lease, tk Ticket, at int64) {
	if !tk.ok {
		return
	}
	t.countSLA(tk, at)
	if tk.lease != nil {
		// Already l's (or given back while the command ran, by a Release
		// before a wait: then nothing is held, and nothing is owed).
		return
	}
	l.Release()
	l.t, l.bytes = t, tk.bytes
}

// Release gives back what l holds, if anything.
func (l *Lease) Release() {
	t := l.t
	if t == nil {
		return
	}
	if l.n != 0 {
		t.noWait.Add(l.n)
	}
	t.release(Ticket{bytes: l.bytes, ok: true})
	*l = Lease{}
}

// shedding reports whether a command of priority prio that already holds
// its share of the in-flight count would be shed now (acquire's test).
func (c *Controller) shedding(prio int) bool {
	if c.max == 0 {
		return false
	}
	s := c.shed.Load()
	return s != nil && c.inflight.Load() > s.limitFor(prio, c.max)
}
