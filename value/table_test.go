package value

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"testing"
)

// check verifies a table's invariants: every segment's buckets are in
// hash order along the probe sequence (Robin Hood, ties by hash) and in
// its prefix's range, the directory agrees with the segments' depths,
// every bucket names a record whose name hashes to it, the count matches,
// and the arena's charge and live bytes are what the records add up to.
func check(t testing.TB, tb *table) {
	t.Helper()
	n := 0
	live := map[uint32]int32{}
	for si := range tb.segs {
		s := &tb.segs[si]
		cnt := 0
		for pos, b := range s.b {
			if b.ref == 0 {
				continue
			}
			cnt++
			rec := tb.a.bytesAt(ref(b.ref - 1))
			if h := nameHash(nameOf(rec)); h != b.h {
				t.Fatalf("segment %d pos %d: hash %x, record's %x", si, pos, b.h, h)
			}
			if got := tb.seg(b.h); got != int32(si) {
				t.Fatalf("hash %x in segment %d, directory says %d", b.h, si, got)
			}
			live[uint32((b.ref-1)>>pageShift)] += int32(tb.recLen(rec))
			// Order: the previous bucket, if occupied, comes before.
			prev := pos - 1
			if prev < 0 {
				prev = len(s.b) - 1
			}
			if p := s.b[prev]; p.ref != 0 && s.disp(pos) > 0 {
				pd, d := s.disp(prev), s.disp(pos)
				if pd+1 < d || pd+1 == d && p.h > b.h && s.home(p.h) == s.home(b.h) {
					t.Fatalf("segment %d pos %d out of order (disp %d after %d)", si, pos, d, pd)
				}
			}
			if s.disp(pos) > 0 && s.b[prev].ref == 0 {
				t.Fatalf("segment %d pos %d displaced after an empty bucket", si, pos)
			}
		}
		if int32(cnt) != s.n {
			t.Fatalf("segment %d counts %d, holds %d", si, s.n, cnt)
		}
		n += cnt
	}
	if n != tb.n {
		t.Fatalf("table counts %d, holds %d", tb.n, n)
	}
	var used int64
	for p, m := range tb.a.meta {
		if tb.a.pages[p] == nil {
			continue
		}
		used += int64(len(tb.a.pages[p]))
		if m.live != live[uint32(p)] {
			t.Fatalf("page %d live %d, records %d", p, m.live, live[uint32(p)])
		}
	}
	if used != tb.a.used {
		t.Fatalf("arena charges %d, pages hold %d", tb.a.used, used)
	}
}

