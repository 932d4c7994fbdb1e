package server

import (
	"math"
	"math/big"
	"strconv"

	"github.com/tcached/tcached/shard"
)

// maxStringLen is Redis's proto-max-bulk-len default, the largest value
// APPEND and SETRANGE may build.
const maxStringLen = 512 << 20

func (c *client) nowMs() int64 { return c.srv.now().UnixMilli() }

// defaultExpire is the absolute expiry a key written without a TTL gets:
// the tenant tier's default_ttl, or none when the tier sets 0.
func (c *client) defaultExpire(now int64) int64 {
	if ttl := c.tenant.defaultTTLms.Load(); ttl > 0 {
		return now + ttl
	}
	return 0
}

func (c *client) part() *shard.Partition { return c.tenant.part }

// notString is the WRONGTYPE abort of a string command's Mutate callback
// that found a key of another type.
func notString(cur shard.Entry, exists bool) bool {
	return exists && cur.Type != shard.TypeString
}

var wrongTypeErr = replyErr(errWrongType)

func (c *client) replyStoreErr(err error) {
	c.conn.WriteError(storeError(err))
}

func cmdGet(c *client, args [][]byte) {
	v, t, ok := c.part().GetString(c.scratch[:0], c.db, args[1])
	if !ok {
		c.conn.WriteNull()
		return
	}
	if t != shard.TypeString {
		c.conn.WriteError(errWrongType)
		return
	}
	c.conn.WriteBulk(v)
	if cap(v) <= 64<<10 {
		c.scratch = v[:0]
	}
}

// expiry options shared by SET and GETEX.
type expireOpt struct {
	set     bool  // an EX/PX/EXAT/PXAT option was given
	at      int64 // absolute unix ms
	keepTTL bool
	persist bool
}

// take parses the expiry option opt (EX, PX, EXAT or PXAT) with its value
// arg for cmd into o; on bad input it writes the error and returns false.
func (o *expireOpt) take(c *client, opt, arg []byte, cmd string) bool {
	at, e := parseExpireArg(c, expireOptName(opt), arg, cmd)
	if e != "" {
		c.conn.WriteError(e)
		return false
	}
	o.set, o.at = true, at
	return true
}

// expireOptName names the expiry option a is (SET, GETEX), or "" when a is
// none of EX, PX, EXAT, PXAT. It returns constants, so it does not
// allocate (lower-casing the argument into a string did, on every SET EX).
func expireOptName(a []byte) string {
	switch {
	case eqFold(a, "ex"):
		return "ex"
	case eqFold(a, "px"):
		return "px"
	case eqFold(a, "exat"):
		return "exat"
	case eqFold(a, "pxat"):
		return "pxat"
	}
	return ""
}

// parseExpireArg converts the argument of EX/PX/EXAT/PXAT into an absolute
// unix-ms time, with Redis's checks (> 0, no overflow).
func parseExpireArg(c *client, opt string, arg []byte, cmd string) (int64, string) {
	n, ok := parseInt(arg)
	if !ok {
		return 0, errNotInteger
	}
	if n <= 0 {
		return 0, errInvalidExpire(cmd)
	}
	switch opt {
	case "ex", "exat":
		if n > math.MaxInt64/1000 {
			return 0, errInvalidExpire(cmd)
		}
		n *= 1000
	}
	switch opt {
	case "ex", "px":
		now := c.nowMs()
		if n > math.MaxInt64-now {
			return 0, errInvalidExpire(cmd)
		}
		n += now
	}
	return n, ""
}

