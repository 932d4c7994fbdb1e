package backing

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// L2 usage accounting.
//
// A tenant's L2 usage is the sum over its keys of len(L2 name) + len(value)
// + PerKeyOverhead. It is kept in the cluster, one hash per tenant
// (usageKey), whose fields are expiry buckets: "p" for keys without a TTL
// and the unix minute at whose end the keys of the bucket have all
// expired. A write's script reports each key's length and expiry before
// and after, so the write moves its old size out of the old bucket and its
// new size into the new one: overwrites, deletes and TTL changes are
// exact, and keys that expire inside Redis leave the total when their
// minute ends, without anyone telling tcached.
//
// The key count is kept the same way, in a second hash (keysKey) with
// the same buckets, one per key instead of its bytes; it has the same
// accuracy (a key counts until the end of the minute it expires in).
//
// Each node sums its deltas locally and flushes them every UsageInterval
// (HINCRBY, one pipeline); it reads the tenants' totals back in the same
// round. A write is refused when the total as last read, plus this node's
// unflushed deltas, plus the write's growth, would exceed the quota.
//
// Accuracy, stated: (1) keys count up to one minute after they expire (the
// bucket ends at the minute's end), so usage over-counts by at most the
// bytes of one minute of expirations; (2) with N tcached nodes a tenant
// can overshoot its quota by what the other N-1 nodes accept in one
// UsageInterval (100ms) before their deltas are read; (3) Redis's own
// per-key overhead differs from PerKeyOverhead by tens of bytes per key;
// (4) keys changed by clients that bypass tcached are not counted until
// the periodic reconcile (a SCAN that recomputes the buckets) runs, and
// deltas flushed while a reconcile scans are lost or counted twice. The
// reconcile is the safety net for all of these.

// PerKeyOverhead approximates what Redis spends per key beyond the name
// and value bytes (dict entry, robj, sds headers, expires entry): about 85
// bytes measured on Redis 7.0 (REFERENCE.md §6).
const PerKeyOverhead = 80

const noTTLBucket = "p"

type usageTable struct {
	mu      sync.Mutex
	tenants map[string]*tenantUsage
	// sync serialises the exchanges with the cluster's usage hashes: the
	// loop's flush and read, and the rewrites by flushes and reconciles.
	// Without it a flush's deltas, taken before a tenant's FLUSHALL reset
	// its hash, could land after it and resurrect the old usage.
	sync sync.Mutex
}

type tenantUsage struct {
	stored  atomic.Int64 // the cluster's total as last read
	mu      sync.Mutex
	pending map[string]int64 // bucket -> unflushed delta
	sum     int64            // sum of pending
	// The tenant's key count, kept the same way in a second hash
	// (keysKey) with the same buckets, so a key leaves the count when its
	// minute ends: storedKeys as last read, keysPending unflushed.
	storedKeys  atomic.Int64
	keysPending map[string]int64
	keysSum     int64
}

func (u *usageTable) init() { u.tenants = map[string]*tenantUsage{} }

func (u *usageTable) get(tenant string) *tenantUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	t := u.tenants[tenant]
	if t == nil {
		t = &tenantUsage{pending: map[string]int64{}, keysPending: map[string]int64{}}
		u.tenants[tenant] = t
	}
	return t
}

func (u *usageTable) list() map[string]*tenantUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]*tenantUsage, len(u.tenants))
	for k, v := range u.tenants {
		out[k] = v
	}
	return out
}

