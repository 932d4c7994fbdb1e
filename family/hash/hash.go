// Package hash serves the hash commands: HSET HGET HMSET HMGET HGETALL HDEL HEXISTS HLEN HKEYS HVALS
// HINCRBY HINCRBYFLOAT HSETNX HSTRLEN HSCAN HRANDFIELD, with Redis 7's
// semantics, replies and error strings.
//
// A hash is one entry of type shard.TypeHash in one of two encodings, as
// in Redis: compact (value/hash.go, Redis's listpack: one buffer, rewritten
// per write) while it has at most hash-max-listpack-entries fields none
// longer than hash-max-listpack-value, then a value.HashTable (Redis's
// hashtable: O(1) per field), for good. The thresholds are the tenant's
// (Ctx.Limits, CONFIG SET). The conversion points are Redis 7.0's: a write
// any of whose fields or values is too long converts before it runs (for
// HSET, HMSET and HSETNX every argument counts, for HINCRBY* the field and
// the new value), and a write that leaves too many fields converts after.
//
// Writes go through hashWrite (command.CollWrite): a compact hash is
// rebuilt in a pooled buffer and Put, or converted; a table is changed in
// place by an edit whose growth (value.HashTable.PlanSet) the partition
// reserves before the commit runs. Reads go through hashView, which copies
// what the reply needs under the sub-shard lock and writes the reply after
// releasing it. The whole hash evicts, expires and moves as one key.
package hash

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// hashView runs fn on the hash at key, in either encoding.
func hashView(c *command.Ctx, key []byte, fn func(h value.HashView)) (found, wrong bool) {
	return command.CollEntry(c, key, shard.TypeHash, func(e shard.Entry) { fn(value.ViewHash(e.Value, e.Obj)) })
}

// hashCopy copies the whole hash, in the compact layout, into the
// client's scratch buffer (for replies that list it). ok is false when a
// reply was already written (WRONGTYPE) or the key is missing.
func hashCopy(c *command.Ctx, key []byte) (enc []byte, found, ok bool) {
	found, wrong := hashView(c, key, func(h value.HashView) { enc = h.AppendEncoding(c.Scratch[:0]) })
	if wrong {
		return nil, true, false
	}
	return enc, found, found
}

// hashSet sets fields to values in the hash at key, converting it as
// Redis does (see the package doc); added is the number of new fields.
// skip, when not nil, is asked first whether the write happens at all
// (HSETNX); it sees the hash as it is.
func hashSet(c *command.Ctx, key []byte, fields, values [][]byte, skip func(h value.HashView) bool) (added int, err error) {
	lim := c.Limits()
	err = command.CollWrite(c, key, shard.TypeHash,
		func(dst, cur []byte, _ bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			added = 0
			if skip != nil && skip(value.HashView{Enc: cur}) {
				return nil, 0, nil, false, nil
			}
			if lim.HashNeedsTable(fields, values) {
				t, err := value.HashTableFrom(cur)
				if err != nil {
					return nil, 0, nil, false, err
				}
				added = t.Set(fields, values)
				return nil, 0, t, true, nil
			}
			next, n, err := value.HashSet(dst, cur, fields, values)
			added = n
			if err == nil && lim.HashTooLong(value.HashLen(next)) {
				t, err := value.HashTableFrom(next)
				return next, 0, t, true, err
			}
			return next, 0, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.HashTable)
			added = 0
			if skip != nil && skip(value.HashView{Tab: t}) {
				return 0, false, false, nil
			}
			grow, n := t.PlanSet(fields, values)
			added = n
			return grow, true, false, nil
		},
		func(obj shard.Object) { obj.(*value.HashTable).Set(fields, values) })
	return added, err
}

func hsetCmd(c *command.Ctx, args [][]byte, name string) {
	if len(args)%2 != 0 {
		c.W.WriteError(command.ErrWrongArgs(name))
		return
	}
	fields, values := command.Pairs(args, 2)
	added, err := hashSet(c, args[1], fields, values, nil)
	if err != nil {
		c.StoreErr(err)
		return
	}
	if name == "hmset" {
		c.W.WriteString("OK")
		return
	}
	c.W.WriteInt(added)
}

