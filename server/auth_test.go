package server

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/shard"
)

func entryOverheadForTest() int { return shard.EntryOverhead }

func TestAuth(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dial(t, srv.addr)
	for _, args := range [][]string{
		{"AUTH", "alice", "wrong"}, {"AUTH", "nobody", "alice-pw"}, {"AUTH", "wrong"},
		{"AUTH", "default", "wrong"}, {"AUTH", "bob", "alice-pw"}, {"AUTH", "", ""},
	} {
		if got := r.do(args...); got != respErr(errWrongPass) {
			t.Errorf("%q = %v", args, got)
		}
	}
	if got := r.do("AUTH", "a", "b", "c"); got != respErr(command.ErrSyntax) {
		t.Errorf("AUTH 3 args = %v", got)
	}
	if got := r.do("GET", "k"); got != respErr(errNoAuth) {
		t.Errorf("still unauthenticated: %v", got)
	}
	// Password-only AUTH resolves the user whose password it is.
	if got := r.do("AUTH", "alice-pw"); got != ok {
		t.Fatalf("AUTH pass = %v", got)
	}
	r.do("SET", "who", "a")
	if got := r.do("AUTH", "default", "bob-pw"); got != ok {
		t.Fatalf("AUTH default pass = %v", got)
	}
	if got := r.do("GET", "who"); got != nil {
		t.Errorf("rebound to b but sees a's key: %v", got)
	}
	r.do("SET", "who", "b")
	// A failed AUTH keeps the binding (still tenant b).
	if got := r.do("AUTH", "alice", "nope"); got != respErr(errWrongPass) {
		t.Fatal(got)
	}
	if got := norm(r.do("GET", "who")); got != "b" {
		t.Errorf("after failed re-AUTH: %v", got)
	}
	if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatal(got)
	}
	if got := norm(r.do("GET", "who")); got != "a" {
		t.Errorf("after re-AUTH to a: %v", got)
	}
	// RESET unbinds.
	if got := r.do("RESET"); got != status("RESET") {
		t.Errorf("RESET = %v", got)
	}
	if got := r.do("GET", "who"); got != respErr(errNoAuth) {
		t.Errorf("after RESET = %v", got)
	}
	if got := r.do("QUIT"); got != ok {
		t.Errorf("QUIT = %v", got)
	}
}

func TestHello(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dial(t, srv.addr)
	if got := r.do("HELLO"); got != respErr(errHelloNoAuth) {
		t.Errorf("HELLO unauth = %v", got)
	}
	if got := r.do("HELLO", "3", "AUTH", "alice", "bad"); got != respErr(errWrongPass) {
		t.Errorf("HELLO 3 bad auth = %v", got)
	}
	// A failed HELLO 3 neither authenticates nor switches to RESP3.
	if got := r.do("GET", "k"); got != respErr(errNoAuth) {
		t.Errorf("failed HELLO 3 must not authenticate: %v", got)
	}
	if got := r.do("HELLO", "3"); got != respErr(errHelloNoAuth) {
		t.Errorf("HELLO 3 unauth = %v", got)
	}
	if got := r.do("HELLO", "x"); got != respErr(errProtoVersion) {
		t.Errorf("HELLO x = %v", got)
	}
	if got := r.do("HELLO", "4"); got != respErr(errNoProto) {
		t.Errorf("HELLO 4 = %v", got)
	}
	if got := r.do("HELLO", "2", "AUTH", "alice", "bad"); got != respErr(errWrongPass) {
		t.Errorf("HELLO bad auth = %v", got)
	}
	if got := r.do("HELLO", "2", "FOO"); got != respErr("ERR Syntax error in HELLO option 'FOO'") {
		t.Errorf("HELLO option = %v", got)
	}
	got := norm(r.do("HELLO", "2", "AUTH", "alice", "alice-pw", "SETNAME", "myconn"))
	arr, _ := got.([]any)
	if len(arr) != 14 || arr[0] != "server" || arr[4] != "proto" || arr[5] != int64(2) || arr[13] == nil {
		t.Fatalf("HELLO 2 = %#v", got)
	}
	if got := norm(r.do("CLIENT", "GETNAME")); got != "myconn" {
		t.Errorf("SETNAME via HELLO: %v", got)
	}
	if got := r.do("CLIENT", "SETNAME", "has space"); got != respErr(errClientName) {
		t.Errorf("bad name = %v", got)
	}
	if got := r.do("CLIENT", "SETINFO", "LIB-NAME", "go-redis"); got != ok {
		t.Errorf("SETINFO = %v", got)
	}
	if got := r.do("CLIENT", "SETINFO", "BOGUS", "x"); got != respErr("ERR Unrecognized option 'BOGUS'") {
		t.Errorf("SETINFO bogus = %v", got)
	}
	id := r.do("CLIENT", "ID").(int64)
	info := string(r.do("CLIENT", "INFO").([]byte))
	if !strings.Contains(info, "name=myconn") || !strings.Contains(info, "user=alice") || !strings.Contains(info, "lib-name=go-redis") ||
		!strings.HasPrefix(info, "id=") || !strings.Contains(info, "cmd=client|info") {
		t.Errorf("CLIENT INFO = %q (id %d)", info, id)
	}
	if !strings.Contains(info, " resp=2 ") {
		t.Errorf("CLIENT INFO in RESP2 = %q", info)
	}

	// HELLO 3 switches to RESP3 and answers a map; HELLO alone keeps it.
	for _, args := range [][]string{{"HELLO", "3"}, {"HELLO"}} {
		m, _ := norm(r.do(args...)).(respMap)
		want := respMap{"server", "redis", "version", redisVersion, "proto", int64(3), "id", id,
			"mode", "standalone", "role", "master", "modules", []any{}}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("%q = %#v", args, m)
		}
	}
	v, _ := r.do("CLIENT", "INFO").(respVerbatim)
	if v.format != "txt" || !strings.Contains(v.text, " resp=3 ") || !strings.Contains(v.text, "name=myconn") {
		t.Errorf("CLIENT INFO in RESP3 = %#v", v)
	}
	// HELLO 2 switches back: a flat array again.
	arr, _ = norm(r.do("HELLO", "2")).([]any)
	if len(arr) != 14 || arr[5] != int64(2) {
		t.Errorf("HELLO 2 after 3 = %#v", arr)
	}

	// HELLO 3 AUTH user pass SETNAME name in one go on a new connection.
	r2 := dial(t, srv.addr)
	m, _ := norm(r2.do("HELLO", "3", "AUTH", "alice", "alice-pw", "SETNAME", "n3")).(respMap)
	if len(m) != 14 || m[4] != "proto" || m[5] != int64(3) {
		t.Fatalf("HELLO 3 AUTH SETNAME = %#v", m)
	}
	if got := norm(r2.do("CLIENT", "GETNAME")); got != "n3" {
		t.Errorf("SETNAME via HELLO 3: %v", got)
	}
	if got := r2.do("ACL", "WHOAMI"); norm(got) != "alice" {
		t.Errorf("AUTH via HELLO 3: %v", got)
	}
}

