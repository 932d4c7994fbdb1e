package shard

// # Changing a string in place
//
// A Put replaces a value with a copy of the one the callback built, so a
// command that changes one byte of a 100 MB bitmap would copy it twice.
// Patch lets such a command (SETBIT, BITFIELD, PFADD on a dense
// HyperLogLog) rewrite bytes of the stored value under the sub-shard lock
// instead: when the value keeps its length nothing is reserved (the
// accounted size does not change) and the patch runs on the stored bytes,
// O(what it changes). When the value must grow (a bit past its end, a new
// key), the value is built aside at its new length, zero-padded, patched
// and Put like any write, so the quota is reserved before the growth is
// stored, exactly as for SETRANGE.

// Patch changes the bytes value at (db, key). fn runs under the sub-shard
// lock on the current state and answers the value's length after the
// change: size < 0 leaves the key as it is (fn may return an error, which
// is returned as is, with nothing changed). When the key exists as bytes
// of exactly size bytes, patch runs on the stored bytes themselves, once;
// otherwise a copy of the current value is zero-extended (or truncated) to
// size bytes, patch runs on it, and it is stored as a value of type t with
// the key's expiry (expireAt for a new key), reserving its growth first.
// As with Mutate, fn and patch may run more than once when the write must
// evict from other sub-shards: they must only record results, and the
// last run's are the ones applied. patch must not keep its argument.
// patch reports whether the key counts as modified for SetOnModify
// (Redis's signalModifiedKey): SETBIT of a bit to the value it had
// writes a byte but modifies nothing.
func (p *Partition) Patch(db int, key []byte, t Type, expireAt int64, fn func(cur Entry, exists bool) (size int, err error), patch func(v []byte) (modified bool)) error {
	if !validDB(db) {
		return ErrBadDB
	}
	s, hk := p.shardOf(db, key)
	sk := skipper{db: db, name: key}
	var buf []byte
	for attempt := 0; ; attempt++ {
		need, err := p.patchOnce(s, db, key, hk, t, expireAt, fn, patch, &buf, &sk)
		if need == 0 {
			return err
		}
		if !p.makeRoom(need, &sk, attempt) {
			return ErrOOM
		}
	}
}

func (p *Partition) patchOnce(s *subShard, db int, key []byte, hk uint64, t Type, expireAt int64, fn func(Entry, bool) (int, error), patch func([]byte) bool, buf *[]byte, sk *skipper) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKey(db, key, hk)
	h, exists := p.lookup(s)
	var cur Entry
	if exists {
		cur = s.entryOf(h)
	}
	size, err := fn(cur, exists)
	if err != nil || size < 0 {
		if exists {
			s.lru.Touch(h)
		}
		return 0, err
	}
	if exists && cur.Obj == nil && size == len(cur.Value) {
		mod := patch(s.lru.ValueForUpdate(h))
		s.lru.Touch(h)
		p.modified(s, s.key, SignalChange, mod)
		return 0, nil
	}
	if cur.Obj != nil {
		return 0, errBadCallback // an object is not bytes: fn must refuse it
	}
	// A value that can never fit is refused before it is built: a bit at
	// offset 4e9 must not allocate 512 MB first.
	if entrySize(len(key), size) > p.quota.Load() || tooBig(len(key), size) {
		return 0, ErrOOM
	}
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	next := (*buf)[:size]
	n := copy(next, cur.Value)
	clear(next[n:])
	e := Entry{Value: next, Type: t, ExpireAt: expireAt}
	if !patch(next) {
		e.Signal = SignalNever
	}
	if exists {
		e.ExpireAt, e.Enc = cur.ExpireAt, cur.Enc
	}
	return p.applyLocked(s, h, exists, &e, Put, nil, sk)
}
