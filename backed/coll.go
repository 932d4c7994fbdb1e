package backed

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/dump"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
)

// Collections, bitmaps, HyperLogLog, streams, geo and SORT in backed mode.
//
// # Replies
//
// A Lua script flattens replies (RESP3 maps lose their order, a null
// inside an array is a hole, integers pass through a double), so these
// modes do not run commands inside a script. The Forwarder sends the
// command itself on a connection of the client's own protocol (RESP2 or
// RESP3) to the master of its slot and hands back the reply's bytes as
// Redis wrote them: every reply shape of every command is Redis 7's by
// construction, with no per-command table to keep in step.
//
// # Writes
//
// A write runs in L2 as MULTI, a script that notes each key's size and
// expiry (in a scratch key of the same slot), the command, a script that
// compares them with the new ones (and gives a key the command left
// without a TTL the tier's default TTL, as the embedded store does), and
// EXEC: atomic per command, and the tenant's L2 usage moves by exactly
// what the command changed. The command's reply is EXEC's second element,
// still in the client's protocol. Inside MULTI a blocking command does not
// block, which gives the blocking commands their non-blocking form with
// the blocking reply shapes (BLPOP's key and element, its null array).
//
// A collection's size is Redis's MEMORY USAGE with SAMPLES 5: exact for
// the compact encodings (the listpack's bytes), an estimate from 5
// elements for the big ones, and O(1) in both cases, so a write to a
// million-element set does not pay a walk of the set twice. It includes
// Redis's own overhead for the key, which the quota counts once more
// (about 100 bytes per key): an over-count, on the safe side of a quota.
// Strings keep STRLEN, so a string's size is what it was before.
//
// # Blocking
//
// A blocking command first runs its non-blocking form in L2. When that
// finds nothing the client parks on its keys in this node's blocked-client
// registry (Conn.Block), and the server signals the registry from the
// invalidation callback: the backend delivers every change of a key in L2,
// by any tcached node, so a push through node B wakes a client parked on
// node A, which runs the non-blocking form again, until its timeout.
// XREAD's $ is resolved to the stream's last ID before the first attempt,
// so a retry reads what arrived after the call, as Redis's $ does.

// Forwarder is the raw path of the collection modes, implemented by the
// Backend (backing.Cluster) next to Backend's own methods (a separate
// interface, so test doubles of Backend need not implement it). A Backend
// without it refuses the collection commands.
type Forwarder interface {
	// Forward runs one command in L2 and returns its reply encoded in the
	// client's protocol, with the key names of errors and of EchoKeys
	// replies restored to the client's. Err is a failure of the backend
	// (ErrCrossSlot, ErrL2OverQuota, ErrBackendUnavailable, a timeout or
	// one wrapping ErrBackendFailed); Redis's error replies are in Raw.
	Forward(ctx context.Context, req FwdReq) FwdResult
	// LoadColl reads a key's DUMP payload and absolute expiry (unix ms, 0
	// for none) in one atomic step, unless its MEMORY USAGE or its payload
	// is over max bytes (Big).
	LoadColl(ctx context.Context, tenant string, db int, key []byte, max int64) CollLoaded
}

// CollLoaded is a key read by LoadColl.
type CollLoaded struct {
	Payload  []byte
	ExpireAt int64
	Found    bool
	Big      bool
	Err      error
}

// FwdReq is one command for the Forwarder.
type FwdReq struct {
	Tenant string
	DB     int
	Args   [][]byte // the command as the client sent it
	KeyPos []int    // the positions of its keys in Args (all in one slot)
	RESP3  bool     // the client's protocol
	// Write runs the command atomically with its size and expiry report
	// (MULTI ... EXEC); a read is sent alone.
	Write bool
	// EchoKeys: the reply names keys (BLPOP, LMPOP, XREAD ...): names in
	// its first two levels are restored to the client's.
	EchoKeys   bool
	Quota      int64         // the tenant's L2 quota (0: none)
	MaxReply   int64         // the largest reply accepted (0: the Forwarder's bound)
	Grow       int64         // bytes the write may add
	DefaultTTL time.Duration // the tier's default TTL (0: none)
}