// cmdHSet: HSET key field value [field value ...] -> fields added.
func cmdHSet(c *command.Ctx, args [][]byte) { hsetCmd(c, args, "hset") }

// cmdHMSet: HMSET key field value [field value ...] -> OK.
func cmdHMSet(c *command.Ctx, args [][]byte) { hsetCmd(c, args, "hmset") }

// cmdHSetNX: HSETNX key field value -> 1 if set, 0 if the field existed.
func cmdHSetNX(c *command.Ctx, args [][]byte) {
	added, err := hashSet(c, args[1], args[2:3], args[3:4], func(h value.HashView) bool {
		_, ok := h.Get(args[2])
		return ok
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(added)
}

// cmdHGet: HGET key field -> value or nil.
func cmdHGet(c *command.Ctx, args [][]byte) {
	var out []byte
	has := false
	if _, wrong := hashView(c, args[1], func(h value.HashView) {
		var v []byte
		if v, has = h.Get(args[2]); has {
			out = append(c.Scratch[:0], v...)
		}
	}); wrong {
		return
	}
	if !has {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(out)
	c.KeepScratch(out)
}

// cmdHMGet: HMGET key field [field ...] -> values, nil for missing fields.
func cmdHMGet(c *command.Ctx, args [][]byte) {
	fields := args[2:]
	var arena []byte
	offs := make([]int, len(fields)+1) // value i is arena[offs[i]:offs[i+1]]
	has := make([]bool, len(fields))
	if _, wrong := hashView(c, args[1], func(h value.HashView) {
		arena = c.Scratch[:0]
		for i, f := range fields {
			v, ok := h.Get(f)
			has[i] = ok
			arena = append(arena, v...)
			offs[i+1] = len(arena)
		}
	}); wrong {
		return
	}
	c.W.WriteArray(len(fields))
	for i := range fields {
		if !has[i] {
			c.W.WriteNull()
			continue
		}
		c.W.WriteBulk(arena[offs[i]:offs[i+1]])
	}
	c.KeepScratch(arena)
}

// cmdHGetAll: HGETALL key -> a map (RESP3) or flat field/value array.
func cmdHGetAll(c *command.Ctx, args [][]byte) {
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.W.WriteMap(0)
		}
		return
	}
	c.W.WriteMap(value.HashLen(enc))
	it := value.HashFields(enc)
	i := 0
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		if i++; i&command.ReplyYieldEvery == 0 {
			c.Yield() // a big HGETALL (fair.go, "Long commands")
		}
		c.W.WriteBulk(f)
		c.W.WriteBulk(v)
	}
	c.KeepScratch(enc)
}

// hashList answers HKEYS (keys) or HVALS (!keys).
func hashList(c *command.Ctx, args [][]byte, keys bool) {
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.W.WriteArray(0)
		}
		return
	}
	c.W.WriteArray(value.HashLen(enc))
	it := value.HashFields(enc)
	i := 0
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		if i++; i&command.ReplyYieldEvery == 0 {
			c.Yield()
		}
		if keys {
			c.W.WriteBulk(f)
		} else {
			c.W.WriteBulk(v)
		}
	}
	c.KeepScratch(enc)
}

func cmdHKeys(c *command.Ctx, args [][]byte) { hashList(c, args, true) }
func cmdHVals(c *command.Ctx, args [][]byte) { hashList(c, args, false) }

// cmdHDel: HDEL key field [field ...] -> fields removed; the key is deleted
// with its last field.
func cmdHDel(c *command.Ctx, args [][]byte) {
	fields := args[2:]
	removed := 0
	err := command.CollWrite(c, args[1], shard.TypeHash,
		func(dst, cur []byte, exists bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			removed = 0
			if !exists {
				return nil, 0, nil, false, nil
			}
			next, n, err := value.HashDel(dst, cur, fields)
			removed = n
			return next, 0, nil, n > 0, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			t := obj.(*value.HashTable)
			removed = t.PlanDel(fields)
			return 0, removed > 0, removed == t.Len(), nil
		},
		func(obj shard.Object) { obj.(*value.HashTable).Del(fields) })
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(removed)
}

