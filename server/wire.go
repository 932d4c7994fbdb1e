package server

import (
	"errors"
	"math"
	"net"
	"strconv"
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
	// resp3 is set after HELLO 3: the writers below then use RESP3's
	// types (maps, sets, nulls, doubles, booleans, verbatim strings,
	// pushes); with RESP2 (the default) each falls back to the shape
	// Redis 7 gives it in RESP2. Only the connection goroutine reads it;
	// client.setProto keeps it and the CLIENT LIST copy in step.
	resp3 bool
	// c is the connection, whose client-memory charges flush keeps up to
	// date (clientmem.go); nil in unit tests of the wire alone.
	c *client
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
		w.out = nil // dropped: free it, and its client-memory charge
		w.charge()
		return
	}
	w.flush()
}

// flush writes out with a deadline. After an error the connection is dead
// and further replies are dropped.
func (w *wire) flush() error {
	if w.err != nil {
		w.out = w.out[:0]
		w.charge()
		return w.err
	}
	if len(w.out) == 0 {
		return nil
	}
	// Charge the reply buffer before the write that may block on it; a
	// GET hit that reuses the buffer changes nothing and costs a compare.
	// While a write that passes one flush is in progress, the buffer is
	// output another connection's growth may evict (clientmem.go).
	big := len(w.out) > flushThreshold && w.c != nil
	if big {
		w.c.mem.busy(int64(cap(w.out))) // evictable by others from now
	}
	w.charge()
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
	if big {
		w.c.mem.busy(0)
	}
	if cap(w.out) > 4*flushThreshold || cap(w.out) > flushThreshold && w.c != nil && w.c.mem.tight() {
		w.out = nil // don't keep a large reply's buffer, nor a medium one under pressure
	} else {
		w.out = w.out[:0]
	}
	w.charge()
	return w.err
}

// charge brings the connection's charge for out in line with its
// capacity; growth past the pool's budget evicts other connections'
// output (clientmem.go), never this one's: its reply is being written.
func (w *wire) charge() {
	c := w.c
	if c == nil || int64(cap(w.out)) == c.mem.wout {
		return
	}
	if c.mem.set(&c.mem.wout, int64(cap(w.out))) {
		c.srv.evictOutput(c.mem.pool.Load(), c, 0)
	}
}

func (w *wire) WriteError(msg string) {
	w.errs++
	w.out = redcon.AppendError(w.out, msg)
	w.grew()
}
func (w *wire) WriteString(s string) { w.out = redcon.AppendString(w.out, s); w.grew() }
func (w *wire) WriteBulk(b []byte) {
	if len(b) > flushThreshold {
		w.room(len(b))
	}
	w.out = redcon.AppendBulk(w.out, b)
	w.grew()
}
func (w *wire) WriteBulkString(s string) {
	if len(s) > flushThreshold {
		w.room(len(s))
	}
	w.out = redcon.AppendBulkString(w.out, s)
	w.grew()
}

// room makes room in the connection's client-memory pool for a reply
// element of n bytes before it is copied (clientmem.go): what is buffered
// goes first, then the element waits its turn if output of clients that
// do not read holds the pool over its budget.
func (w *wire) room(n int) {
	if w.c == nil || w.err != nil || w.c.hold.hold {
		return // EXEC holds its tenant's lock: it never waits on other clients
	}
	w.flush()
	w.c.roomForReply(int64(n))
}
func (w *wire) WriteInt(n int)       { w.out = redcon.AppendInt(w.out, int64(n)); w.grew() }
func (w *wire) WriteInt64(n int64)   { w.out = redcon.AppendInt(w.out, n); w.grew() }
func (w *wire) WriteUint64(n uint64) { w.out = redcon.AppendUint(w.out, n); w.grew() }
func (w *wire) WriteArray(n int)     { w.out = redcon.AppendArray(w.out, n); w.grew() }

// WriteNull writes a missing value: `_` in RESP3, a null bulk string
// (`$-1`) in RESP2.
func (w *wire) WriteNull() {
	if w.resp3 {
		w.out = append(w.out, '_', '\r', '\n')
	} else {
		w.out = redcon.AppendNull(w.out)
	}
	w.grew()
}

// WriteNullArray writes a missing aggregate (EXEC after a WATCH
// conflict, a timed-out blocking pop): `_` in RESP3, `*-1` in RESP2.
func (w *wire) WriteNullArray() {
	if w.resp3 {
		w.out = append(w.out, '_', '\r', '\n')
	} else {
		w.out = append(w.out, '*', '-', '1', '\r', '\n')
	}
	w.grew()
}

// WriteMap starts a map of n key/value pairs (2n elements follow): `%n`
// in RESP3, a flat array of 2n in RESP2.
func (w *wire) WriteMap(n int) {
	if w.resp3 {
		w.out = appendHeader(w.out, '%', n)
	} else {
		w.out = redcon.AppendArray(w.out, 2*n)
	}
	w.grew()
}

// WriteSet starts a set of n elements: `~n` in RESP3, an array in RESP2.
func (w *wire) WriteSet(n int) {
	if w.resp3 {
		w.out = appendHeader(w.out, '~', n)
	} else {
		w.out = redcon.AppendArray(w.out, n)
	}
	w.grew()
}

// WritePush starts an out-of-band push message of n elements (pub/sub
// messages, invalidations): `>n` in RESP3, an array in RESP2.
func (w *wire) WritePush(n int) {
	if w.resp3 {
		w.out = appendHeader(w.out, '>', n)
	} else {
		w.out = redcon.AppendArray(w.out, n)
	}
	w.grew()
}

// WriteDouble writes f as Redis 7.0 does: `,` in RESP3, a bulk string in
// RESP2, formatted like C's "%.17g" with inf, -inf and nan spelled so.
func (w *wire) WriteDouble(f float64) {
	if w.resp3 {
		w.out = append(w.out, ',')
		w.out = appendDouble(w.out, f)
		w.out = append(w.out, '\r', '\n')
	} else {
		var buf [32]byte
		w.out = redcon.AppendBulk(w.out, appendDouble(buf[:0], f))
	}
	w.grew()
}

// appendDouble formats f like Redis 7.0's addReplyDouble: "%.17g" (Go's
// 'g' with 17 digits prints the same digits and a two-digit exponent, as
// glibc does), and "inf", "-inf", "nan".
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// WriteBool writes `#t`/`#f` in RESP3, the integer 1/0 in RESP2.
func (w *wire) WriteBool(v bool) {
	switch {
	case !w.resp3:
		w.out = redcon.AppendInt(w.out, int64(b2i(v)))
	case v:
		w.out = append(w.out, '#', 't', '\r', '\n')
	default:
		w.out = append(w.out, '#', 'f', '\r', '\n')
	}
	w.grew()
}

// WriteVerbatim writes text as a verbatim string of the given 3-letter
// format ("txt", "mkd") in RESP3 (`=len\r\ntxt:...`), as Redis 7 answers
// INFO and CLIENT INFO/LIST; a bulk string in RESP2.
func (w *wire) WriteVerbatim(format, text string) {
	if !w.resp3 {
		w.WriteBulkString(text)
		return
	}
	w.out = appendHeader(w.out, '=', len(text)+4)
	w.out = append(w.out, format[:3]...)
	w.out = append(w.out, ':')
	w.out = append(w.out, text...)
	w.out = append(w.out, '\r', '\n')
	w.grew()
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func (w *wire) WriteRaw(data []byte) {
	if len(data) > flushThreshold {
		w.room(len(data))
	}
	w.out = append(w.out, data...)
	w.grew()
}
func (w *wire) NetConn() net.Conn { return w.nc }
