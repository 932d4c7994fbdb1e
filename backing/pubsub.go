package backing

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pub/sub across tcached nodes (backed.Atomic.Publish, SetRelay).
//
// Every tcached node publishes its tenants' messages on one cluster
// channel, <prefix>pubsub, and holds one subscription to it (through
// go-redis, which reconnects and resubscribes after a failure). Redis
// Cluster broadcasts a PUBLISH to every node over the cluster bus, so each
// tcached node receives every message, wherever its subscription lands.
// A message carries the publishing node's id, the tenant and the channel
// (framed: id, 'c' or 's' for a shard channel, uvarint length + tenant,
// uvarint length + channel, message): a node relays to its local subscribers the messages of
// other nodes only (its own were delivered locally at PUBLISH), to the
// tenant's own registry, so no tenant hears another's channels.
//
// Delivery is at most once, as Redis pub/sub: a message published while
// a node's subscription is reconnecting is lost for that node's
// subscribers.

// SetRelay implements backed.Atomic.
func (c *Cluster) SetRelay(fn func(tenant string, sharded bool, channel, msg []byte)) {
	var id [8]byte
	rand.Read(id[:])
	c.ext.mu.Lock()
	c.ext.relay = fn
	c.ext.nodeID = hex.EncodeToString(id[:])
	c.ext.psCh = c.prefix + "pubsub"
	c.ext.mu.Unlock()
}

// Publish implements backed.Atomic.
func (c *Cluster) Publish(ctx context.Context, tenant string, sharded bool, channel, msg []byte) error {
	c.ext.mu.Lock()
	id, ch := c.ext.nodeID, c.ext.psCh
	c.ext.mu.Unlock()
	if ch == "" {
		return nil
	}
	frame := make([]byte, 0, len(id)+2*binary.MaxVarintLen32+len(tenant)+len(channel)+len(msg))
	frame = append(frame, id...)
	kind := byte('c')
	if sharded {
		kind = 's'
	}
	frame = append(frame, kind)
	frame = binary.AppendUvarint(frame, uint64(len(tenant)))
	frame = append(frame, tenant...)
	frame = binary.AppendUvarint(frame, uint64(len(channel)))
	frame = append(frame, channel...)
	frame = append(frame, msg...)
	now := time.Now()
	c.calls.Add(1)
	// One node takes every message of the channel, so messages published
	// one after another reach the other nodes in that order (the cluster
	// bus keeps order per link; a client routing PUBLISH to any node would
	// not).
	var err error
	if n, e := c.rdb.MasterForKey(ctx, ch); e == nil {
		err = n.Publish(ctx, ch, frame).Err()
	} else {
		err = c.rdb.Publish(ctx, ch, frame).Err()
	}
	c.hist.Observe(time.Since(now))
	return c.classify(err)
}

// startRelay subscribes to the nodes' channel (waiting, within ctx, for
// the confirmation) and relays other nodes' messages until Close.
func (c *Cluster) startRelay(ctx context.Context) error {
	c.ext.mu.Lock()
	fn, id, ch := c.ext.relay, c.ext.nodeID, c.ext.psCh
	c.ext.mu.Unlock()
	if fn == nil {
		return nil
	}
	ps := c.rdb.Subscribe(ctx, ch)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return err
	}
	msgs := ps.Channel(redis.WithChannelSize(4096))
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer ps.Close()
		for {
			select {
			case <-c.stop:
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				relayFrame(id, []byte(m.Payload), fn)
			}
		}
	}()
	return nil
}

// relayFrame decodes a frame and hands it to fn unless self published it.
func relayFrame(self string, f []byte, fn func(tenant string, sharded bool, channel, msg []byte)) {
	if len(f) < len(self)+1 || string(f[:len(self)]) == self {
		return
	}
	sharded := f[len(self)] == 's'
	f = f[len(self)+1:]
	n, k := binary.Uvarint(f)
	if k <= 0 || uint64(len(f)-k) < n {
		return
	}
	tenant := string(f[k : k+int(n)])
	f = f[k+int(n):]
	n, k = binary.Uvarint(f)
	if k <= 0 || uint64(len(f)-k) < n {
		return
	}
	channel := f[k : k+int(n)]
	fn(tenant, sharded, channel, f[k+int(n):])
}
