package server

// Client-side caching: CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...]
// [BCAST] [OPTIN] [OPTOUT] [NOLOOP], CLIENT CACHING YES|NO, CLIENT
// GETREDIR, CLIENT TRACKINGINFO, and the invalidation messages, with
// Redis 7.0's semantics, per tenant.
//
// # Scope
//
// Each tenant has its own tracking table (tenant.trk, a tracking.Table):
// the keys its tracking connections read, and the BCAST prefixes they
// registered. A key is invalidated by the writes, expirations, evictions
// and flushes of the same tenant only, and the message goes to the
// tenant's connections only: an invalidation never names another
// tenant's key, whatever prefix (the empty one included) a connection
// registers. REDIRECT must name a connection of the caller's tenant
// (another tenant's id gets Redis's error for a client that does not
// exist), and a message is redirected only while the target is still
// bound to that tenant; otherwise the tracking connection is told the
// redirect is broken, as when the target closes. Key names are the
// tenant's own: the partition is the namespace, nothing is prefixed.
// A connection that AUTHs to another tenant, or RESETs, stops tracking.
//
// # When keys are remembered and invalidated
//
//   - A command whose row is Read, run by a connection tracking in the
//     default mode (OPTIN with CLIENT CACHING YES, OPTOUT without CLIENT
//     CACHING NO), remembers the keys its row declares (EachKey), before
//     its handler runs: a write that lands between the read and the
//     remembering cannot be missed (at worst an invalidation arrives for
//     a value the client already has). Inside a script, the first read
//     command remembers the script's declared keys, as Redis does.
//   - A command whose row is Write invalidates the keys it writes
//     (EachWrittenKey: the key positions, COPY's and SORT ... STORE's
//     destination, MOVE's key in both dbs, RENAME's two), after its
//     handler, inside EXEC and scripts too. Marking is conservative: a
//     write that changed nothing invalidates anyway (WATCH, in multi.go,
//     hears of actual changes only, from the partition).
//   - An expired key (found on access or by active expiry) and an evicted
//     one (LRU, a quota shrink) are reported by the partition
//     (shard.Partition.SetOnDrop) with its lock held; the key is taken
//     from the table there and its messages are sent after the command,
//     or by the next expiry round (100 ms).
//   - FLUSHDB, FLUSHALL, TENANT FLUSH and the HTTP invalidate send every
//     tracking connection of the tenant a null (all keys), and empty the
//     table.
//   - Backed mode's invalidations from other nodes invalidate the key, or
//     everything.
//
// In the default mode each key is its own message, as in Redis. BCAST
// sends one message per prefix for the keys one command (or one EXEC,
// one script, one expiry batch) modified under it. NOLOOP skips the
// writer's own writes (never expiry, eviction or flushes).
//
// # Delivery
//
// RESP3 connections get `>2 invalidate [keys]` pushes; a RESP2 REDIRECT
// target gets `message __redis__:invalidate [keys]` while it is in
// pub/sub mode, and nothing otherwise (Redis's rules). Messages go
// through the target's output queue, the pub/sub subscriber's
// (pubsub.go): a connection's own invalidations wait until its command's
// reply is queued, so they are never interleaved with a reply, and a
// target that does not read is disconnected at its output limit or when
// its tenant's client_memory is full, as a subscriber is. A RESP3
// REDIRECT target that has no queue yet gets one started for it by the
// delivering connection (dormant: pushQueue), and is woken from its read
// to adopt it (connLoop).
//
// # Bounds and accounting
//
// The table counts against the tenant's client_memory, not its quota. The
// quota is what the tenant stores and what eviction frees; the table is
// state the server holds because of what the tenant's connections read,
// which no key eviction frees, like its connections' buffers. Charged to
// the quota, a burst of tracked reads would evict the tenant's data. Two
// bounds apply, both as Redis's tracking-table-max-keys works: past
// tracking-table-max-keys (per tenant, CONFIG SET, Redis's default of 1M)
// keys, random keys are evicted from the table and their clients told,
// as if the keys had been modified; and a read never takes the tenant's
// client memory past its budget by what it adds to the table: while the
// pool is over budget, the table gives back at least what the read
// added, the same way. So a tenant that tracks millions of keys holds at
// most its client_memory (a few hundred thousand keys in an 8 MiB
// budget), and its clients are told what they may no longer cache.
// Tracking costs a tenant nobody tracks nothing but one atomic load per
// command (tenant.hooks), shared with MONITOR; a connection that does not
// track, one nil check.

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/tracking"
)

