package server

// Hash commands: HSET HGET HMSET HMGET HGETALL HDEL HEXISTS HLEN HKEYS HVALS
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
// a type in shard.Type, an encoding in package value, handlers here.

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
	errIncrNaNInf   = "ERR value is NaN or Infinity"
	errOutOfRange   = "ERR value is out of range"
	errRandTooLarge = "ERR HRANDFIELD count too large: its reply would exceed the client output buffer limit"
)

// encBufs pools the buffers hash writes build their next encoding in (the
// partition copies it into the entry), so a write to a hash allocates no
// new buffer per command.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledEnc is the largest buffer returned to encBufs.
const maxPooledEnc = 64 << 10

// collUpdate changes the collection of type typ at key (hashes, lists,
// sets and sorted sets share it). build gets the current encoding (nil
// when the key is missing) and a buffer to append the next one to; it
// returns the next encoding and whether anything changed. build may run
// more than once (see Partition.Mutate) and must only record results. A
// key of another type is WRONGTYPE; a collection left empty is deleted
// (every encoding starts with its element count, see value.HashLen); a new
// one gets the tier's default TTL and an existing one keeps its TTL.
func collUpdate(c *client, key []byte, typ shard.Type, build func(dst, cur []byte, exists bool) (next []byte, changed bool, err error)) error {
	bp := encBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledEnc {
			*bp = (*bp)[:0]
			encBufs.Put(bp)
		}
	}()
	now := c.nowMs()
	return c.part().Mutate(c.db, key, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
		if exists && cur.Type != typ {
			return cur, shard.Keep, wrongTypeErr
		}
		next, changed, err := build((*bp)[:0], cur.Value, exists)
		if next != nil {
			*bp = next[:0] // keep a grown buffer for the next attempt
		}
		if err != nil || !changed {
			return cur, shard.Keep, err
		}
		if value.HashLen(next) == 0 {
			return cur, shard.Delete, nil
		}
		expireAt := cur.ExpireAt
		if !exists {
			expireAt = c.defaultExpire(now)
		}
		return shard.Entry{Value: next, ExpireAt: expireAt, Type: typ}, shard.Put, nil
	})
}

// collView runs fn on the encoding of the collection of type typ at key
// under the sub-shard lock (counting a hit or miss and touching the key,
// as Redis's lookupKeyRead does). fn must copy what it keeps. It reports
// whether the key exists; a key of another type answers WRONGTYPE and
// reports wrong.
func collView(c *client, key []byte, typ shard.Type, fn func(enc []byte)) (found, wrong bool) {
	found = c.part().View(c.db, key, shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		if e.Type != typ {
			wrong = true
			return
		}
		fn(e.Value)
	})
	if wrong {
		c.conn.WriteError(errWrongType)
	}
	return found, wrong
}

// collCopy copies the whole encoding of the collection at key into the
// client's scratch buffer (for replies that list it). ok is false when a
// reply was already written (WRONGTYPE) or the key is missing (found false).
func collCopy(c *client, key []byte, typ shard.Type) (enc []byte, found, ok bool) {
	found, wrong := collView(c, key, typ, func(b []byte) { enc = append(c.scratch[:0], b...) })
	if wrong {
		return nil, true, false
	}
	return enc, found, found
}

type buildFn = func(dst, cur []byte, exists bool) (next []byte, changed bool, err error)

