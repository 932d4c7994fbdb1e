package value

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// # Hash encoding
//
// A TypeHash value is
//
//	uvarint(number of fields)
//	then, per field, in insertion order:
//	uvarint(len(field)) field uvarint(len(value)) value
//
// so a field of f bytes with a value of v bytes costs f+v+2 bytes for
// lengths under 128, and HLEN is O(1). Fields keep insertion order
// (HGETALL, HKEYS, HVALS answer in that order, as Redis's listpack does).
//
// Limits: a lookup (HGET, HEXISTS) scans the value, O(size), and an
// update (HSET, HDEL, HINCRBY) copies it, O(size) per command (the runs
// of unchanged pairs are copied whole: HSET of a new field into 130 fields
// is a search and a memmove). That is what Redis's listpack costs too, and
// why the compact encoding holds only small hashes: past Limits a hash is
// a HashTable (hashtable.go), O(1) per field.

// ErrCorrupt reports a value that does not decode as its type's encoding;
// it cannot happen for values written through this package's encoders.
var ErrCorrupt = errors.New("value: malformed encoding")

// HashLen is the number of fields of an encoded hash (0 for an empty or
// malformed buffer).
func HashLen(b []byte) int {
	n, m := binary.Uvarint(b)
	if m <= 0 {
		return 0
	}
	return int(n)
}

// HashIter walks the fields of an encoded hash in order.
type HashIter struct {
	b    []byte
	left int
	err  error
}

// HashFields returns an iterator over b.
func HashFields(b []byte) HashIter {
	n, m := binary.Uvarint(b)
	if m <= 0 {
		if len(b) == 0 {
			return HashIter{}
		}
		return HashIter{err: ErrCorrupt}
	}
	return HashIter{b: b[m:], left: int(n)}
}

// Next returns the next field and its value, slices of the encoded buffer.
func (it *HashIter) Next() (field, value []byte, ok bool) {
	if it.left <= 0 || it.err != nil {
		return nil, nil, false
	}
	field, ok1 := it.chunk()
	value, ok2 := it.chunk()
	if !ok1 || !ok2 {
		it.err, it.left = ErrCorrupt, 0
		return nil, nil, false
	}
	it.left--
	return field, value, true
}

// Err reports a malformed buffer met by Next.
func (it *HashIter) Err() error { return it.err }

func (it *HashIter) chunk() ([]byte, bool) {
	var l uint64
	var m int
	if len(it.b) > 0 && it.b[0] < 0x80 {
		l, m = uint64(it.b[0]), 1
	} else {
		l, m = binary.Uvarint(it.b)
		if m <= 0 {
			return nil, false
		}
	}
	if uint64(len(it.b)-m) < l {
		return nil, false
	}
	c := it.b[m : m+int(l) : m+int(l)]
	it.b = it.b[m+int(l):]
	return c, true
}

// HashGet returns the value of field in the encoded hash b.
func HashGet(b, field []byte) ([]byte, bool) {
	n, hl := binary.Uvarint(b)
	if hl <= 0 {
		return nil, false
	}
	body := b[hl:]
	start, end, found, _ := findPair(body, int(n), field)
	if !found {
		return nil, false
	}
	fl, m := uvarintAt(body, start)
	q := start + m + fl
	_, m2 := uvarintAt(body, q)
	return body[q+m2 : end : end], true
}

// HashAppendPair appends one field/value pair (without the count header);
// HashAppendHeader and HashAppendPair build an encoding from scratch.
func HashAppendPair(dst, field, value []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(field)))
	dst = append(dst, field...)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// HashAppendHeader appends the count header of a hash of n fields.
func HashAppendHeader(dst []byte, n int) []byte {
	return binary.AppendUvarint(dst, uint64(n))
}

// smallArgs is the number of fields up to which HashSet and HashDel find a
// command's fields by linear search rather than a map.
const smallArgs = 16

// fieldIndex finds fields among a command's arguments.
type fieldIndex struct {
	fields [][]byte
	m      map[string]int
}

