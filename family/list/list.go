// Package list serves the list commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
// LSET LREM LTRIM LINSERT LPOS LMOVE RPOPLPUSH LMPOP and the blocking BLPOP BRPOP
// BLMOVE BRPOPLPUSH BLMPOP,
// with Redis 7's semantics, replies and error strings.
//
// A list is one entry of type shard.TypeList in one of two encodings:
// compact (value/list.go, one buffer rewritten per write, Redis 7.2's
// listpack) while it would fit one quicklist node under the tenant's
// list-max-listpack-size (value.Limits.ListCompact; 8 KiB by default),
// then a value.QuickList (Redis's quicklist: a ring of nodes of about that
// size; O(1) push and pop at both ends, O(log nodes + node) access by
// index), for good. OBJECT ENCODING answers "quicklist" for both, as
// Redis 7.0 does for every list.
//
// Single-key writes go through command.CollWrite (a compact list rebuilt
// and Put, or converted; a quicklist changed in place by an edit whose
// growth the partition reserves before the commit runs); LMOVE between
// two keys through one Partition.ApplyEdit, so both keys change
// atomically in any mix of encodings. WRONGTYPE on a key of another type,
// the tier's default TTL for a new list, an existing list keeps its TTL,
// an emptied list is deleted.
//
// Blocking: block.go.
package list

import (
	"math"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// MaxBlockWait bounds a blocking command's wait, timeout 0 included.
const MaxBlockWait = time.Hour

// listView runs fn on the list at key, in either encoding, under the
// sub-shard lock.
func listView(c *command.Ctx, key []byte, fn func(l value.ListView)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeList, func(e shard.Entry) { fn(value.ViewList(e.Value, e.Obj)) })
}

// compactOrBig returns a compact list's next encoding as it is, or
// converted to a QuickList when it no longer fits one node.
func compactOrBig(lim value.Limits, next []byte) (shard.Object, error) {
	if lim.ListCompact(value.ListLen(next), len(next)) {
		return nil, nil
	}
	q, err := value.QuickListFrom(next, lim.ListFill)
	return q, err
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

func (a *listArena) writeArray(c *command.Ctx) {
	c.W.WriteArray(a.n())
	for i := range a.n() {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield() // a big LRANGE (fair.go, "Long commands")
		}
		c.W.WriteBulk(a.at(i))
	}
	c.KeepScratch(a.buf)
}

