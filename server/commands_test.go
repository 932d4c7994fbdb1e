package server

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// step is one command and its exact expected reply. A step whose args
// start with "+sleep" advances the fake clock instead.
type step struct {
	args []string
	want any
}

func s(want any, args ...string) step { return step{args: args, want: want} }

func clockStep(d string) step { return step{args: []string{"+sleep", d}} }

type script struct {
	name  string
	steps []step
}

const (
	ok   = status("OK")
	null = "<nil>"
)

func runScripts(t *testing.T, scripts []script) {
	t.Helper()
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), true)
			r := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
			runSteps(t, r, sc.steps, srv.clock)
		})
	}
}

// runSteps runs steps on r, failing at the first reply that differs; a
// "+sleep" step moves clock (the server's fake clock).
func runSteps(t *testing.T, r *rconn, steps []step, clock *fakeClock) {
	t.Helper()
	for i, st := range steps {
		if st.args[0] == "+sleep" {
			d, err := time.ParseDuration(st.args[1])
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(d)
			continue
		}
		got := norm(r.do(st.args...))
		want := st.want
		if want == null {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d %q: got %#v, want %#v", i, st.args, got, want)
		}
	}
}

func TestStringCommands(t *testing.T) {
	wrongArgs := func(n string) respErr { return respErr(command.ErrWrongArgs(n)) }
	runScripts(t, []script{
		{"get set", []step{
			s(null, "GET", "k"), s(ok, "SET", "k", "v"), s("v", "GET", "k"),
			s(ok, "set", "k", ""), s("", "get", "k"),
			s(wrongArgs("get"), "GET"), s(wrongArgs("set"), "SET", "k"),
		}},
		{"set options", []step{
			s(null, "SET", "k", "v", "XX"), s(ok, "SET", "k", "v", "NX"), s(null, "SET", "k", "w", "NX"),
			s(ok, "SET", "k", "w", "XX"), s("w", "SET", "k", "x", "GET"), s(null, "SET", "n", "x", "GET"),
			s("x", "GET", "n"), s("x", "SET", "n", "y", "NX", "GET"), s("x", "GET", "n"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "NX", "XX"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "EX", "10", "PX", "10"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "EX", "10", "KEEPTTL"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "EX"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "BOGUS"),
			s(respErr(command.ErrNotInteger), "SET", "k", "v", "EX", "ten"),
			s(respErr(command.ErrInvalidExpire("set")), "SET", "k", "v", "EX", "0"),
			s(respErr(command.ErrInvalidExpire("set")), "SET", "k", "v", "PX", "-5"),
			s(respErr(command.ErrInvalidExpire("set")), "SET", "k", "v", "EX", "9223372036854775807"),
		}},
		{"set ttl forms", []step{
			s(ok, "SET", "k", "v", "EX", "100"), s(int64(100), "TTL", "k"),
			s(ok, "SET", "k", "v", "PX", "1500"), s(int64(1500), "PTTL", "k"), s(int64(2), "TTL", "k"),
			s(ok, "SET", "k", "v", "EXAT", "1767323145"), s(int64(1767323145), "EXPIRETIME", "k"),
			s(ok, "SET", "k", "v", "PXAT", "1767323145123"), s(int64(1767323145123), "PEXPIRETIME", "k"),
			s(ok, "SET", "k", "v", "KEEPTTL"), s(int64(1767323145123), "PEXPIRETIME", "k"),
			// EXAT in the past deletes the key (Redis answers OK).
			s(ok, "SET", "k", "v", "EXAT", "1000"), s(int64(0), "EXISTS", "k"),
		}},
		{"tier default ttl", []step{
			// tenant a is gold: default_ttl 30m.
			s(ok, "SET", "k", "v"), s(int64(1800), "TTL", "k"),
			s(int64(1), "SETNX", "n", "v"), s(int64(1800), "TTL", "n"),
			s(ok, "MSET", "m1", "1", "m2", "2"), s(int64(1800), "TTL", "m2"),
			s(int64(1), "INCR", "i"), s(int64(1800), "TTL", "i"),
			s(int64(3), "APPEND", "ap", "abc"), s(int64(1800), "TTL", "ap"),
			s(int64(5), "SETRANGE", "sr", "2", "abc"), s(int64(1800), "TTL", "sr"),
			s(ok, "SET", "kt", "v", "KEEPTTL"), s(int64(1800), "TTL", "kt"),
			s(ok, "SETEX", "se", "10", "v"), s(int64(10), "TTL", "se"),
			// INCR keeps an existing TTL; SET replaces it with the default.
			s(int64(1), "EXPIRE", "i", "50"), s(int64(2), "INCR", "i"), s(int64(50), "TTL", "i"),
			s(ok, "SET", "i", "5"), s(int64(1800), "TTL", "i"),
			// PERSIST removes even a default TTL.
			s(int64(1), "PERSIST", "k"), s(int64(-1), "TTL", "k"), s(int64(0), "PERSIST", "k"),
			// GETSET drops the old TTL: the key gets the default again.
			s(int64(1), "EXPIRE", "k", "5"), s("v", "GETSET", "k", "w"), s(int64(1800), "TTL", "k"),
		}},
		{"expiry is lazy and exact", []step{
			s(ok, "SET", "k", "v", "PX", "1000"), clockStep("999ms"), s("v", "GET", "k"),
			s(int64(1), "PTTL", "k"), clockStep("1ms"), s("v", "GET", "k"), clockStep("1ms"),
			s(null, "GET", "k"), s(int64(-2), "TTL", "k"), s(int64(0), "EXISTS", "k"),
		}},
		{"setnx setex psetex", []step{
			s(int64(1), "SETNX", "k", "1"), s(int64(0), "SETNX", "k", "2"), s("1", "GET", "k"),
			s(ok, "PSETEX", "p", "2500", "v"), s(int64(2500), "PTTL", "p"),
			s(respErr(command.ErrInvalidExpire("setex")), "SETEX", "k", "0", "v"),
			s(respErr(command.ErrInvalidExpire("psetex")), "PSETEX", "k", "-1", "v"),
			s(respErr(command.ErrNotInteger), "SETEX", "k", "x", "v"),
		}},
		{"mget mset msetnx", []step{
			s(ok, "MSET", "a", "1", "b", "2"), s([]any{"1", "2", nil}, "MGET", "a", "b", "c"),
			s(wrongArgs("mset"), "MSET", "a", "1", "b"),
			s(int64(0), "MSETNX", "c", "3", "a", "x"), s([]any{nil, "1"}, "MGET", "c", "a"),
			s(int64(1), "MSETNX", "c", "3", "d", "4"), s([]any{"3", "4"}, "MGET", "c", "d"),
			s(ok, "MSET", "x", "1", "x", "2"), s("2", "GET", "x"),
		}},
		{"getset getdel getex", []step{
			s(null, "GETSET", "k", "1"), s("1", "GETSET", "k", "2"), s("2", "GET", "k"),
			s("2", "GETDEL", "k"), s(null, "GETDEL", "k"), s(int64(0), "EXISTS", "k"),
			s(ok, "SET", "k", "v"), s("v", "GETEX", "k", "EX", "100"), s(int64(100), "TTL", "k"),
			s("v", "GETEX", "k", "PERSIST"), s(int64(-1), "TTL", "k"),
			s("v", "GETEX", "k", "PXAT", "1767323145999"), s(int64(1767323145999), "PEXPIRETIME", "k"),
			s("v", "GETEX", "k", "EXAT", "100"), s(int64(0), "EXISTS", "k"),
			s(null, "GETEX", "missing", "EX", "5"),
			s(respErr(command.ErrSyntax), "GETEX", "k", "EX", "5", "PERSIST"),
			s(respErr(command.ErrSyntax), "GETEX", "k", "FOO"),
		}},
		{"incr family", []step{
			s(int64(1), "INCR", "n"), s(int64(11), "INCRBY", "n", "10"), s(int64(10), "DECR", "n"),
			s(int64(-5), "DECRBY", "n", "15"),
			s(ok, "SET", "n", "9223372036854775806"), s(int64(9223372036854775807), "INCR", "n"),
			s(respErr(command.ErrOverflow), "INCR", "n"), s("9223372036854775807", "GET", "n"),
			s(ok, "SET", "m", "-9223372036854775808"), s(respErr(command.ErrOverflow), "DECR", "m"),
			s(respErr("ERR decrement would overflow"), "DECRBY", "m", "-9223372036854775808"),
			s(ok, "SET", "s", "abc"), s(respErr(command.ErrNotInteger), "INCR", "s"),
			s(ok, "SET", "s", " 1"), s(respErr(command.ErrNotInteger), "INCR", "s"),
			s(ok, "SET", "s", "01"), s(respErr(command.ErrNotInteger), "INCR", "s"),
			s(ok, "SET", "s", "+1"), s(respErr(command.ErrNotInteger), "INCR", "s"),
			s(ok, "SET", "s", "9223372036854775808"), s(respErr(command.ErrNotInteger), "INCR", "s"),
			s(respErr(command.ErrNotInteger), "INCRBY", "n", "1.5"),
			s(respErr(command.ErrNotInteger), "INCRBY", "n", "99999999999999999999"),
		}},
		{"incrbyfloat", []step{
			s("10.5", "INCRBYFLOAT", "f", "10.5"), s("10.6", "INCRBYFLOAT", "f", "0.1"),
			s("5.6", "INCRBYFLOAT", "f", "-5"), s(ok, "SET", "g", "0"),
			s("0.1", "INCRBYFLOAT", "g", "0.1"), s("0.2", "INCRBYFLOAT", "g", "0.1"), s("0.3", "INCRBYFLOAT", "g", "0.1"),
			s(ok, "SET", "h", "5.0e3"), s("5200", "INCRBYFLOAT", "h", "2.0e2"),
			s(respErr(command.ErrNotFloat), "INCRBYFLOAT", "f", "abc"),
			s(respErr(command.ErrNotFloat), "INCRBYFLOAT", "f", "nan"),
			s(respErr(command.ErrNaNInf), "INCRBYFLOAT", "f", "inf"),
			s(ok, "SET", "s", "x"), s(respErr(command.ErrNotFloat), "INCRBYFLOAT", "s", "1"),
		}},
		{"append strlen getrange setrange", []step{
			s(int64(5), "APPEND", "k", "Hello"), s(int64(11), "APPEND", "k", " World"),
			s(int64(11), "STRLEN", "k"), s(int64(0), "STRLEN", "missing"),
			s("Hello", "GETRANGE", "k", "0", "4"), s("World", "GETRANGE", "k", "-5", "-1"),
			s("Hello World", "GETRANGE", "k", "0", "-1"), s("", "GETRANGE", "k", "5", "3"),
			s("d", "GETRANGE", "k", "10", "100"), s("", "GETRANGE", "k", "-1", "-5"),
			s("", "GETRANGE", "missing", "0", "-1"), s(respErr(command.ErrNotInteger), "GETRANGE", "k", "a", "1"),
			s(int64(11), "SETRANGE", "k", "6", "Redis"), s("Hello Redis", "GET", "k"),
			s(int64(8), "SETRANGE", "z", "5", "abc"), s("\x00\x00\x00\x00\x00abc", "GET", "z"),
			s(int64(0), "SETRANGE", "empty", "5", ""), s(int64(0), "EXISTS", "empty"),
			s(int64(11), "SETRANGE", "k", "3", ""),
			s(respErr(command.ErrOffsetRange), "SETRANGE", "k", "-1", "x"),
			s(respErr(command.ErrStringTooBig), "SETRANGE", "k", "536870912", "x"),
		}},
	})
}

