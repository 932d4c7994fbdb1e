package server

import (
	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/metrics"
)

const (
	rejectMaxClients = iota
	rejectProtected
	rejectTenantMaxConns
	numRejectReasons
)

var rejectNames = [numRejectReasons]string{"maxclients", "protected_mode", "tenant_max_connections"}

// hotMemFloorDivisor sets the absolute floor of the memory flag: a tenant
// is hot for memory only above 1% of maxmemory, so that the largest of a few
// nearly empty tenants (85 bytes of a 256 MiB server) is not flagged.
const hotMemFloorDivisor = 100

// evaluateHot, run every hotIv, flags hot tenants: a tenant whose share of
// the total used memory, or of the commands executed during the last
// interval, is above hotShare (default 30%) (memory: and above 1% of
// maxmemory). A flag is
// a gauge, an INFO field (tenant_hot_memory / tenant_hot_commands) and a log
// line when it changes. The third flag, cpu, is fair sharing's throttle
// (fair.go).
func (s *Server) evaluateHot() {
	var used, cmds int64
	reg := s.reg.Load()
	order := reg.order
	memFloor := reg.cfg.MaxMemory / hotMemFloorDivisor
	uses := make([]int64, len(order))
	deltas := make([]int64, len(order))
	for i, t := range order {
		uses[i] = t.part.UsedBytes()
		n := t.commands.Load()
		deltas[i] = n - t.lastCommands
		t.lastCommands = n
		used += uses[i]
		cmds += deltas[i]
	}
	for i, t := range order {
		mem := used > 0 && float64(uses[i]) > s.hotShare*float64(used) && uses[i] > memFloor
		cmd := cmds > 0 && float64(deltas[i]) > s.hotShare*float64(cmds)
		if t.hotMemory.Swap(mem) != mem {
			s.log.Warn("hot tenant", "tenant", t.id, "resource", "memory", "hot", mem,
				"used_bytes", uses[i], "total_used_bytes", used, "threshold", s.hotShare)
		}
		if t.hotCommands.Swap(cmd) != cmd {
			s.log.Warn("hot tenant", "tenant", t.id, "resource", "commands", "hot", cmd,
				"commands", deltas[i], "total_commands", cmds, "interval", s.hotIv.String(), "threshold", s.hotShare)
		}
	}
}

