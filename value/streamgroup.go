package value

// Streams' consumer groups (stream.go has the entries): groups, their
// consumers, the pending-entries lists, and the chunked PEL index both
// keep, sorted by ID.

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Lag is a group's lag (XINFO), ok false when unknown (a null reply).
func (s *Stream) Lag(g *StreamGroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != -1 && !s.RangeHasTombstones(g.LastID, nil) {
		return s.entriesAdded - g.EntriesRead, true
	}
	if er := s.EstimateDistance(g.LastID); er != -1 {
		return s.entriesAdded - er, true
	}
	return 0, false
}

// # Consumer groups

// StreamNACK is a pending entry: last delivery (unix ms), deliveries and
// owner (nil only transiently, for XCLAIM ... FORCE).
type StreamNACK struct {
	DeliveryTime  int64
	DeliveryCount int64
	Consumer      *StreamConsumer
}

// StreamConsumer is a consumer of a group.
type StreamConsumer struct {
	Name     string
	SeenTime int64
	pel      pelIndex
}

// Pending is the number of the consumer's pending entries.
func (c *StreamConsumer) Pending() int { return c.pel.n }

// PEL walks the consumer's pending entries from id on.
func (c *StreamConsumer) PEL(from StreamID, fn func(id StreamID, n *StreamNACK) bool) {
	c.pel.ascend(from, fn)
}

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name        string
	LastID      StreamID
	EntriesRead int64 // -1: unknown (SCG_INVALID_ENTRIES_READ)
	pel         pelIndex
	consumers   map[string]*StreamConsumer
}

// Pending is the number of the group's pending entries.
func (g *StreamGroup) Pending() int { return g.pel.n }

// PEL walks the group's pending entries from id on.
func (g *StreamGroup) PEL(from StreamID, fn func(id StreamID, n *StreamNACK) bool) {
	g.pel.ascend(from, fn)
}

// PELFirstLast are the smallest and largest pending ids.
func (g *StreamGroup) PELFirstLast() (first, last StreamID) {
	return g.pel.first(), g.pel.last()
}

// NACK finds a pending entry.
func (g *StreamGroup) NACK(id StreamID) *StreamNACK { return g.pel.get(id) }

// Consumer looks a consumer up.
func (g *StreamGroup) Consumer(name []byte) *StreamConsumer { return g.consumers[string(name)] }

// NumConsumers is the number of consumers.
func (g *StreamGroup) NumConsumers() int { return len(g.consumers) }

// Consumers are the consumers by name (Redis's rax order).
func (g *StreamGroup) Consumers() []*StreamConsumer {
	return slices.SortedFunc(maps.Values(g.consumers), func(a, b *StreamConsumer) int { return strings.Compare(a.Name, b.Name) })
}

// Group looks a group up.
func (s *Stream) Group(name []byte) *StreamGroup { return s.groups[string(name)] }

// NumGroups is the number of groups.
func (s *Stream) NumGroups() int { return len(s.groups) }

// Groups are the groups by name.
func (s *Stream) Groups() []*StreamGroup {
	return slices.SortedFunc(maps.Values(s.groups), func(a, b *StreamGroup) int { return strings.Compare(a.Name, b.Name) })
}

// GroupCost is what creating a group named name adds to Bytes.
func GroupCost(name []byte) int64 { return StreamGroupBase + int64(len(name)) }

// ConsumerCost is what creating a consumer named name adds to Bytes.
func ConsumerCost(name []byte) int64 { return StreamConsumerBase + int64(len(name)) }

// CreateGroup adds a group, or returns nil if it exists.
func (s *Stream) CreateGroup(name []byte, last StreamID, entriesRead int64) *StreamGroup {
	if s.groups[string(name)] != nil {
		return nil
	}
	if s.groups == nil {
		s.groups = make(map[string]*StreamGroup)
	}
	g := &StreamGroup{Name: string(name), LastID: last, EntriesRead: entriesRead, consumers: make(map[string]*StreamConsumer)}
	s.groups[g.Name] = g
	s.groupBytes += GroupCost(name)
	return g
}

// DestroyGroup removes a group and reports whether it existed.
func (s *Stream) DestroyGroup(name []byte) bool {
	g := s.groups[string(name)]
	if g == nil {
		return false
	}
	cost := GroupCost(name) + int64(g.pel.n)*StreamNACKCost
	for _, c := range g.consumers {
		cost += ConsumerCost([]byte(c.Name))
	}
	delete(s.groups, string(name))
	s.groupBytes -= cost
	return true
}

// CreateConsumer adds a consumer seen at now, or returns nil if it
// exists.
func (s *Stream) CreateConsumer(g *StreamGroup, name []byte, now int64) *StreamConsumer {
	if g.consumers[string(name)] != nil {
		return nil
	}
	c := &StreamConsumer{Name: string(name), SeenTime: now}
	g.consumers[c.Name] = c
	s.groupBytes += ConsumerCost(name)
	return c
}

// LookupOrCreateConsumer finds a consumer, refreshing its seen time, or
// creates it.
func (s *Stream) LookupOrCreateConsumer(g *StreamGroup, name []byte, now int64) *StreamConsumer {
	if c := g.consumers[string(name)]; c != nil {
		c.SeenTime = now
		return c
	}
	return s.CreateConsumer(g, name, now)
}

// DelConsumer removes a consumer and its pending entries, returning how
// many it had.
func (s *Stream) DelConsumer(g *StreamGroup, c *StreamConsumer) int {
	n := c.pel.n
	c.pel.ascend(StreamID{}, func(id StreamID, _ *StreamNACK) bool {
		g.pel.remove(id)
		return true
	})
	delete(g.consumers, c.Name)
	s.groupBytes -= ConsumerCost([]byte(c.Name)) + int64(n)*StreamNACKCost
	return n
}

