package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/backing/clustertest"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/shard"
)

var prefixSeq atomic.Int64

// startBacked serves cfg backed by the cluster under key prefix (a fresh
// one when ""), returning the server and its backend. The backend is
// closed after the server.
func startBacked(t testing.TB, cl *clustertest.Cluster, cfg *config.Config, prefix string, mod func(*backing.Options)) (*testServer, *backing.Cluster) {
	t.Helper()
	if prefix == "" {
		prefix = fmt.Sprintf("t%d-%d:", time.Now().UnixNano()%1e6, prefixSeq.Add(1))
	}
	o := backing.Options{
		Addrs:         cl.Addrs(),
		KeyPrefix:     prefix,
		UsageInterval: 20 * time.Millisecond,
		TrackInterval: 50 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	bk, err := backing.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bk.Close() }) // runs after the server's cleanup
	srv := startServerWith(t, cfg, Options{Backend: bk, L1MaxTTL: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bk.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !bk.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("backend never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return srv, bk
}

// backedScripts cover every string, key and server command of the core
// in backed mode. Multi-key commands use hash tags where they need one
// slot; the steps marked crossSlot expect CROSSSLOT only when backed (the
// embedded store has no slots).
func backedScripts() []script {
	return []script{
		{"get set options", []step{
			s(null, "GET", "k"), s(ok, "SET", "k", "v"), s("v", "GET", "k"), s("v", "GET", "k"),
			s(null, "SET", "k2", "v", "XX"), s(ok, "SET", "k2", "v", "NX"), s(null, "SET", "k2", "w", "NX"),
			s("v", "SET", "k2", "x", "GET"), s("x", "GET", "k2"), s(ok, "SET", "k", "v2", "KEEPTTL"),
			s(respErr(command.ErrSyntax), "SET", "k", "v", "NX", "XX"), s(respErr(command.ErrSyntax), "SET", "k", "v", "EX"),
			s(respErr(command.ErrNotInteger), "SET", "k", "v", "EX", "ten"),
			s(respErr(command.ErrInvalidExpire("set")), "SET", "k", "v", "EX", "0"),
			s(int64(1), "SETNX", "nx", "1"), s(int64(0), "SETNX", "nx", "2"), s("1", "GET", "nx"),
			s(ok, "SETEX", "ex", "100", "v"), s(int64(100), "TTL", "ex"), s(ok, "PSETEX", "px", "100000", "v"),
			s(int64(100), "TTL", "px"), s(respErr(command.ErrInvalidExpire("setex")), "SETEX", "ex", "0", "v"),
		}},
		{"mget mset msetnx", []step{
			s(ok, "MSET", "a", "1", "b", "2", "c", "3"), s([]any{"1", "2", nil, "3"}, "MGET", "a", "b", "zz", "c"),
			s([]any{"1", "2", nil, "3"}, "MGET", "a", "b", "zz", "c"),
			s(int64(1), "MSETNX", "{t}x", "1", "{t}y", "2"), s(int64(0), "MSETNX", "{t}y", "3", "{t}z", "4"),
			s([]any{"1", "2", nil}, "MGET", "{t}x", "{t}y", "{t}z"),
			s(respErr(command.ErrWrongArgs("mset")), "MSET", "a", "1", "b"),
		}},
		{"getset getdel getex", []step{
			s(null, "GETSET", "k", "1"), s("1", "GETSET", "k", "2"), s("2", "GETDEL", "k"), s(null, "GETDEL", "k"),
			s(ok, "SET", "k", "v"), s("v", "GETEX", "k", "EX", "50"), s(int64(50), "TTL", "k"),
			s("v", "GETEX", "k", "PERSIST"), s(int64(-1), "TTL", "k"), s(null, "GETEX", "nope"),
		}},
		{"counters", []step{
			s(int64(1), "INCR", "n"), s(int64(11), "INCRBY", "n", "10"), s(int64(10), "DECR", "n"),
			s(int64(5), "DECRBY", "n", "5"), s("6.5", "INCRBYFLOAT", "n", "1.5"),
			s(respErr(command.ErrNotInteger), "INCR", "n"), s(ok, "SET", "big", "9223372036854775807"),
			s(respErr(command.ErrOverflow), "INCR", "big"), s(respErr(command.ErrNotInteger), "INCRBY", "n", "x"),
		}},
		{"append strlen ranges", []step{
			s(int64(5), "APPEND", "k", "Hello"), s(int64(11), "APPEND", "k", " World"), s(int64(11), "STRLEN", "k"),
			s("World", "GETRANGE", "k", "-5", "-1"), s(int64(0), "STRLEN", "nope"), s("", "GETRANGE", "nope", "0", "5"),
			s(int64(11), "SETRANGE", "k", "6", "Redis"), s("Hello Redis", "GET", "k"),
			s(int64(8), "SETRANGE", "z", "5", "abc"), s("\x00\x00\x00\x00\x00abc", "GET", "z"),
			s(respErr(command.ErrOffsetRange), "SETRANGE", "k", "-1", "x"),
		}},
		{"del exists touch unlink", []step{
			s(ok, "MSET", "a", "1", "b", "2", "c", "3"), s(int64(3), "EXISTS", "a", "a", "b"),
			s(int64(2), "DEL", "a", "b", "zz"), s(int64(1), "UNLINK", "c", "a"), s(int64(0), "EXISTS", "a", "b", "c"),
			s(ok, "SET", "t", "1"), s(int64(1), "TOUCH", "t", "nope"),
		}},
		{"expire family", []step{
			s(int64(0), "EXPIRE", "k", "10"), s(ok, "SET", "k", "v"), s(int64(1), "PERSIST", "k"), s(int64(-1), "TTL", "k"),
			s(int64(1), "EXPIRE", "k", "10", "NX"), s(int64(0), "EXPIRE", "k", "20", "NX"),
			s(int64(1), "EXPIRE", "k", "20", "GT"), s(int64(20), "TTL", "k"),
			s(int64(1), "EXPIREAT", "k", "4102444800"), s(int64(4102444800), "EXPIRETIME", "k"),
			s(int64(1), "PEXPIREAT", "k", "4102444800500"), s(int64(4102444800500), "PEXPIRETIME", "k"),
			s(respErr(command.ErrNotInteger), "EXPIRE", "k", "ten"), s(int64(1), "EXPIRE", "k", "-1"),
			s(int64(-2), "TTL", "k"), s(int64(-2), "PTTL", "k"), s(int64(-2), "PEXPIRETIME", "k"),
		}},
		{"type rename copy", []step{
			s(status("none"), "TYPE", "{k}1"), s(ok, "SET", "{k}1", "v", "EX", "100"), s(status("string"), "TYPE", "{k}1"),
			s(ok, "RENAME", "{k}1", "{k}2"), s(int64(0), "EXISTS", "{k}1"), s("v", "GET", "{k}2"), s(int64(100), "TTL", "{k}2"),
			s(respErr(command.ErrNoSuchKey), "RENAME", "{k}missing", "{k}x"),
			s(ok, "SET", "{k}o", "other"), s(int64(0), "RENAMENX", "{k}2", "{k}o"), s(int64(1), "RENAMENX", "{k}2", "{k}3"),
			s(int64(1), "COPY", "{k}3", "{k}c"), s(int64(0), "COPY", "{k}3", "{k}c"), s(int64(1), "COPY", "{k}o", "{k}c", "REPLACE"),
			s("other", "GET", "{k}c"), s(int64(1), "COPY", "{k}c", "{k}c", "DB", "5"),
			s(respErr(command.ErrSameObject), "COPY", "{k}c", "{k}c"), s(respErr(command.ErrDBRange), "COPY", "{k}c", "{k}d", "DB", "16"),
			s(ok, "SELECT", "5"), s("other", "GET", "{k}c"), s(int64(1), "DBSIZE"),
		}},
		{"select dbsize flush keys", []step{
			s(ok, "SET", "k", "0"), s(ok, "SELECT", "1"), s(null, "GET", "k"), s(ok, "SET", "k", "1"),
			s(int64(1), "DBSIZE"), s(ok, "FLUSHDB"), s(int64(0), "DBSIZE"), s(null, "GET", "k"), s(ok, "SELECT", "0"),
			s("0", "GET", "k"), s([]any{"k"}, "KEYS", "*"), s("k", "RANDOMKEY"),
			s(ok, "SELECT", "2"), s(ok, "SET", "x", "y"), s(ok, "FLUSHALL"),
			s(int64(0), "DBSIZE"), s(null, "GET", "x"), s(ok, "SELECT", "0"), s(int64(0), "DBSIZE"), s(null, "RANDOMKEY"),
			s(respErr(command.ErrSyntax), "FLUSHDB", "NOW"),
		}},
		{"keys patterns", []step{
			s(ok, "MSET", "user:1", "a", "x*y", "c", "h[a]llo", "d", "hello", "e"),
			s([]any{"x*y"}, "KEYS", `x\*y`), s([]any{"hello"}, "KEYS", "h?llo"),
			s([]any{"h[a]llo"}, "KEYS", `h\[a\]llo`), s([]any{}, "KEYS", "nomatch*"),
			s(respErr(command.ErrInvalidCursor), "SCAN", "abc"), s(respErr(command.ErrSyntax), "SCAN", "0", "COUNT", "0"),
		}},
	}
}

// crossSlotScript needs one slot for keys without a common hash tag:
// backed it answers CROSSSLOT, as Redis Cluster does.
var crossSlotScript = script{"crossslot", []step{
	s(ok, "SET", "k1", "v"),
	s(respErr("CROSSSLOT Keys in request don't hash to the same slot"), "RENAME", "k1", "k2"),
	s(respErr("CROSSSLOT Keys in request don't hash to the same slot"), "MSETNX", "x1", "1", "x2", "2"),
	s(respErr("CROSSSLOT Keys in request don't hash to the same slot"), "COPY", "k1", "k2"),
	s("v", "GET", "k1"), s(null, "GET", "x1"),
}}

// TestBackedScriptsEmbedded runs the backed scripts on the embedded store:
// both modes must give the same replies.
func TestBackedScriptsEmbedded(t *testing.T) {
	for _, sc := range backedScripts() {
		t.Run(sc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), false)
			runSteps(t, dialAs(t, srv.addr, "aadmin", "aadmin-pw"), sc.steps, nil)
		})
	}
}

