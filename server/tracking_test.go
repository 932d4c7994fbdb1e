package server

import (
	"bufio"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// readWithin reads one reply, or reports false when none arrives within d.
func (r *rconn) readWithin(d time.Duration) (any, bool) {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(d))
	v, err := readReply(r.rd)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			// A partial read would leave the reader mid-reply: replace it.
			r.rd = bufio.NewReader(r.c)
			return nil, false
		}
		r.t.Fatalf("read reply: %v", err)
	}
	return v, true
}

// expectPush reads the next reply and checks it is want.
func expectPush(t *testing.T, r *rconn, want any) {
	t.Helper()
	got, ok := r.readWithin(3 * time.Second)
	if !ok {
		t.Fatalf("no message within 3s, want %v", want)
	}
	if g := norm(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("got %#v, want %#v", g, want)
	}
}

// expectNothing checks that nothing arrives for a while.
func expectNothing(t *testing.T, r *rconn, what string) {
	t.Helper()
	if got, ok := r.readWithin(150 * time.Millisecond); ok {
		t.Fatalf("%s: got %#v, want nothing", what, norm(got))
	}
}

func inv(keys ...string) respPush {
	ks := make([]any, len(keys))
	for i, k := range keys {
		ks[i] = k
	}
	return respPush{"invalidate", ks}
}

func resp3As(t *testing.T, addr, user, pass string) *rconn {
	t.Helper()
	r := dial(t, addr)
	if _, isMap := r.do("HELLO", "3", "AUTH", user, pass).(respMap); !isMap {
		t.Fatalf("HELLO 3 AUTH %s failed", user)
	}
	return r
}

// TestTrackingDefaultMode: RESP3 pushes for the keys a connection read,
// after the reply of the command that caused them, once per key, as
// Redis 7.0.
func TestTrackingDefaultMode(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	x := resp3As(t, srv.addr, "alice", "alice-pw")
	y := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := x.do("CLIENT", "TRACKING", "ON"); got != ok {
		t.Fatalf("CLIENT TRACKING ON = %v", got)
	}
	y.do("MSET", "k1", "1", "k2", "2", "k3", "3")
	x.do("GET", "k1")
	x.do("MGET", "k2", "nosuch")
	y.do("SET", "k3", "x") // never read: no message
	y.do("SET", "k1", "x")
	expectPush(t, x, inv("k1"))
	y.do("DEL", "k2", "nosuch")
	expectPush(t, x, inv("k2"))
	expectPush(t, x, inv("nosuch"))
	y.do("SET", "k1", "again") // invalidated once: forgotten until read again
	expectNothing(t, x, "a key written twice after one read")

	// Its own write: the push follows the reply.
	x.do("GET", "k1")
	x.send(encode("SET", "k1", "mine"))
	if got := x.read(); got != ok {
		t.Fatalf("SET = %v, want OK before the push", got)
	}
	expectPush(t, x, inv("k1"))
	// Other kinds of read and write: HGET then HDEL, TTL then EXPIRE, a
	// RENAME destination, a COPY destination, MOVE.
	y.do("HSET", "h", "f", "v")
	y.do("SET", "src", "v")
	x.do("HGET", "h", "f")
	x.do("TTL", "dst")
	x.do("EXISTS", "cp")
	x.do("TYPE", "mv")
	y.do("HDEL", "h", "f")
	expectPush(t, x, inv("h"))
	y.do("RENAME", "src", "dst")
	expectPush(t, x, inv("dst"))
	y.do("COPY", "dst", "cp")
	expectPush(t, x, inv("cp"))
	y.do("SET", "mv", "v")
	expectPush(t, x, inv("mv"))

	// A write inside EXEC: the pushes follow EXEC's reply.
	x.do("GET", "k1")
	x.do("MULTI")
	x.do("SET", "k1", "tx")
	x.do("GET", "k1")
	if got := norm(x.do("EXEC")); !reflect.DeepEqual(got, []any{ok, "tx"}) {
		t.Fatalf("EXEC = %v", got)
	}
	expectPush(t, x, inv("k1"))

	// CLIENT TRACKING OFF: no more messages.
	x.do("GET", "k1")
	x.do("CLIENT", "TRACKING", "OFF")
	y.do("SET", "k1", "off")
	expectNothing(t, x, "after CLIENT TRACKING OFF")
}