// FwdResult is a forwarded command's reply.
type FwdResult struct {
	Raw []byte
	// Null: the reply is a null (nothing popped, nothing read), for the
	// blocking modes' retries.
	Null bool
	Err  error
}

// collHandler is the handler of the collection modes.
func (m *Mode) collHandler(r *command.Spec) command.Handler {
	fw, ok := m.be.(Forwarder)
	if !ok {
		return func(x *command.Ctx, _ [][]byte) {
			name, _, _ := strings.Cut(x.Spec.Name, "|")
			x.W.WriteError(ErrNotBacked(name))
		}
	}
	var h command.Handler
	switch {
	case r.Backed == command.BackedBlock, r.Backed == command.BackedBlockNum, r.Backed == command.BackedBlockXRd:
		h = m.block(fw, r.Backed)
	case r.Backed == command.BackedFwdWrite,
		r.Backed == command.BackedLocal && r.Flags&command.Write != 0:
		h = m.fwd(fw, true)
	default:
		h = m.fwd(fw, false)
	}
	// A command whose keys cannot be found (a bad numkeys, XREAD's
	// unbalanced STREAMS) is an error: the embedded handler answers it
	// over the tenant's L1, which it cannot change, rather than L2 running
	// a command whose arguments were not put in the tenant's namespace.
	local := r.Handler
	cached := r.Backed != command.BackedBlock && r.Backed != command.BackedBlockNum && r.Backed != command.BackedBlockXRd &&
		r.Flags&command.Write == 0 && r.Backed != command.BackedFwdWrite
	return func(x *command.Ctx, args [][]byte) {
		n := 0
		var key []byte
		x.Spec.EachKey(args, func(i int) { n++; key = args[i] })
		switch {
		case n == 0 && local != nil:
			local(x, args)
		case n == 1 && cached && local != nil && m.cachedRead(fw, local, x, args, key):
		default:
			h(x, args)
		}
	}
}

// cachedRead serves a one-key read from L1 (package doc, "L1 caching of
// collections"): the embedded handler over an L1 copy, loaded from L2
// with DUMP when the key is missing and small enough. false: not served,
// forward it.
func (m *Mode) cachedRead(fw Forwarder, local command.Handler, x *command.Ctx, args [][]byte, key []byte) bool {
	c := m.call(x)
	if c.t.L1CollMax <= 0 || c.t.Watching {
		return false
	}
	ft := c.fillTicket(x.DB, key)
	if !ft.ok {
		return false
	}
	bk := bigKey(c.t.ID, x.DB, key)
	if m.big.known(bk, ft) {
		return false // still big: read through without asking its size again
	}
	if x.Part.View(x.DB, key, 0, nil) {
		if c.serveL1(local, ft, key, args) {
			c.t.Stats.L1Hits.Add(1)
			return true
		}
		return false
	}
	ctx, cancel := c.l2ctx()
	ld := fw.LoadColl(ctx, c.t.ID, x.DB, key, c.t.L1CollMax)
	cancel()
	if ld.Big {
		m.big.note(bk, ft)
	}
	if ld.Err != nil || ld.Big {
		return false // read through: the forwarded read answers, or fails, as usual
	}
	c.countLoad(ld.Found)
	if ld.Found && !c.fillEntry(ft, key, ld, c.t.L1CollMax) {
		return false
	}
	return c.serveL1(local, ft, key, args)
}

