package server

// List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
// LSET LREM LTRIM LINSERT LPOS LMOVE and the blocking BLPOP BRPOP BLMOVE,
// with Redis 7's semantics, replies and error strings.
//
// A list is one entry of type shard.TypeList whose value is the encoding
// of value/list.go, written through listUpdate (one Partition.Mutate) or,
// for LMOVE between two keys, one Partition.Apply, so both keys change
// atomically and the quota is reserved for the growth before it is
// stored. The hash handlers (cmd_hash.go) are the model: WRONGTYPE on a
// key of another type, the tier's default TTL for a new list, an existing
// list keeps its TTL, an emptied list is deleted.
//
// Blocking: block.go.

import (
	"math"
	"math/big"
	"time"

	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const (
	errListIndexRange      = "ERR index out of range"
	errListMustBePositive  = "ERR value is out of range, must be positive"
	errListTimeoutNotFloat = "ERR timeout is not a float or out of range"
	errListTimeoutNegative = "ERR timeout is negative"
	errListRankZero        = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errListCountNeg        = "ERR COUNT can't be negative"
	errListMaxlenNeg       = "ERR MAXLEN can't be negative"
)

// maxBlockWait bounds a blocking command's wait, timeout 0 included.
const maxBlockWait = time.Hour

// listUpdate changes the list at key, as hashUpdate does for hashes. build
// gets the current encoding (nil when the key is missing) and a buffer to
// append the next one to; it returns the next encoding and whether
// anything changed. build may run more than once and must only record
// results. A key of another type is WRONGTYPE; a list left empty is
// deleted; a new list gets the tier's default TTL.

func listUpdate(c *client, key []byte, build buildFn) error {
	return collUpdate(c, key, shard.TypeList, build)
}
func listView(c *client, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return collView(c, key, shard.TypeList, fn)
}

// listArena collects copies of elements for a reply built after the lock is
// released.
type listArena struct {
	buf  []byte
	offs []int // element i is buf[offs[i]:offs[i+1]]
}

func (a *listArena) reset(base []byte) {
	a.buf = base[:0]
	a.offs = append(a.offs[:0], 0)
}

func (a *listArena) add(e []byte) {
	a.buf = append(a.buf, e...)
	a.offs = append(a.offs, len(a.buf))
}

func (a *listArena) n() int          { return max(len(a.offs)-1, 0) }
func (a *listArena) at(i int) []byte { return a.buf[a.offs[i]:a.offs[i+1]] }

func (a *listArena) writeArray(c *client) {
	c.conn.WriteArray(a.n())
	for i := range a.n() {
		if i&replyYieldEvery == replyYieldEvery {
			c.yield() // a big LRANGE (fair.go, "Long commands")
		}
		c.conn.WriteBulk(a.at(i))
	}
	keepScratch(c, a.buf)
}

// listPushCmd answers LPUSH RPUSH (onlyExisting false) and LPUSHX RPUSHX.
func listPushCmd(c *client, args [][]byte, left, onlyExisting bool) {
	n := 0
	err := listUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		n = 0
		if !exists && onlyExisting {
			return nil, false, nil
		}
		next, err := value.ListPush(dst, cur, args[2:], left)
		n = value.ListLen(next)
		return next, true, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if n > 0 {
		listSignal(c, args[1])
	}
	c.conn.WriteInt(n)
}

// cmdLPush: LPUSH key element [element ...] -> the new length.
func cmdLPush(c *client, args [][]byte) { listPushCmd(c, args, true, false) }

// cmdRPush: RPUSH key element [element ...] -> the new length.
func cmdRPush(c *client, args [][]byte) { listPushCmd(c, args, false, false) }

// cmdLPushX: LPUSHX key element [element ...] -> the new length, 0 (and
// nothing created) when the key is missing.
func cmdLPushX(c *client, args [][]byte) { listPushCmd(c, args, true, true) }

// cmdRPushX: RPUSHX key element [element ...], as LPUSHX at the tail.
func cmdRPushX(c *client, args [][]byte) { listPushCmd(c, args, false, true) }

// listPop pops up to count elements of key into a (a.buf based on
// c.scratch). It reports whether the key existed; WRONGTYPE and quota
// errors are returned.
func listPop(c *client, key []byte, count int, left bool, a *listArena) (exists bool, err error) {
	err = listUpdate(c, key, func(dst, cur []byte, ex bool) ([]byte, bool, error) {
		a.reset(c.scratch)
		exists = ex
		if !ex || count == 0 {
			return nil, false, nil
		}
		next, _, err := value.ListPop(dst, cur, count, left, a.add)
		return next, true, err
	})
	return exists, err
}

// listPopCmd answers LPOP and RPOP: key [count].
func listPopCmd(c *client, args [][]byte, left bool) {
	if len(args) > 3 {
		c.conn.WriteError(errWrongArgs(listCmdName(args[0])))
		return
	}
	hasCount := len(args) == 3
	count := 1
	if hasCount {
		n, ok := parseInt(args[2])
		if !ok {
			c.conn.WriteError(errNotInteger)
			return
		}
		if n < 0 {
			c.conn.WriteError(errListMustBePositive)
			return
		}
		count = int(min(n, math.MaxInt32))
	}
	var a listArena
	exists, err := listPop(c, args[1], count, left, &a)
	switch {
	case err != nil:
		c.replyStoreErr(err)
	case !exists && hasCount:
		c.conn.WriteNullArray()
	case !exists:
		c.conn.WriteNull()
	case hasCount:
		a.writeArray(c)
	default:
		c.conn.WriteBulk(a.at(0))
		keepScratch(c, a.buf)
	}
}

// listCmdName is a command name as written, lower-cased (for arity errors
// raised by a handler).
func listCmdName(b []byte) string { return string(lowerInto(nil, b)) }

// cmdLPop: LPOP key [count] -> an element or nil; with count an array, or
// a null array when the key is missing.
func cmdLPop(c *client, args [][]byte) { listPopCmd(c, args, true) }

// cmdRPop: RPOP key [count], as LPOP from the tail.
func cmdRPop(c *client, args [][]byte) { listPopCmd(c, args, false) }

// cmdLLen: LLEN key -> the length, 0 when missing.
func cmdLLen(c *client, args [][]byte) {
	n := 0
	if _, wrong := listView(c, args[1], func(enc []byte) { n = value.ListLen(enc) }); wrong {
		return
	}
	c.conn.WriteInt(n)
}

// cmdLRange: LRANGE key start stop -> the elements in the inclusive range.
func cmdLRange(c *client, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.conn.WriteError(errNotInteger)
		return
	}
	var a listArena
	a.reset(c.scratch)
	var err error
	if _, wrong := listView(c, args[1], func(enc []byte) {
		a.reset(c.scratch)
		err = value.ListRange(enc, start, stop, a.add)
	}); wrong {
		return
	}
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	a.writeArray(c)
}

