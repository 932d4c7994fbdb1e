package bitmap

import (
	"math"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

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