// fillEntry puts a loaded collection into L1 (expiry capped at
// l1_max_ttl), unless an invalidation of its stripe arrived since ft.
func (c call) fillEntry(ft fillTicket, key []byte, ld CollLoaded, max int64) bool {
	budget := 8 * max // decoding may not allocate more than this
	e, err := dump.EntryFromPayload(ld.Payload, c.x.Limits(), func(n int) bool {
		budget -= int64(n)
		return budget >= 0
	})
	if err != nil {
		return false
	}
	now := c.x.NowMs()
	e.ExpireAt = ld.ExpireAt
	if cap := now + c.m.maxTTL; e.ExpireAt == 0 || e.ExpireAt > cap {
		e.ExpireAt = cap
	}
	if e.ExpireAt <= now {
		return false
	}
	err = c.x.Part.Mutate(c.x.DB, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if exists {
			return cur, shard.Keep, nil // filled meanwhile
		}
		return e, shard.Put, nil
	})
	if err != nil {
		return false
	}
	if !c.current(ft, key) {
		c.x.Part.Delete(c.x.DB, key)
		return false
	}
	return true
}

// current reports whether no invalidation of key's stripe, of everything
// or of its slot arrived since ft was taken (as fill checks for strings).
func (c call) current(ft fillTicket, key []byte) bool {
	return c.m.stripes[ft.stripe].Load() == ft.seq && c.m.epoch.Load() == ft.epoch && c.m.servable(c.t.ID, c.x.DB, key)
}

// serveL1 runs the embedded handler over L1 and keeps its reply unless an
// invalidation of the key's stripe arrived meanwhile (then the reply is
// taken back and false returned: forward the read). A reply already
// handed to the socket (past resp.FlushAt) stays: it was true at the fill.
func (c call) serveL1(local command.Handler, ft fillTicket, key []byte, args [][]byte) bool {
	w := c.x.W
	mark, errs := len(w.Out), w.Errs
	local(c.x, args)
	if c.current(ft, key) {
		return true
	}
	if len(w.Out) >= mark {
		w.Out, w.Errs = w.Out[:mark], errs
		return false
	}
	return true
}

// collDefault reports whether a row without a mode runs as a forwarded
// collection command: it names keys and the refusal is not inherited.
func collDefault(r *command.Spec, refused bool) bool {
	return !refused && r.Backed == command.BackedLocal && r.HasKeys()
}

// fwdReq builds a command's FwdReq: its keys (which must share a slot,
// checked by the Forwarder).
func (c call) fwdReq(args [][]byte, write bool) FwdReq {
	req := FwdReq{Tenant: c.t.ID, DB: c.x.DB, Args: args, RESP3: c.x.W.RESP3, Write: write, MaxReply: c.x.Conn.OutputLimit()}
	c.x.Spec.EachKey(args, func(i int) { req.KeyPos = append(req.KeyPos, i) })
	if write {
		req.Quota = c.t.Quota
		req.Grow = argBytes(args)
		req.DefaultTTL = c.defaultTTL()
	}
	return req
}

// forward runs req, dropping the L1 copies of its keys around a write,
// and counts quota refusals.
func (c call) forward(fw Forwarder, req FwdReq) FwdResult {
	var keys []shard.Key
	if req.Write {
		keys = c.dbKeys(req.Args, req.KeyPos)
		for _, k := range keys {
			c.m.Drop(c.t.ID, c.x.Part, k.DB, k.Name)
		}
	}
	ctx, cancel := c.l2ctx()
	res := fw.Forward(ctx, req)
	cancel()
	for _, k := range keys {
		c.m.Drop(c.t.ID, c.x.Part, k.DB, k.Name)
	}
	if errors.Is(res.Err, ErrL2OverQuota) {
		c.t.Stats.OverQuota.Add(1)
	}
	return res
}

// fwd forwards a read or a write and answers Redis's reply.
func (m *Mode) fwd(fw Forwarder, write bool) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		if sortPatterns(x, args) {
			x.W.WriteError(command.ErrSortPatterns) // as the embedded store: they name undeclared keys
			return
		}
		c := m.call(x)
		req := c.fwdReq(args, write)
		req.EchoKeys = write && x.Spec.KeysOf != nil // LMPOP, ZMPOP name the key they popped from
		res := c.forward(fw, req)
		if res.Err != nil {
			if !write && c.readFailed(res.Err) == nil && x.Spec.Miss != nil {
				x.Spec.Miss(x, args)
				return
			}
			x.StoreErr(res.Err)
			return
		}
		x.W.WriteRaw(res.Raw)
	}
}

