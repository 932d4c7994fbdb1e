// Package hll serves the HyperLogLog commands: PFADD PFCOUNT PFMERGE, and
// PFDEBUG and PFSELFTEST, with Redis 7.0's semantics, replies and errors.
//
// A HyperLogLog is a string, as in Redis, and its bytes are Redis's: the
// 16-byte header ("HYLL", the encoding, the cached cardinality with its
// validity bit), then the registers in the sparse representation (ZERO,
// XZERO and VAL opcodes) until a register passes 32 or the value would
// pass the tenant's hll-sparse-max-bytes, then in the dense one (16384
// six-bit registers). hll.go is a port of hyperloglog.c (HLL_P 14,
// MurmurHash64A with Redis's seed, the sparse update with its split and
// merge rules, Ertl's estimator with the same floating-point operations),
// so a value copied from a redis-server 7.0 counts the same here, and a
// value written here is the one Redis would have written: the
// differential test compares GET of both after the same PFADDs.
//
// PFADD on a dense value and PFCOUNT's update of the cached cardinality
// rewrite the stored bytes in place (shard.Partition.Patch); a sparse
// update is built aside and stored, reserving its growth. PFCOUNT of
// several keys and PFMERGE read (and PFMERGE writes) the caller's
// partition in one Apply: a source names a key of the caller's tenant only.
package hll
