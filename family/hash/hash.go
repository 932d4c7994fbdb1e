// Package hash serves the hash commands: HSET HGET HMSET HMGET HGETALL HDEL HEXISTS HLEN HKEYS HVALS
// HINCRBY HINCRBYFLOAT HSETNX HSTRLEN HSCAN HRANDFIELD, with Redis 7's
// semantics, replies and error strings.
//
// A hash is one entry of type shard.TypeHash whose value is the encoding
// of value/hash.go. Writes go through hashUpdate (one Partition.Mutate:
// decode, build the next encoding in a pooled buffer, Put), so the quota is
// reserved for the hash's growth before it is stored, and the whole hash
// evicts, expires and moves as one key. Reads go through hashView, which
// copies what the reply needs under the sub-shard lock and writes the reply
// after releasing it. This is the pattern for the other container types:
// a type in shard.Type, an encoding in package value, handlers in a
// family package, their rows in its Specs, the shared helpers in package
// command (CollUpdate, CollView, CountUpdate).
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

func hashUpdate(c *command.Ctx, key []byte, build command.BuildFn) error {
	return command.CollUpdate(c, key, shard.TypeHash, build)
}
func hashView(c *command.Ctx, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return command.CollView(c, key, shard.TypeHash, fn)
}
func hashCopy(c *command.Ctx, key []byte) (enc []byte, found, ok bool) {
	return command.CollCopy(c, key, shard.TypeHash)
}

func hsetCmd(c *command.Ctx, args [][]byte, name string) {
	if len(args)%2 != 0 {
		c.W.WriteError(command.ErrWrongArgs(name))
		return
	}
	fields, values := command.Pairs(args, 2)
	added := 0
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		next, n, err := value.HashSet(dst, cur, fields, values)
		added = n
		return next, true, err
	})
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
	set := false
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		if _, ok := value.HashGet(cur, args[2]); ok {
			set = false
			return nil, false, nil
		}
		set = true
		next, _, err := value.HashSet(dst, cur, args[2:3], args[3:4])
		return next, true, err
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(command.B2i(set))
}

// cmdHGet: HGET key field -> value or nil.
func cmdHGet(c *command.Ctx, args [][]byte) {
	var out []byte
	has := false
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		var v []byte
		if v, has = value.HashGet(enc, args[2]); has {
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
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		arena = c.Scratch[:0]
		for i, f := range fields {
			v, ok := value.HashGet(enc, f)
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
	command.CountUpdate(c, args[1], shard.TypeHash, false, func(dst, cur []byte) ([]byte, int, error) {
		return value.HashDel(dst, cur, args[2:])
	})
}

// cmdHExists: HEXISTS key field -> 1 or 0.
func cmdHExists(c *command.Ctx, args [][]byte) {
	has := false
	if _, wrong := hashView(c, args[1], func(enc []byte) { _, has = value.HashGet(enc, args[2]) }); wrong {
		return
	}
	c.W.WriteInt(command.B2i(has))
}

// cmdHLen: HLEN key -> number of fields.
func cmdHLen(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(enc []byte) { n = value.HashLen(enc) }); wrong {
		return
	}
	c.W.WriteInt(n)
}

// cmdHStrlen: HSTRLEN key field -> length of the value, 0 if missing.
func cmdHStrlen(c *command.Ctx, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		v, _ := value.HashGet(enc, args[2])
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
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		var old int64
		if v, has := value.HashGet(cur, args[2]); has {
			n, ok := command.ParseInt(v)
			if !ok {
				return nil, false, command.ReplyErr(command.ErrHashNotInt)
			}
			old = n
		}
		if incr < 0 && old < 0 && incr < math.MinInt64-old || incr > 0 && old > 0 && incr > math.MaxInt64-old {
			return nil, false, command.ReplyErr(command.ErrOverflow)
		}
		result = old + incr
		v := strconv.AppendInt(buf[:0], result, 10)
		next, _, err := value.HashSet(dst, cur, args[2:3], [][]byte{v})
		return next, true, err
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt64(result)
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
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		old := new(big.Float).SetPrec(command.LongDoublePrec)
		if v, has := value.HashGet(cur, args[2]); has {
			f, ok := command.ParseLongDouble(v)
			if !ok {
				return nil, false, command.ReplyErr(command.ErrHashNotFloat)
			}
			old = f
		}
		if old.IsInf() {
			return nil, false, command.ReplyErr(command.ErrNaNInf)
		}
		sum := new(big.Float).SetPrec(command.LongDoublePrec).Add(old, incr)
		if new(big.Float).Abs(sum).Cmp(command.MaxLongDouble) > 0 {
			return nil, false, command.ReplyErr(command.ErrNaNInf)
		}
		out = command.FormatLongDouble(sum)
		next, _, err := value.HashSet(dst, cur, args[2:3], [][]byte{[]byte(out)})
		return next, true, err
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteBulkString(out)
}

// cmdHScan: HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES].
// A hash of up to value.HashScanAll fields is returned whole with cursor 0
// (as Redis does for a listpack); a larger one is paged (see
// value.HashScan for the guarantee).
func cmdHScan(c *command.Ctx, args [][]byte) {
	cursor, ok := command.ParseUint(args[2])
	if !ok {
		c.W.WriteError(command.ErrInvalidCursor)
		return
	}
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if found { // WRONGTYPE written
			return
		}
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
	next, err := value.HashScan(enc, cursor, count, func(f, v []byte) {
		if match != nil && !match(f) {
			return
		}
		out = append(out, f)
		if !noValues {
			out = append(out, v)
		}
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	command.WriteScanReply(c.W, next, out)
}

// cmdHRandField: HRANDFIELD key [count [WITHVALUES]]. Without count: one
// random field or nil. count > 0: up to count distinct fields (the whole
// hash, in order, when count >= its size); count < 0: -count fields that
// may repeat. WITHVALUES replies field/value pairs: flat in RESP2, one
// two-element array per pair in RESP3, as Redis 7.
func cmdHRandField(c *command.Ctx, args [][]byte) {
	if len(args) == 2 {
		enc, found, ok := hashCopy(c, args[1])
		if !ok {
			if !found {
				c.W.WriteNull()
			}
			return
		}
		f, _ := nthField(enc, rand.IntN(value.HashLen(enc)))
		c.W.WriteBulk(f)
		c.KeepScratch(enc)
		return
	}
	l, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		c.W.WriteError(command.ErrRangeNotMinInt)
		return
	}
	withValues := false
	switch {
	case len(args) > 4 || len(args) == 4 && !command.EqFold(args[3], "withvalues"):
		c.W.WriteError(command.ErrSyntax)
		return
	case len(args) == 4:
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.W.WriteError(command.ErrOutOfRange)
			return
		}
	}
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.W.WriteArray(0)
		}
		return
	}
	defer c.KeepScratch(enc)
	size := value.HashLen(enc)
	if l == 0 {
		c.W.WriteArray(0)
		return
	}
	type pair struct{ f, v []byte }
	all := make([]pair, 0, size)
	it := value.HashFields(enc)
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		all = append(all, pair{f, v})
	}
	var pick []pair
	if l > 0 {
		if l >= int64(size) {
			pick = all
		} else {
			// Partial Fisher-Yates: l distinct fields in random order.
			for i := range int(l) {
				j := i + rand.IntN(size-i)
				all[i], all[j] = all[j], all[i]
			}
			pick = all[:l]
		}
	} else if count := -l; !c.RandReplyFits(count, len(enc)/max(size, 1), withValues) {
		c.W.WriteError(command.ErrRandTooLarge)
		return
	} else {
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
