package value

import (
	"math"
)

// # Changes in the middle

// nodeElems appends node nd's elements to dst.
func nodeElems(dst [][]byte, nd *qnode) [][]byte {
	for off := int(nd.lo); off < int(nd.hi); {
		var e []byte
		e, off = qnext(nd.buf, off)
		dst = append(dst, e)
	}
	return dst
}

// layout splits elements of the given sizes into nodes, as few as the
// fill allows, balanced by bytes: it returns the number of elements of
// each node.
func (q *QuickList) layout(sizes []int) []int {
	greedy := func(target int) []int {
		var out []int
		used, n := 0, 0
		for _, sz := range sizes {
			if n > 0 && (!q.allow(used, n, sz) || target > 0 && used >= target) {
				out = append(out, n)
				used, n = 0, 0
			}
			used += sz
			n++
		}
		return append(out, n)
	}
	out := greedy(0)
	if len(out) < 2 {
		return out
	}
	total := 0
	for _, sz := range sizes {
		total += sz
	}
	if b := greedy((total + len(out) - 1) / len(out)); len(b) <= len(out) {
		return b
	}
	return out
}

// rebuildPlan is the growth of replacing node j's elements by elems of
// these sizes (see rebuild).
func (q *QuickList) rebuildPlan(j int, sizes []int) (grow int64) {
	nd := q.at(j)
	parts := q.layout(sizes)
	if len(parts) == 1 {
		total := 0
		for _, sz := range sizes {
			total += sz
		}
		if total <= cap(nd.buf) {
			return 0
		}
		return int64(classUp(total) - cap(nd.buf))
	}
	grow = -int64(cap(nd.buf))
	i := 0
	for _, cnt := range parts {
		total := 0
		for _, sz := range sizes[i : i+cnt] {
			total += sz
		}
		i += cnt
		grow += int64(classUp(total))
	}
	if rl := ringLenFor(len(q.ring), q.nn+len(parts)-1); rl > len(q.ring) {
		grow += int64(rl-len(q.ring)) * qnodeSize
	}
	return grow
}

// rebuild replaces node j's elements by elems: in its own buffer when
// they fit one node and the buffer, else in new buffers, over as many
// nodes as layout says; the nodes after it are renumbered.
func (q *QuickList) rebuild(j int, elems [][]byte) {
	nd := q.at(j)
	sizes := make([]int, len(elems))
	total := 0
	for i, e := range elems {
		sizes[i] = qelemSize(len(e))
		total += sizes[i]
	}
	parts := q.layout(sizes)
	oldN := int(nd.n)
	if len(parts) == 1 && total <= cap(nd.buf) {
		// In place: the elements are slices of this buffer, so build
		// aside first.
		tmp := make([]byte, total)
		off := 0
		for i, e := range elems {
			qput(tmp[off:], e)
			off += sizes[i]
		}
		o := (cap(nd.buf) - total) / 2
		switch {
		case j == 0 && q.nn > 1:
			o = cap(nd.buf) - total
		case j == q.nn-1 && q.nn > 1:
			o = 0
		}
		copy(nd.buf[o:], tmp)
		nd.lo, nd.hi, nd.n = int32(o), int32(o+total), int32(len(elems))
	} else {
		bufs := make([]qnode, len(parts))
		i := 0
		for p, cnt := range parts {
			t := 0
			for _, sz := range sizes[i : i+cnt] {
				t += sz
			}
			b := make([]byte, classUp(t))
			off := 0
			for _, e := range elems[i : i+cnt] {
				qput(b[off:], e)
				off += qelemSize(len(e))
			}
			bufs[p] = qnode{buf: b, lo: 0, hi: int32(t), n: int32(cnt)}
			i += cnt
		}
		if j == 0 && len(bufs) > 0 { // the first node keeps its room in front
			f := &bufs[0]
			f.buf, f.lo, f.hi = place(f.buf[:f.hi], cap(f.buf), true)
		}
		q.caps -= int64(cap(nd.buf))
		for _, b := range bufs {
			q.caps += int64(cap(b.buf))
		}
		q.growRing(q.nn + len(bufs) - 1)
		// Shift the nodes after j to make room for the new ones.
		extra := len(bufs) - 1
		for k := q.nn - 1; k > j; k-- {
			*q.at(k + extra) = *q.at(k)
		}
		q.nn += extra
		v := q.at(j).v
		for p, b := range bufs {
			b.v = v
			v += int64(b.n)
			*q.at(j + p) = b
		}
	}
	q.n += len(elems) - oldN
	q.renumber(j)
}

