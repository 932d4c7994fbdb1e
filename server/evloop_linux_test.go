//go:build linux

package server

import (
	"io"
	"log/slog"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// startLoopServer is startServer with the prototype event-loop front end
// (evloop_linux.go) and the given number of loops.
func startLoopServer(t *testing.T, cfg *config.Config, loops int) *testServer {
	t.Helper()
	s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.serveEventLoop(ln, loops) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveEventLoop: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("event loops did not stop within 5s")
		}
	})
	return &testServer{Server: s, addr: ln.Addr().String()}
}

// The connection setup redis-benchmark sends and the benchmarked commands,
// for two tenants, through the real dispatch.
func TestEventLoopCommands(t *testing.T) {
	srv := startLoopServer(t, testConfig(), 2)
	pre := dial(t, srv.addr)
	if got := pre.do("GET", "k"); got != respErr(errNoAuth) {
		t.Fatalf("GET before AUTH: %v", got)
	}
	if got := pre.do("AUTH", "alice", "nope"); got != respErr(errWrongPass) {
		t.Fatalf("bad AUTH: %v", got)
	}
	var as, bs []*rconn
	for i := 0; i < 8; i++ { // spread over both loops
		as = append(as, dialAs(t, srv.addr, "alice", "alice-pw"))
		bs = append(bs, dialAs(t, srv.addr, "bob", "bob-pw"))
	}
	a, b := as[3], bs[5]
	steps := []struct {
		c    *rconn
		args []string
		want any
	}{
		{a, []string{"PING"}, status("PONG")},
		{a, []string{"CONFIG", "GET", "maxmemory"}, []any{[]byte("maxmemory"), []byte("8388608")}},
		{a, []string{"SET", "k", "va"}, status("OK")},
		{b, []string{"SET", "k", "vb"}, status("OK")},
		{a, []string{"GET", "k"}, []byte("va")},
		{b, []string{"GET", "k"}, []byte("vb")},
		{a, []string{"INCR", "n"}, int64(1)},
		{a, []string{"INCR", "n"}, int64(2)},
		{b, []string{"GET", "n"}, nil},
		{a, []string{"MGET", "k", "n", "missing"}, []any{[]byte("va"), []byte("2"), nil}},
		{b, []string{"HSET", "h", "f", "1", "g", "2"}, int64(2)},
		{a, []string{"HGET", "h", "f"}, nil},
		{b, []string{"HGET", "h", "g"}, []byte("2")},
		{a, []string{"MULTI"}, status("OK")},
	}
	for _, st := range steps {
		if got := st.c.do(st.args...); !same(got, st.want) {
			t.Fatalf("%v: got %#v, want %#v", st.args, got, st.want)
		}
	}
	a.send(append(encode("INCR", "n"), encode("GET", "k")...))
	if got := a.read(); got != status("QUEUED") {
		t.Fatalf("queued INCR: %v", got)
	}
	if got := a.read(); got != status("QUEUED") {
		t.Fatalf("queued GET: %v", got)
	}
	if got := a.do("EXEC"); !same(got, []any{int64(3), []byte("va")}) {
		t.Fatalf("EXEC: %#v", got)
	}
	// A pipeline in one write: exactly one reply per command, in order,
	// from every connection.
	for i, c := range append(as, bs...) {
		var raw []byte
		for j := 0; j < 200; j++ {
			raw = append(raw, encode("SET", "p"+itoa(int64(j)), itoa(int64(i*1000+j)))...)
			raw = append(raw, encode("GET", "p"+itoa(int64(j)))...)
		}
		c.send(raw)
	}
	for i, c := range append(as, bs...) {
		for j := 0; j < 200; j++ {
			if got := c.read(); got != status("OK") {
				t.Fatalf("conn %d SET %d: %v", i, j, got)
			}
			// The tenant's connections race on p<j>: any value of the
			// tenant's (alice's are below 8000) will do, another's none.
			got := c.read()
			v, _ := got.([]byte)
			n, err := strconv.Atoi(string(v))
			if err != nil || n%1000 != j || (i < 8) != (n < 8000) {
				t.Fatalf("conn %d GET p%d: %#v", i, j, got)
			}
		}
	}
	if got := srv.conns.Load(); got != 17 {
		t.Fatalf("conns = %d, want 17", got)
	}
}

// same compares replies as readReply returns them ([]byte bulks included).
func same(got, want any) bool { return reflect.DeepEqual(got, want) }