// trackOpts are a tracking session's options, replaced whole by CLIENT
// TRACKING ON while on (deliverers read them without a lock).
type trackOpts struct {
	redirect                     int64   // 0: none
	to                           *client // the redirect target as checked at CLIENT TRACKING ON
	bcast, optin, optout, noloop bool
	prefixes                     [][]byte // BCAST prefixes, in registration order
}

// trackState is one tracking session of a connection, from CLIENT
// TRACKING ON to OFF (or RESET, a rebinding AUTH, close). The tracking
// table refers to it, so entries of a session that ended are skipped.
type trackState struct {
	c      *client
	t      *tenant
	on     atomic.Bool
	opts   atomic.Pointer[trackOpts]
	broken atomic.Bool // the redirect target is gone (TRACKINGINFO)
	// caching is CLIENT CACHING YES|NO for the next command (connection
	// goroutine only).
	caching bool
}

// maxPendingBytes bounds the expired and evicted keys waiting for their
// messages; past it the tenant's tracking connections are sent a flush
// (all keys invalid), which is always correct.
const maxPendingBytes = 1 << 20

type pendingDrop struct {
	key     []byte
	holders []*trackState
}

// tenantTracking is a tenant's client-side caching state.
type tenantTracking struct {
	table   tracking.Table[*trackState]
	clients atomic.Int32 // tracking sessions on (hookTrack)
	charged atomic.Int64 // the table's bytes charged to the tenant's client_memory

	mu       sync.Mutex // guards sessions
	sessions map[*trackState]struct{}

	pmu          sync.Mutex // guards the fields below (a leaf: taken under sub-shard locks)
	pending      []pendingDrop
	pendingBytes int64
	overflow     bool
	pendingN     atomic.Int32 // pending is not empty
}

// trackCharge moves the table's charge to the tenant's client memory.
func (t *tenant) trackCharge(d int64) {
	if d != 0 {
		t.trk.charged.Add(d)
		t.cmem.used.Add(d)
	}
}

// Invalidation frames.

func appendKeysArray(b []byte, keys [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(keys)), 10)
	b = append(b, '\r', '\n')
	for _, k := range keys {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, '\r', '\n')
		b = append(b, k...)
		b = append(b, '\r', '\n')
	}
	return b
}

// invFrames builds an invalidation's two forms once, on demand: the
// RESP3 push and the RESP2 pub/sub message. keys nil: a flush (null).
type invFrames struct {
	keys   [][]byte
	r3, r2 []byte
}

func (f *invFrames) resp3() []byte {
	if f.r3 == nil {
		f.r3 = append(f.r3, ">2\r\n$10\r\ninvalidate\r\n"...)
		if f.keys == nil {
			f.r3 = append(f.r3, "_\r\n"...)
		} else {
			f.r3 = appendKeysArray(f.r3, f.keys)
		}
	}
	return f.r3
}

func (f *invFrames) resp2() []byte {
	if f.r2 == nil {
		f.r2 = append(f.r2, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
		if f.keys == nil {
			f.r2 = append(f.r2, "$-1\r\n"...)
		} else {
			f.r2 = appendKeysArray(f.r2, f.keys)
		}
	}
	return f.r2
}

func redirBrokenFrame(id int64) []byte {
	b := []byte(">2\r\n$21\r\ntracking-redir-broken\r\n:")
	b = strconv.AppendInt(b, id, 10)
	return append(b, '\r', '\n')
}

// isResp3 reads the connection's protocol from any goroutine.
func (c *client) isResp3() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resp3
}

