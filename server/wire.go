package server

import (
	"errors"
	"net"
	"time"

	"github.com/tcached/tcached/resp"
)

// flushThreshold is the reply size after which a connection writes what it
// has before building more (resp.FlushAt).
const flushThreshold = resp.FlushAt

// errOutputLimit closes a client whose buffered replies passed its cap.
var errOutputLimit = errors.New("client output buffer limit reached")

// wire is the write side of one connection: replies are encoded by the
// embedded resp.Writer into Out, and wire is its Sink: it writes Out to the
// socket with a deadline.
//
// Every write to the socket has a deadline (between write_timeout/2 and
// write_timeout from its start): a client that does not read its replies
// blocks only its own goroutine, and only until the deadline, then it is
// disconnected. Replies are flushed whenever Out passes flushThreshold, so
// a connection holds at most about that much plus one reply element; Out
// is capped by the client's output limit. RESP3 is set after HELLO 3; only
// the connection goroutine reads it; client.setProto keeps it and the
// CLIENT LIST copy in step.
type wire struct {
	resp.Writer
	nc           net.Conn
	err          error // first write error; the connection closes
	closeAfter   bool  // QUIT: close once the reply is flushed
	quiet        bool  // CLIENT REPLY OFF|SKIP: replies are dropped, not written
	writeTimeout time.Duration
	deadline     time.Time // the write deadline currently set on nc
	outLimit     int64     // 0 = unlimited
	remote       string
	// c is the connection, whose client-memory charges flush keeps up to
	// date (clientmem.go); nil in unit tests of the wire alone.
	c *client
}

// newWire is a connection's write side, its own Writer's sink.
func newWire(nc net.Conn, writeTimeout time.Duration, remote string, c *client) *wire {
	w := &wire{nc: nc, writeTimeout: writeTimeout, remote: remote, c: c}
	w.Sink = w
	return w
}

func (w *wire) RemoteAddr() string { return w.remote }

// Close marks the connection to close after its pending replies are
// written (QUIT, a handler panic).
func (w *wire) Close() error {
	w.closeAfter = true
	return nil
}

// Grew is the Writer's call past flushThreshold (resp.Sink).
func (w *wire) Grew(*resp.Writer) {
	if w.outLimit > 0 && int64(len(w.Out)) > w.outLimit {
		w.err = errOutputLimit
		w.Out = nil // dropped: free it, and its client-memory charge
		w.charge()
		return
	}
	w.flush()
}

// flush writes out with a deadline. After an error the connection is dead
// and further replies are dropped.
func (w *wire) flush() error {
	if w.err != nil {
		w.Out = w.Out[:0]
		w.charge()
		return w.err
	}
	if len(w.Out) == 0 {
		return nil
	}
	if w.quiet {
		w.Out = w.Out[:0]
		w.charge()
		return nil
	}
	// Charge the reply buffer before the write that may block on it; a
	// GET hit that reuses the buffer changes nothing and costs a compare.
	// While a write that passes one flush is in progress, the buffer is
	// output another connection's growth may evict (clientmem.go).
	big := len(w.Out) > flushThreshold && w.c != nil
	if big {
		w.c.mem.busy(int64(cap(w.Out))) // evictable by others from now
	}
	w.charge()
	w.armDeadline()
	_, err := w.nc.Write(w.Out)
	if err != nil {
		w.err = err
	}
	if big {
		w.c.mem.busy(0)
	}
	w.written()
	return w.err
}

// armDeadline gives the write about to start its deadline. Re-arming
// costs a runtime timer update, so the deadline moves only when less than
// half of write_timeout is left: every write still gets at least
// write_timeout/2, and at most write_timeout.
func (w *wire) armDeadline() {
	if now := time.Now(); w.deadline.Sub(now) < w.writeTimeout/2 {
		w.deadline = now.Add(w.writeTimeout)
		w.nc.SetWriteDeadline(w.deadline)
	}
}

// written empties Out after a write and re-charges it: a large reply's
// buffer is not kept, nor a medium one under pressure.
func (w *wire) written() {
	if cap(w.Out) > 4*flushThreshold || cap(w.Out) > flushThreshold && w.c != nil && w.c.mem.tight() {
		w.Out = nil
	} else {
		w.Out = w.Out[:0]
	}
	w.charge()
}

// crlf ends a bulk string written directly (WriteDirect).
var crlf = []byte("\r\n")

// WriteDirect is resp.DirectSink's: what Out buffers, then b and its
// CRLF, in one writev, so a big value a handler copied out of the store
// (GET of a 512 KiB string) is not copied again into Out, nor Out grown
// to hold it. b counts as the reply buffer would have, were it copied:
// charged and evictable while it is written (clientmem.go). It declines
// (false) while replies are held for EXEC or a subscriber's queue, or
// dropped (CLIENT REPLY OFF|SKIP), or after a write error: the Writer
// then buffers b as usual.
func (w *wire) WriteDirect(_ *resp.Writer, b []byte) bool {
	h, ok := w.nc.(*holdConn)
	if !ok || h.hold || h.sink != nil || w.quiet || w.err != nil {
		return false
	}
	if w.outLimit > 0 && int64(len(w.Out)+len(b)+len(crlf)) > w.outLimit {
		// What Grew does once Out passes the limit: the reply is not
		// sent and the connection closes.
		w.err = errOutputLimit
		w.Out = nil
		w.charge()
		return true
	}
	if c := w.c; c != nil {
		n := int64(cap(w.Out) + len(b))
		if c.mem.setOut(&c.mem.wout, n) {
			c.srv.evictOutput(c.mem.pool.Load(), c, 0)
		}
		c.mem.busy(n)
	}
	w.armDeadline()
	bufs := net.Buffers{w.Out, b, crlf}
	if _, err := bufs.WriteTo(h.Conn); err != nil {
		w.err = err
	}
	if c := w.c; c != nil {
		c.mem.busy(0)
	}
	w.written()
	return true
}

// charge brings the connection's charge for out in line with its
// capacity; growth past the pool's budget evicts other connections'
// output (clientmem.go), never this one's: its reply is being written.
func (w *wire) charge() {
	c := w.c
	if c == nil || int64(cap(w.Out)) == c.mem.wout {
		return
	}
	if c.mem.set(&c.mem.wout, int64(cap(w.Out))) {
		c.srv.evictOutput(c.mem.pool.Load(), c, 0)
	}
}

// room makes room in the connection's client-memory pool for a reply
// element of n bytes before it is copied (clientmem.go): what is buffered
// goes first, then the element waits its turn if output of clients that
// do not read holds the pool over its budget.
func (w *wire) Room(_ *resp.Writer, n int) {
	if w.c == nil || w.err != nil || w.c.hold.hold {
		return // EXEC holds its tenant's lock: it never waits on other clients
	}
	w.flush()
	w.c.roomForReply(int64(n))
}
func (w *wire) NetConn() net.Conn { return w.nc }
