// Package zset serves the sorted set commands: ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT
// ZLEXCOUNT ZRANGE ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
// ZREVRANGEBYLEX ZREVRANGE ZRANK ZREVRANK ZRANDMEMBER ZPOPMIN ZPOPMAX ZMPOP
// BZMPOP BZPOPMIN BZPOPMAX ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX
// ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN,
// with Redis 7.0's semantics, replies and error strings (checked against
// redis-server 7.0.15). The set algebra is in algebra.go, the multi-key
// and blocking pops in pop.go, ZRANDMEMBER in rand.go; package geo builds
// on Add and StoreEntry.
//
// A sorted set is one entry of type shard.TypeZSet in one of two
// encodings, as in Redis: compact (value/zset.go, Redis's listpack: one
// buffer in (score, member) order, rewritten per write) while it has at
// most zset-max-listpack-entries members none longer than
// zset-max-listpack-value, then a value.ZSetTree (Redis's skiplist: a
// member index and an order-statistic B+tree, O(log n) per member, rank
// or range bound), for good. The thresholds are the tenant's (Ctx.Limits,
// CONFIG SET), and the conversion point is Redis 7.0's: before adding a
// member that would pass either threshold (value.Limits.ZSetNeedsTree); a
// changed score never converts. OBJECT ENCODING answers "listpack" or
// "skiplist".
//
// Writes go through command.CollWrite: a compact set is rebuilt in a
// pooled buffer and Put, or converted; a tree is changed in place by an
// edit whose growth (value.ZSetTree.PlanSet) the partition reserves before
// the commit runs. Reads run under the sub-shard lock on either encoding
// (zsetView), copy what the reply needs and write it after the lock is
// released; on a tree, a rank, a score bound or a lex bound is found in
// O(log n) and only the members replied are visited.
//
// Scores are written with WriteDouble: a RESP3 double, or in RESP2 a bulk
// string formatted as Redis 7.0 does ("%.17g": 1, 1.5, 0.10000000000000001,
// inf, -inf). A compact set stores -0 as 0 (Redis's listpack prints it 0);
// a tree keeps -0 (Redis's skiplist prints it "-0").
package zset

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const (
	zsetScanDefaultN = 10
)

// zsetView runs fn on the sorted set at key, in either encoding, under
// the sub-shard lock.
func zsetView(c *command.Ctx, key []byte, fn func(z value.ZSetView)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeZSet, func(e shard.Entry) { fn(value.ViewZSet(e.Value, e.Obj)) })
}

// # Writes

// zaddFlags are ZADD's options.
type zaddFlags struct{ nx, xx, gt, lt, ch, incr bool }

// zaddResult is what a ZADD (or ZINCRBY) did.
type zaddResult struct {
	added, updated, processed int
	score                     float64 // the last processed member's new score (INCR)
}

// zaddPlan applies members/scores in argument order, as Redis's zsetAdd
// does one element after the other, to the scores the set holds now
// (old/found, per argument). It returns the members to set (each once,
// with its final score, and the argument that last changed it), the
// members among them that are new (and the argument adding each), and
// the result.
func zaddPlan(f zaddFlags, members [][]byte, scores []float64, first []int, old []float64, found []bool) (set []value.ZMember, setAt []int, added [][]byte, addedAt []int, res zaddResult, err error) {
	type state struct {
		score            float64
		present, changed bool
		at               int
	}
	st := make([]state, len(members))
	for j := range members {
		st[j] = state{score: old[j], present: found[j]}
	}
	for j, score := range scores {
		s := &st[first[j]]
		if s.present {
			if f.nx {
				continue
			}
			if f.incr {
				score += s.score
				if math.IsNaN(score) {
					return nil, nil, nil, nil, zaddResult{}, command.ReplyErr(command.ErrZNaN)
				}
			}
			if f.lt && score >= s.score || f.gt && score <= s.score {
				continue
			}
			res.processed++
			res.score = score
			if score != s.score {
				s.score, s.changed, s.at = score, true, j
				res.updated++
			}
			continue
		}
		if f.xx {
			continue
		}
		*s = state{score: score, present: true, changed: true, at: j}
		res.added++
		res.processed++
		res.score = score
		added = append(added, members[j])
		addedAt = append(addedAt, j)
	}
	for j := range members {
		if first[j] == j && st[j].changed {
			set = append(set, value.ZMember{Member: members[j], Score: st[j].score})
			setAt = append(setAt, st[j].at)
		}
	}
	return set, setAt, added, addedAt, res, nil
}

