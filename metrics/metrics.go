// Package metrics exposes tcached's Prometheus metrics.
//
// It is a leaf: it imports only client_golang and knows nothing of the
// server. Every figure is read at scrape time from a snapshot function the
// composition root supplies: sizes straight from the partitions, counters
// from atomics the server bumps on each command. So serving a command pays
// an atomic add (and a Histogram observation), never a label lookup.
//
// # Label cardinality
//
// Per-tenant series carry the labels tenant and tier, plus one bounded
// label on a few families (outcome: 2 values; reason: 5; resource: 3;
// kind: 12). A tenant of the embedded store has 68 series per tenant: 18
// gauges/counters, tcached_tenant_command_duration_seconds (18 series:
// 16 buckets, sum, count) and tcached_tenant_admission_wait_seconds (10),
// 2 outcome, 5 reason, 3 hot and 12 limit series; backed mode adds 8 (L1
// and L2 figures). 1,000 tenants stay near 68,000 series. Beside them come
// 15 server-wide tcached_ series (17 more with backing) and the Go/process
// collectors (about 60 series). server/limits_metrics_test.go counts
// them in a real scrape and checks that README.md, deploy/README.md and
// this comment agree.
//
// # Memory
//
// The process's own figures come from the standard collectors, which
// NewRegistry registers: process_resident_memory_bytes (RSS) and
// go_memstats_heap_inuse_bytes (Go heap). Beside them, the client memory
// each tenant's connections hold (tcached_tenant_client_memory_bytes)
// against its budget, the unattributed pool and maxmemory_clients show
// that quotas + client memory + overhead stay under maxmemory.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// TenantSample is one tenant's figures at scrape time.
type TenantSample struct {
	Tenant, Tier                     string
	UsedBytes, QuotaBytes, Keys      int64
	Hits, Misses, Evictions, Expired int64
	ConnectedClients                 int64
	CommandsOK, CommandsErr          int64
	AuthFailures                     int64
	Refusals                         map[string]int64 // by admission reason
	SLAViolations                    int64
	InFlight                         int64
	Latency                          HistogramSnapshot
	AdmissionWait                    HistogramSnapshot
	HotMemory, HotCommands           bool
	// Fair sharing: service time charged, time waited for the allowance,
	// whether the tenant is throttled now, and its allowance in cores.
	CPUSeconds, ThrottledSeconds float64
	Throttled                    bool
	AllowanceCores               float64
	// Client memory: what the tenant's connections hold, their budget,
	// connections evicted to keep to it, and commands refused by it.
	ClientMemory, ClientMemoryLimit int64
	ClientsEvicted, ClientOOM       int64
	// L2 is set when the server fronts a backing tier.
	L2 *TenantL2
	// Limits are the tenant's configured limits (tier and overrides).
	Limits TenantLimits
}

// TenantLimits are a tenant's configured limits, exported as
// tcached_tenant_limit{kind} so that alert rules and dashboards compare
// usage with them instead of restating the config by hand. For every kind
// 0 means none (unlimited, no timeout, no TTL), except burst, where 0 is
// one second of rate_limit.
type TenantLimits struct {
	QuotaBytes, ClientMemoryBytes, MaxArgBytes, L2QuotaBytes int64
	RateLimit                                                float64 // commands per second
	Burst, MaxConcurrent, MaxConnections, Weight             int
	TimeoutSeconds, DefaultTTLSeconds, MaxTTLSeconds         float64
}

// LimitKinds are the values of tcached_tenant_limit's kind label, in the
// order a scrape lists them.
var LimitKinds = []string{"quota_bytes", "client_memory_bytes", "max_arg_bytes", "l2_quota_bytes",
	"rate_limit", "burst", "max_concurrent", "max_connections", "weight",
	"timeout_seconds", "default_ttl_seconds", "max_ttl_seconds"}

// values returns the limits in LimitKinds order.
func (l TenantLimits) values() []float64 {
	return []float64{float64(l.QuotaBytes), float64(l.ClientMemoryBytes), float64(l.MaxArgBytes), float64(l.L2QuotaBytes),
		l.RateLimit, float64(l.Burst), float64(l.MaxConcurrent), float64(l.MaxConnections), float64(l.Weight),
		l.TimeoutSeconds, l.DefaultTTLSeconds, l.MaxTTLSeconds}
}

