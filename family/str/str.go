package str

import (
	"errors"
	"math"
	"math/big"
	"strconv"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// notString is the WRONGTYPE abort of a string command's Mutate callback
// that found a key of another type.
func notString(cur shard.Entry, exists bool) bool {
	return exists && cur.Type != shard.TypeString
}

func cmdGet(c *command.Ctx, args [][]byte) {
	v, t, ok := c.Part.GetStringSized(c.Scratch[:0], c.DB, args[1], command.BigBuf)
	if !ok {
		c.W.WriteNull()
		return
	}
	if t != shard.TypeString {
		c.W.WriteError(command.ErrWrongType)
		return
	}
	replyCopy(c, v)
}

// replyCopy writes v, this command's copy of a string value (from
// GetStringSized with command.BigBuf), as a bulk string, and recycles its
// buffer: kept as Scratch when small; when big, written straight to the
// socket (WriteBulkOwned) and given back to BigBuf's pool.
func replyCopy(c *command.Ctx, v []byte) {
	c.W.WriteBulkOwned(v)
	if cap(v) <= 64<<10 {
		c.Scratch = v[:0]
	} else {
		command.PutBigBuf(v)
	}
}

// errBadExpire aborts GETEX's change of a string whose new expiry is bad;
// errRefused SETRANGE's of a string that would grow too big.
var (
	errBadExpire = errors.New("bad expire")
	errRefused   = errors.New("refused")
)

// expiry options shared by SET and GETEX.
type expireOpt struct {
	set     bool  // an EX/PX/EXAT/PXAT option was given
	at      int64 // absolute unix ms
	keepTTL bool
	persist bool
}

// take parses the expiry option opt (EX, PX, EXAT or PXAT) with its value
// arg for cmd into o; on bad input it writes the error and returns false.
func (o *expireOpt) take(c *command.Ctx, opt, arg []byte, cmd string) bool {
	at, e := parseExpireArg(c, ExpireOptName(opt), arg, cmd)
	if e != "" {
		c.W.WriteError(e)
		return false
	}
	o.set, o.at = true, at
	return true
}

// ExpireOptName names the expiry option a is (SET, GETEX), or "" when a is
// none of EX, PX, EXAT, PXAT. It returns constants, so it does not
// allocate (lower-casing the argument into a string did, on every SET EX).
func ExpireOptName(a []byte) string {
	switch {
	case command.EqFold(a, "ex"):
		return "ex"
	case command.EqFold(a, "px"):
		return "px"
	case command.EqFold(a, "exat"):
		return "exat"
	case command.EqFold(a, "pxat"):
		return "pxat"
	}
	return ""
}

// parseExpireArg converts the argument of EX/PX/EXAT/PXAT into an absolute
// unix-ms time, with Redis's checks (> 0, no overflow).
func parseExpireArg(c *command.Ctx, opt string, arg []byte, cmd string) (int64, string) {
	n, ok := command.ParseInt(arg)
	if !ok {
		return 0, command.ErrNotInteger
	}
	if n <= 0 {
		return 0, command.ErrInvalidExpire(cmd)
	}
	switch opt {
	case "ex", "exat":
		if n > math.MaxInt64/1000 {
			return 0, command.ErrInvalidExpire(cmd)
		}
		n *= 1000
	}
	switch opt {
	case "ex", "px":
		now := c.NowMs()
		if n > math.MaxInt64-now {
			return 0, command.ErrInvalidExpire(cmd)
		}
		n += now
	}
	if e := c.RetentionErr(n, cmd); e != "" {
		return 0, e
	}
	return n, ""
}

// cmdSet: SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func cmdSet(c *command.Ctx, args [][]byte) {
	var nx, xx, get bool
	var exp expireOpt
	expOpt := -1 // the expiry option's index: its value is checked after the syntax, as Redis does
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case command.EqFold(a, "nx") && !xx:
			nx = true
		case command.EqFold(a, "xx") && !nx:
			xx = true
		case command.EqFold(a, "get"):
			get = true
		case command.EqFold(a, "keepttl") && expOpt < 0:
			exp.keepTTL = true
		case ExpireOptName(a) != "" && (expOpt < 0 || ExpireOptName(args[expOpt]) == ExpireOptName(a)) && !exp.keepTTL && i+1 < len(args):
			expOpt = i // as in Redis, the same option again replaces its value
			i++
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	if expOpt >= 0 && !exp.take(c, args[expOpt], args[expOpt+1], "set") {
		return
	}
	now := c.NowMs()
	if !nx && !xx && !get && !exp.keepTTL {
		at := exp.at
		if !exp.set {
			at = c.DefaultExpire(now)
		} else if at <= now {
			// Already expired: Redis deletes the key and answers OK,
			// and signals WATCH even when there was no key (setKey).
			if !c.Part.Delete(c.DB, args[1]) {
				c.Part.Signal(c.DB, args[1])
			}
			c.W.WriteString("OK")
			return
		}
		if err := c.Part.Set(c.DB, args[1], args[2], at); err != nil {
			c.StoreErr(err)
			return
		}
		c.W.WriteString("OK")
		return
	}
	var old []byte
	var existed, applied bool
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed, applied = exists, false
		if get && notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
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
				return shard.Entry{Signal: shard.SignalAlways}, shard.Delete, nil
			}
			next.ExpireAt = exp.at
		case exp.keepTTL && exists:
			if cur.ExpireAt == 0 {
				if e := c.RetentionErr(0, "set"); e != "" {
					applied = false
					return cur, shard.Keep, command.ReplyErr(e)
				}
			}
			next.ExpireAt = cur.ExpireAt
		default:
			next.ExpireAt = c.DefaultExpire(now)
		}
		return next, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	switch {
	case get && existed:
		c.W.WriteBulk(old)
	case get:
		c.W.WriteNull()
	case applied:
		c.W.WriteString("OK")
	default:
		c.W.WriteNull()
	}
}

