package value

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// checkQ verifies a QuickList's invariants: the ring is a power of two
// holding its nodes; no node is empty; each node's bytes decode to exactly
// its elements, forward and backward; the virtual indexes follow one
// another from vhead; the element count and the capacities add up; and
// every node but one holding a single element respects the fill.
func checkQ(t testing.TB, q *QuickList) {
	t.Helper()
	if l := len(q.ring); l < qminRing || l&(l-1) != 0 || q.nn > l {
		t.Fatalf("ring of %d for %d nodes", l, q.nn)
	}
	n := 0
	var caps int64
	v := q.vhead
	for j := range q.nn {
		nd := q.at(j)
		if nd.n <= 0 {
			t.Fatalf("node %d has %d elements", j, nd.n)
		}
		if nd.v != v {
			t.Fatalf("node %d first index %d, want %d", j, nd.v, v)
		}
		if cap(nd.buf) != classUp(cap(nd.buf)) {
			t.Fatalf("node %d capacity %d is not a size class", j, cap(nd.buf))
		}
		fw := nodeElems(nil, nd)
		var bw [][]byte
		for off := int(nd.hi); off > int(nd.lo); {
			var e []byte
			e, off = qprev(nd.buf, off)
			bw = append(bw, e)
		}
		slices.Reverse(bw)
		if len(fw) != int(nd.n) || len(bw) != int(nd.n) {
			t.Fatalf("node %d: %d elements, forward %d, backward %d", j, nd.n, len(fw), len(bw))
		}
		for i := range fw {
			if !bytes.Equal(fw[i], bw[i]) {
				t.Fatalf("node %d element %d reads %q forward, %q backward", j, i, fw[i], bw[i])
			}
		}
		if nd.n > 1 && q.fill > 0 && int(nd.n) > q.fill {
			t.Fatalf("node %d holds %d elements, fill %d", j, nd.n, q.fill)
		}
		if nd.n > 1 && nd.used() > q.nodeMax() {
			t.Fatalf("node %d holds %d bytes, limit %d", j, nd.used(), q.nodeMax())
		}
		v += int64(nd.n)
		n += int(nd.n)
		caps += int64(cap(nd.buf))
	}
	if n != q.n || caps != q.caps {
		t.Fatalf("nodes hold %d elements in %d bytes; list says %d, %d", n, caps, q.n, q.caps)
	}
}

