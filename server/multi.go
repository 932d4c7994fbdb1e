package server

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, per connection and
// scoped to the connection's tenant, with Redis 7's semantics.
//
// # Queueing
//
// After MULTI, dispatch runs its usual checks on every command (unknown
// command, arity, NOAUTH, NOPERM, admission); a command that fails one is
// answered with the error at once and flags the transaction, so EXEC
// answers EXECABORT and runs nothing. A command that passes is copied
// (its arguments alias the read buffer) and answered +QUEUED. MULTI,
// EXEC, DISCARD, WATCH, RESET and QUIT are never queued, as in Redis;
// AUTH, HELLO, SELECT and the rest are queued and run inside EXEC.
//
// Admission is charged per queued command, at queue time: each one takes
// its rate-limit token, is checked against max_arg_bytes and, for the
// instant of queueing, max_concurrent; a refusal is a queue-time error
// that aborts the transaction. EXEC itself is admitted once (one in-flight
// command while it runs); if EXEC is refused, the transaction is discarded
// and EXEC answers "EXECABORT Transaction discarded because of: <refusal>",
// which is what Redis does when it rejects an EXEC. DISCARD, RESET and QUIT
// inside a transaction bypass admission so a client can always leave one.
// The queue is bounded by client-query-buffer-limit (it is input held
// until EXEC); past it the transaction is flagged. It is also charged to
// the tenant's client_memory as it grows (clientmem.go), until EXEC has
// run it or the transaction ends: a command that does not fit the budget
// is refused with errClientOOM, not queued, and flags the transaction.
//
// # Atomicity
//
// Every tenant has a read-write lock, tenant.txMu (a txLock: an RWMutex
// striped by connection id, so readers on different cores do not share a
// counter). dispatch holds it shared around every handler of the tenant;
// EXEC holds it exclusively while it runs the queue, so no other
// connection of the same tenant runs a command between two commands of a
// transaction (other tenants are unaffected). Measured cost on the hot
// path (BenchmarkDispatch, in process): about +7 ns per command on one
// core, none measurable on two; no allocation.
// While it holds the lock EXEC does not write to its socket: its replies
// are held in memory (bounded by the client output limit) and written
// after the lock is released, so a slow reader cannot stall its tenant.
// A command that flushes a large reply to a slow reader holds the shared
// lock while it writes, so an EXEC of the same tenant waits for it (at most
// write_timeout) and, RWMutex being writer-preferring, so do the tenant's
// commands that arrive meanwhile (on the stripes EXEC already holds).
//
// Errors inside EXEC are per-command replies and the other commands still
// run, as in Redis. That includes quota: each command stays all or nothing
// (a write that does not fit replies OOM and changes nothing), but the
// commands before and after it in the transaction are applied. Redis does
// the same (it checks maxmemory when queueing and when EXEC starts, never
// between the commands of a running transaction).
//
// Not covered by the lock: active expiry, eviction caused by another
// tenant's quota change, and the operator paths (TENANT FLUSH, the HTTP
// invalidate), which act on the partition directly. Time is not frozen
// during EXEC, so a key may expire between two commands of a transaction
// (Redis 7 freezes the clock for the transaction).
//
// # WATCH
//
// Each tenant has a watch registry, stored key (byte(db)+name) -> watching
// clients, with an atomic count of entries. The tenant's partition reports
// every key a write actually changed (shard.Partition.SetOnModify, called
// under the key's sub-shard lock), and the watchers of that key are marked
// dirty (tenant.onModify); when the tenant has no watched key this is one
// atomic load. This is Redis's signalModifiedKey: a write that changed
// nothing (DEL of a missing key, SREM of an absent member, SET NX on an
// existing key, LPOP of a missing list, EXPIRE of a missing key, a failed
// command) does not abort a watcher's EXEC, while SET marks even when it
// stores the same value. The few commands whose signal differs from their
// change (XACK, XGROUP and XREADGROUP change a stream without signalling;
// APPEND of an empty string signals) say so in their callbacks
// (shard.Signal). Writes inside EXEC and scripts mark the same way, since
// the mark comes from the partition, not from the command.
//
// Changes that do not go through a write command (expiry, LRU eviction,
// FLUSHDB/FLUSHALL, TENANT FLUSH, the HTTP invalidate, a quota shrink) are
// caught by the existence check: WATCH records whether each key existed,
// and EXEC, under the exclusive lock, fails if any watched key's existence
// changed. Every change to a key's value or TTL that is not a removal goes
// through a write command, which marks, so existence is all that is left
// to compare. This matches Redis 7, which counts a watched key that
// expires, is evicted or flushed as modified, and a flush of a key that did
// not exist as no change. Gaps: a key evicted and re-created with no write
// command in between cannot happen (creation is a write); an operator
// flush while EXEC runs is not serialised with it (see above).
//
// WATCH binds to the connection's tenant. If the connection is re-bound
// to another tenant (AUTH) while it watches keys, its next EXEC fails as
// if a watched key had changed; EXEC, DISCARD, UNWATCH, RESET and closing
// the connection unwatch everything.

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// queuedCmd is one command of an open transaction; args are owned copies.
type queuedCmd struct {
	cmd  *command.Spec
	args [][]byte
}