// block runs a blocking command: its non-blocking form in L2, then parked
// on its keys until an invalidation of one of them (any node's write in
// L2) or its timeout.
func (m *Mode) block(fw Forwarder, mode command.BackedMode) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		c := m.call(x)
		wait, blocks, bad := blockWait(mode, args)
		if bad {
			// The timeout's error is Redis's: let L2 answer it.
			blocks = false
		}
		// Always inside MULTI, where Redis does not block: XREAD too.
		req := c.fwdReq(args, true)
		if x.Spec.Flags&command.Write == 0 {
			req.Grow = 0
		}
		req.EchoKeys = true
		if blocks && mode == command.BackedBlockXRd && x.Spec.Flags&command.Write == 0 { // XREAD, not XREADGROUP
			req.Args = append([][]byte(nil), args...)
			if !c.resolveLastIDs(fw, req) {
				return
			}
		}
		res := c.forward(fw, req)
		if res.Err != nil {
			x.StoreErr(res.Err)
			return
		}
		if !res.Null || !blocks || !x.Conn.CanBlock() {
			x.W.WriteRaw(res.Raw)
			return
		}
		// 0 waits without limit, as Redis; the server's max_block bounds it.
		if max := x.Conn.MaxBlock(); wait <= 0 || (max > 0 && wait > max) {
			wait = max
			if wait <= 0 {
				wait = 100 * 365 * 24 * time.Hour
			}
		}
		keys := make([][]byte, len(req.KeyPos))
		for i, p := range req.KeyPos {
			keys[i] = args[p]
		}
		x.Conn.Block(args, keys, wait, func([]int32) bool {
			r := c.forward(fw, req)
			if r.Err != nil {
				x.StoreErr(r.Err)
				return true
			}
			if r.Null {
				return false
			}
			x.W.WriteRaw(r.Raw)
			return true
		}, func() {
			x.W.WriteNullArray() // Redis's timeout reply of every blocking command
		})
	}
}

// blockWait reads a blocking command's timeout: Redis's seconds (a float)
// as the last argument, BLMPOP's and BZMPOP's first, XREAD's BLOCK
// milliseconds. blocks is false for XREAD without BLOCK; bad when the
// timeout does not parse (L2 answers the error). 0 waits without limit
// (the server's max_block bound applies in Block).
func blockWait(mode command.BackedMode, args [][]byte) (wait time.Duration, blocks, bad bool) {
	var secs float64
	switch mode {
	case command.BackedBlockXRd:
		for i := 1; i+1 < len(args); i++ {
			if command.EqFold(args[i], "streams") {
				break
			}
			if command.EqFold(args[i], "block") {
				ms, ok := command.ParseInt(args[i+1])
				if !ok || ms < 0 {
					return 0, false, true
				}
				return time.Duration(ms) * time.Millisecond, true, false
			}
		}
		return 0, false, false
	case command.BackedBlockNum:
		f, ok := parseSeconds(args[1])
		if !ok {
			return 0, false, true
		}
		secs = f
	default:
		f, ok := parseSeconds(args[len(args)-1])
		if !ok {
			return 0, false, true
		}
		secs = f
	}
	if secs < 0 || secs > 1e9 {
		return 0, false, true
	}
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond, true, false // ms, rounded up as the embedded store
}

// resolveLastIDs replaces XREAD's $ IDs in req.Args by the stream's last
// ID (0-0 for a missing stream), read from L2 first. false: answered.
func (c call) resolveLastIDs(fw Forwarder, req FwdReq) bool {
	n := len(req.KeyPos)
	if n == 0 {
		return true
	}
	last := req.KeyPos[n-1]
	args := req.Args
	for j, p := range req.KeyPos {
		idPos := last + 1 + j
		if idPos >= len(args) || string(args[idPos]) != "$" {
			continue
		}
		q := FwdReq{Tenant: req.Tenant, DB: req.DB, Args: [][]byte{[]byte("XINFO"), []byte("STREAM"), args[p]}, KeyPos: []int{2}}
		ctx, cancel := c.l2ctx()
		r := fw.Forward(ctx, q)
		cancel()
		if r.Err != nil {
			c.x.StoreErr(r.Err)
			return false
		}
		args[idPos] = lastIDOf(r.Raw)
	}
	return true
}