// listPushCmd answers LPUSH RPUSH (onlyExisting false) and LPUSHX RPUSHX.
func listPushCmd(c *command.Ctx, args [][]byte, left, onlyExisting bool) {
	n := 0
	elems := args[2:]
	lim := c.Limits()
	err := command.CollWrite(c, args[1], shard.TypeList,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			n = 0
			if !exists && onlyExisting {
				return nil, 0, nil, false, nil
			}
			next, err := value.ListPush(dst, cur, elems, left)
			if err != nil {
				return nil, 0, nil, false, err
			}
			n = value.ListLen(next)
			obj, err := compactOrBig(lim, next)
			return next, 0, obj, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			q := obj.(*value.QuickList)
			n = q.Len() + len(elems)
			return q.PlanPush(elems, left), true, false, nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Push(elems, left) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	if n > 0 {
		c.Signal(args[1])
	}
	c.W.WriteInt(n)
}

// cmdLPush: LPUSH key element [element ...] -> the new length.
func cmdLPush(c *command.Ctx, args [][]byte) { listPushCmd(c, args, true, false) }

// cmdRPush: RPUSH key element [element ...] -> the new length.
func cmdRPush(c *command.Ctx, args [][]byte) { listPushCmd(c, args, false, false) }

// cmdLPushX: LPUSHX key element [element ...] -> the new length, 0 (and
// nothing created) when the key is missing.
func cmdLPushX(c *command.Ctx, args [][]byte) { listPushCmd(c, args, true, true) }

// cmdRPushX: RPUSHX key element [element ...], as LPUSHX at the tail.
func cmdRPushX(c *command.Ctx, args [][]byte) { listPushCmd(c, args, false, true) }

// listPop pops up to count elements of key into a (a.buf based on
// c.Scratch). It reports whether the key existed; WRONGTYPE and quota
// errors are returned.
func listPop(c *command.Ctx, key []byte, count int, left bool, a *listArena) (exists bool, err error) {
	err = command.CollWrite(c, key, shard.TypeList,
		func(dst, cur []byte, ex bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			a.reset(c.Scratch)
			exists = ex
			if !ex || count == 0 {
				return nil, 0, nil, false, nil
			}
			next, _, err := value.ListPop(dst, cur, count, left, a.add)
			return next, 0, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			a.reset(c.Scratch)
			exists = true
			q := obj.(*value.QuickList)
			if count == 0 {
				return 0, false, false, nil
			}
			// The elements are copied now; the commit only drops them.
			k := min(count, q.Len())
			start := 0
			if !left {
				start = q.Len() - 1
			}
			q.Walk(start, !left, func(e []byte) bool {
				a.add(e)
				return a.n() < k
			})
			return 0, true, k == q.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Pop(count, left, nil) })
	return exists, err
}

// listPopCmd answers LPOP and RPOP: key [count].
func listPopCmd(c *command.Ctx, args [][]byte, left bool) {
	if len(args) > 3 {
		c.W.WriteError(command.ErrWrongArgs(c.Spec.Name))
		return
	}
	hasCount := len(args) == 3
	count := 1
	if hasCount {
		n, ok := command.ParseInt(args[2])
		if !ok || n < 0 { // Redis answers one message for both
			c.W.WriteError(command.ErrListMustBePositive)
			return
		}
		count = int(min(n, math.MaxInt32))
	}
	var a listArena
	exists, err := listPop(c, args[1], count, left, &a)
	switch {
	case err != nil:
		c.StoreErr(err)
	case !exists && hasCount:
		c.W.WriteNullArray()
	case !exists:
		c.W.WriteNull()
	case hasCount:
		a.writeArray(c)
	default:
		c.W.WriteBulk(a.at(0))
		c.KeepScratch(a.buf)
	}
}

// cmdLPop: LPOP key [count] -> an element or nil; with count an array, or
// a null array when the key is missing.
func cmdLPop(c *command.Ctx, args [][]byte) { listPopCmd(c, args, true) }

// cmdRPop: RPOP key [count], as LPOP from the tail.
func cmdRPop(c *command.Ctx, args [][]byte) { listPopCmd(c, args, false) }

// cmdLLen: LLEN key -> the length, 0 when missing.
func cmdLLen(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := listView(c, args[1], func(l value.ListView) { n = l.Len() }); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdLRange: LRANGE key start stop -> the elements in the inclusive range.
func cmdLRange(c *command.Ctx, args [][]byte) {
	start, ok1 := command.ParseInt(args[2])
	stop, ok2 := command.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	var a listArena
	a.reset(c.Scratch)
	var err error
	if _, wrong := listView(c, args[1], func(l value.ListView) {
		a.reset(c.Scratch)
		err = l.Range(start, stop, a.add)
	}); wrong {
		return
	}
	if err != nil {
		c.StoreErr(err)
		return
	}
	a.writeArray(c)
}

// cmdLIndex: LINDEX key index -> the element or nil.
func cmdLIndex(c *command.Ctx, args [][]byte) {
	index, isInt := command.ParseInt(args[2])
	var out []byte
	has := false
	found, wrong := listView(c, args[1], func(l value.ListView) {
		if !isInt {
			return
		}
		var e []byte
		if e, has = l.Index(index); has {
			out = append(c.Scratch[:0], e...)
		}
	})
	switch {
	case wrong:
	case !found:
		c.W.WriteNull()
	case !isInt:
		c.W.WriteError(command.ErrNotInteger)
	case !has:
		c.W.WriteNull()
	default:
		c.W.WriteBulk(out)
		c.KeepScratch(out)
	}
}

// normIndex is LSET's index as a position, or -1 out of range.
func normIndex(n int, index int64) int {
	if index < 0 {
		index += int64(n)
	}
	if index < 0 || index >= int64(n) {
		return -1
	}
	return int(index)
}

// cmdLSet: LSET key index element -> OK.
func cmdLSet(c *command.Ctx, args [][]byte) {
	index, isInt := command.ParseInt(args[2])
	lim := c.Limits()
	var pos int
	err := command.CollWrite(c, args[1], shard.TypeList,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			switch {
			case !exists:
				return nil, 0, nil, false, command.ReplyErr(command.ErrNoSuchKey)
			case !isInt:
				return nil, 0, nil, false, command.ReplyErr(command.ErrNotInteger)
			}
			next, ok, err := value.ListSet(dst, cur, index, args[3])
			if err == nil && !ok {
				err = command.ReplyErr(command.ErrListIndexRange)
			}
			if err != nil {
				return nil, 0, nil, false, err
			}
			obj, err := compactOrBig(lim, next)
			return next, 0, obj, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			q := obj.(*value.QuickList)
			if !isInt {
				return 0, false, false, command.ReplyErr(command.ErrNotInteger)
			}
			if pos = normIndex(q.Len(), index); pos < 0 {
				return 0, false, false, command.ReplyErr(command.ErrListIndexRange)
			}
			return q.PlanSet(pos, args[3]), true, false, nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Set(pos, args[3]) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteString("OK")
}

// cmdLRem: LREM key count element -> the number removed.
func cmdLRem(c *command.Ctx, args [][]byte) {
	count, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	removed := 0
	err := command.CollWrite(c, args[1], shard.TypeList,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			removed = 0
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, n, err := value.ListRem(dst, cur, count, args[3])
			removed = n
			return next, 0, nil, n > 0, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			q := obj.(*value.QuickList)
			removed = q.CountRem(count, args[3])
			return 0, removed > 0, removed == q.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Rem(count, args[3]) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

// cmdLTrim: LTRIM key start stop -> OK; a list trimmed to nothing is
// deleted.
func cmdLTrim(c *command.Ctx, args [][]byte) {
	start, ok1 := command.ParseInt(args[2])
	stop, ok2 := command.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	var from, to int
	found := false
	err := command.CollWrite(c, args[1], shard.TypeList,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			found = exists
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, err := value.ListTrim(dst, cur, start, stop)
			return next, 0, nil, value.ListLen(next) != value.ListLen(cur), err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			found = true
			n := obj.(*value.QuickList).Len()
			from, to = value.ListNormRange(n, start, stop)
			if from >= to {
				return 0, true, true, nil
			}
			return 0, to-from < n, false, nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Trim(from, to) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	if found {
		c.Part.Signal(c.DB, args[1]) // Redis's LTRIM signals even a trim of nothing
	}
	c.W.WriteString("OK")
}

// cmdLInsert: LINSERT key BEFORE|AFTER pivot element -> the new length,
// -1 when pivot is not found, 0 when the key is missing.
func cmdLInsert(c *command.Ctx, args [][]byte) {
	var before bool
	switch {
	case command.EqFold(args[2], "before"):
		before = true
	case command.EqFold(args[2], "after"):
	default:
		c.W.WriteError(command.ErrSyntax)
		return
	}
	lim := c.Limits()
	n := 0
	var pos value.QuickListPos
	err := command.CollWrite(c, args[1], shard.TypeList,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			n = 0
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, found, err := value.ListInsert(dst, cur, before, args[3], args[4])
			if err != nil || !found {
				n = -1
				return nil, 0, nil, false, err
			}
			n = value.ListLen(next)
			obj, err := compactOrBig(lim, next)
			return next, 0, obj, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			q := obj.(*value.QuickList)
			grow, p, found := q.PlanInsert(args[3], args[4], before)
			if !found {
				n = -1
				return 0, false, false, nil
			}
			pos, n = p, q.Len()+1
			return grow, true, false, nil
		},
		func(obj shard.Object) { obj.(*value.QuickList).Insert(pos, args[4]) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	if n > 0 {
		c.Signal(args[1])
	}
	c.W.WriteInt(n)
}

// nonNegArg parses an integer option argument that must not be negative;
// on bad input it writes the error (negErr for a negative value) and
// returns -1.
func nonNegArg(c *command.Ctx, b []byte, negErr string) int64 {
	// Redis's getPositiveLongFromObjectOrReply answers its message for a
	// bad integer as well as a negative one.
	n, ok := command.ParseInt(b)
	if !ok || n < 0 {
		c.W.WriteError(negErr)
		return -1
	}
	return n
}

// cmdLPos: LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
// -> the index of the first match or nil; with COUNT an array of indexes.
func cmdLPos(c *command.Ctx, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case command.EqFold(args[i], "rank") && more:
			n, ok := command.ParseInt(args[i+1])
			switch {
			case !ok:
				c.W.WriteError(command.ErrNotInteger)
				return
			case n == math.MinInt64:
				// Redis 7.0 negates it into itself, which then acts
				// as -1 (checked against redis-server 7.0.15).
				n = -1
			case n == 0:
				c.W.WriteError(command.ErrListRankZero)
				return
			}
			rank = n
		case command.EqFold(args[i], "count") && more:
			if count = nonNegArg(c, args[i+1], command.ErrListCountNeg); count < 0 {
				return
			}
		case command.EqFold(args[i], "maxlen") && more:
			if maxlen = nonNegArg(c, args[i+1], command.ErrListMaxlenNeg); maxlen < 0 {
				return
			}
		default:
			c.W.WriteError(command.ErrSyntax)
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
	found, wrong := listView(c, args[1], func(l value.ListView) {
		pos = pos[:0]
		err = l.Pos(args[2], rank, want, maxlen, func(i int) { pos = append(pos, i) })
	})
	switch {
	case wrong:
	case err != nil:
		c.StoreErr(err)
	case count >= 0:
		c.W.WriteArray(len(pos))
		for _, p := range pos {
			c.W.WriteInt(p)
		}
	case !found || len(pos) == 0:
		c.W.WriteNull()
	default:
		c.W.WriteInt(pos[0])
	}
}

// missLPos is LPOS's shed-read answer: nil, or an empty array with COUNT.
func missLPos(c *command.Ctx, args [][]byte) {
	for i := 3; i+1 < len(args); i += 2 {
		if command.EqFold(args[i], "count") {
			c.W.WriteArray(0)
			return
		}
	}
	c.W.WriteNull()
}

// listParseWhere parses LEFT|RIGHT.
func listParseWhere(b []byte) (left, ok bool) {
	switch {
	case command.EqFold(b, "left"):
		return true, true
	case command.EqFold(b, "right"):
		return false, true
	}
	return false, false
}
