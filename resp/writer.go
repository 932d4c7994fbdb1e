package resp

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/redcon"
)

// FlushAt is the reply size after which a Writer hands what it has to its
// Sink before building more, so one connection's unsent replies stay small
// however large a pipeline or a multi-key reply is.
const FlushAt = 64 << 10

// Sink takes a Writer's buffered replies (a connection's socket, with its
// deadlines and client-memory accounting). A Writer calls it only past
// FlushAt, so the common reply costs no call through the interface.
type Sink interface {
	// Grew is called when Out has passed FlushAt bytes: the sink writes
	// (or drops) Out and resets it.
	Grew(w *Writer)
	// Room is called before an element of n > FlushAt bytes is appended,
	// so the sink can flush what is buffered and wait for memory first.
	Room(w *Writer, n int)
}

// Writer encodes RESP2 or RESP3 replies into Out. The zero Writer is a
// RESP2 writer that only buffers (no Sink), for tests and for replies built
// in memory. Not safe for concurrent use: a connection's goroutine owns it.
//
// With RESP3 set (after HELLO 3) the writers use RESP3's types (maps, sets,
// nulls, doubles, booleans, verbatim strings, pushes); with RESP2 each
// falls back to the shape Redis 7 gives it in RESP2.
type Writer struct {
	Out   []byte
	RESP3 bool
	// Errs counts the error replies written (command outcome metrics, and
	// EXEC's "did this queued command fail").
	Errs int
	Sink Sink
}

func (w *Writer) grew() {
	if len(w.Out) >= FlushAt && w.Sink != nil {
		w.Sink.Grew(w)
	}
}

func (w *Writer) room(n int) {
	if n > FlushAt && w.Sink != nil {
		w.Sink.Room(w, n)
	}
}

// WriteError writes an error reply; msg starts with its code ("ERR ...",
// "WRONGTYPE ...") and must not contain CR or LF.
func (w *Writer) WriteError(msg string) {
	w.Errs++
	// As Redis's addReplyErrorFormat: CR and LF at the ends (an argument
	// quoted last) are trimmed, those inside become spaces.
	msg = strings.Trim(msg, "\r\n")
	w.Out = redcon.AppendError(w.Out, msg)
	w.grew()
}

// WriteString writes a simple string (+OK).
func (w *Writer) WriteString(s string) { w.Out = redcon.AppendString(w.Out, s); w.grew() }

// WriteBulk writes a bulk string.
func (w *Writer) WriteBulk(b []byte) {
	w.room(len(b))
	w.Out = redcon.AppendBulk(w.Out, b)
	w.grew()
}

// DirectSink is a Sink that can also write a big bulk string straight to
// its socket, after what Out buffers, instead of copying it into Out
// first (WriteBulkOwned).
type DirectSink interface {
	Sink
	// WriteDirect writes Out, then b and its CRLF, and resets Out (Out
	// already ends with b's header). It reports false, changing nothing,
	// when it cannot (replies held or dropped): the Writer then buffers b.
	WriteDirect(w *Writer, b []byte) bool
}

// WriteBulkOwned writes a bulk string like WriteBulk, but one bigger than
// FlushAt goes to a DirectSink's socket without a copy into Out. b must
// be the caller's own copy (not storage under a lock): it is written
// while the caller waits, possibly for a slow client.
func (w *Writer) WriteBulkOwned(b []byte) {
	if len(b) <= FlushAt {
		w.WriteBulk(b)
		return
	}
	ds, ok := w.Sink.(DirectSink)
	if !ok {
		w.WriteBulk(b)
		return
	}
	w.room(len(b))
	mark := len(w.Out)
	w.Out = append(w.Out, '$')
	w.Out = strconv.AppendInt(w.Out, int64(len(b)), 10)
	w.Out = append(w.Out, '\r', '\n')
	if ds.WriteDirect(w, b) {
		return
	}
	w.Out = w.Out[:mark]
	w.WriteBulk(b)
}

// WriteBulkString writes a bulk string.
func (w *Writer) WriteBulkString(s string) {
	w.room(len(s))
	w.Out = redcon.AppendBulkString(w.Out, s)
	w.grew()
}

func (w *Writer) WriteInt(n int)       { w.Out = redcon.AppendInt(w.Out, int64(n)); w.grew() }
func (w *Writer) WriteInt64(n int64)   { w.Out = redcon.AppendInt(w.Out, n); w.grew() }
func (w *Writer) WriteUint64(n uint64) { w.Out = redcon.AppendUint(w.Out, n); w.grew() }