// TestTrackingModes: NOLOOP, OPTIN with CLIENT CACHING YES, OPTOUT with
// CLIENT CACHING NO, BCAST with prefixes, one message per prefix and
// command.
func TestTrackingModes(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	x := resp3As(t, srv.addr, "alice", "alice-pw")
	y := dialAs(t, srv.addr, "alice", "alice-pw")

	x.do("CLIENT", "TRACKING", "ON", "NOLOOP")
	x.do("MGET", "own", "other")
	x.do("SET", "own", "1")
	y.do("SET", "other", "1")
	expectPush(t, x, inv("other"))
	expectNothing(t, x, "NOLOOP: its own write")
	x.do("CLIENT", "TRACKING", "OFF")

	x.do("CLIENT", "TRACKING", "ON", "OPTIN")
	x.do("GET", "notcached")
	x.do("CLIENT", "CACHING", "YES")
	x.do("GET", "cached")
	x.do("GET", "notcached2") // CACHING YES held for one command only
	y.do("MSET", "notcached", "1", "cached", "1", "notcached2", "1")
	expectPush(t, x, inv("cached"))
	expectNothing(t, x, "OPTIN without CLIENT CACHING YES")
	// rueidis's pattern: CACHING YES, then a transaction of reads.
	x.send(append(append(append(append(encode("CLIENT", "CACHING", "YES"), encode("MULTI")...), encode("PTTL", "r")...), encode("GET", "r")...), encode("EXEC")...))
	for i := 0; i < 5; i++ {
		x.read()
	}
	y.do("SET", "r", "1")
	expectPush(t, x, inv("r"))
	x.do("CLIENT", "TRACKING", "OFF")

	x.do("CLIENT", "TRACKING", "ON", "OPTOUT")
	x.do("CLIENT", "CACHING", "NO")
	x.do("GET", "skipped")
	x.do("GET", "kept")
	y.do("MSET", "skipped", "1", "kept", "1")
	expectPush(t, x, inv("kept"))
	expectNothing(t, x, "OPTOUT with CLIENT CACHING NO")
	x.do("CLIENT", "TRACKING", "OFF")

	if got := x.do("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "b:"); got != ok {
		t.Fatalf("BCAST = %v", got)
	}
	y.do("MSET", "a:1", "1", "a:2", "2", "c:1", "3")
	expectPush(t, x, inv("a:1", "a:2"))
	y.do("MULTI")
	y.do("INCR", "b:1")
	y.do("INCR", "b:2")
	y.do("INCR", "c:2")
	y.do("EXEC")
	expectPush(t, x, inv("b:1", "b:2"))
	expectNothing(t, x, "a key under no prefix")
	x.do("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c:")
	y.do("SET", "c:9", "1")
	expectPush(t, x, inv("c:9"))
}