// cmdHExists: HEXISTS key field -> 1 or 0.
func cmdHExists(c *command.Ctx, args [][]byte) {
	has := false
	if _, wrong := hashView(c, args[1], func(h value.HashView) { _, has = h.Get(args[2]) }); wrong {
		return
	}
	c.W.WriteInt(command.B2i(has))
}

// cmdHLen: HLEN key -> number of fields.
func cmdHLen(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(h value.HashView) { n = h.Len() }); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdHStrlen: HSTRLEN key field -> length of the value, 0 if missing.
func cmdHStrlen(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(h value.HashView) {
		v, _ := h.Get(args[2])
		n = len(v)
	}); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdHIncrBy: HINCRBY key field increment -> the new value.
func cmdHIncrBy(c *command.Ctx, args [][]byte) {
	incr, ok := command.ParseInt(args[3])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	var result int64
	var buf [24]byte
	err := hashIncr(c, args[1], args[2], func(v []byte, has bool) ([]byte, error) {
		var old int64
		if has {
			n, ok := command.ParseInt(v)
			if !ok {
				return nil, command.ReplyErr(command.ErrHashNotInt)
			}
			old = n
		}
		if incr < 0 && old < 0 && incr < math.MinInt64-old || incr > 0 && old > 0 && incr > math.MaxInt64-old {
			return nil, command.ReplyErr(command.ErrOverflow)
		}
		result = old + incr
		return strconv.AppendInt(buf[:0], result, 10), nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(result)
}

// hashIncr sets field to what next computes from its current value (has
// false when it is missing), in either encoding: HINCRBY's and
// HINCRBYFLOAT's read-modify-write. A field or new value longer than
// hash-max-listpack-value converts a compact hash first (Redis's
// hashTypeSet).
func hashIncr(c *command.Ctx, key, field []byte, next func(v []byte, has bool) ([]byte, error)) error {
	lim := c.Limits()
	fields := [][]byte{field}
	var vals [1][]byte
	return command.CollWrite(c, key, shard.TypeHash,
		func(dst, cur []byte, _ bool, _ uint8) ([]byte, uint8, shard.Object, bool, error) {
			v, has := value.HashGet(cur, field)
			nv, err := next(v, has)
			if err != nil {
				return nil, 0, nil, false, err
			}
			vals[0] = nv
			if lim.HashNeedsTable(fields, vals[:]) {
				t, err := value.HashTableFrom(cur)
				if err == nil {
					t.Set(fields, vals[:])
				}
				return nil, 0, t, true, err
			}
			enc, _, err := value.HashSet(dst, cur, fields, vals[:])
			if err == nil && lim.HashTooLong(value.HashLen(enc)) {
				t, err := value.HashTableFrom(enc)
				return enc, 0, t, true, err
			}
			return enc, 0, nil, true, err
		},
		func(obj shard.Object) (int64, bool, bool, error) {
			v, has := obj.(*value.HashTable).Get(field)
			nv, err := next(v, has)
			if err != nil {
				return 0, false, false, err
			}
			vals[0] = nv
			grow, _ := obj.(*value.HashTable).PlanSet(fields, vals[:])
			return grow, true, false, nil
		},
		func(obj shard.Object) { obj.(*value.HashTable).Set(fields, vals[:]) })
}

// cmdHIncrByFloat: HINCRBYFLOAT key field increment -> the new value as a
// bulk string, computed in long double precision like INCRBYFLOAT.
func cmdHIncrByFloat(c *command.Ctx, args [][]byte) {
	incr, ok := command.ParseLongDouble(args[3])
	if !ok {
		c.W.WriteError(command.ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.W.WriteError(command.ErrIncrNaNInf)
		return
	}
	var out string
	err := hashIncr(c, args[1], args[2], func(v []byte, has bool) ([]byte, error) {
		old := new(big.Float).SetPrec(command.LongDoublePrec)
		if has {
			f, ok := command.ParseLongDouble(v)
			if !ok {
				return nil, command.ReplyErr(command.ErrHashNotFloat)
			}
			old = f
		}
		if old.IsInf() {
			return nil, command.ReplyErr(command.ErrNaNInf)
		}
		sum := new(big.Float).SetPrec(command.LongDoublePrec).Add(old, incr)
		if new(big.Float).Abs(sum).Cmp(command.MaxLongDouble) > 0 {
			return nil, command.ReplyErr(command.ErrNaNInf)
		}
		out = command.FormatLongDouble(sum)
		return []byte(out), nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteBulkString(out)
}

// cmdHScan: HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES].
// A compact hash of up to value.HashScanAll fields is returned whole with
// cursor 0 (as Redis does for a listpack); a larger one, and a hash
// table, is paged in hash order: value.HashScan and value.HashTable.Scan
// share the cursor (the smallest field hash not yet returned), so a field
// present for the whole scan is returned even when the hash converts
// between two calls.
func cmdHScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	// The key first (WRONGTYPE and a missing key answer before the
	// options are read, as in Redis); a compact hash is copied now.
	var enc []byte
	big := false
	found, wrong := hashView(c, args[1], func(h value.HashView) {
		if big = h.Tab != nil; !big {
			enc = h.AppendEncoding(c.Scratch[:0])
		}
	})
	if wrong {
		return
	}
	if !found {
		command.MissEmptyScan(c, args)
		return
	}
	defer c.KeepScratch(enc)
	noValues := false
	match, count, ok := command.ScanOptions(c, args, 3, 10, func(opt []byte, _ [][]byte) int {
		if !command.EqFold(opt, "novalues") {
			return -1
		}
		noValues = true
		return 0
	})
	if !ok {
		return
	}
	var out [][]byte
	add := func(f, v []byte) {
		if match != nil && !match(f) {
			return
		}
		out = append(out, f)
		if !noValues {
			out = append(out, v)
		}
	}
	var next uint64
	if big {
		// One step under the lock, copied into a page of its own; the
		// pattern is matched after.
		page, step := hashScanStep(c, args[1], cursor, count)
		next = step
		it := value.HashFields(page)
		for f, v, more := it.Next(); more; f, v, more = it.Next() {
			add(f, v)
		}
		enc = page
	} else {
		var err error
		if next, err = value.HashScan(enc, cursor, count, add); err != nil {
			c.StoreErr(err)
			return
		}
	}
	command.WriteScanReply(c.W, next, out)
}

// hashScanStep runs one HSCAN step over the hash at key under the lock and
// returns the fields given, in the compact layout, and the next cursor. A
// key that changed type or went away since answers an empty last step.
func hashScanStep(c *command.Ctx, key []byte, cursor uint64, count int) (page []byte, next uint64) {
	c.Part.View(c.DB, key, 0, func(e shard.Entry) {
		h := value.ViewHash(e.Value, e.Obj)
		if e.Type != shard.TypeHash {
			return
		}
		var n int
		page = append(c.Scratch[:0], 0) // a placeholder count
		if h.Tab == nil {
			next, _ = value.HashScan(h.Enc, cursor, count, func(f, v []byte) { page = value.HashAppendPair(page, f, v); n++ })
		} else {
			next = h.Tab.Scan(cursor, count, func(f, v []byte) { page = value.HashAppendPair(page, f, v); n++ })
		}
		page = fixCount(page, n)
	})
	if page == nil {
		return value.HashAppendHeader(nil, 0), 0
	}
	return page, next
}

// fixCount replaces the one-byte placeholder count at page[0] by n.
func fixCount(page []byte, n int) []byte {
	if n < 0x80 {
		page[0] = byte(n)
		return page
	}
	return append(value.HashAppendHeader(nil, n), page[1:]...)
}

// cmdHRandField: HRANDFIELD key [count [WITHVALUES]]. Without count: one
// random field or nil. count > 0: up to count distinct fields (the whole
// hash, in order, when count >= its size); count < 0: -count fields that
// may repeat. WITHVALUES replies field/value pairs: flat in RESP2, one
// two-element array per pair in RESP3, as Redis 7.
//
// A hash table is sampled under the lock (value.HashTable.Random), so the
// work and the copy are O(count), not O(size), unless count is a third of
// the hash or more (then the hash is copied and shuffled, as Redis does).
func cmdHRandField(c *command.Ctx, args [][]byte) {
	if len(args) == 2 {
		var f []byte
		found, wrong := hashView(c, args[1], func(h value.HashView) {
			if h.Tab != nil {
				rf, _ := h.Tab.Random()
				f = append(c.Scratch[:0], rf...)
				return
			}
			rf, _ := nthField(h.Enc, rand.IntN(h.Len()))
			f = append(c.Scratch[:0], rf...)
		})
		switch {
		case wrong:
		case !found:
			c.W.WriteNull()
		default:
			c.W.WriteBulk(f)
			c.KeepScratch(f)
		}
		return
	}
	l, withValues, ok := command.RandCount(c, args, "withvalues")
	if !ok {
		return
	}
	// Under the lock: the whole hash (compact, or count large), or a
	// sample of a table; tooLarge when a repeating reply would not fit.
	var enc []byte
	sampled, tooLarge := false, false
	found, wrong := hashView(c, args[1], func(h value.HashView) {
		size := h.Len()
		switch {
		case h.Tab == nil || l == 0 || l > 0 && l*3 >= int64(size):
			enc = h.AppendEncoding(c.Scratch[:0])
		case l > 0:
			sampled = true
			enc = sampleDistinct(c.Scratch[:0], h.Tab, int(l))
		default:
			avg := int(h.Tab.Bytes() / int64(max(size, 1)))
			if tooLarge = !c.RandReplyFits(-l, avg, withValues); tooLarge {
				return
			}
			sampled = true
			enc = value.HashAppendHeader(c.Scratch[:0], int(-l))
			for range -l {
				f, v := h.Tab.Random()
				enc = value.HashAppendPair(enc, f, v)
			}
		}
	})
	if wrong {
		return
	}
	if !found {
		c.W.WriteArray(0)
		return
	}
	defer c.KeepScratch(enc)
	if tooLarge {
		c.W.WriteError(command.ErrRandTooLarge)
		return
	}
	if l == 0 {
		c.W.WriteArray(0)
		return
	}
	size := value.HashLen(enc)
	type pair struct{ f, v []byte }
	all := make([]pair, 0, size)
	it := value.HashFields(enc)
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		all = append(all, pair{f, v})
	}
	var pick []pair
	switch {
	case sampled || l > 0 && l >= int64(size):
		pick = all
	case l > 0:
		// Partial Fisher-Yates: l distinct fields in random order.
		for i := range int(l) {
			j := i + rand.IntN(size-i)
			all[i], all[j] = all[j], all[i]
		}
		pick = all[:l]
	default:
		count := -l
		if !c.RandReplyFits(count, len(enc)/max(size, 1), withValues) {
			c.W.WriteError(command.ErrRandTooLarge)
			return
		}
		n := int(count)
		c.WriteRandHeader(n, withValues)
		for range n {
			p := all[rand.IntN(size)]
			c.WriteRandPair(p.f, p.v, withValues)
			if c.Conn.WriteErr() != nil {
				return // the connection is dead: stop producing
			}
		}
		return
	}
	c.WriteRandHeader(len(pick), withValues)
	for _, p := range pick {
		c.WriteRandPair(p.f, p.v, withValues)
	}
}

// sampleDistinct appends n distinct random fields of t (n well under its
// size) with their values, in the compact layout.
func sampleDistinct(dst []byte, t *value.HashTable, n int) []byte {
	seen := make(map[string]struct{}, n)
	dst = value.HashAppendHeader(dst, n)
	for len(seen) < n {
		f, v := t.Random()
		if _, dup := seen[string(f)]; dup {
			continue
		}
		seen[string(f)] = struct{}{}
		dst = value.HashAppendPair(dst, f, v)
	}
	return dst
}

// nthField is the i-th field of an encoded hash and its value.
func nthField(enc []byte, i int) (field, val []byte) {
	it := value.HashFields(enc)
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		if i == 0 {
			return f, v
		}
		i--
	}
	return nil, nil
}
