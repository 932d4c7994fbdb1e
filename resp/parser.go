package resp

import (
	"errors"
	"math"
)

// Limits bound what a Parser accepts, as Redis bounds a client's query
// buffer while parsing it (networking.c). A request beyond them is a
// ProtocolError, after which the connection is closed.
//
// The error text follows Redis's, whose pre-AUTH limits are fixed: a count
// above a MaxArgs of 10 or less gets "unauthenticated multibulk length",
// and a bulk above a MaxBulk of 16 KiB or less "unauthenticated bulk
// length"; larger limits get "invalid multibulk length" / "invalid bulk
// length".
type Limits struct {
	MaxArgs      int   // arguments per command
	MaxBulk      int64 // bytes per bulk argument
	MaxBuffered  int64 // bytes of one unfinished command held in the buffer
	MaxInlineLen int   // an inline line, or a '*'/'$' header line, without its terminator
}

// ProtocolError is a request the Parser refuses. Its text is the error
// reply Redis sends for it (write it after '-'), before it closes the
// connection. errors.Is(err, ErrProtocol) holds for every ProtocolError.
type ProtocolError string

func (e ProtocolError) Error() string { return string(e) }

// Is makes a ProtocolError match ErrProtocol, the sentinel of the Reader's
// protocol errors: either way the peer broke the protocol.
func (e ProtocolError) Is(target error) bool { return target == ErrProtocol }

// ErrQueryBufLimit is the error for a command that needs more than
// Limits.MaxBuffered bytes of buffer. The Parser returns it; a caller that
// sizes its buffer with its own cap (Parser.Need) answers it too.
const ErrQueryBufLimit = ProtocolError("ERR Protocol error: client query buffer limit exceeded")

const (
	errMbulkTooBig  = ProtocolError("ERR Protocol error: too big mbulk count string")
	errBulkTooBig   = ProtocolError("ERR Protocol error: too big bulk count string")
	errInlineTooBig = ProtocolError("ERR Protocol error: too big inline request")
	errMbulkLen     = ProtocolError("ERR Protocol error: invalid multibulk length")
	errUnauthMbulk  = ProtocolError("ERR Protocol error: unauthenticated multibulk length")
	errBulkLen      = ProtocolError("ERR Protocol error: invalid bulk length")
	errUnauthBulk   = ProtocolError("ERR Protocol error: unauthenticated bulk length")
	errQuotes       = ProtocolError("ERR Protocol error: unbalanced quotes in request")
)

// ErrNeedMore means the buffer holds no complete command yet: read more
// and call Next again with the unconsumed bytes.
var ErrNeedMore = errors.New("resp: need more input")

// Parser is an incremental RESP request parser (multibulk and inline
// commands) over a caller-owned buffer. Like Redis it remembers how far it
// got in a multibulk command (arguments left, length of the pending bulk),
// so a command arriving in many reads is scanned once, not once per read:
// no byte sequence makes it quadratic. It allocates nothing once its
// argument slices have grown, except for an inline argument with quotes or
// escapes.
//
// Offsets are relative to the start of the command being parsed, so the
// caller may move the unconsumed bytes to the front of its buffer between
// calls. The zero Parser is ready; it is not safe for concurrent use.
type Parser struct {
	inCmd   bool  // inside a multibulk command
	left    int   // arguments still to read
	bulkLen int   // length of the pending bulk, -1 before its header
	pos     int   // parse position relative to the command start
	offs    []int // start,end pairs of the arguments read so far
	args    [][]byte
}

