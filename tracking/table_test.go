package tracking

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"
)

// model recomputes what a table should account from its contents.
func (t *Table[C]) model() (bytes, items int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, h := range t.keys {
		bytes += int64(KeyOverhead+len(k)) + int64(len(h.more))*ItemBytes
		items += int64(1 + len(h.more))
	}
	for p, pc := range t.prefixes {
		bytes += int64(PrefixOverhead+len(p)) * int64(len(pc.set))
	}
	return bytes, items
}

func TestRememberTake(t *testing.T) {
	var tb Table[int]
	if g := tb.Remember([]byte("k"), 1); g != KeyOverhead+1 {
		t.Errorf("first Remember grew %d", g)
	}
	if g := tb.Remember([]byte("k"), 1); g != 0 {
		t.Errorf("same client again grew %d", g)
	}
	if g := tb.Remember([]byte("k"), 2); g != ItemBytes {
		t.Errorf("second client grew %d", g)
	}
	tb.Remember([]byte("k"), 3)
	tb.Remember([]byte("j"), 1)
	if st := tb.Stats(); st.Keys != 2 || st.Items != 4 {
		t.Errorf("stats %+v", st)
	}
	got, freed := tb.Take(nil, []byte("k"))
	sort.Ints(got)
	if !slices.Equal(got, []int{1, 2, 3}) || freed != KeyOverhead+1+2*ItemBytes {
		t.Errorf("Take k = %v, %d", got, freed)
	}
	if got, freed := tb.Take(nil, []byte("k")); len(got) != 0 || freed != 0 {
		t.Errorf("second Take k = %v, %d: an invalidated key is forgotten", got, freed)
	}
	if b, items := tb.model(); b != tb.Stats().Bytes || items != tb.Stats().Items {
		t.Errorf("accounted %+v, model %d bytes %d items", tb.Stats(), b, items)
	}
}

// TestRandomOps replays random operations and checks the accounting
// against a recomputation after each.
func TestRandomOps(t *testing.T) {
	var tb Table[int]
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		key := []byte(fmt.Sprint("k", r.IntN(200)))
		switch r.IntN(7) {
		case 0, 1, 2:
			tb.Remember(key, r.IntN(5))
		case 3:
			tb.Take(nil, key)
		case 4:
			tb.Evict(nil)
		case 5:
			p := key[:1+r.IntN(len(key)-1)]
			if r.IntN(2) == 0 {
				tb.AddPrefix(p, r.IntN(3))
			} else {
				tb.RemovePrefix(p, r.IntN(3))
			}
		case 6:
			if r.IntN(50) == 0 {
				tb.Clear()
			}
		}
		b, items := tb.model()
		if st := tb.Stats(); st.Bytes != b || st.Items != items {
			t.Fatalf("op %d: accounted %+v, model %d bytes %d items", i, st, b, items)
		}
	}
}

func TestEvictAndClear(t *testing.T) {
	var tb Table[int]
	for i := 0; i < 100; i++ {
		tb.Remember([]byte(fmt.Sprint("k", i)), i%3)
	}
	seen := map[string]bool{}
	for {
		k, cl, _, ok := tb.Evict(nil)
		if !ok {
			break
		}
		if seen[k] || len(cl) != 1 {
			t.Fatalf("Evict returned %q %v again or with the wrong clients", k, cl)
		}
		seen[k] = true
	}
	if len(seen) != 100 || tb.Stats().Bytes != 0 {
		t.Errorf("evicted %d keys, %d bytes left", len(seen), tb.Stats().Bytes)
	}
	tb.Remember([]byte("a"), 1)
	tb.AddPrefix([]byte("p"), 1)
	if freed := tb.Clear(); freed != KeyOverhead+1 {
		t.Errorf("Clear freed %d", freed)
	}
	if st := tb.Stats(); st.Keys != 0 || st.Prefixes != 1 || st.Bytes != PrefixOverhead+1 {
		t.Errorf("after Clear: %+v (prefixes stay)", st)
	}
}

func TestBroadcast(t *testing.T) {
	var tb Table[string]
	tb.AddPrefix([]byte("a:"), "x")
	tb.AddPrefix([]byte("b:"), "x")
	tb.AddPrefix([]byte(""), "y")
	if g := tb.AddPrefix([]byte("a:"), "x"); g != 0 {
		t.Errorf("a prefix registered twice grew %d", g)
	}
	ms := tb.Broadcast([][]byte{[]byte("a:1"), []byte("c:1"), []byte("a:2")})
	got := map[string]string{}
	for _, m := range ms {
		got[string(m.Prefix)] = fmt.Sprint(m.Clients, m.Keys)
	}
	want := map[string]string{"a:": "[x] [[97 58 49] [97 58 50]]", "": "[y] [[97 58 49] [99 58 49] [97 58 50]]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Broadcast = %v, want %v", got, want)
	}
	tb.RemovePrefix([]byte(""), "y")
	tb.RemovePrefix([]byte("a:"), "x")
	tb.RemovePrefix([]byte("b:"), "x")
	if st := tb.Stats(); st.Prefixes != 0 || st.Bytes != 0 || tb.HasPrefixes() {
		t.Errorf("after removing every prefix: %+v", st)
	}
}

// TestMemoryAccounting: what the table accounts covers what it holds on
// the heap (the constants round up), so a budget it is charged to bounds
// it.
func TestMemoryAccounting(t *testing.T) {
	const n = 100000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i)) // 16 bytes
	}
	type session struct{ _ [64]byte }
	a, b := &session{}, &session{}
	for _, clients := range []int{1, 2} {
		var tb Table[*session]
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, k := range keys {
			tb.Remember(k, a)
			if clients == 2 {
				tb.Remember(k, b)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap, acc := int64(after.HeapAlloc)-int64(before.HeapAlloc), tb.Stats().Bytes
		runtime.KeepAlive(&tb)
		t.Logf("%d client(s) per key: %.1f bytes/key on the heap, %.1f accounted", clients, float64(heap)/n, float64(acc)/n)
		if heap > acc || heap < acc*6/10 {
			t.Errorf("%d client(s) per key: heap %d, accounted %d", clients, heap, acc)
		}
	}
}
