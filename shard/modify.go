package shard

import "github.com/tcached/tcached/eviction"

// What the partition tells its owner: the keys it removes by itself
// (SetOnDrop), the keys writes change or signal (SetOnModify, Signal), and
// how many changes writes made (Changes).

// Signal is what a write reports to the partition's SetOnModify function,
// Redis's signalModifiedKey: by default every write that changes the key
// (a Put, whatever it stores; a Delete, SetTTL or Edit of an existing key)
// and nothing else (Keep, a Delete of a missing key, a write refused for
// quota). A few Redis commands differ: they change a stream's groups
// without signalling (XACK, XGROUP, XREADGROUP), or signal though nothing
// changed (APPEND of an empty string); their callbacks say so here.
type Signal uint8

const (
	// SignalChange reports the key if the action changed it.
	SignalChange Signal = iota
	// SignalNever reports nothing, whatever the action changed.
	SignalNever
	// SignalAlways reports the key even when the action is Keep.
	SignalAlways
)

// SetOnDrop installs fn, told of every key the partition removes by
// itself: expired (found expired on access, or by active expiry) or
// evicted (a write that needed room, a quota shrink). Deletions a caller
// asks for (Delete, a Put or Delete action, Flush) are not reported: the
// caller knows them. fn runs with the key's sub-shard lock held, key
// valid only during the call, so it must be quick and must not call into
// the partition: a consumer records the key and acts after the lock is
// released (package server's client-side-caching invalidations). nil
// removes it; with none installed a drop costs one atomic load.
func (p *Partition) SetOnDrop(fn func(db int, key []byte)) {
	if fn == nil {
		p.onDrop.Store(nil)
		return
	}
	p.onDrop.Store(&fn)
}

// SetOnModify installs fn, told of every key a write changes or signals
// (see Signal): Set, Delete, Patch, Signal, and the actions of Mutate and
// Apply. key is the stored form byte(db)+name; signal is whether the
// write signals the key (Redis's signalModifiedKey, for WATCH), changed
// whether it changed it (Redis's server.dirty). Like SetOnDrop's
// function, fn runs with the key's sub-shard lock held (with an Apply,
// every lock of the call), key valid only during the call, so it must be
// quick and must not call into the partition. Removals the partition makes by itself (expiry,
// eviction) and Flush are not reported. nil removes it; with none
// installed a write costs one atomic load.
func (p *Partition) SetOnModify(fn func(key []byte, signal, changed bool)) {
	if fn == nil {
		p.onModify.Store(nil)
		return
	}
	p.onModify.Store(&fn)
}

// Changes is the number of key changes writes made since the partition
// was created: every Set, Delete, Patch and Mutate or Apply action that
// changed a key (what SetOnModify's function hears with changed true),
// counted whether or not a function is installed. Removals the partition
// makes by itself (expiry, eviction) and Flush are not counted. It is
// Redis's server.dirty for one tenant, kept per sub-shard so that writers
// on two cores do not share one counter's cache line.
func (p *Partition) Changes() int64 {
	var n int64
	for i := range p.shards {
		n += p.shards[i].changes.Load()
	}
	return n
}

// Signal reports (db, key) to SetOnModify's function as modified, for a
// write that knows only after its commit whether it changed anything (an
// XDEL that found none of its ids answers SignalNever and then calls
// Signal if it deleted some).
func (p *Partition) Signal(db int, key []byte) {
	if !validDB(db) || p.onModify.Load() == nil {
		return
	}
	s, hk := p.shardOf(db, key)
	s.mu.Lock()
	s.setKey(db, key, hk)
	p.modified(s, s.key, SignalAlways, false)
	s.mu.Unlock()
}

// modified counts a change of key (stored form, in s) and reports it to
// SetOnModify's function: change is whether the write changed the key, sig
// whether that signals it. s.mu must be held.
func (p *Partition) modified(s *subShard, key []byte, sig Signal, change bool) {
	signal := sig == SignalAlways || sig == SignalChange && change
	if !signal && !change {
		return
	}
	if change {
		s.changes.Add(1)
	}
	if fn := p.onModify.Load(); fn != nil {
		(*fn)(key, signal, change)
	}
}

// drop removes h, which expired or is evicted, telling SetOnDrop's
// function. s.mu must be held.
func (p *Partition) drop(s *subShard, h eviction.Handle) {
	if fn := p.onDrop.Load(); fn != nil {
		k := s.lru.Key(h)
		(*fn)(int(k[0]), k[1:])
	}
	p.remove(s, h)
}
