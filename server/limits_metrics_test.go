package server

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTenantLimitMetrics: tcached_tenant_limit exports each tenant's
// limits as configured (tier and tenant overrides), and follows a reload
// and TENANT QUOTA.
func TestTenantLimitMetrics(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.RateLimit = 250
	cfg.Tenants[0].Tier.MaxTTL = 2 * time.Hour
	srv := startServer(t, cfg, false)
	body := scrape(t, srv)
	for _, want := range []string{
		`tcached_tenant_limit{kind="quota_bytes",tenant="a",tier="gold"} 8.388608e+06`,
		`tcached_tenant_limit{kind="rate_limit",tenant="a",tier="gold"} 250`,
		`tcached_tenant_limit{kind="rate_limit",tenant="b",tier="silver"} 0`,
		`tcached_tenant_limit{kind="max_concurrent",tenant="a",tier="gold"} 500`,
		`tcached_tenant_limit{kind="max_connections",tenant="b",tier="silver"} 500`,
		`tcached_tenant_limit{kind="max_arg_bytes",tenant="a",tier="gold"} 1.34217728e+08`,
		`tcached_tenant_limit{kind="timeout_seconds",tenant="a",tier="gold"} 0.5`,
		`tcached_tenant_limit{kind="timeout_seconds",tenant="b",tier="silver"} 1`,
		`tcached_tenant_limit{kind="default_ttl_seconds",tenant="a",tier="gold"} 1800`,
		`tcached_tenant_limit{kind="max_ttl_seconds",tenant="a",tier="gold"} 7200`,
		`tcached_tenant_limit{kind="max_ttl_seconds",tenant="b",tier="silver"} 0`,
		`tcached_tenant_limit{kind="weight",tenant="a",tier="gold"} 2`,
		`tcached_tenant_limit{kind="client_memory_bytes",tenant="a",tier="gold"} 8.388608e+06`,
		`tcached_tenant_limit{kind="l2_quota_bytes",tenant="a",tier="gold"} 1.073741824e+09`,
		`tcached_tenant_limit{kind="burst",tenant="a",tier="gold"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	next := testConfig()
	next.Tenants[1].Tier.Timeout = 300 * time.Millisecond
	if err := srv.Reload(next); err != nil {
		t.Fatal(err)
	}
	op := dialAs(t, srv.addr, "ops", "ops-pw")
	if r := op.do("TENANT", "QUOTA", "a", "4MiB"); r != status("OK") {
		t.Fatalf("TENANT QUOTA: %v", r)
	}
	body = scrape(t, srv)
	for _, want := range []string{
		`tcached_tenant_limit{kind="timeout_seconds",tenant="b",tier="silver"} 0.3`,
		`tcached_tenant_limit{kind="rate_limit",tenant="a",tier="gold"} 0`,
		`tcached_tenant_limit{kind="quota_bytes",tenant="a",tier="gold"} 4.194304e+06`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("after reload and TENANT QUOTA, scrape lacks %s", want)
		}
	}
}

// seriesCounts counts the series of a scrape: those of tenant a, and the
// tcached_ series of no tenant.
func seriesCounts(body string) (perTenant, server int) {
	for _, line := range strings.Split(body, "\n") {
		switch {
		case line == "" || line[0] == '#':
		case strings.Contains(line, `tenant="a"`):
			perTenant++
		case strings.HasPrefix(line, "tcached_") && !strings.Contains(line, "tenant="):
			server++
		}
	}
	return perTenant, server
}

// TestMetricsSeriesCountDocumented counts the series one tenant adds to a
// scrape (embedded store, no backing) and the server-wide tcached_ series,
// and checks that README.md, deploy/README.md and the metrics package doc
// state those numbers, so the cardinality budget operators plan with is
// the one the code has.
func TestMetricsSeriesCountDocumented(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	perTenant, server := seriesCounts(scrape(t, srv))
	if perTenant < 40 || server < 10 {
		t.Fatalf("counted %d series per tenant, %d server-wide: is the count broken?", perTenant, server)
	}
	t.Logf("%d series per tenant, %d tcached_ series server-wide", perTenant, server)
	docs := map[string]*regexp.Regexp{
		"../README.md":          regexp.MustCompile(`(\d+) series per tenant`),
		"../deploy/README.md":   regexp.MustCompile(`(\d+) series per tenant`),
		"../metrics/metrics.go": regexp.MustCompile(`(\d+) series per tenant`),
	}
	for path, re := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ms := re.FindAllSubmatch(b, -1)
		if len(ms) == 0 {
			t.Errorf("%s does not say how many series per tenant", path)
		}
		for _, m := range ms {
			if n, _ := strconv.Atoi(string(m[1])); n != perTenant {
				t.Errorf("%s says %d series per tenant, a scrape has %d", path, n, perTenant)
			}
		}
		srvRe := regexp.MustCompile(`(\d+) server-wide tcached_ series`)
		for _, m := range srvRe.FindAllSubmatch(b, -1) {
			if n, _ := strconv.Atoi(string(m[1])); n != server {
				t.Errorf("%s says %d server-wide tcached_ series, a scrape has %d", path, n, server)
			}
		}
	}
}
