package server

// RESP3 (HELLO 3): the wire's typed writers in both protocols, exact bytes
// of RESP3 exchanges as Redis 7.0.15 sends them, and go-redis v9 speaking
// RESP3 (explicitly and by default).

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawExchange sends a command and expects exactly want back.
func rawExchange(t *testing.T, r *rconn, want string, args ...string) {
	t.Helper()
	r.send(encode(args...))
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.rd, got); err != nil {
		t.Fatalf("%q: read %q: %v (want %q)", args, got, err, want)
	}
	if string(got) != want {
		t.Fatalf("%q = %q, want %q", args, got, want)
	}
}

// rawVerbatim sends a command and returns the text of the verbatim
// string it must answer, checking its header and length.
func rawVerbatim(t *testing.T, r *rconn, args ...string) string {
	t.Helper()
	r.send(encode(args...))
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "=") || !strings.HasSuffix(line, "\r\n") {
		t.Fatalf("%q: header %q, %v", args, line, err)
	}
	n, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil {
		t.Fatalf("%q: header %q", args, line)
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r.rd, body); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(body, []byte("txt:")) || !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatalf("%q: verbatim body %q", args, body)
	}
	return string(body[4:n])
}

func helloBytes(proto int, id int64) string {
	head := "*14\r\n"
	if proto == 3 {
		head = "%7\r\n"
	}
	ids := strconv.FormatInt(id, 10)
	return head + "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$" + strconv.Itoa(len(redisVersion)) + "\r\n" + redisVersion + "\r\n" +
		"$5\r\nproto\r\n:" + strconv.Itoa(proto) + "\r\n$2\r\nid\r\n:" + ids + "\r\n" +
		"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
}

