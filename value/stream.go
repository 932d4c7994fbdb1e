package value

import (
	"encoding/binary"
	"errors"
	"slices"
	"sort"
	"strconv"
)

// # Streams
//
// A stream (Redis's OBJ_STREAM) is always an object: unlike hashes or
// lists it has no compact encoding, because Redis 7.0 has none either (a
// stream of one entry is already a radix tree holding one listpack).
//
// Entries. Redis keeps a radix tree keyed by the 128-bit big-endian id of
// each listpack's master entry, each listpack holding up to
// stream-node-max-entries entries (counting tombstones) and about
// stream-node-max-bytes bytes. Here the tree is a sorted slice of nodes
// (the ids only ever grow, so XADD appends to the last node or starts a
// new one, O(1) amortized), found by binary search on each node's first
// id (O(log nodes)), and inside a node by binary search on its ids
// (O(log node)): XRANGE from any id is O(log n) to its first entry, then
// sequential. A node holds its entries' ids in one slice (16 bytes each),
// their offsets in a second, and their fields and values in a byte
// buffer: three allocations per node and no Go pointer per entry. The
// node boundaries follow Redis's rule (a new node when the last holds
// stream-node-max-entries entries, deleted ones included, or would pass
// stream-node-max-bytes, with the size Redis's listpack for the node would
// have, computed from its layout: snode.lpBytes), so XADD and
// XTRIM with `~`, which only ever drop whole nodes, remove what Redis
// removes for the same history and configuration. XDEL marks an entry
// deleted (a tombstone, as Redis does) and a node whose entries are all
// deleted is removed. Measured at 1M entries (BenchmarkStreamAdd,
// BenchmarkStreamSeek, go1.26.8 linux/amd64, shared 2-core machine): an
// append 0.29 µs, a seek to a random id 1.1 µs; 47 bytes per entry of
// two short fields on the heap (TestStreamMemory).
//
// Consumer groups. Each group has its pending entries list (the PEL: id
// -> delivery time, count and owner) and its consumers, each with its own
// PEL of the same NACKs, as Redis's rax trees do. A PEL is a pelIndex, a
// sorted sequence of chunks of (id, *StreamNACK) with binary search over
// the chunks' first ids, so XACK, XCLAIM and range scans are
// O(log n + chunk); delivery appends at the end, which starts a new chunk
// rather than splitting a full one, so a PEL filled in order is dense.
// NACKs and consumers are Go pointers (a PEL holds one per pending
// message): groups are small next to their streams in practice, and a
// pointer per NACK is what lets the group's and the consumer's PEL share
// one record, as Redis's do.
//
// # Accounting
//
// Bytes is a formula over what the stream holds, kept up to date by every
// change: StreamBase, 8 bytes per slot of the node slice, and per node
// streamNodeBase plus its three buffers' capacities (the capacities are
// chosen here, not by append, so a plan can compute a growth exactly);
// StreamGroupBase plus the name per group, StreamConsumerBase plus the
// name per consumer and StreamNACKCost per pending entry.
// TestStreamMemory checks the formula against the heap.
//
// DUMP/RESTORE: family/dump writes a stream's RDB form
// (RDB_TYPE_STREAM_LISTPACKS_2) from Walk (every entry, tombstones
// included, with its node), the metadata getters, Groups and the PELs,
// and rebuilds one with Load (which keeps the payload's node boundaries
// and tombstones), SetLoaded, CreateGroup, ForceNACK, CreateConsumer and
// Claim: the accounting is the same as for a stream built by commands.

// StreamID is an entry id: milliseconds and sequence.
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest id (`+`).
var MaxStreamID = StreamID{^uint64(0), ^uint64(0)}

// Cmp orders ids.
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms > b.Ms:
		return 1
	case a.Ms < b.Ms:
		return -1
	case a.Seq > b.Seq:
		return 1
	case a.Seq < b.Seq:
		return -1
	}
	return 0
}

// IsZero reports 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr is the successor (Redis's streamIncrID); ok is false for the
// largest id, which wraps to 0-0.
func (a StreamID) Incr() (StreamID, bool) {
	if a.Seq == ^uint64(0) {
		if a.Ms == ^uint64(0) {
			return StreamID{}, false
		}
		return StreamID{a.Ms + 1, 0}, true
	}
	return StreamID{a.Ms, a.Seq + 1}, true
}

