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
	if inv.All {
		parts := make([]*shard.Partition, len(reg.order))
		for i, t := range reg.order {
			parts[i] = t.part
		}
		s.l2.DropAll(parts)
		for _, t := range reg.order {
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
	return backed.Tenant{ID: t.id, Stats: &t.l2, Timeout: tier.Timeout, Quota: tier.L2Quota}
}

// tenantL2 is a tenant's backed-mode metrics; nil when not backed.
func (s *Server) tenantL2(t *tenant) *metrics.TenantL2 {
	if s.backend == nil {
		return nil
	}
	return &metrics.TenantL2{
		L1Hits: t.l2.L1Hits.Load(), L2Hits: t.l2.L2Hits.Load(), L2Misses: t.l2.L2Misses.Load(),
		Degraded: t.l2.Degraded.Load(), OverQuota: t.l2.OverQuota.Load(),
		UsedBytes: s.backend.Usage(t.id), QuotaBytes: t.cfg().Tier.L2Quota,
	}
}
