package server

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tcached/tcached/rdb"
)

// DUMP and RESTORE against redis-server 7.0.15: every type in both of its
// encodings is built on both servers; each server's payload restores on
// the other and reads back the same, and where Redis's encoding is
// deterministic (strings, listpacks, intsets, quicklists built by RPUSH,
// skiplists) the payloads are byte-identical.

// dumpFixtures build one key per type and encoding, the same on both
// servers. exact marks the keys whose DUMP must be byte-identical (not
// the hash-table forms, whose order is the server's own).
var dumpFixtures = []struct {
	key   string
	build [][]string
	exact bool
}{
	{"str", [][]string{{"SET", "str", "hello"}}, true},
	{"strint", [][]string{{"SET", "strint", "12345"}}, true},
	{"strneg", [][]string{{"SET", "strneg", "-2147483648"}}, true},
	{"strbig", [][]string{{"SET", "strbig", "-2147483649"}}, true},
	{"strempty", [][]string{{"SET", "strempty", ""}}, true},
	{"strlzf", [][]string{{"SET", "strlzf", strings.Repeat("abcabcabd", 100)}}, true},
	{"strbin", [][]string{{"SET", "strbin", "\x00\x01\xff\r\n binary \x80"}}, true},
	{"strlong", [][]string{{"SET", "strlong", lcg(3000)}}, true},
	{"list", [][]string{{"RPUSH", "list", "a", "b", "1", "2", "300", "-5", "70000", "99999999999", "-0", "01", ""}}, true},
	{"listbig", [][]string{append([]string{"RPUSH", "listbig"}, manyElems("e", 3000)...)}, true},
	{"listhuge", [][]string{{"RPUSH", "listhuge", "x", strings.Repeat("H", 10000), "y"}}, true},
	{"intset", [][]string{{"SADD", "intset", "1", "2", "3", "-7", "100000", "9223372036854775807"}}, true},
	{"setht", [][]string{{"SADD", "setht", "a", "b", "c", "1"}}, false},
	{"setbig", [][]string{append([]string{"SADD", "setbig"}, manyElems("", 600)...)}, false},
	{"hash", [][]string{{"HSET", "hash", "f", "v", "n", "7", "neg", "-100", "big", "12345678901"}}, true},
	{"hashht", [][]string{append([]string{"HSET", "hashht"}, manyElems("f", 1200)...)}, false},
	{"hashlong", [][]string{{"HSET", "hashlong", "f", strings.Repeat("v", 100)}}, false},
	{"zset", [][]string{{"ZADD", "zset", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0.1", "f", "1e300", "g", "4611686018427387904", "h", "-0", "i"}}, true},
	{"zsetsl", [][]string{append([]string{"ZADD", "zsetsl"}, manyScored(300)...)}, true},
	{"zsetlong", [][]string{{"ZADD", "zsetlong", "1", strings.Repeat("m", 100), "2", "x"}}, true},
}

// lcg is n pseudo-random letters (LZF finds little to compress).
func lcg(n int) string {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1103515245 + 12345
		b[i] = 'a' + byte(x>>16)%26
	}
	return string(b)
}

func manyElems(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i*7919%100003)
	}
	return out
}

func manyScored(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprint(float64(i*37%101)/4), fmt.Sprint("m", i))
	}
	return out
}

// readBack is how a key is compared: its type, encoding and contents
// (unordered replies sorted).
func readBack(r *rconn, key string) []any {
	typ := norm(r.do("TYPE", key))
	out := []any{typ, norm(r.do("OBJECT", "ENCODING", key)), norm(r.do("TTL", key))}
	switch typ {
	case status("string"):
		out = append(out, norm(r.do("GET", key)))
	case status("list"):
		out = append(out, norm(r.do("LRANGE", key, "0", "-1")))
	case status("set"):
		out = append(out, sorted(norm(r.do("SMEMBERS", key))))
	case status("hash"):
		out = append(out, pairsSorted(norm(r.do("HGETALL", key))))
	case status("zset"):
		out = append(out, norm(r.do("ZRANGE", key, "0", "-1", "WITHSCORES")))
	}
	return out
}