// cmdLIndex: LINDEX key index -> the element or nil.
func cmdLIndex(c *client, args [][]byte) {
	index, isInt := parseInt(args[2])
	var out []byte
	has := false
	found, wrong := listView(c, args[1], func(enc []byte) {
		if !isInt {
			return
		}
		var e []byte
		if e, has = value.ListIndex(enc, index); has {
			out = append(c.scratch[:0], e...)
		}
	})
	switch {
	case wrong:
	case !found:
		c.conn.WriteNull()
	case !isInt:
		c.conn.WriteError(errNotInteger)
	case !has:
		c.conn.WriteNull()
	default:
		c.conn.WriteBulk(out)
		keepScratch(c, out)
	}
}

// cmdLSet: LSET key index element -> OK.
func cmdLSet(c *client, args [][]byte) {
	index, isInt := parseInt(args[2])
	err := listUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		switch {
		case !exists:
			return nil, false, replyErr(errNoSuchKey)
		case !isInt:
			return nil, false, replyErr(errNotInteger)
		}
		next, ok, err := value.ListSet(dst, cur, index, args[3])
		if err == nil && !ok {
			err = replyErr(errListIndexRange)
		}
		return next, err == nil, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteString("OK")
}

// cmdLRem: LREM key count element -> the number removed.
func cmdLRem(c *client, args [][]byte) {
	count, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	countUpdate(c, args[1], shard.TypeList, false, func(dst, cur []byte) ([]byte, int, error) {
		return value.ListRem(dst, cur, count, args[3])
	})
}

