package command

import (
	"math"
	"sync"

	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// EncBufs pools the buffers collection writes build their next compact
// encoding in (the partition copies it into the entry), so a write to a
// compact collection allocates no new buffer per write. A pool holds no state a test could observe, so
// servers in one process may share it.
var EncBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// SmallFn builds the next state of a collection in its compact encoding
// (cur nil when the key is missing; tag is the entry's Enc): the next
// encoding and its tag, or obj, the collection converted to its big
// encoding. changed false leaves the key as it is. dst is a pooled buffer
// to build the next encoding in. It may run more than once and must only
// record results.
type SmallFn = func(dst, cur []byte, exists bool, tag uint8) (next []byte, nextTag uint8, obj shard.Object, changed bool, err error)

// BigFn plans a change of a collection in its big encoding without making
// it: grow is the most the change adds to obj.Bytes() (see shard.Edit),
// changed false leaves the key as it is, and empties reports a change
// that removes every element (the key is deleted instead). It may run more
// than once and must only record results; the commit given to CollWrite
// makes the last plan's change.
type BigFn = func(obj shard.Object) (grow int64, changed, empties bool, err error)

// CollWrite changes the collection of type typ at key in whichever
// encoding it has: small for a compact (or missing) one, big and then
// commit for one in its big encoding, whose growth is reserved before
// commit runs (shard.Partition.MutateEdit). A key of another type is
// WRONGTYPE; a collection left empty is deleted; a new one gets the tier's
// default TTL and an existing one keeps its TTL.
func CollWrite(c *Ctx, key []byte, typ shard.Type, small SmallFn, big BigFn, commit func(obj shard.Object)) error {
	bp := EncBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= MaxPooled {
			*bp = (*bp)[:0]
			EncBufs.Put(bp)
		}
	}()
	now := c.NowMs()
	var target shard.Object
	return c.Part.MutateEdit(c.DB, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		target = nil
		if exists && cur.Type != typ {
			return cur, shard.Keep, ErrWrongTypeAbort
		}
		if cur.Obj != nil {
			grow, changed, empties, err := big(cur.Obj)
			switch {
			case err != nil || !changed:
				return cur, shard.Keep, err
			case empties:
				return cur, shard.Delete, nil
			}
			target = cur.Obj
			return shard.Entry{Grow: grow}, shard.Edit, nil
		}
		next, tag, obj, changed, err := small((*bp)[:0], cur.Value, exists, cur.Enc)
		if next != nil {
			*bp = next[:0] // keep a grown buffer for the next attempt
		}
		if err != nil || !changed {
			return cur, shard.Keep, err
		}
		expireAt := cur.ExpireAt
		if !exists {
			expireAt = c.DefaultExpire(now)
		}
		if obj != nil {
			return shard.Entry{Obj: obj, ExpireAt: expireAt, Type: typ}, shard.Put, nil
		}
		if value.HashLen(next) == 0 {
			return cur, shard.Delete, nil
		}
		return shard.Entry{Value: next, ExpireAt: expireAt, Type: typ, Enc: tag}, shard.Put, nil
	}, func() { commit(target) })
}

// CollEntry runs fn on the entry of the collection of type typ at key
// (either encoding: e.Value or e.Obj) under the sub-shard lock, counting a
// hit or miss and touching the key as CollView does. fn must copy what it
// keeps. A key of another type answers WRONGTYPE and reports wrong.
func CollEntry(c *Ctx, key []byte, typ shard.Type, fn func(e shard.Entry)) (found, wrong bool) {
	found = c.Part.View(c.DB, key, shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		if e.Type != typ {
			wrong = true
			return
		}
		fn(e)
	})
	if wrong {
		c.W.WriteError(ErrWrongType)
	}
	return found, wrong
}

// Pairs splits field/value arguments starting at args[from].
func Pairs(args [][]byte, from int) (fields, values [][]byte) {
	n := (len(args) - from) / 2
	fields = make([][]byte, n)
	values = make([][]byte, n)
	for i := range n {
		fields[i], values[i] = args[from+2*i], args[from+2*i+1]
	}
	return fields, values
}

// randReplyFits bounds HRANDFIELD's repeating form: its reply grows with
// count, not with the hash, so -count must not let one command stream an
// unbounded reply. It must fit the client output buffer limit (or 512 MB,
// proto-max-bulk-len, when there is none).
func (c *Ctx) RandReplyFits(count int64, avgPair int, withValues bool) bool {
	limit := c.Conn.OutputLimit()
	if limit <= 0 {
		limit = MaxStringLen
	}
	per := int64(avgPair/2 + 8) // "$n\r\n" + field + "\r\n"
	if withValues {
		per = int64(avgPair + 24)
	}
	return count <= limit/per
}

func (c *Ctx) WriteRandHeader(n int, withValues bool) {
	if withValues && !c.W.RESP3 {
		c.W.WriteArray(2 * n)
		return
	}
	c.W.WriteArray(n)
}

func (c *Ctx) WriteRandPair(f, v []byte, withValues bool) {
	if !withValues {
		c.W.WriteBulk(f)
		return
	}
	if c.W.RESP3 {
		c.W.WriteArray(2)
	}
	c.W.WriteBulk(f)
	c.W.WriteBulk(v)
}

// RandCount parses HRANDFIELD's and ZRANDMEMBER's count form, `key count
// [flag]` (flag WITHVALUES or WITHSCORES), with Redis's errors and their
// order: the count must be an integer other than LLONG_MIN, the only
// option is flag, and with it the count must fit in half the int64 range
// (the reply holds two items per element). ok false means the error is
// written.
func RandCount(c *Ctx, args [][]byte, flag string) (count int64, with, ok bool) {
	count, ok = ParseInt(args[2])
	switch {
	case !ok:
		c.W.WriteError(ErrNotInteger)
	case count == math.MinInt64:
		c.W.WriteError(ErrRangeNotMinInt)
	case len(args) > 4 || len(args) == 4 && !EqFold(args[3], flag):
		c.W.WriteError(ErrSyntax)
	case len(args) == 4 && (count < -math.MaxInt64/2 || count > math.MaxInt64/2):
		c.W.WriteError(ErrOutOfRange)
	default:
		return count, len(args) == 4, true
	}
	return 0, false, false
}