// zadd applies members/scores to the sorted set at key (see zaddPlan),
// converting a compact set as Redis does.
func zadd(c *command.Ctx, key []byte, f zaddFlags, members [][]byte, scores []float64) (res zaddResult, err error) {
	// first[j] is the index of the first argument naming members[j], whose
	// state every later occurrence shares.
	first := make([]int, len(members))
	if len(members) > 1 {
		seen := make(map[string]int, len(members))
		for j, m := range members {
			if i, ok := seen[string(m)]; ok {
				first[j] = i
			} else {
				seen[string(m)] = j
				first[j] = j
			}
		}
	}
	lim := c.Limits()
	var set []value.ZMember
	err = command.CollWrite(c, key, shard.TypeZSet,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			res = zaddResult{}
			if !exists && f.xx {
				return nil, 0, nil, false, nil
			}
			old, found, err := value.ZSetScores(cur, members)
			if err != nil {
				return nil, 0, nil, false, err
			}
			set, setAt, added, addedAt, r, err := zaddPlan(f, members, scores, first, old, found)
			if res = r; err != nil || len(set) == 0 {
				return nil, 0, nil, false, err
			}
			if k := lim.ZSetConvertsAt(value.ZSetLen(cur), added); k >= 0 {
				// Redis converts at that insert: the changes made before it
				// went into the listpack, which keeps no -0.
				for i := range set {
					if setAt[i] < addedAt[k] && set[i].Score == 0 {
						set[i].Score = 0
					}
				}
				t, err := value.ZSetTreeFrom(cur)
				if err == nil {
					t.Set(set)
				}
				return nil, 0, t, true, err
			}
			next, err := value.ZSetMerge(dst, cur, set, nil)
			return next, 0, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.ZSetTree)
			old, found, _ := value.ZSetView{Tree: t}.Scores(members)
			var err error
			set, _, _, _, res, err = zaddPlan(f, members, scores, first, old, found)
			if err != nil || len(set) == 0 {
				return 0, false, false, err
			}
			return t.PlanSet(set), true, false, nil
		},
		func(obj shard.Object) { obj.(*value.ZSetTree).Set(set) })
	if err == nil && res.added > 0 {
		c.Signal(key) // BZPOPMIN, BZMPOP (pop.go)
	}
	return res, err
}

// Add is ZADD for other families (GEOADD): members/scores applied with
// NX, XX and CH as ZADD does; it returns ZADD's reply number.
func Add(c *command.Ctx, key []byte, nx, xx, ch bool, members [][]byte, scores []float64) (int, error) {
	res, err := zadd(c, key, zaddFlags{nx: nx, xx: xx, ch: ch}, members, scores)
	if ch {
		return res.added + res.updated, err
	}
	return res.added, err
}

