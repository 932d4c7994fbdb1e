// Package dump serves DUMP and RESTORE with Redis 7.0's payloads (package
// rdb): a value dumped by redis-server 7.0 restores here and one dumped
// here restores in redis-server, in every type and both encodings.
//
// # From entries to payloads and back
//
// DUMP copies the value under the sub-shard lock in the compact layout
// (value's AppendEncoding, as SORT and the set algebra do), then builds
// an rdb.Object and encodes it after the lock is released. It chooses the
// encoding Redis 7.0 would have for the same value: listpack for a
// compact hash or sorted set, an intset for a compact set tagged as one
// (value.SetTagIntset; a compact set that has held a string is a hash
// table in 7.0), a quicklist of listpacks for any list, the hash-table or
// skiplist form for the big encodings.
//
// RESTORE decodes the payload (rdb.Decode: footer, then the value; the
// payload's encoding is only a hint), then builds the entry as a write of
// the same members would: compact while within the tenant's thresholds
// (Ctx.Limits), else the big encoding, exactly as Redis 7.0's rdbLoad
// converts a listpack past the thresholds and loads a small hash table as
// a listpack. Repeated members, fields or set elements, and NaN scores, are
// "Bad data format" (Redis refuses repeats in its hash-table forms and, with
// sanitize-dump-payload, in listpacks too). The entry is stored by one
// Partition.Apply, which reserves its size against the tenant's quota
// before anything is written (OOM otherwise); a payload that does not
// decode writes nothing.
//
// Tables by type: the kind of an rdb.Object maps to the shard.Type it is
// stored as (toEntry) and back (fromEntry); a new type adds one row to
// each and one to rdb's tables. A stream is copied under the key's lock
// (value.Stream.Clone) and turned into an rdb.Object after it
// (streamObject); RESTORE rebuilds it with value.Stream's
// loaders (streamFrom), node boundaries and tombstones included, so it is
// charged by the same formula as a stream built by commands (node buffer
// capacities may differ with their growth history), reserved before the
// write as for any type.
//
// # Memory
//
// The payload is an argument, so the tenant's argument limits bound it.
// Decoding allocates in proportion to it, except LZF strings, whose
// uncompressed size is charged to the client's transient memory
// (Conn.Transient, as LCS's table) before it is allocated and given back
// when the command ends.
//
// # IDLETIME and FREQ
//
// RESTORE checks both options as Redis does. IDLETIME sets the restored
// key's access clock (shard.Partition.SetIdle), which OBJECT IDLETIME
// reads; FREQ is ignored, as Redis ignores it under an LRU policy, and a
// tenant's eviction is never LFU. OBJECT IDLETIME and OBJECT FREQ are
// answered in package keys.
package dump
