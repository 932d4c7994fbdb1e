package eviction

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// order walks the LRU from oldest to newest, checking on the way that the
// reverse links agree.
func order(t *testing.T, l *LRU) []string {
	t.Helper()
	var fwd []string
	prev := Nil
	for h := l.Oldest(); h != Nil; h = l.Newer(h) {
		if l.Older(h) != prev {
			t.Fatalf("Older(%d) = %d, want %d", h, l.Older(h), prev)
		}
		fwd = append(fwd, string(l.Key(h)))
		prev = h
		if len(fwd) > l.Len() {
			t.Fatalf("list longer than Len %d (cycle?)", l.Len())
		}
	}
	if prev != l.Newest() {
		t.Fatalf("walk ended at %d, Newest is %d", prev, l.Newest())
	}
	return fwd
}

// testOverhead is the per-entry overhead the tests give New.
const testOverhead = 10

func TestTable(t *testing.T) {
	type op struct {
		do    string // add, remove, touch, setvalue, setexp, clear
		key   string
		val   string
		exp   int64
		order []string // expected oldest..newest after the op
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"add keeps insertion order", []op{
			{do: "add", key: "a", val: "1", order: []string{"a"}},
			{do: "add", key: "b", val: "2", order: []string{"a", "b"}},
			{do: "add", key: "c", val: "3", order: []string{"a", "b", "c"}},
		}},
		{"touch moves to newest", []op{
			{do: "add", key: "a", order: []string{"a"}},
			{do: "add", key: "b", order: []string{"a", "b"}},
			{do: "add", key: "c", order: []string{"a", "b", "c"}},
			{do: "touch", key: "a", order: []string{"b", "c", "a"}},
			{do: "touch", key: "a", order: []string{"b", "c", "a"}},
			{do: "touch", key: "c", order: []string{"b", "a", "c"}},
		}},
		{"re-add replaces value and moves", []op{
			{do: "add", key: "a", val: "x", order: []string{"a"}},
			{do: "add", key: "b", val: "y", order: []string{"a", "b"}},
			{do: "add", key: "a", val: "xyz", exp: 99, order: []string{"b", "a"}},
		}},
		{"remove head middle tail", []op{
			{do: "add", key: "a", order: []string{"a"}},
			{do: "add", key: "b", val: "bb", order: []string{"a", "b"}},
			{do: "add", key: "c", val: "cccc", order: []string{"a", "b", "c"}},
			{do: "add", key: "d", val: "dddddddd", order: []string{"a", "b", "c", "d"}},
			{do: "remove", key: "b", order: []string{"a", "c", "d"}},
			{do: "remove", key: "a", order: []string{"c", "d"}},
			{do: "remove", key: "d", order: []string{"c"}},
			{do: "remove", key: "c", order: nil},
			{do: "add", key: "e", val: "eee", order: []string{"e"}},
		}},
		{"setvalue keeps position", []op{
			{do: "add", key: "a", val: "1", order: []string{"a"}},
			{do: "add", key: "b", val: "2", order: []string{"a", "b"}},
			{do: "setvalue", key: "a", val: "long", order: []string{"a", "b"}},
			{do: "setvalue", key: "a", val: strings.Repeat("v", 300), order: []string{"a", "b"}},
			{do: "setvalue", key: "a", val: "", order: []string{"a", "b"}},
			{do: "setexp", key: "a", exp: 1234, order: []string{"a", "b"}},
		}},
		{"clear", []op{
			{do: "add", key: "a", order: []string{"a"}},
			{do: "clear", order: nil},
			{do: "add", key: "a", val: "zz", order: []string{"a"}},
		}},
		{"empty key is a key", []op{
			{do: "add", key: "", val: "v", order: []string{""}},
			{do: "remove", key: "", order: nil},
		}},
		{"long keys", []op{
			{do: "add", key: strings.Repeat("k", 200), val: "v", order: []string{strings.Repeat("k", 200)}},
			{do: "add", key: strings.Repeat("k", 20000), val: "w", order: []string{strings.Repeat("k", 200), strings.Repeat("k", 20000)}},
			{do: "setvalue", key: strings.Repeat("k", 200), val: strings.Repeat("x", 1000), order: []string{strings.Repeat("k", 200), strings.Repeat("k", 20000)}},
			{do: "remove", key: strings.Repeat("k", 200), order: []string{strings.Repeat("k", 20000)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(0, testOverhead)
			want := map[string]string{}
			exps := map[string]int64{}
			for i, o := range tt.ops {
				h, _ := l.LookupString(o.key)
				switch o.do {
				case "add":
					l.Add([]byte(o.key), []byte(o.val), o.exp)
					want[o.key] = o.val
					exps[o.key] = o.exp
				case "remove":
					l.Remove(h)
					delete(want, o.key)
				case "touch":
					l.Touch(h)
				case "setvalue":
					l.SetValue(h, []byte(o.val))
					want[o.key] = o.val
				case "setexp":
					l.SetExpireAt(h, o.exp)
					exps[o.key] = o.exp
				case "clear":
					l.Clear()
					clear(want)
				}
				if got := order(t, l); !slices.Equal(got, o.order) {
					t.Fatalf("op %d %s %q: order %q, want %q", i, o.do, o.key, got, o.order)
				}
				var bytes int64
				for k, v := range want {
					bytes += int64(len(k)+len(v)) + testOverhead
				}
				if l.Bytes() != bytes || l.Len() != len(o.order) {
					t.Fatalf("op %d: bytes %d len %d, want %d %d", i, l.Bytes(), l.Len(), bytes, len(o.order))
				}
				for k, v := range want {
					h, ok := l.Lookup([]byte(k))
					if !ok || string(l.Value(h)) != v || l.ExpireAt(h) != exps[k] || string(l.Key(h)) != k {
						t.Fatalf("op %d: key %q = %q,%v exp %d; want %q exp %d", i, k, l.Value(h), ok, l.ExpireAt(h), v, exps[k])
					}
				}
				checkIndex(t, i, l)
			}
		})
	}
}

func TestHolesReusedAndHandlesStable(t *testing.T) {
	l := New(0, testOverhead)
	var hs []Handle
	for i := range 10 {
		hs = append(hs, l.Add(fmt.Append(nil, i), nil, 0))
	}
	l.Remove(hs[3])
	l.Remove(hs[7])
	if l.Slots() != 10 {
		t.Fatalf("Slots = %d after removals, want 10 (no compaction)", l.Slots())
	}
	for i, h := range hs {
		if i == 3 || i == 7 {
			if l.Live(h) {
				t.Fatalf("removed slot %d still live", h)
			}
			continue
		}
		if string(l.Key(h)) != fmt.Sprint(i) {
			t.Fatalf("slot %d moved: holds %q", h, l.Key(h))
		}
	}
	a := l.Add([]byte("x"), nil, 0)
	b := l.Add([]byte("y"), nil, 0)
	if l.Slots() != 10 || (a != 3 && a != 7) || (b != 3 && b != 7) || a == b {
		t.Fatalf("holes not reused: x=%d y=%d slots=%d", a, b, l.Slots())
	}
	l.Add([]byte("z"), nil, 0)
	if l.Slots() != 11 {
		t.Fatalf("Slots = %d, want 11", l.Slots())
	}
}

func TestLiveAnyHandle(t *testing.T) {
	l := New(0, testOverhead)
	l.Add([]byte("a"), nil, 0)
	for _, h := range []Handle{Nil, -2, -1 << 31, 1, 1<<31 - 1} {
		if l.Live(h) {
			t.Fatalf("Live(%d) = true", h)
		}
	}
	if !l.Live(0) {
		t.Fatal("Live(0) = false")
	}
}

func TestDeadHandlePanics(t *testing.T) {
	l := New(0, testOverhead)
	h := l.Add([]byte("a"), nil, 0)
	l.Add([]byte("b"), nil, 0)
	l.Remove(h)
	defer func() {
		if recover() == nil {
			t.Fatal("Value of a removed handle did not panic")
		}
	}()
	l.Value(h)
}

func TestRemoveLastResetsSlab(t *testing.T) {
	l := New(0, testOverhead)
	a := l.Add([]byte("a"), nil, 0)
	b := l.Add([]byte("b"), nil, 0)
	l.Remove(a)
	l.Remove(b)
	if l.Slots() != 0 || l.Oldest() != Nil || l.Newest() != Nil {
		t.Fatalf("empty LRU: slots %d oldest %d newest %d", l.Slots(), l.Oldest(), l.Newest())
	}
	if h := l.Add([]byte("c"), nil, 0); h != 0 {
		t.Fatalf("first add after drain got slot %d", h)
	}
}

// model is a trivially correct LRU: a map plus a slice in LRU order.
type model struct {
	vals  map[string]mentry
	order []string // oldest first
	slot  map[string]Handle
}

type mentry struct {
	val string
	exp int64
}

func (m *model) remove(k string) {
	delete(m.vals, k)
	delete(m.slot, k)
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == k })
}

