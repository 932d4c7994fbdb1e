package server

import (
	"math"

	"github.com/tcached/tcached/shard"
)

func cmdDel(c *client, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.part().Delete(c.db, k) {
			n++
		}
	}
	c.conn.WriteInt(n)
}

// cmdExists counts every argument that exists, duplicates included.
func cmdExists(c *client, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.part().View(c.db, k, shard.ViewStats, func(shard.Entry) {}) {
			n++
		}
	}
	c.conn.WriteInt(n)
}

func cmdTouch(c *client, args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		if c.part().View(c.db, k, shard.ViewTouch, func(shard.Entry) {}) {
			n++
		}
	}
	c.conn.WriteInt(n)
}

// expireCmd serves EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with Redis 7's
// NX/XX/GT/LT options. A time in the past deletes the key.
func expireCmd(c *client, args [][]byte, name string, unitMs int64, absolute bool) {
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case eqFold(a, "nx"):
			nx = true
		case eqFold(a, "xx"):
			xx = true
		case eqFold(a, "gt"):
			gt = true
		case eqFold(a, "lt"):
			lt = true
		default:
			c.conn.WriteError("ERR Unsupported option " + string(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.conn.WriteError(errExpireOptions)
		return
	}
	if gt && lt {
		c.conn.WriteError(errGTLTOptions)
		return
	}
	when, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	if unitMs == 1000 && (when > math.MaxInt64/1000 || when < math.MinInt64/1000) {
		c.conn.WriteError(errInvalidExpire(name))
		return
	}
	when *= unitMs
	now := c.nowMs()
	if !absolute {
		if when > 0 && now > math.MaxInt64-when || when < 0 && now < math.MinInt64-when {
			c.conn.WriteError(errInvalidExpire(name))
			return
		}
		when += now
	}
	done := false
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
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
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(b2i(done))
}

func cmdExpire(c *client, args [][]byte)    { expireCmd(c, args, "expire", 1000, false) }
func cmdPExpire(c *client, args [][]byte)   { expireCmd(c, args, "pexpire", 1, false) }
func cmdExpireAt(c *client, args [][]byte)  { expireCmd(c, args, "expireat", 1000, true) }
func cmdPExpireAt(c *client, args [][]byte) { expireCmd(c, args, "pexpireat", 1, true) }

// ttlCmd serves TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL.
func ttlCmd(c *client, args [][]byte, ms, abs bool) {
	var expireAt int64
	if !c.part().View(c.db, args[1], 0, func(e shard.Entry) { expireAt = e.ExpireAt }) {
		c.conn.WriteInt(-2)
		return
	}
	if expireAt == 0 {
		c.conn.WriteInt(-1)
		return
	}
	v := expireAt
	if !abs {
		v -= c.nowMs()
	}
	if v < 0 {
		v = 0
	}
	if !ms {
		v = (v + 500) / 1000
	}
	c.conn.WriteInt64(v)
}

func cmdTTL(c *client, args [][]byte)         { ttlCmd(c, args, false, false) }
func cmdPTTL(c *client, args [][]byte)        { ttlCmd(c, args, true, false) }
func cmdExpireTime(c *client, args [][]byte)  { ttlCmd(c, args, false, true) }
func cmdPExpireTime(c *client, args [][]byte) { ttlCmd(c, args, true, true) }

// cmdPersist removes a key's TTL, including a tier default TTL: an explicit
// PERSIST is the tenant's decision (the quota still bounds its memory).
func cmdPersist(c *client, args [][]byte) {
	done := false
	err := c.part().Mutate(c.db, args[1], func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		done = exists && cur.ExpireAt != 0
		if !done {
			return cur, shard.Keep, nil
		}
		return shard.Entry{ExpireAt: 0}, shard.SetTTL, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(b2i(done))
}

func cmdType(c *client, args [][]byte) {
	var t shard.Type
	if c.part().View(c.db, args[1], 0, func(e shard.Entry) { t = e.Type }) {
		c.conn.WriteString(t.String())
		return
	}
	c.conn.WriteString("none")
}

// renameCmd serves RENAME and RENAMENX; the TTL moves with the value.
func renameCmd(c *client, args [][]byte, nx bool) {
	src, dst := args[1], args[2]
	if string(src) == string(dst) {
		exists := c.part().View(c.db, src, 0, func(shard.Entry) {})
		switch {
		case !exists:
			c.conn.WriteError(errNoSuchKey)
		case nx:
			c.conn.WriteInt(0)
		default:
			c.conn.WriteString("OK")
		}
		return
	}
	keys := []shard.Key{{DB: c.db, Name: src}, {DB: c.db, Name: dst}}
	done, isList := false, false
	err := c.part().Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		done = false
		if !exists[0] {
			return nil, nil, replyErr(errNoSuchKey)
		}
		if nx && exists[1] {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		done, isList = true, cur[0].Type == shard.TypeList
		return []shard.Entry{{}, cur[0]}, []shard.Action{shard.Delete, shard.Put}, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	listSignalDB(c, c.db, dst, done && isList)
	if nx {
		c.conn.WriteInt(b2i(done))
		return
	}
	c.conn.WriteString("OK")
}

func cmdRename(c *client, args [][]byte)   { renameCmd(c, args, false) }
func cmdRenameNX(c *client, args [][]byte) { renameCmd(c, args, true) }

// copyOptions parses COPY's [DB index] [REPLACE] and refuses copying a
// key onto itself, with Redis's errors; ok is false once one is written.
func copyOptions(c *client, args [][]byte) (db int, replace, ok bool) {
	db = c.db
	for i := 3; i < len(args); i++ {
		switch {
		case eqFold(args[i], "replace"):
			replace = true
		case eqFold(args[i], "db") && i+1 < len(args):
			n, isInt := parseInt(args[i+1])
			if !isInt {
				c.conn.WriteError(errNotInteger)
				return 0, false, false
			}
			if n < 0 || n >= numDBs {
				c.conn.WriteError(errDBRange)
				return 0, false, false
			}
			db = int(n)
			i++
		default:
			c.conn.WriteError(errSyntax)
			return 0, false, false
		}
	}
	if db == c.db && string(args[1]) == string(args[2]) {
		c.conn.WriteError(errSameObject)
		return 0, false, false
	}
	return db, replace, true
}

// cmdCopy: COPY source destination [DB index] [REPLACE], within the tenant.
func cmdCopy(c *client, args [][]byte) {
	db, replace, ok := copyOptions(c, args)
	if !ok {
		return
	}
	keys := []shard.Key{{DB: c.db, Name: args[1]}, {DB: db, Name: args[2]}}
	done, isList := false, false
	err := c.part().Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		done = false
		if !exists[0] || exists[1] && !replace {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		done, isList = true, cur[0].Type == shard.TypeList
		return []shard.Entry{cur[0], cur[0]}, []shard.Action{shard.Keep, shard.Put}, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	listSignalDB(c, db, args[2], done && isList)
	c.conn.WriteInt(b2i(done))
}

func cmdRandomKey(c *client, args [][]byte) {
	k, ok := c.part().RandomKey(c.db)
	if !ok {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulk(k)
}

func matcher(pattern []byte) func([]byte) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return nil
	}
	p := append([]byte(nil), pattern...)
	return func(k []byte) bool { return globMatch(p, k, false) }
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
func cmdKeys(c *client, args [][]byte) {
	match := matcher(args[1])
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
		cursor, _ = c.part().WalkKeys(c.db, cursor, keysStep, func(k []byte, _ shard.Type) bool {
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
				c.yield()
			}
		}
		c.yield()
		if cursor == 0 {
			break
		}
	}
	n := len(offs) - 1
	c.conn.WriteArray(n)
	for i := range n {
		if i&replyYieldEvery == replyYieldEvery {
			c.yield()
		}
		c.conn.WriteBulk(out[offs[i]:offs[i+1]])
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

// scanOptions parses the options SCAN, HSCAN, SSCAN and ZSCAN share from
// args[from:]: MATCH pattern and COUNT n (n >= 1, capped at 2^20), with
// Redis's errors. extra, when not nil, sees each option first and claims
// it by returning how many of the following arguments it used (SCAN's
// TYPE t uses 1, HSCAN's NOVALUES 0), or -1 to leave it. On bad input the
// error is written and ok is false.
func scanOptions(c *client, args [][]byte, from, count int, extra func(opt []byte, rest [][]byte) int) (match func([]byte) bool, n int, ok bool) {
	for i := from; i < len(args); {
		if extra != nil {
			if used := extra(args[i], args[i+1:]); used >= 0 {
				i += 1 + used
				continue
			}
		}
		if i+1 >= len(args) {
			c.conn.WriteError(errSyntax)
			return nil, 0, false
		}
		switch {
		case eqFold(args[i], "match"):
			match = matcher(args[i+1])
		case eqFold(args[i], "count"):
			v, isInt := parseInt(args[i+1])
			if !isInt {
				c.conn.WriteError(errNotInteger)
				return nil, 0, false
			}
			if v < 1 {
				c.conn.WriteError(errSyntax)
				return nil, 0, false
			}
			count = int(min(v, 1<<20))
		default:
			c.conn.WriteError(errSyntax)
			return nil, 0, false
		}
		i += 2
	}
	return match, count, true
}

// cmdScan: SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The
// cursor is opaque and meaningful only inside the caller's partition: any
// value another tenant's cursor could take only walks the caller's keys.
func cmdScan(c *client, args [][]byte) {
	cursor, ok := parseUint(args[1])
	if !ok {
		c.conn.WriteError(errInvalidCursor)
		return
	}
	typeFilter := ""
	match, count, ok := scanOptions(c, args, 2, 10, func(opt []byte, rest [][]byte) int {
		if !eqFold(opt, "type") || len(rest) == 0 {
			return -1
		}
		typeFilter = string(lowerInto(nil, rest[0]))
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
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(uitoa(next))
	c.conn.WriteArray(len(offs) - 1)
	for i := range len(offs) - 1 {
		if i&replyYieldEvery == replyYieldEvery {
			c.yield()
		}
		c.conn.WriteBulk(out[offs[i]:offs[i+1]])
	}
}

// scanKeys is one SCAN call with Partition.ScanType's sampling (about count
// live keys examined, at most 10*count slots, keys of another type count
// but are not returned) walked as cmdKeys walks: keysStep slots per lock
// hold, the pattern matched outside the lock, checkpoints between steps.
// The matching keys are out[offs[i]:offs[i+1]].
func scanKeys(c *client, cursor uint64, count int, match func([]byte) bool, typ shard.Type) (next uint64, out []byte, offs []int) {
	count = min(max(count, 1), shard.MaxScanCount)
	budget := 10 * count
	live, visited := 0, 0
	offs = []int{0}
	var ends []int
	for {
		ends = ends[:0]
		from := len(out)
		var v int
		cursor, v = c.part().WalkKeys(c.db, cursor, min(budget-visited, keysStep), func(k []byte, t shard.Type) bool {
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
				c.yield()
			}
		}
		out = out[:w]
		if cursor == 0 || live >= count || visited >= budget {
			return cursor, out, offs
		}
		c.yield()
	}
}
