// Package shard holds one tenant's data: a Partition with a hard byte quota,
// split into power-of-two sub-shards, each a mutex around an eviction.LRU.
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

import (
	"bytes"
	"errors"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tcached/tcached/eviction"
)

// EntryOverhead is the number of bytes charged per entry beyond
// len(key)+len(value). It stands for the memory an entry costs besides its
// key and value bytes (see package eviction for the layout):
//
//   - the eviction slot: 32 bytes, plus the unused part of the last
//     1024-slot page of each sub-shard;
//   - the index bucket: 8 bytes at a load factor between 3/8 and 3/4,
//     10.7-21.3 bytes per entry;
//   - in the entry's single key+value allocation, the db byte and the
//     uvarint key length (2 bytes for keys under 128 bytes) and the malloc
//     size-class rounding (16+100 bytes: 118 -> 128; 32+1000: 1034 -> 1152).
//
// TestMemoryOverhead measures it (go1.26.8 linux/amd64, 64 sub-shards,
// live heap after GC, per entry):
//
//	key+value   entries   real heap   real - key - value   accounted   acct/real
//	16+100      200 K     192.1        76.1                188         0.98
//	16+100      1 M       179.4        63.4                188         1.05
//	8+16        100 K     103.0        79.0                 96         0.93
//	32+1000     50 K      1212.9      180.9 (1034 -> 1152) 1104        0.91
//
// (1 M is TestLoad1M; its process RSS grows by 191.4 bytes per entry.) 72
// is charged. TestMemoryOverhead logs the current figures and fails if
// accounted bytes leave 0.8x..1.25x of the real heap.
const EntryOverhead = 72

// maxAttempts bounds how many times a write re-runs after releasing its
// lock to evict from other sub-shards. Each attempt frees at least what the
// write needed, so only concurrent writers stealing the freed room make a
// second attempt fail; 16 lost races in a row means the partition is
// hopelessly contended for its size and the write reports ErrOOM.
const maxAttempts = 16

// Shard-count constants for Config.Shards == 0.
//
// minShardBytes: a sub-shard is its own LRU, and LRU order is only
// approximated across sub-shards; at 1 MiB a sub-shard holds thousands of
// typical (100-300 byte) entries, enough that the oldest entry of one
// sub-shard is close to the oldest of all (the same reasoning as pebble's
// cache, which floors shard size). Small tenants therefore get one or a few
// sub-shards and exact or near-exact LRU.
//
// maxShards: lock contention stops improving once there are several times
// more sub-shards than concurrently running goroutines; 64 covers 16-32
// cores while keeping per-sub-shard fixed costs (index, slot pages,
// padding) and the cost of whole-partition walks (Stats, Len, Flush) small.
const (
	minShardBytes = 1 << 20
	maxShards     = 64
)

// NumDBs is the number of Redis databases (SELECT 0..15).
const NumDBs = 16

var (
	// ErrOOM reports a write that cannot fit: its own size exceeds the quota
	// (nothing is evicted), or the partition is full and NoEviction is set,
	// or eviction lost every race against concurrent writers.
	ErrOOM = errors.New("shard: over quota")
	// ErrBadDB reports a db outside 0..NumDBs-1.
	ErrBadDB = errors.New("shard: db index out of range")
	// errBadCallback reports an Apply callback whose slices do not match
	// the keys, or an unknown Action.
	errBadCallback = errors.New("shard: callback returned malformed result")
)

// Config configures a Partition.
type Config struct {
	// Quota is the hard limit of accounted bytes; it must be > 0.
	Quota int64
	// NoEviction makes a write that does not fit fail with ErrOOM instead
	// of evicting this partition's least recently used keys.
	NoEviction bool
	// Shards is the number of sub-shards, rounded up to a power of two;
	// 0 derives it from Quota (see minShardBytes, maxShards).
	Shards int
	// Now returns the time in unix milliseconds; nil means the real clock.
	Now func() int64
}

// Entry is the state of one key.
type Entry struct {
	Value    []byte
	ExpireAt int64 // unix ms; 0 = no expiry
	// Type is the type of Value (see type.go). The zero value is
	// TypeString, so an Entry built without it stores a string: SET
	// overwrites a key of any type.
	Type Type
}

// Action is what a Mutate or Apply callback wants done to a key.
type Action uint8