// queuedOverhead approximates a queued command's bookkeeping beyond its
// argument bytes, for the queue bound.
const queuedOverhead = 64

// watchEntryOverhead approximates one WATCHed key's bookkeeping beyond its
// bytes (the connection's map entry and the registry's), for the charge.
const watchEntryOverhead = 96

// cmdMulti opens a transaction.
func cmdMulti(c *client, args [][]byte) {
	if c.multi {
		c.conn.WriteError(errMultiNested)
		return
	}
	c.multi = true
	c.conn.WriteString("OK")
}

// cmdDiscard drops the queued commands and unwatches.
func cmdDiscard(c *client, args [][]byte) {
	if !c.multi {
		c.conn.WriteError(errDiscardNoMulti)
		return
	}
	c.endMulti()
	c.unwatch()
	c.conn.WriteString("OK")
}

// cmdResetTx is RESET: the transaction is discarded and the keys unwatched
// before the connection is reset.
func cmdResetTx(c *client, args [][]byte) {
	c.endMulti()
	c.unwatch()
	cmdReset(c, args)
}

func cmdUnwatch(c *client, args [][]byte) {
	c.unwatch()
	c.conn.WriteString("OK")
}

// cmdWatch: WATCH key [key ...], in the connection's tenant and db.
func cmdWatch(c *client, args [][]byte) {
	if c.multi {
		c.conn.WriteError(errWatchInMulti)
		return
	}
	t := c.tenant
	if c.watchTenant != nil && c.watchTenant != t {
		// Watching keys of the tenant the connection was bound to before an
		// AUTH: EXEC fails, as if they had changed, until unwatched.
		c.watchDirty.Store(true)
		c.conn.WriteString("OK")
		return
	}
	// The table is charged to the connection's pool (clientmem.go), all
	// keys or none; a key already watched is charged again, harmlessly.
	var cost int64
	for _, k := range args[1:] {
		cost += int64(len(k)) + watchEntryOverhead
	}
	if c.srv.l2 != nil && !c.watchL2(args) { // multi_backed.go
		return
	}
	p := c.mem.pool.Load()
	if !p.reserve(cost) {
		p.refused.Add(1)
		c.conn.WriteError(errClientOOM)
		return
	}
	c.mem.watch += cost
	c.mem.used.Add(cost)
	c.watchTenant = t
	if c.watched == nil {
		c.watched = make(map[string]bool, len(args)-1)
	}
	for _, k := range args[1:] {
		sk := string(storedKey(nil, c.db, k))
		if _, dup := c.watched[sk]; dup {
			continue
		}
		// Register first, then look: a write that lands in between marks
		// this client (a spurious conflict at worst, never a missed one).
		t.watch.add(sk, c)
		c.watched[sk] = t.part.View(c.db, k, 0, nil)
	}
	c.conn.WriteString("OK")
}

