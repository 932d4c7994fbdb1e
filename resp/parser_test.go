package resp

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Redis's limits (and config.DefaultLimits) before and after AUTH.
var (
	preLimits  = Limits{MaxArgs: 10, MaxBulk: 16 << 10, MaxBuffered: 1 << 20, MaxInlineLen: 64 << 10}
	authLimits = Limits{MaxArgs: math.MaxInt32, MaxBulk: 512 << 20, MaxBuffered: 1 << 30, MaxInlineLen: 64 << 10}
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"PING", []string{"PING"}, true},
		{"  SET  k   v ", []string{"SET", "k", "v"}, true},
		{`SET k "a b"`, []string{"SET", "k", "a b"}, true},
		{`SET k "a\nb\x41\"\\"`, []string{"SET", "k", "a\nbA\"\\"}, true},
		{`SET k 'it\'s'`, []string{"SET", "k", "it's"}, true},
		{`SET k 'a\nb'`, []string{"SET", "k", `a\nb`}, true},
		{`SET k ""`, []string{"SET", "k", ""}, true},
		{`a"b c"`, []string{"ab c"}, true},
		{`SET k "abc`, nil, false},
		{`SET k 'abc`, nil, false},
		{`SET k "a"b`, nil, false},
		{`SET k 'a'b`, nil, false},
		{"SET k \"a\\", nil, false},
		{"GET a\x00b c", []string{"GET", "a"}, true},
		{"GET\tk", []string{"GET", "k"}, true},
		{`"\x4"`, []string{"x4"}, true},
	}
	for _, tt := range tests {
		got, ok := splitArgs([]byte(tt.line), nil)
		var gs []string
		for _, a := range got {
			gs = append(gs, string(a))
		}
		if ok != tt.ok || ok && !reflect.DeepEqual(gs, tt.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", tt.line, gs, ok, tt.want, tt.ok)
		}
	}
}

// TestParserIncremental feeds commands one byte at a time and in one piece:
// the same commands come out, and a multibulk command is not rescanned.
func TestParserIncremental(t *testing.T) {
	auth := authLimits
	input := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*0\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n  \r\nGET \"a b\"\n"
	want := [][]string{{"SET", "k", "hello"}, {"PING"}, {"ECHO", ""}, {"GET", "a b"}}
	collect := func(chunk int) [][]string {
		var p Parser
		var out [][]string
		buf := []byte{}
		fed := 0
		for {
			args, n, err := p.Next(buf, &auth)
			if err == ErrNeedMore {
				if fed == len(input) {
					return out
				}
				end := min(fed+chunk, len(input))
				buf = append(buf, input[fed:end]...)
				fed = end
				continue
			}
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			if args != nil {
				var s []string
				for _, a := range args {
					s = append(s, string(a))
				}
				out = append(out, s)
			}
			buf = buf[n:]
		}
	}
	for _, chunk := range []int{1, 2, 3, 7, len(input)} {
		if got := collect(chunk); !reflect.DeepEqual(got, want) {
			t.Errorf("chunk %d: got %q, want %q", chunk, got, want)
		}
	}
}

