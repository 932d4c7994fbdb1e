package rdb

import (
	"encoding/binary"
	"slices"
)

// # Streams
//
// RDB_TYPE_STREAM_LISTPACKS_2 (rdbSaveObject for OBJ_STREAM in Redis
// 7.0): the number of radix-tree nodes, then per node its master id (a
// 16-byte string, ms and seq big-endian) and its listpack; the length,
// the last id, the first id, the largest deleted id (each as two RDB
// lengths) and entries_added; then the consumer groups: name, last id,
// entries_read, the group PEL (per NACK a raw 16-byte id, an 8-byte
// little-endian delivery time and the delivery count as a length), and
// the consumers (name, seen time, then their PEL as raw ids).
//
// A node's listpack (t_stream.c): the master entry — count of live
// entries, count of deleted ones, the number of master fields, the
// fields, a 0 terminator — then per entry its flags (1 deleted, 2 same
// fields as the master), its ms and seq as deltas from the master id,
// then either the number of fields and each field and its value, or
// (same-fields) only the values; and lp-count (the number of listpack elements of the entry but
// for lp-count itself).
//
// Decoding checks what Redis's deep sanitization checks
// (streamValidateListpackIntegrity and rdbLoadObject's duplicate and
// consumer checks) and a little more, because the stream tcached builds
// from it must be consistent: node keys and entry ids strictly
// ascending, a node's master counts matching its entries' flags and
// every node holding a live entry, the stream's length matching its live
// entries, the last id not below the last entry's, every group PEL entry
// owned by exactly one consumer.

// Stream item flags (t_stream.c).
const (
	streamFlagDeleted    = 1
	streamFlagSameFields = 2
)

// StreamID is an entry id.
type StreamID struct{ Ms, Seq uint64 }

func (a StreamID) less(b StreamID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

// StreamEntry is one entry of a node, deleted ones (tombstones) included.
type StreamEntry struct {
	ID      StreamID
	Deleted bool
	Pairs   [][]byte // field, value, ...
}

// StreamNACK is a pending entry of a group.
type StreamNACK struct {
	ID            StreamID
	DeliveryTime  int64
	DeliveryCount uint64
}

// StreamConsumer is a consumer and the ids of its pending entries (which
// are in its group's PEL).
type StreamConsumer struct {
	Name     []byte
	SeenTime int64
	PEL      []StreamID
}

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64 // -1: unknown
	PEL         []StreamNACK
	Consumers   []StreamConsumer
}

// Stream is a stream's content: its nodes (each a run of entries whose
// first is the node's master entry), metadata and groups.
type Stream struct {
	Nodes        [][]StreamEntry
	Length       uint64
	LastID       StreamID
	FirstID      StreamID
	MaxDeleted   StreamID
	EntriesAdded uint64
	Groups       []StreamGroup
	// Legacy marks a payload of RDB_TYPE_STREAM_LISTPACKS (Redis before
	// 7.0), which has no first id, largest deleted id, entries_added or
	// groups' entries_read: Decode derives the first three as
	// rdbLoadObject does, and the caller each group's EntriesRead
	// (streamEstimateDistanceFromFirstEverEntry of its last id; -1 here).
	// Encode ignores it.
	Legacy bool
}

func appendStreamID(b []byte, id StreamID) []byte {
	b = binary.BigEndian.AppendUint64(b, id.Ms)
	return binary.BigEndian.AppendUint64(b, id.Seq)
}

func appendIDLens(b []byte, id StreamID) []byte {
	return AppendLen(AppendLen(b, id.Ms), id.Seq)
}

