package backing

import (
	"sync"
	"time"
)

// breaker is a consecutive-failure circuit breaker. Closed: every call
// goes through; failures in a row open it. Open: calls are refused until
// the cool-off ends. Half-open: one probe goes through; its success
// closes the breaker, its failure opens it for another cool-off.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooloff   time.Duration
	fails     int
	openUntil time.Time
	probing   bool
	open      bool
	trips     uint64
}

func (b *breaker) init(threshold int, cooloff time.Duration) {
	b.threshold, b.cooloff = threshold, cooloff
}

func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if now.Before(b.openUntil) || b.probing {
		return false
	}
	b.probing = true
	return true
}

func (b *breaker) record(now time.Time, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !failed {
		b.fails, b.open, b.probing = 0, false, false
		return
	}
	b.fails++
	if b.probing || (!b.open && b.fails >= b.threshold) {
		b.open, b.probing = true, false
		b.openUntil = now.Add(b.cooloff)
		b.trips++
	}
}

// state reports whether calls are refused now, and how often it opened.
func (b *breaker) state(now time.Time) (open bool, trips uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open && (now.Before(b.openUntil) || b.probing), b.trips
}

// breakers holds one breaker per master address: while one master fails
// over, calls for the slots of the others go on. Calls whose slot owner is
// not known yet share the "" breaker.
type breakers struct {
	threshold int
	cooloff   time.Duration
	mu        sync.Mutex
	m         map[string]*breaker
}

func (bs *breakers) init(threshold int, cooloff time.Duration) {
	bs.threshold, bs.cooloff, bs.m = threshold, cooloff, map[string]*breaker{}
}

func (bs *breakers) get(addr string) *breaker {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[addr]
	if b == nil {
		b = &breaker{}
		b.init(bs.threshold, bs.cooloff)
		bs.m[addr] = b
	}
	return b
}

// state reports whether any breaker refuses calls now, and the trips of all.
func (bs *breakers) state(now time.Time) (open bool, trips uint64) {
	bs.mu.Lock()
	all := make([]*breaker, 0, len(bs.m))
	for _, b := range bs.m {
		all = append(all, b)
	}
	bs.mu.Unlock()
	for _, b := range all {
		o, t := b.state(now)
		open = open || o
		trips += t
	}
	return open, trips
}