func (m *model) touch(k string) {
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == k })
	m.order = append(m.order, k)
}

// hashes are the key hashes TestModel runs under: the real one, and weak
// ones that force the index through its collision paths.
var hashes = []struct {
	name string
	fn   func([]byte) uint64
}{
	{"xxhash", nil},
	// Four distinct 32-bit hashes: every lookup compares keys along long
	// runs of equal hashes.
	{"tags", func(b []byte) uint64 { return xxhash.Sum64(b) & 3 }},
	// Distinct hashes that share their low 16 bits, so every key has the
	// same home bucket: one long run that wraps around the table.
	{"homes", func(b []byte) uint64 { return xxhash.Sum64(b)&^0xffff | 0xfff5 }},
	// One hash for every key.
	{"constant", func([]byte) uint64 { return 0x12345678 }},
}

// randKey draws from a small key space (so ops hit existing keys) with a
// few long keys whose length takes a multi-byte uvarint.
func randKey(r *rand.Rand, keys int) string {
	i := r.IntN(keys)
	if i%9 == 8 {
		return fmt.Sprint(strings.Repeat("L", 120+i), i)
	}
	return fmt.Sprint("k", i)
}

// randValue has lengths around the allocator's size classes, so SetValue
// takes both its in-place and its reallocating path.
func randValue(r *rand.Rand) string {
	n := []int{0, 1, 7, 20, 100, 117, 300, 2000}[r.IntN(8)] + r.IntN(3)
	return strings.Repeat(string(rune('a'+r.IntN(26))), n)
}

