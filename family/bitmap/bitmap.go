package bitmap

import (
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
