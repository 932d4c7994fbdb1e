package value

import (
	"bytes"
	"math"
	"slices"
)

// # Two encodings per type
//
// A collection is compact (hash.go, set.go, zset.go, list.go: one buffer,
// rewritten per write, like Redis's listpack and intset) while small, and
// big (HashTable, SetTable, ZSetTree, QuickList) past Limits, as Redis
// converts past its *-max-listpack-* and set-max-intset-entries.
// Conversion is one way: a big value that shrinks stays big. HashView,
// SetView, ZSetView and ListView read either.

// Limits are the thresholds of the compact encodings, Redis's parameters
// of the same names. A value over a limit of its type is big.
type Limits struct {
	HashEntries, HashValue int64 // hash-max-listpack-entries, -value
	SetIntset              int64 // set-max-intset-entries
	SetListpack            int64 // set-max-listpack-entries
	SetListpackValue       int64 // set-max-listpack-value
	ZSetEntries, ZSetValue int64 // zset-max-listpack-entries, -value
	// ListFill is list-max-listpack-size: a quicklist node's limit, a
	// count of elements when positive, else a size (-1..-5: 4..64 KiB);
	// see QuickList.
	ListFill int64
}

// DefaultLimits are Redis's defaults (7.0's for hashes, intsets, sorted
// sets and lists, 7.2's for listpack sets).
func DefaultLimits() Limits {
	return Limits{HashEntries: 512, HashValue: 64, SetIntset: 512, SetListpack: 128, SetListpackValue: 64,
		ZSetEntries: 128, ZSetValue: 64, ListFill: -2}
}

// HashNeedsTable reports whether a hash write of these fields and values
// converts a compact hash before it runs: one of them is longer than
// hash-max-listpack-value (Redis's hashTypeTryConversion).
func (l Limits) HashNeedsTable(fields, values [][]byte) bool {
	for _, b := range fields {
		if int64(len(b)) > l.HashValue {
			return true
		}
	}
	for _, b := range values {
		if int64(len(b)) > l.HashValue {
			return true
		}
	}
	return false
}

// HashTooLong reports a compact hash of n fields that must convert.
func (l Limits) HashTooLong(n int) bool { return int64(n) > l.HashEntries }

// ZSetConvertsAt is where a compact sorted set of n members becomes a
// ZSetTree while the members added are added, in order: the index in
// added of the member whose insert converts it, or -1. Redis 7.0's zsetAdd
// converts before an insert that would pass zset-max-listpack-entries or
// whose member is longer than zset-max-listpack-value; a changed score
// never converts.
func (l Limits) ZSetConvertsAt(n int, added [][]byte) int {
	for i, m := range added {
		if int64(n+i+1) > l.ZSetEntries || int64(len(m)) > l.ZSetValue {
			return i
		}
	}
	return -1
}

// ListCompact reports whether a list of n elements whose compact encoding
// is size bytes stays compact: while it would fit one quicklist node under
// list-max-listpack-size (Redis 7.2 keeps such a list a listpack; 7.0
// names every list "quicklist", and so does tcached). Past it the list is
// a QuickList, for good.
func (l Limits) ListCompact(n, size int) bool {
	fill := max(min(l.ListFill, qfillMax), -5)
	if fill < 0 {
		return size <= 4096<<(-fill-1)
	}
	return size <= qsafetyLimit && int64(n) <= fill
}

// Compact set tags (shard.Entry.Enc): how a compact set has lived. Redis
// 7.0 keeps an intset while every member is an integer and converts to a
// hash table for good on the first string; tcached keeps such a set compact
// up to set-max-listpack-entries (Redis 7.2's listpack set) and tags it, so
// that OBJECT ENCODING answers what 7.0 would: "intset" for SetTagIntset,
// "hashtable" for SetTagListpack.
const (
	SetTagIntset   uint8 = 0
	SetTagListpack uint8 = 1
)

// SetCompactTag decides the encoding of a set of n members after adding
// members to a compact set tagged tag (SetTagIntset for a new set): it
// returns the compact tag, or ok false when the set becomes a table.
// allInts says whether the set's members are all integers (only read for
// an intset). Redis 7.2's rules: an intset stays one while every member is
// an integer and there are at most set-max-intset-entries; a set that
// takes a string is a listpack while it has at most
// set-max-listpack-entries members none longer than set-max-listpack-value
// (only the members added are measured, as Redis does).
func (l Limits) SetCompactTag(tag uint8, n int, members [][]byte, allInts bool) (uint8, bool) {
	if tag == SetTagIntset && allInts {
		if int64(n) <= l.SetIntset {
			return SetTagIntset, true
		}
		return 0, false
	}
	if int64(n) > l.SetListpack {
		return 0, false
	}
	for _, m := range members {
		if int64(len(m)) > l.SetListpackValue {
			return 0, false
		}
	}
	return SetTagListpack, true
}

