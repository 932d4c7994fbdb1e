package shard

import (
	"encoding/binary"
	"fmt"

	"github.com/tcached/tcached/eviction"
)

// Object is a structured value: a collection in a big encoding (a hash
// table, a sorted set's tree, a quicklist), kept outside the LRU's slab. The
// partition never looks inside one; it stores it, charges Bytes to the
// quota, hands it to callbacks and drops it with its key. Package value
// implements it; the families type-assert Entry.Obj back to their types.
//
// Bytes must be the object's accounted size (its heap footprint beyond the
// key's entry; see the implementation's doc for the model and its
// measurement), and it may change only inside a commit function (see
// Edit), so that the partition's record of it stays exact. Dropping the
// last reference must be all the teardown an object needs: the partition
// frees a deleted, evicted, expired or flushed object in O(1) under the
// sub-shard lock and lets the garbage collector reclaim it, which is why
// implementations keep their elements in pointer-free arenas.
type Object interface {
	Bytes() int64
}

// objIDLen is the length of an object entry's value: the little-endian id
// of its slot in the sub-shard's object table.
const objIDLen = 4

// Kind byte layout: an entry's eviction kind holds its Type in the low
// five bits, the Entry.Enc tag in bits 5-6, and kindObj in bit 7.
const (
	kindTypeMask = 0x1f
	kindEncShift = 5
	kindEncMask  = 0x3
	kindObj      = 0x80
)

func kindOf(t Type, enc uint8, obj bool) uint8 {
	k := uint8(t)&kindTypeMask | (enc&kindEncMask)<<kindEncShift
	if obj {
		k |= kindObj
	}
	return k
}

func typeOfKind(k uint8) Type { return Type(k & kindTypeMask) }

// objSlot is one entry of a sub-shard's object table. size is what the
// partition charged for obj (obj.Bytes() when last measured): removal
// releases exactly it.
type objSlot struct {
	obj  Object
	size int64
}

// isObj reports whether h holds an object. s.mu must be held.
func (s *subShard) isObj(h eviction.Handle) bool { return s.lru.Kind(h)&kindObj != 0 }

// objID is the object-table id an object entry h stores. s.mu must be held.
func (s *subShard) objID(h eviction.Handle) uint32 {
	return binary.LittleEndian.Uint32(s.lru.Value(h))
}

// sizeOf is the accounted size of h: its LRU size (key, value or object
// id, EntryOverhead) plus its object's charge. s.mu must be held.
func (s *subShard) sizeOf(h eviction.Handle) int64 {
	n := s.lru.Size(h)
	if s.isObj(h) {
		n += s.objs[s.objID(h)].size
	}
	return n
}

// putObj stores o, charged size, in the object table and returns its id.
// s.mu must be held.
func (s *subShard) putObj(o Object, size int64) uint32 {
	var id uint32
	if n := len(s.objFree); n > 0 {
		id = s.objFree[n-1]
		s.objFree = s.objFree[:n-1]
	} else {
		if len(s.objs) >= 1<<32-1 {
			panic("shard: object table full")
		}
		id = uint32(len(s.objs))
		s.objs = append(s.objs, objSlot{})
	}
	s.objs[id] = objSlot{obj: o, size: size}
	s.objBytes += size
	return id
}

// dropObj forgets object id and returns its charge. It is O(1): the object
// is garbage from here on. s.mu must be held.
func (s *subShard) dropObj(id uint32) int64 {
	size := s.objs[id].size
	s.objs[id] = objSlot{}
	s.objFree = append(s.objFree, id)
	s.objBytes -= size
	return size
}

// idBytes encodes id as an object entry's value.
func idBytes(b *[objIDLen]byte, id uint32) []byte {
	binary.LittleEndian.PutUint32(b[:], id)
	return b[:]
}

// remeasure records o's size after a commit changed it and returns the
// change. grow is what the partition reserved for the edit; an edit that
// grew by more broke the reserve-before-insert rule, and accounting can no
// longer be trusted, so it panics. s.mu must be held.
func (s *subShard) remeasure(id uint32, grow int64) int64 {
	slot := &s.objs[id]
	after := slot.obj.Bytes()
	d := after - slot.size
	if d > max(grow, 0) {
		panic(fmt.Sprintf("shard: an edit grew its object by %d bytes, %d reserved", d, grow))
	}
	slot.size = after
	s.objBytes += d
	return d
}
