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

// checkZ verifies a ZSetTree's invariants: the index's (check), and the
// tree's: entries strictly in (score, member) order along the leaf chain,
// which matches the in-order walk; every inner count is its subtree's
// size and every separator its subtree's smallest entry (so no separator
// names a dead record); nodes at least half full except the root, the
// first and the last leaf; every entry names the live record of a member
// with that score; as many entries as members.
func checkZ(t testing.TB, z *ZSetTree) {
	t.Helper()
	check(t, &z.t)
	var inorder []int32
	var walk func(id int32, depth int, root bool) (cnt int64, s float64, r uint64)
	walk = func(id int32, depth int, root bool) (int64, float64, uint64) {
		if depth == z.height {
			lf := z.leaves[id]
			if lf == nil {
				t.Fatalf("leaf %d freed but linked", id)
			}
			if lf.n == 0 && !root {
				t.Fatalf("empty leaf %d", id)
			}
			inorder = append(inorder, id)
			if lf.n == 0 {
				return 0, 0, 0
			}
			return int64(lf.n), lf.score[0], lf.ref[0]
		}
		in := z.inners[id]
		if in.n < 2 || !root && in.n < zInnerMin {
			t.Fatalf("inner %d at depth %d has %d children", id, depth, in.n)
		}
		var total int64
		for i := range int(in.n) {
			c, s, r := walk(in.child[i], depth+1, false)
			if c != in.count[i] {
				t.Fatalf("inner %d child %d counts %d, holds %d", id, i, in.count[i], c)
			}
			if math.Float64bits(s) != math.Float64bits(in.score[i]) || r != in.ref[i] {
				t.Fatalf("inner %d child %d separator (%v,%d), smallest entry (%v,%d)", id, i, in.score[i], in.ref[i], s, r)
			}
			total += c
		}
		return total, in.score[0], in.ref[0]
	}
	total, _, _ := walk(z.root, 0, true)
	if int(total) != z.t.n {
		t.Fatalf("tree holds %d entries, index %d members", total, z.t.n)
	}
	// The leaf chain is the in-order walk.
	id, prev := z.head, int32(-1)
	for i, want := range inorder {
		if id != want {
			t.Fatalf("leaf chain position %d: %d, in order %d", i, id, want)
		}
		lf := z.leaves[id]
		if lf.prev != prev {
			t.Fatalf("leaf %d prev %d, want %d", id, lf.prev, prev)
		}
		if z.height > 0 && id != z.head && id != z.tail && lf.n < zLeafMin {
			t.Fatalf("inner leaf %d has %d entries", id, lf.n)
		}
		prev, id = id, lf.next
	}
	if id != -1 || z.tail != prev {
		t.Fatalf("leaf chain ends at %d, tail %d, last in order %d", id, z.tail, prev)
	}
	// Order and records.
	var last *ZMember
	n := 0
	z.Walk(0, false, func(m ZMember) bool {
		rec := z.t.lookup(m.Member)
		if rec == nil {
			t.Fatalf("entry %q not in the index", m.Member)
		}
		if math.Float64bits(zrecScore(rec)) != math.Float64bits(m.Score) {
			t.Fatalf("entry %q score %v, record %v", m.Member, m.Score, zrecScore(rec))
		}
		if last != nil && ZCompare(*last, m) >= 0 {
			t.Fatalf("entries out of order: (%v,%q) then (%v,%q)", last.Score, last.Member, m.Score, m.Member)
		}
		c := ZMember{Member: bytes.Clone(m.Member), Score: m.Score}
		last = &c
		n++
		return true
	})
	if n != z.t.n {
		t.Fatalf("walk gave %d of %d", n, z.t.n)
	}
}

// zmodel is the reference: members in order.
type zmodel []ZMember

func (m zmodel) find(mem string) int {
	for i, x := range m {
		if string(x.Member) == mem {
			return i
		}
	}
	return -1
}

func (m *zmodel) set(mem string, s float64) {
	if i := m.find(mem); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	x := ZMember{Member: []byte(mem), Score: s}
	i, _ := slices.BinarySearchFunc(*m, x, ZCompare)
	*m = slices.Insert(*m, i, x)
}

