package eviction

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
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
		fwd = append(fwd, l.Key(h))
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

func TestTable(t *testing.T) {
	type op struct {
		do    string // add, remove, touch, setvalue, setexp, clear
		key   string
		val   string
		size  int64
		exp   int64
		order []string // expected oldest..newest after the op
		bytes int64
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"add keeps insertion order", []op{
			{do: "add", key: "a", val: "1", size: 10, order: []string{"a"}, bytes: 10},
			{do: "add", key: "b", val: "2", size: 20, order: []string{"a", "b"}, bytes: 30},
			{do: "add", key: "c", val: "3", size: 30, order: []string{"a", "b", "c"}, bytes: 60},
		}},
		{"touch moves to newest", []op{
			{do: "add", key: "a", size: 1, order: []string{"a"}, bytes: 1},
			{do: "add", key: "b", size: 1, order: []string{"a", "b"}, bytes: 2},
			{do: "add", key: "c", size: 1, order: []string{"a", "b", "c"}, bytes: 3},
			{do: "touch", key: "a", order: []string{"b", "c", "a"}, bytes: 3},
			{do: "touch", key: "a", order: []string{"b", "c", "a"}, bytes: 3},
			{do: "touch", key: "c", order: []string{"b", "a", "c"}, bytes: 3},
		}},
		{"re-add replaces value and size and moves", []op{
			{do: "add", key: "a", val: "x", size: 5, order: []string{"a"}, bytes: 5},
			{do: "add", key: "b", val: "y", size: 5, order: []string{"a", "b"}, bytes: 10},
			{do: "add", key: "a", val: "xyz", size: 7, exp: 99, order: []string{"b", "a"}, bytes: 12},
		}},
		{"remove head middle tail", []op{
			{do: "add", key: "a", size: 1, order: []string{"a"}, bytes: 1},
			{do: "add", key: "b", size: 2, order: []string{"a", "b"}, bytes: 3},
			{do: "add", key: "c", size: 4, order: []string{"a", "b", "c"}, bytes: 7},
			{do: "add", key: "d", size: 8, order: []string{"a", "b", "c", "d"}, bytes: 15},
			{do: "remove", key: "b", order: []string{"a", "c", "d"}, bytes: 13},
			{do: "remove", key: "a", order: []string{"c", "d"}, bytes: 12},
			{do: "remove", key: "d", order: []string{"c"}, bytes: 4},
			{do: "remove", key: "c", order: nil, bytes: 0},
			{do: "add", key: "e", size: 3, order: []string{"e"}, bytes: 3},
		}},
		{"setvalue keeps position", []op{
			{do: "add", key: "a", val: "1", size: 1, order: []string{"a"}, bytes: 1},
			{do: "add", key: "b", val: "2", size: 1, order: []string{"a", "b"}, bytes: 2},
			{do: "setvalue", key: "a", val: "long", size: 9, order: []string{"a", "b"}, bytes: 10},
			{do: "setexp", key: "a", exp: 1234, order: []string{"a", "b"}, bytes: 10},
		}},
		{"clear", []op{
			{do: "add", key: "a", size: 1, order: []string{"a"}, bytes: 1},
			{do: "clear", order: nil, bytes: 0},
			{do: "add", key: "a", size: 2, order: []string{"a"}, bytes: 2},
		}},
		{"empty key is a key", []op{
			{do: "add", key: "", val: "v", size: 3, order: []string{""}, bytes: 3},
			{do: "remove", key: "", order: nil, bytes: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(0)
			want := map[string]string{}
			exps := map[string]int64{}
			for i, o := range tt.ops {
				h, ok := l.LookupString(o.key)
				switch o.do {
				case "add":
					l.Add(o.key, []byte(o.val), o.exp, o.size)
					want[o.key] = o.val
					exps[o.key] = o.exp
				case "remove":
					l.Remove(h)
					delete(want, o.key)
				case "touch":
					l.Touch(h)
				case "setvalue":
					l.SetValue(h, []byte(o.val), o.size)
					want[o.key] = o.val
				case "setexp":
					l.SetExpireAt(h, o.exp)
					exps[o.key] = o.exp
				case "clear":
					l.Clear()
					clear(want)
				}
				_ = ok
				if got := order(t, l); !slices.Equal(got, o.order) {
					t.Fatalf("op %d %s %q: order %q, want %q", i, o.do, o.key, got, o.order)
				}
				if l.Bytes() != o.bytes || l.Len() != len(o.order) {
					t.Fatalf("op %d: bytes %d len %d, want %d %d", i, l.Bytes(), l.Len(), o.bytes, len(o.order))
				}
				for k, v := range want {
					h, ok := l.Lookup([]byte(k))
					if !ok || string(l.Value(h)) != v || l.ExpireAt(h) != exps[k] {
						t.Fatalf("op %d: key %q = %q,%v exp %d; want %q exp %d", i, k, l.Value(h), ok, l.ExpireAt(h), v, exps[k])
					}
				}
			}
		})
	}
}

