package backing

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestReadRaw: one whole reply of any RESP2/RESP3 type is read as its
// bytes, nothing more; bad input is an error, never a panic; limit bounds
// what is held.
func TestReadRaw(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		limit    int
		err      bool
	}{
		{in: "+OK\r\n+NEXT\r\n", want: "+OK\r\n"},
		{in: "-ERR x\r\n", want: "-ERR x\r\n"},
		{in: ":12\r\n", want: ":12\r\n"},
		{in: "$3\r\nabc\r\n:1\r\n", want: "$3\r\nabc\r\n"},
		{in: "$-1\r\n", want: "$-1\r\n"},
		{in: "*-1\r\n", want: "*-1\r\n"},
		{in: "_\r\n", want: "_\r\n"},
		{in: ",1.5\r\n", want: ",1.5\r\n"},
		{in: "#t\r\n", want: "#t\r\n"},
		{in: "(123\r\n", want: "(123\r\n"},
		{in: "=7\r\ntxt:abc\r\n", want: "=7\r\ntxt:abc\r\n"},
		{in: "*2\r\n$1\r\na\r\n*1\r\n_\r\n:9\r\n", want: "*2\r\n$1\r\na\r\n*1\r\n_\r\n"},
		{in: "%1\r\n$1\r\nk\r\n~2\r\n:1\r\n:2\r\n", want: "%1\r\n$1\r\nk\r\n~2\r\n:1\r\n:2\r\n"},
		{in: "|1\r\n+a\r\n+b\r\n:5\r\n", want: "|1\r\n+a\r\n+b\r\n:5\r\n"},
		{in: "$5\r\nab\r\n", err: true},
		{in: "$3\r\nabcXY", err: true},
		{in: "*2\r\n:1\r\n", err: true},
		{in: "?x\r\n", err: true},
		{in: "$x\r\n", err: true},
		{in: "+OK\n", err: true},
		{in: "$999999999999\r\n", err: true},
		{in: strings.Repeat("*1\r\n", 40) + ":1\r\n", err: true},
		{in: "$10\r\n0123456789\r\n", limit: 8, err: true},
		{in: "*3\r\n:1\r\n:2\r\n:3\r\n", limit: 10, err: true},
	} {
		limit := tc.limit
		if limit == 0 {
			limit = 1 << 20
		}
		got, err := readRaw(bufio.NewReader(strings.NewReader(tc.in)), nil, 0, limit)
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error, got %q", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := readRaw(bufio.NewReader(strings.NewReader("$10\r\n0123456789\r\n")), nil, 0, 8); !errors.Is(err, errReplyTooBig) {
		t.Errorf("over the limit: %v", err)
	}
}

// TestRestoreNames: L2 names in a reply's first two levels become the
// client's names; deeper ones, other values and every other type stay.
func TestRestoreNames(t *testing.T) {
	restore := map[string][]byte{"p:a:0:k": []byte("k")}
	for _, tc := range []struct{ in, want string }{
		{"*2\r\n$7\r\np:a:0:k\r\n$1\r\nv\r\n", "*2\r\n$1\r\nk\r\n$1\r\nv\r\n"},
		{"%1\r\n$7\r\np:a:0:k\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$7\r\np:a:0:k\r\n$1\r\nv\r\n",
			"%1\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$7\r\np:a:0:k\r\n$1\r\nv\r\n"},
		{"*1\r\n*2\r\n$7\r\np:a:0:k\r\n,1.5\r\n", "*1\r\n*2\r\n$1\r\nk\r\n,1.5\r\n"},
		{"*3\r\n_\r\n=5\r\ntxt:x\r\n$-1\r\n", "*3\r\n_\r\n=5\r\ntxt:x\r\n$-1\r\n"},
		{"$7\r\np:a:0:k\r\n", "$1\r\nk\r\n"},
	} {
		got, err := restoreNames([]byte(tc.in), restore)
		if err != nil || !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("%q: got %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestMovedTo(t *testing.T) {
	for _, tc := range []struct {
		in, to   string
		redirect bool
	}{
		{"-MOVED 3999 127.0.0.1:6381\r\n", "127.0.0.1:6381", true},
		{"-ASK 3999 127.0.0.1:6381\r\n", "", true},
		{"-TRYAGAIN Multiple keys request during rehashing of slot\r\n", "", true},
		{"-ERR MOVED\r\n", "", false},
		{"+OK\r\n", "", false},
		{"", "", false},
	} {
		to, r := movedTo([]byte(tc.in))
		if to != tc.to || r != tc.redirect {
			t.Errorf("%q: %q %v", tc.in, to, r)
		}
	}
}

// FuzzReadRaw: any input gives a reply that is a prefix of it or an error,
// never a panic or a reply past the limit.
func FuzzReadRaw(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n%1\r\n:1\r\n_\r\n", "$-1\r\n", "|1\r\n+a\r\n+b\r\n:5\r\n", "=5\r\ntxt:x\r\n", "*-1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readRaw(bufio.NewReader(bytes.NewReader(in)), nil, 0, 4096)
		if err == nil && (!bytes.HasPrefix(in, got) || len(got) > 4096) {
			t.Fatalf("%q: read %q", in, got)
		}
		if err == nil {
			restoreNames(got, map[string][]byte{"a": []byte("b")})
			splitArray(got)
		}
	})
}

func TestClusterTrouble(t *testing.T) {
	for in, want := range map[string]bool{
		"-CLUSTERDOWN The cluster is down\r\n": true, "-LOADING Redis is loading\r\n": true,
		"-READONLY You can't write against a read only replica.\r\n": true, "-MOVED 1 a:1\r\n": true,
		"-ERR syntax error\r\n": false, "-WRONGTYPE Operation\r\n": false, "+OK\r\n": false, "$-1\r\n": false,
	} {
		if _, got := clusterTrouble([]byte(in)); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}
