package server

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/keys"
	"github.com/tcached/tcached/family/str"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/shard"
)

// Backed mode: Options.Backend set (Redis Cluster, package backing).
//
// The tenant's partition becomes its L1 cache of string values and the
// Backend is the store of record (L2). Each string and key command has a
// backed handler here (backedHandlers); commands on other types,
// transactions and pub/sub are refused with errNotBacked, since only
// strings are cached and kept coherent across tcached nodes.
//
//   - Reads: an L1 hit is served locally while the backend is Ready; a miss
//     loads value and expiry from L2 in one atomic step within the tier
//     timeout and fills L1 with that expiry, capped at l1MaxTTL. When L2
//     fails or times out the read answers as a miss (the command's miss
//     reply), and is counted.
//   - Writes: the L1 copy is dropped, the command runs in L2 (which decides
//     the reply, so every Redis error string is Redis's own), and the L1
//     copy is dropped again; the next read loads the new value. A failed
//     write answers an error and leaves no L1 copy.
//   - Coherence: the backend delivers every key change in L2 (by any node)
//     to invalidate. A fill races with invalidations through the stripe
//     counters: a reader notes the key's stripe (and the global epoch)
//     before asking L2 and drops its own fill if either moved meanwhile;
//     an invalidation moves the stripe before deleting. Either the fill
//     sees the move, or the delete comes after the fill: a value read
//     before a change is never served after the change is known.

const numStripes = 1 << 12

type l1Guard struct {
	epoch   atomic.Uint64
	stripes [numStripes]atomic.Uint64
	maxTTL  int64 // ms
}

func stripeOf(tenant string, db int, key []byte) int {
	return int((xxhash.Sum64(key) ^ xxhash.Sum64String(tenant) + uint64(db)*0x9E3779B97F4A7C15) & (numStripes - 1))
}

// invalidate is the backend's invalidation callback.
func (s *Server) invalidate(inv shard.Invalidation) {
	reg := s.reg.Load()
	if inv.All {
		s.l1.epoch.Add(1)
		for _, t := range reg.order {
			t.part.Flush(-1)
		}
		return
	}
	t := reg.tenants[inv.Tenant]
	if t == nil || inv.DB < 0 || inv.DB >= command.NumDBs {
		return
	}
	s.l1.stripes[stripeOf(t.id, inv.DB, inv.Key)].Add(1)
	t.part.Delete(inv.DB, inv.Key)
}

// dropL1 is a local write's invalidation of one key.
func (c *client) dropL1(db int, key []byte) {
	c.srv.l1.stripes[stripeOf(c.tenant.id, db, key)].Add(1)
	c.part().Delete(db, key)
}

// l2ctx bounds a command's L2 calls by the tenant tier's timeout.
func (c *client) l2ctx() (context.Context, context.CancelFunc) {
	d := c.tenant.cfg().Tier.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// scanCtx bounds the cluster-wide scans (KEYS, SCAN, DBSIZE, flushes).
func (s *Server) scanCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.scanTimeout)
}

// l1Get appends a string's L1 copy to dst when the backend is ready.
func (c *client) l1Get(dst, key []byte) ([]byte, bool) {
	if !c.srv.backend.Ready() {
		return dst, false
	}
	v, t, ok := c.part().GetString(dst, c.db, key)
	if !ok || t != shard.TypeString {
		return dst, false
	}
	c.tenant.l1Hits.Add(1)
	return v, true
}

type fillTicket struct {
	stripe int
	seq    uint64
	epoch  uint64
	ok     bool
}

func (c *client) fillTicket(db int, key []byte) fillTicket {
	i := stripeOf(c.tenant.id, db, key)
	ft := fillTicket{stripe: i, seq: c.srv.l1.stripes[i].Load(), epoch: c.srv.l1.epoch.Load()}
	ft.ok = c.srv.backend.Ready()
	return ft
}

