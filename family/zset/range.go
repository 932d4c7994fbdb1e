package zset

import (
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/value"
)

// # Range queries (ZRANGE and its older forms)

// Range kinds and directions of zrangeGeneric (Redis's zrange_type and
// zrange_direction; "auto" means not given yet).
const (
	zrAuto = iota
	zrRank
	zrScore
	zrLex
)

const (
	zdAuto = iota
	zdForward
	zdReverse
)

// zrangeGeneric is Redis 7.0's zrangeGenericCommand for ZRANGE (kind and
// dir auto), ZRANGEBYSCORE (score, forward) and ZREVRANGE (rank,
// reverse): args are key min max [options].
func zrangeGeneric(c *command.Ctx, args [][]byte, kind, dir int) {
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case command.EqFold(a, "withscores"):
			withScores = true
		case command.EqFold(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = command.ParseInt(args[j+1])
			if ok1 {
				limit, ok2 = command.ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			j += 2
		case dir == zdAuto && command.EqFold(a, "rev"):
			dir = zdReverse
		case kind == zrAuto && command.EqFold(a, "bylex"):
			kind = zrLex
		case kind == zrAuto && command.EqFold(a, "byscore"):
			kind = zrScore
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	if dir == zdAuto {
		dir = zdForward
	}
	if kind == zrAuto {
		kind = zrRank
	}
	if limit != -1 && kind == zrRank {
		c.W.WriteError(command.ErrZLimitRank)
		return
	}
	if withScores && kind == zrLex {
		c.W.WriteError(command.ErrZLexScores)
		return
	}
	minArg, maxArg := args[2], args[3]
	rev := dir == zdReverse
	if rev && kind != zrRank {
		minArg, maxArg = maxArg, minArg // given as max min
	}
	var start, end int64
	var sr scoreRange
	var lr lexRange
	switch kind {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = command.ParseInt(minArg)
		if ok1 {
			end, ok2 = command.ParseInt(maxArg)
		}
		if !ok1 || !ok2 {
			c.W.WriteError(command.ErrNotInteger)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.W.WriteError(command.ErrZMinMax)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.W.WriteError(command.ErrZLexRange)
			return
		}
	}
	// Under the lock: the members replied, copied (ZAppendScored records).
	var recs []byte
	n := 0
	var err error
	_, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		recs, n = c.Scratch[:0], 0
		add := func(m value.ZMember) bool {
			recs = value.ZAppendScored(recs, m)
			n++
			return true
		}
		if z.Tree != nil {
			switch kind {
			case zrRank:
				from, to := rankBounds(z.Len(), start, end)
				if rev { // the ranks count from the highest score
					zwalk(z, z.Len()-1-from, true, to-from, add)
				} else {
					zwalk(z, from, false, to-from, add)
				}
			case zrScore:
				treeRange(z.Tree, offset, limit, rev, sr.empty(),
					func() int { return z.Tree.CountScore(func(s float64) bool { return !sr.gteMin(s) }) },
					func() int { return z.Tree.CountScore(sr.lteMax) },
					func(m value.ZMember) bool { return sr.gteMin(m.Score) },
					func(m value.ZMember) bool { return sr.lteMax(m.Score) }, add)
			case zrLex:
				treeRange(z.Tree, offset, limit, rev, lr.empty(),
					func() int { return z.Tree.CountLex(func(m []byte) bool { return !lr.gteMin(m) }) },
					func() int { return z.Tree.CountLex(lr.lteMax) },
					func(m value.ZMember) bool { return lr.gteMin(m.Member) },
					func(m value.ZMember) bool { return lr.lteMax(m.Member) }, add)
			}
			return
		}
		var all []value.ZMember
		if all, err = value.ZSetDecode(make([]value.ZMember, 0, value.ZSetLen(z.Enc)), z.Enc); err != nil {
			return
		}
		var out []value.ZMember
		switch kind {
		case zrRank:
			out = zrangeByRank(all, start, end, rev)
		case zrScore:
			out = zrangeByScore(all, &sr, offset, limit, rev)
		case zrLex:
			out = zrangeByLex(all, &lr, offset, limit, rev)
		}
		for _, m := range out {
			add(m)
		}
	})
	if wrong {
		return
	}
	defer c.KeepScratch(recs)
	if err != nil {
		c.StoreErr(err)
		return
	}
	out := make([]value.ZMember, 0, n)
	it := value.ZSetRecords(recs, n)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		out = append(out, m)
	}
	zwriteMembers(c, out, withScores)
}