// TestHashTableModel replays random HSET/HDEL/HGET traces against a map,
// checking replies, the invariants and that every write grew Bytes by no
// more than its plan (and exactly the plan when it killed no record).
func TestHashTableModel(t *testing.T) {
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 7))
		h := NewHashTable(0)
		model := map[string]string{}
		nf := []int{50, 3000, 20000, 300}[seed]
		val := func() string {
			switch r.IntN(10) {
			case 0:
				return strings.Repeat("L", 400+r.IntN(800)) // own records, page tails
			case 1:
				return ""
			}
			return strings.Repeat("v", r.IntN(40))
		}
		for i := range 30000 {
			switch op := r.IntN(10); {
			case op < 6:
				k := 1 + r.IntN(4)
				var fs, vs [][]byte
				want := 0
				seen := map[string]bool{}
				for range k {
					f := fmt.Sprint("f", r.IntN(nf))
					v := val()
					fs, vs = append(fs, []byte(f)), append(vs, []byte(v))
					if _, ok := model[f]; !ok && !seen[f] {
						want++
					}
					seen[f] = true
				}
				before := h.Bytes()
				grow, added := h.PlanSet(fs, vs)
				if got := h.Set(fs, vs); got != want || added != want {
					t.Fatalf("seed %d op %d: Set %q added %d, plan %d, want %d", seed, i, fs, got, added, want)
				}
				for j := range fs {
					model[string(fs[j])] = string(vs[j])
				}
				if d := h.Bytes() - before; d > grow {
					t.Fatalf("seed %d op %d: grew %d, planned %d", seed, i, d, grow)
				}
			case op < 9:
				f := fmt.Sprint("f", r.IntN(nf))
				_, had := model[f]
				fs := [][]byte{[]byte(f), []byte(f)}
				before := h.Bytes()
				if h.PlanDel(fs) != btoi(had) || h.Del(fs) != btoi(had) {
					t.Fatalf("seed %d op %d: Del %q", seed, i, f)
				}
				if h.Bytes() > before {
					t.Fatalf("Del grew the table")
				}
				delete(model, f)
			default:
				f := fmt.Sprint("f", r.IntN(nf))
				v, ok := h.Get([]byte(f))
				if mv, mok := model[f]; ok != mok || string(v) != mv {
					t.Fatalf("seed %d op %d: Get %q = %q %v, want %q %v", seed, i, f, v, ok, mv, mok)
				}
			}
			if i%2000 == 0 || i < 400 {
				check(t, &h.t)
			}
		}
		check(t, &h.t)
		if h.Len() != len(model) {
			t.Fatalf("Len %d, model %d", h.Len(), len(model))
		}
		got := map[string]string{}
		h.Range(func(f, v []byte) bool { got[string(f)] = string(v); return true })
		if len(got) != len(model) {
			t.Fatalf("Range gave %d fields, model %d", len(got), len(model))
		}
		for f, v := range model {
			if got[f] != v {
				t.Fatalf("Range %q = %q, want %q", f, got[f], v)
			}
		}
		c := h.Clone()
		check(t, &c.t)
		if c.Len() != h.Len() || c.Bytes() > h.Bytes() {
			t.Fatalf("clone %d fields %d bytes, table %d %d", c.Len(), c.Bytes(), h.Len(), h.Bytes())
		}
		enc := h.AppendEncoding(nil)
		back, err := HashTableFrom(enc)
		if err != nil || back.Len() != len(model) {
			t.Fatalf("round trip through the compact layout: %v", err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSetTableModel is the model test for sets, with segment splits and
// halvings (members come and go in waves).
func TestSetTableModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := NewSetTable(0)
	model := map[string]bool{}
	for wave := range 6 {
		n := 30000
		if wave%2 == 1 {
			n = 500
		}
		for i := range 40000 {
			m := fmt.Sprint("m", r.IntN(n))
			if r.IntN(3) > 0 || wave%2 == 1 && r.IntN(2) == 0 {
				ms := [][]byte{[]byte(m), []byte(m + "x"), []byte(m)}
				before := s.Bytes()
				grow, added := s.PlanAdd(ms)
				want := btoi(!model[m]) + btoi(!model[m+"x"])
				if got := s.Add(ms); got != want || added != want {
					t.Fatalf("Add %q = %d, plan %d, want %d", m, got, added, want)
				}
				if d := s.Bytes() - before; d != grow {
					t.Fatalf("Add grew %d, planned %d", d, grow)
				}
				model[m], model[m+"x"] = true, true
			} else {
				ms := [][]byte{[]byte(m), []byte("absent")}
				if s.PlanRem(ms) != btoi(model[m]) || s.Rem(ms) != btoi(model[m]) {
					t.Fatalf("Rem %q", m)
				}
				delete(model, m)
			}
			if i%5000 == 0 {
				check(t, &s.t)
			}
			if s.Has([]byte(m)) != model[m] {
				t.Fatalf("Has %q", m)
			}
		}
		if wave%2 == 1 { // shrink the set to a few members: segments halve
			for m := range model {
				s.Rem([][]byte{[]byte(m)})
				delete(model, m)
				if len(model) < 50 {
					break
				}
			}
		}
		check(t, &s.t)
		if s.Len() != len(model) {
			t.Fatalf("wave %d: Len %d, model %d", wave, s.Len(), len(model))
		}
	}
	l := s.AppendList(nil)
	it := SetMembers(l)
	cnt := 0
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if !model[string(m)] {
			t.Fatalf("AppendList gave %q", m)
		}
		cnt++
	}
	if cnt != len(model) || SetLen(l) != len(model) {
		t.Fatalf("AppendList gave %d members, want %d", cnt, len(model))
	}
}

