package server

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
)

// client is one connection's state. Its connection goroutine owns it; the
// fields other goroutines read (CLIENT LIST) are written under mu.
type client struct {
	srv       *Server
	conn      *wire
	parser    resp.Parser
	id        int64
	addr      string
	laddr     string
	created   time.Time // server clock (may be fake in tests)
	connected time.Time // real time, for socket deadlines

	// nameBuf holds the lower-cased command name during lookup, so that
	// dispatch does not allocate. Longer names cannot be commands.
	nameBuf [32]byte
	// lastSpec is the top-level row the previous command name resolved
	// to: a pipeline of one command skips the lower-casing and the
	// table's map lookup (dispatch.go, lookup).
	lastSpec *command.Spec
	// lat gathers the latencies of the commands run since the last flush
	// of replies for their tenant's histogram (flushBatch).
	lat metrics.Batch
	// cnt counts the commands run since the last flush for their tenant's
	// commands/cmdOK/cmdErrors (flushBatch): one atomic add per batch
	// of replies rather than two per command on counters both cores write.
	cnt cmdCounts
	// lease holds the connection's admission slot from one command to the
	// next of a pipelined batch (admission.Lease); flushBatch gives it
	// back, so a connection holds none while it waits for anything.
	lease admission.Lease
	// x is what handlers get (command.Ctx): run refreshes it before each
	// command; its Scratch is reused for replies and number formatting.
	x command.Ctx
	// Transaction state (multi.go). multi is set between MULTI and
	// EXEC/DISCARD/RESET; tx holds the queued commands (txBytes their
	// size), txErr flags a queue-time error (EXEC answers EXECABORT).
	// txHeld is the tenant whose txMu dispatch holds shared around the
	// running handler, for the panic path. hold buffers EXEC's replies
	// (conn writes through it). watched maps each WATCHed stored key to
	// whether it existed at WATCH, in watchTenant's registry; watchDirty
	// is set by writes that changed a watched key (multi.go).
	multi       bool
	tx          []queuedCmd
	txBytes     int64
	txErr       bool
	txHeld      *tenant
	hold        holdConn
	watched     map[string]bool
	watchTenant *tenant
	watchDirty  atomic.Bool
	// l2watch holds, in backed mode, the watched keys and their L2
	// fingerprints as read at WATCH (multi_backed.go).
	l2watch l2Watch
	// ticket is the admission ticket of the command executing, and
	// admitted its tenant (nil outside a command), for the panic path.
	ticket   admission.Ticket
	admitted *tenant
	// Clock readings are Server.mono's (admission's clock, ns): one per
	// read and one per command. readAt is when the last read returned: the
	// arrival time of the commands it completed, for admission's timeout
	// and the SLA clock.
	readAt int64
	// backoff pauses reading after a rate-limit refusal (see dispatch).
	backoff time.Duration
	// Cost accounting and fair-share pacing (fair.go): cmdStart is when
	// the command being dispatched started (the loop's clock reading),
	// mark the start of the span not yet charged, pacing the command's
	// reservation, and unbilled time inside the span that was no work (a
	// blocking command's wait); owed is charged but not yet added to the
	// tenant (settled once per flush, not per command).
	cmdStart int64
	mark     int64
	pacing   admission.Pacing
	unbilled time.Duration
	owed     time.Duration
	// preAuth is service time before the connection bound to a tenant,
	// charged to the tenant at AUTH (fair.go, bindCharge).
	preAuth time.Duration
	// now is a clock reading not yet used as a command's start: the end
	// of the previous command, or the read; zero when there is none.
	now int64
	// ps is the connection's pub/sub state while it has (or just had)
	// subscriptions (pubsub.go); nil otherwise. psRef is the same pointer
	// for evictors on other goroutines (clientmem.go).
	ps    *subscriber
	psRef atomic.Pointer[subscriber]
	// inBytes counts the bytes read from the socket; ranBytes is inBytes
	// as of the last time every complete command read so far had run.
	// PUBLISH compares them with what the kernel received to tell whether
	// a subscriber holds input it has not run (pubsub.go, "Ordering
	// across connections").
	inBytes, ranBytes atomic.Uint64
	// mem is what the connection charges against its pool's client-memory
	// budget (clientmem.go).
	mem connMem

	mu       sync.Mutex // guards the fields below for readers on other goroutines
	tenant   *tenant
	user     string
	role     config.Role
	operator bool // authenticated as an operator: bound to no tenant
	db       int
	name     string
	libName  string
	libVer   string
	resp3    bool // HELLO 3 (CLIENT LIST's copy of conn.RESP3)

	lastActive atomic.Int64 // Server.mono at the last command
	lastCmd    atomic.Pointer[command.Spec]
	killed     atomic.Bool // CLIENT KILL: close after the current command

	// killCh is closed when killed is set: it wakes a blocked command
	// (block.go). work is the running command's checkpoints (fair.go),
	// connection goroutine only.
	killCh chan struct{}
	work   workState

	// reply is CLIENT REPLY's mode (connection goroutine only; conn.go
	// runs a command in the quiet modes with its replies dropped).
	reply replyMode
	// blockedNow is set while the connection waits in a blocking command
	// (block.go); unblock carries CLIENT UNBLOCK's request to it (true:
	// answer the UNBLOCKED error, false: answer as on a timeout).
	blockedNow atomic.Bool
	unblock    chan bool
	// blockWait is how long the running command waited blocked (ns), so
	// that its slow-log duration is its work only.
	blockWait int64
	// retire: the connection's goroutine is locked to a thread left at
	// SCHED_IDLE (fair.go, endWork); connLoop hands the connection to a
	// new goroutine after the command, and this one ends with its thread.
	retire bool
	// onPool: the running command runs on an idle-pool thread (fair.go,
	// runHandler), which it must never move out of SCHED_IDLE.
	onPool bool

	// MONITOR (monitor.go): the set the connection is in, nil when it does
	// not monitor (connection goroutine only); monitoring mirrors it for
	// CLIENT LIST.
	monitor    *monitorSet
	monitorOf  *tenant
	monitoring atomic.Bool
	// Client-side caching (tracking.go): trk is the tracking session (nil:
	// not tracking; connection goroutine only), trkRef the same for CLIENT
	// LIST, trkBatch the keys the running command (transaction, script)
	// wrote, for BCAST sessions.
	trk      *trackState
	trkRef   atomic.Pointer[trackState]
	trkBatch [][]byte
	// A queue another connection started for this one (tracking.go,
	// pushQueue) wakes its read: wakeReq asks the loop to adopt it, wakeMu
	// orders the waker's deadline with the loop's.
	wakeMu  sync.Mutex
	wakeReq atomic.Bool
	// readDL is the read deadline connLoop last set on the socket (it
	// re-sets only changed ones); a blocked command's hang-up watch puts
	// it back (hangup_linux.go). The connection's goroutine only.
	readDL time.Time
	// gone is set when the connection's loop has ended.
	gone atomic.Bool

	// onWait, when set, runs on the connection's goroutine before it may
	// wait or run long (beforeWait). Only the prototype event loop sets it
	// (evloop_linux.go), to move the connection off its loop first; on
	// the goroutine-per-connection path it is nil.
	onWait func()
	// Scripting (script.go): excl is the exclusive hold of the tenant's
	// lock the running command has (EXEC, or an Exclusive row), inScript
	// is set while a script runs on this connection, scriptHost is its
	// redis.call bridge, reused.
	excl       *exclusive
	inScript   bool
	scriptHost *scriptHost
}

