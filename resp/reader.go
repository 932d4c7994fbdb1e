package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
)

// Default limits of a Reader.
const (
	DefaultMaxBulk  = 512 << 20 // bytes in one bulk string
	DefaultMaxElems = 1 << 20   // elements in one aggregate
)

const (
	maxDepth  = 32      // maximum aggregate nesting
	maxLine   = 1 << 20 // maximum length of a header / simple line
	bulkChunk = 64 << 10
)

// ErrProtocol is wrapped by every error ReadReply returns for malformed
// input, and matched (errors.Is) by every ProtocolError of the Parser.
var ErrProtocol = errors.New("resp: protocol error")

// Status is a RESP simple string reply ('+'), e.g. "OK" or "PONG".
type Status string

// Push is a RESP3 out-of-band push message ('>'), e.g. a client-side
// caching invalidation: Kind "invalidate", Data []any{[]any{[]byte("key"), ...}}
// or Data []any{nil} (flush all).
type Push struct {
	Kind string
	Data []any
}

// ReplyError is an error reply sent by the server ('-' simple error or '!'
// blob error). ReadReply returns it as the reply value, not as its error.
type ReplyError struct{ Msg string }

func (e *ReplyError) Error() string { return e.Msg }

// Reader reads RESP2/RESP3 replies, the client side of the protocol (the
// backing tier's connections to Redis). A bulk string of more than MaxBulk
// bytes (default 512 MiB), an aggregate of more than MaxElems elements
// (default 1<<20) or nesting deeper than 32 is an error, and memory is
// allocated as data arrives, never up front from a length the peer
// announced.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// MaxBulk is the largest accepted bulk/verbatim/blob-error length in
	// bytes; <= 0 means DefaultMaxBulk.
	MaxBulk int
	// MaxElems is the largest accepted number of elements of an array,
	// set or push, or of flattened key and value elements of a map or
	// attribute; <= 0 means DefaultMaxElems.
	MaxElems int

	br   *bufio.Reader
	line []byte // scratch for lines longer than the bufio buffer
}

// NewReader returns a Reader reading from r. If r is a *bufio.Reader with a
// large enough buffer it is used directly.
func NewReader(r io.Reader) *Reader {
	return &Reader{
		MaxBulk:  DefaultMaxBulk,
		MaxElems: DefaultMaxElems,
		br:       bufio.NewReaderSize(r, 16<<10),
	}
}

// ReadReply reads one reply. Mapping:
//
//	'+' simple string  -> Status
//	'-' simple error   -> *ReplyError (as the value, not as err)
//	':' integer        -> int64
//	'$' bulk string    -> []byte ($-1 -> nil)
//	'*' array          -> []any (*-1 -> nil)
//	'_' null           -> nil
//	',' double         -> float64 (inf, -inf, nan accepted)
//	'#' boolean        -> bool
//	'(' big number     -> *big.Int
//	'=' verbatim       -> []byte without the "txt:" (format) prefix
//	'!' blob error     -> *ReplyError
//	'%' map            -> []any of alternating key, value (flat, order preserved)
//	'~' set            -> []any
//	'|' attribute      -> read and discarded; the following reply is returned
//	'>' push           -> Push{Kind: first element as string, Data: the rest}
//
// err is non-nil only for I/O errors or protocol violations (which wrap
// ErrProtocol). At a clean end of input before a reply starts err is io.EOF;
// input ending inside a reply gives io.ErrUnexpectedEOF. After an error the
// stream position is undefined and the connection should be closed.
func (r *Reader) ReadReply() (any, error) {
	t, err := r.br.ReadByte()
	if err != nil {
		return nil, err // io.EOF here is a clean end of stream
	}
	v, err := r.readValue(t, 0)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return v, err
}

func (r *Reader) protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// readValue reads the value whose type byte t has already been consumed.
// depth is the number of aggregates enclosing it.
func (r *Reader) readValue(t byte, depth int) (any, error) {
	for t == '|' { // attribute: read and discard, then read what follows
		if _, err := r.readAggregate(t, depth); err != nil {
			return nil, err
		}
		var err error
		if t, err = r.br.ReadByte(); err != nil {
			return nil, err
		}
	}
	switch t {
	case '+', '-', ':', '_', ',', '#', '(':
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		return r.parseSimple(t, line)
	case '$', '=', '!':
		n, err := r.readLength(t, r.maxBulk())
		if err != nil || n < 0 {
			return nil, err // $-1 -> nil
		}
		b, err := r.readBulk(n)
		if err != nil {
			return nil, err
		}
		switch t {
		case '=':
			if len(b) < 4 || b[3] != ':' {
				return nil, r.protoErr("verbatim string without format prefix")
			}
			return b[4:], nil
		case '!':
			return &ReplyError{Msg: string(b)}, nil
		}
		return b, nil
	case '*', '%', '~', '>':
		v, err := r.readAggregate(t, depth)
		if err != nil || v == nil {
			return nil, err // *-1 -> nil interface
		}
		if t != '>' {
			return v, nil
		}
		if len(v) == 0 {
			return nil, r.protoErr("empty push message")
		}
		var kind string
		switch k := v[0].(type) {
		case []byte:
			kind = string(k)
		case Status:
			kind = string(k)
		default:
			return nil, r.protoErr("push message kind is %T, not a string", v[0])
		}
		return Push{Kind: kind, Data: v[1:]}, nil
	default:
		return nil, r.protoErr("unknown reply type %q", t)
	}
}

