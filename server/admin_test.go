package server

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// TestPrivilegedSurface proves, command by command, whether Redis's
// privileged commands are refused or scoped to the caller's tenant, and
// that tenant b's data survives all of them.
func TestPrivilegedSurface(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "bkey", "bval")
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	a.do("SET", "akey", "12345")
	// a's own key's idle time (a second's resolution: a tick may pass).
	if got, ok := a.do("OBJECT", "IDLETIME", "akey").(int64); !ok || got > 2 {
		t.Errorf("OBJECT IDLETIME akey = %#v", a.do("OBJECT", "IDLETIME", "akey"))
	}
	refused := func(name string) respErr { return respErr(command.ErrNoPerm(name)) }
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"CONFIG", "SET", "maxmemory", "1"}, respErr("NOPERM CONFIG SET of 'maxmemory' is not available to tenants: the operator's config file sets it")},
		{[]string{"CONFIG", "SET", "hash-max-listpack-entries", "16", "list-max-listpack-size", "-2"}, ok},
		{[]string{"CONFIG", "SET", "lazyfree-lazy-user-del", "yes"}, ok},
		{[]string{"CONFIG", "SET", "hash-max-listpack-entries", "16", "requirepass", "x"}, respErr("NOPERM CONFIG SET of 'requirepass' is not available to tenants: the operator's config file sets it")},
		{[]string{"CONFIG", "REWRITE"}, refused("config|rewrite")},
		{[]string{"CONFIG", "RESETSTAT"}, refused("config|resetstat")},
		{[]string{"DEBUG", "LOG", "hello"}, ok},
		{[]string{"DEBUG", "SET-ACTIVE-EXPIRE", "1"}, ok},
		{[]string{"DEBUG", "SEGFAULT"}, refused("debug")},
		{[]string{"DEBUG", "SLEEP", "10"}, refused("debug")},
		{[]string{"SHUTDOWN"}, refused("shutdown")},
		{[]string{"SHUTDOWN", "NOSAVE"}, refused("shutdown")},
		{[]string{"SAVE"}, refused("save")},
		{[]string{"BGSAVE"}, refused("bgsave")},
		{[]string{"BGREWRITEAOF"}, refused("bgrewriteaof")},
		{[]string{"REPLICAOF", "127.0.0.1", "1"}, refused("replicaof")},
		{[]string{"SLAVEOF", "NO", "ONE"}, refused("slaveof")},
		{[]string{"SYNC"}, refused("sync")},
		{[]string{"PSYNC", "?", "-1"}, refused("psync")},
		{[]string{"MIGRATE", "127.0.0.1", "6379", "bkey", "0", "1000"}, refused("migrate")},
		{[]string{"SWAPDB", "0", "1"}, refused("swapdb")},
		{[]string{"ACL", "WHOAMI"}, "aadmin"},
		{[]string{"ACL", "LIST"}, refused("acl|list")},
		{[]string{"ACL", "SETUSER", "bob", "on", ">x"}, refused("acl|setuser")},
		{[]string{"ACL", "DELUSER", "bob"}, refused("acl|deluser")},
		{[]string{"SCRIPT", "FLUSH"}, ok},
		{[]string{"SCRIPT", "LOAD", "return 1"}, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
		// Scripts run in the caller's tenant: b's key is not there.
		{[]string{"EVAL", "return redis.call('get','bkey')", "0"}, nil},
		{[]string{"EVALSHA", "abc", "0"}, respErr(errNoScript)},
		{[]string{"FUNCTION", "FLUSH"}, ok},
		{[]string{"FUNCTION", "LOAD", "x"}, respErr("ERR Missing library metadata")},
		{[]string{"FCALL", "f", "0"}, respErr(errFunctionNotFound)},
		{[]string{"MODULE", "LOAD", "/tmp/x.so"}, refused("module")},
		// The tenant's own slow log and latency events (slowlog.go): b's
		// commands are not there.
		{[]string{"SLOWLOG", "GET"}, []any{}},
		{[]string{"LATENCY", "LATEST"}, []any{}},
		{[]string{"FAILOVER"}, refused("failover")},
		{[]string{"CLUSTER", "INFO"}, respErr("ERR This instance has cluster support disabled")},
		{[]string{"OBJECT", "ENCODING", "akey"}, "int"},
		{[]string{"OBJECT", "ENCODING", "bkey"}, nil},
		{[]string{"OBJECT", "REFCOUNT", "akey"}, int64(1)},
		{[]string{"OBJECT", "FREQ", "akey"}, respErr(command.ErrNoLFU)},
		{[]string{"OBJECT", "IDLETIME", "bkey"}, nil},
		{[]string{"OBJECT", "FREQ", "bkey"}, nil},
		{[]string{"DUMP", "bkey"}, nil},
		{[]string{"SORT", "bkey", "BY", "nosort", "GET", "bkey"}, respErr("NOPERM SORT BY and GET patterns are not available: they read keys outside the command's declared keys")},
		{[]string{"SORT", "missing", "GET", "#"}, respErr("NOPERM SORT BY and GET patterns are not available: they read keys outside the command's declared keys")},
		{[]string{"SORT", "missing"}, []any{}},
		{[]string{"SORT", "akey"}, respErr(command.ErrWrongType)},
		{[]string{"SORT", "missing", "LIMIT", "0", "10", "ALPHA", "DESC"}, []any{}},
		{[]string{"SORT_RO", "missing", "STORE", "x"}, respErr(command.ErrSyntax)},
		{[]string{"MOVE", "bkey", "1"}, int64(0)},
		{[]string{"MOVE", "akey", "0"}, respErr(command.ErrSameObject)},
		{[]string{"MOVE", "akey", "16"}, respErr(command.ErrDBRange)},
		{[]string{"CLIENT", "PAUSE", "1000"}, refused("client|pause")},
		{[]string{"CLIENT", "UNPAUSE"}, refused("client|unpause")},
		{[]string{"CLIENT", "KILL", "USER", "bob"}, int64(0)},
		{[]string{"CLIENT", "KILL", b.c.LocalAddr().String()}, respErr("ERR No such client")},
		{[]string{"CLIENT", "NO-EVICT", "on"}, ok},
		{[]string{"FLUSHALL"}, ok},
	}
	for _, tt := range tests {
		if got := norm(a.do(tt.args...)); !equalReply(got, tt.want) {
			t.Errorf("%q = %#v, want %#v", tt.args, got, tt.want)
		}
	}
	// Tenant b is untouched: its connection is alive and its key intact.
	if got := norm(b.do("GET", "bkey")); got != "bval" {
		t.Errorf("b's key after the attack = %#v", got)
	}
	if got := b.do("DBSIZE"); got != int64(1) {
		t.Errorf("b DBSIZE = %v", got)
	}
}

