package server

import (
	"strings"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/shard"
)

// Backed mode: Options.Backend set (Redis Cluster, package backing). The
// tenants' partitions become L1 caches in front of the Backend; package
// backed runs each row's backed mode (command.BackedMode) and keeps L1
// coherent. What stays here is the wiring: the table, the invalidation
// callback over the registry, flushes, and the tenant's figures.

// applyBacked rewires the table for backed mode (backed.Mode.Apply).
func (s *Server) applyBacked(rows []*command.Spec) {
	if s.l2.Atomic() == nil {
		// A backend without transactions, scripts and pub/sub (a test
		// fake): those stay refused.
		for _, r := range rows {
			switch r.Name {
			case "multi", "exec", "discard", "watch", "unwatch", "eval", "evalsha", "eval_ro", "evalsha_ro",
				"fcall", "fcall_ro", "script", "function", "subscribe", "unsubscribe", "psubscribe",
				"punsubscribe", "publish", "pubsub", "ssubscribe", "sunsubscribe", "spublish":
				r.Backed = command.BackedRefused
			}
		}
	}
	s.l2.Apply(rows, withClient(cmdNotBacked))
}

// cmdNotBacked refuses a command only the embedded store serves, naming
// it as sent without its subcommand, as Redis names a command.
func cmdNotBacked(c *client, args [][]byte) {
	name, _, _ := strings.Cut(c.x.Spec.Name, "|")
	c.conn.WriteError(backed.ErrNotBacked(name))
}

// invalidate is the backend's invalidation callback.
func (s *Server) invalidate(inv backed.Invalidation) {
	reg := s.reg.Load()
	if inv.Slots != nil {
		l1s := make([]backed.L1, len(reg.order))
		for i, t := range reg.order {
			l1s[i] = backed.L1{Tenant: t.id, Part: t.part}
		}
		s.l2.Slots(inv, l1s)
		if !inv.Suspend {
			// A tracking client may hold a value read from L2 while the
			// slots were suspended: its changes went unseen.
			for _, t := range reg.order {
				if t.hooks.Load()&hookTrack != 0 {
					s.trackFlush(t)
				}
			}
		}
		return
	}
	if inv.All {
		parts := make([]*shard.Partition, len(reg.order))
		for i, t := range reg.order {
			parts[i] = t.part
		}
		s.l2.DropAll(parts)
		for _, t := range reg.order {
			// Blocked clients look at L2 again: while a master was not
			// tracked, a push there reached nobody.
			t.blocked.wakeAll()
			if t.hooks.Load()&hookTrack != 0 {
				s.trackFlush(t)
			}
		}
		return
	}
	t := reg.tenants[inv.Tenant]
	if t == nil || inv.DB < 0 || inv.DB >= command.NumDBs {
		return
	}
	s.l2.Drop(t.id, t.part, inv.DB, inv.Key)
	// Clients blocked on the key (backed.Mode's blocking commands) look
	// at L2 again: any node's push wakes them.
	t.blocked.signal(inv.DB, inv.Key)
	if t.hooks.Load()&hookTrack != 0 {
		s.invalidateKey(t, nil, inv.Key)
		if t.trk.table.HasPrefixes() {
			s.broadcast(t, nil, [][]byte{inv.Key})
		}
	}
}

// flushTenant deletes a tenant's keys of db (every db when db < 0): in L2
// on every master when backed, and in L1.
func (s *Server) flushTenant(t *tenant, db int) (int64, error) {
	// Tracking connections are told every key is invalid (tracking.go),
	// after the flush, as Redis's trackingInvalidateKeysOnFlush.
	if t.hooks.Load()&hookTrack != 0 {
		defer s.trackFlush(t)
	}
	if s.l2 == nil {
		return int64(t.part.Flush(db)), nil
	}
	return s.l2.Flush(t.id, t.part, db)
}

// L2Tenant is the client's tenant for the backed handlers (backed.Conn).
func (c *client) L2Tenant() backed.Tenant {
	t := c.tenant
	tier := &t.cfg().Tier
	return backed.Tenant{ID: t.id, Stats: &t.l2, Timeout: tier.Timeout, Quota: tier.L2Quota, L1CollMax: tier.L1CollMax, Watching: c.l2watch.set}
}

// tenantL2 is a tenant's backed-mode metrics; nil when not backed.
func (s *Server) tenantL2(t *tenant) *metrics.TenantL2 {
	if s.backend == nil {
		return nil
	}
	return &metrics.TenantL2{
		L1Hits: t.l2.L1Hits.Load(), L2Hits: t.l2.L2Hits.Load(), L2Misses: t.l2.L2Misses.Load(),
		Degraded: t.l2.Degraded.Load(), OverQuota: t.l2.OverQuota.Load(),
		UsedBytes: s.backend.Usage(t.id), QuotaBytes: t.cfg().Tier.L2Quota, Keys: s.backend.UsageKeys(t.id),
	}
}
