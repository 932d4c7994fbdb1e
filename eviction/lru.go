// Package eviction is a byte-accounted LRU list: the data structure under
// one tcached sub-shard. It has no locks, no goroutines and no metrics; an
// LRU is not safe for concurrent use, and the caller (package shard) holds
// the lock around every call, in the style of groupcache's lru package.
//
// # Layout
//
// Entries live in a slab ([]slot) and are named by a Handle, the slot's
// index. A map[string]int32 finds a slot by key, and the LRU order is an
// intrusive doubly-linked list threaded through the slots as int32 indexes.
// Compared with container/list this keeps the number of pointers the
// garbage collector must trace to the key string and value slice of each
// entry (the list links are plain integers), and a slot is 64 bytes, one
// cache line.
//
// # Stable handles
//
// A slot never moves while it holds an entry: Remove turns it into a hole on
// a free list that later insertions reuse, and nothing compacts or swaps
// live slots. Replacing the value of an existing key keeps its slot.
// Consequently a Handle stays valid until its own entry is removed, and a
// cursor that walks slot indexes upward (shard's SCAN) visits every key that
// was present for the whole walk, which is the guarantee Redis gives for
// SCAN. The slab only shrinks when the LRU becomes empty (Remove of the last
// entry, or Clear), a moment at which no key can be "present for the whole
// walk".
//
// # Accounting
//
// Each entry carries a size chosen by the caller (shard charges
// len(key)+len(value)+a fixed per-entry overhead); Bytes is the sum of the
// sizes of the live entries. The LRU never evicts on its own: the caller
// decides when to evict, walking from Oldest toward Newer to skip entries
// that must stay (the keys being written), which is why the policy lives one
// level up.
//
// # Ownership
//
// Add and SetValue store the key and value they are given without copying;
// the caller must not modify a value slice after handing it over.
package eviction

import "fmt"

// Handle names one slot of an LRU. It stays valid (and keeps naming the same
// entry) until that entry is removed. Nil is the "no entry" handle.
type Handle int32

// Nil is returned where there is no entry (empty list, end of a walk).
const Nil Handle = -1

// freeMark in slot.older marks a hole; the hole's newer field then links the
// free list.
const freeMark = -2

// maxSlots bounds the slab so that slot indexes fit in an int32 Handle.
const maxSlots = 1<<31 - 1

type slot struct {
	key      string
	value    []byte
	expireAt int64
	size     int64
	older    int32 // toward the LRU end; -1 at the oldest; freeMark for a hole
	newer    int32 // toward the MRU end; -1 at the newest; next hole for a hole
}

// LRU is a byte-accounted least-recently-used list with stable slot handles.
// The zero value is not usable; call New. An LRU is not safe for concurrent
// use.
type LRU struct {
	slots  []slot
	index  map[string]int32
	free   int32 // head of the hole list, -1 if none
	newest int32 // MRU end, -1 if empty
	oldest int32 // LRU end, -1 if empty
	n      int
	bytes  int64
}

// New returns an empty LRU with room for sizeHint entries before it grows.
func New(sizeHint int) *LRU {
	if sizeHint < 0 {
		sizeHint = 0
	}
	return &LRU{
		slots:  make([]slot, 0, sizeHint),
		index:  make(map[string]int32, sizeHint),
		free:   -1,
		newest: -1,
		oldest: -1,
	}
}

// Len is the number of entries.
func (l *LRU) Len() int { return l.n }

// Bytes is the sum of the sizes of all entries.
func (l *LRU) Bytes() int64 { return l.bytes }

// Slots is the number of slots (entries plus holes). Slot indexes
// 0..Slots()-1 can be probed with Live; it is the bound for iteration by
// slot and for random sampling.
func (l *LRU) Slots() int { return len(l.slots) }

// Live reports whether h names an entry. Any value of h is accepted.
func (l *LRU) Live(h Handle) bool {
	return h >= 0 && int(h) < len(l.slots) && l.slots[h].older != freeMark
}

// Lookup finds key. Taking []byte lets the map lookup run without
// converting (and allocating) a string.
func (l *LRU) Lookup(key []byte) (Handle, bool) {
	i, ok := l.index[string(key)]
	if !ok {
		return Nil, false
	}
	return Handle(i), true
}

