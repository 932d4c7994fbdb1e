package value

import (
	"bytes"
	"math"
)

// # The B+tree

// zkey is an entry being searched for: its score, its record's ref and
// its member bytes (so ties compare without reading the arena for it).
type zkey struct {
	score  float64
	ref    uint64
	member []byte
}

// cmp orders k against the entry (s, r).
func (z *ZSetTree) cmp(k *zkey, s float64, r uint64) int {
	switch {
	case k.score < s:
		return -1
	case k.score > s:
		return 1
	case k.ref == r:
		return 0
	}
	return bytes.Compare(k.member, z.memberOf(r))
}

type zstep struct {
	node int32
	idx  int32
}

// innerSearch is the child of in whose subtree holds k's place: the last
// one whose smallest entry is not after k (child 0 if none).
func (z *ZSetTree) innerSearch(in *zinner, k *zkey) int {
	i := 1
	for n := int(in.n); i < n && in.score[i] < k.score; i++ {
	}
	for n := int(in.n); i < n && z.cmp(k, in.score[i], in.ref[i]) >= 0; i++ {
	}
	return i - 1
}

// leafSearch is the position of the first entry of lf not before k.
func (z *ZSetTree) leafSearch(lf *zleaf, k *zkey) int {
	p, n := 0, int(lf.n)
	for p < n && lf.score[p] < k.score {
		p++
	}
	for p < n && z.cmp(k, lf.score[p], lf.ref[p]) > 0 {
		p++
	}
	return p
}

// descend finds the leaf of k's place, recording the path (path[d] is the
// inner node at depth d and the child taken).
func (z *ZSetTree) descend(k *zkey, path *[zMaxDepth]zstep) int32 {
	id := z.root
	for d := range z.height {
		in := z.inners[id]
		i := z.innerSearch(in, k)
		path[d] = zstep{id, int32(i)}
		id = in.child[i]
	}
	return id
}

// seek finds the leaf and position of rank.
func (z *ZSetTree) seek(rank int) (int32, int) {
	id := z.root
	for range z.height {
		in := z.inners[id]
		i := 0
		for ; i < int(in.n)-1 && int64(rank) >= in.count[i]; i++ {
			rank -= int(in.count[i])
		}
		id = in.child[i]
	}
	return id, rank
}

func (z *ZSetTree) newLeaf() int32 {
	if n := len(z.freeL); n > 0 {
		id := z.freeL[n-1]
		z.freeL = z.freeL[:n-1]
		z.leaves[id] = &zleaf{prev: -1, next: -1}
		return id
	}
	if len(z.leaves) >= math.MaxInt32 {
		panic("value: sorted set tree full")
	}
	z.leaves = append(z.leaves, &zleaf{prev: -1, next: -1})
	return int32(len(z.leaves) - 1)
}

func (z *ZSetTree) freeLeaf(id int32) {
	z.leaves[id] = nil
	z.freeL = append(z.freeL, id)
}

func (z *ZSetTree) newInner() int32 {
	if n := len(z.freeI); n > 0 {
		id := z.freeI[n-1]
		z.freeI = z.freeI[:n-1]
		z.inners[id] = &zinner{}
		return id
	}
	z.inners = append(z.inners, &zinner{})
	return int32(len(z.inners) - 1)
}

func (z *ZSetTree) freeInner(id int32) {
	z.inners[id] = nil
	z.freeI = append(z.freeI, id)
}

// fixMin records (s, r) as the new smallest entry of the subtree the path
// reaches at depth d-1's child: up the path while that child is the first
// of its node (its smallest entry is its parent's too).
func (z *ZSetTree) fixMin(path *[zMaxDepth]zstep, d int, s float64, r uint64) {
	for d--; d >= 0; d-- {
		in := z.inners[path[d].node]
		i := path[d].idx
		in.score[i], in.ref[i] = s, r
		if i != 0 {
			return
		}
	}
}

func leafInsertAt(lf *zleaf, p int, s float64, r uint64) {
	n := int(lf.n)
	copy(lf.score[p+1:n+1], lf.score[p:n])
	copy(lf.ref[p+1:n+1], lf.ref[p:n])
	lf.score[p], lf.ref[p] = s, r
	lf.n++
}

