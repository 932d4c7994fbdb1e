package value

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// # Big encodings: the table
//
// Past Redis's thresholds a hash or a set is a table (HashTable, SetTable):
// the elements are records in an arena of byte pages, found through an
// index of (hash, record) buckets. Nothing in it is a Go pointer per
// element: a table of a million elements holds a few thousand page and
// segment slices, so the garbage collector marks it in microseconds and a
// deleted table needs no teardown (package shard drops it in O(1)).
//
// Records. A hash's record is uvarint(len(field)) field uvarint(len(value))
// value, a set's uvarint(len(member)) member. A record of up to ownMin bytes
// is appended to the current 4 KiB page; a longer one gets an allocation of
// its own. A record is named by a ref, page<<pageShift | offset. Records
// never move except by compaction (below), and a value overwritten by one
// of the same length is rewritten in place.
//
// Index. The 64-bit xxhash of the element's name picks a segment through
// a directory indexed by the hash's top bits (extendible hashing: a
// segment of local depth d owns the hashes with its d-bit prefix). A
// segment is an open-addressing table of at most maxSegLen 16-byte buckets
// holding the full hash and the ref. Its buckets are kept in hash order:
// Robin Hood linear probing with ties broken by hash, the home bucket
// being the hash bits after the prefix scaled to the segment's length
// (multiply-shift, monotone in the hash, so any length works). So a lookup
// of an absent name stops at the first bucket ordered after it, deletion
// is a backward shift with no tombstones, and SCAN walks the elements in
// hash order (see scanFrom). A segment 7/8 full grows by a quarter; at
// maxSegLen it splits in two by the next hash bit (the directory doubles
// when needed), each half rebuilt 70% full; one under 55% full is rebuilt
// 70% full. So no write ever rehashes more than one segment: the worst
// pause of a growing table is one segment's rebuild (a few tens of
// microseconds), not a rehash of the whole table as with one flat array,
// and the buckets stay between 70% and 87.5% full at any size while a
// table grows (powers of two would let every segment of a uniform hash
// split in the same wave and sit at 44%), and above 55% full while it
// shrinks (a segment is not merged with its buddy, so one of minSegLen
// buckets may be emptier). The shrink threshold bounds what deletes
// leave: at 30%, as first built, deleting every other element of a set
// of 8-byte members left Bytes at 0.65 of its heap (TestTableMemory's
// half=true case), 0.91 at 55%; a rebuild then takes deletes of 15% of a
// segment's buckets, amortized.
//
// Garbage. A record's bytes are dead once its element is deleted or its
// value replaced by one of another length. A page's dead bytes stay (and
// stay charged) until the page is at most half live; the page is then
// compacted, its live records moved to the current page (the index is
// updated: the record is found again through its hash) and the page freed.
// That bounds the arena at about twice the live bytes in the worst case,
// and a steady workload stays far below it.
//
// # Accounting
//
// Bytes is what a table costs on the heap, charged to the tenant's quota:
//
//	tableBase + arena bytes + ElemOverhead per element
//
// The arena bytes are counted exactly: every page's bytes up to its end
// once it is full (its unused tail is charged when the next page starts),
// the current page up to its fill, own records at their length. Only the
// current page's free tail and malloc's size-class rounding of own records
// (at most 12.5%) are not. The index is charged per element: a bucket is 16
// bytes and segments stay 70% to 87.5% full as a table grows, 18.3 to 22.9
// bytes per element (down to 55% as it shrinks, 29 bytes); ElemOverhead is
// their measured mean with the directory, the segment headers and the page
// table (TestTableMemory, see ElemOverhead).
//
// A write plans before it changes anything: PlanSet/PlanAdd compute the
// exact growth of Bytes for the change (the records the write will
// append, page tails included, and ElemOverhead per new element) without
// touching the table, and Set/Add then append those records in the same
// order before they kill any old record, so the real growth never exceeds
// the plan; kills, compactions and index resizes only lower Bytes or leave
// it unchanged. That is the contract package shard's Edit relies on.
//
// # Limits
//
// The hash is xxhash without a seed (the compact encodings page SCAN by the
// same hash, so a scan continues across a conversion). A tenant who crafts
// names that collide slows its own table, never another tenant's, and its
// directory growth is charged to its own quota. A table holds up to 2^28
// pages of records (1 TiB), far past any quota.

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	// ownMin: longer records get their own allocation, so a page's unused
	// tail (charged as dead) is under ownMin bytes, an eighth of a page.
	ownMin = 512

	// A segment has minSegLen to maxSegLen buckets (64 KiB: a split or a
	// growth rebuilds at most 3.6K elements). It grows by a quarter when
	// 7/8 full; a split's halves and a shrunk segment are rebuilt 70% full.
	minSegLen = 8
	maxSegLen = 4096

	// tableBase is charged once per table: the struct, the directory and
	// one segment header at their smallest.
	tableBase = 256
)

