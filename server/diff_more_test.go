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