// TestModel replays seeded random traces against the model and compares
// contents, order, byte counts, handle stability and the index invariants
// after every step, under the real and under colliding hashes.
func TestModel(t *testing.T) {
	for _, hf := range hashes {
		for seed := range uint64(20) {
			t.Run(fmt.Sprint(hf.name, "/", seed), func(t *testing.T) {
				runModel(t, seed, hf.fn, 2000)
			})
		}
	}
}

func runModel(t *testing.T, seed uint64, hash func([]byte) uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 7))
	l := New(r.IntN(8), testOverhead)
	l.hash = hash
	m := &model{vals: map[string]mentry{}, slot: map[string]Handle{}}
	keys := 4 + r.IntN(60)
	if seed%4 == 3 && hash == nil {
		// Several pages of slots. (Weak hashes make lookups linear, so
		// they get small key spaces only.)
		keys = 3000
	}
	maxLive := 0
	for step := range steps {
		k := randKey(r, keys)
		h, ok := l.LookupString(k)
		_, mok := m.vals[k]
		if ok != mok {
			t.Fatalf("step %d: Lookup(%s) = %v, model %v", step, k, ok, mok)
		}
		if ok && m.slot[k] != h {
			t.Fatalf("step %d: %s moved from slot %d to %d", step, k, m.slot[k], h)
		}
		switch op := r.IntN(100); {
		case op < 40: // add or replace
			e := mentry{val: randValue(r), exp: r.Int64N(3)}
			nh := l.Add([]byte(k), []byte(e.val), e.exp)
			if ok && nh != h {
				t.Fatalf("step %d: replace moved %s", step, k)
			}
			m.vals[k] = e
			m.slot[k] = nh
			m.touch(k)
		case op < 55:
			if ok {
				l.Remove(h)
				m.remove(k)
			}
		case op < 70:
			if ok {
				l.Touch(h)
				m.touch(k)
			}
		case op < 80:
			if ok {
				e := m.vals[k]
				e.val = randValue(r)
				l.SetValue(h, []byte(e.val))
				m.vals[k] = e
			}
		case op < 85: // a value aliasing the stored one (GETRANGE-style)
			if ok {
				e := m.vals[k]
				i := r.IntN(len(e.val) + 1)
				j := i + r.IntN(len(e.val)-i+1)
				l.SetValue(h, l.Value(h)[i:j])
				e.val = e.val[i:j]
				m.vals[k] = e
			}
		case op < 95:
			if ok {
				e := m.vals[k]
				e.exp = r.Int64N(1000)
				l.SetExpireAt(h, e.exp)
				m.vals[k] = e
			}
		case op < 97: // evict the oldest few, as shard does
			for range r.IntN(4) {
				o := l.Oldest()
				if o == Nil {
					break
				}
				m.remove(string(l.Key(o)))
				l.Remove(o)
			}
		default:
			if r.IntN(10) == 0 {
				l.Clear()
				m = &model{vals: map[string]mentry{}, slot: map[string]Handle{}}
				maxLive = 0
			}
		}
		maxLive = max(maxLive, len(m.vals))
		if keys > 100 && step%50 != 0 {
			continue // big key spaces: full checks now and then
		}
		check(t, step, l, m, maxLive)
	}
	check(t, steps, l, m, maxLive)
}

