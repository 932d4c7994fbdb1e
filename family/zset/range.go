package zset

import (
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
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

// zrangeQuery is a parsed ZRANGE-style range: by rank, score or lex,
// forward or reverse, with LIMIT.
type zrangeQuery struct {
	kind          int
	rev           bool
	start, end    int64
	sr            scoreRange
	lr            lexRange
	offset, limit int64
}

// parseZRange is the parsing half of Redis 7.0's zrangeGenericCommand for
// ZRANGE (kind and dir auto), ZRANGESTORE (store), ZRANGEBYSCORE,
// ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX and ZREVRANGE: args[src]
// is the source key, then min max [options]. It answers errors itself.
func parseZRange(c *command.Ctx, args [][]byte, src int, store bool, kind, dir int) (q zrangeQuery, withScores, ok bool) {
	q.limit = -1
	for j := src + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && command.EqFold(a, "withscores"):
			withScores = true
		case command.EqFold(a, "limit") && left >= 2:
			var ok1, ok2 bool
			q.offset, ok1 = command.ParseInt(args[j+1])
			if ok1 {
				q.limit, ok2 = command.ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				c.W.WriteError(command.ErrNotInteger)
				return q, false, false
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
			return q, false, false
		}
	}
	if dir == zdAuto {
		dir = zdForward
	}
	if kind == zrAuto {
		kind = zrRank
	}
	if q.limit != -1 && kind == zrRank {
		c.W.WriteError(command.ErrZLimitRank)
		return q, false, false
	}
	if withScores && kind == zrLex {
		c.W.WriteError(command.ErrZLexScores)
		return q, false, false
	}
	minArg, maxArg := args[src+1], args[src+2]
	q.kind, q.rev = kind, dir == zdReverse
	if q.rev && kind != zrRank {
		minArg, maxArg = maxArg, minArg // given as max min
	}
	switch kind {
	case zrRank:
		var ok1, ok2 bool
		q.start, ok1 = command.ParseInt(minArg)
		if ok1 {
			q.end, ok2 = command.ParseInt(maxArg)
		}
		if !ok1 || !ok2 {
			c.W.WriteError(command.ErrNotInteger)
			return q, false, false
		}
	case zrScore:
		var ok bool
		if q.sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.W.WriteError(command.ErrZMinMax)
			return q, false, false
		}
	case zrLex:
		var ok bool
		if q.lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.W.WriteError(command.ErrZLexRange)
			return q, false, false
		}
	}
	return q, withScores, true
}

// collect calls add with the members of z in q, in reply order.
func (q *zrangeQuery) collect(z value.ZSetView, add func(m value.ZMember) bool) error {
	if z.Tree != nil {
		switch q.kind {
		case zrRank:
			from, to := rankBounds(z.Len(), q.start, q.end)
			if q.rev { // the ranks count from the highest score
				zwalk(z, z.Len()-1-from, true, to-from, add)
			} else {
				zwalk(z, from, false, to-from, add)
			}
		case zrScore:
			sr := &q.sr
			treeRange(z.Tree, q.offset, q.limit, q.rev, sr.empty(),
				func() int { return z.Tree.CountScore(func(s float64) bool { return !sr.gteMin(s) }) },
				func() int { return z.Tree.CountScore(sr.lteMax) },
				func(m value.ZMember) bool { return sr.gteMin(m.Score) },
				func(m value.ZMember) bool { return sr.lteMax(m.Score) }, add)
		case zrLex:
			lr := &q.lr
			treeRange(z.Tree, q.offset, q.limit, q.rev, lr.empty(),
				func() int { return z.Tree.CountLex(func(m []byte) bool { return !lr.gteMin(m) }) },
				func() int { return z.Tree.CountLex(lr.lteMax) },
				func(m value.ZMember) bool { return lr.gteMin(m.Member) },
				func(m value.ZMember) bool { return lr.lteMax(m.Member) }, add)
		}
		return nil
	}
	all, err := value.ZSetDecode(make([]value.ZMember, 0, value.ZSetLen(z.Enc)), z.Enc)
	if err != nil {
		return err
	}
	var out []value.ZMember
	switch q.kind {
	case zrRank:
		out = zrangeByRank(all, q.start, q.end, q.rev)
	case zrScore:
		out = zrangeByScore(all, &q.sr, q.offset, q.limit, q.rev)
	case zrLex:
		out = zrangeByLex(all, &q.lr, q.offset, q.limit, q.rev)
	}
	for _, m := range out {
		if !add(m) {
			break
		}
	}
	return nil
}

