package value

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

func TestStreamIDOps(t *testing.T) {
	max := MaxStreamID
	for _, c := range []struct {
		in       StreamID
		inc, dec StreamID
		incOK    bool
		decOK    bool
	}{
		{StreamID{0, 0}, StreamID{0, 1}, max, true, false},
		{StreamID{1, 5}, StreamID{1, 6}, StreamID{1, 4}, true, true},
		{StreamID{2, 0}, StreamID{2, 1}, StreamID{1, ^uint64(0)}, true, true},
		{StreamID{3, ^uint64(0)}, StreamID{4, 0}, StreamID{3, ^uint64(0) - 1}, true, true},
		{max, StreamID{}, StreamID{max.Ms, max.Seq - 1}, false, true},
	} {
		if got, ok := c.in.Incr(); got != c.inc || ok != c.incOK {
			t.Errorf("%v.Incr() = %v %v", c.in, got, ok)
		}
		if got, ok := c.in.Decr(); got != c.dec || ok != c.decOK {
			t.Errorf("%v.Decr() = %v %v", c.in, got, ok)
		}
	}
	if s := (StreamID{12, 34}).String(); s != "12-34" {
		t.Errorf("String = %q", s)
	}
	if (StreamID{1, 2}).Cmp(StreamID{1, 3}) != -1 || (StreamID{2, 0}).Cmp(StreamID{1, 9}) != 1 || (StreamID{1, 1}).Cmp(StreamID{1, 1}) != 0 {
		t.Error("Cmp")
	}
}