// cmdExec runs the queued commands atomically with respect to the
// tenant's other connections and answers an array of their replies; a
// null array when a watched key changed; EXECABORT when queueing failed.
func cmdExec(c *client, args [][]byte) {
	if !c.multi {
		c.conn.WriteError(errExecNoMulti)
		return
	}
	queue, aborted := c.tx, c.txErr
	// The queue stays charged to its pool until it has run.
	charged, pool := c.txBytes, c.mem.pool.Load()
	c.txBytes = 0
	defer c.dropTx(pool, charged)
	c.endMulti()
	if aborted {
		c.unwatch()
		c.conn.WriteError(errExecAbort)
		return
	}
	t := c.tenant
	if c.srv.l2 != nil {
		c.execL2(t, queue) // multi_backed.go
		return
	}
	x, busy := t.lockExclusive() // script.go: a busy script answers BUSY
	if busy != nil {
		c.unwatch()
		c.conn.WriteError(errExecAbortBecause + busy.busyText())
		return
	}
	c.excl = x
	c.hold.start(c.conn.outLimit)
	defer func() {
		c.excl = nil
		t.unlockExclusive(x)
		// Replies written while the lock was held follow any flushed later.
		if held := c.hold.stop(); len(held) > 0 && c.conn.err == nil {
			c.conn.Out = append(held, c.conn.Out...)
		}
	}()
	conflict := c.watchConflict(t)
	c.unwatch()
	if conflict {
		c.conn.WriteNullArray()
		return
	}
	c.conn.WriteArray(len(queue))
	for i := range queue {
		c.runQueued(t, &queue[i])
	}
}

// runQueued runs one command inside EXEC (t.txMu held exclusively).
func (c *client) runQueued(t *tenant, q *queuedCmd) {
	cmd := q.cmd
	// A queued AUTH may have re-bound the connection: what follows was
	// checked for the old user, so it is refused, as Redis refuses
	// commands whose ACL no longer allows them at EXEC.
	if c.tenant != t || cmd.Flags&command.Write != 0 && c.role == config.RoleReadOnly ||
		cmd.Flags&command.Admin != 0 && c.role != config.RoleAdmin {
		c.conn.WriteError(errExecACLChanged)
		t.cmdErrors.Add(1)
		return
	}
	t.commands.Add(1)
	errs := c.conn.Errs
	start := c.srv.mono()
	if c.trk != nil && cmd.Flags&(command.Read|command.Exclusive) == command.Read {
		c.srv.trackRead(c, cmd, q.args) // tracking.go
	}
	c.run(cmd, cmd.Handler, q.args)
	if h := t.hooks.Load(); h != 0 {
		c.srv.afterCommand(c, t, cmd, q.args, h, false, false)
	}
	if d := c.srv.mono() - start; d >= t.diag.watch.Load() {
		c.srv.noteSlow(c, t, cmd, q.args, time.Duration(d)) // logged one by one, as Redis
	}
	if c.conn.Errs != errs {
		t.cmdErrors.Add(1)
	} else {
		t.cmdOK.Add(1)
		if cmd.Flags&command.Write != 0 && (!cmd.HasKeys() || t.backed) {
			t.dirty.Add(1) // INFO rdb_changes_since_last_save: see onModify
		}
	}
	if cmd.Flags&command.Write != 0 && t.writeHooks() {
		t.touchWrite(c, cmd, q.args)
	}
}

// queue adds a checked and admitted command to the open transaction.
func (c *client) queue(cmd *command.Spec, args [][]byte) {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	if c.srv.l2 != nil {
		if msg := c.queueRefusedL2(cmd, args); msg != "" { // multi_backed.go
			c.txErr = true
			c.conn.WriteError(msg)
			return
		}
	}
	cost := int64(n + 24*len(args) + queuedOverhead)
	if c.txBytes+cost > c.srv.limits.ClientQueryBufferLimit {
		c.txErr = true
		c.conn.WriteError(errTxTooBig)
		return
	}
	// The queue is charged to the connection's client-memory pool
	// (clientmem.go): a command that does not fit is refused, not queued.
	if !c.reserveTx(cost) {
		c.mem.pool.Load().refused.Add(1)
		c.txErr = true
		c.conn.WriteError(errClientOOM)
		return
	}
	buf := make([]byte, n)
	cp := make([][]byte, len(args))
	off := 0
	for i, a := range args {
		copy(buf[off:], a)
		cp[i] = buf[off : off+len(a) : off+len(a)]
		off += len(a)
	}
	c.tx = append(c.tx, queuedCmd{cmd: cmd, args: cp})
	c.conn.WriteString("QUEUED")
}