func check(t *testing.T, step int, l *LRU, m *model, maxLive int) {
	t.Helper()
	if got := order(t, l); !slices.Equal(got, m.order) {
		t.Fatalf("step %d: order\n got %q\nwant %q", step, got, m.order)
	}
	var bytes int64
	for k, e := range m.vals {
		size := int64(len(k)+len(e.val)) + testOverhead
		bytes += size
		h, ok := l.LookupString(k)
		if !ok || string(l.Key(h)) != k || string(l.Value(h)) != e.val || l.ExpireAt(h) != e.exp || l.Size(h) != size {
			t.Fatalf("step %d: %s = (%q %d %d %v), want %+v", step, k, l.Value(h), l.ExpireAt(h), l.Size(h), ok, e)
		}
	}
	if l.Len() != len(m.vals) || l.Bytes() != bytes {
		t.Fatalf("step %d: len %d bytes %d, want %d %d", step, l.Len(), l.Bytes(), len(m.vals), bytes)
	}
	live := 0
	for i := range l.Slots() {
		if l.Live(Handle(i)) {
			live++
		}
	}
	if live != l.Len() {
		t.Fatalf("step %d: %d live slots, Len %d", step, live, l.Len())
	}
	// Holes are reused before the slots grow.
	if l.Slots() > maxLive {
		t.Fatalf("step %d: %d slots for at most %d live entries", step, l.Slots(), maxLive)
	}
	checkIndex(t, step, l)
}

