// Package tracking is one tenant's client-side-caching table, Redis's
// tracking.c as plain data: for each key, the tracking clients that may
// hold it in their local caches (the tracking table), and for each BCAST
// prefix, the clients that want to hear about every key under it (the
// prefix table). Package server decides when keys are remembered and
// invalidated and delivers the messages; this package only records and
// returns who must hear about what, with the bytes it holds, so it can
// be tested without a socket.
//
// # Keys and clients
//
// A key is a name, without its database, as in Redis (a write to k in db
// 1 invalidates a client that read k in db 0: a spurious invalidation,
// never a missed one). Every tenant has its own Table, so a name is the
// tenant's: nothing maps a key to another tenant's table.
//
// A client is any comparable value C (package server uses a pointer to
// one tracking session). Like Redis, the table forgets a client lazily:
// when a client stops tracking, its entries stay until their key is
// invalidated or evicted, and the caller skips clients that are gone.
//
// # Memory
//
// Bytes is what the table holds, accounted as it changes: each key costs
// KeyOverhead plus its length, each client of a key beyond the first
// ItemBytes, each prefix registration PrefixOverhead plus its length.
// Every method that changes the table returns the change, so the caller
// can charge it to a budget (the tenant's client_memory) and bound the
// table (Evict, Redis's tracking-table-max-keys).
package tracking

import (
	"bytes"
	"sync"
)

// Accounting constants, rounded up from TestMemoryAccounting (go1.26,
// linux/amd64, 100K keys of 16 bytes): a key with one client holds 89
// bytes of heap in all (map slot and control byte, string header, the
// holders value, the name's allocation), accounted 112; a second client
// of a key 8 more (the slice of further clients, grown by doubling),
// accounted 16.
const (
	KeyOverhead    = 96
	ItemBytes      = 16
	PrefixOverhead = 128
)

// Table is one tenant's tracking and prefix tables. The zero value is
// ready to use; it is safe for concurrent use. Its lock is a leaf: no
// method calls out while holding it.
type Table[C comparable] struct {
	mu       sync.Mutex // guards everything below
	keys     map[string]holders[C]
	items    int64
	bytes    int64
	prefixes map[string]*prefixClients[C]
}

// holders are the clients of one key: one, or one and more.
type holders[C comparable] struct {
	one  C
	more []C
}

type prefixClients[C comparable] struct {
	prefix []byte
	set    map[C]struct{}
}

// Remember records that client c may cache key (trackingRememberKeys),
// and returns the bytes the table grew by (0 when c already had it).
func (t *Table[C]) Remember(key []byte, c C) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = make(map[string]holders[C])
	}
	h, ok := t.keys[string(key)]
	if !ok {
		t.keys[string(key)] = holders[C]{one: c}
		t.items++
		grow := int64(KeyOverhead + len(key))
		t.bytes += grow
		return grow
	}
	if h.one == c {
		return 0
	}
	for _, o := range h.more {
		if o == c {
			return 0
		}
	}
	h.more = append(h.more, c)
	t.keys[string(key)] = h
	t.items++
	t.bytes += ItemBytes
	return ItemBytes
}

// Take removes key from the tracking table, appending its clients to dst
// (trackingInvalidateKey: the entry is gone whoever is told), and returns
// them with the bytes freed.
func (t *Table[C]) Take(dst []C, key []byte) ([]C, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.keys[string(key)]
	if !ok {
		return dst, 0
	}
	delete(t.keys, string(key))
	return t.drop(dst, len(key), h)
}

// drop accounts for a removed entry (mu held).
func (t *Table[C]) drop(dst []C, keyLen int, h holders[C]) ([]C, int64) {
	dst = append(append(dst, h.one), h.more...)
	n := int64(1 + len(h.more))
	freed := int64(KeyOverhead+keyLen) + int64(len(h.more))*ItemBytes
	t.items -= n
	t.bytes -= freed
	if len(t.keys) == 0 {
		t.keys = nil // Go maps never shrink: let a burst's table go
	}
	return dst, freed
}