// WriteArray starts an array of n elements.
func (w *Writer) WriteArray(n int) { w.Out = redcon.AppendArray(w.Out, n); w.grew() }

// WriteNull writes a missing value: `_` in RESP3, a null bulk string
// (`$-1`) in RESP2.
func (w *Writer) WriteNull() {
	if w.RESP3 {
		w.Out = append(w.Out, '_', '\r', '\n')
	} else {
		w.Out = redcon.AppendNull(w.Out)
	}
	w.grew()
}

// WriteNullArray writes a missing aggregate (EXEC after a WATCH
// conflict, a timed-out blocking pop): `_` in RESP3, `*-1` in RESP2.
func (w *Writer) WriteNullArray() {
	if w.RESP3 {
		w.Out = append(w.Out, '_', '\r', '\n')
	} else {
		w.Out = append(w.Out, '*', '-', '1', '\r', '\n')
	}
	w.grew()
}

// WriteMap starts a map of n key/value pairs (2n elements follow): `%n`
// in RESP3, a flat array of 2n in RESP2.
func (w *Writer) WriteMap(n int) {
	if w.RESP3 {
		w.Out = appendHeader(w.Out, '%', n)
	} else {
		w.Out = redcon.AppendArray(w.Out, 2*n)
	}
	w.grew()
}

// WriteSet starts a set of n elements: `~n` in RESP3, an array in RESP2.
func (w *Writer) WriteSet(n int) {
	if w.RESP3 {
		w.Out = appendHeader(w.Out, '~', n)
	} else {
		w.Out = redcon.AppendArray(w.Out, n)
	}
	w.grew()
}

// WritePush starts an out-of-band push message of n elements (pub/sub
// messages, invalidations): `>n` in RESP3, an array in RESP2.
func (w *Writer) WritePush(n int) {
	if w.RESP3 {
		w.Out = appendHeader(w.Out, '>', n)
	} else {
		w.Out = redcon.AppendArray(w.Out, n)
	}
	w.grew()
}

// WriteDouble writes f as Redis 7.0 does: `,` in RESP3, a bulk string in
// RESP2, formatted like C's "%.17g" with inf, -inf and nan spelled so.
func (w *Writer) WriteDouble(f float64) {
	if w.RESP3 {
		w.Out = append(w.Out, ',')
		w.Out = AppendDouble(w.Out, f)
		w.Out = append(w.Out, '\r', '\n')
	} else {
		var buf [32]byte
		w.Out = redcon.AppendBulk(w.Out, AppendDouble(buf[:0], f))
	}
	w.grew()
}

// AppendDouble formats f like Redis 7.0's addReplyDouble: "%.17g" (Go's
// 'g' with 17 digits prints the same digits and a two-digit exponent, as
// glibc does), and "inf", "-inf", "nan".
func AppendDouble(b []byte, f float64) []byte {
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
func (w *Writer) WriteBool(v bool) {
	switch {
	case !w.RESP3 && v:
		w.Out = redcon.AppendInt(w.Out, 1)
	case !w.RESP3:
		w.Out = redcon.AppendInt(w.Out, 0)
	case v:
		w.Out = append(w.Out, '#', 't', '\r', '\n')
	default:
		w.Out = append(w.Out, '#', 'f', '\r', '\n')
	}
	w.grew()
}

// WriteVerbatim writes text as a verbatim string of the given 3-letter
// format ("txt", "mkd") in RESP3 (`=len\r\ntxt:...`), as Redis 7 answers
// INFO and CLIENT INFO/LIST; a bulk string in RESP2.
func (w *Writer) WriteVerbatim(format, text string) {
	if !w.RESP3 {
		w.WriteBulkString(text)
		return
	}
	w.Out = appendHeader(w.Out, '=', len(text)+4)
	w.Out = append(w.Out, format[:3]...)
	w.Out = append(w.Out, ':')
	w.Out = append(w.Out, text...)
	w.Out = append(w.Out, '\r', '\n')
	w.grew()
}

// WriteRaw appends data, already RESP-encoded (an EXEC's held replies, a
// cached reply).
func (w *Writer) WriteRaw(data []byte) {
	w.room(len(data))
	w.Out = append(w.Out, data...)
	w.grew()
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// AppendCommand appends to dst a request as a client sends it: an array of
// bulk strings (the backing tier's commands to Redis, read back with a
// Reader).
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = appendHeader(dst, '*', len(args))
	for _, a := range args {
		dst = appendHeader(dst, '$', len(a))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
