package server

// Pub/Sub: exact bytes in RESP2 and RESP3, the RESP2 subscribed context,
// tenant isolation of channels and patterns, go-redis v9 PubSub in both
// protocols, and a subscriber that stops reading.

import (
	"bufio"
	"errors"
	"io"
	"net"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
)

const errSubCtx = "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"

func subBytes(kind, name string, n int) string {
	return "*3\r\n$" + itoaI(len(kind)) + "\r\n" + kind + "\r\n$" + itoaI(len(name)) + "\r\n" + name + "\r\n:" + itoaI(n) + "\r\n"
}

func msgBytes(ch, payload string) string {
	return "*3\r\n$7\r\nmessage\r\n$" + itoaI(len(ch)) + "\r\n" + ch + "\r\n$" + itoaI(len(payload)) + "\r\n" + payload + "\r\n"
}

func pmsgBytes(pat, ch, payload string) string {
	return "*4\r\n$8\r\npmessage\r\n$" + itoaI(len(pat)) + "\r\n" + pat + "\r\n$" + itoaI(len(ch)) + "\r\n" + ch + "\r\n$" + itoaI(len(payload)) + "\r\n" + payload + "\r\n"
}

// expectRaw reads exactly want (a pushed message, no command sent).
func expectRaw(t *testing.T, r *rconn, want string) {
	t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.rd, got); err != nil {
		t.Fatalf("read %q: %v (want %q)", got, err, want)
	}
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPubSubRESP2Exchanges(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	sub := dialAs(t, ts.addr, "alice", "alice-pw")
	pub := dialAs(t, ts.addr, "alice", "alice-pw")

	rawExchange(t, sub, subBytes("subscribe", "a", 1)+subBytes("subscribe", "b", 2), "SUBSCRIBE", "a", "b")
	if got := pub.do("PUBLISH", "a", "hello"); got != int64(1) {
		t.Fatalf("PUBLISH a = %v", got)
	}
	expectRaw(t, sub, msgBytes("a", "hello"))
	if got := pub.do("PUBLISH", "nobody", "x"); got != int64(0) {
		t.Fatalf("PUBLISH nobody = %v", got)
	}

	// The RESP2 subscribed context.
	rawExchange(t, sub, "-ERR Can't execute 'get"+errSubCtx+"\r\n", "GET", "k")
	rawExchange(t, sub, "-ERR Can't execute 'client|list"+errSubCtx+"\r\n", "CLIENT", "LIST")
	rawExchange(t, sub, "-ERR Can't execute 'hello"+errSubCtx+"\r\n", "HELLO", "3")
	rawExchange(t, sub, "-ERR Can't execute 'publish"+errSubCtx+"\r\n", "PUBLISH", "a", "x")
	rawExchange(t, sub, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING")
	rawExchange(t, sub, "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n", "PING", "hi")
	rawExchange(t, sub, "-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b")

	rawExchange(t, sub, subBytes("psubscribe", "n*", 3), "PSUBSCRIBE", "n*")
	if got := pub.do("PUBLISH", "news", "x"); got != int64(1) {
		t.Fatalf("PUBLISH news = %v", got)
	}
	expectRaw(t, sub, pmsgBytes("n*", "news", "x"))
	// Subscribed to the channel and a matching pattern: two deliveries.
	rawExchange(t, sub, subBytes("psubscribe", "?", 4), "PSUBSCRIBE", "?")
	if got := pub.do("PUBLISH", "a", "y"); got != int64(2) {
		t.Fatalf("PUBLISH a = %v, want 2", got)
	}
	got := make([]string, 2)
	for i := range got {
		got[i] = string(mustRead(t, sub))
	}
	if got[0] != msgBytes("a", "y") || got[1] != pmsgBytes("?", "a", "y") {
		t.Fatalf("deliveries %q", got)
	}

	if got := norm(pub.do("PUBSUB", "CHANNELS")); !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Errorf("PUBSUB CHANNELS = %v", got)
	}
	if got := norm(pub.do("PUBSUB", "CHANNELS", "[b-z]")); !reflect.DeepEqual(got, []any{"b"}) {
		t.Errorf("PUBSUB CHANNELS [b-z] = %v", got)
	}
	if got := norm(pub.do("PUBSUB", "NUMSUB", "a", "zz")); !reflect.DeepEqual(got, []any{"a", int64(1), "zz", int64(0)}) {
		t.Errorf("PUBSUB NUMSUB = %v", got)
	}
	if got := norm(pub.do("PUBSUB", "NUMSUB")); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("PUBSUB NUMSUB (none) = %v", got)
	}
	if got := pub.do("PUBSUB", "NUMPAT"); got != int64(2) {
		t.Errorf("PUBSUB NUMPAT = %v", got)
	}
	if got := pub.do("PUBSUB", "NOPE"); got != respErr("ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.") {
		t.Errorf("PUBSUB NOPE = %v", got)
	}
	if got, _ := pub.do("PUBSUB", "HELP").([]any); len(got) < 4 {
		t.Errorf("PUBSUB HELP = %v", got)
	}

	// UNSUBSCRIBE without arguments: every channel, in subscription order.
	rawExchange(t, sub, subBytes("unsubscribe", "a", 3)+subBytes("unsubscribe", "b", 2), "UNSUBSCRIBE")
	rawExchange(t, sub, subBytes("punsubscribe", "x*", 2), "PUNSUBSCRIBE", "x*")
	rawExchange(t, sub, subBytes("punsubscribe", "n*", 1)+subBytes("punsubscribe", "?", 0), "PUNSUBSCRIBE")
	// Out of the subscribed context: anything runs again.
	rawExchange(t, sub, "$-1\r\n", "GET", "k")
	rawExchange(t, sub, "+PONG\r\n", "PING")
	rawExchange(t, sub, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE")
	rawExchange(t, sub, "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n", "PUNSUBSCRIBE")
	rawExchange(t, sub, subBytes("unsubscribe", "x", 0), "UNSUBSCRIBE", "x")
	if got := pub.do("PUBLISH", "a", "z"); got != int64(0) {
		t.Fatalf("PUBLISH after UNSUBSCRIBE = %v", got)
	}
	if got := pub.do("PUBSUB", "NUMPAT"); got != int64(0) {
		t.Errorf("PUBSUB NUMPAT = %v", got)
	}

	// Duplicates, the empty channel, then RESET leaves everything.
	rawExchange(t, sub, subBytes("subscribe", "d", 1)+subBytes("subscribe", "d", 1)+subBytes("subscribe", "", 2), "SUBSCRIBE", "d", "d", "")
	if got := pub.do("PUBLISH", "", "e"); got != int64(1) {
		t.Fatalf("PUBLISH '' = %v", got)
	}
	expectRaw(t, sub, msgBytes("", "e"))
	rawExchange(t, sub, "+RESET\r\n", "RESET")
	if got := pub.do("PUBLISH", "d", "z"); got != int64(0) {
		t.Fatalf("PUBLISH after RESET = %v", got)
	}
	if got := sub.do("AUTH", "alice", "alice-pw"); got != ok {
		t.Fatalf("AUTH after RESET = %v", got)
	}

	// A pipeline: messages never land inside the pipeline's replies and
	// the confirmation precedes the first message.
	sub.send([]byte(string(encode("SUBSCRIBE", "p")) + string(encode("PING")) + string(encode("UNSUBSCRIBE", "p"))))
	expectRaw(t, sub, subBytes("subscribe", "p", 1)+"*2\r\n$4\r\npong\r\n$0\r\n\r\n"+subBytes("unsubscribe", "p", 0))

	// SUBSCRIBE inside MULTI runs at EXEC (Redis 7.0).
	rawExchange(t, sub, "+OK\r\n", "MULTI")
	rawExchange(t, sub, "+QUEUED\r\n", "SUBSCRIBE", "m")
	rawExchange(t, sub, "*1\r\n"+subBytes("subscribe", "m", 1), "EXEC")
	if got := pub.do("PUBLISH", "m", "1"); got != int64(1) {
		t.Fatalf("PUBLISH m = %v", got)
	}
	expectRaw(t, sub, msgBytes("m", "1"))
	rawExchange(t, sub, "-ERR Can't execute 'multi"+errSubCtx+"\r\n", "MULTI")
	rawExchange(t, sub, "+OK\r\n", "QUIT")

	// Closing the connection removes its subscriptions.
	waitFor(t, func() bool { return pub.do("PUBSUB", "NUMSUB", "m").([]any)[1] == int64(0) })
}