// A blocking command moves its connection off the loop: with one loop,
// the pushing connection is served while the other waits, and wakes it.
func TestEventLoopBlockingCommand(t *testing.T) {
	srv := startLoopServer(t, testConfig(), 1)
	waiter := dialAs(t, srv.addr, "alice", "alice-pw")
	pusher := dialAs(t, srv.addr, "alice", "alice-pw")
	waiter.send(encode("BLPOP", "q", "10"))
	for i := 0; i < 3; i++ {
		if got := pusher.do("PING"); got != status("PONG") {
			t.Fatalf("PING while another connection blocks: %v", got)
		}
	}
	if got := pusher.do("LPUSH", "q", "x"); got != int64(1) {
		t.Fatalf("LPUSH: %v", got)
	}
	waiter.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if got := waiter.read(); !same(got, []any{[]byte("q"), []byte("x")}) {
		t.Fatalf("BLPOP: %#v", got)
	}
	// The promoted connection goes on serving commands on its goroutine.
	if got := waiter.do("GET", "missing"); got != nil {
		t.Fatalf("GET after BLPOP: %v", got)
	}
	if got := pusher.do("LLEN", "q"); got != int64(0) {
		t.Fatalf("LLEN: %v", got)
	}
}

// A client that does not read a large reply does not hold up its loop:
// past maxLoopPending it is promoted, and still gets every byte.
func TestEventLoopSlowReader(t *testing.T) {
	srv := startLoopServer(t, testConfig(), 1)
	slow := dialAs(t, srv.addr, "alice", "alice-pw")
	other := dialAs(t, srv.addr, "alice", "alice-pw")
	val := strings.Repeat("v", 512<<10)
	if got := other.do("SET", "big", val); got != status("OK") {
		t.Fatalf("SET: %v", got)
	}
	const gets = 8 // 4 MiB of replies, far more than the socket buffers take
	var raw []byte
	for i := 0; i < gets; i++ {
		raw = append(raw, encode("GET", "big")...)
	}
	slow.send(raw)
	time.Sleep(50 * time.Millisecond) // let the loop reach the full socket
	for i := 0; i < 3; i++ {
		if got := other.do("PING"); got != status("PONG") {
			t.Fatalf("PING beside a slow reader: %v", got)
		}
	}
	for i := 0; i < gets; i++ {
		if got := slow.read(); !same(got, []byte(val)) {
			t.Fatalf("GET %d: %d bytes", i, len(got.([]byte)))
		}
	}
	if got := slow.do("PING"); got != status("PONG") {
		t.Fatalf("PING after the large replies: %v", got)
	}
}

// SUBSCRIBE promotes the connection before its writer starts; with one
// loop, the publisher is served and the message arrives.
func TestEventLoopPubSub(t *testing.T) {
	srv := startLoopServer(t, testConfig(), 1)
	sub := dialAs(t, srv.addr, "alice", "alice-pw")
	pub := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := sub.do("SUBSCRIBE", "ch"); !same(got, []any{[]byte("subscribe"), []byte("ch"), int64(1)}) {
		t.Fatalf("SUBSCRIBE: %#v", got)
	}
	if got := pub.do("PUBLISH", "ch", "hi"); got != int64(1) {
		t.Fatalf("PUBLISH: %v", got)
	}
	if got := sub.read(); !same(got, []any{[]byte("message"), []byte("ch"), []byte("hi")}) {
		t.Fatalf("message: %#v", got)
	}
}

// CLIENT KILL, QUIT, the idle timeout and Close end loop connections: the
// client sees EOF and the server's count drops.
func TestEventLoopConnectionEnds(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.Timeout = 300 * time.Millisecond
	srv := startLoopServer(t, cfg, 2)
	eof := func(r *rconn, what string) {
		t.Helper()
		r.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, err := r.c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("%s: read %d, %v; want EOF", what, n, err)
		}
	}
	admin := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	victim := dialAs(t, srv.addr, "alice", "alice-pw")
	id := victim.do("CLIENT", "ID").(int64)
	if got := admin.do("CLIENT", "KILL", "ID", itoa(id)); got != int64(1) {
		t.Fatalf("CLIENT KILL: %v", got)
	}
	eof(victim, "killed")
	q := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := q.do("QUIT"); got != status("OK") {
		t.Fatalf("QUIT: %v", got)
	}
	eof(q, "QUIT")
	idle := dialAs(t, srv.addr, "alice", "alice-pw")
	eof(idle, "idle past timeout") // Tick closes it within 300ms + loopTick
	eof(admin, "idle admin")
	deadline := time.Now().Add(3 * time.Second)
	for srv.conns.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("conns = %d after every client ended", n)
	}
	last := dialAs(t, srv.addr, "alice", "alice-pw")
	srv.Close()
	eof(last, "Close")
}
