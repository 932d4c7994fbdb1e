package server

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// TestProtocolErrors sends each malformed input on a fresh connection and
// expects Redis's exact protocol error, then the connection closed.
func TestProtocolErrors(t *testing.T) {
	cfg := testConfig()
	cfg.Limits = config.DefaultLimits()
	cfg.Limits.ClientQueryBufferLimit = 1 << 20
	srv := startServer(t, cfg, false)
	big := strings.Repeat("9", 70<<10)
	tests := []struct {
		name  string
		auth  bool
		input string
		want  string
	}{
		{"preauth argc", false, "*11\r\n", "ERR Protocol error: unauthenticated multibulk length"},
		{"preauth bulk", false, "*1\r\n$16385\r\n", "ERR Protocol error: unauthenticated bulk length"},
		{"negative bulk", false, "*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
		{"non-numeric count", false, "*abc\r\n", "ERR Protocol error: invalid multibulk length"},
		{"leading zero count", true, "*01\r\n", "ERR Protocol error: invalid multibulk length"},
		{"count over INT_MAX", true, "*3000000000\r\n", "ERR Protocol error: invalid multibulk length"},
		{"huge bulk", true, "*1\r\n$9223372036854775807\r\n", "ERR Protocol error: invalid bulk length"},
		{"bulk over proto-max-bulk-len", true, "*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"},
		{"overflowing bulk", true, "*1\r\n$99999999999999999999999\r\n", "ERR Protocol error: invalid bulk length"},
		{"missing dollar", true, "*1\r\nX3\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'X'"},
		{"binary instead of dollar", true, "*1\r\n\x01\r\n", `ERR Protocol error: expected '$', got '\x01'`},
		{"inline too big", false, big, "ERR Protocol error: too big inline request"},
		{"mbulk count too big", false, "*" + big, "ERR Protocol error: too big mbulk count string"},
		{"bulk count too big", true, "*1\r\n$" + big, "ERR Protocol error: too big bulk count string"},
		{"unbalanced quotes", false, "SET k \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
		{"query buffer limit", true, "*2\r\n$3\r\nSET\r\n$2000000\r\n" + strings.Repeat("x", 1<<20+100), "ERR Protocol error: client query buffer limit exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dial(t, srv.addr)
			if tt.auth {
				r.do("AUTH", "alice", "alice-pw")
			}
			go r.c.Write([]byte(tt.input)) // the server may close before reading it all
			if got := r.read(); got != respErr(tt.want) {
				t.Fatalf("got %#v, want %q", got, tt.want)
			}
			r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := r.rd.ReadByte(); err == nil {
				t.Fatal("connection still open after a protocol error")
			}
		})
	}
}

// TestEmptyCommandsIgnored: *0, *-1 and blank lines get no reply, as in Redis.
func TestEmptyCommandsIgnored(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dial(t, srv.addr)
	r.send([]byte("*0\r\n*-1\r\n\r\n   \r\n*-5\r\nAUTH alice alice-pw\r\n*0\r\nPING\r\n"))
	if got := r.read(); got != ok {
		t.Fatalf("AUTH = %v", got)
	}
	if got := r.read(); got != status("PONG") {
		t.Fatalf("PING = %v", got)
	}
}

// TestPipelineAcrossAuth: limits switch exactly at AUTH, command by command,
// as Redis does: a large argument pipelined right after AUTH is accepted.
func TestPipelineAcrossAuth(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dial(t, srv.addr)
	val := strings.Repeat("v", 100<<10)
	var b bytes.Buffer
	b.Write(encode("AUTH", "alice", "alice-pw"))
	b.Write(encode("SET", "big", val))
	b.Write(encode("STRLEN", "big"))
	r.send(b.Bytes())
	for i, want := range []any{ok, ok, int64(len(val))} {
		if got := r.read(); got != want {
			t.Fatalf("reply %d = %v, want %v", i, got, want)
		}
	}
}

// TestBigValueRoundTrip moves a 4 MiB value both ways over a real socket.
func TestBigValueRoundTrip(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	val := strings.Repeat("0123456789abcdef", 256<<10)
	if got := r.do("SET", "big", val); got != ok {
		t.Fatal(got)
	}
	if got := r.do("GET", "big"); string(got.([]byte)) != val {
		t.Fatal("big value corrupted")
	}
}

// memConn is an in-memory net.Conn: Read serves input in chunks of the
// given size, then io.EOF; Write collects the output.
type memConn struct {
	in    *bytes.Reader
	chunk int
	out   bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.chunk > 0 && len(p) > m.chunk {
		p = p[:m.chunk]
	}
	return m.in.Read(p)
}
func (m *memConn) Write(p []byte) (int, error)      { return m.out.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6380} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// serveMem runs input through the real connection path and returns what
// the server wrote.
func serveMem(s *Server, input []byte, chunk int) []byte {
	mc := &memConn{in: bytes.NewReader(input), chunk: chunk}
	s.connWG.Add(1)
	s.conns.Add(1)
	s.serveConn(mc)
	return mc.out.Bytes()
}

// countReplies counts the top-level RESP replies in out.
func countReplies(t testing.TB, out []byte) int {
	rd := bufioReader(out)
	n := 0
	for {
		if _, err := readReply(rd); err != nil {
			if err != io.EOF {
				t.Fatalf("server wrote malformed RESP after %d replies: %v", n, err)
			}
			return n
		}
		n++
	}
}

// TestBulkHeaderDoesNotPreallocate: a header announcing a huge bulk costs
// memory only as its bytes arrive (review finding: it used to allocate the
// announced size at once, 512 MiB for 8 KiB sent).
func TestBulkHeaderDoesNotPreallocate(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var conns []*rconn
	for i := 0; i < 4; i++ {
		r := dialAs(t, srv.addr, "bob", "bob-pw")
		r.send([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\n" + strings.Repeat("x", 8<<10)))
		conns = append(conns, r)
	}
	// Let the server read what was sent.
	time.Sleep(200 * time.Millisecond)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Fatalf("4 connections sending 8 KiB each grew the heap by %d MiB", grew>>20)
	}
	for _, r := range conns {
		r.c.Close()
	}
}
