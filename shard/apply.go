package shard

import (
	"bytes"
	"slices"

	"github.com/tcached/tcached/eviction"
)

// Apply is an atomic operation on several keys (MSET, MSETNX, RENAME, COPY
// across dbs). It locks every sub-shard the keys hash to in ascending index
// order, deletes expired keys among them, and calls fn with the current
// state of every key in the order given (cur[i].Value and cur[i].Obj valid
// only during fn, not to be modified). fn returns one Entry and one Action
// per key; the actions are applied all or nothing. The quota is checked for
// the net change of all keys together.
//
// A key may appear more than once: every position sees the same current
// state, and of the positions whose action is not Keep the last one wins
// (MSET a 1 a 2 stores 2). Found keys are made the most recently used.
//
// An Object lives at one key at a time. A Put of an object that is the
// current value of another key of the call moves it (RENAME, MOVE), which
// requires that key's own action to remove or replace it; an object Put at
// two keys, or kept at its key and Put at another, is refused
// (errBadCallback): COPY puts a clone, which package value makes.
//
// fn may be called more than once, under the same rule as Mutate. An error
// from fn aborts with no change and is returned as is; ErrOOM is returned
// if the final state cannot fit. fn may not answer Edit: that takes
// ApplyEdit.
func (p *Partition) Apply(keys []Key, fn func(cur []Entry, exists []bool) (next []Entry, acts []Action, err error)) error {
	return p.ApplyEdit(keys, fn, nil)
}

