package value

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// # Sorted set encoding
//
// A TypeZSet value is
//
//	uvarint(number of members)
//	then, per member, in (score, member) order:
//	8 bytes score (IEEE 754 bits, little endian) uvarint(len(member)) member
//
// Members are ordered by score, then by member bytes (Redis's order), so a
// range by rank, score or lex is one forward scan and ZCARD is O(1). A
// score is never NaN, and -0 is stored as 0 (Redis's listpack stores a
// score as text and prints -0 as 0 for small sorted sets).
//
// This is the compact encoding (Redis's listpack), used while a sorted
// set has at most zset-max-listpack-entries members none longer than
// zset-max-listpack-value: a member lookup (ZSCORE, ZRANK, ZADD's
// existence check) scans the value and an update copies it, O(size), as
// a listpack's does. Past the thresholds a sorted set is a ZSetTree
// (zsettree.go).

// ZMember is one member of a sorted set and its score.
type ZMember struct {
	Member []byte
	Score  float64
}

// ZCompare orders members as a sorted set does: by score, then by member.
func ZCompare(a, b ZMember) int {
	if a.Score < b.Score {
		return -1
	}
	if a.Score > b.Score {
		return 1
	}
	return cmp.Compare(string(a.Member), string(b.Member))
}

// ZSetLen is the number of members of an encoded sorted set (0 for an
// empty or malformed buffer).
func ZSetLen(b []byte) int { return HashLen(b) }

// ZSetIter walks the members of an encoded sorted set in order.
type ZSetIter struct {
	b    []byte
	left int
	err  error
}

// ZSetMembers returns an iterator over b.
func ZSetMembers(b []byte) ZSetIter {
	n, m := binary.Uvarint(b)
	if m <= 0 {
		if len(b) == 0 {
			return ZSetIter{}
		}
		return ZSetIter{err: ErrCorrupt}
	}
	return ZSetIter{b: b[m:], left: int(n)}
}

// ZSetRecords returns an iterator over n members laid out as in the
// encoding but without its count header (ZAppendScored's output).
func ZSetRecords(b []byte, n int) ZSetIter { return ZSetIter{b: b, left: n} }

// Next returns the next member (a slice of the encoded buffer) and its
// score.
func (it *ZSetIter) Next() (ZMember, bool) {
	if it.left <= 0 || it.err != nil {
		return ZMember{}, false
	}
	if len(it.b) < 9 {
		it.err, it.left = ErrCorrupt, 0
		return ZMember{}, false
	}
	score := math.Float64frombits(binary.LittleEndian.Uint64(it.b))
	l, m := binary.Uvarint(it.b[8:])
	if m <= 0 || uint64(len(it.b)-8-m) < l {
		it.err, it.left = ErrCorrupt, 0
		return ZMember{}, false
	}
	start := 8 + m
	end := start + int(l)
	mem := it.b[start:end:end]
	it.b = it.b[end:]
	it.left--
	return ZMember{Member: mem, Score: score}, true
}

// Err reports a malformed buffer met by Next.
func (it *ZSetIter) Err() error { return it.err }

// ZSetDecode appends the members of b, in order, to dst; Member slices
// alias b.
func ZSetDecode(dst []ZMember, b []byte) ([]ZMember, error) {
	it := ZSetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		dst = append(dst, m)
	}
	return dst, it.Err()
}

// ZSetAppendHeader appends the count header of a sorted set of n members.
func ZSetAppendHeader(dst []byte, n int) []byte { return binary.AppendUvarint(dst, uint64(n)) }

// ZSetAppendMember appends one member (without the header); members must
// be appended in ZCompare order.
func ZSetAppendMember(dst []byte, m ZMember) []byte {
	score := m.Score
	if score == 0 {
		score = 0 // -0 is stored as 0
	}
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(score))
	dst = binary.AppendUvarint(dst, uint64(len(m.Member)))
	return append(dst, m.Member...)
}

// ZAppendScored appends one member as ZSetAppendMember does, but keeps a
// score of -0 as it is: a ZSetTree keeps -0 (as Redis's skiplist does,
// which prints it "-0"), and a copy made to reply from must too. Only
// reply copies are built with it; a compact encoding never holds -0.
func ZAppendScored(dst []byte, m ZMember) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(m.Score))
	dst = binary.AppendUvarint(dst, uint64(len(m.Member)))
	return append(dst, m.Member...)
}

