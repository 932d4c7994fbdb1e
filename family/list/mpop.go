package list

import (
	"math"
	"time"

	"github.com/tcached/tcached/command"
)

// LMPOP, BLMPOP, RPOPLPUSH and BRPOPLPUSH (Redis 7.0's t_list.c).

// mpopArgs is LMPOP's and BLMPOP's parsed arguments.
type mpopArgs struct {
	keys  [][]byte
	left  bool
	count int
}

// parseMPop parses numkeys key [key ...] LEFT|RIGHT [COUNT count] starting
// at args[at] (the numkeys), in lmpopGenericCommand's order; on bad input
// it writes the error and returns false.
func parseMPop(c *command.Ctx, args [][]byte, at int) (mpopArgs, bool) {
	var m mpopArgs
	numkeys, ok := command.ParseInt(args[at])
	if !ok || numkeys < 1 {
		c.W.WriteError(command.ErrNumkeysPositive)
		return m, false
	}
	if numkeys >= int64(len(args)) || int64(at)+numkeys+1 >= int64(len(args)) {
		c.W.WriteError(command.ErrSyntax)
		return m, false
	}
	whereAt := at + int(numkeys) + 1
	left, ok := listParseWhere(args[whereAt])
	if !ok {
		c.W.WriteError(command.ErrSyntax)
		return m, false
	}
	m.keys, m.left, m.count = args[at+1:whereAt], left, -1
	for j := whereAt + 1; j < len(args); j++ {
		if m.count == -1 && command.EqFold(args[j], "count") && j+1 < len(args) {
			j++
			n, ok := command.ParseInt(args[j])
			if !ok || n < 1 {
				c.W.WriteError(command.ErrCountPositive)
				return m, false
			}
			m.count = int(min(n, math.MaxInt32))
			continue
		}
		c.W.WriteError(command.ErrSyntax)
		return m, false
	}
	if m.count == -1 {
		m.count = 1
	}
	return m, true
}

// mpopKey pops up to m.count elements from key and answers [key,
// [elements]]. strict answers WRONGTYPE for a key of another type (the
// first attempt, as Redis); otherwise such a key is skipped. It reports
// whether it answered.
func mpopKey(c *command.Ctx, m *mpopArgs, key []byte, strict bool, a *listArena) bool {
	exists, err := listPop(c, key, m.count, m.left, a)
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
	c.W.WriteBulk(key)
	a.writeArray(c)
	return true
}

// mpopAll tries the keys in order.
func mpopAll(c *command.Ctx, m *mpopArgs, strict bool, a *listArena) bool {
	for i, k := range m.keys {
		if i&listYieldEvery == listYieldEvery {
			c.Yield()
		}
		if mpopKey(c, m, k, strict, a) {
			return true
		}
	}
	return false
}

// cmdLMPop: LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] -> [key,
// [element ...]] from the first non-empty list, or a null array.
func cmdLMPop(c *command.Ctx, args [][]byte) {
	m, ok := parseMPop(c, args, 1)
	if !ok {
		return
	}
	var a listArena
	if !mpopAll(c, &m, true, &a) {
		c.W.WriteNullArray()
	}
}

// cmdBLMPop: BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT
// count], as LMPOP, blocking while every list is empty; a null array on
// timeout (and inside MULTI).
func cmdBLMPop(c *command.Ctx, args [][]byte) {
	m, ok := parseMPop(c, args, 2)
	if !ok {
		return
	}
	wait, ok := listBlockTimeout(c, args[1])
	if !ok {
		return
	}
	var a listArena
	if mpopAll(c, &m, true, &a) {
		return
	}
	c.Conn.Block(args, m.keys, wait, func(which []int32) bool {
		if which == nil {
			return mpopAll(c, &m, false, &a)
		}
		for _, i := range which {
			if mpopKey(c, &m, m.keys[i], false, &a) {
				return true
			}
		}
		return false
	}, c.W.WriteNullArray)
}

// mpopWrites: the keys LMPOP (keysAt 1) and BLMPOP (keysAt 2) write, for
// WATCH: their keys follow numkeys, which a fixed key range cannot
// describe (Redis declares them with a keynum key spec).
func mpopWrites(at int) func(db int, args [][]byte, mark func(db int, key []byte)) {
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

// blockingMove is BLMOVE's and BRPOPLPUSH's body once parsed: the move
// now, else a wait on source (a null bulk inside MULTI, as Redis answers).
func blockingMove(c *command.Ctx, args [][]byte, src, dst []byte, from, to bool, wait time.Duration) {
	var a listArena
	try := func(strict bool) bool {
		moved, srcWrong, err := listMove(c, src, dst, from, to, &a)
		switch {
		case err != nil && srcWrong && !strict:
			return false
		case err != nil:
			c.StoreErr(err)
		case !moved:
			return false
		default:
			c.Signal(dst)
			c.W.WriteBulk(a.at(0))
			c.KeepScratch(a.buf)
		}
		return true
	}
	if try(true) {
		return
	}
	if !c.Conn.CanBlock() {
		c.W.WriteNull()
		return
	}
	c.Conn.Block(args, [][]byte{src}, wait, func([]int32) bool { return try(false) }, c.W.WriteNullArray)
}

// cmdRPopLPush: RPOPLPUSH source destination, LMOVE source destination
// RIGHT LEFT.
func cmdRPopLPush(c *command.Ctx, args [][]byte) {
	var a listArena
	moved, _, err := listMove(c, args[1], args[2], false, true, &a)
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

// cmdBRPopLPush: BRPOPLPUSH source destination timeout, BLMOVE source
// destination RIGHT LEFT timeout.
func cmdBRPopLPush(c *command.Ctx, args [][]byte) {
	wait, ok := listBlockTimeout(c, args[3])
	if !ok {
		return
	}
	blockingMove(c, args, args[1], args[2], false, true, wait)
}