const (
	// Keep leaves the key unchanged (an existing key still counts as used).
	Keep Action = iota
	// Put stores Entry.Value, Entry.Type and Entry.ExpireAt. A Put whose ExpireAt is
	// already in the past deletes the key, as Redis does for SET ... PXAT
	// with a past time.
	Put
	// Delete removes the key if it exists.
	Delete
	// SetTTL changes only ExpireAt of an existing key (0 = persist); a
	// time already in the past deletes the key. No-op for a missing key.
	SetTTL
)

// ViewFlags select the side effects of View.
type ViewFlags uint8

const (
	// ViewStats counts the lookup as a hit or a miss.
	ViewStats ViewFlags = 1 << iota
	// ViewTouch makes a found key the most recently used.
	ViewTouch
)

// Key names a key of a multi-key operation.
type Key struct {
	DB   int
	Name []byte
}

// Stats is a snapshot of a partition. Sub-shards are read one after
// another, so the per-db figures are not one atomic cut.
type Stats struct {
	Quota, UsedBytes int64
	Keys             int64
	Hits, Misses     int64
	Evictions        int64
	Expired          int64
	KeysPerDB        [NumDBs]int64
	ExpiresPerDB     [NumDBs]int64 // keys with a TTL (INFO keyspace expires=)
}

// Partition is one tenant's keyspace. It is safe for concurrent use.
type Partition struct {
	quota atomic.Int64
	shown atomic.Int64 // the quota reported by Stats/Quota; lags quota while a shrink evicts
	used  atomic.Int64 // reserved accounted bytes; see "The quota invariant"

	noEviction atomic.Bool // NoEviction; SetNoEviction changes it (reload)
	now        func() int64
	shards     []subShard
	mask       uint64
	shardBits  uint

	expireNext atomic.Uint32 // rotating start sub-shard of ExpireCycle
	evictNext  atomic.Uint32 // rotating start sub-shard of cross-shard eviction
}

type subShard struct {
	// mu guards lru, key, keys, expires and expireSlot.
	mu  sync.Mutex
	lru *eviction.LRU
	// key is scratch space for the stored form byte(db)+name of the key
	// being looked up, so lookups do not allocate.
	key        []byte
	keys       [NumDBs]int64 // live entries per db
	expires    [NumDBs]int64 // entries with ExpireAt != 0 per db
	expireSlot int           // next slot ExpireCycle examines

	hits, misses, evictions, expired atomic.Int64

	_ [64]byte // keep neighbouring sub-shards' locks off this cache line
}