// total is the tenant's usage as this node knows it.
func (u *usageTable) total(tenant string) int64 {
	t := u.get(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stored.Load() + t.sum
}

func bucketOf(expireAt int64) string {
	if expireAt < 0 {
		return noTTLBucket
	}
	return strconv.FormatInt((expireAt+59999)/60000, 10)
}

// change records one key's size change from a write script's report.
func (u *usageTable) change(tenant string, nameLen int, oldLen, oldExp, newLen, newExp int64) {
	t := u.get(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if oldLen >= 0 {
		d := -(int64(nameLen) + oldLen + PerKeyOverhead)
		t.pending[bucketOf(oldExp)] += d
		t.sum += d
		t.keysPending[bucketOf(oldExp)]--
		t.keysSum--
	}
	if newLen >= 0 {
		d := int64(nameLen) + newLen + PerKeyOverhead
		t.pending[bucketOf(newExp)] += d
		t.sum += d
		t.keysPending[bucketOf(newExp)]++
		t.keysSum++
	}
}

// keys is the tenant's L2 key count as this node knows it.
func (u *usageTable) keys(tenant string) int64 {
	t := u.get(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.storedKeys.Load()+t.keysSum, 0)
}

// usageKey names a tenant's usage hash. It is outside the key prefix's
// tenant namespaces (no tenant id holds '!'), so no tenant SCAN, KEYS or
// flush ever meets it.
func (c *Cluster) usageKey(tenant string) string { return c.prefix + "!usage:" + tenant }

// keysKey names a tenant's key-count hash (buckets as usageKey's).
func (c *Cluster) keysKey(tenant string) string { return c.prefix + "!keys:" + tenant }

// UsageKeys is the tenant's L2 key count as this node knows it, with the
// accuracy of its usage (see above): keys that expired inside Redis
// count until their minute ends.
func (c *Cluster) UsageKeys(tenant string) int64 { return c.use.keys(tenant) }

// Usage implements backed.Backend.
func (c *Cluster) Usage(tenant string) int64 { return c.use.total(tenant) }

// usageRound sends this node's deltas and reads every total back.
func (c *Cluster) usageRound() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.use.sync.Lock()
	defer c.use.sync.Unlock()
	c.flushUsage(ctx)
	c.readUsage(ctx)
}

// flushUsage sends every tenant's pending deltas; deltas that fail stay
// pending for the next round.
func (c *Cluster) flushUsage(ctx context.Context) {
	type sent struct {
		t            *tenantUsage
		deltas, keys map[string]int64
	}
	var batch []sent
	pipe := c.rdb.Pipeline()
	for id, t := range c.use.list() {
		t.mu.Lock()
		if len(t.pending) == 0 && len(t.keysPending) == 0 {
			t.mu.Unlock()
			continue
		}
		d, dk := t.pending, t.keysPending
		t.pending, t.keysPending = map[string]int64{}, map[string]int64{}
		t.mu.Unlock()
		for f, v := range d {
			if v != 0 {
				pipe.HIncrBy(ctx, c.usageKey(id), f, v)
			}
		}
		for f, v := range dk {
			if v != 0 {
				pipe.HIncrBy(ctx, c.keysKey(id), f, v)
			}
		}
		batch = append(batch, sent{t, d, dk})
	}
	if len(batch) == 0 {
		return
	}
	_, err := pipe.Exec(ctx)
	for _, s := range batch {
		s.t.mu.Lock()
		if err != nil {
			for f, v := range s.deltas {
				s.t.pending[f] += v // retry next round
			}
			for f, v := range s.keys {
				s.t.keysPending[f] += v
			}
		} else {
			for _, v := range s.deltas {
				s.t.sum -= v
				s.t.stored.Add(v) // until the next read replaces it
			}
			for _, v := range s.keys {
				s.t.keysSum -= v
				s.t.storedKeys.Add(v)
			}
		}
		s.t.mu.Unlock()
	}
}

// readUsage refreshes every known tenant's stored total and prunes
// buckets whose minute has passed.
func (c *Cluster) readUsage(ctx context.Context) {
	tenants := c.use.list()
	if len(tenants) == 0 {
		return
	}
	ids := make([]string, 0, len(tenants))
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, 0, len(tenants))
	keyCmds := make([]*redis.MapStringStringCmd, 0, len(tenants))
	for id := range tenants {
		ids = append(ids, id)
		cmds = append(cmds, pipe.HGetAll(ctx, c.usageKey(id)))
		keyCmds = append(keyCmds, pipe.HGetAll(ctx, c.keysKey(id)))
	}
	pipe.Exec(ctx)
	nowMin := time.Now().UnixMilli() / 60000
	prune := c.rdb.Pipeline()
	n := 0
	for i, cmd := range cmds {
		m, err := cmd.Result()
		if err != nil {
			continue
		}
		tenants[ids[i]].stored.Store(sumBuckets(m, nowMin, func(f string) {
			prune.HDel(ctx, c.usageKey(ids[i]), f)
			n++
		}))
		if m, err := keyCmds[i].Result(); err == nil {
			tenants[ids[i]].storedKeys.Store(sumBuckets(m, nowMin, func(f string) {
				prune.HDel(ctx, c.keysKey(ids[i]), f)
				n++
			}))
		}
	}
	if n > 0 {
		prune.Exec(ctx)
	}
}

