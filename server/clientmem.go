package server

// Client memory: what a tenant's connections make the server hold, as
// opposed to what the tenant stores (its quota).
//
// # What is counted
//
// Every connection charges one pool: its tenant's (client_memory), or,
// while it is bound to no tenant (before AUTH, operators), the server's
// unattributed pool (maxmemory_clients minus the tenants' budgets). Counted:
//
//   - the read buffer's growth beyond its first 4 KiB (which is part of
//     the connection's fixed cost), including an unfinished (partial)
//     command's bytes;
//   - the reply buffer (wire.out) by capacity, charged when it is flushed
//     (a reply is flushed at the latest once it passes 64 KiB, so what is
//     not yet charged is under 64 KiB plus one reply element), and kept
//     for reuse only while the pool is within its budget;
//   - EXEC's held replies (holdConn.held): EXEC holds its tenant's lock
//     and cannot wait, so replies that would take the pool past its budget
//     end the connection, as an output buffer limit does;
//   - the pub/sub queue (pending messages and replies, the chunk being
//     written and the spare buffer) by capacity;
//   - the MULTI queue (txBytes: arguments plus bookkeeping per command);
//   - the WATCH table (key bytes plus an estimate of the map entry).
//
// Also charged to the tenant's pool, by the tenant's scripting engine
// (script.go), not by a connection: its Lua states, cached scripts,
// function libraries and a running script's heap estimate.
//
// Not counted: each connection's fixed cost (goroutine stack, client
// state, socket), which config reserves per maxclients instead
// (config.ConnOverhead); blocked-client state (a blocked command holds
// its arguments, which are already in the read buffer); client-side
// tracking, which tcached does not implement.
//
// # Cost
//
// CLIENT LIST and CLIENT INFO report each connection's charges (qbuf,
// multi-mem, omem, tot-mem; client.infoLine) from per-connection atomics
// that move with them (connMem.used and friends).
//
// Charges are per-connection deltas into one atomic per pool: a component
// is re-charged only when its size changes, so a GET hit that reuses its
// reply buffer touches no atomic, takes no lock and allocates nothing.
// Reads check the pool only when the read buffer must grow.
//
// # At the budget
//
// As Redis does per client (maxmemory-clients), but per tenant:
//   - a denyoom command (a write that may grow memory) while the pool,
//     not counting the command's own read buffer, is over its budget, and
//     a command that would push a MULTI queue (or a WATCH table) past it,
//     are refused with errClientOOM: nothing is queued or changed, and in
//     MULTI the transaction is flagged (EXEC answers EXECABORT), as Redis
//     does with any refusal while queueing;
//   - a read buffer that must grow past the budget (a partial command)
//     first evicts other connections' output (below); then one connection
//     per pool (the overdraft) may grow past the budget until its command
//     is in, so that connections each holding part of a large request do
//     not wait for each other forever, and the others pause reading
//     (backpressure) until there is room or the overdraft is free. After
//     write_timeout paused, or at once when the connection's own charges
//     alone could never fit the budget, the connection is closed with
//     errClientOOM. Read buffers so hold at most twice the budget;
//   - when output (a pub/sub queue, a reply being written) takes the pool
//     over its budget, the connection with the largest output in that pool
//     (above 64 KiB, evictMinOutput) is disconnected, then the next, until
//     the pool fits again (Redis's client eviction). A reply write counts
//     once it has lasted evictGrace (a client that reads is done by then),
//     and a reply element larger than one flush waits for room before it
//     is built (roomForReply), so replies to clients that do not read
//     cannot pile up meanwhile. A connection writing its own reply is not evicted
//     for it, so a reader of a value larger than the budget still gets
//     it; other connections' output is. Each eviction is counted per
//     tenant (tcached_tenant_clients_evicted_total, INFO
//     tenant_clients_evicted), logged and audited.
//
// Pools are disjoint and each is bounded, so one tenant's connections never
// take another tenant's budget, the unattributed pool or the shared
// maxmemory: at most its budget, plus the overdraft (one partial command,
// at most the budget), the replies being written at that moment (each
// connection's own, never evicted for), victims' output until their
// sockets close, and under 64 KiB of output per connection, which is
// never evicted for.

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/config"
)

