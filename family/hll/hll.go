package hll

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// A port of Redis 7.0's hyperloglog.c: the same header, the same sparse
// and dense representations, the same hash and the same estimator, so a
// value is interchangeable byte for byte with Redis's.

const (
	hllP          = 14
	hllQ          = 64 - hllP
	hllRegisters  = 1 << hllP
	hllPMask      = hllRegisters - 1
	hllBits       = 6
	hllRegMax     = 1<<hllBits - 1
	hdrSize       = 16 // magic[4] encoding notused[3] card[8]
	denseSize     = hdrSize + (hllRegisters*hllBits+7)/8
	encDense      = 0
	encSparse     = 1
	maxEncoding   = 1
	alphaInf      = 0.721347520444481703680 // 0.5/ln(2)
	sparseValMax  = 32
	sparseValLen  = 4
	sparseZeroLen = 64
	xzeroMaxLen   = 16384
)

// Sparse opcodes: ZERO 00xxxxxx (1..64 zero registers), XZERO 01xxxxxx
// xxxxxxxx (1..16384), VAL 1vvvvvxx (1..4 registers of value 1..32).
func isZero(b byte) bool  { return b&0xc0 == 0 }
func isXZero(b byte) bool { return b&0xc0 == 0x40 }
func isVal(b byte) bool   { return b&0x80 != 0 }
func zeroLen(b byte) int  { return int(b&0x3f) + 1 }

// xzeroLen reads the XZERO opcode at v[p]. A truncated one reads its
// second byte as 0, as Redis reads the string's terminator there, so a
// corrupt value decodes (and fails) exactly as it does in Redis.
func xzeroLen(v []byte, p int) int {
	var lo int
	if p+1 < len(v) {
		lo = int(v[p+1])
	}
	return (int(v[p]&0x3f)<<8 | lo) + 1
}
func valValue(b byte) int { return int(b>>2&0x1f) + 1 }
func valLen(b byte) int   { return int(b&3) + 1 }
func valOp(val, n int) byte {
	return byte((val-1)<<2|(n-1)) | 0x80
}
func zeroOp(n int) byte { return byte(n - 1) }
func xzeroOp(n int) (byte, byte) {
	l := n - 1
	return byte(l>>8) | 0x40, byte(l)
}

