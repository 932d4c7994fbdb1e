package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/rdb"
)

// TestGoRedisDumpRestore drives DUMP, RESTORE and OBJECT FREQ/IDLETIME
// through go-redis (RESP3), every type, with REPLACE and a TTL.
func TestGoRedisDumpRestore(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})

	c.Set(ctx, "s", "value", 0)
	c.RPush(ctx, "l", "a", "b", "c")
	c.SAdd(ctx, "set", "1", "2", "x")
	c.HSet(ctx, "h", "f1", "v1", "f2", "v2")
	c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: -2, Member: "m2"})
	for _, k := range []string{"s", "l", "set", "h", "z"} {
		p, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		if err := c.Restore(ctx, k, 0, p).Err(); err == nil || err.Error() != command.ErrBusyKey {
			t.Fatalf("RESTORE over %s: %v", k, err)
		}
		if err := c.Restore(ctx, k+"2", time.Minute, p).Err(); err != nil {
			t.Fatalf("RESTORE %s2: %v", k, err)
		}
		if err := c.RestoreReplace(ctx, k, 0, p).Err(); err != nil {
			t.Fatalf("RESTORE %s REPLACE: %v", k, err)
		}
		if ttl := c.TTL(ctx, k+"2").Val(); ttl <= 50*time.Second || ttl > time.Minute {
			t.Errorf("TTL %s2 = %v", k, ttl)
		}
	}
	if got := c.Get(ctx, "s2").Val(); got != "value" {
		t.Errorf("s2 = %q", got)
	}
	if got := c.LRange(ctx, "l2", 0, -1).Val(); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("l2 = %q", got)
	}
	if got := c.SCard(ctx, "set2").Val(); got != 3 {
		t.Errorf("set2 card = %d", got)
	}
	if got := c.HGet(ctx, "h2", "f2").Val(); got != "v2" {
		t.Errorf("h2 f2 = %q", got)
	}
	if got := c.ZScore(ctx, "z2", "m2").Val(); got != -2 {
		t.Errorf("z2 m2 = %v", got)
	}
	if err := c.Dump(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("DUMP missing: %v", err)
	}
	if err := c.Restore(ctx, "bad", 0, "not a payload").Err(); err == nil || err.Error() != command.ErrDumpPayload {
		t.Errorf("RESTORE garbage: %v", err)
	}
	// A stream dumped by redis-server 7.0.15 (XADD st 1-1 a 1).
	stream := "\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x1c\x1c\x00\x00\x00\n\x00\x01\x01\x00\x01\x01\x01\x81a\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x04\x01\xff\x01\x01\x01\x01\x01\x00\x00\x01\x00\n\x00)}x\x0f\xd8\x8a\xa6,"
	if err := c.Restore(ctx, "st", 0, stream).Err(); err != nil {
		t.Errorf("RESTORE of a stream: %v", err)
	}
	if got := c.XRange(ctx, "st", "-", "+").Val(); len(got) != 1 || got[0].ID != "1-1" || got[0].Values["a"] != "1" {
		t.Errorf("XRANGE st = %v", got)
	}
	if got, err := c.Dump(ctx, "st").Result(); err != nil || got != stream {
		t.Errorf("DUMP st = %q, %v; want Redis's payload", got, err)
	}
	if err := c.ObjectFreq(ctx, "s").Err(); err == nil || err.Error() != command.ErrNoLFU {
		t.Errorf("OBJECT FREQ: %v", err)
	}
	if err := c.Restore(ctx, "idle", 0, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "RESTORE", "idle", 0, stream, "REPLACE", "IDLETIME", 1000).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ObjectIdleTime(ctx, "idle").Result(); err != nil || got < 1000*time.Second || got > 1002*time.Second {
		t.Errorf("OBJECT IDLETIME after RESTORE ... IDLETIME 1000: %v, %v", got, err)
	}
}

