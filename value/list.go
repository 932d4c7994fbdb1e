package value

import (
	"encoding/binary"
	"math"
)

// # List encoding
//
// A TypeList value is
//
//	uvarint(number of elements)
//	then, per element, head first:
//	uvarint(len(element)) element
//
// so an element of e bytes costs e+1 bytes for lengths under 128, and LLEN
// is O(1). Like the hash encoding it is one serialized buffer (Redis's
// listpack), charged to the tenant's quota as len(value), so a list
// evicts, expires, renames, copies and moves as one key.
//
// This is the compact encoding, used while a list would fit one
// quicklist node under list-max-listpack-size (Limits.ListCompact, 8 KiB
// by default): every write builds the next encoding in a new buffer,
// O(size of the list), and an access by index or from the tail scans from
// the head, which at that size costs about what a listpack's memmove
// does. Past it a list is a QuickList (quicklist.go).
//
// Functions that build an encoding append it to dst, which must not
// overlap the source encoding b; b may be nil (an empty list).

// ListLen is the number of elements of an encoded list (0 for an empty or
// malformed buffer).
func ListLen(b []byte) int { return HashLen(b) }

// ListIter walks the elements of an encoded list, head first.
type ListIter struct {
	h   HashIter // the chunk reader is shared with the hash encoding
	pos int      // byte offset of the next element in the encoding
	n   int      // bytes of the header
}

// ListElems returns an iterator over b.
func ListElems(b []byte) ListIter {
	it := ListIter{h: HashFields(b)}
	it.n = len(b) - len(it.h.b)
	it.pos = it.n
	return it
}

// Next returns the next element, a slice of the encoded buffer.
func (it *ListIter) Next() ([]byte, bool) {
	if it.h.left <= 0 || it.h.err != nil {
		return nil, false
	}
	before := len(it.h.b)
	e, ok := it.h.chunk()
	if !ok {
		it.h.err, it.h.left = ErrCorrupt, 0
		return nil, false
	}
	it.h.left--
	it.pos += before - len(it.h.b)
	return e, true
}

// Offset is the byte offset in the encoding of the element the next call
// to Next returns (the end of the encoding after the last one).
func (it *ListIter) Offset() int { return it.pos }

// Err reports a malformed buffer met by Next.
func (it *ListIter) Err() error { return it.h.err }

// ListAppendHeader appends the count header of a list of n elements;
// ListAppendHeader and ListAppendElem build an encoding from scratch.
func ListAppendHeader(dst []byte, n int) []byte {
	return binary.AppendUvarint(dst, uint64(n))
}

// ListAppendElem appends one element (without the count header).
func ListAppendElem(dst, e []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(e)))
	return append(dst, e...)
}

// listBody returns the element bytes of b (without the header), checking
// that b decodes: a skip over the length prefixes, not a decode of each
// element (a push into a compact list runs it on every write).
func listBody(b []byte) (body []byte, n int, err error) {
	if len(b) == 0 {
		return nil, 0, nil
	}
	cnt, m := binary.Uvarint(b)
	if m <= 0 || cnt > uint64(len(b)) {
		return nil, 0, ErrCorrupt
	}
	off := m
	for range cnt {
		if off >= len(b) {
			return nil, 0, ErrCorrupt
		}
		if c := b[off]; c < 0x80 {
			off += 1 + int(c)
			continue
		}
		l, k := binary.Uvarint(b[off:])
		if k <= 0 || l > uint64(len(b)) {
			return nil, 0, ErrCorrupt
		}
		off += k + int(l)
	}
	if off != len(b) {
		return nil, 0, ErrCorrupt
	}
	return b[m:], int(cnt), nil
}

// ListPush appends to dst the encoding of b with elems pushed one by one
// at the head (left) or the tail, as LPUSH and RPUSH do: LPUSH l a b c
// leaves c b a at the head.
func ListPush(dst, b []byte, elems [][]byte, left bool) ([]byte, error) {
	body, n, err := listBody(b)
	if err != nil {
		return dst, err
	}
	out := ListAppendHeader(dst, n+len(elems))
	if left {
		for i := len(elems) - 1; i >= 0; i-- {
			out = ListAppendElem(out, elems[i])
		}
		return append(out, body...), nil
	}
	out = append(out, body...)
	for _, e := range elems {
		out = ListAppendElem(out, e)
	}
	return out, nil
}