// pushQueue returns c's output queue, starting a dormant one (adopted by
// c's goroutine when woken, connLoop) if it has none. Any goroutine.
func (c *client) pushQueue(t *tenant) *subscriber {
	if q := c.psRef.Load(); q != nil {
		return q
	}
	q := c.newQueue(t, false)
	q.target = true
	if !c.psRef.CompareAndSwap(nil, q) {
		return c.psRef.Load()
	}
	c.wakeForQueue()
	return q
}

// wakeForQueue makes c's goroutine, if it waits for input, adopt the
// queue started for it: its read returns at once (a past deadline), the
// loop sees wakeReq and resets the deadline. wakeMu orders this with the
// loop's reset, so a wake is never lost nor taken for a timeout.
func (c *client) wakeForQueue() {
	c.wakeMu.Lock()
	c.wakeReq.Store(true)
	c.hold.Conn.SetReadDeadline(time.Unix(1, 0))
	c.wakeMu.Unlock()
}

// adoptWoken runs on c's goroutine when wakeReq is set: it puts back the
// loop's read deadline and adopts the queue. It reports false when the
// connection must close.
func (s *Server) adoptWoken(c *client, readDL time.Time) bool {
	c.wakeMu.Lock()
	c.wakeReq.Store(false)
	c.hold.Conn.SetReadDeadline(readDL)
	c.wakeMu.Unlock()
	if q := c.psRef.Load(); q != nil && q != c.ps && q != s.deadQueue {
		c.adopt(q, false)
	}
	return !s.closing.Load() && !c.killed.Load()
}

// sendInvalidation delivers f to session st of tenant t: to st's
// connection in RESP3, to its REDIRECT target (RESP3, or RESP2 in
// pub/sub mode) while that is still a connection of t.
func (s *Server) sendInvalidation(t *tenant, st *trackState, f *invFrames) {
	o := st.opts.Load()
	target, redirected := st.c, false
	if o.redirect != 0 {
		to := o.to
		if to == nil || to.gone.Load() || to.tenantSnapshot() != t {
			st.broken.Store(true)
			if st.c.isResp3() && !st.c.gone.Load() {
				st.c.pushQueue(t).deliverFrame(redirBrokenFrame(o.redirect))
			}
			return
		}
		target, redirected = to, true
	}
	if target.gone.Load() {
		return
	}
	if target.isResp3() {
		target.pushQueue(t).deliverFrame(f.resp3())
	} else if redirected {
		if q := target.psRef.Load(); q != nil && q.subscribed.Load() {
			q.deliverFrame(f.resp2())
		}
	}
}

// deliverKey tells the holders of key that it changed; writer (nil for
// expiry, eviction and the table's own bound) is skipped by NOLOOP
// sessions.
func (s *Server) deliverKey(t *tenant, writer *client, key []byte, holders []*trackState) {
	var f *invFrames
	for _, st := range holders {
		if !st.on.Load() {
			continue
		}
		o := st.opts.Load()
		if o == nil || o.bcast || o.noloop && writer != nil && st.c == writer {
			continue
		}
		if f == nil {
			f = &invFrames{keys: [][]byte{key}}
		}
		s.sendInvalidation(t, st, f)
	}
}

// invalidateKey: key of t was written by writer (trackingInvalidateKey).
func (s *Server) invalidateKey(t *tenant, writer *client, key []byte) {
	var scratch [4]*trackState
	holders, freed := t.trk.table.Take(scratch[:0], key)
	if len(holders) == 0 {
		return
	}
	t.trackCharge(-freed)
	s.deliverKey(t, writer, key, holders)
}