// New returns an empty partition. It panics if cfg.Quota <= 0.
func New(cfg Config) *Partition {
	if cfg.Quota <= 0 {
		panic("shard: Config.Quota must be > 0")
	}
	n := cfg.Shards
	if n <= 0 {
		n = autoShards(cfg.Quota)
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	p := &Partition{
		now:       cfg.Now,
		shards:    make([]subShard, n),
		mask:      uint64(n - 1),
		shardBits: uint(bits.TrailingZeros(uint(n))),
	}
	if p.now == nil {
		p.now = func() int64 { return time.Now().UnixMilli() }
	}
	p.quota.Store(cfg.Quota)
	p.shown.Store(cfg.Quota)
	p.noEviction.Store(cfg.NoEviction)
	for i := range p.shards {
		p.shards[i].lru = eviction.New(0, storedOverhead)
	}
	return p
}

// autoShards picks the largest power of two <= maxShards that gives every
// sub-shard at least minShardBytes of quota.
func autoShards(quota int64) int {
	n := 1
	for n < maxShards && quota/int64(n*2) >= minShardBytes {
		n *= 2
	}
	return n
}

// Shards is the number of sub-shards.
func (p *Partition) Shards() int { return len(p.shards) }

func validDB(db int) bool { return db >= 0 && db < NumDBs }

// storedOverhead is the per-entry overhead the sub-shards' LRUs add to
// len(stored key)+len(value): the stored key has the db byte in front of
// the name, which entrySize does not charge.
const storedOverhead = EntryOverhead - 1

// entrySize is the accounted size of an entry.
func entrySize(nameLen, valueLen int) int64 {
	return int64(nameLen) + int64(valueLen) + EntryOverhead
}

// tooBig reports an entry the LRU cannot hold (about 4 GiB); it fails as
// ErrOOM, like an entry larger than the quota.
func tooBig(nameLen, valueLen int) bool {
	return int64(nameLen)+1+int64(valueLen) > eviction.MaxEntry
}

func expired(expireAt, now int64) bool { return expireAt != 0 && now > expireAt }

func (p *Partition) shardIndex(db int, name []byte) int {
	h := xxhash.Sum64(name) ^ (uint64(db)+1)*0x9e3779b97f4a7c15
	h ^= h >> 29
	return int(h & p.mask)
}

// setKey loads the stored form of (db, name) into s.key. s.mu must be held.
func (s *subShard) setKey(db int, name []byte) {
	s.key = append(append(s.key[:0], byte(db)), name...)
}

// reserve adds delta to used if the result stays within the quota. A delta
// <= 0 is always applied.
func (p *Partition) reserve(delta int64) bool {
	if delta <= 0 {
		p.used.Add(delta)
		return true
	}
	for {
		u := p.used.Load()
		if u+delta > p.quota.Load() {
			return false
		}
		if p.used.CompareAndSwap(u, u+delta) {
			return true
		}
	}
}

// removeRaw deletes h and updates the per-db counts but not used. s.mu must
// be held.
func (s *subShard) removeRaw(h eviction.Handle) int64 {
	k := s.lru.Key(h)
	db := k[0]
	s.keys[db]--
	if s.lru.ExpireAt(h) != 0 {
		s.expires[db]--
	}
	size := s.lru.Size(h)
	s.lru.Remove(h)
	return size
}

// remove deletes h and releases its bytes. s.mu must be held.
func (p *Partition) remove(s *subShard, h eviction.Handle) {
	p.used.Add(-s.removeRaw(h))
}

// setExpire changes the expiry of h. s.mu must be held.
func (s *subShard) setExpire(h eviction.Handle, expireAt int64) {
	old := s.lru.ExpireAt(h)
	db := s.lru.Key(h)[0]
	switch {
	case old == 0 && expireAt != 0:
		s.expires[db]++
	case old != 0 && expireAt == 0:
		s.expires[db]--
	}
	s.lru.SetExpireAt(h, expireAt)
}

// insertRaw adds a copy of a new entry whose bytes are already reserved.
// key is the stored form. s.mu must be held.
func (s *subShard) insertRaw(key, value []byte, t Type, expireAt int64) {
	db := key[0]
	s.keys[db]++
	if expireAt != 0 {
		s.expires[db]++
	}
	s.lru.AddKind(key, value, uint8(t), expireAt)
}

// entryOf is the state of the live entry h. s.mu must be held.
func (s *subShard) entryOf(h eviction.Handle) Entry {
	v, kind, exp := s.lru.Entry(h)
	return Entry{Value: readOnly(v), ExpireAt: exp, Type: Type(kind)}
}

// lookup finds the key in s.key, deleting it if expired. now is read only
// when the entry has an expiry. s.mu must be held.
func (p *Partition) lookup(s *subShard) (eviction.Handle, bool) {
	h, ok := s.lru.Lookup(s.key)
	if !ok {
		return eviction.Nil, false
	}
	if e := s.lru.ExpireAt(h); e != 0 && p.now() > e {
		p.remove(s, h)
		s.expired.Add(1)
		return eviction.Nil, false
	}
	return h, true
}

// readOnly returns v with its capacity clipped, so a callback that appends
// to a value it was shown cannot write into the stored buffer's spare room.
func readOnly(v []byte) []byte { return v[:len(v):len(v)] }

// GetAppend appends the value of (db, key) to dst. It counts a hit or a
// miss, makes a found key the most recently used and deletes an expired key.
// A key of another type than TypeString is reported missing; GetString
// tells the two apart.
func (p *Partition) GetAppend(dst []byte, db int, key []byte) ([]byte, bool) {
	dst, t, ok := p.GetString(dst, db, key)
	return dst, ok && t == TypeString
}

// GetString is GetAppend for string commands (GET, MGET): it appends the
// value only when the key holds a string, and otherwise reports the key's
// type with dst unchanged (found is true), so the caller can answer
// WRONGTYPE without copying a large hash. It counts a hit for a key of
// any type, as Redis's lookupKeyRead does.
func (p *Partition) GetString(dst []byte, db int, key []byte) (out []byte, t Type, found bool) {
	if !validDB(db) {
		return dst, TypeString, false
	}
	s := &p.shards[p.shardIndex(db, key)]
	s.mu.Lock()
	s.setKey(db, key)
	h, ok := p.lookup(s)
	if !ok {
		s.mu.Unlock()
		s.misses.Add(1)
		return dst, TypeString, false
	}
	if t = Type(s.lru.Kind(h)); t == TypeString {
		dst = append(dst, s.lru.Value(h)...)
	}
	s.lru.Touch(h)
	s.mu.Unlock()
	s.hits.Add(1)
	return dst, t, true
}

// View calls fn with the entry of (db, key) under the sub-shard lock and
// reports whether the key exists. e.Value is valid only during fn and must
// not be modified; fn must not call back into the partition.
func (p *Partition) View(db int, key []byte, flags ViewFlags, fn func(e Entry)) bool {
	if !validDB(db) {
		return false
	}
	s := &p.shards[p.shardIndex(db, key)]
	ok := p.view(s, db, key, flags, fn)
	if flags&ViewStats != 0 {
		if ok {
			s.hits.Add(1)
		} else {
			s.misses.Add(1)
		}
	}
	return ok
}

func (p *Partition) view(s *subShard, db int, key []byte, flags ViewFlags, fn func(e Entry)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key)
	h, ok := p.lookup(s)
	if !ok {
		return false
	}
	if flags&ViewTouch != 0 {
		s.lru.Touch(h)
	}
	if fn != nil {
		fn(s.entryOf(h))
	}
	return true
}

