package shard

import (
	"fmt"
	"runtime"
	"testing"
)

// heapAfterGC is the live heap after a full collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryOverhead measures real heap growth per entry against the
// accounted bytes; it is the measurement behind EntryOverhead. Run with -v
// to see the figures.
func TestMemoryOverhead(t *testing.T) {
	for _, tc := range []struct {
		n, key, value int
	}{
		{200_000, 16, 100},
		{100_000, 8, 16},
		{50_000, 32, 1000},
	} {
		t.Run(fmt.Sprintf("%dx%d+%d", tc.n, tc.key, tc.value), func(t *testing.T) {
			if testing.Short() && tc.n > 100_000 {
				tc.n = 50_000
			}
			key := make([]byte, tc.key)
			val := make([]byte, tc.value)
			before := heapAfterGC()
			p := New(Config{Quota: 1 << 40})
			for i := range tc.n {
				copy(key, fmt.Sprintf("%0*d", tc.key, i))
				if err := p.Set(0, key, val, 0); err != nil {
					t.Fatal(err)
				}
			}
			after := heapAfterGC()
			runtime.KeepAlive(p)
			real := float64(after-before) / float64(tc.n)
			acct := float64(p.UsedBytes()) / float64(tc.n)
			payload := float64(tc.key + tc.value)
			t.Logf("%d shards: real %.1f B/entry (overhead %.1f beyond key+value), accounted %.1f (EntryOverhead %d), accounted/real %.2f",
				p.Shards(), real, real-payload, acct, EntryOverhead, acct/real)
			if r := acct / real; r < 0.8 || r > 1.25 {
				t.Fatalf("accounted/real = %.2f, outside 0.8..1.25", r)
			}
		})
	}
}

// TestHotPathNoAllocs: a GET hit, a GET miss and a SET of an existing key
// (same length, or a length within the stored buffer's capacity) allocate
// nothing.
func TestHotPathNoAllocs(t *testing.T) {
	p := New(Config{Quota: 64 << 20})
	key := []byte("key:000000000042")
	missing := []byte("key:missing")
	val := make([]byte, 100)
	for i := range 10_000 {
		if err := p.Set(0, fmt.Appendf(nil, "key:%012d", i), val, 0); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]byte, 0, 128)
	if a := testing.AllocsPerRun(1000, func() {
		var ok bool
		if dst, ok = p.GetAppend(dst[:0], 0, key); !ok {
			t.Fatal("miss")
		}
		if _, ok = p.GetAppend(dst[:0], 0, missing); ok {
			t.Fatal("hit")
		}
		if err := p.Set(0, key, val, 0); err != nil {
			t.Fatal(err)
		}
		if err := p.Set(0, key, val[:95], 0); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per GET hit + GET miss + 2 SET of an existing key", a)
	}
	audit(t, p)
}
