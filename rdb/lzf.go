package rdb

// LZF as liblzf 3.6 (Redis's lzf_c.c and lzf_d.c), with Redis's build
// settings: HLOG 16, VERY_FAST, and the hash table starting empty (Redis
// leaves it uninitialized, which can only ever add valid matches; see the
// package doc).

const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = (1 << 8) + (1 << 3)
)

func lzfIdx(h uint32) uint32 { return ((h >> (3*8 - lzfHLog)) - h*5) & (lzfHSize - 1) }

// LZFCompress compresses in into at most outLen bytes and returns them, or
// nil when they do not fit (lzf_compress returning 0).
func LZFCompress(in []byte, outLen int) []byte {
	n := len(in)
	if n == 0 || outLen == 0 {
		return nil
	}
	out := make([]byte, outLen)
	htab := make([]int32, lzfHSize) // position+1; 0 is empty
	ip, op := 0, 0
	lit := 0
	op++ // start run
	hval := uint32(in[0])<<8 | uint32(in[1%n])
	if n < 2 {
		hval = 0
	}
	for ip < n-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := &htab[lzfIdx(hval)]
		ref := int(*slot) - 1
		*slot = int32(ip + 1)
		off := ip - ref - 1
		if ref > 0 && off >= 0 && off < lzfMaxOff && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			length := 2
			maxlen := n - ip - length
			if maxlen > lzfMaxRef {
				maxlen = lzfMaxRef
			}
			if op+3+1 >= outLen {
				nolit := 0
				if lit == 0 {
					nolit = 1
				}
				if op-nolit+3+1 >= outLen {
					return nil
				}
			}
			out[op-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				op--
			}
			// As lzf_c.c: one unrolled run of 16 compares when more than
			// 16 bytes may match (it does not look at maxlen, so a match
			// can end up to 2 bytes past it), then byte by byte.
			matched := false
			if maxlen > 16 {
				for k := 0; k < 16; k++ {
					length++
					if in[ref+length] != in[ip+length] {
						matched = true
						break
					}
				}
			}
			if !matched {
				for {
					length++
					if !(length < maxlen && in[ref+length] == in[ip+length]) {
						break
					}
				}
			}
			length -= 2 // #octets - 1
			ip++
			if length < 7 {
				out[op] = byte(off>>8 + length<<5)
				op++
			} else {
				out[op] = byte(off>>8 + 7<<5)
				out[op+1] = byte(length - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start run
			ip += length + 1
			if ip >= n-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			continue
		}
		if op >= outLen {
			return nil
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return nil
	}
	for ip < n {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1) // end run
	if lit == 0 {
		op--
	}
	return out[:op]
}

// lzfMaxRatio bounds how much LZF can expand: a 3-byte back reference
// yields at most 264 bytes, so ulen > 88*clen+some literal slack cannot
// be a real compressed string.
const lzfMaxRatio = 89

// LZFDecompress is lzf_decompress into exactly ulen bytes; ok is false
// for malformed input or a length mismatch.
func LZFDecompress(in []byte, ulen int) ([]byte, bool) {
	if ulen < 0 || ulen > lzfMaxRatio*len(in)+lzfMaxLit {
		return nil, false
	}
	out := make([]byte, 0, ulen)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			ctrl++
			if i+ctrl > len(in) || len(out)+ctrl > ulen {
				return nil, false
			}
			out = append(out, in[i:i+ctrl]...)
			i += ctrl
			continue
		}
		length := ctrl >> 5
		ref := len(out) - (ctrl&0x1f)<<8 - 1
		if length == 7 {
			if i >= len(in) {
				return nil, false
			}
			length += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, false
		}
		ref -= int(in[i])
		i++
		length += 2
		if ref < 0 || len(out)+length > ulen {
			return nil, false
		}
		for k := 0; k < length; k++ {
			out = append(out, out[ref+k])
		}
	}
	return out, len(out) == ulen
}
