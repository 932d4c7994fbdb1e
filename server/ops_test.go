package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

func TestOperatorTenantCommands(t *testing.T) {
	var auditBuf syncBuffer
	srv := startServerWith(t, testConfig(), Options{Audit: slog.New(slog.NewJSONHandler(&auditBuf, nil))})
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	for i := 0; i < 100; i++ {
		a.do("SET", "k"+itoa(int64(i)), strings.Repeat("v", 1000))
	}
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "bkey", "secret-b-value")
	op := dialAs(t, srv.addr, "ops", "ops-pw")

	// Operators are bound to no tenant.
	if got := op.do("GET", "k1"); got != respErr(errOperatorNoTenant) {
		t.Errorf("operator GET = %v", got)
	}
	if got := op.do("PING"); got != status("PONG") {
		t.Errorf("operator PING = %v", got)
	}
	list := norm(op.do("TENANT", "LIST")).([]any)
	if len(list) != 2 || !strings.HasPrefix(list[0].(string), "a tier=gold ") || !strings.Contains(list[0].(string), " keys=100 ") {
		t.Errorf("TENANT LIST = %q", list)
	}
	info := string(op.do("TENANT", "INFO", "a").([]byte))
	for _, want := range []string{"# Memory\r\n", "maxmemory:8388608\r\n", "db0:keys=100,", "tenant_id:a\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("TENANT INFO a lacks %q", want)
		}
	}
	if got := op.do("TENANT", "INFO", "nope"); got != respErr("ERR no such tenant 'nope'") {
		t.Errorf("TENANT INFO nope = %v", got)
	}
	opInfo := string(op.do("INFO").([]byte))
	if !strings.Contains(opInfo, "# Tenants\r\ntenants:2\r\n") || !strings.Contains(opInfo, "tenant_a:tier=gold") {
		t.Errorf("operator INFO = %q", opInfo)
	}
	// A tenant's admin may read its own tenant only; other TENANT commands
	// are the operators'.
	if got := a.do("TENANT", "INFO", "a"); got == nil || strings.HasPrefix(string(got.([]byte)), "-") {
		t.Errorf("a's admin TENANT INFO a = %v", got)
	}
	for _, args := range [][]string{{"TENANT", "INFO", "b"}, {"TENANT", "LIST"}, {"TENANT", "FLUSH", "b"}, {"TENANT", "QUOTA", "b", "1"}, {"TENANT", "RELOAD"}} {
		want := respErr(command.ErrNoPerm("tenant|" + strings.ToLower(args[1])))
		if got := a.do(args...); got != want {
			t.Errorf("tenant admin %q = %v, want %v", args, got, want)
		}
	}
	if got := dialAs(t, srv.addr, "alice", "alice-pw").do("TENANT", "INFO", "a"); got != respErr(command.ErrNoPerm("tenant|info")) {
		t.Errorf("readwrite user TENANT INFO = %v", got)
	}
	// QUOTA: shrinking evicts a's LRU keys only; over maxmemory is refused.
	if got := op.do("TENANT", "QUOTA", "a", "64KiB"); got != ok {
		t.Fatalf("TENANT QUOTA = %v", got)
	}
	st := srv.Stats()
	if st[0].UsedBytes > 64<<10 || st[0].Evictions == 0 || st[0].Quota != 64<<10 {
		t.Errorf("a after shrink: %+v", st[0])
	}
	if got := norm(b.do("GET", "bkey")); got != "secret-b-value" {
		t.Errorf("b after a's shrink: %v", got)
	}
	if got := op.do("TENANT", "QUOTA", "a", "1GiB"); got == nil || !strings.Contains(string(got.(respErr)), "over maxmemory") {
		t.Errorf("QUOTA over maxmemory = %v", got)
	}
	if got := op.do("TENANT", "QUOTA", "a", "lots"); got == nil || !strings.HasPrefix(string(got.(respErr)), "ERR invalid quota") {
		t.Errorf("QUOTA lots = %v", got)
	}
	// FLUSH empties one tenant.
	if got := op.do("TENANT", "FLUSH", "a"); got != ok {
		t.Fatal(got)
	}
	if got := a.do("DBSIZE"); got != int64(0) {
		t.Errorf("a DBSIZE after TENANT FLUSH = %v", got)
	}
	if got := b.do("DBSIZE"); got != int64(1) {
		t.Errorf("b DBSIZE after TENANT FLUSH a = %v", got)
	}
	if got := op.do("TENANT", "RELOAD"); got == nil || !strings.Contains(string(got.(respErr)), "no config source") {
		t.Errorf("RELOAD without a source = %v", got)
	}
	// The audit log names who did what, and never a value or a password.
	b.do("FLUSHALL")
	dialAs(t, srv.addr, "bob", "bob-pw").do("AUTH", "bob", "wrong-password")
	log := auditBuf.String()
	for _, want := range []string{`"event":"auth"`, `"result":"success"`, `"result":"failure"`, `"command":"tenant|flush"`,
		`"command":"tenant|quota"`, `"command":"flushall"`, `"user":"ops"`, `"tenant":"b"`, `"result":"refused"`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	for _, secret := range []string{"secret-b-value", "ops-pw", "bob-pw", "wrong-password", "vvvv"} {
		if strings.Contains(log, secret) {
			t.Errorf("audit log contains %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["time"] == nil {
			t.Errorf("audit line is not JSON with a time: %q", line)
		}
	}
}

// TestReloadUnderLoad: add, remove and change tenants while others work;
// their keys and connections are untouched; an invalid reload changes
// nothing.
func TestReloadUnderLoad(t *testing.T) {
	cfg := testConfig()
	var next atomic.Pointer[config.Config]
	var loadErr atomic.Pointer[error]
	srv := startServerWith(t, cfg, Options{Reload: func() (*config.Config, []string, error) {
		if e := loadErr.Load(); e != nil {
			return nil, nil, *e
		}
		return next.Load(), nil, nil
	}})
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "ak", "av")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	for i := 0; i < 50; i++ {
		b.do("SET", "bk"+itoa(int64(i)), "bv")
	}
	op := dialAs(t, srv.addr, "ops", "ops-pw")

	// b keeps working on its own connection during every reload.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bErrs atomic.Int64
	var bOps atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := dialAs(t, srv.addr, "bob", "bob-pw")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if got := r.do("GET", "bk1"); got == nil || string(got.([]byte)) != "bv" {
				bErrs.Add(1)
			}
			bOps.Add(1)
		}
	}()

	waitOps := func(n int64) {
		deadline := time.Now().Add(5 * time.Second)
		for bOps.Load() < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	waitOps(200) // the load is running before the first reload
	// 1. Invalid config: rejected as a whole.
	bad := errors.New("test.yaml:3: tenants[0].quota: invalid size")
	loadErr.Store(&bad)
	if got := op.do("TENANT", "RELOAD"); got == nil || !strings.Contains(string(got.(respErr)), "old config keeps serving") {
		t.Fatalf("invalid reload = %v", got)
	}
	loadErr.Store(nil)
	if got := norm(a.do("GET", "ak")); got != "av" {
		t.Fatalf("a after invalid reload: %v", got)
	}

	// 2. Remove a, add c, change b (quota, tier TTL) and b's password.
	nc := testConfig()
	nc.Tenants = []config.Tenant{nc.Tenants[1], testTenant("c", "platinum", 8<<20, testUser("carol", "carol-pw", config.RoleReadWrite))}
	nc.Tenants[0].Quota = 4 << 20
	nc.Tenants[0].Eviction = config.NoEviction
	nc.Tenants[0].Tier.DefaultTTL = 42 * time.Second
	nc.Tenants[0].Users = append(nc.Tenants[0].Users, testUser("bob2", "bob2-pw", config.RoleReadOnly))
	next.Store(nc)
	if got := op.do("TENANT", "RELOAD"); got != ok {
		t.Fatalf("reload = %v", got)
	}
	// a's connection is closed and a's data gone; alice can no longer AUTH.
	a.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.rd.ReadByte(); err == nil {
		t.Error("removed tenant's connection still open")
	}
	if got := dial(t, srv.addr).do("AUTH", "alice", "alice-pw"); got != respErr(errWrongPass) {
		t.Errorf("removed tenant's user AUTH = %v", got)
	}
	// b: same connection, same keys, new quota and TTL default.
	if got := b.do("DBSIZE"); got != int64(50) {
		t.Errorf("b DBSIZE after reload = %v", got)
	}
	b.do("SET", "new", "x")
	if got := b.do("TTL", "new"); got != int64(42) {
		t.Errorf("b's new default TTL = %v", got)
	}
	if got := srv.Stats()[0]; got.ID != "b" || got.Quota != 4<<20 {
		t.Errorf("b after reload: %+v", got)
	}
	if got := norm(b.do("CONFIG", "GET", "maxmemory-policy")); !equalReply(got, []any{"maxmemory-policy", "noeviction"}) {
		t.Errorf("b's eviction policy after reload = %#v", got)
	}
	if got := dialAs(t, srv.addr, "bob2", "bob2-pw").do("SET", "x", "y"); got != respErr(command.ErrNoPerm("set")) {
		t.Errorf("new readonly user bob2 = %v", got)
	}
	c := dialAs(t, srv.addr, "carol", "carol-pw")
	if got := c.do("SET", "ck", "cv"); got != ok {
		t.Errorf("new tenant c = %v", got)
	}
	if got := c.do("TTL", "ck"); got != int64(3600) {
		t.Errorf("c platinum TTL = %v", got)
	}
	waitOps(bOps.Load() + 200) // and keeps running after the last
	close(stop)
	wg.Wait()
	if bErrs.Load() != 0 {
		t.Errorf("b saw %d bad replies of %d during reloads", bErrs.Load(), bOps.Load())
	}
	t.Logf("b served %d GETs during the reloads without an error", bOps.Load())
}

