package shard

import "github.com/tcached/tcached/eviction"

// # Retention
//
// A partition may carry a max TTL (the tenant's max_ttl): every key a
// write leaves behind expires at most that long after the write. The
// partition enforces it where an expiry is stored (a Put or SetTTL, in
// Set, Mutate, Apply and Patch), so no command, script or transaction can
// store a longer or absent expiry: one is capped to now+max. A command
// that should refuse an explicit request instead (the refuse policy)
// asks MaxTTL before it writes; the cap stays as the backstop for
// expiries a command carries over (KEEPTTL, RENAME, COPY, an APPEND to a
// key written before the cap). Edits in place (HSET on a hash stored as a
// real structure) keep the key's expiry, like every edit: they only meet
// keys that already obey the cap, except keys older than it, which
// CapExpiries fixes when the cap is set or lowered.

// SetMaxTTL sets the longest TTL a write may leave on a key, in ms (0:
// none), and whether commands refuse a longer explicit TTL rather than
// cap it (the partition itself always caps). Keys already stored are not
// changed: CapExpiries does that.
func (p *Partition) SetMaxTTL(ms int64, refuse bool) {
	p.maxTTL.Store(max(ms, 0))
	p.refuseTTL.Store(refuse)
}

// MaxTTL returns the max TTL in ms (0: none) and whether explicit longer
// TTLs are refused.
func (p *Partition) MaxTTL() (ms int64, refuse bool) {
	return p.maxTTL.Load(), p.refuseTTL.Load()
}

// capExpire returns expireAt (unix ms, 0 = none) bounded by now+max TTL.
func (p *Partition) capExpire(expireAt int64) int64 {
	m := p.maxTTL.Load()
	if m == 0 {
		return expireAt
	}
	if lim := p.now() + m; expireAt == 0 || expireAt > lim {
		return lim
	}
	return expireAt
}

// CapExpiries gives every stored key whose expiry is absent or later than
// now+max TTL that expiry, a sub-shard at a time (each lock held for one
// pass over its slots), and returns how many keys it changed. Run it after
// SetMaxTTL sets or lowers the cap, so that keys written before obey it.
func (p *Partition) CapExpiries() int {
	m := p.maxTTL.Load()
	if m == 0 {
		return 0
	}
	changed := 0
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		lim := p.now() + m
		for slot := range s.lru.Slots() {
			h := eviction.Handle(slot)
			if !s.lru.Live(h) {
				continue
			}
			if e := s.lru.ExpireAt(h); e == 0 || e > lim {
				s.setExpire(h, lim)
				p.modified(s, s.lru.Key(h), SignalChange, true)
				changed++
			}
		}
		s.mu.Unlock()
	}
	return changed
}
