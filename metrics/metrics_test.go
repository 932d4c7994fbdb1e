package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestScrapeReportsSnapshotValues(t *testing.T) {
	snap := []TenantSample{
		{Tenant: "a", Tier: "gold", UsedBytes: 1234, QuotaBytes: 4096, Keys: 7, Hits: 3, Misses: 2, Evictions: 1, Expired: 5, ConnectedConns: 2},
		{Tenant: "b", Tier: "silver", QuotaBytes: 100},
	}
	reg := NewRegistry(func() []TenantSample { return snap })
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	body := b.String()
	for _, want := range []string{
		`tcached_tenant_used_bytes{tenant="a",tier="gold"} 1234`,
		`tcached_tenant_quota_bytes{tenant="a",tier="gold"} 4096`,
		`tcached_tenant_keys{tenant="a",tier="gold"} 7`,
		`tcached_tenant_hits_total{tenant="a",tier="gold"} 3`,
		`tcached_tenant_misses_total{tenant="a",tier="gold"} 2`,
		`tcached_tenant_evictions_total{tenant="a",tier="gold"} 1`,
		`tcached_tenant_expired_keys_total{tenant="a",tier="gold"} 5`,
		`tcached_tenant_connected_clients{tenant="a",tier="gold"} 2`,
		`tcached_tenant_quota_bytes{tenant="b",tier="silver"} 100`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