// TestBacked runs everything that needs a server in front of a real
// 6-process Redis Cluster, sharing one cluster.
func TestBacked(t *testing.T) {
	cl := clustertest.Start(t)
	t.Run("commands", func(t *testing.T) {
		for _, sc := range append(backedScripts(), crossSlotScript) {
			t.Run(sc.name, func(t *testing.T) {
				srv, _ := startBacked(t, cl, testConfig(), "", nil)
				runSteps(t, dialAs(t, srv.addr, "aadmin", "aadmin-pw"), sc.steps, nil)
			})
		}
	})
	t.Run("refused", func(t *testing.T) {
		srv, _ := startBacked(t, cl, testConfig(), "", nil)
		r := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
		// Everything else works backed (collections: coll.go; transactions,
		// scripts, pub/sub: multi.go, script.go); SWAPDB stays refused.
		for _, c := range [][]string{{"SWAPDB", "0", "1"}} {
			want := respErr(backed.ErrNotBacked(strings.ToLower(c[0])))
			if got := r.do(c...); got != want {
				t.Errorf("%q: got %#v, want %#v", c, got, want)
			}
		}
		if got := r.do("PING"); got != status("PONG") {
			t.Fatalf("PING after refusals: %#v", got)
		}
	})
	t.Run("read-through and L1", func(t *testing.T) { testBackedReadThrough(t, cl) })
	t.Run("isolation and quota", func(t *testing.T) { testBackedIsolation(t, cl) })
	t.Run("coherence", func(t *testing.T) { testBackedCoherence(t, cl) })
	t.Run("clients", func(t *testing.T) { testBackedClients(t, cl) })
	t.Run("transactions scripts pubsub", func(t *testing.T) { testBackedAtomic(t, cl) }) // backed_atomic_test.go
}