// TestTrackingRedirect: RESP2 clients redirect to a subscriber of
// __redis__:invalidate; a RESP3 target gets pushes even while it sends
// nothing; a target that closes makes the redirect broken.
func TestTrackingRedirect(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	x := dialAs(t, srv.addr, "alice", "alice-pw")
	y := dialAs(t, srv.addr, "alice", "alice-pw")
	sub := dialAs(t, srv.addr, "alice", "alice-pw")
	subID := strconv.FormatInt(sub.do("CLIENT", "ID").(int64), 10)
	sub.do("SUBSCRIBE", "__redis__:invalidate")
	if got := x.do("CLIENT", "TRACKING", "ON", "REDIRECT", subID); got != ok {
		t.Fatalf("REDIRECT = %v", got)
	}
	if got := x.do("CLIENT", "GETREDIR"); got != sub.do("CLIENT", "ID") && false {
		t.Fatalf("GETREDIR = %v", got)
	}
	x.do("GET", "k")
	y.do("SET", "k", "1")
	expectPush(t, sub, []any{"message", "__redis__:invalidate", []any{"k"}})
	y.do("FLUSHDB")
	expectNothing(t, sub, "FLUSHDB by a readwrite user is refused") // NOPERM: alice is readwrite

	// A RESP3 target that never speaks after HELLO: pushes reach it.
	idle := resp3As(t, srv.addr, "alice", "alice-pw")
	idleID := strconv.FormatInt(idle.do("CLIENT", "ID").(int64), 10)
	x.do("CLIENT", "TRACKING", "ON", "REDIRECT", idleID)
	if got := x.do("CLIENT", "GETREDIR"); got != mustInt(idleID) {
		t.Fatalf("GETREDIR = %v, want %s", got, idleID)
	}
	x.do("GET", "idle-key")
	time.Sleep(20 * time.Millisecond)
	y.do("SET", "idle-key", "1")
	expectPush(t, idle, inv("idle-key"))
	y.do("SET", "idle-key", "2")
	x.do("GET", "idle-key")
	y.do("SET", "idle-key", "3")
	expectPush(t, idle, inv("idle-key"))
	if got := idle.do("PING"); got != status("PONG") {
		t.Fatalf("the target after its pushes: PING = %v", got)
	}

	// The target goes: a RESP3 tracker is told, TRACKINGINFO says so.
	z := resp3As(t, srv.addr, "alice", "alice-pw")
	tgt := dialAs(t, srv.addr, "alice", "alice-pw")
	tgtID := tgt.do("CLIENT", "ID").(int64)
	z.do("CLIENT", "TRACKING", "ON", "REDIRECT", strconv.FormatInt(tgtID, 10))
	z.do("GET", "gone")
	tgt.c.Close()
	deadline := time.Now().Add(3 * time.Second)
	for srv.tenantClient(srv.reg.Load().tenants["a"], tgtID) != nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	y.do("SET", "gone", "1")
	expectPush(t, z, respPush{"tracking-redir-broken", tgtID})
	info := norm(z.do("CLIENT", "TRACKINGINFO")).(respMap)
	if !reflect.DeepEqual(info[1], respSet{"on", "broken_redirect"}) || info[3] != tgtID {
		t.Errorf("TRACKINGINFO after the target left = %v", info)
	}
}

func mustInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