// reject answers a command refused before its handler (unknown, arity,
// NOAUTH, NOPERM, admission). Inside MULTI the refusal flags the
// transaction. A refused EXEC discards the transaction, as Redis's
// execCommandAbort does, so the client is never left inside a MULTI it
// believes finished.
func (c *client) reject(cmd *command.Spec, msg string) {
	if cmd != nil && cmd.Flags&command.Exec != 0 {
		c.endMulti()
		c.unwatch()
		c.conn.WriteError(errExecAbortBecause + strings.TrimPrefix(msg, "ERR "))
		return
	}
	if c.multi {
		c.txErr = true
	}
	c.conn.WriteError(msg)
}

// endMulti leaves the transaction state, dropping any queued commands.
func (c *client) endMulti() {
	c.multi = false
	c.tx = nil
	c.txErr = false
	c.releaseTx()
}

// unwatch forgets every watched key (and a dirty flag they raised).
func (c *client) unwatch() {
	if t := c.watchTenant; t != nil {
		t.watch.remove(c, c.watched)
		c.watchTenant = nil
	}
	clear(c.watched)
	c.l2watch.reset()
	c.mem.set(&c.mem.watch, 0)
	// Every touch that found this client finished before remove got the
	// registry's lock, and none can find it now: the flag is final.
	c.watchDirty.Store(false)
}

// watchConflict reports whether EXEC must fail for WATCH (t.txMu held
// exclusively).
func (c *client) watchConflict(t *tenant) bool {
	if c.watchTenant == nil {
		return c.watchDirty.Load()
	}
	if c.watchTenant != t || c.watchDirty.Load() {
		return true
	}
	for sk, existed := range c.watched {
		if t.part.View(int(sk[0]), []byte(sk[1:]), 0, nil) != existed {
			return true // expired, evicted or flushed since WATCH
		}
	}
	return false
}

func storedKey(dst []byte, db int, key []byte) []byte {
	dst = append(dst, byte(db))
	return append(dst, key...)
}

// watchRegistry maps a tenant's watched keys to their watchers.
type watchRegistry struct {
	n  atomic.Int64 // registered (key, client) pairs: 0 is the fast path
	mu sync.RWMutex
	m  map[string][]*client
}

func (r *watchRegistry) add(sk string, c *client) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string][]*client)
	}
	r.m[sk] = append(r.m[sk], c)
	r.n.Add(1)
	r.mu.Unlock()
}

func (r *watchRegistry) remove(c *client, keys map[string]bool) {
	r.mu.Lock()
	for sk := range keys {
		list := r.m[sk]
		for i, w := range list {
			if w == c {
				list[i] = list[len(list)-1]
				list[len(list)-1] = nil
				list = list[:len(list)-1]
				r.n.Add(-1)
				break
			}
		}
		if len(list) == 0 {
			delete(r.m, sk)
		} else {
			r.m[sk] = list
		}
	}
	r.mu.Unlock()
}

// touch marks the watchers of stored key sk dirty.
func (r *watchRegistry) touch(sk []byte) {
	r.mu.RLock()
	for _, w := range r.m[string(sk)] {
		w.watchDirty.Store(true)
	}
	r.mu.RUnlock()
}

// onModify is t's partition's SetOnModify function: a write signalled the
// stored key sk (byte(db)+name), so its watchers' EXEC must fail. It runs
// under the key's sub-shard lock, for every write command, script and
// transaction alike: one atomic load when the tenant watches nothing. The
// keys changed, which INFO's rdb_changes_since_last_save counts (Redis's
// server.dirty), the partition counts itself (dirtyCount).
func (t *tenant) onModify(sk []byte, signal, changed bool) {
	if signal && t.watch.n.Load() != 0 {
		t.watch.touch(sk)
	}
}

// dirtyCount is Redis's server.dirty for t: the keys its writes changed in
// the embedded store (shard.Partition.Changes, counted per sub-shard: one
// shared counter bumped by every write on two cores cost 4.5% of a SET's
// CPU in cache-line transfers), plus the writes counted per command
// (t.dirty: writes without keys, and every write in backed mode, where
// the partition is a cache whose fills change no data).
func (t *tenant) dirtyCount() int64 {
	n := t.dirty.Load()
	if !t.backed {
		n += t.part.Changes()
	}
	return n
}

