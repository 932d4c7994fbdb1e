package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tcached/tcached/config"
)

// Differential tests of the bitmap, HyperLogLog, stream, LCS and server
// commands of issue 18: each case goes to tcached's default tenant and to
// a redis-server 7.0.15 started by the test, in RESP2 and RESP3, and the
// replies are compared byte for byte after normalising only what differs
// on purpose (documented in the README's differences from Redis).

// diffMoreServer is tcached with an admin default tenant and Redis's
// defaults where they matter: no tier TTL, a 256 MiB quota.
func diffMoreServer(t *testing.T) *testServer {
	cfg := testConfig()
	cfg.Tenants[0].Tier.DefaultTTL = 0
	cfg.Tenants[0].Quota = 256 << 20
	cfg.MaxMemory = 1 << 30
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	return startServer(t, cfg, false)
}

// diffPair is one connection to each server.
type diffPair struct {
	t      *testing.T
	tc, rd *rawConn
	norm   func(args []string, reply string) string // nil: compare as is
}

func newDiffPair(t *testing.T, tcAddr, rdAddr, proto string) *diffPair {
	p := &diffPair{t: t, tc: dialRaw(t, tcAddr), rd: dialRaw(t, rdAddr)}
	for _, c := range []*rawConn{p.tc, p.rd} {
		c.do("HELLO", proto)
		c.do("FLUSHALL")
	}
	return p
}

// run sends args to both and fails the test when the replies differ.
func (p *diffPair) run(args ...string) (tc, rd string) {
	p.t.Helper()
	tc, rd = p.tc.do(args...), p.rd.do(args...)
	if p.norm != nil {
		tc, rd = p.norm(args, tc), p.norm(args, rd)
	}
	if tc != rd {
		p.t.Errorf("%q:\n tcached %q\n redis   %q", args, clip(tc), clip(rd))
	}
	return tc, rd
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// runAll runs every case on both servers in RESP2 and RESP3.
func runDiffCases(t *testing.T, cases [][]string, norm func([]string, string) string) {
	redisAddr := startRealRedis(t)
	srv := diffMoreServer(t)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			p := newDiffPair(t, srv.addr, redisAddr, proto)
			p.norm = norm
			for _, c := range cases {
				p.run(c...)
			}
		})
	}
}

