package list

import (
	"math"
	"math/big"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// listMove moves one element from the fromLeft end of src to the toLeft
// end of dst, atomically, copying it into a. moved is false when src is
// missing. srcWrong reports a WRONGTYPE caused by src (err is then set
// too), so a blocked BLMOVE can keep waiting on it.
func listMove(c *command.Ctx, src, dst []byte, fromLeft, toLeft bool, a *listArena) (moved, srcWrong bool, err error) {
	b1 := command.EncBufs.Get().(*[]byte)
	b2 := command.EncBufs.Get().(*[]byte)
	defer func() {
		for _, bp := range []*[]byte{b1, b2} {
			if cap(*bp) <= command.MaxPooled {
				*bp = (*bp)[:0]
				command.EncBufs.Put(bp)
			}
		}
	}()
	lim := c.Limits()
	now := c.NowMs()
	if string(src) == string(dst) {
		// Same key: a rotation, or nothing when both ends are the same.
		err = command.CollWrite(c, src, shard.TypeList,
			func(dstBuf, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
				a.reset(c.Scratch)
				moved = false
				if !exists {
					return nil, 0, nil, false, nil
				}
				var e []byte
				mid, _, err := value.ListPop((*b1)[:0], cur, 1, fromLeft, func(x []byte) { e = x })
				*b1 = mid[:0]
				if err != nil {
					return nil, 0, nil, false, err
				}
				a.add(e)
				moved = true
				next, err := value.ListPush(dstBuf, mid, [][]byte{e}, toLeft)
				return next, 0, nil, true, err
			},
			func(obj shard.Object) (int64, bool, bool, error) {
				a.reset(c.Scratch)
				q := obj.(*value.QuickList)
				end := 0
				if !fromLeft {
					end = q.Len() - 1
				}
				a.add(q.Index(end))
				moved = true
				if fromLeft == toLeft || q.Len() == 1 {
					return 0, false, false, nil // the list stays as it is
				}
				return q.PlanRotate(fromLeft), true, false, nil
			},
			func(obj shard.Object) { obj.(*value.QuickList).Rotate(fromLeft) })
		srcWrong = err == command.ErrWrongTypeAbort
		return moved, srcWrong, err
	}
	keys := []shard.Key{{DB: c.DB, Name: src}, {DB: c.DB, Name: dst}}
	var srcQ, dstQ *value.QuickList // edited in place by the commit
	var elem [][]byte
	err = c.Part.ApplyEdit(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		a.reset(c.Scratch)
		moved, srcWrong = false, false
		srcQ, dstQ = nil, nil
		keep := []shard.Action{shard.Keep, shard.Keep}
		if !exists[0] {
			return cur, keep, nil
		}
		if cur[0].Type != shard.TypeList {
			srcWrong = true
			return nil, nil, command.ErrWrongTypeAbort
		}
		if exists[1] && cur[1].Type != shard.TypeList {
			return nil, nil, command.ErrWrongTypeAbort
		}
		next := make([]shard.Entry, 2)
		acts := []shard.Action{shard.Put, shard.Put}
		// The source: the element is copied into a first.
		if q, ok := cur[0].Obj.(*value.QuickList); ok {
			end := 0
			if !fromLeft {
				end = q.Len() - 1
			}
			a.add(q.Index(end))
			if q.Len() == 1 {
				acts[0] = shard.Delete
			} else {
				srcQ, acts[0] = q, shard.Edit
			}
		} else {
			var e []byte
			srcNext, _, err := value.ListPop((*b1)[:0], cur[0].Value, 1, fromLeft, func(x []byte) { e = x })
			*b1 = srcNext[:0]
			if err != nil {
				return nil, nil, err
			}
			a.add(e)
			next[0] = shard.Entry{Value: srcNext, ExpireAt: cur[0].ExpireAt, Type: shard.TypeList}
			if value.ListLen(srcNext) == 0 {
				acts[0] = shard.Delete
			}
		}
		elem = [][]byte{a.at(0)}
		// The destination.
		if q, ok := cur[1].Obj.(*value.QuickList); ok && exists[1] {
			dstQ, acts[1] = q, shard.Edit
			next[1] = shard.Entry{Grow: q.PlanPush(elem, toLeft)}
		} else {
			var dstCur []byte
			dstExpire := c.DefaultExpire(now)
			if exists[1] {
				dstCur, dstExpire = cur[1].Value, cur[1].ExpireAt
			}
			dstNext, err := value.ListPush((*b2)[:0], dstCur, elem, toLeft)
			*b2 = dstNext[:0]
			if err != nil {
				return nil, nil, err
			}
			obj, err := compactOrBig(lim, dstNext)
			if err != nil {
				return nil, nil, err
			}
			next[1] = shard.Entry{Value: dstNext, ExpireAt: dstExpire, Type: shard.TypeList}
			if obj != nil {
				next[1] = shard.Entry{Obj: obj, ExpireAt: dstExpire, Type: shard.TypeList}
			}
		}
		moved = true
		return next, acts, nil
	}, func() {
		if srcQ != nil {
			srcQ.Pop(1, fromLeft, nil)
		}
		if dstQ != nil {
			dstQ.Push(elem, toLeft)
		}
	})
	if err != nil {
		moved = false
	}
	return moved, srcWrong, err
}