// LookupString finds key.
func (l *LRU) LookupString(key string) (Handle, bool) {
	i, ok := l.index[key]
	if !ok {
		return Nil, false
	}
	return Handle(i), true
}

// Add inserts key as the newest entry and returns its handle. If key is
// already present its entry is replaced in place (same handle) and made the
// newest. key and value are stored without copying.
func (l *LRU) Add(key string, value []byte, expireAt, size int64) Handle {
	if i, ok := l.index[key]; ok {
		h := Handle(i)
		l.SetValue(h, value, size)
		l.slots[i].expireAt = expireAt
		l.Touch(h)
		return h
	}
	var i int32
	if l.free >= 0 {
		i = l.free
		l.free = l.slots[i].newer
	} else {
		if len(l.slots) >= maxSlots {
			panic("eviction: too many entries")
		}
		l.slots = append(l.slots, slot{})
		i = int32(len(l.slots) - 1)
	}
	l.slots[i] = slot{key: key, value: value, expireAt: expireAt, size: size, older: -1, newer: -1}
	l.index[key] = i
	l.pushNewest(i)
	l.n++
	l.bytes += size
	return Handle(i)
}

// Remove deletes the entry h names. h must be live.
func (l *LRU) Remove(h Handle) {
	l.mustLive(h)
	i := int32(h)
	s := &l.slots[i]
	delete(l.index, s.key)
	l.unlink(i)
	l.bytes -= s.size
	l.n--
	*s = slot{older: freeMark, newer: l.free}
	l.free = i
	if l.n == 0 {
		// Nothing can be "present for the whole scan" across this moment,
		// so dropping the holes keeps the SCAN guarantee. The capacity is
		// kept (no allocation when one key churns); Clear releases it.
		l.slots = l.slots[:0]
		l.free = -1
	}
}

// Touch makes h the newest entry.
func (l *LRU) Touch(h Handle) {
	l.mustLive(h)
	i := int32(h)
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
	return Handle(l.slots[h].newer)
}

// Older is the entry used just before h, or Nil if h is the oldest.
func (l *LRU) Older(h Handle) Handle {
	l.mustLive(h)
	return Handle(l.slots[h].older)
}

// Key is the key of h.
func (l *LRU) Key(h Handle) string { l.mustLive(h); return l.slots[h].key }

// Value is the stored value of h (not a copy).
func (l *LRU) Value(h Handle) []byte { l.mustLive(h); return l.slots[h].value }

// ExpireAt is the expiry stamp of h as given to Add or SetExpireAt.
func (l *LRU) ExpireAt(h Handle) int64 { l.mustLive(h); return l.slots[h].expireAt }

// Size is the accounted size of h.
func (l *LRU) Size(h Handle) int64 { l.mustLive(h); return l.slots[h].size }

// SetValue replaces the value and size of h without changing its position
// in the LRU order or its handle.
func (l *LRU) SetValue(h Handle, value []byte, size int64) {
	l.mustLive(h)
	s := &l.slots[h]
	l.bytes += size - s.size
	s.value = value
	s.size = size
}

// SetExpireAt replaces the expiry stamp of h.
func (l *LRU) SetExpireAt(h Handle, expireAt int64) {
	l.mustLive(h)
	l.slots[h].expireAt = expireAt
}

// Clear removes every entry and releases the slab and the index.
func (l *LRU) Clear() { l.reset(0) }

func (l *LRU) reset(sizeHint int) {
	*l = LRU{
		slots:  make([]slot, 0, sizeHint),
		index:  make(map[string]int32, sizeHint),
		free:   -1,
		newest: -1,
		oldest: -1,
	}
}

func (l *LRU) pushNewest(i int32) {
	s := &l.slots[i]
	s.newer = -1
	s.older = l.newest
	if l.newest >= 0 {
		l.slots[l.newest].newer = i
	} else {
		l.oldest = i
	}
	l.newest = i
}

func (l *LRU) unlink(i int32) {
	s := &l.slots[i]
	if s.older >= 0 {
		l.slots[s.older].newer = s.newer
	} else {
		l.oldest = s.newer
	}
	if s.newer >= 0 {
		l.slots[s.newer].older = s.older
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
