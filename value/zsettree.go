package value

import (
	"encoding/binary"
	"math"
)

// # Big encoding of sorted sets: ZSetTree
//
// Past zset-max-listpack-entries / -value a sorted set is a ZSetTree
// (Redis's "skiplist" encoding: a skiplist plus a dict): a member index
// and an order.
//
// Members. The member index is the hash table of table.go, its records
// uvarint(len(member)) member 0x08 score (8 bytes, IEEE 754, little
// endian): a hash's record layout with the score as an 8-byte value. So
// ZSCORE and the existence check of ZADD are one probe, a changed score is
// rewritten in place, ZSCAN pages the index in hash order with the compact
// encoding's cursor, and the garbage rules and the accounting of records
// are the table's.
//
// Order. An order-statistic B+tree of (score, record ref) entries, ordered
// by score and then by member bytes (read through the ref, only when two
// scores tie), with subtree counts in the inner nodes, gives O(log n)
// insert, delete, rank (ZRANK), select by rank (ZRANGE by rank,
// ZREMRANGEBYRANK) and search by score or member (ZRANGEBYSCORE, ZCOUNT,
// BYLEX), and an in-order walk along linked leaves. A leaf holds up to
// zLeafCap entries in two parallel arrays (scores, then refs, so a binary
// search over scores reads consecutive memory) and is 1 KiB, a Go size
// class; an inner node holds up to zInnerCap children with their subtree
// counts and the smallest entry of each child's subtree (the separator,
// always a live element: a delete that removes a subtree's smallest entry
// writes the new one into the separators above it, so no separator ever
// names a dead record). Leaves and inner nodes split in half when full,
// except that an insert past the last entry of the last leaf (or before
// the first of the first) starts a new leaf, so a set filled in order
// (timestamps, counters) has full leaves; a node under half full after a
// delete borrows from a sibling or merges with it, so every node but the
// root and the ends stays at least half full.
//
// Why a B+tree and not Redis's skiplist: a skiplist node per element
// means a Go allocation per element (pointers for the collector to trace)
// or an arena of variable-sized nodes with its own allocator and
// compaction; it costs 32 to 48 bytes per element with its levels and
// spans; and a search is ~1.5 log2(n) dependent loads, one cache miss each
// past the cache (30 at 1M). The B+tree costs 16 bytes per entry in a full
// leaf (24.6 at the 70% fill of random inserts), one pointer per 1 KiB
// node (~16K for a million elements), and a search is four nodes at a
// million, each scanned sequentially (which the hardware prefetches;
// a binary search inside a node was a chain of dependent misses, ~30%
// slower for ZRANK at 1M). Measured with TestZSetTreeVsSkiplist (go1.26.8
// linux/amd64, 1M members "member:%07d" with random integer scores,
// against a pointer-free skiplist of Redis's shape over the same member
// index, shared 2-core machine at load average 1.5, two runs): insert
// 0.87-1.03 µs and rank 1.24-1.40 µs for the B+tree, 2.3-2.8 and
// 4.4-4.9 µs for the skiplist; 24.6 bytes per member of tree against
// 33.1 of skiplist nodes.
//
// Records move only when the table compacts a page (table.compact); the
// tree follows them (relocate: one descent that rewrites the ref in the
// leaf and in the separators that hold it).
//
// # Accounting
//
// Bytes is the table's (tableBase, the records' pages, ElemOverhead per
// element for the index) plus zNodeBase for the root leaf and
// ZTreeOverhead per element for the tree: leaves between half and
// completely full cost 16.3 to 32.5 bytes per entry, plus inner nodes
// about 3% of that. ZTreeOverhead is the measured mean (TestZSetTreeMemory
// checks the whole set's Bytes against the heap, 0.8..1.25, for random,
// ascending and half-deleted sets). A write plans exactly as a set table
// does: ZADD's new members add ElemOverhead + ZTreeOverhead and their
// records (page tails included); a changed score adds nothing.

const (
	zLeafCap  = 63 // 16 + 63*16 = 1024 bytes
	zInnerCap = 36 // 8 + 36*28 = 1016 bytes
	zLeafMin  = zLeafCap / 2
	zInnerMin = zInnerCap / 2
	zMaxDepth = 24

	// zNodeBase is the root leaf and the node tables' headers.
	zNodeBase = 1024 + 128
)

// ZTreeOverhead is the B+tree's charge per element (see "Accounting").
// Measured with TestZSetTreeMemory (bytes per member of the tree alone,
// nodes and their slots, at 1M members): random inserts 24.6, ascending
// inserts 17.4, random inserts then half of them deleted at random 26.4.
// The whole set's Bytes over its heap, members of 14 bytes: 0.98, 1.10
// and 0.86.
const ZTreeOverhead = 24

type zleaf struct {
	n          int32
	prev, next int32
	_          int32
	score      [zLeafCap]float64
	ref        [zLeafCap]uint64
}

type zinner struct {
	n     int32
	_     int32
	child [zInnerCap]int32
	count [zInnerCap]int64
	score [zInnerCap]float64 // the smallest entry of child i's subtree
	ref   [zInnerCap]uint64
}