// cmdLMove: LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> the element
// moved, or nil when source is missing.
func cmdLMove(c *command.Ctx, args [][]byte) {
	from, ok1 := listParseWhere(args[3])
	to, ok2 := listParseWhere(args[4])
	if !ok1 || !ok2 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	var a listArena
	moved, _, err := listMove(c, args[1], args[2], from, to, &a)
	switch {
	case err != nil:
		c.StoreErr(err)
	case !moved:
		c.W.WriteNull()
	default:
		c.Signal(args[2])
		c.W.WriteBulk(a.at(0))
		c.KeepScratch(a.buf)
	}
}

// listBlockTimeout parses a blocking command's timeout as Redis's
// getTimeoutFromObjectOrReply does (seconds as a long double, rounded up
// to the millisecond) and applies the wait policy: 0, and anything longer
// than MaxBlockWait, waits MaxBlockWait.
func listBlockTimeout(c *command.Ctx, b []byte) (time.Duration, bool) {
	f, ok := command.ParseLongDouble(b)
	if !ok {
		c.W.WriteError(command.ErrListTimeoutNotFloat)
		return 0, false
	}
	ms := new(big.Float).SetPrec(command.LongDoublePrec).Mul(f, big.NewFloat(1000))
	n, acc := ms.Int64()
	if acc == big.Below && n < math.MaxInt64 {
		n++ // ceil, as Redis 7.2 (7.0 truncates: 0.0001 would block forever)
	}
	// Redis 7.0's conversion overflows a timeout beyond the int64
	// milliseconds (inf included) into a negative one, and so answers
	// "timeout is negative" (checked against redis-server 7.0.15).
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

// listBlockingPop answers BLPOP and BRPOP: key [key ...] timeout.
func listBlockingPop(c *command.Ctx, args [][]byte, left bool) {
	wait, ok := listBlockTimeout(c, args[len(args)-1])
	if !ok {
		return
	}
	keys := args[1 : len(args)-1]
	var a listArena
	// pop pops from key if it holds a list; strict answers WRONGTYPE for a
	// key of another type (the first attempt, as Redis), otherwise such a
	// key is skipped (a woken client, as Redis's wakeup only serves keys
	// that are lists). It reports whether it answered.
	pop := func(k []byte, strict bool) bool {
		exists, err := listPop(c, k, 1, left, &a)
		if err == command.ErrWrongTypeAbort && !strict {
			return false
		}
		if err != nil {
			c.StoreErr(err)
			return true
		}
		if !exists || a.n() == 0 {
			return false
		}
		c.W.WriteArray(2)
		c.W.WriteBulk(k)
		c.W.WriteBulk(a.at(0))
		c.KeepScratch(a.buf)
		return true
	}
	// all tries every key in order; which the keys signalled, in the
	// order they were.
	all := func(strict bool) bool {
		for i, k := range keys {
			if i&listYieldEvery == listYieldEvery {
				c.Yield()
			}
			if pop(k, strict) {
				return true
			}
		}
		return false
	}
	if all(true) {
		return
	}
	c.Conn.Block(args, keys, wait, func(which []int32) bool {
		if which == nil {
			return all(false)
		}
		for _, i := range which {
			if pop(keys[i], false) {
				return true
			}
		}
		return false
	}, c.W.WriteNullArray)
}

// listYieldEvery: walks over a blocking command's keys reach a checkpoint
// (fair.go) every listYieldEvery+1 keys.
const listYieldEvery = 255

// cmdBLPop: BLPOP key [key ...] timeout -> [key, element], or a null array
// on timeout.
func cmdBLPop(c *command.Ctx, args [][]byte) { listBlockingPop(c, args, true) }

// cmdBRPop: BRPOP key [key ...] timeout, as BLPOP from the tail.
func cmdBRPop(c *command.Ctx, args [][]byte) { listBlockingPop(c, args, false) }

// cmdBLMove: BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout ->
// the element moved, or a null array on timeout (nil inside MULTI).
func cmdBLMove(c *command.Ctx, args [][]byte) {
	from, ok1 := listParseWhere(args[3])
	to, ok2 := listParseWhere(args[4])
	if !ok1 || !ok2 {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	wait, ok := listBlockTimeout(c, args[5])
	if !ok {
		return
	}
	blockingMove(c, args, args[1], args[2], from, to, wait)
}
