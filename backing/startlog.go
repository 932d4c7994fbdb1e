package backing

import (
	"context"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// SlowFailoverMs is the cluster-node-timeout above which the start-up log
// warns: a dead master's slots then fail for about that long plus 1-8 s
// before its replica takes over (README, "Failures"; bench
// TestFailoverWindow measured medians of 18.7-23 s at Redis's default
// 15000).
const SlowFailoverMs = 5000

// Reached is what Start found of the cluster: logged once, kept for tests.
type Reached struct {
	Masters, SlotsCovered int
	// NodeTimeoutMs is the largest cluster-node-timeout of the masters
	// (0: unknown, e.g. CONFIG refused).
	NodeTimeoutMs  int64
	PolicyWarnings int
}

// logReached logs which cluster Start reached: the masters, how many
// slots they cover, the failover timeout and the number of policy
// warnings, and warns about uncovered slots and a slow failover.
func (c *Cluster) logReached(ctx context.Context, masters []string, policyWarnings int) {
	r := Reached{Masters: len(masters), PolicyWarnings: policyWarnings}
	c.tr.mu.Lock()
	for _, o := range c.tr.owners {
		if o != "" {
			r.SlotsCovered++
		}
	}
	c.tr.mu.Unlock()
	var mu sync.Mutex
	c.rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		v, err := n.ConfigGet(ctx, "cluster-node-timeout").Result()
		if err != nil {
			return nil
		}
		ms, err := strconv.ParseInt(v["cluster-node-timeout"], 10, 64)
		if err == nil {
			mu.Lock()
			r.NodeTimeoutMs = max(r.NodeTimeoutMs, ms)
			mu.Unlock()
		}
		return nil
	})
	c.reached.Store(&r)
	c.log.Info("backing: reached Redis Cluster", "seeds", c.opt.Addrs, "masters", r.Masters,
		"slots_covered", r.SlotsCovered, "cluster_node_timeout_ms", r.NodeTimeoutMs, "policy_warnings", r.PolicyWarnings)
	if r.SlotsCovered < SlotCount {
		c.log.Warn("backing: the cluster does not cover every slot; keys of the others fail until it does",
			"slots_covered", r.SlotsCovered, "slots", SlotCount)
	}
	if r.NodeTimeoutMs > SlowFailoverMs {
		c.log.Warn("backing: slow failover: when a master dies, its slots fail for about cluster-node-timeout plus a few seconds",
			"cluster_node_timeout_ms", r.NodeTimeoutMs, "suggest", "cluster-node-timeout 1000-5000 on the cluster's nodes")
	}
}

// Reached is what Start found of the cluster (nil before Start).
func (c *Cluster) Reached() *Reached { return c.reached.Load() }