func TestAdminHTTP(t *testing.T) {
	var auditBuf syncBuffer
	srv := startServerWith(t, testConfig(), Options{Audit: slog.New(slog.NewJSONHandler(&auditBuf, nil))})
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "k", "v")
	h := httptest.NewServer(srv.AdminHandler())
	defer h.Close()
	call := func(method, path, token string) (int, string) {
		req, _ := http.NewRequest(method, h.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := h.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := call("GET", "/tenants", ""); code != http.StatusUnauthorized {
		t.Errorf("no token = %d", code)
	}
	if code, _ := call("GET", "/tenants", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token = %d", code)
	}
	code, body := call("GET", "/tenants", "ops-token")
	var all []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &all) != nil || len(all) != 2 || all[1]["id"] != "b" || all[1]["keys"] != float64(1) {
		t.Errorf("GET /tenants = %d %s", code, body)
	}
	if code, body := call("GET", "/tenants/b", "ops-token"); code != 200 || !strings.Contains(body, `"quota_bytes": 8388608`) {
		t.Errorf("GET /tenants/b = %d %s", code, body)
	}
	if code, _ := call("GET", "/tenants/zz", "ops-token"); code != 404 {
		t.Errorf("GET /tenants/zz = %d", code)
	}
	if code, _ := call("GET", "/tenants/b/invalidate", "ops-token"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET invalidate = %d", code)
	}
	if code, body := call("POST", "/tenants/b/invalidate", "ops-token"); code != 200 || !strings.Contains(body, `"keys_removed": 1`) {
		t.Errorf("POST invalidate = %d %s", code, body)
	}
	if got := b.do("DBSIZE"); got != int64(0) {
		t.Errorf("b after invalidate = %v", got)
	}
	log := auditBuf.String()
	if !strings.Contains(log, `"command":"POST /tenants/{id}/invalidate"`) || !strings.Contains(log, `"user":"ops"`) || !strings.Contains(log, `"result":"unauthorized"`) {
		t.Errorf("audit = %s", log)
	}
	if strings.Contains(log, "ops-token") {
		t.Error("audit log contains the token")
	}
}

