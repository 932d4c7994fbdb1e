// Package snapshot writes tenants' partitions to a file and loads them
// back: tcached's warm restart (issue 20). It is not Redis's RDB file:
// each value is Redis 7.0's DUMP payload (package rdb through family/dump,
// so a type gains snapshots when it gains DUMP), framed in a small format
// of tcached's own that keeps tenants apart.
//
// # Format (version 1)
//
//	header   "TCSNAP" 0x00 0x01, created-at unix ms (8 bytes, little endian)
//	section  'T' uvarint(len id) id
//	         records: 'K' db(1 byte) uvarint(len key) key
//	                  uvarint(expire-at unix ms, 0 = none)
//	                  uvarint(len payload) payload (a DUMP payload)
//	         'E' uvarint(records) crc(8 bytes LE)
//	end      'Z' uvarint(sections) crc(8 bytes LE)
//
// A section's crc is CRC-64/Jones (rdb.CRC64, Redis's crc64) over its bytes from 'T' through the record count; the end's crc
// covers the header and the end marker. Records are written least recently
// used first within each sub-shard, so reinserting them in file order
// restores each sub-shard's LRU order (exactly when the sub-shard count is
// unchanged, approximately otherwise).
//
// # Saving without stopping the world
//
// Write visits one sub-shard at a time (shard.WalkShard): under that
// sub-shard's lock it only copies the entries (compact layout, as DUMP
// does); building the payloads and writing happen after the lock is
// released. Other sub-shards, and other tenants, serve throughout. A
// key's copy is O(its size) under the lock: a 1M-element collection
// holds its sub-shard for that copy (milliseconds), as DUMP of it would.
// The server runs a save while serving on a thread niced by 10 (package
// server, snapshot_linux.go), so on a busy machine the connections get
// the CPU first. Payloads are written without LZF (rdb.Options
// NoCompress): compressing cost more time than the disk it saves.
// Save writes to a temporary file in the target's directory, fsyncs it,
// renames it over the target and fsyncs the directory, so a crash during
// a save leaves the previous snapshot whole.
//
// # Loading
//
// Read verifies as it goes and never panics on any content (FuzzRead).
// Keys already expired are dropped; every key is stored through
// Partition.Mutate, so the tenant's quota holds during the load (a tenant
// whose quota shrank keeps what fits: the most recently used keys, since
// they come last; a noeviction tenant keeps the first that fit). A
// section of a tenant no longer configured is read (to check it) and
// skipped. A section whose checksum fails, or a file that ends early, is
// refused: that tenant's partition is emptied, and since nothing after a
// broken frame can be trusted, the tenants after it start empty too; the
// sections before it stay loaded (each was verified by its own crc).
package snapshot
