package shard

import (
	"testing"

	"github.com/tcached/tcached/eviction"
)

// TestIdle: a key's idle time counts from its last access on the ticked
// clock (ExpireCycle ticks it): reads that touch and writes reset it,
// View without ViewTouch does not; SetIdle sets it, wrapping as Redis's
// 24-bit clock does.
func TestIdle(t *testing.T) {
	p, clk := newTest(t, Config{Quota: 1 << 20})
	tick := func(ms int64) { clk.advance(ms); p.ExpireCycle(1) }
	idle := func(k string) int64 {
		t.Helper()
		ms, ok := p.Idle(0, []byte(k))
		if !ok {
			t.Fatalf("Idle(%q): missing", k)
		}
		return ms
	}
	p.Set(0, []byte("a"), []byte("1"), 0)
	p.Set(0, []byte("b"), []byte("1"), 0)
	if idle("a") != 0 {
		t.Fatalf("new key idle %d", idle("a"))
	}
	tick(5000)
	if idle("a") != 5000 || idle("b") != 5000 {
		t.Fatalf("after 5 s: %d %d", idle("a"), idle("b"))
	}
	p.View(0, []byte("a"), ViewStats, nil)
	p.Usage(0, []byte("a"))
	if idle("a") != 5000 {
		t.Fatalf("a View without ViewTouch reset it: %d", idle("a"))
	}
	p.GetAppend(nil, 0, []byte("a"))
	p.Mutate(0, []byte("b"), func(cur Entry, _ bool) (Entry, Action, error) { return cur, Keep, nil })
	if idle("a") != 0 || idle("b") != 0 {
		t.Fatalf("after GET and a write: %d %d", idle("a"), idle("b"))
	}
	tick(999) // still within the same second or the next: a second's resolution
	if ms := idle("a"); ms != 0 && ms != 1000 {
		t.Fatalf("after 999 ms: %d", ms)
	}
	if !p.SetIdle(0, []byte("a"), 1000) || idle("a") != 1000*1000 {
		t.Fatalf("SetIdle 1000: %d", idle("a"))
	}
	if p.SetIdle(0, []byte("missing"), 1) {
		t.Fatal("SetIdle of a missing key")
	}
	if _, ok := p.Idle(0, []byte("missing")); ok {
		t.Fatal("Idle of a missing key")
	}
	// An idle time longer than the clock has run wraps, as in Redis.
	now := int64(p.lruClock.Load())
	p.SetIdle(0, []byte("a"), now+10)
	if want := (now + eviction.ClockMask - (now - (now + 10) + eviction.ClockMask)) * 1000; idle("a") != want {
		t.Fatalf("wrapped: %d, want %d", idle("a"), want)
	}
}
