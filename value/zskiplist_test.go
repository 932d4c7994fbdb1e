package value

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// A pointer-free skiplist over the same member index, written only to
// compare with the B+tree (TestZSetTreeVsSkiplist): Redis's shape (p=1/4,
// 32 levels, spans for ranks), its nodes in flat arrays (score, record
// ref, and per level a next index and a span), so that it costs the
// garbage collector nothing either. Inserts only.
type zskip struct {
	t      table
	score  []float64
	ref    []uint64
	lvl    []int32 // first level slot of node i in next/span
	nlvl   []uint8
	next   []int32
	span   []int32
	level  int
	length int
	rng    *rand.Rand
}

const zskipMax = 32

func newZskip() *zskip {
	s := &zskip{t: newTable(0, true), rng: rand.New(rand.NewPCG(1, 2)), level: 1}
	s.newNode(0, 0, zskipMax) // the header
	return s
}

func (s *zskip) newNode(score float64, r uint64, lv int) int32 {
	id := int32(len(s.score))
	s.score = append(s.score, score)
	s.ref = append(s.ref, r)
	s.lvl = append(s.lvl, int32(len(s.next)))
	s.nlvl = append(s.nlvl, uint8(lv))
	for range lv {
		s.next = append(s.next, -1)
		s.span = append(s.span, 0)
	}
	return id
}

func (s *zskip) less(a int32, score float64, member []byte) bool {
	if s.score[a] != score {
		return s.score[a] < score
	}
	return bytes.Compare(nameOf(s.t.a.bytesAt(ref(s.ref[a]))), member) < 0
}

func (s *zskip) insert(member []byte, score float64) {
	x, dst := s.t.a.alloc(zrecLen(member))
	putChunk(dst, member)
	s.t.insert(nameHash(member), x)
	var update [zskipMax]int32
	var rank [zskipMax]int32
	n := int32(0)
	for i := s.level - 1; i >= 0; i-- {
		if i < s.level-1 {
			rank[i] = rank[i+1]
		}
		for nx := s.next[s.lvl[n]+int32(i)]; nx >= 0 && s.less(nx, score, member); nx = s.next[s.lvl[n]+int32(i)] {
			rank[i] += s.span[s.lvl[n]+int32(i)]
			n = nx
		}
		update[i] = n
	}
	lv := 1
	for lv < zskipMax && s.rng.IntN(4) == 0 {
		lv++
	}
	if lv > s.level {
		for i := s.level; i < lv; i++ {
			rank[i], update[i] = 0, 0
			s.span[i] = int32(s.length)
		}
		s.level = lv
	}
	id := s.newNode(score, uint64(x), lv)
	for i := range lv {
		u := s.lvl[update[i]] + int32(i)
		me := s.lvl[id] + int32(i)
		s.next[me] = s.next[u]
		s.next[u] = id
		s.span[me] = s.span[u] - (rank[0] - rank[i])
		s.span[u] = rank[0] - rank[i] + 1
	}
	for i := lv; i < s.level; i++ {
		s.span[s.lvl[update[i]]+int32(i)]++
	}
	s.length++
}

// rank is the 1-based rank of (score, member).
func (s *zskip) rank(member []byte, score float64) int {
	r := int32(0)
	n := int32(0)
	for i := s.level - 1; i >= 0; i-- {
		for nx := s.next[s.lvl[n]+int32(i)]; nx >= 0 && (s.less(nx, score, member) || bytes.Equal(nameOf(s.t.a.bytesAt(ref(s.ref[nx]))), member)); nx = s.next[s.lvl[n]+int32(i)] {
			r += s.span[s.lvl[n]+int32(i)]
			n = nx
		}
	}
	return int(r)
}

func (s *zskip) nodeBytes() int {
	return cap(s.score)*8 + cap(s.ref)*8 + cap(s.lvl)*4 + cap(s.nlvl) + cap(s.next)*4 + cap(s.span)*4
}

// TestZSetTreeVsSkiplist measures the choice value/zsettree.go documents:
// a million members ("member:%07d", random scores) inserted one by one,
// then a million ZRANK-style lookups of random members, in the B+tree and
// in a pointer-free skiplist of Redis's shape over the same member index;
// it logs ns per insert and per rank and the order structure's bytes per
// member (the index and records are the same in both). Nothing asserts:
// the machine is shared, and the figures in zsettree.go's doc come from
// this log. Skipped under -short and -race.
func TestZSetTreeVsSkiplist(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a million-member comparison: not under -short or -race")
	}
	const n = 1_000_000
	members := make([][]byte, n)
	scores := make([]float64, n)
	for i := range n {
		members[i] = fmt.Appendf(nil, "member:%07d", i)
		scores[i] = float64(rand.IntN(n))
	}
	probe := rand.Perm(n)

	z := NewZSetTree(0)
	one := make([]ZMember, 1)
	t0 := time.Now()
	for i := range n {
		one[0] = ZMember{Member: members[i], Score: scores[i]}
		z.Set(one)
	}
	zIns := time.Since(t0)
	t0 = time.Now()
	sum := 0
	for _, i := range probe {
		r, _, _ := z.Rank(members[i])
		sum += r
	}
	zRank := time.Since(t0)
	zNodes := (len(z.leaves)-len(z.freeL)+len(z.inners)-len(z.freeI))*1024 + cap(z.leaves)*8 + cap(z.inners)*8

	s := newZskip()
	t0 = time.Now()
	for i := range n {
		s.insert(members[i], scores[i])
	}
	sIns := time.Since(t0)
	t0 = time.Now()
	sum2 := 0
	for _, i := range probe {
		sum2 += s.rank(members[i], scores[i]) - 1
	}
	sRank := time.Since(t0)
	if sum != sum2 {
		t.Fatalf("ranks differ: %d vs %d", sum, sum2)
	}
	t.Logf("B+tree:   insert %.0f ns, rank %.0f ns, %.1f bytes/member of tree (height %d)",
		float64(zIns.Nanoseconds())/n, float64(zRank.Nanoseconds())/n, float64(zNodes)/n, z.height+1)
	t.Logf("skiplist: insert %.0f ns, rank %.0f ns, %.1f bytes/member of nodes (arrays at capacity)",
		float64(sIns.Nanoseconds())/n, float64(sRank.Nanoseconds())/n, float64(s.nodeBytes())/n)
}
