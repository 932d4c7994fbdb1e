package server

// Hostile and slow clients: clients that never read, dribble bytes, hold
// thousands of idle connections, exceed maxclients, connect from outside
// loopback in protected mode, or are mid-command when the server closes.
// Each must cost the server bounded memory and time and leave other
// tenants' latency alone.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// serveListener serves cfg on ln (any net.Listener: wrapped, TLS) until the
// test ends.
func serveListener(t testing.TB, cfg *config.Config, ln net.Listener) *Server {
	t.Helper()
	s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(ln); close(done) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("server did not stop within 5s")
		}
	})
	return s
}

// waitConns waits until the server counts want open connections.
func waitConns(t testing.TB, s *Server, want int64, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for s.conns.Load() != want {
		if time.Since(start) > within {
			t.Fatalf("server has %d connections after %v, want %d", s.conns.Load(), within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// liveHeap is HeapInuse+StackInuse after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// TestSlowReaderBounded: a client pipelines 500 GETs of a 1 MiB value and
// never reads. The server holds about one reply for it (not 500 MiB), drops
// it once a write has been stuck for write_timeout, and tenant b's latency
// stays normal meanwhile.
func TestSlowReaderBounded(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.WriteTimeout = time.Second
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("v", 1<<20)
	if got := a.do("SET", "big", big); got != ok {
		t.Fatalf("SET big = %v", got)
	}
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "k", "v")
	base := liveHeap()
	n0 := srv.conns.Load()

	slow := dialAs(t, srv.addr, "alice", "alice-pw")
	const queued = 500
	slow.send(bytes.Repeat(encode("GET", "big"), queued))
	sent := time.Now()

	var lat []time.Duration
	var peak uint64
	var m runtime.MemStats
	gone := time.Duration(0)
	for i := 0; ; i++ {
		if srv.conns.Load() == n0 {
			gone = time.Since(sent)
			break
		}
		if time.Since(sent) > 10*time.Second {
			t.Fatalf("slow reader still connected %v after its pipeline (write_timeout 1s)", time.Since(sent))
		}
		for _, args := range [][]string{{"SET", "k", "v"}, {"GET", "k"}} {
			st := time.Now()
			b.do(args...)
			lat = append(lat, time.Since(st))
		}
		if i%10 == 0 {
			runtime.ReadMemStats(&m)
			if h := m.HeapInuse + m.StackInuse; h > peak {
				peak = h
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	growth := int64(peak) - int64(base)
	t.Logf("slow reader: %d x GET of 1 MiB queued; peak heap growth %.1f MiB while stuck; disconnected %v after sending (write_timeout 1s); b: %d ops, p50 %v, p99 %v, max %v",
		queued, float64(growth)/(1<<20), gone.Round(time.Millisecond), len(lat), percentile(lat, .5), percentile(lat, .99), percentile(lat, 1))
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB for one client that does not read", growth>>20)
	}
	if gone > cfg.Limits.WriteTimeout+3*time.Second {
		t.Errorf("slow reader disconnected after %v, want about write_timeout (%v)", gone, cfg.Limits.WriteTimeout)
	}
	if worst := percentile(lat, 1); worst > time.Second {
		t.Errorf("tenant b's slowest command took %v while a's client was stuck", worst)
	}
	// The server really closed the socket: draining what the kernel holds ends.
	slow.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	nread, err := io.Copy(io.Discard, slow.c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("slow reader's socket still open after %d bytes", nread)
	}
	if nread >= queued<<20 {
		t.Errorf("slow reader received all %d replies", queued)
	}
	if got := norm(a.do("GET", "k")); got != nil {
		t.Errorf("a's other connection: GET k = %v", got)
	}
}

// TestPreAuthFloodNeverReads: an unauthenticated client that never reads
// and keeps sending commands is disconnected, by the write deadline when
// each read batch's replies are small and by the pre-auth output cap when
// one batch's replies pass it.
func TestPreAuthFloodNeverReads(t *testing.T) {
	flood := func(t *testing.T, writeTimeout time.Duration, cmd []byte) time.Duration {
		cfg := testConfig()
		cfg.Limits.WriteTimeout = writeTimeout
		srv := startServer(t, cfg, false)
		n0 := srv.conns.Load()
		c := dial(t, srv.addr)
		waitConns(t, srv.Server, n0+1, 5*time.Second)
		batch := bytes.Repeat(cmd, 1+(16<<10)/len(cmd))
		start := time.Now()
		sent := 0
		for srv.conns.Load() != n0 {
			if time.Since(start) > 15*time.Second {
				t.Fatalf("pre-auth flooder still connected after %v (%d bytes sent)", time.Since(start), sent)
			}
			c.c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := c.c.Write(batch)
			sent += n
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					break // reset by the server: it is gone
				}
			}
		}
		waitConns(t, srv.Server, n0, 5*time.Second)
		d := time.Since(start)
		t.Logf("disconnected after %v, %d KiB sent (write_timeout %v)", d.Round(time.Millisecond), sent>>10, writeTimeout)
		return d
	}
	t.Run("write deadline", func(t *testing.T) {
		// ~110 bytes of reply per ~45 bytes of request: each 4 KiB read
		// batch is flushed under the cap, until the socket fills.
		d := flood(t, time.Second, encode("nocmd00", "xxxxxxxxxx", "yyyyyyyyyy"))
		if d > 5*time.Second {
			t.Errorf("disconnected after %v with write_timeout 1s", d)
		}
	})
	t.Run("output cap", func(t *testing.T) {
		// HELLO before AUTH answers ~260 bytes for 7: one 4 KiB read batch
		// queues more than the 64 KiB pre-auth cap, long before the 5 s
		// write deadline could fire.
		d := flood(t, 5*time.Second, []byte("HELLO\r\n"))
		if d > 3*time.Second {
			t.Errorf("disconnected after %v: the pre-auth output cap did not act (write_timeout 5s)", d)
		}
	})
}

// TestSlowDribble: one byte a second. Before AUTH the auth deadline counts
// from the accept, so dribbling does not extend it. After AUTH the idle
// timeout counts from the last byte received, as Redis's does (a client
// that sends anything is not idle); once the bytes stop, the connection
// closes a timeout later.
func TestSlowDribble(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Limits.AuthTimeout = time.Second
	cfg.Limits.Timeout = 2 * time.Second
	srv := startServer(t, cfg, false)

	// dribble writes one byte of msg every gap until stop or an error.
	dribble := func(c net.Conn, msg string, gap time.Duration, stop <-chan struct{}) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < len(msg); i++ {
				select {
				case <-stop:
					return
				case <-time.After(gap):
				}
				c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := c.Write([]byte{msg[i]}); err != nil {
					return
				}
			}
		}()
		return done
	}
	// closedAfter waits for EOF (or reset) and reports when it came.
	closedAfter := func(t *testing.T, c net.Conn, from time.Time) time.Duration {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection not closed within 10s (read %q)", got)
		}
		if len(got) > 0 {
			t.Errorf("unexpected bytes before close: %q", got)
		}
		return time.Since(from)
	}

	t.Run("preauth", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		stop := make(chan struct{})
		done := dribble(c, "AUTH alice alice-pw\r\n", 300*time.Millisecond, stop)
		d := closedAfter(t, c, start)
		close(stop)
		<-done
		t.Logf("pre-auth dribbler (a byte every 300ms) closed %v after connecting (auth_timeout 1s)", d.Round(time.Millisecond))
		if d < 900*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("closed after %v, want about auth_timeout (1s)", d)
		}
	})
	t.Run("authenticated", func(t *testing.T) {
		t.Parallel()
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		// Three bytes a second apart: 3s in all, longer than the 2s idle
		// timeout, but never 2s without a byte.
		stop := make(chan struct{})
		<-dribble(r.c, "*1\r", time.Second, stop)
		r.send([]byte("\n$4\r\nPING\r\n"))
		if got := r.read(); got != status("PONG") {
			t.Fatalf("dribbled PING = %v", got)
		}
		last := time.Now()
		d := closedAfter(t, r.c, last)
		t.Logf("authenticated client: alive after 3s of one byte a second; closed %v after its last byte (timeout 2s)", d.Round(time.Millisecond))
		if d < 1900*time.Millisecond || d > 3500*time.Millisecond {
			t.Errorf("idle client closed after %v, want about timeout (2s)", d)
		}
	})
}

