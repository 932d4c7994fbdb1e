// Package str serves the string commands: GET SET SETNX SETEX PSETEX MGET
// MSET MSETNX GETSET GETDEL GETEX INCR INCRBY DECR DECRBY INCRBYFLOAT
// APPEND STRLEN GETRANGE SETRANGE, with Redis 7's semantics, replies and
// error strings.
//
// A string is an entry of shard.TypeString; GET copies the value into the
// connection's scratch buffer under the sub-shard lock and writes it after,
// so a GET hit allocates nothing. Writes go through one Partition.Mutate
// (read-modify-write commands) or Apply (MSET, MSETNX: every key at once),
// which reserve the quota before storing; a new key gets the tier's
// default TTL. SET's options parser (ExpireOptName) is shared with the
// backed mode in package server.
package str
