package zset

import (
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// # Reads

// cmdZScore: ZSCORE key member -> the score or nil.
func cmdZScore(c *command.Ctx, args [][]byte) {
	var score float64
	has := false
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) { score, has = z.Score(args[2]) }); wrong {
		return
	}
	if !has {
		c.W.WriteNull()
		return
	}
	c.W.WriteDouble(score)
}

// cmdZMScore: ZMSCORE key member [member ...] -> a score or nil each.
func cmdZMScore(c *command.Ctx, args [][]byte) {
	members := args[2:]
	var scores []float64
	var found []bool
	var err error
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) { scores, found, err = z.Scores(members) }); wrong {
		return
	}
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteArray(len(members))
	for j := range members {
		if found == nil || !found[j] {
			c.W.WriteNull()
			continue
		}
		c.W.WriteDouble(scores[j])
	}
}

// cmdZCard: ZCARD key -> number of members.
func cmdZCard(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) { n = z.Len() }); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdZCount: ZCOUNT key min max -> members with a score in the range.
func cmdZCount(c *command.Ctx, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.W.WriteError(command.ErrZMinMax)
		return
	}
	n := 0
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		if r.empty() {
			return
		}
		if z.Tree != nil {
			from, to := zscoreBounds(z, &r)
			n = to - from
			return
		}
		it := value.ZSetMembers(z.Enc)
		for m, more := it.Next(); more; m, more = it.Next() {
			if !r.lteMax(m.Score) {
				break
			}
			if r.gteMin(m.Score) {
				n++
			}
		}
	}); wrong {
		return
	}
	c.W.WriteInt(n)
}

// zrank answers ZRANK and ZREVRANK: the 0-based rank or nil.
func zrank(c *command.Ctx, args [][]byte, rev bool) {
	rank, has := 0, false
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		rank, _, has = z.Rank(args[2])
		if has && rev {
			rank = z.Len() - 1 - rank
		}
	}); wrong {
		return
	}
	if !has {
		c.W.WriteNull()
		return
	}
	c.W.WriteInt(rank)
}

func cmdZRank(c *command.Ctx, args [][]byte)    { zrank(c, args, false) }
func cmdZRevRank(c *command.Ctx, args [][]byte) { zrank(c, args, true) }

// cmdZScan: ZSCAN key cursor [MATCH pattern] [COUNT count]. A compact set
// of up to value.ZSetScanAll members comes whole with cursor 0 (a listpack
// in Redis); a larger one, and a tree, is paged in member-hash order:
// value.ZSetScan and value.ZSetTree.Scan share the cursor (the smallest
// member hash not yet returned), so a member present for the whole scan
// is returned even when the set converts between two calls. Scores are
// bulk strings in both protocols, as in Redis.
func cmdZScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	// The key first (WRONGTYPE and a missing key answer before the
	// options are read, as in Redis); a compact set is copied now.
	var enc []byte
	big := false
	found, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		if big = z.Tree != nil; !big {
			enc = append(c.Scratch[:0], z.Enc...)
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
	match, count, ok := command.ScanOptions(c, args, 3, zsetScanDefaultN, nil)
	if !ok {
		return
	}
	var out []value.ZMember
	add := func(m value.ZMember) {
		if match == nil || match(m.Member) {
			out = append(out, m)
		}
	}
	var next uint64
	if big {
		// One step under the lock, copied; the pattern is matched after.
		var page []byte
		var n int
		page, n, next = zsetScanStep(c, args[1], cursor, count)
		enc = page
		it := value.ZSetRecords(page, n)
		for m, more := it.Next(); more; m, more = it.Next() {
			add(m)
		}
	} else {
		var err error
		if next, err = value.ZSetScan(enc, cursor, count, add); err != nil {
			c.StoreErr(err)
			return
		}
	}
	c.W.WriteArray(2)
	c.W.WriteBulkString(command.Uitoa(next))
	c.W.WriteArray(2 * len(out))
	var buf [32]byte
	for _, m := range out {
		c.W.WriteBulk(m.Member)
		c.W.WriteBulk(resp.AppendDouble(buf[:0], m.Score))
	}
}

// zsetScanStep runs one ZSCAN step over the sorted set at key under the
// lock and returns the n members given (value.ZAppendScored records) and
// the next cursor. A key that changed type or went away since answers an
// empty last step; one that is compact again (deleted and re-created)
// is paged by value.ZSetScan with the same cursor.
func zsetScanStep(c *command.Ctx, key []byte, cursor uint64, count int) (page []byte, n int, next uint64) {
	page = c.Scratch[:0]
	c.Part.View(c.DB, key, 0, func(e shard.Entry) {
		if e.Type != shard.TypeZSet {
			return
		}
		z := value.ViewZSet(e.Value, e.Obj)
		add := func(m value.ZMember) { page = value.ZAppendScored(page, m); n++ }
		if z.Tree != nil {
			next = z.Tree.Scan(cursor, count, add)
			return
		}
		next, _ = value.ZSetScan(z.Enc, cursor, count, add)
	})
	return page, n, next
}