// raiseNoFile makes room for n more descriptors if it can, and returns how
// many connections (each costs two descriptors: client and server side)
// fit.
func raiseNoFile(t *testing.T, want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Logf("getrlimit: %v", err)
		return 1000
	}
	need := uint64(2*want + 512)
	if lim.Cur < need {
		old := lim
		nl := lim
		nl.Cur = need
		if nl.Max < need {
			nl.Max = need
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err != nil {
			t.Logf("setrlimit(RLIMIT_NOFILE, %d): %v", need, err)
			nl = lim
			nl.Cur = lim.Max
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err != nil {
				t.Logf("setrlimit: %v", err)
			}
		}
		t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		n := int(lim.Cur-512) / 2
		t.Logf("RLIMIT_NOFILE is %d and cannot be raised to %d: using %d connections", lim.Cur, need, n)
		return n
	}
	return want
}

// TestIdleConnectionsMemory opens 10,000 idle connections and measures
// what each costs the server (HeapInuse+StackInuse after GC: the
// connection goroutine's stack, its read buffer, client and wire state,
// plus the test's own client-side net.Conn, so this is an upper bound).
func TestIdleConnectionsMemory(t *testing.T) {
	n := raiseNoFile(t, 10000)
	cfg := testConfig()
	cfg.Limits.MaxClients = n + 100
	cfg.Limits.AuthTimeout = time.Minute // they are idle and unauthenticated
	srv := startServer(t, cfg, false)
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "k", "v")
	n0 := srv.conns.Load()
	base := liveHeap()

	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dialErr error
	const workers = 8
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				var c net.Conn
				var err error
				for try := 0; try < 3; try++ {
					if c, err = net.DialTimeout("tcp", srv.addr, 5*time.Second); err == nil {
						break
					}
				}
				if err != nil {
					mu.Lock()
					dialErr = err
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		}(w)
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	opened := 0
	for _, c := range conns {
		if c != nil {
			opened++
		}
	}
	if dialErr != nil {
		t.Logf("dial failed after %d connections: %v", opened, dialErr)
	}
	if opened < n/2 {
		t.Fatalf("only %d of %d connections opened", opened, n)
	}
	waitConns(t, srv.Server, n0+int64(opened), 30*time.Second)
	dialTime := time.Since(start)
	// Another client works while they are open.
	if got := b.do("SET", "k", "v2"); got != ok {
		t.Errorf("b SET with %d idle connections = %v", opened, got)
	}
	if got := norm(b.do("GET", "k")); got != "v2" {
		t.Errorf("b GET with %d idle connections = %v", opened, got)
	}
	late := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := late.do("PING"); got != status("PONG") {
		t.Errorf("new connection with %d idle ones: PING = %v", opened, got)
	}
	after := liveHeap()
	per := (int64(after) - int64(base)) / int64(opened)
	t.Logf("%d idle connections (opened in %v): %.1f MiB, %d B per connection (HeapInuse+StackInuse after GC, client side included)",
		opened, dialTime.Round(time.Millisecond), float64(int64(after)-int64(base))/(1<<20), per)
	if per > 32<<10 {
		t.Errorf("an idle connection costs %d B, want < 32 KiB", per)
	}
	for i, c := range conns {
		if c != nil {
			c.Close()
			conns[i] = nil
		}
	}
	waitConns(t, srv.Server, n0+1, 30*time.Second) // + late
}