// Set stores value under (db, key) with the given expiry (0 = none),
// replacing any previous value and expiry. It returns ErrOOM if the value
// cannot fit.
func (p *Partition) Set(db int, key, value []byte, expireAt int64) error {
	if !validDB(db) {
		return ErrBadDB
	}
	idx := p.shardIndex(db, key)
	s := &p.shards[idx]
	sk := skipper{db: db, name: key}
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		s.setKey(db, key)
		h, exists := p.lookup(s)
		need, err := p.applyLocked(s, h, exists, &Entry{Value: value, ExpireAt: expireAt}, Put, &sk)
		s.mu.Unlock()
		if need == 0 {
			return err
		}
		if !p.makeRoom(need, &sk, attempt) {
			return ErrOOM
		}
	}
}

// Mutate runs fn on the current state of (db, key) under the sub-shard lock
// and applies the returned action atomically. cur.Value is valid only
// during fn and must not be modified; next.Value is copied. fn may be
// called more than once (when the write must release the lock to evict
// from other sub-shards and retry), so it must not have side effects beyond
// recording its results; the last call's results are the ones applied. An
// error from fn aborts with no change and is returned as is. A found key is
// made the most recently used whatever the action.
func (p *Partition) Mutate(db int, key []byte, fn func(cur Entry, exists bool) (next Entry, act Action, err error)) error {
	if !validDB(db) {
		return ErrBadDB
	}
	s := &p.shards[p.shardIndex(db, key)]
	sk := skipper{db: db, name: key}
	for attempt := 0; ; attempt++ {
		need, err := p.mutateOnce(s, db, key, fn, &sk)
		if need == 0 {
			return err
		}
		if !p.makeRoom(need, &sk, attempt) {
			return ErrOOM
		}
	}
}

func (p *Partition) mutateOnce(s *subShard, db int, key []byte, fn func(Entry, bool) (Entry, Action, error), sk *skipper) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key)
	h, exists := p.lookup(s)
	var cur Entry
	if exists {
		cur = s.entryOf(h)
	}
	next, act, err := fn(cur, exists)
	if err != nil {
		return 0, err
	}
	return p.applyLocked(s, h, exists, &next, act, sk)
}

// applyLocked performs act on the key in s.key, found at h if exists. It
// returns need > 0, having changed nothing, when the write does not fit
// after evicting what the locked sub-shard allows; the caller must then
// release the lock, call makeRoom and retry. next is a pointer so that the
// arguments stay in registers (Entry is five words). s.mu must be held.
func (p *Partition) applyLocked(s *subShard, h eviction.Handle, exists bool, next *Entry, act Action, sk *skipper) (need int64, err error) {
	switch act {
	case Keep:
		if exists {
			s.lru.Touch(h)
		}
		return 0, nil
	case Delete:
		if exists {
			p.remove(s, h)
		}
		return 0, nil
	case SetTTL:
		if !exists {
			return 0, nil
		}
		if expired(next.ExpireAt, p.now()) {
			p.remove(s, h)
			return 0, nil
		}
		s.setExpire(h, next.ExpireAt)
		s.lru.Touch(h)
		return 0, nil
	case Put:
	default:
		return 0, errBadCallback
	}
	if next.ExpireAt != 0 && expired(next.ExpireAt, p.now()) {
		if exists {
			p.remove(s, h)
		}
		return 0, nil
	}
	size := entrySize(len(s.key)-1, len(next.Value))
	if size > p.quota.Load() || tooBig(len(s.key)-1, len(next.Value)) {
		return 0, ErrOOM
	}
	var old int64
	if exists {
		old = s.lru.Size(h)
	}
	delta := size - old
	if delta > 0 && !p.reserve(delta) && !p.evictLocked(s, delta, sk) {
		return delta, nil
	}
	if exists {
		// The LRU copies into the entry's buffer in place when it fits
		// (a SET of an existing key allocates nothing); next.Value may
		// alias the current value.
		s.lru.SetValueKind(h, next.Value, uint8(next.Type))
		s.setExpire(h, next.ExpireAt)
		s.lru.Touch(h)
	} else {
		s.insertRaw(s.key, next.Value, next.Type, next.ExpireAt)
	}
	if delta < 0 {
		p.used.Add(delta)
	}
	return 0, nil
}