// ZSetTree is a sorted set in its big encoding (Redis's "skiplist"): see
// the doc above. It is not safe for concurrent use; package shard
// serializes it under a sub-shard lock. The zero value is not usable:
// NewZSetTree or ZSetTreeFrom.
type ZSetTree struct {
	t table // the member index and the records

	leaves       []*zleaf
	inners       []*zinner
	freeL, freeI []int32
	root         int32
	height       int // inner levels above the leaves
	head, tail   int32
}

// NewZSetTree returns an empty sorted set sized for sizeHint members.
func NewZSetTree(sizeHint int) *ZSetTree {
	z := &ZSetTree{t: newTable(sizeHint, true)}
	z.t.onMove = z.relocate
	z.root = z.newLeaf()
	z.head, z.tail = z.root, z.root
	return z
}

// ZSetTreeFrom converts the compact encoding enc (see zset.go).
func ZSetTreeFrom(enc []byte) (*ZSetTree, error) {
	z := NewZSetTree(ZSetLen(enc))
	it := ZSetMembers(enc)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		z.add(m.Member, m.Score, nameHash(m.Member))
	}
	return z, it.Err()
}

// Len is the number of members.
func (z *ZSetTree) Len() int { return z.t.n }

// Bytes is the accounted size (see "Accounting").
func (z *ZSetTree) Bytes() int64 {
	return z.t.bytes() + zNodeBase + int64(z.t.n)*ZTreeOverhead
}

// zElemCharge is what a new member adds beyond its record.
const zElemCharge = ElemOverhead + ZTreeOverhead

func zrecLen(m []byte) int { return uvarintLen(len(m)) + len(m) + 9 }

// zrecScore is the score of a record.
func zrecScore(rec []byte) float64 {
	_, rest := chunk(rec)
	return math.Float64frombits(binary.LittleEndian.Uint64(rest[1:9]))
}

func setZrecScore(rec []byte, s float64) {
	_, rest := chunk(rec)
	binary.LittleEndian.PutUint64(rest[1:9], math.Float64bits(s))
}

func (z *ZSetTree) memberOf(r uint64) []byte { return nameOf(z.t.a.bytesAt(ref(r))) }

// # Members

// Score returns the score of member.
func (z *ZSetTree) Score(member []byte) (float64, bool) {
	rec := z.t.lookup(member)
	if rec == nil {
		return 0, false
	}
	return zrecScore(rec), true
}

// add appends a new member's record, indexes it and enters it in the
// order. member must not be in the set.
func (z *ZSetTree) add(member []byte, score float64, h uint64) {
	x, dst := z.t.a.alloc(zrecLen(member))
	rest := putChunk(dst, member)
	rest[0] = 8
	binary.LittleEndian.PutUint64(rest[1:9], math.Float64bits(score))
	z.t.insert(h, x)
	z.treeInsert(score, uint64(x), member)
}

// PlanSet is Set's plan: the growth of Bytes that Set(set) will cause,
// without changing anything. The members of set must be distinct.
func (z *ZSetTree) PlanSet(set []ZMember) (grow int64) {
	fill := z.t.a.fill()
	for _, m := range set {
		if z.t.lookup(m.Member) != nil {
			continue // a new score is written in place
		}
		grow += zElemCharge + cost(&fill, zrecLen(m.Member))
	}
	return grow
}

// Set adds the members of set or gives them their new score (set's
// members must be distinct). Its growth is what PlanSet computed: new
// records are appended in set's order and nothing is killed.
func (z *ZSetTree) Set(set []ZMember) {
	for _, m := range set {
		h := nameHash(m.Member)
		si, pos, found := z.t.find(m.Member, h)
		if !found {
			z.add(m.Member, m.Score, h)
			continue
		}
		x := z.t.segs[si].b[pos].ref - 1
		rec := z.t.a.bytesAt(ref(x))
		old := zrecScore(rec)
		if old == m.Score && math.Signbit(old) == math.Signbit(m.Score) {
			continue
		}
		mem := nameOf(rec)
		z.treeDelete(old, x, mem)
		setZrecScore(rec, m.Score)
		z.treeInsert(m.Score, x, mem)
	}
}

// PlanRem is the number of distinct members Rem(members) will remove.
func (z *ZSetTree) PlanRem(members [][]byte) int {
	x := newFieldIndex(members)
	n := 0
	for i, m := range members {
		if x.find(m) == i && z.t.lookup(m) != nil {
			n++
		}
	}
	return n
}

// Rem removes members and returns how many were present. It only shrinks
// the set.
func (z *ZSetTree) Rem(members [][]byte) (removed int) {
	for _, m := range members {
		si, pos, found := z.t.find(m, nameHash(m))
		if !found {
			continue
		}
		x := ref(z.t.segs[si].b[pos].ref - 1)
		rec := z.t.a.bytesAt(x)
		z.treeDelete(zrecScore(rec), uint64(x), m)
		z.t.unindex(si, pos)
		z.t.kill(x, zrecLen(m))
		removed++
	}
	return removed
}