// TenantL2 is a tenant's backed-mode figures: reads served by L1, reads
// that went to L2 (found or not), reads answered as misses because L2
// failed, writes refused by the L2 quota, and L2 usage against it.
type TenantL2 struct {
	L1Hits, L2Hits, L2Misses, Degraded, OverQuota int64
	UsedBytes, QuotaBytes                         int64
	Keys                                          int64 // in L2, kept like UsedBytes
}

// BackingSample is the backing tier's part of a scrape.
type BackingSample struct {
	Calls, Errors, Timeouts       uint64
	Latency                       HistogramSnapshot
	BreakerOpen                   bool
	BreakerTrips, BreakerRejected uint64
	Invalidations, InvalidateAll  uint64
	SlotInvalidations             uint64 // slots dropped
	SuspendedSlots                int    // slots L1 does not serve now
	SlotDroppedKeys               uint64 // L1 copies deleted by slot drops
	TrackingConns, Masters        int
	Ready                         bool
	PolicyWarnings                int
	ReconcileRuns                 uint64
}

// ServerSample is the server-wide part of a scrape.
type ServerSample struct {
	Connections       int64
	RejectedConns     map[string]int64 // by reason: maxclients, protected_mode, tenant_max_connections
	AuthFailures      int64            // every failed AUTH, known user or not
	Panics            int64
	UsedBytes, Quotas int64 // sums over tenants
	MaxMemory         int64
	// Fair sharing: the measured scheduling delay (seconds), whether the
	// server counts as contended, and service time outside any tenant.
	SchedDelaySeconds   float64
	Contended           bool
	UnattributedSeconds float64
	// Client memory: held by all connections, by those bound to no
	// tenant, and the configured cap (maxmemory_clients).
	ClientMemory, UnattributedClientMemory, MaxMemoryClients int64
}

// Snapshot is everything one scrape reports.
type Snapshot struct {
	Server  ServerSample
	Tenants []TenantSample
	Backing *BackingSample // nil: the embedded store
}

var tenantLabels = []string{"tenant", "tier"}

type collector struct {
	snapshot func() Snapshot
	d        map[string]*prometheus.Desc
}

func (c *collector) add(name, help string, extra ...string) {
	c.d[name] = prometheus.NewDesc(name, help, append(append([]string(nil), tenantLabels...), extra...), nil)
}

func (c *collector) addServer(name, help string, labels ...string) {
	c.d[name] = prometheus.NewDesc(name, help, labels, nil)
}

