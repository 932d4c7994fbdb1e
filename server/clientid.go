package server

import (
	"crypto/rand"
	"encoding/binary"
)

// idCipher turns the server's connection counter into client ids (CLIENT
// ID, HELLO, CLIENT LIST). Redis hands out sequential ids; in a shared
// server that would let a tenant count every other tenant's connections by
// watching its own ids advance. The ids are instead a keyed permutation of
// the counter: unique, positive, and unrelated to each other, so they
// reveal nothing. (They are not monotonic, unlike Redis's.)
//
// The permutation is a 4-round Feistel network over 52 bits whose round
// function is the splitmix64 finalizer of the right half xor a random
// per-server key: a bijection, so ids never repeat within 2^52 connections
// (at 100,000 connections a second, 1,400 years). 52 bits, not 62: ids
// stay below 2^53, the largest integer a JavaScript number holds exactly,
// so node-redis and ioredis read CLIENT ID and HELLO's id without rounding
// and a CLIENT KILL ID or CLIENT TRACKING REDIRECT sent from Node names
// the right connection.
type idCipher struct{ keys [4]uint64 }

const half = 26
const halfMask = 1<<half - 1

// maxClientID is the largest id: ids are in [1, maxClientID], below 2^53.
const maxClientID = 1 << (2 * half)

func newIDCipher() idCipher {
	var c idCipher
	var b [32]byte
	rand.Read(b[:])
	for i := range c.keys {
		c.keys[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return c
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// id maps counter n (0 <= n < 2^52; higher bits are ignored) to a client
// id in [1, maxClientID].
func (c *idCipher) id(n uint64) int64 {
	l, r := (n>>half)&halfMask, n&halfMask
	for _, k := range c.keys {
		l, r = r, l^(mix64(r^k)&halfMask)
	}
	return int64(l<<half|r) + 1
}
