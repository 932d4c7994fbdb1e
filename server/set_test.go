package server

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/command"
)

func TestSetCommands(t *testing.T) {
	wrongArgs := func(n string) respErr { return respErr(command.ErrWrongArgs(n)) }
	wrongType := respErr(command.ErrWrongType)
	runScripts(t, []script{
		{"sadd srem smembers scard", []step{
			s([]any{}, "SMEMBERS", "s"), s(int64(0), "SCARD", "s"), s(int64(0), "SREM", "s", "a"),
			s(int64(3), "SADD", "s", "b", "a", "c", "a"),
			s([]any{"a", "b", "c"}, "SMEMBERS", "s"), s(int64(3), "SCARD", "s"),
			s(int64(2), "SADD", "s", "a", "d", ""), s(int64(5), "SCARD", "s"),
			s(int64(0), "SADD", "s", "a"),
			s(int64(2), "SREM", "s", "a", "zz", "a", ""), s([]any{"b", "c", "d"}, "SMEMBERS", "s"),
			s(status("set"), "TYPE", "s"), s("hashtable", "OBJECT", "ENCODING", "s"),
			s(int64(1800), "TTL", "s"),
			// The set is deleted with its last member.
			s(int64(3), "SREM", "s", "b", "c", "d"), s(int64(0), "EXISTS", "s"), s(status("none"), "TYPE", "s"),
			s(wrongArgs("sadd"), "SADD", "s"), s(wrongArgs("srem"), "SREM", "s"),
			s(wrongArgs("smembers"), "SMEMBERS"), s(wrongArgs("smembers"), "SMEMBERS", "s", "t"),
			s(wrongArgs("scard"), "SCARD"),
		}},
		{"sismember smismember", []step{
			s(int64(0), "SISMEMBER", "s", "a"), s([]any{int64(0), int64(0)}, "SMISMEMBER", "s", "a", "b"),
			s(int64(2), "SADD", "s", "a", "c"),
			s(int64(1), "SISMEMBER", "s", "a"), s(int64(0), "SISMEMBER", "s", "b"),
			s([]any{int64(1), int64(0), int64(1), int64(1)}, "SMISMEMBER", "s", "a", "b", "c", "a"),
			s(wrongArgs("sismember"), "SISMEMBER", "s"), s(wrongArgs("sismember"), "SISMEMBER", "s", "a", "b"),
			s(wrongArgs("smismember"), "SMISMEMBER", "s"),
		}},
		{"spop", []step{
			s(null, "SPOP", "s"), s([]any{}, "SPOP", "s", "3"), s([]any{}, "SPOP", "s", "0"),
			s(int64(1), "SADD", "s", "only"), s("only", "SPOP", "s"), s(int64(0), "EXISTS", "s"),
			s(int64(3), "SADD", "s", "a", "b", "c"),
			s([]any{}, "SPOP", "s", "0"), s(int64(3), "SCARD", "s"),
			s(respErr(command.ErrSyntax), "SPOP", "s", "1", "x"), s(int64(3), "SCARD", "s"),
		}},
		{"spop count", []step{
			s(int64(4), "SADD", "s", "a", "b", "c", "d"),
			// count >= size pops the whole set and deletes the key.
			s([]any{"a", "b", "c", "d"}, "SPOP", "s", "10"), s(int64(0), "EXISTS", "s"),
			s(int64(2), "SADD", "s", "a", "b"),
			s([]any{"a", "b"}, "SPOP", "s", "2"), s(int64(0), "EXISTS", "s"),
			s(respErr(command.ErrMustBePositive), "SPOP", "s", "-1"),
			s(respErr(command.ErrMustBePositive), "SPOP", "s", "x"),
			s(respErr(command.ErrSyntax), "SPOP", "s", "1", "2"),
			s(wrongArgs("spop"), "SPOP"),
		}},
		{"srandmember", []step{
			s(null, "SRANDMEMBER", "s"), s([]any{}, "SRANDMEMBER", "s", "3"), s([]any{}, "SRANDMEMBER", "s", "-3"),
			s(int64(1), "SADD", "s", "only"),
			s("only", "SRANDMEMBER", "s"),
			s([]any{}, "SRANDMEMBER", "s", "0"),
			s([]any{"only"}, "SRANDMEMBER", "s", "5"),
			s([]any{"only", "only", "only"}, "SRANDMEMBER", "s", "-3"),
			s([]any{"only"}, "SRANDMEMBER", "s", "-1"),
			s(int64(2), "SADD", "s", "a", "b"),
			s([]any{"a", "b", "only"}, "SRANDMEMBER", "s", "3"),
			s(int64(3), "SCARD", "s"), // SRANDMEMBER removes nothing
			s(respErr(command.ErrNotInteger), "SRANDMEMBER", "s", "x"),
			s(respErr(command.ErrSyntax), "SRANDMEMBER", "s", "1", "2"),
			s(respErr(command.ErrRangeNotMinInt), "SRANDMEMBER", "s", "-9223372036854775808"),
			s(respErr(command.ErrSRandTooLarge), "SRANDMEMBER", "s", "-9223372036854775807"),
			s(wrongArgs("srandmember"), "SRANDMEMBER"),
		}},
		{"sinter sunion sdiff", []step{
			s(int64(4), "SADD", "a", "1", "2", "3", "4"), s(int64(3), "SADD", "b", "3", "4", "5"),
			s(int64(2), "SADD", "c", "4", "6"),
			s([]any{"3", "4"}, "SINTER", "a", "b"), s([]any{"4"}, "SINTER", "a", "b", "c"),
			s([]any{"1", "2", "3", "4"}, "SINTER", "a"), s([]any{"1", "2", "3", "4"}, "SINTER", "a", "a"),
			s([]any{}, "SINTER", "a", "missing"), s([]any{}, "SINTER", "missing", "a"),
			s([]any{"1", "2", "3", "4", "5", "6"}, "SUNION", "a", "b", "c"),
			s([]any{"3", "4", "5"}, "SUNION", "missing", "b"), s([]any{}, "SUNION", "missing"),
			s([]any{"1", "2"}, "SDIFF", "a", "b"), s([]any{"1", "2"}, "SDIFF", "a", "b", "c"),
			s([]any{"1", "2", "3", "4"}, "SDIFF", "a", "missing"), s([]any{}, "SDIFF", "missing", "a"),
			s([]any{}, "SDIFF", "a", "a"),
			s(wrongArgs("sinter"), "SINTER"), s(wrongArgs("sunion"), "SUNION"), s(wrongArgs("sdiff"), "SDIFF"),
		}},
		{"store forms", []step{
			s(int64(3), "SADD", "a", "1", "2", "3"), s(int64(2), "SADD", "b", "2", "3"),
			s(int64(2), "SINTERSTORE", "d", "a", "b"), s([]any{"2", "3"}, "SMEMBERS", "d"),
			s(int64(1800), "TTL", "d"),
			s(int64(3), "SUNIONSTORE", "d", "a", "b"), s([]any{"1", "2", "3"}, "SMEMBERS", "d"),
			s(int64(1), "SDIFFSTORE", "d", "a", "b"), s([]any{"1"}, "SMEMBERS", "d"),
			// The destination is overwritten whatever its type, and gets the default TTL.
			s(ok, "SET", "str", "x"), s(int64(2), "SINTERSTORE", "str", "a", "b"), s(status("set"), "TYPE", "str"),
			s(int64(1), "HSET", "h", "f", "v"), s(int64(3), "SUNIONSTORE", "h", "a"), s([]any{"1", "2", "3"}, "SMEMBERS", "h"),
			s(int64(1), "EXPIRE", "d", "5000"), s(int64(1), "SDIFFSTORE", "d", "a", "b"), s(int64(1800), "TTL", "d"),
			// An empty result deletes the destination.
			s(int64(0), "SINTERSTORE", "d", "a", "missing"), s(int64(0), "EXISTS", "d"),
			s(ok, "SET", "str2", "x"), s(int64(0), "SDIFFSTORE", "str2", "a", "a"), s(int64(0), "EXISTS", "str2"),
			s(int64(0), "SUNIONSTORE", "none", "missing"), s(int64(0), "EXISTS", "none"),
			// The destination may be a source.
			s(int64(1), "SDIFFSTORE", "a", "a", "b"), s([]any{"1"}, "SMEMBERS", "a"),
			s(int64(3), "SUNIONSTORE", "a", "a", "b"), s([]any{"1", "2", "3"}, "SMEMBERS", "a"),
			// A source of another type aborts with no change.
			s(ok, "SET", "s", "x"),
			s(wrongType, "SINTERSTORE", "a", "s", "b"), s(wrongType, "SUNIONSTORE", "a", "b", "s"),
			s(wrongType, "SDIFFSTORE", "a", "b", "s"), s([]any{"1", "2", "3"}, "SMEMBERS", "a"),
			s(wrongArgs("sinterstore"), "SINTERSTORE", "d"), s(wrongArgs("sunionstore"), "SUNIONSTORE", "d"),
			s(wrongArgs("sdiffstore"), "SDIFFSTORE", "d"),
		}},
		{"smove", []step{
			s(int64(0), "SMOVE", "src", "dst", "a"),
			s(ok, "SET", "str", "x"), s(int64(0), "SMOVE", "missing", "str", "a"), // missing source: 0 first
			s(int64(2), "SADD", "src", "a", "b"),
			s(int64(0), "SMOVE", "src", "dst", "zz"), s(int64(0), "EXISTS", "dst"),
			s(int64(1), "SMOVE", "src", "dst", "a"), s([]any{"b"}, "SMEMBERS", "src"), s([]any{"a"}, "SMEMBERS", "dst"),
			s(int64(1800), "TTL", "dst"),
			s(int64(1), "SADD", "dst", "b"), s(int64(1), "EXPIRE", "dst", "100"),
			// Already in the destination: removed from the source only; the source goes with its last member.
			s(int64(1), "SMOVE", "src", "dst", "b"), s(int64(0), "EXISTS", "src"),
			s([]any{"a", "b"}, "SMEMBERS", "dst"), s(int64(100), "TTL", "dst"),
			// Same key: 1 if a member, nothing changes.
			s(int64(1), "SMOVE", "dst", "dst", "a"), s(int64(0), "SMOVE", "dst", "dst", "zz"),
			s([]any{"a", "b"}, "SMEMBERS", "dst"),
			s(wrongType, "SMOVE", "dst", "str", "a"), s(wrongType, "SMOVE", "str", "dst", "a"),
			s(wrongType, "SMOVE", "str", "str", "a"), s([]any{"a", "b"}, "SMEMBERS", "dst"),
			s(wrongArgs("smove"), "SMOVE", "a", "b"), s(wrongArgs("smove"), "SMOVE", "a", "b", "c", "d"),
		}},
		{"sscan small", []step{
			s([]any{"0", []any{}}, "SSCAN", "s", "0"),
			s(int64(3), "SADD", "s", "a", "b", "ab"),
			s([]any{"0", []any{"a", "ab", "b"}}, "SSCAN", "s", "0", "COUNT", "1"),
			s([]any{"0", []any{"a", "ab"}}, "SSCAN", "s", "0", "MATCH", "a*"),
			s([]any{"0", []any{"ab", "b"}}, "SSCAN", "s", "0", "match", "*b", "count", "5"),
			s(respErr(command.ErrInvalidCursor), "SSCAN", "s", "x"),
			s(respErr(command.ErrInvalidCursor), "SSCAN", "s", "1x"),
			s(respErr(command.ErrSyntax), "SSCAN", "s", "0", "COUNT", "0"),
			s(respErr(command.ErrNotInteger), "SSCAN", "s", "0", "COUNT", "x"),
			s(respErr(command.ErrSyntax), "SSCAN", "s", "0", "MATCH"),
			s(respErr(command.ErrSyntax), "SSCAN", "s", "0", "NOVALUES"),
			s(wrongArgs("sscan"), "SSCAN", "s"),
		}},
		{"wrongtype from set commands", []step{
			s(ok, "SET", "k", "v"), s(int64(1), "HSET", "h", "f", "v"), s(int64(1), "SADD", "s", "m"),
			s(wrongType, "SADD", "k", "m"), s(wrongType, "SREM", "k", "m"), s(wrongType, "SMEMBERS", "k"),
			s(wrongType, "SISMEMBER", "k", "m"), s(wrongType, "SMISMEMBER", "k", "m"), s(wrongType, "SCARD", "k"),
			s(wrongType, "SPOP", "k"), s(wrongType, "SPOP", "k", "2"), s(wrongType, "SPOP", "k", "0"),
			s(wrongType, "SRANDMEMBER", "k"), s(wrongType, "SRANDMEMBER", "k", "2"),
			s(wrongType, "SSCAN", "k", "0"), s(wrongType, "SADD", "h", "m"),
			// Every source is type-checked, even after a missing one.
			s(wrongType, "SINTER", "s", "k"), s(wrongType, "SINTER", "missing", "k"),
			s(wrongType, "SUNION", "h", "s"), s(wrongType, "SDIFF", "s", "k"), s(wrongType, "SDIFF", "missing", "h"),
			s("v", "GET", "k"), s(int64(1), "SCARD", "s"),
			// Argument errors come first, as in Redis.
			s(respErr(command.ErrMustBePositive), "SPOP", "k", "-1"), s(respErr(command.ErrInvalidCursor), "SSCAN", "k", "x"),
			s(respErr(command.ErrNotInteger), "SRANDMEMBER", "k", "x"),
		}},
		{"wrongtype from other commands on a set", []step{
			s(int64(1), "SADD", "s", "m"),
			s(wrongType, "GET", "s"), s(wrongType, "INCR", "s"), s(wrongType, "APPEND", "s", "x"),
			s(wrongType, "HGET", "s", "f"), s(wrongType, "HSET", "s", "f", "v"), s(wrongType, "STRLEN", "s"),
			s([]any{nil}, "MGET", "s"),
			// SET overwrites a set.
			s(ok, "SET", "s", "plain"), s(status("string"), "TYPE", "s"),
		}},
		{"keyspace commands on sets", []step{
			s(int64(2), "SADD", "s", "a", "b"), s(ok, "SET", "k", "1"),
			s(int64(1), "COPY", "s", "c"), s(status("set"), "TYPE", "c"), s([]any{"a", "b"}, "SMEMBERS", "c"),
			s(ok, "RENAME", "c", "r"), s([]any{"a", "b"}, "SMEMBERS", "r"),
			s(int64(1), "MOVE", "r", "2"), s(ok, "SELECT", "2"), s(int64(2), "SCARD", "r"), s(ok, "SELECT", "0"),
			s([]any{"0", []any{"s"}}, "SCAN", "0", "TYPE", "set"),
			// 1 (s) + 5 (count, 1+a, 1+b) + EntryOverhead.
			s(int64(1+5+72), "MEMORY", "USAGE", "s"),
			s(int64(1), "EXPIRE", "s", "1"), clockStep("1001ms"),
			s(int64(0), "SCARD", "s"), s(int64(0), "EXISTS", "s"),
			s(int64(1), "SADD", "s", "x"), s(int64(1800), "TTL", "s"),
		}},
	})
}

