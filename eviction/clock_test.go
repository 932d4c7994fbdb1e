package eviction

import (
	"sync/atomic"
	"testing"
)

// TestSpareCode: the capacity code never claims more spare room than
// given, is exact below 16 and keeps within 1/8 of it above.
func TestSpareCode(t *testing.T) {
	for n := 0; n < 1<<21; n += 1 + n/64 {
		got := spare(spareCode(n))
		if got > n || n < 16 && got != n || n >= 16 && n < 491520 && got < n-n/8 {
			t.Fatalf("spare(spareCode(%d)) = %d", n, got)
		}
	}
	if got := spare(spareCode(1 << 40)); got != 15<<15 {
		t.Errorf("a huge spare room codes as %d", got)
	}
}

// TestAccessClock: Add and Touch stamp the clock's value, other calls
// (Value, Entry, SetValue, SetExpireAt, SetKind) do not, SetAccess sets
// it without moving the entry, and the stamp never disturbs the value's
// bytes or capacity.
func TestAccessClock(t *testing.T) {
	var clk atomic.Uint32
	l := New(0, 10)
	l.UseClock(&clk)
	clk.Store(100)
	a := l.Add([]byte("a"), []byte("1"), 0)
	clk.Store(200)
	b := l.Add([]byte("b"), []byte("2"), 0)
	if l.Access(a) != 100 || l.Access(b) != 200 {
		t.Fatalf("stamps %d %d", l.Access(a), l.Access(b))
	}
	clk.Store(ClockMask)
	l.Value(a)
	l.Entry(a)
	l.SetValue(a, []byte("12345678901234567890"))
	l.SetExpireAt(a, 5)
	l.SetKind(a, 3)
	if l.Access(a) != 100 {
		t.Fatalf("a read or an edit stamped: %d", l.Access(a))
	}
	l.Touch(a)
	if l.Access(a) != ClockMask || string(l.Value(a)) != "12345678901234567890" || l.Kind(a) != 3 {
		t.Fatalf("after Touch: %d %q %d", l.Access(a), l.Value(a), l.Kind(a))
	}
	l.Touch(a) // the newest already: still stamped
	l.SetAccess(b, 7)
	if l.Access(b) != 7 || l.Newest() != a {
		t.Fatalf("SetAccess: %d, newest %d", l.Access(b), l.Newest())
	}
	// Clear keeps the clock.
	l.Clear()
	clk.Store(42)
	if c := l.Add([]byte("c"), nil, 0); l.Access(c) != 42 {
		t.Fatalf("after Clear: stamp %d", l.Access(c))
	}
	b = l.Add([]byte("b"), []byte("2"), 0)
	// In-place rewrites keep the stamp and the buffer.
	clk.Store(9)
	l.Touch(b)
	for i := range 50 {
		v := make([]byte, i%20)
		l.SetValue(b, v)
		if len(l.Value(b)) != len(v) || l.Access(b) != 9 {
			t.Fatalf("rewrite %d: %d bytes, stamp %d", i, len(l.Value(b)), l.Access(b))
		}
	}
}

// TestCoarseTouch: with SetCoarse, Touch of an entry already stamped in the
// current tick leaves it in place (re-stamping nothing); an entry stamped
// in an earlier tick moves to the newest end and takes the new stamp, as
// Add of an existing key does. Without a clock, or with coarse order off,
// every Touch moves.
func TestCoarseTouch(t *testing.T) {
	order := func(l *LRU) string {
		var s string
		for h := l.Oldest(); h != Nil; h = l.Newer(h) {
			s += string(l.Key(h))
		}
		return s
	}
	var clk atomic.Uint32
	clk.Store(5)
	l := New(0, 10)
	l.UseClock(&clk)
	l.SetCoarse(true)
	a := l.Add([]byte("a"), nil, 0)
	l.Add([]byte("b"), nil, 0)
	c := l.Add([]byte("c"), nil, 0)
	l.Touch(a)
	l.Add([]byte("b"), []byte("2"), 0) // replaced in place, not moved
	if got := order(l); got != "abc" {
		t.Fatalf("touches in the stamping tick moved entries: %s", got)
	}
	clk.Store(6)
	l.Touch(a)
	if got := order(l); got != "bca" || l.Access(a) != 6 {
		t.Fatalf("a touch in a later tick: order %s, stamp %d", got, l.Access(a))
	}
	l.Add([]byte("b"), []byte("3"), 0)
	l.Touch(c)
	l.Touch(a) // stamped in this tick already: stays behind c
	if got := order(l); got != "abc" {
		t.Fatalf("after b and c moved in tick 6 and a stayed: %s, want abc", got)
	}
	for _, tc := range []struct {
		name   string
		clock  bool
		coarse bool
	}{{"no clock", false, true}, {"exact", true, false}} {
		l := New(0, 10)
		if tc.clock {
			l.UseClock(&clk)
		}
		l.SetCoarse(tc.coarse)
		a := l.Add([]byte("a"), nil, 0)
		l.Add([]byte("b"), nil, 0)
		l.Touch(a)
		if got := order(l); got != "ba" {
			t.Errorf("%s: Touch did not move a: %s", tc.name, got)
		}
	}
}

// TestSetHash: with SetHash, an entry added with its hash precomputed
// (AddKindHash) is found by LookupHash and by Lookup (which hashes with the
// installed function), replaced in place by AddKind, and removed by
// Remove; the precomputed paths do not call the function.
func TestSetHash(t *testing.T) {
	calls := 0
	fn := func(k []byte) uint64 {
		calls++
		var h uint64 = 14695981039346656037
		for _, c := range k {
			h = (h ^ uint64(c)) * 1099511628211
		}
		return h
	}
	l := New(0, 10)
	l.SetHash(fn)
	keys := []string{"a", "b", "c", "dd", "eee"}
	hashes := make([]uint32, len(keys))
	for i, k := range keys {
		hashes[i] = uint32(fn([]byte(k)))
	}
	calls = 0
	for i, k := range keys {
		l.AddKindHash([]byte(k), []byte{byte(i)}, 2, 0, hashes[i])
	}
	for i, k := range keys {
		if h, ok := l.LookupHash([]byte(k), hashes[i]); !ok || l.Value(h)[0] != byte(i) || l.Kind(h) != 2 {
			t.Fatalf("LookupHash %s: %v", k, ok)
		}
	}
	if calls != 0 {
		t.Fatalf("the precomputed paths hashed %d times", calls)
	}
	for i, k := range keys {
		h, ok := l.Lookup([]byte(k))
		if !ok || l.Value(h)[0] != byte(i) {
			t.Fatalf("Lookup %s: %v", k, ok)
		}
		if h2 := l.AddKind([]byte(k), []byte("new"), 3, 0); h2 != h || l.Len() != len(keys) {
			t.Fatalf("AddKind of %s: handle %d, was %d; %d entries", k, h2, h, l.Len())
		}
	}
	if calls == 0 {
		t.Fatal("Lookup did not use the installed hash")
	}
	h, _ := l.Lookup([]byte("c"))
	l.Remove(h)
	if _, ok := l.LookupHash([]byte("c"), hashes[2]); ok || l.Len() != len(keys)-1 {
		t.Fatalf("after Remove: found %v, %d entries", ok, l.Len())
	}
}