// ElemOverhead is the index's charge per element (see "Accounting"). The
// buckets alone cost 18.6 to 22.2 bytes per element as a table grows from
// 1K to 1.5M elements (segments between their growth steps);
// TestTableMemory measures whole tables against the heap (go1.26.8
// linux/amd64, live heap after GC, bytes per element):
//
//	elements  shape                       real heap   Bytes   Bytes/real
//	1 M       set, 8-byte members           32.2       32.0     0.99
//	1 M       hash, 10+10 byte field/value  45.4       45.0     0.99
//	100 K     hash, 16+100                 142.7      143.5     1.01
//	10 K      set, 20-byte members          44.5       44.0     0.99
//	1 K       hash, 12+12                   53.6       49.3     0.92
//
// and fails if the ratio leaves 0.8..1.25.
const ElemOverhead = 23

// ref names a record: page<<pageShift | offset.
type ref uint64

type pageMeta struct {
	live int32 // bytes of live records
	fill int32 // end of the records written (a full page's len may be larger: its charged tail)
	own  bool  // one record in an allocation of its own
}

// arena holds the records.
type arena struct {
	pages [][]byte
	meta  []pageMeta
	free  []uint32 // unused page numbers
	cur   int32    // page being filled, -1 if none
	used  int64    // charged bytes (see "Accounting")
}

// fill is where the next record would go in the current page (pageSize
// when there is none, so the next record starts a page without a tail).
func (a *arena) fill() int {
	if a.cur < 0 {
		return pageSize
	}
	return int(a.meta[a.cur].fill)
}

// cost is what appending a record of r bytes adds to used when the current
// page is filled to *fill, which it advances: the plan's simulation of
// alloc.
func cost(fill *int, r int) int64 {
	if r > ownMin {
		return int64(r)
	}
	if *fill+r > pageSize {
		tail := pageSize - *fill
		if *fill == pageSize { // no current page
			tail = 0
		}
		*fill = r
		return int64(tail + r)
	}
	*fill += r
	return int64(r)
}

func (a *arena) newPage(b []byte, own bool) uint32 {
	var p uint32
	if n := len(a.free); n > 0 {
		p = a.free[n-1]
		a.free = a.free[:n-1]
		a.pages[p], a.meta[p] = b, pageMeta{own: own}
	} else {
		if len(a.pages) >= 1<<28 {
			panic("value: table arena full")
		}
		p = uint32(len(a.pages))
		a.pages = append(a.pages, b)
		a.meta = append(a.meta, pageMeta{own: own})
	}
	return p
}

// alloc returns a ref and the r bytes to write the new record into.
func (a *arena) alloc(r int) (ref, []byte) {
	if r > ownMin {
		p := a.newPage(make([]byte, r), true)
		a.meta[p].live, a.meta[p].fill = int32(r), int32(r)
		a.used += int64(r)
		return ref(p) << pageShift, a.pages[p]
	}
	if a.cur < 0 || int(a.meta[a.cur].fill)+r > pageSize {
		if a.cur >= 0 {
			// The page is full: its tail is charged (it is memory too).
			a.used += int64(pageSize - len(a.pages[a.cur]))
			a.pages[a.cur] = a.pages[a.cur][:pageSize]
		}
		a.cur = int32(a.newPage(make([]byte, 0, pageSize), false))
	}
	p := a.cur
	off := int(a.meta[p].fill)
	a.pages[p] = a.pages[p][:off+r]
	a.meta[p].fill += int32(r)
	a.meta[p].live += int32(r)
	a.used += int64(r)
	return ref(p)<<pageShift | ref(off), a.pages[p][off : off+r : off+r]
}

