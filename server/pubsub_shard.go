package server

// Sharded pub/sub: SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB
// SHARDCHANNELS|SHARDNUMSUB, with Redis 7.0's replies. Shard channels are
// a namespace of their own (tenant.spubsub): SPUBLISH reaches only
// SSUBSCRIBE, PUBLISH never does, there are no shard patterns, and an
// SSUBSCRIBE confirmation counts the connection's shard channels only
// (Redis's clientShardSubscriptionsCount), while (P)SUBSCRIBE's count the
// others. Messages arrive as "smessage". Everything else (the queue, the
// RESP2 subscribed context, the ordering, the bounds) is pubsub.go's.
//
// Redis Cluster refuses an SSUBSCRIBE whose channels hash to different
// slots (CROSSSLOT) and routes a shard channel to its slot's node; tcached
// has no slots for channels on the embedded store, and in backed mode it
// relays shard messages to every tcached node (pubsub_backed.go), so the
// check would protect nothing: SSUBSCRIBE takes any channels.

import (
	"time"

	"github.com/tcached/tcached/command"
)

var (
	msgKind  = []byte("message")
	smsgKind = []byte("smessage")
)

// shardSpecs are the rows of sharded pub/sub (added to serverSpecs).
func shardSpecs() []*command.Spec {
	return []*command.Spec{
		command.Row("ssubscribe", -2, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdSSubscribe)),
		command.Row("sunsubscribe", -1, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdSUnsubscribe)),
		command.Row("spublish", 3, command.Write|command.Fast, command.NoKeys, withClient(cmdSPublish)),
	}
}

// cmdSSubscribe: SSUBSCRIBE shardchannel [shardchannel ...].
func cmdSSubscribe(c *client, args [][]byte) {
	s := c.pubsub()
	for _, a := range args[1:] {
		if ch := string(a); s.shard.Add(ch) {
			s.t.spubsub.AddChannel(ch, s)
		}
		writeSubReply(c, "ssubscribe", a, false, s.shard.Len())
	}
}

// cmdSUnsubscribe: SUNSUBSCRIBE [shardchannel ...]; without channels,
// from all (or one confirmation with a null channel if there are none).
func cmdSUnsubscribe(c *client, args [][]byte) {
	c.pubsubRelease()
	s := c.ps
	count := func() int {
		if s == nil {
			return 0
		}
		return s.shard.Len()
	}
	remove := func(name string) {
		if s != nil && s.shard.Remove(name) {
			s.t.spubsub.RemoveChannel(name, s)
		}
	}
	if len(args) == 1 {
		if s == nil || s.shard.Len() == 0 {
			writeSubReply(c, "sunsubscribe", nil, true, 0)
			return
		}
		for _, name := range append([]string(nil), s.shard.List()...) {
			remove(name)
			writeSubReply(c, "sunsubscribe", []byte(name), false, count())
		}
		return
	}
	for _, a := range args[1:] {
		remove(string(a))
		writeSubReply(c, "sunsubscribe", a, false, count())
	}
}

// cmdSPublish: SPUBLISH shardchannel message, to the caller's tenant's
// shard subscribers (and, backed, to the other nodes').
func cmdSPublish(c *client, args [][]byte) {
	reg := &c.tenant.spubsub
	n, late := reg.PublishAs(smsgKind, args[1], args[2], nil)
	if len(late) > 0 {
		if c.listCanBlock() {
			deadline := time.Now().Add(settleWait)
			for _, s := range late {
				if s != c.ps && !s.settle(deadline, c.srv.stop) {
					break
				}
			}
		}
		n += reg.PublishLateAs(smsgKind, args[1], args[2], late)
	}
	if c.srv.l2 != nil {
		c.publishL2(true, args[1], args[2]) // pubsub_backed.go
	}
	c.conn.WriteInt(n)
}

// cmdPubsubShardChannels: PUBSUB SHARDCHANNELS [pattern], as CHANNELS
// over the tenant's shard channels.
func cmdPubsubShardChannels(c *client, args [][]byte) { pubsubChannels(c, args, &c.tenant.spubsub) }

// cmdPubsubShardNumsub: PUBSUB SHARDNUMSUB [shardchannel ...], as NUMSUB.
func cmdPubsubShardNumsub(c *client, args [][]byte) { pubsubNumsub(c, args, &c.tenant.spubsub) }