func testBackedReadThrough(t *testing.T, cl *clustertest.Cluster) {
	prefix := fmt.Sprintf("rt%d:", prefixSeq.Add(1))
	srv, bk := startBacked(t, cl, testConfig(), prefix, nil)
	ta := srv.reg.Load().tenants["a"]
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	raw := cl.Client()
	ctx := context.Background()
	// A key written to L2 behind tcached's back, with a TTL shorter than
	// l1_max_ttl: read through, cached in L1 with the same expiry.
	// An outside write's invalidation is in flight for a moment, and a fill
	// that races it is (rightly) dropped: wait for it first.
	settle := func(set func()) {
		before := bk.Stats().Invalidations
		set()
		deadline := time.Now().Add(2 * time.Second)
		for bk.Stats().Invalidations == before {
			if time.Now().After(deadline) {
				t.Fatal("no invalidation for an outside write")
			}
			time.Sleep(time.Millisecond)
		}
	}
	settle(func() { raw.Set(ctx, prefix+"a:0:ext", "hello", 5*time.Second) })
	if got := r.do("GET", "ext"); string(got.([]byte)) != "hello" {
		t.Fatalf("read-through: %#v", got)
	}
	if ta.l2.L2Hits.Load() != 1 || ta.l2.L1Hits.Load() != 0 {
		t.Fatalf("counters after the first read: l1 %d l2 %d", ta.l2.L1Hits.Load(), ta.l2.L2Hits.Load())
	}
	var l1exp int64
	if !ta.part.View(0, []byte("ext"), 0, func(e shard.Entry) { l1exp = e.ExpireAt }) {
		t.Fatal("not filled into L1")
	}
	l2exp := raw.PExpireTime(ctx, prefix+"a:0:ext").Val().Milliseconds()
	if l1exp != l2exp {
		t.Fatalf("L1 expiry %d, L2 expiry %d", l1exp, l2exp)
	}
	r.do("GET", "ext")
	if ta.l2.L1Hits.Load() != 1 {
		t.Fatalf("second read missed L1 (l1 hits %d)", ta.l2.L1Hits.Load())
	}
	// A key without TTL in L2 is cached for at most l1_max_ttl (10s here).
	settle(func() { raw.Set(ctx, prefix+"a:0:forever", "x", 0) })
	r.do("GET", "forever")
	if !ta.part.View(0, []byte("forever"), 0, func(e shard.Entry) { l1exp = e.ExpireAt }) {
		t.Fatal("key without TTL not filled into L1")
	}
	if d := l1exp - time.Now().UnixMilli(); d <= 0 || d > 10_000 {
		t.Fatalf("L1 copy of a key without TTL expires in %dms", d)
	}
	// Write-through: the write is in L2 when acknowledged, with the tier
	// default TTL (gold: 30m) carried to L2.
	if got := r.do("SET", "w", "1"); got != status("OK") {
		t.Fatal(got)
	}
	if v := raw.Get(ctx, prefix+"a:0:w").Val(); v != "1" {
		t.Fatalf("L2 after SET: %q", v)
	}
	if ttl := raw.PTTL(ctx, prefix+"a:0:w").Val(); ttl < 29*time.Minute || ttl > 30*time.Minute {
		t.Fatalf("default TTL in L2: %v", ttl)
	}
	if got := r.do("TTL", "w"); got != int64(1800) {
		t.Fatalf("TTL answered from L2: %#v", got)
	}
	// A write drops the L1 copy; the next read sees the new value.
	r.do("GET", "ext")
	r.do("APPEND", "ext", "!")
	if got := r.do("GET", "ext"); string(got.([]byte)) != "hello!" {
		t.Fatalf("after APPEND: %#v", got)
	}
	// An L1 quota far smaller than the data: L1 evicts, L2 keeps every key.
	cfg := testConfig()
	cfg.Tenants[0].Quota = 64 << 10
	srv2, _ := startBacked(t, cl, cfg, fmt.Sprintf("small%d:", prefixSeq.Add(1)), nil)
	r2 := dialAs(t, srv2.addr, "alice", "alice-pw")
	val := strings.Repeat("v", 1000)
	for i := range 300 {
		r2.send(encode("SET", "k"+strconv.Itoa(i), val))
	}
	for i := range 300 {
		if got := r2.read(); got != status("OK") {
			t.Fatalf("SET %d: %#v", i, got)
		}
	}
	for i := range 300 {
		if got := r2.do("GET", "k"+strconv.Itoa(i)); string(got.([]byte)) != val {
			t.Fatalf("GET k%d lost", i)
		}
	}
	t2 := srv2.reg.Load().tenants["a"]
	if used, q := t2.part.UsedBytes(), t2.part.Quota(); used > q {
		t.Fatalf("L1 used %d > quota %d", used, q)
	}
	if n := r2.do("DBSIZE"); n != int64(300) {
		t.Fatalf("DBSIZE from L2: %#v", n)
	}
	// INFO shows the tenant's backed figures (and only when backed).
	info := string(r.do("INFO").([]byte))
	for _, want := range []string{"# Backing\r\n", "backing_ready:1\r\n", "l2_quota_bytes:1073741824\r\n", "l1_hits:"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	// The backed metrics are exported.
	snap := srv.Snapshot()
	if snap.Backing == nil || !snap.Backing.Ready || snap.Backing.TrackingConns != 3 || snap.Backing.Calls == 0 {
		t.Fatalf("backing sample %+v", snap.Backing)
	}
	l2 := snap.Tenants[0].L2
	if l2 == nil || l2.L1Hits < 1 || l2.L2Hits < 2 || l2.UsedBytes <= 0 || l2.QuotaBytes != 1<<30 {
		t.Fatalf("tenant L2 sample %+v", l2)
	}
	mfs, err := metrics.NewRegistry(srv.Snapshot).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"tcached_l2_calls_total", "tcached_l2_call_duration_seconds", "tcached_l2_breaker_open",
		"tcached_l2_invalidations_total", "tcached_tenant_l1_hits_total", "tcached_tenant_l2_reads_total",
		"tcached_tenant_l2_used_bytes", "tcached_tenant_l2_quota_bytes", "tcached_l2_ready"} {
		if !names[n] {
			t.Errorf("/metrics lacks %s", n)
		}
	}
}

