package zset

import (
	"math"
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// # Set algebra: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD
//
// Redis 7.0's zunionInterDiffGenericCommand: the inputs are read in one
// Partition.Apply (all their sub-shards locked, so one consistent state;
// the STORE forms write the destination in the same call, its growth
// checked against the tenant's quota before anything changes). Inputs may
// be sorted sets or plain sets (each member scored 1). ZINTER walks the
// smallest input and probes the others (a tree's member index is O(1) per
// probe); ZUNION and ZDIFF visit every member of their inputs, as Redis
// does. Only the result is materialized.

// Set operations.
const (
	opUnion = iota
	opInter
	opDiff
)

// Aggregates.
const (
	aggSum = iota
	aggMin
	aggMax
)

// zsrc is one input: a sorted set, a set, or a missing key (empty).
type zsrc struct {
	z      value.ZSetView
	s      value.SetView
	isSet  bool
	key    int // the input's position among the keys (the same key twice shares it)
	weight float64
	// idx indexes a compact sorted set's members on first probe.
	idx  map[string]float64
	look *value.SetLookup
}

func (s *zsrc) length() int {
	if s.isSet {
		return s.s.Len()
	}
	return s.z.Len()
}

// each visits the members in the input's order.
func (s *zsrc) each(fn func(m []byte, score float64) bool) {
	switch {
	case s.isSet:
		s.s.Range(func(m []byte) bool { return fn(m, 1) })
	case s.z.Tree != nil:
		if s.z.Tree.Len() > 0 {
			s.z.Tree.Walk(0, false, func(m value.ZMember) bool { return fn(m.Member, m.Score) })
		}
	default:
		it := value.ZSetMembers(s.z.Enc)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			if !fn(m.Member, m.Score) {
				return
			}
		}
	}
}

// find returns the score of m in the input.
func (s *zsrc) find(m []byte) (float64, bool) {
	switch {
	case s.isSet:
		if s.look == nil {
			l := s.s.Lookup()
			s.look = &l
		}
		return 1, s.look.Has(m)
	case s.z.Tree != nil:
		return s.z.Tree.Score(m)
	}
	if s.idx == nil {
		s.idx = make(map[string]float64, value.ZSetLen(s.z.Enc))
		it := value.ZSetMembers(s.z.Enc)
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			s.idx[string(x.Member)] = x.Score
		}
	}
	sc, ok := s.idx[string(m)]
	return sc, ok
}

// aggregate is zunionInterAggregate.
func aggregate(target *float64, val float64, agg int) {
	switch agg {
	case aggSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggMin:
		if val < *target {
			*target = val
		}
	case aggMax:
		if val > *target {
			*target = val
		}
	}
}

// algebraArgs is a parsed ZUNION-style command.
type algebraArgs struct {
	keys       [][]byte
	weights    []float64
	agg        int
	withScores bool
	limit      int64
}

// parseNumkeys reads numkeys at args[at] and the keys after it; it
// answers the error itself.
func parseNumkeys(c *command.Ctx, args [][]byte, at int) ([][]byte, bool) {
	n, ok := command.ParseInt(args[at])
	switch {
	case !ok:
		c.W.WriteError(command.ErrNotInteger)
		return nil, false
	case n < 1:
		c.W.WriteError(command.ErrZNeedKey(c.Spec.Name))
		return nil, false
	case n > int64(len(args)-at-1):
		c.W.WriteError(command.ErrSyntax)
		return nil, false
	}
	return args[at+1 : at+1+int(n)], true
}

// parseAlgebraOptions parses the options after the keys (Redis reads them
// after looking the keys up, so a WRONGTYPE key answers first).
func parseAlgebraOptions(c *command.Ctx, a *algebraArgs, opts [][]byte, op int, store, card bool) bool {
	a.weights = make([]float64, len(a.keys))
	for i := range a.weights {
		a.weights[i] = 1
	}
	for j := 0; j < len(opts); {
		left := len(opts) - j
		o := opts[j]
		switch {
		case op != opDiff && !card && left >= len(a.keys)+1 && command.EqFold(o, "weights"):
			j++
			for i := range a.keys {
				w, ok := parseScore(opts[j])
				if !ok {
					c.W.WriteError(command.ErrZWeightNotFloat)
					return false
				}
				a.weights[i] = w
				j++
			}
		case op != opDiff && !card && left >= 2 && command.EqFold(o, "aggregate"):
			switch v := opts[j+1]; {
			case command.EqFold(v, "sum"):
				a.agg = aggSum
			case command.EqFold(v, "min"):
				a.agg = aggMin
			case command.EqFold(v, "max"):
				a.agg = aggMax
			default:
				c.W.WriteError(command.ErrSyntax)
				return false
			}
			j += 2
		case !store && !card && command.EqFold(o, "withscores"):
			a.withScores = true
			j++
		case card && left >= 2 && command.EqFold(o, "limit"):
			n, ok := command.ParseInt(opts[j+1])
			if !ok || n < 0 {
				c.W.WriteError(command.ErrZLimitNegative)
				return false
			}
			a.limit = n
			j += 2
		default:
			c.W.WriteError(command.ErrSyntax)
			return false
		}
	}
	return true
}

