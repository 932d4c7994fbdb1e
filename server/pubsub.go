package server

// Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and
// PUBSUB CHANNELS|NUMSUB|NUMPAT|HELP, with Redis 7's replies, in the
// tenant's namespace.
//
// # Namespace
//
// Every tenant has its own registry (tenant.pubsub) of channels and
// patterns, as it has its own partition: a connection subscribes in, and
// publishes to, the registry of the tenant its AUTH bound it to. Nothing
// maps a channel name to a registry, so no channel or pattern, whatever
// its bytes, reaches another tenant's channels: PSUBSCRIBE * hears the
// tenant's own channels only, PUBLISH counts the tenant's own receivers
// only, and PUBSUB sees the tenant's own channels and patterns only. A
// connection that AUTHs to another tenant, or RESETs, loses its
// subscriptions (silently: no unsubscribe replies are sent); closing the
// connection removes them too.
//
// # Delivery
//
// PUBLISH runs on the publisher's goroutine and never blocks on a
// subscriber: it appends the encoded message to each subscriber's queue,
// under the subscriber's mutex, and a writer goroutine per subscribed
// connection writes the queue to the socket, every write with the write
// deadline (write_timeout) as for any reply. While a connection has a
// subscriber, its own replies go through the same queue (holdConn.sink),
// so the socket has one writer and messages never land inside a reply.
// Messages that arrive while the connection is executing a command are
// held (later) until the command's replies are queued, so SUBSCRIBE's
// confirmation always precedes the channel's first message and nothing of
// a channel follows its UNSUBSCRIBE confirmation, as in Redis. When the
// last subscription goes, the writer drains and exits, and replies go
// straight to the socket again.
//
// # Ordering across connections
//
// Redis runs every connection's commands on one thread in the order they
// arrive, so a client may send PUNSUBSCRIBE on one connection and,
// without reading its reply, PUBLISH on another, and count on the message
// not reaching the old pattern (Redis's own test suite does). With a
// goroutine per connection the PUBLISH could run first: measured on this
// machine, 1-2% of such pairs delivered to the old pattern when idle, and
// 73% while the CPUs were busy. So PUBLISH treats a subscriber whose
// connection holds input it has not run yet as not settled: on a plain
// TCP connection, when the bytes the kernel says the socket received
// (TCP_INFO's tcpi_bytes_received) are more than the bytes whose commands
// ran; elsewhere (TLS, other systems), when bytes are waiting in the
// socket (FIONREAD) or were read and not run yet. The TCP test has no
// window: bytes a read has taken but not yet counted still show as
// received and not run, where FIONREAD would show nothing. PUBLISH
// delivers to the others, waits until that connection has run what it
// had sent (it signals after each batch of commands), and then delivers
// to it only what it is still subscribed to (pubsub.Registry.Publish and
// PublishLate). The wait is bounded by settleWait, and skipped where it
// could not help: for the publisher's own subscription, for a subscriber
// blocked in a command (its input cannot run until it wakes), and inside
// EXEC or a script, which hold the tenant's lock the subscriber's command
// needs. Its cost is one getsockopt (or ioctl) per recipient per PUBLISH
// (TLS connections' decrypted but unread records are not seen).
//
// # Bounds
//
// A subscriber's queue (pending messages and replies, plus the chunk
// being written) is capped at client_output_buffer_limit, but never more
// than 32 MiB (pubsubMaxOutput: Redis's own hard limit for pub/sub
// clients; also the cap when client_output_buffer_limit is 0, unlimited).
// A message that would pass the cap disconnects the subscriber at once:
// its queue is dropped, its socket closed, and the publisher carries on.
// A subscriber whose socket accepts nothing is also disconnected when a
// write passes its deadline. The connection's own replies do not count
// against the cap; instead, like a direct socket write, the connection
// waits while more than sinkHigh bytes are queued (at most until a write
// deadline passes). Not bounded: the number of subscriptions a connection
// holds (Redis does not bound it either).
//
// Together, a tenant's subscribers are bounded by its client_memory
// (clientmem.go): every queue (by capacity: pending messages and replies,
// the chunk being written, the spare buffer) is charged to the tenant's
// pool as it changes, and a delivery that takes the pool over its budget
// disconnects the subscribers with the largest queues, biggest first, so
// 16 subscribers that never read cost the tenant's budget, not 16 x 32 MiB.
//
// # RESP2 and RESP3
//
// Confirmations and messages are pushes (`>`) in RESP3 and arrays in
// RESP2. A RESP2 connection with at least one subscription may only run
// (P)SUBSCRIBE, (P)UNSUBSCRIBE, PING (answered `*2 pong <arg|"">`), QUIT
// and RESET; in RESP3 any command runs. SUBSCRIBE inside MULTI is queued
// and runs at EXEC, as in Redis 7.0.
//
// PUBLISH is a write for roles: a readonly user cannot publish (its
// messages could make other clients drop their caches); it can subscribe.

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/pubsub"
)