// fill puts a value loaded from L2 into L1 unless an invalidation of its
// stripe (or of everything) arrived since ft was taken.
func (c *client) fill(ft fillTicket, db int, key []byte, ld shard.Loaded) {
	if !ft.ok {
		return
	}
	now := c.nowMs()
	exp := ld.ExpireAt
	if cap := now + c.srv.l1.maxTTL; exp == 0 || exp > cap {
		exp = cap
	}
	if exp <= now || c.part().Set(db, key, ld.Val, exp) != nil {
		return
	}
	g := &c.srv.l1
	if g.stripes[ft.stripe].Load() != ft.seq || g.epoch.Load() != ft.epoch || !c.srv.backend.Ready() {
		c.part().Delete(db, key)
	}
}

// load reads a key through L1, an L1 hit appended to dst. err is a Redis
// error reply from L2; any other L2 failure answers found false (a miss).
func (c *client) load(dst, key []byte) (val []byte, found bool, err error) {
	if v, ok := c.l1Get(dst, key); ok {
		return v, true, nil
	}
	ft := c.fillTicket(c.db, key)
	ctx, cancel := c.l2ctx()
	ld := c.srv.backend.Load(ctx, c.tenant.id, c.db, key)
	cancel()
	if ld.Err != nil {
		return nil, false, c.readFailed(ld.Err)
	}
	c.countLoad(ld.Found)
	if ld.Found {
		c.fill(ft, c.db, key, ld)
	}
	return ld.Val, ld.Found, nil
}

func (c *client) countLoad(found bool) {
	if found {
		c.tenant.l2Hits.Add(1)
	} else {
		c.tenant.l2Misses.Add(1)
	}
}

// readFailed returns err when it is an answer (a Redis error reply, to
// be passed on), and nil after counting a degraded read otherwise.
func (c *client) readFailed(err error) error {
	var re shard.ReplyError
	if errors.As(err, &re) {
		return err
	}
	c.tenant.l2Degraded.Add(1)
	return nil
}

// writeReply answers an L2 reply: strings as status when status is set,
// else as bulk strings.
func (c *client) writeReply(v any, status bool) {
	switch x := v.(type) {
	case nil:
		c.conn.WriteNull()
	case string:
		if status {
			c.conn.WriteString(x)
		} else {
			c.conn.WriteBulkString(x)
		}
	case int64:
		c.conn.WriteInt64(x)
	case []any:
		c.conn.WriteArray(len(x))
		for _, e := range x {
			c.writeReply(e, status)
		}
	default:
		c.conn.WriteError(errL2Failed) // no write command answers anything else
	}
}

// exec runs write requests in L2 under the tenant's L2 quota, dropping
// the L1 copies of keys before and after.
func (c *client) exec(reqs []shard.ExecReq, keys []shard.Key) []shard.Result {
	drop := func() {
		for _, k := range keys {
			c.dropL1(k.DB, k.Name)
		}
	}
	drop()
	ctx, cancel := c.l2ctx()
	res := c.srv.backend.Exec(ctx, c.tenant.id, c.tenant.cfg().Tier.L2Quota, c.db, reqs)
	cancel()
	drop()
	for _, r := range res {
		if errors.Is(r.Err, shard.ErrL2OverQuota) {
			c.tenant.l2OverQuota.Add(1)
		}
	}
	return res
}

// dbKeys names args[i] for each i in pos, in the selected db.
func (c *client) dbKeys(args [][]byte, pos []int) []shard.Key {
	keys := make([]shard.Key, len(pos))
	for i, p := range pos {
		keys[i] = shard.Key{DB: c.db, Name: args[p]}
	}
	return keys
}

func (c *client) defaultTTL() time.Duration {
	return time.Duration(c.tenant.defaultTTLms.Load()) * time.Millisecond
}

func argBytes(args [][]byte) int64 {
	var n int64
	for _, a := range args[1:] {
		n += int64(len(a))
	}
	return n
}