// broadcast sends each BCAST session of t whose prefix covers some of
// keys one message with them.
func (s *Server) broadcast(t *tenant, writer *client, keys [][]byte) {
	for _, m := range t.trk.table.Broadcast(keys) {
		f := &invFrames{keys: m.Keys}
		for _, st := range m.Clients {
			if !st.on.Load() {
				continue
			}
			if o := st.opts.Load(); o == nil || o.noloop && writer != nil && st.c == writer {
				continue
			}
			s.sendInvalidation(t, st, f)
		}
	}
}

// trackFlush: every key of t is invalid (a flush, or too many drops to
// list): each tracking session gets a null, and the table is emptied.
func (s *Server) trackFlush(t *tenant) {
	t.trackCharge(-t.trk.table.Clear())
	t.trk.pmu.Lock()
	t.trk.pending, t.trk.pendingBytes, t.trk.overflow = nil, 0, false
	t.trk.pendingN.Store(0)
	t.trk.pmu.Unlock()
	t.trk.mu.Lock()
	sessions := make([]*trackState, 0, len(t.trk.sessions))
	for st := range t.trk.sessions {
		sessions = append(sessions, st)
	}
	t.trk.mu.Unlock()
	f := &invFrames{}
	for _, st := range sessions {
		if st.on.Load() {
			s.sendInvalidation(t, st, f)
		}
	}
}

// onDrop is t's partition's SetOnDrop function: an expired or evicted
// key. It runs under a sub-shard lock: it takes the key's holders from
// the table and queues the key; drainTracking sends the messages.
func (t *tenant) onDrop(db int, key []byte) {
	if t.hooks.Load()&hookTrack == 0 {
		return
	}
	holders, freed := t.trk.table.Take(nil, key)
	if len(holders) == 0 && !t.trk.table.HasPrefixes() {
		return
	}
	t.trackCharge(-freed)
	t.trk.pmu.Lock()
	if t.trk.pendingBytes+int64(len(key)) > maxPendingBytes {
		t.trk.overflow = true
	} else {
		t.trk.pending = append(t.trk.pending, pendingDrop{key: bytes.Clone(key), holders: holders})
		t.trk.pendingBytes += int64(len(key)) + 64
	}
	t.trk.pmu.Unlock()
	t.trk.pendingN.Store(1)
}

// drainTracking sends the messages of the keys t's partition dropped.
func (s *Server) drainTracking(t *tenant) {
	t.trk.pmu.Lock()
	items, over := t.trk.pending, t.trk.overflow
	t.trk.pending, t.trk.pendingBytes, t.trk.overflow = nil, 0, false
	t.trk.pendingN.Store(0)
	t.trk.pmu.Unlock()
	if over {
		s.trackFlush(t)
		return
	}
	keys := make([][]byte, 0, len(items))
	for _, it := range items {
		s.deliverKey(t, nil, it.key, it.holders)
		keys = append(keys, it.key)
	}
	if len(keys) > 0 && t.trk.table.HasPrefixes() {
		s.broadcast(t, nil, keys)
	}
}

// trackEvict evicts one random key from t's table, telling its holders
// as if it had been modified (trackingLimitUsedSlots); it returns the
// bytes freed, or false when the table is empty.
func (s *Server) trackEvict(t *tenant) (int64, bool) {
	key, holders, freed, ok := t.trk.table.Evict(nil)
	if !ok {
		return 0, false
	}
	t.trackCharge(-freed)
	s.deliverKey(t, nil, []byte(key), holders)
	return freed, true
}

// trackLimit brings t's table within tracking-table-max-keys (0: no
// limit but client memory), after a CONFIG SET or a read.
func (s *Server) trackLimit(t *tenant) {
	max := t.diag.vals[diagTrackingMax].Load()
	for max > 0 && int64(t.trk.table.Len()) > max {
		if _, ok := s.trackEvict(t); !ok {
			return
		}
	}
}

