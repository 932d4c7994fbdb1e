package stream

import (
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/value"
)

// xinfoView looks the key up for XINFO: a missing key is "no such key".
func xinfoView(c *command.Ctx, args [][]byte, fn func(s *value.Stream, w *resp.Writer) string) {
	r := newReply(c)
	var errS string
	found, wrong := view(c, args[2], func(s *value.Stream) { errS = fn(s, &r.w) })
	switch {
	case wrong:
	case !found:
		c.W.WriteError(command.ErrNoSuchKey)
	case errS != "":
		c.W.WriteError(errS)
	default:
		r.send(c)
	}
}

// radixNodes stands for XINFO's radix-tree-nodes, the node count of
// Redis's rax, which has no counterpart here: one per node plus the root,
// a plausible figure (documented in the README as a difference).
func radixNodes(s *value.Stream) int { return s.Nodes() + 1 }

// cmdXInfoStream: XINFO STREAM key [FULL [COUNT count]].
func cmdXInfoStream(c *command.Ctx, args [][]byte) {
	full := false
	count := int64(10)
	opts := args[3:]
	var optErr string
	if len(opts) > 0 {
		switch {
		case len(opts) != 1 && len(opts) != 3, !command.EqFold(opts[0], "full"):
			optErr = errSubSyntax(args)
		case len(opts) == 3 && !command.EqFold(opts[1], "count"):
			optErr = errSubSyntax(args)
		case len(opts) == 3:
			v, ok := command.ParseInt(opts[2])
			if !ok {
				optErr = command.ErrNotInteger
			} else if v < 0 {
				v = 10
			}
			count = v
		}
		full = true
	}
	now := c.NowMs()
	_ = now
	xinfoView(c, args, func(s *value.Stream, w *resp.Writer) string {
		if optErr != "" {
			return optErr
		}
		if full {
			w.WriteMap(9)
		} else {
			w.WriteMap(10)
		}
		w.WriteBulkString("length")
		w.WriteInt64(s.Len())
		w.WriteBulkString("radix-tree-keys")
		w.WriteInt(s.Nodes())
		w.WriteBulkString("radix-tree-nodes")
		w.WriteInt(radixNodes(s))
		w.WriteBulkString("last-generated-id")
		writeID(w, s.LastID())
		w.WriteBulkString("max-deleted-entry-id")
		writeID(w, s.MaxDeletedID())
		w.WriteBulkString("entries-added")
		w.WriteInt64(s.EntriesAdded())
		w.WriteBulkString("recorded-first-entry-id")
		writeID(w, s.FirstID())
		if !full {
			w.WriteBulkString("groups")
			w.WriteInt(s.NumGroups())
			w.WriteBulkString("first-entry")
			if rangeRaw(w, s, value.StreamID{}, value.MaxStreamID, 1, false) == 0 {
				w.WriteNull()
			}
			w.WriteBulkString("last-entry")
			if rangeRaw(w, s, value.StreamID{}, value.MaxStreamID, 1, true) == 0 {
				w.WriteNull()
			}
			return ""
		}
		w.WriteBulkString("entries")
		writeRange(w, s, value.StreamID{}, value.MaxStreamID, count, false)
		w.WriteBulkString("groups")
		groups := s.Groups()
		w.WriteArray(len(groups))
		for _, g := range groups {
			w.WriteMap(7)
			w.WriteBulkString("name")
			w.WriteBulkString(g.Name)
			w.WriteBulkString("last-delivered-id")
			writeID(w, g.LastID)
			w.WriteBulkString("entries-read")
			writeEntriesRead(w, g)
			w.WriteBulkString("lag")
			writeLag(w, s, g)
			w.WriteBulkString("pel-count")
			w.WriteInt(g.Pending())
			w.WriteBulkString("pending")
			var body resp.Writer
			body.RESP3 = w.RESP3
			n := 0
			g.PEL(value.StreamID{}, func(id value.StreamID, nk *value.StreamNACK) bool {
				if count != 0 && int64(n) >= count {
					return false
				}
				body.WriteArray(4)
				writeID(&body, id)
				body.WriteBulkString(nk.Consumer.Name)
				body.WriteInt64(nk.DeliveryTime)
				body.WriteInt64(nk.DeliveryCount)
				n++
				return true
			})
			appendArray(w, n, body.Out)
			w.WriteBulkString("consumers")
			conss := g.Consumers()
			w.WriteArray(len(conss))
			for _, cons := range conss {
				w.WriteMap(4)
				w.WriteBulkString("name")
				w.WriteBulkString(cons.Name)
				w.WriteBulkString("seen-time")
				w.WriteInt64(cons.SeenTime)
				w.WriteBulkString("pel-count")
				w.WriteInt(cons.Pending())
				w.WriteBulkString("pending")
				var body resp.Writer
				body.RESP3 = w.RESP3
				n := 0
				cons.PEL(value.StreamID{}, func(id value.StreamID, nk *value.StreamNACK) bool {
					if count != 0 && int64(n) >= count {
						return false
					}
					body.WriteArray(3)
					writeID(&body, id)
					body.WriteInt64(nk.DeliveryTime)
					body.WriteInt64(nk.DeliveryCount)
					n++
					return true
				})
				appendArray(w, n, body.Out)
			}
		}
		return ""
	})
}