func equalReply(got, want any) bool {
	if w, ok := want.([]any); ok {
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equalReply(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return got == want
}

func TestMoveWithinTenant(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "k", "v")
	if got := a.do("MOVE", "k", "3"); got != int64(1) {
		t.Fatalf("MOVE = %v", got)
	}
	if got := a.do("EXISTS", "k"); got != int64(0) {
		t.Error("k still in db 0")
	}
	a.do("SELECT", "3")
	if got := norm(a.do("GET", "k")); got != "v" {
		t.Errorf("db3 k = %v", got)
	}
}

// TestClientKillOwnTenant: CLIENT KILL reaches the caller's tenant's
// connections only.
func TestClientKillOwnTenant(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a1 := dialAs(t, srv.addr, "alice", "alice-pw")
	a2 := dialAs(t, srv.addr, "aro", "aro-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	bid := b.do("CLIENT", "ID").(int64)
	if got := a1.do("CLIENT", "KILL", "ID", itoa(bid)); got != int64(0) {
		t.Errorf("kill b's client from a = %v", got)
	}
	if got := b.do("PING"); got != status("PONG") {
		t.Fatalf("b after kill attempt: %v", got)
	}
	if got := a1.do("CLIENT", "KILL", "USER", "aro"); got != int64(1) {
		t.Errorf("kill own tenant's aro = %v", got)
	}
	a2.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a2.rd.ReadByte(); err == nil {
		t.Error("killed connection still open")
	}
	if got := a1.do("CLIENT", "KILL", "ADDR", a1.c.LocalAddr().String(), "SKIPME", "yes"); got != int64(0) {
		t.Errorf("SKIPME yes = %v", got)
	}
	if got := a1.do("CLIENT", "KILL", "BOGUS", "x"); got != respErr(command.ErrSyntax) {
		t.Errorf("bogus filter = %v", got)
	}
	if got := a1.do("PING"); got != status("PONG") {
		t.Errorf("a1 = %v", got)
	}
}

func TestPanicRecovered(t *testing.T) {
	var logBuf syncBuffer
	srv := startServerWith(t, testConfig(), Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	srv.table["boom"] = &command.Spec{Name: "boom", Arity: -1, Handler: withClient(func(c *client, args [][]byte) {
		panic("secret-value-must-not-be-logged " + string(args[len(args)-1]))
	})}
	other := dialAs(t, srv.addr, "bob", "bob-pw")
	other.do("SET", "k", "v")
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := a.do("BOOM", "x"); got != respErr(errInternal) {
		t.Fatalf("panic reply = %v", got)
	}
	a.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.rd.ReadByte(); err == nil {
		t.Error("connection not closed after a handler panic")
	}
	if srv.Panics() != 1 {
		t.Errorf("panics counted = %d", srv.Panics())
	}
	if got := norm(other.do("GET", "k")); got != "v" {
		t.Errorf("other connection after panic: %v", got)
	}
	logged := logBuf.String()
	if !strings.Contains(logged, "command=boom") || strings.Contains(logged, "secret-value") {
		t.Errorf("panic log must name the command and no values: %s", logged)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSortCollections(t *testing.T) {
	runScripts(t, []script{
		{"sort lists sets zsets", []step{
			s(int64(5), "RPUSH", "l", "3", "1", "10", "2", "1.5"),
			s([]any{"1", "1.5", "2", "3", "10"}, "SORT", "l"),
			s([]any{"10", "3", "2", "1.5", "1"}, "SORT", "l", "DESC"),
			s([]any{"1", "1.5", "10", "2", "3"}, "SORT", "l", "ALPHA"),
			s([]any{"1.5", "2"}, "SORT", "l", "LIMIT", "1", "2"),
			s([]any{"3", "10"}, "SORT", "l", "LIMIT", "3", "-1"),
			s(int64(5), "SORT", "l", "DESC", "STORE", "dst"),
			s([]any{"10", "3", "2", "1.5", "1"}, "LRANGE", "dst", "0", "-1"),
			s([]any{"1", "1.5", "2", "3", "10"}, "SORT_RO", "dst"),
			s(int64(3), "SADD", "st", "b", "c", "a"),
			s([]any{"a", "b", "c"}, "SORT", "st", "ALPHA"),
			s(respErr("ERR One or more scores can't be converted into double"), "SORT", "st"),
			s(int64(2), "ZADD", "z", "1", "20", "2", "100"),
			s([]any{"20", "100"}, "SORT", "z"),
			s(ok, "SET", "str", "x"), s(respErr(command.ErrWrongType), "SORT", "str"),
			s([]any{}, "SORT", "missing"), s(int64(0), "SORT", "missing", "STORE", "dst"),
			s(int64(0), "EXISTS", "dst"),
		}},
	})
}