// ApplyEdit is Apply for a callback that may answer Edit for keys holding
// objects: their Grow is reserved with the rest of the call's growth, the
// other actions are applied, then commit runs once (see Edit) and every
// edited object is measured again.
func (p *Partition) ApplyEdit(keys []Key, fn func(cur []Entry, exists []bool) (next []Entry, acts []Action, err error), commit func()) error {
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
		commit: commit,
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
	commit func() // ApplyEdit's second phase, or nil
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
			p.drop(s, h)
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
	for i, act := range acts {
		if act == Put || act == SetTTL {
			next[i].ExpireAt = p.capExpire(next[i].ExpireAt)
		}
	}

	// Resolve each distinct key (at its canonical position c) to its final
	// size and the position whose action wins.
	win := make([]int, n)
	for i := range win {
		win[i] = -1
	}
	for i, act := range acts {
		if act > Edit || act == Edit && a.commit == nil {
			return 0, errBadCallback
		}
		if act != Keep {
			win[a.canon[i]] = i
		}
	}
	// objAt[c] is the object the canonical key c holds now (nil if none).
	objAt := make([]Object, n)
	for c := range n {
		if a.canon[c] == c && exists[c] {
			objAt[c] = cur[c].Obj
		}
	}
	// Where each Put object comes from: the key it is the value of (a
	// move, or the key keeping its own object), or nowhere (fresh).
	claimed := map[Object]bool{}
	final := make([]int64, n) // the key's size after the call; 0: gone
	var delta, total, grow int64
	edits := false
	for c := range n {
		if a.canon[c] != c {
			continue
		}
		s := &p.shards[a.idx[c]]
		var old int64
		if exists[c] {
			old = s.sizeOf(hs[c])
		}
		f := old
		if w := win[c]; w >= 0 {
			switch acts[w] {
			case Put:
				switch o := next[w].Obj; {
				case expired(next[w].ExpireAt, now):
					f = 0
				case o != nil:
					if claimed[o] {
						return 0, errBadCallback // one object at two keys
					}
					claimed[o] = true
					objSize := o.Bytes()
					if o == objAt[c] {
						objSize = s.objs[s.objID(hs[c])].size
					}
					f = entrySize(len(a.keys[c].Name), objIDLen) + objSize
				case tooBig(len(a.keys[c].Name), len(next[w].Value)):
					return 0, ErrOOM
				default:
					f = entrySize(len(a.keys[c].Name), len(next[w].Value))
				}
			case Delete:
				f = 0
			case SetTTL:
				if exists[c] && expired(next[w].ExpireAt, now) {
					f = 0
				}
			case Edit:
				if !exists[c] || objAt[c] == nil {
					return 0, errBadCallback
				}
				g := max(next[w].Grow, 0)
				grow += g
				f = old + g
				edits = true
			}
		}
		final[c] = f
		delta += f - old
		total += f
	}
	// An object may leave its key only for the key it is Put at, and must
	// then leave it: kept at its key and Put elsewhere would share it.
	for c := range n {
		if o := objAt[c]; o != nil && claimed[o] && !putsOwn(next, acts, win[c], o) && keeps(acts, win[c], final[c]) {
			return 0, errBadCallback
		}
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
		if w := win[c]; a.canon[c] == c && w >= 0 && acts[w] == Put && final[c] > 0 && next[w].Obj == nil {
			bufs[c] = bytes.Clone(next[w].Value)
		}
	}
	// Removals first, so that an object moving to another key is dropped
	// from its old table before it is stored in its new one.
	for c := range n {
		if a.canon[c] != c || !exists[c] {
			continue
		}
		if w := win[c]; w >= 0 && final[c] == 0 {
			p.shards[a.idx[c]].removeRaw(hs[c])
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
		case final[c] == 0: // removed above
		case acts[w] == Put:
			e := &next[w]
			kind := kindOf(e.Type, e.Enc, e.Obj != nil)
			var idb [objIDLen]byte
			switch {
			case ex && e.Obj != nil && e.Obj == objAt[c]:
				s.lru.SetKind(h, kind)
			case ex:
				if objAt[c] != nil {
					s.dropObj(s.objID(h))
				}
				if e.Obj != nil {
					s.lru.SetValueKind(h, idBytes(&idb, s.putObj(e.Obj, final[c]-entrySize(len(a.keys[c].Name), objIDLen))), kind)
				} else {
					s.lru.SetValueKind(h, bufs[c], kind)
				}
			case e.Obj != nil:
				s.insertRaw(a.stored[c], idBytes(&idb, s.putObj(e.Obj, final[c]-entrySize(len(a.keys[c].Name), objIDLen))), kind, e.ExpireAt, uint32(lruHash(a.stored[c])))
			default:
				s.insertRaw(a.stored[c], bufs[c], kind, e.ExpireAt, uint32(lruHash(a.stored[c])))
			}
			if ex {
				s.setExpire(h, e.ExpireAt)
				s.lru.Touch(h)
			}
		case acts[w] == SetTTL, acts[w] == Edit:
			if ex {
				if acts[w] == SetTTL {
					s.setExpire(h, next[w].ExpireAt)
				}
				s.lru.Touch(h)
			}
		}
	}
	// The edits' real change replaces their reservation: d <= grow.
	var d int64
	if edits {
		a.commit()
		for c := range n {
			if w := win[c]; a.canon[c] == c && w >= 0 && acts[w] == Edit {
				s := &p.shards[a.idx[c]]
				d += s.remeasure(s.objID(hs[c]), max(next[w].Grow, 0))
			}
		}
	}
	switch real := delta - grow + d; {
	case delta > 0: // delta was reserved
		if real != delta {
			p.used.Add(real - delta)
		}
	case real < 0: // shrinks are released once they happened
		p.used.Add(real)
	}
	for i, act := range acts {
		c := a.canon[i]
		switch {
		case win[c] == i:
			p.modified(&p.shards[a.idx[c]], a.stored[c], next[i].Signal, act == Put || act == Edit || exists[c])
		case win[c] < 0 && next[i].Signal == SignalAlways:
			p.modified(&p.shards[a.idx[c]], a.stored[c], SignalAlways, false)
		}
	}
	return 0, nil
}

// putsOwn reports whether the winning action w of a key holding o puts o
// back at the same key.
func putsOwn(next []Entry, acts []Action, w int, o Object) bool {
	return w >= 0 && acts[w] == Put && next[w].Obj == o
}

// keeps reports whether a key's value stays after the call: no winning
// action, or one that leaves it in place.
func keeps(acts []Action, w int, final int64) bool {
	return final > 0 && (w < 0 || acts[w] == SetTTL || acts[w] == Edit)
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