func testBackedIsolation(t *testing.T, cl *clustertest.Cluster) {
	cfg := testConfig()
	cfg.Tenants[1].Tier.L2Quota = 64 << 10 // b: 64 KiB in L2
	srv, bk := startBacked(t, cl, cfg, "", nil)
	ra := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	rb := dialAs(t, srv.addr, "bob", "bob-pw")
	for i := range 20 {
		k := "same" + strconv.Itoa(i)
		ra.do("SET", k, "a-value")
		rb.do("SET", k, "b-value")
	}
	if got := ra.do("GET", "same3"); string(got.([]byte)) != "a-value" {
		t.Fatalf("a reads %#v", got)
	}
	if got := rb.do("FLUSHALL"); got != status("OK") {
		t.Fatal(got)
	}
	if n := ra.do("DBSIZE"); n != int64(20) {
		t.Fatalf("a has %#v keys after b's FLUSHALL", n)
	}
	if got := ra.do("GET", "same3"); string(got.([]byte)) != "a-value" {
		t.Fatalf("a reads %#v after b's FLUSHALL", got)
	}
	// b fills its L2 quota and is refused with OOM; a keeps writing.
	val := strings.Repeat("x", 1024)
	refused := 0
	for i := range 200 {
		got := rb.do("SET", "fill"+strconv.Itoa(i), val)
		if e, isErr := got.(respErr); isErr {
			if !strings.HasPrefix(string(e), "OOM ") {
				t.Fatalf("b's refusal: %q", e)
			}
			refused++
			if got := ra.do("SET", "still"+strconv.Itoa(i), val); got != status("OK") {
				t.Fatalf("a refused while b is over quota: %#v", got)
			}
		}
	}
	if refused == 0 {
		t.Fatal("b was never refused by its 64 KiB L2 quota")
	}
	if u := bk.Usage("b"); u > 64<<10 {
		t.Fatalf("b's L2 usage %d exceeds its quota", u)
	}
	t.Logf("b: %d of 200 1 KiB writes refused, L2 usage %d of %d", refused, bk.Usage("b"), 64<<10)
}

