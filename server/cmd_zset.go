package server

// Sorted set commands: ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT ZRANGE
// ZRANGEBYSCORE ZREVRANGE ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZREMRANGEBYSCORE
// ZREMRANGEBYRANK ZSCAN, with Redis 7.0's semantics, replies and error
// strings (checked against redis-server 7.0.15).
//
// A sorted set is one entry of type shard.TypeZSet whose value is the
// encoding of value/zset.go: members kept in (score, member) order, so
// every range is a scan of the buffer and a member lookup is O(n) (see
// the encoding's doc). It follows the hash pattern (cmd_hash.go): writes
// go through zsetUpdate (one Partition.Mutate, the quota reserved for the
// growth, an empty set deleted, a new key given the tier's default TTL),
// reads through zsetView/zsetCopy under the sub-shard lock.
//
// Scores are written with WriteDouble: a RESP3 double, or in RESP2 a bulk
// string formatted as Redis 7.0 does ("%.17g": 1, 1.5, 0.10000000000000001,
// inf, -inf).

import (
	"math"
	"strconv"
	"strings"

	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const (
	errZIncrPair     = "ERR INCR option supports a single increment-element pair"
	errZXXNX         = "ERR XX and NX options at the same time are not compatible"
	errZGTLTNX       = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZNaN          = "ERR resulting score is not a number (NaN)"
	errZMinMax       = "ERR min or max is not a float"
	errZLexRange     = "ERR min or max not valid string range item"
	errZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZLexScores    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZPositive     = "ERR value is out of range, must be positive"
	zsetScanDefaultN = 10
)

// zsetUpdate changes the sorted set at key, as hashUpdate does for hashes:
// build gets the current encoding (nil when the key is missing) and a
// buffer to append the next one to, and may run more than once. A key of
// another type is WRONGTYPE; a set left empty is deleted; a new set gets
// the tier's default TTL and an existing one keeps its TTL.

func zsetUpdate(c *client, key []byte, build buildFn) error {
	return collUpdate(c, key, shard.TypeZSet, build)
}
func zsetView(c *client, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return collView(c, key, shard.TypeZSet, fn)
}
func zsetCopy(c *client, key []byte) (enc []byte, found, ok bool) {
	return collCopy(c, key, shard.TypeZSet)
}

// # Score parsing

// isCSpace is C's isspace in the "C" locale.
func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// cStrtod parses all of s as glibc's strtod would (decimal and hex
// floats, inf/infinity/nan in any case, an optional sign; no leading
// space). ok is false unless strtod would consume all of s. rangeErr is
// strtod's ERANGE: a finite number overflowing to ±Inf, or a non-zero
// number underflowing to 0.
func cStrtod(s string) (f float64, rangeErr, ok bool) {
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false, false
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	in := s
	if hex && !strings.ContainsAny(body, "pP") {
		in = s + "p0" // C accepts a hex float without exponent, Go does not
	}
	f, err := strconv.ParseFloat(in, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return f, true, true
		}
		return 0, false, false
	}
	if f == 0 {
		// Underflow: a mantissa with a non-zero digit that became 0.
		mant := body
		if hex {
			mant = body[2:]
			if i := strings.IndexAny(mant, "pP"); i >= 0 {
				mant = mant[:i]
			}
			if strings.ContainsAny(mant, "123456789abcdefABCDEF") {
				return f, true, true
			}
		} else {
			if i := strings.IndexAny(mant, "eE"); i >= 0 {
				mant = mant[:i]
			}
			if strings.ContainsAny(mant, "123456789") {
				return f, true, true
			}
		}
	}
	return f, false, true
}

// parseScore parses a score or increment as Redis's getDoubleFromObject:
// strtod over the whole argument, no leading space, no NaN, no ERANGE
// (so 1e400 and 1e-400 are refused), but inf, -inf, +inf accepted.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, rangeErr, ok := cStrtod(string(b))
	if !ok || rangeErr || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// scoreRange is a ZRANGEBYSCORE-style interval (Redis's zrangespec).
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

