package server

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBigGetDirect: a GET of a value bigger than resp.FlushAt is written
// straight to the socket after the replies buffered before it
// (wire.WriteDirect), so every way of reading it must still see Redis's
// bytes in order: pipelined between small replies, inside EXEC (held
// replies: buffered as before), under CLIENT REPLY SKIP (dropped), in
// RESP3, and past the client's output limit (the connection closes, as
// when a buffered reply passes it).
func TestBigGetDirect(t *testing.T) {
	cfg := testConfig()
	srv := startServer(t, cfg, false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("0123456789abcdef", 48<<10) // 768 KiB
	r.do("SET", "big", big)
	r.do("SET", "small", "a")
	bulk := func(v string) []byte {
		return []byte("$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n")
	}
	// Pipelined: small replies before and after the big one.
	var in []byte
	for _, c := range [][]string{{"GET", "small"}, {"GET", "big"}, {"GET", "small"}, {"PING"}, {"GET", "big"},
		{"MGET", "big", "small", "nokey", "big"}} {
		in = append(in, encode(c...)...)
	}
	r.send(in)
	want := bytes.Join([][]byte{bulk("a"), bulk(big), bulk("a"), []byte("+PONG\r\n"), bulk(big),
		[]byte("*4\r\n"), bulk(big), bulk("a"), []byte("$-1\r\n"), bulk(big)}, nil)
	if got := readN(t, r, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("pipelined replies differ (got %d bytes, want %d)", len(got), len(want))
	}
	// Inside EXEC: held, then written as one array.
	r.send(bytes.Join([][]byte{encode("MULTI"), encode("GET", "big"), encode("GET", "small"), encode("EXEC")}, nil))
	want = bytes.Join([][]byte{[]byte("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n"), bulk(big), bulk("a")}, nil)
	if got := readN(t, r, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("EXEC reply differs (got %q..., want %q...)", got[:min(len(got), 40)], want[:40])
	}
	// CLIENT REPLY SKIP drops the next reply only.
	r.send(bytes.Join([][]byte{encode("CLIENT", "REPLY", "SKIP"), encode("GET", "big"), encode("GET", "small")}, nil))
	want = bulk("a")
	if got := readN(t, r, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("after CLIENT REPLY SKIP: %q, want %q", got, want)
	}
	// RESP3: the same bulk string.
	r.do("HELLO", "3")
	r.send(encode("GET", "big"))
	if got := readN(t, r, len(bulk(big))); !bytes.Equal(got, bulk(big)) {
		t.Fatal("RESP3 GET of a big value differs")
	}

	// Past the output limit: the reply is not sent and the connection
	// closes, as for a buffered reply.
	cfg2 := testConfig()
	cfg2.Limits.ClientOutputBufferLimit = 256 << 10
	srv2 := startServer(t, cfg2, false)
	r2 := dialAs(t, srv2.addr, "alice", "alice-pw")
	r2.do("SET", "big", big)
	r2.send(encode("GET", "big"))
	if got, err := readReply(r2.rd); err == nil {
		t.Fatalf("GET past the output limit answered %d bytes; want the connection closed", len(fmt.Sprint(got)))
	}
}

// readN reads exactly n bytes of replies (bounded by rconn's deadline).
func readN(t *testing.T, r *rconn, n int) []byte {
	t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.rd, buf); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return buf
}

// TestBigGetAllocs: GET of a big value allocates neither its copy (a
// pooled buffer, command.BigBuf) nor a reply buffer to hold it
// (WriteDirect): the server's allocations per 768 KiB GET stay far below
// the value's size (they were twice it). Client and server share the
// process; the client reads into one buffer, so TotalAlloc is the
// server's (plus a collector cycle's refill of the pool now and then).
func TestBigGetAllocs(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("0123456789abcdef", 48<<10) // 768 KiB
	r.do("SET", "big", big)
	get := encode("GET", "big")
	want := len("$786432\r\n") + len(big) + 2
	buf := make([]byte, want)
	round := func() {
		r.send(get)
		r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(r.rd, buf); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		round()
	}
	if string(buf[len(buf)-2-len(big):len(buf)-2]) != big {
		t.Fatal("GET big: wrong value")
	}
	const n = 100
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		round()
	}
	runtime.ReadMemStats(&m1)
	per := (m1.TotalAlloc - m0.TotalAlloc) / n
	t.Logf("%d bytes allocated per GET of %d bytes", per, len(big))
	limit := uint64(len(big)) / 4
	if raceOn {
		// The race detector's sync.Pool drops a quarter of the buffers
		// put back: ~1/4 of the GETs allocate a 1 MiB class. Without the
		// pool every GET allocated the value's size.
		limit = uint64(len(big)) * 7 / 8
	}
	if per > limit {
		t.Fatalf("%d bytes allocated per GET of a %d-byte value; want well under the value's size", per, len(big))
	}
}
