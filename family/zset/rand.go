package zset

import (
	"math/rand/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/value"
)

// memberAt returns the member of rank r (0-based, ascending) of z; all is
// a compact set decoded once.
func memberAt(z value.ZSetView, all []value.ZMember, r int) value.ZMember {
	if z.Tree == nil {
		return all[r]
	}
	var out value.ZMember
	z.Tree.Walk(r, false, func(m value.ZMember) bool { out = m; return false })
	return out
}

// cmdZRandMember: ZRANDMEMBER key [count [WITHSCORES]], Redis 7.0's
// zrandmemberCommand: without count one random member (nil for a missing
// key); a positive count that many distinct members (the whole set, in
// order, when count covers it); a negative count -count members with
// repeats. A tree is sampled by rank, O(log n) a member. WITHSCORES pairs
// are flat in RESP2 and [member, score] arrays in RESP3.
func cmdZRandMember(c *command.Ctx, args [][]byte) {
	if len(args) == 2 {
		var recs []byte
		found, wrong := zsetView(c, args[1], func(z value.ZSetView) {
			var all []value.ZMember
			if z.Tree == nil {
				all, _ = value.ZSetDecode(nil, z.Enc)
				if len(all) == 0 {
					return
				}
			}
			recs = value.ZAppendScored(c.Scratch[:0], memberAt(z, all, rand.IntN(z.Len())))
		})
		switch {
		case wrong:
		case !found || recs == nil:
			c.W.WriteNull()
		default:
			it := value.ZSetRecords(recs, 1)
			m, _ := it.Next()
			c.W.WriteBulk(m.Member)
			c.KeepScratch(recs)
		}
		return
	}
	l, withScores, ok := command.RandCount(c, args, "withscores")
	if !ok {
		return
	}
	var recs []byte
	n := 0
	tooLarge := false
	found, wrong := zsetView(c, args[1], func(z value.ZSetView) {
		recs, n = c.Scratch[:0], 0
		size := z.Len()
		var all []value.ZMember
		if z.Tree == nil {
			all, _ = value.ZSetDecode(nil, z.Enc)
			size = len(all)
		}
		if size == 0 || l == 0 {
			return
		}
		add := func(m value.ZMember) {
			recs = value.ZAppendScored(recs, m)
			n++
		}
		switch {
		case l < 0:
			avg := 16
			if z.Tree != nil {
				avg = int(z.Tree.Bytes() / int64(size))
			} else {
				avg = len(z.Enc) / size
			}
			if tooLarge = !c.RandReplyFits(-l, 2*avg, withScores); tooLarge {
				return
			}
			for range -l {
				add(memberAt(z, all, rand.IntN(size)))
			}
		case l >= int64(size):
			if z.Tree != nil {
				z.Tree.Walk(0, false, func(m value.ZMember) bool { add(m); return true })
				return
			}
			for _, m := range all {
				add(m)
			}
		case l*3 > int64(size):
			// Most of the set: drop random ranks until l are left.
			keep := make([]int, size)
			for i := range keep {
				keep[i] = i
			}
			rand.Shuffle(size, func(i, j int) { keep[i], keep[j] = keep[j], keep[i] })
			for _, r := range keep[:l] {
				add(memberAt(z, all, r))
			}
		default:
			seen := make(map[int]struct{}, l)
			for int64(len(seen)) < l {
				r := rand.IntN(size)
				if _, dup := seen[r]; dup {
					continue
				}
				seen[r] = struct{}{}
				add(memberAt(z, all, r))
			}
		}
	})
	if wrong {
		return
	}
	defer c.KeepScratch(recs)
	if tooLarge {
		c.W.WriteError(command.ErrZRandTooLarge)
		return
	}
	if !found || n == 0 {
		c.W.WriteArray(0)
		return
	}
	c.WriteRandHeader(n, withScores)
	it := value.ZSetRecords(recs, n)
	i := 0
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		if i++; i&command.ReplyYieldEvery == 0 {
			c.Yield()
			if c.Conn.WriteErr() != nil {
				return
			}
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
