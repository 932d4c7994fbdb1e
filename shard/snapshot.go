package shard

import "github.com/tcached/tcached/eviction"

// WalkShard calls fn for every live, unexpired key of sub-shard i (0 <=
// i < Shards()), least recently used first, under that sub-shard's lock
// and nothing else: other sub-shards keep serving, and this one serves
// again as soon as the walk returns. It is the snapshot's read path
// (package snapshot): fn copies what it needs (e.Value and e.Obj are
// valid only during fn and must not be modified; key is the name without
// its db, valid only during fn) and must not call into the partition.
// Expired keys are skipped, not removed, and no key is touched.
//
// The hold is O(entries of the sub-shard) plus what fn spends copying; a
// sub-shard is at most 1/Shards() of the tenant's quota.
func (p *Partition) WalkShard(i int, fn func(db int, key []byte, e Entry)) {
	if i < 0 || i >= len(p.shards) {
		return
	}
	s := &p.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := p.now()
	for h := s.lru.Oldest(); h != eviction.Nil; h = s.lru.Newer(h) {
		if expired(s.lru.ExpireAt(h), now) {
			continue
		}
		k := s.lru.Key(h)
		fn(int(k[0]), k[1:len(k):len(k)], s.entryOf(h))
	}
}