// TestRestoreQuotaAndTenants: a restored value is charged to the tenant
// (one larger than the whole quota is refused, writing nothing, under LRU
// and noeviction), a payload whose LZF string expands beyond the client
// memory allowed is refused before it is decompressed, and RESTORE and
// DUMP never reach another tenant's key of the same name.
func TestRestoreQuotaAndTenants(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[1].Eviction = config.NoEviction
	cfg.Tenants[0].Quota, cfg.Tenants[1].Quota = 1<<20, 1<<20
	ts := startServer(t, cfg, false)
	a := dialAs(t, ts.addr, "alice", "alice-pw")
	b := dialAs(t, ts.addr, "bob", "bob-pw")
	if got := b.do("SET", "shared", "b-secret"); got != ok {
		t.Fatal(got)
	}
	if got := a.do("DUMP", "shared"); got != nil {
		t.Errorf("a DUMP of b's key name = %v, want nil", got)
	}
	p := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindString, Str: []byte("a-value")}, rdb.Options{}))
	if got := a.do("RESTORE", "shared", "0", p); got != ok {
		t.Errorf("a RESTORE shared = %v", got)
	}
	if got := norm(b.do("GET", "shared")); got != "b-secret" {
		t.Errorf("b's key after a's RESTORE = %v", got)
	}
	if got := norm(a.do("GET", "shared")); got != "a-value" {
		t.Errorf("a's key = %v", got)
	}

	// Larger than the 1 MiB quota: a 1.5 MiB list, and as many bytes in
	// one string.
	var elems [][]byte
	text := lcg(3 << 19)
	for i := 0; i < 1536; i++ {
		elems = append(elems, []byte(text[i<<10:(i+1)<<10]))
	}
	big := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindList, Elems: elems}, rdb.Options{NodeFill: -2}))
	bigStr := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindString, Str: []byte(text)}, rdb.Options{}))
	var node []rdb.StreamEntry
	for i, e := range elems {
		node = append(node, rdb.StreamEntry{ID: rdb.StreamID{Ms: uint64(i + 1)}, Pairs: [][]byte{[]byte("f"), e}})
	}
	bigStream := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindStream, Stream: &rdb.Stream{
		Nodes: [][]rdb.StreamEntry{node}, Length: uint64(len(node)), LastID: node[len(node)-1].ID, FirstID: node[0].ID, EntriesAdded: uint64(len(node)),
	}}, rdb.Options{}))
	for _, r := range []*rconn{a, b} {
		if got := r.do("RESTORE", "huge", "0", bigStream); got != respErr(command.ErrOOM) {
			t.Errorf("RESTORE of a stream larger than the quota = %v", got)
		}
		before := r.do("DBSIZE")
		if got := r.do("RESTORE", "huge", "0", big); got != respErr(command.ErrOOM) {
			t.Errorf("RESTORE of more than the quota = %v", got)
		}
		if got := r.do("RESTORE", "huge", "0", bigStr); got != respErr(command.ErrOOM) {
			t.Errorf("RESTORE of a string larger than the quota = %v", got)
		}
		if got := r.do("EXISTS", "huge"); got != int64(0) {
			t.Errorf("EXISTS huge after the refusal = %v", got)
		}
		if got := r.do("DBSIZE"); got != before {
			t.Errorf("DBSIZE %v -> %v", before, got)
		}
	}

	// A 1 KiB payload claiming 200 MiB of LZF output: refused at once
	// (it cannot expand that much), allocating nothing.
	bomb := payload([]byte{0, 0xc3, 0x80, 0, 0, 4, 0, 0x80, 0x0c, 0x80, 0, 0}, 10)
	if got := a.do("RESTORE", "bomb", "0", bomb); got != respErr(command.ErrBadDataFormat) {
		t.Errorf("LZF bomb = %v", got)
	}
	// A real 60 MiB string compressed into a few hundred KiB: beyond the
	// tenant's client memory, refused before decompressing.
	huge := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindString, Str: []byte(strings.Repeat("z", 60<<20))}, rdb.Options{}))
	if len(huge) > 1<<20 {
		t.Fatalf("payload of %d bytes", len(huge))
	}
	got := a.do("RESTORE", "z", "0", huge)
	if e, isErr := got.(respErr); !isErr || !strings.HasPrefix(string(e), "OOM") {
		t.Errorf("RESTORE of a 60 MiB string = %v", got)
	}
	if got := a.do("EXISTS", "z"); got != int64(0) {
		t.Errorf("EXISTS z = %v", got)
	}
}

