package server

import (
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// blockCmd installs a test-only command that holds its tenant's admission
// ticket until release is closed, so tests can fill in-flight slots.
func blockCmd(srv *testServer) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 16), make(chan struct{})
	srv.table["block"] = &command.Spec{Name: "block", Arity: 1, Handler: withClient(func(c *client, args [][]byte) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		c.conn.WriteString("OK")
	})}
	return entered, release
}

func TestAdmissionConcurrencyCap(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.MaxConcurrent = 1
	srv := startServer(t, cfg, false)
	entered, release := blockCmd(srv)
	a1 := dialAs(t, srv.addr, "alice", "alice-pw")
	a2 := dialAs(t, srv.addr, "aro", "aro-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	a1.send(encode("BLOCK"))
	<-entered
	if got := a2.do("GET", "k"); got != respErr(errBusyTenant) {
		t.Errorf("second in-flight command of a = %v", got)
	}
	if got := b.do("SET", "k", "v"); got != ok {
		t.Errorf("tenant b is not limited by a's cap: %v", got)
	}
	close(release)
	if got := a1.read(); got != ok {
		t.Fatal(got)
	}
	if got := a2.do("GET", "k"); got != nil {
		t.Errorf("after release = %v", got)
	}
	if st := srv.Snapshot().Tenants[0]; st.Refusals["concurrency"] != 1 || st.InFlight != 0 {
		t.Errorf("refusals %v in-flight %d", st.Refusals, st.InFlight)
	}
}

func TestAdmissionRateLimitNeverWritesLate(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.RateLimit = 1 // one command a second
	cfg.Tenants[0].Tier.Burst = 2
	cfg.Tenants[0].Tier.Timeout = 50 * time.Millisecond // a 1s wait would exceed it
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := a.do("SET", "k1", "v"); got != ok {
		t.Fatal(got)
	}
	if got := a.do("SET", "k2", "v"); got != ok {
		t.Fatal(got)
	}
	start := time.Now()
	if got := a.do("SET", "k3", "v"); got != respErr(errRateLimited) {
		t.Fatalf("third SET = %v", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v: it must not wait past the tier timeout", d)
	}
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	if got := b.do("EXISTS", "k3"); got != int64(0) {
		t.Error("b sees k3?")
	}
	st := srv.Snapshot().Tenants[0]
	if st.Refusals["rate"] != 1 || st.Keys != 2 {
		t.Errorf("rate refusals %d, keys %d (the refused SET must not write)", st.Refusals["rate"], st.Keys)
	}
}

func TestAdmissionArgBytes(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.MaxArgBytes = 1024
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := a.do("SET", "big", strings.Repeat("x", 2000)); got != respErr(errArgBytes) {
		t.Fatalf("2000-byte SET = %v", got)
	}
	if got := a.do("EXISTS", "big"); got != int64(0) {
		t.Error("refused SET wrote the key")
	}
	if got := a.do("SET", "small", "x"); got != ok {
		t.Errorf("small SET = %v", got)
	}
}

// TestShedByTierPriority: with the server saturated, silver is shed before
// platinum, and a tenant with shed_reads_as_miss gets misses, not errors,
// for its reads.
func TestShedByTierPriority(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInFlight = 2
	cfg.Tenants[0].TierName, cfg.Tenants[0].Tier.Priority = "platinum", 3
	cfg.Tenants[1].Tier.Priority = 1 // b stays silver
	cfg.Tenants[1].ShedReadsAsMiss = true
	srv := startServer(t, cfg, false)
	entered, release := blockCmd(srv)
	defer close(release)
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "k", "v")
	a1 := dialAs(t, srv.addr, "alice", "alice-pw")
	a1.send(encode("BLOCK"))
	<-entered
	// In flight: 1 of 2. Silver's threshold is 70% of 2 = 1.4: shed now.
	if got := b.do("SET", "k2", "v"); got != respErr(errShed) {
		t.Errorf("silver write under load = %v", got)
	}
	if got := b.do("GET", "k"); got != nil {
		t.Errorf("silver read under load, shed_reads_as_miss = %v, want a miss", got)
	}
	if got := norm(b.do("MGET", "k", "k")); !equalReply(got, []any{nil, nil}) {
		t.Errorf("silver MGET under load = %#v", got)
	}
	// Platinum still runs at 2 of 2.
	a2 := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	if got := a2.do("SET", "p", "v"); got != ok {
		t.Errorf("platinum under load = %v", got)
	}
	st := srv.Snapshot().Tenants[1]
	if st.Refusals["shed"] != 3 {
		t.Errorf("silver shed refusals = %d", st.Refusals["shed"])
	}
}

// TestBlockingWaitIsNotAnSLAViolation: a BLPOP that waits past the tier
// timeout for a push is not counted as late service, and in-flight counts
// return to zero (the blocked command hands its admission ticket back).
func TestBlockingWaitIsNotAnSLAViolation(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.Timeout = 50 * time.Millisecond
	// Service times are measured on admission's clock, which moves only
	// when the test moves it.
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := startServerWith(t, cfg, Options{AdmissionClock: clk})
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	w := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	a.send(encode("BLPOP", "q", "5"))
	srv.waitBlocked(t, "a", 1)
	clk.Add(200 * time.Millisecond) // well past the 50ms tier timeout
	if got := w.do("RPUSH", "q", "x"); got != int64(1) && got != int64(0) {
		t.Fatalf("RPUSH = %v", got)
	}
	if got := norm(a.read()); !equalReply(got, []any{"q", "x"}) {
		t.Fatalf("BLPOP = %#v", got)
	}
	st := srv.Snapshot().Tenants[0]
	if st.SLAViolations != 0 || st.InFlight != 0 {
		t.Errorf("after a served BLPOP: SLA violations %d, in-flight %d", st.SLAViolations, st.InFlight)
	}
}