// parseRangeBound parses one bound as Redis's zslParseRange: "(" makes it
// exclusive; the rest goes through plain strtod, which skips leading
// space, turns overflow into ±inf and an empty string into 0; NaN fails.
func parseRangeBound(b []byte) (f float64, ex, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, ex, true
	}
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return 0, ex, false // no conversion: strtod stops at the space
	}
	f, _, ok = cStrtod(string(b[i:]))
	if !ok || math.IsNaN(f) {
		return 0, ex, false
	}
	return f, ex, true
}

func parseScoreRange(minArg, maxArg []byte) (r scoreRange, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseRangeBound(minArg)
	r.max, r.maxex, ok2 = parseRangeBound(maxArg)
	return r, ok1 && ok2
}

func (r *scoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *scoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

// empty reports a range that can hold nothing (zslIsInRange's first test).
func (r *scoreRange) empty() bool {
	return r.min > r.max || r.min == r.max && (r.minex || r.maxex)
}

// lexBound is one end of a BYLEX range: "-" (kind -1), "+" (kind 1), or a
// string (kind 0), inclusive "[" or exclusive "(".
type lexBound struct {
	kind int
	s    []byte
	ex   bool
}

// lexRange is Redis's zlexrangespec.
type lexRange struct{ min, max lexBound }

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+':
		return lexBound{kind: 1}, len(b) == 1
	case '-':
		return lexBound{kind: -1}, len(b) == 1
	case '(':
		return lexBound{s: b[1:], ex: true}, true
	case '[':
		return lexBound{s: b[1:]}, true
	}
	return lexBound{}, false
}

func parseLexRange(minArg, maxArg []byte) (r lexRange, ok bool) {
	var ok1, ok2 bool
	r.min, ok1 = parseLexBound(minArg)
	r.max, ok2 = parseLexBound(maxArg)
	return r, ok1 && ok2
}

// cmpLex is Redis's sdscmplex: "-" sorts before and "+" after everything.
func cmpLex(a, b lexBound) int {
	switch {
	case a.kind == b.kind && a.kind != 0:
		return 0
	case a.kind == -1 || b.kind == 1:
		return -1
	case a.kind == 1 || b.kind == -1:
		return 1
	}
	return strings.Compare(string(a.s), string(b.s))
}

func (r *lexRange) gteMin(v []byte) bool {
	c := cmpLex(lexBound{s: v}, r.min)
	if r.min.ex {
		return c > 0
	}
	return c >= 0
}

func (r *lexRange) lteMax(v []byte) bool {
	c := cmpLex(lexBound{s: v}, r.max)
	if r.max.ex {
		return c < 0
	}
	return c <= 0
}

func (r *lexRange) empty() bool {
	c := cmpLex(r.min, r.max)
	return c > 0 || c == 0 && (r.min.ex || r.max.ex)
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
func zadd(c *client, key []byte, f zaddFlags, members [][]byte, scores []float64) (res zaddResult, err error) {
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
						return nil, false, replyErr(errZNaN)
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
func cmdZAdd(c *client, args [][]byte) {
	var f zaddFlags
	i := 2
flags:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "nx"):
			f.nx = true
		case eqFold(a, "xx"):
			f.xx = true
		case eqFold(a, "gt"):
			f.gt = true
		case eqFold(a, "lt"):
			f.lt = true
		case eqFold(a, "ch"):
			f.ch = true
		case eqFold(a, "incr"):
			f.incr = true
		default:
			break flags
		}
	}
	elements := len(args) - i
	switch {
	case elements == 0 || elements%2 != 0:
		c.conn.WriteError(errSyntax)
		return
	case f.incr && elements > 2:
		c.conn.WriteError(errZIncrPair)
		return
	case f.nx && f.xx:
		c.conn.WriteError(errZXXNX)
		return
	case f.gt && f.nx || f.lt && f.nx || f.gt && f.lt:
		c.conn.WriteError(errZGTLTNX)
		return
	}
	n := elements / 2
	scores := make([]float64, n)
	members := make([][]byte, n)
	for j := range n {
		sc, ok := parseScore(args[i+2*j])
		if !ok {
			c.conn.WriteError(errNotFloat)
			return
		}
		scores[j], members[j] = sc, args[i+2*j+1]
	}
	res, err := zadd(c, args[1], f, members, scores)
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	switch {
	case f.incr && res.processed > 0:
		c.conn.WriteDouble(res.score)
	case f.incr:
		c.conn.WriteNull()
	case f.ch:
		c.conn.WriteInt(res.added + res.updated)
	default:
		c.conn.WriteInt(res.added)
	}
}