func leafRemoveAt(lf *zleaf, p int) {
	n := int(lf.n)
	copy(lf.score[p:n-1], lf.score[p+1:n])
	copy(lf.ref[p:n-1], lf.ref[p+1:n])
	lf.n--
}

// treeInsert enters (score, r) in the order; member is r's member.
func (z *ZSetTree) treeInsert(score float64, r uint64, member []byte) {
	k := zkey{score, r, member}
	var path [zMaxDepth]zstep
	lid := z.descend(&k, &path)
	for d := range z.height {
		z.inners[path[d].node].count[path[d].idx]++
	}
	lf := z.leaves[lid]
	p := z.leafSearch(lf, &k)
	if lf.n < zLeafCap {
		leafInsertAt(lf, p, score, r)
		if p == 0 {
			z.fixMin(&path, z.height, score, r)
		}
		return
	}
	// Split: rid becomes the leaf after lid.
	rid := z.newLeaf()
	lf = z.leaves[lid]
	rt := z.leaves[rid]
	switch {
	case p == zLeafCap && lid == z.tail:
		// Appending past the end: a new last leaf, this one stays full.
		leafInsertAt(rt, 0, score, r)
	case p == 0 && lid == z.head:
		// Before the start: this leaf's entries move to the new one and
		// it starts again with the new entry.
		copy(rt.score[:], lf.score[:])
		copy(rt.ref[:], lf.ref[:])
		rt.n, lf.n = lf.n, 0
		leafInsertAt(lf, 0, score, r)
	default:
		mid := (zLeafCap + 1) / 2
		copy(rt.score[:], lf.score[mid:zLeafCap])
		copy(rt.ref[:], lf.ref[mid:zLeafCap])
		rt.n, lf.n = int32(zLeafCap-mid), int32(mid)
		if p <= mid {
			leafInsertAt(lf, p, score, r)
		} else {
			leafInsertAt(rt, p-mid, score, r)
		}
	}
	rt.prev, rt.next = lid, lf.next
	if lf.next >= 0 {
		z.leaves[lf.next].prev = rid
	} else {
		z.tail = rid
	}
	lf.next = rid
	if lf.score[0] == score && lf.ref[0] == r {
		z.fixMin(&path, z.height, score, r)
	}
	if z.height == 0 {
		z.newRoot(lid, int64(lf.n), rid, int64(rt.n), lf.score[0], lf.ref[0], rt.score[0], rt.ref[0])
		return
	}
	par := z.inners[path[z.height-1].node]
	par.count[path[z.height-1].idx] = int64(lf.n)
	z.insertChild(&path, z.height-1, int(path[z.height-1].idx)+1, rid, int64(rt.n), rt.score[0], rt.ref[0])
}

// newRoot makes a root over two nodes (a split root).
func (z *ZSetTree) newRoot(a int32, ca int64, b int32, cb int64, as float64, ar uint64, bs float64, br uint64) {
	id := z.newInner()
	in := z.inners[id]
	in.n = 2
	in.child[0], in.count[0], in.score[0], in.ref[0] = a, ca, as, ar
	in.child[1], in.count[1], in.score[1], in.ref[1] = b, cb, bs, br
	z.root = id
	z.height++
	if z.height >= zMaxDepth {
		panic("value: sorted set tree too deep")
	}
}

func innerInsertAt(in *zinner, at int, child int32, cnt int64, s float64, r uint64) {
	n := int(in.n)
	copy(in.child[at+1:n+1], in.child[at:n])
	copy(in.count[at+1:n+1], in.count[at:n])
	copy(in.score[at+1:n+1], in.score[at:n])
	copy(in.ref[at+1:n+1], in.ref[at:n])
	in.child[at], in.count[at], in.score[at], in.ref[at] = child, cnt, s, r
	in.n++
}

