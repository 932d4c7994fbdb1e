package server

// List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
// LSET LREM LTRIM LINSERT LPOS LMOVE and the blocking BLPOP BRPOP BLMOVE,
// with Redis 7's semantics, replies and error strings.
//
// A list is one entry of type shard.TypeList whose value is the encoding
// of shard/list.go, written through listUpdate (one Partition.Mutate) or,
// for LMOVE between two keys, one Partition.Apply, so both keys change
// atomically and the quota is reserved for the growth before it is
// stored. The hash handlers (cmd_hash.go) are the model: WRONGTYPE on a
// key of another type, the tier's default TTL for a new list, an existing
// list keeps its TTL, an emptied list is deleted.
//
// # Blocking (BLPOP BRPOP BLMOVE)
//
// A blocking command first tries to serve at once. If it cannot, and it
// runs outside a transaction (inside EXEC it answers as on a timeout, as
// Redis does), it registers a waiter for its keys in its tenant's
// registry (tenant.blocked: hash of db and key -> waiters) and gives back
// what dispatch holds for it: the tenant's transaction lock (so EXECs of
// the tenant proceed), its admission ticket (so blocked clients do not
// use up max_concurrent or the server's in-flight budget) and a heavy
// slot if it took one (fair.go). Then it costs nothing: no timer ticks and
// nothing re-checks its keys. It sleeps on channels until one of:
//
//   - a signal for one of its keys, sent by a write of the same tenant
//     and db that leaves a list there: LPUSH RPUSH LPUSHX RPUSHX LINSERT,
//     the destination of LMOVE and BLMOVE, and RENAME, RENAMENX, COPY
//     (into its DB too), MOVE (in the destination db) and SORT ... STORE
//     when what they put at the key is a list. Another tenant's write to
//     the same key name signals another registry. Inside MULTI the
//     signal is sent as the queued command runs in EXEC; the woken client
//     needs the tenant's lock, which EXEC holds exclusively, so it looks
//     at the key once the whole transaction has run, as Redis serves
//     blocked clients after EXEC (a transaction that pushes and pops the
//     same key leaves it waiting);
//   - the timeout, answered with a null array (`*-1`, RESP3 `_`);
//   - CLIENT KILL (the client's kill channel) or server shutdown (Close),
//     which close the connection with no reply.
//
// A signal records which key it was for, so a woken client looks only at
// the keys signalled, in signal order (Redis serves from the key that
// became ready first), not at all it named. When one of them holds a list
// the client is admitted again (a new admission decision, subject to the
// tier's rate, concurrency and shedding like any command), takes the lock
// again and pops; if another client was faster it gives both back and
// waits again. Several waiters on one key are all woken and race for the
// element, so service is not strictly first-come first-served as in Redis.
//
// Registering is the command's own work and costs O(keys): it runs in
// batches under the registry lock with a checkpoint (fair.go) after each,
// so a BLPOP naming 200K keys is charged to its tenant, paced when the
// tenant is throttled, takes a heavy slot like any long command, and holds
// the lock pushes need for one batch at a time. The keys themselves are
// bounded by the tenant's argument limits (max_arg_bytes admits the
// command); the registry adds about 40 bytes a key while it waits.
//
// Timeout policy: the requested timeout is honoured (seconds, a float,
// rounded up to the millisecond as Redis does), and 0 means "until served"
// but at most maxBlockWait (one hour), after which the client gets the
// timeout reply and may block again. The cap bounds what a client that
// vanished without closing its socket can hold: a blocked connection does
// not read its socket, so a peer that closes is noticed only when the wait
// ends. The tier's timeout (an admission latency bound) does not shorten
// the wait, and the idle-connection timeout does not apply while blocked
// (Redis exempts blocked clients from it too).

