package stream

import (
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// xreadBlockedCount is Redis's XREAD_BLOCKED_DEFAULT_COUNT: a client
// woken without COUNT gets at most this many entries per stream.
const xreadBlockedCount = 1000

// xreadArgs are XREAD's and XREADGROUP's parsed options.
type xreadArgs struct {
	group, consumer []byte
	noack           bool
	count           int64
	block           bool
	wait            time.Duration
	keys, idArgs    [][]byte
}

// readGT is the id marking ">" (Redis uses the largest id).
var readGT = value.MaxStreamID

func parseXRead(c *command.Ctx, args [][]byte, group bool) (a xreadArgs, errS string) {
	streamsArg := 0
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case command.EqFold(o, "block") && more > 0:
			if s, ok := c.Conn.(interface{ InScript() bool }); ok && s.InScript() {
				return a, "ERR " + string(args[0]) + " command is not allowed with BLOCK option from scripts"
			}
			i++
			w, e := parseBlock(c, args[i])
			if e != "" {
				return a, e
			}
			a.block, a.wait = true, w
		case command.EqFold(o, "count") && more > 0:
			i++
			v, ok := command.ParseInt(args[i])
			if !ok {
				return a, command.ErrNotInteger
			}
			a.count = max(v, 0)
		case command.EqFold(o, "streams") && more > 0:
			streamsArg = i + 1
			n := len(args) - streamsArg
			if n%2 != 0 {
				return a, errUnbalanced
			}
			a.keys = args[streamsArg : streamsArg+n/2]
			a.idArgs = args[streamsArg+n/2:]
			i = len(args)
		case command.EqFold(o, "group") && more >= 2:
			if !group {
				return a, errGroupOnlyRG
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case command.EqFold(o, "noack"):
			if !group {
				return a, errNoackOnlyRG
			}
			a.noack = true
		default:
			return a, command.ErrSyntax
		}
	}
	if streamsArg == 0 {
		return a, command.ErrSyntax
	}
	if group && a.group == nil {
		return a, errMissingGroup
	}
	return a, ""
}

// cmdXRead: XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id
// ...] -> per stream with entries after its id, [key, entries] (a map in
// RESP3), or a null array.
func cmdXRead(c *command.Ctx, args [][]byte) { xread(c, args, false) }

// cmdXReadGroup: XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms]
// [NOACK] STREAMS key [key ...] id [id ...].
func cmdXReadGroup(c *command.Ctx, args [][]byte) { xread(c, args, true) }

func xread(c *command.Ctx, args [][]byte, group bool) {
	a, errS := parseXRead(c, args, group)
	if errS != "" {
		c.W.WriteError(errS)
		return
	}
	// Resolve the ids, key by key, as Redis does: the type, the group,
	// then the id.
	ids := make([]value.StreamID, len(a.keys))
	for i, key := range a.keys {
		arg := a.idArgs[i]
		var last value.StreamID
		hasGroup := false
		found, wrong := view(c, key, func(s *value.Stream) {
			last = s.LastID()
			hasGroup = group && s.Group(a.group) != nil
		})
		if wrong {
			return
		}
		if group && (!found || !hasGroup) {
			c.W.WriteError(errNoGroupRead(key, a.group))
			return
		}
		switch {
		case len(arg) == 1 && arg[0] == '$':
			if group {
				c.W.WriteError(errDollarGroup)
				return
			}
			ids[i] = last // 0-0 for a missing key
		case len(arg) == 1 && arg[0] == '>':
			if !group {
				c.W.WriteError(errGtOnlyGroup)
				return
			}
			ids[i] = readGT
		default:
			id, ok := strictID(arg)
			if !ok {
				c.W.WriteError(errInvalidID)
				return
			}
			ids[i] = id
		}
	}

	// Serve at once what can be served.
	var body resp.Writer
	body.RESP3 = c.W.RESP3
	served := 0
	for i, key := range a.keys {
		ok, _, err := serveKey(c, &body, key, ids[i], &a, a.count, false)
		if err != nil {
			c.StoreErr(err)
			return
		}
		if ok {
			served++
		}
	}
	if served > 0 {
		if c.W.RESP3 {
			c.W.WriteMap(served)
		} else {
			c.W.WriteArray(served)
		}
		c.W.WriteRaw(body.Out)
		return
	}
	if !a.block {
		c.W.WriteNullArray()
		return
	}
	if !c.Conn.CanBlock() {
		c.W.WriteNullArray() // inside MULTI, as Redis's CLIENT_DENY_BLOCKING
		return
	}
	count := a.count
	if count == 0 {
		count = xreadBlockedCount
	}
	tryKey := func(i int) bool {
		var one resp.Writer
		one.RESP3 = c.W.RESP3
		ok, errReply, err := serveKey(c, &one, a.keys[i], ids[i], &a, count, true)
		if err != nil {
			c.StoreErr(err)
			return true
		}
		if errReply != "" {
			c.W.WriteError(errReply)
			return true
		}
		if !ok {
			return false
		}
		if c.W.RESP3 {
			c.W.WriteMap(1)
		} else {
			c.W.WriteArray(1)
		}
		c.W.WriteRaw(one.Out)
		return true
	}
	c.Conn.Block(args, a.keys, a.wait, func(which []int32) bool {
		if which == nil {
			for i := range a.keys {
				if tryKey(i) {
					return true
				}
			}
			return false
		}
		for _, i := range which {
			if tryKey(int(i)) {
				return true
			}
		}
		return false
	}, c.W.WriteNullArray)
}

