package server

import (
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/pubsub"
)

func writeSubReply(c *client, kind string, name []byte, null bool, count int) {
	c.conn.WritePush(3)
	c.conn.WriteBulkString(kind)
	if null {
		c.conn.WriteNull()
	} else {
		c.conn.WriteBulk(name)
	}
	c.conn.WriteInt(count)
}

// cmdSubscribe: SUBSCRIBE channel [channel ...], one confirmation each.
func cmdSubscribe(c *client, args [][]byte) {
	s := c.pubsub()
	for _, a := range args[1:] {
		if ch := string(a); s.chans.Add(ch) {
			s.t.pubsub.AddChannel(ch, s)
		}
		writeSubReply(c, "subscribe", a, false, s.regCount())
	}
}

// cmdPSubscribe: PSUBSCRIBE pattern [pattern ...].
func cmdPSubscribe(c *client, args [][]byte) {
	s := c.pubsub()
	for _, a := range args[1:] {
		if p := string(a); s.pats.Add(p) {
			s.t.pubsub.AddPattern(p, s)
		}
		writeSubReply(c, "psubscribe", a, false, s.regCount())
	}
}

// cmdUnsubscribe: UNSUBSCRIBE [channel ...]; without channels, from all
// (one confirmation each, or one with a null channel if there are none).
func cmdUnsubscribe(c *client, args [][]byte) {
	unsubscribe(c, args, "unsubscribe", false)
}

// cmdPUnsubscribe: PUNSUBSCRIBE [pattern ...].
func cmdPUnsubscribe(c *client, args [][]byte) {
	unsubscribe(c, args, "punsubscribe", true)
}

func unsubscribe(c *client, args [][]byte, kind string, pattern bool) {
	// A message delivered before a subscription goes was published before
	// this command: it precedes the confirmation, as in Redis, rather
	// than waiting (held) until the command's replies are queued.
	c.pubsubRelease()
	s := c.ps
	var set *pubsub.Names
	if s != nil {
		set = &s.chans
		if pattern {
			set = &s.pats
		}
	}
	remove := func(name string) bool {
		if set == nil || !set.Remove(name) {
			return false
		}
		if pattern {
			s.t.pubsub.RemovePattern(name, s)
		} else {
			s.t.pubsub.RemoveChannel(name, s)
		}
		return true
	}
	count := func() int {
		if s == nil {
			return 0
		}
		return s.regCount()
	}
	if len(args) == 1 {
		if set == nil || set.Len() == 0 {
			writeSubReply(c, kind, nil, true, count())
			return
		}
		for _, name := range append([]string(nil), set.List()...) {
			remove(name)
			writeSubReply(c, kind, []byte(name), false, count())
		}
		return
	}
	for _, a := range args[1:] {
		remove(string(a))
		writeSubReply(c, kind, a, false, count())
	}
}

// cmdPublish: PUBLISH channel message, to the caller's tenant only.
func cmdPublish(c *client, args [][]byte) {
	reg := &c.tenant.pubsub
	n, late := reg.Publish(args[1], args[2], nil)
	if len(late) > 0 {
		// Subscribers with input not run yet (see "Ordering across
		// connections"): wait for them where waiting can help.
		if c.listCanBlock() {
			deadline := time.Now().Add(settleWait)
			for _, s := range late {
				if s != c.ps && !s.settle(deadline, c.srv.stop) {
					break // the rest get the message as they are
				}
			}
		}
		n += reg.PublishLate(args[1], args[2], late)
	}
	if c.srv.l2 != nil {
		c.publishL2(false, args[1], args[2]) // pubsub_backed.go
	}
	c.conn.WriteInt(n)
}

// cmdPubsubChannels: PUBSUB CHANNELS [pattern], the tenant's channels
// with at least one subscriber, sorted.
func cmdPubsubChannels(c *client, args [][]byte) { pubsubChannels(c, args, &c.tenant.pubsub) }

// pubsubChannels answers PUBSUB CHANNELS or SHARDCHANNELS from reg.
func pubsubChannels(c *client, args [][]byte, reg *pubsub.Registry[*subscriber]) {
	if len(args) > 3 { // Redis's pubsubCommand takes at most one pattern
		c.conn.WriteError(errSubcommandSyntax(args))
		return
	}
	pattern := []byte("*")
	if len(args) > 2 {
		pattern = args[2]
	}
	out := reg.Channels(pattern)
	c.conn.WriteArray(len(out))
	for _, ch := range out {
		c.conn.WriteBulkString(ch)
	}
}

// cmdPubsubNumsub: PUBSUB NUMSUB [channel ...], a flat array of channel,
// count pairs (pattern subscriptions not included), as Redis 7.0.
func cmdPubsubNumsub(c *client, args [][]byte) { pubsubNumsub(c, args, &c.tenant.pubsub) }

// pubsubNumsub answers PUBSUB NUMSUB or SHARDNUMSUB from reg.
func pubsubNumsub(c *client, args [][]byte, reg *pubsub.Registry[*subscriber]) {
	counts := reg.NumSub(args[2:])
	c.conn.WriteArray(2 * len(counts))
	for i, ch := range args[2:] {
		c.conn.WriteBulk(ch)
		c.conn.WriteInt(counts[i])
	}
}

// cmdPubsubNumpat: PUBSUB NUMPAT, the tenant's distinct patterns.
func cmdPubsubNumpat(c *client, args [][]byte) { c.conn.WriteInt(c.tenant.pubsub.NumPat()) }

func cmdPubsubHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "PUBSUB", []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}
