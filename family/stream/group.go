package stream

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// cmdXGroup answers XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER
// key group ... (xgroupCommand: options, then the key, then the group,
// then the subcommand's own checks).
func cmdXGroup(c *command.Ctx, args [][]byte) {
	sub := args[1]
	create := command.EqFold(sub, "create")
	setid := command.EqFold(sub, "setid")
	mkstream := false
	entriesRead := int64(-1)
	for i := 5; i < len(args); {
		switch {
		case create && command.EqFold(args[i], "mkstream"):
			mkstream = true
			i++
		case (create || setid) && command.EqFold(args[i], "entriesread") && i+1 < len(args):
			v, ok := command.ParseInt(args[i+1])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			if v < 0 && v != -1 {
				c.W.WriteError(errEntriesRead)
				return
			}
			entriesRead = v
			i += 2
		default:
			c.W.WriteError(errSubSyntax(args))
			return
		}
	}
	key, group := args[2], args[3]
	now := c.NowMs()
	var errReply string
	var reply func(w *resp.Writer)
	plan := func(s *value.Stream) (int64, error) {
		g := s.Group(group)
		switch {
		case create && len(args) <= 8:
			if !(len(args[4]) == 1 && args[4][0] == '$') {
				if _, ok := strictID(args[4]); !ok {
					return 0, command.ReplyErr(errInvalidID)
				}
			}
			if g != nil {
				return 0, command.ReplyErr(errBusyGroup)
			}
			reply = func(w *resp.Writer) { w.WriteString("OK") }
			return value.GroupCost(group), nil
		case g == nil && (setid || command.EqFold(sub, "createconsumer") || command.EqFold(sub, "delconsumer")):
			return 0, command.ReplyErr(errNoGroupFor(group, key))
		case setid && (len(args) == 5 || len(args) == 7):
			if !(len(args[4]) == 1 && args[4][0] == '$') {
				if _, _, ok := parseID(args[4], 0, false, false); !ok {
					return 0, command.ReplyErr(errInvalidID)
				}
			}
			return 0, nil
		case command.EqFold(sub, "destroy") && len(args) == 4:
			return 0, nil
		case command.EqFold(sub, "createconsumer") && len(args) == 5:
			if g.Consumer(args[4]) != nil {
				return 0, nil
			}
			return value.ConsumerCost(args[4]), nil
		case command.EqFold(sub, "delconsumer") && len(args) == 5:
			return 0, nil
		}
		return 0, command.ReplyErr(errSubSyntax(args))
	}
	commit := func(s *value.Stream) {
		g := s.Group(group)
		switch {
		case create:
			id := s.LastID()
			if !(len(args[4]) == 1 && args[4][0] == '$') {
				id, _ = strictID(args[4])
			}
			s.CreateGroup(group, id, entriesRead)
			reply = func(w *resp.Writer) { w.WriteString("OK") }
		case setid:
			id := s.LastID()
			if !(len(args[4]) == 1 && args[4][0] == '$') {
				id, _, _ = parseID(args[4], 0, false, false)
			}
			g.LastID, g.EntriesRead = id, entriesRead
			reply = func(w *resp.Writer) { w.WriteString("OK") }
		case command.EqFold(sub, "destroy"):
			ok := s.DestroyGroup(group)
			reply = func(w *resp.Writer) { w.WriteInt(command.B2i(ok)) }
		case command.EqFold(sub, "createconsumer"):
			ok := s.CreateConsumer(g, args[4], now) != nil
			reply = func(w *resp.Writer) { w.WriteInt(command.B2i(ok)) }
		case command.EqFold(sub, "delconsumer"):
			n := 0
			if cons := g.Consumer(args[4]); cons != nil {
				n = s.DelConsumer(g, cons)
			}
			reply = func(w *resp.Writer) { w.WriteInt(n) }
		}
	}
	missing, err := editSig(c, key, mkstream, shard.SignalNever, plan, commit)
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing:
		errReply = errXGroupKey
		c.W.WriteError(errReply)
	case reply != nil:
		reply(c.W)
		if command.EqFold(sub, "destroy") {
			c.Signal(key) // clients blocked on the group get NOGROUP
		}
	}
}