// trackRead remembers the keys a read command names for c's session
// (trackingRememberKeys), before the command runs, then keeps the table
// within its bounds.
func (s *Server) trackRead(c *client, cmd *command.Spec, args [][]byte) {
	st := c.trk
	o := st.opts.Load()
	if o.bcast || o.optin && !st.caching || o.optout && st.caching {
		return
	}
	t := st.t
	var grew int64
	cmd.EachKey(args, func(i int) { grew += t.trk.table.Remember(args[i], st) })
	if grew == 0 {
		return
	}
	t.trackCharge(grew)
	s.trackLimit(t)
	// The table never takes the tenant's client memory past its budget:
	// while it is over, the table gives back at least what it took.
	for freed := int64(0); freed < grew && t.cmem.used.Load() > t.cmem.limit.Load(); {
		n, ok := s.trackEvict(t)
		if !ok {
			break
		}
		freed += n
	}
}

// trackWrite invalidates the keys cmd writes; BCAST keys wait in c's
// batch until the command (the transaction, the script) ends.
func (s *Server) trackWrite(c *client, t *tenant, cmd *command.Spec, args [][]byte) {
	bcast := t.trk.table.HasPrefixes()
	cmd.EachWrittenKey(c.db, args, func(_ int, key []byte) {
		s.invalidateKey(t, c, key)
		if bcast {
			c.trkBatch = append(c.trkBatch, bytes.Clone(key))
		}
	})
}

// afterCommand runs the hooks of tenant.hooks after a command of t:
// tracking's invalidations and MONITOR. top is set for a command
// dispatch ran (not one inside EXEC or a script): the BCAST batch and
// the partition's drops are sent then. lua marks a script's command.
func (s *Server) afterCommand(c *client, t *tenant, cmd *command.Spec, args [][]byte, h uint32, top, lua bool) {
	if h&hookTrack != 0 {
		if cmd.Flags&command.Write != 0 {
			s.trackWrite(c, t, cmd, args)
		}
		if top {
			if len(c.trkBatch) > 0 {
				s.broadcast(t, c, c.trkBatch)
				clear(c.trkBatch)
				c.trkBatch = c.trkBatch[:0]
				if cap(c.trkBatch) > 1024 {
					c.trkBatch = nil
				}
			}
			if t.trk.pendingN.Load() != 0 {
				s.drainTracking(t)
			}
		}
	}
	if h&hookMonitor != 0 {
		s.feedMonitors(c, t, cmd, args, c.db, lua)
	}
}

// Errors of CLIENT TRACKING and CLIENT CACHING, as Redis 7.0 spells them.
const (
	errTrackRedirTwice   = "ERR A client can only redirect to a single other client"
	errTrackRedirMissing = "ERR The client ID you want redirect to does not exist"
	errTrackPrefixBcast  = "ERR PREFIX option requires BCAST mode to be enabled"
	errTrackSwitchBcast  = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	errTrackOptBcast     = "ERR OPTIN and OPTOUT are not compatible with BCAST"
	errTrackOptBoth      = "ERR You can't specify both OPTIN mode and OPTOUT mode"
	errTrackSwitchOpt    = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	errCachingNoTracking = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
	errCachingYes        = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
	errCachingNo         = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
)

func errPrefixOverlapExisting(p, q []byte) string {
	return "ERR Prefix '" + string(p) + "' overlaps with an existing prefix '" + string(q) + "'. Prefixes for a single client must not overlap."
}

func errPrefixOverlapOther(p, q []byte) string {
	return "ERR Prefix '" + string(p) + "' overlaps with another provided prefix '" + string(q) + "'. Prefixes for a single client must not overlap."
}

// prefixesOverlap is Redis's stringCheckPrefix: one is a prefix of the
// other.
func prefixesOverlap(a, b []byte) bool {
	n := min(len(a), len(b))
	return bytes.Equal(a[:n], b[:n])
}