// TestCLIDumpRestore: redis-cli restores what it dumped (its --no-raw
// quoting read back by the shell is not binary-safe, so the payload goes
// through a pipe: -x takes the last argument from stdin).
func TestCLIDumpRestore(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	expectOut(t, cli("", "RPUSH", "l", "x", "y"), "2\n")
	a := dialAs(t, ts.addr, "alice", "alice-pw")
	p, _ := a.do("DUMP", "l").([]byte)
	if p == nil {
		t.Fatal("DUMP l = nil")
	}
	expectOut(t, cli(string(p), "-x", "RESTORE", "l2", "0"), "OK\n")
	expectOut(t, cli("", "LRANGE", "l2", "0", "-1"), "x\ny\n")
	expectOut(t, cli("", "OBJECT", "FREQ", "missing"), "\n")
}

// TestObjectIdletime: OBJECT IDLETIME counts the seconds since the key's
// last access on the partition's access clock (ticked by the expiry
// round): reads and writes reset it, EXISTS, TYPE, TTL, OBJECT and SCAN
// do not (Redis's LOOKUP_NOTOUCH), RESTORE ... IDLETIME sets it, and
// another tenant's key of the same name is not reached.
func TestObjectIdletime(t *testing.T) {
	srv := startServer(t, testConfig(), true)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	a.do("SET", "k", "v")
	a.do("HSET", "h", "f", "v")
	b.do("SET", "k", "v")
	// idle waits (a bounded poll: the tick runs every 10 ms of real time)
	// for OBJECT IDLETIME key to answer want.
	idle := func(r *rconn, key string, want int64) {
		t.Helper()
		var got any
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if got = r.do("OBJECT", "IDLETIME", key); got == want {
				return
			}
		}
		t.Fatalf("OBJECT IDLETIME %s = %v, want %d", key, got, want)
	}
	idle(a, "k", 0)
	srv.clock.Add(5 * time.Second)
	idle(a, "k", 5)
	idle(a, "h", 5)
	for _, cmd := range [][]string{{"EXISTS", "k"}, {"TYPE", "k"}, {"TTL", "k"}, {"PTTL", "k"},
		{"OBJECT", "ENCODING", "k"}, {"SCAN", "0"}, {"MEMORY", "USAGE", "k"}, {"DBSIZE"}} {
		a.do(cmd...)
		idle(a, "k", 5)
	}
	a.do("GET", "k")
	idle(a, "k", 0)
	a.do("HGET", "h", "f")
	idle(a, "h", 0)
	srv.clock.Add(3 * time.Second)
	idle(a, "h", 3)
	a.do("HSET", "h", "g", "w")
	idle(a, "h", 0)
	idle(b, "k", 8) // b's k was never read
	if got := a.do("OBJECT", "IDLETIME", "missing"); got != nil {
		t.Errorf("OBJECT IDLETIME missing = %v", got)
	}
	payload, _ := a.do("DUMP", "k").([]byte)
	if got := a.do("RESTORE", "r", "0", string(payload), "IDLETIME", "86400"); got != ok {
		t.Fatalf("RESTORE IDLETIME = %v", got)
	}
	idle(a, "r", 86400)
	if got := a.do("RESTORE", "r", "0", string(payload), "REPLACE", "IDLETIME", "-1"); got != respErr(command.ErrInvalidIdletime) {
		t.Errorf("RESTORE IDLETIME -1 = %v", got)
	}
	idle(a, "r", 86400)
}
