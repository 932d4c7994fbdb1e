package dump

import (
	"bytes"
	"errors"
	"math"
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// fromEntry turns a copied value into an rdb.Object, by type. enc is the
// value in the compact layout (a copy made under the lock), big whether
// it was stored in the big encoding, tag the entry's Enc.
var fromEntry = map[shard.Type]func(enc []byte, big bool, tag uint8) (rdb.Object, error){
	shard.TypeString: func(enc []byte, _ bool, _ uint8) (rdb.Object, error) {
		return rdb.Object{Kind: rdb.KindString, Str: enc}, nil
	},
	shard.TypeList: func(enc []byte, _ bool, _ uint8) (rdb.Object, error) {
		o := rdb.Object{Kind: rdb.KindList, Elems: make([][]byte, 0, value.ListLen(enc))}
		it := value.ListElems(enc)
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			o.Elems = append(o.Elems, e)
		}
		return o, it.Err()
	},
	shard.TypeSet: func(enc []byte, big bool, tag uint8) (rdb.Object, error) {
		o := rdb.Object{Kind: rdb.KindSet, Compact: !big && tag == value.SetTagIntset, Elems: make([][]byte, 0, value.SetLen(enc))}
		it := value.SetMembers(enc)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			o.Elems = append(o.Elems, m)
		}
		return o, it.Err()
	},
	shard.TypeHash: func(enc []byte, big bool, _ uint8) (rdb.Object, error) {
		o := rdb.Object{Kind: rdb.KindHash, Compact: !big, Elems: make([][]byte, 0, 2*value.HashLen(enc))}
		it := value.HashFields(enc)
		for f, v, ok := it.Next(); ok; f, v, ok = it.Next() {
			o.Elems = append(o.Elems, f, v)
		}
		return o, it.Err()
	},
	shard.TypeZSet: func(enc []byte, big bool, _ uint8) (rdb.Object, error) {
		ms, err := value.ZSetDecode(nil, enc)
		o := rdb.Object{Kind: rdb.KindZSet, Compact: !big, Elems: make([][]byte, len(ms)), Scores: make([]float64, len(ms))}
		for i, m := range ms {
			o.Elems[i], o.Scores[i] = m.Member, m.Score
		}
		return o, err
	},
}

// cmdDump: DUMP key -> the payload, or nil for a missing key.
func cmdDump(c *command.Ctx, args [][]byte) {
	var (
		cp    Copied
		t     shard.Type
		known bool
	)
	// A copy under the lock (CopyEntry, as snapshots take it), encoded
	// (LZF included) after it.
	found := c.Part.View(c.DB, args[1], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		t = e.Type
		_, cp, known = CopyEntry(nil, e)
	})
	if !found {
		c.W.WriteNull()
		return
	}
	if !known {
		c.W.WriteError(command.ErrUnsupportedDump(t.String()))
		return
	}
	b, err := encodeCopied(c.Scratch[:0], cp, rdb.Options{NodeFill: c.Limits().ListFill})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteBulk(b)
}

// restoreArgs are RESTORE's options.
type restoreArgs struct {
	replace, absTTL bool
	ttl             int64
	idle            int64 // IDLETIME, seconds; -1 without
}

// parseRestoreOptions parses REPLACE ABSTTL IDLETIME s FREQ f as
// restoreCommand does (IDLETIME and FREQ exclude each other: the second
// is a syntax error); on bad input it writes the error.
func parseRestoreOptions(c *command.Ctx, args [][]byte) (restoreArgs, bool) {
	ra := restoreArgs{idle: -1}
	freq := int64(-1)
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case command.EqFold(args[j], "replace"):
			ra.replace = true
		case command.EqFold(args[j], "absttl"):
			ra.absTTL = true
		case command.EqFold(args[j], "idletime") && more >= 1 && freq == -1:
			n, ok := command.ParseInt(args[j+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return ra, false
			}
			if n < 0 {
				c.W.WriteError(command.ErrInvalidIdletime)
				return ra, false
			}
			ra.idle = n
			j++
		case command.EqFold(args[j], "freq") && more >= 1 && ra.idle == -1:
			n, ok := command.ParseInt(args[j+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return ra, false
			}
			if n < 0 || n > 255 {
				c.W.WriteError(command.ErrInvalidFreq)
				return ra, false
			}
			freq = n
			j++
		default:
			c.W.WriteError(command.ErrSyntax)
			return ra, false
		}
	}
	return ra, true
}