// TestRESP3Exchanges: the exact bytes of RESP3 replies, which match what
// Redis 7.0.15 sends for the same commands.
func TestRESP3Exchanges(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	id := r.do("CLIENT", "ID").(int64)

	// RESP2 first: nulls and CONFIG GET as before.
	rawExchange(t, r, "$-1\r\n", "GET", "missing")
	rawExchange(t, r, "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n", "CONFIG", "GET", "databases")

	rawExchange(t, r, helloBytes(3, id), "HELLO", "3")
	rawExchange(t, r, "_\r\n", "GET", "missing")
	rawExchange(t, r, "+OK\r\n", "SET", "k", "v")
	rawExchange(t, r, "*3\r\n_\r\n$1\r\nv\r\n_\r\n", "MGET", "missing", "k", "other")
	rawExchange(t, r, "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n", "CONFIG", "GET", "databases")
	rawExchange(t, r, "%2\r\n$9\r\nmaxmemory\r\n$7\r\n8388608\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n",
		"CONFIG", "GET", "maxmemory", "maxmemory-samples", "maxmemory")
	rawExchange(t, r, "%0\r\n", "CONFIG", "GET", "nomatch")
	rawExchange(t, r, "%0\r\n", "COMMAND", "DOCS")
	rawExchange(t, r, "%0\r\n", "COMMAND", "DOCS", "get")
	rawExchange(t, r, "*1\r\n_\r\n", "COMMAND", "INFO", "nosuch")
	rawExchange(t, r, "_\r\n", "CLIENT", "GETNAME")
	rawExchange(t, r, "_\r\n", "MEMORY", "USAGE", "missing")
	rawExchange(t, r, "_\r\n", "OBJECT", "ENCODING", "missing")
	rawExchange(t, r, "_\r\n", "SET", "new", "w", "GET")
	rawExchange(t, r, "$3\r\n1.5\r\n", "INCRBYFLOAT", "f", "1.5") // a bulk string in RESP3 too
	rawExchange(t, r, ":1\r\n", "EXPIRE", "f", "100")
	rawExchange(t, r, ":100\r\n", "TTL", "f")
	rawExchange(t, r, ":-2\r\n", "TTL", "missing")
	rawExchange(t, r, "+string\r\n", "TYPE", "k")
	rawExchange(t, r, helloBytes(3, id), "HELLO") // no version: stays RESP3

	info := rawVerbatim(t, r, "INFO", "server")
	if !strings.HasPrefix(info, "# Server\r\nredis_version:"+redisVersion+"\r\n") {
		t.Errorf("INFO server = %q", info)
	}
	if info := rawVerbatim(t, r, "INFO", "nosuchsection"); info != "" {
		t.Errorf("INFO nosuchsection = %q", info)
	}
	if ci := rawVerbatim(t, r, "CLIENT", "INFO"); !strings.HasPrefix(ci, "id="+strconv.FormatInt(id, 10)+" ") ||
		!strings.Contains(ci, " resp=3 ") || !strings.HasSuffix(ci, "\n") {
		t.Errorf("CLIENT INFO = %q", ci)
	}
	if cl := rawVerbatim(t, r, "CLIENT", "LIST"); !strings.Contains(cl, "id="+strconv.FormatInt(id, 10)+" ") {
		t.Errorf("CLIENT LIST = %q", cl)
	}

	// Errors are unchanged and do not switch the protocol.
	rawExchange(t, r, "-NOPROTO unsupported protocol version\r\n", "HELLO", "4")
	rawExchange(t, r, "-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "x")
	rawExchange(t, r, "_\r\n", "GET", "missing")

	// HELLO 2 switches back.
	rawExchange(t, r, helloBytes(2, id), "HELLO", "2")
	rawExchange(t, r, "$-1\r\n", "GET", "missing")
	rawExchange(t, r, "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n", "CONFIG", "GET", "databases")
	rawExchange(t, r, "*0\r\n", "COMMAND", "DOCS")

	// RESET returns to RESP2 (and, with no default tenant, to NOAUTH).
	rawExchange(t, r, helloBytes(3, id), "HELLO", "3")
	rawExchange(t, r, "+RESET\r\n", "RESET")
	rawExchange(t, r, "+OK\r\n", "AUTH", "alice", "alice-pw")
	rawExchange(t, r, "$-1\r\n", "GET", "missing")
	rawExchange(t, r, "+PONG\r\n", "PING") // nothing stray was left
}

// TestRESP3CommandInfo: COMMAND's RESP3 shape (sets where Redis 7.0 sends
// sets), read with the typed reader.
func TestRESP3CommandInfo(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	if _, ok := r.do("HELLO", "3").(respMap); !ok {
		t.Fatal("HELLO 3 did not answer a map")
	}
	got := norm(r.do("COMMAND", "INFO", "get"))
	want := []any{[]any{"get", int64(2), respSet{status("readonly"), status("fast")}, int64(1), int64(1), int64(1),
		respSet{status("@read"), status("@fast"), status("@keyspace")}, respSet{}, respSet{}, respSet{}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("COMMAND INFO get = %#v\nwant %#v", got, want)
	}
	got = norm(r.do("COMMAND", "INFO", "config"))
	cfg, _ := got.([]any)
	if len(cfg) != 1 {
		t.Fatalf("COMMAND INFO config = %#v", got)
	}
	entry := cfg[0].([]any)
	if subs, ok := entry[9].([]any); !ok || len(subs) == 0 {
		t.Errorf("config subcommands = %#v, want an array", entry[9])
	}
	// The whole table parses.
	if all, ok := r.do("COMMAND").([]any); !ok || len(all) != len(srv.ordered) {
		t.Errorf("COMMAND: %d entries", len(all))
	}
}

// TestGoRedisRESP3 runs go-redis v9 with Protocol 3, and checks that default
// options now negotiate RESP3 while Protocol 2 stays on RESP2.
func TestGoRedisRESP3(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", Protocol: 3})

	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: %v, want redis.Nil", err)
	}
	if got, err := c.MGet(ctx, "k", "missing").Result(); err != nil || !reflect.DeepEqual(got, []any{"v", nil}) {
		t.Fatalf("MGET = %#v, %v", got, err)
	}
	if got, err := c.ConfigGet(ctx, "maxmemory*").Result(); err != nil || got["maxmemory"] != "8388608" || got["maxmemory-samples"] != "5" {
		t.Fatalf("CONFIG GET = %v, %v", got, err)
	}
	if got, err := c.IncrByFloat(ctx, "f", 1.25).Result(); err != nil || got != 1.25 {
		t.Fatalf("INCRBYFLOAT = %v, %v", got, err)
	}
	if got, err := c.IncrByFloat(ctx, "f", 0.1).Result(); err != nil || got != 1.35 {
		t.Fatalf("INCRBYFLOAT = %v, %v", got, err)
	}
	if err := c.Set(ctx, "t", "x", 100*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.TTL(ctx, "t").Result(); err != nil || got != 100*time.Second {
		t.Fatalf("TTL = %v, %v", got, err)
	}
	if got, err := c.TTL(ctx, "missing").Result(); err != nil || got != -2 {
		t.Fatalf("TTL missing = %v, %v", got, err)
	}
	if got, err := c.Info(ctx, "server").Result(); err != nil || !strings.HasPrefix(got, "# Server\r\nredis_version:") {
		t.Fatalf("INFO = %q, %v", got, err)
	}
	if got, err := c.ClientList(ctx).Result(); err != nil || !strings.Contains(got, " resp=3 ") {
		t.Fatalf("CLIENT LIST = %q, %v", got, err)
	}
	if got, err := c.ClientInfo(ctx).Result(); err != nil || got.Resp != 3 || got.User != "alice" {
		t.Fatalf("CLIENT INFO = %+v, %v", got, err)
	}
	if got, err := c.Command(ctx).Result(); err != nil || got["get"] == nil || got["get"].Arity != 2 || !got["get"].ReadOnly {
		t.Fatalf("COMMAND = %v, %v", got["get"], err)
	}
	hello, err := c.Do(ctx, "HELLO").Result()
	if m, ok := hello.(map[any]any); err != nil || !ok || m["proto"] != int64(3) || m["server"] != "redis" {
		t.Fatalf("HELLO = %#v, %v", hello, err)
	}

	// A pipeline mixing nulls, maps and numbers.
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "p1", "a", 0)
		p.Get(ctx, "p1")
		p.Get(ctx, "nope")
		p.ConfigGet(ctx, "databases")
		p.Incr(ctx, "n")
		p.IncrByFloat(ctx, "pf", 2.5)
		p.MGet(ctx, "p1", "nope")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("pipeline: %v", err)
	}
	if got := cmds[1].(*redis.StringCmd).Val(); got != "a" {
		t.Errorf("pipelined GET = %q", got)
	}
	if err := cmds[2].Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("pipelined GET nope: %v", err)
	}
	if got := cmds[3].(*redis.MapStringStringCmd).Val(); got["databases"] != "16" {
		t.Errorf("pipelined CONFIG GET = %v", got)
	}
	if got := cmds[4].(*redis.IntCmd).Val(); got != 1 {
		t.Errorf("pipelined INCR = %d", got)
	}
	if got := cmds[5].(*redis.FloatCmd).Val(); got != 2.5 {
		t.Errorf("pipelined INCRBYFLOAT = %v", got)
	}
	if got := cmds[6].(*redis.SliceCmd).Val(); !reflect.DeepEqual(got, []any{"a", nil}) {
		t.Errorf("pipelined MGET = %#v", got)
	}

	// Default options negotiate RESP3 now; Protocol 2 stays on RESP2.
	for _, tc := range []struct{ proto, want int }{{0, 3}, {2, 2}} {
		d := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", Protocol: tc.proto})
		if got, err := d.ClientInfo(ctx).Result(); err != nil || got.Resp != tc.want {
			t.Errorf("Protocol %d: CLIENT INFO = %+v, %v", tc.proto, got, err)
		}
		if got, err := d.Get(ctx, "k").Result(); err != nil || got != "v" {
			t.Errorf("Protocol %d: GET = %q, %v", tc.proto, got, err)
		}
		if got, err := d.ConfigGet(ctx, "databases").Result(); err != nil || got["databases"] != "16" {
			t.Errorf("Protocol %d: CONFIG GET = %v, %v", tc.proto, got, err)
		}
	}
}