func newFieldIndex(fields [][]byte) fieldIndex {
	x := fieldIndex{fields: fields}
	if len(fields) > smallArgs {
		x.m = make(map[string]int, len(fields))
		for i, f := range fields {
			x.m[string(f)] = i
		}
	}
	return x
}

// find returns the last index of f (the one whose value wins), or -1.
func (x *fieldIndex) find(f []byte) int {
	if x.m != nil {
		if i, ok := x.m[string(f)]; ok {
			return i
		}
		return -1
	}
	for i := len(x.fields) - 1; i >= 0; i-- {
		if string(x.fields[i]) == string(f) {
			return i
		}
	}
	return -1
}

// HashSet appends to dst the encoding of b (an encoded hash, or nil for a
// new one) with fields[i] set to values[i]; a field given twice takes its
// last value. Existing fields keep their position, new ones are appended in
// argument order. It returns the new encoding and the number of fields
// added. dst must not overlap b.
func HashSet(dst, b []byte, fields, values [][]byte) (out []byte, added int, err error) {
	if len(fields) == 1 {
		return hashSetOne(dst, b, fields[0], values[0])
	}
	x := newFieldIndex(fields)
	// state[i], for the last position i of each argument field (the one
	// whose value wins): 1 if the field exists in b, 2 once written.
	state := make([]uint8, len(fields))
	// Pass 1: which argument fields exist already (for the count header).
	old := HashLen(b)
	it := HashFields(b)
	for {
		f, _, ok := it.Next()
		if !ok {
			break
		}
		if i := x.find(f); i >= 0 {
			state[i] = 1
		}
	}
	if it.Err() != nil {
		return dst, 0, it.Err()
	}
	for i, f := range fields {
		if x.find(f) == i && state[i] == 0 {
			added++
		}
	}
	// Pass 2: write. New fields go in the order of their first
	// occurrence, with their last value (HSET h a 1 b 2 a 3: a=3, b=2).
	// Runs of pairs that keep their value are copied whole.
	out = HashAppendHeader(dst, old+added)
	_, hl := binary.Uvarint(b)
	body := b[max(hl, 0):]
	run := 0 // start of the pending run of unchanged pairs in body
	it = HashFields(b)
	for {
		at := len(body) - len(it.b)
		f, _, ok := it.Next()
		if !ok {
			break
		}
		if i := x.find(f); i >= 0 {
			out = append(out, body[run:at]...)
			out = HashAppendPair(out, f, values[i])
			run = len(body) - len(it.b)
		}
	}
	out = append(out, body[run:]...)
	for _, f := range fields {
		if l := x.find(f); state[l] == 0 {
			state[l] = 2
			out = HashAppendPair(out, f, values[l])
		}
	}
	return out, added, nil
}

// hashSetOne is HashSet of one field (HSET h f v, HINCRBY): one pass to
// find the field's pair, then the rest is copied whole.
func hashSetOne(dst, b, field, val []byte) ([]byte, int, error) {
	n, hl := binary.Uvarint(b)
	if hl <= 0 {
		if len(b) != 0 {
			return dst, 0, ErrCorrupt
		}
		n, hl = 0, 0
	}
	body := b[hl:]
	start, end, found, err := findPair(body, int(n), field)
	if err != nil {
		return dst, 0, err
	}
	if !found {
		out := HashAppendHeader(dst, int(n)+1)
		out = append(out, body...)
		return HashAppendPair(out, field, val), 1, nil
	}
	out := HashAppendHeader(dst, int(n))
	out = append(out, body[:start]...)
	out = HashAppendPair(out, field, val)
	return append(out, body[end:]...), 0, nil
}

// findPair returns the byte range in body (the pairs of a hash of n
// fields, after its count) of field's pair.
func findPair(body []byte, n int, field []byte) (start, end int, found bool, err error) {
	p := 0
	for range n {
		fl, m := uvarintAt(body, p)
		if m <= 0 || len(body)-p-m < fl {
			return 0, 0, false, ErrCorrupt
		}
		f := body[p+m : p+m+fl]
		q := p + m + fl
		vl, m2 := uvarintAt(body, q)
		if m2 <= 0 || len(body)-q-m2 < vl {
			return 0, 0, false, ErrCorrupt
		}
		next := q + m2 + vl
		if len(f) == len(field) && string(f) == string(field) {
			return p, next, true, nil
		}
		p = next
	}
	return 0, 0, false, nil
}

