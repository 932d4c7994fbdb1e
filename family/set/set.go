// Package set serves the set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
// SRANDMEMBER SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN
// SMOVE, with Redis 7's semantics, replies and error strings.
//
// A set is one entry of type shard.TypeSet in one of two encodings. While
// small it is compact (value/set.go: sorted members in one buffer,
// rewritten per write): while every member is an integer and there are at
// most set-max-intset-entries (Redis's intset), or, once it has held a
// string, while it has at most set-max-listpack-entries members none
// longer than set-max-listpack-value (Redis 7.2's listpack set). Past that
// it is a value.SetTable (Redis's hashtable: O(1) per member), for good.
// The thresholds are the tenant's (Ctx.Limits, CONFIG SET).
//
// OBJECT ENCODING answers what Redis 7.0 would: "intset" for a compact set
// of integers, "hashtable" otherwise, a compact set of strings included
// (7.0 has no listpack sets; it converts an intset to a hash table on the
// first string, which the compact set's tag, value.SetTagListpack,
// remembers even when the strings are removed again).
//
// Single-key writes go through command.CollWrite (a compact set rebuilt and
// Put, or converted; a table changed in place by an edit whose growth is
// reserved first), reads through setsView. Multi-key commands (SINTER,
// SUNION, SDIFF, their STORE forms, SMOVE) run in one Partition.Apply
// (SMOVE: ApplyEdit), which locks the sub-shards of all their keys: they
// see one consistent state of every key and apply their writes all or
// nothing. They use the caller's partition, so they can only ever name keys
// of the caller's tenant.
//
// Replies: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count are sets
// (`~` in RESP3, arrays in RESP2), as in Redis 7; SRANDMEMBER with a count
// is an array (it may repeat members). A compact set's members come in
// bytewise order, a table's in hash order (SPOP and SRANDMEMBER pick at
// random); Redis's order is unspecified too.
package set

import (
	"math"
	"math/rand/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

func setsView(c *command.Ctx, key []byte, fn func(s value.SetView)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeSet, func(e shard.Entry) { fn(value.ViewSet(e.Value, e.Obj)) })
}

// setsCopy copies the whole set, in the compact layout, into the client's
// scratch buffer (for replies that list it). ok is false when a reply was
// already written (WRONGTYPE) or the key is missing.
func setsCopy(c *command.Ctx, key []byte) (enc []byte, found, ok bool) {
	found, wrong := setsView(c, key, func(s value.SetView) { enc = s.AppendList(c.Scratch[:0]) })
	if wrong {
		return nil, true, false
	}
	return enc, found, found
}

// writeSetEnc writes the members of a set in the compact layout as a set
// reply.
func writeSetEnc(c *command.Ctx, enc []byte) {
	c.W.WriteSet(value.SetLen(enc))
	it := value.SetMembers(enc)
	i := 0
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if i++; i&command.ReplyYieldEvery == 0 {
			c.Yield() // a big SMEMBERS (fair.go, "Long commands")
		}
		c.W.WriteBulk(m)
	}
}

// addSmall adds members to the compact set cur (tag: its Enc; nil for a
// new set) and returns the next encoding and tag, or the set converted to
// a table when it no longer fits (value.Limits.SetCompactTag).
func addSmall(lim value.Limits, dst, cur []byte, exists bool, tag uint8, members [][]byte) (next []byte, nextTag uint8, t *value.SetTable, added int, err error) {
	if !exists {
		tag = value.SetTagIntset
	}
	next, added, err = value.SetAdd(dst, cur, members)
	if err != nil || added == 0 {
		return next, tag, nil, added, err
	}
	allInts := tag == value.SetTagIntset && value.AllInts(members)
	if nextTag, ok := lim.SetCompactTag(tag, value.SetLen(next), members, allInts); ok {
		return next, nextTag, nil, added, nil
	}
	t, err = value.SetTableFrom(cur, members)
	return next, 0, t, added, err
}

