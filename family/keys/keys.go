package keys

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

func cmdDel(c *command.Ctx, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.Part.Delete(c.DB, k) {
			n++
		}
	}
	c.W.WriteInt(n)
}

// cmdExists counts every argument that exists, duplicates included.
func cmdExists(c *command.Ctx, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.Part.View(c.DB, k, shard.ViewStats, func(shard.Entry) {}) {
			n++
		}
	}
	c.W.WriteInt(n)
}

func cmdTouch(c *command.Ctx, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.Part.View(c.DB, k, shard.ViewTouch, func(shard.Entry) {}) {
			n++
		}
	}
	c.W.WriteInt(n)
}

// expireCmd serves EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with Redis 7's
// NX/XX/GT/LT options. A time in the past deletes the key.
func expireCmd(c *command.Ctx, args [][]byte, name string, unitMs int64, absolute bool) {
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case command.EqFold(a, "nx"):
			nx = true
		case command.EqFold(a, "xx"):
			xx = true
		case command.EqFold(a, "gt"):
			gt = true
		case command.EqFold(a, "lt"):
			lt = true
		default:
			c.W.WriteError(command.ErrUnsupportedOption(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.W.WriteError(command.ErrExpireOptions)
		return
	}
	if gt && lt {
		c.W.WriteError(command.ErrGTLTOptions)
		return
	}
	when, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if unitMs == 1000 && (when > math.MaxInt64/1000 || when < math.MinInt64/1000) {
		c.W.WriteError(command.ErrInvalidExpire(name))
		return
	}
	when *= unitMs
	now := c.NowMs()
	if !absolute {
		if when > 0 && now > math.MaxInt64-when || when < 0 && now < math.MinInt64-when {
			c.W.WriteError(command.ErrInvalidExpire(name))
			return
		}
		when += now
	}
	if e := c.RetentionErr(when, name); e != "" {
		c.W.WriteError(e)
		return
	}
	done := false
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		done = false
		if !exists {
			return cur, shard.Keep, nil
		}
		has := cur.ExpireAt != 0
		switch {
		case nx && has, xx && !has:
			return cur, shard.Keep, nil
		case gt && (!has || when <= cur.ExpireAt):
			return cur, shard.Keep, nil
		case lt && has && when >= cur.ExpireAt:
			return cur, shard.Keep, nil
		}
		done = true
		if when <= now {
			return cur, shard.Delete, nil
		}
		return shard.Entry{ExpireAt: when}, shard.SetTTL, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(done))
}

func cmdExpire(c *command.Ctx, args [][]byte)    { expireCmd(c, args, "expire", 1000, false) }
func cmdPExpire(c *command.Ctx, args [][]byte)   { expireCmd(c, args, "pexpire", 1, false) }
func cmdExpireAt(c *command.Ctx, args [][]byte)  { expireCmd(c, args, "expireat", 1000, true) }
func cmdPExpireAt(c *command.Ctx, args [][]byte) { expireCmd(c, args, "pexpireat", 1, true) }

// ttlCmd serves TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL.
func ttlCmd(c *command.Ctx, args [][]byte, ms, abs bool) {
	var expireAt int64
	if !c.Part.View(c.DB, args[1], 0, func(e shard.Entry) { expireAt = e.ExpireAt }) {
		c.W.WriteInt(-2)
		return
	}
	if expireAt == 0 {
		c.W.WriteInt(-1)
		return
	}
	v := expireAt
	if !abs {
		v -= c.NowMs()
	}
	if v < 0 {
		v = 0
	}
	if !ms {
		v = (v + 500) / 1000
	}
	c.W.WriteInt64(v)
}

func cmdTTL(c *command.Ctx, args [][]byte)         { ttlCmd(c, args, false, false) }
func cmdPTTL(c *command.Ctx, args [][]byte)        { ttlCmd(c, args, true, false) }
func cmdExpireTime(c *command.Ctx, args [][]byte)  { ttlCmd(c, args, false, true) }
func cmdPExpireTime(c *command.Ctx, args [][]byte) { ttlCmd(c, args, true, true) }

// cmdPersist removes a key's TTL, including a tier default TTL: an explicit
// PERSIST is the tenant's decision (the quota still bounds its memory).
func cmdPersist(c *command.Ctx, args [][]byte) {
	done := false
	err := c.Part.Mutate(c.DB, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		done = exists && cur.ExpireAt != 0
		if !done {
			return cur, shard.Keep, nil
		}
		if e := c.RetentionErr(0, "persist"); e != "" {
			done = false
			return cur, shard.Keep, command.ReplyErr(e)
		}
		// Under the cap policy the partition caps the TTL at max_ttl:
		// the key "persists" as long as the tenant's keys may.
		return shard.Entry{ExpireAt: 0}, shard.SetTTL, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(done))
}