// ListPop appends to dst the encoding of b without its first (left) or
// last count elements and calls fn with each removed element in pop order
// (head first for left, tail first otherwise), slices of b. It returns the
// new encoding and the number popped (count bounded by the length).
func ListPop(dst, b []byte, count int, left bool, fn func(e []byte)) (out []byte, popped int, err error) {
	n := ListLen(b)
	count = min(max(count, 0), n)
	if count == 0 {
		return append(dst, b...), 0, nil
	}
	it := ListElems(b)
	if left {
		for range count {
			e, ok := it.Next()
			if !ok {
				return dst, 0, ErrCorrupt
			}
			fn(e)
		}
		out = ListAppendHeader(dst, n-count)
		return append(out, b[it.Offset():]...), count, nil
	}
	// The last count elements: find where they start, then report them
	// tail first.
	var tail [16][]byte
	elems := tail[:0]
	cut := -1
	for i := 0; ; i++ {
		if i == n-count {
			cut = it.Offset()
		}
		e, ok := it.Next()
		if !ok {
			break
		}
		if i >= n-count {
			elems = append(elems, e)
		}
	}
	if it.Err() != nil || cut < 0 || len(elems) != count {
		return dst, 0, ErrCorrupt
	}
	for i := len(elems) - 1; i >= 0; i-- {
		fn(elems[i])
	}
	out = ListAppendHeader(dst, n-count)
	return append(out, b[it.n:cut]...), count, nil
}

// ListNormRange turns Redis's inclusive start/stop (negative counting from
// the tail) into a half-open [from, to) of a list of n elements; from >=
// to means empty.
func ListNormRange(n int, start, stop int64) (from, to int) {
	if start < 0 {
		start += int64(n)
	}
	if stop < 0 {
		stop += int64(n)
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= int64(n) {
		return 0, 0
	}
	if stop >= int64(n) {
		stop = int64(n) - 1
	}
	return int(start), int(stop) + 1
}

// ListRange calls fn with the elements of b from index start to stop
// inclusive (LRANGE's indexes: negative counts from the tail, out of range
// is clamped), head first.
func ListRange(b []byte, start, stop int64, fn func(e []byte)) error {
	from, to := ListNormRange(ListLen(b), start, stop)
	it := ListElems(b)
	for i := 0; i < to; i++ {
		e, ok := it.Next()
		if !ok {
			return ErrCorrupt
		}
		if i >= from {
			fn(e)
		}
	}
	return nil
}

// listIndex turns LINDEX's index (negative from the tail) into a position,
// or -1 when out of range.
func listIndex(n int, index int64) int {
	if index < 0 {
		index += int64(n)
	}
	if index < 0 || index >= int64(n) {
		return -1
	}
	return int(index)
}

// ListIndex returns the element at index (negative counts from the tail).
func ListIndex(b []byte, index int64) ([]byte, bool) {
	i := listIndex(ListLen(b), index)
	if i < 0 {
		return nil, false
	}
	it := ListElems(b)
	for {
		e, ok := it.Next()
		if !ok {
			return nil, false
		}
		if i == 0 {
			return e, true
		}
		i--
	}
}

// ListSet appends to dst the encoding of b with the element at index
// replaced by v; ok is false (and dst returned as is) when index is out of
// range.
func ListSet(dst, b []byte, index int64, v []byte) (out []byte, ok bool, err error) {
	n := ListLen(b)
	i := listIndex(n, index)
	if i < 0 {
		return dst, false, nil
	}
	it := ListElems(b)
	for j := 0; j < i; j++ {
		if _, ok := it.Next(); !ok {
			return dst, false, ErrCorrupt
		}
	}
	at := it.Offset()
	if _, ok := it.Next(); !ok {
		return dst, false, ErrCorrupt
	}
	out = append(dst, b[:at]...)
	out = ListAppendElem(out, v)
	return append(out, b[it.Offset():]...), true, nil
}

// ListRem appends to dst the encoding of b without the elements equal to
// elem, as LREM: count > 0 removes the first count from the head, count <
// 0 the first -count from the tail, 0 all of them. It returns the number
// removed.
func ListRem(dst, b []byte, count int64, elem []byte) (out []byte, removed int, err error) {
	n := ListLen(b)
	// Pass 1: positions of the matches.
	var matches []int
	it := ListElems(b)
	for i := 0; ; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if string(e) == string(elem) {
			matches = append(matches, i)
		}
	}
	if it.Err() != nil {
		return dst, 0, it.Err()
	}
	switch {
	case count > 0 && int64(len(matches)) > count:
		matches = matches[:count]
	// count == MinInt64 has no positive counterpart: it means every match
	// (as in Redis), and -count would overflow.
	case count < 0 && count != math.MinInt64 && int64(len(matches)) > -count:
		matches = matches[int64(len(matches))+count:]
	}
	if len(matches) == 0 {
		return append(dst, b...), 0, nil
	}
	out = ListAppendHeader(dst, n-len(matches))
	it = ListElems(b)
	m := 0
	for i := 0; ; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if m < len(matches) && matches[m] == i {
			m++
			continue
		}
		out = ListAppendElem(out, e)
	}
	return out, len(matches), nil
}