// TestTableCompaction: overwriting values with ones of other lengths and
// deleting leaves dead bytes that compaction bounds: the arena stays under
// about twice the live bytes, plus a page.
func TestTableCompaction(t *testing.T) {
	h := NewHashTable(0)
	r := rand.New(rand.NewPCG(3, 3))
	liveBytes := func() int64 {
		var n int64
		h.Range(func(f, v []byte) bool { n += int64(hashRecLen(f, v)); return true })
		return n
	}
	for i := range 200_000 {
		f := []byte(fmt.Sprint("field", r.IntN(5000)))
		v := []byte(strings.Repeat("x", r.IntN(60)))
		h.Set([][]byte{f}, [][]byte{v})
		if i%50_000 == 0 {
			check(t, &h.t)
		}
	}
	check(t, &h.t)
	if live := liveBytes(); h.t.a.used > 2*live+2*pageSize {
		t.Fatalf("arena charges %d for %d live bytes", h.t.a.used, live)
	}
	// Deleting most fields frees pages.
	h.Range(func(f, _ []byte) bool { return true })
	var fs [][]byte
	h.Range(func(f, _ []byte) bool { fs = append(fs, bytes.Clone(f)); return true })
	for _, f := range fs[:len(fs)-10] {
		h.Del([][]byte{f})
	}
	check(t, &h.t)
	if live := liveBytes(); h.t.a.used > 2*live+2*pageSize {
		t.Fatalf("after deletes: arena charges %d for %d live bytes", h.t.a.used, live)
	}
}

// scanAll runs a whole SSCAN-style scan, calling between(step) after each
// call, and returns every member given, with how often.
func scanAll(s *SetTable, count int, between func(step int)) map[string]int {
	seen := map[string]int{}
	cursor := uint64(0)
	for step := 0; ; step++ {
		cursor = s.Scan(cursor, count, func(m []byte) { seen[string(m)]++ })
		if cursor == 0 {
			return seen
		}
		between(step)
		if step > 1_000_000 {
			panic("scan does not end")
		}
	}
}

