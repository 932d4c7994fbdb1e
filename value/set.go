package value

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// # Set encoding
//
// A TypeSet value is
//
//	uvarint(number of members)
//	then, per member, in ascending bytewise order, each member once:
//	uvarint(len(member)) member
//
// so a member of m bytes costs m+1 bytes for lengths under 128, and SCARD
// is O(1). Keeping members sorted makes every multi-set operation a merge:
// SADD and SREM of k members cost O(n + k log k), SINTER, SUNION and SDIFF
// of sets of total size N cost O(N) (SUNION O(N log N)), and their results
// come out already sorted, ready to store. SMEMBERS therefore answers in
// bytewise order (Redis answers in an unspecified order, insertion order
// for its listpack sets; clients must not depend on either).
//
// Limits: a membership test (SISMEMBER, SMISMEMBER per member, SMOVE) scans
// the value up to the member's place in the order, O(size): members have
// variable lengths and there is no offset index, so no binary search. An
// update copies the value, O(size) per command (runs of kept members are
// copied whole), like the hash encoding: that is why the compact encoding
// holds only small sets, and past Limits a set is a SetTable
// (settable.go), O(1) per member.

// SetLen is the number of members of an encoded set (0 for an empty or
// malformed buffer).
func SetLen(b []byte) int { return HashLen(b) }

// SetIter walks the members of an encoded set in ascending order.
type SetIter struct {
	h HashIter // the chunk reader; h.left counts members
}

// SetMembers returns an iterator over b.
func SetMembers(b []byte) SetIter {
	n, m := binary.Uvarint(b)
	if m <= 0 {
		if len(b) == 0 {
			return SetIter{}
		}
		return SetIter{h: HashIter{err: ErrCorrupt}}
	}
	return SetIter{h: HashIter{b: b[m:], left: int(n)}}
}

// Next returns the next member, a slice of the encoded buffer.
func (it *SetIter) Next() (member []byte, ok bool) {
	if it.h.left <= 0 || it.h.err != nil {
		return nil, false
	}
	m, ok := it.h.chunk()
	if !ok {
		it.h.err, it.h.left = ErrCorrupt, 0
		return nil, false
	}
	it.h.left--
	return m, true
}

// Err reports a malformed buffer met by Next.
func (it *SetIter) Err() error { return it.h.err }

// SetHas reports whether member is in the encoded set b. It stops at the
// first member ordered after it.
func SetHas(b, member []byte) bool {
	it := SetMembers(b)
	for {
		m, ok := it.Next()
		if !ok {
			return false
		}
		switch bytes.Compare(m, member) {
		case 0:
			return true
		case 1:
			return false
		}
	}
}

// SetSlice appends the members of b to dst, in order (slices of b).
func SetSlice(dst [][]byte, b []byte) ([][]byte, error) {
	it := SetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		dst = append(dst, m)
	}
	return dst, it.Err()
}

// SetEncode appends to dst the encoding of members, which must be sorted
// in ascending bytewise order without duplicates (SortMembers does that).
func SetEncode(dst []byte, members [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(members)))
	for _, m := range members {
		dst = binary.AppendUvarint(dst, uint64(len(m)))
		dst = append(dst, m...)
	}
	return dst
}

// SortMembers returns a sorted copy of members (the slice of headers is
// copied, not the bytes) with duplicates removed.
func SortMembers(members [][]byte) [][]byte {
	s := slices.Clone(members)
	slices.SortFunc(s, bytes.Compare)
	return slices.CompactFunc(s, bytes.Equal)
}

// SetAdd appends to dst the encoding of b (an encoded set, or nil for a
// new one) with members added, and returns it with the number of members
// that were not in b. dst must not overlap b.
func SetAdd(dst, b []byte, members [][]byte) (out []byte, added int, err error) {
	return setMerge(dst, b, SortMembers(members), true)
}

// SetRem appends to dst the encoding of b without members and returns it
// with the number of members removed. dst must not overlap b.
func SetRem(dst, b []byte, members [][]byte) (out []byte, removed int, err error) {
	return setMerge(dst, b, SortMembers(members), false)
}

// setMerge adds (add) or removes the sorted, distinct ops to or from b.
func setMerge(dst, b []byte, ops [][]byte, add bool) ([]byte, int, error) {
	// Pass 1: how many ops are members already (for the count header).
	common := 0
	it := SetMembers(b)
	j := 0
	for m, ok := it.Next(); ok && j < len(ops); m, ok = it.Next() {
		for j < len(ops) && bytes.Compare(ops[j], m) < 0 {
			j++
		}
		if j < len(ops) && bytes.Equal(ops[j], m) {
			common++
			j++
		}
	}
	if it.Err() != nil {
		return dst, 0, it.Err()
	}
	n, changed := SetLen(b)-common, common
	if add {
		n, changed = SetLen(b)+len(ops)-common, len(ops)-common
	}
	// Pass 2: write the merge, copying runs of kept members whole.
	out := binary.AppendUvarint(dst, uint64(n))
	put := func(m []byte) {
		out = binary.AppendUvarint(out, uint64(len(m)))
		out = append(out, m...)
	}
	_, hl := binary.Uvarint(b)
	body := b[max(hl, 0):]
	run := 0 // start of the pending run of kept members in body
	it = SetMembers(b)
	j = 0
	for j < len(ops) {
		at := len(body) - len(it.h.b)
		m, ok := it.Next()
		if !ok {
			break
		}
		if bytes.Compare(ops[j], m) > 0 {
			continue // kept, in the run
		}
		out = append(out, body[run:at]...)
		run = at
		for j < len(ops) && bytes.Compare(ops[j], m) < 0 {
			if add {
				put(ops[j])
			}
			j++
		}
		if j < len(ops) && bytes.Equal(ops[j], m) {
			j++
			if !add {
				run = len(body) - len(it.h.b) // dropped
			}
		}
	}
	out = append(out, body[run:]...)
	if add {
		for ; j < len(ops); j++ {
			put(ops[j])
		}
	}
	return out, changed, nil
}