func innerRemoveAt(in *zinner, at int) {
	n := int(in.n)
	copy(in.child[at:n-1], in.child[at+1:n])
	copy(in.count[at:n-1], in.count[at+1:n])
	copy(in.score[at:n-1], in.score[at+1:n])
	copy(in.ref[at:n-1], in.ref[at+1:n])
	in.n--
}

func (in *zinner) total() (t int64) {
	for _, c := range in.count[:in.n] {
		t += c
	}
	return t
}

// insertChild inserts a child (its count and smallest entry) at position
// at of the inner node at depth d of the path, splitting it if full.
func (z *ZSetTree) insertChild(path *[zMaxDepth]zstep, d, at int, child int32, cnt int64, s float64, r uint64) {
	xid := path[d].node
	x := z.inners[xid]
	if x.n < zInnerCap {
		innerInsertAt(x, at, child, cnt, s, r)
		return
	}
	yid := z.newInner()
	x = z.inners[xid]
	y := z.inners[yid]
	mid := (zInnerCap + 1) / 2
	n := copy(y.child[:], x.child[mid:zInnerCap])
	copy(y.count[:], x.count[mid:zInnerCap])
	copy(y.score[:], x.score[mid:zInnerCap])
	copy(y.ref[:], x.ref[mid:zInnerCap])
	y.n, x.n = int32(n), int32(mid)
	if at <= mid {
		innerInsertAt(x, at, child, cnt, s, r)
	} else {
		innerInsertAt(y, at-mid, child, cnt, s, r)
	}
	if d == 0 {
		z.newRoot(xid, x.total(), yid, y.total(), x.score[0], x.ref[0], y.score[0], y.ref[0])
		return
	}
	par := z.inners[path[d-1].node]
	par.count[path[d-1].idx] = x.total()
	z.insertChild(path, d-1, int(path[d-1].idx)+1, yid, y.total(), y.score[0], y.ref[0])
}

// treeDelete removes (score, r) from the order; member is r's member.
func (z *ZSetTree) treeDelete(score float64, r uint64, member []byte) {
	k := zkey{score, r, member}
	var path [zMaxDepth]zstep
	lid := z.descend(&k, &path)
	lf := z.leaves[lid]
	p := z.leafSearch(lf, &k)
	if p >= int(lf.n) || lf.ref[p] != r {
		panic("value: sorted set entry missing from its tree")
	}
	for d := range z.height {
		z.inners[path[d].node].count[path[d].idx]--
	}
	leafRemoveAt(lf, p)
	if p == 0 && lf.n > 0 {
		z.fixMin(&path, z.height, lf.score[0], lf.ref[0])
	}
	if z.height == 0 || lf.n >= zLeafMin {
		return
	}
	h := z.height
	par := z.inners[path[h-1].node]
	i := int(path[h-1].idx)
	wasEmpty := lf.n == 0
	if i+1 < int(par.n) {
		rid := par.child[i+1]
		rt := z.leaves[rid]
		if rt.n > zLeafMin { // borrow the right sibling's first entry
			leafInsertAt(lf, int(lf.n), rt.score[0], rt.ref[0])
			leafRemoveAt(rt, 0)
			par.count[i]++
			par.count[i+1]--
			par.score[i+1], par.ref[i+1] = rt.score[0], rt.ref[0]
		} else { // merge the right sibling into this leaf
			n := int(lf.n)
			copy(lf.score[n:], rt.score[:rt.n])
			copy(lf.ref[n:], rt.ref[:rt.n])
			lf.n += rt.n
			par.count[i] += int64(rt.n)
			innerRemoveAt(par, i+1)
			z.unlinkLeaf(rid)
		}
		if wasEmpty {
			z.fixMin(&path, h, lf.score[0], lf.ref[0])
		}
	} else {
		lid2 := par.child[i-1]
		lt := z.leaves[lid2]
		if lt.n > zLeafMin { // borrow the left sibling's last entry
			leafInsertAt(lf, 0, lt.score[lt.n-1], lt.ref[lt.n-1])
			lt.n--
			par.count[i]++
			par.count[i-1]--
			par.score[i], par.ref[i] = lf.score[0], lf.ref[0]
		} else { // merge this leaf into the left sibling
			n := int(lt.n)
			copy(lt.score[n:], lf.score[:lf.n])
			copy(lt.ref[n:], lf.ref[:lf.n])
			lt.n += lf.n
			par.count[i-1] += int64(lf.n)
			innerRemoveAt(par, i)
			z.unlinkLeaf(lid)
		}
	}
	z.rebalanceInner(&path, h-1)
}

