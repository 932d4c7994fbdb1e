// Package metrics exposes per-tenant Prometheus metrics.
//
// It is a leaf: it imports only client_golang and knows nothing of the
// server. Sizes and counters are read at scrape time from a snapshot
// function the composition root supplies, so serving a command never
// touches a Prometheus label lookup.
//
// # Label cardinality
//
// Every per-tenant series carries exactly two labels, tenant and tier, so a
// server with T tenants exports 8*T tenant series (plus Go/process
// collectors).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// TenantSample is one tenant's figures at scrape time.
type TenantSample struct {
	Tenant, Tier                                     string
	UsedBytes, QuotaBytes, Keys                      int64
	Hits, Misses, Evictions, Expired, ConnectedConns int64
}

type tenantCollector struct {
	snapshot func() []TenantSample
	descs    []*prometheus.Desc
}

var labels = []string{"tenant", "tier"}

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("tcached_tenant_"+name, help, labels, nil)
}

// NewRegistry returns a registry with the per-tenant collector and the Go
// runtime and process collectors.
func NewRegistry(snapshot func() []TenantSample) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&tenantCollector{snapshot: snapshot, descs: []*prometheus.Desc{
			desc("used_bytes", "Bytes accounted against the tenant's quota (keys, values and per-entry overhead)."),
			desc("quota_bytes", "The tenant's hard byte quota."),
			desc("keys", "Keys held by the tenant across all its databases."),
			desc("hits_total", "Key lookups that found a live key."),
			desc("misses_total", "Key lookups that found no live key."),
			desc("evictions_total", "Keys evicted to keep the tenant within its quota (only ever the tenant's own keys)."),
			desc("expired_keys_total", "Keys removed because their TTL passed."),
			desc("connected_clients", "Connections currently bound to the tenant."),
		}},
	)
	return r
}

func (c *tenantCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *tenantCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.snapshot() {
		vals := []struct {
			v float64
			t prometheus.ValueType
		}{
			{float64(s.UsedBytes), prometheus.GaugeValue},
			{float64(s.QuotaBytes), prometheus.GaugeValue},
			{float64(s.Keys), prometheus.GaugeValue},
			{float64(s.Hits), prometheus.CounterValue},
			{float64(s.Misses), prometheus.CounterValue},
			{float64(s.Evictions), prometheus.CounterValue},
			{float64(s.Expired), prometheus.CounterValue},
			{float64(s.ConnectedConns), prometheus.GaugeValue},
		}
		for i, v := range vals {
			ch <- prometheus.MustNewConstMetric(c.descs[i], v.t, v.v, s.Tenant, s.Tier)
		}
	}
}