// cmdZIncrBy: ZINCRBY key increment member -> the new score.
func cmdZIncrBy(c *client, args [][]byte) {
	incr, ok := parseScore(args[2])
	if !ok {
		c.conn.WriteError(errNotFloat)
		return
	}
	res, err := zadd(c, args[1], zaddFlags{incr: true}, args[3:4], []float64{incr})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteDouble(res.score)
}

// cmdZRem: ZREM key member [member ...] -> members removed; the key is
// deleted with its last member.
func cmdZRem(c *client, args [][]byte) {
	countUpdate(c, args[1], shard.TypeZSet, false, func(dst, cur []byte) ([]byte, int, error) {
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
func zpop(c *client, args [][]byte, top bool) {
	if len(args) > 3 {
		c.conn.WriteError(errSyntax)
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		// Redis answers one message for a bad or negative count.
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.conn.WriteError(errZPositive)
			return
		}
		count = n
	}
	nested := c.conn.resp3 && count != -1
	var arena []byte
	var popped []value.ZMember // Member slices of arena, set after the update
	var offs []int
	found := false
	err := zsetUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		found = exists
		arena, popped, offs = c.scratch[:0], popped[:0], offs[:0]
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
		c.replyStoreErr(err)
		return
	}
	defer keepScratch(c, arena)
	if !found || count == 0 {
		c.conn.WriteArray(0)
		return
	}
	if nested {
		c.conn.WriteArray(len(popped))
	} else {
		c.conn.WriteArray(2 * len(popped))
	}
	start := 0
	for j, m := range popped {
		if nested {
			c.conn.WriteArray(2)
		}
		c.conn.WriteBulk(arena[start:offs[j]])
		c.conn.WriteDouble(m.Score)
		start = offs[j]
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func cmdZPopMin(c *client, args [][]byte) { zpop(c, args, false) }
func cmdZPopMax(c *client, args [][]byte) { zpop(c, args, true) }

// zremRange answers ZREMRANGEBYRANK (byScore false) and ZREMRANGEBYSCORE.
func zremRange(c *client, args [][]byte, byScore bool) {
	var start, end int64
	var r scoreRange
	if byScore {
		var ok bool
		if r, ok = parseScoreRange(args[2], args[3]); !ok {
			c.conn.WriteError(errZMinMax)
			return
		}
	} else {
		var ok1, ok2 bool
		start, ok1 = parseInt(args[2])
		end, ok2 = parseInt(args[3])
		if !ok1 || !ok2 {
			c.conn.WriteError(errNotInteger)
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
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(removed)
}

func cmdZRemRangeByRank(c *client, args [][]byte)  { zremRange(c, args, false) }
func cmdZRemRangeByScore(c *client, args [][]byte) { zremRange(c, args, true) }

// # Reads

// cmdZScore: ZSCORE key member -> the score or nil.
func cmdZScore(c *client, args [][]byte) {
	var score float64
	has := false
	if _, wrong := zsetView(c, args[1], func(enc []byte) { score, has = value.ZSetScore(enc, args[2]) }); wrong {
		return
	}
	if !has {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteDouble(score)
}

// cmdZMScore: ZMSCORE key member [member ...] -> a score or nil each.
func cmdZMScore(c *client, args [][]byte) {
	members := args[2:]
	var scores []float64
	var found []bool
	var err error
	if _, wrong := zsetView(c, args[1], func(enc []byte) { scores, found, err = value.ZSetScores(enc, members) }); wrong {
		return
	}
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteArray(len(members))
	for j := range members {
		if found == nil || !found[j] {
			c.conn.WriteNull()
			continue
		}
		c.conn.WriteDouble(scores[j])
	}
}

// cmdZCard: ZCARD key -> number of members.
func cmdZCard(c *client, args [][]byte) {
	n := 0
	if _, wrong := zsetView(c, args[1], func(enc []byte) { n = value.ZSetLen(enc) }); wrong {
		return
	}
	c.conn.WriteInt(n)
}

// cmdZCount: ZCOUNT key min max -> members with a score in the range.
func cmdZCount(c *client, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.conn.WriteError(errZMinMax)
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
	c.conn.WriteInt(n)
}

// zrank answers ZRANK and ZREVRANK: the 0-based rank or nil.
func zrank(c *client, args [][]byte, rev bool) {
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
		c.conn.WriteNull()
		return
	}
	c.conn.WriteInt(rank)
}

func cmdZRank(c *client, args [][]byte)    { zrank(c, args, false) }
func cmdZRevRank(c *client, args [][]byte) { zrank(c, args, true) }

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
func zrangeGeneric(c *client, args [][]byte, kind, dir int) {
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case eqFold(a, "withscores"):
			withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = parseInt(args[j+1])
			if ok1 {
				limit, ok2 = parseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				c.conn.WriteError(errNotInteger)
				return
			}
			j += 2
		case dir == zdAuto && eqFold(a, "rev"):
			dir = zdReverse
		case kind == zrAuto && eqFold(a, "bylex"):
			kind = zrLex
		case kind == zrAuto && eqFold(a, "byscore"):
			kind = zrScore
		default:
			c.conn.WriteError(errSyntax)
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
		c.conn.WriteError(errZLimitRank)
		return
	}
	if withScores && kind == zrLex {
		c.conn.WriteError(errZLexScores)
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
		start, ok1 = parseInt(minArg)
		if ok1 {
			end, ok2 = parseInt(maxArg)
		}
		if !ok1 || !ok2 {
			c.conn.WriteError(errNotInteger)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.conn.WriteError(errZMinMax)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.conn.WriteError(errZLexRange)
			return
		}
	}
	enc, found, ok := zsetCopy(c, args[1])
	if !ok {
		if !found {
			c.conn.WriteArray(0)
		}
		return
	}
	defer keepScratch(c, enc)
	all, err := value.ZSetDecode(nil, enc)
	if err != nil {
		c.replyStoreErr(err)
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
	zwriteMembers(c, out, withScores)
}

// zwriteMembers writes members, with their scores when withScores: flat
// pairs in RESP2, one [member, score] array each in RESP3.
func zwriteMembers(c *client, out []value.ZMember, withScores bool) {
	switch {
	case !withScores:
		c.conn.WriteArray(len(out))
	case c.conn.resp3:
		c.conn.WriteArray(len(out))
	default:
		c.conn.WriteArray(2 * len(out))
	}
	for i, m := range out {
		if i&replyYieldEvery == replyYieldEvery {
			c.yield() // a big ZRANGE (fair.go, "Long commands")
		}
		if withScores && c.conn.resp3 {
			c.conn.WriteArray(2)
		}
		c.conn.WriteBulk(m.Member)
		if withScores {
			c.conn.WriteDouble(m.Score)
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
func cmdZRange(c *client, args [][]byte) { zrangeGeneric(c, args, zrAuto, zdAuto) }

// cmdZRangeByScore: ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset
// count].
func cmdZRangeByScore(c *client, args [][]byte) { zrangeGeneric(c, args, zrScore, zdForward) }

// cmdZRevRange: ZREVRANGE key start stop [WITHSCORES].
func cmdZRevRange(c *client, args [][]byte) { zrangeGeneric(c, args, zrRank, zdReverse) }

// cmdZScan: ZSCAN key cursor [MATCH pattern] [COUNT count]. A set of up to
// value.ZSetScanAll members comes whole with cursor 0 (a listpack in
// Redis); a larger one is paged (see value.ZSetScan). Scores are bulk
// strings in both protocols, as in Redis.
func cmdZScan(c *client, args [][]byte) {
	cursor, ok := parseUint(args[2])
	if !ok {
		c.conn.WriteError(errInvalidCursor)
		return
	}
	enc, found, ok := zsetCopy(c, args[1])
	if !ok {
		if found {
			return
		}
		missEmptyScan(c, args)
		return
	}
	defer keepScratch(c, enc)
	match, count, ok := scanOptions(c, args, 3, zsetScanDefaultN, nil)
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
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(uitoa(next))
	c.conn.WriteArray(2 * len(out))
	var buf [32]byte
	for _, m := range out {
		c.conn.WriteBulk(m.Member)
		c.conn.WriteBulk(appendDouble(buf[:0], m.Score))
	}
}

// Shed-read answers (command.miss) for the sorted set reads.
func missZMScore(c *client, args [][]byte) { missHMGet(c, args) }
