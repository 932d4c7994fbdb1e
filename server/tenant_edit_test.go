package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

const editConfigYAML = `# tcached under test: tenants change at runtime
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 512MiB
auth_max_failures: 0
tenants:
  # the first tenant
  - id: a
    tier: gold
    quota: 8MiB
    users: [{name: alice, password: alice-pw}, {name: aadmin, password: aadmin-pw, role: admin}]
operators:
  - {name: ops, password: ops-pw}
`

// startFromFile serves the config file at path as cmd/tcached does:
// reloads and the runtime tenant commands read and rewrite that file.
func startFromFile(t *testing.T, body string) (*testServer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tcached.yaml")
	if err := os.WriteFile(path, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerWith(t, cfg, Options{
		Reload:     func() (*config.Config, []string, error) { return config.Load(path) },
		ConfigPath: path,
	})
	return ts, path
}

func TestTenantRuntimeCommands(t *testing.T) {
	ts, path := startFromFile(t, editConfigYAML)
	op := dialAs(t, ts.addr, "ops", "ops-pw")
	ok := func(args ...string) {
		t.Helper()
		if r := op.do(args...); r != status("OK") {
			t.Fatalf("%q: %v", args, r)
		}
	}
	refused := func(want string, args ...string) {
		t.Helper()
		before, _ := os.ReadFile(path)
		r, isErr := op.do(args...).(respErr)
		if !isErr || !strings.Contains(string(r), want) {
			t.Errorf("%q: %v, want an error with %q", args, r, want)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("%q was refused, yet the file changed", args)
		}
	}

	ok("TENANT", "CREATE", "c", "silver", "4MiB", "USER", "carol", "carol-pw")
	carol := dialAs(t, ts.addr, "carol", "carol-pw")
	if r := carol.do("SET", "k", "v"); r != status("OK") {
		t.Fatalf("carol SET: %v", r)
	}
	file, _ := os.ReadFile(path)
	for _, want := range []string{"# tcached under test", "# the first tenant", "id: c", config.HexSHA256("carol-pw")} {
		if !strings.Contains(string(file), want) {
			t.Errorf("the rewritten file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(string(file), "carol-pw") {
		t.Error("carol's password was written in plain text")
	}
	if _, _, err := config.Load(path); err != nil {
		t.Fatalf("the rewritten file does not load: %v", err)
	}

	refused(`duplicate tenant id "c"`, "TENANT", "CREATE", "c", "gold", "1MiB", "USER", "x", "x-pw")
	refused("exceeds maxmemory", "TENANT", "CREATE", "big", "gold", "1GiB", "USER", "x", "x-pw")
	refused("no users; only default_tenant may have none", "TENANT", "CREATE", "lonely", "gold", "1MiB")
	refused(`unknown tier "bronze"`, "TENANT", "CREATE", "x", "bronze", "1MiB", "USER", "x", "x-pw")
	refused("ERR syntax error", "TENANT", "CREATE", "x", "gold", "1MiB", "USR", "x", "x-pw")
	refused("ERR tenant change rejected, nothing changed: "+path+":", "TENANT", "CREATE", "x", "gold", "1MiB", "USER", "carol", "other-pw")

	ok("TENANT", "USER", "ADD", "c", "cro", "cro-pw", "readonly")
	cro := dialAs(t, ts.addr, "cro", "cro-pw")
	if r, isErr := cro.do("SET", "k", "w").(respErr); !isErr || !strings.HasPrefix(string(r), "NOPERM") {
		t.Errorf("readonly user wrote: %v", r)
	}
	if r := cro.do("GET", "k"); string(r.([]byte)) != "v" {
		t.Errorf("cro GET k = %v", r)
	}
	refused("same password as", "TENANT", "USER", "ADD", "c", "eve", "carol-pw")
	refused("ERR syntax error", "TENANT", "USER", "ADD", "c", "eve", "eve-pw", "superuser")

	ok("TENANT", "SET", "c", "quota", "2MiB")
	ok("TENANT", "SET", "c", "max_ttl", "3600")
	refused("default_ttl 15m0s is longer than max_ttl 1m0s", "TENANT", "SET", "c", "max_ttl", "60")
	if info := string(carol.do("INFO", "tenant").([]byte)); !strings.Contains(info, "tenant_quota_bytes:2097152") || !strings.Contains(info, "tenant_max_ttl_seconds:3600") {
		t.Errorf("TENANT SET not applied:\n%s", info)
	}
	refused(`invalid size "12XB"`, "TENANT", "SET", "c", "quota", "12XB")
	refused("colour: unknown key", "TENANT", "SET", "c", "colour", "red")
	refused(`no tenant with id "zz"`, "TENANT", "SET", "zz", "quota", "1MiB")

	// A reload reads the file: nothing is lost.
	ok("TENANT", "RELOAD")
	if r := carol.do("GET", "k"); string(r.([]byte)) != "v" {
		t.Errorf("after TENANT RELOAD carol GET k = %v", r)
	}

	ok("TENANT", "USER", "DEL", "c", "cro")
	// Its open connection is closed, as a reload that drops a user does.
	cro.c.SetDeadline(time.Now().Add(5 * time.Second))
	cro.c.Write(encode("PING"))
	if r, err := readReply(cro.rd); err == nil {
		t.Errorf("cro's connection answered %v after its user was removed", r)
	}
	if r, isErr := dial(t, ts.addr).do("AUTH", "cro", "cro-pw").(respErr); !isErr || !strings.HasPrefix(string(r), "WRONGPASS") {
		t.Errorf("AUTH of a removed user: %v", r)
	}
	ok("TENANT", "DELETE", "c")
	if r, isErr := dial(t, ts.addr).do("AUTH", "carol", "carol-pw").(respErr); !isErr || !strings.HasPrefix(string(r), "WRONGPASS") {
		t.Errorf("AUTH of a deleted tenant's user: %v", r)
	}
	if _, ok := ts.reg.Load().tenants["c"]; ok {
		t.Error("tenant c still served")
	}
	refused("no tenants configured", "TENANT", "DELETE", "a")

	// Tenants cannot change tenants, not even their own, not even their
	// admin users; nor can a script.
	before, _ := os.ReadFile(path)
	for _, user := range []string{"alice", "aadmin"} {
		u := dialAs(t, ts.addr, user, user+"-pw")
		for _, args := range [][]string{
			{"TENANT", "CREATE", "d", "gold", "1MiB", "USER", "d", "d-pw"},
			{"TENANT", "SET", "a", "quota", "500MiB"},
			{"TENANT", "DELETE", "a"},
			{"TENANT", "USER", "ADD", "a", "mallory", "m-pw", "admin"},
			{"TENANT", "USER", "DEL", "a", "alice"},
		} {
			want := respErr(command.ErrNoPerm("tenant|" + strings.ToLower(args[1])))
			if r := u.do(args...); r != want {
				t.Errorf("%s ran %q: %v", user, args, r)
			}
		}
		if r, isErr := u.do("EVAL", "return redis.call('TENANT', 'DELETE', 'a')", "0").(respErr); !isErr {
			t.Errorf("%s: TENANT DELETE from a script: %v", user, r)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a tenant's user changed the config file")
	}
}

// TestTenantRuntimeCommandsNeedAFile: a server built from a Config in
// code has no file to rewrite, and says so.
func TestTenantRuntimeCommandsNeedAFile(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	op := dialAs(t, ts.addr, "ops", "ops-pw")
	if r, isErr := op.do("TENANT", "DELETE", "b").(respErr); !isErr || string(r) != errTenantChange+errNoConfigFile.Error() {
		t.Errorf("TENANT DELETE without a file: %v", r)
	}
	if _, ok := ts.reg.Load().tenants["b"]; !ok {
		t.Error("tenant b was removed")
	}
}

// TestTenantRuntimeHTTP: the admin API's equivalents of the TENANT
// commands, with an operator token, rewrite the file the same way.
func TestTenantRuntimeHTTP(t *testing.T) {
	body := strings.Replace(editConfigYAML, "{name: ops, password: ops-pw}", "{name: ops, password: ops-pw, token: ops-token}", 1)
	ts, path := startFromFile(t, body)
	h := httptest.NewServer(ts.AdminHandler())
	defer h.Close()
	call := func(method, url, body string, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, h.URL+url, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := h.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		method, url, body string
		code              int
		want              string
	}{
		{"POST", "/tenants", `{"id": "h", "tier": "silver", "quota": "4MiB", "user": {"name": "hal", "password": "hal-pw"}}`, 200, `"ok": true`},
		{"POST", "/tenants", `{"id": "h", "tier": "silver", "quota": "4MiB", "user": {"name": "x", "password": "x-pw"}}`, 400, `duplicate tenant id \"h\"`},
		{"POST", "/tenants", `{"id": "j", "tier": "silver", "quota": "4MiB", "colour": "red"}`, 400, `unknown field \"colour\"`},
		{"PUT", "/tenants/h/config/rate_limit", `{"value": "100"}`, 200, `"ok": true`},
		{"PUT", "/tenants/h/config/quota", `{"value": "12XB"}`, 400, `invalid size \"12XB\"`},
		{"POST", "/tenants/h/users", `{"name": "hro", "password": "hro-pw", "role": "readonly"}`, 200, `"ok": true`},
		{"POST", "/tenants/h/users", `{"name": "hx", "password": "hx-pw", "role": "root"}`, 400, `invalid role \"root\"`},
		{"DELETE", "/tenants/h/users/hro", "", 200, `"ok": true`},
	} {
		code, got := call(c.method, c.url, c.body, "ops-token")
		if code != c.code || !strings.Contains(got, c.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %s", c.method, c.url, c.body, code, got, c.code, c.want)
		}
	}
	if code, _ := call("DELETE", "/tenants/h", "", ""); code != http.StatusUnauthorized {
		t.Errorf("DELETE without a token: %d", code)
	}
	cfg, _, err := config.Load(path)
	if err != nil || len(cfg.Tenants) != 2 || cfg.Tenants[1].Tier.RateLimit != 100 || len(cfg.Tenants[1].Users) != 1 {
		t.Fatalf("the file after the HTTP calls: %v %+v", err, cfg)
	}
	dialAs(t, ts.addr, "hal", "hal-pw")
	if code, got := call("DELETE", "/tenants/h", "", "ops-token"); code != 200 {
		t.Errorf("DELETE /tenants/h: %d %s", code, got)
	}
	if _, ok := ts.reg.Load().tenants["h"]; ok {
		t.Error("tenant h still served")
	}
}