// beforeWait is called where the connection's goroutine may wait (a
// blocking command, a pacing sleep, a heavy slot, client memory, a new
// subscriber's writer) or has run long: the points where an event loop
// must not keep it. These are all off the hot path.
func (c *client) beforeWait() {
	if c.onWait != nil {
		c.onWait()
	}
}

// kill asks the connection to close (CLIENT KILL): it finishes the command
// it is executing, if any, and stops; a blocked read is woken.
func (c *client) kill() {
	if c.killed.CompareAndSwap(false, true) && c.killCh != nil {
		close(c.killCh)
	}
	c.conn.nc.SetReadDeadline(time.Now())
}

func (c *client) userName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

func (c *client) touch(now int64, cmd *command.Spec) {
	c.lastActive.Store(now)
	c.lastCmd.Store(cmd)
}

// bind moves the connection to tenant t (nil: unauthenticated, or an
// operator bound to no tenant), keeping the per-tenant connection counts
// right. It reports false, changing nothing, when t is at its tier's
// max_connections. The output cap follows the binding: small until the
// connection is authenticated.
func (c *client) bind(t *tenant, user string, role config.Role, operator bool) bool {
	c.mu.Lock()
	old := c.tenant
	c.mu.Unlock()
	if old != t {
		c.srv.settle(c) // what the old binding spent is the old tenant's
	}
	if old != t && t != nil && !t.addClient() {
		c.srv.rejected[rejectTenantMaxConns].Add(1)
		return false
	}
	if old != t && (t != nil || operator) {
		c.srv.bindCharge(c, t)
	}
	c.mu.Lock()
	c.tenant, c.user, c.role, c.operator = t, user, role, operator
	c.mu.Unlock()
	if old != t && old != nil {
		old.clients.Add(-1)
	}
	if old != t {
		// Tracking sessions, MONITORs and subscriptions stay in their
		// tenant (tracking.go, monitor.go, pubsub.go).
		c.trackOff()
		c.stopMonitor()
		c.pubsubUnbind()
		if t != nil {
			c.moveMem(&t.cmem)
		} else {
			c.moveMem(&c.srv.unattributed)
		}
	}
	lim := c.srv.limits
	c.conn.outLimit = lim.PreAuthOutputBufferLimit
	if c.authed() {
		c.conn.outLimit = lim.ClientOutputBufferLimit
	}
	return true
}