// sumBuckets adds the live buckets of a usage hash; stale is called for
// buckets that ended before minute nowMin.
func sumBuckets(m map[string]string, nowMin int64, stale func(field string)) int64 {
	var total int64
	for f, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if f != noTTLBucket {
			end, err := strconv.ParseInt(f, 10, 64)
			if err != nil || end <= nowMin {
				stale(f)
				continue
			}
		}
		total += n
	}
	return total
}

// reconcileAll reconciles every tenant this node has seen (each at most
// once per interval across nodes).
func (c *Cluster) reconcileAll() {
	for id := range c.use.list() {
		ctx, cancel := context.WithTimeout(context.Background(), c.opt.ScanTimeout*4)
		if err := c.Reconcile(ctx, id, c.opt.ReconcileInterval); err != nil {
			c.log.Warn("backing: usage reconcile failed", "tenant", id, "err", err)
		}
		cancel()
	}
}

// Reconcile recomputes a tenant's usage hash from a scan of its keys on
// every master. Across nodes, one reconcile per tenant runs per interval
// (a lock key with that lifetime); interval 0 takes no lock.
func (c *Cluster) Reconcile(ctx context.Context, tenant string, interval time.Duration) error {
	if interval > 0 {
		ok, err := c.rdb.SetNX(ctx, c.prefix+"!reconcile:"+tenant, "1", interval).Result()
		if err != nil || !ok {
			return err
		}
	}
	c.reconcileRuns.Add(1)
	var mu sync.Mutex
	buckets, keyBuckets := map[string]int64{}, map[string]int64{}
	err := c.scanEach(ctx, globEscape(c.dbPrefix(tenant, -1))+"*", func(ctx context.Context, n *redis.Client, names []string) error {
		pipe := n.Pipeline()
		lens := make([]*redis.IntCmd, len(names))
		exps := make([]*redis.Cmd, len(names))
		mems := make([]*redis.Cmd, len(names))
		for i, k := range names {
			lens[i] = pipe.StrLen(ctx, k)
			mems[i] = pipe.Do(ctx, "MEMORY", "USAGE", k, "SAMPLES", "5") // coll.go's measure of a collection
			exps[i] = pipe.Do(ctx, "PEXPIRETIME", k)
		}
		pipe.Exec(ctx)
		mu.Lock()
		defer mu.Unlock()
		for i, k := range names {
			exp, err := exps[i].Int64()
			if err != nil || exp == -2 {
				continue // gone, or moved: the next run counts it
			}
			l, err := lens[i].Result()
			if err != nil { // not a string
				l, _ = mems[i].Int64()
			}
			buckets[bucketOf(exp)] += int64(len(k)) + l + PerKeyOverhead
			keyBuckets[bucketOf(exp)]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.use.sync.Lock()
	defer c.use.sync.Unlock()
	c.flushUsage(ctx) // deltas of writes before the scan, before the rewrite
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, c.usageKey(tenant))
		for f, v := range buckets {
			p.HSet(ctx, c.usageKey(tenant), f, v)
		}
		return nil
	})
	if err == nil { // another slot: its own transaction
		_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, c.keysKey(tenant))
			for f, v := range keyBuckets {
				p.HSet(ctx, c.keysKey(tenant), f, v)
			}
			return nil
		})
	}
	if err == nil {
		c.reconciled.Add(1)
		c.readUsage(ctx)
	}
	return err
}

// reset forgets a tenant's usage (its keys were all deleted).
func (u *usageTable) reset(tenant string) {
	t := u.get(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = map[string]int64{}
	t.sum = 0
	t.stored.Store(0)
	t.keysPending = map[string]int64{}
	t.keysSum = 0
	t.storedKeys.Store(0)
}
