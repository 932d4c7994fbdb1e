package server

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// TestRueidisClientSideCaching: rueidis (the Redis-maintained Go client)
// with its default options, client-side caching on (HELLO 3, CLIENT
// TRACKING ON OPTIN, CLIENT CACHING YES before each cached read):
// connects, serves DoCache from its cache, and misses after another
// connection of the tenant writes the key, not after another tenant
// writes the same name.
func TestRueidisClientSideCaching(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{ts.addr}, Username: "alice", Password: "alice-pw",
		DisableRetry: true,
	})
	if err != nil {
		t.Fatalf("rueidis.NewClient with default options: %v", err)
	}
	defer cl.Close()
	writer := redis.NewClient(&redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	defer writer.Close()
	other := redis.NewClient(&redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw"})
	defer other.Close()

	get := func(key string) (string, bool) {
		t.Helper()
		r := cl.DoCache(ctx, cl.B().Get().Key(key).Cache(), time.Minute)
		v, err := r.ToString()
		if err != nil {
			t.Fatalf("DoCache GET %s: %v", key, err)
		}
		return v, r.IsCacheHit()
	}
	if err := writer.Set(ctx, "rk", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, hit := get("rk"); v != "v1" || hit {
		t.Fatalf("first DoCache = %q hit=%v, want v1 from the server", v, hit)
	}
	if v, hit := get("rk"); v != "v1" || !hit {
		t.Fatalf("second DoCache = %q hit=%v, want v1 from the cache", v, hit)
	}
	// Another tenant writes the same name: still cached.
	other.Set(ctx, "rk", "b's", 0)
	time.Sleep(100 * time.Millisecond)
	if v, hit := get("rk"); v != "v1" || !hit {
		t.Fatalf("after another tenant's write: %q hit=%v, want v1 from the cache", v, hit)
	}
	// The tenant writes it: the invalidation drops the entry.
	writer.Set(ctx, "rk", "v2", 0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, hit := get("rk")
		if !hit && v == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the tenant's write: %q hit=%v, want v2 from the server", v, hit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A TTL the server sets: PTTL is read in the same transaction.
	writer.Set(ctx, "rk2", "x", 0)
	writer.Expire(ctx, "rk2", time.Hour)
	get("rk2")
	if _, hit := get("rk2"); !hit {
		t.Fatal("rk2 not cached")
	}
	writer.Del(ctx, "rk2")
	deadline = time.Now().Add(5 * time.Second)
	for {
		r := cl.DoCache(ctx, cl.B().Get().Key("rk2").Cache(), time.Minute)
		if rueidis.IsRedisNil(r.Error()) && !r.IsCacheHit() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after DEL: %v hit=%v", r.Error(), r.IsCacheHit())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Plain commands still work on the same client.
	if err := cl.Do(ctx, cl.B().Set().Key("rk3").Value("z").Build()).Error(); err != nil {
		t.Fatalf("SET through rueidis: %v", err)
	}
}

// TestGoRedisTrackingRedirect: go-redis (RESP2) tracks through the RESP2
// redirect: one connection subscribes to __redis__:invalidate, another
// turns tracking on with REDIRECT to it, reads, and a write of the tenant
// arrives as a message on the channel.
func TestGoRedisTrackingRedirect(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", Protocol: 2})
	defer rdb.Close()
	ps := rdb.Subscribe(ctx, "__redis__:invalidate")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	// The subscriber's id, from CLIENT LIST (the one in SUBSCRIBE).
	var subID int64
	list, _ := rdb.ClientList(ctx).Result()
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			if k, v, found := strings.Cut(kv, "="); found {
				f[k] = v
			}
		}
		if f["cmd"] == "subscribe" {
			subID, _ = strconv.ParseInt(f["id"], 10, 64)
		}
	}
	if subID == 0 {
		t.Fatalf("no subscriber in CLIENT LIST:\n%s", list)
	}
	conn := rdb.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "CLIENT", "TRACKING", "on", "REDIRECT", subID).Err(); err != nil {
		t.Fatalf("CLIENT TRACKING ON REDIRECT: %v", err)
	}
	if got := conn.Do(ctx, "CLIENT", "GETREDIR").Val(); got != subID {
		t.Fatalf("GETREDIR = %v, want %d", got, subID)
	}
	conn.Get(ctx, "gk")
	rdb.Set(ctx, "gk", "1", 0)
	msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
	if err != nil {
		t.Fatalf("no invalidation message: %v", err)
	}
	m, isMsg := msg.(*redis.Message)
	if !isMsg || m.Channel != "__redis__:invalidate" || len(m.PayloadSlice) != 1 || m.PayloadSlice[0] != "gk" {
		t.Fatalf("invalidation = %#v", msg)
	}
	// (A flush sends a null payload, `$-1` as Redis 7.0 does in RESP2,
	// which go-redis's PubSub reports as an unsupported payload against
	// redis-server too: TestTrackingInvalidationSources covers it.)
}

// TestRueidisScripting: rueidis's Lua helpers with default options:
// NewLuaScript runs EVALSHA and falls back to EVAL on NOSCRIPT, Exec and
// a read-only script (EVALSHA_RO) reach only the tenant's keys, the script is the
// tenant's (another tenant's SCRIPT EXISTS says 0), and FUNCTION LOAD +
// FCALL/FCALL_RO work through the command builder.
func TestRueidisScripting(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{ts.addr}, Username: "alice", Password: "alice-pw", DisableRetry: true,
	})
	if err != nil {
		t.Fatalf("rueidis.NewClient: %v", err)
	}
	defer cl.Close()
	other := redis.NewClient(&redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw"})
	defer other.Close()
	other.Set(ctx, "rs", "bob's", 0)

	incr := rueidis.NewLuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
	for i, want := range []int64{5, 10} {
		n, err := incr.Exec(ctx, cl, []string{"rs"}, []string{"5"}).AsInt64()
		if err != nil || n != want {
			t.Fatalf("script run %d = %d, %v; want %d", i, n, err, want)
		}
	}
	get := rueidis.NewLuaScriptReadOnly("return redis.call('GET', KEYS[1])")
	if v, err := get.Exec(ctx, cl, []string{"rs"}, nil).ToString(); err != nil || v != "10" {
		t.Fatalf("read-only script = %q, %v; want 10 (the tenant's own key)", v, err)
	}
	if v := other.Get(ctx, "rs").Val(); v != "bob's" {
		t.Fatalf("another tenant's key of the same name = %q after the scripts", v)
	}
	sum := sha1.Sum([]byte("return redis.call('INCRBY', KEYS[1], ARGV[1])"))
	sha := hex.EncodeToString(sum[:])
	if ex, err := cl.Do(ctx, cl.B().ScriptExists().Sha1(sha).Build()).AsIntSlice(); err != nil || len(ex) != 1 || ex[0] != 1 {
		t.Fatalf("SCRIPT EXISTS own = %v, %v", ex, err)
	}
	if ex := other.ScriptExists(ctx, sha).Val(); len(ex) != 1 || ex[0] {
		t.Fatalf("another tenant sees the script: %v", ex)
	}
	// A script error reaches the caller as a Redis error.
	bad := rueidis.NewLuaScript("return redis.call('nosuchcommand')")
	if err := bad.Exec(ctx, cl, nil, nil).Error(); err == nil || !strings.Contains(err.Error(), "Unknown Redis command called from script") {
		t.Fatalf("bad script error = %v", err)
	}

	lib := "#!lua name=rlib\nredis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)\n" +
		"redis.register_function{function_name='len', callback=function(keys) return redis.call('STRLEN', keys[1]) end, flags={'no-writes'}}"
	if v, err := cl.Do(ctx, cl.B().FunctionLoad().Replace().FunctionCode(lib).Build()).ToString(); err != nil || v != "rlib" {
		t.Fatalf("FUNCTION LOAD = %q, %v", v, err)
	}
	if v, err := cl.Do(ctx, cl.B().Fcall().Function("hello").Numkeys(0).Arg("rueidis").Build()).ToString(); err != nil || v != "hello rueidis" {
		t.Fatalf("FCALL = %q, %v", v, err)
	}
	if n, err := cl.Do(ctx, cl.B().FcallRo().Function("len").Numkeys(1).Key("rs").Build()).AsInt64(); err != nil || n != 2 {
		t.Fatalf("FCALL_RO len = %d, %v; want 2", n, err)
	}
	if err := other.FCall(ctx, "hello", nil, "x").Err(); err == nil || !strings.Contains(err.Error(), "Function not found") {
		t.Fatalf("another tenant's FCALL of the library = %v, want Function not found", err)
	}
}