func TestHolesReusedAndHandlesStable(t *testing.T) {
	l := New(0)
	var hs []Handle
	for i := range 10 {
		hs = append(hs, l.Add(fmt.Sprint(i), nil, 0, 1))
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
		if l.Key(h) != fmt.Sprint(i) {
			t.Fatalf("slot %d moved: holds %q", h, l.Key(h))
		}
	}
	a := l.Add("x", nil, 0, 1)
	b := l.Add("y", nil, 0, 1)
	if l.Slots() != 10 || (a != 3 && a != 7) || (b != 3 && b != 7) || a == b {
		t.Fatalf("holes not reused: x=%d y=%d slots=%d", a, b, l.Slots())
	}
	l.Add("z", nil, 0, 1)
	if l.Slots() != 11 {
		t.Fatalf("Slots = %d, want 11", l.Slots())
	}
}

func TestLiveAnyHandle(t *testing.T) {
	l := New(0)
	l.Add("a", nil, 0, 1)
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
	l := New(0)
	h := l.Add("a", nil, 0, 1)
	l.Add("b", nil, 0, 1)
	l.Remove(h)
	defer func() {
		if recover() == nil {
			t.Fatal("Value of a removed handle did not panic")
		}
	}()
	l.Value(h)
}

func TestRemoveLastResetsSlab(t *testing.T) {
	l := New(0)
	a := l.Add("a", nil, 0, 1)
	b := l.Add("b", nil, 0, 1)
	l.Remove(a)
	l.Remove(b)
	if l.Slots() != 0 || l.Oldest() != Nil || l.Newest() != Nil {
		t.Fatalf("empty LRU: slots %d oldest %d newest %d", l.Slots(), l.Oldest(), l.Newest())
	}
	if h := l.Add("c", nil, 0, 1); h != 0 {
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
	val       string
	exp, size int64
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

// TestModel replays seeded random traces against the model and compares
// contents, order, byte counts and handle stability after every step.
func TestModel(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			l := New(r.IntN(8))
			m := &model{vals: map[string]mentry{}, slot: map[string]Handle{}}
			keys := 4 + r.IntN(60) // small key space so ops hit existing keys
			maxLive := 0
			for step := range 2000 {
				k := fmt.Sprint("k", r.IntN(keys))
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
					e := mentry{val: fmt.Sprint(r.Int()), exp: r.Int64N(3), size: r.Int64N(100)}
					nh := l.Add(k, []byte(e.val), e.exp, e.size)
					if ok && nh != h {
						t.Fatalf("step %d: replace moved %s", step, k)
					}
					m.vals[k] = e
					m.slot[k] = nh
					m.touch(k)
				case op < 60:
					if ok {
						l.Remove(h)
						m.remove(k)
					}
				case op < 75:
					if ok {
						l.Touch(h)
						m.touch(k)
					}
				case op < 85:
					if ok {
						e := m.vals[k]
						e.val, e.size = fmt.Sprint(r.Int()), r.Int64N(100)
						l.SetValue(h, []byte(e.val), e.size)
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
						m.remove(l.Key(o))
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
				check(t, step, l, m, maxLive)
			}
		})
	}
}

func check(t *testing.T, step int, l *LRU, m *model, maxLive int) {
	t.Helper()
	if got := order(t, l); !slices.Equal(got, m.order) {
		t.Fatalf("step %d: order\n got %q\nwant %q", step, got, m.order)
	}
	var bytes int64
	for k, e := range m.vals {
		bytes += e.size
		h, ok := l.LookupString(k)
		if !ok || string(l.Value(h)) != e.val || l.ExpireAt(h) != e.exp || l.Size(h) != e.size {
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
	// Holes are reused before the slab grows.
	if l.Slots() > maxLive {
		t.Fatalf("step %d: %d slots for at most %d live entries", step, l.Slots(), maxLive)
	}
}

func BenchmarkLookupTouch(b *testing.B) {
	l := New(1024)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
		l.Add(string(keys[i]), make([]byte, 100), 0, 100)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h, _ := l.Lookup(keys[i&1023])
		l.Touch(h)
		i++
	}
}