// NewRegistry returns a registry with tcached's collector and the Go
// runtime and process collectors.
func NewRegistry(snapshot func() Snapshot) *prometheus.Registry {
	c := &collector{snapshot: snapshot, d: map[string]*prometheus.Desc{}}
	c.add("tcached_tenant_used_bytes", "Bytes accounted against the tenant's quota (keys, values and per-entry overhead).")
	c.add("tcached_tenant_quota_bytes", "The tenant's hard byte quota.")
	c.add("tcached_tenant_keys", "Keys held by the tenant across all its databases.")
	c.add("tcached_tenant_hits_total", "Key lookups that found a live key.")
	c.add("tcached_tenant_misses_total", "Key lookups that found no live key.")
	c.add("tcached_tenant_evictions_total", "Keys evicted to keep the tenant within its quota (only ever the tenant's own keys).")
	c.add("tcached_tenant_expired_keys_total", "Keys removed because their TTL passed.")
	c.add("tcached_tenant_connected_clients", "Connections currently bound to the tenant.")
	c.add("tcached_tenant_commands_total", "Commands executed, by outcome (ok, or error reply).", "outcome")
	c.add("tcached_tenant_command_duration_seconds", "Command service time, from dispatch to reply buffered.")
	c.add("tcached_tenant_auth_failures_total", "Failed AUTH attempts naming one of the tenant's users.")
	c.add("tcached_tenant_admission_refusals_total", "Commands refused by request admission, by reason.", "reason")
	c.add("tcached_tenant_sla_violations_total", "Commands whose service time exceeded the tier timeout.")
	c.add("tcached_tenant_inflight_commands", "Commands of the tenant executing now.")
	c.add("tcached_tenant_admission_wait_seconds", "Time commands waited for admission (rate-limit tokens).")
	c.add("tcached_tenant_hot", "1 when the tenant is above the hot-tenant share of total used memory or of commands per second, or (cpu) throttled to its fair share.", "resource")
	c.add("tcached_tenant_cpu_seconds_total", "Service time of the tenant's commands: parsing, executing, encoding and writing replies (for chargeback and fair sharing).")
	c.add("tcached_tenant_throttled_seconds_total", "Time the tenant's connections waited for its fair-share allowance.")
	c.add("tcached_tenant_fair_share_allowance_cores", "The throttled tenant's allowance, in cores (0 when not throttled).")
	c.add("tcached_tenant_client_memory_bytes", "Memory the tenant's connections make the server hold: query buffers (partial commands included), reply, pub/sub and MULTI queues, WATCH tables.")
	c.add("tcached_tenant_client_memory_limit_bytes", "The tenant's client-memory budget (client_memory).")
	c.add("tcached_tenant_clients_evicted_total", "Connections disconnected because their output took the tenant's client memory over its budget (biggest first).")
	c.add("tcached_tenant_client_memory_refusals_total", "Commands refused with OOM, and paused reads given up, at the tenant's client-memory budget.")
	c.add("tcached_tenant_limit", "The tenant's configured limits by kind (quota_bytes, client_memory_bytes, max_arg_bytes, l2_quota_bytes, rate_limit, burst, max_concurrent, max_connections, weight, timeout_seconds, default_ttl_seconds, max_ttl_seconds); 0 = none, for burst one second of rate_limit.", "kind")
	c.add("tcached_tenant_l1_hits_total", "Backed mode: reads served from the tenant's L1 partition.")
	c.add("tcached_tenant_l2_reads_total", "Backed mode: reads that missed L1 and went to L2, by result (hit, miss).", "result")
	c.add("tcached_tenant_l2_degraded_reads_total", "Backed mode: reads answered as misses because L2 failed or timed out.")
	c.add("tcached_tenant_l2_over_quota_total", "Backed mode: writes refused with OOM by the tenant's L2 quota.")
	c.add("tcached_tenant_l2_used_bytes", "Backed mode: the tenant's L2 usage as this node knows it (see backing/usage.go for its accuracy).")
	c.add("tcached_tenant_l2_quota_bytes", "Backed mode: the tenant's L2 quota (0: unlimited).")
	c.add("tcached_tenant_l2_keys", "Backed mode: the tenant's keys in L2 as this node knows them (same accuracy as tcached_tenant_l2_used_bytes).")
	c.addServer("tcached_l2_calls_total", "Calls to the backing Redis Cluster.")
	c.addServer("tcached_l2_errors_total", "Backing calls that failed, by kind (error, timeout).", "kind")
	c.addServer("tcached_l2_call_duration_seconds", "Duration of backing calls.")
	c.addServer("tcached_l2_breaker_open", "1 while the circuit breaker refuses backing calls.")
	c.addServer("tcached_l2_breaker_trips_total", "Times the circuit breaker opened.")
	c.addServer("tcached_l2_breaker_rejected_total", "Backing calls refused by the open breaker.")
	c.addServer("tcached_l2_invalidations_total", "Invalidations received from the cluster, by scope (key; all; slot: slots whose L1 copies were dropped, after their master was tracked again, moved or was flushed).", "scope")
	c.addServer("tcached_l2_suspended_slots", "Cluster slots L1 does not serve now (their master is untracked, or they moved and their new master is not tracked yet).")
	c.addServer("tcached_l1_slot_dropped_keys_total", "L1 copies deleted by slot-scoped invalidations (every tenant).")
	c.addServer("tcached_l2_tracking_connections", "Live CLIENT TRACKING connections (one per master when healthy).")
	c.addServer("tcached_l2_masters", "Masters of the backing cluster.")
	c.addServer("tcached_l2_ready", "1 while every master is tracked and L1 may serve.")
	c.addServer("tcached_l2_policy_warnings", "Masters whose maxmemory-policy could evict one tenant's keys for another's writes.")
	c.addServer("tcached_l2_reconcile_runs_total", "L2 usage reconciliations run by this node.")
	c.addServer("tcached_client_memory_bytes", "Memory all connections make the server hold (every tenant's client memory plus the unattributed pool).")
	c.addServer("tcached_unattributed_client_memory_bytes", "Client memory of connections bound to no tenant (before AUTH, operators).")
	c.addServer("tcached_maxmemory_clients_bytes", "The configured cap on client memory (maxmemory_clients).")
	c.addServer("tcached_connections", "Open client connections.")
	c.addServer("tcached_connections_rejected_total", "Connections refused at accept or binding, by reason.", "reason")
	c.addServer("tcached_auth_failures_total", "Failed AUTH attempts, known user or not.")
	c.addServer("tcached_handler_panics_total", "Command handler panics recovered (each closed one connection).")
	c.addServer("tcached_used_bytes", "Sum of the tenants' accounted bytes.")
	c.addServer("tcached_quota_bytes", "Sum of the tenants' quotas.")
	c.addServer("tcached_maxmemory_bytes", "The configured maxmemory.")
	c.addServer("tcached_sched_delay_seconds", "p99 of the time goroutines waited runnable over the last fair-sharing ticks: the contention signal.")
	c.addServer("tcached_contended", "1 while at least two tenants are active and the scheduling delay is above fair_share_delay_target.")
	c.addServer("tcached_unattributed_cpu_seconds_total", "Service time of connections bound to no tenant (before AUTH, operators).")
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), c)
	return r
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.snapshot()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	emit := func(name string, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.d[name], t, v, labels...)
	}
	sv := snap.Server
	emit("tcached_connections", gauge, float64(sv.Connections))
	for _, r := range []string{"maxclients", "protected_mode", "tenant_max_connections"} {
		emit("tcached_connections_rejected_total", counter, float64(sv.RejectedConns[r]), r)
	}
	emit("tcached_auth_failures_total", counter, float64(sv.AuthFailures))
	emit("tcached_handler_panics_total", counter, float64(sv.Panics))
	emit("tcached_used_bytes", gauge, float64(sv.UsedBytes))
	emit("tcached_quota_bytes", gauge, float64(sv.Quotas))
	emit("tcached_maxmemory_bytes", gauge, float64(sv.MaxMemory))
	emit("tcached_sched_delay_seconds", gauge, sv.SchedDelaySeconds)
	emit("tcached_contended", gauge, b2f(sv.Contended))
	emit("tcached_unattributed_cpu_seconds_total", counter, sv.UnattributedSeconds)
	emit("tcached_client_memory_bytes", gauge, float64(sv.ClientMemory))
	emit("tcached_unattributed_client_memory_bytes", gauge, float64(sv.UnattributedClientMemory))
	emit("tcached_maxmemory_clients_bytes", gauge, float64(sv.MaxMemoryClients))
	if b := snap.Backing; b != nil {
		emit("tcached_l2_calls_total", counter, float64(b.Calls))
		emit("tcached_l2_errors_total", counter, float64(b.Errors), "error")
		emit("tcached_l2_errors_total", counter, float64(b.Timeouts), "timeout")
		ch <- prometheus.MustNewConstHistogram(c.d["tcached_l2_call_duration_seconds"], b.Latency.Count, b.Latency.Sum, b.Latency.Buckets)
		emit("tcached_l2_breaker_open", gauge, b2f(b.BreakerOpen))
		emit("tcached_l2_breaker_trips_total", counter, float64(b.BreakerTrips))
		emit("tcached_l2_breaker_rejected_total", counter, float64(b.BreakerRejected))
		emit("tcached_l2_invalidations_total", counter, float64(b.Invalidations), "key")
		emit("tcached_l2_invalidations_total", counter, float64(b.InvalidateAll), "all")
		emit("tcached_l2_invalidations_total", counter, float64(b.SlotInvalidations), "slot")
		emit("tcached_l2_suspended_slots", gauge, float64(b.SuspendedSlots))
		emit("tcached_l1_slot_dropped_keys_total", counter, float64(b.SlotDroppedKeys))
		emit("tcached_l2_tracking_connections", gauge, float64(b.TrackingConns))
		emit("tcached_l2_masters", gauge, float64(b.Masters))
		emit("tcached_l2_ready", gauge, b2f(b.Ready))
		emit("tcached_l2_policy_warnings", gauge, float64(b.PolicyWarnings))
		emit("tcached_l2_reconcile_runs_total", counter, float64(b.ReconcileRuns))
	}
	for _, s := range snap.Tenants {
		l := []string{s.Tenant, s.Tier}
		if t := s.L2; t != nil {
			emit("tcached_tenant_l1_hits_total", counter, float64(t.L1Hits), l...)
			emit("tcached_tenant_l2_reads_total", counter, float64(t.L2Hits), s.Tenant, s.Tier, "hit")
			emit("tcached_tenant_l2_reads_total", counter, float64(t.L2Misses), s.Tenant, s.Tier, "miss")
			emit("tcached_tenant_l2_degraded_reads_total", counter, float64(t.Degraded), l...)
			emit("tcached_tenant_l2_over_quota_total", counter, float64(t.OverQuota), l...)
			emit("tcached_tenant_l2_used_bytes", gauge, float64(t.UsedBytes), l...)
			emit("tcached_tenant_l2_quota_bytes", gauge, float64(t.QuotaBytes), l...)
			emit("tcached_tenant_l2_keys", gauge, float64(t.Keys), l...)
		}
		emit("tcached_tenant_used_bytes", gauge, float64(s.UsedBytes), l...)
		emit("tcached_tenant_quota_bytes", gauge, float64(s.QuotaBytes), l...)
		emit("tcached_tenant_keys", gauge, float64(s.Keys), l...)
		emit("tcached_tenant_hits_total", counter, float64(s.Hits), l...)
		emit("tcached_tenant_misses_total", counter, float64(s.Misses), l...)
		emit("tcached_tenant_evictions_total", counter, float64(s.Evictions), l...)
		emit("tcached_tenant_expired_keys_total", counter, float64(s.Expired), l...)
		emit("tcached_tenant_connected_clients", gauge, float64(s.ConnectedClients), l...)
		emit("tcached_tenant_commands_total", counter, float64(s.CommandsOK), s.Tenant, s.Tier, "ok")
		emit("tcached_tenant_commands_total", counter, float64(s.CommandsErr), s.Tenant, s.Tier, "error")
		emit("tcached_tenant_auth_failures_total", counter, float64(s.AuthFailures), l...)
		for _, r := range []string{"rate", "concurrency", "arg_bytes", "shed", "fair_share"} {
			emit("tcached_tenant_admission_refusals_total", counter, float64(s.Refusals[r]), s.Tenant, s.Tier, r)
		}
		emit("tcached_tenant_sla_violations_total", counter, float64(s.SLAViolations), l...)
		for i, v := range s.Limits.values() {
			emit("tcached_tenant_limit", gauge, v, s.Tenant, s.Tier, LimitKinds[i])
		}
		emit("tcached_tenant_inflight_commands", gauge, float64(s.InFlight), l...)
		emit("tcached_tenant_hot", gauge, b2f(s.HotMemory), s.Tenant, s.Tier, "memory")
		emit("tcached_tenant_hot", gauge, b2f(s.HotCommands), s.Tenant, s.Tier, "commands")
		emit("tcached_tenant_hot", gauge, b2f(s.Throttled), s.Tenant, s.Tier, "cpu")
		emit("tcached_tenant_cpu_seconds_total", counter, s.CPUSeconds, l...)
		emit("tcached_tenant_throttled_seconds_total", counter, s.ThrottledSeconds, l...)
		emit("tcached_tenant_fair_share_allowance_cores", gauge, s.AllowanceCores, l...)
		emit("tcached_tenant_client_memory_bytes", gauge, float64(s.ClientMemory), l...)
		emit("tcached_tenant_client_memory_limit_bytes", gauge, float64(s.ClientMemoryLimit), l...)
		emit("tcached_tenant_clients_evicted_total", counter, float64(s.ClientsEvicted), l...)
		emit("tcached_tenant_client_memory_refusals_total", counter, float64(s.ClientOOM), l...)
		ch <- prometheus.MustNewConstHistogram(c.d["tcached_tenant_command_duration_seconds"],
			s.Latency.Count, s.Latency.Sum, s.Latency.Buckets, l...)
		ch <- prometheus.MustNewConstHistogram(c.d["tcached_tenant_admission_wait_seconds"],
			s.AdmissionWait.Count, s.AdmissionWait.Sum, s.AdmissionWait.Buckets, l...)
	}
}