// authed reports whether the connection is authenticated (bound to a
// tenant, or an operator).
func (c *client) authed() bool { return c.tenant != nil || c.operator }

// addClient counts one more connection unless the tenant is at its cap.
func (t *tenant) addClient() bool {
	max := int64(t.cfg().Tier.MaxConnections)
	for {
		n := t.clients.Load()
		if max > 0 && n >= max {
			return false
		}
		if t.clients.CompareAndSwap(n, n+1) {
			t.connsReceived.Add(1)
			return true
		}
	}
}

func (c *client) tenantSnapshot() *tenant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenant
}

func (c *client) setDB(db int) {
	c.mu.Lock()
	c.db = db
	c.mu.Unlock()
}

// setProto switches the connection's reply protocol (HELLO 2|3, RESET).
func (c *client) setProto(ver int) {
	c.conn.RESP3 = ver == 3
	c.mu.Lock()
	c.resp3 = ver == 3
	c.mu.Unlock()
}

// proto is the connection's protocol version, 2 or 3 (connection
// goroutine only).
func (c *client) proto() int {
	if c.conn.RESP3 {
		return 3
	}
	return 2
}

func (c *client) setName(n string) {
	c.mu.Lock()
	c.name = n
	c.mu.Unlock()
}

// infoLine renders this client as CLIENT LIST / CLIENT INFO do in Redis 7,
// in Redis 7.0's field order (then lib-name and lib-ver, as 7.2 adds).
// The memory fields come from the connection's client-memory charges
// (clientmem.go), read from another connection's goroutine:
//
//   - qbuf, qbuf-free: the read buffer's unprocessed and free bytes as of
//     the connection's last wait for input (a partial command shows here);
//   - multi-mem: the MULTI queue's charge (arguments plus bookkeeping);
//   - omem: its output beyond the reply buffer kept for reuse, as Redis
//     leaves out its static reply buffer: the pub/sub queue, a reply
//     being written past one flush, EXEC's held replies;
//   - tot-mem: everything it charges to its tenant's client_memory (or to
//     the unattributed pool) plus its fixed cost, config.ConnOverhead,
//     which maxmemory reserves per maxclients instead; so tot-mem >=
//     qbuf + omem, as in Redis.
//
// argv-mem, rbs, rbp, obl and oll stay 0: tcached has no separate
// argument copies, and no 16KiB static reply buffer with a list of reply
// blocks behind it; its reply buffer and pub/sub queue are in omem and
// tot-mem.
func (c *client) infoLine(now time.Time) string {
	c.mu.Lock()
	name, db, user, lib, ver := c.name, c.db, c.user, c.libName, c.libVer
	resp := int64(2)
	if c.resp3 {
		resp = 3
	}
	c.mu.Unlock()
	cmd := "NULL"
	if lc := c.lastCmd.Load(); lc != nil {
		cmd = lc.Name
	}
	if user == "" {
		user = "default"
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := (c.srv.mono() - c.lastActive.Load()) / int64(time.Second)
	if idle < 0 {
		idle = 0
	}
	b := make([]byte, 0, 256)
	b = append(b, "id="...)
	b = strconv.AppendInt(b, c.id, 10)
	b = append(b, " addr="...)
	b = append(b, c.addr...)
	b = append(b, " laddr="...)
	b = append(b, c.laddr...)
	b = append(b, " fd=-1 name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, age, 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, idle, 10)
	b = append(b, " flags="...)
	b = c.appendFlags(b)
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, " sub=0 psub=0 ssub=0 multi=-1 qbuf="...)
	b = strconv.AppendInt(b, c.mem.qbuf.Load(), 10)
	b = append(b, " qbuf-free="...)
	b = strconv.AppendInt(b, c.mem.qfree.Load(), 10)
	b = append(b, " argv-mem=0 multi-mem="...)
	b = strconv.AppendInt(b, c.mem.multi.Load(), 10)
	b = append(b, " rbs=0 rbp=0 obl=0 oll=0 omem="...)
	b = strconv.AppendInt(b, max(c.mem.out.Load(), 0), 10)
	b = append(b, " tot-mem="...)
	b = strconv.AppendInt(b, max(c.mem.used.Load(), 0)+config.ConnOverhead, 10)
	b = append(b, " events=r cmd="...)
	b = append(b, cmd...)
	b = append(b, " user="...)
	b = append(b, user...)
	b = append(b, " redir="...)
	redir := int64(-1)
	if st := c.trkRef.Load(); st != nil {
		redir = st.opts.Load().redirect
	}
	b = strconv.AppendInt(b, redir, 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, resp, 10)
	b = append(b, " lib-name="...)
	b = append(b, lib...)
	b = append(b, " lib-ver="...)
	b = append(b, ver...)
	b = append(b, '\n')
	return string(b)
}

// appendFlags is CLIENT LIST's flags field, from what other goroutines
// may read: O monitor, b blocked, t tracking, R broken redirect, B
// broadcasting; N for none (catClientInfoString's letters).
func (c *client) appendFlags(b []byte) []byte {
	n := len(b)
	if c.monitoring.Load() {
		b = append(b, 'O')
	}
	if c.blockedNow.Load() {
		b = append(b, 'b')
	}
	if st := c.trkRef.Load(); st != nil {
		b = append(b, 't')
		if st.broken.Load() {
			b = append(b, 'R')
		}
		if st.opts.Load().bcast {
			b = append(b, 'B')
		}
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	return b
}

// run runs h, the handler or the shed answer of cmd, with the connection's
// context refreshed: the row, the db, and the tenant's partition and TTL
// (which a reload or AUTH may have changed since the last command).
func (c *client) run(cmd *command.Spec, h command.Handler, args [][]byte) {
	x := &c.x
	x.Spec, x.DB = cmd, c.db
	if t := c.tenant; t != nil {
		x.Part, x.TTL, x.Enc, x.Types = t.part, &t.defaultTTLms, t.enc, t.types
	}
	h(x, args)
}

// The client is its Ctx's command.Conn: what only the server can do for a
// handler.

func (c *client) Yield()                    { c.yield() }
func (c *client) CanBlock() bool            { return c.listCanBlock() }
func (c *client) InScript() bool            { return c.inScript } // XREAD ... BLOCK's error
func (c *client) MaxBlock() time.Duration   { return c.srv.maxBlock }
func (c *client) Signal(db int, key []byte) { c.tenant.blocked.signal(db, key) }
func (c *client) StoreError(err error) string {
	return storeError(err)
}
func (c *client) OutputLimit() int64 { return c.conn.outLimit }

// Transient charges a command's working memory to the connection's
// client-memory pool: a growth past the budget is refused (nothing
// charged); n < 0 releases.
func (c *client) Transient(n int64) bool {
	if c.mem.set(&c.mem.transient, c.mem.transient+n) {
		c.mem.set(&c.mem.transient, c.mem.transient-n)
		c.mem.pool.Load().refused.Add(1)
		return false
	}
	return true
}

// ClientOOM is the reply for a command refused for client memory.
func (c *client) ClientOOM() string { return c.oomText() }
func (c *client) WriteErr() error   { return c.conn.err }
func (c *client) Block(args, keys [][]byte, wait time.Duration, try func(which []int32) bool, timedOut func()) {
	c.listBlock(args, keys, wait, try, timedOut)
}

func (c *client) part() *shard.Partition  { return c.tenant.part }
func (c *client) nowMs() int64            { return c.srv.now().UnixMilli() }
func (c *client) replyStoreErr(err error) { c.conn.WriteError(storeError(err)) }

// flushBatch ends what the connection batched over the commands run since
// the last call: their latencies go to their tenant's histogram, their
// counts to its counters, and the admission lease is given back. Called
// before their replies leave (flushCharged, so also before a pacing wait
// and before reading the next batch; CLIENT REPLY OFF's flush), before a
// blocking command waits, and at the end of the connection, so a client
// that has its reply finds its command counted and its slot free.
func (c *client) flushBatch() {
	c.lat.Flush()
	c.cnt.flush()
	c.lease.Release()
}

// cmdCounts is a connection's pending command counts for one tenant.
type cmdCounts struct {
	t        *tenant
	ok, errs int64
}

// count counts one finished command of t, flushing another tenant's first.
func (n *cmdCounts) count(t *tenant, failed bool) {
	if n.t != t {
		n.flush()
		n.t = t
	}
	if failed {
		n.errs++
	} else {
		n.ok++
	}
}

func (n *cmdCounts) flush() {
	if n.ok+n.errs == 0 {
		return
	}
	t := n.t
	// commands first: a scrape never sees ok + errors above commands.
	t.commands.Add(n.ok + n.errs)
	if n.errs != 0 {
		t.cmdErrors.Add(n.errs)
	}
	if n.ok != 0 {
		t.cmdOK.Add(n.ok)
	}
	n.ok, n.errs = 0, 0
}