func TestDumpRestoreAcrossServers(t *testing.T) {
	rd := dial(t, startRealRedis(t))
	tc := dial(t, diffMoreServer(t).addr)
	for _, c := range []*rconn{tc, rd} {
		c.do("FLUSHALL")
	}
	for _, f := range dumpFixtures {
		t.Run(f.key, func(t *testing.T) {
			for _, cmd := range f.build {
				if a, b := norm(tc.do(cmd...)), norm(rd.do(cmd...)); !reflect.DeepEqual(a, b) {
					t.Fatalf("%.60q: tcached %v, redis %v", cmd, a, b)
				}
			}
			want := readBack(rd, f.key)
			if got := readBack(tc, f.key); !reflect.DeepEqual(got, want) {
				t.Fatalf("built differently: tcached %.300v, redis %.300v", got, want)
			}
			fromRedis, _ := rd.do("DUMP", f.key).([]byte)
			fromTC, _ := tc.do("DUMP", f.key).([]byte)
			if fromRedis == nil || fromTC == nil {
				t.Fatalf("DUMP: tcached %q, redis %q", fromTC, fromRedis)
			}
			if f.exact && string(fromTC) != string(fromRedis) {
				t.Errorf("DUMP differs:\n tcached %.300q\n redis   %.300q", fromTC, fromRedis)
			}
			// Each payload restores on the other server (and on its own).
			for i, p := range [][]byte{fromRedis, fromTC} {
				for _, c := range []*rconn{tc, rd} {
					dst := fmt.Sprint(f.key, ":r", i)
					if got := c.do("RESTORE", dst, "0", string(p), "REPLACE"); got != ok {
						t.Fatalf("RESTORE of payload %d: %v", i, got)
					}
					got := readBack(c, dst)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("payload %d restored (%s) reads %.300v, want %.300v", i, c.c.RemoteAddr(), got, want)
					}
				}
			}
		})
	}
}

// payload is a DUMP payload of body with a valid footer of version ver.
func payload(body []byte, ver uint16) string {
	b := binary.LittleEndian.AppendUint16(append([]byte(nil), body...), ver)
	return string(binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b)))
}

// TestDifferentialRestore compares RESTORE's checks and errors, TTLs and
// options with redis-server in RESP2 and RESP3.
func TestDifferentialRestore(t *testing.T) {
	good := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, rdb.Options{}))
	list := string(rdb.Encode(nil, &rdb.Object{Kind: rdb.KindList, Elems: [][]byte{[]byte("a"), []byte("b")}}, rdb.Options{NodeFill: -2}))
	badCRC := good[:len(good)-1] + "\x00"
	v11 := payload([]byte{0, 1, 'v'}, 11)
	v9 := payload([]byte{0, 1, 'v'}, 9)
	cases := [][]string{
		{"RESTORE", "k", "0", good}, {"GET", "k"}, {"TTL", "k"}, {"RESTORE", "k", "0", good},
		{"RESTORE", "k", "0", "garbage"}, {"RESTORE", "k", "-1", good}, {"RESTORE", "k", "x", good},
		{"RESTORE", "k", "0", good, "REPLACE"}, {"RESTORE", "k", "100000", good, "replace"}, {"TTL", "k"},
		{"RESTORE", "k", "0", good, "REPLACE", "ABSTTL"}, {"TTL", "k"},
		{"RESTORE", "k", "1", good, "REPLACE", "ABSTTL"}, {"EXISTS", "k"},
		{"RESTORE", "k2", "1000", good, "ABSTTL"}, {"EXISTS", "k2"},
		{"RESTORE", "k3", "9223372036854775807", good}, {"EXISTS", "k3"},
		{"RESTORE", "k3", "9223372036854775807", good, "ABSTTL"}, {"EXISTS", "k3"}, {"DEL", "k3"},
		{"RESTORE", "n", "0", "garbage"}, {"RESTORE", "n", "0", ""}, {"RESTORE", "n", "0", badCRC}, {"RESTORE", "n", "0", v11},
		{"RESTORE", "n", "0", v9}, {"GET", "n"}, {"DEL", "n"},
		{"RESTORE", "n", "0", payload(nil, 10)}, {"RESTORE", "n", "0", payload([]byte{0, 20, 'a'}, 10)},
		{"RESTORE", "n5", "0", payload([]byte{0, 5, 'a'}, 10)}, {"STRLEN", "n5"}, // a string that runs into the footer
		{"RESTORE", "n", "0", payload([]byte{99}, 10)}, {"RESTORE", "n", "0", payload([]byte{2, 0}, 10)},
		{"RESTORE", "n", "0", payload([]byte{2, 2, 1, 'a', 1, 'a'}, 10)},          // a repeated member
		{"RESTORE", "n", "0", payload([]byte{18, 1, 3, 1, 'x'}, 10)},              // bad container
		{"RESTORE", "n", "0", payload([]byte{0, 0xc3, 2, 40, 0, 'a'}, 10)},        // lzf too short
		{"RESTORE", "n", "0", payload([]byte{11, 8, 2, 0, 0, 0, 0, 0, 0, 0}, 10)}, // an empty intset
		{"EXISTS", "n"},
		{"RESTORE", "o", "0", good, "FOO"}, {"RESTORE", "o", "0", good, "IDLETIME"}, {"RESTORE", "o", "0", good, "IDLETIME", "-1"},
		{"RESTORE", "o", "0", good, "IDLETIME", "x"}, {"RESTORE", "o", "0", good, "FREQ", "256"}, {"RESTORE", "o", "0", good, "FREQ", "-1"},
		{"RESTORE", "o", "0", good, "FREQ", "x"}, {"RESTORE", "o", "0", good, "IDLETIME", "5", "FREQ", "5"},
		{"RESTORE", "o", "0", good, "FREQ", "5", "IDLETIME", "5"}, {"RESTORE", "o", "x", good, "FOO"},
		{"RESTORE", "o", "0", good, "IDLETIME", "1000"}, {"GET", "o"}, {"RESTORE", "o", "0", good, "FREQ", "100", "REPLACE"},
		{"SET", "busy", "x"}, {"RESTORE", "busy", "x", "garbage"}, {"RESTORE", "busy", "0", good, "FOO"},
		{"RESTORE", "busy", "0", list, "REPLACE"}, {"TYPE", "busy"}, {"LRANGE", "busy", "0", "-1"},
		{"RESTORE"}, {"RESTORE", "k"}, {"RESTORE", "k", "0"},
		{"DUMP", "missing"}, {"DUMP"}, {"DUMP", "a", "b"}, {"DUMP", "busy"}, {"DUMP", "o"},
		{"OBJECT", "FREQ", "o"}, {"OBJECT", "FREQ", "missing"}, {"OBJECT", "IDLETIME", "missing"}, {"OBJECT", "HELP"},
		{"OBJECT", "FREQ"}, {"OBJECT", "IDLETIME", "a", "b"},
	}
	runDiffCases(t, cases, nil)
}

