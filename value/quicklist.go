package value

import (
	"encoding/binary"
)

// # Big encoding of lists: QuickList
//
// Past one node's worth (list-max-listpack-size, Limits.ListFill) a list
// is a QuickList, Redis's quicklist: a sequence of nodes, each a byte
// buffer of elements, kept in a ring of node descriptors.
//
// Nodes. A node's elements are uvarint(len) element backlen, backlen being
// len's uvarint bytes in reverse order, so a node reads forward from its
// start and backward from its end (2 bytes of overhead for elements under
// 128 bytes, as a listpack's). The elements occupy buf[lo:hi] of a buffer
// whose capacity is a Go size class (whole 8 KiB pages past 32 KiB), so
// the buffer's capacity is what it costs on the heap. A node takes elements while Redis's quicklist would
// (_quicklistNodeAllowInsert): for a negative fill, while its bytes stay
// within 4 KiB << (-fill-1) (-2, the default: 8 KiB); for a positive
// fill, while it has fewer than fill elements and at most 8 KiB. An
// element too big for any node gets a node of its own. A node's buffer
// starts small and grows by a quarter or more as elements arrive, up to
// the node limit; the
// free space is kept on the side the list grows from (the start of the
// first node, the end of the last), so a push is a copy of the element
// and a pop moves lo or hi.
//
// The ring. Node descriptors are in a power-of-two ring, so a push or pop
// that adds or drops a node at either end is O(1) and a queue (RPUSH and
// LPOP forever) reuses the same slots: its cost and memory stay flat. Each
// node records the virtual index of its first element: the list's first
// element has virtual index vhead, which LPUSH decrements and LPOP
// increments, so only the node an end operation touches changes, and
// LINDEX, LSET and LRANGE find the node of an index by binary search over
// the ring (O(log nodes)), then walk the node from its nearer end
// (O(node)). A change in the middle (LINSERT, LREM, LSET to another
// length) rebuilds the node it touches (O(node), as Redis's listpack
// does) and renumbers the nodes after it (O(nodes)).
//
// Middle rebuilds. A node that no longer fits after an insert or a longer
// LSET is laid out again over as few nodes as its elements need, balanced
// by bytes (an insert into a full node splits it in two halves, so
// repeated inserts at one place do not make a node per element). A node
// left under a quarter of its capacity by LREM is reallocated to fit.
//
// # Accounting
//
// Bytes is exact: quickListBase, the capacity of every node's buffer, and
// the ring's slots (qnodeSize bytes each, the ring's length, a power of
// two). A push plans by simulating itself (PlanPush: which elements fit
// the end node, which buffer doublings and new nodes and ring growth they
// cause), with the same functions the push then runs, so its growth is
// exactly the plan; so do LINSERT and LSET (PlanInsert, PlanSet). Pops,
// LREM and LTRIM only shrink.

const (
	quickListBase = 128
	qnodeSize     = 48 // unsafe.Sizeof(qnode{})
	qminRing      = 4
	// qsafetyLimit is Redis's SIZE_SAFETY_LIMIT: a node of a count-limited
	// list holds at most this many bytes.
	qsafetyLimit = 8192
	// qfillMax is Redis's FILL_MAX.
	qfillMax = 1<<15 - 1
)

type qnode struct {
	buf    []byte
	lo, hi int32
	n      int32
	_      int32
	v      int64 // virtual index of the first element
}

// QuickList is a list in its big encoding (Redis's quicklist): see the doc
// above. It is not safe for concurrent use; package shard serializes it
// under a sub-shard lock. The zero value is not usable: NewQuickList or
// QuickListFrom.
type QuickList struct {
	ring  []qnode // power-of-two length
	head  int     // ring position of the first node
	nn    int     // nodes
	n     int     // elements
	vhead int64   // virtual index of the first element
	fill  int     // list-max-listpack-size, clamped as Redis does
	caps  int64   // sum of the nodes' buffer capacities
}

// NewQuickList returns an empty list whose nodes follow fill
// (list-max-listpack-size).
func NewQuickList(fill int64) *QuickList {
	f := int(max(min(fill, qfillMax), -5))
	return &QuickList{ring: make([]qnode, qminRing), fill: f}
}

// QuickListFrom converts the compact encoding enc (see list.go).
func QuickListFrom(enc []byte, fill int64) (*QuickList, error) {
	q := NewQuickList(fill)
	it := ListElems(enc)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		q.push(e, false)
	}
	return q, it.Err()
}