const (
	// pubsubMaxOutput caps a subscriber's queued output (see Bounds).
	pubsubMaxOutput = 32 << 20
	// sinkHigh is how much of its own replies a subscribed connection may
	// have queued before it waits for the writer.
	sinkHigh = 4 * flushThreshold
	// spareMax: write buffers up to this size are kept for reuse.
	spareMax = 4 * flushThreshold
)

// subscriber is the pub/sub side of one connection: its subscriptions
// (connection goroutine only) and its output queue (under mu), written to
// the socket by its writer goroutine (run).
type subscriber struct {
	c     *client
	t     *tenant  // registry holding the subscriptions (== c.tenant while any)
	nc    net.Conn // the socket
	limit int
	wt    time.Duration
	chans pubsub.Names
	pats  pubsub.Names
	shard pubsub.Names // shard channels (SSUBSCRIBE, pubsub_shard.go)

	resp3 atomic.Bool // the connection's protocol, for encoding pushes
	// subscribed mirrors count() > 0 for other goroutines (a RESP2
	// tracking redirect delivers only to a connection in pub/sub mode);
	// updated after every command.
	subscribed atomic.Bool
	// target is set on a queue another connection started for this one
	// (dormant until adopted: tracking.go, a tracking REDIRECT to a RESP3
	// connection), which keeps it after its last subscription goes.
	// Connection goroutine only once adopted.
	target bool

	mu       sync.Mutex
	cond     sync.Cond // signals queued bytes, written bytes, stop, death
	buf      []byte    // ready for the socket, in order
	later    []byte    // messages that arrived during a command
	spare    []byte
	inflight int // bytes the writer is writing
	// Client memory (clientmem.go): the pool the queue is charged to, the
	// bytes charged (capacities of buf, later, spare and the chunk being
	// written, inflightCap), as of the last recharge.
	pool        *memPool
	charged     int64
	inflightCap int
	busy        bool // the connection is executing a command
	stop        bool // drain buf, then exit
	dead        bool // over the cap or a write failed: queue nothing more
	done        chan struct{}
	// ranWait, when set, is closed once the connection has run the
	// commands it had read (ranInput): a PUBLISH is waiting for it.
	ranWait chan struct{}
	// waiting: the connection's command is blocked (pubsubIdle), so its
	// pending input cannot run before it wakes: PUBLISH does not wait.
	waiting atomic.Bool
}

// settleWait bounds how long a PUBLISH waits for subscribers to run the
// input they sent before it (see "Ordering across connections").
const settleWait = 20 * time.Millisecond

// Settled reports whether the subscriber's connection has run all it sent
// (pubsub.Subscriber).
func (s *subscriber) Settled() bool {
	if s.waiting.Load() {
		return true
	}
	ran := s.c.ranBytes.Load()
	if got, ok := bytesReceived(s.nc); ok {
		// The kernel's count of the bytes the socket received covers
		// input still in its buffer and input a read took but whose
		// count is not in yet: no window where either looks run.
		return got == ran
	}
	return ran == s.c.inBytes.Load() && inputPending(s.nc) == 0
}

// ranInput wakes a PUBLISH waiting for the connection to run its input.
func (s *subscriber) ranInput() {
	s.mu.Lock()
	if s.ranWait != nil {
		close(s.ranWait)
		s.ranWait = nil
	}
	s.mu.Unlock()
}

// ranChan is the channel ranInput closes next.
func (s *subscriber) ranChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ranWait == nil {
		s.ranWait = make(chan struct{})
	}
	return s.ranWait
}

// settle waits, at most until deadline, for s to run the input it had
// sent; it reports false at the deadline.
func (s *subscriber) settle(deadline time.Time, stop <-chan struct{}) bool {
	for {
		ch := s.ranChan()
		if s.Settled() {
			return true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return false
		case <-s.done:
			t.Stop()
			return true // its writer ended: nothing more is delivered to it
		case <-stop:
			t.Stop()
			return false
		}
	}
}

