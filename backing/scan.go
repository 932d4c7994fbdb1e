package backing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster-wide scans. ClusterClient.Scan visits one node, so each scan
// here runs SCAN MATCH <glob-escaped tenant prefix>... on every master.
// A pass in which some master failed (a failover under way) is run again
// from the start on the masters as then known, until one pass completes
// or the context ends; SCAN may return a key twice, so the callers that
// count or list keys deduplicate.

// scanEach runs fn on every batch of names matching pattern, on every
// master, restarting the whole pass after a master failed.
func (c *Cluster) scanEach(ctx context.Context, pattern string, fn func(ctx context.Context, n *redis.Client, names []string) error) error {
	if err := c.begin(); err != nil {
		return err
	}
	start := time.Now()
	var err error
	for attempt := 0; ; attempt++ {
		err = c.scanPass(ctx, pattern, fn)
		if err == nil || ctx.Err() != nil {
			break
		}
		c.rdb.ReloadState(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
	return c.end(start, err)
}

func (c *Cluster) scanPass(ctx context.Context, pattern string, fn func(context.Context, *redis.Client, []string) error) error {
	masters, err := c.fetchMasters(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(masters))
	for i, m := range masters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := c.node(m)
			var cur uint64
			for {
				names, next, err := n.Scan(ctx, cur, pattern, 1000).Result()
				if err != nil {
					errs[i] = err
					return
				}
				if len(names) > 0 {
					if err := fn(ctx, n, names); err != nil {
						errs[i] = err
						return
					}
				}
				if next == 0 {
					return
				}
				cur = next
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// strip turns L2 names back into the tenant's key names.
func strip(names []string, prefix string) [][]byte {
	out := make([][]byte, 0, len(names))
	for _, n := range names {
		if len(n) >= len(prefix) && n[:len(prefix)] == prefix {
			out = append(out, []byte(n[len(prefix):]))
		}
	}
	return out
}

// Scan implements backed.Backend. The cursor is the master's own SCAN
// cursor shifted left 8 bits, with the master's index (in the order of the
// slots it serves, stable across failovers) in the low 8 bits.
func (c *Cluster) Scan(ctx context.Context, tenant string, db int, cursor uint64, match []byte, count int64, typ string) (uint64, [][]byte, error) {
	masters, err := c.mastersSorted(ctx)
	if err != nil {
		return 0, nil, c.classify(err)
	}
	idx := int(cursor & 0xff)
	if idx >= len(masters) {
		return 0, nil, nil
	}
	pfx := c.dbPrefix(tenant, db)
	pattern := globEscape(pfx) + "*"
	if match != nil { // MATCH "" matches the empty key only, as Redis
		pattern = globEscape(pfx) + string(match)
	}
	if count <= 0 {
		count = 10
	}
	if err := c.begin(); err != nil {
		return 0, nil, err
	}
	start := time.Now()
	n := c.node(masters[idx])
	var names []string
	var next uint64
	if typ != "" {
		names, next, err = n.ScanType(ctx, cursor>>8, pattern, count, typ).Result()
	} else {
		names, next, err = n.Scan(ctx, cursor>>8, pattern, count).Result()
	}
	if err = c.end(start, err); err != nil {
		return 0, nil, err
	}
	switch {
	case next != 0:
		next = next<<8 | uint64(idx)
	case idx+1 < len(masters):
		next = uint64(idx + 1)
	}
	return next, strip(names, pfx), nil
}

// Keys implements backed.Backend.
func (c *Cluster) Keys(ctx context.Context, tenant string, db int, pattern []byte) ([][]byte, error) {
	pfx := c.dbPrefix(tenant, db)
	var mu sync.Mutex
	seen := map[string]bool{}
	var out [][]byte
	err := c.scanEach(ctx, globEscape(pfx)+string(pattern), func(_ context.Context, _ *redis.Client, names []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, strip([]string{n}, pfx)...)
			}
		}
		return nil
	})
	return out, err
}

// DBSize implements backed.Backend: it is a scan, O(tenant's keys).
func (c *Cluster) DBSize(ctx context.Context, tenant string, db int) (int64, error) {
	keys, err := c.Keys(ctx, tenant, db, []byte("*"))
	return int64(len(keys)), err
}

// RandomKey implements backed.Backend: masters are tried in random order,
// and a key is picked from the first non-empty SCAN batch of each. It is
// not uniform over keys.
func (c *Cluster) RandomKey(ctx context.Context, tenant string, db int) ([]byte, bool, error) {
	masters, err := c.mastersSorted(ctx)
	if err != nil {
		return nil, false, c.classify(err)
	}
	pfx := c.dbPrefix(tenant, db)
	if err := c.begin(); err != nil {
		return nil, false, err
	}
	start := time.Now()
	for _, i := range rand.Perm(len(masters)) {
		n := c.node(masters[i])
		var cur uint64
		for range 64 { // bounded: a sparse tenant on a big node
			names, next, err := n.Scan(ctx, cur, globEscape(pfx)+"*", 100).Result()
			if err != nil {
				return nil, false, c.end(start, err)
			}
			if len(names) > 0 {
				c.end(start, nil)
				return strip(names[rand.IntN(len(names)):][:1], pfx)[0], true, nil
			}
			if next == 0 {
				break
			}
			cur = next
		}
	}
	return nil, false, c.end(start, nil)
}

// Flush implements backed.Backend. Each key is unlinked by the write
// script (keys of one SCAN batch live on different slots), pipelined, so
// the tenant's usage loses exactly what was deleted; after every db is
// flushed the usage hash is reset outright, which also clears any drift.
func (c *Cluster) Flush(ctx context.Context, tenant string, db int) (int64, error) {
	var mu sync.Mutex
	var deleted int64
	err := c.scanEach(ctx, globEscape(c.dbPrefix(tenant, db))+"*", func(ctx context.Context, _ *redis.Client, names []string) error {
		calls := make([]scriptCall, len(names))
		for i, k := range names {
			calls[i] = scriptCall{keys: []string{k}, args: []any{0, "UNLINK", k}}
		}
		var firstErr error
		for i, cmd := range c.runScripts(ctx, execScript, calls) {
			v, err := cmd.Slice()
			if err != nil || len(v) != 5 {
				if firstErr == nil {
					firstErr = fmt.Errorf("unlink %s: %v", names[i], err)
				}
				continue
			}
			c.use.change(tenant, len(names[i]), toInt(v[1]), toInt(v[2]), toInt(v[3]), toInt(v[4]))
			mu.Lock()
			deleted += toInt(v[0])
			mu.Unlock()
		}
		return firstErr
	})
	if err != nil {
		return deleted, err
	}
	if db < 0 {
		c.use.sync.Lock()
		c.use.reset(tenant)
		err = c.rdb.Del(ctx, c.usageKey(tenant)).Err()
		if err == nil {
			err = c.rdb.Del(ctx, c.keysKey(tenant)).Err()
		}
		c.use.sync.Unlock()
	}
	return deleted, c.classify(err)
}