// Next parses one command from buf, which starts at the current command's
// first byte. It returns the arguments (slices of buf, capacity clipped,
// valid until buf changes or the next call), the bytes consumed, and nil,
// ErrNeedMore or a ProtocolError. A nil-args result with n > 0 is an empty
// command (`*0`, `*-1`, a blank inline line) that Redis skips without a
// reply.
//
// ErrNeedMore with len(buf) > lim.MaxBuffered is ErrQueryBufLimit instead:
// the caller never holds more than that for one command.
func (p *Parser) Next(buf []byte, lim *Limits) (args [][]byte, n int, err error) {
	if !p.inCmd {
		if len(buf) == 0 {
			return nil, 0, ErrNeedMore
		}
		if buf[0] != '*' {
			return p.inline(buf, lim)
		}
		// The header line is at most MaxInlineLen bytes, whether its '\r'
		// has arrived or not (else a read split would change the answer).
		cr := indexByte(buf, '\r', lim.MaxInlineLen+2)
		if cr > lim.MaxInlineLen || cr < 0 && len(buf) > lim.MaxInlineLen {
			return nil, 0, errMbulkTooBig
		}
		if cr < 0 {
			return needMore(buf, lim)
		}
		if cr+1 >= len(buf) {
			return needMore(buf, lim) // the '\n' has not arrived
		}
		count, ok := parseInt(buf[1:cr], false)
		if !ok || count > math.MaxInt32 {
			return nil, 0, errMbulkLen
		}
		if count > int64(lim.MaxArgs) {
			if lim.MaxArgs <= 10 {
				return nil, 0, errUnauthMbulk
			}
			return nil, 0, errMbulkLen
		}
		if count <= 0 {
			return nil, cr + 2, nil // skipped, as Redis does
		}
		p.inCmd, p.left, p.bulkLen, p.pos = true, int(count), -1, cr+2
		p.offs = p.offs[:0]
	}
	for p.left > 0 {
		if p.bulkLen < 0 {
			rest := buf[p.pos:]
			cr := indexByte(rest, '\r', lim.MaxInlineLen+2)
			if cr > lim.MaxInlineLen || cr < 0 && len(rest) > lim.MaxInlineLen {
				return nil, 0, errBulkTooBig
			}
			if cr < 0 {
				return needMore(buf, lim)
			}
			if cr+1 >= len(rest) {
				return needMore(buf, lim)
			}
			if rest[0] != '$' {
				return nil, 0, ProtocolError("ERR Protocol error: expected '$', got '" + printable(rest[0]) + "'")
			}
			l, ok := parseInt(rest[1:cr], false)
			if !ok || l < 0 {
				return nil, 0, errBulkLen
			}
			if l > lim.MaxBulk {
				if lim.MaxBulk <= 16<<10 {
					return nil, 0, errUnauthBulk
				}
				return nil, 0, errBulkLen
			}
			p.bulkLen = int(l)
			p.pos += cr + 2
		}
		if int64(len(buf)-p.pos) < int64(p.bulkLen)+2 {
			if int64(p.pos)+int64(p.bulkLen)+2 > lim.MaxBuffered {
				return nil, 0, ErrQueryBufLimit
			}
			return nil, 0, ErrNeedMore
		}
		p.offs = append(p.offs, p.pos, p.pos+p.bulkLen)
		// Like Redis, the two bytes after the bulk are skipped unchecked.
		p.pos += p.bulkLen + 2
		p.bulkLen = -1
		p.left--
	}
	p.args = p.args[:0]
	for i := 0; i < len(p.offs); i += 2 {
		p.args = append(p.args, buf[p.offs[i]:p.offs[i+1]:p.offs[i+1]])
	}
	n = p.pos
	p.inCmd, p.pos = false, 0
	return p.args, n, nil
}

// needMore is ErrNeedMore, or ErrQueryBufLimit when buf already holds
// more than one command may.
func needMore(buf []byte, lim *Limits) ([][]byte, int, error) {
	if int64(len(buf)) > lim.MaxBuffered {
		return nil, 0, ErrQueryBufLimit
	}
	return nil, 0, ErrNeedMore
}

// Need is the buffer size, from the current command's first byte, that
// holds the bulk being read in full (with its CRLF), or 0 when no bulk
// length is pending. A caller grows its buffer to it, not to a size a
// header merely announces before the bytes arrive.
func (p *Parser) Need() int {
	if !p.inCmd || p.bulkLen < 0 {
		return 0
	}
	return p.pos + p.bulkLen + 2
}