// cmdLTrim: LTRIM key start stop -> OK; a list trimmed to nothing is
// deleted.
func cmdLTrim(c *client, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.conn.WriteError(errNotInteger)
		return
	}
	err := listUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		if !exists {
			return nil, false, nil
		}
		next, err := value.ListTrim(dst, cur, start, stop)
		return next, value.ListLen(next) != value.ListLen(cur), err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteString("OK")
}

// cmdLInsert: LINSERT key BEFORE|AFTER pivot element -> the new length,
// -1 when pivot is not found, 0 when the key is missing.
func cmdLInsert(c *client, args [][]byte) {
	var before bool
	switch {
	case eqFold(args[2], "before"):
		before = true
	case eqFold(args[2], "after"):
	default:
		c.conn.WriteError(errSyntax)
		return
	}
	n := 0
	err := listUpdate(c, args[1], func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		n = 0
		if !exists {
			return nil, false, nil
		}
		next, found, err := value.ListInsert(dst, cur, before, args[3], args[4])
		if !found {
			n = -1
			return next, false, err
		}
		n = value.ListLen(next)
		return next, true, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if n > 0 {
		listSignal(c, args[1])
	}
	c.conn.WriteInt(n)
}

// nonNegArg parses an integer option argument that must not be negative;
// on bad input it writes the error (negErr for a negative value) and
// returns -1.
func nonNegArg(c *client, b []byte, negErr string) int64 {
	n, ok := parseInt(b)
	switch {
	case !ok:
		c.conn.WriteError(errNotInteger)
		return -1
	case n < 0:
		c.conn.WriteError(negErr)
		return -1
	}
	return n
}

// cmdLPos: LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
// -> the index of the first match or nil; with COUNT an array of indexes.
func cmdLPos(c *client, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case eqFold(args[i], "rank") && more:
			n, ok := parseInt(args[i+1])
			switch {
			case !ok:
				c.conn.WriteError(errNotInteger)
				return
			case n == math.MinInt64:
				// Redis 7.0 negates it into itself, which then acts
				// as -1 (checked against redis-server 7.0.15).
				n = -1
			case n == 0:
				c.conn.WriteError(errListRankZero)
				return
			}
			rank = n
		case eqFold(args[i], "count") && more:
			if count = nonNegArg(c, args[i+1], errListCountNeg); count < 0 {
				return
			}
		case eqFold(args[i], "maxlen") && more:
			if maxlen = nonNegArg(c, args[i+1], errListMaxlenNeg); maxlen < 0 {
				return
			}
		default:
			c.conn.WriteError(errSyntax)
			return
		}
		i++
	}
	var pos []int
	var err error
	want := count
	if want < 0 {
		want = 1
	}
	found, wrong := listView(c, args[1], func(enc []byte) {
		pos = pos[:0]
		err = value.ListPos(enc, args[2], rank, want, maxlen, func(i int) { pos = append(pos, i) })
	})
	switch {
	case wrong:
	case err != nil:
		c.replyStoreErr(err)
	case count >= 0:
		c.conn.WriteArray(len(pos))
		for _, p := range pos {
			c.conn.WriteInt(p)
		}
	case !found || len(pos) == 0:
		c.conn.WriteNull()
	default:
		c.conn.WriteInt(pos[0])
	}
}

// missLPos is LPOS's shed-read answer: nil, or an empty array with COUNT.
func missLPos(c *client, args [][]byte) {
	for i := 3; i+1 < len(args); i += 2 {
		if eqFold(args[i], "count") {
			c.conn.WriteArray(0)
			return
		}
	}
	c.conn.WriteNull()
}

