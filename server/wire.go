package server

import (
	"errors"
	"net"
	"time"

	"github.com/tidwall/redcon"
)

// flushThreshold is the reply size after which a connection writes what it
// has before building more, so one connection's unsent replies stay small
// however large a pipeline or a multi-key reply is.
const flushThreshold = 64 << 10

// errOutputLimit closes a client whose buffered replies passed its cap.
var errOutputLimit = errors.New("client output buffer limit reached")

// wire is the write side of one connection: RESP replies are encoded with
// redcon's Append functions into out and written with a deadline.
//
// Every write to the socket has a deadline (between write_timeout/2 and
// write_timeout from its start): a client that does not read its replies
// blocks only its own goroutine, and only until the deadline, then it is
// disconnected. Replies are flushed whenever out
// passes flushThreshold, so a connection holds at most about that much
// plus one reply element; out is capped by the client's output limit.
type wire struct {
	nc           net.Conn
	out          []byte
	err          error // first write error; the connection closes
	closeAfter   bool  // QUIT: close once the reply is flushed
	writeTimeout time.Duration
	deadline     time.Time // the write deadline currently set on nc
	outLimit     int64     // 0 = unlimited
	remote       string
	errs         int // error replies written (command outcome metrics)
}

func (w *wire) RemoteAddr() string { return w.remote }

// Close marks the connection to close after its pending replies are
// written (QUIT, a handler panic).
func (w *wire) Close() error {
	w.closeAfter = true
	return nil
}

func (w *wire) grew() {
	if len(w.out) < flushThreshold {
		return
	}
	if w.outLimit > 0 && int64(len(w.out)) > w.outLimit {
		w.err = errOutputLimit
		w.out = w.out[:0]
		return
	}
	w.flush()
}

// flush writes out with a deadline. After an error the connection is dead
// and further replies are dropped.
func (w *wire) flush() error {
	if w.err != nil {
		w.out = w.out[:0]
		return w.err
	}
	if len(w.out) == 0 {
		return nil
	}
	// Re-arming a deadline costs a runtime timer update, so it is moved
	// only when less than half of write_timeout is left: every write still
	// gets at least write_timeout/2, and at most write_timeout.
	if now := time.Now(); w.deadline.Sub(now) < w.writeTimeout/2 {
		w.deadline = now.Add(w.writeTimeout)
		w.nc.SetWriteDeadline(w.deadline)
	}
	_, err := w.nc.Write(w.out)
	if err != nil {
		w.err = err
	}
	if cap(w.out) > 4*flushThreshold {
		w.out = nil // don't keep a large reply's buffer
	} else {
		w.out = w.out[:0]
	}
	return w.err
}

func (w *wire) WriteError(msg string) {
	w.errs++
	w.out = redcon.AppendError(w.out, msg)
	w.grew()
}
func (w *wire) WriteString(s string) { w.out = redcon.AppendString(w.out, s); w.grew() }
func (w *wire) WriteBulk(b []byte)   { w.out = redcon.AppendBulk(w.out, b); w.grew() }
func (w *wire) WriteBulkString(s string) {
	w.out = redcon.AppendBulkString(w.out, s)
	w.grew()
}
func (w *wire) WriteInt(n int)       { w.out = redcon.AppendInt(w.out, int64(n)); w.grew() }
func (w *wire) WriteInt64(n int64)   { w.out = redcon.AppendInt(w.out, n); w.grew() }
func (w *wire) WriteUint64(n uint64) { w.out = redcon.AppendUint(w.out, n); w.grew() }
func (w *wire) WriteArray(n int)     { w.out = redcon.AppendArray(w.out, n); w.grew() }
func (w *wire) WriteNull()           { w.out = redcon.AppendNull(w.out); w.grew() }
func (w *wire) WriteRaw(data []byte) { w.out = append(w.out, data...); w.grew() }
func (w *wire) NetConn() net.Conn    { return w.nc }
