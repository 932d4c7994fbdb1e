package stream

import (
	"testing"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/value"
)

func TestParseU64(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"123", 123, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"-1", 0, false}, {"", 0, false}, {"x", 0, false},
		{"007", 7, true}, {"+5", 5, true}, {" 5", 5, true}, {"-0", 0, true}, {"5 ", 0, false},
		{"-18446744073709551615", 1, true}, // strtoull negates modulo 2^64
		{"+", 0, false}, {"1.5", 0, false},
	} {
		got, ok := parseU64([]byte(c.in))
		if ok != c.ok || ok && got != c.want {
			t.Errorf("parseU64(%q) = %d %v, want %d %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseID(t *testing.T) {
	max := value.MaxStreamID
	for _, c := range []struct {
		in         string
		missingSeq uint64
		strict     bool
		star       bool
		want       value.StreamID
		seqGiven   bool
		ok         bool
	}{
		{"1-2", 0, false, false, value.StreamID{Ms: 1, Seq: 2}, true, true},
		{"5", 0, false, false, value.StreamID{Ms: 5}, true, true},
		{"5", ^uint64(0), false, false, value.StreamID{Ms: 5, Seq: ^uint64(0)}, true, true},
		{"-", 0, false, false, value.StreamID{}, true, true},
		{"+", 0, false, false, max, true, true},
		{"-", 0, true, false, value.StreamID{}, true, false},
		{"+", 0, true, false, value.StreamID{}, true, false},
		{"7-*", 0, true, true, value.StreamID{Ms: 7}, false, true},
		{"7-*", 0, true, false, value.StreamID{}, true, false},
		{"1-2-3", 0, false, false, value.StreamID{}, true, false},
		{"-5", 0, false, false, value.StreamID{}, true, false},
		{"1-", 0, false, false, value.StreamID{}, true, false},
		{"", 0, false, false, value.StreamID{}, true, false},
		{string(make([]byte, 128)), 0, false, false, value.StreamID{}, true, false},
	} {
		id, seqGiven, ok := parseID([]byte(c.in), c.missingSeq, c.strict, c.star)
		if ok != c.ok || ok && (id != c.want || seqGiven != c.seqGiven) {
			t.Errorf("parseID(%q, %d, %v, %v) = %v %v %v", c.in, c.missingSeq, c.strict, c.star, id, seqGiven, ok)
		}
	}
	// Exclusive range bounds.
	if id, errS := rangeStart([]byte("(1-5")); errS != "" || id != (value.StreamID{Ms: 1, Seq: 6}) {
		t.Errorf("rangeStart((1-5) = %v %q", id, errS)
	}
	if _, errS := rangeStart([]byte("(18446744073709551615-18446744073709551615")); errS != errStartInterval {
		t.Errorf("rangeStart of the last id: %q", errS)
	}
	if _, errS := rangeEnd([]byte("(0-0")); errS != errEndInterval {
		t.Errorf("rangeEnd((0-0): %q", errS)
	}
	if _, errS := rangeStart([]byte("(-")); errS != errInvalidID {
		t.Errorf("rangeStart((-): %q", errS)
	}
	if id, errS := rangeEnd([]byte("3")); errS != "" || id != (value.StreamID{Ms: 3, Seq: ^uint64(0)}) {
		t.Errorf("rangeEnd(3) = %v %q", id, errS)
	}
}

func TestParseAddTrim(t *testing.T) {
	c := &command.Ctx{}
	args := func(s ...string) [][]byte {
		out := [][]byte{[]byte("XADD"), []byte("k")}
		for _, a := range s {
			out = append(out, []byte(a))
		}
		return out
	}
	for _, tc := range []struct {
		in    []string
		xadd  bool
		errS  string
		idPos int
		trim  value.TrimArgs
	}{
		{[]string{"*", "f", "v"}, true, "", 2, value.TrimArgs{}},
		{[]string{"MAXLEN", "~", "10", "*", "f", "v"}, true, "", 5, value.TrimArgs{Strategy: value.TrimMaxLen, Approx: true, MaxLen: 10, Limit: 10000}},
		{[]string{"MAXLEN", "=", "10", "LIMIT", "5", "*"}, true, errLimitNoApprox, 0, value.TrimArgs{}},
		{[]string{"MINID", "~", "5-0", "LIMIT", "7", "NOMKSTREAM", "1-1"}, true, "", 8, value.TrimArgs{Strategy: value.TrimMinID, Approx: true, MinID: value.StreamID{Ms: 5}, Limit: 7}},
		{[]string{"MAXLEN", "1", "MINID", "1"}, true, errMaxLenMinID, 0, value.TrimArgs{}},
		{[]string{"LIMIT", "5", "*"}, true, errLimitNoStrategy, 0, value.TrimArgs{}},
		{[]string{"MAXLEN", "-1", "*"}, true, errMaxLenNeg, 0, value.TrimArgs{}},
		{[]string{"MAXLEN"}, true, errInvalidID, 0, value.TrimArgs{}},
		{[]string{"MAXLEN", "5"}, false, "", 0, value.TrimArgs{Strategy: value.TrimMaxLen, MaxLen: 5}},
		{[]string{"NOMKSTREAM"}, false, command.ErrSyntax, 0, value.TrimArgs{}},
		{[]string{}, false, errXTrimNoStrategy, 0, value.TrimArgs{}},
	} {
		a, errS := parseAddTrim(c, args(tc.in...), tc.xadd)
		if errS != tc.errS {
			t.Errorf("%q: error %q, want %q", tc.in, errS, tc.errS)
			continue
		}
		if errS == "" && (a.trim != tc.trim || tc.xadd && a.idPos != tc.idPos) {
			t.Errorf("%q: %+v at %d, want %+v at %d", tc.in, a.trim, a.idPos, tc.trim, tc.idPos)
		}
	}
}
