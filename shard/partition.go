package shard

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tcached/tcached/eviction"
)

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
	// ExactLRU keeps every sub-shard's LRU order exact: a hit moves its
	// key to the MRU end even when the key was already used in the same
	// second. By default that move is skipped (eviction.LRU.SetCoarse):
	// LRU order holds at the access clock's one-second resolution, as
	// Redis's does, and a hit costs two fewer cache misses.
	ExactLRU bool
}

// Entry is the state of one key.
type Entry struct {
	// Value is the value when it is bytes: a string or a collection in
	// its compact encoding.
	Value []byte
	// Obj is the value when it is an Object (a collection in a big
	// encoding); Value is then nil. A Put of an Obj hands it to the
	// partition, which stores it as is (see object.go, "Ownership").
	Obj      Object
	ExpireAt int64 // unix ms; 0 = no expiry
	// Type is the type of the value (see type.go). The zero value is
	// TypeString, so an Entry built without it stores a string: SET
	// overwrites a key of any type.
	Type Type
	// Enc is a small tag (0..3) stored with the value and handed back
	// with it; the partition never interprets it. Families use it to
	// remember an encoding variant the bytes cannot show (a compact set
	// that has held a non-integer reports Redis's name for that).
	Enc uint8
	// Signal says whether the change is reported to SetOnModify's
	// function (WATCH); the zero value reports what changed the key.
	Signal Signal
	// Grow is read for Edit only: the most bytes the edit may add to
	// Obj.Bytes(), reserved before the commit runs.
	Grow int64
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
	// Edit changes the existing key's Object in place, in two phases:
	// the callback has changed nothing and returns in Entry.Grow the most
	// the edit adds to the object's Bytes (0 or less for an edit that
	// only shrinks it); the partition reserves Grow as for a Put (evicting
	// other keys, possibly running the callback again), and only then
	// calls the commit function given to MutateEdit or ApplyEdit, once,
	// under the same lock hold, which performs the edit. The object is
	// then measured again: what it grew by must not exceed Grow (the
	// unused part of the reservation is released, a shrink is released
	// after it happened). The key keeps its expiry and type.
	Edit
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

// Partition is one tenant's keyspace. It is safe for concurrent use.
type Partition struct {
	// used is written by every write that changes a size, on any core:
	// on a cache line of its own, away from the fields every lookup reads
	// (shards, mask, now, the clock).
	_    [64]byte
	used atomic.Int64 // reserved accounted bytes; see "The quota invariant"
	_    [56]byte

	quota atomic.Int64
	shown atomic.Int64 // the quota reported by Stats/Quota; lags quota while a shrink evicts

	noEviction atomic.Bool  // NoEviction; SetNoEviction changes it (reload)
	maxTTL     atomic.Int64 // longest TTL a write leaves, ms (0: none); see retention.go
	refuseTTL  atomic.Bool  // commands refuse explicit TTLs past maxTTL
	now        func() int64
	shards     []subShard
	mask       uint64
	shardBits  uint

	expireNext atomic.Uint32 // rotating start sub-shard of ExpireCycle
	evictNext  atomic.Uint32 // rotating start sub-shard of cross-shard eviction

	lruClock atomic.Uint32 // the access clock entries are stamped with (idle.go)

	onDrop   atomic.Pointer[func(db int, key []byte)]               // SetOnDrop
	onModify atomic.Pointer[func(key []byte, signal, changed bool)] // SetOnModify
}

type subShard struct {
	// mu guards lru, key, keys, expires, expireSlot, the object table
	// (objs, objFree, objBytes) and the objects in it.
	mu  sync.Mutex
	lru *eviction.LRU
	// objs is the object table: an object entry's value is the id of its
	// slot here (object.go). objFree lists the free ids; objBytes is the
	// sum of the slots' charges.
	objs     []objSlot
	objFree  []uint32
	objBytes int64
	// key is scratch space for the stored form byte(db)+name of the key
	// being looked up, so lookups do not allocate; keyHash is its LRU
	// hash (setKey).
	key        []byte
	keyHash    uint32
	keys       [NumDBs]int64 // live entries per db
	expires    [NumDBs]int64 // entries with ExpireAt != 0 per db
	expireSlot int           // next slot ExpireCycle examines

	hits, misses, evictions, expired atomic.Int64
	// changes counts the writes that changed a key here (see Changes):
	// this sub-shard's own line, so concurrent writers to other sub-shards
	// never share it.
	changes atomic.Int64

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
	p.lruClock.Store(lruClockOf(p.now()))
	for i := range p.shards {
		p.shards[i].lru = eviction.New(0, storedOverhead)
		p.shards[i].lru.UseClock(&p.lruClock)
		p.shards[i].lru.SetHash(lruHash)
		p.shards[i].lru.SetCoarse(!cfg.ExactLRU)
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

// keyHash is the hash of (db, name): its low bits pick the sub-shard
// (shardIndex), its high 32 bits are the key's hash in the sub-shard's LRU
// index (lruHash). One xxhash per operation serves both.
func keyHash(db int, name []byte) uint64 {
	h := xxhash.Sum64(name) ^ (uint64(db)+1)*0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

// lruHash is the LRU index's hash of a stored key byte(db)+name, the high
// half of keyHash (independent of the low bits that chose the sub-shard,
// which all its keys share).
func lruHash(stored []byte) uint64 { return keyHash(int(stored[0]), stored[1:]) >> 32 }

func (p *Partition) shardIndex(db int, name []byte) int {
	return int(keyHash(db, name) & p.mask)
}

// shardOf is (db, name)'s sub-shard and its keyHash hk, for setKey.
func (p *Partition) shardOf(db int, name []byte) (s *subShard, hk uint64) {
	hk = keyHash(db, name)
	return &p.shards[hk&p.mask], hk
}

// setKey loads the stored form of (db, name) into s.key, and its LRU hash
// from hk = keyHash(db, name). s.mu must be held.
func (s *subShard) setKey(db int, name []byte, hk uint64) {
	s.key = append(append(s.key[:0], byte(db)), name...)
	s.keyHash = uint32(hk >> 32)
}

// lookup finds the key in s.key, deleting it if expired. now is read only
// when the entry has an expiry. s.mu must be held.
func (p *Partition) lookup(s *subShard) (eviction.Handle, bool) {
	h, ok := s.lru.LookupHash(s.key, s.keyHash)
	if !ok {
		return eviction.Nil, false
	}
	if e := s.lru.ExpireAt(h); e != 0 && p.now() > e {
		p.drop(s, h)
		s.expired.Add(1)
		return eviction.Nil, false
	}
	return h, true
}

// readOnly returns v with its capacity clipped, so a callback that appends
// to a value it was shown cannot write into the stored buffer's spare room.
func readOnly(v []byte) []byte { return v[:len(v):len(v)] }

// removeRaw deletes h (dropping its object, in O(1)) and updates the
// per-db counts but not used; it returns h's accounted size. s.mu must be
// held.
func (s *subShard) removeRaw(h eviction.Handle) int64 {
	k := s.lru.Key(h)
	db := k[0]
	s.keys[db]--
	if s.lru.ExpireAt(h) != 0 {
		s.expires[db]--
	}
	size := s.lru.Size(h)
	if s.isObj(h) {
		size += s.dropObj(s.objID(h))
	}
	s.lru.Remove(h)
	return size
}

// remove deletes h and releases its bytes. s.mu must be held.
func (p *Partition) remove(s *subShard, h eviction.Handle) {
	p.used.Add(-s.removeRaw(h))
}

// insertRaw adds a copy of a new entry whose bytes are already reserved.
// key is the stored form, hash its lruHash. s.mu must be held.
func (s *subShard) insertRaw(key, value []byte, kind uint8, expireAt int64, hash uint32) {
	db := key[0]
	s.keys[db]++
	if expireAt != 0 {
		s.expires[db]++
	}
	s.lru.AddKindHash(key, value, kind, expireAt, hash)
}

// entryOf is the state of the live entry h. s.mu must be held.
func (s *subShard) entryOf(h eviction.Handle) Entry {
	v, kind, exp := s.lru.Entry(h)
	e := Entry{ExpireAt: exp, Type: typeOfKind(kind), Enc: kind >> kindEncShift & kindEncMask}
	if kind&kindObj != 0 {
		e.Obj = s.objs[s.objID(h)].obj
	} else {
		e.Value = readOnly(v)
	}
	return e
}

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
	return p.GetStringSized(dst, db, key, keepDst)
}

// keepDst is GetString's grow: the copy is appended to dst as it is.
func keepDst(dst []byte, _ int) []byte { return dst }

// GetStringSized is GetString whose copy goes into grow(dst, n), n the
// value's length: a buffer of capacity at least n (command.BigBuf, which
// takes big ones from a pool). grow runs under the sub-shard lock and
// must not block nor call into the partition.
func (p *Partition) GetStringSized(dst []byte, db int, key []byte, grow func(dst []byte, n int) []byte) (out []byte, t Type, found bool) {
	if !validDB(db) {
		return dst, TypeString, false
	}
	s, hk := p.shardOf(db, key)
	s.mu.Lock()
	s.setKey(db, key, hk)
	h, ok := p.lookup(s)
	if !ok {
		s.mu.Unlock()
		s.misses.Add(1)
		return dst, TypeString, false
	}
	if t = typeOfKind(s.lru.Kind(h)); t == TypeString {
		v := s.lru.Value(h)
		dst = append(grow(dst, len(v)), v...)
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
	s, hk := p.shardOf(db, key)
	ok := p.view(s, db, key, hk, flags, fn)
	if flags&ViewStats != 0 {
		if ok {
			s.hits.Add(1)
		} else {
			s.misses.Add(1)
		}
	}
	return ok
}

func (p *Partition) view(s *subShard, db int, key []byte, hk uint64, flags ViewFlags, fn func(e Entry)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key, hk)
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
	s, hk := p.shardOf(db, key)
	sk := skipper{db: db, name: key}
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		s.setKey(db, key, hk)
		h, exists := p.lookup(s)
		need, err := p.applyLocked(s, h, exists, &Entry{Value: value, ExpireAt: expireAt}, Put, nil, &sk)
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
// and applies the returned action atomically. cur.Value and cur.Obj are
// valid only during fn and must not be modified; next.Value is copied,
// next.Obj is taken over. fn may be called more than once (when the write
// must release the lock to evict from other sub-shards and retry), so it
// must not have side effects beyond recording its results; the last call's
// results are the ones applied. An error from fn aborts with no change and
// is returned as is. A found key is made the most recently used whatever
// the action. fn may not answer Edit: that takes MutateEdit.
func (p *Partition) Mutate(db int, key []byte, fn func(cur Entry, exists bool) (next Entry, act Action, err error)) error {
	return p.MutateEdit(db, key, fn, nil)
}

// MutateEdit is Mutate for a callback that may answer Edit: commit is the
// second phase of an edit of cur.Obj, called at most once, after fn's last
// call, once next.Grow is reserved, under the same lock hold (see Edit).
// fn and commit share what fn recorded; commit must make exactly the
// change fn planned, because the reservation was computed for it.
func (p *Partition) MutateEdit(db int, key []byte, fn func(cur Entry, exists bool) (next Entry, act Action, err error), commit func()) error {
	if !validDB(db) {
		return ErrBadDB
	}
	s, hk := p.shardOf(db, key)
	sk := skipper{db: db, name: key}
	for attempt := 0; ; attempt++ {
		need, err := p.mutateOnce(s, db, key, hk, fn, commit, &sk)
		if need == 0 {
			return err
		}
		if !p.makeRoom(need, &sk, attempt) {
			return ErrOOM
		}
	}
}

func (p *Partition) mutateOnce(s *subShard, db int, key []byte, hk uint64, fn func(Entry, bool) (Entry, Action, error), commit func(), sk *skipper) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key, hk)
	h, exists := p.lookup(s)
	var cur Entry
	if exists {
		cur = s.entryOf(h)
	}
	next, act, err := fn(cur, exists)
	if err != nil {
		return 0, err
	}
	return p.applyLocked(s, h, exists, &next, act, commit, sk)
}

// applyLocked performs act on the key in s.key, found at h if exists. It
// returns need > 0, having changed nothing, when the write does not fit
// after evicting what the locked sub-shard allows; the caller must then
// release the lock, call makeRoom and retry. next is a pointer so that the
// arguments stay in registers (Entry is eight words). commit is Edit's
// second phase (nil when the caller allows no Edit). s.mu must be held.
func (p *Partition) applyLocked(s *subShard, h eviction.Handle, exists bool, next *Entry, act Action, commit func(), sk *skipper) (need int64, err error) {
	switch act {
	case Keep:
		if exists {
			s.lru.Touch(h)
		}
		p.modified(s, s.key, next.Signal, false)
		return 0, nil
	case Delete:
		if exists {
			p.remove(s, h)
		}
		p.modified(s, s.key, next.Signal, exists)
		return 0, nil
	case SetTTL:
		if !exists {
			p.modified(s, s.key, next.Signal, false)
			return 0, nil
		}
		next.ExpireAt = p.capExpire(next.ExpireAt)
		if expired(next.ExpireAt, p.now()) {
			p.remove(s, h)
		} else {
			s.setExpire(h, next.ExpireAt)
			s.lru.Touch(h)
		}
		p.modified(s, s.key, next.Signal, true)
		return 0, nil
	case Edit:
		need, err := p.editLocked(s, h, exists, next.Grow, commit, sk)
		if need == 0 && err == nil {
			p.modified(s, s.key, next.Signal, true)
		}
		return need, err
	case Put:
		next.ExpireAt = p.capExpire(next.ExpireAt)
	default:
		return 0, errBadCallback
	}
	if next.ExpireAt != 0 && expired(next.ExpireAt, p.now()) {
		if exists {
			p.remove(s, h)
		}
		p.modified(s, s.key, next.Signal, true) // Redis's SET ... PXAT past signals
		return 0, nil
	}
	var old int64
	var curObj Object
	var curID uint32
	if exists {
		old = s.sizeOf(h)
		if s.isObj(h) {
			curID = s.objID(h)
			curObj = s.objs[curID].obj
		}
	}
	var size, objSize int64
	if next.Obj != nil {
		if next.Obj == curObj {
			objSize = s.objs[curID].size
		} else {
			objSize = next.Obj.Bytes()
		}
		size = entrySize(len(s.key)-1, objIDLen) + objSize
	} else {
		size = entrySize(len(s.key)-1, len(next.Value))
		if tooBig(len(s.key)-1, len(next.Value)) {
			return 0, ErrOOM
		}
	}
	if size > p.quota.Load() {
		return 0, ErrOOM
	}
	delta := size - old
	if delta > 0 && !p.reserve(delta) && !p.evictLocked(s, delta, sk) {
		return delta, nil
	}
	kind := kindOf(next.Type, next.Enc, next.Obj != nil)
	var idb [objIDLen]byte
	switch {
	case exists && next.Obj != nil && next.Obj == curObj:
		s.lru.SetKind(h, kind)
	case exists:
		if curObj != nil {
			s.dropObj(curID)
		}
		if next.Obj != nil {
			// The LRU copies into the entry's buffer in place when it
			// fits; the id is four bytes like any value.
			s.lru.SetValueKind(h, idBytes(&idb, s.putObj(next.Obj, objSize)), kind)
		} else {
			// A SET of an existing key allocates nothing; next.Value may
			// alias the current value.
			s.lru.SetValueKind(h, next.Value, kind)
		}
	case next.Obj != nil:
		s.insertRaw(s.key, idBytes(&idb, s.putObj(next.Obj, objSize)), kind, next.ExpireAt, s.keyHash)
	default:
		s.insertRaw(s.key, next.Value, kind, next.ExpireAt, s.keyHash)
	}
	if exists {
		s.setExpire(h, next.ExpireAt)
		s.lru.Touch(h)
	}
	if delta < 0 {
		p.used.Add(delta)
	}
	p.modified(s, s.key, next.Signal, true)
	return 0, nil
}

// editLocked is the Edit action on h (see Edit): reserve grow, commit,
// measure, release what the edit did not use. s.mu must be held.
func (p *Partition) editLocked(s *subShard, h eviction.Handle, exists bool, grow int64, commit func(), sk *skipper) (int64, error) {
	if !exists || commit == nil || !s.isObj(h) {
		return 0, errBadCallback
	}
	grow = max(grow, 0)
	if s.sizeOf(h)+grow > p.quota.Load() {
		return 0, ErrOOM
	}
	if grow > 0 && !p.reserve(grow) && !p.evictLocked(s, grow, sk) {
		return grow, nil
	}
	commit()
	if d := s.remeasure(s.objID(h), grow) - grow; d != 0 {
		p.used.Add(d) // the unused reservation, or a shrink
	}
	s.lru.Touch(h)
	return 0, nil
}

// Delete removes (db, key) and reports whether a live key was removed.
func (p *Partition) Delete(db int, key []byte) bool {
	if !validDB(db) {
		return false
	}
	s, hk := p.shardOf(db, key)
	s.mu.Lock()
	s.setKey(db, key, hk)
	h, ok := p.lookup(s)
	if ok {
		p.remove(s, h)
		p.modified(s, s.key, SignalChange, true)
	}
	s.mu.Unlock()
	return ok
}

// locate locks (db, key)'s sub-shard and finds the live key. With ok the
// lock is held and the caller releases it (s.mu.Unlock); without, it is
// not held. For the cold one-key readers (Usage, Idle, SetIdle).
func (p *Partition) locate(db int, key []byte) (s *subShard, h eviction.Handle, ok bool) {
	if !validDB(db) {
		return nil, eviction.Nil, false
	}
	s, hk := p.shardOf(db, key)
	s.mu.Lock()
	s.setKey(db, key, hk)
	if h, ok = p.lookup(s); !ok {
		s.mu.Unlock()
	}
	return s, h, ok
}

// Usage is the accounted size of (db, key) (MEMORY USAGE).
func (p *Partition) Usage(db int, key []byte) (int64, bool) {
	s, h, ok := p.locate(db, key)
	if !ok {
		return 0, false
	}
	defer s.mu.Unlock()
	return s.sizeOf(h), true
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
			p.used.Add(-s.lru.Bytes() - s.objBytes)
			s.lru.Clear()
			// Dropping the table is O(1) however large its objects: they
			// hold no pointers to chase, the collector reclaims them.
			s.objs, s.objFree, s.objBytes = nil, nil, 0
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
