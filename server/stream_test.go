package server

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// Streams through real sockets: go-redis's stream API, blocking XREAD and
// XREADGROUP woken (or not) by writes of their own tenant, timeouts in
// RESP2 and RESP3, and the key-level integration (TYPE, OBJECT ENCODING,
// SCAN TYPE, RENAME, COPY, MOVE, expiry, MEMORY USAGE, WRONGTYPE).

func TestStreamGoRedis(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})

	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", ID: "1-1", Values: []string{"item", "book", "qty", "2"}}).Result()
	if err != nil || id != "1-1" {
		t.Fatalf("XADD = %q, %v", id, err)
	}
	auto, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: map[string]any{"item": "pen"}}).Result()
	if err != nil || !strings.Contains(auto, "-") {
		t.Fatalf("XADD * = %q, %v", auto, err)
	}
	if _, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", NoMkStream: true, MaxLen: 10, Approx: true, Values: []string{"item", "ink"}}).Result(); err != nil {
		t.Fatalf("XADD NOMKSTREAM MAXLEN ~: %v", err)
	}
	if _, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "none", NoMkStream: true, Values: []string{"a", "b"}}).Result(); err != redis.Nil {
		t.Fatalf("XADD NOMKSTREAM to a missing key: %v", err)
	}
	if n, _ := c.XLen(ctx, "orders").Result(); n != 3 {
		t.Fatalf("XLEN = %d", n)
	}
	msgs, err := c.XRange(ctx, "orders", "-", "+").Result()
	if err != nil || len(msgs) != 3 || msgs[0].ID != "1-1" || msgs[0].Values["qty"] != "2" {
		t.Fatalf("XRANGE = %v, %v", msgs, err)
	}
	rev, _ := c.XRevRangeN(ctx, "orders", "+", "-", 1).Result()
	if len(rev) != 1 || rev[0].Values["item"] != "ink" {
		t.Fatalf("XREVRANGE COUNT 1 = %v", rev)
	}

	// A consumer group: read, pending, claim, ack.
	if err := c.XGroupCreate(ctx, "orders", "billing", "0").Err(); err != nil {
		t.Fatalf("XGROUP CREATE: %v", err)
	}
	if err := c.XGroupCreate(ctx, "orders", "billing", "0").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		t.Fatalf("XGROUP CREATE twice: %v", err)
	}
	streams, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "billing", Consumer: "w1", Streams: []string{"orders", ">"}, Count: 2}).Result()
	if err != nil || len(streams) != 1 || len(streams[0].Messages) != 2 {
		t.Fatalf("XREADGROUP = %v, %v", streams, err)
	}
	pend, err := c.XPending(ctx, "orders", "billing").Result()
	if err != nil || pend.Count != 2 || pend.Lower != "1-1" || pend.Consumers["w1"] != 2 {
		t.Fatalf("XPENDING = %+v, %v", pend, err)
	}
	ext, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "orders", Group: "billing", Start: "-", End: "+", Count: 10}).Result()
	if err != nil || len(ext) != 2 || ext[0].Consumer != "w1" || ext[0].RetryCount != 1 {
		t.Fatalf("XPENDING extended = %+v, %v", ext, err)
	}
	claimed, err := c.XClaim(ctx, &redis.XClaimArgs{Stream: "orders", Group: "billing", Consumer: "w2", Messages: []string{"1-1"}}).Result()
	if err != nil || len(claimed) != 1 || claimed[0].ID != "1-1" {
		t.Fatalf("XCLAIM = %v, %v", claimed, err)
	}
	ids, start, err := c.XAutoClaimJustID(ctx, &redis.XAutoClaimArgs{Stream: "orders", Group: "billing", Consumer: "w3", Start: "0", Count: 10}).Result()
	if err != nil || len(ids) != 2 || start != "0-0" {
		t.Fatalf("XAUTOCLAIM JUSTID = %v %q, %v", ids, start, err)
	}
	if n, err := c.XAck(ctx, "orders", "billing", "1-1", auto).Result(); err != nil || n != 2 {
		t.Fatalf("XACK = %d, %v", n, err)
	}
	groups, err := c.XInfoGroups(ctx, "orders").Result()
	if err != nil || len(groups) != 1 || groups[0].Name != "billing" || groups[0].Pending != 0 || groups[0].Consumers != 3 {
		t.Fatalf("XINFO GROUPS = %+v, %v", groups, err)
	}
	info, err := c.XInfoStream(ctx, "orders").Result()
	if err != nil || info.Length != 3 || info.FirstEntry.ID != "1-1" || info.Groups != 1 {
		t.Fatalf("XINFO STREAM = %+v, %v", info, err)
	}
	full, err := c.XInfoStreamFull(ctx, "orders", 0).Result()
	if err != nil || len(full.Entries) != 3 || len(full.Groups) != 1 || len(full.Groups[0].Consumers) != 3 {
		t.Fatalf("XINFO STREAM FULL = %+v, %v", full, err)
	}
	cons, err := c.XInfoConsumers(ctx, "orders", "billing").Result()
	if err != nil || len(cons) != 3 || cons[0].Name != "w1" {
		t.Fatalf("XINFO CONSUMERS = %+v, %v", cons, err)
	}
	if n, err := c.XDel(ctx, "orders", "1-1").Result(); err != nil || n != 1 {
		t.Fatalf("XDEL = %d, %v", n, err)
	}
	if n, err := c.XTrimMaxLen(ctx, "orders", 1).Result(); err != nil || n != 1 {
		t.Fatalf("XTRIM MAXLEN 1 = %d, %v", n, err)
	}

	// The key integrates like the other types.
	if typ, _ := c.Type(ctx, "orders").Result(); typ != "stream" {
		t.Fatalf("TYPE = %q", typ)
	}
	if enc, _ := c.ObjectEncoding(ctx, "orders").Result(); enc != "stream" {
		t.Fatalf("OBJECT ENCODING = %q", enc)
	}
	c.Set(ctx, "plain", "v", 0)
	keys, _, err := c.ScanType(ctx, 0, "*", 100, "stream").Result()
	if err != nil || !reflect.DeepEqual(keys, []string{"orders"}) {
		t.Fatalf("SCAN TYPE stream = %v, %v", keys, err)
	}
	if mem, err := c.MemoryUsage(ctx, "orders").Result(); err != nil || mem < 256 {
		t.Fatalf("MEMORY USAGE = %d, %v", mem, err)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "plain", Values: []string{"a", "b"}}).Err(); err == nil || err.Error() != command.ErrWrongType {
		t.Fatalf("XADD to a string: %v", err)
	}
	if err := c.LPush(ctx, "orders", "x").Err(); err == nil || err.Error() != command.ErrWrongType {
		t.Fatalf("LPUSH to a stream: %v", err)
	}
	if n, _ := c.Copy(ctx, "orders", "orders2", 0, false).Result(); n != 1 {
		t.Fatal("COPY")
	}
	c.XAdd(ctx, &redis.XAddArgs{Stream: "orders2", ID: "99999999999999-0", Values: []string{"only", "copy"}})
	if a, b := c.XLen(ctx, "orders").Val(), c.XLen(ctx, "orders2").Val(); a != 1 || b != 2 {
		t.Fatalf("COPY shares the stream: %d %d", a, b)
	}
	if g, _ := c.XInfoGroups(ctx, "orders2").Result(); len(g) != 1 {
		t.Fatalf("COPY lost the groups: %v", g)
	}
	if err := c.Rename(ctx, "orders2", "orders3").Err(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Move(ctx, "orders3", 2).Result(); !ok {
		t.Fatal("MOVE")
	}
	c.Expire(ctx, "orders", time.Hour)
	if ttl := c.TTL(ctx, "orders").Val(); ttl <= 0 {
		t.Fatalf("TTL = %v", ttl)
	}
}

