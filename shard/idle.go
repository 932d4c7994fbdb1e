package shard

import "github.com/tcached/tcached/eviction"

// # Idle time
//
// Every entry carries the access clock of its last access (eviction's
// "Access clock"), Redis's robj.lru: a 24-bit count of seconds
// (LRU_CLOCK_RESOLUTION 1000 ms, LRU_CLOCK_MAX 2^24-1, so it wraps every
// 194 days). The partition ticks its clock from Config.Now in New and at
// every ExpireCycle (the server's expiry round, 100 ms), as Redis's
// serverCron updates server.lruclock, so an access reads no clock: it
// stamps the tick. What counts as an access is what moves a key in the
// LRU order: reads with ViewTouch and GetString, and every write; EXISTS,
// TYPE, TTL, OBJECT and SCAN do not, as Redis's LOOKUP_NOTOUCH.

// lruClockOf is the access clock at unix ms now.
func lruClockOf(now int64) uint32 { return uint32(now/1000) & eviction.ClockMask }

// Idle is how long (db, key) has not been accessed, in ms at a resolution
// of a second, as Redis's estimateObjectIdleTime (OBJECT IDLETIME). It
// neither touches the key nor counts a hit; ok is false for a missing key.
func (p *Partition) Idle(db int, key []byte) (ms int64, ok bool) {
	s, h, ok := p.locate(db, key)
	if !ok {
		return 0, false
	}
	defer s.mu.Unlock()
	now, at := int64(p.lruClock.Load()), int64(s.lru.Access(h)) // Redis's LRU_CLOCK(), the tick
	if now >= at {
		return (now - at) * 1000, true
	}
	return (now + eviction.ClockMask - at) * 1000, true // the clock wrapped
}

// SetIdle makes (db, key) look idle for sec seconds without moving it in
// the LRU order (RESTORE ... IDLETIME), as Redis's objectSetLRUOrLFU, and
// reports whether the key exists.
func (p *Partition) SetIdle(db int, key []byte, sec int64) bool {
	s, h, ok := p.locate(db, key)
	if !ok {
		return false
	}
	defer s.mu.Unlock()
	abs := int64(p.lruClock.Load()) - sec
	if abs < 0 {
		abs += eviction.ClockMask // as Redis; a longer idle time wraps again
	}
	s.lru.SetAccess(h, uint32(abs)&eviction.ClockMask)
	return true
}
