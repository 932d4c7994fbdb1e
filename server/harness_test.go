package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/tiers"
)

// fakeClock is a settable clock shared by a test and its server: its
// timers (blocking commands' timeouts) fire when Add reaches them.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer // not yet fired nor stopped
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time // buffered: Add never waits for the receiver
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.timers = slices.DeleteFunc(f.timers, func(tm *fakeTimer) bool {
		if tm.at.After(f.t) {
			return false
		}
		tm.ch <- f.t
		return true
	})
}

// NewTimer is Options.NewTimer on the fake clock.
func (f *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tm := &fakeTimer{at: f.t.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		tm.ch <- f.t
		return tm.ch, func() bool { return false }
	}
	f.timers = append(f.timers, tm)
	return tm.ch, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := len(f.timers)
		f.timers = slices.DeleteFunc(f.timers, func(x *fakeTimer) bool { return x == tm })
		return len(f.timers) < n
	}
}

// pendingTimers is how many timers have neither fired nor been stopped.
func (f *fakeClock) pendingTimers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Sleep moves the clock instead of sleeping (admission.Clock).
func (f *fakeClock) Sleep(d time.Duration) { f.Add(d) }

func testUser(name, pass string, role config.Role) config.User {
	return config.User{Name: name, PasswordSHA256: config.HashPassword(pass), Role: role}
}

func testTenant(id, tier string, quota int64, users ...config.User) config.Tenant {
	return config.Tenant{ID: id, TierName: tier, Tier: tiers.Builtin()[tier], Quota: quota, Users: users}
}

// testConfig has two tenants with users of every role:
//
//	a (gold, 8 MiB): alice/alice-pw rw, aadmin/aadmin-pw admin, aro/aro-pw readonly
//	b (silver, 8 MiB): bob/bob-pw admin
//	operator ops/ops-pw (HTTP admin token "ops-token")
func testConfig() *config.Config {
	lim := config.DefaultLimits()
	lim.AuthMaxFailures = 0 // tests fail AUTH on purpose; TestAuthThrottle enables it
	return &config.Config{
		Limits:      lim,
		Listen:      "127.0.0.1:0",
		MaxMemory:   64 << 20,
		DefaultRole: config.RoleReadWrite,
		Tiers:       tiers.Builtin(),
		Operators: []config.Operator{{Name: "ops", PasswordSHA256: config.HashPassword("ops-pw"),
			TokenSHA256: config.HashPassword("ops-token"), HasToken: true}},
		Tenants: []config.Tenant{
			testTenant("a", "gold", 8<<20,
				testUser("alice", "alice-pw", config.RoleReadWrite),
				testUser("aadmin", "aadmin-pw", config.RoleAdmin),
				testUser("aro", "aro-pw", config.RoleReadOnly)),
			testTenant("b", "silver", 8<<20,
				testUser("bob", "bob-pw", config.RoleAdmin)),
		},
	}
}

type testServer struct {
	*Server
	addr  string
	clock *fakeClock
}

// startServer serves cfg on an ephemeral loopback port until the test ends.
// With a fake clock, TTLs and blocking commands' timeouts move only when
// the test moves the clock.
func startServer(t testing.TB, cfg *config.Config, fake bool) *testServer {
	t.Helper()
	return startServerClock(t, cfg, Options{}, fake)
}

// startServerWith is startServer with options (limits, protected mode).
func startServerWith(t testing.TB, cfg *config.Config, opts Options) *testServer {
	t.Helper()
	return startServerClock(t, cfg, opts, false)
}

func startServerClock(t testing.TB, cfg *config.Config, opts Options, fake bool) *testServer {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testLogSink(), nil))
	}
	var clk *fakeClock
	if fake {
		clk = &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		opts.Now = clk.Now
		opts.NewTimer = clk.NewTimer
		opts.ExpireInterval = 10 * time.Millisecond
	}
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
	return &testServer{Server: s, addr: ln.Addr().String(), clock: clk}
}

// respErr is an error reply as read off the wire.
type respErr string

func (e respErr) Error() string { return string(e) }

// rconn is a minimal RESP2 client that reads replies exactly as sent:
// "+x" -> status(x), "-x" -> respErr, ":n" -> int64, "$" -> []byte or nil,
// "*" -> []any or nil (as nilArray).
type rconn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

type status string

type nilArray struct{}

// RESP3 replies (after HELLO 3): `_` reads as nil; `%` as respMap (keys
// and values flat, in order), `~` as respSet, `>` as respPush, `,` as
// respDouble (the text as sent), `#` as bool, `=` as respVerbatim.
type (
	respMap      []any
	respSet      []any
	respPush     []any
	respDouble   string
	respVerbatim struct{ format, text string }
)

func dial(t testing.TB, addr string) *rconn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rconn{t: t, c: c, rd: bufio.NewReader(c)}
}

// dialAs connects and authenticates as user/pass.
func dialAs(t testing.TB, addr, user, pass string) *rconn {
	t.Helper()
	r := dial(t, addr)
	if got := r.do("AUTH", user, pass); got != status("OK") {
		t.Fatalf("AUTH %s: %v", user, got)
	}
	return r
}

func encode(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

func (r *rconn) send(raw []byte) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(raw); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rconn) do(args ...string) any {
	r.t.Helper()
	r.send(encode(args...))
	return r.read()
}

func (r *rconn) read() any {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	v, err := readReply(r.rd)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return v
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func readReply(rd *bufio.Reader) (any, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return status(body), nil
	case '-':
		return respErr(body), nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return n, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return buf[:n], nil
	case '*', '%', '~', '>':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 && line[0] == '*' {
			return nilArray{}, nil
		}
		if n < 0 {
			return nil, fmt.Errorf("bad aggregate length %q", line)
		}
		if line[0] == '%' {
			n *= 2
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(rd); err != nil {
				return nil, err
			}
		}
		switch line[0] {
		case '%':
			return respMap(out), nil
		case '~':
			return respSet(out), nil
		case '>':
			return respPush(out), nil
		}
		return out, nil
	case '_':
		if body != "" {
			return nil, fmt.Errorf("bad null %q", line)
		}
		return nil, nil
	case ',':
		if _, err := strconv.ParseFloat(body, 64); err != nil && body != "inf" && body != "-inf" && body != "nan" {
			return nil, fmt.Errorf("bad double %q", line)
		}
		return respDouble(body), nil
	case '#':
		switch body {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
		return nil, fmt.Errorf("bad boolean %q", line)
	case '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < 4 {
			return nil, fmt.Errorf("bad verbatim length %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		if buf[3] != ':' || string(buf[n:]) != "\r\n" {
			return nil, fmt.Errorf("bad verbatim string %q", buf)
		}
		return respVerbatim{format: string(buf[:3]), text: string(buf[4:n])}, nil
	}
	return nil, errors.New("unknown reply type " + line)
}

// norm turns []byte into string recursively so replies compare with ==
// and reflect.DeepEqual against readable expectations.
func norm(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = norm(x[i])
		}
		return out
	case respMap:
		return respMap(norm([]any(x)).([]any))
	case respSet:
		return respSet(norm([]any(x)).([]any))
	case respPush:
		return respPush(norm([]any(x)).([]any))
	}
	return v
}

// testLogSink is where test servers log: nowhere, unless
// TCACHED_TEST_LOG=stderr (to see a recovered panic's stack).
func testLogSink() io.Writer {
	if os.Getenv("TCACHED_TEST_LOG") == "stderr" {
		return os.Stderr
	}
	return io.Discard
}