// TestQuickListModel replays random traces of every list operation
// against a slice, for several fills (sizes and counts, one element per
// node), checking replies, the invariants, that pushes, LSET and LINSERT
// grow Bytes by exactly their plan, and that pops, LREM and LTRIM never
// grow it. Elements range from empty to several node sizes.
func TestQuickListModel(t *testing.T) {
	for _, fill := range []int64{-2, -1, -5, 3, 1, 0} {
		t.Run(fmt.Sprint("fill=", fill), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(fill+10), 5))
			q := NewQuickList(fill)
			var m [][]byte
			elem := func() []byte {
				switch r.IntN(60) {
				case 0:
					return bytes.Repeat([]byte{'B'}, 5000+r.IntN(20000))
				case 1:
					return nil
				case 2, 3:
					return bytes.Repeat([]byte{'m'}, 100+r.IntN(300))
				}
				return fmt.Appendf(nil, "e%d", r.IntN(40))
			}
			steps := 5000
			if testing.Short() || raceEnabled {
				steps = 1500
			}
			for step := range steps {
				before := q.Bytes()
				shrinks := true
				switch op := r.IntN(100); {
				case op < 35: // LPUSH/RPUSH
					var es [][]byte
					for range 1 + r.IntN(30) {
						es = append(es, elem())
					}
					left := r.IntN(2) == 0
					plan := q.PlanPush(es, left)
					q.Push(es, left)
					if g := q.Bytes() - before; g != plan {
						t.Fatalf("step %d: push grew %d, planned %d", step, g, plan)
					}
					for _, e := range es {
						if left {
							m = slices.Insert(m, 0, e)
						} else {
							m = append(m, e)
						}
					}
					shrinks = false
				case op < 60: // LPOP/RPOP
					left := r.IntN(2) == 0
					cnt := r.IntN(25)
					var got [][]byte
					n := q.Pop(cnt, left, func(e []byte) { got = append(got, bytes.Clone(e)) })
					want := min(cnt, len(m))
					if n != want || len(got) != want {
						t.Fatalf("step %d: popped %d (%d), want %d", step, n, len(got), want)
					}
					for i := range want {
						var w []byte
						if left {
							w, m = m[0], m[1:]
						} else {
							w, m = m[len(m)-1], m[:len(m)-1]
						}
						if !bytes.Equal(got[i], w) {
							t.Fatalf("step %d: pop %d = %q, want %q", step, i, got[i], w)
						}
					}
				case op < 70: // LINDEX / LRANGE
					if len(m) == 0 {
						continue
					}
					i := r.IntN(len(m))
					if got := q.Index(i); !bytes.Equal(got, m[i]) {
						t.Fatalf("step %d: Index(%d) = %q, want %q", step, i, got, m[i])
					}
					rev := r.IntN(2) == 0
					var got [][]byte
					q.Walk(i, rev, func(e []byte) bool { got = append(got, e); return len(got) < 50 })
					want := len(m) - i
					if rev {
						want = i + 1
					}
					if want = min(want, 50); len(got) != want {
						checkQ(t, q)
						t.Fatalf("step %d: Walk(%d,%v) of %d gave %d elements, want %d", step, i, rev, len(m), len(got), want)
					}
					for k, g := range got {
						x := i + k
						if rev {
							x = i - k
						}
						w := m[x]
						if !bytes.Equal(g, w) {
							t.Fatalf("step %d: Walk(%d,%v)[%d] = %q, want %q", step, i, rev, k, g, w)
						}
					}
				case op < 78: // LSET
					if len(m) == 0 {
						continue
					}
					i, e := r.IntN(len(m)), elem()
					plan := q.PlanSet(i, e)
					q.Set(i, e)
					if g := q.Bytes() - before; g != plan {
						t.Fatalf("step %d: LSET grew %d, planned %d", step, g, plan)
					}
					m[i] = e
					shrinks = false
				case op < 86: // LINSERT
					pivot, e, bef := elem(), elem(), r.IntN(2) == 0
					plan, pos, found := q.PlanInsert(pivot, e, bef)
					at := slices.IndexFunc(m, func(x []byte) bool { return bytes.Equal(x, pivot) })
					if found != (at >= 0) {
						t.Fatalf("step %d: LINSERT pivot found %v, model %d", step, found, at)
					}
					if found {
						q.Insert(pos, e)
						if g := q.Bytes() - before; g != plan {
							t.Fatalf("step %d: LINSERT grew %d, planned %d", step, g, plan)
						}
						if !bef {
							at++
						}
						m = slices.Insert(m, at, e)
					}
					shrinks = false
				case op < 94: // LREM
					e := elem()
					count := int64(r.IntN(7) - 3)
					if r.IntN(20) == 0 {
						count = math.MinInt64
					}
					planned := q.CountRem(count, e)
					got := q.Rem(count, e)
					if got != planned {
						t.Fatalf("step %d: LREM removed %d, CountRem said %d", step, got, planned)
					}
					want := 0
					var keep [][]byte
					if count >= 0 || count == math.MinInt64 {
						for _, x := range m {
							if bytes.Equal(x, e) && (count <= 0 || int64(want) < count) {
								want++
								continue
							}
							keep = append(keep, x)
						}
					} else {
						for i := len(m) - 1; i >= 0; i-- {
							if bytes.Equal(m[i], e) && int64(want) < -count {
								want++
								continue
							}
							keep = append(keep, m[i])
						}
						slices.Reverse(keep)
					}
					if got != want {
						t.Fatalf("step %d: LREM %d %q removed %d, want %d", step, count, e, got, want)
					}
					m = keep
				case op < 96: // LPOS, against the compact encoding's
					e := elem()
					rank := int64(r.IntN(7) - 3)
					if rank == 0 {
						rank = 1
					}
					count, maxlen := int64(r.IntN(4)), int64(r.IntN(3)*r.IntN(40))
					var got, want []int
					q.Pos(e, rank, count, maxlen, func(i int) { got = append(got, i) })
					enc := ListAppendHeader(nil, len(m))
					for _, x := range m {
						enc = ListAppendElem(enc, x)
					}
					if err := ListPos(enc, e, rank, count, maxlen, func(i int) { want = append(want, i) }); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("step %d: LPOS %q rank %d count %d maxlen %d = %v, want %v", step, e, rank, count, maxlen, got, want)
					}
				case op < 98: // LMOVE l l between the ends
					if len(m) == 0 {
						continue
					}
					fromLeft := r.IntN(2) == 0
					plan := q.PlanRotate(fromLeft)
					q.Rotate(fromLeft)
					if g := q.Bytes() - before; g > plan {
						t.Fatalf("step %d: rotate grew %d, planned %d", step, g, plan)
					}
					if fromLeft {
						m = append(m[1:], m[0])
					} else {
						m = append([][]byte{m[len(m)-1]}, m[:len(m)-1]...)
					}
					shrinks = false
				default: // LTRIM
					if len(m) == 0 {
						continue
					}
					from := r.IntN(len(m))
					to := from + 1 + r.IntN(len(m)-from)
					if r.IntN(3) > 0 { // mostly light trims
						from, to = min(from, 3), max(to, len(m)-3)
					}
					q.Trim(from, to)
					m = m[from:to]
				}
				if shrinks && q.Bytes() > before {
					t.Fatalf("step %d: a shrinking operation grew Bytes %d -> %d", step, before, q.Bytes())
				}
				if q.Len() != len(m) {
					t.Fatalf("step %d: Len %d, model %d", step, q.Len(), len(m))
				}
				if step%100 == 0 || step == steps-1 {
					checkQ(t, q)
					enc := q.AppendEncoding(nil)
					if got := ldec(t, enc); !slices.EqualFunc(got, m, func(a string, b []byte) bool { return a == string(b) }) {
						t.Fatalf("step %d: contents differ", step)
					}
					c := q.Clone()
					checkQ(t, c)
					if !bytes.Equal(c.AppendEncoding(nil), enc) {
						t.Fatalf("step %d: clone differs", step)
					}
				}
			}
		})
	}
}

