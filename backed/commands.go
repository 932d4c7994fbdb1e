package backed

import (
	"strconv"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/keys"
	"github.com/tcached/tcached/family/str"
	"github.com/tcached/tcached/shard"
)

// The handler of each backed mode (command.BackedMode): a row's mode is
// all it says about backed mode; these run it against L2.

var k1pos = []int{1}

// --- strings ---

// get serves an L1 hit into the Ctx's Scratch, as the embedded GET does:
// no allocation.
func (m *Mode) get(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	v, found, err := c.load(x.Scratch[:0], args[1])
	switch {
	case err != nil:
		x.StoreErr(err)
	case !found:
		x.W.WriteNull()
	default:
		x.W.WriteBulk(v)
		x.KeepScratch(v)
	}
}

func (m *Mode) mget(x *command.Ctx, args [][]byte) {
	c := m.call(x)
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
		tickets = append(tickets, c.fillTicket(x.DB, k))
	}
	if len(miss) > 0 {
		ctx, cancel := c.l2ctx()
		lds := m.be.LoadMany(ctx, c.t.ID, x.DB, miss)
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
				c.fill(tickets[j], x.DB, miss[j], ld)
			}
		}
	}
	x.W.WriteArray(len(keys))
	for i := range keys {
		if found[i] {
			x.W.WriteBulk(vals[i])
		} else {
			x.W.WriteNull()
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

func (m *Mode) set(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	get := false
	for _, a := range args[3:] {
		get = get || command.EqFold(a, "get")
	}
	ttl := c.defaultTTL()
	args = withDefaultTTL(args, ttl)
	c.execOne(args, k1pos, ttl, argBytes(args), !get)
}

// write1 forwards a single-key write: status says a string reply is a
// status (SETEX, PSETEX), tierTTL that the tier's default TTL applies
// (not for the EXPIRE family, PERSIST, GETEX, GETDEL, which set the TTL
// themselves and add nothing).
func (m *Mode) write1(status, tierTTL bool) command.Handler {
	if fw, ok := m.be.(Forwarder); ok {
		return m.fwdString(fw, tierTTL) // coll.go: Redis's reply bytes
	}
	return func(x *command.Ctx, args [][]byte) {
		c := m.call(x)
		if !tierTTL {
			c.execOne(args, k1pos, 0, 0, status)
			return
		}
		c.execOne(args, k1pos, c.defaultTTL(), argBytes(args), status)
	}
}

func (m *Mode) setRange(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	off, _ := command.ParseInt(args[2])
	grow := argBytes(args)
	if off > 0 && off <= command.MaxStringLen {
		grow += off
	}
	c.execOne(args, k1pos, c.defaultTTL(), grow, false)
}

// mset splits MSET into one SET per key (per slot, pipelined): atomicity
// across keys is lost, as with Redis Cluster proxies.
func (m *Mode) mset(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	if len(args)%2 != 1 {
		x.W.WriteError(command.ErrWrongArgs("mset"))
		return
	}
	ttl := c.defaultTTL()
	n := (len(args) - 1) / 2
	reqs := make([]ExecReq, n)
	keys := make([]shard.Key, n)
	for i := range n {
		k, v := args[1+2*i], args[2+2*i]
		a := withDefaultTTL([][]byte{[]byte("SET"), k, v}, ttl)
		reqs[i] = ExecReq{Args: a, KeyPos: k1pos, DefaultTTL: ttl, Grow: int64(len(k) + len(v))}
		keys[i] = shard.Key{DB: x.DB, Name: k}
	}
	for _, r := range c.exec(reqs, keys) {
		if r.Err != nil {
			x.StoreErr(r.Err)
			return
		}
	}
	x.W.WriteString("OK")
}

// msetnx needs atomicity across its keys: it runs when they share a slot
// and answers CROSSSLOT otherwise.
func (m *Mode) msetnx(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	if len(args)%2 != 1 {
		x.W.WriteError(command.ErrWrongArgs("msetnx"))
		return
	}
	var pos []int
	for i := 1; i < len(args); i += 2 {
		pos = append(pos, i)
	}
	c.execOne(args, pos, c.defaultTTL(), argBytes(args), false)
}

// --- keys ---

// del splits DEL/UNLINK per key and sums the deletions.
func (m *Mode) del(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	reqs := make([]ExecReq, len(args)-1)
	pos := make([]int, len(args)-1)
	for i, k := range args[1:] {
		reqs[i] = ExecReq{Args: [][]byte{args[0], k}, KeyPos: k1pos}
		pos[i] = i + 1
	}
	var sum int64
	for _, r := range c.exec(reqs, c.dbKeys(args, pos)) {
		if r.Err != nil {
			x.StoreErr(r.Err)
			return
		}
		n, _ := r.Reply.(int64)
		sum += n
	}
	x.W.WriteInt64(sum)
}

// count splits EXISTS/TOUCH per key and sums the answers; on an L2
// failure the keys count as missing (a degraded read).
func (m *Mode) count(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	reqs := make([]ReadReq, len(args)-1)
	for i, k := range args[1:] {
		reqs[i] = ReadReq{Args: [][]byte{args[0], k}, KeyPos: 1}
	}
	ctx, cancel := c.l2ctx()
	res := m.be.Read(ctx, c.t.ID, x.DB, reqs)
	cancel()
	var sum int64
	for _, r := range res {
		if r.Err != nil {
			if err := c.readFailed(r.Err); err != nil {
				x.StoreErr(err)
				return
			}
			continue
		}
		n, _ := r.Reply.(int64)
		sum += n
	}
	x.W.WriteInt64(sum)
}

// read forwards a single-key read to L2 (TTL family, TYPE, STRLEN,
// GETRANGE, MEMORY USAGE), its key at keyPos; status says a string reply
// is a status. An L2 failure answers miss, the command's reply for
// missing keys (from its row), or the failure when it has none.
func (m *Mode) read(keyPos int, status bool, miss command.Handler) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		c := m.call(x)
		ctx, cancel := c.l2ctx()
		r := m.be.Read(ctx, c.t.ID, x.DB, []ReadReq{{Args: args, KeyPos: keyPos}})[0]
		cancel()
		if r.Err == nil {
			c.writeReply(r.Reply, status)
			return
		}
		if c.readFailed(r.Err) == nil && miss != nil {
			miss(x, args)
			return
		}
		x.StoreErr(r.Err)
	}
}