// Len is the number of elements.
func (q *QuickList) Len() int { return q.n }

// Bytes is the accounted size (see "Accounting").
func (q *QuickList) Bytes() int64 {
	return quickListBase + q.caps + int64(len(q.ring))*qnodeSize
}

// # Element and node layout

func qelemSize(l int) int { return 2*uvarintLen(l) + l }

// qput writes element e at dst (qelemSize(len(e)) bytes).
func qput(dst, e []byte) {
	m := binary.PutUvarint(dst, uint64(len(e)))
	copy(dst[m:], e)
	end := m + len(e)
	for i := m - 1; i >= 0; i-- { // backlen: the uvarint reversed
		dst[end] = dst[i]
		end++
	}
}

// qnext reads the element starting at off: the element and the offset
// after it.
func qnext(b []byte, off int) ([]byte, int) {
	if l := int(b[off]); l < 0x80 { // the usual one-byte length
		e := off + 1 + l
		return b[off+1 : e : e], e + 1
	}
	l, m := binary.Uvarint(b[off:])
	s := off + m
	e := s + int(l)
	return b[s:e:e], e + m
}

// qskip is the offset after the element starting at off.
func qskip(b []byte, off int) int {
	if l := int(b[off]); l < 0x80 {
		return off + l + 2
	}
	l, m := binary.Uvarint(b[off:])
	return off + 2*m + int(l)
}

// qprev reads the element ending at end: the element and its start.
func qprev(b []byte, end int) ([]byte, int) {
	if l := int(b[end-1]); l < 0x80 {
		s := end - 1 - l
		return b[s : end-1 : end-1], s - 1
	}
	var l uint64
	m := 0
	for shift := 0; ; shift += 7 {
		c := b[end-1-m]
		l |= uint64(c&0x7f) << shift
		m++
		if c < 0x80 {
			break
		}
	}
	e := end - m
	s := e - int(l)
	return b[s:e:e], s - m
}

// sizeClasses are the Go runtime's malloc size classes from 32 bytes to
// 32 KiB (go1.26, internal/runtime/gc/sizeclasses.go; TestSizeClasses
// checks them against the runtime's own rounding). A function, so that
// the table is no package-level variable.
func sizeClasses() [64]uint16 {
	return [...]uint16{32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
		288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536,
		1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472,
		9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
		32768}
}