// TestMaxClients: past maxclients a connection gets exactly Redis's error
// and EOF; a freed slot is usable again.
func TestMaxClients(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxClients = 3
	srv := startServer(t, cfg, false)
	var held []*rconn
	for i := 0; i < 3; i++ {
		r := dial(t, srv.addr)
		if got := r.do("PING"); got != respErr(errNoAuth) {
			t.Fatalf("connection %d: PING = %v", i, got)
		}
		held = append(held, r)
	}
	readAll := func() string {
		c, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("4th connection: %v after %q", err, got)
		}
		return string(got)
	}
	if got := readAll(); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("4th connection got %q", got)
	}
	held[0].c.Close()
	waitConns(t, srv.Server, 2, 5*time.Second)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := r.do("PING"); got != status("PONG") {
		t.Errorf("after a slot freed: PING = %v", got)
	}
	if got := readAll(); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("connection past the cap again got %q", got)
	}
}

// remoteAddrListener makes every accepted connection claim to come from
// addr (no traffic leaves loopback).
type remoteAddrListener struct {
	net.Listener
	addr net.Addr
}

type remoteAddrConn struct {
	net.Conn
	addr net.Addr
}

func (c remoteAddrConn) RemoteAddr() net.Addr { return c.addr }

func (l remoteAddrListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteAddrConn{Conn: c, addr: l.addr}, nil
}

type strAddr string