func cmdType(c *command.Ctx, args [][]byte) {
	var t shard.Type
	if c.Part.View(c.DB, args[1], 0, func(e shard.Entry) { t = e.Type }) {
		c.W.WriteString(t.String())
		return
	}
	c.W.WriteString("none")
}

// renameCmd serves RENAME and RENAMENX; the TTL moves with the value.
func renameCmd(c *command.Ctx, args [][]byte, nx bool) {
	src, dst := args[1], args[2]
	if string(src) == string(dst) {
		exists := c.Part.View(c.DB, src, 0, func(shard.Entry) {})
		switch {
		case !exists:
			c.W.WriteError(command.ErrNoSuchKey)
		case nx:
			c.W.WriteInt(0)
		default:
			c.W.WriteString("OK")
		}
		return
	}
	keys := []shard.Key{{DB: c.DB, Name: src}, {DB: c.DB, Name: dst}}
	done, isList := false, false
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		done = false
		if !exists[0] {
			return nil, nil, command.ReplyErr(command.ErrNoSuchKey)
		}
		if nx && exists[1] {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		done, isList = true, command.Poppable(cur[0].Type)
		return []shard.Entry{{}, cur[0]}, []shard.Action{shard.Delete, shard.Put}, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.SignalDB(c.DB, dst, done && isList)
	if nx {
		c.W.WriteInt(command.B2i(done))
		return
	}
	c.W.WriteString("OK")
}

func cmdRename(c *command.Ctx, args [][]byte)   { renameCmd(c, args, false) }
func cmdRenameNX(c *command.Ctx, args [][]byte) { renameCmd(c, args, true) }

// ParseCopy parses COPY's [DB index] [REPLACE] (args as COPY's, the
// connection in db) and refuses copying a key onto itself, with Redis's
// errors: bad is the error reply, "" when the options are good.
func ParseCopy(args [][]byte, db int) (dst int, replace bool, bad string) {
	dst = db
	for i := 3; i < len(args); i++ {
		switch {
		case command.EqFold(args[i], "replace"):
			replace = true
		case command.EqFold(args[i], "db") && i+1 < len(args):
			n, bad := command.ParseDB(args[i+1])
			if bad != "" {
				return 0, false, bad
			}
			dst = n
			i++
		default:
			return 0, false, command.ErrSyntax
		}
	}
	if dst == db && string(args[1]) == string(args[2]) {
		return 0, false, command.ErrSameObject
	}
	return dst, replace, ""
}

// CopyOptions is ParseCopy for the connection's db, writing the error;
// ok is false once one is written.
func CopyOptions(c *command.Ctx, args [][]byte) (db int, replace, ok bool) {
	db, replace, bad := ParseCopy(args, c.DB)
	if bad != "" {
		c.W.WriteError(bad)
		return 0, false, false
	}
	return db, replace, true
}

// cmdCopy: COPY source destination [DB index] [REPLACE], within the tenant.
func cmdCopy(c *command.Ctx, args [][]byte) {
	db, replace, ok := CopyOptions(c, args)
	if !ok {
		return
	}
	keys := []shard.Key{{DB: c.DB, Name: args[1]}, {DB: db, Name: args[2]}}
	done, isList := false, false
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		done = false
		if !exists[0] || exists[1] && !replace {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		done, isList = true, command.Poppable(cur[0].Type)
		cp := cur[0]
		if cp.Obj != nil {
			// A big collection is copied (an object lives at one key);
			// the partition reserves the copy's size before storing it.
			cp.Obj = value.Clone(cp.Obj).(shard.Object)
		}
		return []shard.Entry{cur[0], cp}, []shard.Action{shard.Keep, shard.Put}, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.SignalDB(db, args[2], done && isList)
	c.W.WriteInt(command.B2i(done))
}

func cmdRandomKey(c *command.Ctx, args [][]byte) {
	k, ok := c.Part.RandomKey(c.DB)
	if !ok {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(k)
}

// cmdKeys walks the tenant's keyspace in the selected db (O(n), as in
// Redis), a step of keysStep slots of one sub-shard at a time: under the
// sub-shard's lock it only copies the step's keys; the pattern is matched
// after the lock is released, with checkpoints (fair.go, "Long
// commands") between steps and every keysMatchYield+1 matches, so a
// glob over 200K keys is charged and paced as it runs and holds no lock
// for long.
//
// Consistency: as before, KEYS is not a point-in-time snapshot of the
// db, only of each step (Redis's single thread gives it one). A key
// present for the whole command is listed; a key written meanwhile may or
// may not be, and one deleted and re-created meanwhile may be listed
// twice (Partition.Scan's guarantee). The command holds its tenant's
// transaction lock shared throughout, checkpoints included, so no EXEC of
// the tenant runs in the middle of it.
func cmdKeys(c *command.Ctx, args [][]byte) {
	match := command.Matcher(args[1])
	var (
		out   []byte // matching keys, back to back
		offs  = []int{0}
		step  []byte // one step's keys, before matching
		ends  []int
		start int
	)
	var cursor uint64
	for {
		step, ends = step[:0], ends[:0]
		cursor, _ = c.Part.WalkKeys(c.DB, cursor, keysStep, func(k []byte, _ shard.Type) bool {
			if match == nil {
				out = append(out, k...)
				offs = append(offs, len(out))
			} else {
				step = append(step, k...)
				ends = append(ends, len(step))
			}
			return true
		})
		start = 0
		for i, end := range ends {
			if k := step[start:end]; match(k) {
				out = append(out, k...)
				offs = append(offs, len(out))
			}
			start = end
			if i&keysMatchYield == keysMatchYield {
				c.Yield()
			}
		}
		c.Yield()
		if cursor == 0 {
			break
		}
	}
	n := len(offs) - 1
	c.W.WriteArray(n)
	for i := range n {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield()
		}
		c.W.WriteBulk(out[offs[i]:offs[i+1]])
	}
}

const (
	// keysStep is how many slots KEYS and SCAN visit per sub-shard lock
	// hold: copying 1024 keys takes a few µs.
	keysStep = 1024
	// keysMatchYield: matching reaches a checkpoint every
	// keysMatchYield+1 keys (a glob costs up to a few µs a key).
	keysMatchYield = 63
)

// cmdScan: SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The
// cursor is opaque and meaningful only inside the caller's partition: any
// value another tenant's cursor could take only walks the caller's keys.
func cmdScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[1])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	typeFilter := ""
	match, count, ok := command.ScanOptions(c, args, 2, 10, func(opt []byte, rest [][]byte) int {
		if !command.EqFold(opt, "type") || len(rest) == 0 {
			return -1
		}
		typeFilter = string(command.LowerInto(nil, rest[0]))
		return 1
	})
	if !ok {
		return
	}
	typ := shard.AnyType
	if typeFilter != "" {
		t, known := shard.ParseType(typeFilter)
		if !known {
			// Redis 7 answers no keys (not an error) for an unknown or
			// not yet supported type name (list, set, zset, stream).
			match = func([]byte) bool { return false }
		}
		typ = t
	}
	next, out, offs := scanKeys(c, cursor, count, match, typ)
	c.W.WriteArray(2)
	c.W.WriteBulkString(command.Uitoa(next))
	c.W.WriteArray(len(offs) - 1)
	for i := range len(offs) - 1 {
		if i&command.ReplyYieldEvery == command.ReplyYieldEvery {
			c.Yield()
		}
		c.W.WriteBulk(out[offs[i]:offs[i+1]])
	}
}

