package server

// Pub/sub across tcached nodes in backed mode (package backing,
// pubsub.go, has the transport). Subscriptions stay on each node, in the
// tenant's registry, as on the embedded store. PUBLISH delivers to this
// node's subscribers, then sends the message through the cluster to the
// other nodes, which deliver it to their own subscribers of the same
// tenant (relay). PUBLISH answers once the cluster has taken the message,
// so one connection's messages reach every node in the order published.
// Its reply counts the receivers on this tcached node only, as Redis
// Cluster's PUBLISH counts those of the node it ran on. PUBSUB CHANNELS,
// NUMSUB and NUMPAT are this node's too. SPUBLISH and SSUBSCRIBE work
// the same way, on the tenant's shard channels (pubsub_shard.go).

import (
	"context"
	"time"
)

// publishL2 sends a message published here to the other nodes. A failure
// is not the publisher's error (its local receivers have the message;
// pub/sub is at most once): it is counted as the backend's failure.
func (c *client) publishL2(sharded bool, channel, msg []byte) {
	at := c.srv.l2.Atomic()
	if at == nil {
		return
	}
	d := c.tenant.cfg().Tier.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	at.Publish(ctx, c.tenant.id, sharded, channel, msg)
	cancel()
}

// relay delivers a message another node published to this node's
// subscribers of the tenant.
func (s *Server) relay(tenant string, sharded bool, channel, msg []byte) {
	t := s.reg.Load().tenants[tenant]
	if t == nil {
		return
	}
	reg, kind := &t.pubsub, msgKind
	if sharded {
		reg, kind = &t.spubsub, smsgKind
	}
	_, late := reg.PublishAs(kind, channel, msg, nil)
	if len(late) > 0 {
		reg.PublishLateAs(kind, channel, msg, late)
	}
}