// touchWrite signals the clients blocked on every key write command cmd
// writes, in the connection's db (or those its row's WriteKeys names:
// COPY's destination, possibly in another db, SORT's STORE key, MOVE's
// key in both dbs) (block.go). Called with t.txMu held, after the handler.
// A client blocked in XREADGROUP must learn that its stream was deleted
// or replaced (Redis answers it UNBLOCKED at once); for the others the
// signal is a cheap spurious wake-up that listAnyReady filters.
//
// In backed mode it also marks the watchers of those keys dirty (the
// partition, an L1 cache there, does not: registry.go).
func (t *tenant) touchWrite(c *client, cmd *command.Spec, args [][]byte) {
	watch := t.backed && t.watch.n.Load() != 0
	var sk []byte
	cmd.EachWrittenKey(c.db, args, func(db int, key []byte) {
		t.blocked.signal(db, key)
		if watch {
			sk = storedKey(sk[:0], db, key)
			t.watch.touch(sk)
		}
	})
}

// writeHooks reports whether a write command must call touchWrite: a
// client is blocked, or, in backed mode, one watches a key.
func (t *tenant) writeHooks() bool {
	return t.blocked.n.Load() != 0 || t.backed && t.watch.n.Load() != 0
}

// holdConn sits between a connection's wire and its socket. While EXEC
// holds its tenant's lock, writes are kept in memory instead of reaching
// the socket, so a client that reads slowly cannot hold up the tenant.
// Only the connection goroutine uses hold and held; the embedded Conn's
// other methods (SetReadDeadline, Close) are called from other goroutines
// too and pass straight through.
type holdConn struct {
	net.Conn
	hold  bool
	held  []byte
	limit int64 // the output limit while holding; 0 = none
	// sink, when set, takes the writes instead of the socket: a
	// subscribed connection's queue (pubsub.go). Connection goroutine only.
	sink io.Writer
	// c is the connection, charged for held (clientmem.go).
	c *client
}

func (h *holdConn) start(limit int64) { h.hold, h.limit = true, limit }

// stop ends holding and returns what was held, to be written before
// anything still buffered.
func (h *holdConn) stop() []byte {
	held := h.held
	h.hold, h.held = false, nil
	h.charge()
	return held
}

// charge re-charges the held replies (clientmem.go). Holding happens
// under the tenant's exclusive lock, so the connection's own held output
// is never evicted for: others' output is.
func (h *holdConn) charge() {
	if c := h.c; c != nil && c.mem.setOut(&c.mem.held, int64(cap(h.held))) {
		c.srv.evictOutput(c.mem.pool.Load(), c, 0)
	}
}

func (h *holdConn) Write(p []byte) (int, error) {
	if !h.hold {
		if h.sink != nil {
			return h.sink.Write(p)
		}
		return h.Conn.Write(p)
	}
	if h.limit > 0 && int64(len(h.held)+len(p)) > h.limit {
		return 0, errOutputLimit
	}
	// EXEC cannot wait for room while it holds its tenant's lock: replies
	// that do not fit the client-memory budget end the connection, as an
	// output buffer limit does (clientmem.go).
	if c := h.c; c != nil && len(h.held)+len(p) > cap(h.held) {
		if pl := c.mem.pool.Load(); pl.used.Load()+int64(len(p)) > pl.limit.Load() {
			return 0, errOutputLimit
		}
	}
	h.held = append(h.held, p...)
	h.charge()
	return len(p), nil
}

// txStripes is the number of reader stripes of a txLock (a power of two).
const txStripes = 8

// txLock is tenant.txMu: a reader-striped RWMutex. A command takes the
// read lock of its connection's stripe only, so commands on different
// cores do not bounce one reader counter between them; EXEC takes every
// stripe's write lock, in order.
type txLock struct {
	stripes [txStripes]struct {
		sync.RWMutex
		_ [64 - 24]byte // one cache line each
	}
}

func (l *txLock) RLock(id int64)         { l.stripes[id&(txStripes-1)].RLock() }
func (l *txLock) TryRLock(id int64) bool { return l.stripes[id&(txStripes-1)].TryRLock() }
func (l *txLock) RUnlock(id int64)       { l.stripes[id&(txStripes-1)].RUnlock() }

func (l *txLock) Lock() {
	for i := range l.stripes {
		l.stripes[i].Lock()
	}
}

func (l *txLock) Unlock() {
	for i := range l.stripes {
		l.stripes[i].Unlock()
	}
}