// cmdXGroupHelp: XGROUP HELP.
func cmdXGroupHelp(c *command.Ctx, args [][]byte) {
	command.WriteHelp(c.W, "XGROUP", []string{
		"CREATE <key> <groupname> <id|$> [option]",
		"    Create a new consumer group. Options are:",
		"    * MKSTREAM",
		"      Create the empty stream if it does not exist.",
		"    * ENTRIESREAD entries_read",
		"      Set the group's entries_read counter (internal use).",
		"CREATECONSUMER <key> <groupname> <consumer>",
		"    Create a new consumer in the specified group.",
		"DELCONSUMER <key> <groupname> <consumer>",
		"    Remove the specified consumer.",
		"DESTROY <key> <groupname>",
		"    Remove the specified group.",
		"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
		"    Set the current group ID and entries_read counter.",
	})
}

// cmdXAck: XACK key group id [id ...] -> how many were pending. A missing
// key or group answers 0 before the ids are parsed.
func cmdXAck(c *command.Ctx, args [][]byte) {
	ids, ok := parseIDs(args[3:])
	n := 0
	missing, err := editSig(c, args[1], false, shard.SignalNever, func(s *value.Stream) (int64, error) {
		if s.Group(args[2]) != nil && !ok {
			return 0, command.ReplyErr(errInvalidID)
		}
		return 0, nil
	}, func(s *value.Stream) {
		n = 0
		g := s.Group(args[2])
		if g == nil {
			return
		}
		for _, id := range ids {
			if s.Ack(g, id) {
				n++
			}
		}
	})
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing:
		c.W.WriteInt(0)
	default:
		c.W.WriteInt(n)
	}
}

// cmdXPending: XPENDING key group [[IDLE min-idle] start end count
// [consumer]].
func cmdXPending(c *command.Ctx, args [][]byte) {
	justInfo := len(args) == 3
	if !justInfo && (len(args) < 6 || len(args) > 9) {
		c.W.WriteError(command.ErrSyntax)
		return
	}
	var start, end value.StreamID
	var count, minIdle int64
	var consumer []byte
	if !justInfo {
		si := 3
		if command.EqFold(args[3], "idle") {
			v, ok := command.ParseInt(args[4])
			if !ok {
				c.W.WriteError(command.ErrNotInteger)
				return
			}
			minIdle = v
			if len(args) < 8 {
				c.W.WriteError(command.ErrSyntax)
				return
			}
			si += 2
		}
		v, ok := command.ParseInt(args[si+2])
		if !ok {
			c.W.WriteError(command.ErrNotInteger)
			return
		}
		count = max(v, 0)
		var errS string
		if start, errS = rangeStart(args[si]); errS == "" {
			end, errS = rangeEnd(args[si+1])
		}
		if errS != "" {
			c.W.WriteError(errS)
			return
		}
		if si+3 < len(args) {
			consumer = args[si+3]
		}
	}
	now := c.NowMs()
	r := newReply(c)
	noGroup := false
	found, wrong := view(c, args[1], func(s *value.Stream) {
		g := s.Group(args[2])
		if g == nil {
			noGroup = true
			return
		}
		w := &r.w
		if justInfo {
			w.WriteArray(4)
			w.WriteInt(g.Pending())
			if g.Pending() == 0 {
				w.WriteNull()
				w.WriteNull()
				w.WriteNullArray()
				return
			}
			first, last := g.PELFirstLast()
			writeID(w, first)
			writeID(w, last)
			var body resp.Writer
			body.RESP3 = w.RESP3
			n := 0
			for _, cons := range g.Consumers() {
				if cons.Pending() == 0 {
					continue
				}
				body.WriteArray(2)
				body.WriteBulkString(cons.Name)
				var b [20]byte
				body.WriteBulk(appendInt(b[:0], int64(cons.Pending())))
				n++
			}
			appendArray(w, n, body.Out)
			return
		}
		walk := g.PEL
		if consumer != nil {
			cons := g.Consumer(consumer)
			if cons == nil {
				w.WriteArray(0)
				return
			}
			walk = cons.PEL
		}
		var body resp.Writer
		body.RESP3 = w.RESP3
		n := 0
		left := count
		if left > 0 {
			walk(start, func(id value.StreamID, nk *value.StreamNACK) bool {
				if id.Cmp(end) > 0 {
					return false
				}
				if minIdle != 0 && now-nk.DeliveryTime < minIdle {
					return true
				}
				n++
				left--
				body.WriteArray(4)
				writeID(&body, id)
				body.WriteBulkString(nk.Consumer.Name)
				body.WriteInt64(max(now-nk.DeliveryTime, 0))
				body.WriteInt64(nk.DeliveryCount)
				return left > 0
			})
		}
		appendArray(w, n, body.Out)
	})
	switch {
	case wrong:
	case !found || noGroup:
		c.W.WriteError(errNoGroupKey(args[1], args[2]))
	default:
		r.send(c)
	}
}