// TestDifferentialDumpRandom builds random hashes, sets, sorted sets and
// lists on both servers, of sizes on both sides of the (lowered) encoding
// thresholds, and checks each DUMP: byte-identical where Redis's layout
// is deterministic, and restoring on both servers to what the key reads.
func TestDifferentialDumpRandom(t *testing.T) {
	rd := dial(t, startRealRedis(t))
	tc := dial(t, diffMoreServer(t).addr)
	both := func(args ...string) {
		t.Helper()
		if a, b := norm(tc.do(args...)), norm(rd.do(args...)); !reflect.DeepEqual(a, b) {
			t.Fatalf("%.80q: tcached %v, redis %v", args, a, b)
		}
	}
	both("FLUSHALL")
	both("CONFIG", "SET", "hash-max-listpack-entries", "16", "zset-max-listpack-entries", "16", "set-max-intset-entries", "16", "list-max-listpack-size", "8")
	r := rand.New(rand.NewPCG(7, 18))
	elem := func() string {
		switch r.IntN(6) {
		case 0:
			return strings.Repeat("L", 60+r.IntN(10)) // around the 64-byte value limit
		case 1, 2:
			return fmt.Sprint("e", r.IntN(50))
		}
		return strconv.Itoa(r.IntN(2000000) - 1000000)
	}
	for i := 0; i < 60; i++ {
		key := fmt.Sprint("k", i)
		n := []int{1 + r.IntN(5), 10 + r.IntN(12), 40 + r.IntN(30)}[r.IntN(3)]
		exact := true
		switch i % 4 {
		case 0:
			for j := 0; j < n; j++ {
				both("HSET", key, elem(), elem())
			}
			exact = norm(rd.do("OBJECT", "ENCODING", key)) == "listpack"
		case 1:
			for j := 0; j < n; j++ {
				both("SADD", key, elem())
			}
			exact = norm(rd.do("OBJECT", "ENCODING", key)) == "intset"
		case 2:
			for j := 0; j < n; j++ {
				both("ZADD", key, fmt.Sprint(float64(r.IntN(400)-200)/8), elem())
			}
		case 3:
			rpushOnly := r.IntN(2) == 0
			for j := 0; j < n; j++ {
				if rpushOnly || r.IntN(2) == 0 {
					both("RPUSH", key, elem())
				} else {
					both("LPUSH", key, elem())
				}
			}
			exact = rpushOnly
		}
		want := readBack(rd, key)
		if got := readBack(tc, key); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s built differently: tcached %.200v, redis %.200v", key, got, want)
		}
		fromRedis, _ := rd.do("DUMP", key).([]byte)
		fromTC, _ := tc.do("DUMP", key).([]byte)
		if exact && string(fromRedis) != string(fromTC) {
			t.Errorf("%s (%v): DUMP differs:\n tcached %.200q\n redis   %.200q", key, want[1], fromTC, fromRedis)
		}
		for _, p := range [][]byte{fromRedis, fromTC} {
			for _, c := range []*rconn{tc, rd} {
				if got := c.do("RESTORE", key+":r", "0", string(p), "REPLACE"); got != ok {
					t.Fatalf("%s: RESTORE = %v", key, got)
				}
				if got := readBack(c, key+":r"); !reflect.DeepEqual(got, want) {
					t.Errorf("%s restored reads %.200v, want %.200v", key, got, want)
				}
			}
		}
	}
}
