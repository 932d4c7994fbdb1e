package server

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/config"
)

// scriptConfig is testConfig with short script limits on tenant a (a
// custom tier), so that busy scripts and script_max_time are reached
// quickly.
func scriptConfig(busy, max time.Duration) *config.Config {
	cfg := testConfig()
	tier := cfg.Tenants[0].Tier
	tier.ScriptTimeLimit, tier.ScriptMaxTime = busy, max
	cfg.Tenants[0].Tier = tier
	return cfg
}

// TestScriptGoRedis drives scripts and functions through go-redis's own
// helpers, in RESP3 (its default) and RESP2.
func TestScriptGoRedis(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	for _, proto := range []int{3, 2} {
		ctx := grCtx(t)
		c := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
		c.FlushDB(ctx)
		c.ScriptFlush(ctx)
		c.FunctionFlush(ctx)
		// Script.Run tries EVALSHA, and EVAL on NOSCRIPT.
		incr := redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
		for want := int64(5); want <= 10; want += 5 {
			if n, err := incr.Run(ctx, c, []string{"counter" + itoaI(proto)}, 5).Int64(); err != nil || n != want {
				t.Fatalf("RESP%d Script.Run = %d, %v; want %d", proto, n, err, want)
			}
		}
		if ok, err := c.ScriptExists(ctx, incr.Hash(), "ffffffffffffffffffffffffffffffffffffffff").Result(); err != nil || !reflect.DeepEqual(ok, []bool{true, false}) {
			t.Fatalf("ScriptExists = %v, %v", ok, err)
		}
		if v, err := c.Eval(ctx, "return {KEYS[1], ARGV[1], 3, {err='x'}}", []string{"k"}, "a").Slice(); err != nil || len(v) != 4 ||
			v[0] != "k" || v[1] != "a" || v[2] != int64(3) || !isErr(v[3], "x") {
			t.Fatalf("Eval = %#v, %v", v, err)
		}
		if _, err := c.EvalRO(ctx, "return redis.call('set', 'x', 'y')", nil).Result(); err == nil ||
			!strings.HasPrefix(err.Error(), "ERR Write commands are not allowed from read-only scripts.") {
			t.Fatalf("EvalRO write: %v", err)
		}
		sha, err := c.ScriptLoad(ctx, "return 'loaded'").Result()
		if err != nil {
			t.Fatal(err)
		}
		if v, err := c.EvalSha(ctx, sha, nil).Result(); err != nil || v != "loaded" {
			t.Fatalf("EvalSha = %v, %v", v, err)
		}
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.EvalSha(ctx, sha, nil).Result(); err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
			t.Fatalf("EvalSha after SCRIPT FLUSH: %v", err)
		}
		// Functions.
		lib := "#!lua name=mylib\n" +
			"redis.register_function('hset_get', function(keys, args) redis.call('HSET', keys[1], args[1], args[2]) return redis.call('HGET', keys[1], args[1]) end)\n" +
			"redis.register_function{function_name='ro', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}"
		if name, err := c.FunctionLoad(ctx, lib).Result(); err != nil || name != "mylib" {
			t.Fatalf("FunctionLoad = %q, %v", name, err)
		}
		if v, err := c.FCall(ctx, "hset_get", []string{"h"}, "f", "v").Result(); err != nil || v != "v" {
			t.Fatalf("FCall = %v, %v", v, err)
		}
		c.Set(ctx, "s", "val", 0)
		if v, err := c.FCallRO(ctx, "ro", []string{"s"}).Result(); err != nil || v != "val" {
			t.Fatalf("FCallRO = %v, %v", v, err)
		}
		if _, err := c.FCallRO(ctx, "hset_get", []string{"h"}, "f", "v").Result(); err == nil ||
			err.Error() != "ERR Can not execute a script with write flag using *_ro command." {
			t.Fatalf("FCallRO of a writing function: %v", err)
		}
		libs, err := c.FunctionList(ctx, redis.FunctionListQuery{WithCode: true}).Result()
		if err != nil || len(libs) != 1 || libs[0].Name != "mylib" || libs[0].Code != lib || len(libs[0].Functions) != 2 {
			t.Fatalf("FunctionList = %+v, %v", libs, err)
		}
		dump, err := c.FunctionDump(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		c.FunctionFlush(ctx)
		if _, err := c.FCall(ctx, "hset_get", []string{"h"}, "f", "v").Result(); err == nil {
			t.Fatal("FCall after FUNCTION FLUSH succeeded")
		}
		if err := c.FunctionRestore(ctx, dump).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := c.FCall(ctx, "hset_get", []string{"h"}, "f", "w").Result(); err != nil || v != "w" {
			t.Fatalf("FCall after FUNCTION RESTORE = %v, %v", v, err)
		}
		if err := c.FunctionDelete(ctx, "mylib").Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func isErr(v any, msg string) bool {
	e, ok := v.(error)
	return ok && e.Error() == msg
}

// TestScriptFunctionDumpCompat restores a FUNCTION DUMP of a real
// redis-server (LZF-compressed) into tcached, and tcached's dump into
// redis-server.
func TestScriptFunctionDumpCompat(t *testing.T) {
	redisAddr := startRealRedis(t)
	srv := startServer(t, defaultTenantConfig(), false)
	tc, rd := dialRaw(t, srv.addr), dialRaw(t, redisAddr)
	lib := "#!lua name=compat\nredis.register_function('hello', function(keys, args) return 'hello ' .. (args[1] or 'world') .. string.rep('!', 30) end)"
	rd.do("FUNCTION", "LOAD", lib)
	dump := rd.do("FUNCTION", "DUMP")
	payload := dump[strings.Index(dump, "\r\n")+2 : len(dump)-2]
	if got := tc.do("FUNCTION", "RESTORE", payload); got != "+OK\r\n" {
		t.Fatalf("RESTORE of redis-server's dump: %q", got)
	}
	if got, want := tc.do("FCALL", "hello", "0", "there"), rd.do("FCALL", "hello", "0", "there"); got != want {
		t.Fatalf("FCALL after restore: %q, redis-server %q", got, want)
	}
	rd.do("FUNCTION", "FLUSH")
	tdump := tc.do("FUNCTION", "DUMP")
	if tdump != dump {
		t.Errorf("FUNCTION DUMP differs from redis-server's:\n tcached %q\n redis   %q", tdump, dump)
	}
	tpayload := tdump[strings.Index(tdump, "\r\n")+2 : len(tdump)-2]
	if got := rd.do("FUNCTION", "RESTORE", tpayload); got != "+OK\r\n" {
		t.Fatalf("redis-server's RESTORE of tcached's dump: %q", got)
	}
	if got := rd.do("FUNCTION", "LIST", "WITHCODE"); !strings.Contains(got, "compat") {
		t.Fatalf("redis-server FUNCTION LIST after restore: %q", got)
	}
	corrupt := []byte(tpayload)
	corrupt[len(corrupt)-1] ^= 1
	if got := tc.do("FUNCTION", "RESTORE", string(corrupt)); got != "-ERR DUMP payload version or checksum are wrong\r\n" {
		t.Fatalf("RESTORE of a corrupt payload: %q", got)
	}
	if got := tc.do("FUNCTION", "RESTORE", tpayload); got != "-ERR Library compat already exists\r\n" {
		t.Fatalf("RESTORE APPEND over an existing library: %q", got)
	}
	if got := tc.do("FUNCTION", "RESTORE", tpayload, "REPLACE"); got != "+OK\r\n" {
		t.Fatalf("RESTORE REPLACE: %q", got)
	}
}

// TestScriptIsolation: one tenant's scripts, script cache and libraries
// are invisible to another, and a script reaches only its caller's
// keyspace, whatever it tries (keys, KEYS and SCAN patterns, SELECT,
// RANDOMKEY, SHA guessing).
func TestScriptIsolation(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	for db := 0; db < 16; db++ {
		b.do("SELECT", itoaI(db))
		b.do("SET", "bkey", "secret")
		b.do("SET", "shared", "b's")
	}
	b.do("SELECT", "0")
	a.do("SET", "shared", "a's")
	sha := norm(a.do("SCRIPT", "LOAD", "return 'a script'"))
	if got := b.do("SCRIPT", "EXISTS", sha.(string)); !reflect.DeepEqual(got, []any{int64(0)}) {
		t.Errorf("b sees a's script: %#v", got)
	}
	if got := b.do("EVALSHA", sha.(string), "0"); got != respErr(errNoScript) {
		t.Errorf("b's EVALSHA of a's SHA = %#v", got)
	}
	if got := norm(a.do("FUNCTION", "LOAD", "#!lua name=alib\nredis.register_function('afn', function() return 'a' end)")); got != "alib" {
		t.Fatalf("FUNCTION LOAD = %#v", got)
	}
	if got := b.do("FCALL", "afn", "0"); got != respErr(errFunctionNotFound) {
		t.Errorf("b's FCALL of a's function = %#v", got)
	}
	if got := b.do("FUNCTION", "LIST"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("b's FUNCTION LIST = %#v", got)
	}
	if got := norm(b.do("FUNCTION", "LOAD", "#!lua name=alib\nredis.register_function('afn', function() return 'b' end)")); got != "alib" {
		t.Errorf("b cannot load a library of the same name: %#v", got)
	}
	if got := norm(a.do("FCALL", "afn", "0")); got != "a" {
		t.Errorf("a's function after b loaded its own = %#v", got)
	}
	// Everything a script can name resolves in a's keyspace.
	reach := `
local seen = {}
local function add(v) if type(v) == 'table' then for _, x in ipairs(v) do add(x) end elseif v then table.insert(seen, tostring(v)) end end
add(redis.call('get', 'bkey'))
add(redis.call('get', 'shared'))
for db = 0, 15 do
  redis.call('select', db)
  add(redis.call('keys', '*'))
  add(redis.call('scan', 0, 'match', '*', 'count', 1000)[2])
  add(redis.call('randomkey'))
  add(redis.call('exists', 'bkey'))
end
local ok = pcall(redis.call, 'select', 16)
add(ok and 'select16' or 'refused')
return seen`
	got := norm(a.do("EVAL", reach, "0"))
	list, _ := got.([]any)
	var seen []string
	for _, v := range list {
		seen = append(seen, v.(string))
	}
	sort.Strings(seen)
	// a's only key is "shared" in db 0: KEYS, SCAN and RANDOMKEY give it
	// once each, and nothing of b's.
	want := []string{"0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0",
		"a's", "refused", "shared", "shared", "shared"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("a script reached %q, want %q", seen, want)
	}
	for _, cmd := range [][]string{{"EVAL", "return redis.call('auth', 'bob', 'bob-pw')", "0"},
		{"EVAL", "return redis.call('client', 'list')", "0"},
		{"EVAL", "return redis.call('tenant', 'list')", "0"},
		{"EVAL", "return redis.call('flushall')", "0"}} {
		r := a.do(cmd...)
		if cmd[1] == "return redis.call('flushall')" {
			continue // a's own data; checked below that b's survives
		}
		if e, ok := r.(respErr); !ok || !strings.HasPrefix(string(e), "ERR This Redis command is not allowed from script") {
			t.Errorf("%q = %#v", cmd, r)
		}
	}
	// b's data and b's connection are untouched.
	for db := 0; db < 16; db++ {
		b.do("SELECT", itoaI(db))
		if got := norm(b.do("GET", "bkey")); got != "secret" {
			t.Fatalf("b's key in db %d after a's scripts = %#v", db, got)
		}
	}
	// The script cache and libraries are charged to their own tenant.
	ta, tb := srv.reg.Load().tenants["a"], srv.reg.Load().tenants["b"]
	if ta.engine().Charged() <= 0 || tb.engine().Charged() <= 0 || ta.engine().Charged() == tb.engine().Charged() {
		t.Errorf("scripting charges: a %d, b %d", ta.engine().Charged(), tb.engine().Charged())
	}
}

// TestScriptRoles: a script runs with its caller's role.
func TestScriptRoles(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	rw := dialAs(t, srv.addr, "alice", "alice-pw")
	ro := dialAs(t, srv.addr, "aro", "aro-pw")
	rw.do("SET", "k", "v")
	if got := norm(ro.do("EVAL", "return redis.call('get', 'k')", "0")); got != "v" {
		t.Errorf("readonly EVAL of a read = %#v", got)
	}
	got := ro.do("EVAL", "return redis.call('set', 'k', 'w')", "0")
	if e, ok := got.(respErr); !ok || !strings.HasPrefix(string(e), "ERR The user executing the script can't run this command or subcommand script: ") {
		t.Errorf("readonly EVAL of a write = %#v", got)
	}
	if got := ro.do("EVAL", "return redis.acl_check_cmd('set', 'k', 'w')", "0"); got != nil {
		t.Errorf("readonly acl_check_cmd('set') = %#v", got)
	}
	if got := ro.do("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f', function() end)"); got != respErr("NOPERM this user has no permissions to run the 'function|load' command") {
		t.Errorf("readonly FUNCTION LOAD = %#v", got)
	}
	if got, ok := rw.do("EVAL", "return redis.call('flushall')", "0").(respErr); !ok ||
		!strings.HasPrefix(string(got), "ERR The user executing the script can't run this command or subcommand script: ") {
		t.Errorf("readwrite EVAL of FLUSHALL (admin only) = %#v", got)
	}
	if got := norm(rw.do("GET", "k")); got != "v" {
		t.Errorf("k after the refused writes = %#v", got)
	}
}

// TestScriptRateLimit: a script's redis.call takes its tenant's rate
// tokens, so a script is no way around rate_limit.
func TestScriptRateLimit(t *testing.T) {
	cfg := testConfig()
	tier := cfg.Tenants[0].Tier
	tier.RateLimit, tier.Burst = 1, 10
	cfg.Tenants[0].Tier = tier
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	got := norm(a.do("EVAL", `local ok, refused = 0, 0
for i = 1, 50 do
  local r = redis.pcall('ping')
  if r.err then refused = refused + 1 else ok = ok + 1 end
  if r.err and r.err ~= 'TCBUSY tenant rate limit reached (rate_limit)' then return r end
end
return {ok, refused}`, "0"))
	l, isList := got.([]any)
	if !isList || len(l) != 2 || l[0].(int64) > 10 || l[0].(int64) < 5 || l[1].(int64) < 40 {
		t.Errorf("50 calls under a burst of 10 (EVAL and AUTH took tokens too): %#v", got)
	}
}

// TestScriptTransactions: EVAL inside MULTI runs at EXEC, atomically;
// a script's writes fire WATCH.
func TestScriptTransactions(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a2 := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("MULTI")
	a.do("EVAL", "return redis.call('incr', 'n')", "0")
	a.do("EVAL", "return redis.call('incr', 'n')", "0")
	if got := a.do("EXEC"); !reflect.DeepEqual(got, []any{int64(1), int64(2)}) {
		t.Errorf("EXEC of two EVALs = %#v", got)
	}
	a.do("WATCH", "w")
	a2.do("EVAL", "return redis.call('set', 'w', 'x')", "0")
	a.do("MULTI")
	a.do("GET", "w")
	if got := a.do("EXEC"); got != (nilArray{}) && got != nil {
		t.Errorf("EXEC after a script wrote a watched key = %#v", got)
	}
}

// TestScriptWakesBlockedClient: a push inside a script wakes the
// tenant's BLPOP, which is served once the script has ended (it takes the
// tenant's lock), never in its middle.
func TestScriptWakesBlockedClient(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	waiter := dialAs(t, srv.addr, "alice", "alice-pw")
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	got := make(chan any, 1)
	var servedAt time.Time
	waiter.send(encode("BLPOP", "q", "5"))
	go func() { v := waiter.read(); servedAt = time.Now(); got <- v }()
	time.Sleep(50 * time.Millisecond) // let it block
	script := `redis.call('rpush', 'q', 'first')
local t0 = redis.call('time')
repeat local t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 200000
redis.call('rpush', 'q', 'second')
return redis.call('llen', 'q')`
	if n := a.do("EVAL", script, "0"); n != int64(2) {
		t.Fatalf("EVAL = %#v", n)
	}
	ended := time.Now()
	select {
	case v := <-got:
		if !reflect.DeepEqual(norm(v), []any{"q", "first"}) {
			t.Errorf("BLPOP = %#v", norm(v))
		}
		if servedAt.Before(ended.Add(-50 * time.Millisecond)) {
			t.Errorf("BLPOP was served %v before the script ended", ended.Sub(servedAt))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BLPOP was not woken by the script's push")
	}
	if got := norm(a.do("LRANGE", "q", "0", "-1")); !reflect.DeepEqual(got, []any{"second"}) {
		t.Errorf("list after = %#v", got)
	}
}

// TestScriptStopsOnShutdown: Close does not wait for a looping script
// (it stops at its next checkpoint).
func TestScriptStopsOnShutdown(t *testing.T) {
	srv := startServer(t, scriptConfig(100*time.Millisecond, time.Minute), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.send(encode("EVAL", "while true do end", "0"))
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	srv.Close()
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Close took %v with a looping script", d)
	}
}

// TestScriptBusyAndKill: a script past its tenant's busy threshold makes
// that tenant's other commands BUSY while another tenant is served as
// usual; SCRIPT KILL and FUNCTION KILL stop it unless it wrote; and
// script_max_time stops it regardless.
func TestScriptBusyAndKill(t *testing.T) {
	srv := startServer(t, scriptConfig(200*time.Millisecond, 3*time.Second), false)
	runner := dialAs(t, srv.addr, "alice", "alice-pw")
	other := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	start := func(args ...string) chan any {
		ch := make(chan any, 1)
		runner.send(encode(args...))
		go func() { ch <- runner.read() }()
		return ch
	}
	done := start("EVAL", "local i = 0 while true do i = i + 1 end", "0")
	time.Sleep(50 * time.Millisecond)
	// Before the threshold a command waits; at it, it is answered BUSY.
	t0 := time.Now()
	if got := other.do("GET", "x"); got != respErr(errBusyEval) {
		t.Fatalf("GET during a busy script = %#v", got)
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("GET was answered after %v: it should wait for the busy threshold (200ms)", d)
	}
	// Another tenant is never held up.
	for i := 0; i < 20; i++ {
		t1 := time.Now()
		if got := b.do("PING"); got != status("PONG") {
			t.Fatalf("other tenant's PING = %#v", got)
		}
		if d := time.Since(t1); d > 100*time.Millisecond {
			t.Errorf("other tenant's PING took %v during a busy script", d)
		}
	}
	// MULTI is allowed, the queued command is refused, EXEC aborts.
	other.do("MULTI")
	if got := other.do("GET", "x"); got != respErr(errBusyEval) {
		t.Errorf("queued GET during a busy script = %#v", got)
	}
	if got := other.do("EXEC"); got != respErr(errExecAbortBecause+errBusyEval) {
		t.Errorf("EXEC during a busy script = %#v", got)
	}
	if got := other.do("FUNCTION", "KILL"); got != respErr(errBusyEval) {
		t.Errorf("FUNCTION KILL of an EVAL = %#v", got)
	}
	if got := other.do("FUNCTION", "STATS"); got != respErr(errBusyEval) {
		t.Errorf("FUNCTION STATS during an EVAL = %#v", got)
	}
	if got := other.do("SCRIPT", "KILL"); got != ok {
		t.Fatalf("SCRIPT KILL = %#v", got)
	}
	select {
	case got := <-done:
		if e, ok := got.(respErr); !ok || !strings.HasPrefix(string(e), "ERR Script killed by user with SCRIPT KILL... script: ") {
			t.Errorf("killed script's reply = %#v", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the killed script did not stop")
	}
	if got := other.do("SCRIPT", "KILL"); got != respErr(errNotBusy) {
		t.Errorf("SCRIPT KILL with no script = %#v", got)
	}
	if got := other.do("PING"); got != status("PONG") {
		t.Errorf("PING after the kill = %#v", got)
	}
	// A function: FUNCTION KILL, and FUNCTION STATS shows it.
	other.do("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)")
	done = start("FCALL", "spin", "0")
	time.Sleep(300 * time.Millisecond)
	stats := other.do("FUNCTION", "STATS")
	if l, ok := stats.([]any); !ok || len(l) != 4 || !reflect.DeepEqual(norm(l[1]), []any{"name", "spin", "command", []any{"FCALL", "spin", "0"}, "duration_ms", norm(l[1]).([]any)[5]}) {
		t.Errorf("FUNCTION STATS during FCALL = %#v", norm(stats))
	}
	if got := other.do("SCRIPT", "KILL"); got != respErr(errBusyFunction) {
		t.Errorf("SCRIPT KILL of a function = %#v", got)
	}
	if got := other.do("FUNCTION", "KILL"); got != ok {
		t.Fatalf("FUNCTION KILL = %#v", got)
	}
	<-done
	// A script that wrote cannot be killed; script_max_time stops it.
	done = start("EVAL", "redis.call('set', 'w', '1') while true do end", "0")
	time.Sleep(300 * time.Millisecond)
	if got := other.do("SCRIPT", "KILL"); got != respErr(errUnkillable) {
		t.Errorf("SCRIPT KILL after a write = %#v", got)
	}
	select {
	case got := <-done:
		if e, ok := got.(respErr); !ok || !strings.HasPrefix(string(e), "ERR Script killed by the server: it ran past script_max_time") {
			t.Errorf("script past script_max_time = %#v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("script_max_time did not stop the script")
	}
	if got := norm(other.do("GET", "w")); got != "1" {
		t.Errorf("the stopped script's write = %#v (it stays, as after a crash)", got)
	}
}

// TestScriptAttacks: scripts that loop, allocate without end, recurse,
// build huge strings or replies are stopped with an error in bounded
// time, their memory charge is given back, and another tenant is served
// meanwhile.
func TestScriptAttacks(t *testing.T) {
	// script_max_time is long: the loops are stopped by SCRIPT KILL (from
	// another connection), the rest must stop on their own limits.
	srv := startServer(t, scriptConfig(100*time.Millisecond, 20*time.Second), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	killer := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	ta := srv.reg.Load().tenants["a"]
	var bmax time.Duration
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // b's latency while a attacks
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			b.do("PING")
			d := time.Since(t0)
			mu.Lock()
			bmax = max(bmax, d)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	base := ta.cmem.used.Load()
	for _, tc := range []struct{ name, src, want string }{
		{"infinite loop", "while true do end", "ERR Script killed by user with SCRIPT KILL..."},
		{"loop in pcall", "while true do pcall(function() while true do end end) end", "ERR Script killed by user with SCRIPT KILL..."},
		{"memory bomb", "local t = {} while true do t[#t+1] = string.rep('x', 4096) end", "OOM Script killed by the server: its Lua heap"},
		{"string doubling", "local s = 'x' while true do s = s .. s end", "memory"},
		{"one huge string", "return string.rep('x', 2^40)", "memory"},
		{"deep recursion", "local function f(n) return f(n + 1) + 1 end return f(1)", "ERR user_script:1: stack overflow"},
		{"huge reply", "local t = {} for i = 1, 2e6 do t[i] = i end return t", "memory"},
		{"coroutine bomb", "local t = {} while true do t[#t+1] = coroutine.create(function() end) end", "memory"},
		{"pattern backtracking", "return string.find(string.rep('a', 5000), '.-.-.-.-b')", "ERR Script killed by user with SCRIPT KILL..."},
		{"cjson bomb", "local s = '[' .. string.rep('1,', 3e6) .. '1]' return #cjson.encode(cjson.decode(s))", "memory"},
	} {
		t0 := time.Now()
		killed := make(chan any, 1)
		if strings.Contains(tc.want, "SCRIPT KILL") {
			go func() {
				time.Sleep(300 * time.Millisecond)
				killed <- killer.do("SCRIPT", "KILL")
			}()
		}
		got := a.do("EVAL", tc.src, "0")
		if strings.Contains(tc.want, "SCRIPT KILL") {
			if k := <-killed; k != ok {
				t.Errorf("%s: SCRIPT KILL = %#v", tc.name, k)
			}
		}
		e, ok := got.(respErr)
		switch {
		case !ok:
			t.Errorf("%s: got %#v, want an error", tc.name, got)
		case tc.want == "memory":
			if !strings.Contains(string(e), "not enough memory") && !strings.HasPrefix(string(e), "OOM Script killed by the server") &&
				!strings.HasPrefix(string(e), "ERR Script reply too large") {
				t.Errorf("%s: got %q, want a memory error", tc.name, e)
			}
		case !strings.HasPrefix(string(e), tc.want):
			t.Errorf("%s: got %q, want %q", tc.name, e, tc.want)
		}
		if d := time.Since(t0); d > 15*time.Second {
			t.Errorf("%s took %v", tc.name, d)
		}
		if got := a.do("PING"); got != status("PONG") {
			t.Fatalf("after %s: PING = %#v", tc.name, got)
		}
		if used := ta.cmem.used.Load(); used > base+1<<20 {
			t.Errorf("after %s the tenant's client memory holds %d bytes more than before", tc.name, used-base)
		}
	}
	close(stop)
	wg.Wait()
	if bmax > 250*time.Millisecond {
		t.Errorf("another tenant's PING took up to %v during the attacks", bmax)
	}
}

// TestScriptRedisCLI runs a script file with redis-cli --eval, as a user
// debugging a tenant would.
func TestScriptRedisCLI(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	host, port, _ := strings.Cut(srv.addr, ":")
	file := filepath.Join(t.TempDir(), "incr.lua")
	if err := os.WriteFile(file, []byte("redis.call('SET', KEYS[1], ARGV[1])\nreturn {KEYS[1], redis.call('INCRBY', KEYS[1], ARGV[2])}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := redisCLI(t, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw", "--no-auth-warning",
		"--eval", file, "cli:key", ",", "40", "2")
	if code != 0 || out != "cli:key\n42\n" {
		t.Errorf("redis-cli --eval: code %d, out %q, err %q", code, out, errOut)
	}
	out, _, _ = redisCLI(t, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw", "--no-auth-warning",
		"--eval", file, "cli:key", ",", "x", "y")
	if !strings.Contains(out, "ERR value is not an integer or out of range script:") {
		t.Errorf("redis-cli --eval of a failing script: %q", out)
	}
}
