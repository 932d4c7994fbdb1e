package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/command"
)

func TestHashCommands(t *testing.T) {
	wrongArgs := func(n string) respErr { return respErr(command.ErrWrongArgs(n)) }
	wrongType := respErr(command.ErrWrongType)
	runScripts(t, []script{
		{"hset hget hlen", []step{
			s(null, "HGET", "h", "f"), s(int64(0), "HLEN", "h"),
			s(int64(2), "HSET", "h", "f1", "v1", "f2", "v2"),
			s("v1", "HGET", "h", "f1"), s("v2", "HGET", "h", "f2"), s(null, "HGET", "h", "nope"),
			// Updating counts only new fields; a field twice takes its last value.
			s(int64(1), "HSET", "h", "f1", "x", "f3", "v3"), s("x", "HGET", "h", "f1"),
			s(int64(1), "HSET", "h", "d", "1", "d", "2"), s("2", "HGET", "h", "d"),
			s(int64(2), "HSET", "o", "a", "1", "b", "2", "a", "3"), s([]any{"a", "3", "b", "2"}, "HGETALL", "o"),
			s(int64(4), "HLEN", "h"),
			s(int64(0), "HSET", "h", "f1", ""), s("", "HGET", "h", "f1"), s(int64(4), "HLEN", "h"),
			s(status("hash"), "TYPE", "h"), s("listpack", "OBJECT", "ENCODING", "h"),
			s(wrongArgs("hset"), "HSET", "h", "f"), s(wrongArgs("hset"), "HSET", "h", "f", "v", "g"),
			s(wrongArgs("hget"), "HGET", "h"), s(wrongArgs("hlen"), "HLEN", "h", "x"),
		}},
		{"hmset hmget hgetall hkeys hvals", []step{
			s(ok, "HMSET", "h", "a", "1", "b", "2", "c", "3"),
			s([]any{"1", nil, "3"}, "HMGET", "h", "a", "zz", "c"),
			s([]any{nil, nil}, "HMGET", "missing", "a", "b"),
			s([]any{"a", "1", "b", "2", "c", "3"}, "HGETALL", "h"),
			s([]any{"a", "b", "c"}, "HKEYS", "h"), s([]any{"1", "2", "3"}, "HVALS", "h"),
			s([]any{}, "HGETALL", "missing"), s([]any{}, "HKEYS", "missing"), s([]any{}, "HVALS", "missing"),
			s(wrongArgs("hmset"), "HMSET", "h", "a", "1", "b"), s(wrongArgs("hmset"), "HMSET", "h", "a"),
			s(wrongArgs("hmget"), "HMGET", "h"), s(wrongArgs("hgetall"), "HGETALL"),
		}},
		{"hdel deletes the empty hash", []step{
			s(int64(0), "HDEL", "h", "a"),
			s(int64(3), "HSET", "h", "a", "1", "b", "2", "c", "3"),
			s(int64(2), "HDEL", "h", "a", "c", "zz", "a"), s([]any{"b", "2"}, "HGETALL", "h"),
			s(int64(0), "HDEL", "h", "a"),
			s(int64(1), "HDEL", "h", "b"), s(int64(0), "EXISTS", "h"), s(status("none"), "TYPE", "h"),
			s(wrongArgs("hdel"), "HDEL", "h"),
		}},
		{"hexists hstrlen hsetnx", []step{
			s(int64(0), "HEXISTS", "h", "f"), s(int64(0), "HSTRLEN", "h", "f"),
			s(int64(1), "HSETNX", "h", "f", "hello"), s(int64(0), "HSETNX", "h", "f", "other"),
			s("hello", "HGET", "h", "f"), s(int64(1), "HEXISTS", "h", "f"), s(int64(0), "HEXISTS", "h", "g"),
			s(int64(5), "HSTRLEN", "h", "f"), s(int64(0), "HSTRLEN", "h", "g"),
			s(wrongArgs("hsetnx"), "HSETNX", "h", "f"), s(wrongArgs("hexists"), "HEXISTS", "h"),
			s(wrongArgs("hstrlen"), "HSTRLEN", "h"),
		}},
		{"hincrby", []step{
			s(int64(5), "HINCRBY", "h", "n", "5"), s(int64(2), "HINCRBY", "h", "n", "-3"),
			s(int64(1800), "TTL", "h"),
			s(int64(3), "HSET", "h", "s", "abc", "max", "9223372036854775807", "min", "-9223372036854775808"),
			s(respErr(command.ErrHashNotInt), "HINCRBY", "h", "s", "1"),
			s(respErr(command.ErrNotInteger), "HINCRBY", "h", "n", "x"),
			s(respErr(command.ErrNotInteger), "HINCRBY", "h", "n", "9223372036854775808"),
			s(respErr(command.ErrOverflow), "HINCRBY", "h", "max", "1"),
			s(respErr(command.ErrOverflow), "HINCRBY", "h", "min", "-1"),
			s(int64(-1), "HINCRBY", "h", "max", "-9223372036854775808"),
			s("-1", "HGET", "h", "max"),
			s(wrongArgs("hincrby"), "HINCRBY", "h", "n"),
		}},
		{"hincrbyfloat", []step{
			s("10.5", "HINCRBYFLOAT", "h", "f", "10.5"), s("10.6", "HINCRBYFLOAT", "h", "f", "0.1"),
			s(int64(4), "HSET", "h", "e", "5.0e3", "i", "3", "s", "abc", "big", "1e4932"),
			s("5200", "HINCRBYFLOAT", "h", "e", "2.0e2"), s("4.5", "HINCRBYFLOAT", "h", "i", "1.5"),
			s(respErr(command.ErrHashNotFloat), "HINCRBYFLOAT", "h", "s", "1"),
			s(respErr(command.ErrNotFloat), "HINCRBYFLOAT", "h", "f", "x"),
			s(respErr(command.ErrIncrNaNInf), "HINCRBYFLOAT", "h", "f", "inf"),
			s(respErr(command.ErrNotFloat), "HINCRBYFLOAT", "h", "f", "nan"),
			s(respErr(command.ErrNaNInf), "HINCRBYFLOAT", "h", "big", "1e4932"),
			s("10.6", "HGET", "h", "f"),
			s(wrongArgs("hincrbyfloat"), "HINCRBYFLOAT", "h", "f"),
		}},
		{"hrandfield", []step{
			s(null, "HRANDFIELD", "h"), s([]any{}, "HRANDFIELD", "h", "3"), s([]any{}, "HRANDFIELD", "h", "-3", "WITHVALUES"),
			s(int64(1), "HSET", "h", "only", "v"),
			s("only", "HRANDFIELD", "h"),
			s([]any{}, "HRANDFIELD", "h", "0"),
			s([]any{"only"}, "HRANDFIELD", "h", "5"),
			s([]any{"only", "only", "only"}, "HRANDFIELD", "h", "-3"),
			s([]any{"only", "v", "only", "v"}, "HRANDFIELD", "h", "-2", "WITHVALUES"),
			s([]any{"only", "v"}, "HRANDFIELD", "h", "1", "WITHVALUES"),
			s(respErr(command.ErrSyntax), "HRANDFIELD", "h", "1", "WITHSCORES"),
			s(respErr(command.ErrSyntax), "HRANDFIELD", "h", "1", "WITHVALUES", "x"),
			s(respErr(command.ErrNotInteger), "HRANDFIELD", "h", "x"),
			s(respErr(command.ErrOutOfRange), "HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
			s(respErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"), "HRANDFIELD", "h", "-9223372036854775808"),
			s(respErr(command.ErrRandTooLarge), "HRANDFIELD", "h", "-9223372036854775807"),
			s(wrongArgs("hrandfield"), "HRANDFIELD"),
		}},
		{"hscan small", []step{
			s([]any{"0", []any{}}, "HSCAN", "h", "0"),
			s(int64(3), "HSET", "h", "a", "1", "b", "2", "ab", "3"),
			// A small hash comes whole whatever COUNT says, as a listpack in Redis.
			s([]any{"0", []any{"a", "1", "b", "2", "ab", "3"}}, "HSCAN", "h", "0", "COUNT", "1"),
			s([]any{"0", []any{"a", "1", "ab", "3"}}, "HSCAN", "h", "0", "MATCH", "a*"),
			s([]any{"0", []any{"a", "b", "ab"}}, "HSCAN", "h", "0", "NOVALUES"),
			s(respErr(command.ErrInvalidCursor), "HSCAN", "h", "x"),
			s(respErr(command.ErrInvalidCursor), "HSCAN", "h", "1x"),
			s(respErr(command.ErrSyntax), "HSCAN", "h", "0", "COUNT", "0"),
			s(respErr(command.ErrNotInteger), "HSCAN", "h", "0", "COUNT", "x"),
			s(respErr(command.ErrSyntax), "HSCAN", "h", "0", "MATCH"),
			s(respErr(command.ErrSyntax), "HSCAN", "h", "0", "BOGUS", "1"),
			s(wrongArgs("hscan"), "HSCAN", "h"),
		}},
		{"wrongtype from hash commands", []step{
			s(ok, "SET", "s", "v"),
			s(wrongType, "HSET", "s", "f", "v"), s(wrongType, "HMSET", "s", "f", "v"),
			s(wrongType, "HSETNX", "s", "f", "v"), s(wrongType, "HGET", "s", "f"),
			s(wrongType, "HMGET", "s", "f"), s(wrongType, "HGETALL", "s"), s(wrongType, "HDEL", "s", "f"),
			s(wrongType, "HEXISTS", "s", "f"), s(wrongType, "HLEN", "s"), s(wrongType, "HKEYS", "s"),
			s(wrongType, "HVALS", "s"), s(wrongType, "HINCRBY", "s", "f", "1"),
			s(wrongType, "HINCRBYFLOAT", "s", "f", "1"), s(wrongType, "HSTRLEN", "s", "f"),
			s(wrongType, "HSCAN", "s", "0"), s(wrongType, "HRANDFIELD", "s"),
			s(wrongType, "HRANDFIELD", "s", "2"), s("v", "GET", "s"),
			// Argument errors come first, as in Redis.
			s(respErr(command.ErrNotInteger), "HINCRBY", "s", "f", "x"), s(respErr(command.ErrInvalidCursor), "HSCAN", "s", "x"),
		}},
		{"wrongtype from string commands", []step{
			s(int64(1), "HSET", "h", "f", "v"),
			s(wrongType, "GET", "h"), s(wrongType, "GETEX", "h"), s(wrongType, "GETEX", "h", "EX", "5"),
			s(wrongType, "GETDEL", "h"), s(wrongType, "GETSET", "h", "x"),
			s(wrongType, "SET", "h", "x", "GET"), s(wrongType, "SET", "h", "x", "NX", "GET"),
			s(wrongType, "APPEND", "h", "x"), s(wrongType, "INCR", "h"), s(wrongType, "DECRBY", "h", "2"),
			s(wrongType, "INCRBYFLOAT", "h", "1"), s(wrongType, "STRLEN", "h"),
			s(wrongType, "GETRANGE", "h", "0", "-1"), s(wrongType, "SETRANGE", "h", "0", "x"),
			s(wrongType, "SETRANGE", "h", "0", ""), s(wrongType, "SORT", "h"),
			s(int64(0), "SETNX", "h", "x"), s(int64(0), "MSETNX", "h", "x", "o", "y"),
			s(null, "SET", "h", "x", "NX"), s(status("hash"), "TYPE", "h"),
			s("v", "HGET", "h", "f"),
			// SET overwrites any type; so do MSET and SETEX.
			s(ok, "SET", "h", "plain"), s(status("string"), "TYPE", "h"), s("plain", "GET", "h"),
			s(int64(1), "HSET", "h2", "f", "v"), s(ok, "MSET", "h2", "m"), s("m", "GET", "h2"),
			s(int64(1), "HSET", "h3", "f", "v"), s(ok, "SETEX", "h3", "10", "e"), s("e", "GET", "h3"),
			s(int64(1), "HSET", "h4", "f", "v"), s(ok, "SET", "h4", "k", "XX", "KEEPTTL"), s("k", "GET", "h4"),
		}},
		{"keyspace commands across types", []step{
			s(int64(2), "HSET", "h", "f", "v", "g", "w"), s(ok, "SET", "s", "1"),
			s(int64(1800), "TTL", "h"), s(int64(1), "EXPIRE", "h", "100"), s(int64(100), "TTL", "h"),
			// Writes keep an existing hash's TTL.
			s(int64(1), "HSET", "h", "x", "y"), s(int64(1), "HDEL", "h", "x"), s(int64(100), "TTL", "h"),
			s(int64(1), "PERSIST", "h"), s(int64(-1), "TTL", "h"),
			s(int64(2), "EXISTS", "h", "s"), s(int64(1), "TOUCH", "h"),
			s(int64(1), "COPY", "h", "hc"), s(status("hash"), "TYPE", "hc"), s([]any{"f", "v", "g", "w"}, "HGETALL", "hc"),
			s(int64(1), "COPY", "h", "c2", "DB", "3"),
			s(ok, "RENAME", "hc", "hr"), s(int64(0), "EXISTS", "hc"), s("w", "HGET", "hr", "g"),
			s(int64(0), "RENAMENX", "hr", "s"), s(ok, "RENAME", "hr", "s"), s(status("hash"), "TYPE", "s"),
			s(int64(1), "MOVE", "s", "2"), s(int64(0), "EXISTS", "s"),
			s(ok, "SELECT", "2"), s(status("hash"), "TYPE", "s"), s([]any{"f", "v", "g", "w"}, "HGETALL", "s"),
			s(ok, "SELECT", "3"), s("v", "HGET", "c2", "f"), s(ok, "SELECT", "0"),
			s(int64(1), "DEL", "h"), s(int64(0), "HLEN", "h"),
			s(int64(1), "HSET", "h", "f", "v"), s(int64(1), "EXPIRE", "h", "1"), clockStep("1001ms"),
			s(null, "HGET", "h", "f"), s(int64(0), "EXISTS", "h"),
		}},
		{"scan type and memory usage", []step{
			s(int64(1), "HSET", "h", "f", "v"), s(ok, "SET", "s", "1"),
			s([]any{"0", []any{"h"}}, "SCAN", "0", "TYPE", "hash"),
			s([]any{"0", []any{"s"}}, "SCAN", "0", "TYPE", "string"),
			s([]any{"0", []any{"h"}}, "SCAN", "0", "TYPE", "HASH"),
			s([]any{"0", []any{}}, "SCAN", "0", "TYPE", "list"),
			s([]any{"0", []any{}}, "SCAN", "0", "TYPE", "bogus"),
			// 1 (h) + 5 (count, 1+f, 1+v) + EntryOverhead.
			s(int64(1+5+72), "MEMORY", "USAGE", "h"),
		}},
	})
}

// TestHashMGet: MGET answers nil for a key of another type, not WRONGTYPE.
func TestHashMGet(t *testing.T) {
	runScripts(t, []script{{"mget", []step{
		s(int64(1), "HSET", "h", "f", "v"), s(ok, "SET", "s", "x"),
		s([]any{nil, "x", nil}, "MGET", "h", "s", "missing"),
	}}})
}

// TestHashScanCursor pages a hash too large to come whole: every field
// present for the whole scan is returned, though fields are added and
// removed between calls.
func TestHashScanCursor(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	const n = 300
	for i := range n {
		r.do("HSET", "h", fmt.Sprintf("f%d", i), strconv.Itoa(i))
	}
	seen := map[string]string{}
	cursor, calls := "0", 0
	for {
		rep := norm(r.do("HSCAN", "h", cursor, "COUNT", "50")).([]any)
		cursor = rep[0].(string)
		kv := rep[1].([]any)
		if len(kv) > 2*60 {
			t.Fatalf("page of %d fields for COUNT 50", len(kv)/2)
		}
		for i := 0; i < len(kv); i += 2 {
			seen[kv[i].(string)] = kv[i+1].(string)
		}
		calls++
		// Churn: remove fields >= 250, add new ones; neither may hide the rest.
		if calls == 2 {
			for i := 250; i < n; i++ {
				r.do("HDEL", "h", fmt.Sprintf("f%d", i))
			}
			for i := range 100 {
				r.do("HSET", "h", fmt.Sprintf("new%d", i), "x")
			}
		}
		if cursor == "0" {
			break
		}
		if calls > 100 {
			t.Fatal("HSCAN does not terminate")
		}
	}
	if calls < 4 {
		t.Fatalf("HSCAN of %d fields with COUNT 50 took %d calls", n, calls)
	}
	for i := range 250 {
		if v := seen[fmt.Sprintf("f%d", i)]; v != strconv.Itoa(i) {
			t.Fatalf("field f%d = %q, want %d", i, v, i)
		}
	}
	// NOVALUES and MATCH on the paged form.
	rep := norm(r.do("HSCAN", "h", "0", "COUNT", "1000", "MATCH", "f1?", "NOVALUES")).([]any)
	got := rep[1].([]any)
	sort.Slice(got, func(i, j int) bool { return got[i].(string) < got[j].(string) })
	if rep[0] != "0" || len(got) != 10 || got[0] != "f10" {
		t.Fatalf("HSCAN MATCH f1? NOVALUES = %v", rep)
	}
}

// TestGoRedisHash runs go-redis v9 over RESP2 and RESP3.
func TestGoRedisHash(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx := context.Background()
			c := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
			key := fmt.Sprintf("user:%d", proto)
			if n, err := c.HSet(ctx, key, "name", "ann", "age", "41").Result(); err != nil || n != 2 {
				t.Fatalf("HSet = %d, %v", n, err)
			}
			if n, err := c.HSet(ctx, key, map[string]any{"city": "Oslo", "age": 42}).Result(); err != nil || n != 1 {
				t.Fatalf("HSet map = %d, %v", n, err)
			}
			all, err := c.HGetAll(ctx, key).Result()
			if want := map[string]string{"name": "ann", "age": "42", "city": "Oslo"}; err != nil || !reflect.DeepEqual(all, want) {
				t.Fatalf("HGetAll = %v, %v", all, err)
			}
			if v, err := c.HGet(ctx, key, "name").Result(); err != nil || v != "ann" {
				t.Fatalf("HGet = %q, %v", v, err)
			}
			if err := c.HGet(ctx, key, "nope").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("HGet missing field: %v", err)
			}
			if v, err := c.HMGet(ctx, key, "name", "nope").Result(); err != nil || !reflect.DeepEqual(v, []any{"ann", nil}) {
				t.Fatalf("HMGet = %#v, %v", v, err)
			}
			if f, err := c.HIncrByFloat(ctx, key, "score", 1.5).Result(); err != nil || f != 1.5 {
				t.Fatalf("HIncrByFloat = %v, %v", f, err)
			}
			if n, err := c.HIncrBy(ctx, key, "age", 1).Result(); err != nil || n != 43 {
				t.Fatalf("HIncrBy = %v, %v", n, err)
			}
			for i := range 200 {
				c.HSet(ctx, key, fmt.Sprintf("extra%d", i), i)
			}
			var cursor uint64
			seen := map[string]string{}
			for {
				kv, next, err := c.HScan(ctx, key, cursor, "", 40).Result()
				if err != nil {
					t.Fatalf("HScan: %v", err)
				}
				for i := 0; i+1 < len(kv); i += 2 {
					seen[kv[i]] = kv[i+1]
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if len(seen) != 204 || seen["extra199"] != "199" || seen["name"] != "ann" {
				t.Fatalf("HScan saw %d fields", len(seen))
			}
			if kvs, err := c.HRandFieldWithValues(ctx, key, -3).Result(); err != nil || len(kvs) != 3 || kvs[0].Key == "" {
				t.Fatalf("HRandFieldWithValues = %v, %v", kvs, err)
			}
			if typ, err := c.Type(ctx, key).Result(); err != nil || typ != "hash" {
				t.Fatalf("Type = %q, %v", typ, err)
			}
			if err := c.Get(ctx, key).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("Get of a hash: %v", err)
			}
			if n, err := c.HDel(ctx, key, "name").Result(); err != nil || n != 1 {
				t.Fatalf("HDel = %v, %v", n, err)
			}
			if n, err := c.HLen(ctx, key).Result(); err != nil || n != 203 {
				t.Fatalf("HLen = %v, %v", n, err)
			}
		})
	}
}