func cmdSetNX(c *command.Ctx, args [][]byte) {
	set := false
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		set = !exists
		if exists {
			return cur, shard.Keep, nil
		}
		return shard.Entry{Value: args[2], ExpireAt: c.DefaultExpire(now)}, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(set))
}

// cmdSetEX serves SETEX key seconds value and PSETEX key ms value.
func cmdSetEX(c *command.Ctx, args [][]byte) {
	name, opt := c.Spec.Name, "ex"
	if name == "psetex" {
		opt = "px"
	}
	at, e := parseExpireArg(c, opt, args[2], name)
	if e != "" {
		c.W.WriteError(e)
		return
	}
	if err := c.Part.Set(c.DB, args[1], args[3], at); err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteString("OK")
}

func cmdMGet(c *command.Ctx, args [][]byte) {
	c.W.WriteArray(len(args) - 1)
	for _, k := range args[1:] {
		v, t, ok := c.Part.GetStringSized(c.Scratch[:0], c.DB, k, command.BigBuf)
		if !ok || t != shard.TypeString {
			c.W.WriteNull() // MGET answers nil for a non-string, as Redis
			continue
		}
		replyCopy(c, v)
	}
}

// msetKeys turns MSET-style key/value arguments into shard keys.
func msetKeys(c *command.Ctx, args [][]byte) []shard.Key {
	keys := make([]shard.Key, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, shard.Key{DB: c.DB, Name: args[i]})
	}
	return keys
}

