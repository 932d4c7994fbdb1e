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
