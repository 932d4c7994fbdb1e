package rdb

import "encoding/binary"

// crcTable is the byte-wise table of the reflected Jones polynomial
// (Redis's crc64.c: crc-64-jones, reflected in and out, no final xor).
var crcTable = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5
	for i := range t {
		c := uint64(i)
		for k := 0; k < 8; k++ {
			if c&1 != 0 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crcSlicing extends crcTable for slicing-by-8 (eight bytes per step, as
// hash/crc64 does for its own polynomials; for another polynomial it
// rebuilds these 16 KiB on every call of 2 KiB or more, and runs
// byte-wise below that). A snapshot checksums every byte twice, so the
// byte-wise loop alone cost seconds per GiB. TestCRC64Slicing checks both
// loops agree.
var crcSlicing = func() (t [8][256]uint64) {
	t[0] = crcTable
	for i := range 256 {
		c := t[0][i]
		for j := 1; j < 8; j++ {
			c = t[0][c&0xff] ^ c>>8
			t[j][i] = c
		}
	}
	return t
}()

// CRC64 continues crc (0 to start) over b, as Redis's crc64(crc, b, len).
func CRC64(crc uint64, b []byte) uint64 {
	t := &crcSlicing
	for len(b) >= 8 {
		crc ^= binary.LittleEndian.Uint64(b)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		b = b[8:]
	}
	return crc64Bytewise(crc, b)
}

func crc64Bytewise(crc uint64, b []byte) uint64 {
	for _, c := range b {
		crc = crcTable[byte(crc)^c] ^ crc>>8
	}
	return crc
}
