package backed

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// Options tune a Mode.
type Options struct {
	// L1MaxTTL caps how long an L1 copy is served without asking L2 again;
	// 0 means 10s.
	L1MaxTTL time.Duration
	// ScanTimeout bounds the cluster-wide scans (KEYS, DBSIZE, RANDOMKEY,
	// flushes); 0 means 5s.
	ScanTimeout time.Duration
}

// Stats are one tenant's backed-mode counters: L1 hits, L2 hits and misses
// of reads that missed L1, reads answered as misses because L2 failed, and
// writes refused by the L2 quota.
type Stats struct {
	L1Hits, L2Hits, L2Misses, Degraded, OverQuota atomic.Int64
}

// Tenant is a connection's tenant as the backed handlers see it.
type Tenant struct {
	ID      string        // the tenant's name in L2
	Stats   *Stats        // its counters
	Timeout time.Duration // its tier's timeout: bounds each command's L2 calls (0: 5s)
	Quota   int64         // its tier's L2 quota in bytes (0: none)
	// L1CollMax is the largest collection cached in L1 (its tier's
	// l1_collection_max; 0: none, coll.go).
	L1CollMax int64
	// Watching: the connection WATCHes keys, so its reads skip L1. What
	// it reads must be no older than the fingerprints WATCH took in L2:
	// an L1 copy that another node's write has not yet invalidated would
	// let the EXEC that follows write over a change it never saw (the
	// fingerprints match, the value read was stale).
	Watching bool
}

// Conn is what a backed handler needs of its connection beyond
// command.Conn: package server's client implements both.
type Conn interface {
	command.Conn
	// L2Tenant is the connection's tenant, read once per command (a reload
	// may change its tier).
	L2Tenant() Tenant
}

const numStripes = 1 << 12

// Mode is the backed mode of one server: the Backend, and the counters
// that keep L1 fills coherent with invalidations.
type Mode struct {
	be          Backend
	epoch       atomic.Uint64
	stripes     [numStripes]atomic.Uint64
	big         bigKeys // collections found over l1_collection_max (coll.go)
	maxTTL      int64   // ms
	scanTimeout time.Duration
	slots       slotState       // which slots L1 serves (slots.go)
	at          Atomic          // be's transactions, scripts and pub/sub (atomic.go); nil: refused
	scriptable  []ScriptCommand // the commands a backed script may call (script.go)
}

// New is the backed mode over be.
func New(be Backend, o Options) *Mode {
	m := &Mode{be: be, maxTTL: o.L1MaxTTL.Milliseconds(), scanTimeout: o.ScanTimeout}
	m.slots.init()
	if m.maxTTL <= 0 {
		m.maxTTL = 10_000
	}
	if m.scanTimeout <= 0 {
		m.scanTimeout = 5 * time.Second
	}
	m.at, _ = be.(Atomic)
	return m
}

// Backend is the store of record.
func (m *Mode) Backend() Backend { return m.be }

func stripeOf(tenant string, db int, key []byte) int {
	return int((xxhash.Sum64(key) ^ xxhash.Sum64String(tenant) + uint64(db)*0x9E3779B97F4A7C15) & (numStripes - 1))
}

// Drop is an invalidation of one key of a tenant whose L1 is part: the
// key changed in L2.
func (m *Mode) Drop(tenant string, part *shard.Partition, db int, key []byte) {
	m.stripes[stripeOf(tenant, db, key)].Add(1)
	part.Delete(db, key)
}

// DropAll drops every L1 copy of every tenant (parts): fills in flight
// are dropped too.
func (m *Mode) DropAll(parts []*shard.Partition) {
	m.epoch.Add(1)
	for _, p := range parts {
		p.Flush(-1)
	}
}

// Flush deletes a tenant's keys of db (every db when db < 0) in L2, on
// every master, and in its L1.
func (m *Mode) Flush(tenant string, part *shard.Partition, db int) (int64, error) {
	ctx, cancel := m.scanCtx()
	n, err := m.be.Flush(ctx, tenant, db)
	cancel()
	m.epoch.Add(1) // fills in flight are dropped
	part.Flush(db)
	return n, err
}

// scanCtx bounds the cluster-wide scans (KEYS, SCAN, DBSIZE, flushes).
func (m *Mode) scanCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), m.scanTimeout)
}