// countUpdate runs op on a collection key's encoding and answers the count
// op returns (members added or removed) as an integer; the key changes
// only when the count is not 0. A missing key answers 0 without calling
// op, unless create is set (SADD builds the key from nothing).
func countUpdate(c *client, key []byte, typ shard.Type, create bool, op func(dst, cur []byte) (next []byte, n int, err error)) {
	n := 0
	err := collUpdate(c, key, typ, func(dst, cur []byte, exists bool) ([]byte, bool, error) {
		n = 0
		if !exists && !create {
			return nil, false, nil
		}
		next, k, err := op(dst, cur)
		n = k
		return next, k > 0, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(n)
}

func hashUpdate(c *client, key []byte, build buildFn) error {
	return collUpdate(c, key, shard.TypeHash, build)
}
func hashView(c *client, key []byte, fn func(enc []byte)) (found, wrong bool) {
	return collView(c, key, shard.TypeHash, fn)
}
func hashCopy(c *client, key []byte) (enc []byte, found, ok bool) {
	return collCopy(c, key, shard.TypeHash)
}

// keepScratch keeps a buffer built on c.scratch for the next command when
// it is not too large.
func keepScratch(c *client, b []byte) {
	if b != nil && cap(b) <= maxPooledEnc {
		c.scratch = b[:0]
	}
}

// pairs splits field/value arguments starting at args[from].
func pairs(args [][]byte, from int) (fields, values [][]byte) {
	n := (len(args) - from) / 2
	fields = make([][]byte, n)
	values = make([][]byte, n)
	for i := range n {
		fields[i], values[i] = args[from+2*i], args[from+2*i+1]
	}
	return fields, values
}

func hsetCmd(c *client, args [][]byte, name string) {
	if len(args)%2 != 0 {
		c.conn.WriteError(errWrongArgs(name))
		return
	}
	fields, values := pairs(args, 2)
	added := 0
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		next, n, err := value.HashSet(dst, cur, fields, values)
		added = n
		return next, true, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	if name == "hmset" {
		c.conn.WriteString("OK")
		return
	}
	c.conn.WriteInt(added)
}

// cmdHSet: HSET key field value [field value ...] -> fields added.
func cmdHSet(c *client, args [][]byte) { hsetCmd(c, args, "hset") }

// cmdHMSet: HMSET key field value [field value ...] -> OK.
func cmdHMSet(c *client, args [][]byte) { hsetCmd(c, args, "hmset") }

// cmdHSetNX: HSETNX key field value -> 1 if set, 0 if the field existed.
func cmdHSetNX(c *client, args [][]byte) {
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
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt(b2i(set))
}

// cmdHGet: HGET key field -> value or nil.
func cmdHGet(c *client, args [][]byte) {
	var out []byte
	has := false
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		var v []byte
		if v, has = value.HashGet(enc, args[2]); has {
			out = append(c.scratch[:0], v...)
		}
	}); wrong {
		return
	}
	if !has {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulk(out)
	keepScratch(c, out)
}

// cmdHMGet: HMGET key field [field ...] -> values, nil for missing fields.
func cmdHMGet(c *client, args [][]byte) {
	fields := args[2:]
	var arena []byte
	offs := make([]int, len(fields)+1) // value i is arena[offs[i]:offs[i+1]]
	has := make([]bool, len(fields))
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		arena = c.scratch[:0]
		for i, f := range fields {
			v, ok := value.HashGet(enc, f)
			has[i] = ok
			arena = append(arena, v...)
			offs[i+1] = len(arena)
		}
	}); wrong {
		return
	}
	c.conn.WriteArray(len(fields))
	for i := range fields {
		if !has[i] {
			c.conn.WriteNull()
			continue
		}
		c.conn.WriteBulk(arena[offs[i]:offs[i+1]])
	}
	keepScratch(c, arena)
}

// cmdHGetAll: HGETALL key -> a map (RESP3) or flat field/value array.
func cmdHGetAll(c *client, args [][]byte) {
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.conn.WriteMap(0)
		}
		return
	}
	c.conn.WriteMap(value.HashLen(enc))
	it := value.HashFields(enc)
	i := 0
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		if i++; i&replyYieldEvery == 0 {
			c.yield() // a big HGETALL (fair.go, "Long commands")
		}
		c.conn.WriteBulk(f)
		c.conn.WriteBulk(v)
	}
	keepScratch(c, enc)
}

// hashList answers HKEYS (keys) or HVALS (!keys).
func hashList(c *client, args [][]byte, keys bool) {
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.conn.WriteArray(0)
		}
		return
	}
	c.conn.WriteArray(value.HashLen(enc))
	it := value.HashFields(enc)
	i := 0
	for f, v, more := it.Next(); more; f, v, more = it.Next() {
		if i++; i&replyYieldEvery == 0 {
			c.yield()
		}
		if keys {
			c.conn.WriteBulk(f)
		} else {
			c.conn.WriteBulk(v)
		}
	}
	keepScratch(c, enc)
}

func cmdHKeys(c *client, args [][]byte) { hashList(c, args, true) }
func cmdHVals(c *client, args [][]byte) { hashList(c, args, false) }