// treeRange is Redis's genericZrangeby{score,lex}Command over a tree:
// from the first member within the range's start end (lo going forward,
// hi going backward; found in O(log n) by counting the members before
// it), skip offset members (a negative offset skips everything), then
// take up to limit members (negative: no limit) while they stay within
// the other end.
func treeRange(t *value.ZSetTree, offset, limit int64, rev, empty bool, countBelow, countUpTo func() int,
	lo, hi func(value.ZMember) bool, add func(value.ZMember) bool) {
	n := int64(t.Len())
	if empty || offset < 0 || offset > 0 && offset >= n {
		return
	}
	within := hi
	start := int64(countBelow()) + offset
	if rev {
		within = lo
		start = int64(countUpTo()) - 1 - offset
	}
	if start < 0 || start >= n {
		return
	}
	t.Walk(int(start), rev, func(m value.ZMember) bool {
		if limit == 0 || !within(m) {
			return false
		}
		limit--
		return add(m)
	})
}

// zwriteMembers writes members, with their scores when withScores: flat
// pairs in RESP2, one [member, score] array each in RESP3.
func zwriteMembers(c *command.Ctx, out []value.ZMember, withScores bool) {
	switch {
	case !withScores:
		c.W.WriteArray(len(out))
	case c.W.RESP3:
		c.W.WriteArray(len(out))
	default:
		c.W.WriteArray(2 * len(out))
	}
	for i, m := range out {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield() // a big ZRANGE (fair.go, "Long commands")
		}
		if withScores && c.W.RESP3 {
			c.W.WriteArray(2)
		}
		c.W.WriteBulk(m.Member)
		if withScores {
			c.W.WriteDouble(m.Score)
		}
	}
}

// zrangeByRank selects ranks start..end (negative from the end) of all,
// from the highest score when rev.
func zrangeByRank(all []value.ZMember, start, end int64, rev bool) []value.ZMember {
	n := int64(len(all))
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max64(start, 0)
	if start > end || start >= n {
		return nil
	}
	end = min(end, n-1)
	out := make([]value.ZMember, 0, end-start+1)
	for i := start; i <= end; i++ {
		if rev {
			out = append(out, all[n-1-i])
		} else {
			out = append(out, all[i])
		}
	}
	return out
}

// zrangeWalk is the scan of Redis's genericZrangeby{score,lex}Command over
// a listpack: find the first element at the range's start end (lo going
// forward, hi going backward), check it against the other end, skip offset
// elements (a negative offset skips everything), then take up to limit
// elements (negative: no limit) while they stay within the other end.
func zrangeWalk(all []value.ZMember, offset, limit int64, rev bool, lo, hi func(value.ZMember) bool) []value.ZMember {
	n := int64(len(all))
	if offset > 0 && offset >= n {
		return nil
	}
	var out []value.ZMember
	if !rev {
		i := int64(0)
		for i < n && !lo(all[i]) {
			i++
		}
		if i == n || !hi(all[i]) {
			return nil
		}
		if offset < 0 {
			return nil
		}
		for i += offset; i < n && limit != 0; i, limit = i+1, limit-1 {
			if !hi(all[i]) {
				break
			}
			out = append(out, all[i])
		}
		return out
	}
	i := n - 1
	for i >= 0 && !hi(all[i]) {
		i--
	}
	if i < 0 || !lo(all[i]) {
		return nil
	}
	if offset < 0 {
		return nil
	}
	for i -= offset; i >= 0 && limit != 0; i, limit = i-1, limit-1 {
		if !lo(all[i]) {
			break
		}
		out = append(out, all[i])
	}
	return out
}

func zrangeByScore(all []value.ZMember, r *scoreRange, offset, limit int64, rev bool) []value.ZMember {
	if r.empty() {
		return nil
	}
	return zrangeWalk(all, offset, limit, rev,
		func(m value.ZMember) bool { return r.gteMin(m.Score) },
		func(m value.ZMember) bool { return r.lteMax(m.Score) })
}

func zrangeByLex(all []value.ZMember, r *lexRange, offset, limit int64, rev bool) []value.ZMember {
	// zzlIsInLexRange: an empty range, or one past either end of the set.
	if r.empty() || len(all) == 0 || !r.gteMin(all[len(all)-1].Member) || !r.lteMax(all[0].Member) {
		return nil
	}
	return zrangeWalk(all, offset, limit, rev,
		func(m value.ZMember) bool { return r.gteMin(m.Member) },
		func(m value.ZMember) bool { return r.lteMax(m.Member) })
}

// cmdZRange: ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset
// count] [WITHSCORES].
func cmdZRange(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrAuto, zdAuto) }

// cmdZRangeByScore: ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset
// count].
func cmdZRangeByScore(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrScore, zdForward) }

// cmdZRevRange: ZREVRANGE key start stop [WITHSCORES].
func cmdZRevRange(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrRank, zdReverse) }