// cmdSet: SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func cmdSet(c *client, args [][]byte) {
	var nx, xx, get bool
	var exp expireOpt
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "nx") && !xx:
			nx = true
		case eqFold(a, "xx") && !nx:
			xx = true
		case eqFold(a, "get"):
			get = true
		case eqFold(a, "keepttl") && !exp.set:
			exp.keepTTL = true
		case expireOptName(a) != "" && !exp.set && !exp.keepTTL && i+1 < len(args):
			if !exp.take(c, a, args[i+1], "set") {
				return
			}
			i++
		default:
			c.conn.WriteError(errSyntax)
			return
		}
	}
	now := c.nowMs()
	if !nx && !xx && !get && !exp.keepTTL {
		at := exp.at
		if !exp.set {
			at = c.defaultExpire(now)
		} else if at <= now {
			// Already expired: Redis deletes the key and answers OK.
			c.part().Delete(c.db, args[1])
			c.conn.WriteString("OK")
			return
		}
		if err := c.part().Set(c.db, args[1], args[2], at); err != nil {
			c.replyStoreErr(err)
			return
		}
		c.conn.WriteString("OK")
		return
	}
	var old []byte
	var existed, applied bool
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed, applied = exists, false
		if get && notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		if get && exists {
			old = append(old[:0], cur.Value...)
		}
		if nx && exists || xx && !exists {
			return cur, shard.Keep, nil
		}
		applied = true
		next := shard.Entry{Value: args[2]}
		switch {
		case exp.set:
			if exp.at <= now {
				return cur, shard.Delete, nil
			}
			next.ExpireAt = exp.at
		case exp.keepTTL && exists:
			next.ExpireAt = cur.ExpireAt
		default:
			next.ExpireAt = c.defaultExpire(now)
		}
		return next, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	switch {
	case get && existed:
		c.conn.WriteBulk(old)
	case get:
		c.conn.WriteNull()
	case applied:
		c.conn.WriteString("OK")
	default:
		c.conn.WriteNull()
	}
}

func cmdSetNX(c *client, args [][]byte) {
	set := false
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		set = !exists
		if exists {
			return cur, shard.Keep, nil
		}
		return shard.Entry{Value: args[2], ExpireAt: c.defaultExpire(now)}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(b2i(set))
}

// cmdSetEX serves SETEX key seconds value and PSETEX key ms value.
func cmdSetEX(c *client, args [][]byte) {
	name := "setex"
	opt := "ex"
	if eqFold(args[0], "psetex") {
		name, opt = "psetex", "px"
	}
	at, e := parseExpireArg(c, opt, args[2], name)
	if e != "" {
		c.conn.WriteError(e)
		return
	}
	if err := c.part().Set(c.db, args[1], args[3], at); err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteString("OK")
}

func cmdMGet(c *client, args [][]byte) {
	c.conn.WriteArray(len(args) - 1)
	for _, k := range args[1:] {
		v, t, ok := c.part().GetString(c.scratch[:0], c.db, k)
		if !ok || t != shard.TypeString {
			c.conn.WriteNull() // MGET answers nil for a non-string, as Redis
			continue
		}
		c.conn.WriteBulk(v)
		if cap(v) <= 64<<10 {
			c.scratch = v[:0]
		}
	}
}

// msetKeys turns MSET-style key/value arguments into shard keys.
func (c *client) msetKeys(args [][]byte) []shard.Key {
	keys := make([]shard.Key, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, shard.Key{DB: c.db, Name: args[i]})
	}
	return keys
}