// scanKeys is one SCAN call with Partition.ScanType's sampling (about count
// live keys examined, at most 10*count slots, keys of another type count
// but are not returned) walked as cmdKeys walks: keysStep slots per lock
// hold, the pattern matched outside the lock, checkpoints between steps.
// The matching keys are out[offs[i]:offs[i+1]].
func scanKeys(c *command.Ctx, cursor uint64, count int, match func([]byte) bool, typ shard.Type) (next uint64, out []byte, offs []int) {
	count = min(max(count, 1), shard.MaxScanCount)
	budget := 10 * count
	live, visited := 0, 0
	offs = []int{0}
	var ends []int
	for {
		ends = ends[:0]
		from := len(out)
		var v int
		cursor, v = c.Part.WalkKeys(c.DB, cursor, min(budget-visited, keysStep), func(k []byte, t shard.Type) bool {
			live++
			if typ == shard.AnyType || t == typ {
				out = append(out, k...)
				ends = append(ends, len(out))
			}
			return live < count
		})
		visited += v
		// Keep the step's keys that match, in place.
		w, start := from, from
		for i, end := range ends {
			k := out[start:end]
			start = end
			if match == nil || match(k) {
				w += copy(out[w:], k)
				offs = append(offs, w)
			}
			if i&keysMatchYield == keysMatchYield {
				c.Yield()
			}
		}
		out = out[:w]
		if cursor == 0 || live >= count || visited >= budget {
			return cursor, out, offs
		}
		c.Yield()
	}
}