// cmdClientTracking: CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST]
// [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], checked in Redis's order.
func cmdClientTracking(c *client, args [][]byte) {
	o := &trackOpts{}
	var prefixes [][]byte
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case command.EqFold(args[j], "redirect") && more > 0:
			j++
			if o.redirect != 0 {
				c.conn.WriteError(errTrackRedirTwice)
				return
			}
			id, ok := command.ParseInt(args[j])
			if !ok {
				c.conn.WriteError(command.ErrNotInteger)
				return
			}
			// The target must exist now, and be a connection of the
			// caller's tenant: another tenant's ids name nothing.
			to := c.srv.tenantClient(c.tenant, id)
			if to == nil {
				c.conn.WriteError(errTrackRedirMissing)
				return
			}
			o.redirect, o.to = id, to
		case command.EqFold(args[j], "bcast"):
			o.bcast = true
		case command.EqFold(args[j], "optin"):
			o.optin = true
		case command.EqFold(args[j], "optout"):
			o.optout = true
		case command.EqFold(args[j], "noloop"):
			o.noloop = true
		case command.EqFold(args[j], "prefix") && more > 0:
			j++
			prefixes = append(prefixes, args[j])
		default:
			c.conn.WriteError(command.ErrSyntax)
			return
		}
	}
	switch {
	case command.EqFold(args[2], "on"):
	case command.EqFold(args[2], "off"):
		c.trackOff()
		c.conn.WriteString("OK")
		return
	default:
		c.conn.WriteError(command.ErrSyntax)
		return
	}
	var cur *trackOpts
	if c.trk != nil {
		cur = c.trk.opts.Load()
	}
	switch {
	case !o.bcast && len(prefixes) > 0:
		c.conn.WriteError(errTrackPrefixBcast)
		return
	case cur != nil && cur.bcast != o.bcast:
		c.conn.WriteError(errTrackSwitchBcast)
		return
	case o.bcast && (o.optin || o.optout):
		c.conn.WriteError(errTrackOptBcast)
		return
	case o.optin && o.optout:
		c.conn.WriteError(errTrackOptBoth)
		return
	case cur != nil && (o.optin && cur.optout || o.optout && cur.optin):
		c.conn.WriteError(errTrackSwitchOpt)
		return
	}
	if o.bcast {
		for i, p := range prefixes {
			if cur != nil {
				for _, q := range cur.prefixes {
					if prefixesOverlap(q, p) {
						c.conn.WriteError(errPrefixOverlapExisting(p, q))
						return
					}
				}
			}
			for _, q := range prefixes[i+1:] {
				if prefixesOverlap(p, q) {
					c.conn.WriteError(errPrefixOverlapOther(p, q))
					return
				}
			}
		}
		if len(prefixes) == 0 {
			prefixes = [][]byte{{}}
		}
	}
	c.trackOn(o, prefixes)
	c.conn.WriteString("OK")
}

// trackOn starts (or changes) the connection's tracking session
// (enableTracking): the options are replaced, the prefixes added to
// those it has.
func (c *client) trackOn(o *trackOpts, prefixes [][]byte) {
	t := c.tenant
	st := c.trk
	fresh := st == nil
	if fresh {
		// Not on until its options are stored (below): the table may hand
		// the session to a deliverer as soon as a prefix is added.
		st = &trackState{c: c, t: t}
		c.trk = st
		c.trkRef.Store(st)
		t.trk.mu.Lock()
		if t.trk.sessions == nil {
			t.trk.sessions = make(map[*trackState]struct{})
		}
		t.trk.sessions[st] = struct{}{}
		t.trk.mu.Unlock()
		t.trk.clients.Add(1)
		c.srv.refreshHooks(t)
	}
	if cur := st.opts.Load(); cur != nil {
		o.prefixes = append(o.prefixes, cur.prefixes...)
	}
	for _, p := range prefixes {
		if grew := t.trk.table.AddPrefix(p, st); grew > 0 {
			t.trackCharge(grew)
			o.prefixes = append(o.prefixes, bytes.Clone(p))
		}
	}
	st.broken.Store(false)
	st.opts.Store(o)
	if fresh {
		st.on.Store(true)
	}
	if c.conn.RESP3 {
		c.pubsub() // the queue its pushes go through (pubsub.go)
	}
}