// execOne runs one single-key or same-slot write and answers it.
func (c *client) execOne(args [][]byte, keyPos []int, ttl time.Duration, grow int64, status bool) {
	res := c.exec([]shard.ExecReq{{Args: args, KeyPos: keyPos, DefaultTTL: ttl, Grow: grow}}, c.dbKeys(args, keyPos))[0]
	if res.Err != nil {
		c.replyStoreErr(res.Err)
		return
	}
	c.writeReply(res.Reply, status)
}

var k1pos = []int{1}

// --- strings ---

// bGet serves an L1 hit into c.x.Scratch, as cmdGet does: no allocation.
func bGet(c *client, args [][]byte) {
	v, found, err := c.load(c.x.Scratch[:0], args[1])
	switch {
	case err != nil:
		c.replyStoreErr(err)
	case !found:
		c.conn.WriteNull()
	default:
		c.conn.WriteBulk(v)
		c.x.KeepScratch(v)
	}
}

func bMGet(c *client, args [][]byte) {
	keys := args[1:]
	vals := make([][]byte, len(keys))
	found := make([]bool, len(keys))
	var miss [][]byte
	var missIdx []int
	var tickets []fillTicket
	for i, k := range keys {
		if v, ok := c.l1Get(nil, k); ok {
			vals[i], found[i] = v, true
			continue
		}
		miss = append(miss, k)
		missIdx = append(missIdx, i)
		tickets = append(tickets, c.fillTicket(c.db, k))
	}
	if len(miss) > 0 {
		ctx, cancel := c.l2ctx()
		lds := c.srv.backend.LoadMany(ctx, c.tenant.id, c.db, miss)
		cancel()
		for j, ld := range lds {
			i := missIdx[j]
			if ld.Err != nil {
				c.readFailed(ld.Err) // MGET answers nil for a key of another type, as Redis does
				continue
			}
			c.countLoad(ld.Found)
			if ld.Found {
				vals[i], found[i] = ld.Val, true
				c.fill(tickets[j], c.db, miss[j], ld)
			}
		}
	}
	c.conn.WriteArray(len(keys))
	for i := range keys {
		if found[i] {
			c.conn.WriteBulk(vals[i])
		} else {
			c.conn.WriteNull()
		}
	}
}

// withDefaultTTL appends PX <ttl> to a SET without an expiry option: the
// tier default replaces the key's TTL, as in the embedded store. SET's
// own syntax errors are left to Redis.
func withDefaultTTL(args [][]byte, ttl time.Duration) [][]byte {
	if ttl <= 0 {
		return args
	}
	for _, a := range args[3:] {
		if str.ExpireOptName(a) != "" || command.EqFold(a, "keepttl") {
			return args
		}
	}
	return append(args[:len(args):len(args)], []byte("PX"), strconv.AppendInt(nil, ttl.Milliseconds(), 10))
}

func bSet(c *client, args [][]byte) {
	get := false
	for _, a := range args[3:] {
		get = get || command.EqFold(a, "get")
	}
	ttl := c.defaultTTL()
	args = withDefaultTTL(args, ttl)
	c.execOne(args, k1pos, ttl, argBytes(args), !get)
}

// bWrite1 forwards a single-key write whose reply is not a status.
func bWrite1(c *client, args [][]byte) {
	c.execOne(args, k1pos, c.defaultTTL(), argBytes(args), false)
}

// bWrite1Status forwards a single-key write answering +OK (SETEX, PSETEX).
func bWrite1Status(c *client, args [][]byte) {
	c.execOne(args, k1pos, c.defaultTTL(), argBytes(args), true)
}

// bWriteNoTTL forwards a single-key write that sets the TTL itself
// (EXPIRE family, PERSIST, GETEX, GETDEL): no tier default is added.
func bWriteNoTTL(c *client, args [][]byte) {
	c.execOne(args, k1pos, 0, 0, false)
}

