// Package stream serves the stream commands: XADD XRANGE XREVRANGE XLEN
// XDEL XTRIM XSETID, XREAD and XREADGROUP (with BLOCK), XGROUP XACK
// XPENDING XCLAIM XAUTOCLAIM and XINFO, with Redis 7.0's semantics,
// replies and error strings (t_stream.c of 7.0.15).
//
// A stream is one entry of type shard.TypeStream holding a value.Stream
// object (see its doc for the structure and the accounting). A write
// that creates the key builds the stream and Puts it (its whole Bytes
// reserved against the tenant's quota); a write to an existing stream is
// an Edit: the callback plans the growth of Bytes without changing
// anything (it may run more than once), the partition reserves it, and
// the commit makes the change once, under the same lock hold (package
// shard, "Growing an object in place"). Replies are built under the lock
// into a writer of their own and sent after it is released.
//
// Blocking XREAD and XREADGROUP wait through the connection's Block, the
// path BLPOP uses (server/block.go): XADD signals its key in its tenant
// and db, and XGROUP DESTROY does too so a client blocked on the group
// gets Redis's NOGROUP error. tcached does not signal a deleted key, so a
// client blocked in XREADGROUP on a key that DEL removes keeps waiting
// until its timeout or the next signal (Redis answers UNBLOCKED at once);
// if it is woken and finds the key gone it answers UNBLOCKED.
package stream

import (
	"math"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// replyBuf is a reply built under the partition lock, sent after.
type replyBuf struct{ w resp.Writer }

func newReply(c *command.Ctx) *replyBuf {
	return &replyBuf{w: resp.Writer{RESP3: c.W.RESP3}}
}

func (r *replyBuf) reset() { r.w.Out = r.w.Out[:0] }

func (r *replyBuf) send(c *command.Ctx) { c.W.WriteRaw(r.w.Out) }

// appendArray writes an array header for n elements and then body.
func appendArray(w *resp.Writer, n int, body []byte) {
	w.WriteArray(n)
	w.Out = append(w.Out, body...)
}

func writeID(w *resp.Writer, id value.StreamID) {
	var b [48]byte
	w.WriteBulk(id.Append(b[:0]))
}

// writeEntry writes [id, [field, value, ...]].
func writeEntry(w *resp.Writer, id value.StreamID, rec []byte) {
	w.WriteArray(2)
	writeID(w, id)
	w.WriteArray(2 * value.StreamFieldCount(rec))
	value.StreamFields(rec, func(f, v []byte) {
		w.WriteBulk(f)
		w.WriteBulk(v)
	})
}

// writeRange writes the entries from start to end (count 0: all) as an
// array and returns how many.
func writeRange(w *resp.Writer, s *value.Stream, start, end value.StreamID, count int64, rev bool) int {
	var body resp.Writer
	body.RESP3 = w.RESP3
	n := rangeRaw(&body, s, start, end, count, rev)
	appendArray(w, n, body.Out)
	return n
}

// rangeRaw writes the entries without an array header.
func rangeRaw(w *resp.Writer, s *value.Stream, start, end value.StreamID, count int64, rev bool) int {
	n := 0
	s.Range(start, end, rev, func(id value.StreamID, rec []byte) bool {
		writeEntry(w, id, rec)
		n++
		return count == 0 || int64(n) < count
	})
	return n
}

// view runs fn on the stream at key under the lock. A key of another type
// answers WRONGTYPE (wrong true).
func view(c *command.Ctx, key []byte, fn func(s *value.Stream)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeStream, func(e shard.Entry) { fn(e.Obj.(*value.Stream)) })
}

// edit changes the stream at key. plan computes the growth of its Bytes
// (it may run more than once and must not change s); commit makes the
// change, once. A missing key is created when create is set (plan and
// commit then run on a new stream, which is Put whole), else edit
// reports missing and changes nothing. A key of another type is
// command.ErrWrongTypeAbort.
func edit(c *command.Ctx, key []byte, create bool, plan func(s *value.Stream) (int64, error), commit func(s *value.Stream)) (missing bool, err error) {
	return editSig(c, key, create, shard.SignalChange, plan, commit)
}