// Apply rewires rows for backed mode from each row's Backed: the mode's
// handler where it has one, refused for every other row that names keys
// or is BackedRefused (subcommands inherit the refusal). A row naming no
// key keeps its handler (PING, CLIENT ..., FLUSHDB, which reaches L2
// itself). refuse answers a refused command.
func (m *Mode) Apply(rows []*command.Spec, refuse command.Handler) {
	var walk func(r *command.Spec, refused bool)
	walk = func(r *command.Spec, refused bool) {
		refused = refused || r.Backed == command.BackedRefused
		if r.Backed == command.BackedServer && !refused {
			// the server's handler stays: it asks this package for L2
		} else if h := m.handler(r); h != nil {
			m.noteScriptable(r) // script.go
			r.Handler = h
		} else if h := m.collHandler(r); h != nil && collDefault(r, refused) {
			r.Handler = h // coll.go: a keyed row without a mode
		} else if r.FirstKey > 0 || refused {
			r.Handler = refuse
			r.Miss = nil
		}
		for _, sub := range r.Subs {
			walk(sub, refused)
		}
	}
	for _, r := range rows {
		walk(r, false)
	}
	if m.at != nil {
		m.at.SetScriptCommands(m.scriptable)
	}
}

// handler is the backed handler of r's mode; nil for BackedLocal and
// BackedRefused.
func (m *Mode) handler(r *command.Spec) command.Handler {
	switch r.Backed {
	case command.BackedGet:
		return m.get
	case command.BackedMGet:
		return m.mget
	case command.BackedSet:
		return m.set
	case command.BackedWrite:
		return m.write1(false, true)
	case command.BackedWriteStatus:
		return m.write1(true, true)
	case command.BackedWriteNoTTL:
		return m.write1(false, false)
	case command.BackedSetRange:
		return m.setRange
	case command.BackedMSet:
		return m.mset
	case command.BackedMSetNX:
		return m.msetnx
	case command.BackedDelete:
		return m.del
	case command.BackedCount:
		return m.count
	case command.BackedRename:
		return m.twoKeys(true)
	case command.BackedRenameNX:
		return m.twoKeys(false)
	case command.BackedCopy:
		return m.copy
	case command.BackedKeys:
		return m.keys
	case command.BackedScan:
		return m.scan
	case command.BackedRandomKey:
		return m.randomKey
	case command.BackedDBSize:
		return m.dbsize
	case command.BackedRead:
		return m.read(r.FirstKey, false, r.Miss)
	case command.BackedReadStatus:
		return m.read(r.FirstKey, true, r.Miss)
	case command.BackedFwdRead, command.BackedFwdWrite, command.BackedBlock, command.BackedBlockNum, command.BackedBlockXRd:
		return m.collHandler(r)
	}
	return nil
}

// call is one command's view of its connection and tenant.
type call struct {
	m *Mode
	x *command.Ctx
	t Tenant
}

func (m *Mode) call(x *command.Ctx) call {
	return call{m: m, x: x, t: x.Conn.(Conn).L2Tenant()}
}