// algebraResult is the outcome of one operation: the members in order
// (aliasing the inputs: valid under the lock only) or, for ZINTERCARD,
// the count.
type algebraResult struct {
	members []value.ZMember
	card    int
}

// runAlgebra computes op over srcs (in key order).
func runAlgebra(c *command.Ctx, srcs []zsrc, op, agg int, card bool, limit int64) algebraResult {
	var res algebraResult
	if op != opDiff {
		// smallest first, as Redis's qsort (stable here; glibc's merge
		// sort is too, so equal sizes keep key order)
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.length() - b.length() })
	}
	switch op {
	case opInter:
		if srcs[0].length() == 0 {
			return res
		}
		srcs[0].each(func(m []byte, sc float64) bool {
			score := srcs[0].weight * sc
			if math.IsNaN(score) {
				score = 0
			}
			for j := 1; j < len(srcs); j++ {
				var v float64
				if srcs[j].key == srcs[0].key {
					v = sc * srcs[j].weight
				} else if f, ok := srcs[j].find(m); ok {
					v = f * srcs[j].weight
				} else {
					return true
				}
				aggregate(&score, v, agg)
			}
			if card {
				res.card++
				return limit == 0 || int64(res.card) < limit
			}
			res.members = append(res.members, value.ZMember{Member: m, Score: score})
			return true
		})
	case opUnion:
		at := map[string]int{}
		for i := range srcs {
			if srcs[i].length() == 0 {
				continue
			}
			w := srcs[i].weight
			srcs[i].each(func(m []byte, sc float64) bool {
				score := w * sc
				if math.IsNaN(score) {
					score = 0
				}
				if k, ok := at[string(m)]; ok {
					aggregate(&res.members[k].Score, score, agg)
					return true
				}
				at[string(m)] = len(res.members)
				res.members = append(res.members, value.ZMember{Member: m, Score: score})
				return true
			})
		}
	case opDiff:
		if srcs[0].length() == 0 {
			return res
		}
		srcs[0].each(func(m []byte, sc float64) bool {
			for j := 1; j < len(srcs); j++ {
				if srcs[j].key == srcs[0].key {
					return true
				}
				if _, ok := srcs[j].find(m); ok {
					return true
				}
			}
			res.members = append(res.members, value.ZMember{Member: m, Score: sc})
			return true
		})
	}
	if !card {
		slices.SortFunc(res.members, value.ZCompare)
	}
	return res
}

// StoreEntry is the entry a STORE form writes for members (sorted, no
// repeats): compact while it fits zset-max-listpack-entries and -value,
// as Redis's zsetConvertToListpackIfNeeded decides, else a tree. Member
// bytes are copied.
func StoreEntry(lim value.Limits, members []value.ZMember, expireAt int64) shard.Entry {
	fits := int64(len(members)) <= lim.ZSetEntries
	for i := 0; fits && i < len(members); i++ {
		fits = int64(len(members[i].Member)) <= lim.ZSetValue
	}
	if fits {
		enc := value.ZSetAppendHeader(nil, len(members))
		for _, m := range members {
			enc = value.ZSetAppendMember(enc, m)
		}
		return shard.Entry{Value: enc, ExpireAt: expireAt, Type: shard.TypeZSet}
	}
	t := value.NewZSetTree(len(members))
	t.Set(slices.Clone(members))
	return shard.Entry{Obj: t, ExpireAt: expireAt, Type: shard.TypeZSet}
}