// zrangeGeneric answers ZRANGE and its older forms: args are key min max
// [options].
func zrangeGeneric(c *command.Ctx, args [][]byte, kind, dir int) {
	q, withScores, ok := parseZRange(c, args, 1, false, kind, dir)
	if !ok {
		return
	}
	// Under the lock: the members replied, copied (ZAppendScored records).
	var recs []byte
	n := 0
	var err error
	_, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		recs, n = c.Scratch[:0], 0
		err = q.collect(z, func(m value.ZMember) bool {
			recs = value.ZAppendScored(recs, m)
			n++
			return true
		})
	})
	if wrong {
		return
	}
	defer c.KeepScratch(recs)
	if err != nil {
		c.StoreErr(err)
		return
	}
	writeRecords(c, recs, n, withScores)
}

// cmdZRangeStore: ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count] -> the number of members stored. The range is
// read and dst written in one Apply; an empty result deletes dst.
func cmdZRangeStore(c *command.Ctx, args [][]byte) {
	q, _, ok := parseZRange(c, args, 2, true, zrAuto, zdAuto)
	if !ok {
		return
	}
	keys := []shard.Key{{DB: c.DB, Name: args[1]}, {DB: c.DB, Name: args[2]}}
	lim := c.Limits()
	now := c.NowMs()
	stored := 0
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		stored = 0
		next := make([]shard.Entry, 2)
		acts := make([]shard.Action, 2)
		if exists[1] && cur[1].Type != shard.TypeZSet {
			return nil, nil, command.ErrWrongTypeAbort
		}
		var members []value.ZMember
		if exists[1] {
			err := q.collect(value.ViewZSet(cur[1].Value, cur[1].Obj), func(m value.ZMember) bool {
				members = append(members, m)
				return true
			})
			if err != nil {
				return nil, nil, err
			}
		}
		if stored = len(members); stored == 0 {
			acts[0] = shard.Delete
			return next, acts, nil
		}
		// Redis adds the members one by one, in reply order, to a
		// listpack (a skiplist from the start for a rank range of more
		// than zset-max-listpack-entries), which converts at the first
		// member past either threshold; the scores added before keep no
		// -0 (the listpack stores 0).
		if q.kind != zrRank || int64(len(members)) <= lim.ZSetEntries {
			for i, m := range members {
				if int64(i+1) > lim.ZSetEntries || int64(len(m.Member)) > lim.ZSetValue {
					break
				}
				if m.Score == 0 {
					members[i].Score = 0
				}
			}
		}
		slices.SortFunc(members, value.ZCompare)
		next[0], acts[0] = StoreEntry(lim, members, c.DefaultExpire(now)), shard.Put
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if stored > 0 {
		c.Signal(args[1])
	}
	c.W.WriteInt(stored)
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

// cmdZRevRangeByScore: ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT
// offset count].
func cmdZRevRangeByScore(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrScore, zdReverse) }

// cmdZRangeByLex: ZRANGEBYLEX key min max [LIMIT offset count].
func cmdZRangeByLex(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrLex, zdForward) }

// cmdZRevRangeByLex: ZREVRANGEBYLEX key max min [LIMIT offset count].
func cmdZRevRangeByLex(c *command.Ctx, args [][]byte) { zrangeGeneric(c, args, zrLex, zdReverse) }