// streamNodeLP is a node's listpack, as streamAppendItem builds it.
func streamNodeLP(node []StreamEntry) []byte {
	master := node[0]
	live, dead := 0, 0
	for _, e := range node {
		if e.Deleted {
			dead++
		} else {
			live++
		}
	}
	lp := newLP(nil)
	lp.appendInt(int64(live))
	lp.appendInt(int64(dead))
	lp.appendInt(int64(len(master.Pairs) / 2))
	for i := 0; i < len(master.Pairs); i += 2 {
		lp.appendString(master.Pairs[i])
	}
	lp.appendInt(0)
	for _, e := range node {
		same := len(e.Pairs) == len(master.Pairs)
		for i := 0; same && i < len(e.Pairs); i += 2 {
			same = string(e.Pairs[i]) == string(master.Pairs[i])
		}
		flags := int64(0)
		if e.Deleted {
			flags |= streamFlagDeleted
		}
		if same {
			flags |= streamFlagSameFields
		}
		lp.appendInt(flags)
		lp.appendInt(int64(e.ID.Ms - master.ID.Ms))
		lp.appendInt(int64(e.ID.Seq - master.ID.Seq))
		nf := len(e.Pairs) / 2
		if !same {
			lp.appendInt(int64(nf))
			for _, b := range e.Pairs { // field, value, ...
				lp.appendString(b)
			}
		} else {
			for i := 1; i < len(e.Pairs); i += 2 {
				lp.appendString(e.Pairs[i])
			}
		}
		if same {
			lp.appendInt(int64(nf + 3))
		} else {
			lp.appendInt(int64(2*nf + 4))
		}
	}
	return lp.finish(0)
}

func encodeStream(b []byte, o *Object, _ Options) []byte {
	s := o.Stream
	b = append(b, TypeStreamListpack2)
	b = AppendLen(b, uint64(len(s.Nodes)))
	var key []byte
	for _, node := range s.Nodes {
		key = appendStreamID(key[:0], node[0].ID)
		b = AppendString(b, key)
		b = AppendString(b, streamNodeLP(node))
	}
	b = AppendLen(b, s.Length)
	b = appendIDLens(b, s.LastID)
	b = appendIDLens(b, s.FirstID)
	b = appendIDLens(b, s.MaxDeleted)
	b = AppendLen(b, s.EntriesAdded)
	b = AppendLen(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = AppendString(b, g.Name)
		b = appendIDLens(b, g.LastID)
		b = AppendLen(b, uint64(g.EntriesRead))
		b = AppendLen(b, uint64(len(g.PEL)))
		for _, nk := range g.PEL {
			b = appendStreamID(b, nk.ID)
			b = binary.LittleEndian.AppendUint64(b, uint64(nk.DeliveryTime))
			b = AppendLen(b, nk.DeliveryCount)
		}
		b = AppendLen(b, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			b = AppendString(b, c.Name)
			b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime))
			b = AppendLen(b, uint64(len(c.PEL)))
			for _, id := range c.PEL {
				b = appendStreamID(b, id)
			}
		}
	}
	return b
}

// plainLen reads an RDB length that is not a string encoding.
func (r *reader) plainLen() (uint64, error) {
	n, enc, err := r.length()
	if err != nil || enc {
		return 0, ErrFormat
	}
	return n, nil
}

func (r *reader) idLens() (StreamID, error) {
	ms, err := r.plainLen()
	if err != nil {
		return StreamID{}, err
	}
	seq, err := r.plainLen()
	return StreamID{ms, seq}, err
}

func (r *reader) rawID() (StreamID, error) {
	b, err := r.take(16)
	if err != nil {
		return StreamID{}, err
	}
	return StreamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, nil
}