// bytesAt is the record at x, from its first byte to the end of its page
// (the record parsers stop at its end).
func (a *arena) bytesAt(x ref) []byte {
	return a.pages[x>>pageShift][x&(pageSize-1):]
}

// freePage releases page p (its charge included).
func (a *arena) freePage(p uint32) {
	a.used -= int64(len(a.pages[p]))
	a.pages[p], a.meta[p] = nil, pageMeta{}
	a.free = append(a.free, p)
	if int32(p) == a.cur {
		a.cur = -1
	}
}

// bucket is one index slot: the element's full hash and its record's ref
// plus one (0: empty).
type bucket struct {
	h   uint64
	ref uint64
}

type segment struct {
	b     []bucket
	n     int32
	depth uint8 // local depth: the segment owns the hashes with this many top bits
}

// home is the bucket where a hash's probe starts: the hash bits after the
// segment's prefix scaled to its length (multiply-shift), so that bucket
// order follows hash order whatever the length.
func (s *segment) home(h uint64) int {
	hi, _ := bits.Mul64(h<<s.depth, uint64(len(s.b)))
	return int(hi)
}

// disp is how far the bucket at pos is from its home, probing forward and
// wrapping at the end.
func (s *segment) disp(pos int) int {
	d := pos - s.home(s.b[pos].h)
	if d < 0 {
		d += len(s.b)
	}
	return d
}

func (s *segment) next(pos int) int {
	if pos++; pos == len(s.b) {
		return 0
	}
	return pos
}

func (s *segment) full() bool { return int(s.n) >= len(s.b)*7/8 }

// fitLen is the length that holds n buckets 70% full.
func fitLen(n int) int { return min(max(minSegLen, n*10/7+1), maxSegLen) }

// put places b in hash order, shifting the run after its place right by
// one. The segment must have a free bucket and must not hold b.
func (s *segment) put(b bucket) {
	pos, d := s.home(b.h), 0
	for {
		c := s.b[pos]
		if c.ref == 0 {
			break
		}
		cd := s.disp(pos)
		if cd < d || cd == d && c.h > b.h {
			break
		}
		pos, d = s.next(pos), d+1
	}
	e := pos
	for s.b[e].ref != 0 {
		e = s.next(e)
	}
	for e != pos {
		p := e - 1
		if p < 0 {
			p = len(s.b) - 1
		}
		s.b[e] = s.b[p]
		e = p
	}
	s.b[pos] = b
	s.n++
}

// remove deletes the bucket at pos by shifting the displaced run after it
// back by one.
func (s *segment) remove(pos int) {
	for {
		next := s.next(pos)
		if s.b[next].ref == 0 || s.disp(next) == 0 {
			s.b[pos] = bucket{}
			break
		}
		s.b[pos] = s.b[next]
		pos = next
	}
	s.n--
}

// rebuild re-places the segment's buckets (those keep accepts; the others
// are returned) in a table of n buckets.
func (s *segment) rebuild(n int, keep func(bucket) bool) []bucket {
	old := s.b
	s.b, s.n = make([]bucket, n), 0
	var out []bucket
	for _, b := range old {
		if b.ref == 0 {
			continue
		}
		if keep == nil || keep(b) {
			s.put(b)
		} else {
			out = append(out, b)
		}
	}
	return out
}

