package server

import (
	"errors"

	"github.com/tcached/tcached/command"
)

// Protocol limits, as Redis applies them while parsing (networking.c). A
// violation is answered with the error and the connection is closed.
type protoLimits struct {
	maxArgs      int   // arguments per multibulk command
	maxBulk      int64 // bytes per bulk argument
	maxBuffered  int64 // bytes of one unfinished command held in the buffer
	maxInlineLen int   // an inline line, or a '*'/'$' header line, without its terminator
}

// protoError is a protocol violation; its text is the reply (after "-").
type protoError string

func (e protoError) Error() string { return string(e) }

const (
	errProtoMbulkTooBig   = protoError("ERR Protocol error: too big mbulk count string")
	errProtoBulkTooBig    = protoError("ERR Protocol error: too big bulk count string")
	errProtoInlineTooBig  = protoError("ERR Protocol error: too big inline request")
	errProtoMbulkLen      = protoError("ERR Protocol error: invalid multibulk length")
	errProtoUnauthMbulk   = protoError("ERR Protocol error: unauthenticated multibulk length")
	errProtoBulkLen       = protoError("ERR Protocol error: invalid bulk length")
	errProtoUnauthBulk    = protoError("ERR Protocol error: unauthenticated bulk length")
	errProtoQuotes        = protoError("ERR Protocol error: unbalanced quotes in request")
	errProtoQueryBufLimit = protoError("ERR Protocol error: client query buffer limit exceeded")
)

// errNeedMore means the buffer holds no complete command yet.
var errNeedMore = errors.New("need more input")

// parser is an incremental RESP request parser over a caller-owned buffer.
// Like Redis it remembers how far it got in a multibulk command (arguments
// left, length of the pending bulk), so a command arriving in many reads is
// scanned once, not once per read: no byte sequence makes it quadratic.
//
// Offsets are relative to the start of the command being parsed, so the
// caller may move the unconsumed bytes to the front of its buffer between
// calls.
type parser struct {
	inCmd    bool  // inside a multibulk command
	left     int   // arguments still to read
	bulkLen  int   // length of the pending bulk, -1 before its header
	pos      int   // parse position relative to the command start
	offs     []int // start,end pairs of the arguments read so far
	args     [][]byte
	inlineOK bool
}

// next parses one command from buf (which starts at the current command's
// first byte). It returns the arguments (slices of buf, valid until buf
// changes), the bytes consumed, and errNeedMore, a protoError, or nil. A
// nil-args result with n > 0 is an empty command (`*0`, `*-1`, a blank
// inline line) that Redis skips without a reply.
func (p *parser) next(buf []byte, lim *protoLimits) (args [][]byte, n int, err error) {
	if !p.inCmd {
		if len(buf) == 0 {
			return nil, 0, errNeedMore
		}
		if buf[0] != '*' {
			return p.inline(buf, lim)
		}
		cr := indexCR(buf, lim.maxInlineLen+2)
		if cr < 0 {
			if len(buf) > lim.maxInlineLen {
				return nil, 0, errProtoMbulkTooBig
			}
			return nil, 0, errNeedMore
		}
		if cr+1 >= len(buf) {
			return nil, 0, errNeedMore // the '\n' has not arrived
		}
		count, ok := command.ParseInt(buf[1:cr])
		if !ok || count > 1<<31-1 {
			return nil, 0, errProtoMbulkLen
		}
		if count > int64(lim.maxArgs) {
			if lim.maxArgs < 1<<31-1 && lim.maxArgs <= 10 {
				return nil, 0, errProtoUnauthMbulk
			}
			return nil, 0, errProtoMbulkLen
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
			cr := indexCR(rest, lim.maxInlineLen+2)
			if cr < 0 {
				if len(rest) > lim.maxInlineLen {
					return nil, 0, errProtoBulkTooBig
				}
				return nil, 0, errNeedMore
			}
			if cr+1 >= len(rest) {
				return nil, 0, errNeedMore
			}
			if rest[0] != '$' {
				return nil, 0, protoError("ERR Protocol error: expected '$', got '" + printable(rest[0]) + "'")
			}
			l, ok := command.ParseInt(rest[1:cr])
			if !ok || l < 0 {
				return nil, 0, errProtoBulkLen
			}
			if l > lim.maxBulk {
				if lim.maxBulk <= 16<<10 {
					return nil, 0, errProtoUnauthBulk
				}
				return nil, 0, errProtoBulkLen
			}
			p.bulkLen = int(l)
			p.pos += cr + 2
		}
		if int64(len(buf)-p.pos) < int64(p.bulkLen)+2 {
			if int64(p.pos)+int64(p.bulkLen)+2 > lim.maxBuffered {
				return nil, 0, errProtoQueryBufLimit
			}
			return nil, 0, errNeedMore
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

// pending is how many bytes of an unfinished command the parser has
// accepted so far (0 outside a command).
func (p *parser) pending() int {
	if !p.inCmd {
		return 0
	}
	return p.pos
}

// need is the buffer size, from the current command's first byte, that
// holds the bulk being read in full (with its CRLF), or 0 when no bulk
// length is pending.
func (p *parser) need() int {
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

func indexCR(b []byte, max int) int {
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if c == '\r' {
			return i
		}
	}
	return -1
}

// inline parses a telnet-style line (Redis processInlineBuffer +
// sdssplitargs): words separated by spaces, "double quotes" with \n \r \t
// \b \a \\ \" \xHH escapes, 'single quotes' with \'.
func (p *parser) inline(buf []byte, lim *protoLimits) ([][]byte, int, error) {
	nl := -1
	max := lim.maxInlineLen + 1
	for i, c := range buf {
		if i > max {
			break
		}
		if c == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		if len(buf) > lim.maxInlineLen {
			return nil, 0, errProtoInlineTooBig
		}
		return nil, 0, errNeedMore
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := splitArgs(line, p.args[:0])
	if !ok {
		return nil, 0, errProtoQuotes
	}
	if len(args) > lim.maxArgs && lim.maxArgs <= 10 {
		return nil, 0, errProtoUnauthMbulk
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