func (a strAddr) Network() string { return "tcp" }
func (a strAddr) String() string  { return string(a) }

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 9, 8, 7), Port: 1}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, false},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, false},
		{&net.TCPAddr{}, false},
		{strAddr("127.0.0.1:5"), true},
		{strAddr("[::1]:5"), true},
		{strAddr("192.0.2.1:1234"), false},
		{strAddr("localhost:5"), false}, // a name is not an address
		{strAddr("garbage"), false},
		{&net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"}, false},
	}
	for _, tt := range tests {
		if got := isLoopback(tt.addr); got != tt.want {
			t.Errorf("isLoopback(%T %v) = %v, want %v", tt.addr, tt.addr, got, tt.want)
		}
	}
}

// TestProtectedModeEndToEnd: with default_tenant set, a loopback client is
// served (bound to the default tenant) and a client whose address is not
// loopback gets the DENIED message and EOF.
func TestProtectedModeEndToEnd(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}
	serve := func(t *testing.T, defTenant string) (loop, far string) {
		cfg := testConfig()
		cfg.DefaultTenant = defTenant
		cfg.ProtectedMode = true
		ln1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln2, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			ln1.Close()
			t.Fatal(err)
		}
		s := serveListener(t, cfg, ln1)
		done := make(chan struct{})
		go func() { s.Serve(remoteAddrListener{Listener: ln2, addr: remote}); close(done) }()
		t.Cleanup(func() { s.Close(); <-done })
		return ln1.Addr().String(), ln2.Addr().String()
	}
	t.Run("default tenant", func(t *testing.T) {
		loop, far := serve(t, "a")
		r := dial(t, loop)
		if got := r.do("SET", "k", "v"); got != ok {
			t.Errorf("loopback client bound to the default tenant: SET = %v", got)
		}
		if got := norm(r.do("GET", "k")); got != "v" {
			t.Errorf("loopback client: GET = %v", got)
		}
		c, err := net.DialTimeout("tcp", far, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET k\r\n")
		got, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("non-loopback client: %v after %q", err, got)
		}
		if string(got) != "-"+errDenied+"\r\n" {
			t.Errorf("non-loopback client got %q", got)
		}
		if !strings.HasPrefix(string(got), "-DENIED ") {
			t.Errorf("refusal does not start with DENIED: %q", got)
		}
	})
	t.Run("no default tenant", func(t *testing.T) {
		// protected_mode only matters while default_tenant is set: a
		// non-loopback client is served and must AUTH.
		_, far := serve(t, "")
		r := dial(t, far)
		if got := r.do("GET", "k"); got != respErr(errNoAuth) {
			t.Errorf("non-loopback client without default_tenant: GET = %v", got)
		}
		if got := r.do("AUTH", "alice", "alice-pw"); got != ok {
			t.Errorf("AUTH = %v", got)
		}
	})
}

// TestGracefulCloseFinishesCommand: Close lets a connection finish the
// command it is executing and receive its reply, closes idle connections
// at once, and returns promptly.
func TestGracefulCloseFinishesCommand(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	started := make(chan struct{}, 1)
	srv.table["slowcmd"] = &command.Spec{Name: "slowcmd", Arity: 1, Handler: withClient(func(c *client, args [][]byte) {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		c.conn.WriteString("done")
	})}
	busy := dialAs(t, srv.addr, "alice", "alice-pw")
	idle := dialAs(t, srv.addr, "bob", "bob-pw")
	busy.send(encode("SLOWCMD"))
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("slow command did not start")
	}
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() { srv.Close(); closed <- time.Since(start) }()
	if got := busy.read(); got != status("done") {
		t.Errorf("reply to the command in progress = %v", got)
	}
	for name, r := range map[string]*rconn{"busy": busy, "idle": idle} {
		r.c.SetReadDeadline(time.Now().Add(6 * time.Second))
		if b, err := r.rd.ReadByte(); err == nil {
			t.Errorf("%s connection: byte %q after Close, want EOF", name, b)
		} else {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("%s connection still open after Close", name)
			}
		}
	}
	select {
	case d := <-closed:
		t.Logf("Close returned after %v (command in progress: 300ms)", d.Round(time.Millisecond))
		if d > 6*time.Second {
			t.Errorf("Close took %v", d)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("Close did not return within 6s")
	}
	if c, err := net.DialTimeout("tcp", srv.addr, time.Second); err == nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, rerr := bufio.NewReader(c).ReadByte()
		c.Close()
		if rerr == nil {
			t.Error("a connection after Close was served")
		}
	}
}