func bSetRange(c *client, args [][]byte) {
	off, _ := command.ParseInt(args[2])
	grow := argBytes(args)
	if off > 0 && off <= command.MaxStringLen {
		grow += off
	}
	c.execOne(args, k1pos, c.defaultTTL(), grow, false)
}

// bMSet splits MSET into one SET per key (per slot, pipelined): atomicity
// across keys is lost, as with Redis Cluster proxies.
func bMSet(c *client, args [][]byte) {
	if len(args)%2 != 1 {
		c.conn.WriteError(command.ErrWrongArgs("mset"))
		return
	}
	ttl := c.defaultTTL()
	n := (len(args) - 1) / 2
	reqs := make([]shard.ExecReq, n)
	keys := make([]shard.Key, n)
	for i := range n {
		k, v := args[1+2*i], args[2+2*i]
		a := withDefaultTTL([][]byte{[]byte("SET"), k, v}, ttl)
		reqs[i] = shard.ExecReq{Args: a, KeyPos: k1pos, DefaultTTL: ttl, Grow: int64(len(k) + len(v))}
		keys[i] = shard.Key{DB: c.db, Name: k}
	}
	for _, r := range c.exec(reqs, keys) {
		if r.Err != nil {
			c.replyStoreErr(r.Err)
			return
		}
	}
	c.conn.WriteString("OK")
}

// bMSetNX needs atomicity across its keys: it runs when they share a slot
// and answers CROSSSLOT otherwise.
func bMSetNX(c *client, args [][]byte) {
	if len(args)%2 != 1 {
		c.conn.WriteError(command.ErrWrongArgs("msetnx"))
		return
	}
	var pos []int
	for i := 1; i < len(args); i += 2 {
		pos = append(pos, i)
	}
	c.execOne(args, pos, c.defaultTTL(), argBytes(args), false)
}

// --- keys ---

// bDelete splits DEL/UNLINK per key and sums the deletions.
func bDelete(c *client, args [][]byte) {
	reqs := make([]shard.ExecReq, len(args)-1)
	pos := make([]int, len(args)-1)
	for i, k := range args[1:] {
		reqs[i] = shard.ExecReq{Args: [][]byte{args[0], k}, KeyPos: k1pos}
		pos[i] = i + 1
	}
	var sum int64
	for _, r := range c.exec(reqs, c.dbKeys(args, pos)) {
		if r.Err != nil {
			c.replyStoreErr(r.Err)
			return
		}
		x, _ := r.Reply.(int64)
		sum += x
	}
	c.conn.WriteInt64(sum)
}

// bCountKeys splits EXISTS/TOUCH per key and sums the answers; on an L2
// failure the keys count as missing (a degraded read).
func bCountKeys(c *client, args [][]byte) {
	reqs := make([]shard.ReadReq, len(args)-1)
	for i, k := range args[1:] {
		reqs[i] = shard.ReadReq{Args: [][]byte{args[0], k}, KeyPos: 1}
	}
	ctx, cancel := c.l2ctx()
	res := c.srv.backend.Read(ctx, c.tenant.id, c.db, reqs)
	cancel()
	var sum int64
	for _, r := range res {
		if r.Err != nil {
			if err := c.readFailed(r.Err); err != nil {
				c.replyStoreErr(err)
				return
			}
			continue
		}
		x, _ := r.Reply.(int64)
		sum += x
	}
	c.conn.WriteInt64(sum)
}

// read1 is a single-key read forwarded to L2 (TTL family, TYPE, STRLEN,
// GETRANGE, MEMORY USAGE): the key's position and whether a string reply
// is a status.
type read1 struct {
	keyPos int
	status bool
}

