package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func bs(s string) []byte { return []byte(s) }

func respRead(t *testing.T, in string) (any, error) {
	t.Helper()
	return NewReader(strings.NewReader(in)).ReadReply()
}

func TestReadReplyTypes(t *testing.T) {
	bigN, _ := new(big.Int).SetString("3492890328409238509324850943850943825024385", 10)
	negBig, _ := new(big.Int).SetString("-3492890328409238509324850943850943825024385", 10)
	for _, tc := range []struct {
		name string
		in   string
		want any
	}{
		{"status", "+OK\r\n", Status("OK")},
		{"empty status", "+\r\n", Status("")},
		{"error", "-ERR unknown command\r\n", &ReplyError{Msg: "ERR unknown command"}},
		{"int", ":1000\r\n", int64(1000)},
		{"int neg", ":-42\r\n", int64(-42)},
		{"int plus", ":+7\r\n", int64(7)},
		{"int max", ":9223372036854775807\r\n", int64(math.MaxInt64)},
		{"int min", ":-9223372036854775808\r\n", int64(math.MinInt64)},
		{"bulk", "$5\r\nhello\r\n", bs("hello")},
		{"bulk empty", "$0\r\n\r\n", []byte{}},
		{"bulk binary", "$4\r\na\r\nb\r\n", bs("a\r\nb")},
		{"bulk null", "$-1\r\n", nil},
		{"array", "*2\r\n$3\r\nfoo\r\n:1\r\n", []any{bs("foo"), int64(1)}},
		{"array empty", "*0\r\n", []any{}},
		{"array null", "*-1\r\n", nil},
		{"array with nulls", "*3\r\n$-1\r\n_\r\n*-1\r\n", []any{nil, nil, nil}},
		{"nested", "*2\r\n*2\r\n:1\r\n+a\r\n*1\r\n-E x\r\n",
			[]any{[]any{int64(1), Status("a")}, []any{&ReplyError{Msg: "E x"}}}},
		{"null", "_\r\n", nil},
		{"double", ",1.5\r\n", 1.5},
		{"double exp", ",-1.5e3\r\n", -1500.0},
		{"double int", ",10\r\n", 10.0},
		{"double inf", ",inf\r\n", math.Inf(1)},
		{"double -inf", ",-inf\r\n", math.Inf(-1)},
		{"bool t", "#t\r\n", true},
		{"bool f", "#f\r\n", false},
		{"big", "(3492890328409238509324850943850943825024385\r\n", bigN},
		{"big neg", "(-3492890328409238509324850943850943825024385\r\n", negBig},
		{"verbatim", "=15\r\ntxt:Some string\r\n", bs("Some string")},
		{"verbatim empty", "=4\r\nmkd:\r\n", []byte{}},
		{"blob error", "!21\r\nSYNTAX invalid syntax\r\n", &ReplyError{Msg: "SYNTAX invalid syntax"}},
		{"map", "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n",
			[]any{Status("first"), int64(1), bs("second"), int64(2)}},
		{"map empty", "%0\r\n", []any{}},
		{"set", "~3\r\n+a\r\n:1\r\n#t\r\n", []any{Status("a"), int64(1), true}},
		{"attribute", "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
			[]any{int64(2039123), int64(9543892)}},
		{"attribute nested", "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n", []any{int64(1), int64(2)}},
		{"attributes chained", "|0\r\n|1\r\n:1\r\n:2\r\n+OK\r\n", Status("OK")},
		{"push invalidate null", ">2\r\n$10\r\ninvalidate\r\n_\r\n", Push{Kind: "invalidate", Data: []any{nil}}},
		{"push invalidate keys", ">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
			Push{Kind: "invalidate", Data: []any{[]any{bs("a"), bs("b")}}}},
		{"push simple kind", ">3\r\n+message\r\n$2\r\nch\r\n$3\r\nmsg\r\n",
			Push{Kind: "message", Data: []any{bs("ch"), bs("msg")}}},
		{"push kind only", ">1\r\n$4\r\nping\r\n", Push{Kind: "ping", Data: []any{}}},
		{"push in array", "*1\r\n>1\r\n$1\r\nx\r\n", []any{Push{Kind: "x", Data: []any{}}}},
		{"hello 3", "%7\r\n" +
			"$6\r\nserver\r\n$5\r\nredis\r\n" +
			"$7\r\nversion\r\n$5\r\n7.2.4\r\n" +
			"$5\r\nproto\r\n:3\r\n" +
			"$2\r\nid\r\n:5\r\n" +
			"$4\r\nmode\r\n$10\r\nstandalone\r\n" +
			"$4\r\nrole\r\n$6\r\nmaster\r\n" +
			"$7\r\nmodules\r\n*0\r\n",
			[]any{
				bs("server"), bs("redis"), bs("version"), bs("7.2.4"), bs("proto"), int64(3),
				bs("id"), int64(5), bs("mode"), bs("standalone"), bs("role"), bs("master"),
				bs("modules"), []any{},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := respRead(t, tc.in)
			if err != nil {
				t.Fatalf("ReadReply(%q) error: %v", tc.in, err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("ReadReply(%q) = %#v (%T), want untyped nil", tc.in, got, got)
				}
				return
			}
			if w, ok := tc.want.(*big.Int); ok {
				g, ok := got.(*big.Int)
				if !ok || g.Cmp(w) != 0 {
					t.Fatalf("ReadReply(%q) = %#v, want %v", tc.in, got, w)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ReadReply(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadReplyNaN(t *testing.T) {
	for _, in := range []string{",nan\r\n", ",NaN\r\n"} {
		got, err := respRead(t, in)
		f, ok := got.(float64)
		if err != nil || !ok || !math.IsNaN(f) {
			t.Errorf("ReadReply(%q) = %#v, %v; want NaN", in, got, err)
		}
	}
}

func TestReadReplyEmptyBulkNotNil(t *testing.T) {
	got, err := respRead(t, "$0\r\n\r\n")
	if b, ok := got.([]byte); err != nil || !ok || b == nil {
		t.Fatalf("got %#v, %v; want non-nil empty []byte", got, err)
	}
	got, err = respRead(t, "*0\r\n")
	if a, ok := got.([]any); err != nil || !ok || a == nil {
		t.Fatalf("got %#v, %v; want non-nil empty []any", got, err)
	}
}

func TestReadReplySequence(t *testing.T) {
	in := ">2\r\n$10\r\ninvalidate\r\n_\r\n+OK\r\n:5\r\n$3\r\nabc\r\n"
	r := NewReader(iotest.OneByteReader(strings.NewReader(in)))
	want := []any{Push{Kind: "invalidate", Data: []any{nil}}, Status("OK"), int64(5), bs("abc")}
	for i, w := range want {
		got, err := r.ReadReply()
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Fatalf("reply %d = %#v, %v; want %#v", i, got, err, w)
		}
	}
	if got, err := r.ReadReply(); err != io.EOF {
		t.Fatalf("after last reply: %#v, %v; want io.EOF", got, err)
	}
}

func TestReadReplyLongLine(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // longer than the bufio buffer
	got, err := respRead(t, "-"+long+"\r\n+OK\r\n")
	if e, ok := got.(*ReplyError); err != nil || !ok || e.Msg != long {
		t.Fatalf("long error line: %T, %v", got, err)
	}
	_, err = respRead(t, "+"+strings.Repeat("y", maxLine+10)+"\r\n")
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("over-long line: err = %v, want ErrProtocol", err)
	}
}

func TestReadReplyLargeBulk(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes, > bulkChunk
	in := AppendCommand(nil, payload, []byte("x"))
	got, err := NewReader(iotest.HalfReader(bytes.NewReader(in))).ReadReply()
	if err != nil {
		t.Fatal(err)
	}
	a := got.([]any)
	if len(a) != 2 || !bytes.Equal(a[0].([]byte), payload) || string(a[1].([]byte)) != "x" {
		t.Fatalf("large bulk round trip failed")
	}
}

func TestReadReplyProtocolErrors(t *testing.T) {
	for _, in := range []string{
		"?\r\n",                     // unknown type
		"$abc\r\n",                  // bad length
		"$\r\n",                     // empty length
		"$5x\r\nhello\r\n",          // bad length
		"$-2\r\n",                   // negative length other than -1
		"*-2\r\n",                   // negative length other than -1
		"%-1\r\n",                   // null map is not RESP
		"~-1\r\n",                   // null set is not RESP
		">-1\r\n",                   // null push is not RESP
		"=-1\r\n",                   // null verbatim is not RESP
		"!-1\r\n",                   // null blob error is not RESP
		"$5\r\nhelloXY",             // bulk not followed by CRLF
		"$5\r\nhello\rX",            // bulk not followed by CRLF
		"+OK\n",                     // missing CR
		":12\n",                     // missing CR
		":abc\r\n",                  // bad integer
		":\r\n",                     // empty integer
		":-\r\n",                    // sign only
		":9223372036854775808\r\n",  // int64 overflow
		":-9223372036854775809\r\n", // int64 overflow
		":99999999999999999999\r\n", // too many digits
		"_x\r\n",                    // null with payload
		",abc\r\n",                  // bad double
		",\r\n",                     // empty double
		"#x\r\n",                    // bad bool
		"#true\r\n",                 // bad bool
		"(\r\n",                     // empty big number
		"(12a\r\n",                  // bad big number
		"(-\r\n",                    // sign only
		"(1_000\r\n",                // underscores
		"=3\r\ntxt\r\n",             // verbatim too short
		"=5\r\ntxt!x\r\n",           // verbatim without ':'
		">0\r\n",                    // push without kind
		">1\r\n:1\r\n",              // push kind not a string
		">1\r\n$-1\r\n",             // push kind null
		"$536870913\r\n",            // > MaxBulk
		"$99999999999999\r\n",       // > MaxBulk
		"*1048577\r\n",              // > MaxElems
		"%524289\r\n",               // > MaxElems/2 pairs
		"*99999999999999999999\r\n", // overflow
		"*1\r\n?\r\n",               // unknown type nested
		"|1\r\n:1\r\n?\r\n+OK\r\n",  // bad attribute value
	} {
		got, err := respRead(t, in)
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("ReadReply(%q) = %#v, %v; want ErrProtocol", in, got, err)
		} else if got != nil {
			t.Errorf("ReadReply(%q) = %#v with error", in, got)
		}
	}
}

func TestReadReplyDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("*1\r\n", n) + ":1\r\n" }
	if _, err := respRead(t, nest(maxDepth)); err != nil {
		t.Fatalf("depth %d: %v", maxDepth, err)
	}
	if _, err := respRead(t, nest(maxDepth+1)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("depth %d: err = %v, want ErrProtocol", maxDepth+1, err)
	}
	if _, err := respRead(t, strings.Repeat("*1\r\n", 100000)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("deep: err = %v, want ErrProtocol", err)
	}
	// Attributes count as nesting too.
	if _, err := respRead(t, strings.Repeat("|1\r\n", 100)+":1\r\n"); !errors.Is(err, ErrProtocol) {
		t.Fatalf("deep attributes: err = %v, want ErrProtocol", err)
	}
}

func TestReadReplyCustomLimits(t *testing.T) {
	r := NewReader(strings.NewReader("$5\r\nhello\r\n*3\r\n:1\r\n:2\r\n:3\r\n"))
	r.MaxBulk = 4
	if _, err := r.ReadReply(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("MaxBulk=4: err = %v", err)
	}
	r = NewReader(strings.NewReader("*3\r\n:1\r\n:2\r\n:3\r\n"))
	r.MaxElems = 2
	if _, err := r.ReadReply(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("MaxElems=2: err = %v", err)
	}
	r = NewReader(strings.NewReader("%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n"))
	r.MaxElems = 3
	if _, err := r.ReadReply(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("map MaxElems=3: err = %v", err)
	}
	r = NewReader(strings.NewReader("%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n"))
	r.MaxElems = 4
	if _, err := r.ReadReply(); err != nil {
		t.Fatalf("map MaxElems=4: err = %v", err)
	}
	r = NewReader(strings.NewReader("$5\r\nhello\r\n"))
	r.MaxBulk, r.MaxElems = 0, 0 // zero limits mean the defaults
	if got, err := r.ReadReply(); err != nil || string(got.([]byte)) != "hello" {
		t.Fatalf("zero limits: %#v, %v", got, err)
	}
}

func TestReadReplyTruncated(t *testing.T) {
	if _, err := respRead(t, ""); err != io.EOF {
		t.Fatalf("empty input: err = %v, want io.EOF", err)
	}
	full := []string{
		"+OK\r\n",
		"$5\r\nhello\r\n",
		"*2\r\n$3\r\nfoo\r\n:1\r\n",
		">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"%1\r\n+a\r\n,1.5\r\n",
		"|1\r\n+a\r\n:1\r\n+OK\r\n",
		"=8\r\ntxt:abcd\r\n",
	}
	for _, f := range full {
		for i := 1; i < len(f); i++ {
			in := f[:i]
			got, err := respRead(t, in)
			if err != io.ErrUnexpectedEOF {
				t.Errorf("ReadReply(%q) = %#v, %v; want io.ErrUnexpectedEOF", in, got, err)
			}
		}
	}
}

type respErrReader struct{ err error }

func (r respErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadReplyIOError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("*2\r\n:1\r\n"), respErrReader{boom}))
	if _, err := r.ReadReply(); err != boom {
		t.Fatalf("err = %v, want boom", err)
	}
}