// serveKey serves one stream of an XREAD (a.group nil) or XREADGROUP
// into w ([key, entries] in RESP2, key then entries in RESP3) and reports
// whether it did. woken applies the rules of a blocked client woken on
// the key (blocked.c's serveClientsBlockedOnStreamKey): the stream's last
// id decides, a group read starts after the group's last id, and a key or
// group gone is the error reply errReply (ok true).
func serveKey(c *command.Ctx, w *resp.Writer, key []byte, gt value.StreamID, a *xreadArgs, count int64, woken bool) (ok bool, errReply string, err error) {
	if a.group == nil {
		wrong := false
		c.Part.View(c.DB, key, shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
			if e.Type != shard.TypeStream {
				wrong = true
				return
			}
			s := e.Obj.(*value.Stream)
			// Woken or not, a read is served only when it has an
			// entry to give (Redis's woken path compares the last
			// generated id and can answer an empty list when the new
			// entries were deleted: its own test calls that a bug).
			if s.Len() == 0 || s.LastValidID().Cmp(gt) <= 0 {
				return
			}
			ok = true
			start, _ := gt.Incr()
			if !w.RESP3 {
				w.WriteArray(2)
			}
			w.WriteBulk(key)
			writeRange(w, s, start, value.MaxStreamID, count, false)
		})
		if wrong && woken {
			return false, "", nil // not a stream (yet): keep waiting
		}
		if wrong {
			return false, "", command.ErrWrongTypeAbort
		}
		return ok, "", nil
	}

	now := c.NowMs()
	history := gt != readGT
	var out []byte
	served := false
	missing, err := editSig(c, key, false, shard.SignalNever, func(s *value.Stream) (int64, error) {
		g := s.Group(a.group)
		if g == nil {
			if woken {
				return 0, nil // answered in commit
			}
			return 0, nil // the group went away since it was checked: skip
		}
		var grow int64
		if g.Consumer(a.consumer) == nil {
			grow += value.ConsumerCost(a.consumer)
		}
		if !history && !a.noack {
			n := int64(0)
			from, _ := g.LastID.Incr()
			s.Range(from, value.MaxStreamID, false, func(value.StreamID, []byte) bool {
				n++
				return count == 0 || n < count
			})
			grow += n * value.StreamNACKCost
		}
		return grow, nil
	}, func(s *value.Stream) {
		served, errReply = false, ""
		g := s.Group(a.group)
		if g == nil {
			if woken {
				errReply = errBlockedGroupGone
			}
			return
		}
		start := gt
		if !history {
			start = g.LastID
			if s.Len() == 0 || s.LastValidID().Cmp(start) <= 0 {
				return
			}
		}
		served = true
		var b resp.Writer
		b.RESP3 = w.RESP3
		if !b.RESP3 {
			b.WriteArray(2)
		}
		b.WriteBulk(key)
		cons := s.LookupOrCreateConsumer(g, a.consumer, now)
		from, _ := start.Incr()
		if history {
			var body resp.Writer
			body.RESP3 = b.RESP3
			n := 0
			cons.PEL(from, func(id value.StreamID, nk *value.StreamNACK) bool {
				if count > 0 && int64(n) >= count {
					return false
				}
				if !s.Get(id, func(rec []byte) { writeEntry(&body, id, rec) }) {
					body.WriteArray(2)
					writeID(&body, id)
					body.WriteNullArray()
				} else {
					nk.DeliveryTime = now
					nk.DeliveryCount++
				}
				n++
				return true
			})
			appendArray(&b, n, body.Out)
			out = b.Out
			return
		}
		var body resp.Writer
		body.RESP3 = b.RESP3
		n := 0
		var delivered []value.StreamID
		s.Range(from, value.MaxStreamID, false, func(id value.StreamID, rec []byte) bool {
			if id.Cmp(g.LastID) > 0 {
				if g.EntriesRead != -1 && !s.RangeHasTombstones(id, nil) {
					g.EntriesRead++
				} else if s.EntriesAdded() > 0 {
					g.EntriesRead = s.EstimateDistance(id)
				}
				g.LastID = id
			}
			writeEntry(&body, id, rec)
			if !a.noack {
				delivered = append(delivered, id)
			}
			n++
			return count == 0 || int64(n) < count
		})
		for _, id := range delivered {
			s.Deliver(g, cons, id, now)
		}
		appendArray(&b, n, body.Out)
		out = b.Out
	})
	switch {
	case err == command.ErrWrongTypeAbort && woken, missing && woken:
		return true, errBlockedKeyGone, nil
	case err != nil:
		return false, "", err
	case errReply != "":
		return true, errReply, nil
	case served:
		w.Out = append(w.Out, out...)
		return true, "", nil
	}
	return false, "", nil
}