// handler answers the read; an L2 failure answers miss, the command's
// reply for missing keys (from the table), or the failure when it has none.
func (r1 read1) handler(miss command.Handler) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		c := x.Conn.(*client)
		ctx, cancel := c.l2ctx()
		r := c.srv.backend.Read(ctx, c.tenant.id, c.db, []shard.ReadReq{{Args: args, KeyPos: r1.keyPos}})[0]
		cancel()
		if r.Err == nil {
			c.writeReply(r.Reply, r1.status)
			return
		}
		if c.readFailed(r.Err) == nil && miss != nil {
			miss(x, args)
			return
		}
		c.replyStoreErr(r.Err)
	}
}

// bTwoKeys forwards RENAME/RENAMENX: both keys must share a slot.
func bTwoKeys(status bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		c.execOne(args, []int{1, 2}, 0, 0, status)
	}
}

// bCopy forwards COPY src dst [DB n] [REPLACE]; the L2 names carry the
// db, so the DB option becomes the destination's name.
func bCopy(c *client, args [][]byte) {
	db, replace, ok := keys.CopyOptions(&c.x, args)
	if !ok {
		return
	}
	out := [][]byte{args[0], args[1], args[2]}
	if replace {
		out = append(out, []byte("REPLACE"))
	}
	req := shard.ExecReq{Args: out, KeyPos: []int{1, 2}, DstDB: map[int]int{2: db}, Grow: argBytes(args)}
	res := c.exec([]shard.ExecReq{req}, []shard.Key{{DB: db, Name: args[2]}})[0]
	if res.Err != nil {
		c.replyStoreErr(res.Err)
		return
	}
	c.writeReply(res.Reply, false)
}

func bKeys(c *client, args [][]byte) {
	ctx, cancel := c.srv.scanCtx()
	keys, err := c.srv.backend.Keys(ctx, c.tenant.id, c.db, args[1])
	cancel()
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteArray(len(keys))
	for _, k := range keys {
		c.conn.WriteBulk(k)
	}
}

func bScan(c *client, args [][]byte) {
	cursor, ok := command.ParseUint(args[1])
	if !ok {
		c.conn.WriteError(command.ErrInvalidCursor)
		return
	}
	var rawMatch []byte
	typ := ""
	_, count, ok := command.ScanOptions(&c.x, args, 2, 10, func(opt []byte, rest [][]byte) int {
		switch {
		case command.EqFold(opt, "type") && len(rest) > 0:
			typ = string(command.LowerInto(nil, rest[0]))
			return 1
		case command.EqFold(opt, "match") && len(rest) > 0:
			rawMatch = rest[0]
			return 1
		}
		return -1
	})
	if !ok {
		return
	}
	ctx, cancel := c.l2ctx()
	next, keys, err := c.srv.backend.Scan(ctx, c.tenant.id, c.db, cursor, rawMatch, int64(count), typ)
	cancel()
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(command.Uitoa(next))
	c.conn.WriteArray(len(keys))
	for _, k := range keys {
		c.conn.WriteBulk(k)
	}
}

func bDBSize(c *client, args [][]byte) {
	ctx, cancel := c.srv.scanCtx()
	n, err := c.srv.backend.DBSize(ctx, c.tenant.id, c.db)
	cancel()
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt64(n)
}

func bRandomKey(c *client, args [][]byte) {
	ctx, cancel := c.srv.scanCtx()
	k, ok, err := c.srv.backend.RandomKey(ctx, c.tenant.id, c.db)
	cancel()
	switch {
	case err != nil:
		c.replyStoreErr(err)
	case !ok:
		c.conn.WriteNull()
	default:
		c.conn.WriteBulk(k)
	}
}

// flushTenant deletes a tenant's keys of db (every db when db < 0): in L2
// on every master when backed, and in L1.
func (s *Server) flushTenant(t *tenant, db int) (int64, error) {
	if s.backend == nil {
		return int64(t.part.Flush(db)), nil
	}
	ctx, cancel := s.scanCtx()
	n, err := s.backend.Flush(ctx, t.id, db)
	cancel()
	s.l1.epoch.Add(1) // fills in flight are dropped
	t.part.Flush(db)
	return n, err
}