// Deliver records the delivery of id to c (streamReplyWithRange's PEL
// update): a new NACK, or the existing one reassigned to c with its count
// reset to 1.
func (s *Stream) Deliver(g *StreamGroup, c *StreamConsumer, id StreamID, now int64) {
	if nk := g.pel.get(id); nk != nil {
		if nk.Consumer != nil {
			nk.Consumer.pel.remove(id)
		}
		nk.Consumer, nk.DeliveryTime, nk.DeliveryCount = c, now, 1
		c.pel.insert(id, nk)
		return
	}
	nk := &StreamNACK{DeliveryTime: now, DeliveryCount: 1, Consumer: c}
	g.pel.insert(id, nk)
	c.pel.insert(id, nk)
	s.groupBytes += StreamNACKCost
}

// Ack removes a pending entry and reports whether it was pending.
func (s *Stream) Ack(g *StreamGroup, id StreamID) bool {
	nk := g.pel.get(id)
	if nk == nil {
		return false
	}
	g.pel.remove(id)
	if nk.Consumer != nil {
		nk.Consumer.pel.remove(id)
	}
	s.groupBytes -= StreamNACKCost
	return true
}

// ForceNACK creates an ownerless NACK for id (XCLAIM ... FORCE); Claim
// gives it its owner.
func (s *Stream) ForceNACK(g *StreamGroup, id StreamID) *StreamNACK {
	nk := &StreamNACK{DeliveryCount: 1} // streamCreateNACK's
	g.pel.insert(id, nk)
	s.groupBytes += StreamNACKCost
	return nk
}

// Claim moves the pending entry id (its NACK nk) to c.
func (s *Stream) Claim(nk *StreamNACK, id StreamID, c *StreamConsumer) {
	if nk.Consumer == c {
		return
	}
	if nk.Consumer != nil {
		nk.Consumer.pel.remove(id)
	}
	c.pel.insert(id, nk)
	nk.Consumer = c
}

// # The PEL index

// pelChunk is the capacity of a PEL chunk.
const pelChunk = 64

type pelEntry struct {
	id StreamID
	nk *StreamNACK
}

// pelIndex is a sorted sequence of chunks of at most pelChunk entries.
type pelIndex struct {
	chunks [][]pelEntry
	n      int
}

// find is the chunk that holds id or would: the last whose first id is
// <= id (0 if none), and the position in it of the first entry >= id.
func (p *pelIndex) find(id StreamID) (ci, i int) {
	ci = sort.Search(len(p.chunks), func(k int) bool { return p.chunks[k][0].id.Cmp(id) > 0 }) - 1
	ci = max(ci, 0)
	c := p.chunks[ci]
	i = sort.Search(len(c), func(k int) bool { return c[k].id.Cmp(id) >= 0 })
	return ci, i
}

func (p *pelIndex) get(id StreamID) *StreamNACK {
	if p.n == 0 {
		return nil
	}
	ci, i := p.find(id)
	if c := p.chunks[ci]; i < len(c) && c[i].id == id {
		return c[i].nk
	}
	return nil
}

func (p *pelIndex) insert(id StreamID, nk *StreamNACK) bool {
	if p.n == 0 {
		c := make([]pelEntry, 1, pelChunk)
		c[0] = pelEntry{id, nk}
		p.chunks = append(p.chunks[:0], c)
		p.n = 1
		return true
	}
	ci, i := p.find(id)
	c := p.chunks[ci]
	if i < len(c) && c[i].id == id {
		return false
	}
	if len(c) == pelChunk {
		if ci == len(p.chunks)-1 && i == len(c) {
			// Past the end: a new chunk, so in-order inserts fill chunks.
			nc := make([]pelEntry, 1, pelChunk)
			nc[0] = pelEntry{id, nk}
			p.chunks = append(p.chunks, nc)
			p.n++
			return true
		}
		right := make([]pelEntry, pelChunk/2, pelChunk)
		copy(right, c[pelChunk/2:])
		c = c[:pelChunk/2]
		p.chunks[ci] = c
		p.chunks = slices.Insert(p.chunks, ci+1, right)
		if i > pelChunk/2 {
			ci, i, c = ci+1, i-pelChunk/2, right
		}
	}
	c = slices.Insert(c, i, pelEntry{id, nk})
	p.chunks[ci] = c
	p.n++
	return true
}

func (p *pelIndex) remove(id StreamID) bool {
	if p.n == 0 {
		return false
	}
	ci, i := p.find(id)
	c := p.chunks[ci]
	if i >= len(c) || c[i].id != id {
		return false
	}
	c = slices.Delete(c, i, i+1)
	if len(c) == 0 {
		p.chunks = slices.Delete(p.chunks, ci, ci+1)
	} else {
		p.chunks[ci] = c
	}
	p.n--
	if p.n == 0 {
		p.chunks = nil
	}
	return true
}

// ascend calls fn for each entry >= from in order until it returns
// false. fn must not change the index.
func (p *pelIndex) ascend(from StreamID, fn func(id StreamID, nk *StreamNACK) bool) {
	if p.n == 0 {
		return
	}
	ci, i := p.find(from)
	for ; ci < len(p.chunks); ci, i = ci+1, 0 {
		c := p.chunks[ci]
		for ; i < len(c); i++ {
			if !fn(c[i].id, c[i].nk) {
				return
			}
		}
	}
}

func (p *pelIndex) first() StreamID {
	if p.n == 0 {
		return StreamID{}
	}
	return p.chunks[0][0].id
}

func (p *pelIndex) last() StreamID {
	if p.n == 0 {
		return StreamID{}
	}
	c := p.chunks[len(p.chunks)-1]
	return c[len(c)-1].id
}