func TestKeyCommands(t *testing.T) {
	runScripts(t, []script{
		{"del exists touch unlink", []step{
			s(ok, "MSET", "a", "1", "b", "2", "c", "3"),
			s(int64(3), "EXISTS", "a", "a", "b"), s(int64(2), "DEL", "a", "b", "zz"),
			s(int64(1), "UNLINK", "c", "a"), s(int64(0), "EXISTS", "a", "b", "c"),
			s(ok, "SET", "t", "1"), s(int64(1), "TOUCH", "t", "nope"),
		}},
		{"expire options", []step{
			s(int64(0), "EXPIRE", "k", "10"), s(ok, "SET", "k", "v"), s(int64(1), "PERSIST", "k"),
			s(int64(0), "EXPIRE", "k", "10", "XX"), s(int64(1), "EXPIRE", "k", "10", "NX"),
			s(int64(0), "EXPIRE", "k", "20", "NX"), s(int64(0), "EXPIRE", "k", "5", "GT"),
			s(int64(1), "EXPIRE", "k", "20", "GT"), s(int64(0), "EXPIRE", "k", "30", "LT"),
			s(int64(1), "EXPIRE", "k", "15", "LT"), s(int64(15), "TTL", "k"),
			s(int64(1), "PEXPIRE", "k", "2500"), s(int64(2500), "PTTL", "k"), s(int64(3), "TTL", "k"),
			s(int64(1), "EXPIREAT", "k", "1767323145"), s(int64(1767323145), "EXPIRETIME", "k"),
			s(int64(1), "PEXPIREAT", "k", "1767323145500"), s(int64(1767323145500), "PEXPIRETIME", "k"),
			s(respErr(command.ErrExpireOptions), "EXPIRE", "k", "10", "NX", "XX"),
			s(respErr(command.ErrGTLTOptions), "EXPIRE", "k", "10", "GT", "LT"),
			s(respErr("ERR Unsupported option FOO"), "EXPIRE", "k", "10", "FOO"),
			s(respErr(command.ErrNotInteger), "EXPIRE", "k", "ten"),
			s(respErr(command.ErrInvalidExpire("expire")), "EXPIRE", "k", "9223372036854775807"),
			s(int64(1), "EXPIRE", "k", "-1"), s(int64(-2), "TTL", "k"), s(int64(-2), "PEXPIRETIME", "k"),
		}},
		{"type rename renamenx copy", []step{
			s(status("none"), "TYPE", "k"), s(ok, "SET", "k", "v", "EX", "100"), s(status("string"), "TYPE", "k"),
			s(ok, "RENAME", "k", "k2"), s(int64(0), "EXISTS", "k"), s("v", "GET", "k2"), s(int64(100), "TTL", "k2"),
			s(respErr(command.ErrNoSuchKey), "RENAME", "missing", "x"), s(ok, "RENAME", "k2", "k2"),
			s(respErr(command.ErrNoSuchKey), "RENAME", "missing", "missing"),
			s(ok, "SET", "o", "other"), s(int64(0), "RENAMENX", "k2", "o"), s(int64(1), "RENAMENX", "k2", "k3"),
			s(int64(0), "RENAMENX", "k3", "k3"),
			s(int64(1), "COPY", "k3", "c"), s(int64(0), "COPY", "k3", "c"), s(int64(1), "COPY", "o", "c", "REPLACE"),
			s("other", "GET", "c"), s(int64(1), "COPY", "c", "c", "DB", "5"), s(int64(0), "COPY", "missing", "x"),
			s(respErr(command.ErrSameObject), "COPY", "c", "c"), s(respErr(command.ErrDBRange), "COPY", "c", "d", "DB", "16"),
			s(respErr(command.ErrSyntax), "COPY", "c", "d", "BOGUS"),
			s(ok, "SELECT", "5"), s("other", "GET", "c"), s(int64(1), "DBSIZE"),
		}},
		{"select dbsize flush", []step{
			s(ok, "SET", "k", "0"), s(ok, "SELECT", "1"), s(null, "GET", "k"), s(ok, "SET", "k", "1"),
			s(int64(1), "DBSIZE"), s(ok, "FLUSHDB"), s(int64(0), "DBSIZE"), s(ok, "SELECT", "0"),
			s("0", "GET", "k"), s(ok, "SELECT", "2"), s(ok, "SET", "x", "y"), s(ok, "FLUSHALL", "ASYNC"),
			s(int64(0), "DBSIZE"), s(ok, "SELECT", "0"), s(int64(0), "DBSIZE"),
			s(respErr(command.ErrDBRange), "SELECT", "16"), s(respErr(command.ErrDBRange), "SELECT", "-1"),
			s(respErr(command.ErrNotInteger), "SELECT", "x"), s(respErr(command.ErrSyntax), "FLUSHDB", "NOW"),
		}},
		{"randomkey", []step{
			s(null, "RANDOMKEY"), s(ok, "SET", "only", "1"), s("only", "RANDOMKEY"),
		}},
		{"keys patterns", []step{
			s(ok, "MSET", "user:1", "a", "user:2", "b", "x*y", "c", "h[a]llo", "d", "hello", "e"),
			s([]any{"x*y"}, "KEYS", `x\*y`), s([]any{"hello"}, "KEYS", "h?llo"),
			s([]any{"h[a]llo"}, "KEYS", `h\[a\]llo`), s([]any{}, "KEYS", "nomatch*"),
		}},
		{"scan errors", []step{
			s(respErr(command.ErrInvalidCursor), "SCAN", "abc"), s(respErr(command.ErrInvalidCursor), "SCAN", "-"), s(respErr(command.ErrInvalidCursor), "SCAN", " 0"),
			s(respErr(command.ErrSyntax), "SCAN", "0", "COUNT", "0"), s(respErr(command.ErrNotInteger), "SCAN", "0", "COUNT", "x"),
			s(respErr(command.ErrSyntax), "SCAN", "0", "MATCH"), s(respErr(command.ErrSyntax), "SCAN", "0", "FOO", "bar"),
			s([]any{"0", []any{}}, "SCAN", "18446744073709551615"),
		}},
	})
}