// renumber recomputes the virtual index of the nodes after node j.
func (q *QuickList) renumber(j int) {
	for k := j + 1; k < q.nn; k++ {
		prev := q.at(k - 1)
		q.at(k).v = prev.v + int64(prev.n)
	}
}

// PlanSet is Set's plan: the growth of Bytes that Set(i, e) will cause.
func (q *QuickList) PlanSet(i int, e []byte) int64 {
	j, k := q.find(i)
	nd := q.at(j)
	old, _, _ := elemAt(nd, k)
	if len(old) == len(e) {
		return 0
	}
	sizes := q.sizesOf(nd)
	sizes[k] = qelemSize(len(e))
	return q.rebuildPlan(j, sizes)
}

// Set replaces the element at index i (0 <= i < Len) by e (LSET): in
// place when the lengths match, else by rebuilding its node.
func (q *QuickList) Set(i int, e []byte) {
	j, k := q.find(i)
	nd := q.at(j)
	old, _, _ := elemAt(nd, k)
	if len(old) == len(e) {
		copy(old, e)
		return
	}
	elems := nodeElems(nil, nd)
	elems[k] = e
	q.rebuild(j, elems)
}

func (q *QuickList) sizesOf(nd *qnode) []int {
	sizes := make([]int, 0, nd.n)
	for off := int(nd.lo); off < int(nd.hi); {
		var e []byte
		e, off = qnext(nd.buf, off)
		sizes = append(sizes, qelemSize(len(e)))
	}
	return sizes
}

// QuickListPos is a position found by a plan (PlanInsert) for its commit:
// valid only until the list changes.
type QuickListPos struct{ j, k int }

// PlanInsert finds the first element equal to pivot (LINSERT) and plans
// inserting e before or after it: found is false when there is none; pos
// is for Insert.
func (q *QuickList) PlanInsert(pivot, e []byte, before bool) (grow int64, pos QuickListPos, found bool) {
	for j := range q.nn {
		nd := q.at(j)
		k := 0
		for off := int(nd.lo); off < int(nd.hi); k++ {
			var x []byte
			x, off = qnext(nd.buf, off)
			if string(x) != string(pivot) {
				continue
			}
			if !before {
				k++
			}
			sizes := q.sizesOf(nd)
			sizes = append(sizes[:k], append([]int{qelemSize(len(e))}, sizes[k:]...)...)
			return q.rebuildPlan(j, sizes), QuickListPos{j, k}, true
		}
	}
	return 0, QuickListPos{}, false
}

// Insert inserts e at the position PlanInsert found; its growth is what
// PlanInsert computed.
func (q *QuickList) Insert(pos QuickListPos, e []byte) {
	nd := q.at(pos.j)
	elems := nodeElems(make([][]byte, 0, nd.n+1), nd)
	elems = append(elems[:pos.k], append([][]byte{e}, elems[pos.k:]...)...)
	q.rebuild(pos.j, elems)
}

// Rem removes the elements equal to e, as LREM: count > 0 the first
// count from the head, count < 0 the first -count from the tail, 0 all.
// It returns the number removed and only shrinks the list.
func (q *QuickList) Rem(count int64, e []byte) (removed int) {
	limit := int64(math.MaxInt64)
	if count > 0 {
		limit = count
	} else if count < 0 && count != math.MinInt64 {
		limit = -count
	}
	rev := count < 0
	for jj := 0; jj < q.nn && int64(removed) < limit; jj++ {
		j := jj
		if rev {
			j = q.nn - 1 - jj
		}
		nd := q.at(j)
		elems := nodeElems(nil, nd)
		keep := elems[:0:0]
		hit := 0
		if !rev {
			for _, x := range elems {
				if string(x) == string(e) && int64(removed+hit) < limit {
					hit++
					continue
				}
				keep = append(keep, x)
			}
		} else {
			drop := make([]bool, len(elems))
			for i := len(elems) - 1; i >= 0; i-- {
				if string(elems[i]) == string(e) && int64(removed+hit) < limit {
					drop[i] = true
					hit++
				}
			}
			for i, x := range elems {
				if !drop[i] {
					keep = append(keep, x)
				}
			}
		}
		if hit == 0 {
			continue
		}
		removed += hit
		if len(keep) == 0 {
			// The nodes after j move down one: forward, the next node
			// is at j again; backward, the next is still j-1, which is
			// now one closer to the end.
			q.removeNode(j)
			jj--
			continue
		}
		q.compactNode(j, keep)
	}
	q.shrinkRing()
	return removed
}

