package bitmap

import (
	"math"
	"math/bits"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// parseBitOffset parses a bit offset as Redis's getBitOffsetFromArgument
// does: with hash (BITFIELD) a "#n" offset is n*width (multiplied as C
// does, wrapping); the offset must be >= 0 and address a byte below
// proto-max-bulk-len.
func parseBitOffset(b []byte, hash bool, width int) (uint64, bool) {
	usehash := hash && width > 0 && len(b) > 0 && b[0] == '#'
	if usehash {
		b = b[1:]
	}
	n, ok := command.ParseInt(b)
	if !ok {
		return 0, false
	}
	if usehash {
		n = int64(uint64(n) * uint64(width))
	}
	if n < 0 || n>>3 >= command.MaxStringLen {
		return 0, false
	}
	return uint64(n), true
}

// stringView runs fn on the string at key under the sub-shard lock,
// counting a hit or miss and touching it. wrong reports a key of another
// type (fn not called).
func stringView(c *command.Ctx, key []byte, fn func(v []byte)) (found, wrong bool) {
	found = c.Part.View(c.DB, key, shard.ViewStats|shard.ViewTouch, func(e shard.Entry) {
		if e.Type != shard.TypeString {
			wrong = true
			return
		}
		fn(e.Value)
	})
	return found, wrong
}

// notString is the WRONGTYPE abort of a write that found another type.
func notString(cur shard.Entry, exists bool) error {
	if exists && cur.Type != shard.TypeString {
		return command.ErrWrongTypeAbort
	}
	return nil
}

// grown is the length a string of length n has once byte b is addressable.
func grown(n int, b uint64) int {
	if int(b) >= n {
		return int(b) + 1
	}
	return n
}

// cmdSetBit: SETBIT key offset value -> the bit's previous value.
func cmdSetBit(c *command.Ctx, args [][]byte) {
	off, ok := parseBitOffset(args[2], false, 0)
	if !ok {
		c.W.WriteError(command.ErrBitOffset)
		return
	}
	on, ok := command.ParseInt(args[3])
	if !ok || on&^1 != 0 {
		c.W.WriteError(command.ErrBitValue)
		return
	}
	idx, shift := off>>3, 7-off&7
	old := 0
	dirty := false
	err := c.Part.Patch(c.DB, args[1], shard.TypeString, c.DefaultExpire(c.NowMs()),
		func(cur shard.Entry, exists bool) (int, error) {
			if err := notString(cur, exists); err != nil {
				return -1, err
			}
			n := grown(len(cur.Value), idx)
			dirty = !exists || n != len(cur.Value)
			return n, nil
		},
		func(v []byte) bool {
			old = int(v[idx] >> shift & 1)
			v[idx] = v[idx]&^(1<<shift) | byte(on)<<shift
			return dirty || old != int(on) // Redis signals a change or a growth only
		})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(old)
}

// cmdGetBit: GETBIT key offset.
func cmdGetBit(c *command.Ctx, args [][]byte) {
	off, ok := parseBitOffset(args[2], false, 0)
	if !ok {
		c.W.WriteError(command.ErrBitOffset)
		return
	}
	bit := 0
	if _, wrong := stringView(c, args[1], func(v []byte) {
		if idx := off >> 3; idx < uint64(len(v)) {
			bit = int(v[idx] >> (7 - off&7) & 1)
		}
	}); wrong {
		c.W.WriteError(command.ErrWrongType)
		return
	}
	c.W.WriteInt(bit)
}

// bitRange is a parsed [start end [BIT|BYTE]] of BITCOUNT and BITPOS,
// resolved against a string length as bitops.c does.
type bitRange struct {
	start, end int64
	firstMask  byte // bits of the first byte outside the range (BIT)
	lastMask   byte // bits of the last byte outside the range (BIT)
}

// resolve clamps start..end (in bytes, or in bits when isbit) to a string
// of n bytes and converts bits to bytes with edge masks.
func resolve(start, end int64, isbit bool, n int64) bitRange {
	tot := n
	if isbit {
		tot <<= 3
	}
	if start < 0 {
		start += tot
	}
	if end < 0 {
		end += tot
	}
	start, end = max(start, 0), max(end, 0)
	if end >= tot {
		end = tot - 1
	}
	r := bitRange{start: start, end: end}
	if isbit && start <= end {
		r.firstMask = ^byte((1 << (8 - start&7)) - 1)
		r.lastMask = byte((1 << (7 - end&7)) - 1)
		r.start, r.end = start>>3, end>>3
	}
	return r
}

// parseUnit parses BIT|BYTE.
func parseUnit(b []byte) (isbit, ok bool) {
	switch {
	case command.EqFold(b, "bit"):
		return true, true
	case command.EqFold(b, "byte"):
		return false, true
	}
	return false, false
}

func popcount(p []byte) int64 {
	var n int
	for len(p) >= 8 {
		n += bits.OnesCount64(uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
			uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56)
		p = p[8:]
	}
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

// cmdBitCount: BITCOUNT key [start end [BIT|BYTE]]. As in Redis, a missing
// key answers 0 and a key of another type WRONGTYPE before the range is
// parsed.
func cmdBitCount(c *command.Ctx, args [][]byte) {
	var count int64
	var e string
	found, wrong := stringView(c, args[1], func(v []byte) {
		count, e = bitCount(v, args)
	})
	switch {
	case wrong:
		c.W.WriteError(command.ErrWrongType)
	case !found:
		c.W.WriteInt(0)
	case e != "":
		c.W.WriteError(e)
	default:
		c.W.WriteInt64(count)
	}
}

func bitCount(v []byte, args [][]byte) (int64, string) {
	var r bitRange
	switch len(args) {
	case 4, 5:
		start, ok := command.ParseInt(args[2])
		if !ok {
			return 0, command.ErrNotInteger
		}
		end, ok := command.ParseInt(args[3])
		if !ok {
			return 0, command.ErrNotInteger
		}
		if start < 0 && end < 0 && start > end {
			return 0, ""
		}
		isbit := false
		if len(args) == 5 {
			if isbit, ok = parseUnit(args[4]); !ok {
				return 0, command.ErrSyntax
			}
		}
		r = resolve(start, end, isbit, int64(len(v)))
	case 2:
		r = bitRange{start: 0, end: int64(len(v)) - 1}
	default:
		return 0, command.ErrSyntax
	}
	if r.start > r.end {
		return 0, ""
	}
	n := popcount(v[r.start : r.end+1])
	n -= int64(bits.OnesCount8(v[r.start]&r.firstMask) + bits.OnesCount8(v[r.end]&r.lastMask))
	return n, ""
}

// bitpos is redisBitpos: the position of the first bit set to bit in p
// (the bits after p count as zeros), or -1 when bit is 1 and none is set.
func bitpos(p []byte, bit int) int64 {
	skip := byte(0)
	if bit == 0 {
		skip = 0xff
	}
	i := 0
	for i < len(p) && p[i] == skip {
		i++
	}
	if i == len(p) {
		if bit == 1 {
			return -1
		}
		return int64(i) << 3
	}
	b := p[i]
	if bit == 0 {
		b = ^b
	}
	return int64(i)<<3 + int64(bits.LeadingZeros8(b))
}

// cmdBitPos: BITPOS key bit [start [end [BIT|BYTE]]].
func cmdBitPos(c *command.Ctx, args [][]byte) {
	bit, ok := command.ParseInt(args[2])
	if !ok {
		c.W.WriteError(command.ErrNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		c.W.WriteError(command.ErrBitArg)
		return
	}
	var pos int64
	var e string
	found, wrong := stringView(c, args[1], func(v []byte) {
		pos, e = bitPos(v, int(bit), args)
	})
	switch {
	case wrong:
		c.W.WriteError(command.ErrWrongType)
	case !found && bit == 1:
		c.W.WriteInt(-1) // a missing key is all zeros: no set bit
	case !found:
		c.W.WriteInt(0)
	case e != "":
		c.W.WriteError(e)
	default:
		c.W.WriteInt64(pos)
	}
}

func bitPos(p []byte, bit int, args [][]byte) (int64, string) {
	var r bitRange
	endGiven := false
	switch len(args) {
	case 4, 5, 6:
		tot := int64(len(p))
		start, ok := command.ParseInt(args[3])
		if !ok {
			return 0, command.ErrNotInteger
		}
		isbit := false
		if len(args) == 6 {
			if isbit, ok = parseUnit(args[5]); !ok {
				return 0, command.ErrSyntax
			}
		}
		var end int64
		if len(args) >= 5 {
			if end, ok = command.ParseInt(args[4]); !ok {
				return 0, command.ErrNotInteger
			}
			endGiven = true
		} else if isbit {
			end = tot<<3 + 7
		} else {
			end = tot - 1
		}
		r = resolve(start, end, isbit, tot)
	case 3:
		r = bitRange{start: 0, end: int64(len(p)) - 1}
	default:
		return 0, command.ErrSyntax
	}
	if r.start > r.end {
		return -1, ""
	}
	start, bytes := r.start, r.end-r.start+1
	var pos int64
	func() {
		if r.firstMask != 0 {
			tmp := p[start]
			if bit == 1 {
				tmp &^= r.firstMask
			} else {
				tmp |= r.firstMask
			}
			if r.lastMask != 0 && bytes == 1 {
				if bit == 1 {
					tmp &^= r.lastMask
				} else {
					tmp |= r.lastMask
				}
			}
			pos = bitpos([]byte{tmp}, bit)
			if bytes == 1 || pos != -1 && pos != 8 {
				return
			}
			start++
			bytes--
		}
		cur := bytes
		if r.lastMask != 0 {
			cur--
		}
		if cur > 0 {
			pos = bitpos(p[start:start+cur], bit)
			if bytes == cur || pos != -1 && pos != cur<<3 {
				return
			}
			start += cur
			bytes -= cur
		}
		tmp := p[r.end]
		if bit == 1 {
			tmp &^= r.lastMask
		} else {
			tmp |= r.lastMask
		}
		pos = bitpos([]byte{tmp}, bit)
	}()
	// Looking for a clear bit in an explicit range that has none: the bit
	// just past the range does not count.
	if endGiven && bit == 0 && pos == bytes<<3 {
		return -1, ""
	}
	if pos != -1 {
		pos += start << 3
	}
	return pos, ""
}

// cmdBitOp: BITOP AND|OR|XOR|NOT destkey key [key ...] -> the length of
// the result, stored at destkey (deleted when every source is empty).
func cmdBitOp(c *command.Ctx, args [][]byte) {
	var op byte
	switch {
	case command.EqFold(args[1], "and"):
		op = '&'
	case command.EqFold(args[1], "or"):
		op = '|'
	case command.EqFold(args[1], "xor"):
		op = '^'
	case command.EqFold(args[1], "not"):
		op = '~'
	default:
		c.W.WriteError(command.ErrSyntax)
		return
	}
	if op == '~' && len(args) != 4 {
		c.W.WriteError(command.ErrBitOpNot)
		return
	}
	keys := make([]shard.Key, len(args)-2)
	for i, k := range args[2:] {
		keys[i] = shard.Key{DB: c.DB, Name: k}
	}
	quota := c.Part.Quota()
	expire := c.DefaultExpire(c.NowMs())
	var maxlen int
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		acts := make([]shard.Action, len(cur))
		next := make([]shard.Entry, len(cur))
		srcs := cur[1:]
		maxlen = 0
		for i, e := range srcs {
			if exists[i+1] && e.Type != shard.TypeString {
				return nil, nil, command.ErrWrongTypeAbort
			}
			maxlen = max(maxlen, len(e.Value))
		}
		if maxlen == 0 {
			acts[0] = shard.Delete
			return next, acts, nil
		}
		// The result could never fit: refuse it before building it.
		if int64(maxlen)+int64(len(args[2]))+shard.EntryOverhead > quota {
			return nil, nil, shard.ErrOOM
		}
		next[0] = shard.Entry{Value: bitop(op, srcs, maxlen), ExpireAt: expire}
		acts[0] = shard.Put
		return next, acts, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.W.WriteInt(maxlen)
}

// bitop computes op over the sources, each zero-padded to n bytes.
func bitop(op byte, srcs []shard.Entry, n int) []byte {
	res := make([]byte, n)
	copy(res, srcs[0].Value)
	if op == '~' {
		for j := range res {
			res[j] = ^res[j]
		}
		return res
	}
	for _, s := range srcs[1:] {
		v := s.Value
		switch op {
		case '&':
			for j := range res {
				if j < len(v) {
					res[j] &= v[j]
				} else {
					res[j] = 0
				}
			}
		case '|':
			for j := 0; j < len(v); j++ {
				res[j] |= v[j]
			}
		case '^':
			for j := 0; j < len(v); j++ {
				res[j] ^= v[j]
			}
		}
	}
	return res
}

// BITFIELD

const (
	owWrap = iota
	owSat
	owFail
)

type bfOp struct {
	offset uint64
	i64    int64
	op     byte // 'g', 's', 'i'
	ow     int
	bits   int
	signed bool
}

// parseBitfieldType parses <i|u><bits> (u64 is refused, as in Redis).
func parseBitfieldType(b []byte) (signed bool, width int, ok bool) {
	if len(b) == 0 || b[0] != 'i' && b[0] != 'u' {
		return false, 0, false
	}
	signed = b[0] == 'i'
	n, ok := command.ParseInt(b[1:])
	if !ok || n < 1 || signed && n > 64 || !signed && n > 63 {
		return false, 0, false
	}
	return signed, int(n), true
}

// parseBitfield parses BITFIELD's operations; on bad input it writes the
// error and returns ok false. highest is the last bit a write touches.
func parseBitfield(c *command.Ctx, args [][]byte) (ops []bfOp, readonly bool, highest uint64, ok bool) {
	ow := owWrap
	readonly = true
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		sub := args[j]
		var op byte
		switch {
		case command.EqFold(sub, "get") && rem >= 2:
			op = 'g'
		case command.EqFold(sub, "set") && rem >= 3:
			op = 's'
		case command.EqFold(sub, "incrby") && rem >= 3:
			op = 'i'
		case command.EqFold(sub, "overflow") && rem >= 1:
			j++
			switch t := args[j]; {
			case command.EqFold(t, "wrap"):
				ow = owWrap
			case command.EqFold(t, "sat"):
				ow = owSat
			case command.EqFold(t, "fail"):
				ow = owFail
			default:
				c.W.WriteError(command.ErrOverflowType)
				return nil, false, 0, false
			}
			continue
		default:
			c.W.WriteError(command.ErrSyntax)
			return nil, false, 0, false
		}
		signed, width, good := parseBitfieldType(args[j+1])
		if !good {
			c.W.WriteError(command.ErrBitfieldType)
			return nil, false, 0, false
		}
		off, good := parseBitOffset(args[j+2], true, width)
		if !good {
			c.W.WriteError(command.ErrBitOffset)
			return nil, false, 0, false
		}
		var v int64
		if op != 'g' {
			readonly = false
			highest = max(highest, off+uint64(width)-1)
			if v, good = command.ParseInt(args[j+3]); !good {
				c.W.WriteError(command.ErrNotInteger)
				return nil, false, 0, false
			}
		}
		ops = append(ops, bfOp{offset: off, i64: v, op: op, ow: ow, bits: width, signed: signed})
		if op == 'g' {
			j += 2
		} else {
			j += 3
		}
	}
	return ops, readonly, highest, true
}

func getUnsigned(p []byte, offset uint64, width int) uint64 {
	var v uint64
	for j := 0; j < width; j++ {
		b := p[offset>>3]
		v = v<<1 | uint64(b>>(7-offset&7)&1)
		offset++
	}
	return v
}

func getSigned(p []byte, offset uint64, width int) int64 {
	v := int64(getUnsigned(p, offset, width))
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= -1 << width
	}
	return v
}

func setUnsigned(p []byte, offset uint64, width int, v uint64) {
	for j := 0; j < width; j++ {
		bit := byte(v >> (width - 1 - j) & 1)
		shift := 7 - offset&7
		p[offset>>3] = p[offset>>3]&^(1<<shift) | bit<<shift
		offset++
	}
}

// checkUnsigned is checkUnsignedBitfieldOverflow: it reports an overflow
// of value+incr in width bits and the value to store instead (wrapped or
// saturated).
func checkUnsigned(value uint64, incr int64, width, ow int) (bool, uint64) {
	maxv := uint64(1)<<width - 1
	maxincr := int64(maxv - value)
	minincr := int64(-value)
	if value > maxv || incr > 0 && incr > maxincr {
		switch ow {
		case owWrap:
			return true, (value + uint64(incr)) &^ (math.MaxUint64 << width)
		case owSat:
			return true, maxv
		}
		return true, 0
	}
	if incr < 0 && incr < minincr {
		switch ow {
		case owWrap:
			return true, (value + uint64(incr)) &^ (math.MaxUint64 << width)
		case owSat:
			return true, 0
		}
		return true, 0
	}
	return false, 0
}

// checkSigned is checkSignedBitfieldOverflow.
func checkSigned(value, incr int64, width, ow int) (bool, int64) {
	maxv := int64(math.MaxInt64)
	if width != 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value))
	minincr := minv - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	if value > maxv || width != 64 && incr > maxincr || value >= 0 && incr > 0 && incr > maxincr {
		switch ow {
		case owWrap:
			return true, wrap()
		case owSat:
			return true, maxv
		}
		return true, 0
	}
	if value < minv || width != 64 && incr < minincr || value < 0 && incr < 0 && incr < minincr {
		switch ow {
		case owWrap:
			return true, wrap()
		case owSat:
			return true, minv
		}
		return true, 0
	}
	return false, 0
}

