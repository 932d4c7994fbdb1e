// Package set serves the set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
// SRANDMEMBER SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN
// SMOVE, with Redis 7's semantics, replies and error strings.
//
// A set is one entry of type shard.TypeSet whose value is the sorted
// encoding of value/set.go, following the hash pattern (package hash):
// single-key writes go through setsUpdate (one Partition.Mutate), reads
// through setsView. Multi-key commands (SINTER, SUNION, SDIFF, their STORE
// forms, SMOVE) run in one Partition.Apply, which locks the sub-shards of
// all their keys: they see one consistent state of every key and apply
// their writes all or nothing. They use the caller's partition, so they
// can only ever name keys of the caller's tenant.
//
// Replies: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count are sets
// (`~` in RESP3, arrays in RESP2), as in Redis 7; SRANDMEMBER with a count
// is an array (it may repeat members). Members come in bytewise order
// (SPOP and SRANDMEMBER pick at random).
package set

import (
	"math"
	"math/rand/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// setsUpdate changes the set at key, like hashUpdate: build gets the
// current encoding (nil when the key is missing) and a pooled buffer to
// append the next one to, and returns it with whether anything changed.
// build may run more than once and must only record results. A key of
// another type is WRONGTYPE; a set left empty is deleted; a new set gets
// the tier's default TTL and an existing one keeps its TTL.

func setsUpdate(c *command.Ctx, key []byte, build command.BuildFn) error {
	return command.CollUpdate(c, key, shard.TypeSet, build)
}
func setsView(c *command.Ctx, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return command.CollView(c, key, shard.TypeSet, fn)
}
func setsCopy(c *command.Ctx, key []byte) (enc []byte, found, ok bool) {
	return command.CollCopy(c, key, shard.TypeSet)
}

// writeSetEnc writes the members of an encoded set as a set reply.
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

// cmdSAdd: SADD key member [member ...] -> members added.
func cmdSAdd(c *command.Ctx, args [][]byte) {
	command.CountUpdate(c, args[1], shard.TypeSet, true, func(dst, cur []byte) ([]byte, int, error) {
		return value.SetAdd(dst, cur, args[2:])
	})
}

// cmdSRem: SREM key member [member ...] -> members removed; the key is
// deleted with its last member.
func cmdSRem(c *command.Ctx, args [][]byte) {
	command.CountUpdate(c, args[1], shard.TypeSet, false, func(dst, cur []byte) ([]byte, int, error) {
		return value.SetRem(dst, cur, args[2:])
	})
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
	if _, wrong := setsView(c, args[1], func(enc []byte) { has = value.SetHas(enc, args[2]) }); wrong {
		return
	}
	c.W.WriteInt(command.B2i(has))
}

// cmdSMIsMember: SMISMEMBER key member [member ...] -> 1 or 0 per member.
func cmdSMIsMember(c *command.Ctx, args [][]byte) {
	has := make([]bool, len(args)-2)
	if _, wrong := setsView(c, args[1], func(enc []byte) {
		for i, m := range args[2:] {
			has[i] = value.SetHas(enc, m)
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
	if _, wrong := setsView(c, args[1], func(enc []byte) { n = value.SetLen(enc) }); wrong {
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
		if !ok {
			c.W.WriteError(command.ErrNotInteger)
			return
		}
		if n < 0 {
			c.W.WriteError(command.ErrMustBePositive)
			return
		}
		count = n
	}
	var out []byte // the popped members, as a set encoding on c.Scratch
	err := setsUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		out = nil
		if !exists || count == 0 {
			return nil, false, nil
		}
		size := value.SetLen(cur)
		if count >= int64(size) {
			out = append(c.Scratch[:0], cur...)
			return value.SetEncode(dst, nil), true, nil // empty: deleted
		}
		all, err := value.SetSlice(nil, cur)
		if err != nil {
			return nil, false, err
		}
		// Partial Fisher-Yates: count distinct members.
		for i := range int(count) {
			j := i + rand.IntN(size-i)
			all[i], all[j] = all[j], all[i]
		}
		pick := value.SortMembers(all[:count])
		out = value.SetEncode(c.Scratch[:0], pick)
		next, _, err := value.SetRem(dst, cur, pick)
		return next, true, err
	})
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

// cmdSRandMember: SRANDMEMBER key [count]. Without count: one random
// member or nil. count > 0: up to count distinct members (the whole set
// when count >= its size); count < 0: -count members that may repeat,
// bounded like HRANDFIELD's repeating form (randReplyFits).
func cmdSRandMember(c *command.Ctx, args [][]byte) {
	if len(args) > 3 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	if len(args) == 2 {
		enc, found, ok := setsCopy(c, args[1])
		if !ok {
			if !found {
				c.W.WriteNull()
			}
			return
		}
		all, _ := value.SetSlice(nil, enc)
		if len(all) == 0 {
			c.W.WriteNull()
		} else {
			c.W.WriteBulk(all[rand.IntN(len(all))])
		}
		c.KeepScratch(enc)
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
	enc, found, ok := setsCopy(c, args[1])
	if !ok {
		if !found {
			c.W.WriteArray(0)
		}
		return
	}
	defer c.KeepScratch(enc)
	all, err := value.SetSlice(nil, enc)
	if err != nil {
		c.StoreErr(err)
		return
	}
	size := len(all)
	switch {
	case l == 0 || size == 0:
		c.W.WriteArray(0)
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

// setOp is the algebra of SINTER, SUNION and SDIFF.
type setOp func(dst []byte, sets [][]byte) ([]byte, error)

// setsAlgebra answers SINTER/SUNION/SDIFF (store false: keys at args[1:])
// and their STORE forms (destination args[1], keys at args[2:]) in one
// Apply. Every source key must hold a set or be missing (an empty set);
// the destination is overwritten whatever its type, gets the tier's
// default TTL, and is deleted when the result is empty.
func setsAlgebra(c *command.Ctx, args [][]byte, op setOp, store bool) {
	from := 1
	if store {
		from = 2
	}
	keys := make([]shard.Key, len(args)-1)
	for i, a := range args[1:] {
		keys[i] = shard.Key{DB: c.DB, Name: a}
	}
	bp := command.EncBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= command.MaxPooled {
			*bp = (*bp)[:0]
			command.EncBufs.Put(bp)
		}
	}()
	var res []byte
	now := c.NowMs()
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		sets := make([][]byte, 0, len(cur))
		for i := from - 1; i < len(cur); i++ {
			if exists[i] && cur[i].Type != shard.TypeSet {
				return nil, nil, command.ErrWrongTypeAbort
			}
			sets = append(sets, cur[i].Value) // nil for a missing key
		}
		var err error
		if res, err = op((*bp)[:0], sets); err != nil {
			return nil, nil, err
		}
		*bp = res[:0]
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur)) // Keep
		if store {
			if value.SetLen(res) == 0 {
				acts[0] = shard.Delete
			} else {
				next[0] = shard.Entry{Value: res, ExpireAt: c.DefaultExpire(now), Type: shard.TypeSet}
				acts[0] = shard.Put
			}
		}
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if store {
		c.W.WriteInt(value.SetLen(res))
		return
	}
	writeSetEnc(c, res)
}

// cmdSInter: SINTER key [key ...] -> the intersection, a set.
func cmdSInter(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetInter, false) }

// cmdSUnion: SUNION key [key ...] -> the union, a set.
func cmdSUnion(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetUnion, false) }

// cmdSDiff: SDIFF key [key ...] -> members of the first not in the others.
func cmdSDiff(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetDiff, false) }