// table is the core of HashTable and SetTable: arena plus index. A
// record starts with the element's name (hash field, set member) as a
// uvarint-prefixed chunk; a hash's record (pairs) has the value after it.
type table struct {
	a      arena
	dir    []int32 // segment of each top-bits prefix
	gdepth uint8
	segs   []segment
	n      int
	pairs  bool
	// segMax caches the longest segment's length for random (0: unknown,
	// reset whenever a segment is resized or added).
	segMax int
	// onMove, when set, is told of every record compaction moves (rec is
	// its bytes, still readable at from): a sorted set's tree names
	// records too (zsettree.go).
	onMove func(rec []byte, from, to ref)
}

func newTable(sizeHint int, pairs bool) table {
	return table{
		a:     arena{cur: -1},
		dir:   []int32{0},
		segs:  []segment{{b: make([]bucket, fitLen(sizeHint))}},
		pairs: pairs,
	}
}

// nameOf is the name chunk of a record.
func nameOf(rec []byte) []byte {
	c, _ := chunk(rec)
	return c
}

func (t *table) bytes() int64 { return tableBase + t.a.used + int64(t.n)*ElemOverhead }

func nameHash(name []byte) uint64 { return xxhash.Sum64(name) }

func (t *table) seg(h uint64) int32 { return t.dir[h>>(64-t.gdepth)&(1<<t.gdepth-1)] }

// find looks name (hash h) up. It returns its segment and bucket position
// when found; when not, pos is where it belongs.
func (t *table) find(name []byte, h uint64) (si int32, pos int, found bool) {
	si = t.seg(h)
	s := &t.segs[si]
	pos, d := s.home(h), 0
	for {
		c := s.b[pos]
		if c.ref == 0 {
			return si, pos, false
		}
		cd := s.disp(pos)
		if cd < d {
			return si, pos, false
		}
		if cd == d {
			if c.h == h && string(nameOf(t.a.bytesAt(ref(c.ref-1)))) == string(name) {
				return si, pos, true
			}
			if c.h > h {
				return si, pos, false
			}
		}
		pos, d = s.next(pos), d+1
	}
}

// lookup returns the record of name, or nil.
func (t *table) lookup(name []byte) []byte {
	si, pos, ok := t.find(name, nameHash(name))
	if !ok {
		return nil
	}
	return t.a.bytesAt(ref(t.segs[si].b[pos].ref - 1))
}

// insert indexes a new record x whose name hashes to h (the name must not
// be in the table), growing or splitting its segment first if it is full.
func (t *table) insert(h uint64, x ref) {
	for {
		si := t.seg(h)
		s := &t.segs[si]
		if !s.full() {
			s.put(bucket{h: h, ref: uint64(x) + 1})
			t.n++
			return
		}
		if len(s.b) < maxSegLen {
			s.rebuild(min(len(s.b)*5/4+1, maxSegLen), nil)
		} else {
			t.split(si)
		}
		t.segMax = 0
	}
}

// split divides segment si by the next hash bit after its prefix.
func (t *table) split(si int32) {
	s := &t.segs[si]
	d := s.depth
	if d >= 50 {
		panic("value: table segment cannot split further")
	}
	if d == t.gdepth {
		nd := make([]int32, 2*len(t.dir))
		for i := range nd {
			nd[i] = t.dir[i>>1]
		}
		t.dir = nd
		t.gdepth++
	}
	bit := uint64(1) << (63 - d)
	s.depth = d + 1
	stay := 0
	for _, b := range s.b {
		if b.ref != 0 && b.h&bit == 0 {
			stay++
		}
	}
	moved := s.rebuild(fitLen(stay), func(b bucket) bool { return b.h&bit == 0 })
	ns := segment{b: make([]bucket, fitLen(len(moved))), depth: d + 1}
	for _, b := range moved {
		ns.put(b)
	}
	ti := int32(len(t.segs))
	t.segs = append(t.segs, ns)
	shift := t.gdepth - d - 1
	for i := range t.dir {
		if t.dir[i] == si && i>>shift&1 == 1 {
			t.dir[i] = ti
		}
	}
}

// unindex removes the bucket at (si, pos), rebuilding a segment left
// under 55% full 70% full.
func (t *table) unindex(si int32, pos int) {
	s := &t.segs[si]
	s.remove(pos)
	t.n--
	if len(s.b) > minSegLen && int(s.n) < len(s.b)*11/20 {
		s.rebuild(fitLen(int(s.n)), nil)
		t.segMax = 0
	}
}

