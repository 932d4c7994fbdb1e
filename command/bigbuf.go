package command

import (
	"math/bits"
	"sync"
)

// Big buffers: a handler that copies a big value out of the store to
// reply with it (GET of a 512 KiB string) takes its buffer here and gives
// it back once the reply is written, so a stream of such reads does not
// allocate (and make the collector run) once per request. Buffers come in
// power-of-two classes from 128 KiB to 64 MiB, in sync.Pools: what no
// command holds is freed by the collector's next cycles, so the pools
// keep no memory of their own.
const (
	bigMinShift = 17 // 128 KiB
	bigMaxShift = 26 // 64 MiB
)

var bigPools [bigMaxShift - bigMinShift + 1]sync.Pool

// bigClass is the pool index for a buffer of at least n bytes, or -1 when
// n is outside the pooled classes.
func bigClass(n int) int {
	if n <= 1<<(bigMinShift-1) || n > 1<<bigMaxShift {
		return -1
	}
	shift := bits.Len(uint(n - 1)) // 1<<shift >= n
	return max(shift, bigMinShift) - bigMinShift
}

// BigBuf returns an empty buffer of capacity at least n: pooled for n
// over 64 KiB (up to 64 MiB), else from dst when it is big enough, else
// new.
func BigBuf(dst []byte, n int) []byte {
	if cap(dst) >= n {
		return dst[:0]
	}
	c := bigClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if p, ok := bigPools[c].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<(c+bigMinShift))
}

// PutBigBuf gives back a buffer BigBuf returned (others are ignored); b
// must not be used afterwards.
func PutBigBuf(b []byte) {
	c := bigClass(cap(b))
	if c < 0 || cap(b) != 1<<(c+bigMinShift) {
		return
	}
	b = b[:0]
	bigPools[c].Put(&b)
}