var bitmapDiffCases = [][]string{
	{"SETBIT", "b", "0", "1"}, {"SETBIT", "b", "0", "1"}, {"SETBIT", "b", "7", "1"}, {"SETBIT", "b", "100", "1"},
	{"GET", "b"}, {"STRLEN", "b"}, {"GETBIT", "b", "0"}, {"GETBIT", "b", "1"}, {"GETBIT", "b", "100"},
	{"GETBIT", "b", "100000"}, {"GETBIT", "missing", "5"}, {"SETBIT", "b", "100", "0"}, {"GET", "b"},
	{"SETBIT", "b", "-1", "1"}, {"SETBIT", "b", "x", "1"}, {"SETBIT", "b", "1", "2"}, {"SETBIT", "b", "1", "-1"},
	{"SETBIT", "b", "1", "x"}, {"SETBIT", "b", "4294967296", "1"}, {"SETBIT", "b", "4294967295", "x"},
	{"GETBIT", "b", "4294967296"}, {"GETBIT", "b", "-1"}, {"GETBIT", "b", "4294967295"},
	{"SETBIT", "b"}, {"GETBIT", "b"}, {"SETBIT", "b", "1", "1", "1"},
	{"HSET", "h", "f", "v"}, {"SETBIT", "h", "1", "1"}, {"GETBIT", "h", "1"}, {"SETBIT", "h", "x", "1"},
	{"BITCOUNT", "h"}, {"BITPOS", "h", "1"}, {"BITPOS", "h", "2"}, {"BITFIELD", "h", "GET", "u8", "0"},
	{"BITFIELD_RO", "h", "GET", "u8", "0"}, {"BITOP", "AND", "d", "b", "h"}, {"BITOP", "AND", "h", "b"}, {"TYPE", "h"},
	{"SET", "s", "foobar"}, {"SET", "n", "12345"}, {"SET", "e", ""},
	{"BITCOUNT", "s"}, {"BITCOUNT", "s", "0", "0"}, {"BITCOUNT", "s", "1", "1"}, {"BITCOUNT", "s", "1", "-2"},
	{"BITCOUNT", "s", "-3", "-1"}, {"BITCOUNT", "s", "-1", "-3"}, {"BITCOUNT", "s", "5", "30", "BIT"},
	{"BITCOUNT", "s", "5", "30", "BYTE"}, {"BITCOUNT", "s", "0", "-1", "bit"}, {"BITCOUNT", "s", "-20", "-3", "BIT"},
	{"BITCOUNT", "s", "1"}, {"BITCOUNT", "s", "1", "2", "3"}, {"BITCOUNT", "s", "x", "2"}, {"BITCOUNT", "s", "1", "y"},
	{"BITCOUNT", "s", "-1", "-3", "FOO"}, {"BITCOUNT", "s", "1", "3", "FOO"}, {"BITCOUNT", "missing", "x", "y"},
	{"BITCOUNT", "n"}, {"BITCOUNT", "e"}, {"BITCOUNT", "e", "0", "-1"}, {"BITCOUNT", "s", "100", "200"},
	{"BITCOUNT", "s", "0", "9223372036854775807"}, {"BITCOUNT", "s", "-9223372036854775808", "-1", "BIT"},
	{"SET", "z", "\xff\xf0\x00"}, {"SET", "o", "\x00\x00\x00"}, {"SET", "f", "\xff\xff\xff"},
	{"BITPOS", "z", "0"}, {"BITPOS", "z", "1"}, {"BITPOS", "o", "1"}, {"BITPOS", "o", "0"}, {"BITPOS", "f", "0"},
	{"BITPOS", "f", "1"}, {"BITPOS", "f", "0", "0"}, {"BITPOS", "f", "0", "0", "-1"}, {"BITPOS", "z", "0", "1"},
	{"BITPOS", "z", "1", "2"}, {"BITPOS", "z", "0", "2", "-1"}, {"BITPOS", "z", "1", "7", "15", "BIT"},
	{"BITPOS", "z", "0", "7", "15", "BIT"}, {"BITPOS", "z", "0", "12", "15", "bit"}, {"BITPOS", "f", "0", "3", "20", "BIT"},
	{"BITPOS", "f", "0", "3", "-1", "BIT"}, {"BITPOS", "o", "1", "3", "-1", "BIT"}, {"BITPOS", "z", "1", "-5", "-1", "BIT"},
	{"BITPOS", "z", "0", "5", "BIT"}, {"BITPOS", "f", "0", "5", "BIT"}, {"BITPOS", "z", "1", "2", "1"},
	{"BITPOS", "missing", "1"}, {"BITPOS", "missing", "0"}, {"BITPOS", "missing", "1", "x"}, {"BITPOS", "z", "2"},
	{"BITPOS", "z", "x"}, {"BITPOS", "z", "1", "x"}, {"BITPOS", "z", "1", "0", "x"}, {"BITPOS", "z", "1", "0", "1", "FOO"},
	{"BITPOS", "z", "1", "0", "1", "BIT", "x"}, {"BITPOS", "e", "0"}, {"BITPOS", "e", "1"}, {"BITPOS", "e", "0", "0", "-1"},
	{"BITPOS", "z", "1", "-100", "100", "BIT"}, {"BITPOS", "f", "0", "23", "23", "BIT"}, {"BITPOS", "f", "0", "0", "0", "BYTE"},
	{"BITOP", "AND", "dst", "s", "z"}, {"GET", "dst"}, {"BITOP", "OR", "dst", "s", "z", "missing"}, {"GET", "dst"},
	{"BITOP", "XOR", "dst", "s", "z", "f"}, {"GET", "dst"}, {"BITOP", "NOT", "dst", "s"}, {"GET", "dst"},
	{"BITOP", "NOT", "dst", "s", "z"}, {"BITOP", "nand", "dst", "s"}, {"BITOP", "AND", "dst"},
	{"BITOP", "AND", "dst", "missing", "missing2"}, {"EXISTS", "dst"}, {"BITOP", "OR", "dst", "e"}, {"EXISTS", "dst"},
	{"BITOP", "and", "s", "s", "s"}, {"GET", "s"}, {"BITOP", "AND", "dst", "missing", "s"}, {"GET", "dst"},
	{"SET", "long", strings.Repeat("\xa5\x5a", 50)}, {"BITOP", "AND", "dst", "long", "s", "f"}, {"GET", "dst"},
	{"BITOP", "OR", "dst", "long", "s"}, {"GET", "dst"}, {"BITOP", "XOR", "dst", "long", "long"}, {"GET", "dst"},
	{"BITCOUNT", "long"}, {"BITCOUNT", "long", "3", "77"}, {"BITPOS", "long", "0", "10"},
	// BITFIELD
	{"BITFIELD", "bf", "SET", "i8", "0", "100"}, {"BITFIELD", "bf", "GET", "i8", "0"}, {"GET", "bf"},
	{"BITFIELD", "bf", "INCRBY", "i8", "0", "100"}, {"BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"},
	{"BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "GET", "u8", "0"},
	{"BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1", "GET", "u4", "100"},
	{"BITFIELD", "bf", "SET", "u8", "#3", "255", "GET", "u8", "24", "GET", "i8", "#3", "GET", "u4", "#7"},
	{"BITFIELD", "bf", "SET", "u63", "64", "9223372036854775807", "GET", "u63", "64", "GET", "i64", "64"},
	{"BITFIELD", "bf", "SET", "i64", "200", "-9223372036854775808", "INCRBY", "i64", "200", "-1"},
	{"BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "200", "-1", "INCRBY", "i64", "200", "9223372036854775807"},
	{"BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "i8", "0", "200", "SET", "u8", "0", "-1", "SET", "u8", "0", "256"},
	{"BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "SET", "u8", "8", "-1", "SET", "i4", "0", "-100"},
	{"BITFIELD", "bf", "SET", "u8", "0", "-1", "GET", "u8", "0", "SET", "i3", "5", "7", "GET", "i3", "5"},
	{"GET", "bf"}, {"STRLEN", "bf"},
	{"BITFIELD", "bf", "GET", "u64", "0"}, {"BITFIELD", "bf", "GET", "i65", "0"}, {"BITFIELD", "bf", "GET", "i0", "0"},
	{"BITFIELD", "bf", "GET", "x8", "0"}, {"BITFIELD", "bf", "GET", "u8", "-1"}, {"BITFIELD", "bf", "GET", "u8", "#-1"},
	{"BITFIELD", "bf", "GET", "u8", "4294967296"}, {"BITFIELD", "bf", "GET", "u8", "#536870912"},
	{"BITFIELD", "bf", "GET", "u8", "#x"}, {"BITFIELD", "bf", "SET", "u8", "0", "x"}, {"BITFIELD", "bf", "SET", "u8", "0"},
	{"BITFIELD", "bf", "OVERFLOW", "LOL"}, {"BITFIELD", "bf", "OVERFLOW"}, {"BITFIELD", "bf", "FOO", "u8", "0"},
	{"BITFIELD", "bf"}, {"BITFIELD", "bf", "OVERFLOW", "SAT"}, {"BITFIELD", "missing", "GET", "u8", "0", "GET", "i5", "3"},
	{"EXISTS", "missing"}, {"BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "30", "9"}, {"GET", "new"},
	{"BITFIELD", "bf", "GET", "u8", "100000"}, {"BITFIELD", "bf", "GET", "i64", "1000"},
	{"BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i4", "#2"}, {"BITFIELD_RO", "bf", "SET", "u8", "0", "1"},
	{"BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"}, {"BITFIELD_RO", "missing", "GET", "u8", "0"}, {"BITFIELD_RO", "bf"},
	{"BITFIELD_RO", "bf", "OVERFLOW", "FAIL", "GET", "u8", "0"}, {"BITFIELD_RO", "bf", "GET", "u64", "0"},
	{"BITFIELD", "n", "INCRBY", "u8", "0", "1"}, {"GET", "n"}, {"SETBIT", "n", "7", "0"}, {"GET", "n"},
	{"APPEND", "b", "tail"}, {"GETBIT", "b", "100"}, {"BITCOUNT", "b"}, {"SETBIT", "b", "200", "1"}, {"GET", "b"},
	{"TYPE", "b"},
}

// TestDiffBitmap compares the bit commands with Redis 7.0.15.
func TestDiffBitmap(t *testing.T) { runDiffCases(t, bitmapDiffCases, nil) }

// hllDiffCases builds HyperLogLogs the same way on both servers and
// compares every reply, GET of the raw value included (so the sparse and
// dense bytes must be Redis's, cached cardinality and its validity bit
// too).
func hllDiffCases() [][]string {
	cases := [][]string{
		{"PFADD", "h"}, {"GET", "h"}, {"PFCOUNT", "h"}, {"GET", "h"}, {"PFADD", "h", "a", "b", "c"}, {"GET", "h"},
		{"PFADD", "h", "a", "b", "c"}, {"PFADD", "h", ""}, {"PFCOUNT", "h"}, {"GET", "h"}, {"PFADD", "h"},
		{"PFCOUNT", "missing"}, {"PFCOUNT", "missing", "missing2"}, {"PFCOUNT", "h", "missing"},
		{"SET", "s", "hello"}, {"PFADD", "s", "a"}, {"PFCOUNT", "s"}, {"PFCOUNT", "h", "s"}, {"PFMERGE", "s", "h"},
		{"PFMERGE", "h", "s"}, {"HSET", "hash", "f", "v"}, {"PFADD", "hash", "x"}, {"PFCOUNT", "hash"},
		{"PFMERGE", "d", "hash"}, {"PFADD"}, {"PFCOUNT"}, {"PFMERGE"},
		{"PFMERGE", "m", "h"}, {"GET", "m"}, {"PFMERGE", "m2"}, {"GET", "m2"}, {"PFMERGE", "m3", "missing"}, {"GET", "m3"},
		{"PFDEBUG", "ENCODING", "h"}, {"PFDEBUG", "DECODE", "h"}, {"PFDEBUG", "decode", "h", "x"},
		{"PFDEBUG", "GETREG", "missing"}, {"PFDEBUG", "nope", "h"}, {"PFDEBUG", "nope", "missing"}, {"PFDEBUG", "ENCODING", "s"},
		{"PFDEBUG", "TODENSE", "m"}, {"PFDEBUG", "TODENSE", "m"}, {"GET", "m"}, {"PFDEBUG", "ENCODING", "m"},
		{"PFDEBUG", "DECODE", "m"}, {"PFCOUNT", "m"}, {"GET", "m"}, {"PFADD", "m", "zz", "a"}, {"GET", "m"},
		{"PFMERGE", "h", "m"}, {"PFDEBUG", "ENCODING", "h"}, {"GET", "h"}, {"PFCOUNT", "h", "m", "m3"},
		// Corruptions: a tail after the opcodes, a broken magic, a bad
		// encoding, a dense value of the wrong length, a register past 32
		// in the sparse form.
		{"PFADD", "c1", "a", "b", "c"}, {"APPEND", "c1", "hello"}, {"PFCOUNT", "c1"}, {"PFADD", "c1", "q"}, {"GET", "c1"},
		{"PFADD", "c2", "a"}, {"SETRANGE", "c2", "0", "0123"}, {"PFCOUNT", "c2"}, {"PFADD", "c2", "x"},
		{"PFADD", "c3", "a"}, {"SETRANGE", "c3", "4", "x"}, {"PFCOUNT", "c3"},
		{"PFADD", "c4", "a"}, {"SETRANGE", "c4", "4", "\x00"}, {"PFCOUNT", "c4"}, {"PFMERGE", "c4", "h"},
		// c5 and c7 end in a truncated XZERO opcode: both read its missing
		// byte as 0 (Redis reads its string's terminator). PFADD into one
		// differs on purpose: Redis splits the opcode and writes past its
		// string, tcached answers the corruption error.
		{"SET", "c5", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f"}, {"PFCOUNT", "c5"},
		{"PFCOUNT", "c5", "h"}, {"PFMERGE", "d5", "c5"}, {"PFDEBUG", "DECODE", "c5"}, {"PFDEBUG", "GETREG", "c5"},
		{"SET", "c6", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x7f"}, {"PFCOUNT", "c6"},
		{"PFADD", "c6", "a", "b", "c", "d"}, {"GET", "c6"},
		{"SET", "c7", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f"}, {"PFCOUNT", "c7"},
	}
	// Growth through the sparse form into the dense one, with a lowered
	// hll-sparse-max-bytes and then Redis's default.
	for _, maxb := range []string{"200", "3000"} {
		key := "grow" + maxb
		cases = append(cases, []string{"CONFIG", "SET", "hll-sparse-max-bytes", maxb})
		for n := 0; n < 3000; n += 150 {
			add := []string{"PFADD", key}
			for i := n; i < n+150; i++ {
				add = append(add, fmt.Sprint("e", i))
			}
			cases = append(cases, add, []string{"GET", key}, []string{"PFCOUNT", key}, []string{"PFDEBUG", "ENCODING", key})
		}
		cases = append(cases, []string{"PFMERGE", "u" + maxb, key, "h", "m"}, []string{"GET", "u" + maxb},
			[]string{"PFCOUNT", key, "h", "c1x", "m"})
	}
	return cases
}

// TestDiffHLL compares the HyperLogLog commands with Redis 7.0.15.
func TestDiffHLL(t *testing.T) { runDiffCases(t, hllDiffCases(), nil) }

// TestDiffHLLInterop: HyperLogLogs built by redis-server 7.0.15 (sparse
// and dense, from 0 to 200K elements) are copied into tcached with GET and
// SET and must count the same there, alone, merged and unioned; and the
// other way round, values built by tcached count the same in Redis.
func TestDiffHLLInterop(t *testing.T) {
	redisAddr := startRealRedis(t)
	srv := diffMoreServer(t)
	tc, rd := dialRaw(t, srv.addr), dialRaw(t, redisAddr)
	bulk := func(s string) string { // the payload of a bulk reply
		i := strings.Index(s, "\r\n")
		return s[i+2 : len(s)-2]
	}
	sizes := []int{0, 1, 10, 100, 300, 1000, 2500, 10000, 200000}
	for i, n := range sizes {
		for _, c := range []*rawConn{tc, rd} {
			key := fmt.Sprint("built", i)
			for from := 0; from < n; from += 1000 {
				args := []string{"PFADD", key}
				for e := from; e < min(from+1000, n); e++ {
					args = append(args, fmt.Sprint(c == tc, ":", e))
				}
				c.do(args...)
			}
			if n == 0 {
				c.do("PFADD", key)
			}
		}
	}
	for i := range sizes {
		key := fmt.Sprint("built", i)
		fromRedis, fromTcached := bulk(rd.do("GET", key)), bulk(tc.do("GET", key))
		tc.do("SET", "r"+key, fromRedis)
		rd.do("SET", "t"+key, fromTcached)
		if got, want := tc.do("PFCOUNT", "r"+key), rd.do("PFCOUNT", key); got != want {
			t.Errorf("size %d: Redis's value counts %q here, %q in Redis", sizes[i], got, want)
		}
		if got, want := rd.do("PFCOUNT", "t"+key), tc.do("PFCOUNT", key); got != want {
			t.Errorf("size %d: tcached's value counts %q in Redis, %q here", sizes[i], got, want)
		}
		if got, want := tc.do("PFDEBUG", "ENCODING", "r"+key), rd.do("PFDEBUG", "ENCODING", key); got != want {
			t.Errorf("size %d: encoding %q here, %q in Redis", sizes[i], got, want)
		}
	}
	// Unions of Redis's values, here and in Redis.
	tc.do("PFMERGE", "merged", "rbuilt3", "rbuilt6", "rbuilt8", "rbuilt1")
	rd.do("PFMERGE", "merged", "built3", "built6", "built8", "built1")
	for _, args := range [][]string{
		{"PFCOUNT", "merged"}, {"GET", "merged"}, {"PFCOUNT", "rbuilt4", "rbuilt7"}, {"PFCOUNT", "rbuilt8", "rbuilt2", "rbuilt5"},
	} {
		rdArgs := append([]string(nil), args...)
		for j := range rdArgs {
			rdArgs[j] = strings.Replace(rdArgs[j], "rbuilt", "built", 1)
		}
		if got, want := tc.do(args...), rd.do(rdArgs...); got != want {
			t.Errorf("%q: tcached %q, redis %q", args, clip(got), clip(want))
		}
	}
}

var strDiffCases = [][]string{
	{"SET", "a", "ohmytext"}, {"SET", "b", "mynewtext"}, {"SET", "c", "AAABBBAAAB"}, {"SET", "d", "AABBBBAABB"},
	{"SET", "e", ""}, {"RPUSH", "l", "x"},
	{"LCS", "a", "b"}, {"LCS", "a", "b", "LEN"}, {"LCS", "a", "b", "IDX"}, {"LCS", "a", "b", "IDX", "WITHMATCHLEN"},
	{"LCS", "a", "b", "IDX", "MINMATCHLEN", "4"}, {"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"},
	{"LCS", "a", "b", "IDX", "MINMATCHLEN", "-5"}, {"LCS", "a", "b", "IDX", "MINMATCHLEN", "x"},
	{"LCS", "a", "b", "IDX", "MINMATCHLEN"}, {"LCS", "a", "b", "LEN", "IDX"}, {"LCS", "a", "b", "FOO"},
	{"LCS", "c", "d", "IDX", "WITHMATCHLEN"}, {"LCS", "d", "c", "IDX"}, {"LCS", "c", "d"}, {"LCS", "c", "c", "IDX"},
	{"LCS", "a", "missing"}, {"LCS", "missing", "a", "IDX"}, {"LCS", "missing", "missing2", "LEN"}, {"LCS", "e", "a"},
	{"LCS", "a", "l"}, {"LCS", "l", "a", "FOO"}, {"LCS", "a"}, {"LCS", "a", "b", "len", "withmatchlen"},
	{"SUBSTR", "a", "0", "3"}, {"SUBSTR", "a", "-3", "-1"}, {"SUBSTR", "a", "5", "2"}, {"SUBSTR", "missing", "0", "1"},
	{"SUBSTR", "l", "0", "1"}, {"SUBSTR", "a", "x", "1"}, {"SUBSTR", "a", "0"},
	{"WAIT", "0", "0"}, {"WAIT", "0", "100"}, {"WAIT", "x", "0"}, {"WAIT", "0", "x"}, {"WAIT", "0", "-1"}, {"WAIT", "0"},
	{"ROLE"}, {"ROLE", "x"}, {"LASTSAVE", "x"},
	{"CONFIG", "SET", "save", ""}, {"CONFIG", "SET", "appendonly", "no"}, {"CONFIG", "GET", "save"},
	{"CONFIG", "GET", "appendonly"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "x"},
	{"CONFIG", "SET", "hll-sparse-max-bytes", "-1"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "3kb"},
	{"CONFIG", "GET", "hll-sparse-max-bytes"}, {"CONFIG", "SET", "stream-node-max-entries", "1k"},
	{"CONFIG", "SET", "stream-node-max-entries", "-1"}, {"CONFIG", "SET", "stream-node-max-bytes", "4096"},
	{"CONFIG", "GET", "stream-node-max-entries"}, {"CONFIG", "GET", "stream-node-max-bytes"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "3000"},
}

// TestDiffStrings compares LCS, SUBSTR, WAIT, ROLE and the CONFIG
// parameters of issue 18 with Redis 7.0.15. LASTSAVE's value is a
// timestamp of each server's own (its start, in tcached): compared by
// shape.
func TestDiffStrings(t *testing.T) {
	cases := append(append([][]string(nil), strDiffCases...), []string{"LASTSAVE"})
	runDiffCases(t, cases, func(args []string, reply string) string {
		if args[0] == "LASTSAVE" && len(args) == 1 && strings.HasPrefix(reply, ":") {
			return ":<timestamp>\r\n"
		}
		return reply
	})
}