// TestZSetTreeModel replays random ZADD/ZREM/ZREMRANGEBYRANK traces
// against a sorted slice, checking lookups, ranks, counts, walks and
// scans, the invariants, and that every write grew Bytes by no more than
// its plan (exactly the plan, as Set kills nothing). Scores come from a
// small set so that ties (ordered by member) are common, -0 included;
// some members are long enough for records of their own, and deletes
// compact pages, which moves records under the tree.
func TestZSetTreeModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 9))
			z := NewZSetTree(0)
			var m zmodel
			member := func() string {
				switch r.IntN(40) {
				case 0:
					return fmt.Sprintf("long-%d-%s", r.IntN(50), bytes.Repeat([]byte{'L'}, 600))
				}
				return fmt.Sprint("m", r.IntN(3000))
			}
			score := func() float64 {
				switch r.IntN(10) {
				case 0:
					return math.Copysign(0, -1)
				case 1:
					return math.Inf(1 - 2*r.IntN(2))
				}
				return float64(r.IntN(40)) / 4
			}
			steps := 6000
			if testing.Short() || raceEnabled {
				steps = 2000
			}
			for step := range steps {
				switch op := r.IntN(100); {
				case op < 55: // ZADD
					seen := map[string]bool{}
					var set []ZMember
					for range 1 + r.IntN(8) {
						mem := member()
						if seen[mem] {
							continue
						}
						seen[mem] = true
						set = append(set, ZMember{Member: []byte(mem), Score: score()})
					}
					before := z.Bytes()
					plan := z.PlanSet(set)
					z.Set(set)
					if g := z.Bytes() - before; g != plan {
						t.Fatalf("step %d: Set grew %d, planned %d", step, g, plan)
					}
					for _, x := range set {
						m.set(string(x.Member), x.Score)
					}
				case op < 80: // ZREM
					var del [][]byte
					for range 1 + r.IntN(6) {
						del = append(del, []byte(member()))
					}
					want := 0
					for i, d := range del {
						if m.find(string(d)) >= 0 && !slices.ContainsFunc(del[:i], func(b []byte) bool { return bytes.Equal(b, d) }) {
							want++
						}
					}
					before := z.Bytes()
					if p := z.PlanRem(del); p != want {
						t.Fatalf("step %d: PlanRem %d, want %d", step, p, want)
					}
					if got := z.Rem(del); got != want {
						t.Fatalf("step %d: Rem %d, want %d", step, got, want)
					}
					if z.Bytes() > before {
						t.Fatalf("step %d: Rem grew", step)
					}
					for _, d := range del {
						if i := m.find(string(d)); i >= 0 {
							m = slices.Delete(m, i, i+1)
						}
					}
				case op < 85: // ZREMRANGEBYRANK
					if len(m) == 0 {
						continue
					}
					from := r.IntN(len(m))
					to := min(len(m), from+1+r.IntN(80))
					before := z.Bytes()
					z.RemRange(from, to)
					if z.Bytes() > before {
						t.Fatalf("step %d: RemRange grew", step)
					}
					m = slices.Delete(m, from, to)
				default: // reads
					mem := member()
					i := m.find(mem)
					rank, s, ok := z.Rank([]byte(mem))
					if ok != (i >= 0) || ok && (rank != i || math.Float64bits(s) != math.Float64bits(m[i].Score)) {
						t.Fatalf("step %d: Rank(%q) = %d %v %v, model %d", step, mem, rank, s, ok, i)
					}
					if s2, ok2 := z.Score([]byte(mem)); ok2 != ok || ok && s2 != s {
						t.Fatalf("step %d: Score(%q) = %v %v", step, mem, s2, ok2)
					}
					lim := score()
					want := 0
					for _, x := range m {
						if x.Score < lim {
							want++
						}
					}
					if got := z.CountScore(func(s float64) bool { return s < lim }); got != want {
						t.Fatalf("step %d: CountScore(< %v) = %d, want %d", step, lim, got, want)
					}
					if len(m) > 0 {
						from := r.IntN(len(m))
						rev := r.IntN(2) == 0
						var got []string
						z.Walk(from, rev, func(x ZMember) bool {
							got = append(got, fmt.Sprint(x.Score, string(x.Member)))
							return len(got) < 70
						})
						var exp []string
						for j := from; j >= 0 && j < len(m) && len(exp) < 70; {
							exp = append(exp, fmt.Sprint(m[j].Score, string(m[j].Member)))
							if rev {
								j--
							} else {
								j++
							}
						}
						if !slices.Equal(got, exp) {
							t.Fatalf("step %d: Walk(%d, %v) = %v, want %v", step, from, rev, got, exp)
						}
					}
				}
				if z.Len() != len(m) {
					t.Fatalf("step %d: Len %d, model %d", step, z.Len(), len(m))
				}
				if step%200 == 0 || step == steps-1 {
					checkZ(t, z)
					got := map[string]float64{}
					for cur := uint64(0); ; {
						cur = z.Scan(cur, 1+r.IntN(30), func(x ZMember) { got[string(x.Member)] = x.Score })
						if cur == 0 {
							break
						}
					}
					if len(got) != len(m) {
						t.Fatalf("step %d: scan gave %d of %d", step, len(got), len(m))
					}
					c := z.Clone()
					checkZ(t, c)
					if !bytes.Equal(c.AppendEncoding(nil), z.AppendEncoding(nil)) {
						t.Fatalf("step %d: clone differs", step)
					}
				}
			}
		})
	}
}

// TestZSetTreeLex: CountLex over a set of equal scores finds member
// bounds as BYLEX ranges need.
func TestZSetTreeLex(t *testing.T) {
	z := NewZSetTree(0)
	var set []ZMember
	for i := range 5000 {
		set = append(set, ZMember{Member: fmt.Appendf(nil, "k%05d", i)})
	}
	z.Set(set)
	checkZ(t, z)
	for _, b := range []string{"", "k", "k00000", "k02500", "k024999", "k04999", "k05000", "z"} {
		got := z.CountLex(func(m []byte) bool { return string(m) < b })
		want := 0
		for _, x := range set {
			if string(x.Member) < b {
				want++
			}
		}
		if got != want {
			t.Fatalf("CountLex(< %q) = %d, want %d", b, got, want)
		}
	}
}