// IsInt reports whether b is an integer as Redis's string2ll reads one
// (what an intset can hold): optional '-', no '+', no leading zeros, no
// spaces, within int64.
func IsInt(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	if len(b) == 1 && b[0] == '0' {
		return true
	}
	i := 0
	if b[0] == '-' {
		if i = 1; len(b) == 1 {
			return false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' || v > (math.MaxUint64-9)/10 {
			return false
		}
		v = v*10 + uint64(c-'0')
	}
	if b[0] == '-' {
		return v <= 1<<63
	}
	return v <= math.MaxInt64
}

// AllInts reports whether every member is an integer.
func AllInts(members [][]byte) bool {
	for _, m := range members {
		if !IsInt(m) {
			return false
		}
	}
	return true
}

// SetAllInts reports whether every member of the compact set enc is an
// integer.
func SetAllInts(enc []byte) bool {
	it := SetMembers(enc)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if !IsInt(m) {
			return false
		}
	}
	return true
}

// HashView reads a hash in either encoding: Tab when it is a table, else
// Enc (nil for a missing key).
type HashView struct {
	Enc []byte
	Tab *HashTable
}

// ViewHash is the view of an entry's value: obj is its object (nil for a
// compact value).
func ViewHash(enc []byte, obj any) HashView {
	if t, ok := obj.(*HashTable); ok {
		return HashView{Tab: t}
	}
	return HashView{Enc: enc}
}

// Len is the number of fields.
func (h HashView) Len() int {
	if h.Tab != nil {
		return h.Tab.Len()
	}
	return HashLen(h.Enc)
}

// Get returns the value of field.
func (h HashView) Get(field []byte) ([]byte, bool) {
	if h.Tab != nil {
		return h.Tab.Get(field)
	}
	return HashGet(h.Enc, field)
}

// AppendEncoding appends the hash in the compact layout (HashFields reads
// it): a copy to reply from once the lock is released.
func (h HashView) AppendEncoding(dst []byte) []byte {
	if h.Tab != nil {
		return h.Tab.AppendEncoding(dst)
	}
	return append(dst, h.Enc...)
}

// SetView reads a set in either encoding.
type SetView struct {
	Enc []byte
	Tab *SetTable
}

// ViewSet is the view of an entry's value (see ViewHash).
func ViewSet(enc []byte, obj any) SetView {
	if t, ok := obj.(*SetTable); ok {
		return SetView{Tab: t}
	}
	return SetView{Enc: enc}
}

// Len is the number of members.
func (s SetView) Len() int {
	if s.Tab != nil {
		return s.Tab.Len()
	}
	return SetLen(s.Enc)
}

// Has reports whether m is a member.
func (s SetView) Has(m []byte) bool {
	if s.Tab != nil {
		return s.Tab.Has(m)
	}
	return SetHas(s.Enc, m)
}

// Range calls fn for each member until it returns false (a compact set's
// in order).
func (s SetView) Range(fn func(m []byte) bool) {
	if s.Tab != nil {
		s.Tab.Range(fn)
		return
	}
	it := SetMembers(s.Enc)
	for m, ok := it.Next(); ok && fn(m); m, ok = it.Next() {
	}
}

// AppendList appends the members in the compact layout (SetMembers walks
// it; sorted only for a compact set): a copy to reply from.
func (s SetView) AppendList(dst []byte) []byte {
	if s.Tab != nil {
		return s.Tab.AppendList(dst)
	}
	return append(dst, s.Enc...)
}

// SetLookup answers membership in O(1) (a table) or O(log n) (a compact
// set's members decoded once and binary searched): what an intersection
// or difference probes its other sets with.
type SetLookup struct {
	tab    *SetTable
	sorted [][]byte
}

// Lookup returns s's lookup; the compact case decodes s once.
func (s SetView) Lookup() SetLookup {
	if s.Tab != nil {
		return SetLookup{tab: s.Tab}
	}
	l, _ := SetSlice(nil, s.Enc)
	return SetLookup{sorted: l}
}

// Has reports whether m is a member.
func (l SetLookup) Has(m []byte) bool {
	if l.tab != nil {
		return l.tab.Has(m)
	}
	_, ok := slices.BinarySearchFunc(l.sorted, m, bytes.Compare)
	return ok
}