// skipper names the keys a write must not evict: one (db, name), or a set
// of stored-form keys for Apply.
type skipper struct {
	db   int
	name []byte
	set  map[string]struct{}
}

func (k *skipper) has(stored []byte) bool {
	if k.set != nil {
		_, ok := k.set[string(stored)]
		return ok
	}
	return len(stored) == len(k.name)+1 && int(stored[0]) == k.db && string(stored[1:]) == string(k.name)
}

// evictLocked makes room for delta by reserving it, evicting entries of s
// from the LRU end (skipping sk's keys) while the reservation fails. It
// reports whether delta is now reserved. In NoEviction mode it only drops
// expired entries, within a bounded sweep. s.mu must be held.
func (p *Partition) evictLocked(s *subShard, delta int64, sk *skipper) bool {
	if p.noEviction.Load() {
		p.expireBatch(s, noEvictionSweep, p.now(), sk)
		return p.reserve(delta)
	}
	for !p.reserve(delta) {
		if !p.evictOne(s, sk) {
			return false
		}
	}
	return true
}

// noEvictionSweep is how many slots a NoEviction write that does not fit
// examines for expired entries in its own sub-shard before giving up:
// enough to find a few expired keys, small enough to keep a full partition's
// refused writes cheap.
const noEvictionSweep = 64

// noEvictionCycleWork is the ExpireCycle budget (slots) a refused
// NoEviction write spends across all sub-shards before its one retry.
const noEvictionCycleWork = 1024

// evictOne removes the oldest entry of s not named by sk. An expired victim
// is counted as expired, not evicted. s.mu must be held.
func (p *Partition) evictOne(s *subShard, sk *skipper) bool {
	h := s.lru.Oldest()
	for h != eviction.Nil && sk.has(s.lru.Key(h)) {
		h = s.lru.Newer(h)
	}
	if h == eviction.Nil {
		return false
	}
	e := s.lru.ExpireAt(h)
	if e != 0 && p.now() > e {
		s.expired.Add(1)
	} else {
		s.evictions.Add(1)
	}
	p.remove(s, h)
	return true
}

// makeRoom runs with no lock held after a write found no room in its own
// sub-shard(s). It reports whether the write should retry.
func (p *Partition) makeRoom(need int64, sk *skipper, attempt int) bool {
	if attempt+1 >= maxAttempts {
		return false
	}
	if p.noEviction.Load() {
		// One retry after a bounded active-expiry pass: a tenant hammering
		// a full NoEviction partition must not buy a full walk per write.
		if attempt > 0 {
			return false
		}
		p.ExpireCycle(noEvictionCycleWork)
		return p.used.Load()+need <= p.quota.Load()
	}
	return p.evictUntil(need, sk, maxEvictRounds)
}

// maxEvictRounds bounds the rounds over all sub-shards one write's
// evictUntil makes; a round frees about what is missing, so more rounds
// only happen when concurrent writers refill the room as it is freed.
const maxEvictRounds = 8