// classUp is the capacity of an allocation of at least n bytes: its Go
// size class (32 bytes at least), or whole 8 KiB pages past 32 KiB.
func classUp(n int) int {
	if n > 32768 {
		return (n + 8191) &^ 8191
	}
	sc := sizeClasses()
	lo, hi := 0, len(sc)-1
	for lo < hi {
		m := (lo + hi) / 2
		if int(sc[m]) < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return int(sc[lo])
}

// nodeMax is the most bytes a node takes more elements up to.
func (q *QuickList) nodeMax() int {
	if q.fill < 0 {
		return 4096 << (-q.fill - 1)
	}
	return qsafetyLimit
}

// allow reports whether a node of used bytes and n elements takes an
// element of sz more bytes (Redis's _quicklistNodeAllowInsert). An empty
// node takes any element.
func (q *QuickList) allow(used, n, sz int) bool {
	if n == 0 {
		return true
	}
	if q.fill < 0 {
		return used+sz <= q.nodeMax()
	}
	return used+sz <= qsafetyLimit && n < q.fill
}

// growCap is the capacity a node of capacity c grows to when it needs
// need bytes: a quarter more at least (so a node's growth copies it a
// few times, not once per push), within the node limit unless need is
// past it, rounded up to a size class. Near the 8 KiB limit a step is
// 1.4 KiB, which bounds how far under its quota a list's growth stops.
func (q *QuickList) growCap(c, need int) int {
	nc := max(c+c/4, need)
	if m := q.nodeMax(); nc > m {
		nc = max(m, need)
	}
	return classUp(nc)
}

// ringLenFor is the ring length for nodes nodes: the current one, doubled
// as often as needed.
func ringLenFor(cur, nodes int) int {
	for cur < nodes {
		cur *= 2
	}
	return cur
}

func (q *QuickList) at(j int) *qnode { return &q.ring[(q.head+j)&(len(q.ring)-1)] }

func (nd *qnode) used() int { return int(nd.hi - nd.lo) }

// place copies data into a new buffer of capacity c, with its free space
// after it (atEnd false) or before it.
func place(data []byte, c int, atEnd bool) (buf []byte, lo, hi int32) {
	buf = make([]byte, c)
	o := 0
	if atEnd {
		o = c - len(data)
	}
	copy(buf[o:], data)
	return buf, int32(o), int32(o + len(data))
}

// # Pushes

// PlanPush is Push's plan: the growth of Bytes that Push(elems, left)
// will cause, exactly.
func (q *QuickList) PlanPush(elems [][]byte, left bool) (grow int64) {
	var used, n, c int
	has := q.nn > 0
	if has {
		end := q.at(q.nn - 1)
		if left {
			end = q.at(0)
		}
		used, n, c = end.used(), int(end.n), cap(end.buf)
	}
	added := 0
	for _, e := range elems {
		sz := qelemSize(len(e))
		if has && q.allow(used, n, sz) {
			if used+sz > c {
				nc := q.growCap(c, used+sz)
				grow += int64(nc - c)
				c = nc
			}
			used += sz
			n++
			continue
		}
		has, used, n, c = true, sz, 1, classUp(sz)
		grow += int64(c)
		added++
	}
	if rl := ringLenFor(len(q.ring), q.nn+added); rl > len(q.ring) {
		grow += int64(rl-len(q.ring)) * qnodeSize
	}
	return grow
}

// Push pushes elems one by one at the head (left) or the tail, as LPUSH
// and RPUSH do: LPUSH l a b c leaves c b a at the head. Its growth is what
// PlanPush computed.
func (q *QuickList) Push(elems [][]byte, left bool) {
	for _, e := range elems {
		q.push(e, left)
	}
}

func (q *QuickList) push(e []byte, left bool) {
	sz := qelemSize(len(e))
	var end *qnode
	if q.nn > 0 {
		end = q.at(q.nn - 1)
		if left {
			end = q.at(0)
		}
	}
	if end == nil || !q.allow(end.used(), int(end.n), sz) {
		end = q.insertNode(left)
	}
	q.makeRoom(end, sz, left)
	if left {
		end.lo -= int32(sz)
		qput(end.buf[end.lo:], e)
		end.v--
		q.vhead--
	} else {
		qput(end.buf[end.hi:], e)
		end.hi += int32(sz)
	}
	end.n++
	q.n++
}

// insertNode adds an empty node at the head (left) or the tail and
// returns it.
func (q *QuickList) insertNode(left bool) *qnode {
	q.growRing(q.nn + 1)
	var nd *qnode
	if left {
		q.head = (q.head - 1) & (len(q.ring) - 1)
		q.nn++
		nd = q.at(0)
		*nd = qnode{v: q.vhead}
	} else {
		q.nn++
		nd = q.at(q.nn - 1)
		*nd = qnode{v: q.vhead + int64(q.n)}
	}
	return nd
}

// growRing doubles the ring until it holds nodes nodes.
func (q *QuickList) growRing(nodes int) {
	rl := ringLenFor(len(q.ring), nodes)
	if rl == len(q.ring) {
		return
	}
	r := make([]qnode, rl)
	for j := range q.nn {
		r[j] = *q.at(j)
	}
	q.ring, q.head = r, 0
}

// shrinkRing halves the ring while it is under a quarter full.
func (q *QuickList) shrinkRing() {
	rl := len(q.ring)
	for rl > qminRing && q.nn < rl/4 {
		rl /= 2
	}
	if rl == len(q.ring) {
		return
	}
	r := make([]qnode, rl)
	for j := range q.nn {
		r[j] = *q.at(j)
	}
	q.ring, q.head = r, 0
}

// makeRoom gives node nd room for sz more bytes on its left or right
// side: moving its elements within its buffer when the buffer has room,
// growing the buffer (growCap) when not.
func (q *QuickList) makeRoom(nd *qnode, sz int, left bool) {
	free := int(nd.lo)
	if !left {
		free = cap(nd.buf) - int(nd.hi)
	}
	if free >= sz && nd.buf != nil {
		return
	}
	used := nd.used()
	c := cap(nd.buf)
	if nd.buf == nil {
		c = classUp(sz)
		q.caps += int64(c)
	} else if used+sz > c {
		nc := q.growCap(c, used+sz)
		q.caps += int64(nc - c)
		c = nc
	}
	// The free space goes to the side being pushed, or is split when the
	// node is both ends of the list (pushes may come at either side).
	data := nd.buf[nd.lo:nd.hi]
	buf := nd.buf
	if c != cap(nd.buf) {
		buf = make([]byte, c)
	}
	o := 0
	switch {
	case q.nn == 1:
		o = (c - used) / 2
		if left && o < sz {
			o = sz
		} else if !left && c-o-used < sz {
			o = c - used - sz
		}
	case left:
		o = c - used
	}
	copy(buf[o:], data)
	nd.buf, nd.lo, nd.hi = buf, int32(o), int32(o+used)
}

// # Pops and reads

// Pop removes up to count elements from the head (left) or the tail,
// calling fn with each in pop order (valid until the next change); it
// returns the number popped. It only shrinks the list.
func (q *QuickList) Pop(count int, left bool, fn func(e []byte)) int {
	popped := 0
	for ; popped < count && q.n > 0; popped++ {
		if left {
			nd := q.at(0)
			e, next := qnext(nd.buf, int(nd.lo))
			if fn != nil {
				fn(e)
			}
			nd.lo = int32(next)
			nd.n--
			nd.v++
			q.vhead++
			q.n--
			if nd.n == 0 {
				q.dropEnd(true)
			}
			continue
		}
		nd := q.at(q.nn - 1)
		e, start := qprev(nd.buf, int(nd.hi))
		if fn != nil {
			fn(e)
		}
		nd.hi = int32(start)
		nd.n--
		q.n--
		if nd.n == 0 {
			q.dropEnd(false)
		}
	}
	q.shrinkRing()
	return popped
}

// dropEnd drops the empty first (left) or last node.
func (q *QuickList) dropEnd(left bool) {
	j := q.nn - 1
	if left {
		j = 0
	}
	nd := q.at(j)
	q.caps -= int64(cap(nd.buf))
	*nd = qnode{}
	if left {
		q.head = (q.head + 1) & (len(q.ring) - 1)
	}
	q.nn--
}

// find returns the ring offset of the node holding index i (0 <= i < n)
// and i's position in it.
func (q *QuickList) find(i int) (j, k int) {
	v := q.vhead + int64(i)
	lo, hi := 0, q.nn // the last node whose first index is <= v
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if q.at(m).v <= v {
			lo = m
		} else {
			hi = m
		}
	}
	return lo, int(v - q.at(lo).v)
}

