package shard

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