func mustRead(t *testing.T, r *rconn) []byte {
	t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := rawReply(r.rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawReply appends one RESP reply, exactly as read, to b.
func rawReply(rd *bufio.Reader, b []byte) ([]byte, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return b, err
	}
	b = append(b, line...)
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	switch line[0] {
	case '$', '=':
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(rd, buf); err != nil {
				return b, err
			}
			b = append(b, buf...)
		}
	case '*', '>', '~', '%':
		if line[0] == '%' {
			n *= 2
		}
		for range max(n, 0) {
			if b, err = rawReply(rd, b); err != nil {
				return b, err
			}
		}
	}
	return b, nil
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPubSubRESP3Exchanges(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	sub := dialAs(t, ts.addr, "alice", "alice-pw")
	pub := dialAs(t, ts.addr, "alice", "alice-pw")
	sub.do("HELLO", "3")
	rawExchange(t, sub, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", "SUBSCRIBE", "a")
	rawExchange(t, sub, ">3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n", "PSUBSCRIBE", "*")
	pub.do("PUBLISH", "a", "v")
	expectRaw(t, sub, ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nv\r\n>4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\nv\r\n")
	// RESP3: any command runs while subscribed.
	rawExchange(t, sub, "_\r\n", "GET", "k")
	rawExchange(t, sub, "+PONG\r\n", "PING")
	rawExchange(t, sub, ":2\r\n", "PUBLISH", "a", "self")
	expectRaw(t, sub, ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n>4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\na\r\n$4\r\nself\r\n")
	rawExchange(t, sub, ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n", "UNSUBSCRIBE")
	rawExchange(t, sub, ">3\r\n$12\r\npunsubscribe\r\n$1\r\n*\r\n:0\r\n", "PUNSUBSCRIBE")
	rawExchange(t, sub, ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n", "UNSUBSCRIBE")

	// AUTH to another tenant drops the subscriptions (they stay in a).
	rawExchange(t, sub, ">3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n", "SUBSCRIBE", "x")
	rawExchange(t, sub, "+OK\r\n", "AUTH", "bob", "bob-pw")
	if got := pub.do("PUBLISH", "x", "1"); got != int64(0) {
		t.Errorf("a: PUBLISH x after the subscriber moved to b = %v", got)
	}
	rawExchange(t, sub, ":0\r\n", "PUBLISH", "x", "1")
	rawExchange(t, sub, "*0\r\n", "PUBSUB", "CHANNELS")
}

// TestPubSubTenantIsolation: two tenants with the same channel names and
// catch-all patterns: no cross-delivery, counts and PUBSUB per tenant.
func TestPubSubTenantIsolation(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	pats := []string{"*", "?*", "b*", "*\x00*", "\\*", "[a-z]*", "*{b}*", "a:*", "b:*"}
	subs := map[string]*rconn{}
	for _, u := range []struct{ user, pass string }{{"alice", "alice-pw"}, {"bob", "bob-pw"}} {
		r := dialAs(t, ts.addr, u.user, u.pass)
		r.send(encode(append([]string{"PSUBSCRIBE"}, pats...)...))
		for range pats {
			mustRead(t, r)
		}
		r.send(encode("SUBSCRIBE", "news", u.user+"-only"))
		mustRead(t, r)
		mustRead(t, r)
		subs[u.user] = r
	}
	alice := dialAs(t, ts.addr, "alice", "alice-pw")
	bob := dialAs(t, ts.addr, "bob", "bob-pw")

	// "news" matches *, ?* and [a-z]*: alice's publish reaches alice's
	// subscriber only, and counts alice's receivers only.
	if got := alice.do("PUBLISH", "news", "from-a"); got != int64(4) {
		t.Errorf("a: PUBLISH news = %v, want 4 (1 channel + 3 patterns)", got)
	}
	if got := alice.do("PUBLISH", "bob-only", "from-a"); got != int64(4) {
		t.Errorf("a: PUBLISH bob-only = %v, want 4 (patterns of a only)", got)
	}
	if got := bob.do("PUBLISH", "b:{b}\x00", "from-b"); got != int64(7) {
		t.Errorf("b: PUBLISH = %v, want 7 (every pattern but \\* and a:*)", got)
	}
	// b's subscriber's next message is b's own sentinel: nothing of a's.
	bob.do("PUBLISH", "bob-only", "sentinel")
	first := string(mustRead(t, subs["bob"]))
	if !strings.Contains(first, "from-b") {
		t.Fatalf("b's first delivery %q, want b's own message", first)
	}
	for {
		m := string(mustRead(t, subs["bob"]))
		if strings.Contains(m, "from-a") {
			t.Fatalf("b heard a's message: %q", m)
		}
		if m == msgBytes("bob-only", "sentinel") {
			break
		}
	}
	alice.do("PUBLISH", "alice-only", "sentinel")
	for {
		m := string(mustRead(t, subs["alice"]))
		if strings.Contains(m, "from-b") {
			t.Fatalf("a heard b's message: %q", m)
		}
		if m == msgBytes("alice-only", "sentinel") {
			break
		}
	}
	for _, tc := range []struct {
		r    *rconn
		user string
	}{{alice, "alice"}, {bob, "bob"}} {
		if got := norm(tc.r.do("PUBSUB", "CHANNELS")); !reflect.DeepEqual(got, []any{tc.user + "-only", "news"}) {
			t.Errorf("%s: PUBSUB CHANNELS = %q", tc.user, got)
		}
		if got := norm(tc.r.do("PUBSUB", "NUMSUB", "news", "alice-only", "bob-only")); !reflect.DeepEqual(got,
			[]any{"news", int64(1), "alice-only", int64(command.B2i(tc.user == "alice")), "bob-only", int64(command.B2i(tc.user == "bob"))}) {
			t.Errorf("%s: PUBSUB NUMSUB = %q", tc.user, got)
		}
		if got := tc.r.do("PUBSUB", "NUMPAT"); got != int64(len(pats)) {
			t.Errorf("%s: PUBSUB NUMPAT = %v", tc.user, got)
		}
	}
	// A readonly user may subscribe, not publish.
	ro := dialAs(t, ts.addr, "aro", "aro-pw")
	if got, _ := ro.do("PUBLISH", "news", "x").(respErr); !strings.HasPrefix(string(got), "NOPERM") {
		t.Errorf("readonly PUBLISH = %v", got)
	}
	rawExchange(t, ro, subBytes("subscribe", "news", 1), "SUBSCRIBE", "news")
}

func TestPubSubGoRedis(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	for _, proto := range []int{2, 3} {
		rdb := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
		other := grClient(t, &redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw", Protocol: proto})
		ps := rdb.Subscribe(ctx, "orders")
		defer ps.Close()
		if m, err := ps.Receive(ctx); err != nil || !reflect.DeepEqual(m, &redis.Subscription{Kind: "subscribe", Channel: "orders", Count: 1}) {
			t.Fatalf("proto %d: Receive = %#v, %v", proto, m, err)
		}
		if err := ps.PSubscribe(ctx, "ord*"); err != nil {
			t.Fatal(err)
		}
		if m, err := ps.Receive(ctx); err != nil || !reflect.DeepEqual(m, &redis.Subscription{Kind: "psubscribe", Channel: "ord*", Count: 2}) {
			t.Fatalf("proto %d: Receive = %#v, %v", proto, m, err)
		}
		if n, err := other.Publish(ctx, "orders", "b's").Result(); err != nil || n != 0 {
			t.Fatalf("proto %d: b PUBLISH = %d, %v", proto, n, err)
		}
		if n, err := rdb.Publish(ctx, "orders", "o1").Result(); err != nil || n != 2 {
			t.Fatalf("proto %d: PUBLISH = %d, %v", proto, n, err)
		}
		seen := map[string]bool{}
		for range 2 {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatalf("proto %d: ReceiveMessage: %v", proto, err)
			}
			if m.Channel != "orders" || m.Payload != "o1" {
				t.Fatalf("proto %d: message %+v", proto, m)
			}
			seen[m.Pattern] = true
		}
		if !seen[""] || !seen["ord*"] {
			t.Errorf("proto %d: deliveries %v", proto, seen)
		}
		if err := ps.Ping(ctx, "hb"); err != nil {
			t.Fatalf("proto %d: Ping: %v", proto, err)
		}
		if m, err := ps.Receive(ctx); err != nil {
			t.Fatalf("proto %d: pong: %v", proto, err)
		} else if p, ok := m.(*redis.Pong); !ok || (proto == 2 && p.Payload != "hb") {
			t.Fatalf("proto %d: pong = %#v", proto, m)
		}
		if got, err := rdb.PubSubChannels(ctx, "*").Result(); err != nil || !reflect.DeepEqual(got, []string{"orders"}) {
			t.Errorf("proto %d: PUBSUB CHANNELS = %v, %v", proto, got, err)
		}
		if got, err := other.PubSubChannels(ctx, "*").Result(); err != nil || len(got) != 0 {
			t.Errorf("proto %d: b PUBSUB CHANNELS = %v, %v", proto, got, err)
		}
		if got, err := rdb.PubSubNumSub(ctx, "orders").Result(); err != nil || got["orders"] != 1 {
			t.Errorf("proto %d: PUBSUB NUMSUB = %v, %v", proto, got, err)
		}
		if got, err := rdb.PubSubNumPat(ctx).Result(); err != nil || got != 1 {
			t.Errorf("proto %d: PUBSUB NUMPAT = %v, %v", proto, got, err)
		}
		// The Go channel API, fed by the server's pushes.
		ch := ps.Channel()
		for i := range 20 {
			rdb.Publish(ctx, "orders-"+itoaI(i), itoaI(i))
		}
		for i := range 20 {
			select {
			case m := <-ch:
				if m.Pattern != "ord*" || m.Channel != "orders-"+itoaI(i) || m.Payload != itoaI(i) {
					t.Fatalf("proto %d: message %d = %+v", proto, i, m)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("proto %d: message %d not delivered", proto, i)
			}
		}
		if err := ps.Unsubscribe(ctx, "orders"); err != nil {
			t.Fatal(err)
		}
		if err := ps.PUnsubscribe(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return rdb.Publish(ctx, "orders", "x").Val() == 0 })
		ps.Close()
	}
}

// TestPubSubSlowSubscriber: a subscriber that stops reading is
// disconnected once its queue passes the cap (here 1 MiB, long before the
// 30s write deadline), with bounded memory, while the publisher never
// waits and another subscriber of the same channel gets everything.
func TestPubSubSlowSubscriber(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.WriteTimeout = 30 * time.Second
	cfg.Limits.ClientOutputBufferLimit = 1 << 20
	ts := startServer(t, cfg, false)

	good := dialAs(t, ts.addr, "alice", "alice-pw")
	rawExchange(t, good, subBytes("subscribe", "feed", 1), "SUBSCRIBE", "feed")
	var received atomic.Int64
	readerDone := make(chan error, 1)
	go func() {
		for {
			good.c.SetReadDeadline(time.Now().Add(20 * time.Second))
			v, err := readReply(good.rd)
			if err != nil {
				readerDone <- err
				return
			}
			if m, _ := v.([]any); len(m) == 3 && string(m[0].([]byte)) == "message" {
				if string(m[2].([]byte)) == "end" {
					readerDone <- nil
					return
				}
				received.Add(1)
			}
		}
	}()

	slow := dialAs(t, ts.addr, "alice", "alice-pw")
	rawExchange(t, slow, subBytes("subscribe", "feed", 1), "SUBSCRIBE", "feed")
	pub := dialAs(t, ts.addr, "alice", "alice-pw")
	n0 := ts.conns.Load()
	runtime.GC()
	base := liveHeap()

	payload := strings.Repeat("p", 32<<10)
	var published int64
	var worst time.Duration
	var peak uint64
	start := time.Now()
	gone := false
	for i := 0; i < 4000 && !gone; i++ {
		st := time.Now()
		n := pub.do("PUBLISH", "feed", payload)
		if d := time.Since(st); d > worst {
			worst = d
		}
		published++
		if n == int64(1) && ts.conns.Load() == n0-1 {
			gone = true
		}
		if i%20 == 0 {
			if h := liveHeap(); h > peak {
				peak = h
			}
		}
	}
	t.Logf("published %d x 32 KiB in %v; slow subscriber gone: %v; slowest PUBLISH %v; peak heap growth %.1f MiB",
		published, time.Since(start).Round(time.Millisecond), gone, worst, float64(int64(peak)-int64(base))/(1<<20))
	if !gone {
		t.Fatalf("slow subscriber still connected after %d messages (%d MiB)", published, published>>5)
	}
	if worst > time.Second {
		t.Errorf("a PUBLISH took %v: the publisher waited for the slow subscriber", worst)
	}
	if growth := int64(peak) - int64(base); growth > 48<<20 {
		t.Errorf("heap grew by %d MiB", growth>>20)
	}
	// The slow subscriber's socket was closed by the server.
	slow.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	nread, err := io.Copy(io.Discard, slow.c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("slow subscriber's socket still open after %d bytes", nread)
	}
	// The other subscriber got every message, in order, and still works.
	pub.do("PUBLISH", "feed", "end")
	select {
	case err := <-readerDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("good subscriber did not get the end marker")
	}
	if got := received.Load(); got != published {
		t.Errorf("good subscriber received %d of %d messages", got, published)
	}
	if got := pub.do("PUBSUB", "NUMSUB", "feed"); !reflect.DeepEqual(norm(got), []any{"feed", int64(1)}) {
		t.Errorf("NUMSUB feed = %v", got)
	}
}

// TestPubSubConcurrent: publishers flood a RESP3 subscriber that runs
// commands with large replies meanwhile, while other connections
// subscribe and unsubscribe: every reply arrives whole and in order
// between the pushes (run with -race).
func TestPubSubConcurrent(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	big := strings.Repeat("B", 200<<10)
	setup := dialAs(t, ts.addr, "alice", "alice-pw")
	setup.do("SET", "big", big)

	sub := dialAs(t, ts.addr, "alice", "alice-pw")
	sub.do("HELLO", "3")
	sub.send(encode("SUBSCRIBE", "flood"))
	mustRead(t, sub)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 3 {
		r := dialAs(t, ts.addr, "alice", "alice-pw")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r.c.SetDeadline(time.Now().Add(10 * time.Second))
				r.c.Write(encode("PUBLISH", "flood", "m"+itoaI(p)+"-"+itoaI(i)))
				if _, err := readReply(r.rd); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 2 {
		r := dialAs(t, ts.addr, "alice", "alice-pw")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r.c.SetDeadline(time.Now().Add(10 * time.Second))
				r.c.Write(append(encode("SUBSCRIBE", "flood", "x"), encode("UNSUBSCRIBE")...))
				for range 4 {
					if _, err := readReply(r.rd); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}

	const gets = 50
	var pipeline []byte
	for range gets {
		pipeline = append(pipeline, encode("GET", "big")...)
		pipeline = append(pipeline, encode("ECHO", "e")...)
	}
	go func() {
		sub.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		sub.c.Write(pipeline)
	}()
	replies, pushes := 0, 0
	for replies < 2*gets {
		sub.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		v, err := readReply(sub.rd)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := v.(respPush); ok {
			if len(p) != 3 || string(p[0].([]byte)) != "message" {
				t.Fatalf("push %q", p)
			}
			pushes++
			continue
		}
		want := big
		if replies%2 == 1 {
			want = "e"
		}
		if b, _ := v.([]byte); string(b) != want {
			t.Fatalf("reply %d: %.40q (len %d)", replies, b, len(b))
		}
		replies++
	}
	close(stop)
	wg.Wait()
	t.Logf("%d replies and %d pushes interleaved", replies, pushes)
	if pushes == 0 {
		t.Error("no message delivered during the pipeline")
	}
}

func itoaI(n int) string { return strconv.Itoa(n) }