// l2ctx bounds a command's L2 calls by the tenant tier's timeout.
func (c call) l2ctx() (context.Context, context.CancelFunc) {
	d := c.t.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// l1Get appends a string's L1 copy to dst when its slot is served (and
// the connection watches nothing: Tenant.Watching).
func (c call) l1Get(dst, key []byte) ([]byte, bool) {
	if c.t.Watching || !c.m.servable(c.t.ID, c.x.DB, key) {
		return dst, false
	}
	v, t, ok := c.x.Part.GetString(dst, c.x.DB, key)
	if !ok || t != shard.TypeString {
		return dst, false
	}
	c.t.Stats.L1Hits.Add(1)
	return v, true
}

type fillTicket struct {
	stripe int
	seq    uint64
	epoch  uint64
	ok     bool
}

func (c call) fillTicket(db int, key []byte) fillTicket {
	i := stripeOf(c.t.ID, db, key)
	return fillTicket{stripe: i, seq: c.m.stripes[i].Load(), epoch: c.m.epoch.Load(), ok: c.m.servable(c.t.ID, db, key)}
}

// fill puts a value loaded from L2 into L1 unless an invalidation of its
// stripe (or of everything, or of any slot) arrived since ft was taken,
// and its slot is still served.
func (c call) fill(ft fillTicket, db int, key []byte, ld Loaded) {
	if !ft.ok {
		return
	}
	now := c.x.NowMs()
	exp := ld.ExpireAt
	if cap := now + c.m.maxTTL; exp == 0 || exp > cap {
		exp = cap
	}
	if exp <= now || c.x.Part.Set(db, key, ld.Val, exp) != nil {
		return
	}
	if c.m.stripes[ft.stripe].Load() != ft.seq || c.m.epoch.Load() != ft.epoch || !c.m.servable(c.t.ID, db, key) {
		c.x.Part.Delete(db, key)
	}
}

// load reads a key through L1, an L1 hit appended to dst. err is a Redis
// error reply from L2; any other L2 failure answers found false (a miss).
func (c call) load(dst, key []byte) (val []byte, found bool, err error) {
	if v, ok := c.l1Get(dst, key); ok {
		return v, true, nil
	}
	ft := c.fillTicket(c.x.DB, key)
	ctx, cancel := c.l2ctx()
	ld := c.m.be.Load(ctx, c.t.ID, c.x.DB, key)
	cancel()
	if ld.Err != nil {
		return nil, false, c.readFailed(ld.Err)
	}
	c.countLoad(ld.Found)
	if ld.Found {
		c.fill(ft, c.x.DB, key, ld)
	}
	return ld.Val, ld.Found, nil
}

func (c call) countLoad(found bool) {
	if found {
		c.t.Stats.L2Hits.Add(1)
	} else {
		c.t.Stats.L2Misses.Add(1)
	}
}

// readFailed returns err when it is an answer (a Redis error reply, to
// be passed on), and nil after counting a degraded read otherwise.
func (c call) readFailed(err error) error {
	var re ReplyError
	if errors.As(err, &re) {
		return err
	}
	c.t.Stats.Degraded.Add(1)
	return nil
}

// writeReply answers an L2 reply: strings as status when status is set,
// else as bulk strings.
func (c call) writeReply(v any, status bool) {
	w := c.x.W
	switch x := v.(type) {
	case nil:
		w.WriteNull()
	case string:
		if status {
			w.WriteString(x)
		} else {
			w.WriteBulkString(x)
		}
	case int64:
		w.WriteInt64(x)
	case []any:
		w.WriteArray(len(x))
		for _, e := range x {
			c.writeReply(e, status)
		}
	case error: // an error inside an array (a script's or EXEC's reply)
		w.WriteError(x.Error())
	default:
		w.WriteError(ErrL2Failed) // no write command answers anything else
	}
}

// exec runs write requests in L2 under the tenant's L2 quota, dropping
// the L1 copies of keys before and after.
func (c call) exec(reqs []ExecReq, keys []shard.Key) []Result {
	drop := func() {
		for _, k := range keys {
			c.m.Drop(c.t.ID, c.x.Part, k.DB, k.Name)
		}
	}
	drop()
	ctx, cancel := c.l2ctx()
	res := c.m.be.Exec(ctx, c.t.ID, c.t.Quota, c.x.DB, reqs)
	cancel()
	drop()
	for _, r := range res {
		if errors.Is(r.Err, ErrL2OverQuota) {
			c.t.Stats.OverQuota.Add(1)
		}
	}
	return res
}

// dbKeys names args[i] for each i in pos, in the selected db.
func (c call) dbKeys(args [][]byte, pos []int) []shard.Key {
	keys := make([]shard.Key, len(pos))
	for i, p := range pos {
		keys[i] = shard.Key{DB: c.x.DB, Name: args[p]}
	}
	return keys
}

// defaultTTL is the tier's default TTL (0: none).
func (c call) defaultTTL() time.Duration {
	return time.Duration(c.x.TTL.Load()) * time.Millisecond
}

// execOne runs one single-key or same-slot write and answers it.
func (c call) execOne(args [][]byte, keyPos []int, ttl time.Duration, grow int64, status bool) {
	res := c.exec([]ExecReq{{Args: args, KeyPos: keyPos, DefaultTTL: ttl, Grow: grow}}, c.dbKeys(args, keyPos))[0]
	if res.Err != nil {
		c.x.StoreErr(res.Err)
		return
	}
	c.writeReply(res.Reply, status)
}

func argBytes(args [][]byte) int64 {
	var n int64
	for _, a := range args[1:] {
		n += int64(len(a))
	}
	return n
}