// editSig is edit whose change of an existing stream is reported to
// WATCH as sig says: Redis 7.0 signals XADD, XDEL and XTRIM that deleted
// something, and MKSTREAM's creation, but not the consumer-group commands
// (XGROUP, XREADGROUP, XACK, XCLAIM, XAUTOCLAIM) nor XSETID.
func editSig(c *command.Ctx, key []byte, create bool, sig shard.Signal, plan func(s *value.Stream) (int64, error), commit func(s *value.Stream)) (missing bool, err error) {
	var target *value.Stream
	now := c.NowMs()
	err = c.Part.MutateEdit(c.DB, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		target, missing = nil, false
		if exists && cur.Type != shard.TypeStream {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if !exists {
			if !create {
				missing = true
				return cur, shard.Keep, nil
			}
			s := value.NewStream()
			if _, err := plan(s); err != nil {
				return cur, shard.Keep, err
			}
			commit(s)
			return shard.Entry{Obj: s, Type: shard.TypeStream, ExpireAt: c.DefaultExpire(now)}, shard.Put, nil
		}
		s := cur.Obj.(*value.Stream)
		grow, err := plan(s)
		if err != nil {
			return cur, shard.Keep, err
		}
		target = s
		return shard.Entry{Grow: grow, Signal: sig}, shard.Edit, nil
	}, func() {
		if target != nil {
			commit(target)
		}
	})
	return missing, err
}

func nodeLimits(c *command.Ctx) (maxBytes, maxEntries int64) {
	return c.Types.Get(command.StreamNodeMaxBytes), c.Types.Get(command.StreamNodeMaxEntries)
}

// cmdXAdd: XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT
// count]] *|id field value [field value ...] -> the id added, or a null
// with NOMKSTREAM and no key.
func cmdXAdd(c *command.Ctx, args [][]byte) {
	a, errS := parseAddTrim(c, args, true)
	if errS != "" {
		c.W.WriteError(errS)
		return
	}
	fieldPos := a.idPos + 1
	if n := len(args) - fieldPos; n < 2 || n%2 == 1 {
		c.W.WriteError(command.ErrWrongArgs("xadd"))
		return
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.W.WriteError(errIDZero)
		return
	}
	pairs := args[fieldPos:]
	maxB, maxE := nodeLimits(c)
	now := uint64(max(c.NowMs(), 0))
	var id value.StreamID
	var given *value.StreamID
	if a.idGiven {
		given = &a.id
	}
	missing, err := edit(c, args[1], !a.noMk, func(s *value.Stream) (int64, error) {
		if s.LastID() == value.MaxStreamID {
			return 0, command.ReplyErr(errExhausted)
		}
		nid, err := s.NextID(now, given, a.seqGiven)
		if err != nil {
			return 0, command.ReplyErr(errIDSmall)
		}
		grow, err := s.PlanAdd(pairs, maxB, maxE)
		if err != nil {
			return 0, command.ReplyErr(errTooLarge)
		}
		id = nid
		return grow, nil
	}, func(s *value.Stream) {
		s.Add(id, pairs, maxB, maxE)
		s.Trim(a.trim)
	})
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing:
		c.W.WriteNull()
	default:
		writeID(c.W, id)
		c.Signal(args[1])
	}
}

// xrange answers XRANGE key start end [COUNT n] and XREVRANGE key end
// start [COUNT n].
func xrange(c *command.Ctx, args [][]byte, rev bool) {
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, errS := rangeStart(startArg)
	if errS == "" {
		var end value.StreamID
		end, errS = rangeEnd(endArg)
		if errS == "" {
			xrangeParsed(c, args, start, end, rev)
			return
		}
	}
	c.W.WriteError(errS)
}

