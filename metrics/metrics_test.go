package metrics

import (
	"io"
	"maps"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestScrapeReportsSnapshotValues(t *testing.T) {
	h := NewHistogram(LatencyBuckets)
	h.Observe(30 * time.Microsecond)
	h.Observe(3 * time.Millisecond)
	h.Observe(5 * time.Second)
	snap := Snapshot{
		Server: ServerSample{Connections: 3, RejectedConns: map[string]int64{"maxclients": 2}, AuthFailures: 4, Panics: 1, UsedBytes: 1234, Quotas: 4196, MaxMemory: 8192},
		Tenants: []TenantSample{
			{Tenant: "a", Tier: "gold", UsedBytes: 1234, QuotaBytes: 4096, Keys: 7, Hits: 3, Misses: 2, Evictions: 1, Expired: 5,
				ConnectedClients: 2, CommandsOK: 10, CommandsErr: 1, AuthFailures: 6, Refusals: map[string]int64{"rate": 9},
				SLAViolations: 8, InFlight: 1, Latency: h.Snapshot(), HotMemory: true,
				Limits: TenantLimits{QuotaBytes: 4096, RateLimit: 0.5, MaxConcurrent: 7, TimeoutSeconds: 0.2, MaxTTLSeconds: 3600}},
			{Tenant: "b", Tier: "silver", QuotaBytes: 100},
		},
	}
	reg := NewRegistry(func() Snapshot { return snap })
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`tcached_tenant_used_bytes{tenant="a",tier="gold"} 1234`,
		`tcached_tenant_quota_bytes{tenant="a",tier="gold"} 4096`,
		`tcached_tenant_keys{tenant="a",tier="gold"} 7`,
		`tcached_tenant_hits_total{tenant="a",tier="gold"} 3`,
		`tcached_tenant_misses_total{tenant="a",tier="gold"} 2`,
		`tcached_tenant_evictions_total{tenant="a",tier="gold"} 1`,
		`tcached_tenant_expired_keys_total{tenant="a",tier="gold"} 5`,
		`tcached_tenant_connected_clients{tenant="a",tier="gold"} 2`,
		`tcached_tenant_commands_total{outcome="ok",tenant="a",tier="gold"} 10`,
		`tcached_tenant_commands_total{outcome="error",tenant="a",tier="gold"} 1`,
		`tcached_tenant_auth_failures_total{tenant="a",tier="gold"} 6`,
		`tcached_tenant_admission_refusals_total{reason="rate",tenant="a",tier="gold"} 9`,
		`tcached_tenant_admission_refusals_total{reason="shed",tenant="a",tier="gold"} 0`,
		`tcached_tenant_sla_violations_total{tenant="a",tier="gold"} 8`,
		`tcached_tenant_inflight_commands{tenant="a",tier="gold"} 1`,
		`tcached_tenant_hot{resource="memory",tenant="a",tier="gold"} 1`,
		`tcached_tenant_hot{resource="commands",tenant="a",tier="gold"} 0`,
		`tcached_tenant_command_duration_seconds_bucket{tenant="a",tier="gold",le="5e-05"} 1`,
		`tcached_tenant_command_duration_seconds_bucket{tenant="a",tier="gold",le="0.005"} 2`,
		`tcached_tenant_command_duration_seconds_bucket{tenant="a",tier="gold",le="2"} 2`,
		`tcached_tenant_command_duration_seconds_bucket{tenant="a",tier="gold",le="+Inf"} 3`,
		`tcached_tenant_command_duration_seconds_count{tenant="a",tier="gold"} 3`,
		`tcached_tenant_quota_bytes{tenant="b",tier="silver"} 100`,
		`tcached_tenant_limit{kind="quota_bytes",tenant="a",tier="gold"} 4096`,
		`tcached_tenant_limit{kind="rate_limit",tenant="a",tier="gold"} 0.5`,
		`tcached_tenant_limit{kind="max_concurrent",tenant="a",tier="gold"} 7`,
		`tcached_tenant_limit{kind="timeout_seconds",tenant="a",tier="gold"} 0.2`,
		`tcached_tenant_limit{kind="max_ttl_seconds",tenant="a",tier="gold"} 3600`,
		`tcached_tenant_limit{kind="burst",tenant="b",tier="silver"} 0`,
		`tcached_connections 3`,
		`tcached_connections_rejected_total{reason="maxclients"} 2`,
		`tcached_auth_failures_total 4`,
		`tcached_handler_panics_total 1`,
		`tcached_maxmemory_bytes 8192`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	h := NewHistogram([]float64{1, 2, 4})
	for i := 0; i < 100; i++ {
		h.Observe(time.Duration(1500) * time.Millisecond) // all in (1,2]
	}
	s := h.Snapshot()
	if s.Count != 100 || math.Abs(s.Sum-150) > 1e-9 {
		t.Fatalf("count %d sum %v", s.Count, s.Sum)
	}
	if q := s.Quantile(0.5, []float64{1, 2, 4}); math.Abs(q-1.5) > 1e-9 {
		t.Errorf("p50 = %v, want 1.5 (interpolated in (1,2])", q)
	}
	if q := (HistogramSnapshot{}).Quantile(0.99, []float64{1}); q != 0 {
		t.Errorf("empty p99 = %v", q)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewHistogram(LatencyBuckets)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(120 * time.Microsecond)
		}
	})
}

// TestBatch: a Batch's observations reach its histogram only on Flush, in
// the same buckets and sum as direct Observes, and switching histograms
// flushes the first one's.
func TestBatch(t *testing.T) {
	ds := []time.Duration{10 * time.Microsecond, 70 * time.Microsecond, 70 * time.Microsecond, 3 * time.Millisecond, 5 * time.Second}
	direct, batched, other := NewHistogram(LatencyBuckets), NewHistogram(LatencyBuckets), NewHistogram(LatencyBuckets)
	var b Batch
	for _, d := range ds {
		direct.Observe(d)
		b.Observe(batched, d)
	}
	if s := batched.Snapshot(); s.Count != 0 || s.Sum != 0 {
		t.Fatalf("seen before Flush: %+v", s)
	}
	b.Flush()
	b.Flush() // nothing pending: no change
	want, got := direct.Snapshot(), batched.Snapshot()
	if got.Count != 5 || got.Count != want.Count || got.Sum != want.Sum || !maps.Equal(got.Buckets, want.Buckets) {
		t.Fatalf("batched %+v, direct %+v", got, want)
	}
	b.Observe(batched, time.Millisecond)
	b.Observe(other, time.Millisecond) // flushes batched's
	if n := batched.Snapshot().Count; n != 6 {
		t.Fatalf("switching histograms left %d of 6 in the first", n)
	}
	if n := other.Snapshot().Count; n != 0 {
		t.Fatalf("the second saw %d before its flush", n)
	}
	b.Flush()
	if n := other.Snapshot().Count; n != 1 {
		t.Fatalf("the second has %d after its flush", n)
	}
}