// testBackedCoherence writes through node A and reads through node B
// (both on one cluster and prefix): B must stop serving its L1 copy once
// the invalidation arrives. Reports the worst time from A's ack to B
// returning the new value.
func testBackedCoherence(t *testing.T, cl *clustertest.Cluster) {
	prefix := fmt.Sprintf("coh%d:", prefixSeq.Add(1))
	a, _ := startBacked(t, cl, testConfig(), prefix, nil)
	b, _ := startBacked(t, cl, testConfig(), prefix, nil)
	ra := dialAs(t, a.addr, "alice", "alice-pw")
	rb := dialAs(t, b.addr, "alice", "alice-pw")
	const trials = 200
	var worst, total time.Duration
	stale := 0
	for i := range trials {
		k := "c" + strconv.Itoa(i%10)
		ra.do("SET", k, "old"+strconv.Itoa(i))
		if got := rb.do("GET", k); string(got.([]byte)) != "old"+strconv.Itoa(i) {
			// B may still hold the previous trial's value for a moment.
			deadline := time.Now().Add(time.Second)
			for string(rb.do("GET", k).([]byte)) != "old"+strconv.Itoa(i) {
				if time.Now().After(deadline) {
					t.Fatalf("B never saw old%d", i)
				}
			}
		}
		rb.do("GET", k) // now certainly an L1 copy on B
		want := "new" + strconv.Itoa(i)
		ra.do("SET", k, want)
		acked := time.Now()
		for {
			got := string(rb.do("GET", k).([]byte))
			if got == want {
				break
			}
			stale++
			if time.Since(acked) > 2*time.Second {
				t.Fatalf("B still returns %q 2s after A acknowledged %q", got, want)
			}
		}
		d := time.Since(acked)
		total += d
		worst = max(worst, d)
	}
	t.Logf("coherence over %d trials: worst %v, mean %v, stale reads after ack %d", trials, worst, total/trials, stale)
	if worst > 100*time.Millisecond {
		t.Errorf("worst write-on-A to read-on-B staleness %v, target < 100ms", worst)
	}
}