// Evict removes one key, chosen at random (Redis's random walk of
// trackingLimitUsedSlots), appending its clients to dst; ok is false
// when the table is empty.
func (t *Table[C]) Evict(dst []C) (key string, out []C, freed int64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, h := range t.keys { // map iteration starts at a random slot
		delete(t.keys, k)
		out, freed = t.drop(dst, len(k), h)
		return k, out, freed, true
	}
	return "", dst, 0, false
}

// Clear empties the tracking table (a flush: every client is told that
// all its keys are invalid) and returns the bytes freed. The prefix table
// stays.
func (t *Table[C]) Clear() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var freed int64
	for k, h := range t.keys {
		freed += int64(KeyOverhead+len(k)) + int64(len(h.more))*ItemBytes
	}
	t.keys, t.items = nil, 0
	t.bytes -= freed
	return freed
}

// AddPrefix registers c for every key under prefix (BCAST;
// enableBcastTrackingForPrefix). It returns the bytes the table grew by,
// 0 when c had the prefix already.
func (t *Table[C]) AddPrefix(prefix []byte, c C) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prefixes == nil {
		t.prefixes = make(map[string]*prefixClients[C])
	}
	p := t.prefixes[string(prefix)]
	if p == nil {
		p = &prefixClients[C]{prefix: bytes.Clone(prefix), set: make(map[C]struct{}, 1)}
		t.prefixes[string(prefix)] = p
	}
	if _, dup := p.set[c]; dup {
		return 0
	}
	p.set[c] = struct{}{}
	grow := int64(PrefixOverhead + len(prefix))
	t.bytes += grow
	return grow
}

// RemovePrefix undoes AddPrefix and returns the bytes freed.
func (t *Table[C]) RemovePrefix(prefix []byte, c C) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.prefixes[string(prefix)]
	if p == nil {
		return 0
	}
	if _, ok := p.set[c]; !ok {
		return 0
	}
	delete(p.set, c)
	if len(p.set) == 0 {
		delete(t.prefixes, string(prefix))
	}
	if len(t.prefixes) == 0 {
		t.prefixes = nil
	}
	freed := int64(PrefixOverhead + len(prefix))
	t.bytes -= freed
	return freed
}

// Match is one prefix with clients and the keys of a batch under it: they
// get one message (trackingBroadcastInvalidationMessages).
type Match[C comparable] struct {
	Prefix  []byte
	Clients []C
	Keys    [][]byte
}

// Broadcast returns, for each registered prefix that keys fall under,
// its clients and those keys (slices of keys, in batch order). A batch
// of keys modified together (one command, one transaction) gives one
// message per prefix, as Redis gives one per event-loop cycle.
func (t *Table[C]) Broadcast(keys [][]byte) []Match[C] {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Match[C]
	for _, p := range t.prefixes {
		var m [][]byte
		for _, k := range keys {
			if bytes.HasPrefix(k, p.prefix) {
				m = append(m, k)
			}
		}
		if m == nil {
			continue
		}
		cl := make([]C, 0, len(p.set))
		for c := range p.set {
			cl = append(cl, c)
		}
		out = append(out, Match[C]{Prefix: p.prefix, Clients: cl, Keys: m})
	}
	return out
}

// Stats are the table's sizes, as INFO reports them.
type Stats struct {
	Keys     int   // tracking_total_keys
	Items    int64 // tracking_total_items: (key, client) pairs
	Prefixes int   // tracking_total_prefixes (distinct prefixes)
	Bytes    int64
}

// Stats returns the table's sizes.
func (t *Table[C]) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{Keys: len(t.keys), Items: t.items, Prefixes: len(t.prefixes), Bytes: t.bytes}
}

// Len is the number of keys tracked.
func (t *Table[C]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// HasPrefixes reports whether any client broadcasts.
func (t *Table[C]) HasPrefixes() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.prefixes) > 0
}