// TestTableScanInterleavings: a member present for the whole scan is
// returned exactly once whatever happens between the calls: growth
// (segment doublings and splits), deletes (halvings, compaction), both.
func TestTableScanInterleavings(t *testing.T) {
	cases := []struct {
		name    string
		initial int
		between func(s *SetTable, r *rand.Rand, step int)
	}{
		{"no change", 20000, func(*SetTable, *rand.Rand, int) {}},
		{"growth", 500, func(s *SetTable, r *rand.Rand, step int) {
			for i := range 300 {
				s.Add([][]byte{[]byte(fmt.Sprint("new", step, "-", i))})
			}
		}},
		{"deletes", 20000, func(s *SetTable, r *rand.Rand, step int) {
			for range 300 {
				s.Rem([][]byte{[]byte(fmt.Sprint("tmp", r.IntN(20000)))})
			}
		}},
		{"churn", 5000, func(s *SetTable, r *rand.Rand, step int) {
			for i := range 200 {
				s.Add([][]byte{[]byte(fmt.Sprint("new", step, "-", i))})
				s.Rem([][]byte{[]byte(fmt.Sprint("tmp", r.IntN(5000)))})
				s.Rem([][]byte{[]byte(fmt.Sprint("new", r.IntN(step+1), "-", r.IntN(200)))})
			}
		}},
		{"shrink to nothing and regrow", 20000, func(s *SetTable, r *rand.Rand, step int) {
			if step == 3 {
				for i := range 20000 {
					s.Rem([][]byte{[]byte(fmt.Sprint("tmp", i))})
				}
			}
			if step == 5 {
				for i := range 30000 {
					s.Add([][]byte{[]byte(fmt.Sprint("late", i))})
				}
			}
		}},
	}
	for _, tc := range cases {
		for _, count := range []int{1, 10, 1000} {
			t.Run(fmt.Sprintf("%s/count=%d", tc.name, count), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(count), 9))
				s := NewSetTable(0)
				for i := range tc.initial {
					s.Add([][]byte{[]byte(fmt.Sprint("tmp", i))})
				}
				stay := make([]string, 300)
				for i := range stay {
					stay[i] = fmt.Sprint("stay", i)
					s.Add([][]byte{[]byte(stay[i])})
				}
				seen := scanAll(s, count, func(step int) {
					// Change the set between the first calls only, so
					// that a scan of a growing set ends; with count 1,
					// between every 50th call.
					if count == 1 {
						if step%50 != 0 {
							return
						}
						step /= 50
					}
					if step < 40 {
						tc.between(s, r, step)
					}
				})
				for _, m := range stay {
					if seen[m] != 1 {
						t.Fatalf("member %q present for the whole scan returned %d times", m, seen[m])
					}
				}
				check(t, &s.t)
			})
		}
	}
}

// TestTableScanOrderAndPaging: scan pages follow hash order, give about
// count members, never split equal hashes, and the cursor is the next hash.
func TestTableScanOrderAndPaging(t *testing.T) {
	s := NewSetTable(0)
	for i := range 50_000 {
		s.Add([][]byte{[]byte(fmt.Sprint("m", i))})
	}
	var hashes []uint64
	cursor := uint64(0)
	calls := 0
	for {
		var page []uint64
		next := s.Scan(cursor, 100, func(m []byte) { page = append(page, nameHash(m)) })
		calls++
		if len(page) > 101 {
			t.Fatalf("page of %d for count 100", len(page))
		}
		for _, h := range page {
			if h < cursor || next != 0 && h >= next {
				t.Fatalf("hash %x outside [%x, %x)", h, cursor, next)
			}
		}
		hashes = append(hashes, page...)
		if next == 0 {
			break
		}
		cursor = next
	}
	if !sort.SliceIsSorted(hashes, func(i, j int) bool { return hashes[i] < hashes[j] }) {
		t.Fatal("scan not in hash order")
	}
	if len(hashes) != 50_000 || calls < 400 || calls > 600 {
		t.Fatalf("%d members in %d calls", len(hashes), calls)
	}
}

// TestTableRandom: Random draws every member, about uniformly.
func TestTableRandom(t *testing.T) {
	s := NewSetTable(0)
	const n = 5000
	for i := range n {
		s.Add([][]byte{[]byte(fmt.Sprint("m", i))})
	}
	// Make the segments uneven: empty one region of the hash space.
	for i := range n {
		if m := []byte(fmt.Sprint("m", i)); nameHash(m)>>62 == 0 {
			s.Rem([][]byte{m})
		}
	}
	counts := map[string]int{}
	const draws = 400_000
	for range draws {
		counts[string(s.Random())]++
	}
	if len(counts) != s.Len() {
		t.Fatalf("drew %d distinct of %d", len(counts), s.Len())
	}
	mean := float64(draws) / float64(s.Len())
	for m, c := range counts {
		if float64(c) < mean/2 || float64(c) > mean*2 {
			t.Fatalf("member %q drawn %d times, mean %.0f", m, c, mean)
		}
	}
}