func TestServerCommands(t *testing.T) {
	srv := startServer(t, testConfig(), true)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := norm(r.do("CONFIG", "GET", "maxmemory")); !reflect.DeepEqual(got, []any{"maxmemory", "8388608"}) {
		t.Errorf("CONFIG GET maxmemory = %#v", got)
	}
	if got := norm(r.do("CONFIG", "GET", "save", "appendonly")); !reflect.DeepEqual(got, []any{"save", "", "appendonly", "no"}) {
		t.Errorf("CONFIG GET save appendonly = %#v", got)
	}
	if got := norm(r.do("CONFIG", "GET", "databases")); !reflect.DeepEqual(got, []any{"databases", "16"}) {
		t.Errorf("CONFIG GET databases = %#v", got)
	}
	if got := r.do("CONFIG", "SET", "maxmemory", "1"); got != respErr("NOPERM CONFIG SET of 'maxmemory' is not available to tenants: the operator's config file sets it") {
		t.Errorf("CONFIG SET = %#v", got)
	}
	r.do("SET", "k", "vvvv")
	if got := r.do("MEMORY", "USAGE", "k"); got != int64(1+4+entryOverheadForTest()) {
		t.Errorf("MEMORY USAGE = %#v", got)
	}
	if got := r.do("MEMORY", "USAGE", "nope"); got != nil {
		t.Errorf("MEMORY USAGE missing = %#v", got)
	}
	tm, _ := r.do("TIME").([]any)
	if len(tm) != 2 || string(tm[0].([]byte)) != "1767323045" || string(tm[1].([]byte)) != "0" {
		t.Errorf("TIME = %#v", tm)
	}
	info := string(r.do("INFO").([]byte))
	for _, want := range []string{"# Server\r\n", "redis_version:7.0.15\r\n", "# Clients\r\n", "connected_clients:1\r\n",
		"# Memory\r\n", "maxmemory:8388608\r\n", "# Stats\r\n", "# Keyspace\r\n", "db0:keys=1,expires=1,avg_ttl=0\r\n",
		"# Tenant\r\n", "tenant_id:a\r\n", "tenant_tier:gold\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q:\n%s", want, info)
		}
	}
	ks := string(r.do("INFO", "keyspace").([]byte))
	if strings.Contains(ks, "# Server") || !strings.Contains(ks, "# Keyspace") {
		t.Errorf("INFO keyspace = %q", ks)
	}
	if got := r.do("COMMAND", "COUNT"); got != int64(len(srv.ordered)) {
		t.Errorf("COMMAND COUNT = %v", got)
	}
	ci := norm(r.do("COMMAND", "INFO", "get", "nosuch")).([]any)
	if len(ci) != 2 || ci[1] != nil {
		t.Fatalf("COMMAND INFO = %#v", ci)
	}
	get := ci[0].([]any)
	if get[0] != "get" || get[1] != int64(2) || get[3] != int64(1) || get[4] != int64(1) || get[5] != int64(1) {
		t.Errorf("COMMAND INFO get = %#v", get)
	}
	if got := norm(r.do("COMMAND", "DOCS")); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("COMMAND DOCS = %#v", got)
	}
	all := r.do("COMMAND").([]any)
	if len(all) != len(srv.ordered) {
		t.Errorf("COMMAND returned %d entries", len(all))
	}
}

