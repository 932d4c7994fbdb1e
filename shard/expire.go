package shard

import (
	"github.com/tcached/tcached/eviction"
)

func expired(expireAt, now int64) bool { return expireAt != 0 && now > expireAt }

// setExpire changes the expiry of h. s.mu must be held.
func (s *subShard) setExpire(h eviction.Handle, expireAt int64) {
	old := s.lru.ExpireAt(h)
	db := s.lru.Key(h)[0]
	switch {
	case old == 0 && expireAt != 0:
		s.expires[db]++
	case old != 0 && expireAt == 0:
		s.expires[db]--
	}
	s.lru.SetExpireAt(h, expireAt)
}

// expireBatchSlots is how many slots ExpireCycle examines per sub-shard
// before deciding whether to stay (Redis samples 20 keys per loop).
const expireBatchSlots = 20

// ExpireCycle is active expiry: it examines up to maxWork slots across the
// sub-shards, starting at a sub-shard that rotates from call to call, and
// returns the number of expired keys removed. Like Redis's
// activeExpireCycle it keeps working on a sub-shard while more than 25% of
// the keys with a TTL in the last batch were expired, and moves on
// otherwise.
func (p *Partition) ExpireCycle(maxWork int) int {
	n := len(p.shards)
	start := int(p.expireNext.Add(1) - 1)
	now := p.now()
	p.lruClock.Store(lruClockOf(now)) // the access clock's tick (idle.go)
	removed, work := 0, 0
	for i := 0; i < n && work < maxWork; i++ {
		s := &p.shards[(start+i)&int(p.mask)]
		for work < maxWork {
			s.mu.Lock()
			r, withTTL, examined := p.expireBatch(s, min(expireBatchSlots, maxWork-work), now, nil)
			s.mu.Unlock()
			removed += r
			work += examined
			if examined == 0 || withTTL == 0 || r*4 <= withTTL {
				break
			}
		}
	}
	return removed
}

// expireBatch examines up to max slots of s from its expiry cursor,
// removing expired entries; it stops at the last slot and rewinds the
// cursor. It returns the keys removed, the keys with a TTL seen, and the
// slots examined. Keys named by sk (if not nil) are left alone: a write
// holds handles to them. s.mu must be held.
func (p *Partition) expireBatch(s *subShard, max int, now int64, sk *skipper) (removed, withTTL, examined int) {
	for examined < max {
		if s.expireSlot >= s.lru.Slots() {
			s.expireSlot = 0
			break
		}
		h := eviction.Handle(s.expireSlot)
		s.expireSlot++
		examined++
		if !s.lru.Live(h) {
			continue
		}
		e := s.lru.ExpireAt(h)
		if e == 0 {
			continue
		}
		withTTL++
		if now > e && (sk == nil || !sk.has(s.lru.Key(h))) {
			p.drop(s, h)
			s.expired.Add(1)
			removed++
		}
	}
	return removed, withTTL, examined
}
