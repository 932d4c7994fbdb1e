// Package zset serves the sorted set commands: ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT ZRANGE
// ZRANGEBYSCORE ZREVRANGE ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZREMRANGEBYSCORE
// ZREMRANGEBYRANK ZSCAN, with Redis 7.0's semantics, replies and error
// strings (checked against redis-server 7.0.15).
//
// A sorted set is one entry of type shard.TypeZSet whose value is the
// encoding of value/zset.go: members kept in (score, member) order, so
// every range is a scan of the buffer and a member lookup is O(n) (see
// the encoding's doc). It follows the hash pattern (package hash): writes
// go through zsetUpdate (one Partition.Mutate, the quota reserved for the
// growth, an empty set deleted, a new key given the tier's default TTL),
// reads through zsetView/zsetCopy under the sub-shard lock.
//
// Scores are written with WriteDouble: a RESP3 double, or in RESP2 a bulk
// string formatted as Redis 7.0 does ("%.17g": 1, 1.5, 0.10000000000000001,
// inf, -inf).
package zset

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const (
	zsetScanDefaultN = 10
)

// zsetUpdate changes the sorted set at key, as hashUpdate does for hashes:
// build gets the current encoding (nil when the key is missing) and a
// buffer to append the next one to, and may run more than once. A key of
// another type is WRONGTYPE; a set left empty is deleted; a new set gets
// the tier's default TTL and an existing one keeps its TTL.

func zsetUpdate(c *command.Ctx, key []byte, build command.BuildFn) error {
	return command.CollUpdate(c, key, shard.TypeZSet, build)
}
func zsetView(c *command.Ctx, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return command.CollView(c, key, shard.TypeZSet, fn)
}
func zsetCopy(c *command.Ctx, key []byte) (enc []byte, found, ok bool) {
	return command.CollCopy(c, key, shard.TypeZSet)
}

// # Writes

// zaddFlags are ZADD's options.
type zaddFlags struct{ nx, xx, gt, lt, ch, incr bool }

// zaddResult is what a ZADD (or ZINCRBY) did.
type zaddResult struct {
	added, updated, processed int
	score                     float64 // the last processed member's new score (INCR)
}