// testBackedClients drives a backed server with go-redis v9 on default
// options (HELLO 3, pipelines, the SCAN iterator) and with redis-cli.
func testBackedClients(t *testing.T, cl *clustertest.Cluster) {
	srv, _ := startBacked(t, cl, testConfig(), "", nil)
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.addr, Username: "aadmin", Password: "aadmin-pw", DB: 2})
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET %q %v", v, err)
	}
	if ttl := rdb.TTL(ctx, "k").Val(); ttl < 59*time.Second || ttl > time.Minute {
		t.Fatalf("TTL %v", ttl)
	}
	cmds, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i := range 100 {
			p.Set(ctx, "p"+strconv.Itoa(i), i, 0)
			p.Incr(ctx, "counter")
		}
		return nil
	})
	if err != nil || len(cmds) != 200 {
		t.Fatalf("pipeline: %d cmds, %v", len(cmds), err)
	}
	if n := rdb.Get(ctx, "counter").Val(); n != "100" {
		t.Fatalf("counter %q", n)
	}
	if vals := rdb.MGet(ctx, "p1", "nope", "p99").Val(); len(vals) != 3 || vals[0] != "1" || vals[1] != nil || vals[2] != "99" {
		t.Fatalf("MGET %#v", vals)
	}
	seen := map[string]bool{}
	it := rdb.Scan(ctx, 0, "p*", 7).Iterator()
	for it.Next(ctx) {
		seen[it.Val()] = true
	}
	if it.Err() != nil || len(seen) != 100 {
		t.Fatalf("SCAN iterator: %d keys, %v", len(seen), it.Err())
	}
	if n := rdb.DBSize(ctx).Val(); n != 102 {
		t.Fatalf("DBSIZE %d", n)
	}
	if u := rdb.MemoryUsage(ctx, "k").Val(); u <= 0 {
		t.Fatalf("MEMORY USAGE %d", u)
	}
	if err := rdb.HSet(ctx, "h", "f", "v").Err(); err != nil {
		t.Fatalf("HSET: %v", err)
	}
	if m, err := rdb.HGetAll(ctx, "h").Result(); err != nil || len(m) != 1 || m["f"] != "v" {
		t.Fatalf("HGETALL: %v %v", m, err)
	}
	cli := cliFor(t, srv, "alice", "alice-pw")
	if out := cli("", "SET", "from-cli", "hello"); strings.TrimSpace(out.stdout) != "OK" {
		t.Fatalf("redis-cli SET: %+v", out)
	}
	if out := cli("", "GET", "from-cli"); strings.TrimSpace(out.stdout) != "hello" {
		t.Fatalf("redis-cli GET: %+v", out)
	}
	if out := cli("", "--scan", "--pattern", "from-*"); strings.TrimSpace(out.stdout) != "from-cli" {
		t.Fatalf("redis-cli --scan: %+v", out)
	}
}