// ListTrim appends to dst the encoding of b keeping only the elements
// from start to stop inclusive (LTRIM's indexes).
func ListTrim(dst, b []byte, start, stop int64) ([]byte, error) {
	from, to := ListNormRange(ListLen(b), start, stop)
	if from >= to {
		return ListAppendHeader(dst, 0), nil
	}
	it := ListElems(b)
	var lo, hi int
	for i := 0; i <= to; i++ {
		if i == from {
			lo = it.Offset()
		}
		if i == to {
			hi = it.Offset()
			break
		}
		if _, ok := it.Next(); !ok {
			return dst, ErrCorrupt
		}
	}
	out := ListAppendHeader(dst, to-from)
	return append(out, b[lo:hi]...), nil
}

// ListInsert appends to dst the encoding of b with elem inserted before
// (or after) the first element equal to pivot. found is false, and dst
// returned as is, when no element equals pivot.
func ListInsert(dst, b []byte, before bool, pivot, elem []byte) (out []byte, found bool, err error) {
	it := ListElems(b)
	for {
		at := it.Offset()
		e, ok := it.Next()
		if !ok {
			return dst, false, it.Err()
		}
		if string(e) != string(pivot) {
			continue
		}
		cut := it.Offset()
		if before {
			cut = at
		}
		out = ListAppendHeader(dst, ListLen(b)+1)
		out = append(out, b[it.n:cut]...)
		out = ListAppendElem(out, elem)
		return append(out, b[cut:]...), true, nil
	}
}

// ListPos calls fn with the index (from the head) of the elements equal
// to elem, as LPOS: rank > 0 skips the first rank-1 matches scanning from
// the head, rank < 0 the first -rank-1 scanning from the tail (indexes
// still count from the head); at most count matches are reported (0: all)
// and at most maxlen elements compared (0: all).
func ListPos(b []byte, elem []byte, rank, count, maxlen int64, fn func(index int)) error {
	n := ListLen(b)
	limit := n
	if maxlen > 0 && maxlen < int64(n) {
		limit = int(maxlen)
	}
	skip := rank - 1
	if rank < 0 {
		skip = -rank - 1
	}
	reported := int64(0)
	match := func(i int) bool {
		if skip > 0 {
			skip--
			return true
		}
		fn(i)
		reported++
		return count == 0 || reported < count
	}
	it := ListElems(b)
	if rank > 0 {
		for i := 0; i < limit; i++ {
			e, ok := it.Next()
			if !ok {
				return it.Err()
			}
			if string(e) == string(elem) && !match(i) {
				return nil
			}
		}
		return nil
	}
	// From the tail: the matches among the last limit elements, scanned
	// backwards.
	var idx []int
	for i := 0; ; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if i >= n-limit && string(e) == string(elem) {
			idx = append(idx, i)
		}
	}
	if it.Err() != nil {
		return it.Err()
	}
	for j := len(idx) - 1; j >= 0; j-- {
		if !match(idx[j]) {
			return nil
		}
	}
	return nil
}