// TestSetScanCursor pages a set too large to come whole: every member
// present for the whole scan is returned, though members are added and
// removed between calls.
func TestSetScanCursor(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	const n = 300
	args := []string{"SADD", "s"}
	for i := range n {
		args = append(args, fmt.Sprintf("m%d", i))
	}
	if got := r.do(args...); got != int64(n) {
		t.Fatalf("SADD = %v", got)
	}
	seen := map[string]bool{}
	cursor, calls := "0", 0
	for {
		rep := norm(r.do("SSCAN", "s", cursor, "COUNT", "50")).([]any)
		cursor = rep[0].(string)
		page := rep[1].([]any)
		if len(page) > 60 {
			t.Fatalf("page of %d members for COUNT 50", len(page))
		}
		for _, m := range page {
			seen[m.(string)] = true
		}
		calls++
		if calls == 2 {
			for i := 250; i < n; i++ {
				r.do("SREM", "s", fmt.Sprintf("m%d", i))
			}
			for i := range 100 {
				r.do("SADD", "s", fmt.Sprintf("new%d", i))
			}
		}
		if cursor == "0" {
			break
		}
		if calls > 100 {
			t.Fatal("SSCAN does not terminate")
		}
	}
	if calls < 4 {
		t.Fatalf("SSCAN of %d members with COUNT 50 took %d calls", n, calls)
	}
	for i := range 250 {
		if !seen[fmt.Sprintf("m%d", i)] {
			t.Fatalf("member m%d not returned", i)
		}
	}
	rep := norm(r.do("SSCAN", "s", "0", "COUNT", "1000", "MATCH", "m1?")).([]any)
	if got := rep[1].([]any); rep[0] != "0" || len(got) != 10 {
		t.Fatalf("SSCAN MATCH m1? = %v", rep)
	}
}