// parseSeconds parses a blocking command's timeout as Redis's strtold
// does for the common spellings; anything else is left to L2's error.
func parseSeconds(b []byte) (float64, bool) {
	f, ok := command.ParseLongDouble(b) // strtold: hex, exponents, inf
	if !ok {
		return 0, false
	}
	v, _ := f.Float64()
	return v, true
}

// lastIDOf reads last-generated-id from an XINFO STREAM reply (RESP2);
// "0-0" when the stream is missing (XREAD's $ on a missing key).
func lastIDOf(raw []byte) []byte {
	v, err := resp.NewReader(bytes.NewReader(raw)).ReadReply()
	a, ok := v.([]any)
	if err != nil || !ok {
		return []byte("0-0")
	}
	for i := 0; i+1 < len(a); i += 2 {
		if k, _ := a[i].([]byte); string(k) == "last-generated-id" {
			if id, ok := a[i+1].([]byte); ok {
				return id
			}
		}
	}
	return []byte("0-0")
}

// sortPatterns reports whether SORT or SORT_RO has a BY or GET option,
// which the embedded store refuses (command.ErrSortPatterns): refused
// here too, before a pattern could name keys outside the tenant.
func sortPatterns(x *command.Ctx, args [][]byte) bool {
	if n := x.Spec.Name; n != "sort" && n != "sort_ro" {
		return false
	}
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case command.EqFold(a, "by"), command.EqFold(a, "get"):
			return true
		case command.EqFold(a, "limit"):
			i += 2
		case command.EqFold(a, "store"):
			i++
		}
	}
	return false
}

// fwdString runs a one-key string write (the BackedWrite modes) on the raw
// path: a script's reply passes integers through a Lua double, so INCRBY
// near 2^63 answered a rounded value; EXEC's reply is Redis's own.
// tierTTL: the tier's default TTL applies (not for the EXPIRE family,
// PERSIST, GETEX, GETDEL, which set the TTL themselves and add nothing).
func (m *Mode) fwdString(fw Forwarder, tierTTL bool) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		c := m.call(x)
		req := c.fwdReq(args, true)
		if !tierTTL {
			req.Grow, req.DefaultTTL = 0, 0
		}
		res := c.forward(fw, req)
		if res.Err != nil {
			x.StoreErr(res.Err)
			return
		}
		x.W.WriteRaw(res.Raw)
	}
}

// bigKeys remembers the collections LoadColl found too big for L1, with
// the fill ticket of that look: while no invalidation has moved the key's
// stripe (nor the epoch), it is still big, and a read goes straight to L2
// instead of asking its size first (one round trip instead of two). It is
// bounded: past maxBigKeys entries it starts again empty.
type bigKeys struct {
	mu sync.Mutex // guards m
	m  map[uint64]fillTicket
}

const maxBigKeys = 1 << 14

func bigKey(tenant string, db int, key []byte) uint64 {
	return xxhash.Sum64(key) ^ xxhash.Sum64String(tenant)*31 ^ uint64(db)*0x9E3779B97F4A7C15
}

func (b *bigKeys) known(k uint64, ft fillTicket) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.m[k]
	if ok && (old.stripe != ft.stripe || old.seq != ft.seq || old.epoch != ft.epoch) {
		delete(b.m, k) // changed since: look again
		return false
	}
	return ok
}

func (b *bigKeys) note(k uint64, ft fillTicket) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) >= maxBigKeys {
		b.m = make(map[uint64]fillTicket)
	}
	b.m[k] = ft
}