func TestStreamNextID(t *testing.T) {
	s := NewStream()
	pairs := [][]byte{[]byte("f"), []byte("v")}
	add := func(now uint64, given *StreamID, seqGiven bool) (StreamID, error) {
		id, err := s.NextID(now, given, seqGiven)
		if err == nil {
			s.Add(id, pairs, 4096, 100)
		}
		return id, err
	}
	for i, c := range []struct {
		now      uint64
		given    *StreamID
		seqGiven bool
		want     StreamID
		err      error
	}{
		{100, nil, false, StreamID{100, 0}, nil},
		{100, nil, false, StreamID{100, 1}, nil},
		{50, nil, false, StreamID{100, 2}, nil}, // the clock went back
		{0, &StreamID{100, 2}, true, StreamID{}, ErrStreamIDTooSmall},
		{0, &StreamID{100, 0}, false, StreamID{100, 3}, nil}, // 100-*
		{0, &StreamID{200, 0}, false, StreamID{200, 0}, nil}, // 200-*
		{0, &StreamID{150, 0}, false, StreamID{}, ErrStreamIDTooSmall},
		{0, &StreamID{300, 7}, true, StreamID{300, 7}, nil},
		{0, &StreamID{300, ^uint64(0)}, true, StreamID{300, ^uint64(0)}, nil},
		{0, &StreamID{300, 0}, false, StreamID{}, ErrStreamIDTooSmall}, // seq would overflow
	} {
		got, err := add(c.now, c.given, c.seqGiven)
		if err != c.err || err == nil && got != c.want {
			t.Errorf("%d: got %v %v, want %v %v", i, got, err, c.want, c.err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// streamModel is a trivially correct stream: ids and live flags.
type streamModel struct {
	ids  []StreamID
	vals []string
}

func (m *streamModel) live() []StreamID { return slices.Clone(m.ids) }

// TestStreamModel replays random adds, deletes, exact trims and range
// reads against the model, with small nodes so that every operation
// crosses node boundaries.
func TestStreamModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		s := NewStream()
		var m streamModel
		maxE := int64(1 + r.IntN(8))
		next := StreamID{1, 0}
		for step := 0; step < 2000; step++ {
			switch op := r.IntN(10); {
			case op < 5:
				v := fmt.Sprint("v", step)
				id := next
				next = StreamID{next.Ms + uint64(r.IntN(2)), next.Seq + 1}
				s.Add(id, [][]byte{[]byte("f"), []byte(v)}, 4096, maxE)
				m.ids = append(m.ids, id)
				m.vals = append(m.vals, v)
			case op < 7 && len(m.ids) > 0:
				i := r.IntN(len(m.ids))
				id := m.ids[i]
				if s.Del([]StreamID{id, id}) != 1 {
					t.Fatalf("seed %d: XDEL %v", seed, id)
				}
				m.ids = slices.Delete(m.ids, i, i+1)
				m.vals = slices.Delete(m.vals, i, i+1)
			case op < 8:
				maxLen := int64(r.IntN(len(m.ids) + 2))
				want := max(int64(len(m.ids))-maxLen, 0)
				if got := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: maxLen}); got != want {
					t.Fatalf("seed %d: MAXLEN %d removed %d, want %d", seed, maxLen, got, want)
				}
				m.ids, m.vals = m.ids[want:], m.vals[want:]
			case op < 9 && len(m.ids) > 0:
				// Approximate trimming removes a prefix of whole nodes.
				before := s.Len()
				maxLen := int64(r.IntN(len(m.ids)))
				got := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: maxLen, Approx: true})
				if s.Len() < maxLen && got > 0 || before-got != s.Len() {
					t.Fatalf("seed %d: MAXLEN ~ %d removed %d of %d", seed, maxLen, got, before)
				}
				m.ids, m.vals = m.ids[got:], m.vals[got:]
			default:
				minID := StreamID{next.Ms - uint64(r.IntN(int(next.Ms))), 0}
				k := 0
				for k < len(m.ids) && m.ids[k].Cmp(minID) < 0 {
					k++
				}
				if got := s.Trim(TrimArgs{Strategy: TrimMinID, MinID: minID}); got != int64(k) {
					t.Fatalf("seed %d: MINID %v removed %d, want %d", seed, minID, got, k)
				}
				m.ids, m.vals = m.ids[k:], m.vals[k:]
			}
			if err := s.Check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if s.Len() != int64(len(m.ids)) {
				t.Fatalf("seed %d: len %d, model %d", seed, s.Len(), len(m.ids))
			}
			if len(m.ids) > 0 && s.FirstID() != m.ids[0] {
				t.Fatalf("seed %d: first id %v, model %v", seed, s.FirstID(), m.ids[0])
			}
			// A random range, both ways.
			if step%7 == 0 {
				a := StreamID{uint64(r.IntN(int(next.Ms + 1))), uint64(r.IntN(int(next.Seq + 1)))}
				b := StreamID{uint64(r.IntN(int(next.Ms + 1))), uint64(r.IntN(int(next.Seq + 1)))}
				if a.Cmp(b) > 0 {
					a, b = b, a
				}
				var want []StreamID
				for _, id := range m.live() {
					if id.Cmp(a) >= 0 && id.Cmp(b) <= 0 {
						want = append(want, id)
					}
				}
				var got, rev []StreamID
				s.Range(a, b, false, func(id StreamID, rec []byte) bool { got = append(got, id); return true })
				s.Range(a, b, true, func(id StreamID, rec []byte) bool { rev = append(rev, id); return true })
				slices.Reverse(rev)
				if !slices.Equal(got, want) || !slices.Equal(rev, want) {
					t.Fatalf("seed %d: range %v..%v = %v / %v, want %v", seed, a, b, got, rev, want)
				}
			}
		}
		// Every value reads back.
		i := 0
		s.Range(StreamID{}, MaxStreamID, false, func(id StreamID, rec []byte) bool {
			StreamFields(rec, func(f, v []byte) {
				if string(f) != "f" || string(v) != m.vals[i] {
					t.Fatalf("seed %d: entry %v = %s %s, want %s", seed, id, f, v, m.vals[i])
				}
			})
			i++
			return true
		})
		c := s.Clone()
		if err := c.Check(); err != nil || c.Bytes() != s.Bytes() || c.Len() != s.Len() {
			t.Fatalf("clone: %v", err)
		}
	}
}