// kill marks the r-byte record x dead, freeing or compacting its page when
// that pays. Kills only ever lower the arena's charge.
func (t *table) kill(x ref, r int) {
	if p, ok := t.markDead(x, r); ok {
		t.maybeCompact(p)
	}
}

// killAll is kill for several records: all are marked dead before any page
// is compacted, since a compaction frees its page (and a later record of
// that page must not be counted against a freed or reused page number).
func (t *table) killAll(dead []deadRec) {
	var pages []uint32
	for _, d := range dead {
		if p, ok := t.markDead(d.x, d.n); ok && !slices.Contains(pages, p) {
			pages = append(pages, p)
		}
	}
	for _, p := range pages {
		t.maybeCompact(p)
	}
}

// markDead takes r bytes of record x off its page's live bytes, freeing an
// own record's page at once. ok is false for an own record.
func (t *table) markDead(x ref, r int) (p uint32, ok bool) {
	p = uint32(x >> pageShift)
	m := &t.a.meta[p]
	m.live -= int32(r)
	if m.own {
		t.a.freePage(p)
		return p, false
	}
	return p, true
}

// maybeCompact compacts page p once at most half of it is live, unless it
// is the page being filled.
func (t *table) maybeCompact(p uint32) {
	if int32(p) != t.a.cur && t.a.pages[p] != nil && t.a.meta[p].live <= pageSize/2 {
		t.compact(p)
	}
}

type deadRec struct {
	x ref
	n int
}

// compact moves page p's live records to the current page and frees p. A
// record is live when the index still names it. The moved bytes (at most
// half a page) plus the tails of at most two new pages are less than the
// page freed, so compaction lowers the charge.
func (t *table) compact(p uint32) {
	pg := t.a.pages[p]
	fill := int(t.a.meta[p].fill)
	for off := 0; off < fill; {
		rec := pg[off:]
		r := t.recLen(rec)
		if t.a.meta[p].live > 0 {
			x := ref(p)<<pageShift | ref(off)
			h := nameHash(nameOf(rec))
			si := t.seg(h)
			s := &t.segs[si]
			if pos := s.findRef(h, x); pos >= 0 {
				nx, dst := t.a.alloc(r)
				copy(dst, rec[:r])
				s.b[pos].ref = uint64(nx) + 1
				t.a.meta[p].live -= int32(r)
				if t.onMove != nil {
					t.onMove(rec, x, nx)
				}
			}
		}
		off += r
	}
	t.a.freePage(p)
}

// findRef is the position of the bucket (h, x), or -1.
func (s *segment) findRef(h uint64, x ref) int {
	pos, d := s.home(h), 0
	for {
		c := s.b[pos]
		if c.ref == 0 {
			return -1
		}
		cd := s.disp(pos)
		if cd < d || cd == d && c.h > h {
			return -1
		}
		if c.h == h && c.ref == uint64(x)+1 {
			return pos
		}
		pos, d = s.next(pos), d+1
	}
}

// recLen is the length of the record at the start of rec: one or two
// uvarint-prefixed chunks.
func (t *table) recLen(rec []byte) int {
	n := chunkLen(rec)
	if t.pairs {
		n += chunkLen(rec[n:])
	}
	return n
}

// chunkLen is the length of the uvarint-prefixed chunk at the start of b.
func chunkLen(b []byte) int {
	if b[0] < 0x80 {
		return 1 + int(b[0])
	}
	l, m := binary.Uvarint(b)
	return m + int(l)
}

// chunk is the uvarint-prefixed chunk at the start of b, and what follows.
func chunk(b []byte) (c, rest []byte) {
	var l uint64
	var m int
	if b[0] < 0x80 {
		l, m = uint64(b[0]), 1
	} else {
		l, m = binary.Uvarint(b)
	}
	end := m + int(l)
	return b[m:end:end], b[end:]
}

func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