func TestRoles(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	ro := dialAs(t, srv.addr, "aro", "aro-pw")
	rw := dialAs(t, srv.addr, "alice", "alice-pw")
	rw.do("SET", "k", "v")
	if got := norm(ro.do("GET", "k")); got != "v" {
		t.Errorf("readonly GET = %v", got)
	}
	for _, args := range [][]string{{"SET", "k", "x"}, {"DEL", "k"}, {"INCR", "n"}, {"EXPIRE", "k", "5"}, {"FLUSHDB"}, {"MSET", "a", "b"}} {
		want := respErr(command.ErrNoPerm(strings.ToLower(args[0])))
		if got := ro.do(args...); got != want {
			t.Errorf("readonly %q = %v, want %v", args, got, want)
		}
	}
	for _, args := range [][]string{{"FLUSHDB"}, {"FLUSHALL"}} {
		if got := rw.do(args...); got != respErr(command.ErrNoPerm(strings.ToLower(args[0]))) {
			t.Errorf("readwrite %q = %v", args, got)
		}
	}
	if got := norm(ro.do("GET", "k")); got != "v" {
		t.Errorf("key changed by refused commands: %v", got)
	}
	admin := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	if got := admin.do("FLUSHALL"); got != ok {
		t.Errorf("admin FLUSHALL = %v", got)
	}
}

func TestDefaultTenant(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultTenant = "b"
	cfg.DefaultRole = config.RoleReadWrite
	srv := startServer(t, cfg, false)
	r := dial(t, srv.addr)
	if got := r.do("SET", "k", "anon"); got != ok {
		t.Fatalf("default tenant SET = %v", got)
	}
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	if got := norm(b.do("GET", "k")); got != "anon" {
		t.Errorf("bob does not see default-tenant key: %v", got)
	}
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := a.do("GET", "k"); got != nil {
		t.Errorf("alice sees b's key: %v", got)
	}
	if got := a.do("RESET"); got != status("RESET") {
		t.Fatal(got)
	}
	if got := norm(a.do("GET", "k")); got != "anon" {
		t.Errorf("RESET returns to default tenant: %v", got)
	}
	if got := r.do("FLUSHALL"); got != respErr(command.ErrNoPerm("flushall")) {
		t.Errorf("default role is readwrite, FLUSHALL = %v", got)
	}
}