// TestCLIOperatorAndTenant: redis-cli sessions as an operator and as a
// tenant: INFO, TENANT commands, --bigkeys.
func TestCLIOperatorAndTenant(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	tenant := cliFor(t, srv, "aadmin", "aadmin-pw")
	tenant("", "SET", "big:one", strings.Repeat("x", 5000))
	tenant("", "SET", "small", "y")
	opcli := cliFor(t, srv, "ops", "ops-pw")
	if r := opcli("", "TENANT", "LIST"); r.code != 0 || !strings.Contains(r.stdout, "a tier=gold") || !strings.Contains(r.stdout, "b tier=silver") {
		t.Errorf("redis-cli TENANT LIST = %+v", r)
	}
	if r := opcli("", "TENANT", "INFO", "a"); !strings.Contains(r.stdout, "db0:keys=2,") {
		t.Errorf("redis-cli TENANT INFO a = %+v", r)
	}
	if r := opcli("", "INFO"); !strings.Contains(r.stdout, "# Tenants") {
		t.Errorf("redis-cli operator INFO = %+v", r)
	}
	if r := tenant("", "INFO", "tenant"); !strings.Contains(r.stdout, "tenant_id:a") {
		t.Errorf("redis-cli tenant INFO = %+v", r)
	}
	if r := tenant("", "TENANT", "INFO", "a"); !strings.Contains(r.stdout, "tenant_id:a") {
		t.Errorf("redis-cli tenant admin TENANT INFO a = %+v", r)
	}
	if r := tenant("", "--bigkeys"); r.code != 0 || !strings.Contains(r.stdout, "big:one") {
		t.Errorf("redis-cli --bigkeys as tenant = %+v", r)
	}
	if r := opcli("", "--bigkeys"); !strings.Contains(r.stdout+r.stderr, "operator connections are bound to no tenant") {
		t.Logf("redis-cli --bigkeys as operator: %+v", r)
	}
}