// listParseWhere parses LEFT|RIGHT.
func listParseWhere(b []byte) (left, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	return false, false
}

// listMove moves one element from the fromLeft end of src to the toLeft
// end of dst, atomically, copying it into a. moved is false when src is
// missing. srcWrong reports a WRONGTYPE caused by src (err is then set
// too), so a blocked BLMOVE can keep waiting on it.
func listMove(c *client, src, dst []byte, fromLeft, toLeft bool, a *listArena) (moved, srcWrong bool, err error) {
	b1 := encBufs.Get().(*[]byte)
	b2 := encBufs.Get().(*[]byte)
	defer func() {
		for _, bp := range []*[]byte{b1, b2} {
			if cap(*bp) <= maxPooledEnc {
				*bp = (*bp)[:0]
				encBufs.Put(bp)
			}
		}
	}()
	now := c.nowMs()
	if string(src) == string(dst) {
		// Same key: a rotation (or a no-op move to the same end).
		err = listUpdate(c, src, func(dstBuf, cur []byte, exists bool) ([]byte, bool, error) {
			a.reset(c.scratch)
			moved = false
			if !exists {
				return nil, false, nil
			}
			var e []byte
			mid, _, err := value.ListPop((*b1)[:0], cur, 1, fromLeft, func(x []byte) { e = x })
			*b1 = mid[:0]
			if err != nil {
				return nil, false, err
			}
			a.add(e)
			moved = true
			next, err := value.ListPush(dstBuf, mid, [][]byte{e}, toLeft)
			return next, true, err
		})
		srcWrong = err == wrongTypeErr
		return moved, srcWrong, err
	}
	keys := []shard.Key{{DB: c.db, Name: src}, {DB: c.db, Name: dst}}
	err = c.part().Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		a.reset(c.scratch)
		moved, srcWrong = false, false
		keep := []shard.Action{shard.Keep, shard.Keep}
		if !exists[0] {
			return cur, keep, nil
		}
		if cur[0].Type != shard.TypeList {
			srcWrong = true
			return nil, nil, wrongTypeErr
		}
		if exists[1] && cur[1].Type != shard.TypeList {
			return nil, nil, wrongTypeErr
		}
		var e []byte
		srcNext, _, err := value.ListPop((*b1)[:0], cur[0].Value, 1, fromLeft, func(x []byte) { e = x })
		*b1 = srcNext[:0]
		if err != nil {
			return nil, nil, err
		}
		var dstCur []byte
		dstExpire := c.defaultExpire(now)
		if exists[1] {
			dstCur, dstExpire = cur[1].Value, cur[1].ExpireAt
		}
		dstNext, err := value.ListPush((*b2)[:0], dstCur, [][]byte{e}, toLeft)
		*b2 = dstNext[:0]
		if err != nil {
			return nil, nil, err
		}
		a.add(e)
		moved = true
		next := []shard.Entry{
			{Value: srcNext, ExpireAt: cur[0].ExpireAt, Type: shard.TypeList},
			{Value: dstNext, ExpireAt: dstExpire, Type: shard.TypeList},
		}
		acts := []shard.Action{shard.Put, shard.Put}
		if value.ListLen(srcNext) == 0 {
			acts[0] = shard.Delete
		}
		return next, acts, nil
	})
	if err != nil {
		moved = false
	}
	return moved, srcWrong, err
}

// cmdLMove: LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> the element
// moved, or nil when source is missing.
func cmdLMove(c *client, args [][]byte) {
	from, ok1 := listParseWhere(args[3])
	to, ok2 := listParseWhere(args[4])
	if !ok1 || !ok2 {
		c.conn.WriteError(errSyntax)
		return
	}
	var a listArena
	moved, _, err := listMove(c, args[1], args[2], from, to, &a)
	switch {
	case err != nil:
		c.replyStoreErr(err)
	case !moved:
		c.conn.WriteNull()
	default:
		listSignal(c, args[2])
		c.conn.WriteBulk(a.at(0))
		keepScratch(c, a.buf)
	}
}