// cmdSAdd: SADD key member [member ...] -> members added.
func cmdSAdd(c *command.Ctx, args [][]byte) {
	members := args[2:]
	lim := c.Limits()
	added := 0
	err := command.CollWrite(c, args[1], shard.TypeSet,
		func(dst, cur []byte, exists bool, tag uint8) ([]byte, uint8, shard.Object, bool, error) {
			next, nextTag, t, n, err := addSmall(lim, dst, cur, exists, tag, members)
			added = n
			if t != nil {
				return next, 0, t, true, err
			}
			return next, nextTag, nil, n > 0, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			grow, n := obj.(*value.SetTable).PlanAdd(members)
			added = n
			return grow, n > 0, false, nil
		},
		func(obj shard.Object) { obj.(*value.SetTable).Add(members) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(added)
}

// cmdSRem: SREM key member [member ...] -> members removed; the key is
// deleted with its last member.
func cmdSRem(c *command.Ctx, args [][]byte) {
	members := args[2:]
	removed := 0
	err := command.CollWrite(c, args[1], shard.TypeSet,
		func(dst, cur []byte, exists bool, tag uint8) ([]byte, uint8, shard.Object, bool, error) {
			removed = 0
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, n, err := value.SetRem(dst, cur, members)
			removed = n
			return next, tag, nil, n > 0, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.SetTable)
			removed = t.PlanRem(members)
			return 0, removed > 0, removed == t.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.SetTable).Rem(members) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

// cmdSMembers: SMEMBERS key -> a set (empty for a missing key).
func cmdSMembers(c *command.Ctx, args [][]byte) {
	enc, found, ok := setsCopy(c, args[1])
	if !ok {
		if !found {
			c.W.WriteSet(0)
		}
		return
	}
	writeSetEnc(c, enc)
	c.KeepScratch(enc)
}

// cmdSIsMember: SISMEMBER key member -> 1 or 0.
func cmdSIsMember(c *command.Ctx, args [][]byte) {
	has := false
	if _, wrong := setsView(c, args[1], func(s value.SetView) { has = s.Has(args[2]) }); wrong {
		return
	}
	c.W.WriteInt(command.B2i(has))
}

// cmdSMIsMember: SMISMEMBER key member [member ...] -> 1 or 0 per member.
func cmdSMIsMember(c *command.Ctx, args [][]byte) {
	has := make([]bool, len(args)-2)
	if _, wrong := setsView(c, args[1], func(s value.SetView) {
		for i, m := range args[2:] {
			has[i] = s.Has(m)
		}
	}); wrong {
		return
	}
	c.W.WriteArray(len(has))
	for _, h := range has {
		c.W.WriteInt(command.B2i(h))
	}
}

// cmdSCard: SCARD key -> number of members.
func cmdSCard(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := setsView(c, args[1], func(s value.SetView) { n = s.Len() }); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdSPop: SPOP key [count]. Without count: a random member removed, or
// nil. With count (>= 0): up to count distinct random members removed,
// as a set; the key is deleted with its last member.
func cmdSPop(c *command.Ctx, args [][]byte) {
	if len(args) > 3 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	withCount := len(args) == 3
	count := int64(1)
	if withCount {
		n, ok := command.ParseInt(args[2])
		if !ok || n < 0 { // Redis answers one message for both
			c.W.WriteError(command.ErrMustBePositive)
			return
		}
		count = n
	}
	var out []byte    // the popped members, in the compact layout, on c.Scratch
	var pick [][]byte // the same members (slices of out), for a table's commit
	err := command.CollWrite(c, args[1], shard.TypeSet,
		func(dst, cur []byte, exists bool, tag uint8) ([]byte, uint8, shard.Object, bool, error) {
			out = nil
			if !exists || count == 0 {
				return nil, 0, nil, false, nil
			}
			size := value.SetLen(cur)
			if count >= int64(size) {
				out = append(c.Scratch[:0], cur...)
				return value.SetEncode(dst, nil), tag, nil, true, nil // empty: deleted
			}
			all, err := value.SetSlice(nil, cur)
			if err != nil {
				return nil, 0, nil, false, err
			}
			// Partial Fisher-Yates: count distinct members.
			for i := range int(count) {
				j := i + rand.IntN(size-i)
				all[i], all[j] = all[j], all[i]
			}
			picked := value.SortMembers(all[:count])
			out = value.SetEncode(c.Scratch[:0], picked)
			next, _, err := value.SetRem(dst, cur, picked)
			return next, tag, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.SetTable)
			out = nil
			if count == 0 {
				return 0, false, false, nil
			}
			if count >= int64(t.Len()) {
				out = t.AppendList(c.Scratch[:0])
				return 0, true, true, nil
			}
			out = sample(c.Scratch[:0], t, int(count))
			pick, _ = value.SetSlice(pick[:0], out)
			return 0, true, false, nil
		},
		func(obj shard.Object) { obj.(*value.SetTable).Rem(pick) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	if !withCount {
		if out == nil {
			c.W.WriteNull()
			return
		}
		it := value.SetMembers(out)
		m, _ := it.Next()
		c.W.WriteBulk(m)
		c.KeepScratch(out)
		return
	}
	if out == nil {
		c.W.WriteSet(0)
		return
	}
	writeSetEnc(c, out)
	c.KeepScratch(out)
}

// sample appends n distinct random members of t, in the compact layout
// (unsorted). For n up to a third of t it draws at random and skips
// repeats; for more it copies t and shuffles (as Redis switches strategy).
func sample(dst []byte, t *value.SetTable, n int) []byte {
	if n*3 >= t.Len() {
		all, _ := value.SetSlice(nil, t.AppendList(nil))
		for i := range n {
			j := i + rand.IntN(len(all)-i)
			all[i], all[j] = all[j], all[i]
		}
		dst = value.SetAppendHeader(dst, n)
		for _, m := range all[:n] {
			dst = value.SetAppendMember(dst, m)
		}
		return dst
	}
	seen := make(map[string]struct{}, n)
	dst = value.SetAppendHeader(dst, n)
	for len(seen) < n {
		m := t.Random()
		if _, dup := seen[string(m)]; dup {
			continue
		}
		seen[string(m)] = struct{}{}
		dst = value.SetAppendMember(dst, m)
	}
	return dst
}

// cmdSRandMember: SRANDMEMBER key [count]. Without count: one random
// member or nil. count > 0: up to count distinct members (the whole set
// when count >= its size); count < 0: -count members that may repeat,
// bounded like HRANDFIELD's repeating form (randReplyFits). A table is
// sampled under the lock, O(count).
func cmdSRandMember(c *command.Ctx, args [][]byte) {
	if len(args) > 3 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	if len(args) == 2 {
		var m []byte
		found, wrong := setsView(c, args[1], func(s value.SetView) {
			if s.Tab != nil {
				m = append(c.Scratch[:0], s.Tab.Random()...)
				return
			}
			all, _ := value.SetSlice(nil, s.Enc)
			if len(all) > 0 {
				m = append(c.Scratch[:0], all[rand.IntN(len(all))]...)
			}
		})
		switch {
		case wrong:
		case !found || m == nil:
			c.W.WriteNull()
		default:
			c.W.WriteBulk(m)
			c.KeepScratch(m)
		}
		return
	}
	l, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		c.W.WriteError(command.ErrRangeNotMinInt)
		return
	}
	var enc []byte
	sampled, tooLarge := false, false
	found, wrong := setsView(c, args[1], func(s value.SetView) {
		size := s.Len()
		switch {
		case s.Tab == nil || l == 0 || l > 0 && l*3 >= int64(size):
			enc = s.AppendList(c.Scratch[:0])
		case l > 0:
			sampled = true
			enc = sample(c.Scratch[:0], s.Tab, int(l))
		default:
			avg := int(s.Tab.Bytes() / int64(max(size, 1)))
			if tooLarge = !c.RandReplyFits(-l, 2*avg, false); tooLarge {
				return
			}
			sampled = true
			enc = value.SetAppendHeader(c.Scratch[:0], int(-l))
			for range -l {
				enc = value.SetAppendMember(enc, s.Tab.Random())
			}
		}
	})
	if wrong {
		return
	}
	if !found {
		c.W.WriteArray(0)
		return
	}
	defer c.KeepScratch(enc)
	if tooLarge {
		c.W.WriteError(command.ErrSRandTooLarge)
		return
	}
	all, err := value.SetSlice(nil, enc)
	if err != nil {
		c.StoreErr(err)
		return
	}
	size := len(all)
	switch {
	case l == 0 || size == 0:
		c.W.WriteArray(0)
	case sampled:
		c.W.WriteArray(size)
		for _, m := range all {
			c.W.WriteBulk(m)
		}
	case l > 0:
		n := size
		if l < int64(size) {
			n = int(l)
			for i := range n {
				j := i + rand.IntN(size-i)
				all[i], all[j] = all[j], all[i]
			}
		}
		c.W.WriteArray(n)
		for _, m := range all[:n] {
			c.W.WriteBulk(m)
		}
	default:
		count := -l
		if !c.RandReplyFits(count, 2*(len(enc)/size), false) {
			c.W.WriteError(command.ErrSRandTooLarge)
			return
		}
		c.W.WriteArray(int(count))
		for range count {
			c.W.WriteBulk(all[rand.IntN(size)])
			if c.Conn.WriteErr() != nil {
				return // the connection is dead: stop producing
			}
		}
	}
}

// cmdSMove: SMOVE source destination member -> 1 if moved, 0 if member is
// not in source. A missing source answers 0 whatever the destination
// holds; otherwise both keys must hold sets (WRONGTYPE). The source is
// deleted with its last member; a new destination gets the tier's default
// TTL, an existing one keeps its own. Source == destination: 1 if member
// is in it, nothing changes. A table on either side is edited in place
// (ApplyEdit: the destination's growth is reserved before the commit).
func cmdSMove(c *command.Ctx, args [][]byte) {
	member := args[3]
	one := [][]byte{member}
	keys := []shard.Key{{DB: c.DB, Name: args[1]}, {DB: c.DB, Name: args[2]}}
	bufs := [2]*[]byte{command.EncBufs.Get().(*[]byte), command.EncBufs.Get().(*[]byte)}
	defer func() {
		for _, bp := range bufs {
			if cap(*bp) <= command.MaxPooled {
				*bp = (*bp)[:0]
				command.EncBufs.Put(bp)
			}
		}
	}()
	lim := c.Limits()
	moved := false
	var edits [2]*value.SetTable // the tables the commit changes: source, destination
	now := c.NowMs()
	same := string(args[1]) == string(args[2])
	err := c.Part.ApplyEdit(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		moved, edits = false, [2]*value.SetTable{}
		next := make([]shard.Entry, 2)
		acts := make([]shard.Action, 2) // Keep
		if !exists[0] {
			return next, acts, nil
		}
		if cur[0].Type != shard.TypeSet || exists[1] && cur[1].Type != shard.TypeSet {
			return nil, nil, command.ErrWrongTypeAbort
		}
		src := value.ViewSet(cur[0].Value, cur[0].Obj)
		if !src.Has(member) {
			return next, acts, nil
		}
		moved = true
		if same {
			return next, acts, nil
		}
		switch {
		case src.Len() == 1:
			acts[0] = shard.Delete
		case src.Tab != nil:
			edits[0], acts[0] = src.Tab, shard.Edit
		default:
			enc, _, err := value.SetRem((*bufs[0])[:0], src.Enc, one)
			if err != nil {
				return nil, nil, err
			}
			*bufs[0] = enc[:0]
			next[0] = shard.Entry{Value: enc, ExpireAt: cur[0].ExpireAt, Type: shard.TypeSet, Enc: cur[0].Enc}
			acts[0] = shard.Put
		}
		dst := value.ViewSet(cur[1].Value, cur[1].Obj)
		switch {
		case exists[1] && dst.Has(member):
		case dst.Tab != nil:
			grow, _ := dst.Tab.PlanAdd(one)
			edits[1], next[1], acts[1] = dst.Tab, shard.Entry{Grow: grow}, shard.Edit
		default:
			enc, tag, t, _, err := addSmall(lim, (*bufs[1])[:0], cur[1].Value, exists[1], cur[1].Enc, one)
			if err != nil {
				return nil, nil, err
			}
			*bufs[1] = enc[:0]
			expireAt := cur[1].ExpireAt
			if !exists[1] {
				expireAt = c.DefaultExpire(now)
			}
			if t != nil {
				next[1] = shard.Entry{Obj: t, ExpireAt: expireAt, Type: shard.TypeSet}
			} else {
				next[1] = shard.Entry{Value: enc, ExpireAt: expireAt, Type: shard.TypeSet, Enc: tag}
			}
			acts[1] = shard.Put
		}
		return next, acts, nil
	}, func() {
		if edits[0] != nil {
			edits[0].Rem(one)
		}
		if edits[1] != nil {
			edits[1].Add(one)
		}
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(moved))
}

// cmdSScan: SSCAN key cursor [MATCH pattern] [COUNT count]. A compact set
// of up to value.SetScanAll members is returned whole with cursor 0, as
// Redis does for a small set; a larger one, and a table, is paged in hash
// order (value.SetScan and value.SetTable.Scan share the cursor, so the
// scan survives a conversion between two calls).
func cmdSScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	var enc []byte
	big := false
	found, wrong := setsView(c, args[1], func(s value.SetView) {
		if big = s.Tab != nil; !big {
			enc = s.AppendList(c.Scratch[:0])
		}
	})
	if wrong {
		return
	}
	if !found {
		command.MissEmptyScan(c, args)
		return
	}
	defer c.KeepScratch(enc)
	match, count, ok := command.ScanOptions(c, args, 3, 10, nil)
	if !ok {
		return
	}
	var out [][]byte
	add := func(m []byte) {
		if match == nil || match(m) {
			out = append(out, m)
		}
	}
	var next uint64
	if big {
		var page []byte
		page, next = setScanStep(c, args[1], cursor, count)
		it := value.SetMembers(page)
		for m, more := it.Next(); more; m, more = it.Next() {
			add(m)
		}
		enc = page
	} else {
		var err error
		if next, err = value.SetScan(enc, cursor, count, add); err != nil {
			c.StoreErr(err)
			return
		}
	}
	command.WriteScanReply(c.W, next, out)
}

// setScanStep runs one SSCAN step over the set at key under the lock and
// returns the members given, in the compact layout, and the next cursor.
// A key that changed type or went away since answers an empty last step.
func setScanStep(c *command.Ctx, key []byte, cursor uint64, count int) (page []byte, next uint64) {
	var got [][]byte
	c.Part.View(c.DB, key, 0, func(e shard.Entry) {
		if e.Type != shard.TypeSet {
			return
		}
		s := value.ViewSet(e.Value, e.Obj)
		collect := func(m []byte) { got = append(got, m) }
		if s.Tab == nil {
			next, _ = value.SetScan(s.Enc, cursor, count, collect)
		} else {
			next = s.Tab.Scan(cursor, count, collect)
		}
		page = appendList(c.Scratch[:0], got)
	})
	if page == nil {
		return value.SetAppendHeader(nil, 0), 0
	}
	return page, next
}

// missSMIsMember is SMISMEMBER's shed-read answer: 0 per member.
func missSMIsMember(c *command.Ctx, args [][]byte) {
	c.W.WriteArray(len(args) - 2)
	for range args[2:] {
		c.W.WriteInt(0)
	}
}