// twoKeys forwards RENAME/RENAMENX: both keys must share a slot.
func (m *Mode) twoKeys(status bool) command.Handler {
	return func(x *command.Ctx, args [][]byte) {
		m.call(x).execOne(args, []int{1, 2}, 0, 0, status)
	}
}

// copy forwards COPY src dst [DB n] [REPLACE]; the L2 names carry the
// db, so the DB option becomes the destination's name.
func (m *Mode) copy(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	db, replace, ok := keys.CopyOptions(x, args)
	if !ok {
		return
	}
	out := [][]byte{args[0], args[1], args[2]}
	if replace {
		out = append(out, []byte("REPLACE"))
	}
	req := ExecReq{Args: out, KeyPos: []int{1, 2}, DstDB: map[int]int{2: db}, Grow: argBytes(args)}
	res := c.exec([]ExecReq{req}, []shard.Key{{DB: db, Name: args[2]}})[0]
	if res.Err != nil {
		x.StoreErr(res.Err)
		return
	}
	c.writeReply(res.Reply, false)
}

func (m *Mode) keys(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	ctx, cancel := m.scanCtx()
	keys, err := m.be.Keys(ctx, c.t.ID, x.DB, args[1])
	cancel()
	if err != nil {
		x.StoreErr(err)
		return
	}
	x.W.WriteArray(len(keys))
	for _, k := range keys {
		x.W.WriteBulk(k)
	}
}

func (m *Mode) scan(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	cursor, ok := command.ParseUint(args[1])
	if !ok {
		x.W.WriteError(command.ErrInvalidCursor)
		return
	}
	var rawMatch []byte
	typ := ""
	_, count, ok := command.ScanOptions(x, args, 2, 10, func(opt []byte, rest [][]byte) int {
		switch {
		case command.EqFold(opt, "type") && len(rest) > 0:
			typ = string(command.LowerInto(nil, rest[0]))
			return 1
		case command.EqFold(opt, "match") && len(rest) > 0:
			rawMatch = append([]byte{}, rest[0]...) // non-nil: MATCH "" is a pattern
			return 1
		}
		return -1
	})
	if !ok {
		return
	}
	ctx, cancel := c.l2ctx()
	next, keys, err := m.be.Scan(ctx, c.t.ID, x.DB, cursor, rawMatch, int64(count), typ)
	cancel()
	if err != nil {
		x.StoreErr(err)
		return
	}
	command.WriteScanReply(x.W, next, keys)
}

func (m *Mode) dbsize(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	ctx, cancel := m.scanCtx()
	n, err := m.be.DBSize(ctx, c.t.ID, x.DB)
	cancel()
	if err != nil {
		x.StoreErr(err)
		return
	}
	x.W.WriteInt64(n)
}

func (m *Mode) randomKey(x *command.Ctx, args [][]byte) {
	c := m.call(x)
	ctx, cancel := m.scanCtx()
	k, ok, err := m.be.RandomKey(ctx, c.t.ID, x.DB)
	cancel()
	switch {
	case err != nil:
		x.StoreErr(err)
	case !ok:
		x.W.WriteNull()
	default:
		x.W.WriteBulk(k)
	}
}