func appendInt(b []byte, v int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...)
}

// xclaimArgs are XCLAIM's parsed arguments; errS is the first parse error,
// reported after the key and group checks as Redis does.
type xclaimArgs struct {
	minIdle      int64
	ids          []value.StreamID
	idArgs       int
	deliveryTime int64 // -1: not given
	retryCount   int64 // -1: not given
	force        bool
	justID       bool
	lastID       value.StreamID
	errS         string
}

func parseXClaim(args [][]byte, now int64) (a xclaimArgs) {
	a.deliveryTime, a.retryCount = -1, -1
	v, ok := command.ParseInt(args[4])
	if !ok {
		a.errS = errMinIdleXClaim
		return a
	}
	a.minIdle = max(v, 0)
	j := 5
	for ; j < len(args); j++ {
		id, ok := strictID(args[j])
		if !ok {
			break
		}
		a.ids = append(a.ids, id)
	}
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := args[j]
		switch {
		case command.EqFold(opt, "force"):
			a.force = true
		case command.EqFold(opt, "justid"):
			a.justID = true
		case command.EqFold(opt, "idle") && more > 0:
			j++
			v, ok := command.ParseInt(args[j])
			if !ok {
				a.errS = "ERR Invalid IDLE option argument for XCLAIM"
				return a
			}
			a.deliveryTime = now - v
		case command.EqFold(opt, "time") && more > 0:
			j++
			v, ok := command.ParseInt(args[j])
			if !ok {
				a.errS = "ERR Invalid TIME option argument for XCLAIM"
				return a
			}
			a.deliveryTime = v
		case command.EqFold(opt, "retrycount") && more > 0:
			j++
			v, ok := command.ParseInt(args[j])
			if !ok {
				a.errS = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
				return a
			}
			a.retryCount = v
		case command.EqFold(opt, "lastid") && more > 0:
			j++
			id, ok := strictID(args[j])
			if !ok {
				a.errS = errInvalidID
				return a
			}
			a.lastID = id
		default:
			a.errS = "ERR Unrecognized XCLAIM option '" + fmtArg(opt) + "'"
			return a
		}
	}
	if a.deliveryTime != -1 {
		if a.deliveryTime < 0 || a.deliveryTime > now {
			a.deliveryTime = now
		}
	} else {
		a.deliveryTime = now
	}
	return a
}

// cmdXClaim: XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
// [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
func cmdXClaim(c *command.Ctx, args [][]byte) {
	now := c.NowMs()
	a := parseXClaim(args, now)
	name := args[3]
	r := newReply(c)
	noGroup := false
	missing, err := editSig(c, args[1], false, shard.SignalNever, func(s *value.Stream) (int64, error) {
		g := s.Group(args[2])
		if g == nil {
			noGroup = true
			return 0, nil
		}
		if a.errS != "" {
			return 0, command.ReplyErr(a.errS)
		}
		var grow int64
		if g.Consumer(name) == nil {
			grow = value.ConsumerCost(name)
		}
		if a.force {
			grow += int64(len(a.ids)) * value.StreamNACKCost
		}
		return grow, nil
	}, func(s *value.Stream) {
		r.reset()
		g := s.Group(args[2])
		if g == nil {
			noGroup = true
			return
		}
		if a.lastID.Cmp(g.LastID) > 0 {
			g.LastID = a.lastID
		}
		var body resp.Writer
		body.RESP3 = r.w.RESP3
		n := 0
		var cons *value.StreamConsumer
		for _, id := range a.ids {
			nk := g.NACK(id)
			if !s.Get(id, nil) {
				if nk != nil {
					s.Ack(g, id)
				}
				continue
			}
			if a.force && nk == nil {
				nk = s.ForceNACK(g, id)
			}
			if nk == nil {
				continue
			}
			if nk.Consumer != nil && a.minIdle != 0 && now-nk.DeliveryTime < a.minIdle {
				continue
			}
			if cons == nil {
				cons = s.LookupOrCreateConsumer(g, name, now)
			}
			nk.DeliveryTime = a.deliveryTime
			if a.retryCount >= 0 {
				nk.DeliveryCount = a.retryCount
			} else if !a.justID {
				nk.DeliveryCount++
			}
			s.Claim(nk, id, cons)
			if a.justID {
				writeID(&body, id)
			} else {
				s.Get(id, func(rec []byte) { writeEntry(&body, id, rec) })
			}
			n++
		}
		appendArray(&r.w, n, body.Out)
	})
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing || noGroup:
		c.W.WriteError(errNoGroupKey(args[1], args[2]))
	default:
		r.send(c)
	}
}