// cmdSInterStore: SINTERSTORE destination key [key ...] -> result size.
func cmdSInterStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetInter, true) }

// cmdSUnionStore: SUNIONSTORE destination key [key ...] -> result size.
func cmdSUnionStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetUnion, true) }

// cmdSDiffStore: SDIFFSTORE destination key [key ...] -> result size.
func cmdSDiffStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, value.SetDiff, true) }

// cmdSMove: SMOVE source destination member -> 1 if moved, 0 if member is
// not in source. A missing source answers 0 whatever the destination
// holds; otherwise both keys must hold sets (WRONGTYPE). The source is
// deleted with its last member; a new destination gets the tier's default
// TTL, an existing one keeps its own. Source == destination: 1 if member
// is in it, nothing changes.
func cmdSMove(c *command.Ctx, args [][]byte) {
	member := args[3]
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
	moved := false
	now := c.NowMs()
	same := string(args[1]) == string(args[2])
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		moved = false
		next := make([]shard.Entry, 2)
		acts := make([]shard.Action, 2) // Keep
		if !exists[0] {
			return next, acts, nil
		}
		if cur[0].Type != shard.TypeSet || exists[1] && cur[1].Type != shard.TypeSet {
			return nil, nil, command.ErrWrongTypeAbort
		}
		if !value.SetHas(cur[0].Value, member) {
			return next, acts, nil
		}
		moved = true
		if same {
			return next, acts, nil
		}
		src, _, err := value.SetRem((*bufs[0])[:0], cur[0].Value, [][]byte{member})
		if err != nil {
			return nil, nil, err
		}
		*bufs[0] = src[:0]
		if value.SetLen(src) == 0 {
			acts[0] = shard.Delete
		} else {
			next[0] = shard.Entry{Value: src, ExpireAt: cur[0].ExpireAt, Type: shard.TypeSet}
			acts[0] = shard.Put
		}
		if !exists[1] || !value.SetHas(cur[1].Value, member) {
			dst, _, err := value.SetAdd((*bufs[1])[:0], cur[1].Value, [][]byte{member})
			if err != nil {
				return nil, nil, err
			}
			*bufs[1] = dst[:0]
			expireAt := cur[1].ExpireAt
			if !exists[1] {
				expireAt = c.DefaultExpire(now)
			}
			next[1] = shard.Entry{Value: dst, ExpireAt: expireAt, Type: shard.TypeSet}
			acts[1] = shard.Put
		}
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(moved))
}

// cmdSScan: SSCAN key cursor [MATCH pattern] [COUNT count]. A set of up
// to value.SetScanAll members is returned whole with cursor 0, as Redis
// does for a small set; a larger one is paged (see value.SetScan).
func cmdSScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	enc, found, ok := setsCopy(c, args[1])
	if !ok {
		if found { // WRONGTYPE written
			return
		}
		command.MissEmptyScan(c, args)
		return
	}
	defer c.KeepScratch(enc)
	match, count, ok := command.ScanOptions(c, args, 3, 10, nil)
	if !ok {
		return
	}
	var out [][]byte
	next, err := value.SetScan(enc, cursor, count, func(m []byte) {
		if match == nil || match(m) {
			out = append(out, m)
		}
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	command.WriteScanReply(c.W, next, out)
}

// missSMIsMember is SMISMEMBER's shed-read answer: 0 per member.
func missSMIsMember(c *command.Ctx, args [][]byte) {
	c.W.WriteArray(len(args) - 2)
	for range args[2:] {
		c.W.WriteInt(0)
	}
}