// TestRESP3Types checks the RESP3 shapes of the collection commands, each
// row on its own connection after HELLO 3:
//   - hash: HGETALL is a map, HRANDFIELD WITHVALUES one array per pair;
//   - set: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count are sets;
//     SRANDMEMBER with a count is an array;
//   - zset (against redis-server 7.0.15): scores are doubles, WITHSCORES
//     and counted pops are [member, score] pairs, a single pop is flat,
//     missing is null.
func TestRESP3Types(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"hash", []step{
			s(respMap{}, "HGETALL", "h"),
			s(int64(2), "HSET", "h", "a", "1", "b", "2"),
			s(respMap{"a", "1", "b", "2"}, "HGETALL", "h"),
			s(int64(1), "HDEL", "h", "b"),
			s([]any{[]any{"a", "1"}, []any{"a", "1"}}, "HRANDFIELD", "h", "-2", "WITHVALUES"),
			s([]any{[]any{"a", "1"}}, "HRANDFIELD", "h", "3", "WITHVALUES"),
			s([]any{"a"}, "HRANDFIELD", "h", "3"),
			s(nil, "HGET", "h", "zz"),
			s(nil, "HRANDFIELD", "missing"),
			s([]any{"0", []any{"a", "1"}}, "HSCAN", "h", "0"),
		}},
		{"set", []step{
			s(respSet{}, "SMEMBERS", "s"),
			s(int64(2), "SADD", "s", "a", "b"), s(int64(2), "SADD", "t", "b", "c"),
			s(respSet{"a", "b"}, "SMEMBERS", "s"),
			s(respSet{"b"}, "SINTER", "s", "t"), s(respSet{}, "SINTER", "s", "missing"),
			s(respSet{"a", "b", "c"}, "SUNION", "s", "t"),
			s(respSet{"a"}, "SDIFF", "s", "t"),
			s([]any{int64(1), int64(0)}, "SMISMEMBER", "s", "a", "c"),
			s([]any{"a", "b"}, "SRANDMEMBER", "s", "2"),
			s(nil, "SRANDMEMBER", "missing"), s(nil, "SPOP", "missing"),
			s(respSet{}, "SPOP", "missing", "2"), s(respSet{}, "SPOP", "s", "0"),
			s([]any{"0", []any{"b", "c"}}, "SSCAN", "t", "0"),
			s(respSet{"b", "c"}, "SPOP", "t", "5"),
		}},
		{"zset", []step{
			s(int64(3), "ZADD", "z", "1", "a", "2.5", "b", "inf", "c"),
			s(respDouble("2.5"), "ZSCORE", "z", "b"), s(nil, "ZSCORE", "z", "x"),
			s([]any{respDouble("1"), nil}, "ZMSCORE", "z", "a", "x"),
			s(respDouble("3.5"), "ZINCRBY", "z", "1", "b"), s(respDouble("4.5"), "ZADD", "z", "INCR", "1", "b"),
			s(nil, "ZADD", "z", "XX", "INCR", "1", "nope"),
			s([]any{[]any{"a", respDouble("1")}, []any{"b", respDouble("4.5")}}, "ZRANGE", "z", "0", "1", "WITHSCORES"),
			s([]any{[]any{"c", respDouble("inf")}}, "ZRANGEBYSCORE", "z", "5", "+inf", "WITHSCORES"),
			s([]any{"a", "b"}, "ZRANGE", "z", "0", "1"),
			s(nil, "ZRANK", "z", "x"), s(int64(1), "ZRANK", "z", "b"),
			s([]any{"0", []any{"a", "1", "b", "4.5", "c", "inf"}}, "ZSCAN", "z", "0"),
			s([]any{"a", respDouble("1")}, "ZPOPMIN", "z"),
			s([]any{[]any{"c", respDouble("inf")}}, "ZPOPMAX", "z", "1"),
			s([]any{}, "ZPOPMAX", "missing"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), false)
			r := dialAs(t, srv.addr, "alice", "alice-pw")
			r.do("HELLO", "3")
			runSteps(t, r, tc.steps, nil)
		})
	}
}
