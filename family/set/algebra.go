package set

import (
	"bytes"
	"slices"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// setOp is the algebra of SINTER, SUNION and SDIFF: it appends the result
// to dst in the compact layout and reports whether it came out sorted (a
// compact encoding ready to store).
type setOp func(dst []byte, sets []value.SetView) (res []byte, sorted bool, err error)

// allCompact returns the sets' encodings when none is a table.
func allCompact(sets []value.SetView) ([][]byte, bool) {
	encs := make([][]byte, len(sets))
	for i, s := range sets {
		if s.Tab != nil {
			return nil, false
		}
		encs[i] = s.Enc
	}
	return encs, true
}

// opInter: the compact sets' merge, or the smallest set's members probed
// in every other (O(smallest * number of sets), Redis's algorithm).
func opInter(dst []byte, sets []value.SetView) ([]byte, bool, error) {
	if encs, ok := allCompact(sets); ok {
		res, err := value.SetInter(dst, encs)
		return res, true, err
	}
	order := slices.Clone(sets)
	slices.SortFunc(order, func(a, b value.SetView) int { return a.Len() - b.Len() })
	if order[0].Len() == 0 {
		return value.SetAppendHeader(dst, 0), true, nil
	}
	looks := make([]value.SetLookup, len(order))
	for i, s := range order[1:] {
		looks[i+1] = s.Lookup()
	}
	var res [][]byte
	order[0].Range(func(m []byte) bool {
		for _, l := range looks[1:] {
			if !l.Has(m) {
				return true
			}
		}
		res = append(res, m)
		return true
	})
	return appendList(dst, res), order[0].Tab == nil, nil
}

// opUnion: the compact sets' merge, or every member added to a scratch
// table that drops the repeats.
func opUnion(dst []byte, sets []value.SetView) ([]byte, bool, error) {
	if encs, ok := allCompact(sets); ok {
		res, err := value.SetUnion(dst, encs)
		return res, true, err
	}
	total := 0
	for _, s := range sets {
		total += s.Len()
	}
	u := value.NewSetTable(total)
	one := make([][]byte, 1)
	for _, s := range sets {
		s.Range(func(m []byte) bool {
			one[0] = m
			u.Add(one)
			return true
		})
	}
	return u.AppendList(dst), false, nil
}

// opDiff: the members of the first set in none of the others, probed
// (O(first * number of sets)).
func opDiff(dst []byte, sets []value.SetView) ([]byte, bool, error) {
	if encs, ok := allCompact(sets); ok {
		res, err := value.SetDiff(dst, encs)
		return res, true, err
	}
	looks := make([]value.SetLookup, len(sets))
	for i, s := range sets[1:] {
		looks[i+1] = s.Lookup()
	}
	var res [][]byte
	sets[0].Range(func(m []byte) bool {
		for _, l := range looks[1:] {
			if l.Has(m) {
				return true
			}
		}
		res = append(res, m)
		return true
	})
	return appendList(dst, res), sets[0].Tab == nil, nil
}

func appendList(dst []byte, members [][]byte) []byte {
	dst = value.SetAppendHeader(dst, len(members))
	for _, m := range members {
		dst = value.SetAppendMember(dst, m)
	}
	return dst
}

// storeSet is the entry a STORE form writes for the result res (the
// compact layout, sorted or not): compact, tagged as Redis would have
// encoded it (value.Limits.SetCompactTag, as if added to a new intset), or
// a table.
func storeSet(lim value.Limits, res []byte, sorted bool, expireAt int64) (shard.Entry, error) {
	members, err := value.SetSlice(nil, res)
	if err != nil {
		return shard.Entry{}, err
	}
	tag, ok := lim.SetCompactTag(value.SetTagIntset, len(members), members, value.AllInts(members))
	if !ok {
		t, err := value.SetTableFrom(nil, members)
		return shard.Entry{Obj: t, ExpireAt: expireAt, Type: shard.TypeSet}, err
	}
	if !sorted {
		slices.SortFunc(members, bytes.Compare)
		res = value.SetEncode(nil, members)
	}
	return shard.Entry{Value: res, ExpireAt: expireAt, Type: shard.TypeSet, Enc: tag}, nil
}

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
	lim := c.Limits()
	var res []byte
	now := c.NowMs()
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		sets := make([]value.SetView, 0, len(cur))
		for i := from - 1; i < len(cur); i++ {
			if exists[i] && cur[i].Type != shard.TypeSet {
				return nil, nil, command.ErrWrongTypeAbort
			}
			sets = append(sets, value.ViewSet(cur[i].Value, cur[i].Obj)) // empty for a missing key
		}
		var sorted bool
		var err error
		if res, sorted, err = op((*bp)[:0], sets); err != nil {
			return nil, nil, err
		}
		*bp = res[:0]
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur)) // Keep
		if store {
			if value.SetLen(res) == 0 {
				acts[0] = shard.Delete
			} else {
				e, err := storeSet(lim, res, sorted, c.DefaultExpire(now))
				if err != nil {
					return nil, nil, err
				}
				next[0], acts[0] = e, shard.Put
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
func cmdSInter(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opInter, false) }

// cmdSUnion: SUNION key [key ...] -> the union, a set.
func cmdSUnion(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opUnion, false) }

// cmdSDiff: SDIFF key [key ...] -> members of the first not in the others.
func cmdSDiff(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opDiff, false) }

// cmdSInterStore: SINTERSTORE destination key [key ...] -> result size.
func cmdSInterStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opInter, true) }

// cmdSUnionStore: SUNIONSTORE destination key [key ...] -> result size.
func cmdSUnionStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opUnion, true) }

// cmdSDiffStore: SDIFFSTORE destination key [key ...] -> result size.
func cmdSDiffStore(c *command.Ctx, args [][]byte) { setsAlgebra(c, args, opDiff, true) }