// SetInter appends to dst the encoding of the intersection of the encoded
// sets (nil stands for a missing key, an empty set). O(total size).
func SetInter(dst []byte, sets [][]byte) ([]byte, error) {
	if len(sets) == 0 {
		return SetEncode(dst, nil), nil
	}
	// Walk the smallest set; advance an iterator over each other set.
	small := 0
	for i, s := range sets {
		if SetLen(s) < SetLen(sets[small]) {
			small = i
		}
	}
	var res [][]byte
	err := walkAgainst(sets[small], sets, small, func(m []byte, inAll, _ bool) {
		if inAll {
			res = append(res, m)
		}
	})
	if err != nil {
		return dst, err
	}
	return SetEncode(dst, res), nil
}

// SetDiff appends to dst the encoding of the members of sets[0] that are
// in none of the other sets. O(total size).
func SetDiff(dst []byte, sets [][]byte) ([]byte, error) {
	if len(sets) == 0 {
		return SetEncode(dst, nil), nil
	}
	var res [][]byte
	err := walkAgainst(sets[0], sets, 0, func(m []byte, _, inAny bool) {
		if !inAny {
			res = append(res, m)
		}
	})
	if err != nil {
		return dst, err
	}
	return SetEncode(dst, res), nil
}

// walkAgainst calls fn for each member of base (which is sets[skip]) with
// whether it is in every other set and whether it is in any other set.
// Every set is walked once, in order.
func walkAgainst(base []byte, sets [][]byte, skip int, fn func(m []byte, inAll, inAny bool)) error {
	its := make([]SetIter, len(sets))
	cur := make([][]byte, len(sets))
	live := make([]bool, len(sets))
	for i, s := range sets {
		if i == skip {
			continue
		}
		its[i] = SetMembers(s)
		cur[i], live[i] = its[i].Next()
	}
	it := SetMembers(base)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		inAll, inAny := true, false
		for i := range sets {
			if i == skip {
				continue
			}
			for live[i] && bytes.Compare(cur[i], m) < 0 {
				cur[i], live[i] = its[i].Next()
			}
			if live[i] && bytes.Equal(cur[i], m) {
				inAny = true
			} else {
				inAll = false
			}
		}
		fn(m, inAll, inAny)
	}
	if it.Err() != nil {
		return it.Err()
	}
	for i := range its {
		if its[i].Err() != nil {
			return its[i].Err()
		}
	}
	return nil
}

// SetUnion appends to dst the encoding of the union of the encoded sets.
// O(N log N) for N members in all.
func SetUnion(dst []byte, sets [][]byte) ([]byte, error) {
	var all [][]byte
	for _, s := range sets {
		var err error
		if all, err = SetSlice(all, s); err != nil {
			return dst, err
		}
	}
	if len(sets) == 1 {
		return SetEncode(dst, all), nil // already sorted and distinct
	}
	slices.SortFunc(all, bytes.Compare)
	return SetEncode(dst, slices.CompactFunc(all, bytes.Equal)), nil
}

// SetScanAll is the number of members up to which SetScan returns a whole
// set in one call with cursor 0, as Redis does for a small (listpack or
// intset) set.
const SetScanAll = 128

// SetScan calls fn for one page of an SSCAN over the encoded set b and
// returns the next cursor (0: done), with HashScan's paging and guarantee:
// a set of at most SetScanAll members comes whole; a larger one is paged
// in the order of a 64-bit hash of the member, the cursor being the
// smallest hash not yet returned, so a member present for the whole scan
// is returned exactly once however the set changes between calls.
func SetScan(b []byte, cursor uint64, count int, fn func(member []byte)) (next uint64, err error) {
	if SetLen(b) <= SetScanAll {
		it := SetMembers(b)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			fn(m)
		}
		return 0, it.Err()
	}
	var page []hashed[[]byte]
	it := SetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if h := xxhash.Sum64(m); h >= cursor {
			page = append(page, hashed[[]byte]{h, m})
		}
	}
	if it.Err() != nil {
		return 0, it.Err()
	}
	return pageByHash(page, count, fn), nil
}

// SetAppendHeader appends the count header of a set of n members;
// SetAppendHeader and SetAppendMember build the layout member by member.
func SetAppendHeader(dst []byte, n int) []byte { return binary.AppendUvarint(dst, uint64(n)) }

// SetAppendMember appends one uvarint-prefixed member.
func SetAppendMember(dst, m []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(m)))
	return append(dst, m...)
}