// ZSetScores looks up the scores of members in b in one pass: found[i]
// reports whether members[i] is in b and scores[i] is its score.
func ZSetScores(b []byte, members [][]byte) (scores []float64, found []bool, err error) {
	scores = make([]float64, len(members))
	found = make([]bool, len(members))
	if len(members) == 1 {
		scores[0], found[0] = ZSetScore(b, members[0])
		return scores, found, nil
	}
	x := newFieldIndex(members)
	got := make(map[string]float64, len(members))
	it := ZSetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if x.find(m.Member) >= 0 {
			got[string(m.Member)] = m.Score
		}
	}
	for j, f := range members {
		scores[j], found[j] = got[string(f)]
	}
	return scores, found, it.Err()
}

// ZSetScore returns the score of member in b.
func ZSetScore(b, member []byte) (float64, bool) {
	it := ZSetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if string(m.Member) == string(member) {
			return m.Score, true
		}
	}
	return 0, false
}

// ZSetRank returns the 0-based rank of member in b (ascending) and its
// score.
func ZSetRank(b, member []byte) (rank int, score float64, ok bool) {
	it := ZSetMembers(b)
	for m, more := it.Next(); more; m, more = it.Next() {
		if string(m.Member) == string(member) {
			return rank, m.Score, true
		}
		rank++
	}
	return 0, 0, false
}

// ZSetMerge appends to dst the encoding of b with the members named in del
// removed and the members of set inserted or given their new score. The
// members of set must be distinct and must not also be in del; set is
// sorted in place. It returns the new encoding. dst must not overlap b.
func ZSetMerge(dst, b []byte, set []ZMember, del [][]byte) ([]byte, error) {
	names := make([][]byte, 0, len(set)+len(del))
	for _, m := range set {
		names = append(names, m.Member)
	}
	names = append(names, del...)
	x := newFieldIndex(names)
	// Pass 1: how many members of b are replaced or removed.
	dropped := 0
	it := ZSetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if x.find(m.Member) >= 0 {
			dropped++
		}
	}
	if it.Err() != nil {
		return dst, it.Err()
	}
	slices.SortFunc(set, ZCompare)
	// Pass 2: merge the kept members of b with set.
	out := ZSetAppendHeader(dst, ZSetLen(b)-dropped+len(set))
	it = ZSetMembers(b)
	j := 0
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if x.find(m.Member) >= 0 {
			continue
		}
		for j < len(set) && ZCompare(set[j], m) < 0 {
			out = ZSetAppendMember(out, set[j])
			j++
		}
		out = ZSetAppendMember(out, m)
	}
	for ; j < len(set); j++ {
		out = ZSetAppendMember(out, set[j])
	}
	return out, nil
}

// ZSetCut appends to dst the encoding of b without the members of rank
// from to to-1 (0-based, ascending; clamped to the set). dst must not
// overlap b.
func ZSetCut(dst, b []byte, from, to int) ([]byte, error) {
	n := ZSetLen(b)
	from, to = max(from, 0), min(to, n)
	if to < from {
		to = from
	}
	out := ZSetAppendHeader(dst, n-(to-from))
	it := ZSetMembers(b)
	for i := 0; ; i++ {
		m, ok := it.Next()
		if !ok {
			break
		}
		if i < from || i >= to {
			out = ZSetAppendMember(out, m)
		}
	}
	return out, it.Err()
}

// ZSetScanAll is the number of members up to which ZSetScan returns a
// whole sorted set in one call with cursor 0, as Redis does for a
// listpack-encoded sorted set (zset-max-listpack-entries, 128).
const ZSetScanAll = 128

// ZSetScan calls fn for one page of a ZSCAN over the encoded sorted set b
// and returns the next cursor (0: done), with HashScan's guarantee: a set
// of at most ZSetScanAll members comes whole (in order); a larger one is
// paged in the order of a 64-bit hash of the member, the cursor being the
// smallest member hash not yet returned, so a member present for the whole
// scan is returned exactly once however the set changes between calls.
func ZSetScan(b []byte, cursor uint64, count int, fn func(m ZMember)) (next uint64, err error) {
	if ZSetLen(b) <= ZSetScanAll {
		it := ZSetMembers(b)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			fn(m)
		}
		return 0, it.Err()
	}
	var page []hashed[ZMember]
	it := ZSetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if h := xxhash.Sum64(m.Member); h >= cursor {
			page = append(page, hashed[ZMember]{h, m})
		}
	}
	if it.Err() != nil {
		return 0, it.Err()
	}
	return pageByHash(page, count, fn), nil
}
