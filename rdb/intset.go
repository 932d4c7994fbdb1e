package rdb

import (
	"encoding/binary"
	"math"
	"slices"
)

// Intsets (intset.c): encoding (2, 4 or 8 bytes per member) and length as
// little-endian uint32s, then the members ascending, little-endian.

// appendIntset appends the intset of vs (sorted here) in the smallest
// encoding that holds them all, as intsetAdd grows it.
func appendIntset(b []byte, vs []int64) []byte {
	slices.Sort(vs)
	enc := 2
	for _, v := range vs {
		switch {
		case v < math.MinInt32 || v > math.MaxInt32:
			enc = 8
		case (v < math.MinInt16 || v > math.MaxInt16) && enc < 4:
			enc = 4
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(enc))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vs)))
	for _, v := range vs {
		switch enc {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// intsetMembers decodes an intset blob (intsetValidateIntegrity, deep:
// ascending without repeats).
func (r *reader) intsetMembers(is []byte, out [][]byte) ([][]byte, error) {
	if len(is) < 8 {
		return nil, ErrFormat
	}
	enc := binary.LittleEndian.Uint32(is)
	n := uint64(binary.LittleEndian.Uint32(is[4:]))
	if enc != 2 && enc != 4 && enc != 8 || uint64(len(is)-8) != n*uint64(enc) || n == 0 {
		return nil, ErrFormat
	}
	p := is[8:]
	prev := int64(0)
	for i := 0; i < int(n); i++ {
		var v int64
		switch enc {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p[2*i:])))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p[4*i:])))
		default:
			v = int64(binary.LittleEndian.Uint64(p[8*i:]))
		}
		if i > 0 && v <= prev {
			return nil, ErrFormat
		}
		prev = v
		out = append(out, r.intText(v))
	}
	return out, nil
}