// Huge declared lengths within the limits must not be allocated up front.
func TestReadReplyNoUpfrontAlloc(t *testing.T) {
	for _, in := range []string{
		"$536870912\r\nabc",        // exactly MaxBulk, truncated
		"=536870912\r\ntxt:abc",    // verbatim
		"!536870912\r\nERR",        // blob error
		"*1048576\r\n:1\r\n",       // MaxElems, truncated
		"%524288\r\n:1\r\n",        // MaxElems/2 pairs, truncated
		"~1048576\r\n:1\r\n",       // set
		">1048576\r\n+x\r\n:1\r\n", // push
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := respRead(t, in)
		runtime.ReadMemStats(&after)
		if err != io.ErrUnexpectedEOF {
			t.Errorf("ReadReply(%q): err = %v, want io.ErrUnexpectedEOF", in, err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("ReadReply(%q) allocated %d bytes", in, d)
		}
	}
}

func TestAppendCommand(t *testing.T) {
	got := AppendCommand([]byte("x"), []byte("SET"), []byte("k"), []byte(""), []byte("a\r\nb"))
	want := "x*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$4\r\na\r\nb\r\n"
	if string(got) != want {
		t.Fatalf("AppendCommand = %q, want %q", got, want)
	}
	if got := AppendCommand(nil); string(got) != "*0\r\n" {
		t.Fatalf("AppendCommand() = %q", got)
	}
	v, err := NewReader(bytes.NewReader(AppendCommand(nil, []byte("HELLO"), []byte("3")))).ReadReply()
	if err != nil || !reflect.DeepEqual(v, []any{bs("HELLO"), bs("3")}) {
		t.Fatalf("round trip: %#v, %v", v, err)
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n",
		"*2\r\n$3\r\nfoo\r\n:1\r\n", "_\r\n", ",1.5\r\n", ",inf\r\n", "#t\r\n",
		"(123456789012345678901234567890\r\n", "=8\r\ntxt:abcd\r\n", "!3\r\nERR\r\n",
		"%1\r\n+a\r\n:1\r\n", "~2\r\n:1\r\n:2\r\n", "|1\r\n+a\r\n:1\r\n+OK\r\n",
		">2\r\n$10\r\ninvalidate\r\n_\r\n",
		">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"*1\r\n*1\r\n*1\r\n:1\r\n", "$99999\r\nab", "*-2\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.MaxBulk = 1 << 16
		r.MaxElems = 1 << 12
		// Every successful reply consumes at least 3 bytes, so this terminates.
		for i := 0; i <= len(in); i++ {
			v, err := r.ReadReply()
			if err != nil {
				if v != nil {
					t.Fatalf("non-nil value %#v with error %v", v, err)
				}
				return
			}
		}
		t.Fatalf("more replies than input bytes in %q", in)
	})
}
