package server

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// hostileKeys are key names whose bytes would break a naive
// "prefix + key" namespace: glob metacharacters, hash tags, separators,
// NUL, CRLF and a very long key.
var hostileKeys = []string{
	"plain", "a:b", ":", "::", "{tag}", "{", "}", "*", "?", "[", "]", "[a-z]", `\`, `\*`,
	"\x00", "a\x00b", "\r\n", "b:a", "a*", "user:{1}:*", strings.Repeat("L", 70000),
}

func scanAll(t *testing.T, r *rconn, args ...string) []string {
	t.Helper()
	cursor := "0"
	seen := map[string]bool{}
	for i := 0; i < 100000; i++ {
		rep := norm(r.do(append([]string{"SCAN", cursor}, args...)...)).([]any)
		cursor = rep[0].(string)
		for _, k := range rep[1].([]any) {
			seen[k.(string)] = true
		}
		if cursor == "0" {
			break
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysReply(t *testing.T, r *rconn, pattern string) []string {
	t.Helper()
	var out []string
	for _, k := range norm(r.do("KEYS", pattern)).([]any) {
		out = append(out, k.(string))
	}
	sort.Strings(out)
	return out
}

func TestIsolationSameKeyNames(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	for _, k := range hostileKeys {
		if got := a.do("SET", k, "A:"+k[:min(len(k), 8)]); got != ok {
			t.Fatalf("a SET %q = %v", k, got)
		}
		if got := b.do("SET", k, "B:"+k[:min(len(k), 8)]); got != ok {
			t.Fatalf("b SET %q = %v", k, got)
		}
	}
	b.do("SET", "b-only", "secret")
	for _, k := range hostileKeys {
		if got := norm(a.do("GET", k)); got != "A:"+k[:min(len(k), 8)] {
			t.Errorf("a GET %q = %v", k, got)
		}
	}
	if got := a.do("GET", "b-only"); got != nil {
		t.Errorf("a reads b's key: %v", got)
	}
	if got := a.do("EXISTS", "b-only"); got != int64(0) {
		t.Errorf("a EXISTS b's key: %v", got)
	}
	want := append([]string(nil), hostileKeys...)
	sort.Strings(want)
	if got := keysReply(t, a, "*"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a KEYS * = %d keys, want %d", len(got), len(want))
	}
	if got := scanAll(t, a, "COUNT", "3"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a SCAN = %d keys, want %d", len(got), len(want))
	}
	// Patterns never escape the tenant, whatever their bytes.
	for _, p := range []string{"*", "b*", "b-*", "*only", "?-only", "[b]-only", `\b-only`, "\x00*", "*\x00*", "[", `\`, "**********b", "[^a]*"} {
		for _, k := range keysReply(t, a, p) {
			if k == "b-only" {
				t.Errorf("a KEYS %q returned b's key", p)
			}
		}
		for _, k := range scanAll(t, a, "MATCH", p) {
			if k == "b-only" {
				t.Errorf("a SCAN MATCH %q returned b's key", p)
			}
		}
	}
	if got := a.do("DBSIZE"); got != int64(len(hostileKeys)) {
		t.Errorf("a DBSIZE = %v, want %d", got, len(hostileKeys))
	}
	if got := b.do("DBSIZE"); got != int64(len(hostileKeys)+1) {
		t.Errorf("b DBSIZE = %v", got)
	}
	// A cursor b obtained walks only a's keys when a uses it.
	rep := norm(b.do("SCAN", "0", "COUNT", "5")).([]any)
	for _, k := range norm(a.do("SCAN", rep[0].(string), "COUNT", "1000")).([]any)[1].([]any) {
		if k == "b-only" {
			t.Error("a followed b's cursor into b's keys")
		}
	}
	for i := 0; i < 200; i++ {
		if got := norm(a.do("RANDOMKEY")); got == "b-only" {
			t.Fatal("RANDOMKEY returned another tenant's key")
		}
	}
	// RENAME/COPY act inside the caller's tenant only.
	if got := a.do("RENAME", "b-only", "stolen"); got != respErr(command.ErrNoSuchKey) {
		t.Errorf("a RENAME b's key = %v", got)
	}
	if got := a.do("COPY", "b-only", "stolen"); got != int64(0) {
		t.Errorf("a COPY b's key = %v", got)
	}
	if got := a.do("RENAME", "plain", "moved"); got != ok {
		t.Errorf("a RENAME own = %v", got)
	}
	if got := norm(b.do("GET", "plain")); got != "B:plain" {
		t.Errorf("b's plain changed by a's RENAME: %v", got)
	}
	if got := b.do("EXISTS", "moved"); got != int64(0) {
		t.Errorf("a's RENAME created a key in b")
	}
	// INFO keyspace shows only the caller's keys.
	info := string(a.do("INFO", "keyspace").([]byte))
	if !strings.Contains(info, fmt.Sprintf("db0:keys=%d,", len(hostileKeys))) {
		t.Errorf("a INFO keyspace = %q", info)
	}
	// FLUSHALL in a leaves b intact.
	if got := a.do("FLUSHALL"); got != ok {
		t.Fatal(got)
	}
	if got := a.do("DBSIZE"); got != int64(0) {
		t.Errorf("a DBSIZE after FLUSHALL = %v", got)
	}
	if got := b.do("DBSIZE"); got != int64(len(hostileKeys)+1) {
		t.Errorf("b DBSIZE after a's FLUSHALL = %v", got)
	}
	if got := norm(b.do("GET", "b-only")); got != "secret" {
		t.Errorf("b's key after a's FLUSHALL = %v", got)
	}
	// FLUSHDB in another db of b leaves b's db 0 alone.
	b.do("SELECT", "3")
	b.do("SET", "x", "y")
	b.do("FLUSHDB")
	b.do("SELECT", "0")
	if got := b.do("DBSIZE"); got != int64(len(hostileKeys)+1) {
		t.Errorf("b DBSIZE after FLUSHDB of db3 = %v", got)
	}
}

// scanKeys is the expected reply of a SCAN that returns every key at once,
// in any order: its keys, sorted.
type scanKeys []any

// tenantStep is a step run by alice (tenant a) or, with bob, by bob
// (tenant b).
type tenantStep struct {
	bob bool
	step
}

func byA(want any, args ...string) tenantStep { return tenantStep{false, s(want, args...)} }
func byB(want any, args ...string) tenantStep { return tenantStep{true, s(want, args...)} }

// TestIsolationEachType: two tenants using the same key names see their
// own hash, set or sorted set, another type in the other tenant is no
// obstacle, and multi-key commands only read and write the caller's
// tenant.
func TestIsolationEachType(t *testing.T) {
	wrongType := respErr(command.ErrWrongType)
	for _, tc := range []struct {
		name  string
		steps []tenantStep
	}{
		{"hash", []tenantStep{
			byA(int64(2), "HSET", "session", "user", "alice", "role", "rw"),
			byB([]any{}, "HGETALL", "session"),
			byB(ok, "SET", "session", "bob-string"),
			byA("alice", "HGET", "session", "user"),
			byB(wrongType, "HGET", "session", "user"),
			byB([]any{"0", []any{}}, "SCAN", "0", "TYPE", "hash"),
			byB(wrongType, "HSET", "session", "x", "y"), // the string stays
			byA([]any{"user", "alice", "role", "rw"}, "HGETALL", "session"),
			byA(int64(2), "HLEN", "session"),
		}},
		{"set", []tenantStep{
			byA(int64(2), "SADD", "tags", "x", "y"), byA(int64(2), "SADD", "other", "y", "z"),
			byB([]any{}, "SMEMBERS", "tags"),
			byB([]any{}, "SUNION", "tags", "other"),
			byB(int64(1), "SADD", "tags", "bob"), byB(ok, "SET", "other", "bob-string"),
			byB(wrongType, "SINTERSTORE", "dst", "tags", "other"), // over b's own string
			byB(int64(1), "SUNIONSTORE", "dst", "tags", "missing"),
			byB(int64(1), "SMOVE", "tags", "moved", "bob"),
			byA([]any{"y"}, "SINTER", "tags", "other"),
			byA(int64(0), "EXISTS", "dst"), byA(int64(0), "EXISTS", "moved"),
			byA(int64(1), "SMOVE", "tags", "moved", "x"),
			byB([]any{"bob"}, "SMEMBERS", "moved"),
			byA([]any{"x"}, "SMEMBERS", "moved"),
			byB(scanKeys{"dst", "moved"}, "SCAN", "0", "TYPE", "set"),
		}},
		{"zset", []tenantStep{
			byA(int64(2), "ZADD", "board", "10", "ann", "20", "bo"),
			byB([]any{}, "ZRANGE", "board", "0", "-1"),
			byB(int64(1), "ZADD", "board", "1", "x"),
			byA([]any{"ann", "10", "bo", "20"}, "ZRANGE", "board", "0", "-1", "WITHSCORES"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), false)
			a := dialAs(t, srv.addr, "alice", "alice-pw")
			b := dialAs(t, srv.addr, "bob", "bob-pw")
			for i, st := range tc.steps {
				r, who := a, "a"
				if st.bob {
					r, who = b, "b"
				}
				got, want := norm(r.do(st.args...)), st.want
				if keys, isScan := want.(scanKeys); isScan {
					want = []any(keys)
					if rep, isRep := got.([]any); isRep && len(rep) == 2 {
						if ks, isKeys := rep[1].([]any); isKeys {
							sort.Slice(ks, func(i, j int) bool { return ks[i].(string) < ks[j].(string) })
							got = ks
						}
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("step %d, %s %q: got %#v, want %#v", i, who, st.args, got, want)
				}
			}
		})
	}
}

// TestQuotaInvariantOverSockets drives many concurrent writers per tenant
// through real connections while a monitor reads each tenant's accounted
// bytes continuously: used must never exceed the quota.
func TestQuotaInvariantOverSockets(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Quota = 256 << 10
	cfg.Tenants[1].Quota = 128 << 10
	srv := startServer(t, cfg, false)
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	var stop atomic.Bool
	var writes atomic.Int64
	var violations atomic.Int64
	for _, user := range []string{"alice", "bob"} {
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(user string, w int) {
				defer wg.Done()
				r := dialAs(t, srv.addr, user, user+"-pw")
				val := strings.Repeat("v", 100+w*300)
				for i := 0; time.Now().Before(deadline); i++ {
					var got any
					if i%4 == 3 {
						got = r.do("MSET", fmt.Sprintf("m%d-%d", w, i), val, fmt.Sprintf("n%d-%d", w, i), val)
					} else {
						got = r.do("SET", fmt.Sprintf("k%d-%d", w, i), val)
					}
					if got != ok {
						t.Errorf("%s write = %v", user, got)
						return
					}
					writes.Add(1)
				}
			}(user, w)
		}
	}
	mon := make(chan struct{})
	go func() {
		defer close(mon)
		for !stop.Load() {
			for _, st := range srv.Stats() {
				if st.UsedBytes > st.Quota {
					violations.Add(1)
				}
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	<-mon
	if v := violations.Load(); v != 0 {
		t.Fatalf("quota exceeded in %d observations", v)
	}
	for _, st := range srv.Stats() {
		if st.Evictions == 0 {
			t.Errorf("tenant %s: no evictions after %d writes; the test did not fill the quota", st.ID, writes.Load())
		}
		t.Logf("tenant %s: used %d / quota %d, keys %d, evictions %d", st.ID, st.UsedBytes, st.Quota, st.Keys, st.Evictions)
	}
}
