package shard

import (
	"bytes"
	"slices"

	"github.com/tcached/tcached/eviction"
)

// Apply is an atomic operation on several keys (MSET, MSETNX, RENAME, COPY
// across dbs). It locks every sub-shard the keys hash to in ascending index
// order, deletes expired keys among them, and calls fn with the current
// state of every key in the order given (cur[i].Value valid only during fn,
// not to be modified). fn returns one Entry and one Action per key; the
// actions are applied all or nothing. The quota is checked for the net
// change of all keys together.
//
// A key may appear more than once: every position sees the same current
// state, and of the positions whose action is not Keep the last one wins
// (MSET a 1 a 2 stores 2). Found keys are made the most recently used.
//
// fn may be called more than once, under the same rule as Mutate. An error
// from fn aborts with no change and is returned as is; ErrOOM is returned
// if the final state cannot fit.
func (p *Partition) Apply(keys []Key, fn func(cur []Entry, exists []bool) (next []Entry, acts []Action, err error)) error {
	for _, k := range keys {
		if !validDB(k.DB) {
			return ErrBadDB
		}
	}
	a := &applyOp{
		keys:   keys,
		stored: make([][]byte, len(keys)),
		idx:    make([]int, len(keys)),
		canon:  make([]int, len(keys)),
		skip:   skipper{set: make(map[string]struct{}, len(keys))},
	}
	first := make(map[string]int, len(keys))
	for i, k := range keys {
		b := make([]byte, 1+len(k.Name))
		b[0] = byte(k.DB)
		copy(b[1:], k.Name)
		a.stored[i] = b
		a.idx[i] = p.shardIndex(k.DB, k.Name)
		a.skip.set[string(b)] = struct{}{}
		if j, ok := first[string(b)]; ok {
			a.canon[i] = j
		} else {
			first[string(b)] = i
			a.canon[i] = i
		}
	}
	a.locks = slices.Compact(slices.Sorted(slices.Values(a.idx)))
	for attempt := 0; ; attempt++ {
		need, err := p.applyOnce(a, fn)
		if need == 0 {
			return err
		}
		if !p.makeRoom(need, &a.skip, attempt) {
			return ErrOOM
		}
	}
}

// applyOp is the attempt-independent part of an Apply.
type applyOp struct {
	keys   []Key
	stored [][]byte // byte(db)+name of each position
	idx    []int    // sub-shard of each position
	canon  []int    // first position holding the same key
	locks  []int    // sorted distinct sub-shards
	skip   skipper
}

func (p *Partition) applyOnce(a *applyOp, fn func([]Entry, []bool) ([]Entry, []Action, error)) (int64, error) {
	for _, si := range a.locks {
		p.shards[si].mu.Lock()
	}
	defer func() {
		for j := len(a.locks) - 1; j >= 0; j-- {
			p.shards[a.locks[j]].mu.Unlock()
		}
	}()
	n := len(a.keys)
	now := p.now()
	hs := make([]eviction.Handle, n)
	exists := make([]bool, n)
	cur := make([]Entry, n)
	for i := range n {
		s := &p.shards[a.idx[i]]
		h, ok := s.lru.Lookup(a.stored[i])
		if ok && expired(s.lru.ExpireAt(h), now) {
			p.remove(s, h)
			s.expired.Add(1)
			ok = false
		}
		hs[i], exists[i] = h, ok
		if ok {
			cur[i] = s.entryOf(h)
		}
	}
	next, acts, err := fn(cur, exists)
	if err != nil {
		return 0, err
	}
	if len(next) != n || len(acts) != n {
		return 0, errBadCallback
	}

	// Resolve each distinct key (at its canonical position c) to its final
	// size and the position whose action wins.
	win := make([]int, n)
	for i := range win {
		win[i] = -1
	}
	for i, act := range acts {
		if act > SetTTL {
			return 0, errBadCallback
		}
		if act != Keep {
			win[a.canon[i]] = i
		}
	}
	final := make([]int64, n) // -1: delete
	var delta, total int64
	for c := range n {
		if a.canon[c] != c {
			continue
		}
		s := &p.shards[a.idx[c]]
		var old int64
		if exists[c] {
			old = s.lru.Size(hs[c])
		}
		f := old
		if w := win[c]; w >= 0 {
			switch acts[w] {
			case Put:
				if expired(next[w].ExpireAt, now) {
					f = 0
				} else if tooBig(len(a.keys[c].Name), len(next[w].Value)) {
					return 0, ErrOOM
				} else {
					f = entrySize(len(a.keys[c].Name), len(next[w].Value))
				}
			case Delete:
				f = 0
			case SetTTL:
				if exists[c] && expired(next[w].ExpireAt, now) {
					f = 0
				}
			}
		}
		final[c] = f
		delta += f - old
		total += f
	}
	if total > p.quota.Load() {
		return 0, ErrOOM
	}
	if delta > 0 && !p.reserve(delta) && !p.evictLockedAll(a, delta) {
		return delta, nil
	}

	// Copy every new value before changing anything: a next value may alias
	// the current value of another key of this call (RENAME, swaps), which
	// SetValue may overwrite in place or release.
	bufs := make([][]byte, n)
	for c := range n {
		if w := win[c]; a.canon[c] == c && w >= 0 && acts[w] == Put && final[c] > 0 {
			bufs[c] = bytes.Clone(next[w].Value)
		}
	}
	for c := range n {
		if a.canon[c] != c {
			continue
		}
		s := &p.shards[a.idx[c]]
		h, ex, w := hs[c], exists[c], win[c]
		switch {
		case w < 0: // Keep
			if ex {
				s.lru.Touch(h)
			}
		case final[c] == 0: // Delete, or a Put/SetTTL already expired
			if ex {
				s.removeRaw(h)
			}
		case acts[w] == Put:
			if ex {
				s.lru.SetValueKind(h, bufs[c], uint8(next[w].Type))
				s.setExpire(h, next[w].ExpireAt)
				s.lru.Touch(h)
			} else {
				s.insertRaw(a.stored[c], bufs[c], next[w].Type, next[w].ExpireAt)
			}
		case acts[w] == SetTTL:
			if ex {
				s.setExpire(h, next[w].ExpireAt)
				s.lru.Touch(h)
			}
		}
	}
	if delta < 0 {
		p.used.Add(delta)
	}
	return 0, nil
}

// evictLockedAll is evictLocked over every sub-shard an Apply holds.
func (p *Partition) evictLockedAll(a *applyOp, delta int64) bool {
	for _, si := range a.locks {
		if p.evictLocked(&p.shards[si], delta, &a.skip) {
			return true
		}
	}
	return false
}