// evictUntil evicts from all sub-shards, one lock at a time, round robin
// from a rotating start, until used+need <= quota. Each visit frees about
// an even share of what is missing, so the victims come from the LRU ends
// of all sub-shards rather than from one. It reports false only when a
// whole round found nothing to evict, or after maxRounds rounds (0: no
// limit).
func (p *Partition) evictUntil(need int64, sk *skipper, maxRounds int) bool {
	n := len(p.shards)
	start := int(p.evictNext.Add(1))
	for round := 0; maxRounds == 0 || round < maxRounds; round++ {
		missing := p.used.Load() + need - p.quota.Load()
		if missing <= 0 {
			return true
		}
		share := missing/int64(n) + 1
		progress := false
		for i := range n {
			s := &p.shards[(start+i)&int(p.mask)]
			s.mu.Lock()
			var freed int64
			for freed < share && p.used.Load()+need > p.quota.Load() {
				before := p.used.Load()
				if !p.evictOne(s, sk) {
					break
				}
				progress = true
				freed += before - p.used.Load()
			}
			s.mu.Unlock()
			if p.used.Load()+need <= p.quota.Load() {
				return true
			}
		}
		if !progress {
			return false
		}
	}
	return p.used.Load()+need <= p.quota.Load()
}

// Delete removes (db, key) and reports whether a live key was removed.
func (p *Partition) Delete(db int, key []byte) bool {
	if !validDB(db) {
		return false
	}
	s := &p.shards[p.shardIndex(db, key)]
	s.mu.Lock()
	s.setKey(db, key)
	h, ok := p.lookup(s)
	if ok {
		p.remove(s, h)
	}
	s.mu.Unlock()
	return ok
}

// Usage is the accounted size of (db, key) (MEMORY USAGE).
func (p *Partition) Usage(db int, key []byte) (int64, bool) {
	if !validDB(db) {
		return 0, false
	}
	s := &p.shards[p.shardIndex(db, key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key)
	h, ok := p.lookup(s)
	if !ok {
		return 0, false
	}
	return s.lru.Size(h), true
}

// Len is the number of keys in db (DBSIZE); it may count expired keys not
// yet collected.
func (p *Partition) Len(db int) int {
	if !validDB(db) {
		return 0
	}
	var n int64
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		n += s.keys[db]
		s.mu.Unlock()
	}
	return int(n)
}

// Flush removes every key of db, or of all dbs if db is -1, and returns the
// number of keys removed.
func (p *Partition) Flush(db int) int {
	if db != -1 && !validDB(db) {
		return 0
	}
	removed := 0
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		if db == -1 {
			removed += s.lru.Len()
			p.used.Add(-s.lru.Bytes())
			s.lru.Clear()
			s.keys = [NumDBs]int64{}
			s.expires = [NumDBs]int64{}
			s.expireSlot = 0
		} else if s.keys[db] > 0 {
			var freed int64
			for j := range s.lru.Slots() {
				h := eviction.Handle(j)
				if s.lru.Live(h) && int(s.lru.Key(h)[0]) == db {
					freed += s.removeRaw(h)
					removed++
				}
			}
			p.used.Add(-freed)
		}
		s.mu.Unlock()
	}
	return removed
}

// SetQuota changes the quota. Shrinking it evicts least recently used keys
// of this partition until the accounted bytes fit, in NoEviction mode too:
// the quota is hard. A negative q is treated as 0.
func (p *Partition) SetQuota(q int64) {
	q = max(q, 0)
	if q >= p.quota.Load() {
		// Growing: report the new quota before writers may use it.
		p.shown.Store(q)
		p.quota.Store(q)
		return
	}
	p.quota.Store(q)
	if p.used.Load() > q {
		// Unbounded rounds: writers reserve against the new quota, so
		// every round brings used closer to q.
		p.evictUntil(0, &skipper{db: -1}, 0)
	}
	// Report the new quota only now: while the shrink evicts, used is
	// still above q, and the reported quota must never be below used.
	p.shown.Store(q)
}

// Stats returns a snapshot of the partition's counters.
func (p *Partition) Stats() Stats {
	st := Stats{Quota: p.shown.Load()}
	for i := range p.shards {
		s := &p.shards[i]
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
		st.Evictions += s.evictions.Load()
		st.Expired += s.expired.Load()
		s.mu.Lock()
		st.Keys += int64(s.lru.Len())
		for db := range NumDBs {
			st.KeysPerDB[db] += s.keys[db]
			st.ExpiresPerDB[db] += s.expires[db]
		}
		s.mu.Unlock()
	}
	st.UsedBytes = p.used.Load()
	return st
}

// UsedBytes is the partition's accounted bytes.
func (p *Partition) UsedBytes() int64 { return p.used.Load() }

// randomProbes and randomRun bound RandomKey's sampling: randomProbes
// random (sub-shard, slot) starts, each examining up to randomRun slots.
const (
	randomProbes = 64
	randomRun    = 32
)