func (r *reader) millis() (int64, error) {
	b, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

// lpInts walks a node's decoded listpack elements.
type lpWalk struct{ el [][]byte }

func (w *lpWalk) next() ([]byte, bool) {
	if len(w.el) == 0 {
		return nil, false
	}
	e := w.el[0]
	w.el = w.el[1:]
	return e, true
}

// int is lpGetIntegerIfValid: an integer element (printed as text by
// lpEntries) or a string string2ll accepts.
func (w *lpWalk) int() (int64, bool) {
	e, ok := w.next()
	if !ok {
		return 0, false
	}
	return canonicalInt(e)
}

// decodeStreamNode checks and decodes one node's listpack (master id
// key).
func (r *reader) decodeStreamNode(key StreamID, lp []byte) ([]StreamEntry, error) {
	el, err := r.lpEntries(lp, nil)
	if err != nil {
		return nil, err
	}
	w := lpWalk{el}
	count, ok1 := w.int()
	deleted, ok2 := w.int()
	nmf, ok3 := w.int()
	if !ok1 || !ok2 || !ok3 || count < 1 || deleted < 0 || nmf < 0 || nmf > int64(len(w.el)) {
		return nil, ErrFormat
	}
	mfields := w.el[:nmf]
	w.el = w.el[nmf:]
	if z, ok := w.int(); !ok || z != 0 {
		return nil, ErrFormat
	}
	total := count + deleted
	if total > int64(len(w.el))/4 { // flags, ms, seq, lp-count at least
		return nil, ErrFormat
	}
	node := make([]StreamEntry, 0, total)
	live := int64(0)
	for range total {
		flags, ok1 := w.int()
		dms, ok2 := w.int()
		dseq, ok3 := w.int()
		if !ok1 || !ok2 || !ok3 {
			return nil, ErrFormat
		}
		e := StreamEntry{ID: StreamID{key.Ms + uint64(dms), key.Seq + uint64(dseq)}, Deleted: flags&streamFlagDeleted != 0}
		var nf, extra int64
		if flags&streamFlagSameFields == 0 {
			// The fields and values alternate.
			n, ok := w.int()
			if !ok || n < 0 || n > int64(len(w.el))/2 {
				return nil, ErrFormat
			}
			nf, extra = n, 3+n+1
			e.Pairs = w.el[: 2*nf : 2*nf]
			w.el = w.el[2*nf:]
		} else {
			nf, extra = int64(len(mfields)), 3
			if nf > int64(len(w.el)) {
				return nil, ErrFormat
			}
			e.Pairs = make([][]byte, 0, 2*nf)
			for i := range nf {
				e.Pairs = append(e.Pairs, mfields[i], w.el[i])
			}
			w.el = w.el[nf:]
		}
		if c, ok := w.int(); !ok || c != nf+extra {
			return nil, ErrFormat
		}
		if len(node) > 0 && !node[len(node)-1].ID.less(e.ID) {
			return nil, ErrFormat
		}
		if !e.Deleted {
			live++
		}
		node = append(node, e)
	}
	if len(w.el) != 0 || live != count {
		return nil, ErrFormat
	}
	return node, nil
}

func decodeStream(r *reader, t byte) (Object, error) {
	legacy := t == TypeStreamListpack
	nodes, err := r.count(2)
	if err != nil {
		return Object{}, err
	}
	s := &Stream{Nodes: make([][]StreamEntry, 0, nodes)}
	var prev *StreamEntry
	live := uint64(0)
	for range nodes {
		k, err := r.str()
		if err != nil || len(k) != 16 {
			return Object{}, ErrFormat
		}
		key := StreamID{binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])}
		lp, err := r.str()
		if err != nil {
			return Object{}, ErrFormat
		}
		node, err := r.decodeStreamNode(key, lp)
		if err != nil {
			return Object{}, err
		}
		if prev != nil && !prev.ID.less(node[0].ID) {
			return Object{}, ErrFormat
		}
		for _, e := range node {
			if !e.Deleted {
				live++
			}
		}
		prev = &node[len(node)-1]
		s.Nodes = append(s.Nodes, node)
	}
	if s.Length, err = r.plainLen(); err != nil {
		return Object{}, err
	}
	if s.LastID, err = r.idLens(); err != nil {
		return Object{}, err
	}
	if legacy {
		s.Legacy, s.EntriesAdded = true, s.Length
		s.FirstID = StreamID{^uint64(0), ^uint64(0)} // streamGetEdgeID of an empty stream
	found:
		for _, n := range s.Nodes {
			for _, e := range n {
				if !e.Deleted {
					s.FirstID = e.ID
					break found
				}
			}
		}
	} else {
		if s.FirstID, err = r.idLens(); err != nil {
			return Object{}, err
		}
		if s.MaxDeleted, err = r.idLens(); err != nil {
			return Object{}, err
		}
		if s.EntriesAdded, err = r.plainLen(); err != nil {
			return Object{}, err
		}
	}
	if s.Length != live || prev != nil && s.LastID.less(prev.ID) {
		return Object{}, ErrFormat
	}
	ng, err := r.count(4)
	if err != nil {
		return Object{}, err
	}
	names := map[string]bool{}
	for range ng {
		var g StreamGroup
		if g.Name, err = r.str(); err != nil {
			return Object{}, ErrFormat
		}
		if names[string(g.Name)] {
			return Object{}, ErrFormat // "Duplicated consumer group name"
		}
		names[string(g.Name)] = true
		if g.LastID, err = r.idLens(); err != nil {
			return Object{}, err
		}
		er := ^uint64(0)
		if !legacy {
			if er, err = r.plainLen(); err != nil {
				return Object{}, err
			}
		}
		g.EntriesRead = int64(er)
		if g.EntriesRead < -1 {
			return Object{}, ErrFormat
		}
		np, err := r.count(25)
		if err != nil {
			return Object{}, err
		}
		g.PEL = make([]StreamNACK, 0, np)
		for range np {
			var nk StreamNACK
			if nk.ID, err = r.rawID(); err != nil {
				return Object{}, err
			}
			if nk.DeliveryTime, err = r.millis(); err != nil {
				return Object{}, err
			}
			if nk.DeliveryCount, err = r.plainLen(); err != nil {
				return Object{}, err
			}
			g.PEL = append(g.PEL, nk)
		}
		slices.SortFunc(g.PEL, func(a, b StreamNACK) int { return cmpID(a.ID, b.ID) })
		for i := 1; i < len(g.PEL); i++ {
			if g.PEL[i-1].ID == g.PEL[i].ID {
				return Object{}, ErrFormat // "Duplicated global PEL entry"
			}
		}
		owned := make([]bool, len(g.PEL))
		nc, err := r.count(10)
		if err != nil {
			return Object{}, err
		}
		cnames := map[string]bool{}
		g.Consumers = make([]StreamConsumer, 0, nc)
		for range nc {
			var c StreamConsumer
			if c.Name, err = r.str(); err != nil {
				return Object{}, ErrFormat
			}
			if cnames[string(c.Name)] {
				return Object{}, ErrFormat // "Duplicate stream consumer detected."
			}
			cnames[string(c.Name)] = true
			if c.SeenTime, err = r.millis(); err != nil {
				return Object{}, err
			}
			n, err := r.count(16)
			if err != nil {
				return Object{}, err
			}
			c.PEL = make([]StreamID, 0, n)
			for range n {
				id, err := r.rawID()
				if err != nil {
					return Object{}, err
				}
				i, found := slices.BinarySearchFunc(g.PEL, id, func(nk StreamNACK, id StreamID) int { return cmpID(nk.ID, id) })
				if !found || owned[i] {
					return Object{}, ErrFormat // "Consumer entry not found in group global PEL", or a second owner
				}
				owned[i] = true
				c.PEL = append(c.PEL, id)
			}
			g.Consumers = append(g.Consumers, c)
		}
		if slices.Contains(owned, false) {
			return Object{}, ErrFormat // "Stream CG PEL entry without consumer"
		}
		s.Groups = append(s.Groups, g)
	}
	return Object{Kind: KindStream, Stream: s}, nil
}

func cmpID(a, b StreamID) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}
