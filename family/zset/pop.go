package zset

import (
	"math"
	"math/big"
	"time"

	"github.com/tcached/tcached/command"
)

// # Multi-key and blocking pops: ZMPOP BZMPOP BZPOPMIN BZPOPMAX
//
// Redis 7.0's genericZpopCommand over several keys: the first key that
// exists is popped from (WRONGTYPE if it is not a sorted set). The
// blocking forms wait through the same blocked-client path as BLPOP
// (command.Conn.Block): a write that leaves a sorted set at a key of the
// tenant (ZADD, ZINCRBY, the STORE forms, GEOADD, ...) signals it, and a
// woken client pops from the keys signalled, skipping a key of another
// type (as Redis's wake-up only serves keys holding a sorted set).

// blockTimeout parses a blocking command's timeout as Redis's
// getTimeoutFromObjectOrReply does (seconds as a long double, rounded up
// to the millisecond) with BLPOP's wait policy (family/list): 0, and
// anything longer than the connection's MaxBlock, waits MaxBlock.
func blockTimeout(c *command.Ctx, b []byte) (time.Duration, bool) {
	f, ok := command.ParseLongDouble(b)
	if !ok {
		c.W.WriteError(command.ErrListTimeoutNotFloat)
		return 0, false
	}
	ms := new(big.Float).SetPrec(command.LongDoublePrec).Mul(f, big.NewFloat(1000))
	n, acc := ms.Int64()
	if acc == big.Below && n < math.MaxInt64 {
		n++
	}
	if n < 0 || ms.Cmp(new(big.Float).SetInt64(math.MaxInt64)) > 0 {
		c.W.WriteError(command.ErrListTimeoutNegative)
		return 0, false
	}
	max := c.Conn.MaxBlock()
	if n == 0 || n > max.Milliseconds() {
		return max, true
	}
	return time.Duration(n) * time.Millisecond, true
}

// popShape is how a multi-key pop replies.
type popShape int

const (
	popFlatKey popShape = iota // BZPOPMIN: [key, member, score]
	popNested                  // ZMPOP, BZMPOP: [key, [[member, score], ...]]
)

// popFrom pops from key if it holds a sorted set and answers. strict
// answers WRONGTYPE for a key of another type (the first attempt, as
// Redis), otherwise such a key is skipped. It reports whether it
// answered.
func popFrom(c *command.Ctx, key []byte, count int64, top bool, shape popShape, strict bool) bool {
	buf, n, found, err := zpopKey(c, key, count, top, c.Scratch[:0])
	if err == command.ErrWrongTypeAbort && !strict {
		return false
	}
	if err != nil {
		c.StoreErr(err)
		return true
	}
	if !found || n == 0 {
		return false
	}
	defer c.KeepScratch(buf)
	if shape == popFlatKey {
		c.W.WriteArray(2*n + 1)
		c.W.WriteBulk(key)
		writePopped(c, buf, n, false)
		return true
	}
	c.W.WriteArray(2)
	c.W.WriteBulk(key)
	c.W.WriteArray(n)
	writePopped(c, buf, n, true)
	return true
}

// popAny tries the keys in order (the first attempt: strict).
func popAny(c *command.Ctx, keys [][]byte, count int64, top bool, shape popShape, strict bool) bool {
	for i, k := range keys {
		if i&popYieldEvery == popYieldEvery {
			c.Yield()
		}
		if popFrom(c, k, count, top, shape, strict) {
			return true
		}
	}
	return false
}

// popYieldEvery: walks over a pop's keys reach a checkpoint every
// popYieldEvery+1 keys.
const popYieldEvery = 255

// blockingPop pops at once or blocks on keys (see the section comment).
func blockingPop(c *command.Ctx, args, keys [][]byte, wait time.Duration, count int64, top bool, shape popShape) {
	if popAny(c, keys, count, top, shape, true) {
		return
	}
	c.Conn.Block(args, keys, wait, func(which []int32) bool {
		if which == nil {
			return popAny(c, keys, count, top, shape, false)
		}
		for _, i := range which {
			if popFrom(c, keys[i], count, top, shape, false) {
				return true
			}
		}
		return false
	}, c.W.WriteNullArray)
}

// bzpop answers BZPOPMIN and BZPOPMAX: key [key ...] timeout.
func bzpop(c *command.Ctx, args [][]byte, top bool) {
	wait, ok := blockTimeout(c, args[len(args)-1])
	if !ok {
		return
	}
	blockingPop(c, args, args[1:len(args)-1], wait, 1, top, popFlatKey)
}

func cmdBZPopMin(c *command.Ctx, args [][]byte) { bzpop(c, args, false) }
func cmdBZPopMax(c *command.Ctx, args [][]byte) { bzpop(c, args, true) }

// zmpop answers ZMPOP (numkeys at 1) and BZMPOP (timeout at 1, numkeys
// at 2): numkeys key [key ...] MIN|MAX [COUNT count].
func zmpop(c *command.Ctx, args [][]byte, block bool) {
	at := 1
	if block {
		at = 2
	}
	n, ok := command.ParseInt(args[at])
	if !ok || n < 1 {
		c.W.WriteError(command.ErrZNumkeysPositive)
		return
	}
	where := int64(at) + n + 1
	if n >= int64(len(args)) || where >= int64(len(args)) {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	var top bool
	switch w := args[where]; {
	case command.EqFold(w, "min"):
	case command.EqFold(w, "max"):
		top = true
	default:
		c.W.WriteError(command.ErrSyntax)
		return
	}
	count := int64(-1)
	for j := int(where) + 1; j < len(args); j++ {
		if count == -1 && command.EqFold(args[j], "count") && j+1 < len(args) {
			j++
			v, ok := command.ParseInt(args[j])
			if !ok || v < 1 {
				c.W.WriteError(command.ErrZCountPositive)
				return
			}
			count = v
			continue
		}
		c.W.WriteError(command.ErrSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	keys := args[at+1 : where]
	if !block {
		if !popAny(c, keys, count, top, popNested, true) {
			c.W.WriteNullArray()
		}
		return
	}
	wait, ok := blockTimeout(c, args[1])
	if !ok {
		return
	}
	blockingPop(c, args, keys, wait, count, top, popNested)
}

func cmdZMPop(c *command.Ctx, args [][]byte)  { zmpop(c, args, false) }
func cmdBZMPop(c *command.Ctx, args [][]byte) { zmpop(c, args, true) }