// RandomKey returns a copy of a random live key of db. Sampling is
// bounded; when random probes miss (db is a small minority of the
// partition), it falls back to a walk from a random position, so it returns
// false only when db has no live key.
func (p *Partition) RandomKey(db int) ([]byte, bool) {
	if !validDB(db) || p.Len(db) == 0 {
		return nil, false
	}
	now := p.now()
	n := len(p.shards)
	for range randomProbes {
		s := &p.shards[rand.IntN(n)]
		s.mu.Lock()
		if slots := s.lru.Slots(); slots > 0 {
			if k, ok := p.firstKey(s, db, rand.IntN(slots), randomRun, now); ok {
				s.mu.Unlock()
				return k, true
			}
		}
		s.mu.Unlock()
	}
	start := rand.IntN(n)
	for i := range n {
		s := &p.shards[(start+i)&int(p.mask)]
		s.mu.Lock()
		k, ok := p.firstKey(s, db, 0, s.lru.Slots(), now)
		s.mu.Unlock()
		if ok {
			return k, true
		}
	}
	return nil, false
}

// firstKey returns a copy of the first live, unexpired key of db among up to
// run slots from start (wrapping), deleting expired ones it passes. s.mu
// must be held.
func (p *Partition) firstKey(s *subShard, db, start, run int, now int64) ([]byte, bool) {
	for j := range run {
		slots := s.lru.Slots()
		if slots == 0 {
			return nil, false
		}
		if k, ok := p.liveKey(s, eviction.Handle((start+j)%slots), db, now); ok {
			return bytes.Clone(k[1:]), true
		}
	}
	return nil, false
}

// liveKey returns the stored key (its db byte first) at h when h holds a
// live, unexpired key of db; an expired key met on the way is removed
// (which leaves a hole: no slot moves). s.mu must be held.
func (p *Partition) liveKey(s *subShard, h eviction.Handle, db int, now int64) ([]byte, bool) {
	if !s.lru.Live(h) {
		return nil, false
	}
	k := s.lru.Key(h)
	if int(k[0]) != db {
		return nil, false
	}
	if expired(s.lru.ExpireAt(h), now) {
		p.remove(s, h)
		s.expired.Add(1)
		return nil, false
	}
	return k, true
}

// Scan iterates over the keys of db. Cursor 0 starts; the returned cursor
// is 0 when the scan is done. Each call examines about count live entries
// (default 10) and at most 10*count slots, like Redis, so it may return
// fewer keys than count, or none, before the scan is done. match, if not
// nil, filters keys; it must not retain its argument.
//
// A key present for the whole scan is returned at least once (the cursor is
// a sub-shard index and a slot index, and slots never move; see package
// eviction); keys added or removed during the scan may or may not be
// returned, and a key may be returned twice if it was deleted and re-added.
// Any cursor value is accepted: a slot beyond its sub-shard's last slot
// moves on to the next sub-shard.
//
// The cursor is slot<<shardBits | subShard, so it stays small for small
// partitions and cursor 0 is (sub-shard 0, slot 0).
func (p *Partition) Scan(db int, cursor uint64, count int, match func(key []byte) bool) (next uint64, keys [][]byte) {
	return p.ScanType(db, cursor, count, match, AnyType)
}

// ScanType is Scan returning only keys of type t (AnyType: all). As with
// Redis's SCAN ... TYPE, the filter applies after sampling: keys of other
// types count toward count but are not returned.
func (p *Partition) ScanType(db int, cursor uint64, count int, match func(key []byte) bool, t Type) (next uint64, keys [][]byte) {
	if !validDB(db) {
		return 0, nil
	}
	if count <= 0 {
		count = 10
	}
	count = min(count, MaxScanCount)
	budget := 10 * count
	live, visited := 0, 0
	var arena []byte
	for {
		var v int
		cursor, v = p.WalkKeys(db, cursor, budget-visited, func(k []byte, kt Type) bool {
			live++
			if t != AnyType && kt != t {
				return live < count
			}
			start := len(arena)
			arena = append(arena, k...)
			kb := arena[start:len(arena):len(arena)]
			if match != nil && !match(kb) {
				arena = arena[:start]
			} else {
				keys = append(keys, kb)
			}
			return live < count
		})
		visited += v
		if cursor == 0 || live >= count || visited >= budget {
			return cursor, keys
		}
	}
}