func TestUnknownAndArity(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dial(t, srv.addr)
	// Unknown commands are reported before authentication, as in Redis.
	if got := r.do("FOO", "a", "b"); got != respErr("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ") {
		t.Errorf("unknown = %q", got)
	}
	long := strings.Repeat("x", 200)
	want := "ERR unknown command '" + long[:128] + "', with args beginning with: '" + long[:128] + "' "
	if got := r.do(long, long, "more"); got != respErr(want) {
		t.Errorf("long unknown = %q", got)
	}
	if got := r.do("GET"); got != respErr(command.ErrWrongArgs("get")) {
		t.Errorf("arity before auth = %q", got)
	}
	if got := r.do("GET", "k"); got != respErr(errNoAuth) {
		t.Errorf("before auth = %q", got)
	}
	if got := r.do("PING"); got != respErr(errNoAuth) {
		t.Errorf("PING before auth = %q", got)
	}
	if got := r.do("CLIENT", "BOGUS"); got != respErr("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.") {
		t.Errorf("subcommand = %q", got)
	}
	if got := r.do("CLIENT"); got != respErr(command.ErrWrongArgs("client")) {
		t.Errorf("client arity = %q", got)
	}
	r = dialAs(t, srv.addr, "alice", "alice-pw")
	if got := r.do("CLIENT", "SETNAME"); got != respErr(command.ErrWrongArgs("client|setname")) {
		t.Errorf("client setname arity = %q", got)
	}
	if got := r.do("get", "k", "extra"); got != respErr(command.ErrWrongArgs("get")) {
		t.Errorf("lower-case arity = %q", got)
	}
	if got := r.do("PING"); got != status("PONG") {
		t.Errorf("PING = %v", got)
	}
	if got := norm(r.do("PING", "hi")); got != "hi" {
		t.Errorf("PING hi = %v", got)
	}
	if got := norm(r.do("ECHO", "\x00bin")); got != "\x00bin" {
		t.Errorf("ECHO = %v", got)
	}
	// Inline commands, as telnet/redis-benchmark PING_INLINE send them.
	r.send([]byte("SET inl \"a b\"\r\nGET inl\r\n"))
	if got := r.read(); got != ok {
		t.Errorf("inline SET = %v", got)
	}
	if got := norm(r.read()); got != "a b" {
		t.Errorf("inline GET = %v", got)
	}
	// Pipelining: many commands in one write, one reply each, in order.
	var pipe []byte
	for i := 0; i < 100; i++ {
		pipe = append(pipe, encode("INCR", "p")...)
	}
	r.send(pipe)
	for i := 1; i <= 100; i++ {
		if got := r.read(); got != int64(i) {
			t.Fatalf("pipelined reply %d = %v", i, got)
		}
	}
}