// memPool is one client-memory budget: a tenant's, or the unattributed one.
type memPool struct {
	tenant  string       // tenant id; "" for the unattributed pool
	used    atomic.Int64 // bytes charged by the pool's connections
	out     atomic.Int64 // the part of used that is output (evictable)
	limit   atomic.Int64 // the budget; changes on reload
	evicted atomic.Int64 // connections disconnected to bring it back under
	refused atomic.Int64 // commands refused with errClientOOM, paused reads given up
	evictMu sync.Mutex   // one evictor at a time
	// pending is the output of evicted connections not yet released (their
	// sockets are closing): evictors discount it, so that one eviction is
	// not followed by more for memory that is already going.
	pending atomic.Int64
	// recheck is set while a re-evaluation after evictGrace is scheduled
	// (evictOutput skipped reply writes too young to judge).
	recheck atomic.Bool
	// overdraft is the one connection that may grow its read buffer past
	// the budget (growQuery), so that connections each holding part of a
	// large request cannot wait for each other forever; nil when free.
	overdraft atomic.Pointer[client]
}

// reserve charges n bytes if they fit in the budget, atomically with other
// connections' reservations.
func (p *memPool) reserve(n int64) bool {
	lim := p.limit.Load()
	for {
		u := p.used.Load()
		if u+n > lim {
			return false
		}
		if p.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// connMem is one connection's charges. The connection goroutine owns the
// component fields; pool and out are read by evictors on other goroutines.
type connMem struct {
	pool  atomic.Pointer[memPool]
	query int64 // read buffer capacity beyond initialReadBuf
	wout  int64 // wire.out capacity, as of the last flush
	wbusy int64 // the part of wout being written now (evictable output)
	held  int64 // EXEC's held replies
	watch int64 // WATCH table
	// blocked is a blocked command's key registrations (block.go,
	// blockedKeyBytes per key), charged while it waits.
	blocked int64
	// transient is working memory a running command holds only while it
	// runs (LCS's table), charged through command.Conn.Transient.
	transient int64
	// tx is the MULTI queue's charge: client.txBytes, charged as queued.
	// out is the connection's evictable output in the pool (wbusy + held
	// + the pub/sub queue), the evictors' measure of the biggest offender.
	// A reply buffer kept for reuse between writes is charged but not
	// evictable: evicting an idle connection for it would free little.
	out      atomic.Int64
	evicting atomic.Bool  // chosen by an evictor: skip it, it is going
	pendOut  atomic.Int64 // what evict added to its pool's pending
	// busyOut and busyAt mirror wbusy and when that write started, for
	// evictors: a reply write younger than evictGrace is not yet a
	// sign of a client that does not read.
	busyOut, busyAt atomic.Int64
	// odPool is the pool whose overdraft this connection holds (nil: none).
	odPool *memPool
	// For CLIENT LIST and CLIENT INFO, which other connections run (see
	// client.infoLine): used mirrors everything the connection has
	// charged to its pool (the components above, the MULTI queue and the
	// pub/sub queue), multi the MULTI queue alone, and qbuf and qfree the
	// read buffer's unprocessed and free bytes as of the connection's
	// last wait for input (conn.go). Each changes only when its charge
	// does, or once per socket read.
	used, multi, qbuf, qfree atomic.Int64
}

// set re-charges one component to v bytes; it reports whether the pool is
// over its budget after a growth.
func (m *connMem) set(field *int64, v int64) bool {
	d := v - *field
	if d == 0 {
		return false
	}
	*field = v
	m.used.Add(d)
	p := m.pool.Load()
	return p.used.Add(d) > p.limit.Load() && d > 0
}

// setOut is set for an output component, which the evictors weigh.
func (m *connMem) setOut(field *int64, v int64) bool {
	d := v - *field
	if d == 0 {
		return false
	}
	m.out.Add(d)
	m.pool.Load().out.Add(d)
	return m.set(field, v)
}

// tight reports whether the connection's pool is over its budget.
func (m *connMem) tight() bool {
	p := m.pool.Load()
	return p.used.Load() > p.limit.Load()
}

// busy marks v bytes of the reply buffer as being written (0: the write
// is done), which makes them count as the connection's evictable output.
func (m *connMem) busy(v int64) {
	if d := v - m.wbusy; d != 0 {
		if v > 0 {
			m.busyAt.Store(time.Now().UnixNano())
		}
		m.busyOut.Store(v)
		m.wbusy = v
		m.out.Add(d)
		m.pool.Load().out.Add(d)
	}
}

// total is everything the connection goroutine has charged.
func (m *connMem) total(txBytes int64) int64 {
	return m.query + m.wout + m.held + m.watch + m.blocked + m.transient + txBytes
}

// moveMem re-charges the connection's own components to pool p (bind).
// The pub/sub queue moves with its subscriber (subscriber.setPool).
func (c *client) moveMem(p *memPool) {
	old := c.mem.pool.Load()
	if old == p || p == nil {
		return
	}
	n, out := c.mem.total(c.txBytes), c.mem.wbusy+c.mem.held
	c.mem.pool.Store(p)
	p.used.Add(n)
	p.out.Add(out)
	old.used.Add(-n)
	old.out.Add(-out)
}

// endOverdraft gives up the pool's overdraft once the commands it let in
// are consumed and the read buffer is released (conn.go), or when the
// connection closes: while the buffer is held, so is the overdraft, so at
// most one connection per pool holds read buffers past the budget.
func (c *client) endOverdraft() {
	if p := c.mem.odPool; p != nil {
		p.overdraft.CompareAndSwap(c, nil)
		c.mem.odPool = nil
	}
}

// releaseMem drops every charge of a closing connection, and only then
// its overdraft: given up first, another connection could take it and
// grow while this one's read buffer still counted, and the pool would
// pass twice its budget (TestClientMemoryPartialCommands saw 18 MiB of an
// 8 MiB budget when an overdraft holder was closed with OOM).
func (c *client) releaseMem() {
	if n := c.mem.pendOut.Swap(0); n != 0 {
		c.mem.pool.Load().pending.Add(-n)
	}
	c.mem.busy(0)
	c.mem.set(&c.mem.wout, 0)
	c.mem.setOut(&c.mem.held, 0)
	c.mem.set(&c.mem.query, 0)
	c.mem.set(&c.mem.watch, 0)
	c.mem.set(&c.mem.blocked, 0)
	c.releaseTx()
	c.endOverdraft()
}

// reserveTx charges n more bytes of MULTI queue if they fit.
func (c *client) reserveTx(n int64) bool {
	if !c.mem.pool.Load().reserve(n) {
		return false
	}
	c.txBytes += n
	c.mem.used.Add(n)
	c.mem.multi.Store(c.txBytes)
	return true
}

func (c *client) releaseTx() {
	if n := c.txBytes; n != 0 {
		c.txBytes = 0
		c.dropTx(c.mem.pool.Load(), n)
	}
}

// dropTx releases n bytes of MULTI queue charged to pool p, once
// c.txBytes no longer counts them.
func (c *client) dropTx(p *memPool, n int64) {
	p.used.Add(-n)
	c.mem.used.Add(-n)
	c.mem.multi.Store(c.txBytes)
}

// setBudgets applies the configuration's client-memory budgets (New,
// Reload): each tenant's client_memory, and what maxmemory_clients leaves
// to the unattributed pool. A Config built in code may leave both 0: the
// defaults of package config apply then.
func (s *Server) setBudgets(reg *registry) {
	var sum int64
	for _, t := range reg.order {
		tc := t.cfg()
		b := tc.ClientMemory
		if b <= 0 {
			b = config.DefaultClientMemory(tc.Quota)
		}
		t.cmem.limit.Store(b)
		sum += b
	}
	pool := int64(config.DefaultUnattributedClientMemory)
	if mc := reg.cfg.MaxMemoryClients; mc > 0 {
		pool = mc - sum
	}
	if min := s.limits.PreAuthQueryBufferLimit; pool < min {
		pool = min // Parse refuses this; a Config built in code gets room for one
	}
	s.unattributed.limit.Store(pool)
}

// oomText is the refusal for the connection's pool: the tenant's budget,
// or maxmemory_clients for a connection bound to no tenant.
func (c *client) oomText() string {
	if c.mem.pool.Load().tenant == "" {
		return errClientsOOM
	}
	return errClientOOM
}

// evictMinOutput: a connection is evicted only for output beyond one
// flush (flushThreshold); below that, output is the normal cost of
// replying, and evicting it would drop readers that keep up for a few
// bytes over the budget. Such output still counts, so it refuses writes
// and pauses reads like any other.
const evictMinOutput = flushThreshold

// evictGrace: a reply write in progress for less than this is not output
// to evict for (a client reading at 10 MB/s takes 100ms for 1 MiB; one on
// loopback about 1ms); pub/sub queues count at once.
const evictGrace = 50 * time.Millisecond

// pauseTick is how often a connection paused for client memory looks again.
const pauseTick = 2 * time.Millisecond

// growQuery reserves n more bytes of read buffer, pausing the connection
// while its pool has no room (backpressure on a partial command). It
// reports false when the connection must close instead: its own charges
// plus n could never fit, the pause outlasted write_timeout (or the
// auth deadline), or the server is closing.
//
// Connections that each hold part of a large request could wait for each
// other forever; so one connection at a time per pool, the first to find
// no room, takes the pool's overdraft and grows past the budget until its
// command is complete (it can never need more than the budget itself).
// The others pause. A pool so holds at most twice its budget in read
// buffers, and every command whose connection fits the budget gets in.
func (s *Server) growQuery(c *client, n int64) bool {
	p := c.mem.pool.Load()
	if p.reserve(n) {
		c.mem.query += n
		c.mem.used.Add(n)
		return true
	}
	if c.mem.total(c.txBytes)+n > p.limit.Load() {
		p.refused.Add(1)
		return false
	}
	// Output that other connections leave unread gives way to input, as
	// Redis's client eviction weighs all client memory: a publisher is not
	// stalled by its own non-reading subscribers.
	s.evictOutput(p, c, n)
	if c.grow(p, n) {
		return true
	}
	c.beforeWait()
	deadline := time.Now().Add(s.limits.WriteTimeout)
	ticks := 0
	if d := s.readDeadline(c); !d.IsZero() && d.Before(deadline) {
		deadline = d
	}
	for {
		select {
		case <-time.After(pauseTick):
		case <-s.stop:
			return false
		}
		if c.killed.Load() {
			return false
		}
		if ticks++; ticks%50 == 0 {
			s.evictOutput(p, c, n) // output that grew meanwhile
		}
		if c.grow(p, n) {
			return true
		}
		if time.Now().After(deadline) {
			p.refused.Add(1)
			return false
		}
	}
}

// grow charges n more bytes of read buffer if they fit in the budget or
// c holds, or can take, the pool's overdraft (growQuery).
func (c *client) grow(p *memPool, n int64) bool {
	switch {
	case p.reserve(n):
	case c.mem.odPool == p:
		p.used.Add(n)
	case p.overdraft.CompareAndSwap(nil, c):
		c.mem.odPool = p
		p.used.Add(n)
	default:
		return false
	}
	c.mem.query += n
	c.mem.used.Add(n)
	return true
}

// roomForReply is called before a reply element larger than one flush is
// copied into the reply buffer (wire.WriteBulk and friends): it reserves
// its n bytes in the pool, first waiting while the pool is over its budget
// because of other connections' output (replies being written, pub/sub
// queues), which drains as clients read or is evicted (after evictGrace)
// when they do not. So replies to clients that do not read cannot pile up
// past the budget: each waits its turn before it is even built. It stops
// waiting when there is no such output left to wait for (a reply larger
// than the budget, or a pool held by read buffers, goes ahead) or after
// write_timeout, and charges n either way: the reply is owed.
func (c *client) roomForReply(n int64) {
	p := c.mem.pool.Load()
	waiting := func() bool {
		return p.out.Load()-p.pending.Load()-c.mem.out.Load() > 0
	}
	if !p.reserve(n) {
		s := c.srv
		s.evictOutput(p, c, n)
		deadline := time.Now().Add(s.limits.WriteTimeout)
		for ticks := 1; !p.reserve(n); ticks++ {
			if !waiting() || time.Now().After(deadline) || s.closing.Load() || c.killed.Load() {
				p.used.Add(n)
				break
			}
			c.beforeWait()
			time.Sleep(pauseTick)
			if ticks%10 == 0 {
				s.evictOutput(p, c, n) // writes that have grown old meanwhile
			}
		}
	}
	c.mem.wout += n // flush's charge brings it to the buffer's capacity
	c.mem.used.Add(n)
}

// evictOutput brings pool p back under its budget, with room for need more
// bytes, by disconnecting the connections with the largest output in it,
// biggest first; self (the connection whose own reply or read buffer is
// being charged) is never chosen. Called without any subscriber's lock
// held.
func (s *Server) evictOutput(p *memPool, self *client, need int64) {
	p.evictMu.Lock()
	defer p.evictMu.Unlock()
	for p.used.Load()-p.pending.Load()+need > p.limit.Load() {
		others := p.out.Load() - p.pending.Load()
		if self != nil {
			others -= self.mem.out.Load()
		}
		if others <= 0 {
			return // no one else's output to evict: skip the scan
		}
		var victim *client
		var most, oldest int64
		skipped := false
		young := time.Now().Add(-evictGrace).UnixNano()
		s.mu.Lock()
		for _, c := range s.clients {
			if c == self || c.mem.pool.Load() != p || c.mem.evicting.Load() {
				continue
			}
			o, at := c.mem.out.Load(), c.mem.busyAt.Load()
			if b := c.mem.busyOut.Load(); b > 0 && at > young {
				o -= b // a reply write just started
				skipped = skipped || b > evictMinOutput
			}
			// The largest output; of equals, the write stuck longest.
			if o > evictMinOutput && (o > most || o == most && at < oldest) {
				victim, most, oldest = c, o, at
			}
		}
		s.mu.Unlock()
		if victim == nil {
			if skipped && p.recheck.CompareAndSwap(false, true) {
				// Judge the young writes once they are old enough: a
				// client that reads has finished by then.
				time.AfterFunc(evictGrace, func() {
					p.recheck.Store(false)
					if !s.closing.Load() {
						s.evictOutput(p, nil, 0)
					}
				})
			}
			return
		}
		victim.evict(p)
	}
}

// evict disconnects c to free its output (evictOutput): a subscriber's
// queue is dropped at once; a reply being written is freed when the
// closed socket fails the write.
func (c *client) evict(p *memPool) {
	c.mem.evicting.Store(true)
	out := c.mem.out.Load()
	if ps := c.psRef.Load(); ps != nil {
		ps.mu.Lock()
		ps.die()
		ps.mu.Unlock()
	}
	// What its blocked write still holds goes when the closed socket fails
	// the write; until the connection is dropped, evictors discount it.
	if left := c.mem.out.Load(); left > 0 {
		c.mem.pendOut.Store(left)
		p.pending.Add(left)
	}
	c.kill()
	c.hold.Conn.Close()
	p.evicted.Add(1)
	used, limit := p.used.Load(), p.limit.Load()
	pool := p.tenant
	if pool == "" {
		pool = "(unattributed)"
	}
	c.srv.log.Warn("client evicted: client memory over budget",
		"tenant", pool, "client_id", c.id, "addr", c.addr, "output_bytes", out,
		"client_memory_bytes", used, "client_memory_limit", limit)
	c.srv.audit("client_evicted", p.tenant, c.userName(), c.addr, "", "evicted",
		"output_bytes", out, "client_memory_bytes", used, "client_memory_limit", limit)
}