func bFlush(all bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		if !flushOption(c, args) {
			return
		}
		db := c.db
		if all {
			db = -1
		}
		n, err := c.srv.flushTenant(c.tenant, db)
		if err != nil {
			c.replyStoreErr(err)
			return
		}
		c.srv.audit("command", c.tenant.id, c.userName(), c.addr, string(command.LowerInto(nil, args[0])), "ok", "db", db, "keys_removed", n)
		c.conn.WriteString("OK")
	}
}

func cmdNotBacked(c *client, args [][]byte) {
	c.conn.WriteError(errNotBacked(string(command.LowerInto(nil, args[0]))))
}

// backedHandlers maps each command served in backed mode to its handler.
func backedHandlers() map[string]func(*client, [][]byte) {
	return map[string]func(*client, [][]byte){
		"get": bGet, "mget": bMGet, "set": bSet,
		"setnx": bWrite1, "setex": bWrite1Status, "psetex": bWrite1Status,
		"mset": bMSet, "msetnx": bMSetNX,
		"getset": bWrite1, "getdel": bWriteNoTTL, "getex": bWriteNoTTL,
		"incr": bWrite1, "incrby": bWrite1, "decr": bWrite1, "decrby": bWrite1,
		"incrbyfloat": bWrite1, "append": bWrite1, "setrange": bSetRange,
		"del": bDelete, "unlink": bDelete, "exists": bCountKeys, "touch": bCountKeys,
		"expire": bWriteNoTTL, "pexpire": bWriteNoTTL, "expireat": bWriteNoTTL, "pexpireat": bWriteNoTTL,
		"persist": bWriteNoTTL,
		"rename":  bTwoKeys(true), "renamenx": bTwoKeys(false), "copy": bCopy,
		"keys": bKeys, "scan": bScan, "randomkey": bRandomKey, "dbsize": bDBSize,
		"flushdb": bFlush(false), "flushall": bFlush(true),
	}
}

// backedReads are the reads forwarded to L2 as they are.
var backedReads = map[string]read1{
	"strlen": {1, false}, "getrange": {1, false}, "type": {1, true},
	"ttl": {1, false}, "pttl": {1, false}, "expiretime": {1, false}, "pexpiretime": {1, false},
	"memory|usage": {2, false},
}

// applyBacked rewires the table for backed mode: backed handlers where
// they exist, errNotBacked for every other command on keys.
func (s *Server) applyBacked(rows []*command.Spec) {
	hs := backedHandlers()
	var walk func(r *command.Spec, refused bool)
	walk = func(r *command.Spec, refused bool) {
		// Transactions (L2 cannot run a tenant's MULTI atomically across
		// slots), pub/sub (it would be local to one tcached node) and SWAPDB
		// are refused although they name no key.
		refused = refused || r.Flags&command.NotBacked != 0
		if h, ok := hs[r.Name]; ok {
			r.Handler = withClient(h)
		} else if rd, ok := backedReads[r.Name]; ok {
			r.Handler = rd.handler(r.Miss)
		} else if r.FirstKey > 0 || refused {
			r.Handler = withClient(cmdNotBacked)
			r.Miss = nil
		}
		for _, sub := range r.Subs {
			walk(sub, refused)
		}
	}
	for _, r := range rows {
		walk(r, false)
	}
}

// tenantL2 is a tenant's backed-mode metrics; nil when not backed.
func (s *Server) tenantL2(t *tenant) *metrics.TenantL2 {
	if s.backend == nil {
		return nil
	}
	return &metrics.TenantL2{
		L1Hits: t.l1Hits.Load(), L2Hits: t.l2Hits.Load(), L2Misses: t.l2Misses.Load(),
		Degraded: t.l2Degraded.Load(), OverQuota: t.l2OverQuota.Load(),
		UsedBytes: s.backend.Usage(t.id), QuotaBytes: t.cfg().Tier.L2Quota,
	}
}