// Clone copies a table (COPY puts a copy, never the same object at two
// keys); obj is an entry's object. It returns nil for anything else.
func Clone(obj any) any {
	switch t := obj.(type) {
	case *HashTable:
		return t.Clone()
	case *SetTable:
		return t.Clone()
	case *ZSetTree:
		return t.Clone()
	case *QuickList:
		return t.Clone()
	case *Stream:
		return t.Clone()
	}
	return nil
}

// ZSetView reads a sorted set in either encoding: Tree when it is a
// ZSetTree, else Enc (nil for a missing key).
type ZSetView struct {
	Enc  []byte
	Tree *ZSetTree
}

// ViewZSet is the view of an entry's value (see ViewHash).
func ViewZSet(enc []byte, obj any) ZSetView {
	if t, ok := obj.(*ZSetTree); ok {
		return ZSetView{Tree: t}
	}
	return ZSetView{Enc: enc}
}

// Len is the number of members.
func (z ZSetView) Len() int {
	if z.Tree != nil {
		return z.Tree.Len()
	}
	return ZSetLen(z.Enc)
}

// Score returns the score of member.
func (z ZSetView) Score(member []byte) (float64, bool) {
	if z.Tree != nil {
		return z.Tree.Score(member)
	}
	return ZSetScore(z.Enc, member)
}

// Scores looks members up: found[i] reports whether members[i] is in the
// set and scores[i] is its score.
func (z ZSetView) Scores(members [][]byte) (scores []float64, found []bool, err error) {
	if z.Tree == nil {
		return ZSetScores(z.Enc, members)
	}
	scores = make([]float64, len(members))
	found = make([]bool, len(members))
	for i, m := range members {
		scores[i], found[i] = z.Tree.Score(m)
	}
	return scores, found, nil
}

// Rank returns the 0-based rank of member (ascending) and its score.
func (z ZSetView) Rank(member []byte) (rank int, score float64, ok bool) {
	if z.Tree != nil {
		return z.Tree.Rank(member)
	}
	return ZSetRank(z.Enc, member)
}

// AppendEncoding appends the set in the compact encoding: a copy to
// reply from or to sort once the lock is released.
func (z ZSetView) AppendEncoding(dst []byte) []byte {
	if z.Tree != nil {
		return z.Tree.AppendEncoding(dst)
	}
	return append(dst, z.Enc...)
}

// ListView reads a list in either encoding: QL when it is a QuickList,
// else Enc (nil for a missing key).
type ListView struct {
	Enc []byte
	QL  *QuickList
}

// ViewList is the view of an entry's value (see ViewHash).
func ViewList(enc []byte, obj any) ListView {
	if q, ok := obj.(*QuickList); ok {
		return ListView{QL: q}
	}
	return ListView{Enc: enc}
}

// Len is the number of elements.
func (l ListView) Len() int {
	if l.QL != nil {
		return l.QL.Len()
	}
	return ListLen(l.Enc)
}

// Index returns the element at index (negative counts from the tail).
func (l ListView) Index(index int64) ([]byte, bool) {
	if l.QL == nil {
		return ListIndex(l.Enc, index)
	}
	i := listIndex(l.QL.Len(), index)
	if i < 0 {
		return nil, false
	}
	return l.QL.Index(i), true
}

// Range calls fn with the elements from index start to stop inclusive
// (LRANGE's indexes), head first.
func (l ListView) Range(start, stop int64, fn func(e []byte)) error {
	if l.QL == nil {
		return ListRange(l.Enc, start, stop, fn)
	}
	from, to := ListNormRange(l.QL.Len(), start, stop)
	if from >= to {
		return nil
	}
	k := to - from
	l.QL.Walk(from, false, func(e []byte) bool {
		fn(e)
		k--
		return k > 0
	})
	return nil
}

// Pos is LPOS over either encoding (see ListPos).
func (l ListView) Pos(elem []byte, rank, count, maxlen int64, fn func(index int)) error {
	if l.QL == nil {
		return ListPos(l.Enc, elem, rank, count, maxlen, fn)
	}
	l.QL.Pos(elem, rank, count, maxlen, fn)
	return nil
}

// AppendEncoding appends the list in the compact encoding: a copy to
// reply from or to sort once the lock is released.
func (l ListView) AppendEncoding(dst []byte) []byte {
	if l.QL != nil {
		return l.QL.AppendEncoding(dst)
	}
	return append(dst, l.Enc...)
}