// cmdHDel: HDEL key field [field ...] -> fields removed; the key is deleted
// with its last field.
func cmdHDel(c *client, args [][]byte) {
	countUpdate(c, args[1], shard.TypeHash, false, func(dst, cur []byte) ([]byte, int, error) {
		return value.HashDel(dst, cur, args[2:])
	})
}

// cmdHExists: HEXISTS key field -> 1 or 0.
func cmdHExists(c *client, args [][]byte) {
	has := false
	if _, wrong := hashView(c, args[1], func(enc []byte) { _, has = value.HashGet(enc, args[2]) }); wrong {
		return
	}
	c.conn.WriteInt(b2i(has))
}

// cmdHLen: HLEN key -> number of fields.
func cmdHLen(c *client, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(enc []byte) { n = value.HashLen(enc) }); wrong {
		return
	}
	c.conn.WriteInt(n)
}

// cmdHStrlen: HSTRLEN key field -> length of the value, 0 if missing.
func cmdHStrlen(c *client, args [][]byte) {
	n := 0
	if _, wrong := hashView(c, args[1], func(enc []byte) {
		v, _ := value.HashGet(enc, args[2])
		n = len(v)
	}); wrong {
		return
	}
	c.conn.WriteInt(n)
}

// cmdHIncrBy: HINCRBY key field increment -> the new value.
func cmdHIncrBy(c *client, args [][]byte) {
	incr, ok := parseInt(args[3])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	var result int64
	var buf [24]byte
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		var old int64
		if v, has := value.HashGet(cur, args[2]); has {
			n, ok := parseInt(v)
			if !ok {
				return nil, false, replyErr(errHashNotInt)
			}
			old = n
		}
		if incr < 0 && old < 0 && incr < math.MinInt64-old || incr > 0 && old > 0 && incr > math.MaxInt64-old {
			return nil, false, replyErr(errOverflow)
		}
		result = old + incr
		v := strconv.AppendInt(buf[:0], result, 10)
		next, _, err := value.HashSet(dst, cur, args[2:3], [][]byte{v})
		return next, true, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteInt64(result)
}

