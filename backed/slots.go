package backed

import (
	"math/bits"
	"sync/atomic"

	"github.com/tcached/tcached/shard"
)

// Slot-scoped coherence.
//
// The backend's invalidations are per key while every master's tracking
// connection is up. When one is lost, or slots move to another master (a
// failover, a migration), the keys of the slots concerned may change
// unseen; the keys of every other slot may not. So the backend names the
// slots (Invalidation.Slots):
//
//   - Suspend: from now on L1 neither serves nor fills these slots' keys
//     (reads go to L2). The L1 copies stay, unserved.
//   - otherwise (drop): the slots' L1 copies are deleted, then the slots
//     are served again. The backend sends it once every change of the
//     slots is seen again (their master is tracked anew), or to drop
//     copies it knows are stale (a master was flushed).
//
// A Mode starts with every slot suspended: nothing is served before the
// backend has tracked each slot's master once.
//
// # Cost on the hit path
//
// A hit reads one counter (suspended slots): while it is 0, which is
// always but during an incident, no slot is computed. Otherwise the key's
// slot (Backend.Slot: a CRC16 of its L2 name, no allocation) is looked up
// in a bitmap.
//
// # Fills
//
// A fill's ticket notes the epoch; a drop moves the epoch before it
// deletes, so a value read before the drop is never kept after it (the
// fill deletes its own copy when the epoch moved, or the sweep, coming
// later, finds it). A fill also drops its copy when its slot is
// suspended by then. Drops are rare, so one epoch for every slot costs
// only some fills in flight elsewhere, and saves a slot computation per
// fill.

// NumSlots is the number of Redis Cluster hash slots.
const NumSlots = 16384

// SlotSet is a set of cluster slots. The zero value is empty.
type SlotSet [NumSlots / 64]uint64

// AllSlots is the set of every slot.
func AllSlots() *SlotSet {
	s := new(SlotSet)
	for i := range s {
		s[i] = ^uint64(0)
	}
	return s
}

// Add puts slot into s.
func (s *SlotSet) Add(slot int) { s[slot>>6] |= 1 << (slot & 63) }

// Has reports whether slot is in s.
func (s *SlotSet) Has(slot int) bool { return s[slot>>6]&(1<<(slot&63)) != 0 }

// Len is the number of slots in s.
func (s *SlotSet) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// slotState is a Mode's per-slot serving state.
type slotState struct {
	suspended  [NumSlots / 64]atomic.Uint64 // bit set: not served from L1
	nSuspended atomic.Int64                 // bits set
	// Counters since start: slots dropped, L1 copies deleted by those
	// drops, suspensions (slots).
	drops, droppedKeys, suspensions atomic.Uint64
}

func (st *slotState) init() {
	for i := range st.suspended {
		st.suspended[i].Store(^uint64(0))
	}
	st.nSuspended.Store(NumSlots)
}

// L1 is one tenant's L1 cache, for a drop by slot.
type L1 struct {
	Tenant string
	Part   *shard.Partition
}

// SlotStats are the Mode's slot-scoped counters.
type SlotStats struct {
	Suspended                       int    // slots not served from L1 now
	Drops, DroppedKeys, Suspensions uint64 // since start
}

// SlotStats is a snapshot of the slot-scoped counters.
func (m *Mode) SlotStats() SlotStats {
	return SlotStats{Suspended: int(m.slots.nSuspended.Load()), Drops: m.slots.drops.Load(),
		DroppedKeys: m.slots.droppedKeys.Load(), Suspensions: m.slots.suspensions.Load()}
}

// Slots applies a slot-scoped invalidation (inv.Slots set) to every
// tenant's L1 (l1s): it suspends the slots, or drops their copies and
// serves them again. It returns the number of L1 copies deleted.
func (m *Mode) Slots(inv Invalidation, l1s []L1) int {
	set := inv.Slots
	if inv.Suspend {
		var added int64
		for i := range set {
			if set[i] == 0 {
				continue
			}
			old := m.slots.suspended[i].Or(set[i])
			added += int64(bits.OnesCount64(set[i] &^ old))
		}
		m.slots.nSuspended.Add(added)
		m.slots.suspensions.Add(uint64(added))
		m.epoch.Add(1)
		return 0
	}
	m.epoch.Add(1) // fills in flight are dropped
	n := 0
	all := set.Len() == NumSlots
	for _, l := range l1s {
		if all {
			n += l.Part.Flush(-1)
			continue
		}
		n += l.Part.DeleteIf(func(db int, key []byte) bool {
			return set.Has(m.be.Slot(l.Tenant, db, key))
		})
	}
	var removed int64
	for i := range set {
		if set[i] == 0 {
			continue
		}
		old := m.slots.suspended[i].And(^set[i])
		removed += int64(bits.OnesCount64(set[i] & old))
	}
	m.slots.nSuspended.Add(-removed)
	m.slots.drops.Add(uint64(set.Len()))
	m.slots.droppedKeys.Add(uint64(n))
	return n
}

// servable reports whether L1 may serve or fill the tenant's key: its
// slot is not suspended.
// Inlined: the common case costs one atomic load.
func (m *Mode) servable(tenant string, db int, key []byte) bool {
	return m.slots.nSuspended.Load() == 0 || m.slotServed(tenant, db, key)
}

// slotServed reports whether the slot of the tenant's key is served.
func (m *Mode) slotServed(tenant string, db int, key []byte) bool {
	s := m.be.Slot(tenant, db, key)
	return m.slots.suspended[s>>6].Load()&(1<<(s&63)) == 0
}