// TestSetSPopRandom pops and samples a larger set: members are distinct
// and come from the set, and popped members leave it.
func TestSetSPopRandom(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	args := []string{"SADD", "s"}
	for i := range 20 {
		args = append(args, fmt.Sprint(i))
	}
	r.do(args...)
	got := norm(r.do("SRANDMEMBER", "s", "5")).([]any)
	if len(got) != 5 || len(distinct(got)) != 5 {
		t.Fatalf("SRANDMEMBER 5 = %v", got)
	}
	if got := norm(r.do("SRANDMEMBER", "s", "-50")).([]any); len(got) != 50 {
		t.Fatalf("SRANDMEMBER -50 gave %d", len(got))
	}
	popped := norm(r.do("SPOP", "s", "7")).([]any)
	if len(popped) != 7 || len(distinct(popped)) != 7 {
		t.Fatalf("SPOP 7 = %v", popped)
	}
	if got := r.do("SCARD", "s"); got != int64(13) {
		t.Fatalf("SCARD after SPOP 7 = %v", got)
	}
	one := norm(r.do("SPOP", "s")).(string)
	for _, m := range append(popped, one) {
		if got := r.do("SISMEMBER", "s", m.(string)); got != int64(0) {
			t.Fatalf("popped %v still a member", m)
		}
	}
	rest := norm(r.do("SMEMBERS", "s")).([]any)
	if all := distinct(append(append(rest, popped...), one)); len(all) != 20 {
		t.Fatalf("members lost or duplicated: %d", len(all))
	}
}