func putChunk(dst, c []byte) []byte {
	n := binary.PutUvarint(dst, uint64(len(c)))
	n += copy(dst[n:], c)
	return dst[n:]
}

// each calls fn with every record in index order until fn returns false.
func (t *table) each(fn func(rec []byte) bool) {
	for si := range t.segs {
		for _, b := range t.segs[si].b {
			if b.ref != 0 && !fn(t.a.bytesAt(ref(b.ref-1))) {
				return
			}
		}
	}
}

// scanFrom calls fn for the records whose hash is >= cursor, in hash
// order, until about count were given (records sharing the last one's
// hash are given too, so a cursor never splits them), and returns the
// next cursor: one past the last hash given, or 0 at the end.
//
// Hash order survives every change a table makes between two calls
// (inserts, deletes, segment doublings, halvings and splits, compaction):
// buckets are kept in hash order, and a segment's elements are the ones in
// its prefix's range. So an element present for the whole scan is
// returned exactly once, the cursor being the smallest hash not yet
// returned, which is also what the compact encodings' scan means by it.
func (t *table) scanFrom(cursor uint64, count int, fn func(rec []byte)) uint64 {
	given := 0
	var last uint64
	for {
		si := t.seg(cursor)
		s := &t.segs[si]
		// The segment's range ends where the next prefix starts (0 after
		// the last one: the scan is done).
		end := (cursor>>(64-s.depth) + 1) << (64 - s.depth)
		if s.depth == 0 {
			end = 0
		}
		// Non-wrapped buckets from the cursor's home on, in position
		// order, then the wrapped ones (displaced past the table's end to
		// its start: they hold the segment's largest hashes).
		wrapEnd := 0
		for wrapEnd < len(s.b) && s.b[wrapEnd].ref != 0 && s.home(s.b[wrapEnd].h) > wrapEnd {
			wrapEnd++
		}
		stop := false
		visit := func(pos int) bool {
			b := s.b[pos]
			if b.ref == 0 || b.h < cursor {
				return true
			}
			if given >= count && b.h != last {
				stop = true
				return false
			}
			fn(t.a.bytesAt(ref(b.ref - 1)))
			given++
			last = b.h
			return true
		}
		for pos := max(s.home(cursor), wrapEnd); pos < len(s.b) && visit(pos); pos++ {
		}
		if !stop {
			for pos := 0; pos < wrapEnd && visit(pos); pos++ {
			}
		}
		if stop {
			return last + 1
		}
		if end == 0 {
			return 0
		}
		cursor = end
		if given >= count {
			return cursor
		}
	}
}

// random returns a uniformly random record: a random segment, then a
// random bucket below the largest segment's size, retried when empty (so
// every element has the same chance whatever its segment's size), with a
// walk to the next element as the fallback of a very sparse table.
func (t *table) random() []byte {
	if t.n == 0 {
		return nil
	}
	if t.segMax == 0 {
		for i := range t.segs {
			t.segMax = max(t.segMax, len(t.segs[i].b))
		}
	}
	maxLen := t.segMax
	for range 256 {
		s := &t.segs[rand.IntN(len(t.segs))]
		if pos := rand.IntN(maxLen); pos < len(s.b) && s.b[pos].ref != 0 {
			return t.a.bytesAt(ref(s.b[pos].ref - 1))
		}
	}
	si, pos := rand.IntN(len(t.segs)), rand.IntN(maxLen)
	for {
		s := &t.segs[si]
		for ; pos < len(s.b); pos++ {
			if s.b[pos].ref != 0 {
				return t.a.bytesAt(ref(s.b[pos].ref - 1))
			}
		}
		si, pos = (si+1)%len(t.segs), 0
	}
}

// clone returns a copy whose arena is compacted (only live records).
func (t *table) clone() table {
	c := newTable(t.n, t.pairs)
	t.each(func(rec []byte) bool {
		r := t.recLen(rec)
		x, dst := c.a.alloc(r)
		copy(dst, rec[:r])
		c.insert(nameHash(nameOf(rec)), x)
		return true
	})
	return c
}