// TestQuickListQueue: a list used as a queue (RPUSH at the tail, LPOP at
// the head, forever) keeps a flat size: its Bytes after a million
// round trips is what it was after the first thousand, and its ring
// does not grow.
func TestQuickListQueue(t *testing.T) {
	q := NewQuickList(-2)
	e := [][]byte{[]byte("job:0000000000")}
	for range 10_000 {
		q.Push(e, false)
	}
	rounds := 1_000_000
	if testing.Short() || raceEnabled {
		rounds = 100_000
	}
	var first int64
	var ring int
	for i := range rounds {
		q.Push(e, false)
		q.Pop(1, true, nil)
		if i == 1000 {
			first, ring = q.Bytes(), len(q.ring)
		}
	}
	checkQ(t, q)
	t.Logf("10K-element queue after %d round trips: %d bytes (%d after 1000), ring %d", rounds, q.Bytes(), first, len(q.ring))
	if q.Bytes() > first+16<<10 || len(q.ring) > ring {
		t.Fatalf("the queue grew: %d bytes (was %d), ring %d (was %d)", q.Bytes(), first, len(q.ring), ring)
	}
}

// TestQuickListMemory measures whole lists against the heap: Bytes over
// the live heap they add must stay within 0.8..1.25, filled at either end,
// with LINSERTs in the middle, and with one element per node.
func TestQuickListMemory(t *testing.T) {
	for _, tc := range []struct {
		n    int
		fill int64
		how  string
		size int
	}{
		{1_000_000, -2, "rpush", 15},
		{1_000_000, -2, "lpush", 15},
		{100_000, -2, "rpush", 100},
		{20_000, -2, "linsert", 20},
		{20_000, 1, "rpush", 10},
	} {
		t.Run(fmt.Sprintf("%d_%d_%s_%d", tc.n, tc.fill, tc.how, tc.size), func(t *testing.T) {
			n := tc.n
			if (testing.Short() || raceEnabled) && n > 100_000 {
				t.Skip("1M elements: not under -short or -race (make test)")
			}
			if tc.how == "linsert" {
				n = 20_000 // each LINSERT scans for its pivot: O(n) each
			}
			e := make([]byte, tc.size)
			one := [][]byte{e}
			before := heapAfterGC()
			q := NewQuickList(tc.fill)
			for i := range n {
				copy(e, fmt.Sprintf("%0*d", tc.size, i))
				switch tc.how {
				case "lpush":
					q.Push(one, true)
				case "linsert":
					if q.Len() < 2 {
						q.Push(one, false)
						continue
					}
					pivot := bytes.Clone(q.Index(rand.IntN(q.Len())))
					_, pos, _ := q.PlanInsert(pivot, e, true)
					q.Insert(pos, e)
				default:
					q.Push(one, false)
				}
			}
			after := heapAfterGC()
			real := float64(after-before) / float64(n)
			acct := float64(q.Bytes()) / float64(n)
			t.Logf("%d elements: real %.1f B/element, Bytes %.1f, Bytes/real %.2f, %d nodes", n, real, acct, acct/real, q.nn)
			runtime.KeepAlive(q)
			if r := acct / real; r < 0.8 || r > 1.25 {
				t.Fatalf("Bytes/real = %.2f, outside 0.8..1.25", r)
			}
		})
	}
}

// TestQuickListGCScanWork: a list holds one Go pointer per node (8 KiB of
// elements), so a million elements add almost nothing to the collector's
// scan work.
func TestQuickListGCScanWork(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	before := scannableHeap()
	q := NewQuickList(-2)
	e := [][]byte{make([]byte, 12)}
	for range n {
		q.Push(e, false)
	}
	per := float64(scannableHeap()-before) / float64(n)
	runtime.KeepAlive(q)
	t.Logf("%d elements: scannable heap %.3f B/element", n, per)
	if per > 1 {
		t.Fatalf("a QuickList adds %.2f scannable bytes per element", per)
	}
}

// TestSizeClasses: classUp rounds every size as the Go allocator does
// (the capacity append gives a slice of that length), so a node's
// capacity is exactly what it costs on the heap.
func TestSizeClasses(t *testing.T) {
	for n := 1; n <= 70_000; n++ {
		if n > 32768 && n%97 != 0 {
			continue
		}
		want := cap(slices.Grow([]byte(nil), n))
		if got := classUp(n); got != want && !(n < 32 && got == 32) {
			t.Fatalf("classUp(%d) = %d, the runtime gives %d", n, got, want)
		}
	}
}
