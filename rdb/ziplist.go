package rdb

import "encoding/binary"

// Ziplists (ziplist.c), the small encoding of Redis before 7.0: RESTORE
// of a payload dumped by Redis 6 (RDB version 9) reads them. zlbytes and
// zltail (uint32), zllen (uint16), the entries, 0xFF. An entry is the
// previous entry's length (1 byte, or 0xFE and a uint32), its encoding and
// its data.
func (r *reader) zlEntries(zl []byte, out [][]byte) ([][]byte, error) {
	if len(zl) < 11 || binary.LittleEndian.Uint32(zl) != uint32(len(zl)) || zl[len(zl)-1] != 0xff {
		return nil, ErrFormat
	}
	declared := int(binary.LittleEndian.Uint16(zl[8:]))
	p := zl[10 : len(zl)-1]
	prevLen, n := 0, 0
	for len(p) > 0 {
		start := len(p)
		// prevlen
		if p[0] < 254 {
			if int(p[0]) != prevLen {
				return nil, ErrFormat
			}
			p = p[1:]
		} else {
			if p[0] != 254 || len(p) < 5 || int(binary.LittleEndian.Uint32(p[1:])) != prevLen {
				return nil, ErrFormat
			}
			p = p[5:]
		}
		if len(p) < 1 {
			return nil, ErrFormat
		}
		c := p[0]
		var ent []byte
		var hdr, l int
		isInt := true
		var iv int64
		switch c >> 6 {
		case 0:
			hdr, l, isInt = 1, int(c&0x3f), false
		case 1:
			if len(p) < 2 {
				return nil, ErrFormat
			}
			hdr, l, isInt = 2, int(c&0x3f)<<8|int(p[1]), false
		case 2:
			if c != 0x80 || len(p) < 5 {
				return nil, ErrFormat
			}
			u := uint64(binary.BigEndian.Uint32(p[1:]))
			if u > uint64(len(p)) {
				return nil, ErrFormat
			}
			hdr, l, isInt = 5, int(u), false
		default:
			hdr = 1
			switch {
			case c == 0xc0:
				l = 2
			case c == 0xd0:
				l = 4
			case c == 0xe0:
				l = 8
			case c == 0xf0:
				l = 3
			case c == 0xfe:
				l = 1
			case c >= 0xf1 && c <= 0xfd:
				l, iv = 0, int64(c&0x0f)-1
			default:
				return nil, ErrFormat
			}
		}
		if len(p) < hdr+l {
			return nil, ErrFormat
		}
		d := p[hdr : hdr+l : hdr+l]
		if isInt {
			switch c {
			case 0xc0:
				iv = int64(int16(binary.LittleEndian.Uint16(d)))
			case 0xd0:
				iv = int64(int32(binary.LittleEndian.Uint32(d)))
			case 0xe0:
				iv = int64(binary.LittleEndian.Uint64(d))
			case 0xf0:
				iv = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24) >> 8)
			case 0xfe:
				iv = int64(int8(d[0]))
			}
			ent = r.intText(iv)
		} else {
			ent = d
		}
		p = p[hdr+l:]
		prevLen = start - len(p)
		out = append(out, ent)
		n++
	}
	if declared != 65535 && declared != n {
		return nil, ErrFormat
	}
	return out, nil
}