func (s *subscriber) count() int { return s.chans.Len() + s.pats.Len() + s.shard.Len() }

// regCount is what a (P)SUBSCRIBE confirmation counts: the channels and
// patterns, not the shard channels (Redis's clientSubscriptionsCount).
func (s *subscriber) regCount() int { return s.chans.Len() + s.pats.Len() }

// pubsub returns the connection's subscriber, starting one (and its
// writer) if needed, or adopting the one another connection started for
// it (pushQueue). It is called by a handler, so the subscriber starts
// busy; pubsubEnd releases it after the command.
func (c *client) pubsub() *subscriber {
	if s := c.ps; s != nil {
		if s.count() == 0 && s.t != c.tenant && c.tenant != nil {
			s.t = c.tenant
			s.setPool(&c.tenant.cmem)
		}
		return s
	}
	s := c.psRef.Load()
	if s == nil {
		s = c.newQueue(c.tenant, true)
		if !c.psRef.CompareAndSwap(nil, s) {
			s = c.psRef.Load() // started for it meanwhile: that one
		}
	}
	c.adopt(s, true)
	return s
}

// newQueue builds a subscriber for c charged to t's pool (an operator's
// MONITOR, t nil: the unattributed pool), not yet started. Any goroutine may build one (pushQueue); only c's connection
// goroutine adopts it.
func (c *client) newQueue(t *tenant, busy bool) *subscriber {
	limit := c.srv.limits.ClientOutputBufferLimit
	if limit <= 0 || limit > pubsubMaxOutput {
		limit = pubsubMaxOutput
	}
	pool := &c.srv.unattributed
	if t != nil {
		pool = &t.cmem
	}
	s := &subscriber{
		c:     c,
		t:     t,
		pool:  pool,
		nc:    c.hold.Conn,
		limit: int(limit),
		wt:    c.srv.limits.WriteTimeout,
		busy:  busy,
		done:  make(chan struct{}),
	}
	if s.wt <= 0 {
		s.wt = 30 * time.Second
	}
	s.cond.L = &s.mu
	return s
}

