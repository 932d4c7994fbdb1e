package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tcached/tcached/metrics"
)

func scrape(t *testing.T, srv *testServer) string {
	t.Helper()
	h := httptest.NewServer(promhttp.HandlerFor(metrics.NewRegistry(srv.Snapshot), promhttp.HandlerOpts{}))
	defer h.Close()
	resp, err := h.Client().Get(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestMetricsAfterWorkload scrapes a real /metrics after a scripted
// workload and checks the values, not just the names.
func TestMetricsAfterWorkload(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	bad := dial(t, srv.addr)
	bad.do("AUTH", "alice", "nope")
	bad.do("AUTH", "alice", "nope")
	bad.do("AUTH", "nobody", "nope")
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "k1", "v")
	a.do("SET", "k2", "v")
	a.do("GET", "k1")
	a.do("GET", "k1")
	a.do("GET", "missing")
	a.do("INCR", "k1") // error: not an integer
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "x", "y")
	body := scrape(t, srv)
	// SET, SET, GET, GET, GET, INCR on a's connection (the AUTH ran before
	// the connection was bound to a, so it counts for no tenant).
	for _, want := range []string{
		`tcached_tenant_commands_total{outcome="ok",tenant="a",tier="gold"} 5`,
		`tcached_tenant_commands_total{outcome="error",tenant="a",tier="gold"} 1`,
		`tcached_tenant_command_duration_seconds_count{tenant="a",tier="gold"} 6`,
		`tcached_tenant_hits_total{tenant="a",tier="gold"} 2`,
		`tcached_tenant_misses_total{tenant="a",tier="gold"} 1`,
		`tcached_tenant_keys{tenant="a",tier="gold"} 2`,
		`tcached_tenant_connected_clients{tenant="a",tier="gold"} 1`,
		`tcached_tenant_auth_failures_total{tenant="a",tier="gold"} 2`,
		`tcached_tenant_auth_failures_total{tenant="b",tier="silver"} 0`,
		`tcached_tenant_keys{tenant="b",tier="silver"} 1`,
		`tcached_auth_failures_total 3`,
		`tcached_connections 3`,
		`tcached_tenant_quota_bytes{tenant="a",tier="gold"} 8.388608e+06`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	used := srv.Stats()[0].UsedBytes
	if !strings.Contains(body, "tcached_tenant_used_bytes{tenant=\"a\",tier=\"gold\"} "+itoa(used)+"\n") {
		t.Errorf("used bytes %d not in scrape", used)
	}
}

func TestHotTenant(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants = append(cfg.Tenants, testTenant("c", "silver", 8<<20, testUser("carol", "carol-pw", 2)))
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	c := dialAs(t, srv.addr, "carol", "carol-pw")
	srv.evaluateHot() // baseline for command rates
	// Alone with 85 bytes, a holds 100% of the used memory but is far
	// below the floor (1% of maxmemory): not hot.
	a.do("SET", "tiny", "v")
	srv.evaluateHot()
	if st := srv.Snapshot(); st.Tenants[0].HotMemory {
		t.Errorf("a flagged hot for %d bytes of %d", st.Tenants[0].UsedBytes, st.Server.MaxMemory)
	}
	for i := 0; i < 50; i++ {
		a.do("SET", "k"+itoa(int64(i)), strings.Repeat("v", 16000)) // 800 KB: above 1% of 64 MiB
	}
	b.do("SET", "k", "v")
	c.do("SET", "k", "v")
	srv.evaluateHot()
	st := srv.Snapshot()
	if !st.Tenants[0].HotMemory || !st.Tenants[0].HotCommands {
		t.Errorf("a not flagged hot: %+v", st.Tenants[0])
	}
	for _, o := range st.Tenants[1:] {
		if o.HotMemory || o.HotCommands {
			t.Errorf("%s flagged hot", o.Tenant)
		}
	}
	// Operators see the flags; the tenant's own INFO does not (it would let
	// a tenant measure its neighbours).
	op := dialAs(t, srv.addr, "ops", "ops-pw")
	if info := string(op.do("TENANT", "INFO", "a").([]byte)); !strings.Contains(info, "tenant_hot_memory:1\r\n") || !strings.Contains(info, "tenant_hot_commands:1\r\n") {
		t.Errorf("TENANT INFO a = %q", info)
	}
	if info := string(a.do("INFO", "tenant").([]byte)); strings.Contains(info, "tenant_hot") {
		t.Errorf("a's own INFO shows hot flags: %q", info)
	}
	// Next interval: only b works, so a cools down on commands.
	for i := 0; i < 20; i++ {
		b.do("GET", "k")
	}
	srv.evaluateHot()
	st = srv.Snapshot()
	if st.Tenants[0].HotCommands || !st.Tenants[1].HotCommands {
		t.Errorf("commands flags after b's burst: a=%v b=%v", st.Tenants[0].HotCommands, st.Tenants[1].HotCommands)
	}
}