// elemAt is the k-th element of node nd with its start and end offsets,
// walked to from the node's nearer end.
func elemAt(nd *qnode, k int) (e []byte, s, end int) {
	if k < int(nd.n)/2 {
		off := int(nd.lo)
		for ; k > 0; k-- {
			off = qskip(nd.buf, off)
		}
		e, end = qnext(nd.buf, off)
		return e, off, end
	}
	end = int(nd.hi)
	for k = int(nd.n) - 1 - k; k > 0; k-- {
		_, end = qprev(nd.buf, end)
	}
	e, s = qprev(nd.buf, end)
	return e, s, end
}

// Index returns the element at index i (0 <= i < Len), valid until the
// next change.
func (q *QuickList) Index(i int) []byte {
	j, k := q.find(i)
	e, _, _ := elemAt(q.at(j), k)
	return e
}

// Walk calls fn with the elements from index i on, towards the tail (rev
// false) or the head, until fn returns false or the list ends. The
// element slices are valid until the next change.
func (q *QuickList) Walk(i int, rev bool, fn func(e []byte) bool) {
	if i < 0 || i >= q.n {
		return
	}
	j, k := q.find(i)
	nd := q.at(j)
	_, s, end := elemAt(nd, k)
	for {
		if !rev {
			for off := s; off < int(nd.hi); {
				var e []byte
				e, off = qnext(nd.buf, off)
				if !fn(e) {
					return
				}
			}
			if j++; j == q.nn {
				return
			}
			nd = q.at(j)
			s = int(nd.lo)
			continue
		}
		for off := end; off > int(nd.lo); {
			var e []byte
			e, off = qprev(nd.buf, off)
			if !fn(e) {
				return
			}
		}
		if j--; j < 0 {
			return
		}
		nd = q.at(j)
		end = int(nd.hi)
	}
}

// AppendEncoding appends the whole list to dst in the compact encoding
// (list.go): a copy to reply from or to sort.
func (q *QuickList) AppendEncoding(dst []byte) []byte {
	dst = ListAppendHeader(dst, q.n)
	q.Walk(0, false, func(e []byte) bool {
		dst = ListAppendElem(dst, e)
		return true
	})
	return dst
}

// Clone returns a copy (COPY), its nodes packed.
func (q *QuickList) Clone() *QuickList {
	c := NewQuickList(int64(q.fill))
	q.Walk(0, false, func(e []byte) bool {
		c.push(e, false)
		return true
	})
	return c
}