// adopt makes s (c.psRef) the connection's queue and starts its writer
// (connection goroutine only). busy: adopted by a handler, which
// pubsubEnd releases. Messages queued while s was dormant go out first.
func (c *client) adopt(s *subscriber, busy bool) {
	c.beforeWait() // the writer goroutine will write to the socket
	if t := c.tenant; t != nil && s.t != t && s.count() == 0 {
		s.t = t
		s.setPool(&t.cmem)
	}
	s.mu.Lock()
	s.busy = busy
	if len(s.buf) > 0 {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	s.resp3.Store(c.conn.RESP3)
	c.ps = s
	c.hold.sink = s
	go s.run()
}

// recharge brings the pool's charge for the queue in line with what it
// holds (mu held). It reports whether a growth took the pool over its
// budget: the caller evicts (evictOutput) once it has released mu.
func (s *subscriber) recharge() bool {
	n := int64(cap(s.buf) + cap(s.later) + cap(s.spare) + s.inflightCap)
	d := n - s.charged
	if d == 0 {
		return false
	}
	s.charged = n
	s.c.mem.used.Add(d)
	s.c.mem.out.Add(d)
	s.pool.out.Add(d)
	return s.pool.used.Add(d) > s.pool.limit.Load() && d > 0
}

// setPool moves the queue's charge to pool p (the connection subscribes
// again after an AUTH to another tenant).
func (s *subscriber) setPool(p *memPool) {
	s.mu.Lock()
	s.pool.used.Add(-s.charged)
	s.pool.out.Add(-s.charged)
	p.used.Add(s.charged)
	p.out.Add(s.charged)
	s.pool = p
	s.mu.Unlock()
}

// Deliver queues one message: a push header of n elements, then body.
func (s *subscriber) Deliver(n int, body []byte) {
	var hdr [4]byte
	hdr[0] = '*'
	if s.resp3.Load() {
		hdr[0] = '>'
	}
	hdr[1], hdr[2], hdr[3] = byte('0'+n), '\r', '\n'
	s.enqueue(hdr[:], body)
}

// deliverFrame queues a complete frame: a tracking invalidation, a
// MONITOR line (tracking.go, monitor.go). It reports false when the
// queue is dead (disconnected, or over its limit now).
func (s *subscriber) deliverFrame(frame []byte) bool { return s.enqueue(nil, frame) }

// enqueue appends hdr and body to the queue as one message, or
// disconnects the subscriber when they would pass its limit.
func (s *subscriber) enqueue(hdr, body []byte) bool {
	s.mu.Lock()
	if s.dead || s.stop {
		s.mu.Unlock()
		return false
	}
	if len(s.buf)+len(s.later)+s.inflight+len(hdr)+len(body) > s.limit {
		s.die()
		s.mu.Unlock()
		s.disconnect()
		s.c.srv.log.Info("pub/sub subscriber disconnected: output buffer limit reached",
			"client_id", s.c.id, "addr", s.c.addr, "limit", s.limit)
		return false
	}
	if s.busy {
		s.later = append(append(s.later, hdr...), body...)
	} else {
		s.buf = append(append(s.buf, hdr...), body...)
		s.cond.Broadcast()
	}
	over, pool := s.recharge(), s.pool
	s.mu.Unlock()
	if over {
		s.c.srv.evictOutput(pool, nil, 0) // this subscriber included
	}
	return true
}

// die drops the queue and wakes everyone (mu held).
func (s *subscriber) die() {
	s.dead = true
	s.buf, s.later, s.spare = nil, nil, nil
	s.recharge()
	s.cond.Broadcast()
}

// disconnect closes the connection from any goroutine: its read wakes, its
// writes fail, and the connection goroutine cleans up.
func (s *subscriber) disconnect() {
	s.c.kill()
	s.nc.Close()
}

// run is the writer goroutine.
func (s *subscriber) run() {
	defer close(s.done)
	var deadline time.Time
	s.mu.Lock()
	for {
		for len(s.buf) == 0 && !s.stop && !s.dead {
			s.cond.Wait()
		}
		if s.dead || len(s.buf) == 0 {
			s.mu.Unlock()
			return
		}
		out := s.buf
		s.buf, s.spare = s.spare[:0], nil
		s.inflight, s.inflightCap = len(out), cap(out)
		s.mu.Unlock()
		if now := time.Now(); deadline.Sub(now) < s.wt/2 {
			deadline = now.Add(s.wt)
			s.nc.SetWriteDeadline(deadline)
		}
		_, err := s.nc.Write(out)
		s.mu.Lock()
		s.inflight, s.inflightCap = 0, 0
		if err != nil {
			dead := s.dead
			s.die()
			s.mu.Unlock()
			if !dead {
				s.disconnect()
			}
			return
		}
		if cap(out) <= spareMax && s.spare == nil {
			s.spare = out[:0]
		}
		s.recharge()
		s.cond.Broadcast()
	}
}

// Write is the connection's own output while it has a subscriber
// (holdConn.sink): queued in order, waiting while too much is queued.
func (s *subscriber) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.dead {
		s.mu.Unlock()
		return 0, errOutputLimit
	}
	s.buf = append(s.buf, p...)
	if over, pool := s.recharge(), s.pool; over {
		// The connection's own reply: others' output is evicted for it
		// (clientmem.go), not the reply.
		s.mu.Unlock()
		s.c.srv.evictOutput(pool, s.c, 0)
		s.mu.Lock()
	}
	s.cond.Broadcast()
	for !s.dead && len(s.buf)+s.inflight > sinkHigh {
		s.cond.Wait() // bounded: the writer's write has a deadline
	}
	dead := s.dead
	s.mu.Unlock()
	if dead {
		return 0, errOutputLimit
	}
	return len(p), nil
}

// pubsubBegin and pubsubEnd bracket every command of a connection that
// has a subscriber (conn.go): messages arriving in between wait until the
// command's replies are queued.
func (c *client) pubsubBegin() {
	if s := c.ps; s != nil {
		s.mu.Lock()
		s.busy = true
		s.mu.Unlock()
		s.waiting.Store(false)
	}
}

func (c *client) pubsubEnd() {
	s := c.ps
	if s == nil {
		return
	}
	c.conn.flush() // into the queue
	s.resp3.Store(c.conn.RESP3)
	s.subscribed.Store(s.count() > 0)
	s.mu.Lock()
	s.busy = false
	if len(s.later) > 0 {
		s.buf = append(s.buf, s.later...)
		s.later = s.later[:0]
		if cap(s.later) > spareMax {
			s.later = nil
		}
		s.cond.Broadcast()
	}
	dead := s.dead
	over, pool := s.recharge(), s.pool
	s.mu.Unlock()
	if over {
		c.srv.evictOutput(pool, nil, 0)
	}
	if s.count() == 0 && !dead && !c.keepQueue() {
		c.pubsubStop() // no subscription left: back to direct writes
	}
}