import (
	"hash/maphash"
	"math"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/shard"
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
		next, err := shard.ListPush(dst, cur, args[2:], left)
		n = shard.ListLen(next)
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
		next, _, err := shard.ListPop(dst, cur, count, left, a.add)
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
	if _, wrong := listView(c, args[1], func(enc []byte) { n = shard.ListLen(enc) }); wrong {
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
		err = shard.ListRange(enc, start, stop, a.add)
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
		if e, has = shard.ListIndex(enc, index); has {
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
		next, ok, err := shard.ListSet(dst, cur, index, args[3])
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
		return shard.ListRem(dst, cur, count, args[3])
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
		next, err := shard.ListTrim(dst, cur, start, stop)
		return next, shard.ListLen(next) != shard.ListLen(cur), err
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
		next, found, err := shard.ListInsert(dst, cur, before, args[3], args[4])
		if !found {
			n = -1
			return next, false, err
		}
		n = shard.ListLen(next)
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
		err = shard.ListPos(enc, args[2], rank, want, maxlen, func(i int) { pos = append(pos, i) })
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
			mid, _, err := shard.ListPop((*b1)[:0], cur, 1, fromLeft, func(x []byte) { e = x })
			*b1 = mid[:0]
			if err != nil {
				return nil, false, err
			}
			a.add(e)
			moved = true
			next, err := shard.ListPush(dstBuf, mid, [][]byte{e}, toLeft)
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
		srcNext, _, err := shard.ListPop((*b1)[:0], cur[0].Value, 1, fromLeft, func(x []byte) { e = x })
		*b1 = srcNext[:0]
		if err != nil {
			return nil, nil, err
		}
		var dstCur []byte
		dstExpire := c.defaultExpire(now)
		if exists[1] {
			dstCur, dstExpire = cur[1].Value, cur[1].ExpireAt
		}
		dstNext, err := shard.ListPush((*b2)[:0], dstCur, [][]byte{e}, toLeft)
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
		if shard.ListLen(srcNext) == 0 {
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

// listCanBlock reports whether the running command may block: it was
// dispatched on its own (dispatch holds the tenant's lock shared and its
// admission ticket for it), not run by EXEC.
func (c *client) listCanBlock() bool {
	t := c.tenant
	return t != nil && c.txHeld == t && c.admitted == t
}

// listRegBatch is how many keys a blocking command registers or removes
// per hold of its tenant's registry lock, with a checkpoint in between.
const listRegBatch = 1024

// listBlock waits for one of keys (in the connection's db) to be signalled,
// then runs try, until try has answered, wait passes (timedOut answers) or
// the connection is killed or the server closes (no answer: the connection
// closes). try gets the indexes of the keys signalled since it last ran, in
// signal order, or nil for "every key"; it runs with the tenant's lock and
// an admission ticket held, as a handler does; they are given back while
// waiting. A command that cannot block answers timedOut at once.
//
// Registering the keys (and removing them at the end) is the command's
// own work: it runs in batches of listRegBatch under the registry lock,
// with a checkpoint (fair.go) after each, so it is charged to the tenant,
// paced when the tenant is throttled, and never holds the lock pushes
// take for more than one batch.
func (c *client) listBlock(args, keys [][]byte, wait time.Duration, try func(which []int32) bool, timedOut func()) {
	if !c.listCanBlock() {
		timedOut()
		return
	}
	deadline := time.Now().Add(wait) // registering is part of the wait
	t, db := c.tenant, c.db
	w := &listWaiter{ch: make(chan struct{}, 1)}
	registered := 0
	defer func() {
		for off := 0; off < registered; off += listRegBatch {
			t.blocked.remove(db, keys[off:min(off+listRegBatch, registered)], off, w)
			c.yield()
		}
		c.mem.set(&c.mem.blocked, 0)
	}()
	for registered < len(keys) {
		n := min(len(keys)-registered, listRegBatch)
		// The registrations are client memory (clientmem.go): 12 clients
		// blocked on 200K keys each would hold ~100 MB of the server.
		// Past the budget the command is refused, as a write would be.
		if c.mem.set(&c.mem.blocked, int64(registered+n)*blockedKeyBytes) {
			c.mem.set(&c.mem.blocked, int64(registered)*blockedKeyBytes)
			c.mem.pool.Load().refused.Add(1)
			c.conn.WriteError(c.oomText())
			return
		}
		t.blocked.add(db, keys[registered:registered+n], registered, w)
		registered += n
		c.yield()
	}
	// A push between the first attempt and the registration signalled
	// nobody: look again now that pushes will find us.
	if try(nil) {
		return
	}
	var argBytes int64
	for _, a := range args {
		argBytes += int64(len(a))
	}
	var blockedAt time.Time
	release := func() {
		c.endWork() // a heavy slot is not held while waiting
		blockedAt = time.Now()
		c.txHeld = nil
		t.txMu.RUnlock(c.id)
		c.admitted = nil
		t.adm.Done(c.ticket)
		c.ticket = admission.Ticket{}
		c.pubsubIdle() // a RESP3 subscriber keeps receiving while it waits
	}
	// relock takes back the tenant lock only: enough for the paths that
	// run no command (timeout, kill, shutdown), which must never wait on
	// admission (a reload may have made this command inadmissible).
	relock := func() {
		c.unbilled += time.Since(blockedAt) // waiting is not work (fair.go)
		t.txMu.RLock(c.id)
		c.txHeld = t
		c.pubsubBegin()
	}
	gone := func() bool { return c.srv.closing.Load() || c.killed.Load() || c.conn.err != nil }
	// reacquire is admission plus the lock, to run the pop after a wake-up;
	// it reports false when the client went away while it waited.
	reacquire := func() bool {
		for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
			if tk, _, ok := t.adm.Admit(argBytes); ok {
				c.ticket, c.admitted = tk, t
				break
			}
			if gone() {
				relock()
				return false
			}
			pause := time.NewTimer(backoff)
			select {
			case <-pause.C:
			case <-c.killCh:
				pause.Stop()
			case <-c.srv.stop:
				pause.Stop()
			}
		}
		relock()
		return true
	}
	release()
	c.conn.flush() // replies of commands pipelined before this one
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var which []int32
	for {
		select {
		case <-w.ch:
		case <-timer.C:
			relock()
			timedOut()
			return
		case <-c.killCh:
			relock()
			return
		case <-c.srv.stop:
			relock()
			return
		}
		if gone() {
			relock()
			return
		}
		var every bool
		which, every = w.take(which)
		if every {
			which = nil
		} else if !listAnyReady(c, db, keys, which) {
			continue
		}
		if !reacquire() {
			return
		}
		if try(which) {
			return
		}
		release()
	}
}

// listAnyReady reports whether one of the signalled keys holds a list (a
// cheap check before taking admission and the lock to retry).
func listAnyReady(c *client, db int, keys [][]byte, which []int32) bool {
	for _, i := range which {
		ready := false
		c.part().View(db, keys[i], 0, func(e shard.Entry) { ready = e.Type == shard.TypeList })
		if ready {
			return true
		}
	}
	return false
}

// listWaiter is one blocked client. A signal records which of its keys it
// was for and sends on ch (without blocking: one pending wake-up is
// enough).
type listWaiter struct {
	ch    chan struct{}
	mu    sync.Mutex // guards ready and every
	ready []int32    // keys signalled since the last take, in signal order
	every bool       // more than maxReady signals: look at every key
}

// maxReady bounds a waiter's list of signalled keys; past it the waiter
// looks at all of them, which is what its own tenant's pushes asked for.
const maxReady = 64

func (w *listWaiter) wake(i int32) {
	w.mu.Lock()
	if len(w.ready) < maxReady {
		w.ready = append(w.ready, i)
	} else {
		w.every = true
	}
	w.mu.Unlock()
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// take returns the keys signalled since the last take (appended to
// dst[:0]), or every.
func (w *listWaiter) take(dst []int32) (which []int32, every bool) {
	w.mu.Lock()
	which = append(dst[:0], w.ready...)
	every = w.every
	w.ready, w.every = w.ready[:0], false
	w.mu.Unlock()
	return which, every
}

// blockRegistry is one tenant's blocked clients by key (tenant.blocked).
// Keying by tenant is what keeps wake-ups inside a tenant: a write signals
// only the registry of its own tenant.
//
// A key is registered as a 64-bit hash of (db, name) under a random
// per-registry seed rather than as a copy of its name: a blocked client
// naming 200K keys then costs the registry ~40 bytes a key and no
// allocation per key, and a collision (which a tenant cannot aim for,
// the seed being secret) only wakes a client that finds nothing and waits
// again.
type blockRegistry struct {
	n    atomic.Int64 // registered (key, waiter) pairs: 0 is a signal's fast path
	mu   sync.Mutex   // guards the fields below; taken after a sub-shard lock is released
	seed maphash.Seed
	one  map[uint64]waitRef   // hashes with exactly one waiter
	more map[uint64][]waitRef // hashes with several, in registration order
}

// waitRef is one registration: key i of waiter w.
type waitRef struct {
	w *listWaiter
	i int32
}

func (r *blockRegistry) hash(db int, key []byte) uint64 {
	return maphash.Bytes(r.seed, key) ^ (uint64(db)+1)*0x9e3779b97f4a7c15
}

// add registers keys, the key at keys[j] as index base+j of w.
// blockedKeyBytes is what one key registration holds, as client memory:
// a map entry of a 64-bit hash and a waitRef (16 bytes) with the map's
// own overhead, about 40 bytes measured, rounded up.
const blockedKeyBytes = 48

func (r *blockRegistry) add(db int, keys [][]byte, base int, w *listWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seed == (maphash.Seed{}) {
		r.seed = maphash.MakeSeed() // once: registrations outlive no seed
	}
	if r.one == nil {
		r.one = make(map[uint64]waitRef)
		r.more = make(map[uint64][]waitRef)
	}
	for j, k := range keys {
		h := r.hash(db, k)
		ref := waitRef{w: w, i: int32(base + j)}
		if list, ok := r.more[h]; ok {
			r.more[h] = append(list, ref)
		} else if old, ok := r.one[h]; ok {
			delete(r.one, h)
			r.more[h] = []waitRef{old, ref}
		} else {
			r.one[h] = ref
		}
	}
	r.n.Add(int64(len(keys)))
}

// remove undoes add. When the last registration goes, the maps go too
// (Go maps never shrink: a burst of blocked clients must not pin memory).
func (r *blockRegistry) remove(db int, keys [][]byte, base int, w *listWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for j, k := range keys {
		h := r.hash(db, k)
		ref := waitRef{w: w, i: int32(base + j)}
		if r.one[h] == ref {
			delete(r.one, h)
			continue
		}
		list := r.more[h]
		if i := slices.Index(list, ref); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		switch len(list) {
		case 0:
			delete(r.more, h)
		case 1:
			delete(r.more, h)
			r.one[h] = list[0]
		default:
			r.more[h] = list
		}
	}
	if r.n.Add(-int64(len(keys))) == 0 {
		r.one, r.more = nil, nil
	}
}

// signal wakes the clients blocked on key in db. It costs one atomic load
// when the tenant has none.
func (r *blockRegistry) signal(db int, key []byte) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.one == nil {
		return
	}
	h := r.hash(db, key)
	if ref, ok := r.one[h]; ok {
		ref.w.wake(ref.i)
	}
	for _, ref := range r.more[h] {
		ref.w.wake(ref.i)
	}
}

// listSignal wakes the clients of c's tenant blocked on key in c's db: a
// write left a list there (a push, LINSERT, the destination of LMOVE and
// BLMOVE). Writes that land a list on a key some other way signal with
// listSignalDB.
func listSignal(c *client, key []byte) { c.tenant.blocked.signal(c.db, key) }

// listSignalDB wakes the clients of c's tenant blocked on key in db when
// isList: RENAME, COPY, MOVE and SORT ... STORE, which can put a list at a
// key without a push. Redis 7.0 signals such a key when the command adds
// it (dbAdd); tcached signals whenever a list lands on it, which also
// covers a list written over a key of another type (the woken client only
// pops from a list, so the difference is a wake-up Redis would postpone to
// the next push).
func listSignalDB(c *client, db int, key []byte, isList bool) {
	if isList {
		c.tenant.blocked.signal(db, key)
	}
}