func writeEntriesRead(w *resp.Writer, g *value.StreamGroup) {
	if g.EntriesRead != -1 {
		w.WriteInt64(g.EntriesRead)
	} else {
		w.WriteNull()
	}
}

func writeLag(w *resp.Writer, s *value.Stream, g *value.StreamGroup) {
	if lag, ok := s.Lag(g); ok {
		w.WriteInt64(lag)
	} else {
		w.WriteNull()
	}
}

// cmdXInfoGroups: XINFO GROUPS key.
func cmdXInfoGroups(c *command.Ctx, args [][]byte) {
	xinfoView(c, args, func(s *value.Stream, w *resp.Writer) string {
		groups := s.Groups()
		w.WriteArray(len(groups))
		for _, g := range groups {
			w.WriteMap(6)
			w.WriteBulkString("name")
			w.WriteBulkString(g.Name)
			w.WriteBulkString("consumers")
			w.WriteInt(g.NumConsumers())
			w.WriteBulkString("pending")
			w.WriteInt(g.Pending())
			w.WriteBulkString("last-delivered-id")
			writeID(w, g.LastID)
			w.WriteBulkString("entries-read")
			writeEntriesRead(w, g)
			w.WriteBulkString("lag")
			writeLag(w, s, g)
		}
		return ""
	})
}

// cmdXInfoConsumers: XINFO CONSUMERS key group.
func cmdXInfoConsumers(c *command.Ctx, args [][]byte) {
	now := c.NowMs()
	xinfoView(c, args, func(s *value.Stream, w *resp.Writer) string {
		g := s.Group(args[3])
		if g == nil {
			return errNoGroupFor(args[3], args[2])
		}
		conss := g.Consumers()
		w.WriteArray(len(conss))
		for _, cons := range conss {
			w.WriteMap(3)
			w.WriteBulkString("name")
			w.WriteBulkString(cons.Name)
			w.WriteBulkString("pending")
			w.WriteInt(cons.Pending())
			w.WriteBulkString("idle")
			w.WriteInt64(max(now-cons.SeenTime, 0))
		}
		return ""
	})
}

// cmdXInfoHelp: XINFO HELP.
func cmdXInfoHelp(c *command.Ctx, args [][]byte) {
	command.WriteHelp(c.W, "XINFO", []string{
		"CONSUMERS <key> <groupname>",
		"    Show consumers of <groupname>.",
		"GROUPS <key>",
		"    Show the stream consumer groups.",
		"STREAM <key> [FULL [COUNT <count>]",
		"    Show information about the stream.",
	})
}