// Snapshot is everything /metrics reports, read now.
func (s *Server) Snapshot() metrics.Snapshot {
	reg := s.reg.Load()
	snap := metrics.Snapshot{Server: metrics.ServerSample{
		Connections:   s.conns.Load(),
		RejectedConns: make(map[string]int64, numRejectReasons),
		AuthFailures:  s.authFailures.Load(),
		Panics:        s.panics.Load(),
		MaxMemory:     reg.cfg.MaxMemory,
	}}
	fs := s.admission.FairStatus()
	snap.Server.SchedDelaySeconds = fs.Delay.Seconds()
	snap.Server.Contended = fs.Contended
	snap.Server.UnattributedSeconds = fs.UnattributedSeconds
	for i, n := range rejectNames {
		snap.Server.RejectedConns[n] = s.rejected[i].Load()
	}
	for _, t := range reg.order {
		st := t.part.Stats()
		errs := t.cmdErrors.Load()
		as := t.adm.Stats()
		snap.Server.UsedBytes += st.UsedBytes
		snap.Server.Quotas += st.Quota
		snap.Tenants = append(snap.Tenants, metrics.TenantSample{
			Tenant: t.id, Tier: t.cfg().TierName,
			UsedBytes: st.UsedBytes, QuotaBytes: st.Quota, Keys: st.Keys,
			Hits: st.Hits, Misses: st.Misses, Evictions: st.Evictions, Expired: st.Expired,
			ConnectedClients: t.clients.Load(),
			CommandsOK:       t.cmdOK.Load(), CommandsErr: errs,
			AuthFailures:  t.authFailures.Load(),
			Refusals:      refusals(as),
			SLAViolations: int64(as.SLAViolations),
			InFlight:      as.InFlight,
			AdmissionWait: waitSnapshot(as),
			Latency:       t.latency.Snapshot(),
			HotMemory:     t.hotMemory.Load(), HotCommands: t.hotCommands.Load(),
			CPUSeconds:        as.CPU.Seconds(),
			ThrottledSeconds:  as.Throttled.Seconds(),
			Throttled:         as.Allowance > 0,
			AllowanceCores:    as.Allowance,
			L2:                s.tenantL2(t),
			ClientMemory:      t.cmem.used.Load(),
			ClientMemoryLimit: t.cmem.limit.Load(),
			ClientsEvicted:    t.cmem.evicted.Load(),
			ClientOOM:         t.cmem.refused.Load(),
			Limits:            tenantLimits(t),
		})
		snap.Server.ClientMemory += t.cmem.used.Load()
		snap.Server.MaxMemoryClients += t.cmem.limit.Load()
	}
	snap.Server.UnattributedClientMemory = s.unattributed.used.Load()
	snap.Server.ClientMemory += snap.Server.UnattributedClientMemory
	snap.Server.MaxMemoryClients += s.unattributed.limit.Load()
	if s.backend != nil {
		b := s.backend.Stats()
		ss := s.l2.SlotStats()
		snap.Backing = &metrics.BackingSample{
			Calls: b.Calls, Errors: b.Errors, Timeouts: b.Timeouts,
			Latency:     metrics.HistogramSnapshot{Count: b.LatencyCount, Sum: b.LatencySum, Buckets: b.LatencyBuckets},
			BreakerOpen: b.BreakerOpen, BreakerTrips: b.BreakerTrips, BreakerRejected: b.BreakerRejected,
			Invalidations: b.Invalidations, InvalidateAll: b.InvalidateAll,
			SlotInvalidations: b.SlotInvalidations, SuspendedSlots: ss.Suspended, SlotDroppedKeys: ss.DroppedKeys,
			TrackingConns: b.TrackingConns, Masters: b.Masters, Ready: b.Ready,
			PolicyWarnings: len(b.PolicyWarnings), ReconcileRuns: b.ReconcileRuns,
		}
	}
	return snap
}

// tenantLimits is the tenant's configuration as tcached_tenant_limit
// exports it: quota and client_memory as enforced now (TENANT QUOTA
// changes them until the next reload; client_memory is derived from the
// quota when the tier leaves it out).
func tenantLimits(t *tenant) metrics.TenantLimits {
	tr := t.cfg().Tier
	return metrics.TenantLimits{
		QuotaBytes: t.part.Quota(), ClientMemoryBytes: t.cmem.limit.Load(), MaxArgBytes: tr.MaxArgBytes, L2QuotaBytes: tr.L2Quota,
		RateLimit: tr.RateLimit, Burst: tr.Burst, MaxConcurrent: tr.MaxConcurrent, MaxConnections: tr.MaxConnections,
		Weight:         max(tr.Weight, 1),
		TimeoutSeconds: tr.Timeout.Seconds(), DefaultTTLSeconds: tr.DefaultTTL.Seconds(), MaxTTLSeconds: tr.MaxTTL.Seconds(),
	}
}

func refusals(as admission.Stats) map[string]int64 {
	m := make(map[string]int64, admission.NumReasons)
	for r := admission.Reason(1); r < admission.NumReasons; r++ {
		m[r.String()] = int64(as.Refused[r])
	}
	return m
}

// waitSnapshot turns admission's per-bucket wait counts into a cumulative
// Prometheus histogram (bounds in seconds; the last bucket is +Inf).
func waitSnapshot(as admission.Stats) metrics.HistogramSnapshot {
	h := metrics.HistogramSnapshot{Buckets: make(map[float64]uint64, admission.NumWaitBuckets)}
	var cum uint64
	for i := 0; i < admission.NumWaitBuckets; i++ {
		cum += as.Wait.Counts[i]
		if b := admission.WaitBucketBound(i); b >= 0 {
			h.Buckets[b.Seconds()] = cum
		}
	}
	h.Count = cum
	h.Sum = as.Wait.Sum.Seconds()
	return h
}
