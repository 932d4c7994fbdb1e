package shard

import (
	"bytes"
	"math/rand/v2"

	"github.com/tcached/tcached/eviction"
)

// randomProbes and randomRun bound RandomKey's sampling: randomProbes
// random (sub-shard, slot) starts, each examining up to randomRun slots.
const (
	randomProbes = 64
	randomRun    = 32
)

// RandomKey returns a copy of a random live key of db. Sampling is
// bounded; when random probes miss (db is a small minority of the
// partition), it falls back to a walk from a random position, so it returns
// false only when db has no live key.
func (p *Partition) RandomKey(db int) ([]byte, bool) {
	if !validDB(db) || p.Len(db) == 0 {
		return nil, false
	}
	now := p.now()
	n := len(p.shards)
	for range randomProbes {
		s := &p.shards[rand.IntN(n)]
		s.mu.Lock()
		if slots := s.lru.Slots(); slots > 0 {
			if k, ok := p.firstKey(s, db, rand.IntN(slots), randomRun, now); ok {
				s.mu.Unlock()
				return k, true
			}
		}
		s.mu.Unlock()
	}
	start := rand.IntN(n)
	for i := range n {
		s := &p.shards[(start+i)&int(p.mask)]
		s.mu.Lock()
		k, ok := p.firstKey(s, db, 0, s.lru.Slots(), now)
		s.mu.Unlock()
		if ok {
			return k, true
		}
	}
	return nil, false
}

// firstKey returns a copy of the first live, unexpired key of db among up to
// run slots from start (wrapping), deleting expired ones it passes. s.mu
// must be held.
func (p *Partition) firstKey(s *subShard, db, start, run int, now int64) ([]byte, bool) {
	for j := range run {
		slots := s.lru.Slots()
		if slots == 0 {
			return nil, false
		}
		if k, ok := p.liveKey(s, eviction.Handle((start+j)%slots), db, now); ok {
			return bytes.Clone(k[1:]), true
		}
	}
	return nil, false
}

// liveKey returns the stored key (its db byte first) at h when h holds a
// live, unexpired key of db; an expired key met on the way is removed
// (which leaves a hole: no slot moves). s.mu must be held.
func (p *Partition) liveKey(s *subShard, h eviction.Handle, db int, now int64) ([]byte, bool) {
	if !s.lru.Live(h) {
		return nil, false
	}
	k := s.lru.Key(h)
	if int(k[0]) != db {
		return nil, false
	}
	if expired(s.lru.ExpireAt(h), now) {
		p.drop(s, h)
		s.expired.Add(1)
		return nil, false
	}
	return k, true
}

// Scan iterates over the keys of db. Cursor 0 starts; the returned cursor
// is 0 when the scan is done. Each call examines about count live entries
// (default 10) and at most 10*count slots, like Redis, so it may return
// fewer keys than count, or none, before the scan is done. match, if not
// nil, filters keys; it must not retain its argument.
//
// A key present for the whole scan is returned at least once (the cursor is
// a sub-shard index and a slot index, and slots never move; see package
// eviction); keys added or removed during the scan may or may not be
// returned, and a key may be returned twice if it was deleted and re-added.
// Any cursor value is accepted: a slot beyond its sub-shard's last slot
// moves on to the next sub-shard.
//
// The cursor is slot<<shardBits | subShard, so it stays small for small
// partitions and cursor 0 is (sub-shard 0, slot 0).
func (p *Partition) Scan(db int, cursor uint64, count int, match func(key []byte) bool) (next uint64, keys [][]byte) {
	return p.ScanType(db, cursor, count, match, AnyType)
}

// ScanType is Scan returning only keys of type t (AnyType: all). As with
// Redis's SCAN ... TYPE, the filter applies after sampling: keys of other
// types count toward count but are not returned.
func (p *Partition) ScanType(db int, cursor uint64, count int, match func(key []byte) bool, t Type) (next uint64, keys [][]byte) {
	if !validDB(db) {
		return 0, nil
	}
	if count <= 0 {
		count = 10
	}
	count = min(count, MaxScanCount)
	budget := 10 * count
	live, visited := 0, 0
	var arena []byte
	for {
		var v int
		cursor, v = p.WalkKeys(db, cursor, budget-visited, func(k []byte, kt Type) bool {
			live++
			if t != AnyType && kt != t {
				return live < count
			}
			start := len(arena)
			arena = append(arena, k...)
			kb := arena[start:len(arena):len(arena)]
			if match != nil && !match(kb) {
				arena = arena[:start]
			} else {
				keys = append(keys, kb)
			}
			return live < count
		})
		visited += v
		if cursor == 0 || live >= count || visited >= budget {
			return cursor, keys
		}
	}
}

// WalkKeys calls fn with the name and type of each live, unexpired key of
// db in the slots of one sub-shard, starting at cursor and visiting at most
// maxSlots slots (at least one), under that sub-shard's lock. It returns
// the cursor to continue from, 0 once the last sub-shard is done, and the
// number of slots visited. fn returning false stops the walk after that
// key. fn runs under the lock: it must be quick, must not retain key and
// must not call into the partition. Expired keys met are removed.
//
// Cursors are Scan's (a walk and a Scan continue each other), with Scan's
// guarantee: a key present for the whole walk is seen at least once. A
// caller walking the whole partition (KEYS) thus decides how long each lock
// hold lasts, and can do the rest of its work (matching, yielding the CPU)
// between calls, with no lock held.
func (p *Partition) WalkKeys(db int, cursor uint64, maxSlots int, fn func(key []byte, t Type) bool) (next uint64, visited int) {
	if !validDB(db) {
		return 0, 0
	}
	maxSlots = max(maxSlots, 1)
	si := int(cursor & p.mask)
	slot := cursor >> p.shardBits
	s := &p.shards[si]
	s.mu.Lock()
	if s.keys[db] > 0 {
		now := p.now()
		for slot < uint64(s.lru.Slots()) && visited < maxSlots {
			h := eviction.Handle(slot)
			slot++
			visited++
			if k, ok := p.liveKey(s, h, db, now); ok && !fn(k[1:], typeOfKind(s.lru.Kind(h))) {
				break
			}
		}
	}
	done := s.keys[db] == 0 || slot >= uint64(s.lru.Slots())
	s.mu.Unlock()
	if !done {
		return slot<<p.shardBits | uint64(si), visited
	}
	if si+1 >= len(p.shards) {
		return 0, visited
	}
	return uint64(si + 1), visited
}

// MaxScanCount caps Scan's count hint so that 10*count cannot overflow
// and one call cannot hold a sub-shard lock for long.
const MaxScanCount = 1 << 16