func distinct(v []any) map[string]bool {
	m := map[string]bool{}
	for _, x := range v {
		m[x.(string)] = true
	}
	return m
}

// TestGoRedisSet runs go-redis v9 over RESP2 and RESP3.
func TestGoRedisSet(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx := context.Background()
			c := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
			k1, k2 := fmt.Sprintf("tags:%d", proto), fmt.Sprintf("other:%d", proto)
			if n, err := c.SAdd(ctx, k1, "go", "redis", "cache").Result(); err != nil || n != 3 {
				t.Fatalf("SAdd = %d, %v", n, err)
			}
			c.SAdd(ctx, k2, "redis", "db")
			ms, err := c.SMembers(ctx, k1).Result()
			if sort.Strings(ms); err != nil || !reflect.DeepEqual(ms, []string{"cache", "go", "redis"}) {
				t.Fatalf("SMembers = %v, %v", ms, err)
			}
			if m, err := c.SMembersMap(ctx, k1).Result(); err != nil || len(m) != 3 {
				t.Fatalf("SMembersMap = %v, %v", m, err)
			}
			if v, err := c.SInter(ctx, k1, k2).Result(); err != nil || !reflect.DeepEqual(v, []string{"redis"}) {
				t.Fatalf("SInter = %v, %v", v, err)
			}
			if v, err := c.SUnion(ctx, k1, k2).Result(); err != nil || len(v) != 4 {
				t.Fatalf("SUnion = %v, %v", v, err)
			}
			if v, err := c.SDiff(ctx, k1, k2).Result(); err != nil || len(v) != 2 {
				t.Fatalf("SDiff = %v, %v", v, err)
			}
			dst := fmt.Sprintf("dst:%d", proto)
			if n, err := c.SInterStore(ctx, dst, k1, k2).Result(); err != nil || n != 1 {
				t.Fatalf("SInterStore = %v, %v", n, err)
			}
			if ok, err := c.SIsMember(ctx, k1, "go").Result(); err != nil || !ok {
				t.Fatalf("SIsMember = %v, %v", ok, err)
			}
			if v, err := c.SMIsMember(ctx, k1, "go", "nope").Result(); err != nil || !reflect.DeepEqual(v, []bool{true, false}) {
				t.Fatalf("SMIsMember = %v, %v", v, err)
			}
			if ok, err := c.SMove(ctx, k1, k2, "go").Result(); err != nil || !ok {
				t.Fatalf("SMove = %v, %v", ok, err)
			}
			big := fmt.Sprintf("big:%d", proto)
			for i := range 200 {
				c.SAdd(ctx, big, fmt.Sprint("m", i))
			}
			var cursor uint64
			seen := map[string]bool{}
			for {
				keys, next, err := c.SScan(ctx, big, cursor, "m1*", 30).Result()
				if err != nil {
					t.Fatalf("SScan: %v", err)
				}
				for _, k := range keys {
					seen[k] = true
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if len(seen) != 111 { // m1, m10-m19, m100-m199
				t.Fatalf("SScan MATCH m1* saw %d", len(seen))
			}
			if v, err := c.SRandMemberN(ctx, big, -5).Result(); err != nil || len(v) != 5 {
				t.Fatalf("SRandMemberN = %v, %v", v, err)
			}
			if v, err := c.SPopN(ctx, big, 3).Result(); err != nil || len(v) != 3 {
				t.Fatalf("SPopN = %v, %v", v, err)
			}
			if v, err := c.SPop(ctx, big).Result(); err != nil || v == "" {
				t.Fatalf("SPop = %q, %v", v, err)
			}
			if n, err := c.SCard(ctx, big).Result(); err != nil || n != 196 {
				t.Fatalf("SCard = %v, %v", n, err)
			}
			if typ, err := c.Type(ctx, big).Result(); err != nil || typ != "set" {
				t.Fatalf("Type = %q, %v", typ, err)
			}
			if err := c.Get(ctx, big).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("Get of a set: %v", err)
			}
			if n, err := c.SRem(ctx, k1, "redis", "cache").Result(); err != nil || n != 2 {
				t.Fatalf("SRem = %v, %v", n, err)
			}
			if n, err := c.Exists(ctx, k1).Result(); err != nil || n != 0 {
				t.Fatalf("empty set not deleted: %v, %v", n, err)
			}
		})
	}
}