var errBusy = command.ReplyErr(command.ErrBusyKey)

// cmdRestore: RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s]
// [FREQ f] -> OK. Checks in restoreCommand's order: options, an existing
// key without REPLACE (BUSYKEY), the TTL, the payload's footer, the value.
func cmdRestore(c *command.Ctx, args [][]byte) {
	ra, ok := parseRestoreOptions(c, args)
	if !ok {
		return
	}
	key := args[1]
	if !ra.replace && c.Part.View(c.DB, key, 0, nil) {
		c.W.WriteError(command.ErrBusyKey)
		return
	}
	ttl, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if ttl < 0 {
		c.W.WriteError(command.ErrInvalidTTL)
		return
	}
	// The retention cap (max_ttl): ttl 0 is a write without a TTL (it gets
	// the tier's default, the partition caps it); a longer explicit TTL is
	// refused under the refuse policy, before the payload is decoded.
	if ttl != 0 {
		at := ttl
		if !ra.absTTL {
			at = ttl + c.NowMs() // past MaxInt64 it wraps into the past, as below
		}
		if msg := c.RetentionErr(at, "restore"); msg != "" {
			c.W.WriteError(msg)
			return
		}
	}
	var charged int64
	defer func() {
		if charged > 0 {
			c.Conn.Transient(-charged)
		}
	}()
	o, err := rdb.Decode(args[3], func(n int) bool {
		if !c.Conn.Transient(int64(n)) {
			return false
		}
		charged += int64(n)
		return true
	})
	var unsupported *rdb.UnsupportedError
	switch {
	case err == rdb.ErrChecksum:
		c.W.WriteError(command.ErrDumpPayload)
		return
	case err == rdb.ErrTooBig:
		c.W.WriteError(c.Conn.ClientOOM())
		return
	case errors.As(err, &unsupported):
		c.W.WriteError(command.ErrUnsupportedPayload(unsupported.Name))
		return
	case err != nil:
		c.W.WriteError(command.ErrBadDataFormat)
		return
	}
	conv := toEntry[o.Kind]
	if conv == nil {
		c.W.WriteError(command.ErrBadDataFormat)
		return
	}
	e, err := conv(c.Limits(), &o)
	if err != nil {
		c.W.WriteError(command.ErrBadDataFormat)
		return
	}
	now := c.NowMs()
	switch {
	case ttl == 0:
		e.ExpireAt = c.DefaultExpire(now)
	case !ra.absTTL:
		// Wraps past MaxInt64 into the past, as Redis 7.0's ttl+=mstime()
		// does (the key is then already expired).
		ttl += now
		e.ExpireAt = ttl
	default:
		e.ExpireAt = ttl
	}
	expired := ttl != 0 && ttl <= now
	stored := false
	err = c.Part.Apply([]shard.Key{{DB: c.DB, Name: key}}, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		stored = false
		switch {
		case exists[0] && !ra.replace:
			return nil, nil, errBusy
		case expired:
			// Already expired: only the old key goes (REPLACE), as Redis.
			return cur, []shard.Action{shard.Delete}, nil
		}
		stored = true
		return []shard.Entry{e}, []shard.Action{shard.Put}, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if stored && ra.idle >= 0 {
		// IDLETIME sets the key's access clock (objectSetLRUOrLFU; a
		// tenant's policy is LRU). Another command of the tenant may
		// touch the key between the two steps, as if it ran just after.
		c.Part.SetIdle(c.DB, key, ra.idle)
	}
	// A restored list or sorted set wakes blocked pops, a stream blocked
	// XREAD/XREADGROUP readers (dbAdd's signalKeyAsReady).
	c.SignalDB(c.DB, key, stored && (command.Poppable(e.Type) || e.Type == shard.TypeStream))
	c.W.WriteString("OK")
}

func rid(id value.StreamID) rdb.StreamID { return rdb.StreamID{Ms: id.Ms, Seq: id.Seq} }
func vid(id rdb.StreamID) value.StreamID { return value.StreamID{Ms: id.Ms, Seq: id.Seq} }

// streamObject is s's rdb form; its strings alias s.
func streamObject(s *value.Stream) rdb.Object {
	o := &rdb.Stream{
		Length: uint64(s.Len()), LastID: rid(s.LastID()), FirstID: rid(s.FirstID()),
		MaxDeleted: rid(s.MaxDeletedID()), EntriesAdded: uint64(s.EntriesAdded()),
		Nodes: make([][]rdb.StreamEntry, 0, s.Nodes()),
	}
	s.Walk(func(node int, id value.StreamID, deleted bool, rec []byte) {
		if node == len(o.Nodes) {
			o.Nodes = append(o.Nodes, nil)
		}
		e := rdb.StreamEntry{ID: rid(id), Deleted: deleted, Pairs: make([][]byte, 0, 2*value.StreamFieldCount(rec))}
		value.StreamFields(rec, func(f, v []byte) { e.Pairs = append(e.Pairs, f, v) })
		o.Nodes[node] = append(o.Nodes[node], e)
	})
	for _, g := range s.Groups() {
		rg := rdb.StreamGroup{Name: []byte(g.Name), LastID: rid(g.LastID), EntriesRead: g.EntriesRead}
		g.PEL(value.StreamID{}, func(id value.StreamID, nk *value.StreamNACK) bool {
			rg.PEL = append(rg.PEL, rdb.StreamNACK{ID: rid(id), DeliveryTime: nk.DeliveryTime, DeliveryCount: uint64(nk.DeliveryCount)})
			return true
		})
		for _, c := range g.Consumers() {
			rc := rdb.StreamConsumer{Name: []byte(c.Name), SeenTime: c.SeenTime}
			c.PEL(value.StreamID{}, func(id value.StreamID, _ *value.StreamNACK) bool {
				rc.PEL = append(rc.PEL, rid(id))
				return true
			})
			rg.Consumers = append(rg.Consumers, rc)
		}
		o.Groups = append(o.Groups, rg)
	}
	return rdb.Object{Kind: rdb.KindStream, Stream: o}
}

// streamFrom rebuilds a decoded stream (rdb.Decode checked its
// consistency); the bytes are copied.
func streamFrom(o *rdb.Stream) *value.Stream {
	s := value.NewStream()
	for _, node := range o.Nodes {
		for i, e := range node {
			s.Load(vid(e.ID), e.Pairs, i == 0, e.Deleted) // copied into the node
		}
	}
	s.SetLoaded(vid(o.FirstID), vid(o.LastID), vid(o.MaxDeleted), int64(o.EntriesAdded))
	for _, rg := range o.Groups {
		if o.Legacy { // a payload from before 7.0, as rdbLoadObject derives it
			rg.EntriesRead = s.EstimateDistance(vid(rg.LastID))
		}
		g := s.CreateGroup(rg.Name, vid(rg.LastID), rg.EntriesRead)
		for _, nk := range rg.PEL {
			n := s.ForceNACK(g, vid(nk.ID))
			n.DeliveryTime, n.DeliveryCount = nk.DeliveryTime, int64(nk.DeliveryCount)
		}
		for _, rc := range rg.Consumers {
			c := s.CreateConsumer(g, rc.Name, rc.SeenTime)
			for _, id := range rc.PEL {
				s.Claim(g.NACK(vid(id)), vid(id), c)
			}
		}
	}
	return s
}

// toEntry builds the entry a restored Object is stored as, by kind: the
// compact encoding within lim, else the big one. The bytes are copied out
// of the payload.
var toEntry = map[rdb.Kind]func(lim value.Limits, o *rdb.Object) (shard.Entry, error){
	rdb.KindStream: func(_ value.Limits, o *rdb.Object) (shard.Entry, error) {
		return shard.Entry{Obj: streamFrom(o.Stream), Type: shard.TypeStream}, nil
	},
	rdb.KindString: func(_ value.Limits, o *rdb.Object) (shard.Entry, error) {
		if len(o.Str) > command.MaxStringLen {
			return shard.Entry{}, rdb.ErrFormat
		}
		return shard.Entry{Value: bytes.Clone(o.Str), Type: shard.TypeString}, nil
	},
	rdb.KindList: func(lim value.Limits, o *rdb.Object) (shard.Entry, error) {
		size := 0
		for _, e := range o.Elems {
			size += len(e) + 10
		}
		enc := value.ListAppendHeader(make([]byte, 0, size+10), len(o.Elems))
		for _, e := range o.Elems {
			enc = value.ListAppendElem(enc, e)
		}
		if lim.ListCompact(len(o.Elems), len(enc)) {
			return shard.Entry{Value: enc, Type: shard.TypeList}, nil
		}
		q, err := value.QuickListFrom(enc, lim.ListFill)
		return shard.Entry{Obj: q, Type: shard.TypeList}, err
	},
	rdb.KindSet: func(lim value.Limits, o *rdb.Object) (shard.Entry, error) {
		members := value.SortMembers(o.Elems)
		if len(members) != len(o.Elems) {
			return shard.Entry{}, rdb.ErrFormat // "Duplicate set members detected"
		}
		tag, ok := lim.SetCompactTag(value.SetTagIntset, len(members), members, value.AllInts(members))
		if !ok {
			t, err := value.SetTableFrom(nil, members)
			return shard.Entry{Obj: t, Type: shard.TypeSet}, err
		}
		return shard.Entry{Value: value.SetEncode(nil, members), Type: shard.TypeSet, Enc: tag}, nil
	},
	rdb.KindHash: func(lim value.Limits, o *rdb.Object) (shard.Entry, error) {
		n := len(o.Elems) / 2
		fields, values := make([][]byte, n), make([][]byte, n)
		size := 0
		for i := 0; i < n; i++ {
			fields[i], values[i] = o.Elems[2*i], o.Elems[2*i+1]
			size += len(fields[i]) + len(values[i]) + 20
		}
		if len(value.SortMembers(fields)) != n {
			return shard.Entry{}, rdb.ErrFormat // "Duplicate hash fields detected"
		}
		enc := value.HashAppendHeader(make([]byte, 0, size+10), n)
		for i := range fields {
			enc = value.HashAppendPair(enc, fields[i], values[i])
		}
		if !lim.HashTooLong(n) && !lim.HashNeedsTable(fields, values) {
			return shard.Entry{Value: enc, Type: shard.TypeHash}, nil
		}
		t, err := value.HashTableFrom(enc)
		return shard.Entry{Obj: t, Type: shard.TypeHash}, err
	},
	rdb.KindZSet: func(lim value.Limits, o *rdb.Object) (shard.Entry, error) {
		ms := make([]value.ZMember, len(o.Elems))
		size, long := 0, false
		for i, m := range o.Elems {
			s := o.Scores[i]
			if math.IsNaN(s) {
				return shard.Entry{}, rdb.ErrFormat
			}
			if s == 0 {
				s = 0 // -0 is stored as 0
			}
			ms[i] = value.ZMember{Member: m, Score: s}
			size += len(m) + 20
			long = long || int64(len(m)) > lim.ZSetValue
		}
		if len(value.SortMembers(o.Elems)) != len(o.Elems) {
			return shard.Entry{}, rdb.ErrFormat // "Duplicate zset fields detected"
		}
		slices.SortFunc(ms, value.ZCompare)
		enc := value.ZSetAppendHeader(make([]byte, 0, size+10), len(ms))
		for _, m := range ms {
			enc = value.ZSetAppendMember(enc, m)
		}
		if int64(len(ms)) <= lim.ZSetEntries && !long {
			return shard.Entry{Value: enc, Type: shard.TypeZSet}, nil
		}
		t, err := value.ZSetTreeFrom(enc)
		return shard.Entry{Obj: t, Type: shard.TypeZSet}, err
	},
}