// Decr is the predecessor (streamDecrID); ok is false for 0-0, which
// wraps to the largest id.
func (a StreamID) Decr() (StreamID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return MaxStreamID, false
		}
		return StreamID{a.Ms - 1, ^uint64(0)}, true
	}
	return StreamID{a.Ms, a.Seq - 1}, true
}

// Append appends "ms-seq".
func (a StreamID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String is "ms-seq".
func (a StreamID) String() string { return string(a.Append(nil)) }

// Accounting constants (see "Accounting"; TestStreamMemory).
const (
	StreamBase         = 256
	streamNodeBase     = 96
	StreamGroupBase    = 384
	StreamConsumerBase = 160
	StreamNACKCost     = 96
	streamIDSize       = 16
)

// streamListpackMax is Redis's STREAM_LISTPACK_MAX_SIZE: the largest node
// and the most an entry's fields and values may add up to.
const streamListpackMax = 1 << 30

// Stream errors.
var (
	ErrStreamIDTooSmall  = errors.New("stream: id equal or smaller than the top item")
	ErrStreamExhausted   = errors.New("stream: last possible id reached")
	ErrStreamElemTooBig  = errors.New("stream: elements too large")
	errStreamBadPELState = errors.New("stream: inconsistent PEL")
)

// Stream is a stream value: see the doc above. Not safe for concurrent
// use; package shard serializes it under a sub-shard lock.
type Stream struct {
	nodes        []*snode
	length       int64
	lastID       StreamID
	firstID      StreamID
	maxDeleted   StreamID
	entriesAdded int64
	groups       map[string]*StreamGroup
	nodeBytes    int64
	groupBytes   int64
}

// NewStream returns an empty stream.
func NewStream() *Stream { return &Stream{} }

// Bytes is the accounted size (see "Accounting").
func (s *Stream) Bytes() int64 {
	return StreamBase + int64(cap(s.nodes))*8 + s.nodeBytes + s.groupBytes
}

// Len is the number of entries (XLEN).
func (s *Stream) Len() int64 { return s.length }

// LastID is the last generated id.
func (s *Stream) LastID() StreamID { return s.lastID }

// FirstID is the recorded first entry id (0-0 when empty).
func (s *Stream) FirstID() StreamID { return s.firstID }

// MaxDeletedID is the largest id deleted.
func (s *Stream) MaxDeletedID() StreamID { return s.maxDeleted }

// EntriesAdded counts every entry ever added.
func (s *Stream) EntriesAdded() int64 { return s.entriesAdded }

// Nodes is the number of nodes (XINFO's radix-tree-keys).
func (s *Stream) Nodes() int { return len(s.nodes) }

// SetMeta is XSETID's change.
func (s *Stream) SetMeta(last StreamID, entriesAdded int64, maxDeleted StreamID) {
	s.lastID = last
	if entriesAdded >= 0 {
		s.entriesAdded = entriesAdded
	}
	if !maxDeleted.IsZero() {
		s.maxDeleted = maxDeleted
	}
}

// Walk calls fn with every entry in id order, deleted ones included,
// and the index of its node (DUMP writes one listpack per node).
func (s *Stream) Walk(fn func(node int, id StreamID, deleted bool, rec []byte)) {
	for ni, n := range s.nodes {
		for i, id := range n.ids {
			fn(ni, id, n.deleted(i), n.rec(i))
		}
	}
}

// Load appends an entry read from a DUMP payload: in a new node when
// newNode (so the payload's node boundaries are kept), as a tombstone
// when deleted. Ids must ascend and a node must hold a live entry by
// the end; SetLoaded then sets the metadata.
func (s *Stream) Load(id StreamID, pairs [][]byte, newNode, deleted bool) {
	maxEntries := int64(0)
	if newNode {
		maxEntries = 1 // the last node is full: Add starts a new one
	}
	s.Add(id, pairs, 0, maxEntries)
	if deleted {
		n := s.nodes[len(s.nodes)-1]
		n.data[n.offs[len(n.ids)-1]] |= entryDeleted
		n.live--
		n.dead++
		s.length--
	}
}

// SetLoaded sets the metadata read from a DUMP payload.
func (s *Stream) SetLoaded(first, last, maxDeleted StreamID, entriesAdded int64) {
	s.firstID, s.lastID, s.maxDeleted, s.entriesAdded = first, last, maxDeleted, entriesAdded
}

// StreamRecordLen is the record size of fields (field, value pairs).
func StreamRecordLen(pairs [][]byte) int {
	n := 1 + uvarintLen(len(pairs)/2)
	for _, b := range pairs {
		n += uvarintLen(len(b)) + len(b)
	}
	return n
}

// StreamFields calls fn with each field and value of a record.
func StreamFields(rec []byte, fn func(f, v []byte)) {
	p := 1
	nf, k := binary.Uvarint(rec[p:])
	p += k
	for range nf {
		l, k := binary.Uvarint(rec[p:])
		p += k
		f := rec[p : p+int(l)]
		p += int(l)
		l, k = binary.Uvarint(rec[p:])
		p += k
		v := rec[p : p+int(l)]
		p += int(l)
		fn(f, v)
	}
}

// StreamFieldCount is the number of field-value pairs of a record.
func StreamFieldCount(rec []byte) int {
	nf, _ := binary.Uvarint(rec[1:])
	return int(nf)
}

// NextID is the id XADD would give: given (with seqGiven false for the
// "ms-*" form) or generated from now (unix ms), as streamAppendItem does.
func (s *Stream) NextID(now uint64, given *StreamID, seqGiven bool) (StreamID, error) {
	var id StreamID
	switch {
	case given != nil && seqGiven:
		id = *given
	case given != nil:
		if s.lastID.Ms == given.Ms {
			if s.lastID.Seq == ^uint64(0) {
				return id, ErrStreamIDTooSmall
			}
			id = StreamID{s.lastID.Ms, s.lastID.Seq + 1}
		} else {
			id = StreamID{given.Ms, 0}
		}
	default:
		if now > s.lastID.Ms {
			id = StreamID{now, 0}
		} else {
			id, _ = s.lastID.Incr()
		}
	}
	if id.Cmp(s.lastID) <= 0 {
		return id, ErrStreamIDTooSmall
	}
	return id, nil
}

// addPlan says where an entry of recLen bytes goes: a new node, or the
// last one; and how much Bytes grows.
func (s *Stream) addPlan(recLen, elemBytes int, maxBytes, maxEntries int64) (newNode bool, grow int64) {
	if maxBytes <= 0 || maxBytes > streamListpackMax { // stream.c's bounds
		maxBytes = streamListpackMax
	}
	newNode = len(s.nodes) == 0
	if !newNode {
		last := s.nodes[len(s.nodes)-1]
		switch {
		case int64(last.lpBytes()+elemBytes) >= maxBytes:
			newNode = true
		case maxEntries > 0 && int64(last.live+last.dead) >= maxEntries:
			newNode = true
		}
	}
	if newNode {
		if len(s.nodes) == cap(s.nodes) {
			grow += int64(growCap(cap(s.nodes), len(s.nodes)+1, 4)-cap(s.nodes)) * 8
		}
		ic := firstNodeCap(maxEntries)
		grow += streamNodeBase + int64(ic)*(streamIDSize+4) + int64(max(recLen, firstDataCap))
		return true, grow
	}
	last := s.nodes[len(s.nodes)-1]
	ic := growCap(cap(last.ids), len(last.ids)+1, 4)
	grow += int64(ic-cap(last.ids)) * (streamIDSize + 4)
	dc := growCap(cap(last.data), len(last.data)+recLen, firstDataCap)
	grow += int64(dc - cap(last.data))
	return false, grow
}

const firstDataCap = 256

func firstNodeCap(maxEntries int64) int {
	if maxEntries > 0 && maxEntries < 8 {
		return int(maxEntries)
	}
	return 8
}

func elemBytes(pairs [][]byte) int {
	n := 0
	for _, b := range pairs {
		n += len(b)
	}
	return n
}

// PlanAdd is the growth of Bytes that Add(id, pairs, ...) causes, or
// ErrStreamElemTooBig.
func (s *Stream) PlanAdd(pairs [][]byte, maxBytes, maxEntries int64) (int64, error) {
	eb := elemBytes(pairs)
	if eb > streamListpackMax {
		return 0, ErrStreamElemTooBig
	}
	_, grow := s.addPlan(StreamRecordLen(pairs), eb, maxBytes, maxEntries)
	return grow, nil
}

// Add appends an entry with id (NextID's) and pairs (field, value ...).
func (s *Stream) Add(id StreamID, pairs [][]byte, maxBytes, maxEntries int64) {
	recLen := StreamRecordLen(pairs)
	newNode, _ := s.addPlan(recLen, elemBytes(pairs), maxBytes, maxEntries)
	var n *snode
	if newNode {
		if len(s.nodes) == cap(s.nodes) {
			ns := make([]*snode, len(s.nodes), growCap(cap(s.nodes), len(s.nodes)+1, 4))
			copy(ns, s.nodes)
			s.nodes = ns
		}
		ic := firstNodeCap(maxEntries)
		n = &snode{
			ids:  make([]StreamID, 0, ic),
			offs: make([]uint32, 0, ic),
			data: make([]byte, 0, max(recLen, firstDataCap)),
		}
		s.nodes = append(s.nodes, n)
		s.nodeBytes += n.size()
	} else {
		n = s.nodes[len(s.nodes)-1]
		before := n.size()
		if len(n.ids) == cap(n.ids) {
			ic := growCap(cap(n.ids), len(n.ids)+1, 4)
			ids := make([]StreamID, len(n.ids), ic)
			copy(ids, n.ids)
			n.ids = ids
			offs := make([]uint32, len(n.offs), ic)
			copy(offs, n.offs)
			n.offs = offs
		}
		if dc := growCap(cap(n.data), len(n.data)+recLen, firstDataCap); dc != cap(n.data) {
			d := make([]byte, len(n.data), dc)
			copy(d, n.data)
			n.data = d
		}
		s.nodeBytes += n.size() - before
	}
	if newNode {
		n.lpRest = lpMaster(pairs) + lpEntry(id, id, pairs, true)
	} else {
		n.lpRest += lpEntry(id, n.ids[0], pairs, n.sameFields(pairs))
	}
	n.ids = append(n.ids, id)
	n.offs = append(n.offs, uint32(len(n.data)))
	n.data = append(n.data, 0)
	n.data = binary.AppendUvarint(n.data, uint64(len(pairs)/2))
	for _, b := range pairs {
		n.data = binary.AppendUvarint(n.data, uint64(len(b)))
		n.data = append(n.data, b...)
	}
	n.live++
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

// seekNode is the index of the last node whose first id is <= id, or 0.
func (s *Stream) seekNode(id StreamID) int {
	i := sort.Search(len(s.nodes), func(i int) bool { return s.nodes[i].ids[0].Cmp(id) > 0 })
	return max(i-1, 0)
}

// Range calls fn for each live entry from start to end inclusive (rev:
// from end down to start) until fn returns false. rec is valid only
// during fn (read it with StreamFields).
func (s *Stream) Range(start, end StreamID, rev bool, fn func(id StreamID, rec []byte) bool) {
	if len(s.nodes) == 0 || start.Cmp(end) > 0 {
		return
	}
	if !rev {
		for ni := s.seekNode(start); ni < len(s.nodes); ni++ {
			n := s.nodes[ni]
			i := sort.Search(len(n.ids), func(i int) bool { return n.ids[i].Cmp(start) >= 0 })
			for ; i < len(n.ids); i++ {
				if n.ids[i].Cmp(end) > 0 {
					return
				}
				if n.deleted(i) {
					continue
				}
				if !fn(n.ids[i], n.rec(i)) {
					return
				}
			}
		}
		return
	}
	for ni := s.seekNode(end); ni >= 0; ni-- {
		n := s.nodes[ni]
		i := sort.Search(len(n.ids), func(i int) bool { return n.ids[i].Cmp(end) > 0 }) - 1
		for ; i >= 0; i-- {
			if n.ids[i].Cmp(start) < 0 {
				return
			}
			if n.deleted(i) {
				continue
			}
			if !fn(n.ids[i], n.rec(i)) {
				return
			}
		}
	}
}

// Get calls fn with the entry id if it is live, and reports whether it
// is.
func (s *Stream) Get(id StreamID, fn func(rec []byte)) bool {
	found := false
	s.Range(id, id, false, func(_ StreamID, rec []byte) bool {
		found = true
		if fn != nil {
			fn(rec)
		}
		return false
	})
	return found
}

// LastValidID is the id of the last live entry (0-0 when empty).
func (s *Stream) LastValidID() StreamID {
	var out StreamID
	s.Range(StreamID{}, MaxStreamID, true, func(id StreamID, _ []byte) bool { out = id; return false })
	return out
}

// firstValid is the id of the first live entry, ok false when empty.
func (s *Stream) firstValid() (StreamID, bool) {
	var out StreamID
	ok := false
	s.Range(StreamID{}, MaxStreamID, false, func(id StreamID, _ []byte) bool { out, ok = id, true; return false })
	return out, ok
}

func (s *Stream) removeNode(ni int) {
	s.nodeBytes -= s.nodes[ni].size()
	s.nodes = slices.Delete(s.nodes, ni, ni+1)
	if len(s.nodes) == 0 {
		s.nodes = nil // its capacity is accounted; an empty stream holds none
	}
}

// Delete removes one entry (XDEL's streamDeleteItem, without the
// first-id and max-deleted bookkeeping, which XDEL does with Deleted).
func (s *Stream) delete(id StreamID) bool {
	if len(s.nodes) == 0 {
		return false
	}
	ni := s.seekNode(id)
	n := s.nodes[ni]
	i := sort.Search(len(n.ids), func(i int) bool { return n.ids[i].Cmp(id) >= 0 })
	if i == len(n.ids) || n.ids[i] != id || n.deleted(i) {
		return false
	}
	if n.live == 1 {
		s.removeNode(ni)
	} else {
		n.data[n.offs[i]] |= entryDeleted
		n.live--
		n.dead++
	}
	s.length--
	return true
}

// Del is XDEL: it deletes ids and reports how many were live.
func (s *Stream) Del(ids []StreamID) int {
	deleted, first := 0, false
	for _, id := range ids {
		if s.delete(id) {
			if id == s.firstID {
				first = true
			}
			if id.Cmp(s.maxDeleted) > 0 {
				s.maxDeleted = id
			}
			deleted++
		}
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = StreamID{}
		} else if first {
			s.firstID, _ = s.firstValid()
		}
	}
	return deleted
}

// Trim strategies.
const (
	TrimNone = iota
	TrimMaxLen
	TrimMinID
)

// TrimArgs are XADD's and XTRIM's trimming options.
type TrimArgs struct {
	Strategy int
	Approx   bool
	Limit    int64 // 0: none
	MaxLen   int64
	MinID    StreamID
}

// Trim is streamTrim: it removes entries from the head and returns how
// many.
func (s *Stream) Trim(a TrimArgs) int64 {
	if a.Strategy == TrimNone {
		return 0
	}
	var deleted int64
	k := 0 // whole nodes removed from the head
	for k < len(s.nodes) {
		if a.Strategy == TrimMaxLen && s.length <= a.MaxLen {
			break
		}
		n := s.nodes[k]
		entries := int64(n.live)
		if a.Limit > 0 && deleted+entries > a.Limit {
			break
		}
		var remove bool
		if a.Strategy == TrimMaxLen {
			remove = s.length-entries >= a.MaxLen
		} else {
			remove = n.ids[len(n.ids)-1].Cmp(a.MinID) < 0
		}
		if remove {
			s.nodeBytes -= n.size()
			k++
			s.length -= entries
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		var fromNode int32
		for i := range n.ids {
			var stop bool
			if a.Strategy == TrimMaxLen {
				stop = s.length <= a.MaxLen
			} else {
				stop = n.ids[i].Cmp(a.MinID) >= 0
			}
			if stop {
				break
			}
			if !n.deleted(i) {
				n.data[n.offs[i]] |= entryDeleted
				fromNode++
				s.length--
			}
		}
		n.live -= fromNode
		n.dead += fromNode
		deleted += int64(fromNode)
		if n.live == 0 { // only tombstones were left past minid: drop it
			s.nodeBytes -= n.size()
			k++
		}
		break
	}
	if k > 0 {
		s.nodes = slices.Delete(s.nodes, 0, k)
		if len(s.nodes) == 0 {
			s.nodes = nil
		}
	}
	if s.length == 0 {
		s.firstID = StreamID{}
	} else if deleted > 0 {
		s.firstID, _ = s.firstValid()
	}
	return deleted
}

// EstimateDistance is streamEstimateDistanceFromFirstEverEntry: the
// logical read counter of id, or -1 when it cannot be known.
func (s *Stream) EstimateDistance(id StreamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Cmp(s.lastID) < 1 {
		return s.entriesAdded
	}
	cmpLast := id.Cmp(s.lastID)
	if cmpLast == 0 {
		return s.entriesAdded
	} else if cmpLast > 0 {
		return -1
	}
	cmpFirst := id.Cmp(s.firstID)
	if s.maxDeleted.IsZero() || s.maxDeleted.Cmp(s.firstID) < 0 {
		if cmpFirst < 0 {
			return s.entriesAdded - s.length
		} else if cmpFirst == 0 {
			return s.entriesAdded - s.length + 1
		}
	}
	return -1
}

// RangeHasTombstones is streamRangeHasTombstones (end nil: to the end).
func (s *Stream) RangeHasTombstones(start StreamID, end *StreamID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() {
		return false
	}
	if s.firstID.Cmp(s.maxDeleted) > 0 {
		return false
	}
	e := MaxStreamID
	if end != nil {
		e = *end
	}
	return start.Cmp(s.maxDeleted) <= 0 && s.maxDeleted.Cmp(e) <= 0
}

// Clone is a deep copy (COPY).
func (s *Stream) Clone() *Stream {
	d := &Stream{
		length: s.length, lastID: s.lastID, firstID: s.firstID, maxDeleted: s.maxDeleted,
		entriesAdded: s.entriesAdded, nodeBytes: s.nodeBytes, groupBytes: s.groupBytes,
	}
	if s.nodes != nil {
		d.nodes = make([]*snode, len(s.nodes), cap(s.nodes))
		for i, n := range s.nodes {
			m := &snode{
				ids:  make([]StreamID, len(n.ids), cap(n.ids)),
				offs: make([]uint32, len(n.offs), cap(n.offs)),
				data: make([]byte, len(n.data), cap(n.data)),
				live: n.live, dead: n.dead, lpRest: n.lpRest,
			}
			copy(m.ids, n.ids)
			copy(m.offs, n.offs)
			copy(m.data, n.data)
			d.nodes[i] = m
		}
	}
	if s.groups != nil {
		d.groups = make(map[string]*StreamGroup, len(s.groups))
		for name, g := range s.groups {
			h := &StreamGroup{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead, consumers: make(map[string]*StreamConsumer, len(g.consumers))}
			for cn, c := range g.consumers {
				h.consumers[cn] = &StreamConsumer{Name: c.Name, SeenTime: c.SeenTime}
			}
			g.pel.ascend(StreamID{}, func(id StreamID, nk *StreamNACK) bool {
				m := &StreamNACK{DeliveryTime: nk.DeliveryTime, DeliveryCount: nk.DeliveryCount}
				h.pel.insert(id, m)
				if nk.Consumer != nil {
					m.Consumer = h.consumers[nk.Consumer.Name]
					m.Consumer.pel.insert(id, m)
				}
				return true
			})
			d.groups[name] = h
		}
	}
	return d
}

// Check verifies the stream's invariants (tests): counts, order, node
// accounting and PEL consistency.
func (s *Stream) Check() error {
	var length, nb int64
	prev := StreamID{}
	for i, n := range s.nodes {
		if len(n.ids) == 0 || n.live == 0 {
			return errors.New("stream: empty node")
		}
		var live int32
		for j, id := range n.ids {
			if (i > 0 || j > 0) && id.Cmp(prev) <= 0 {
				return errors.New("stream: ids out of order")
			}
			prev = id
			if !n.deleted(j) {
				live++
			}
		}
		if live != n.live || int(n.live+n.dead) != len(n.ids) {
			return errors.New("stream: node counts")
		}
		length += int64(live)
		nb += n.size()
	}
	if length != s.length {
		return errors.New("stream: length")
	}
	if nb != s.nodeBytes {
		return errors.New("stream: node bytes")
	}
	var gb int64
	for name, g := range s.groups {
		gb += GroupCost([]byte(name)) + int64(g.pel.n)*StreamNACKCost
		owned := 0
		for _, c := range g.consumers {
			gb += ConsumerCost([]byte(c.Name))
			owned += c.pel.n
			bad := false
			c.pel.ascend(StreamID{}, func(id StreamID, nk *StreamNACK) bool {
				if nk.Consumer != c || g.pel.get(id) != nk {
					bad = true
				}
				return !bad
			})
			if bad {
				return errStreamBadPELState
			}
		}
		if owned != g.pel.n {
			return errStreamBadPELState
		}
	}
	if gb != s.groupBytes {
		return errors.New("stream: group bytes")
	}
	return nil
}
