package backing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/backing/clustertest"
)

type invLog struct {
	mu   sync.Mutex
	keys []string
	all  int
}

func (l *invLog) add(inv backed.Invalidation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if inv.All {
		l.all++
		return
	}
	l.keys = append(l.keys, fmt.Sprintf("%s/%d/%s", inv.Tenant, inv.DB, inv.Key))
}

func (l *invLog) has(k string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.keys {
		if x == k {
			return true
		}
	}
	return false
}

func newTestCluster(t *testing.T, cl *clustertest.Cluster, mod func(*Options)) (*Cluster, *invLog) {
	t.Helper()
	o := Options{
		Addrs:         cl.Addrs(),
		KeyPrefix:     "tc:",
		UsageInterval: 20 * time.Millisecond,
		TrackInterval: 50 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	l := &invLog{}
	c.SetInvalidator(l.add)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	waitFor(t, 5*time.Second, "tracking ready", c.Ready)
	return c, l
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctx1s bounds one call to a second; the timer is released when it fires.
func ctx1s() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	time.AfterFunc(time.Second, cancel)
	return ctx
}

func b(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// TestBackingOnRealCluster covers the backend end to end against a
// 6-process cluster: layout, atomic loads, accounted writes with the
// default TTL, CROSSSLOT, quota, tracking, scans, scoped flushes and the
// eviction-policy check.
func TestBackingOnRealCluster(t *testing.T) {
	cl := clustertest.Start(t)
	c, inv := newTestCluster(t, cl, nil)
	raw := cl.Client()

	// Write then load, with the tier default TTL applied by the script.
	r := c.Exec(ctx1s(), "a", 0, 0, []backed.ExecReq{{Args: b("SET", "k", "v1"), KeyPos: []int{1}, DefaultTTL: time.Minute, Grow: 3}})
	if r[0].Err != nil || r[0].Reply != "OK" {
		t.Fatalf("SET: %+v", r[0])
	}
	if v, err := raw.Get(ctx1s(), "tc:a:0:k").Result(); err != nil || v != "v1" {
		t.Fatalf("L2 layout: %q %v", v, err)
	}
	ld := c.Load(ctx1s(), "a", 0, []byte("k"))
	if !ld.Found || string(ld.Val) != "v1" || ld.ExpireAt < time.Now().Add(59*time.Second).UnixMilli() || ld.ExpireAt > time.Now().Add(61*time.Second).UnixMilli() {
		t.Fatalf("Load: %+v", ld)
	}
	if ld := c.Load(ctx1s(), "b", 0, []byte("k")); ld.Found || ld.Err != nil {
		t.Fatalf("tenant b sees a's key: %+v", ld)
	}
	// INCR creates with the default TTL; errors are Redis's own.
	r = c.Exec(ctx1s(), "a", 0, 0, []backed.ExecReq{
		{Args: b("INCR", "n"), KeyPos: []int{1}, DefaultTTL: time.Minute},
		{Args: b("INCR", "k"), KeyPos: []int{1}, DefaultTTL: time.Minute},
	})
	if r[0].Reply != int64(1) || r[1].Err == nil || r[1].Err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("INCR: %+v", r)
	}
	if ttl := raw.PTTL(ctx1s(), "tc:a:0:n").Val(); ttl < 59*time.Second {
		t.Fatalf("INCR-created key TTL %v", ttl)
	}
	// Cross-slot and same-slot multi-key commands.
	r = c.Exec(ctx1s(), "a", 0, 0, []backed.ExecReq{{Args: b("RENAME", "k", "other"), KeyPos: []int{1, 2}}})
	if r[0].Err != backed.ErrCrossSlot {
		t.Fatalf("RENAME across slots: %+v", r[0])
	}
	r = c.Exec(ctx1s(), "a", 0, 0, []backed.ExecReq{{Args: b("MSETNX", "{u}1", "x", "{u}2", "y"), KeyPos: []int{1, 3}, DefaultTTL: time.Minute}})
	if r[0].Err != nil || r[0].Reply != int64(1) {
		t.Fatalf("MSETNX same slot: %+v", r[0])
	}
	// Tracking: a change made by another client reaches the invalidator.
	raw.Set(ctx1s(), "tc:a:3:ext", "1", 0)
	waitFor(t, 2*time.Second, "invalidation of a/3/ext", func() bool { return inv.has("a/3/ext") })

	// Usage: accounted from the script's reports, flushed and read back.
	waitFor(t, 2*time.Second, "usage flushed", func() bool {
		hv, _ := raw.HGetAll(ctx1s(), c.usageKey("a")).Result()
		return len(hv) > 0
	})
	used := c.Usage("a")
	if used <= 0 {
		t.Fatalf("usage %d", used)
	}
	// Quota: a write that does not fit is refused; another tenant writes on.
	r = c.Exec(ctx1s(), "a", used+10, 0, []backed.ExecReq{{Args: b("SET", "big", "0123456789012345678901234567890123456789"), KeyPos: []int{1}, Grow: 45}})
	if r[0].Err != backed.ErrL2OverQuota {
		t.Fatalf("over quota: %+v", r[0])
	}
	r = c.Exec(ctx1s(), "b", 1000, 0, []backed.ExecReq{{Args: b("SET", "big", "x"), KeyPos: []int{1}, Grow: 10}})
	if r[0].Err != nil {
		t.Fatalf("tenant b refused: %+v", r[0])
	}
	// Reconcile agrees with the incremental accounting (ext was written
	// around tcached and is now counted too).
	before, keysBefore := c.Usage("a"), c.UsageKeys("a")
	if err := c.Reconcile(ctx1s(), "a", 0); err != nil {
		t.Fatal(err)
	}
	after := c.Usage("a")
	extSize := int64(len("tc:a:3:ext") + 1 + PerKeyOverhead)
	if after != before+extSize {
		t.Fatalf("reconcile: usage %d, incremental %d + ext %d", after, before, extSize)
	}
	// The key count too: the incremental count plus ext, which is every
	// key of the tenant.
	var dbKeys int64
	for db := range 16 {
		n, err := c.DBSize(ctx1s(), "a", db)
		if err != nil {
			t.Fatal(err)
		}
		dbKeys += n
	}
	if k := c.UsageKeys("a"); k != keysBefore+1 || k != dbKeys || k == 0 {
		t.Fatalf("reconcile: %d keys, incremental %d + ext, DBSIZE over every db %d", k, keysBefore, dbKeys)
	}

	// Scans see only the tenant's db.
	for i := range 50 {
		c.Exec(ctx1s(), "a", 0, 1, []backed.ExecReq{{Args: b("SET", fmt.Sprint("s", i), "v"), KeyPos: []int{1}}})
		c.Exec(ctx1s(), "b", 0, 1, []backed.ExecReq{{Args: b("SET", fmt.Sprint("s", i), "v"), KeyPos: []int{1}}})
	}
	n, err := c.DBSize(ctx1s(), "a", 1)
	if err != nil || n != 50 {
		t.Fatalf("DBSIZE %d %v", n, err)
	}
	seen := map[string]bool{}
	var cur uint64
	for i := 0; ; i++ {
		next, keys, err := c.Scan(ctx1s(), "a", 1, cur, nil, 7, "")
		if err != nil || i > 1000 {
			t.Fatalf("scan: %v after %d steps", err, i)
		}
		for _, k := range keys {
			seen[string(k)] = true
		}
		if cur = next; cur == 0 {
			break
		}
	}
	if len(seen) != 50 {
		t.Fatalf("SCAN saw %d keys", len(seen))
	}
	keys, err := c.Keys(ctx1s(), "a", 1, []byte("s1*"))
	if err != nil || len(keys) != 11 {
		t.Fatalf("KEYS s1*: %d %v", len(keys), err)
	}
	if k, ok, err := c.RandomKey(ctx1s(), "a", 1); err != nil || !ok || len(k) < 2 || k[0] != 's' {
		t.Fatalf("RANDOMKEY %q %v %v", k, ok, err)
	}
	// Scoped flush: a's db 1 only, and a's usage loses exactly those keys:
	// 10 names "tc:a:1:sN" and 40 "tc:a:1:sNN", each with a 1-byte value.
	usedBefore := c.Usage("a")
	del, err := c.Flush(ctx1s(), "a", 1)
	if err != nil || del != 50 {
		t.Fatalf("flush: %d %v", del, err)
	}
	if want := usedBefore - (10*(9+1+PerKeyOverhead) + 40*(10+1+PerKeyOverhead)); c.Usage("a") != want {
		t.Fatalf("usage after FLUSHDB %d, want %d", c.Usage("a"), want)
	}
	if n, _ := c.DBSize(ctx1s(), "b", 1); n != 50 {
		t.Fatalf("b lost keys to a's flush: %d", n)
	}
	if n, _ := c.DBSize(ctx1s(), "a", 0); n == 0 {
		t.Fatal("a's db 0 flushed by FLUSHDB of db 1")
	}
	if _, err := c.Flush(ctx1s(), "a", -1); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.DBSize(ctx1s(), "a", 0); n != 0 {
		t.Fatalf("a's db 0 after FLUSHALL: %d", n)
	}
	if c.Usage("a") != 0 {
		t.Fatalf("usage after FLUSHALL %d", c.Usage("a"))
	}
	if w := c.CheckPolicy(ctx1s()); len(w) != 0 {
		t.Fatalf("noeviction cluster warned: %v", w)
	}
	st := c.Stats()
	if st.Masters != 3 || st.TrackingConns != 3 || !st.Ready || st.Calls == 0 || st.Invalidations == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPolicyWarning: a cluster whose masters may evict any key, and whose
// failover takes Redis's default 15 s, is reached with a start-up log
// saying so (masters, slots covered, node timeout, one policy warning
// per master, and the slow-failover warning).
func TestPolicyWarning(t *testing.T) {
	cl := clustertest.StartWith(t, clustertest.Options{ExtraArgs: []string{"--maxmemory-policy", "allkeys-lru", "--cluster-node-timeout", "15000"}, ReplicasPerMaster: -1})
	var log lockedBuffer
	c, _ := newTestCluster(t, cl, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	if w := c.CheckPolicy(ctx1s()); len(w) != 3 {
		t.Fatalf("want a warning per master, got %v", w)
	}
	if r := c.Reached(); r == nil || *r != (Reached{Masters: 3, SlotsCovered: SlotCount, NodeTimeoutMs: 15000, PolicyWarnings: 3}) {
		t.Fatalf("reached %+v", r)
	}
	out := log.String()
	for _, want := range []string{
		`msg="backing: reached Redis Cluster"`, "masters=3 slots_covered=16384 cluster_node_timeout_ms=15000 policy_warnings=3",
		"runs maxmemory-policy allkeys-lru", `msg="backing: slow failover`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "does not cover every slot") {
		t.Errorf("a fully covered cluster logged missing slots:\n%s", out)
	}
}

// lockedBuffer is a bytes.Buffer safe for the logger's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBreaker(t *testing.T) {
	var b breaker
	b.init(3, time.Second)
	now := time.Unix(0, 0)
	for i := 0; i < 2; i++ {
		if !b.allow(now) {
			t.Fatal("closed breaker refused")
		}
		b.record(now, true)
	}
	b.record(now, false) // a success resets the count
	for i := 0; i < 3; i++ {
		b.allow(now)
		b.record(now, true)
	}
	if b.allow(now.Add(999 * time.Millisecond)) {
		t.Fatal("open breaker allowed a call")
	}
	if !b.allow(now.Add(time.Second)) {
		t.Fatal("no probe after the cool-off")
	}
	if b.allow(now.Add(time.Second)) {
		t.Fatal("second call while probing")
	}
	b.record(now.Add(time.Second), true) // probe failed: open again
	if b.allow(now.Add(1500 * time.Millisecond)) {
		t.Fatal("allowed after a failed probe")
	}
	b.allow(now.Add(2 * time.Second))
	b.record(now.Add(2*time.Second), false)
	if open, trips := b.state(now.Add(2 * time.Second)); open || trips != 2 {
		t.Fatalf("state %v %d", open, trips)
	}
}

func TestParseName(t *testing.T) {
	c := &Cluster{prefix: "tc:"}
	for _, tc := range []struct {
		name   string
		tenant string
		db     int
		key    string
		ok     bool
	}{
		{"tc:a:0:k", "a", 0, "k", true},
		{"tc:a:15:k:with:colons", "a", 15, "k:with:colons", true},
		{"tc:a:0:", "a", 0, "", true},
		{"tc:!usage:a", "", 0, "", false},
		{"tc:a:x:k", "", 0, "", false},
		{"tc:a:123:k", "", 0, "", false},
		{"other:a:0:k", "", 0, "", false},
		{"tc:", "", 0, "", false},
	} {
		tn, db, key, ok := c.parse([]byte(tc.name))
		if ok != tc.ok || ok && (tn != tc.tenant || db != tc.db || string(key) != tc.key) {
			t.Errorf("parse(%q) = %q %d %q %v", tc.name, tn, db, key, ok)
		}
		if ok && c.name(tn, db, key) != tc.name {
			t.Errorf("name(parse(%q)) = %q", tc.name, c.name(tn, db, key))
		}
	}
	if g := globEscape(`a*b?c[d]e\f`); g != `a\*b\?c\[d\]e\\f` {
		t.Errorf("globEscape: %s", g)
	}
}

func TestSumBuckets(t *testing.T) {
	var stale []string
	got := sumBuckets(map[string]string{"p": "10", "100": "5", "99": "7", "101": "1", "x": "3"}, 100, func(f string) { stale = append(stale, f) })
	if got != 11 || len(stale) != 3 {
		t.Fatalf("sum %d stale %v", got, stale)
	}
	if bucketOf(-1) != "p" || bucketOf(60000) != "1" || bucketOf(60001) != "2" {
		t.Fatal("bucketOf")
	}
}
