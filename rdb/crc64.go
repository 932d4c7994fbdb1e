package rdb

import "hash/crc64"

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

// jonesTable is the same polynomial in hash/crc64's convention, whose
// slicing-by-8 update runs several times faster than the byte-wise loop
// on long inputs (snapshots of GiBs, big DUMPs). hash/crc64 inverts the
// crc before and after; CRC64 undoes that. TestCRC64Slicing checks both
// agree.
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 continues crc (0 to start) over b, as Redis's crc64(crc, b, len).
func CRC64(crc uint64, b []byte) uint64 {
	if len(b) >= 64 {
		return ^crc64.Update(^crc, jonesTable, b)
	}
	return crc64Bytewise(crc, b)
}

func crc64Bytewise(crc uint64, b []byte) uint64 {
	for _, c := range b {
		crc = crcTable[byte(crc)^c] ^ crc>>8
	}
	return crc
}