// TestZSetTreeShapes: sets filled in ascending and descending order have
// full leaves (an insert at either end starts a new leaf), and random
// fills are two thirds full; deleting everything in every order leaves an
// empty, valid tree.
func TestZSetTreeShapes(t *testing.T) {
	n := 20000
	if testing.Short() || raceEnabled {
		n = 5000
	}
	for _, order := range []string{"ascending", "descending", "random"} {
		t.Run(order, func(t *testing.T) {
			z := NewZSetTree(0)
			perm := rand.Perm(n)
			for i := range n {
				s := float64(i)
				switch order {
				case "descending":
					s = float64(n - i)
				case "random":
					s = float64(perm[i])
				}
				z.Set([]ZMember{{Member: fmt.Appendf(nil, "m%d", i), Score: s}})
			}
			checkZ(t, z)
			leaves := len(z.leaves) - len(z.freeL)
			fill := float64(n) / float64(leaves*zLeafCap)
			t.Logf("%s: %d leaves, %.0f%% full, height %d", order, leaves, 100*fill, z.height)
			if order != "random" && fill < 0.97 || fill < 0.6 {
				t.Fatalf("%s fill: leaves %.0f%% full", order, 100*fill)
			}
			for _, i := range rand.Perm(n) {
				if z.Rem([][]byte{fmt.Appendf(nil, "m%d", i)}) != 1 {
					t.Fatalf("m%d missing", i)
				}
				if i%997 == 0 {
					checkZ(t, z)
				}
			}
			checkZ(t, z)
			if z.Len() != 0 || z.height != 0 {
				t.Fatalf("emptied: %d members, height %d", z.Len(), z.height)
			}
		})
	}
}

// TestZSetTreeMemory measures whole sorted sets against the heap: Bytes
// over the live heap they add must stay within 0.8..1.25, for random and
// ascending fills and after deleting half the members at random (the tree
// then rebalances).
func TestZSetTreeMemory(t *testing.T) {
	for _, tc := range []struct {
		n     int
		order string
		name  int
	}{
		{1_000_000, "random", 14},
		{1_000_000, "ascending", 14},
		{1_000_000, "half deleted", 14},
		{100_000, "random", 40},
		{10_000, "random", 8},
	} {
		t.Run(fmt.Sprintf("%d_%s_%d", tc.n, tc.order, tc.name), func(t *testing.T) {
			if (testing.Short() || raceEnabled) && tc.n > 100_000 {
				t.Skip("1M elements: not under -short or -race (make test)")
			}
			perm := rand.Perm(tc.n)
			name := make([]byte, tc.name)
			before := heapAfterGC()
			z := NewZSetTree(0)
			one := make([]ZMember, 1)
			for i := range tc.n {
				copy(name, fmt.Sprintf("%0*d", tc.name, i))
				one[0] = ZMember{Member: name, Score: float64(perm[i])}
				if tc.order == "ascending" {
					one[0].Score = float64(i)
				}
				z.Set(one)
			}
			n := tc.n
			if tc.order == "half deleted" {
				for i := 0; i < tc.n; i += 2 {
					copy(name, fmt.Sprintf("%0*d", tc.name, perm[i]))
					z.Rem([][]byte{name})
				}
				n = z.Len()
			}
			after := heapAfterGC()
			nodes := float64(len(z.leaves)-len(z.freeL)+len(z.inners)-len(z.freeI))*1024 + float64(cap(z.leaves)+cap(z.inners))*8
			real := float64(after-before) / float64(n)
			acct := float64(z.Bytes()) / float64(n)
			t.Logf("%d members: real %.1f B/member, Bytes %.1f, Bytes/real %.2f; tree %.1f B/member (ZTreeOverhead %d)",
				n, real, acct, acct/real, nodes/float64(n), ZTreeOverhead)
			runtime.KeepAlive(z)
			runtime.KeepAlive(perm) // allocated before the first reading
			if r := acct / real; r < 0.8 || r > 1.25 {
				t.Fatalf("Bytes/real = %.2f, outside 0.8..1.25", r)
			}
		})
	}
}

// TestZSetTreeGCScanWork: a sorted set's tree holds one Go pointer per
// 1 KiB node (and its records none), so a million members add well under
// a byte per member to what the collector scans each cycle.
func TestZSetTreeGCScanWork(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	name := make([]byte, 12)
	before := scannableHeap()
	z := NewZSetTree(0)
	one := make([]ZMember, 1)
	for i := range n {
		copy(name, fmt.Sprintf("%012d", i))
		one[0] = ZMember{Member: name, Score: float64(i % 1000)}
		z.Set(one)
	}
	per := float64(scannableHeap()-before) / float64(n)
	runtime.KeepAlive(z)
	t.Logf("%d members: scannable heap %.3f B/member", n, per)
	if per > 1 {
		t.Fatalf("a ZSetTree adds %.2f scannable bytes per member", per)
	}
}