// zadd applies members/scores to the sorted set at key in argument order,
// as Redis's zsetAdd does one element after the other.
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
	type state struct {
		score            float64
		present, changed bool
	}
	err = zsetUpdate(c, key, func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		res = zaddResult{}
		if !exists && f.xx {
			return nil, false, nil
		}
		old, found, err := value.ZSetScores(cur, members)
		if err != nil {
			return nil, false, err
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
						return nil, false, command.ReplyErr(command.ErrZNaN)
					}
				}
				if f.lt && score >= s.score || f.gt && score <= s.score {
					continue
				}
				res.processed++
				res.score = score
				if score != s.score {
					s.score, s.changed = score, true
					res.updated++
				}
				continue
			}
			if f.xx {
				continue
			}
			*s = state{score: score, present: true, changed: true}
			res.added++
			res.processed++
			res.score = score
		}
		var set []value.ZMember
		for j := range members {
			if first[j] == j && st[j].changed {
				set = append(set, value.ZMember{Member: members[j], Score: st[j].score})
			}
		}
		if len(set) == 0 {
			return nil, false, nil
		}
		next, err := value.ZSetMerge(dst, cur, set, nil)
		return next, true, err
	})
	return res, err
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
	case f.incr && elements > 2:
		c.W.WriteError(command.ErrZIncrPair)
		return
	case f.nx && f.xx:
		c.W.WriteError(command.ErrZXXNX)
		return
	case f.gt && f.nx || f.lt && f.nx || f.gt && f.lt:
		c.W.WriteError(command.ErrZGTLTNX)
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
	command.CountUpdate(c, args[1], shard.TypeZSet, false, func(dst, cur []byte) ([]byte, int, error) {
		next, err := value.ZSetMerge(dst, cur, nil, args[2:])
		if err != nil {
			return nil, 0, err
		}
		return next, value.ZSetLen(cur) - value.ZSetLen(next), nil
	})
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
	var arena []byte
	var popped []value.ZMember // Member slices of arena, set after the update
	var offs []int
	found := false
	err := zsetUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		found = exists
		arena, popped, offs = c.Scratch[:0], popped[:0], offs[:0]
		if !exists || count == 0 {
			return nil, false, nil
		}
		all, err := value.ZSetDecode(nil, cur)
		if err != nil {
			return nil, false, err
		}
		k := int(min(max64(count, 1), int64(len(all))))
		from := 0
		if top {
			from = len(all) - k
		}
		for j := range k {
			m := all[from+j]
			if top {
				m = all[len(all)-1-j]
			}
			arena = append(arena, m.Member...)
			offs = append(offs, len(arena))
			popped = append(popped, value.ZMember{Score: m.Score})
		}
		next, err := value.ZSetCut(dst, cur, from, from+k)
		return next, true, err
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	defer c.KeepScratch(arena)
	if !found || count == 0 {
		c.W.WriteArray(0)
		return
	}
	if nested {
		c.W.WriteArray(len(popped))
	} else {
		c.W.WriteArray(2 * len(popped))
	}
	start := 0
	for j, m := range popped {
		if nested {
			c.W.WriteArray(2)
		}
		c.W.WriteBulk(arena[start:offs[j]])
		c.W.WriteDouble(m.Score)
		start = offs[j]
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

// zremRange answers ZREMRANGEBYRANK (byScore false) and ZREMRANGEBYSCORE.
func zremRange(c *command.Ctx, args [][]byte, byScore bool) {
	var start, end int64
	var r scoreRange
	if byScore {
		var ok bool
		if r, ok = parseScoreRange(args[2], args[3]); !ok {
			c.W.WriteError(command.ErrZMinMax)
			return
		}
	} else {
		var ok1, ok2 bool
		start, ok1 = command.ParseInt(args[2])
		end, ok2 = command.ParseInt(args[3])
		if !ok1 || !ok2 {
			c.W.WriteError(command.ErrNotInteger)
			return
		}
	}
	removed := 0
	err := zsetUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		removed = 0
		if !exists {
			return nil, false, nil
		}
		n := int64(value.ZSetLen(cur))
		var from, to int64
		if byScore {
			if r.empty() {
				return nil, false, nil
			}
			it := value.ZSetMembers(cur)
			i := int64(0)
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
			if err := it.Err(); err != nil {
				return nil, false, err
			}
			if from < 0 {
				return nil, false, nil
			}
			if to < 0 {
				to = n
			}
		} else {
			s, e := start, end
			if s < 0 {
				s += n
			}
			if e < 0 {
				e += n
			}
			s = max64(s, 0)
			if s > e || s >= n {
				return nil, false, nil
			}
			e = min(e, n-1)
			from, to = s, e+1
		}
		if to <= from {
			return nil, false, nil
		}
		removed = int(to - from)
		next, err := value.ZSetCut(dst, cur, int(from), int(to))
		return next, true, err
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

func cmdZRemRangeByRank(c *command.Ctx, args [][]byte)  { zremRange(c, args, false) }
func cmdZRemRangeByScore(c *command.Ctx, args [][]byte) { zremRange(c, args, true) }

// # Reads

// cmdZScore: ZSCORE key member -> the score or nil.
func cmdZScore(c *command.Ctx, args [][]byte) {
	var score float64
	has := false
	if _, wrong := zsetView(c, args[1], func(enc []byte) { score, has = value.ZSetScore(enc, args[2]) }); wrong {
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
	if _, wrong := zsetView(c, args[1], func(enc []byte) { scores, found, err = value.ZSetScores(enc, members) }); wrong {
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
	if _, wrong := zsetView(c, args[1], func(enc []byte) { n = value.ZSetLen(enc) }); wrong {
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
	if _, wrong := zsetView(c, args[1], func(enc []byte) {
		if r.empty() {
			return
		}
		it := value.ZSetMembers(enc)
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
	if _, wrong := zsetView(c, args[1], func(enc []byte) {
		rank, _, has = value.ZSetRank(enc, args[2])
		if has && rev {
			rank = value.ZSetLen(enc) - 1 - rank
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

// cmdZScan: ZSCAN key cursor [MATCH pattern] [COUNT count]. A set of up to
// value.ZSetScanAll members comes whole with cursor 0 (a listpack in
// Redis); a larger one is paged (see value.ZSetScan). Scores are bulk
// strings in both protocols, as in Redis.
func cmdZScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	enc, found, ok := zsetCopy(c, args[1])
	if !ok {
		if found {
			return
		}
		command.MissEmptyScan(c, args)
		return
	}
	defer c.KeepScratch(enc)
	match, count, ok := command.ScanOptions(c, args, 3, zsetScanDefaultN, nil)
	if !ok {
		return
	}
	var out []value.ZMember
	next, err := value.ZSetScan(enc, cursor, count, func(m value.ZMember) {
		if match == nil || match(m.Member) {
			out = append(out, m)
		}
	})
	if err != nil {
		c.StoreErr(err)
		return
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