// heapAfterGC is the live heap after a full collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTableMemory measures a table's real heap per element against
// Bytes: the measurement behind ElemOverhead. Run with -v for the figures;
// the 1M rows run without -short and -race only.
func TestTableMemory(t *testing.T) {
	for _, tc := range []struct {
		n          int
		hash       bool
		name, valu int
		deleteHalf bool // then delete every other element
	}{
		{1_000_000, false, 8, 0, false},
		{1_000_000, true, 10, 10, false},
		{100_000, true, 16, 100, false},
		{10_000, false, 20, 0, false},
		{1000, true, 12, 12, false},
		{200_000, false, 8, 0, true},
	} {
		t.Run(fmt.Sprintf("%dx%v_%d+%d_half=%v", tc.n, tc.hash, tc.name, tc.valu, tc.deleteHalf), func(t *testing.T) {
			if (testing.Short() || raceEnabled) && tc.n > 100_000 {
				t.Skip("1M elements: not under -short or -race (make test)")
			}
			name := make([]byte, tc.name)
			val := make([]byte, tc.valu)
			before := heapAfterGC()
			var bytesOf func() int64
			if tc.hash {
				h := NewHashTable(0)
				for i := range tc.n {
					copy(name, fmt.Sprintf("%0*d", tc.name, i))
					h.Set([][]byte{name}, [][]byte{val})
				}
				bytesOf = h.Bytes
				defer runtime.KeepAlive(h)
			} else {
				s := NewSetTable(0)
				for i := range tc.n {
					copy(name, fmt.Sprintf("%0*d", tc.name, i))
					s.Add([][]byte{name})
				}
				if tc.deleteHalf {
					// In hash order, every other one: the segments empty
					// evenly (the shrink threshold is what bounds them).
					var del [][]byte
					i := 0
					s.Range(func(m []byte) bool {
						if i++; i%2 == 0 {
							del = append(del, bytes.Clone(m))
						}
						return true
					})
					s.Rem(del)
					tc.n -= len(del)
				}
				bytesOf = s.Bytes
				defer runtime.KeepAlive(s)
			}
			after := heapAfterGC()
			real := float64(after-before) / float64(tc.n)
			acct := float64(bytesOf()) / float64(tc.n)
			t.Logf("real %.1f B/element, Bytes %.1f (payload %d, ElemOverhead %d), Bytes/real %.2f",
				real, acct, tc.name+tc.valu, ElemOverhead, acct/real)
			if r := acct / real; r < 0.8 || r > 1.25 {
				t.Fatalf("Bytes/real = %.2f, outside 0.8..1.25", r)
			}
		})
	}
}

// scannableHeap is the heap the garbage collector must scan (pointerful
// bytes), after a full collection.
func scannableHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestTableGCScanWork: a table holds no Go pointer per element, so a
// million-element table adds almost nothing to what the collector scans on
// every cycle (a few thousand page and segment slice headers), where a
// pointerful layout (a Go map of strings, shown for comparison) adds tens
// of bytes per element. This is why big values do not put GC work into
// every tenant's latency; bench's BenchmarkResidentCollections measures
// the latency itself.
func TestTableGCScanWork(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	name := make([]byte, 12)
	before := scannableHeap()
	h := NewHashTable(0)
	for i := range n {
		copy(name, fmt.Sprintf("%012d", i))
		h.Set([][]byte{name}, [][]byte{name[:8]})
	}
	tableScan := float64(scannableHeap()-before) / float64(n)
	runtime.KeepAlive(h)
	h = nil

	before = scannableHeap()
	m := make(map[string]string, 0)
	for i := range n {
		m[fmt.Sprintf("%012d", i)] = fmt.Sprintf("%08d", i)
	}
	mapScan := float64(scannableHeap()-before) / float64(n)
	runtime.KeepAlive(m)
	t.Logf("%d fields: scannable heap %.2f B/element for a HashTable, %.1f for a map[string]string", n, tableScan, mapScan)
	if tableScan > 1 {
		t.Fatalf("a HashTable adds %.2f scannable bytes per element", tableScan)
	}
}