// bfResult is one reply of BITFIELD: a value or a null (FAIL overflow).
type bfResult struct {
	v    int64
	null bool
}

// runBitfield runs ops on p, which is long enough for every write; GETs
// past its end read zeros.
func runBitfield(p []byte, ops []bfOp, out []bfResult) []bfResult {
	out, _ = runBitfieldCount(p, ops, out, false)
	return out
}

// runBitfieldCount is runBitfield counting the changes as Redis does: a
// write that lands (not an OVERFLOW FAIL) counts when it changed its field
// or dirty (the value was created or grown). BITFIELD signals its key
// only when there were changes.
func runBitfieldCount(p []byte, ops []bfOp, out []bfResult, dirty bool) ([]bfResult, int) {
	out = out[:0]
	changes := 0
	for _, op := range ops {
		if op.op == 'g' {
			var buf [9]byte
			b := op.offset >> 3
			if b < uint64(len(p)) {
				copy(buf[:], p[b:])
			}
			if op.signed {
				out = append(out, bfResult{v: getSigned(buf[:], op.offset-b*8, op.bits)})
			} else {
				out = append(out, bfResult{v: int64(getUnsigned(buf[:], op.offset-b*8, op.bits))})
			}
			continue
		}
		if op.signed {
			old := getSigned(p, op.offset, op.bits)
			var nv, ret int64
			var over bool
			if op.op == 'i' {
				var w int64
				over, w = checkSigned(old, op.i64, op.bits, op.ow)
				nv = old + op.i64
				if over {
					nv = w
				}
				ret = nv
			} else {
				var w int64
				nv = op.i64
				if over, w = checkSigned(nv, 0, op.bits, op.ow); over {
					nv = w
				}
				ret = old
			}
			if over && op.ow == owFail {
				out = append(out, bfResult{null: true})
				continue
			}
			out = append(out, bfResult{v: ret})
			setUnsigned(p, op.offset, op.bits, uint64(nv))
			if dirty || old != nv {
				changes++
			}
			continue
		}
		old := getUnsigned(p, op.offset, op.bits)
		var nv, ret uint64
		var over bool
		if op.op == 'i' {
			var w uint64
			nv = old + uint64(op.i64)
			if over, w = checkUnsigned(old, op.i64, op.bits, op.ow); over {
				nv = w
			}
			ret = nv
		} else {
			var w uint64
			nv = uint64(op.i64)
			if over, w = checkUnsigned(nv, 0, op.bits, op.ow); over {
				nv = w
			}
			ret = old
		}
		if over && op.ow == owFail {
			out = append(out, bfResult{null: true})
			continue
		}
		out = append(out, bfResult{v: int64(ret)})
		setUnsigned(p, op.offset, op.bits, nv)
		if dirty || old != nv {
			changes++
		}
	}
	return out, changes
}