// TestTrackingTenantScope: tracking never crosses tenants. b's writes to
// the names a reads invalidate nothing of a's; a's BCAST with the empty
// prefix hears only a's keys; a cannot redirect to b's connection, and
// an AUTH to b ends a's session.
func TestTrackingTenantScope(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := resp3As(t, srv.addr, "alice", "alice-pw")
	a2 := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	bID := strconv.FormatInt(b.do("CLIENT", "ID").(int64), 10)
	if got := a.do("CLIENT", "TRACKING", "ON", "REDIRECT", bID); got != respErr("ERR The client ID you want redirect to does not exist") {
		t.Errorf("REDIRECT to b's connection = %v", got)
	}
	a.do("CLIENT", "TRACKING", "ON")
	a.do("GET", "shared")
	b.do("SET", "shared", "b")
	b.do("DEL", "shared")
	b.do("FLUSHALL")
	expectNothing(t, a, "b's writes and flush of the same name")
	a2.do("SET", "shared", "a")
	expectPush(t, a, inv("shared"))

	bw := resp3As(t, srv.addr, "bob", "bob-pw")
	bw.do("CLIENT", "TRACKING", "ON", "BCAST")
	a.do("CLIENT", "TRACKING", "OFF")
	a.do("CLIENT", "TRACKING", "ON", "BCAST")
	b.do("MSET", "b-secret-1", "x", "b-secret-2", "y")
	expectPush(t, bw, inv("b-secret-1", "b-secret-2"))
	a2.do("SET", "a-key", "1")
	expectPush(t, a, inv("a-key"))
	expectNothing(t, a, "b's keys under the empty prefix")
	expectNothing(t, bw, "a's keys under the empty prefix")

	// A redirect target re-bound to another tenant gets nothing more.
	tgt := dialAs(t, srv.addr, "alice", "alice-pw")
	tgtID := tgt.do("CLIENT", "ID").(int64)
	tgt.do("SUBSCRIBE", "__redis__:invalidate")
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	r.do("CLIENT", "TRACKING", "ON", "REDIRECT", strconv.FormatInt(tgtID, 10))
	r.do("GET", "moved")
	a2.do("SET", "moved", "1")
	expectPush(t, tgt, []any{"message", "__redis__:invalidate", []any{"moved"}})
	tgt.do("RESET")
	tgt.do("AUTH", "bob", "bob-pw")
	tgt.do("SUBSCRIBE", "__redis__:invalidate")
	r.do("GET", "moved")
	a2.do("SET", "moved", "2")
	expectNothing(t, tgt, "a's invalidation after its target AUTHed to b")

	// a (BCAST, empty prefix) heard a2's two writes of "moved".
	expectPush(t, a, inv("moved"))
	expectPush(t, a, inv("moved"))
	// AUTH to another tenant ends a's tracking session.
	a.do("AUTH", "bob", "bob-pw")
	if got := a.do("CLIENT", "GETREDIR"); got != int64(-1) {
		t.Errorf("GETREDIR after AUTH to b = %v, want -1", got)
	}
	if n := srv.reg.Load().tenants["a"].trk.clients.Load(); n != 1 {
		t.Errorf("a has %d tracking sessions, want 1 (r)", n)
	}
}

// TestTrackingInvalidationSources: a flush sends a null, an expired key
// and a key dropped by the table's own bound (tracking-table-max-keys)
// are invalidated, and a script's writes invalidate what they touch.
func TestTrackingInvalidationSources(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	x := resp3As(t, srv.addr, "alice", "alice-pw")
	adm := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	x.do("CLIENT", "TRACKING", "ON")

	x.do("GET", "f")
	adm.do("FLUSHDB")
	expectPush(t, x, respPush{"invalidate", nil})

	adm.do("SET", "exp", "v", "PX", "30")
	x.do("GET", "exp")
	expectPush(t, x, inv("exp")) // active expiry (100 ms rounds), nobody touches it

	x.do("GET", "lua")
	if got := adm.do("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "lua"); got != ok {
		t.Fatalf("EVAL = %v", got)
	}
	expectPush(t, x, inv("lua"))

	if got := adm.do("CONFIG", "SET", "tracking-table-max-keys", "2"); got != ok {
		t.Fatalf("CONFIG SET tracking-table-max-keys = %v", got)
	}
	x.do("MGET", "m1", "m2", "m3") // one more than the bound: one is dropped and told
	got, okRead := x.readWithin(3 * time.Second)
	if !okRead {
		t.Fatalf("no invalidation for the key past tracking-table-max-keys")
	}
	if p, isPush := norm(got).(respPush); !isPush || p[0] != "invalidate" || len(p[1].([]any)) != 1 {
		t.Fatalf("got %#v, want one invalidated key", norm(got))
	}
	if n := srv.reg.Load().tenants["a"].trk.table.Len(); n != 2 {
		t.Errorf("table holds %d keys, want 2", n)
	}
	adm.do("CONFIG", "SET", "tracking-table-max-keys", "0")
	if n := srv.reg.Load().tenants["a"].trk.charged.Load(); n <= 0 {
		t.Errorf("the table charges %d bytes to client_memory", n)
	}
}