// RemRange removes the members of rank from to to-1 (0-based, ascending;
// clamped to the set), O(log n) each. It only shrinks the set.
func (z *ZSetTree) RemRange(from, to int) {
	from, to = max(from, 0), min(to, z.t.n)
	for k := from; k < to; k++ {
		lid, pos := z.seek(from)
		lf := z.leaves[lid]
		score, x := lf.score[pos], lf.ref[pos]
		m := z.memberOf(x)
		z.treeDelete(score, x, m)
		h := nameHash(m)
		si := z.t.seg(h)
		p := z.t.segs[si].findRef(h, ref(x))
		z.t.unindex(si, p)
		z.t.kill(ref(x), zrecLen(m))
	}
}

// Rank returns the 0-based rank of member (ascending) and its score.
func (z *ZSetTree) Rank(member []byte) (rank int, score float64, ok bool) {
	si, pos, found := z.t.find(member, nameHash(member))
	if !found {
		return 0, 0, false
	}
	x := z.t.segs[si].b[pos].ref - 1
	score = zrecScore(z.t.a.bytesAt(ref(x)))
	k := zkey{score, x, member}
	id := z.root
	for range z.height {
		in := z.inners[id]
		i := z.innerSearch(in, &k)
		for j := range i {
			rank += int(in.count[j])
		}
		id = in.child[i]
	}
	// The entry is in this leaf: found by its ref, a sequential scan
	// (the hardware prefetches it) rather than a binary search's
	// dependent loads.
	lf := z.leaves[id]
	for p := range int(lf.n) {
		if lf.ref[p] == x {
			return rank + p, score, true
		}
	}
	panic("value: sorted set member missing from its tree")
}

// CountScore is the number of members before the first one for which
// before(score) is false; before must hold for a prefix of the order
// (score < min, score <= max, ...). O(log n).
func (z *ZSetTree) CountScore(before func(score float64) bool) int {
	return z.countWhile(func(s float64, _ uint64) bool { return before(s) })
}

// CountLex is CountScore for a predicate on members (BYLEX ranges, which
// assume equal scores, as Redis's do).
func (z *ZSetTree) CountLex(before func(member []byte) bool) int {
	return z.countWhile(func(_ float64, r uint64) bool { return before(z.memberOf(r)) })
}

func (z *ZSetTree) countWhile(before func(float64, uint64) bool) int {
	id, rank := z.root, 0
	for range z.height {
		in := z.inners[id]
		lo, hi := 1, int(in.n)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if before(in.score[m], in.ref[m]) {
				lo = m + 1
			} else {
				hi = m
			}
		}
		for j := range lo - 1 {
			rank += int(in.count[j])
		}
		id = in.child[lo-1]
	}
	lf := z.leaves[id]
	lo, hi := 0, int(lf.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if before(lf.score[m], lf.ref[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return rank + lo
}

// Walk calls fn with the member of rank rank and the following ones
// (rev false) or the preceding ones (rev true), until fn returns false or
// the set ends. Member slices are valid until the next change.
func (z *ZSetTree) Walk(rank int, rev bool, fn func(m ZMember) bool) {
	if rank < 0 || rank >= z.t.n {
		return
	}
	lid, pos := z.seek(rank)
	for lid >= 0 {
		lf := z.leaves[lid]
		if !rev {
			for ; pos < int(lf.n); pos++ {
				if !fn(ZMember{Member: z.memberOf(lf.ref[pos]), Score: lf.score[pos]}) {
					return
				}
			}
			lid, pos = lf.next, 0
			continue
		}
		for ; pos >= 0; pos-- {
			if !fn(ZMember{Member: z.memberOf(lf.ref[pos]), Score: lf.score[pos]}) {
				return
			}
		}
		lid = lf.prev
		if lid >= 0 {
			pos = int(z.leaves[lid].n) - 1
		}
	}
}

// AppendEncoding appends the whole set to dst in the compact encoding
// (zset.go), in order: a copy to reply from or to sort.
func (z *ZSetTree) AppendEncoding(dst []byte) []byte {
	dst = ZSetAppendHeader(dst, z.t.n)
	z.Walk(0, false, func(m ZMember) bool {
		dst = ZSetAppendMember(dst, m)
		return true
	})
	return dst
}

// Scan is ZSCAN over the set: fn gets about count members from cursor
// on, in member-hash order, with the compact encoding's cursor; see
// table.scanFrom for the guarantee.
func (z *ZSetTree) Scan(cursor uint64, count int, fn func(m ZMember)) (next uint64) {
	return z.t.scanFrom(cursor, count, func(rec []byte) {
		fn(ZMember{Member: nameOf(rec), Score: zrecScore(rec)})
	})
}

// Clone returns a copy (COPY), built in order: its leaves are full and
// its arena compact.
func (z *ZSetTree) Clone() *ZSetTree {
	c := NewZSetTree(z.t.n)
	z.Walk(0, false, func(m ZMember) bool {
		c.add(m.Member, m.Score, nameHash(m.Member))
		return true
	})
	return c
}
