// Package eviction is a byte-accounted LRU list: the data structure under
// one tcached sub-shard. It has no locks, no goroutines and no metrics; an
// LRU is not safe for concurrent use, and the caller (package shard) holds
// the lock around every call, in the style of groupcache's lru package.
//
// # Layout
//
// The layout is chosen for memory per entry (see shard.EntryOverhead for
// the measured figures). An entry costs:
//
//   - one heap allocation, data, holding a one-byte kind (the value's type,
//     opaque to this package: package shard stores string/hash/... there),
//     a uvarint of the key length, the key and the value back to back. It
//     has no pointers, so the garbage collector marks it without scanning
//     it;
//   - one 32-byte slot: a pointer to data with its 32-bit length, an 8-bit
//     code of its spare capacity and a 24-bit access clock (16), the
//     expiry stamp (8) and the two int32 links of an intrusive
//     doubly-linked LRU list;
//   - one 8-byte bucket of the index, at a load factor between 3/8 and 3/4.
//
// Slots live in pages of pageSlots slots, named by a Handle, the slot's
// number. Page 0 grows like a slice (so a small LRU costs little) up to
// pageSlots; later pages are allocated whole. Growth therefore never copies
// more than one page and never leaves a doubled slab behind as garbage.
//
// The index is an open-addressing hash table of uint64 buckets, each
// packing a 32-bit hash of the key with the slot's handle: no pointers, no
// strings for the garbage collector to trace, one allocation for the whole
// table. It uses linear probing, backward-shift deletion (no tombstones)
// and doubles at load 3/4. A bucket's home is derived from its stored hash,
// so growing and deleting never re-read keys; only a lookup whose 32-bit
// hash matches compares the key bytes held in the slot.
//
// # Stable handles
//
// A slot never moves while it holds an entry: Remove turns it into a hole on
// a free list that later insertions reuse, and nothing compacts or swaps
// live slots. Replacing the value of an existing key keeps its slot.
// Consequently a Handle stays valid until its own entry is removed, and a
// cursor that walks slot numbers upward (shard's SCAN) visits every key that
// was present for the whole walk, which is the guarantee Redis gives for
// SCAN. The slots only shrink when the LRU becomes empty (Remove of the last
// entry, or Clear), a moment at which no key can be "present for the whole
// walk".
//
// # Access clock
//
// Each entry carries the 24-bit access clock of its last Add or Touch,
// Redis's robj.lru: the caller keeps a clock (UseClock; package shard
// ticks it in seconds, LRU_CLOCK_RESOLUTION) and reads an entry's stamp
// back with Access to tell how long it has been idle (OBJECT IDLETIME).
// It takes no memory: the 32 bits beside the length held the capacity,
// and a buffer's capacity only needs its spare room beyond the length,
// which is kept as an 8-bit floating-point code (4-bit mantissa, 4-bit
// exponent: exact below 16, within 1/8 below, at most 491520 bytes).
// Rounding down only hides spare room, never claims room the buffer does
// not have; at worst a value that would have fit the buffer's slack is
// stored in a new one. Touching an entry is one atomic load of the clock
// and one store into a slot it already writes.
//
// # Coarse order
//
// Moving an entry to the MRU end on every hit rewrites the links of its two
// neighbours, two slots nobody else needs in cache: on a GET-heavy load
// that was about 6% of the server's CPU (the stores' cache misses, paid at
// the sub-shard unlock that publishes them). With SetCoarse, Touch only
// stamps an entry that was already stamped in the current tick and leaves
// it in place: the list is then ordered by each entry's first use in the
// tick of its last use, so LRU order holds at the clock's resolution
// (package shard: one second, Redis's LRU_CLOCK_RESOLUTION; Redis's own
// eviction compares idle times at that resolution too, on a sample). An
// entry used in a later tick moves as before; OBJECT IDLETIME, which
// reads the stamp, is unchanged.
//
// # Accounting
//
// The size of an entry is len(key)+len(value)+overhead, overhead being the
// constant given to New; Bytes is the sum of the sizes of the live entries.
// The LRU never evicts on its own: the caller decides when to evict,
// walking from Oldest toward Newer to skip entries that must stay (the keys
// being written), which is why the policy lives one level up.
//
// # Ownership
//
// Add and SetValue copy the key and value they are given. Key and Value
// return slices of the stored bytes, valid until the entry is removed or
// its value replaced; they must not be modified.
package eviction

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Handle names one slot of an LRU. It stays valid (and keeps naming the same
// entry) until that entry is removed. Nil is the "no entry" handle.
type Handle int32

// Nil is returned where there is no entry (empty list, end of a walk).
const Nil Handle = -1

// freeMark in slot.older marks a hole; the hole's newer field then links the
// free list.
const freeMark = -2

// maxSlots bounds the slots so that slot numbers fit in an int32 Handle.
const maxSlots = 1<<31 - 1

// pageShift sets the page size: 1024 slots of 32 bytes, 32 KiB.
const (
	pageShift = 10
	pageSlots = 1 << pageShift
	pageMask  = pageSlots - 1
)

// slot is 32 bytes. data is the kind+uvarint(len(key))+key+value buffer held as
// a pointer to its first byte with its 32-bit length and, in meta, a code
// of its spare capacity (a []byte header would take 24 bytes instead of
// 16); the capacity the code gives never exceeds the buffer's real
// capacity, so bytes() rebuilds a valid slice. meta's upper 24 bits are
// the access clock (see "Access clock").
type slot struct {
	data     unsafe.Pointer // first byte of the buffer; nil for a hole
	dataLen  uint32
	meta     uint32 // access clock << 8 | spare capacity code
	expireAt int64
	older    int32 // toward the LRU end; -1 at the oldest; freeMark for a hole
	newer    int32 // toward the MRU end; -1 at the newest; next hole for a hole
}

// MaxEntry bounds len(key)+len(value) of one entry, so that the buffer
// length fits the slot's uint32 fields. Add and SetValue panic beyond it;
// the caller checks.
const MaxEntry = 1<<32 - 16

func (s *slot) bytes() []byte {
	return unsafe.Slice((*byte)(s.data), int(s.dataLen)+spare(uint8(s.meta)))[:s.dataLen]
}

func (s *slot) setBytes(b []byte) {
	s.data = unsafe.Pointer(unsafe.SliceData(b))
	s.setLen(len(b), cap(b))
}

// setLen records the buffer's length n, its capacity being c.
func (s *slot) setLen(n, c int) {
	s.dataLen = uint32(n)
	s.meta = s.meta&^0xff | uint32(spareCode(c-n))
}

// spareCode encodes n >= 0 spare bytes as 4-bit mantissa m and 4-bit
// exponent e, m<<e <= n (exact below 16).
func spareCode(n int) uint8 {
	if n < 16 {
		return uint8(n)
	}
	e := bits.Len(uint(n)) - 4
	if e > 15 {
		return 0xff
	}
	return uint8(e<<4 | n>>e)
}

// spare decodes a spareCode.
func spare(code uint8) int { return int(code&15) << (code >> 4) }

// ClockMask is the range of the access clock: 24 bits, as Redis's
// LRU_CLOCK_MAX.
const ClockMask = 1<<24 - 1

// LRU is a byte-accounted least-recently-used list with stable slot handles.
// The zero value is not usable; call New. An LRU is not safe for concurrent
// use.
type LRU struct {
	pages    [][]slot
	nslots   int32    // slots in use (entries plus holes)
	table    []uint64 // index buckets: hash<<32 | handle+1; 0 is empty
	free     int32    // head of the hole list, -1 if none
	newest   int32    // MRU end, -1 if empty
	oldest   int32    // LRU end, -1 if empty
	n        int
	bytes    int64
	overhead int64
	// clock is the access clock Add and Touch stamp (UseClock); nil
	// stamps 0.
	clock *atomic.Uint32
	// coarse: Touch leaves an entry stamped in the current tick in place
	// (SetCoarse).
	coarse bool
	// hash is the key hash; nil means xxhash. Tests install weak hashes to
	// force collisions.
	hash func([]byte) uint64
}

// UseClock makes Add and Touch stamp entries with c's value (its low 24
// bits), which the caller advances; c is read, never written.
func (l *LRU) UseClock(c *atomic.Uint32) { l.clock = c }

// SetCoarse turns coarse order on or off (see "Coarse order"). It only
// takes effect with a clock (UseClock).
func (l *LRU) SetCoarse(on bool) { l.coarse = on }

// stamp records the current access clock in s.
func (l *LRU) stamp(s *slot) {
	if l.clock != nil {
		s.meta = s.meta&0xff | l.clock.Load()<<8
	}
}

// Access is the access clock (24 bits) h was last added or touched at.
func (l *LRU) Access(h Handle) uint32 {
	l.mustLive(h)
	return l.at(int32(h)).meta >> 8
}

// SetAccess sets h's access clock (its low 24 bits) without moving it:
// RESTORE ... IDLETIME, or a snapshot restoring one.
func (l *LRU) SetAccess(h Handle, clock uint32) {
	l.mustLive(h)
	s := l.at(int32(h))
	s.meta = s.meta&0xff | clock<<8
}

// New returns an empty LRU whose index has room for sizeHint entries before
// it grows. overhead is added to len(key)+len(value) to form each entry's
// size.
func New(sizeHint int, overhead int64) *LRU {
	l := &LRU{overhead: overhead}
	l.reset(sizeHint)
	return l
}

// Len is the number of entries.
func (l *LRU) Len() int { return l.n }

// Bytes is the sum of the sizes of all entries.
func (l *LRU) Bytes() int64 { return l.bytes }

// Slots is the number of slots (entries plus holes). Slot numbers
// 0..Slots()-1 can be probed with Live; it is the bound for iteration by
// slot and for random sampling.
func (l *LRU) Slots() int { return int(l.nslots) }

// Live reports whether h names an entry. Any value of h is accepted.
func (l *LRU) Live(h Handle) bool {
	return h >= 0 && int32(h) < l.nslots && l.at(int32(h)).older != freeMark
}

// at is slot i, which must be < nslots.
func (l *LRU) at(i int32) *slot {
	return &l.pages[i>>pageShift][i&pageMask]
}

func (l *LRU) hashOf(key []byte) uint32 {
	if l.hash != nil {
		return uint32(l.hash(key))
	}
	return uint32(xxhash.Sum64(key))
}

// split returns the key and value held in data (after the kind byte).
func split(data []byte) (key, value []byte) {
	var klen, n int
	if len(data) > 1 && data[1] < 0x80 {
		klen, n = int(data[1]), 2
	} else {
		k, m := binary.Uvarint(data[1:])
		klen, n = int(k), m+1
	}
	return data[n : n+klen : n+klen], data[n+klen : len(data) : len(data)]
}

// SetHash makes fn the key hash of the index (its low 32 bits; nil:
// xxhash). Set it while the LRU is empty. A caller that already hashed
// the key for its own use (package shard picks the sub-shard with it) can
// then hand the hash to LookupHash and AddKindHash instead of hashing the
// key again.
func (l *LRU) SetHash(fn func(key []byte) uint64) { l.hash = fn }

// Lookup finds key. It does not allocate.
func (l *LRU) Lookup(key []byte) (Handle, bool) {
	return l.LookupHash(key, l.hashOf(key))
}

// LookupHash is Lookup of a key whose hash, uint32 of SetHash's function
// of key, the caller has computed.
func (l *LRU) LookupHash(key []byte, hash uint32) (Handle, bool) {
	_, h := l.find(key, hash)
	return h, h != Nil
}

// LookupString finds key.
func (l *LRU) LookupString(key string) (Handle, bool) {
	return l.Lookup(unsafe.Slice(unsafe.StringData(key), len(key)))
}

// find returns the bucket and handle of key, or (-1, Nil).
func (l *LRU) find(key []byte, hash uint32) (int, Handle) {
	if len(l.table) == 0 {
		return -1, Nil
	}
	mask := uint32(len(l.table) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		b := l.table[i]
		if b == 0 {
			return -1, Nil
		}
		if uint32(b>>32) == hash {
			h := int32(uint32(b)) - 1
			if k, _ := split(l.at(h).bytes()); string(k) == string(key) {
				return int(i), Handle(h)
			}
		}
	}
}

// Add inserts key as the newest entry, of kind 0, and returns its handle.
// If key is already present its entry is replaced in place (same handle,
// kind kept) and made the newest. key and value are copied.
func (l *LRU) Add(key, value []byte, expireAt int64) Handle {
	return l.AddKind(key, value, 0, expireAt)
}

// AddKind is Add with the entry's kind (an opaque type tag, see Kind). An
// existing entry takes the given kind.
func (l *LRU) AddKind(key, value []byte, kind uint8, expireAt int64) Handle {
	return l.AddKindHash(key, value, kind, expireAt, l.hashOf(key))
}

// AddKindHash is AddKind of a key whose hash (see LookupHash) the caller
// has computed.
func (l *LRU) AddKindHash(key, value []byte, kind uint8, expireAt int64, hash uint32) Handle {
	if _, h := l.find(key, hash); h != Nil {
		l.SetValue(h, value)
		l.SetKind(h, kind)
		l.at(int32(h)).expireAt = expireAt
		l.Touch(h)
		return h
	}
	var i int32
	if l.free >= 0 {
		i = l.free
		l.free = l.at(i).newer
	} else {
		i = l.grow()
	}
	s := l.at(i)
	*s = slot{expireAt: expireAt, older: -1, newer: -1}
	s.setBytes(pack(kind, key, value))
	l.stamp(s)
	l.insert(hash, i)
	l.pushNewest(i)
	l.n++
	l.bytes += int64(len(key)+len(value)) + l.overhead
	return Handle(i)
}

// pack allocates kind+uvarint(len(key))+key+value. Its capacity is rounded
// up to the allocator's size class, so a later value that grows into the
// rounding slack is stored in place.
func pack(kind uint8, key, value []byte) []byte {
	if len(key)+len(value) > MaxEntry {
		panic("eviction: entry larger than MaxEntry")
	}
	n := 1 + uvarintLen(len(key)) + len(key) + len(value)
	data := slices.Grow([]byte(nil), n)
	data = append(data, kind)
	data = binary.AppendUvarint(data, uint64(len(key)))
	data = append(data, key...)
	return append(data, value...)
}

func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// grow appends one slot and returns its number.
func (l *LRU) grow() int32 {
	if l.nslots >= maxSlots {
		panic("eviction: too many entries")
	}
	i := l.nslots
	p := int(i >> pageShift)
	if p == len(l.pages) {
		if p == 0 {
			l.pages = append(l.pages, nil)
		} else {
			l.pages = append(l.pages, make([]slot, pageSlots))
		}
	}
	if p == 0 && int(i) >= len(l.pages[0]) {
		// Page 0 grows like a slice up to a whole page.
		pg := slices.Grow(l.pages[0], 1)
		l.pages[0] = pg[:min(cap(pg), pageSlots)]
	}
	l.nslots++
	return i
}

// insert adds bucket (hash, i) to the index, which must not hold i.
func (l *LRU) insert(hash uint32, i int32) {
	if (l.n+1)*4 > len(l.table)*3 {
		l.resize(max(8, 2*len(l.table)))
	}
	place(l.table, uint64(hash)<<32|uint64(uint32(i+1)))
}

func place(table []uint64, b uint64) {
	mask := uint32(len(table) - 1)
	j := uint32(b>>32) & mask
	for table[j] != 0 {
		j = (j + 1) & mask
	}
	table[j] = b
}

func (l *LRU) resize(n int) {
	old := l.table
	l.table = make([]uint64, n)
	for _, b := range old {
		if b != 0 {
			place(l.table, b)
		}
	}
}

// bucketOf is the index bucket of slot i, whose key hashes to hash. It
// compares handles, not keys.
func (l *LRU) bucketOf(hash uint32, i int32) int {
	want := uint64(hash)<<32 | uint64(uint32(i+1))
	mask := uint32(len(l.table) - 1)
	for j := hash & mask; ; j = (j + 1) & mask {
		switch l.table[j] {
		case want:
			return int(j)
		case 0:
			panic("eviction: index lost a slot")
		}
	}
}

// unindex deletes bucket i by backward shifting the run after it, so no
// tombstone is left (Knuth's Algorithm R).
func (l *LRU) unindex(i int) {
	t := l.table
	mask := uint32(len(t) - 1)
	hole := uint32(i)
	for j := (hole + 1) & mask; t[j] != 0; j = (j + 1) & mask {
		home := uint32(t[j]>>32) & mask
		// The bucket at j may move to hole unless its home lies cyclically
		// in (hole, j].
		if (j-home)&mask < (j-hole)&mask {
			continue
		}
		t[hole] = t[j]
		hole = j
	}
	t[hole] = 0
}

// Remove deletes the entry h names. h must be live.
func (l *LRU) Remove(h Handle) {
	l.mustLive(h)
	i := int32(h)
	s := l.at(i)
	key, value := split(s.bytes())
	l.unindex(l.bucketOf(l.hashOf(key), i))
	l.unlink(i)
	l.bytes -= int64(len(key)+len(value)) + l.overhead
	l.n--
	*s = slot{older: freeMark, newer: l.free}
	l.free = i
	if l.n == 0 {
		// Nothing can be "present for the whole scan" across this moment,
		// so dropping the holes keeps the SCAN guarantee. The pages and
		// index are kept (no allocation when one key churns); Clear
		// releases them. Every slot is a hole with data nil here.
		l.nslots = 0
		l.free = -1
	}
}

// Touch makes h the newest entry and stamps it with the access clock.
func (l *LRU) Touch(h Handle) {
	l.mustLive(h)
	i := int32(h)
	sl := l.at(i)
	if l.coarse && l.clock != nil && sl.meta>>8 == l.clock.Load() {
		return // already stamped in this tick: see "Coarse order"
	}
	l.stamp(sl)
	if l.newest == i {
		return
	}
	l.unlink(i)
	l.pushNewest(i)
}

// Oldest is the least recently used entry, or Nil if the LRU is empty.
func (l *LRU) Oldest() Handle { return Handle(l.oldest) }

// Newest is the most recently used entry, or Nil if the LRU is empty.
func (l *LRU) Newest() Handle { return Handle(l.newest) }

// Newer is the entry used just after h, or Nil if h is the newest. It is
// how an evictor walks past entries it must keep.
func (l *LRU) Newer(h Handle) Handle {
	l.mustLive(h)
	return Handle(l.at(int32(h)).newer)
}

// Older is the entry used just before h, or Nil if h is the oldest.
func (l *LRU) Older(h Handle) Handle {
	l.mustLive(h)
	return Handle(l.at(int32(h)).older)
}

// Key is the key of h: the stored bytes, not to be modified, valid until
// the entry is removed or its value replaced.
func (l *LRU) Key(h Handle) []byte {
	l.mustLive(h)
	k, _ := split(l.at(int32(h)).bytes())
	return k
}

// Value is the stored value of h (not a copy, capacity clipped), not to be
// modified, valid until the entry is removed or its value replaced.
func (l *LRU) Value(h Handle) []byte {
	l.mustLive(h)
	_, v := split(l.at(int32(h)).bytes())
	return v
}

// ExpireAt is the expiry stamp of h as given to Add or SetExpireAt.
func (l *LRU) ExpireAt(h Handle) int64 { l.mustLive(h); return l.at(int32(h)).expireAt }

// Size is the accounted size of h: len(key)+len(value)+overhead.
func (l *LRU) Size(h Handle) int64 {
	l.mustLive(h)
	k, v := split(l.at(int32(h)).bytes())
	return int64(len(k)+len(v)) + l.overhead
}

// SetValue replaces the value of h with a copy of value, without changing
// its position in the LRU order or its handle. value may alias the current
// value. The stored buffer is reused when value fits in its capacity and
// the buffer is not more than about twice what it holds (a kept buffer far
// larger than its entry would make accounted bytes understate real
// memory), so replacing a value with one of similar size allocates nothing.
func (l *LRU) SetValue(h Handle, value []byte) {
	l.mustLive(h)
	s := l.at(int32(h))
	data := s.bytes()
	key, old := split(data)
	prefix := len(data) - len(old) // kind + uvarint + key
	need := prefix + len(value)
	if need <= cap(data) && cap(data) <= 2*need+64 {
		copy(data[prefix:need], value) // memmove: value may overlap
		s.setLen(need, cap(data))
	} else {
		s.setBytes(pack(data[0], key, value))
	}
	l.bytes += int64(len(value) - len(old))
}

// Kind is the kind byte of h (0 unless set by AddKind or SetKind).
func (l *LRU) Kind(h Handle) uint8 {
	l.mustLive(h)
	return *(*uint8)(l.at(int32(h)).data)
}

// Entry returns the value (as Value), kind and expiry stamp of h with one
// liveness check: the read path of package shard.
func (l *LRU) Entry(h Handle) (value []byte, kind uint8, expireAt int64) {
	l.mustLive(h)
	s := l.at(int32(h))
	data := s.bytes()
	_, value = split(data)
	return value, data[0], s.expireAt
}

// SetValueKind is SetValue followed by SetKind.
func (l *LRU) SetValueKind(h Handle, value []byte, kind uint8) {
	l.SetValue(h, value)
	*(*uint8)(l.at(int32(h)).data) = kind
}

// SetKind replaces the kind byte of h; its size does not change.
func (l *LRU) SetKind(h Handle, kind uint8) {
	l.mustLive(h)
	*(*uint8)(l.at(int32(h)).data) = kind
}

// SetExpireAt replaces the expiry stamp of h.
func (l *LRU) SetExpireAt(h Handle, expireAt int64) {
	l.mustLive(h)
	l.at(int32(h)).expireAt = expireAt
}

// Clear removes every entry and releases the slots and the index.
func (l *LRU) Clear() { l.reset(0) }

func (l *LRU) reset(sizeHint int) {
	*l = LRU{overhead: l.overhead, clock: l.clock, hash: l.hash, free: -1, newest: -1, oldest: -1}
	if sizeHint > 0 {
		n := 8
		for n*3 < sizeHint*4 {
			n *= 2
		}
		l.table = make([]uint64, n)
	}
}

func (l *LRU) pushNewest(i int32) {
	s := l.at(i)
	s.newer = -1
	s.older = l.newest
	if l.newest >= 0 {
		l.at(l.newest).newer = i
	} else {
		l.oldest = i
	}
	l.newest = i
}

func (l *LRU) unlink(i int32) {
	s := l.at(i)
	if s.older >= 0 {
		l.at(s.older).newer = s.newer
	} else {
		l.oldest = s.newer
	}
	if s.newer >= 0 {
		l.at(s.newer).older = s.older
	} else {
		l.newest = s.older
	}
	s.older, s.newer = -1, -1
}

func (l *LRU) mustLive(h Handle) {
	if !l.Live(h) {
		badHandle(h)
	}
}

// badHandle is out of line so that mustLive stays inlinable.
//
//go:noinline
func badHandle(h Handle) {
	panic(fmt.Sprintf("eviction: handle %d does not name an entry", h))
}

// Bytes of h's value to rewrite in place (same length): unlike Value, the
// caller may modify them, and nothing else about h changes (size, key,
// position, kind). Package shard uses it under its sub-shard lock for the
// string commands that change bytes without changing the length (SETBIT,
// BITFIELD, PFADD on a dense HyperLogLog).
func (l *LRU) ValueForUpdate(h Handle) []byte {
	l.mustLive(h)
	_, v := split(l.at(int32(h)).bytes())
	return v
}