func TestClientListScopedToTenant(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a1 := dialAs(t, srv.addr, "alice", "alice-pw")
	a1.do("CLIENT", "SETNAME", "a-one")
	a2 := dialAs(t, srv.addr, "aro", "aro-pw")
	a2.do("CLIENT", "SETNAME", "a-two")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("CLIENT", "SETNAME", "b-secret")
	list := string(a1.do("CLIENT", "LIST").([]byte))
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !strings.Contains(list, "name=a-one") || !strings.Contains(list, "name=a-two") || strings.Contains(list, "b-secret") {
		t.Errorf("CLIENT LIST for a = %q", list)
	}
	blist := string(b.do("CLIENT", "LIST").([]byte))
	if strings.Contains(blist, "a-one") || !strings.Contains(blist, "b-secret") {
		t.Errorf("CLIENT LIST for b = %q", blist)
	}
	if got := norm(a1.do("CLIENT", "LIST", "TYPE", "pubsub")); got != "" {
		t.Errorf("CLIENT LIST TYPE pubsub = %q", got)
	}
	if got := a1.do("CLIENT", "LIST", "TYPE", "bogus"); got != respErr("ERR Unknown client type 'bogus'") {
		t.Errorf("CLIENT LIST TYPE bogus = %v", got)
	}
	id := b.do("CLIENT", "ID").(int64)
	if got := norm(a1.do("CLIENT", "LIST", "ID", itoa(id))); got != "" {
		t.Errorf("CLIENT LIST ID of another tenant's client = %q", got)
	}
	info := string(a1.do("INFO", "clients").([]byte))
	if !strings.Contains(info, "connected_clients:2\r\n") {
		t.Errorf("INFO clients = %q", info)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAuthThrottle: after auth_max_failures failures from one address, or
// for one user name, even the right password is refused (with the same
// WRONGPASS) until the lockout passes; lockouts double up to the maximum.
func TestAuthThrottle(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.AuthMaxFailures = 3
	cfg.Limits.AuthLockout = time.Second
	cfg.Limits.AuthLockoutMax = 4 * time.Second
	srv := startServer(t, cfg, true)
	r := dial(t, srv.addr)
	fail := func() {
		t.Helper()
		if got := r.do("AUTH", "alice", "wrong"); got != respErr(errWrongPass) {
			t.Fatalf("bad AUTH = %v", got)
		}
	}
	for i := 0; i < 3; i++ {
		fail()
	}
	if got := r.do("AUTH", "alice", "alice-pw"); got != respErr(errWrongPass) {
		t.Fatalf("locked out, right password = %v", got)
	}
	// Another user from the same address is locked out too (per IP).
	if got := r.do("AUTH", "bob", "bob-pw"); got != respErr(errWrongPass) {
		t.Fatalf("same IP, other user = %v", got)
	}
	srv.clock.Add(1001 * time.Millisecond)
	if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatalf("after the lockout = %v", got)
	}
	// The success cleared alice's record but not the address's (a success
	// must not let a guesser start over): each further failure from the
	// address doubles its lockout, up to auth_lockout_max.
	for round, wait := range []time.Duration{2 * time.Second, 4 * time.Second} {
		fail() // the first failure after a lockout extends it
		srv.clock.Add(wait - time.Millisecond)
		if got := r.do("AUTH", "alice", "alice-pw"); got != respErr(errWrongPass) {
			t.Fatalf("round %d: still locked just before %v: %v", round, wait, got)
		}
		srv.clock.Add(2 * time.Millisecond)
		if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
			t.Fatalf("round %d: unlocked after %v: %v", round, wait, got)
		}
	}
	// Failures are forgiven once none came for auth_lockout_max: then it
	// takes auth_max_failures again to lock.
	srv.clock.Add(5 * time.Second)
	fail()
	fail()
	if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatalf("after the failures decayed, two failures lock out: %v", got)
	}
	// However many failures, the lockout never exceeds auth_lockout_max.
	srv.clock.Add(4 * time.Second)
	if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatalf("after auth_lockout_max = %v", got)
	}
}

func TestTenantMaxConnections(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.MaxConnections = 2
	srv := startServer(t, cfg, false)
	dialAs(t, srv.addr, "alice", "alice-pw")
	r2 := dialAs(t, srv.addr, "aro", "aro-pw")
	r3 := dial(t, srv.addr)
	if got := r3.do("AUTH", "alice", "alice-pw"); got != respErr(errTenantMaxConns) {
		t.Fatalf("third connection to a = %v", got)
	}
	if got := r3.do("AUTH", "bob", "bob-pw"); got != ok {
		t.Fatalf("other tenant unaffected: %v", got)
	}
	// Re-AUTH within the same tenant does not need a new slot.
	if got := r2.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatalf("re-AUTH inside a = %v", got)
	}
	r2.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := r3.do("AUTH", "alice", "alice-pw"); got == ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot not freed after a connection closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAuthLockoutNotResetByOwnLogin: a client holding one valid login
// cannot interleave it with password guesses to dodge the lockout (review
// finding: a success used to clear the address's failures).
func TestAuthLockoutNotResetByOwnLogin(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.AuthMaxFailures = 3
	cfg.Limits.AuthLockout = time.Minute
	cfg.Limits.AuthLockoutMax = time.Hour
	srv := startServer(t, cfg, true)
	r := dial(t, srv.addr)
	for i := 0; i < 10; i++ {
		r.do("AUTH", "guess-"+itoa(int64(i))) // password-only: tries every user
		if i%2 == 1 {
			r.do("AUTH", "bob", "bob-pw") // the attacker's own login
		}
	}
	if got := r.do("AUTH", "alice-pw"); got != respErr(errWrongPass) {
		t.Fatalf("after 10 guesses interleaved with own logins, a right password = %v (want locked out)", got)
	}
}