// listBlockTimeout parses a blocking command's timeout as Redis's
// getTimeoutFromObjectOrReply does (seconds as a long double, rounded up
// to the millisecond) and applies the wait policy: 0, and anything longer
// than maxBlockWait, waits maxBlockWait.
func listBlockTimeout(c *client, b []byte) (time.Duration, bool) {
	f, ok := parseLongDouble(b)
	if !ok {
		c.conn.WriteError(errListTimeoutNotFloat)
		return 0, false
	}
	ms := new(big.Float).SetPrec(longDoublePrec).Mul(f, big.NewFloat(1000))
	n, acc := ms.Int64()
	if acc == big.Below && n < math.MaxInt64 {
		n++ // ceil, as Redis 7.2 (7.0 truncates: 0.0001 would block forever)
	}
	// Redis 7.0's conversion overflows a timeout beyond the int64
	// milliseconds (inf included) into a negative one, and so answers
	// "timeout is negative" (checked against redis-server 7.0.15).
	if n < 0 || ms.Cmp(new(big.Float).SetInt64(math.MaxInt64)) > 0 {
		c.conn.WriteError(errListTimeoutNegative)
		return 0, false
	}
	max := c.srv.maxBlock
	if n == 0 || n > max.Milliseconds() {
		return max, true
	}
	return time.Duration(n) * time.Millisecond, true
}

// listBlockingPop answers BLPOP and BRPOP: key [key ...] timeout.
func listBlockingPop(c *client, args [][]byte, left bool) {
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
		if err == wrongTypeErr && !strict {
			return false
		}
		if err != nil {
			c.replyStoreErr(err)
			return true
		}
		if !exists || a.n() == 0 {
			return false
		}
		c.conn.WriteArray(2)
		c.conn.WriteBulk(k)
		c.conn.WriteBulk(a.at(0))
		keepScratch(c, a.buf)
		return true
	}
	// all tries every key in order; which the keys signalled, in the
	// order they were.
	all := func(strict bool) bool {
		for i, k := range keys {
			if i&listYieldEvery == listYieldEvery {
				c.yield()
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
	c.listBlock(args, keys, wait, func(which []int32) bool {
		if which == nil {
			return all(false)
		}
		for _, i := range which {
			if pop(keys[i], false) {
				return true
			}
		}
		return false
	}, c.conn.WriteNullArray)
}

// listYieldEvery: walks over a blocking command's keys reach a checkpoint
// (fair.go) every listYieldEvery+1 keys.
const listYieldEvery = 255

// cmdBLPop: BLPOP key [key ...] timeout -> [key, element], or a null array
// on timeout.
func cmdBLPop(c *client, args [][]byte) { listBlockingPop(c, args, true) }

// cmdBRPop: BRPOP key [key ...] timeout, as BLPOP from the tail.
func cmdBRPop(c *client, args [][]byte) { listBlockingPop(c, args, false) }

// cmdBLMove: BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout ->
// the element moved, or a null array on timeout (nil inside MULTI).
func cmdBLMove(c *client, args [][]byte) {
	from, ok1 := listParseWhere(args[3])
	to, ok2 := listParseWhere(args[4])
	if !ok1 || !ok2 {
		c.conn.WriteError(errSyntax)
		return
	}
	wait, ok := listBlockTimeout(c, args[5])
	if !ok {
		return
	}
	var a listArena
	try := func(strict bool) bool {
		moved, srcWrong, err := listMove(c, args[1], args[2], from, to, &a)
		switch {
		case err != nil && srcWrong && !strict:
			return false
		case err != nil:
			c.replyStoreErr(err)
		case !moved:
			return false
		default:
			listSignal(c, args[2])
			c.conn.WriteBulk(a.at(0))
			keepScratch(c, a.buf)
		}
		return true
	}
	if try(true) {
		return
	}
	if !c.listCanBlock() {
		c.conn.WriteNull() // inside MULTI: Redis answers a null bulk here
		return
	}
	c.listBlock(args, args[1:2], wait, func([]int32) bool { return try(false) }, c.conn.WriteNullArray)
}