// readyBackend is a Backend that is always Ready and must not be called
// otherwise (its embedded nil interface panics): enough for L1 hits.
type readyBackend struct{ backed.Backend }

func (readyBackend) Ready() bool                              { return true }
func (readyBackend) SetInvalidator(func(backed.Invalidation)) {}

// TestBackedL1HitNoAlloc: a backed GET served from L1 allocates nothing,
// as the embedded GET does (the hot path of a cache).
func TestBackedL1HitNoAlloc(t *testing.T) {
	s, err := New(testConfig(), Options{Backend: readyBackend{}})
	if err != nil {
		t.Fatal(err)
	}
	s.invalidate(backed.Invalidation{Slots: backed.AllSlots()}) // every slot tracked: served
	tn := s.reg.Load().tenants["a"]
	tn.part.Set(0, []byte("k"), make([]byte, 128), time.Now().Add(time.Hour).UnixMilli())
	c := s.newClient(discardConn{})
	c.bind(tn, "alice", config.RoleReadWrite, false)
	args := [][]byte{[]byte("GET"), []byte("k")}
	s.dispatch(c, args) // warm the scratch buffer
	if n := testing.AllocsPerRun(1000, func() {
		c.conn.Out = c.conn.Out[:0]
		s.dispatch(c, args)
	}); n != 0 {
		t.Fatalf("backed GET L1 hit: %v allocations", n)
	}
	if tn.l2.L1Hits.Load() < 1000 {
		t.Fatalf("the GETs were not L1 hits: %d", tn.l2.L1Hits.Load())
	}
}

// TestStoreErrorBacked: the backend's errors map to their replies in the
// one place replies are spelled, and a failure's detail stays inside.
func TestStoreErrorBacked(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{backed.ErrCrossSlot, "CROSSSLOT Keys in request don't hash to the same slot"},
		{backed.ErrL2OverQuota, command.ErrOOM},
		{backed.ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), command.ErrWrongType},
		{backed.ErrBackendUnavailable, backed.ErrL2Unavailable},
		{fmt.Errorf("backing tier timeout: %w", context.DeadlineExceeded), backed.ErrL2Timeout},
		{fmt.Errorf("%w: dial tcp 10.0.0.1:7000: connection refused", backed.ErrBackendFailed), backed.ErrL2Failed},
	} {
		if got := storeError(tc.err); got != tc.want {
			t.Errorf("storeError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
