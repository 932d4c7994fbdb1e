package shard

import (
	"github.com/tcached/tcached/eviction"
)

// EntryOverhead is the number of bytes charged per entry beyond
// len(key)+len(value). It stands for the memory an entry costs besides its
// key and value bytes (see package eviction for the layout):
//
//   - the eviction slot: 32 bytes, plus the unused part of the last
//     1024-slot page of each sub-shard;
//   - the index bucket: 8 bytes at a load factor between 3/8 and 3/4,
//     10.7-21.3 bytes per entry;
//   - in the entry's single key+value allocation, the db byte and the
//     uvarint key length (2 bytes for keys under 128 bytes) and the malloc
//     size-class rounding (16+100 bytes: 118 -> 128; 32+1000: 1034 -> 1152).
//
// TestMemoryOverhead measures it (go1.26.8 linux/amd64, 64 sub-shards,
// live heap after GC, per entry):
//
//	key+value   entries   real heap   real - key - value   accounted   acct/real
//	16+100      200 K     192.1        76.1                188         0.98
//	16+100      1 M       179.4        63.4                188         1.05
//	8+16        100 K     103.0        79.0                 96         0.93
//	32+1000     50 K      1212.9      180.9 (1034 -> 1152) 1104        0.91
//
// (1 M is TestLoad1M; its process RSS grows by 191.4 bytes per entry.) 72
// is charged. TestMemoryOverhead logs the current figures and fails if
// accounted bytes leave 0.8x..1.25x of the real heap.
const EntryOverhead = 72

// storedOverhead is the per-entry overhead the sub-shards' LRUs add to
// len(stored key)+len(value): the stored key has the db byte in front of
// the name, which entrySize does not charge.
const storedOverhead = EntryOverhead - 1

// entrySize is the accounted size of an entry.
func entrySize(nameLen, valueLen int) int64 {
	return int64(nameLen) + int64(valueLen) + EntryOverhead
}

// tooBig reports an entry the LRU cannot hold (about 4 GiB); it fails as
// ErrOOM, like an entry larger than the quota.
func tooBig(nameLen, valueLen int) bool {
	return int64(nameLen)+1+int64(valueLen) > eviction.MaxEntry
}

// reserve adds delta to used if the result stays within the quota. A delta
// <= 0 is always applied.
func (p *Partition) reserve(delta int64) bool {
	if delta <= 0 {
		p.used.Add(delta)
		return true
	}
	for {
		u := p.used.Load()
		if u+delta > p.quota.Load() {
			return false
		}
		if p.used.CompareAndSwap(u, u+delta) {
			return true
		}
	}
}

// UsedBytes is the partition's accounted bytes.
func (p *Partition) UsedBytes() int64 { return p.used.Load() }

// Quota is the partition's current byte quota (cheap: no locks).
func (p *Partition) Quota() int64 { return p.shown.Load() }

// SetQuota changes the quota. Shrinking it evicts least recently used keys
// of this partition until the accounted bytes fit, in NoEviction mode too:
// the quota is hard. A negative q is treated as 0.
func (p *Partition) SetQuota(q int64) {
	q = max(q, 0)
	if q >= p.quota.Load() {
		// Growing: report the new quota before writers may use it.
		p.shown.Store(q)
		p.quota.Store(q)
		return
	}
	p.quota.Store(q)
	if p.used.Load() > q {
		// Unbounded rounds: writers reserve against the new quota, so
		// every round brings used closer to q.
		p.evictUntil(0, &skipper{db: -1}, 0)
	}
	// Report the new quota only now: while the shrink evicts, used is
	// still above q, and the reported quota must never be below used.
	p.shown.Store(q)
}

// SetNoEviction switches the policy for writes that do not fit: ErrOOM
// (true) or evicting this partition's LRU keys (false). Safe concurrently;
// writes in progress finish under the policy they started with.
func (p *Partition) SetNoEviction(on bool) { p.noEviction.Store(on) }

// maxAttempts bounds how many times a write re-runs after releasing its
// lock to evict from other sub-shards. Each attempt frees at least what the
// write needed, so only concurrent writers stealing the freed room make a
// second attempt fail; 16 lost races in a row means the partition is
// hopelessly contended for its size and the write reports ErrOOM.
const maxAttempts = 16