// WalkKeys calls fn with the name and type of each live, unexpired key of
// db in the slots of one sub-shard, starting at cursor and visiting at most
// maxSlots slots (at least one), under that sub-shard's lock. It returns
// the cursor to continue from, 0 once the last sub-shard is done, and the
// number of slots visited. fn returning false stops the walk after that
// key. fn runs under the lock: it must be quick, must not retain key and
// must not call into the partition. Expired keys met are removed.
//
// Cursors are Scan's (a walk and a Scan continue each other), with Scan's
// guarantee: a key present for the whole walk is seen at least once. A
// caller walking the whole partition (KEYS) thus decides how long each lock
// hold lasts, and can do the rest of its work (matching, yielding the CPU)
// between calls, with no lock held.
func (p *Partition) WalkKeys(db int, cursor uint64, maxSlots int, fn func(key []byte, t Type) bool) (next uint64, visited int) {
	if !validDB(db) {
		return 0, 0
	}
	maxSlots = max(maxSlots, 1)
	si := int(cursor & p.mask)
	slot := cursor >> p.shardBits
	s := &p.shards[si]
	s.mu.Lock()
	if s.keys[db] > 0 {
		now := p.now()
		for slot < uint64(s.lru.Slots()) && visited < maxSlots {
			h := eviction.Handle(slot)
			slot++
			visited++
			if k, ok := p.liveKey(s, h, db, now); ok && !fn(k[1:], Type(s.lru.Kind(h))) {
				break
			}
		}
	}
	done := s.keys[db] == 0 || slot >= uint64(s.lru.Slots())
	s.mu.Unlock()
	if !done {
		return slot<<p.shardBits | uint64(si), visited
	}
	if si+1 >= len(p.shards) {
		return 0, visited
	}
	return uint64(si + 1), visited
}

// MaxScanCount caps Scan's count hint so that 10*count cannot overflow
// and one call cannot hold a sub-shard lock for long.
const MaxScanCount = 1 << 16

// expireBatchSlots is how many slots ExpireCycle examines per sub-shard
// before deciding whether to stay (Redis samples 20 keys per loop).
const expireBatchSlots = 20

// ExpireCycle is active expiry: it examines up to maxWork slots across the
// sub-shards, starting at a sub-shard that rotates from call to call, and
// returns the number of expired keys removed. Like Redis's
// activeExpireCycle it keeps working on a sub-shard while more than 25% of
// the keys with a TTL in the last batch were expired, and moves on
// otherwise.
func (p *Partition) ExpireCycle(maxWork int) int {
	n := len(p.shards)
	start := int(p.expireNext.Add(1) - 1)
	now := p.now()
	removed, work := 0, 0
	for i := 0; i < n && work < maxWork; i++ {
		s := &p.shards[(start+i)&int(p.mask)]
		for work < maxWork {
			s.mu.Lock()
			r, withTTL, examined := p.expireBatch(s, min(expireBatchSlots, maxWork-work), now, nil)
			s.mu.Unlock()
			removed += r
			work += examined
			if examined == 0 || withTTL == 0 || r*4 <= withTTL {
				break
			}
		}
	}
	return removed
}

// expireBatch examines up to max slots of s from its expiry cursor,
// removing expired entries; it stops at the last slot and rewinds the
// cursor. It returns the keys removed, the keys with a TTL seen, and the
// slots examined. Keys named by sk (if not nil) are left alone: a write
// holds handles to them. s.mu must be held.
func (p *Partition) expireBatch(s *subShard, max int, now int64, sk *skipper) (removed, withTTL, examined int) {
	for examined < max {
		if s.expireSlot >= s.lru.Slots() {
			s.expireSlot = 0
			break
		}
		h := eviction.Handle(s.expireSlot)
		s.expireSlot++
		examined++
		if !s.lru.Live(h) {
			continue
		}
		e := s.lru.ExpireAt(h)
		if e == 0 {
			continue
		}
		withTTL++
		if now > e && (sk == nil || !sk.has(s.lru.Key(h))) {
			p.remove(s, h)
			s.expired.Add(1)
			removed++
		}
	}
	return removed, withTTL, examined
}

// Quota is the partition's current byte quota (cheap: no locks).
func (p *Partition) Quota() int64 { return p.shown.Load() }

// SetNoEviction switches the policy for writes that do not fit: ErrOOM
// (true) or evicting this partition's LRU keys (false). Safe concurrently;
// writes in progress finish under the policy they started with.
func (p *Partition) SetNoEviction(on bool) { p.noEviction.Store(on) }
