package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Listpacks (Redis 7.0's listpack.c): a 4-byte total size and a 2-byte
// element count (65535: unknown), little-endian, the entries, and 0xFF.
// An entry is its encoding and data, then its own length again (backlen,
// 1..5 bytes) so it can be walked backwards.

const lpEOF = 0xff

// lpBuilder appends entries to a listpack.
type lpBuilder struct {
	b []byte
	n int
}

func newLP(dst []byte) lpBuilder { return lpBuilder{b: append(dst, 0, 0, 0, 0, 0, 0)} }

// lpBacklen appends the backlen of an entry of l bytes (lpEncodeBacklen).
func lpBacklen(b []byte, l int) []byte {
	switch {
	case l <= 127:
		return append(b, byte(l))
	case l < 16383:
		return append(b, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(b, byte(l>>14), byte((l>>7)&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(b, byte(l>>21), byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
	}
	return append(b, byte(l>>28), byte((l>>21)&127)|128, byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
}

// appendInt appends v in the smallest integer encoding (lpEncodeIntegerGetType).
func (p *lpBuilder) appendInt(v int64) {
	start := len(p.b)
	switch {
	case v >= 0 && v <= 127:
		p.b = append(p.b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v)
		if v < 0 {
			u = uint64((1 << 13) + v)
		}
		p.b = append(p.b, byte(u>>8)|0xc0, byte(u))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		p.b = append(p.b, 0xf1)
		p.b = binary.LittleEndian.AppendUint16(p.b, uint16(v))
	case v >= -(1<<23) && v <= 1<<23-1:
		u := uint32(v)
		p.b = append(p.b, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.b = append(p.b, 0xf3)
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(v))
	default:
		p.b = append(p.b, 0xf4)
		p.b = binary.LittleEndian.AppendUint64(p.b, uint64(v))
	}
	p.b = lpBacklen(p.b, len(p.b)-start)
	p.n++
}

// appendString appends s, as an integer when it is a canonical one
// (lpEncodeGetType tries lpStringToInt64 first).
func (p *lpBuilder) appendString(s []byte) {
	if v, ok := canonicalInt(s); ok {
		p.appendInt(v)
		return
	}
	start := len(p.b)
	switch l := len(s); {
	case l < 64:
		p.b = append(p.b, byte(l)|0x80)
	case l < 4096:
		p.b = append(p.b, byte(l>>8)|0xe0, byte(l))
	default:
		p.b = append(p.b, 0xf0)
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(l))
	}
	p.b = append(p.b, s...)
	p.b = lpBacklen(p.b, len(p.b)-start)
	p.n++
}

// appendScore appends a sorted set score as zzlInsertAt does: an integer
// when double2ll converts it exactly, else d2string's text.
func (p *lpBuilder) appendScore(f float64) {
	if f >= -(math.MaxInt64/2) && f <= math.MaxInt64/2 && f == math.Trunc(f) {
		p.appendInt(int64(f))
		return
	}
	var buf [32]byte
	p.appendString(D2String(buf[:0], f))
}

// D2String appends f as Redis's d2string prints it.
func D2String(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	case f >= -(math.MaxInt64/2) && f <= math.MaxInt64/2 && f == math.Trunc(f):
		return strconv.AppendInt(b, int64(f), 10)
	}
	return appendG17(b, f)
}

// appendG17 is C's "%.17g".
func appendG17(b []byte, f float64) []byte {
	s := strconv.FormatFloat(f, 'e', 16, 64) // d.dddddddddddddddde±XX
	mant, exp := s, 0
	if i := indexByte(s, 'e'); i >= 0 {
		mant = s[:i]
		exp, _ = strconv.Atoi(s[i+1:])
	}
	if exp < -4 || exp >= 17 {
		// Exponent form with trailing zeros of the mantissa removed.
		m := trimZeros(mant)
		b = append(b, m...)
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	return append(b, trimZeros(strconv.FormatFloat(f, 'f', 16-exp, 64))...)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimZeros(s string) string {
	if indexByte(s, '.') < 0 {
		return s
	}
	i := len(s)
	for i > 0 && s[i-1] == '0' {
		i--
	}
	if i > 0 && s[i-1] == '.' {
		i--
	}
	return s[:i]
}

// finish writes the header and terminator and returns the listpack.
func (p *lpBuilder) finish(start int) []byte {
	p.b = append(p.b, lpEOF)
	binary.LittleEndian.PutUint32(p.b[start:], uint32(len(p.b)-start))
	n := p.n
	if n > 65535 {
		n = 65535
	}
	binary.LittleEndian.PutUint16(p.b[start+4:], uint16(n))
	return p.b
}

// lpEntries decodes every entry of the listpack lp, checking its whole
// structure (lpValidateIntegrity with deep validation): the header's size,
// each entry's encoding, length and backlen, the count when known, and the
// terminator. Integer entries are printed as text into r's arena.
func (r *reader) lpEntries(lp []byte, out [][]byte) ([][]byte, error) {
	if len(lp) < 7 || binary.LittleEndian.Uint32(lp) != uint32(len(lp)) || lp[len(lp)-1] != lpEOF {
		return nil, ErrFormat
	}
	declared := int(binary.LittleEndian.Uint16(lp[4:]))
	p := lp[6 : len(lp)-1]
	n := 0
	for len(p) > 0 {
		c := p[0]
		var ent []byte
		size := 0 // encoding + data
		var iv int64
		isInt := true
		switch {
		case c&0x80 == 0: // 7-bit uint
			iv, size = int64(c), 1
		case c&0xc0 == 0x80: // 6-bit string
			l := int(c & 0x3f)
			size, isInt = 1+l, false
		case c&0xe0 == 0xc0: // 13-bit int
			if len(p) < 2 {
				return nil, ErrFormat
			}
			u := uint64(c&0x1f)<<8 | uint64(p[1])
			if u >= 1<<12 {
				iv = int64(u) - 1<<13
			} else {
				iv = int64(u)
			}
			size = 2
		case c&0xf0 == 0xe0: // 12-bit string
			if len(p) < 2 {
				return nil, ErrFormat
			}
			l := int(c&0x0f)<<8 | int(p[1])
			size, isInt = 2+l, false
		case c == 0xf0: // 32-bit string
			if len(p) < 5 {
				return nil, ErrFormat
			}
			l := uint64(binary.LittleEndian.Uint32(p[1:]))
			if l > uint64(len(p)) {
				return nil, ErrFormat
			}
			size, isInt = 5+int(l), false
		case c == 0xf1:
			if len(p) < 3 {
				return nil, ErrFormat
			}
			iv, size = int64(int16(binary.LittleEndian.Uint16(p[1:]))), 3
		case c == 0xf2:
			if len(p) < 4 {
				return nil, ErrFormat
			}
			u := uint32(p[1]) | uint32(p[2])<<8 | uint32(p[3])<<16
			iv, size = int64(int32(u<<8)>>8), 4
		case c == 0xf3:
			if len(p) < 5 {
				return nil, ErrFormat
			}
			iv, size = int64(int32(binary.LittleEndian.Uint32(p[1:]))), 5
		case c == 0xf4:
			if len(p) < 9 {
				return nil, ErrFormat
			}
			iv, size = int64(binary.LittleEndian.Uint64(p[1:])), 9
		default:
			return nil, ErrFormat
		}
		if size > len(p) {
			return nil, ErrFormat
		}
		if isInt {
			ent = r.intText(iv)
		} else {
			ent = p[hdrLen(c):size:size]
		}
		bl := lpBacklen(nil, size)
		if len(p) < size+len(bl) || string(p[size:size+len(bl)]) != string(bl) {
			return nil, ErrFormat
		}
		out = append(out, ent)
		n++
		p = p[size+len(bl):]
	}
	if declared != 65535 && declared != n {
		return nil, ErrFormat
	}
	return out, nil
}

// hdrLen is the encoding bytes of a string entry that starts with c.
func hdrLen(c byte) int {
	switch {
	case c&0xc0 == 0x80:
		return 1
	case c&0xf0 == 0xe0:
		return 2
	}
	return 5
}