// skipper names the keys a write must not evict: one (db, name), or a set
// of stored-form keys for Apply.
type skipper struct {
	db   int
	name []byte
	set  map[string]struct{}
}

func (k *skipper) has(stored []byte) bool {
	if k.set != nil {
		_, ok := k.set[string(stored)]
		return ok
	}
	return len(stored) == len(k.name)+1 && int(stored[0]) == k.db && string(stored[1:]) == string(k.name)
}

// evictLocked makes room for delta by reserving it, evicting entries of s
// from the LRU end (skipping sk's keys) while the reservation fails. It
// reports whether delta is now reserved. In NoEviction mode it only drops
// expired entries, within a bounded sweep. s.mu must be held.
func (p *Partition) evictLocked(s *subShard, delta int64, sk *skipper) bool {
	if p.noEviction.Load() {
		p.expireBatch(s, noEvictionSweep, p.now(), sk)
		return p.reserve(delta)
	}
	for !p.reserve(delta) {
		if !p.evictOne(s, sk) {
			return false
		}
	}
	return true
}

// noEvictionSweep is how many slots a NoEviction write that does not fit
// examines for expired entries in its own sub-shard before giving up:
// enough to find a few expired keys, small enough to keep a full partition's
// refused writes cheap.
const noEvictionSweep = 64

// noEvictionCycleWork is the ExpireCycle budget (slots) a refused
// NoEviction write spends across all sub-shards before its one retry.
const noEvictionCycleWork = 1024

// evictOne removes the oldest entry of s not named by sk. An expired victim
// is counted as expired, not evicted. s.mu must be held.
func (p *Partition) evictOne(s *subShard, sk *skipper) bool {
	h := s.lru.Oldest()
	for h != eviction.Nil && sk.has(s.lru.Key(h)) {
		h = s.lru.Newer(h)
	}
	if h == eviction.Nil {
		return false
	}
	e := s.lru.ExpireAt(h)
	if e != 0 && p.now() > e {
		s.expired.Add(1)
	} else {
		s.evictions.Add(1)
	}
	p.drop(s, h)
	return true
}

// makeRoom runs with no lock held after a write found no room in its own
// sub-shard(s). It reports whether the write should retry.
func (p *Partition) makeRoom(need int64, sk *skipper, attempt int) bool {
	if attempt+1 >= maxAttempts {
		return false
	}
	if p.noEviction.Load() {
		// One retry after a bounded active-expiry pass: a tenant hammering
		// a full NoEviction partition must not buy a full walk per write.
		if attempt > 0 {
			return false
		}
		p.ExpireCycle(noEvictionCycleWork)
		return p.used.Load()+need <= p.quota.Load()
	}
	return p.evictUntil(need, sk, maxEvictRounds)
}

// maxEvictRounds bounds the rounds over all sub-shards one write's
// evictUntil makes; a round frees about what is missing, so more rounds
// only happen when concurrent writers refill the room as it is freed.
const maxEvictRounds = 8

// evictUntil evicts from all sub-shards, one lock at a time, round robin
// from a rotating start, until used+need <= quota. Each visit frees about
// an even share of what is missing, so the victims come from the LRU ends
// of all sub-shards rather than from one. It reports false only when a
// whole round found nothing to evict, or after maxRounds rounds (0: no
// limit).
func (p *Partition) evictUntil(need int64, sk *skipper, maxRounds int) bool {
	n := len(p.shards)
	start := int(p.evictNext.Add(1))
	for round := 0; maxRounds == 0 || round < maxRounds; round++ {
		missing := p.used.Load() + need - p.quota.Load()
		if missing <= 0 {
			return true
		}
		share := missing/int64(n) + 1
		progress := false
		for i := range n {
			s := &p.shards[(start+i)&int(p.mask)]
			s.mu.Lock()
			var freed int64
			for freed < share && p.used.Load()+need > p.quota.Load() {
				before := p.used.Load()
				if !p.evictOne(s, sk) {
					break
				}
				progress = true
				freed += before - p.used.Load()
			}
			s.mu.Unlock()
			if p.used.Load()+need <= p.quota.Load() {
				return true
			}
		}
		if !progress {
			return false
		}
	}
	return p.used.Load()+need <= p.quota.Load()
}
