package rdb

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// RDB string encodings (rdb.h).
const (
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Errors of Decode. The caller turns them into Redis's replies.
var (
	// ErrChecksum: the footer's version is newer than 10 or its CRC64
	// does not match ("DUMP payload version or checksum are wrong").
	ErrChecksum = errors.New("rdb: DUMP payload version or checksum are wrong")
	// ErrFormat: the value does not decode ("Bad data format").
	ErrFormat = errors.New("rdb: bad data format")
	// ErrTooBig: the Grow hook refused a decompression buffer.
	ErrTooBig = errors.New("rdb: payload expands beyond the memory allowed")
)

// UnsupportedError is a payload of an RDB type tcached does not store
// (modules, Redis 2.x zipmaps).
type UnsupportedError struct {
	Type byte
	Name string
}

func (e *UnsupportedError) Error() string { return "rdb: unsupported type " + e.Name }

// AppendLen appends an RDB length (rdbSaveLen).
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, 0x81)
	return binary.BigEndian.AppendUint64(b, n)
}

// canonicalInt parses s as Redis's string2ll does when it must print back
// the same (rdbTryIntegerEncoding, lpStringToInt64): an optional '-', no
// '+', no leading zeros, no "-0", within int64.
func canonicalInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, false
	}
	var buf [20]byte
	return v, string(strconv.AppendInt(buf[:0], v, 10)) == string(s)
}

// AppendString appends s as rdbSaveRawString does with rdbcompression on:
// an integer encoding for a short canonical integer that fits 32 bits,
// LZF for a longer string that compresses by at least 4 bytes, else the
// bytes.
func AppendString(b, s []byte) []byte { return appendString(b, s, true) }

func appendString(b, s []byte, compress bool) []byte {
	if len(s) <= 11 {
		if v, ok := canonicalInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(b, 0xc0|encInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				b = append(b, 0xc0|encInt16)
				return binary.LittleEndian.AppendUint16(b, uint16(v))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				b = append(b, 0xc0|encInt32)
				return binary.LittleEndian.AppendUint32(b, uint32(v))
			}
		}
	}
	if compress && len(s) > 20 {
		if c := LZFCompress(s, len(s)-4); c != nil {
			b = append(b, 0xc0|encLZF)
			b = AppendLen(b, uint64(len(c)))
			b = AppendLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	b = AppendLen(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBinaryDouble appends a score as rdbSaveBinaryDoubleValue.
func AppendBinaryDouble(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// reader reads one payload. Every read checks what remains; nothing is
// allocated for a length before the bytes it claims are known to exist
// (LZF's output, which may be larger, goes through grow).
type reader struct {
	b     []byte
	grow  func(n int) bool
	arena []byte // integer elements printed as text
}

func (r *reader) byte() (byte, error) {
	if len(r.b) < 1 {
		return 0, ErrFormat
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) take(n uint64) ([]byte, error) {
	if uint64(len(r.b)) < n {
		return nil, ErrFormat
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s, nil
}

// length reads an RDB length; enc reports a special string encoding (its
// number in n).
func (r *reader) length() (n uint64, enc bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		d, err := r.byte()
		return uint64(c&0x3f)<<8 | uint64(d), false, err
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := r.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, ErrFormat
}

// count reads a count of items that take at least min bytes each: more
// than the payload could hold is malformed.
func (r *reader) count(min int) (int, error) {
	n, enc, err := r.length()
	if err != nil || enc {
		return 0, ErrFormat
	}
	if n > uint64(len(r.b)/min) {
		return 0, ErrFormat
	}
	return int(n), nil
}

// intText appends v's decimal text to the arena and returns it.
func (r *reader) intText(v int64) []byte {
	start := len(r.arena)
	if cap(r.arena)-start < 20 {
		r.arena = make([]byte, 0, max(4096, 2*cap(r.arena)))
		start = 0
	}
	r.arena = strconv.AppendInt(r.arena, v, 10)
	return r.arena[start:len(r.arena):len(r.arena)]
}

// str reads an RDB string (rdbGenericLoadStringObject).
func (r *reader) str() ([]byte, error) {
	n, enc, err := r.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.take(n)
	}
	switch n {
	case encInt8:
		b, err := r.take(1)
		if err != nil {
			return nil, err
		}
		return r.intText(int64(int8(b[0]))), nil
	case encInt16:
		b, err := r.take(2)
		if err != nil {
			return nil, err
		}
		return r.intText(int64(int16(binary.LittleEndian.Uint16(b)))), nil
	case encInt32:
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return r.intText(int64(int32(binary.LittleEndian.Uint32(b)))), nil
	case encLZF:
		clen, e1, err := r.length()
		if err != nil || e1 {
			return nil, ErrFormat
		}
		ulen, e2, err := r.length()
		if err != nil || e2 || ulen == 0 {
			return nil, ErrFormat
		}
		in, err := r.take(clen)
		if err != nil {
			return nil, err
		}
		if ulen > uint64(lzfMaxRatio*len(in)+lzfMaxLit) {
			return nil, ErrFormat
		}
		if r.grow != nil && !r.grow(int(ulen)) {
			return nil, ErrTooBig
		}
		out, ok := LZFDecompress(in, int(ulen))
		if !ok {
			return nil, ErrFormat
		}
		return out, nil
	}
	return nil, ErrFormat
}

// binaryDouble reads rdbLoadBinaryDoubleValue's 8 bytes.
func (r *reader) binaryDouble() (float64, error) {
	b, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// textDouble reads rdbLoadDoubleValue's length-prefixed text (RDB_TYPE_ZSET,
// Redis before 2.8): 253 nan, 254 +inf, 255 -inf.
func (r *reader) textDouble() (float64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.take(uint64(c))
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, ErrFormat
	}
	return f, nil
}