// unlinkLeaf takes a merged-away leaf out of the leaf chain and frees it.
func (z *ZSetTree) unlinkLeaf(id int32) {
	lf := z.leaves[id]
	if lf.prev >= 0 {
		z.leaves[lf.prev].next = lf.next
	} else {
		z.head = lf.next
	}
	if lf.next >= 0 {
		z.leaves[lf.next].prev = lf.prev
	} else {
		z.tail = lf.prev
	}
	z.freeLeaf(id)
}

// rebalanceInner restores the inner node at depth d of the path after one
// of its children was removed: a root with one child gives way to it; a
// node under half full borrows a child from a sibling or merges with it.
func (z *ZSetTree) rebalanceInner(path *[zMaxDepth]zstep, d int) {
	for ; d >= 0; d-- {
		xid := path[d].node
		x := z.inners[xid]
		if d == 0 {
			if x.n == 1 {
				z.root = x.child[0]
				z.height--
				z.freeInner(xid)
			}
			return
		}
		if x.n >= zInnerMin {
			return
		}
		g := z.inners[path[d-1].node]
		j := int(path[d-1].idx)
		if j+1 < int(g.n) {
			yid := g.child[j+1]
			y := z.inners[yid]
			if y.n > zInnerMin { // borrow y's first child
				innerInsertAt(x, int(x.n), y.child[0], y.count[0], y.score[0], y.ref[0])
				g.count[j] += y.count[0]
				g.count[j+1] -= y.count[0]
				innerRemoveAt(y, 0)
				g.score[j+1], g.ref[j+1] = y.score[0], y.ref[0]
				return
			}
			n := int(x.n) // merge y into x
			copy(x.child[n:], y.child[:y.n])
			copy(x.count[n:], y.count[:y.n])
			copy(x.score[n:], y.score[:y.n])
			copy(x.ref[n:], y.ref[:y.n])
			x.n += y.n
			g.count[j] += g.count[j+1]
			innerRemoveAt(g, j+1)
			z.freeInner(yid)
			continue
		}
		wid := g.child[j-1]
		w := z.inners[wid]
		if w.n > zInnerMin { // borrow w's last child
			l := int(w.n) - 1
			innerInsertAt(x, 0, w.child[l], w.count[l], w.score[l], w.ref[l])
			g.count[j] += w.count[l]
			g.count[j-1] -= w.count[l]
			w.n--
			g.score[j], g.ref[j] = x.score[0], x.ref[0]
			return
		}
		n := int(w.n) // merge x into w
		copy(w.child[n:], x.child[:x.n])
		copy(w.count[n:], x.count[:x.n])
		copy(w.score[n:], x.score[:x.n])
		copy(w.ref[n:], x.ref[:x.n])
		w.n += x.n
		g.count[j-1] += g.count[j]
		innerRemoveAt(g, j)
		z.freeInner(xid)
	}
}

// relocate follows a record the table's compaction moved from `from` to
// `to` (rec is its bytes): the leaf entry and the separators naming it.
func (z *ZSetTree) relocate(rec []byte, from, to ref) {
	k := zkey{zrecScore(rec), uint64(from), nameOf(rec)}
	var path [zMaxDepth]zstep
	lid := z.descend(&k, &path)
	for d := range z.height {
		in := z.inners[path[d].node]
		if in.ref[path[d].idx] == uint64(from) {
			in.ref[path[d].idx] = uint64(to)
		}
	}
	lf := z.leaves[lid]
	p := z.leafSearch(lf, &k)
	if p >= int(lf.n) || lf.ref[p] != uint64(from) {
		panic("value: moved sorted set record missing from its tree")
	}
	lf.ref[p] = uint64(to)
}