// cmdZAdd: ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...].
func cmdZAdd(c *command.Ctx, args [][]byte) {
	var f zaddFlags
	i := 2
flags:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case command.EqFold(a, "nx"):
			f.nx = true
		case command.EqFold(a, "xx"):
			f.xx = true
		case command.EqFold(a, "gt"):
			f.gt = true
		case command.EqFold(a, "lt"):
			f.lt = true
		case command.EqFold(a, "ch"):
			f.ch = true
		case command.EqFold(a, "incr"):
			f.incr = true
		default:
			break flags
		}
	}
	elements := len(args) - i
	switch {
	case elements == 0 || elements%2 != 0:
		c.W.WriteError(command.ErrSyntax)
		return
	case f.nx && f.xx: // in Redis's order of checks
		c.W.WriteError(command.ErrZXXNX)
		return
	case f.gt && f.nx || f.lt && f.nx || f.gt && f.lt:
		c.W.WriteError(command.ErrZGTLTNX)
		return
	case f.incr && elements > 2:
		c.W.WriteError(command.ErrZIncrPair)
		return
	}
	n := elements / 2
	scores := make([]float64, n)
	members := make([][]byte, n)
	for j := range n {
		sc, ok := parseScore(args[i+2*j])
		if !ok {
			c.W.WriteError(command.ErrNotFloat)
			return
		}
		scores[j], members[j] = sc, args[i+2*j+1]
	}
	res, err := zadd(c, args[1], f, members, scores)
	if err != nil {
		c.StoreErr(err)
		return
	}
	switch {
	case f.incr && res.processed > 0:
		c.W.WriteDouble(res.score)
	case f.incr:
		c.W.WriteNull()
	case f.ch:
		c.W.WriteInt(res.added + res.updated)
	default:
		c.W.WriteInt(res.added)
	}
}

// cmdZIncrBy: ZINCRBY key increment member -> the new score.
func cmdZIncrBy(c *command.Ctx, args [][]byte) {
	// Redis runs ZINCRBY through ZADD's parser: an increment spelled as a
	// ZADD flag is taken as one, which leaves an odd number of arguments.
	for _, f := range []string{"nx", "xx", "gt", "lt", "ch", "incr"} {
		if command.EqFold(args[2], f) {
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	incr, ok := parseScore(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotFloat)
		return
	}
	res, err := zadd(c, args[1], zaddFlags{incr: true}, args[3:4], []float64{incr})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteDouble(res.score)
}

// cmdZRem: ZREM key member [member ...] -> members removed; the key is
// deleted with its last member.
func cmdZRem(c *command.Ctx, args [][]byte) {
	members := args[2:]
	removed := 0
	err := command.CollWrite(c, args[1], shard.TypeZSet,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			removed = 0
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, err := value.ZSetMerge(dst, cur, nil, members)
			if err != nil {
				return nil, 0, nil, false, err
			}
			removed = value.ZSetLen(cur) - value.ZSetLen(next)
			return next, 0, nil, removed > 0, nil
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.ZSetTree)
			removed = t.PlanRem(members)
			return 0, removed > 0, removed == t.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.ZSetTree).Rem(members) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

// zsetRemove removes the members of rank from to to-1 from the sorted set
// at key: ZPOPMIN/ZPOPMAX and ZREMRANGEBY*. bounds computes the range on
// the set as it is (either encoding) and may copy what the reply needs;
// it may run more than once. found reports whether the key existed.
func zsetRemove(c *command.Ctx, key []byte, bounds func(z value.ZSetView) (from, to int, err error)) (found bool, err error) {
	var from, to int
	err = command.CollWrite(c, key, shard.TypeZSet,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			found = exists
			if !exists {
				return nil, 0, nil, false, nil
			}
			var err error
			if from, to, err = bounds(value.ZSetView{Enc: cur}); err != nil || to <= from {
				return nil, 0, nil, false, err
			}
			next, err := value.ZSetCut(dst, cur, from, to)
			return next, 0, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			found = true
			t := obj.(*value.ZSetTree)
			var err error
			if from, to, err = bounds(value.ZSetView{Tree: t}); err != nil || to <= from {
				return 0, false, false, err
			}
			return 0, true, to-from == t.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.ZSetTree).RemRange(from, to) })
	return found, err
}

// zpopKey pops up to count members (count >= 1) from the lowest end of
// the sorted set at key, or the highest (top): the members popped, in pop
// order, as n ZAppendScored records in buf (which starts at dst).
func zpopKey(c *command.Ctx, key []byte, count int64, top bool, dst []byte) (buf []byte, n int, found bool, err error) {
	found, err = zsetRemove(c, key, func(z value.ZSetView) (int, int, error) {
		buf, n = dst[:0], 0
		size := z.Len()
		k := int(min(count, int64(size)))
		start := 0 // the first popped: the lowest, or the highest (top)
		if top {
			start = size - 1
		}
		err := zwalk(z, start, top, k, func(m value.ZMember) bool {
			buf = value.ZAppendScored(buf, m)
			n++
			return true
		})
		if top {
			return size - k, size, err
		}
		return 0, k, err
	})
	return buf, n, found, err
}

