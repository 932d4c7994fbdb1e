// Package shard holds one tenant's data: a Partition with a hard byte quota,
// split into power-of-two sub-shards, each a mutex around an eviction.LRU.
//
// # What shard owns
//
// A Partition is a tenant's keyspace (NumDBs databases) and everything
// that must happen under its sub-shard locks:
//
//   - the keyspace itself: sub-shard choice, lookup, reads, and writes that
//     run a caller's callback atomically on one key (Set, Mutate) or on
//     several (Apply) (partition.go, apply.go);
//   - the byte quota and what enforces it: accounting, reservation and LRU
//     eviction within the partition (quota.go);
//   - TTLs: lazy expiry on access and active expiry, ExpireCycle
//     (expire.go);
//   - iteration: SCAN cursors, KEYS walks, RANDOMKEY (walk.go);
//   - the counters and the Stats snapshot (stats.go);
//   - the Type byte every entry carries (type.go).
//
// It does not own the LRU structure (package eviction: no locks, no
// goroutines; the locks are here), the encodings of collection values
// (package value: a Partition stores a typed value as opaque bytes and
// never decodes one), commands (package command and the families), or
// tenants and their namespaces (package server, which holds one Partition
// per tenant).
//
// # The quota invariant
//
// The accounted bytes of a partition (sum over its entries of
// len(key)+len(value)+EntryOverhead) never exceed its quota, at any moment,
// under any number of concurrent writers. The partition keeps one atomic
// counter, used, and every write that grows the partition reserves its
// delta with a compare-and-swap that succeeds only if used+delta <= quota,
// before the entry is inserted. Shrinking deltas are applied after the
// entry shrank, so used is always an upper bound of the true sum and the
// true sum is never above the quota. When a reservation fails:
//
//   - NoEviction: expired entries are dropped (a bounded sweep) and the
//     write is retried once; if it still does not fit it returns ErrOOM.
//   - LRU: the write evicts the least recently used entries of the
//     sub-shard it holds locked (never the keys being written) and retries
//     the reservation. If that sub-shard cannot free enough, the write
//     releases its lock, evicts from the other sub-shards one lock at a time,
//     and runs again from the start; this is why Mutate and Apply callbacks
//     may run more than once. Attempts are bounded (maxAttempts); a write
//     that loses every race returns ErrOOM.
//
// A write whose own final size exceeds the quota can never fit and returns
// ErrOOM at once, evicting nothing. Eviction only ever touches the
// partition's own entries, so one tenant flooding its partition cannot
// remove another tenant's keys.
//
// # Sub-shards and approximate LRU
//
// A key (db, name) is stored as byte(db)+name in the sub-shard chosen by
// an xxhash of the name mixed with db. Each sub-shard has its own
// LRU list, so eviction is per-sub-shard LRU: the victim is the oldest entry
// of one sub-shard, not necessarily the globally oldest. With keys spread by
// hash and each sub-shard holding thousands of entries (see autoShards),
// this approximates global LRU well, the trade-off pebble's cache and
// groupcache-style sharded caches make. Cross-sub-shard eviction visits the
// sub-shards round robin from a rotating start so no sub-shard is drained
// first every time.
//
// # Locks
//
// A goroutine holds at most one sub-shard lock, except Apply, which locks
// all the sub-shards its keys hash to in ascending index order, so two
// Apply calls cannot deadlock. Counters (hits, misses, evictions, expired)
// are per-sub-shard atomics the lock does not guard (Stats sums them), so
// hits and misses are counted after the lock is released and parallel
// readers do not share one counter's cache line. An LRU hit moves the
// entry, so a read is a write and a plain Mutex is used, not an RWMutex.
//
// # Expiry
//
// A key with ExpireAt != 0 is expired when now > ExpireAt (Redis's
// keyIsExpired), now coming from Config.Now. Expired keys are invisible to
// every read; they are deleted lazily when a read or write finds them
// (counted in Stats.Expired) and actively by ExpireCycle, which the owner
// calls periodically. Len and Stats.Keys may count expired keys not yet
// collected, as Redis's DBSIZE does.
//
// # Ownership
//
// Keys and values passed in are not retained: the partition copies them,
// because callers pass slices into a reused network buffer and a stored
// 10-byte value must not pin a whole read buffer (that would make the byte
// quota lie). An entry is one allocation holding its key and value;
// replacing a value copies into that buffer when it fits (and the buffer is
// at most about twice what it then holds), so a SET of an existing key
// allocates nothing. Values handed to callbacks (View, Mutate,
// Apply) are valid only during the callback and must not be modified.
package shard