// trackOff ends the connection's tracking session (CLIENT TRACKING OFF,
// RESET, a rebinding AUTH, close). Its entries in the table are dropped
// lazily; when the tenant's last session ends the table is emptied.
func (c *client) trackOff() {
	st := c.trk
	if st == nil {
		return
	}
	t := st.t
	st.on.Store(false)
	for _, p := range st.opts.Load().prefixes {
		t.trackCharge(-t.trk.table.RemovePrefix(p, st))
	}
	t.trk.mu.Lock()
	delete(t.trk.sessions, st)
	left := len(t.trk.sessions)
	if left == 0 {
		t.trk.sessions = nil
	}
	t.trk.mu.Unlock()
	t.trk.clients.Add(-1)
	c.trk = nil
	c.trkRef.Store(nil)
	c.srv.refreshHooks(t)
	if left == 0 {
		c.srv.trackFlushQuiet(t)
	}
}

// trackFlushQuiet empties t's table with nobody left to tell.
func (s *Server) trackFlushQuiet(t *tenant) {
	t.trackCharge(-t.trk.table.Clear())
	t.trk.pmu.Lock()
	t.trk.pending, t.trk.pendingBytes, t.trk.overflow = nil, 0, false
	t.trk.pendingN.Store(0)
	t.trk.pmu.Unlock()
}

// cmdClientCaching: CLIENT CACHING YES|NO, for the next command.
func cmdClientCaching(c *client, args [][]byte) {
	st := c.trk
	if st == nil {
		c.conn.WriteError(errCachingNoTracking)
		return
	}
	o := st.opts.Load()
	switch {
	case command.EqFold(args[2], "yes"):
		if !o.optin {
			c.conn.WriteError(errCachingYes)
			return
		}
	case command.EqFold(args[2], "no"):
		if !o.optout {
			c.conn.WriteError(errCachingNo)
			return
		}
	default:
		c.conn.WriteError(command.ErrSyntax)
		return
	}
	st.caching = true
	c.conn.WriteString("OK")
}

// cmdClientGetRedir: CLIENT GETREDIR, the redirect id, 0 without one, -1
// when not tracking.
func cmdClientGetRedir(c *client, args [][]byte) {
	if c.trk == nil {
		c.conn.WriteInt(-1)
		return
	}
	c.conn.WriteInt64(c.trk.opts.Load().redirect)
}

// cmdClientTrackingInfo: CLIENT TRACKINGINFO, a map of flags, redirect
// and prefixes.
func cmdClientTrackingInfo(c *client, args [][]byte) {
	c.conn.WriteMap(3)
	c.conn.WriteBulkString("flags")
	st := c.trk
	if st == nil {
		c.conn.WriteSet(1)
		c.conn.WriteBulkString("off")
		c.conn.WriteBulkString("redirect")
		c.conn.WriteInt(-1)
		c.conn.WriteBulkString("prefixes")
		c.conn.WriteArray(0)
		return
	}
	o := st.opts.Load()
	flags := []string{"on"}
	if o.bcast {
		flags = append(flags, "bcast")
	}
	if o.optin {
		flags = append(flags, "optin")
		if st.caching {
			flags = append(flags, "caching-yes")
		}
	}
	if o.optout {
		flags = append(flags, "optout")
		if st.caching {
			flags = append(flags, "caching-no")
		}
	}
	if o.noloop {
		flags = append(flags, "noloop")
	}
	if st.broken.Load() {
		flags = append(flags, "broken_redirect")
	}
	c.conn.WriteSet(len(flags))
	for _, f := range flags {
		c.conn.WriteBulkString(f)
	}
	c.conn.WriteBulkString("redirect")
	c.conn.WriteInt64(o.redirect)
	c.conn.WriteBulkString("prefixes")
	c.conn.WriteArray(len(o.prefixes))
	for _, p := range o.prefixes {
		c.conn.WriteBulk(p)
	}
}