func cmdMSet(c *client, args [][]byte) {
	if len(args)%2 != 1 {
		c.conn.WriteError(errWrongArgs("mset"))
		return
	}
	now := c.nowMs()
	err := c.part().Apply(c.msetKeys(args), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		for i := range cur {
			next[i] = shard.Entry{Value: args[2+2*i], ExpireAt: c.defaultExpire(now)}
			acts[i] = shard.Put
		}
		return next, acts, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteString("OK")
}

func cmdMSetNX(c *client, args [][]byte) {
	if len(args)%2 != 1 {
		c.conn.WriteError(errWrongArgs("msetnx"))
		return
	}
	now := c.nowMs()
	set := false
	err := c.part().Apply(c.msetKeys(args), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		set = false
		for _, e := range exists {
			if e {
				return next, acts, nil // all Keep
			}
		}
		for i := range cur {
			next[i] = shard.Entry{Value: args[2+2*i], ExpireAt: c.defaultExpire(now)}
			acts[i] = shard.Put
		}
		set = true
		return next, acts, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(b2i(set))
}

// cmdGetSet: GETSET key value. Like SET, it drops the old TTL, so the key
// gets its tier's default TTL.
func cmdGetSet(c *client, args [][]byte) {
	var old []byte
	var existed bool
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		old = append(old[:0], cur.Value...)
		return shard.Entry{Value: args[2], ExpireAt: c.defaultExpire(now)}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if !existed {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulk(old)
}

func cmdGetDel(c *client, args [][]byte) {
	var old []byte
	var existed bool
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if !exists {
			return cur, shard.Keep, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		old = append(old[:0], cur.Value...)
		return cur, shard.Delete, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if !existed {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulk(old)
}

// cmdGetEx: GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
func cmdGetEx(c *client, args [][]byte) {
	var exp expireOpt
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "persist") && !exp.set && !exp.persist:
			exp.persist = true
		case expireOptName(a) != "" && !exp.set && !exp.persist && i+1 < len(args):
			if !exp.take(c, a, args[i+1], "getex") {
				return
			}
			i++
		default:
			c.conn.WriteError(errSyntax)
			return
		}
	}
	if !exp.set && !exp.persist {
		cmdGet(c, args)
		return
	}
	var val []byte
	var existed bool
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if !exists {
			return cur, shard.Keep, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		val = append(val[:0], cur.Value...)
		switch {
		case exp.persist:
			return shard.Entry{ExpireAt: 0}, shard.SetTTL, nil
		case exp.at <= now:
			return cur, shard.Delete, nil
		default:
			return shard.Entry{ExpireAt: exp.at}, shard.SetTTL, nil
		}
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if !existed {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulk(val)
}

// incrBy adds delta to the integer stored at key, creating it (with the
// tier's default TTL) when missing and keeping an existing key's TTL.
func incrBy(c *client, key []byte, delta int64) {
	var result int64
	now := c.nowMs()
	err := c.part().Mutate(c.db, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		var v int64
		expireAt := c.defaultExpire(now)
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		if exists {
			n, ok := parseInt(cur.Value)
			if !ok {
				return cur, shard.Keep, replyErr(errNotInteger)
			}
			v, expireAt = n, cur.ExpireAt
		}
		if delta < 0 && v < math.MinInt64-delta || delta > 0 && v > math.MaxInt64-delta {
			return cur, shard.Keep, replyErr(errOverflow)
		}
		result = v + delta
		var buf [24]byte
		return shard.Entry{Value: strconv.AppendInt(buf[:0], result, 10), ExpireAt: expireAt}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt64(result)
}

func cmdIncr(c *client, args [][]byte) { incrBy(c, args[1], 1) }
func cmdDecr(c *client, args [][]byte) { incrBy(c, args[1], -1) }

func cmdIncrBy(c *client, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	incrBy(c, args[1], n)
}

func cmdDecrBy(c *client, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	if n == math.MinInt64 {
		c.conn.WriteError("ERR decrement would overflow")
		return
	}
	incrBy(c, args[1], -n)
}

func cmdIncrByFloat(c *client, args [][]byte) {
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.conn.WriteError(errNotFloat)
		return
	}
	var out string
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		v := new(big.Float).SetPrec(longDoublePrec)
		expireAt := c.defaultExpire(now)
		if exists {
			old, ok := parseLongDouble(cur.Value)
			if !ok {
				return cur, shard.Keep, replyErr(errNotFloat)
			}
			v, expireAt = old, cur.ExpireAt
		}
		if v.IsInf() || incr.IsInf() {
			return cur, shard.Keep, replyErr(errNaNInf)
		}
		sum := new(big.Float).SetPrec(longDoublePrec).Add(v, incr)
		if new(big.Float).Abs(sum).Cmp(maxLongDouble) > 0 {
			return cur, shard.Keep, replyErr(errNaNInf)
		}
		out = formatLongDouble(sum)
		return shard.Entry{Value: []byte(out), ExpireAt: expireAt}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteBulkString(out)
}

func cmdAppend(c *client, args [][]byte) {
	var n int
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if !exists {
			n = len(args[2])
			return shard.Entry{Value: args[2], ExpireAt: c.defaultExpire(now)}, shard.Put, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		if len(cur.Value)+len(args[2]) > maxStringLen {
			return cur, shard.Keep, replyErr(errStringTooBig)
		}
		v := make([]byte, 0, len(cur.Value)+len(args[2]))
		v = append(append(v, cur.Value...), args[2]...)
		n = len(v)
		return shard.Entry{Value: v, ExpireAt: cur.ExpireAt}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(n)
}

func cmdStrlen(c *client, args [][]byte) {
	n := 0
	wrong := false
	c.part().View(c.db, args[1], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		n, wrong = len(e.Value), e.Type != shard.TypeString
	})
	if wrong {
		c.conn.WriteError(errWrongType)
		return
	}
	c.conn.WriteInt(n)
}

// cmdGetRange: GETRANGE key start end, with Redis 7's index rules.
func cmdGetRange(c *client, args [][]byte) {
	start, ok1 := parseInt(args[2])
	end, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.conn.WriteError(errNotInteger)
		return
	}
	var out []byte
	wrong := false
	c.part().View(c.db, args[1], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		if e.Type != shard.TypeString {
			wrong = true
			return
		}
		n := int64(len(e.Value))
		if start < 0 && end < 0 && start > end {
			return
		}
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		if start < 0 {
			start = 0
		}
		if end < 0 {
			end = 0
		}
		if end >= n {
			end = n - 1
		}
		if start > end || n == 0 {
			return
		}
		out = append(c.scratch[:0], e.Value[start:end+1]...)
	})
	if wrong {
		c.conn.WriteError(errWrongType)
		return
	}
	c.conn.WriteBulk(out)
	if out != nil && cap(out) <= 64<<10 {
		c.scratch = out[:0]
	}
}

// cmdSetRange: SETRANGE key offset value
func cmdSetRange(c *client, args [][]byte) {
	off, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	if off < 0 {
		c.conn.WriteError(errOffsetRange)
		return
	}
	val := args[3]
	// Compare without adding: off+len(val) overflows for offsets near MaxInt64.
	if len(val) > 0 && off > maxStringLen-int64(len(val)) {
		c.conn.WriteError(errStringTooBig)
		return
	}
	// A value that could never fit the quota is refused before it is built:
	// SETRANGE k 500000000 x must not allocate 500 MB first.
	if need := off + int64(len(val)) + int64(len(args[1])) + shard.EntryOverhead; len(val) > 0 && need > c.part().Quota() {
		c.conn.WriteError(errOOM)
		return
	}
	var n int
	now := c.nowMs()
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if notString(cur, exists) {
			return cur, shard.Keep, wrongTypeErr
		}
		if !exists && len(val) == 0 {
			n = 0
			return cur, shard.Keep, nil
		}
		if len(val) == 0 {
			n = len(cur.Value)
			return cur, shard.Keep, nil
		}
		size := len(cur.Value)
		if end := int(off) + len(val); end > size {
			size = end
		}
		v := make([]byte, size)
		copy(v, cur.Value)
		copy(v[off:], val)
		n = len(v)
		expireAt := cur.ExpireAt
		if !exists {
			expireAt = c.defaultExpire(now)
		}
		return shard.Entry{Value: v, ExpireAt: expireAt}, shard.Put, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(n)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