// checkIndex verifies the index: one bucket per entry naming a live slot
// whose key has the bucket's hash, every bucket reachable from its home
// without crossing an empty bucket (what backward-shift deletion must
// preserve), and the load factor at most 3/4.
func checkIndex(t *testing.T, step int, l *LRU) {
	t.Helper()
	if len(l.table)&(len(l.table)-1) != 0 {
		t.Fatalf("step %d: table size %d not a power of two", step, len(l.table))
	}
	if l.n*4 > len(l.table)*3 {
		t.Fatalf("step %d: %d entries in %d buckets", step, l.n, len(l.table))
	}
	mask := len(l.table) - 1
	seen := map[Handle]bool{}
	for j, b := range l.table {
		if b == 0 {
			continue
		}
		h := Handle(int32(uint32(b)) - 1)
		if !l.Live(h) || seen[h] {
			t.Fatalf("step %d: bucket %d names handle %d (live %v, seen %v)", step, j, h, l.Live(h), seen[h])
		}
		seen[h] = true
		hash := uint32(b >> 32)
		if hash != l.hashOf(l.Key(h)) {
			t.Fatalf("step %d: bucket %d hash %x, key hashes to %x", step, j, hash, l.hashOf(l.Key(h)))
		}
		for i := int(hash) & mask; i != j; i = (i + 1) & mask {
			if l.table[i] == 0 {
				t.Fatalf("step %d: bucket %d unreachable from home %d (empty %d)", step, j, int(hash)&mask, i)
			}
		}
	}
	if len(seen) != l.n {
		t.Fatalf("step %d: %d buckets for %d entries", step, len(seen), l.n)
	}
}

// TestPages fills several pages, punches holes, refills, and checks that
// handles stay put and holes are reused before new slots.
func TestPages(t *testing.T) {
	l := New(0, 0)
	const n = 3*pageSlots + 17
	hs := make([]Handle, n)
	for i := range n {
		hs[i] = l.Add(fmt.Append(nil, "key", i), fmt.Append(nil, "value", i), int64(i))
		if hs[i] != Handle(i) {
			t.Fatalf("entry %d got slot %d", i, hs[i])
		}
	}
	for i := 0; i < n; i += 3 {
		l.Remove(hs[i])
	}
	for i := range n {
		if i%3 == 0 {
			continue
		}
		h, ok := l.Lookup(fmt.Append(nil, "key", i))
		if !ok || h != hs[i] || string(l.Value(h)) != fmt.Sprint("value", i) || l.ExpireAt(h) != int64(i) {
			t.Fatalf("key%d: slot %d %v, want %d", i, h, ok, hs[i])
		}
	}
	for i := 0; i < n; i += 3 {
		l.Add(fmt.Append(nil, "new", i), nil, 0)
	}
	if l.Slots() != n || l.Len() != n {
		t.Fatalf("slots %d len %d, want %d", l.Slots(), l.Len(), n)
	}
	checkIndex(t, 0, l)
}

// TestNoAllocs: lookups, touches and same-size value replacement allocate
// nothing.
func TestNoAllocs(t *testing.T) {
	l := New(0, 0)
	key := []byte("some-key-16bytes")
	val := make([]byte, 100)
	for i := range 1000 {
		l.Add(fmt.Append(nil, i), val, 0)
	}
	h := l.Add(key, val, 0)
	if a := testing.AllocsPerRun(1000, func() {
		h2, ok := l.Lookup(key)
		if !ok || h2 != h {
			t.Fatal("lost key")
		}
		l.Touch(h2)
		l.SetValue(h2, val)
		l.SetValue(h2, val[:90])
		_, _ = l.LookupString("absent")
	}); a != 0 {
		t.Fatalf("%v allocs per lookup+touch+SetValue", a)
	}
}

func BenchmarkLookupTouch(b *testing.B) {
	l := New(1024, 0)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
		l.Add(keys[i], make([]byte, 100), 0)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h, _ := l.Lookup(keys[i&1023])
		l.Touch(h)
		i++
	}
}