// TestStreamBlocking: XREAD and XREADGROUP BLOCK are served by an XADD of
// their tenant, never by another tenant's XADD to the same key name; they
// time out with a null array in RESP2 and a null in RESP3; inside MULTI
// they answer at once; XGROUP DESTROY and DEL answer a blocked XREADGROUP.
func TestStreamBlocking(t *testing.T) {
	ts := startServer(t, testConfig(), true)
	a := dialAs(t, ts.addr, "alice", "alice-pw")
	w := dialAs(t, ts.addr, "aadmin", "aadmin-pw") // FLUSHDB needs admin
	b := dialAs(t, ts.addr, "bob", "bob-pw")

	// Woken by its tenant's XADD.
	a.send(encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
	got := replyAfter(a, 10*time.Second)
	ts.waitBlocked(t, "a", 1)
	if r := b.do("XADD", "s", "1-1", "from", "b"); norm(r) != "1-1" {
		t.Fatalf("b XADD = %v", r)
	}
	select {
	case v := <-got:
		t.Fatalf("a woken by tenant b's XADD: %v", v)
	case <-time.After(50 * time.Millisecond):
	}
	w.do("XADD", "s", "5-1", "from", "a")
	want := []any{[]any{"s", []any{[]any{"5-1", []any{"from", "a"}}}}}
	if v := <-got; !reflect.DeepEqual(v, want) {
		t.Fatalf("XREAD BLOCK = %#v", v)
	}

	// Timeouts: a null array in RESP2, a null in RESP3 (fake clock).
	a.send(encode("XREAD", "BLOCK", "1500", "STREAMS", "s", "$"))
	got = replyAfter(a, 10*time.Second)
	ts.expireBlocked(t, "a", 1500*time.Millisecond)
	if v := <-got; v != (nilArray{}) {
		t.Fatalf("XREAD timeout (RESP2) = %#v", v)
	}
	a.do("HELLO", "3")
	a.send(encode("XREAD", "BLOCK", "100", "STREAMS", "s", "$"))
	got = replyAfter(a, 10*time.Second)
	ts.expireBlocked(t, "a", 100*time.Millisecond)
	if v := <-got; v != nil {
		t.Fatalf("XREAD timeout (RESP3) = %#v", v)
	}
	a.do("HELLO", "2")

	// XREADGROUP: served by an XADD, then NOGROUP on XGROUP DESTROY, then
	// UNBLOCKED when the key is deleted.
	w.do("XGROUP", "CREATE", "s", "g", "$")
	a.send(encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
	got = replyAfter(a, 10*time.Second)
	ts.waitBlocked(t, "a", 1)
	w.do("XADD", "s", "6-1", "k", "v")
	want = []any{[]any{"s", []any{[]any{"6-1", []any{"k", "v"}}}}}
	if v := <-got; !reflect.DeepEqual(v, want) {
		t.Fatalf("XREADGROUP BLOCK = %#v", v)
	}
	if v := norm(w.do("XPENDING", "s", "g")); !reflect.DeepEqual(v, []any{int64(1), "6-1", "6-1", []any{[]any{"c", "1"}}}) {
		t.Fatalf("XPENDING after a blocked read = %#v", v)
	}
	a.send(encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
	got = replyAfter(a, 10*time.Second)
	ts.waitBlocked(t, "a", 1)
	w.do("XGROUP", "DESTROY", "s", "g")
	if v := <-got; v != respErr("NOGROUP the consumer group this client was blocked on no longer exists") {
		t.Fatalf("XREADGROUP after XGROUP DESTROY = %#v", v)
	}
	for _, kill := range [][]string{{"DEL", "s"}, {"SET", "s", "x"}, {"FLUSHDB"}} {
		w.do("DEL", "s")
		w.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		a.send(encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
		got = replyAfter(a, 10*time.Second)
		ts.waitBlocked(t, "a", 1)
		w.do(kill...)
		if v := <-got; v != respErr("UNBLOCKED the stream key no longer exists") {
			t.Fatalf("XREADGROUP after %q = %#v", kill, v)
		}
	}

	// Inside MULTI a blocking read answers at once, as on a timeout.
	a.do("MULTI")
	a.do("XREAD", "BLOCK", "0", "STREAMS", "nothing", "$")
	if v := norm(a.do("EXEC")); !reflect.DeepEqual(v, []any{nilArray{}}) {
		t.Fatalf("XREAD BLOCK in MULTI = %#v", v)
	}
	// A script gets Redis's error.
	if v := a.do("EVAL", "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", "0"); v != respErr("ERR xread command is not allowed with BLOCK option from scripts") {
		t.Fatalf("XREAD BLOCK in a script = %#v", v)
	}
}

// TestStreamQuotaGroups: XREADGROUP's PEL growth is reserved like an
// XADD's: on a full noeviction tenant the read is refused with OOM and
// nothing is delivered.
func TestStreamQuotaGroups(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[1].Quota = 256 << 10
	cfg.Tenants[1].Eviction = config.NoEviction
	ts := startServer(t, cfg, false)
	b := dialAs(t, ts.addr, "bob", "bob-pw")
	b.do("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
	i := 0
	for ; i < 100000; i++ {
		if v := b.do("XADD", "s", "*", "f", strings.Repeat("v", 100)); v == respErr(command.ErrOOM) {
			break
		}
	}
	if i == 100000 || i < 100 {
		t.Fatalf("%d entries before OOM", i)
	}
	if v := b.do("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"); v != respErr(command.ErrOOM) {
		t.Fatalf("XREADGROUP of %d entries on a full tenant = %.200v", i, v)
	}
	if v := norm(b.do("XPENDING", "s", "g")); !reflect.DeepEqual(v, []any{int64(0), nil, nil, nilArray{}}) {
		t.Fatalf("XPENDING after a refused read = %#v", v)
	}
	for _, st := range ts.Stats() {
		if st.UsedBytes > st.Quota {
			t.Fatalf("tenant %s: used %d > quota %d", st.ID, st.UsedBytes, st.Quota)
		}
	}
	// NOACK reads need no PEL and are served.
	if v, ok := b.do("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "NOACK", "STREAMS", "s", ">").([]any); !ok || len(v) != 1 {
		t.Fatalf("XREADGROUP NOACK = %.200v", v)
	}
}

// TestStreamCLI: redis-cli as a user would drive a stream, and --bigkeys,
// which sizes streams with XLEN.
func TestStreamCLI(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	in := "XADD events 1-1 user ann action login\nXADD events 2-1 user bob action logout\nXLEN events\n" +
		"XRANGE events - + COUNT 1\nXGROUP CREATE events audit 0\nXREADGROUP GROUP audit w1 COUNT 1 STREAMS events >\n" +
		"XACK events audit 1-1\nXPENDING events audit\nTYPE events\nXADD events 0-1 x y\n"
	expectOut(t, cli(in), "1-1\n2-1\n2\n1-1\nuser\nann\naction\nlogin\nOK\nevents\n1-1\nuser\nann\naction\nlogin\n1\n0\n\n\n\nstream\n"+
		"ERR The ID specified in XADD is equal or smaller than the target stream top item\n\n")
	expectOut(t, cli("", "--no-raw", "XLEN", "events"), "(integer) 2\n")
	r := cli("", "--bigkeys")
	if r.code != 0 || !strings.Contains(r.stdout, `Biggest stream found '"events"' has 2 entries`) {
		t.Errorf("--bigkeys:\n%s\n%s", r.stdout, r.stderr)
	}
}
