//go:build unix

package server

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestSockReader: the timed reader reads like nc.Read (data, a deadline's
// timeout error, EOF) and counts the time inside read(2), not the wait for
// input: a read that waited 100ms for its bytes spent far less.
func TestSockReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srvc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srvc.Close()
	clock := func() int64 { return time.Now().UnixNano() }
	r := newSockReader(srvc, clock)
	if r == nil {
		t.Fatal("no timed reader for a TCP connection")
	}
	buf := make([]byte, 64)

	go func() {
		time.Sleep(100 * time.Millisecond)
		cli.Write([]byte("hello"))
	}()
	start := time.Now()
	n, err := r.Read(buf)
	waited := time.Since(start)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if waited < 90*time.Millisecond {
		t.Fatalf("the read returned after %v, before the data was sent", waited)
	}
	if r.spent <= 0 || time.Duration(r.spent) > waited/2 {
		t.Errorf("spent %v in read(2) of a read that waited %v: the wait was counted", time.Duration(r.spent), waited)
	}

	srvc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !isTimeout(err) {
		t.Errorf("Read past the deadline: %v, want a timeout", err)
	}
	srvc.SetReadDeadline(time.Time{})

	cli.Close()
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("Read after the peer closed = %d, %v, want EOF", n, err)
	}
}
