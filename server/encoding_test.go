package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tcached/tcached/command"
)

// TestEncodingConfig: the collection-encoding thresholds are readable and
// settable per tenant with CONFIG GET/SET, under their names and Redis
// 7.0's aliases, validated with Redis's errors, all or nothing.
func TestEncodingConfig(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	get := func(r *rconn, name string) any {
		t.Helper()
		rep := norm(r.do("CONFIG", "GET", name)).([]any)
		if len(rep) != 2 {
			t.Fatalf("CONFIG GET %s = %v", name, rep)
		}
		return rep[1]
	}
	for _, p := range command.EncodingParams() {
		if got := get(a, p.Name); got != fmt.Sprint(p.Default) {
			t.Errorf("default %s = %v, want %d", p.Name, got, p.Default)
		}
	}
	steps := []step{
		s(ok, "CONFIG", "SET", "hash-max-listpack-entries", "4", "set-max-intset-entries", "3"),
		s([]any{"hash-max-listpack-entries", "4", "hash-max-ziplist-entries", "4"}, "CONFIG", "GET", "hash-max-*-entries"),
		s(ok, "CONFIG", "SET", "hash-max-ziplist-value", "10"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive"),
			"CONFIG", "SET", "hash-max-listpack-entries", "-1"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-value') - argument couldn't be parsed into an integer"),
			"CONFIG", "SET", "set-max-listpack-value", "abc"),
		// All or nothing: a bad pair leaves the good one unset.
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-entries') - argument couldn't be parsed into an integer"),
			"CONFIG", "SET", "hash-max-listpack-entries", "99", "set-max-listpack-entries", "1.5"),
		s([]any{"hash-max-listpack-entries", "4"}, "CONFIG", "GET", "hash-max-listpack-entries"),
		s([]any{"hash-max-listpack-value", "10"}, "CONFIG", "GET", "hash-max-listpack-value"),
		// Redis's bounds per parameter, and memory values where Redis
		// takes them.
		s(ok, "CONFIG", "SET", "zset-max-listpack-entries", "4", "zset-max-ziplist-value", "1kb"),
		s([]any{"zset-max-listpack-value", "1024", "zset-max-ziplist-value", "1024"}, "CONFIG", "GET", "zset-max-*-value"),
		s(ok, "CONFIG", "SET", "hash-max-listpack-value", "2K"),
		s([]any{"hash-max-listpack-value", "2000"}, "CONFIG", "GET", "hash-max-listpack-value"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-value') - argument must be a memory value"),
			"CONFIG", "SET", "hash-max-listpack-value", "-1"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'zset-max-listpack-value') - argument must be a memory value"),
			"CONFIG", "SET", "zset-max-listpack-value", "1.5"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'zset-max-listpack-value') - argument must be between 0 and 9223372036854775807 inclusive"),
			"CONFIG", "SET", "zset-max-listpack-value", "9223372036854775808"),
		s(ok, "CONFIG", "SET", "list-max-ziplist-size", "-5"),
		s([]any{"list-max-listpack-size", "-5", "list-max-ziplist-size", "-5"}, "CONFIG", "GET", "list-max-*-size"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - argument must be between -2147483648 and 2147483647 inclusive"),
			"CONFIG", "SET", "list-max-listpack-size", "2147483648"),
		s(respErr("ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - argument must be between 0 and 2147483647 inclusive"),
			"CONFIG", "SET", "list-compress-depth", "-1"),
		s([]any{"list-compress-depth", "0"}, "CONFIG", "GET", "list-compress-depth"),
	}
	runSteps(t, a, steps, nil)
	// The other tenant keeps its own.
	if got := get(b, "hash-max-listpack-entries"); got != "512" {
		t.Fatalf("tenant b sees %v", got)
	}
}

