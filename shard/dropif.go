package shard

import "github.com/tcached/tcached/eviction"

// DeleteIf removes every key for which drop(db, key) is true and returns
// how many it removed. Each sub-shard is walked under its own lock only, so
// the others keep serving; drop runs under that lock (key valid only
// during the call) and must be quick and must not call into the partition.
// It is how backed mode drops the L1 copies of the cluster slots whose
// invalidations may have been missed (package backed), without a Flush of
// everything. Removals are not reported to SetOnDrop (the caller knows
// them), as with Delete and Flush.
func (p *Partition) DeleteIf(drop func(db int, key []byte) bool) int {
	removed := 0
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		if s.lru.Len() == 0 {
			s.mu.Unlock()
			continue
		}
		var freed int64
		for j := range s.lru.Slots() {
			h := eviction.Handle(j)
			if !s.lru.Live(h) {
				continue
			}
			k := s.lru.Key(h)
			if drop(int(k[0]), k[1:len(k):len(k)]) {
				freed += s.removeRaw(h)
				removed++
			}
		}
		p.used.Add(-freed)
		s.mu.Unlock()
	}
	return removed
}