// uvarintAt reads the uvarint at b[p:] (a one-byte fast path).
func uvarintAt(b []byte, p int) (int, int) {
	if p < len(b) && b[p] < 0x80 {
		return int(b[p]), 1
	}
	v, m := binary.Uvarint(b[p:])
	if m <= 0 || v > uint64(len(b)) {
		return 0, -1
	}
	return int(v), m
}

// HashDel appends to dst the encoding of b without the given fields and
// returns it with the number of fields removed. dst must not overlap b.
func HashDel(dst, b []byte, fields [][]byte) (out []byte, removed int, err error) {
	x := newFieldIndex(fields)
	it := HashFields(b)
	for {
		f, _, ok := it.Next()
		if !ok {
			break
		}
		if x.find(f) >= 0 {
			removed++
		}
	}
	if it.Err() != nil {
		return dst, 0, it.Err()
	}
	out = HashAppendHeader(dst, HashLen(b)-removed)
	it = HashFields(b)
	for {
		f, v, ok := it.Next()
		if !ok {
			break
		}
		if x.find(f) < 0 {
			out = HashAppendPair(out, f, v)
		}
	}
	return out, removed, nil
}

// HashScanAll is the number of fields up to which HashScan returns a whole
// hash in one call with cursor 0, as Redis does for a listpack-encoded hash.
// A compact hash of more fields (up to hash-max-listpack-entries, 512 by
// default) is paged like a HashTable, by the same hash order and cursor.
const HashScanAll = 128

// HashScan calls fn for one page of an HSCAN over the encoded hash b and
// returns the next cursor (0: done). A hash of at most HashScanAll fields
// is returned whole. A larger one is paged in the order of a 64-bit hash
// of the field: the cursor is the smallest field hash not yet returned, so
// a field present for the whole scan is returned exactly once however the
// hash changes between calls (fields do not move in hash order, unlike
// positions in the encoding). A page holds about count fields: fields
// whose hash equals the page's last one are included, so the cursor never
// splits them.
func HashScan(b []byte, cursor uint64, count int, fn func(field, value []byte)) (next uint64, err error) {
	if HashLen(b) <= HashScanAll {
		it := HashFields(b)
		for {
			f, v, ok := it.Next()
			if !ok {
				return 0, it.Err()
			}
			fn(f, v)
		}
	}
	type fv struct{ f, v []byte }
	var page []hashed[fv]
	it := HashFields(b)
	for {
		f, v, ok := it.Next()
		if !ok {
			break
		}
		if h := xxhash.Sum64(f); h >= cursor {
			page = append(page, hashed[fv]{h, fv{f, v}})
		}
	}
	if it.Err() != nil {
		return 0, it.Err()
	}
	return pageByHash(page, count, func(e fv) { fn(e.f, e.v) }), nil
}

// hashed is a collection element with the 64-bit hash of its name, for
// the scans that page in hash order (HashScan, SetScan, ZSetScan).
type hashed[T any] struct {
	h uint64
	e T
}

// pageByHash sorts the elements whose hash is at or past the cursor, calls
// fn for about count of them (the ones sharing the last one's hash too,
// so a cursor never splits them) and returns the next cursor, 0 when the
// page reached the end.
func pageByHash[T any](page []hashed[T], count int, fn func(T)) uint64 {
	slices.SortFunc(page, func(a, b hashed[T]) int { return cmp.Compare(a.h, b.h) })
	n := min(max(count, 1), len(page))
	for n < len(page) && page[n].h == page[n-1].h {
		n++
	}
	for _, e := range page[:n] {
		fn(e.e)
	}
	if n == len(page) || page[n-1].h == math.MaxUint64 {
		return 0
	}
	return page[n-1].h + 1
}