// TestEncodingConversions: the conversion points are Redis 7.0's, and
// OBJECT ENCODING names them (checked against redis-server 7.0.15 with the
// same thresholds; TestDifferentialCollections runs the comparison).
func TestEncodingConversions(t *testing.T) {
	long := strings.Repeat("x", 65)
	runScripts(t, []script{
		{"hash entries", []step{
			s(ok, "CONFIG", "SET", "hash-max-listpack-entries", "3"),
			s(int64(3), "HSET", "h", "a", "1", "b", "2", "c", "3"), s("listpack", "OBJECT", "ENCODING", "h"),
			s(int64(1), "HSET", "h", "d", "4"), s("hashtable", "OBJECT", "ENCODING", "h"),
			// One way: back under the threshold it stays a table.
			s(int64(3), "HDEL", "h", "a", "b", "c"), s("hashtable", "OBJECT", "ENCODING", "h"),
			s([]any{"d", "4"}, "HGETALL", "h"), s(int64(1), "HDEL", "h", "d"), s(int64(0), "EXISTS", "h"),
			// A new hash of more fields than the threshold converts at once.
			s(int64(4), "HSET", "n", "a", "1", "b", "2", "c", "3", "d", "4"), s("hashtable", "OBJECT", "ENCODING", "n"),
			s(int64(0), "HSETNX", "n", "a", "x"), s("1", "HGET", "n", "a"),
			s(int64(1), "HSETNX", "n", "e", "5"), s(int64(5), "HLEN", "n"),
			s(int64(7), "HINCRBY", "n", "a", "6"), s("2.5", "HINCRBYFLOAT", "n", "b", "0.5"),
			s(int64(3), "HSTRLEN", "n", "b"), s(int64(1), "HEXISTS", "n", "e"), s(int64(0), "HEXISTS", "n", "z"),
			s([]any{"7", nil, "3"}, "HMGET", "n", "a", "z", "c"),
		}},
		{"hash value length", []step{
			s(int64(1), "HSET", "h", "a", "1"), s("listpack", "OBJECT", "ENCODING", "h"),
			// An argument over hash-max-listpack-value converts before the
			// write, even when it only updates a field.
			s(int64(0), "HSET", "h", "a", long), s("hashtable", "OBJECT", "ENCODING", "h"),
			s(int64(1), "HSET", "f", long, "v"), s("hashtable", "OBJECT", "ENCODING", "f"),
			// HSETNX of an existing field changes nothing, long or not.
			s(int64(1), "HSET", "g", "a", "1"), s(int64(0), "HSETNX", "g", "a", long), s("listpack", "OBJECT", "ENCODING", "g"),
			// HINCRBY* measure the field.
			s(int64(1), "HINCRBY", "g", long, "1"), s("hashtable", "OBJECT", "ENCODING", "g"),
		}},
		{"set intset and strings", []step{
			s(ok, "CONFIG", "SET", "set-max-intset-entries", "4", "set-max-listpack-entries", "3"),
			s(int64(4), "SADD", "s", "1", "2", "3", "-4"), s("intset", "OBJECT", "ENCODING", "s"),
			s(int64(1), "SADD", "s", "5"), s("hashtable", "OBJECT", "ENCODING", "s"),
			// A string makes an intset a "hashtable" for good (7.0), even
			// while tcached keeps it compact (7.2's listpack).
			s(int64(2), "SADD", "t", "1", "a"), s("hashtable", "OBJECT", "ENCODING", "t"),
			s(int64(1), "SREM", "t", "a"), s("hashtable", "OBJECT", "ENCODING", "t"),
			// Not integers as string2ll reads them.
			s(int64(1), "SADD", "u", "01"), s("hashtable", "OBJECT", "ENCODING", "u"),
			s(int64(1), "SADD", "v", "-0"), s("hashtable", "OBJECT", "ENCODING", "v"),
			s(int64(1), "SADD", "w", "9223372036854775807"), s("intset", "OBJECT", "ENCODING", "w"),
			s(int64(1), "SADD", "x", "9223372036854775808"), s("hashtable", "OBJECT", "ENCODING", "x"),
			// Store forms encode their result as a new set.
			s(int64(5), "SUNIONSTORE", "d", "s"), s("hashtable", "OBJECT", "ENCODING", "d"),
			s(int64(1), "SINTERSTORE", "d", "s", "t"), s("intset", "OBJECT", "ENCODING", "d"),
			s(int64(1), "SMOVE", "s", "new", "5"), s("intset", "OBJECT", "ENCODING", "new"),
			s(int64(1), "SMOVE", "t", "new", "1"), s(int64(0), "EXISTS", "t"),
		}},
		{"zset entries and member length", []step{
			s(ok, "CONFIG", "SET", "zset-max-listpack-entries", "3"),
			s(int64(3), "ZADD", "z", "1", "a", "2", "b", "3", "c"), s("listpack", "OBJECT", "ENCODING", "z"),
			// A changed score never converts; the fourth member does.
			s(int64(0), "ZADD", "z", "9", "a"), s("listpack", "OBJECT", "ENCODING", "z"),
			s(int64(1), "ZADD", "z", "4", "d"), s("skiplist", "OBJECT", "ENCODING", "z"),
			// One way.
			s(int64(3), "ZREM", "z", "a", "b", "c"), s("skiplist", "OBJECT", "ENCODING", "z"),
			s([]any{"d", "4"}, "ZRANGE", "z", "0", "-1", "WITHSCORES"), s(int64(1), "ZREM", "z", "d"), s(int64(0), "EXISTS", "z"),
			s(int64(4), "ZADD", "n", "1", "a", "2", "b", "3", "c", "4", "d"), s("skiplist", "OBJECT", "ENCODING", "n"),
			s(int64(1), "ZADD", "l", "1", long), s("skiplist", "OBJECT", "ENCODING", "l"),
			s(int64(0), "ZADD", "m", "XX", "1", long), s(int64(0), "EXISTS", "m"),
			// The tree keeps -0 (Redis's skiplist prints it so).
			s(int64(1), "ZADD", "n", "-0", "e"), s("-0", "ZSCORE", "n", "e"),
			s([]any{"e", "a"}, "ZRANGE", "n", "0", "1"), s(int64(1), "ZRANK", "n", "a"),
			s(int64(1), "COPY", "n", "n2"), s("skiplist", "OBJECT", "ENCODING", "n2"),
			s(int64(1), "ZADD", "n2", "7", "x"), s(int64(5), "ZCARD", "n"), s(int64(6), "ZCARD", "n2"),
			s(ok, "RENAME", "n2", "n3"), s([]any{"x", "d"}, "ZREVRANGE", "n3", "0", "1"),
			s([]any{"a", "b", "c"}, "SORT", "n3", "ALPHA", "LIMIT", "0", "3"),
		}},
		{"keyspace commands on tables", []step{
			s(ok, "CONFIG", "SET", "hash-max-listpack-entries", "1", "set-max-listpack-entries", "1"),
			s(int64(2), "HSET", "h", "a", "1", "b", "2"), s(int64(2), "SADD", "s", "a", "b"),
			s(int64(1), "COPY", "h", "h2"), s("hashtable", "OBJECT", "ENCODING", "h2"),
			s(int64(1), "HSET", "h2", "c", "3"), s(int64(2), "HLEN", "h"), s(int64(3), "HLEN", "h2"),
			s(ok, "RENAME", "s", "s2"), s(int64(2), "SCARD", "s2"), s("hashtable", "OBJECT", "ENCODING", "s2"),
			s(int64(1), "MOVE", "s2", "3"), s(int64(0), "EXISTS", "s2"),
			s(ok, "SELECT", "3"), s(int64(1), "SISMEMBER", "s2", "a"),
			s([]any{"b", "a"}, "SORT", "s2", "ALPHA", "DESC"), s(ok, "SELECT", "0"),
			s(status("hash"), "TYPE", "h"), s([]any{"0", []any{"h2"}}, "SCAN", "0", "TYPE", "hash", "MATCH", "h?"),
			s(ok, "SET", "h", "string now"), s("string now", "GET", "h"),
			s(int64(1), "EXPIRE", "h2", "1"), clockStep("1001ms"), s(int64(0), "EXISTS", "h2"),
		}},
	})
}

// TestBigHashUsage: MEMORY USAGE of a hash table is its accounted size,
// which grows with its fields and is what the tenant is charged.
func TestBigHashUsage(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	r.do("CONFIG", "SET", "hash-max-listpack-entries", "0")
	var last int64
	for i := range 2000 {
		r.do("HSET", "h", fmt.Sprint("field", i), "value")
		if i%500 == 499 {
			u := r.do("MEMORY", "USAGE", "h").(int64)
			if u <= last {
				t.Fatalf("MEMORY USAGE %d after %d fields, was %d", u, i+1, last)
			}
			last = u
		}
	}
	// About 1+10+1+5 bytes of record and value.ElemOverhead per field.
	if per := float64(last) / 2000; per < 35 || per > 50 {
		t.Fatalf("MEMORY USAGE of 2000 small fields: %.1f bytes per field", per)
	}
	var used int64
	for _, st := range srv.Stats() {
		if st.ID == "a" {
			used = st.UsedBytes
		}
	}
	if used != last {
		t.Fatalf("tenant charged %d, MEMORY USAGE %d", used, last)
	}
}
