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
// (package value: a Partition stores a typed value as opaque bytes or an
// opaque Object and never decodes one), commands (package command and the families), or
// tenants and their namespaces (package server, which holds one Partition
// per tenant).
//
// # The quota invariant
//
// The accounted bytes of a partition (sum over its entries of
// len(key)+len(value)+EntryOverhead, plus each object's Bytes) never
// exceed its quota, at any moment,
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
// # Objects: big values outside the slab
//
// A key holds either bytes (a string, or a collection in its compact
// encoding, stored in the entry's slab buffer like a string) or an Object:
// a collection past Redis's thresholds in a big encoding of package value
// (object.go). An object lives in its sub-shard's object table, a slice of
// (Object, charge) slots; the entry's value is the slot's 4-byte id and its
// kind byte carries a flag bit beside the Type. Two other places were
// possible: a slice parallel to the LRU's slots, indexed by handle (no id
// in the value, but 16 bytes more per slot for every string key too), or a
// field in the eviction slot (eviction would have to know a Go interface,
// and its slots would grow). The table costs only the keys that hold
// objects, keeps eviction a pointer-free byte LRU that knows nothing of
// them, and an id is as stable as a handle: an object never moves between
// slots while its key lives.
//
// An object key is charged len(name) + 4 + EntryOverhead plus the object's
// Bytes, recorded in its slot when stored and after every edit, so
// removing it releases exactly what was charged. Every way a key leaves
// (DEL, an overwrite, expiry, eviction, FLUSHDB/FLUSHALL) drops the slot in
// O(1): objects hold their elements in pointer-free arenas, so there is no
// teardown to do under the lock, the bytes leave the quota at once and the
// garbage collector reclaims the memory in the background (Redis needs
// lazyfree threads for this; a Go heap needs nothing, see package value
// for the GC figures). Eviction evicts an object key whole, like any key.
//
// # Growing an object in place: reserve, then commit
//
// A Put replaces a key's value with one the callback built (bytes or a new
// object: a conversion builds the object from the compact encoding, which
// changes nothing stored), so its size is known before anything changes
// and the quota rule applies unchanged. An edit of a stored object (HSET of
// a field into a hash table) cannot be built aside: it changes the object.
// Because callbacks may run more than once, an edit is split in two
// (MutateEdit, ApplyEdit, the Edit action): the callback only plans, under
// the lock, and returns in Entry.Grow the most the edit will add to the
// object's Bytes; the partition reserves Grow exactly as it reserves a
// Put's growth (CAS within the quota, evicting the tenant's own other keys,
// never the key being written, possibly releasing the lock and running the
// callback again); only once the reservation holds does it call the
// commit function, once, under the same lock hold. It then measures the
// object: the growth must not exceed Grow (a larger one is a bug that would
// make the quota lie, and panics); the unused reservation is released, and
// an edit that shrinks the object is released after it happened. So the
// quota invariant holds for in-place growth too, and no callback ever
// changes a stored object before its reservation succeeded.
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
// Keys and byte values passed in are not retained: the partition copies them,
// because callers pass slices into a reused network buffer and a stored
// 10-byte value must not pin a whole read buffer (that would make the byte
// quota lie). An entry is one allocation holding its key and value;
// replacing a value copies into that buffer when it fits (and the buffer is
// at most about twice what it then holds), so a SET of an existing key
// allocates nothing. Values handed to callbacks (View, Mutate,
// Apply) are valid only during the callback and must not be modified.
//
// An Object is the exception: a Put hands it over and the partition stores
// it as is (copying a million-element structure per write would defeat its
// purpose). From then on only the partition's callers, under the sub-shard
// lock (in callbacks, and in commits for changes), touch it; nothing may
// keep a reference past the callback. An object is at one key at a time: a
// Put of a key's object at another key of the same Apply moves it (RENAME,
// MOVE) and requires the first key to let it go; COPY puts a clone.
package shard