// pubsubIdle lets messages flow to a subscriber while its command waits
// (a blocking pop releases everything it holds): what the command wrote so
// far goes into the queue first, so order holds. The next pubsubBegin
// (when the command resumes) holds messages back again.
func (c *client) pubsubIdle() {
	if s := c.ps; s != nil {
		s.waiting.Store(true)
		c.pubsubRelease()
	}
}

// pubsubRelease queues what the command wrote so far and the messages
// held during it, and lets later messages through at once.
func (c *client) pubsubRelease() {
	s := c.ps
	if s == nil {
		return
	}
	c.conn.flush() // into the queue
	s.mu.Lock()
	s.busy = false
	if len(s.later) > 0 {
		s.buf = append(s.buf, s.later...)
		s.later = s.later[:0]
		s.cond.Broadcast()
	}
	over, pool := s.recharge(), s.pool
	s.mu.Unlock()
	if over {
		c.srv.evictOutput(pool, nil, 0)
	}
}

// pubsubStop drains the queue, stops the writer and detaches it.
func (c *client) pubsubStop() {
	s := c.ps
	s.mu.Lock()
	s.busy = false
	s.buf = append(s.buf, s.later...)
	s.later = nil
	s.recharge()
	s.stop = true
	s.cond.Broadcast()
	s.mu.Unlock()
	<-s.done // bounded by the write deadline
	s.mu.Lock()
	s.buf, s.later, s.spare = nil, nil, nil
	s.recharge() // the writer has exited: nothing is held any more
	s.mu.Unlock()
	c.hold.sink = nil
	c.ps = nil
	c.psRef.Store(nil)
}

// pubsubClose runs when the connection ends (conn.go), after its last
// replies were flushed: subscriptions go, then queued output is written.
func (c *client) pubsubClose() {
	if s := c.ps; s != nil {
		s.removeAll()
		c.pubsubStop()
	}
	// From now on a delivery finds the server's dead queue, and a queue
	// started for this connection but never adopted is dropped with its
	// charge.
	if s := c.psRef.Swap(c.srv.deadQueue); s != nil && s != c.srv.deadQueue {
		s.mu.Lock()
		s.die()
		s.mu.Unlock()
	}
}

// keepQueue reports whether the connection keeps its queue without any
// subscription: it receives invalidation pushes (tracking.go) or MONITOR
// lines (monitor.go), or another connection redirects invalidations to
// it.
func (c *client) keepQueue() bool {
	return c.monitor != nil || c.trk != nil && c.conn.RESP3 || c.ps != nil && c.ps.target
}

// pubsubUnbind drops every subscription when the connection changes
// tenant (client.bind) or RESETs.
func (c *client) pubsubUnbind() {
	if s := c.ps; s != nil {
		s.removeAll()
	}
}

// removeAll unsubscribes from everything, sending no replies.
func (s *subscriber) removeAll() {
	for _, ch := range s.chans.List() {
		s.t.pubsub.RemoveChannel(ch, s)
	}
	for _, p := range s.pats.List() {
		s.t.pubsub.RemovePattern(p, s)
	}
	for _, ch := range s.shard.List() {
		s.t.spubsub.RemoveChannel(ch, s)
	}
	s.chans, s.pats, s.shard = pubsub.Names{}, pubsub.Names{}, pubsub.Names{}
}

// pubsubRefuses applies Redis's RESP2 subscribed context (dispatch): it
// refuses cmd, and reports true, when the connection speaks RESP2, has a
// subscription and cmd is not one of the few allowed there (flagged
// command.Subscribed in the table).
func (c *client) pubsubRefuses(cmd *command.Spec) bool {
	s := c.ps
	if s == nil || c.conn.RESP3 || s.count() == 0 {
		return false
	}
	if cmd.Flags&command.Subscribed != 0 {
		return false
	}
	c.reject(cmd, errSubscribedContext(cmd.Name))
	return true
}

// pubsubPing answers PING [message] in the RESP2 subscribed context, as
// Redis does: `*2 pong <message or "">`. It reports false elsewhere.
func (c *client) pubsubPing(args [][]byte) bool {
	s := c.ps
	if s == nil || c.conn.RESP3 || s.count() == 0 || len(args) > 2 {
		return false
	}
	c.conn.WriteArray(2)
	c.conn.WriteBulkString("pong")
	if len(args) == 2 {
		c.conn.WriteBulk(args[1])
	} else {
		c.conn.WriteBulkString("")
	}
	return true
}