// algebra answers ZUNION ZINTER ZDIFF (store false, numkeys at 1), their
// STORE forms (destination at 1, numkeys at 2) and ZINTERCARD (card).
func algebra(c *command.Ctx, args [][]byte, op int, store, card bool) {
	at := 1
	if store {
		at = 2
	}
	var a algebraArgs
	var ok bool
	if a.keys, ok = parseNumkeys(c, args, at); !ok {
		return
	}
	opts := args[at+1+len(a.keys):]
	keys := make([]shard.Key, 0, len(a.keys)+1)
	if store {
		keys = append(keys, shard.Key{DB: c.DB, Name: args[1]})
	}
	for _, k := range a.keys {
		keys = append(keys, shard.Key{DB: c.DB, Name: k})
	}
	first := map[string]int{}
	srcKey := make([]int, len(a.keys))
	for i, k := range a.keys {
		if j, seen := first[string(k)]; seen {
			srcKey[i] = j
		} else {
			first[string(k)] = i
			srcKey[i] = i
		}
	}
	lim := c.Limits()
	now := c.NowMs()
	var recs []byte // the reply's members, copied (ZAppendScored records)
	var res algebraResult
	parsed := false
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		off := len(keys) - len(a.keys)
		srcs := make([]zsrc, len(a.keys))
		for i := range a.keys {
			e := cur[off+i]
			srcs[i] = zsrc{key: srcKey[i]}
			if !exists[off+i] {
				continue
			}
			switch e.Type {
			case shard.TypeZSet:
				srcs[i].z = value.ViewZSet(e.Value, e.Obj)
			case shard.TypeSet:
				srcs[i].s, srcs[i].isSet = value.ViewSet(e.Value, e.Obj), true
			default:
				return nil, nil, command.ErrWrongTypeAbort
			}
		}
		if !parsed {
			// Options are parsed after the type checks, as in Redis; an
			// error here was answered and aborts with errParsed.
			if !parseAlgebraOptions(c, &a, opts, op, store, card) {
				return nil, nil, errParsed
			}
			parsed = true
		}
		for i := range srcs {
			srcs[i].weight = a.weights[i]
		}
		res = runAlgebra(c, srcs, op, a.agg, card, a.limit)
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		if store {
			if len(res.members) == 0 {
				acts[0] = shard.Delete
			} else {
				next[0], acts[0] = StoreEntry(lim, res.members, c.DefaultExpire(now)), shard.Put
			}
			return next, acts, nil
		}
		recs = c.Scratch[:0]
		for _, m := range res.members {
			recs = value.ZAppendScored(recs, m)
		}
		return next, acts, nil
	})
	switch {
	case err == errParsed:
		return
	case err != nil:
		c.StoreErr(err)
		return
	}
	switch {
	case store:
		if len(res.members) > 0 {
			c.Signal(args[1])
		}
		c.W.WriteInt(len(res.members))
	case card:
		c.W.WriteInt(res.card)
	default:
		defer c.KeepScratch(recs)
		writeRecords(c, recs, len(res.members), a.withScores)
	}
}

// errParsed aborts an Apply whose callback already answered.
var errParsed = command.ReplyErr("")

// writeRecords writes n ZAppendScored records as zwriteMembers does.
func writeRecords(c *command.Ctx, recs []byte, n int, withScores bool) {
	out := make([]value.ZMember, 0, n)
	it := value.ZSetRecords(recs, n)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		out = append(out, m)
	}
	zwriteMembers(c, out, withScores)
}

func cmdZUnion(c *command.Ctx, args [][]byte)      { algebra(c, args, opUnion, false, false) }
func cmdZInter(c *command.Ctx, args [][]byte)      { algebra(c, args, opInter, false, false) }
func cmdZDiff(c *command.Ctx, args [][]byte)       { algebra(c, args, opDiff, false, false) }
func cmdZUnionStore(c *command.Ctx, args [][]byte) { algebra(c, args, opUnion, true, false) }
func cmdZInterStore(c *command.Ctx, args [][]byte) { algebra(c, args, opInter, true, false) }
func cmdZDiffStore(c *command.Ctx, args [][]byte)  { algebra(c, args, opDiff, true, false) }
func cmdZInterCard(c *command.Ctx, args [][]byte)  { algebra(c, args, opInter, false, true) }

// numkeysWriteKeys marks, for WATCH, the keys of a command with numkeys
// at position at (ZMPOP 1, BZMPOP 2).
func numkeysWriteKeys(at int) func(db int, args [][]byte, mark func(db int, key []byte)) {
	return func(db int, args [][]byte, mark func(db int, key []byte)) {
		if at >= len(args) {
			return
		}
		n, ok := command.ParseInt(args[at])
		if !ok || n < 1 || n > int64(len(args)-at-1) {
			return
		}
		for _, k := range args[at+1 : at+1+int(n)] {
			mark(db, k)
		}
	}
}

// numkeysKeysOf locates the keys of a command with numkeys at position at
// (and, for the STORE forms, the destination at 1), as Redis's
// getkeys_proc: COMMAND GETKEYS and client-side tracking read them.
func numkeysKeysOf(at int, dest bool) func(args [][]byte, each func(i int)) {
	return func(args [][]byte, each func(i int)) {
		if at >= len(args) {
			return
		}
		n, ok := command.ParseInt(args[at])
		if !ok || n < 1 || n > int64(len(args)-at-1) {
			return // Redis names no key, not even the destination
		}
		if dest {
			each(1)
		}
		for i := range int(n) {
			each(at + 1 + i)
		}
	}
}
