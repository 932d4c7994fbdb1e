//go:build linux

package evloop

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// echo is a line server on one Loop: "block" hands the loop off and waits
// for release on the caller's goroutine before answering "done".
type echo struct {
	t       *testing.T
	l       *Loop
	lfd     int
	bufs    map[int][]byte
	release chan struct{}
	woken   atomic.Int32
	stopped atomic.Int32
	ticks   atomic.Int32
}

func (e *echo) Ready(fd int, ev uint32) {
	if fd == e.lfd {
		cfd, _, err := Accept(e.lfd)
		if err != nil {
			if !IsAgain(err) {
				e.t.Errorf("accept: %v", err)
			}
			return
		}
		if err := e.l.Add(cfd, In, false); err != nil {
			e.t.Errorf("add: %v", err)
		}
		e.bufs[cfd] = nil
		return
	}
	var b [512]byte
	n, err := Read(fd, b[:])
	if n == 0 {
		if !IsAgain(err) {
			e.l.Del(fd)
			delete(e.bufs, fd)
			Close(fd)
		}
		return
	}
	buf := append(e.bufs[fd], b[:n]...)
	for {
		i := strings.IndexByte(string(buf), '\n')
		if i < 0 {
			break
		}
		line := string(buf[:i])
		buf = buf[i+1:]
		if line == "block" {
			e.l.Del(fd)
			delete(e.bufs, fd)
			e.l.Handoff()
			<-e.release // the loop's other connections must go on meanwhile
			Write(fd, []byte("done\n"))
			Close(fd)
			return
		}
		if _, err := Write(fd, []byte(line+"\n")); err != nil {
			e.t.Errorf("write: %v", err)
		}
	}
	e.bufs[fd] = buf
}

func (e *echo) Woken() { e.woken.Add(1) }
func (e *echo) Tick()  { e.ticks.Add(1) }
func (e *echo) Stopped() {
	e.stopped.Add(1)
	for fd := range e.bufs {
		Close(fd)
	}
}

func startEcho(t *testing.T, tick time.Duration) (*echo, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // the loop accepts on its duplicate
	lfd, err := ListenerFD(ln)
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{t: t, lfd: lfd, bufs: map[int][]byte{}, release: make(chan struct{})}
	if e.l, err = New(e, tick); err != nil {
		t.Fatal(err)
	}
	if err := e.l.Add(lfd, In, true); err != nil {
		t.Fatal(err)
	}
	go e.l.Run()
	t.Cleanup(func() {
		e.l.Stop()
		select {
		case <-e.l.Done():
		case <-time.After(5 * time.Second):
			t.Error("loop did not stop")
		}
		Close(lfd)
	})
	return e, ln.Addr().String()
}

type lineConn struct {
	net.Conn
	rd *bufio.Reader
}

func dialLine(t *testing.T, addr string) *lineConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &lineConn{c, bufio.NewReader(c)}
}

func (c *lineConn) roundTrip(t *testing.T, line string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := c.rd.ReadString('\n')
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return strings.TrimSuffix(got, "\n")
}

func TestLoopServesConnections(t *testing.T) {
	_, addr := startEcho(t, 0)
	var cs []*lineConn
	for i := 0; i < 20; i++ {
		cs = append(cs, dialLine(t, addr))
	}
	for round := 0; round < 3; round++ {
		for i, c := range cs {
			want := strings.Repeat("x", i*50) + "!"
			if got := c.roundTrip(t, want); got != want {
				t.Fatalf("conn %d: got %q, want %q", i, got, want)
			}
		}
	}
}

// A callback that hands the loop off may wait without holding up the
// loop's other connections; without the handoff the PING below would time
// out, since the loop has a single goroutine.
func TestHandoffKeepsLoopServing(t *testing.T) {
	e, addr := startEcho(t, 0)
	blocked, other := dialLine(t, addr), dialLine(t, addr)
	if got := other.roundTrip(t, "before"); got != "before" {
		t.Fatalf("got %q", got)
	}
	blocked.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := blocked.Write([]byte("block\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if got := other.roundTrip(t, "ping"); got != "ping" {
			t.Fatalf("got %q", got)
		}
	}
	// A connection made after the handoff is accepted by the new poller.
	if got := dialLine(t, addr).roundTrip(t, "new"); got != "new" {
		t.Fatalf("got %q", got)
	}
	close(e.release)
	if got, err := blocked.rd.ReadString('\n'); err != nil || got != "done\n" {
		t.Fatalf("blocked connection: %q, %v", got, err)
	}
}

func TestWakeTickStop(t *testing.T) {
	e, _ := startEcho(t, 10*time.Millisecond)
	e.l.Wake()
	deadline := time.Now().Add(3 * time.Second)
	for (e.woken.Load() == 0 || e.ticks.Load() < 2) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if e.woken.Load() == 0 || e.ticks.Load() < 2 {
		t.Fatalf("woken %d, ticks %d", e.woken.Load(), e.ticks.Load())
	}
	e.l.Stop()
	select {
	case <-e.l.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("Stop did not end the loop")
	}
	if n := e.stopped.Load(); n != 1 {
		t.Fatalf("Stopped ran %d times", n)
	}
	e.l.Wake() // after close: must neither panic nor write to a reused fd
}