func cmdMSet(c *command.Ctx, args [][]byte) {
	if len(args)%2 != 1 {
		c.W.WriteError(command.ErrWrongArgs("mset"))
		return
	}
	now := c.NowMs()
	err := c.Part.Apply(msetKeys(c, args), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		for i := range cur {
			next[i] = shard.Entry{Value: args[2+2*i], ExpireAt: c.DefaultExpire(now)}
			acts[i] = shard.Put
		}
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteString("OK")
}

func cmdMSetNX(c *command.Ctx, args [][]byte) {
	if len(args)%2 != 1 {
		c.W.WriteError(command.ErrWrongArgs("msetnx"))
		return
	}
	now := c.NowMs()
	set := false
	err := c.Part.Apply(msetKeys(c, args), func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		next := make([]shard.Entry, len(cur))
		acts := make([]shard.Action, len(cur))
		set = false
		for _, e := range exists {
			if e {
				return next, acts, nil // all Keep
			}
		}
		for i := range cur {
			next[i] = shard.Entry{Value: args[2+2*i], ExpireAt: c.DefaultExpire(now)}
			acts[i] = shard.Put
		}
		set = true
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(set))
}

// cmdGetSet: GETSET key value. Like SET, it drops the old TTL, so the key
// gets its tier's default TTL.
func cmdGetSet(c *command.Ctx, args [][]byte) {
	var old []byte
	var existed bool
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		old = append(old[:0], cur.Value...)
		return shard.Entry{Value: args[2], ExpireAt: c.DefaultExpire(now)}, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if !existed {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(old)
}

func cmdGetDel(c *command.Ctx, args [][]byte) {
	var old []byte
	var existed bool
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if !exists {
			return cur, shard.Keep, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		old = append(old[:0], cur.Value...)
		return cur, shard.Delete, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	if !existed {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(old)
}

// cmdGetEx: GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
func cmdGetEx(c *command.Ctx, args [][]byte) {
	var exp expireOpt
	var bad string  // a bad expiry value's error
	var kind string // the expiry option given (ex, px, exat, pxat)
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case command.EqFold(a, "persist") && !exp.set:
			exp.persist = true
		case ExpireOptName(a) != "" && (kind == "" || kind == ExpireOptName(a)) && !exp.persist && i+1 < len(args):
			// As Redis: the same option again replaces its value.
			kind = ExpireOptName(a)
			// Redis checks the value only once the key is found a string.
			exp.at, bad = parseExpireArg(c, ExpireOptName(a), args[i+1], "getex")
			exp.set = true
			i++
		default:
			c.W.WriteError(command.ErrSyntax)
			return
		}
	}
	if !exp.set && !exp.persist {
		cmdGet(c, args)
		return
	}
	var val []byte
	var existed bool
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		existed = exists
		if !exists {
			return cur, shard.Keep, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if bad != "" {
			return cur, shard.Keep, errBadExpire
		}
		val = append(val[:0], cur.Value...)
		switch {
		case exp.persist:
			if cur.ExpireAt == 0 {
				return cur, shard.Keep, nil // nothing to persist: no WATCH signal, as Redis
			}
			if e := c.RetentionErr(0, "getex"); e != "" {
				return cur, shard.Keep, command.ReplyErr(e)
			}
			return shard.Entry{ExpireAt: 0}, shard.SetTTL, nil
		case exp.at <= now:
			return cur, shard.Delete, nil
		default:
			return shard.Entry{ExpireAt: exp.at}, shard.SetTTL, nil
		}
	})
	if err == errBadExpire {
		c.W.WriteError(bad)
		return
	}
	if err != nil {
		c.StoreErr(err)
		return
	}
	if !existed {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(val)
}

// incrBy adds delta to the integer stored at key, creating it (with the
// tier's default TTL) when missing and keeping an existing key's TTL.
func incrBy(c *command.Ctx, key []byte, delta int64) {
	var result int64
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		var v int64
		expireAt := c.DefaultExpire(now)
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if exists {
			n, ok := command.ParseInt(cur.Value)
			if !ok {
				return cur, shard.Keep, command.ReplyErr(command.ErrNotInteger)
			}
			v, expireAt = n, cur.ExpireAt
		}
		if delta < 0 && v < math.MinInt64-delta || delta > 0 && v > math.MaxInt64-delta {
			return cur, shard.Keep, command.ReplyErr(command.ErrOverflow)
		}
		result = v + delta
		var buf [24]byte
		return shard.Entry{Value: strconv.AppendInt(buf[:0], result, 10), ExpireAt: expireAt}, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(result)
}

func cmdIncr(c *command.Ctx, args [][]byte) { incrBy(c, args[1], 1) }
func cmdDecr(c *command.Ctx, args [][]byte) { incrBy(c, args[1], -1) }

func cmdIncrBy(c *command.Ctx, args [][]byte) {
	n, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	incrBy(c, args[1], n)
}

func cmdDecrBy(c *command.Ctx, args [][]byte) {
	n, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if n == math.MinInt64 {
		c.W.WriteError(command.ErrDecrOverflow)
		return
	}
	incrBy(c, args[1], -n)
}

func cmdIncrByFloat(c *command.Ctx, args [][]byte) {
	// Redis checks the key's type before the increment.
	incr, incrOK := command.ParseLongDouble(args[2])
	var out string
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if !incrOK {
			return cur, shard.Keep, command.ReplyErr(command.ErrNotFloat)
		}
		v := new(big.Float).SetPrec(command.LongDoublePrec)
		expireAt := c.DefaultExpire(now)
		if exists {
			old, ok := command.ParseLongDouble(cur.Value)
			if !ok {
				return cur, shard.Keep, command.ReplyErr(command.ErrNotFloat)
			}
			v, expireAt = old, cur.ExpireAt
		}
		if v.IsInf() || incr.IsInf() {
			return cur, shard.Keep, command.ReplyErr(command.ErrNaNInf)
		}
		sum := new(big.Float).SetPrec(command.LongDoublePrec).Add(v, incr)
		if new(big.Float).Abs(sum).Cmp(command.MaxLongDouble) > 0 {
			return cur, shard.Keep, command.ReplyErr(command.ErrNaNInf)
		}
		out = command.FormatLongDouble(sum)
		return shard.Entry{Value: []byte(out), ExpireAt: expireAt}, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteBulkString(out)
}

func cmdAppend(c *command.Ctx, args [][]byte) {
	var n int
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if !exists {
			n = len(args[2])
			return shard.Entry{Value: args[2], ExpireAt: c.DefaultExpire(now)}, shard.Put, nil
		}
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if len(cur.Value)+len(args[2]) > command.MaxStringLen {
			return cur, shard.Keep, command.ReplyErr(command.ErrStringTooBig)
		}
		v := make([]byte, 0, len(cur.Value)+len(args[2]))
		v = append(append(v, cur.Value...), args[2]...)
		n = len(v)
		return shard.Entry{Value: v, ExpireAt: cur.ExpireAt}, shard.Put, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(n)
}

func cmdStrlen(c *command.Ctx, args [][]byte) {
	n := 0
	wrong := false
	c.Part.View(c.DB, args[1], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		n, wrong = len(e.Value), e.Type != shard.TypeString
	})
	if wrong {
		c.W.WriteError(command.ErrWrongType)
		return
	}
	c.W.WriteInt(n)
}

// cmdGetRange: GETRANGE key start end, with Redis 7's index rules.
func cmdGetRange(c *command.Ctx, args [][]byte) {
	start, ok1 := command.ParseInt(args[2])
	end, ok2 := command.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	var out []byte
	wrong := false
	c.Part.View(c.DB, args[1], shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
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
		out = append(c.Scratch[:0], e.Value[start:end+1]...)
	})
	if wrong {
		c.W.WriteError(command.ErrWrongType)
		return
	}
	c.W.WriteBulk(out)
	if out != nil && cap(out) <= 64<<10 {
		c.Scratch = out[:0]
	}
}