// cmdXAutoClaim: XAUTOCLAIM key group consumer min-idle-time start [COUNT
// count] [JUSTID] -> [next cursor, claimed, deleted ids].
func cmdXAutoClaim(c *command.Ctx, args [][]byte) {
	v, ok := command.ParseInt(args[4])
	if !ok {
		c.W.WriteError(errMinIdleXAuto)
		return
	}
	minIdle := max(v, 0)
	start, errS := rangeStart(args[5])
	if errS != "" {
		c.W.WriteError(errS)
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case command.EqFold(args[j], "count") && more > 0:
			v, ok := command.ParseInt(args[j+1])
			if !ok || v < 1 || v > math.MaxInt64/16 {
				c.W.WriteError(errCountPositive)
				return
			}
			count = v
			j++
		case command.EqFold(args[j], "justid"):
			justID = true
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	now := c.NowMs()
	name := args[3]
	r := newReply(c)
	noGroup := false
	missing, err := editSig(c, args[1], false, shard.SignalNever, func(s *value.Stream) (int64, error) {
		g := s.Group(args[2])
		if g == nil {
			noGroup = true
			return 0, nil
		}
		if g.Consumer(name) != nil {
			return 0, nil
		}
		return value.ConsumerCost(name), nil
	}, func(s *value.Stream) {
		r.reset()
		g := s.Group(args[2])
		if g == nil {
			noGroup = true
			return
		}
		var body resp.Writer
		body.RESP3 = r.w.RESP3
		var deleted []value.StreamID
		var cons *value.StreamConsumer
		attempts := count * 10
		left := count
		n := 0
		cur := start
		curValid := true
		next := func() (value.StreamID, *value.StreamNACK, bool) {
			if !curValid {
				return value.StreamID{}, nil, false
			}
			var rid value.StreamID
			var rnk *value.StreamNACK
			found := false
			g.PEL(cur, func(id value.StreamID, nk *value.StreamNACK) bool {
				rid, rnk, found = id, nk, true
				return false
			})
			return rid, rnk, found
		}
		advance := func(id value.StreamID) { cur, curValid = id.Incr() }
		for {
			if attempts == 0 {
				break
			}
			attempts--
			if left == 0 {
				break
			}
			id, nk, ok := next()
			if !ok {
				curValid = false
				break
			}
			advance(id)
			if !s.Get(id, nil) {
				s.Ack(g, id)
				deleted = append(deleted, id)
				left--
				continue
			}
			if minIdle != 0 && now-nk.DeliveryTime < minIdle {
				continue
			}
			if cons == nil {
				cons = s.LookupOrCreateConsumer(g, name, now)
			}
			nk.DeliveryTime = now
			if !justID {
				nk.DeliveryCount++
			}
			s.Claim(nk, id, cons)
			if justID {
				writeID(&body, id)
			} else {
				s.Get(id, func(rec []byte) { writeEntry(&body, id, rec) })
			}
			n++
			left--
		}
		var cursor value.StreamID
		if id, _, ok := next(); ok {
			cursor = id
		}
		r.w.WriteArray(3)
		writeID(&r.w, cursor)
		appendArray(&r.w, n, body.Out)
		r.w.WriteArray(len(deleted))
		for _, id := range deleted {
			writeID(&r.w, id)
		}
	})
	switch {
	case err != nil:
		c.StoreErr(err)
	case missing || noGroup:
		c.W.WriteError(errNoGroupKey(args[1], args[2]))
	default:
		r.send(c)
	}
}