func writeBitfield(c *command.Ctx, res []bfResult) {
	c.W.WriteArray(len(res))
	for _, r := range res {
		if r.null {
			c.W.WriteNull()
		} else {
			c.W.WriteInt64(r.v)
		}
	}
}

// cmdBitField: BITFIELD key [GET type offset] [SET type offset value]
// [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
func cmdBitField(c *command.Ctx, args [][]byte) { bitfield(c, args, false) }

// cmdBitFieldRO: BITFIELD_RO key [GET type offset ...].
func cmdBitFieldRO(c *command.Ctx, args [][]byte) { bitfield(c, args, true) }

func bitfield(c *command.Ctx, args [][]byte, ro bool) {
	ops, readonly, highest, ok := parseBitfield(c, args)
	if !ok {
		return
	}
	var res []bfResult
	if readonly {
		if _, wrong := stringView(c, args[1], func(v []byte) { res = runBitfield(v, ops, res) }); wrong {
			c.W.WriteError(command.ErrWrongType)
			return
		}
		if res == nil {
			res = runBitfield(nil, ops, res)
		}
		writeBitfield(c, res)
		return
	}
	if ro {
		c.W.WriteError(command.ErrBitfieldRO)
		return
	}
	dirty := false
	err := c.Part.Patch(c.DB, args[1], shard.TypeString, c.DefaultExpire(c.NowMs()),
		func(cur shard.Entry, exists bool) (int, error) {
			if err := notString(cur, exists); err != nil {
				return -1, err
			}
			n := grown(len(cur.Value), highest>>3)
			dirty = !exists || n != len(cur.Value)
			return n, nil
		},
		func(v []byte) bool {
			var changes int
			res, changes = runBitfieldCount(v, ops, res, dirty)
			return changes > 0
		})
	if err != nil {
		c.StoreErr(err)
		return
	}
	writeBitfield(c, res)
}