// cmdSetRange: SETRANGE key offset value
func cmdSetRange(c *command.Ctx, args [][]byte) {
	off, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if off < 0 {
		c.W.WriteError(command.ErrOffsetRange)
		return
	}
	val := args[3]
	// Compare without adding: off+len(val) overflows for offsets near
	// MaxInt64. Like Redis, the key's type is checked first (below).
	var refuse string
	if len(val) > 0 && off > command.MaxStringLen-int64(len(val)) {
		refuse = command.ErrStringTooBig
	} else if need := off + int64(len(val)) + int64(len(args[1])) + shard.EntryOverhead; len(val) > 0 && need > c.Part.Quota() {
		// A value that could never fit the quota is refused before it is
		// built: SETRANGE k 500000000 x must not allocate 500 MB first.
		refuse = command.ErrOOM
	}
	var n int
	now := c.NowMs()
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if notString(cur, exists) {
			return cur, shard.Keep, command.ErrWrongTypeAbort
		}
		if !exists && len(val) == 0 {
			n = 0
			return cur, shard.Keep, nil
		}
		if len(val) == 0 {
			n = len(cur.Value)
			return cur, shard.Keep, nil
		}
		if refuse != "" {
			return cur, shard.Keep, errRefused
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
			expireAt = c.DefaultExpire(now)
		}
		return shard.Entry{Value: v, ExpireAt: expireAt}, shard.Put, nil
	})
	if err == errRefused {
		c.W.WriteError(refuse)
		return
	}
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(n)
}