func printable(c byte) string {
	if c >= ' ' && c <= '~' {
		return string(rune(c))
	}
	return "\\x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
}

// indexByte is the index of the first c in the first max bytes of b, or
// -1: a line is searched only as far as it may legally reach. It is a
// plain loop, so it inlines: a header line ("*3", "$5") ends within a few
// bytes, and calling bytes.IndexByte instead made parsing a multibulk
// pipeline about 20% slower (BenchmarkParser).
func indexByte(b []byte, c byte, max int) int {
	if len(b) > max {
		b = b[:max]
	}
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// parseInt parses a decimal int64 in one of RESP's two integer grammars.
// In a request (reply false) it is Redis's string2ll, as Redis reads a
// multibulk or bulk header: an optional '-', no '+', no leading zeros
// ("*01" is an invalid multibulk length). In a reply (reply true) it is the
// RESP specification's ":[<+|->]<value>": a '+' and leading zeros are
// accepted from a server. Either way at most 19 digits, within int64.
func parseInt(b []byte, reply bool) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || reply && b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || !reply && b[0] == '0' && (len(b) > 1 || neg) {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // at most 19 digits: no uint64 overflow
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// inline parses a telnet-style line (Redis processInlineBuffer +
// sdssplitargs): words separated by spaces, "double quotes" with \n \r \t
// \b \a \\ \" \xHH escapes, 'single quotes' with \'.
func (p *Parser) inline(buf []byte, lim *Limits) ([][]byte, int, error) {
	nl := indexByte(buf, '\n', lim.MaxInlineLen+2)
	if nl > lim.MaxInlineLen || nl < 0 && len(buf) > lim.MaxInlineLen {
		return nil, 0, errInlineTooBig // as the header lines: whether the '\n' has arrived or not
	}
	if nl < 0 {
		return needMore(buf, lim)
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := splitArgs(line, p.args[:0])
	if !ok {
		return nil, 0, errQuotes
	}
	if len(args) > lim.MaxArgs && lim.MaxArgs <= 10 {
		return nil, 0, errUnauthMbulk
	}
	p.args = args
	if len(args) == 0 {
		return nil, nl + 1, nil
	}
	return args, nl + 1, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitArgs is Redis's sdssplitargs, including its quirks: a quote inside
// a word opens a quoted part of the same word (a"b c" is one argument,
// `ab c`), a closing quote must be followed by a space or the end, and a
// NUL byte ends the line (sdssplitargs works on C strings).
func splitArgs(line []byte, out [][]byte) ([][]byte, bool) {
	for i, c := range line {
		if c == 0 {
			line = line[:i]
			break
		}
	}
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, true
		}
		start := i
		plain := true // no quotes or escapes so far: the word aliases line
		var cur []byte
		inq, insq := false, false
		for done := false; !done; {
			if i >= len(line) {
				if inq || insq {
					return out, false // unterminated quotes
				}
				break
			}
			c := line[i]
			switch {
			case inq:
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					h, _ := hexVal(line[i+2])
					l, _ := hexVal(line[i+3])
					cur = append(cur, h<<4|l)
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch e := line[i]; e {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = e
					}
					cur = append(cur, c)
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return out, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return out, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t':
					done = true
					i-- // the separator is skipped below
				case '"':
					inq, plain = true, false
					cur = append(cur, line[start:i]...)
				case '\'':
					insq, plain = true, false
					cur = append(cur, line[start:i]...)
				default:
					if !plain {
						cur = append(cur, c)
					}
				}
			}
			i++
		}
		if plain {
			end := i
			if end > len(line) {
				end = len(line)
			}
			out = append(out, line[start:end:end])
			continue
		}
		if cur == nil {
			cur = []byte{}
		}
		out = append(out, cur)
	}
}

func isHex(c byte) bool {
	_, ok := hexVal(c)
	return ok
}