// TestLookupReuse: the connection's previous command row is reused only
// for the same name (in any case); a name that differs in one byte, or
// that is a prefix of it, or a subcommand's name sent alone, is looked up.
func TestLookupReuse(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	r.do("SET", "k", "v")
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"GET", "k"}, []byte("v")},
		{[]string{"GET", "k"}, []byte("v")},
		{[]string{"gEt", "k"}, []byte("v")},
		{[]string{"GEX", "k"}, respErr("ERR unknown command 'GEX', with args beginning with: 'k' ")},
		{[]string{"GE", "k"}, respErr("ERR unknown command 'GE', with args beginning with: 'k' ")},
		{[]string{"GETDEL", "k"}, []byte("v")},
		{[]string{"GET", "k"}, nil},
		{[]string{"CLIENT", "ID"}, nil},
		{[]string{"ID"}, respErr("ERR unknown command 'ID', with args beginning with: ")},
	} {
		got := r.do(tc.args...)
		if tc.args[0] == "CLIENT" {
			if _, ok := got.(int64); !ok {
				t.Errorf("%v = %#v", tc.args, got)
			}
			continue
		}
		if b, ok := got.([]byte); ok {
			if w, _ := tc.want.([]byte); string(b) != string(w) {
				t.Errorf("%v = %q, want %q", tc.args, b, w)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%v = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}