// compactNode rewrites node j with elems, fewer elements than it has, in
// its buffer, or in a buffer that fits them when they use under a
// quarter of it.
func (q *QuickList) compactNode(j int, elems [][]byte) {
	nd := q.at(j)
	total := 0
	for _, e := range elems {
		total += qelemSize(len(e))
	}
	tmp := make([]byte, total)
	off := 0
	for _, e := range elems {
		qput(tmp[off:], e)
		off += qelemSize(len(e))
	}
	c := cap(nd.buf)
	if total < c/4 && classUp(total) < c {
		q.caps -= int64(c - classUp(total))
		c = classUp(total)
		nd.buf = make([]byte, c)
	}
	o := 0
	if j == 0 {
		o = c - total
	}
	copy(nd.buf[o:], tmp)
	q.n -= int(nd.n) - len(elems)
	nd.lo, nd.hi, nd.n = int32(o), int32(o+total), int32(len(elems))
	q.renumber(j)
}

// removeNode drops node j, whose elements are all removed.
func (q *QuickList) removeNode(j int) {
	nd := q.at(j)
	q.caps -= int64(cap(nd.buf))
	q.n -= int(nd.n)
	if j == 0 {
		q.vhead += int64(nd.n)
		*nd = qnode{}
		q.head = (q.head + 1) & (len(q.ring) - 1)
		q.nn--
		return
	}
	for k := j; k < q.nn-1; k++ {
		*q.at(k) = *q.at(k + 1)
	}
	*q.at(q.nn - 1) = qnode{}
	q.nn--
	q.renumber(j - 1)
}

// Trim keeps only the elements from index from to to-1 (LTRIM, after the
// indexes are normalized; from < to). It only shrinks the list.
func (q *QuickList) Trim(from, to int) {
	tail := q.n - to
	q.Pop(from, true, nil)
	q.Pop(tail, false, nil)
}

// PlanRotate is Rotate's plan: the growth of moving the element at one end
// to the other. With one node the element moves within it (the room it
// leaves is the room it needs); with more, the pop does not touch the node
// the push goes to, so the push's plan bounds it.
func (q *QuickList) PlanRotate(fromLeft bool) int64 {
	if q.nn < 2 {
		return 0
	}
	var e []byte
	if fromLeft {
		e = q.Index(0)
	} else {
		e = q.Index(q.n - 1)
	}
	return q.PlanPush([][]byte{e}, !fromLeft)
}

// Rotate moves the element at the head (fromLeft) to the tail, or the
// tail's to the head (LMOVE of a list onto itself between its two ends).
func (q *QuickList) Rotate(fromLeft bool) {
	var e []byte
	q.Pop(1, fromLeft, func(x []byte) { e = append([]byte(nil), x...) })
	q.push(e, !fromLeft)
}

// Pos calls fn with the index (from the head) of the elements equal to
// elem, as LPOS (see ListPos, which it mirrors): rank > 0 skips the first
// rank-1 matches from the head, rank < 0 the first -rank-1 from the tail;
// at most count matches (0: all) among at most maxlen elements (0: all).
func (q *QuickList) Pos(elem []byte, rank, count, maxlen int64, fn func(index int)) {
	limit := int64(q.n)
	if maxlen > 0 && maxlen < limit {
		limit = maxlen
	}
	skip := rank - 1
	start, rev := 0, false
	if rank < 0 {
		skip, start, rev = -rank-1, q.n-1, true
	}
	reported, seen := int64(0), int64(0)
	i := start
	q.Walk(start, rev, func(e []byte) bool {
		if seen++; seen > limit {
			return false
		}
		at := i
		if rev {
			i--
		} else {
			i++
		}
		if string(e) != string(elem) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		fn(at)
		reported++
		return count == 0 || reported < count
	})
}

// CountRem is the number of elements Rem(count, e) will remove.
func (q *QuickList) CountRem(count int64, e []byte) int {
	limit := int64(math.MaxInt64)
	if count > 0 {
		limit = count
	} else if count < 0 && count != math.MinInt64 {
		limit = -count
	}
	n := int64(0)
	q.Walk(0, false, func(x []byte) bool {
		if string(x) == string(e) {
			n++
		}
		return n < limit
	})
	return int(n)
}