// TestParserErrors: each malformed or oversized request gets Redis's exact
// protocol error (server's TestProtocolErrors checks them on the wire).
func TestParserErrors(t *testing.T) {
	big := strings.Repeat("9", 70<<10)
	justOver := strings.Repeat("0", 64<<10+1) // one byte over MaxInlineLen
	tests := []struct {
		name  string
		auth  bool
		input string
		want  ProtocolError
	}{
		{"preauth argc", false, "*11\r\n", "ERR Protocol error: unauthenticated multibulk length"},
		{"preauth inline argc", false, strings.Repeat("a ", 11) + "\r\n", "ERR Protocol error: unauthenticated multibulk length"},
		{"preauth bulk", false, "*1\r\n$16385\r\n", "ERR Protocol error: unauthenticated bulk length"},
		{"negative bulk", false, "*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
		{"non-numeric count", false, "*abc\r\n", "ERR Protocol error: invalid multibulk length"},
		{"plus count", true, "*+1\r\n", "ERR Protocol error: invalid multibulk length"},
		{"leading zero count", true, "*01\r\n", "ERR Protocol error: invalid multibulk length"},
		{"count over INT_MAX", true, "*3000000000\r\n", "ERR Protocol error: invalid multibulk length"},
		{"huge bulk", true, "*1\r\n$9223372036854775807\r\n", "ERR Protocol error: invalid bulk length"},
		{"bulk over proto-max-bulk-len", true, "*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"},
		{"overflowing bulk", true, "*1\r\n$99999999999999999999999\r\n", "ERR Protocol error: invalid bulk length"},
		{"missing dollar", true, "*1\r\nX3\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'X'"},
		{"binary instead of dollar", true, "*1\r\n\x01\r\n", `ERR Protocol error: expected '$', got '\x01'`},
		{"inline too big", false, big, "ERR Protocol error: too big inline request"},
		{"mbulk count too big", false, "*" + big, "ERR Protocol error: too big mbulk count string"},
		{"bulk count too big", true, "*1\r\n$" + big, "ERR Protocol error: too big bulk count string"},
		// A header line over the limit is too big even when its "\r" came
		// in the same read (the answer must not depend on the read split).
		{"mbulk count too big, terminated", false, "*" + justOver[1:] + "\r", "ERR Protocol error: too big mbulk count string"},
		{"bulk count too big, terminated", true, "*1\r\n$" + justOver[1:] + "\r\n", "ERR Protocol error: too big bulk count string"},
		{"inline too big, terminated", false, justOver + "\n", "ERR Protocol error: too big inline request"},
		{"unbalanced quotes", false, "SET k \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
		{"query buffer limit", true, "*2\r\n$3\r\nSET\r\n$2000000\r\n" + strings.Repeat("x", 1<<20+100), "ERR Protocol error: client query buffer limit exceeded"},
		{"unfinished header over query buffer limit", false, "*5\r\n" + strings.Repeat("$10\r\n0123456789\r\n", 3) + "$1", "ERR Protocol error: client query buffer limit exceeded"},
	}
	for _, tt := range tests {
		lim := preLimits
		if tt.auth {
			lim = authLimits
		}
		if strings.Contains(tt.name, "query buffer") {
			lim.MaxBuffered = 1 << 20
			if !tt.auth {
				lim.MaxBuffered = 50 // the header after 55 bytes of arguments
			}
		}
		var p Parser
		buf := []byte(tt.input)
		var err error
		for len(buf) > 0 {
			var n int
			if _, n, err = p.Next(buf, &lim); err != nil {
				break
			}
			buf = buf[n:]
		}
		if err != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: errors.Is(%v, ErrProtocol) is false", tt.name, err)
		}
	}
}

// TestParserNoAllocs: once its slices have grown, the parser allocates
// nothing for multibulk or plain inline commands (the server's hot path).
func TestParserNoAllocs(t *testing.T) {
	input := []byte(pipeline(16) + "PING\r\nGET key:1\r\n")
	var p Parser
	parseAll := func() {
		buf := input
		for len(buf) > 0 {
			_, n, err := p.Next(buf, &authLimits)
			if err != nil {
				t.Fatal(err)
			}
			buf = buf[n:]
		}
	}
	parseAll()
	if n := testing.AllocsPerRun(1000, parseAll); n != 0 {
		t.Fatalf("parsing a pipeline allocates %v times", n)
	}
}

// pipeline is n SET and n GET multibulk commands, as go-redis sends them.
func pipeline(n int) string {
	var b []byte
	for i := range n {
		k := []byte(fmt.Sprintf("key:%06d", i))
		b = AppendCommand(b, []byte("SET"), k, []byte("0123456789abcdef"))
		b = AppendCommand(b, []byte("GET"), k)
	}
	return string(b)
}

// BenchmarkParser parses a pipeline of 32 commands per iteration.
func BenchmarkParser(b *testing.B) {
	for _, tc := range []struct{ name, input string }{
		{"multibulk", pipeline(16)},
		{"inline", strings.Repeat("SET key:000001 0123456789abcdef\r\nGET key:000001\r\n", 16)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			input := []byte(tc.input)
			var p Parser
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			for b.Loop() {
				buf := input
				for len(buf) > 0 {
					_, n, err := p.Next(buf, &authLimits)
					if err != nil {
						b.Fatal(err)
					}
					buf = buf[n:]
				}
			}
		})
	}
}