// zpop answers ZPOPMIN (top false) and ZPOPMAX: without count one member
// and its score (flat); with count up to count of them, flat in RESP2 and
// one [member, score] array each in RESP3, as Redis 7.0.
func zpop(c *command.Ctx, args [][]byte, top bool) {
	if len(args) > 3 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		// Redis answers one message for a bad or negative count.
		n, ok := command.ParseInt(args[2])
		if !ok || n < 0 {
			c.W.WriteError(command.ErrZPositive)
			return
		}
		count = n
	}
	nested := c.W.RESP3 && count != -1
	if count == 0 {
		// The key is still looked up: WRONGTYPE first.
		if _, wrong := zsetView(c, args[1], func(value.ZSetView) {}); !wrong {
			c.W.WriteArray(0)
		}
		return
	}
	popped, np, found, err := zpopKey(c, args[1], max64(count, 1), top, c.Scratch[:0])
	if err != nil {
		c.StoreErr(err)
		return
	}
	defer c.KeepScratch(popped)
	if !found {
		c.W.WriteArray(0)
		return
	}
	if nested {
		c.W.WriteArray(np)
	} else {
		c.W.WriteArray(2 * np)
	}
	writePopped(c, popped, np, nested)
}

// writePopped writes n popped records: [member, score] arrays when
// nested, else flat.
func writePopped(c *command.Ctx, popped []byte, n int, nested bool) {
	rd := value.ZSetRecords(popped, n)
	for m, ok := rd.Next(); ok; m, ok = rd.Next() {
		if nested {
			c.W.WriteArray(2)
		}
		c.W.WriteBulk(m.Member)
		c.W.WriteDouble(m.Score)
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func cmdZPopMin(c *command.Ctx, args [][]byte) { zpop(c, args, false) }
func cmdZPopMax(c *command.Ctx, args [][]byte) { zpop(c, args, true) }

// zremRange answers ZREMRANGEBYRANK (kind zrRank), ZREMRANGEBYSCORE
// (zrScore) and ZREMRANGEBYLEX (zrLex).
func zremRange(c *command.Ctx, args [][]byte, kind int) {
	var start, end int64
	var r scoreRange
	var lr lexRange
	switch kind {
	case zrScore:
		var ok bool
		if r, ok = parseScoreRange(args[2], args[3]); !ok {
			c.W.WriteError(command.ErrZMinMax)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(args[2], args[3]); !ok {
			c.W.WriteError(command.ErrZLexRange)
			return
		}
	default:
		var ok1, ok2 bool
		start, ok1 = command.ParseInt(args[2])
		end, ok2 = command.ParseInt(args[3])
		if !ok1 || !ok2 {
			c.W.WriteError(command.ErrNotInteger)
			return
		}
	}
	removed := 0
	_, err := zsetRemove(c, args[1], func(z value.ZSetView) (int, int, error) {
		removed = 0
		var from, to int
		switch kind {
		case zrScore:
			if r.empty() {
				return 0, 0, nil
			}
			from, to = zscoreBounds(z, &r)
		case zrLex:
			from, to = zlexBounds(z, &lr)
			if z.Tree != nil && !lr.empty() {
				// Redis's zslDeleteRangeByLex deletes from the first
				// member >= min while members are <= max: the same ranks
				// when the set's scores are equal (the documented use),
				// and Redis's answer when they are not.
				to = from
				z.Tree.Walk(from, false, func(m value.ZMember) bool {
					if !lr.lteMax(m.Member) {
						return false
					}
					to++
					return true
				})
			}
		default:
			from, to = rankBounds(z.Len(), start, end)
		}
		removed = max(to-from, 0)
		return from, to, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

func cmdZRemRangeByRank(c *command.Ctx, args [][]byte)  { zremRange(c, args, zrRank) }
func cmdZRemRangeByScore(c *command.Ctx, args [][]byte) { zremRange(c, args, zrScore) }
func cmdZRemRangeByLex(c *command.Ctx, args [][]byte)   { zremRange(c, args, zrLex) }

// zlexBounds is the ranks [from, to) of the members within the lex range
// r: O(log n) on a tree; on a compact set Redis's listpack walk (none
// when the range misses the set's ends, zzlIsInLexRange, then from the
// first member >= min while <= max).
func zlexBounds(z value.ZSetView, r *lexRange) (from, to int) {
	if r.empty() {
		return 0, 0
	}
	if z.Tree != nil {
		from = z.Tree.CountLex(func(m []byte) bool { return !r.gteMin(m) })
		to = z.Tree.CountLex(r.lteMax)
		return from, max(to, from)
	}
	all, err := value.ZSetDecode(nil, z.Enc)
	if err != nil || len(all) == 0 || !r.gteMin(all[len(all)-1].Member) || !r.lteMax(all[0].Member) {
		return 0, 0
	}
	from = 0
	for from < len(all) && !r.gteMin(all[from].Member) {
		from++
	}
	to = from
	for to < len(all) && r.lteMax(all[to].Member) {
		to++
	}
	return from, to
}

// cmdZLexCount: ZLEXCOUNT key min max -> members within the lex range.
func cmdZLexCount(c *command.Ctx, args [][]byte) {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.W.WriteError(command.ErrZLexRange)
		return
	}
	n := 0
	if _, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		from, to := zlexBounds(z, &r)
		n = to - from
	}); wrong {
		return
	}
	c.W.WriteInt(n)
}

// rankBounds turns ZRANGE/ZREMRANGEBYRANK's inclusive start and end
// (negative counting from the end) into ranks [from, to) of a set of n.
func rankBounds(n int, start, end int64) (from, to int) {
	if start < 0 {
		start += int64(n)
	}
	if end < 0 {
		end += int64(n)
	}
	start = max64(start, 0)
	if start > end || start >= int64(n) {
		return 0, 0
	}
	end = min(end, int64(n)-1)
	return int(start), int(end) + 1
}

// zscoreBounds is the ranks [from, to) of the members within r, a
// non-empty range: O(log n) on a tree, a scan of a compact set.
func zscoreBounds(z value.ZSetView, r *scoreRange) (from, to int) {
	if z.Tree != nil {
		from = z.Tree.CountScore(func(s float64) bool { return !r.gteMin(s) })
		to = z.Tree.CountScore(r.lteMax)
		return from, max(to, from)
	}
	it := value.ZSetMembers(z.Enc)
	i := 0
	from, to = -1, -1
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if from < 0 && r.gteMin(m.Score) {
			from = i
		}
		if from >= 0 && !r.lteMax(m.Score) {
			to = i
			break
		}
		i++
	}
	if from < 0 {
		return 0, 0
	}
	if to < 0 {
		to = i
	}
	return from, to
}

// zwalk calls fn with up to k members from rank (ascending, or descending
// when rev) of either encoding.
func zwalk(z value.ZSetView, rank int, rev bool, k int, fn func(m value.ZMember) bool) error {
	if k <= 0 {
		return nil
	}
	if z.Tree != nil {
		z.Tree.Walk(rank, rev, func(m value.ZMember) bool {
			k--
			return fn(m) && k > 0
		})
		return nil
	}
	all, err := value.ZSetDecode(make([]value.ZMember, 0, value.ZSetLen(z.Enc)), z.Enc)
	if err != nil {
		return err
	}
	for i := rank; i >= 0 && i < len(all) && k > 0; k-- {
		if !fn(all[i]) {
			break
		}
		if rev {
			i--
		} else {
			i++
		}
	}
	return nil
}