// murmur64A is MurmurHash64A as Redis has it (endian-neutral).
func murmur64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	n := len(key) - len(key)&7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	switch len(tail) {
	case 7:
		h ^= uint64(tail[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(tail[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(tail[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(tail[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(tail[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patLen is hllPatLen: the register an element hashes to, and the length
// of the 000..1 pattern after the index bits (1..Q+1).
func patLen(ele []byte) (index int, count int) {
	hash := murmur64A(ele, 0xadc83b19)
	index = int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ
	return index, bits.TrailingZeros64(hash) + 1
}

// getReg reads dense register i from regs (the registers after the
// header). The last register's byte+1 is past the end: it contributes
// nothing (Redis reads the sds terminator there).
func getReg(regs []byte, i int) int {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	b0 := uint(regs[b])
	var b1 uint
	if b+1 < len(regs) {
		b1 = uint(regs[b+1])
	}
	return int((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func setReg(regs []byte, i, val int) {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	v := uint(val)
	regs[b] &^= byte(hllRegMax << fb)
	regs[b] |= byte(v << fb)
	if b+1 < len(regs) {
		regs[b+1] &^= byte(hllRegMax >> (8 - fb))
		regs[b+1] |= byte(v >> (8 - fb))
	}
}

// denseSet raises register i to count; it reports a change.
func denseSet(regs []byte, i, count int) bool {
	if count > getReg(regs, i) {
		setReg(regs, i, count)
		return true
	}
	return false
}

// newSparse is createHLLObject: an empty HLL, sparse (XZERO opcodes).
func newSparse() []byte {
	n := (hllRegisters + xzeroMaxLen - 1) / xzeroMaxLen
	s := make([]byte, hdrSize, hdrSize+2*n)
	copy(s, "HYLL")
	s[4] = encSparse
	for aux := hllRegisters; aux > 0; {
		x := min(xzeroMaxLen, aux)
		a, b := xzeroOp(x)
		s = append(s, a, b)
		aux -= x
	}
	return s
}

// valid is isHLLObjectOrReply's check of a string's bytes.
func valid(v []byte) bool {
	if len(v) < hdrSize || string(v[:4]) != "HYLL" || v[4] > maxEncoding {
		return false
	}
	return v[4] != encDense || len(v) == denseSize
}

func invalidateCache(v []byte) { v[15] |= 1 << 7 }
func validCache(v []byte) bool { return v[15]&(1<<7) == 0 }

// toDense is hllSparseToDense: the dense form of the sparse v (header
// copied, so the cached cardinality too), or ok false when v's opcodes do
// not cover exactly the registers.
func toDense(v []byte) (d []byte, ok bool) {
	d = make([]byte, denseSize)
	copy(d, v[:hdrSize])
	d[4] = encDense
	regs := d[hdrSize:]
	idx := 0
	for p := hdrSize; p < len(v); {
		switch b := v[p]; {
		case isZero(b):
			idx += zeroLen(b)
			p++
		case isXZero(b):
			idx += xzeroLen(v, p)
			p += 2
		default:
			n, val := valLen(b), valValue(b)
			if n+idx > hllRegisters {
				return nil, false
			}
			for ; n > 0; n-- {
				setReg(regs, idx, val)
				idx++
			}
			p++
		}
	}
	return d, idx == hllRegisters
}

// sparseSet is hllSparseSet on the sparse v: register index raised to
// count. It returns the new value (possibly dense, promoted when count
// does not fit a VAL opcode or the value would pass maxSparse bytes) and
// 1 when a register changed, 0 when not, -1 when v is corrupt.
func sparseSet(v []byte, index, count int, maxSparse int64) ([]byte, int) {
	if count > sparseValMax {
		return promote(v, index, count)
	}
	end := len(v)
	p := hdrSize
	first, span, prev := 0, 0, -1
	for p < end {
		oplen := 1
		switch b := v[p]; {
		case isZero(b):
			span = zeroLen(b)
		case isVal(b):
			span = valLen(b)
		default:
			span = xzeroLen(v, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return v, -1
	}
	b := v[p]
	zero, xzero := isZero(b), isXZero(b)
	var runlen int
	switch {
	case zero:
		runlen = zeroLen(b)
	case xzero:
		runlen = xzeroLen(v, p)
	default:
		runlen = valLen(b)
	}
	updated := false
	if !zero && !xzero {
		if valValue(b) >= count {
			return v, 0
		}
		if runlen == 1 {
			v[p] = valOp(count, 1)
			updated = true
		}
	}
	if !updated && zero && runlen == 1 {
		v[p] = valOp(count, 1)
		updated = true
	}
	if !updated {
		var seq [5]byte
		n := 0
		last := first + span - 1
		zeros := func(l int) {
			if l > sparseZeroLen {
				seq[n], seq[n+1] = xzeroOp(l)
				n += 2
			} else {
				seq[n] = zeroOp(l)
				n++
			}
		}
		if zero || xzero {
			if index != first {
				zeros(index - first)
			}
			seq[n] = valOp(count, 1)
			n++
			if index != last {
				zeros(last - index)
			}
		} else {
			cur := valValue(b)
			if index != first {
				seq[n] = valOp(cur, index-first)
				n++
			}
			seq[n] = valOp(count, 1)
			n++
			if index != last {
				seq[n] = valOp(cur, last-index)
				n++
			}
		}
		oldlen := 1
		if xzero {
			oldlen = 2
		}
		if p+oldlen > len(v) {
			return v, -1 // a truncated XZERO (Redis would write past its string)
		}
		delta := n - oldlen
		if delta > 0 && int64(len(v)+delta) > maxSparse {
			return promote(v, index, count)
		}
		// Replace the opcode at p by seq, moving the tail.
		nv := make([]byte, 0, len(v)+delta)
		nv = append(nv, v[:p]...)
		nv = append(nv, seq[:n]...)
		nv = append(nv, v[p+oldlen:]...)
		v = nv
		end = len(v)
	}
	// Merge adjacent VAL opcodes of one value, scanning up to 5 opcodes
	// from the one before the change.
	p = hdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < end && scan > 0; scan-- {
		if isXZero(v[p]) {
			p += 2
			continue
		} else if isZero(v[p]) {
			p++
			continue
		}
		if p+1 < end && isVal(v[p+1]) {
			v1, v2 := valValue(v[p]), valValue(v[p+1])
			if v1 == v2 {
				if l := valLen(v[p]) + valLen(v[p+1]); l <= sparseValLen {
					v[p+1] = valOp(v1, l)
					copy(v[p:], v[p+1:end])
					end--
					v = v[:end]
					continue // try the merged opcode with the next
				}
			}
		}
		p++
	}
	invalidateCache(v)
	return v, 1
}

// promote converts v to dense and sets the register there.
func promote(v []byte, index, count int) ([]byte, int) {
	d, ok := toDense(v)
	if !ok {
		return v, -1
	}
	denseSet(d[hdrSize:], index, count)
	return d, 1
}

// add is hllAdd: v with ele added, and 1 if a register changed (0 if not,
// -1 if v is corrupt). A dense v is changed in place.
func add(v, ele []byte, maxSparse int64) ([]byte, int) {
	index, count := patLen(ele)
	switch v[4] {
	case encDense:
		if denseSet(v[hdrSize:], index, count) {
			return v, 1
		}
		return v, 0
	case encSparse:
		return sparseSet(v, index, count, maxSparse)
	}
	return v, -1
}

// histo fills reghisto from v's registers; invalid reports a sparse v
// whose opcodes do not cover the registers exactly.
func histo(v []byte, reghisto *[64]int) (invalid bool) {
	regs := v[hdrSize:]
	if v[4] == encDense {
		for i := 0; i < hllRegisters; i++ {
			reghisto[getReg(regs, i)]++
		}
		return false
	}
	idx := 0
	for p := 0; p < len(regs); {
		switch b := regs[p]; {
		case isZero(b):
			n := zeroLen(b)
			idx += n
			reghisto[0] += n
			p++
		case isXZero(b):
			n := xzeroLen(regs, p)
			idx += n
			reghisto[0] += n
			p += 2
		default:
			n := valLen(b)
			idx += n
			reghisto[valValue(b)] += n
			p++
		}
	}
	return idx != hllRegisters
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += float64(x * y) // conversions stop a fused multiply-add: C does not fuse
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := float64(1 - x)
		z -= float64(float64(d*d) * y)
		if zp == z {
			return z / 3
		}
	}
}

// estimate is hllCount's estimator over a register histogram (Ertl,
// "New cardinality estimation algorithms for HyperLogLog sketches").
func estimate(reghisto *[64]int) uint64 {
	const m = float64(hllRegisters)
	z := float64(m * tau(float64(m-float64(reghisto[hllQ+1]))/m))
	for j := hllQ; j >= 1; j-- {
		z += float64(reghisto[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(reghisto[0])/m))
	return uint64(math.Round(alphaInf * m * m / z))
}

// merge is hllMerge: max[i] = MAX(max[i], v's register i); false when a
// sparse v is corrupt.
func merge(maxr *[hllRegisters]uint8, v []byte) bool {
	regs := v[hdrSize:]
	if v[4] == encDense {
		for i := 0; i < hllRegisters; i++ {
			if r := uint8(getReg(regs, i)); r > maxr[i] {
				maxr[i] = r
			}
		}
		return true
	}
	i := 0
	for p := 0; p < len(regs); {
		switch b := regs[p]; {
		case isZero(b):
			i += zeroLen(b)
			p++
		case isXZero(b):
			i += xzeroLen(regs, p)
			p += 2
		default:
			n, val := valLen(b), uint8(valValue(b))
			if n+i > hllRegisters {
				return false
			}
			for ; n > 0; n-- {
				if val > maxr[i] {
					maxr[i] = val
				}
				i++
			}
			p++
		}
	}
	return i == hllRegisters
}