// TestStreamNodes: a new node every stream-node-max-entries entries,
// deleted ones included, as Redis's listpacks; a node is removed when its
// last live entry goes.
func TestStreamNodes(t *testing.T) {
	s := NewStream()
	p := [][]byte{[]byte("f"), []byte("v")}
	for i := 1; i <= 10; i++ {
		s.Add(StreamID{uint64(i), 0}, p, 4096, 3)
	}
	if s.Nodes() != 4 {
		t.Fatalf("nodes %d, want 4", s.Nodes())
	}
	s.Del([]StreamID{{4, 0}, {5, 0}})
	if s.Nodes() != 4 {
		t.Fatalf("nodes %d after a partial delete", s.Nodes())
	}
	s.Del([]StreamID{{6, 0}})
	if s.Nodes() != 3 {
		t.Fatalf("nodes %d, want 3 once a node has no live entry", s.Nodes())
	}
	// Approximate trimming removes whole nodes only: 1..3 (3 entries).
	if got := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 3, Approx: true}); got != 3 {
		t.Fatalf("MAXLEN ~ 3 removed %d", got)
	}
	// LIMIT stops before a node that would exceed it.
	if got := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 0, Approx: true, Limit: 2}); got != 0 {
		t.Fatalf("LIMIT 2 removed %d", got)
	}
	// stream-node-max-bytes starts a node when the next entry would pass it.
	b := NewStream()
	big := [][]byte{[]byte("f"), make([]byte, 1000)}
	for i := 1; i <= 8; i++ {
		b.Add(StreamID{uint64(i), 0}, big, 4096, 100)
	}
	if b.Nodes() < 2 || b.Nodes() > 3 {
		t.Fatalf("1 KB entries in 4 KB nodes: %d nodes", b.Nodes())
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestStreamPlanAdd: the growth a plan reports is exactly what Add grows.
func TestStreamPlanAdd(t *testing.T) {
	s := NewStream()
	r := rand.New(rand.NewPCG(3, 3))
	for i := 1; i <= 5000; i++ {
		p := [][]byte{[]byte("field"), make([]byte, r.IntN(300))}
		grow, err := s.PlanAdd(p, 4096, 100)
		if err != nil {
			t.Fatal(err)
		}
		before := s.Bytes()
		s.Add(StreamID{uint64(i), 0}, p, 4096, 100)
		if d := s.Bytes() - before; d != grow {
			t.Fatalf("entry %d: planned %d, grew %d", i, grow, d)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestStreamGroups: delivery, acks, claims and consumer removal keep both
// PELs and the accounting consistent.
func TestStreamGroups(t *testing.T) {
	s := NewStream()
	for i := 1; i <= 300; i++ {
		s.Add(StreamID{uint64(i), 0}, [][]byte{[]byte("f"), []byte("v")}, 4096, 100)
	}
	g := s.CreateGroup([]byte("g"), StreamID{}, -1)
	if s.CreateGroup([]byte("g"), StreamID{}, -1) != nil {
		t.Fatal("a group twice")
	}
	a := s.LookupOrCreateConsumer(g, []byte("a"), 1)
	b := s.LookupOrCreateConsumer(g, []byte("b"), 1)
	for i := 1; i <= 300; i++ {
		c := a
		if i%3 == 0 {
			c = b
		}
		s.Deliver(g, c, StreamID{uint64(i), 0}, 10)
	}
	if g.Pending() != 300 || a.Pending() != 200 || b.Pending() != 100 {
		t.Fatalf("pending %d %d %d", g.Pending(), a.Pending(), b.Pending())
	}
	// Redelivering to another consumer moves the NACK.
	s.Deliver(g, b, StreamID{1, 0}, 11)
	if a.Pending() != 199 || b.Pending() != 101 || g.Pending() != 300 {
		t.Fatal("redelivery did not move the NACK")
	}
	for i := 1; i <= 300; i += 2 {
		s.Ack(g, StreamID{uint64(i), 0})
	}
	if s.Ack(g, StreamID{1, 0}) {
		t.Fatal("acked twice")
	}
	nk := g.NACK(StreamID{2, 0})
	s.Claim(nk, StreamID{2, 0}, b)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if n := s.DelConsumer(g, a); n != a.Pending() {
		t.Fatalf("DelConsumer %d", n)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	first, last := g.PELFirstLast()
	if first.Cmp(last) > 0 {
		t.Fatal("PEL bounds")
	}
	c := s.Clone()
	if err := c.Check(); err != nil || c.Bytes() != s.Bytes() {
		t.Fatalf("clone: %v", err)
	}
	if !s.DestroyGroup([]byte("g")) || s.Bytes() != StreamBase+int64(cap(s.nodes))*8+s.nodeBytes {
		t.Fatal("destroy left group bytes")
	}
}

// TestStreamPELIndex inserts and removes ids in random order against a
// sorted slice.
func TestStreamPELIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var p pelIndex
	var model []StreamID
	nk := &StreamNACK{}
	for step := 0; step < 20000; step++ {
		id := StreamID{uint64(r.IntN(3000)), 0}
		if step < 5000 {
			id = StreamID{uint64(step), 1} // in order first
		}
		i, found := slices.BinarySearchFunc(model, id, func(a, b StreamID) int { return a.Cmp(b) })
		if r.IntN(3) == 0 {
			if p.remove(id) != found {
				t.Fatalf("remove %v", id)
			}
			if found {
				model = slices.Delete(model, i, i+1)
			}
		} else {
			if p.insert(id, nk) == found {
				t.Fatalf("insert %v", id)
			}
			if !found {
				model = slices.Insert(model, i, id)
			}
		}
		if p.n != len(model) {
			t.Fatalf("n %d, model %d", p.n, len(model))
		}
	}
	var got []StreamID
	p.ascend(StreamID{}, func(id StreamID, _ *StreamNACK) bool { got = append(got, id); return true })
	if !slices.Equal(got, model) {
		t.Fatal("order differs from the model")
	}
}

// TestStreamMemory checks Bytes against the heap the stream really holds
// (entries, and a group with a PEL): within 0.75..1.35.
func TestStreamMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("heap measurement")
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for _, tc := range []struct {
		name  string
		value int
		group bool
	}{{"small entries", 10, false}, {"100-byte entries", 100, false}, {"with a PEL", 10, true}} {
		before := heap()
		s := NewStream()
		const n = 200_000
		val := make([]byte, tc.value)
		for i := 1; i <= n; i++ {
			s.Add(StreamID{uint64(i), 0}, [][]byte{[]byte("sensor"), val}, 4096, 100)
		}
		if tc.group {
			g := s.CreateGroup([]byte("g"), StreamID{}, -1)
			c := s.LookupOrCreateConsumer(g, []byte("c"), 0)
			for i := 1; i <= n; i++ {
				s.Deliver(g, c, StreamID{uint64(i), 0}, 1)
			}
		}
		used := heap() - before
		ratio := float64(s.Bytes()) / float64(used)
		t.Logf("%s: Bytes %d, heap %d, ratio %.2f, %.1f bytes/entry", tc.name, s.Bytes(), used, ratio, float64(used)/n)
		if ratio < 0.75 || ratio > 1.35 {
			t.Errorf("%s: Bytes/heap = %.2f", tc.name, ratio)
		}
		runtime.KeepAlive(s)
	}
}

// BenchmarkStreamAdd is XADD's append at 1M entries (amortized O(1)).
func BenchmarkStreamAdd(b *testing.B) {
	s := NewStream()
	p := [][]byte{[]byte("sensor"), []byte("12.5")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(StreamID{uint64(i + 1), 0}, p, 4096, 100)
	}
}

// BenchmarkStreamSeek is XRANGE's seek to a random id and one entry, at
// 1M entries (O(log n)).
func BenchmarkStreamSeek(b *testing.B) {
	s := NewStream()
	p := [][]byte{[]byte("sensor"), []byte("12.5")}
	const n = 1_000_000
	for i := 1; i <= n; i++ {
		s.Add(StreamID{uint64(i), 0}, p, 4096, 100)
	}
	r := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		id := StreamID{uint64(1 + r.IntN(n)), 0}
		s.Range(id, MaxStreamID, false, func(StreamID, []byte) bool { return false })
	}
}
