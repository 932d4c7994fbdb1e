// Package str serves the string commands: GET SET SETNX SETEX PSETEX MGET
// MSET MSETNX GETSET GETDEL GETEX INCR INCRBY DECR DECRBY INCRBYFLOAT
// APPEND STRLEN GETRANGE SUBSTR SETRANGE LCS, with Redis 7's semantics,
// replies and error strings.
//
// A string is an entry of shard.TypeString; GET copies the value into the
// connection's scratch buffer under the sub-shard lock and writes it after,
// so a GET hit allocates nothing. Writes go through one Partition.Mutate
// (read-modify-write commands) or Apply (MSET, MSETNX: every key at once),
// which reserve the quota before storing; a new key gets the tier's
// default TTL. SET's options parser (ExpireOptName) is shared with the
// backed mode in package server.
//
// LCS is Redis's dynamic program, O(len(a)*len(b)) time and, for its
// reply with the string or its IDX ranges, a table of 4 bytes a cell
// (lcs.go). Redis refuses a table past proto-max-bulk-len (512 MB);
// tcached refuses it too, and also charges the table, with the two
// strings it copies out, to the tenant's client_memory while it runs, so
// one LCS cannot take more of the server than the tenant's connections
// may hold: past the budget it answers the client-memory OOM and
// allocates nothing. LEN alone needs two rows of the table, and takes
// only them.
package str