// cmdHIncrByFloat: HINCRBYFLOAT key field increment -> the new value as a
// bulk string, computed in long double precision like INCRBYFLOAT.
func cmdHIncrByFloat(c *client, args [][]byte) {
	incr, ok := parseLongDouble(args[3])
	if !ok {
		c.conn.WriteError(errNotFloat)
		return
	}
	if incr.IsInf() {
		c.conn.WriteError(errIncrNaNInf)
		return
	}
	var out string
	err := hashUpdate(c, args[1], func(dst, cur []byte, _ bool) ([]byte, bool, error) {
		old := new(big.Float).SetPrec(longDoublePrec)
		if v, has := value.HashGet(cur, args[2]); has {
			f, ok := parseLongDouble(v)
			if !ok {
				return nil, false, replyErr(errHashNotFloat)
			}
			old = f
		}
		if old.IsInf() {
			return nil, false, replyErr(errNaNInf)
		}
		sum := new(big.Float).SetPrec(longDoublePrec).Add(old, incr)
		if new(big.Float).Abs(sum).Cmp(maxLongDouble) > 0 {
			return nil, false, replyErr(errNaNInf)
		}
		out = formatLongDouble(sum)
		next, _, err := value.HashSet(dst, cur, args[2:3], [][]byte{[]byte(out)})
		return next, true, err
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteBulkString(out)
}

// cmdHScan: HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES].
// A hash of up to value.HashScanAll fields is returned whole with cursor 0
// (as Redis does for a listpack); a larger one is paged (see
// value.HashScan for the guarantee).
func cmdHScan(c *client, args [][]byte) {
	cursor, ok := parseUint(args[2])
	if !ok {
		c.conn.WriteError(errInvalidCursor)
		return
	}
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if found { // WRONGTYPE written
			return
		}
		c.conn.WriteArray(2)
		c.conn.WriteBulkString("0")
		c.conn.WriteArray(0)
		return
	}
	defer keepScratch(c, enc)
	noValues := false
	match, count, ok := scanOptions(c, args, 3, 10, func(opt []byte, _ [][]byte) int {
		if !eqFold(opt, "novalues") {
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
		c.replyStoreErr(err)
		return
	}
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(uitoa(next))
	c.conn.WriteArray(len(out))
	for _, b := range out {
		c.conn.WriteBulk(b)
	}
}

// cmdHRandField: HRANDFIELD key [count [WITHVALUES]]. Without count: one
// random field or nil. count > 0: up to count distinct fields (the whole
// hash, in order, when count >= its size); count < 0: -count fields that
// may repeat. WITHVALUES replies field/value pairs: flat in RESP2, one
// two-element array per pair in RESP3, as Redis 7.
func cmdHRandField(c *client, args [][]byte) {
	if len(args) == 2 {
		enc, found, ok := hashCopy(c, args[1])
		if !ok {
			if !found {
				c.conn.WriteNull()
			}
			return
		}
		f, _ := nthField(enc, rand.IntN(value.HashLen(enc)))
		c.conn.WriteBulk(f)
		keepScratch(c, enc)
		return
	}
	l, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	if l == math.MinInt64 {
		c.conn.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withValues := false
	switch {
	case len(args) > 4 || len(args) == 4 && !eqFold(args[3], "withvalues"):
		c.conn.WriteError(errSyntax)
		return
	case len(args) == 4:
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.conn.WriteError(errOutOfRange)
			return
		}
	}
	enc, found, ok := hashCopy(c, args[1])
	if !ok {
		if !found {
			c.conn.WriteArray(0)
		}
		return
	}
	defer keepScratch(c, enc)
	size := value.HashLen(enc)
	if l == 0 {
		c.conn.WriteArray(0)
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
	} else if count := -l; !c.randReplyFits(count, len(enc)/max(size, 1), withValues) {
		c.conn.WriteError(errRandTooLarge)
		return
	} else {
		n := int(count)
		c.writeRandHeader(n, withValues)
		for range n {
			p := all[rand.IntN(size)]
			c.writeRandPair(p.f, p.v, withValues)
			if c.conn.err != nil {
				return // the connection is dead: stop producing
			}
		}
		return
	}
	c.writeRandHeader(len(pick), withValues)
	for _, p := range pick {
		c.writeRandPair(p.f, p.v, withValues)
	}
}

// randReplyFits bounds HRANDFIELD's repeating form: its reply grows with
// count, not with the hash, so -count must not let one command stream an
// unbounded reply. It must fit the client output buffer limit (or 512 MB,
// proto-max-bulk-len, when there is none).
func (c *client) randReplyFits(count int64, avgPair int, withValues bool) bool {
	limit := c.conn.outLimit
	if limit <= 0 {
		limit = maxStringLen
	}
	per := int64(avgPair/2 + 8) // "$n\r\n" + field + "\r\n"
	if withValues {
		per = int64(avgPair + 24)
	}
	return count <= limit/per
}

func (c *client) writeRandHeader(n int, withValues bool) {
	if withValues && !c.conn.resp3 {
		c.conn.WriteArray(2 * n)
		return
	}
	c.conn.WriteArray(n)
}

func (c *client) writeRandPair(f, v []byte, withValues bool) {
	if !withValues {
		c.conn.WriteBulk(f)
		return
	}
	if c.conn.resp3 {
		c.conn.WriteArray(2)
	}
	c.conn.WriteBulk(f)
	c.conn.WriteBulk(v)
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

// Shed-read answers (see command.miss) for the hash reads.
func missEmptyArray(c *client, args [][]byte) { c.conn.WriteArray(0) }
func missEmptyMap(c *client, args [][]byte)   { c.conn.WriteMap(0) }
func missHMGet(c *client, args [][]byte) {
	c.conn.WriteArray(len(args) - 2)
	for range args[2:] {
		c.conn.WriteNull()
	}
}
func missHRandField(c *client, args [][]byte) {
	if len(args) == 2 {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteArray(0)
}
func missEmptyScan(c *client, args [][]byte) {
	c.conn.WriteArray(2)
	c.conn.WriteBulkString("0")
	c.conn.WriteArray(0)
}

// withMiss sets a row's shed-read answer (command.miss) where the row is
// declared.
func withMiss(r *command, miss func(*client, [][]byte)) *command {
	r.miss = miss
	return r
}
