// Package bitmap serves the bit commands: SETBIT GETBIT BITCOUNT BITPOS
// BITOP BITFIELD BITFIELD_RO, with Redis 7.0's semantics, replies and
// error strings (a port of bitops.c).
//
// A bitmap is a string, as in Redis: bit 0 is the most significant bit of
// byte 0, GET/SET/APPEND/STRLEN see the same bytes, and a value written by
// SETBIT here is byte for byte what Redis would hold. The bounds are
// Redis's: a bit offset must be below proto-max-bulk-len (512 MB) times
// 8, and a write that would grow the string past the tenant's quota is
// refused before anything is allocated.
//
// Writes that keep the string's length (SETBIT and BITFIELD inside it)
// change the stored bytes in place under the sub-shard lock
// (shard.Partition.Patch): O(1) like Redis's. A write past the end builds
// the grown value aside, zero-padded, and stores it after reserving its
// growth, as SETRANGE does (O(length of the string); Redis grows its
// buffer greedily instead, so repeated SETBITs at increasing offsets cost
// more here). Reads (GETBIT, BITCOUNT, BITPOS, BITFIELD GETs) run under the
// sub-shard lock without copying the value. BITOP reads its sources and
// writes its destination in one Partition.Apply, in the caller's tenant
// only: a source name is a key of the caller's keyspace like any other.
package bitmap