// parsed is what one Next call produced, for comparing two parses.
type parsed struct {
	args []string
	err  error
}

// parseChunked runs input through a Parser the way a connection does:
// chunk bytes per read, unconsumed bytes kept from the command's start.
// It stops at the first error other than ErrNeedMore.
func parseChunked(input []byte, chunk int, lim *Limits) []parsed {
	var p Parser
	var out []parsed
	var buf []byte
	for fed := 0; ; {
		args, n, err := p.Next(buf, lim)
		if err == ErrNeedMore {
			if fed == len(input) {
				return out
			}
			end := min(fed+chunk, len(input))
			buf = append(buf, input[fed:end]...)
			fed = end
			continue
		}
		if err != nil {
			return append(out, parsed{err: err})
		}
		if n <= 0 || n > len(buf) {
			panic(fmt.Sprintf("Next consumed %d of %d bytes", n, len(buf)))
		}
		if args != nil {
			s := make([]string, len(args))
			for i, a := range args {
				s[i] = string(a)
			}
			out = append(out, parsed{args: s})
		}
		buf = buf[n:]
	}
}

// FuzzParser: whatever the bytes and however they are split across reads,
// the parser yields the same commands and errors as from one buffer, and
// never panics or stalls.
func FuzzParser(f *testing.F) {
	for i, s := range []string{
		"PING\r\n",
		"*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*0\r\n*-1\r\nPING\r\n",
		"*-2147483648\r\nPING\r\n",
		"*2147483648\r\n",
		"*1\r\n$9223372036854775807\r\n",
		"*1\r\n$-1\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nkXY",
		"*1\n$4\nPING\n",
		"SET k \"unbalanced\r\n",
		"SET \"a\\x41\\n\" 'it\\'s'\r\nGET \"a\\x41\\n\"\r\n",
		"\x00\x01\x02\xff\xfe\r\n",
		"*1\r\n\x00\r\n",
		strings.Repeat("a ", 12) + "\r\n",
		strings.Repeat("x", 100),
		"*" + strings.Repeat("9", 100),
	} {
		f.Add([]byte(s), uint8(i))
	}
	limits := []Limits{
		preLimits,
		authLimits,
		{MaxArgs: 3, MaxBulk: 8, MaxBuffered: 1 << 20, MaxInlineLen: 64},
	}
	f.Fuzz(func(t *testing.T, input []byte, mode uint8) {
		if len(input) > 1<<14 {
			return
		}
		lim := &limits[int(mode>>4)%len(limits)]
		want := parseChunked(input, len(input)+1, lim)
		got := parseChunked(input, int(mode&15)+1, lim)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("input %q, chunks of %d: got %+v, want %+v", input, mode&15+1, got, want)
		}
	})
}

// TestParseInt checks both integer grammars against strconv.
func TestParseInt(t *testing.T) {
	for _, s := range []string{
		"", "0", "-0", "+0", "00", "1", "+1", "-1", "01", "-01", "10", "-", "+",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "0009223372036854775807", "99999999999999999999",
		"1 ", " 1", "1a", "0x1", "1e3", "--1", "+-1", "٣",
	} {
		checkParseInt(t, s)
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "+7", "007", "9223372036854775807", "-9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(checkParseInt)
}

var (
	requestInt = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)
	replyInt   = regexp.MustCompile(`^[+-]?[0-9]{1,19}$`)
)

func checkParseInt(t *testing.T, s string) {
	ref, err := strconv.ParseInt(s, 10, 64)
	for _, reply := range []bool{false, true} {
		grammar := requestInt
		if reply {
			grammar = replyInt
		}
		wantOK := err == nil && grammar.MatchString(s)
		got, ok := parseInt([]byte(s), reply)
		if ok != wantOK || ok && got != ref {
			t.Errorf("parseInt(%q, reply=%v) = %d, %v; want %d, %v", s, reply, got, ok, ref, wantOK)
		}
	}
}