func xrangeParsed(c *command.Ctx, args [][]byte, start, end value.StreamID, rev bool) {
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if command.EqFold(args[j], "count") && j+1 < len(args) {
			v, ok := command.ParseInt(args[j+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			count = max(v, 0)
			j++
			continue
		}
		c.W.WriteError(command.ErrSyntax)
		return
	}
	r := newReply(c)
	found, wrong := view(c, args[1], func(s *value.Stream) {
		if count == 0 {
			r.w.WriteNullArray()
			return
		}
		writeRange(&r.w, s, start, end, max(count, 0), rev)
	})
	switch {
	case wrong:
	case !found:
		c.W.WriteArray(0)
	default:
		r.send(c)
	}
}

// cmdXRange: XRANGE key start end [COUNT count].
func cmdXRange(c *command.Ctx, args [][]byte) { xrange(c, args, false) }

// cmdXRevRange: XREVRANGE key end start [COUNT count].
func cmdXRevRange(c *command.Ctx, args [][]byte) { xrange(c, args, true) }

// cmdXLen: XLEN key.
func cmdXLen(c *command.Ctx, args [][]byte) {
	var n int64
	if _, wrong := view(c, args[1], func(s *value.Stream) { n = s.Len() }); wrong {
		return
	}
	c.W.WriteInt64(n)
}

// parseIDs parses ids strictly; ok false if one is invalid.
func parseIDs(args [][]byte) ([]value.StreamID, bool) {
	ids := make([]value.StreamID, len(args))
	for i, a := range args {
		id, ok := strictID(a)
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

// cmdXDel: XDEL key id [id ...] -> how many were deleted. A missing key
// answers 0 before the ids are parsed, as Redis.
func cmdXDel(c *command.Ctx, args [][]byte) {
	ids, ok := parseIDs(args[2:])
	n := 0
	missing, err := editSig(c, args[1], false, shard.SignalNever, func(*value.Stream) (int64, error) {
		if !ok {
			return 0, command.ReplyErr(errInvalidID)
		}
		return 0, nil
	}, func(s *value.Stream) { n = s.Del(ids) })
	if n > 0 {
		c.Part.Signal(c.DB, args[1]) // Redis signals an XDEL that deleted
	}
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing:
		c.W.WriteInt(0)
	default:
		c.W.WriteInt(n)
	}
}

// cmdXTrim: XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] -> how
// many entries were removed.
func cmdXTrim(c *command.Ctx, args [][]byte) {
	a, errS := parseAddTrim(c, args, false)
	if errS != "" {
		c.W.WriteError(errS)
		return
	}
	var n int64
	_, err := editSig(c, args[1], false, shard.SignalNever, func(*value.Stream) (int64, error) { return 0, nil },
		func(s *value.Stream) { n = s.Trim(a.trim) })
	if n > 0 {
		c.Part.Signal(c.DB, args[1]) // Redis signals an XTRIM that trimmed
	}
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(n)
}

// cmdXSetID: XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
func cmdXSetID(c *command.Ctx, args [][]byte) {
	id, ok := strictID(args[2])
	if !ok {
		c.W.WriteError(errInvalidID)
		return
	}
	added := int64(-1)
	var maxDel value.StreamID
	for i := 3; i < len(args); i += 2 {
		more := len(args) - 1 - i
		switch {
		case command.EqFold(args[i], "entriesadded") && more > 0:
			v, ok := command.ParseInt(args[i+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			if v < 0 {
				c.W.WriteError(errEntriesAdded)
				return
			}
			added = v
		case command.EqFold(args[i], "maxdeletedid") && more > 0:
			v, ok := strictID(args[i+1])
			if !ok {
				c.W.WriteError(errInvalidID)
				return
			}
			if id.Cmp(v) < 0 {
				c.W.WriteError(errSetIDMaxDel)
				return
			}
			maxDel = v
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	missing, err := editSig(c, args[1], false, shard.SignalNever, func(s *value.Stream) (int64, error) {
		if s.Len() > 0 {
			if id.Cmp(s.LastValidID()) < 0 {
				return 0, command.ReplyErr(errSetIDSmall)
			}
			if added != -1 && s.Len() > added {
				return 0, command.ReplyErr(errSetIDAdded)
			}
		}
		return 0, nil
	}, func(s *value.Stream) { s.SetMeta(id, added, maxDel) })
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing:
		c.W.WriteError(command.ErrNoSuchKey)
	default:
		c.W.WriteString("OK")
	}
}

// parseBlock parses XREAD's BLOCK milliseconds as Redis's
// getTimeoutFromObjectOrReply does, and applies the connection's wait
// policy (0 and anything longer wait MaxBlock).
func parseBlock(c *command.Ctx, b []byte) (time.Duration, string) {
	v, ok := command.ParseInt(b)
	if !ok {
		return 0, errTimeoutNotInt
	}
	if v < 0 {
		return 0, errTimeoutNeg
	}
	maxWait := c.Conn.MaxBlock()
	if v == 0 || v > maxWait.Milliseconds() || v > math.MaxInt64/int64(time.Millisecond) {
		return maxWait, ""
	}
	return time.Duration(v) * time.Millisecond, ""
}