func (r *Reader) parseSimple(t byte, line []byte) (any, error) {
	switch t {
	case '+':
		return Status(line), nil
	case '-':
		return &ReplyError{Msg: string(line)}, nil
	case ':':
		n, ok := parseInt(line, true)
		if !ok {
			return nil, r.protoErr("bad integer %q", line)
		}
		return n, nil
	case '_':
		if len(line) != 0 {
			return nil, r.protoErr("bad null %q", line)
		}
		return nil, nil
	case ',':
		switch string(line) {
		case "inf", "+inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		case "nan", "-nan":
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(string(line), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, r.protoErr("bad double %q", line)
		}
		return f, nil
	case '#':
		if len(line) == 1 {
			switch line[0] {
			case 't':
				return true, nil
			case 'f':
				return false, nil
			}
		}
		return nil, r.protoErr("bad boolean %q", line)
	case '(':
		if len(line) == 0 || line[0] == '+' && len(line) == 1 {
			return nil, r.protoErr("bad big number %q", line)
		}
		for i, c := range line {
			if !('0' <= c && c <= '9' || i == 0 && (c == '-' || c == '+')) {
				return nil, r.protoErr("bad big number %q", line)
			}
		}
		n, ok := new(big.Int).SetString(string(line), 10)
		if !ok {
			return nil, r.protoErr("bad big number %q", line)
		}
		return n, nil
	}
	panic("unreachable")
}

func (r *Reader) maxBulk() int {
	if r.MaxBulk > 0 {
		return r.MaxBulk
	}
	return DefaultMaxBulk
}

func (r *Reader) maxElems() int {
	if r.MaxElems > 0 {
		return r.MaxElems
	}
	return DefaultMaxElems
}

// readAggregate reads the elements of an aggregate of type t ('*', '%', '~',
// '>' or '|'). Maps and attributes are returned flattened. A null array
// (*-1) returns nil, nil.
func (r *Reader) readAggregate(t byte, depth int) ([]any, error) {
	if depth >= maxDepth {
		return nil, r.protoErr("aggregates nested deeper than %d", maxDepth)
	}
	limit := r.maxElems()
	pairs := t == '%' || t == '|'
	if pairs {
		limit /= 2
	}
	n, err := r.readLength(t, limit)
	if err != nil || n < 0 {
		return nil, err
	}
	if pairs {
		n *= 2
	}
	// Do not trust n for the allocation: grow as elements actually arrive.
	v := make([]any, 0, min(n, 1024))
	for range n {
		et, err := r.br.ReadByte()
		if err != nil {
			return nil, err
		}
		e, err := r.readValue(et, depth+1)
		if err != nil {
			return nil, err
		}
		v = append(v, e)
	}
	return v, nil
}

// readLength reads the length line of a bulk or aggregate of type t and
// checks it against limit. -1 (null) is accepted only for '$' and '*'.
func (r *Reader) readLength(t byte, limit int) (int, error) {
	line, err := r.readLine()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(line, true)
	switch {
	case !ok:
		return 0, r.protoErr("bad length %q for type %q", line, t)
	case n == -1 && (t == '$' || t == '*'):
		return -1, nil
	case n < 0:
		return 0, r.protoErr("negative length %d for type %q", n, t)
	case n > int64(limit):
		return 0, r.protoErr("length %d for type %q exceeds limit %d", n, t, limit)
	}
	return int(n), nil
}

// readBulk reads n bytes followed by CRLF. Memory is allocated in step with
// the data actually received, not from n up front.
func (r *Reader) readBulk(n int) ([]byte, error) {
	var b []byte
	if n <= bulkChunk {
		b = make([]byte, n, n+2)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return nil, err
		}
	} else {
		b = make([]byte, 0, bulkChunk)
		for len(b) < n {
			if len(b) == cap(b) {
				b = slices.Grow(b, min(n-len(b), cap(b))) // at most doubles
			}
			m := min(n, cap(b))
			k, err := io.ReadFull(r.br, b[len(b):m])
			b = b[:len(b)+k]
			if err != nil {
				return nil, err
			}
		}
	}
	if c, err := r.br.ReadByte(); err != nil {
		return nil, err
	} else if c != '\r' {
		return nil, r.protoErr("bulk string not terminated by CRLF")
	}
	if c, err := r.br.ReadByte(); err != nil {
		return nil, err
	} else if c != '\n' {
		return nil, r.protoErr("bulk string not terminated by CRLF")
	}
	return b, nil
}

// readLine reads a line terminated by CRLF and returns it without the CRLF.
// The result is valid only until the next read.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.line = append(r.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.line) > maxLine {
				return nil, r.protoErr("line longer than %d bytes", maxLine)
			}
			line, err = r.br.ReadSlice('\n')
			r.line = append(r.line, line...)
		}
		line = r.line
		if cap(r.line) > bulkChunk {
			r.line = nil // do not retain a large scratch buffer
		}
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > maxLine+2 {
		return nil, r.protoErr("line longer than %d bytes", maxLine)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, r.protoErr("line not terminated by CRLF")
	}
	return line[:len(line)-2], nil
}
