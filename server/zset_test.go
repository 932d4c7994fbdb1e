package server

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/command"
)

// TestZSetCommands: the expected replies were checked against
// redis-server 7.0.15.
func TestZSetCommands(t *testing.T) {
	wrongArgs := func(n string) respErr { return respErr(command.ErrWrongArgs(n)) }
	wrongType := respErr(command.ErrWrongType)
	syntax := respErr(command.ErrSyntax)
	notFloat := respErr(command.ErrNotFloat)
	minMax := respErr(command.ErrZMinMax)
	runScripts(t, []script{
		{"zadd zscore zcard and score formatting", []step{
			s(null, "ZSCORE", "z", "a"), s(int64(0), "ZCARD", "z"),
			s(int64(13), "ZADD", "z", "1", "a", "1.5", "b", "inf", "c", "-inf", "d", "0.1", "e", "1e300", "f",
				"3.0000000000000004", "g", "1e-5", "h", "123456789012345678", "i", "-0", "k", "1e16", "l", "1e21", "m", "0x10", "n"),
			s([]any{"d", "-inf", "k", "0", "h", "1.0000000000000001e-05", "e", "0.10000000000000001", "a", "1", "b", "1.5",
				"g", "3.0000000000000004", "n", "16", "l", "10000000000000000", "i", "1.2345678901234568e+17", "m", "1e+21",
				"f", "1.0000000000000001e+300", "c", "inf"}, "ZRANGE", "z", "0", "-1", "WITHSCORES"),
			s("1.5", "ZSCORE", "z", "b"), s("inf", "ZSCORE", "z", "c"), s(int64(13), "ZCARD", "z"),
			s(status("zset"), "TYPE", "z"), s("listpack", "OBJECT", "ENCODING", "z"), s(int64(1800), "TTL", "z"),
			s([]any{"1", nil, "-inf"}, "ZMSCORE", "z", "a", "zz", "d"), s([]any{nil, nil}, "ZMSCORE", "missing", "a", "b"),
			// Sequential semantics: a member given twice.
			s(int64(1), "ZADD", "q", "1", "a", "2", "a"), s("2", "ZSCORE", "q", "a"),
			s(int64(3), "ZADD", "q", "CH", "1", "a", "2", "a", "3", "b"),
			s(notFloat, "ZADD", "q", "x", "a"), s(notFloat, "ZADD", "q", "nan", "a"),
			s(notFloat, "ZADD", "q", "1e400", "a"), s(notFloat, "ZADD", "q", "1e-400", "a"),
			s(notFloat, "ZADD", "q", " 1", "a"), s(notFloat, "ZADD", "q", "1 ", "a"), s(notFloat, "ZADD", "q", "", "a"),
			s(notFloat, "ZADD", "q", "1_0", "a"),
			s(int64(3), "ZADD", "q", "+inf", "w", "-INF", "x", "Infinity", "y"),
			s(syntax, "ZADD", "q", "1", "a", "2"), s(syntax, "ZADD", "q", "NX", "1"),
			s(wrongArgs("zadd"), "ZADD", "q", "1"), s(wrongArgs("zscore"), "ZSCORE", "q"),
			s(wrongArgs("zmscore"), "ZMSCORE", "q"), s(wrongArgs("zcard"), "ZCARD"),
		}},
		{"zadd options", []step{
			s(int64(0), "ZADD", "q", "XX", "1", "a"), s(int64(0), "EXISTS", "q"),
			s(null, "ZADD", "q", "XX", "INCR", "1", "a"),
			s("1", "ZADD", "q", "NX", "INCR", "1", "a"), s(null, "ZADD", "q", "NX", "INCR", "1", "a"),
			s(null, "ZADD", "q", "GT", "INCR", "-5", "a"), s("-4", "ZADD", "q", "LT", "INCR", "-5", "a"),
			s(int64(2), "ZADD", "q", "GT", "CH", "10", "a", "20", "b"),
			s(int64(1), "ZADD", "q", "LT", "CH", "10", "a", "30", "b", "5", "a"),
			s(int64(0), "ZADD", "q", "gt", "ch", "1", "a"),
			s("5", "ZADD", "q", "INCR", "0", "a"),
			s([]any{"a", "5", "b", "20"}, "ZRANGE", "q", "0", "-1", "WITHSCORES"),
			s(respErr(command.ErrZXXNX), "ZADD", "q", "NX", "XX", "1", "a"),
			s(respErr(command.ErrZGTLTNX), "ZADD", "q", "GT", "NX", "1", "a"),
			s(respErr(command.ErrZGTLTNX), "ZADD", "q", "LT", "GT", "1", "a"),
			s(respErr(command.ErrZXXNX), "ZADD", "q", "XX", "LT", "NX", "1", "a"),
			s(respErr(command.ErrZIncrPair), "ZADD", "q", "INCR", "1", "a", "2", "b"),
			s(int64(1), "ZADD", "q", "inf", "i"),
			s(respErr(command.ErrZNaN), "ZINCRBY", "q", "-inf", "i"), s(respErr(command.ErrZNaN), "ZADD", "q", "INCR", "-inf", "i"),
			s("inf", "ZSCORE", "q", "i"),
		}},
		{"zincrby zrem", []step{
			s("2.5", "ZINCRBY", "z", "2.5", "a"), s("3", "ZINCRBY", "z", "0.5", "a"), s(int64(1800), "TTL", "z"),
			s(notFloat, "ZINCRBY", "z", "x", "a"), s(notFloat, "ZINCRBY", "z", "1e400", "a"),
			s("inf", "ZINCRBY", "z", "inf", "a"),
			s(int64(3), "ZADD", "z", "1", "b", "2", "c", "3", "d"),
			s(int64(2), "ZREM", "z", "a", "b", "zz", "b"), s(int64(0), "ZREM", "missing", "a"),
			s([]any{"c", "d"}, "ZRANGE", "z", "0", "-1"),
			s(int64(2), "ZREM", "z", "c", "d"), s(int64(0), "EXISTS", "z"), s(status("none"), "TYPE", "z"),
			s(wrongArgs("zrem"), "ZREM", "z"), s(wrongArgs("zincrby"), "ZINCRBY", "z", "1"),
		}},
		{"zrange by rank", []step{
			s([]any{}, "ZRANGE", "missing", "0", "-1"),
			s(int64(4), "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
			s([]any{"a", "b", "c", "d"}, "ZRANGE", "z", "0", "-1"),
			s([]any{"c", "d"}, "ZRANGE", "z", "-2", "-1"), s([]any{"a", "b", "c", "d"}, "ZRANGE", "z", "-100", "100"),
			s([]any{}, "ZRANGE", "z", "3", "2"), s([]any{}, "ZRANGE", "z", "100", "200"),
			s([]any{"d", "4", "c", "3"}, "ZRANGE", "z", "0", "1", "REV", "WITHSCORES"),
			s([]any{"d", "4", "c", "3", "b", "2", "a", "1"}, "ZREVRANGE", "z", "0", "-1", "WITHSCORES"),
			s([]any{"b", "a"}, "ZREVRANGE", "z", "2", "5"),
			// LIMIT with a rank range is refused, except "LIMIT x -1" (Redis's default).
			s(respErr(command.ErrZLimitRank), "ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
			s([]any{"a", "b", "c", "d"}, "ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"),
			s(respErr(command.ErrZLimitRank), "ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
			s(syntax, "ZREVRANGE", "z", "0", "-1", "BYSCORE"),
			s(respErr(command.ErrNotInteger), "ZRANGE", "z", "x", "1"),
			s(syntax, "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), s(syntax, "ZRANGE", "z", "0", "1", "REV", "REV"),
			s(syntax, "ZRANGE", "z", "0", "1", "BOGUS"), s(syntax, "ZRANGE", "z", "0", "1", "LIMIT", "1"),
			s(wrongArgs("zrange"), "ZRANGE", "z", "0"), s(wrongArgs("zrevrange"), "ZREVRANGE", "z", "0"),
		}},
		{"zrange by score", []step{
			s(int64(6), "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-inf", "lo", "+inf", "hi"),
			s([]any{"lo", "a", "b", "c", "d", "hi"}, "ZRANGEBYSCORE", "z", "-inf", "+inf"),
			s([]any{"b", "2", "c", "2"}, "ZRANGEBYSCORE", "z", "(1", "(3", "WITHSCORES"),
			s([]any{"b", "c", "d"}, "ZRANGEBYSCORE", "z", "(1", "3"),
			s([]any{"b", "c"}, "ZRANGEBYSCORE", "z", "2", "2"), s([]any{}, "ZRANGEBYSCORE", "z", "(2", "2"),
			s([]any{}, "ZRANGEBYSCORE", "z", "3", "1"),
			// Bounds as strtod reads them: empty is 0, leading space, overflow is inf.
			s([]any{"lo"}, "ZRANGEBYSCORE", "z", "-inf", ""), s([]any{"a"}, "ZRANGEBYSCORE", "z", " 1", "1"),
			s([]any{"lo", "a", "b", "c", "d", "hi"}, "ZRANGEBYSCORE", "z", "-1e400", "1e400"),
			s(minMax, "ZRANGEBYSCORE", "z", "  ", "1"), s(minMax, "ZRANGEBYSCORE", "z", "nan", "1"),
			s(minMax, "ZRANGEBYSCORE", "z", "a", "b"), s(minMax, "ZRANGE", "z", "a", "1", "BYSCORE"),
			s([]any{"a", "b"}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"),
			s([]any{}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"),
			s([]any{"a", "b", "c", "d", "hi"}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1"),
			s([]any{}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "0"),
			s([]any{}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "100", "1"),
			s(respErr(command.ErrNotInteger), "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "x", "1"),
			s(syntax, "ZRANGEBYSCORE", "z", "-inf", "+inf", "REV"),
			s(syntax, "ZRANGEBYSCORE", "z", "-inf", "+inf", "BYSCORE"),
			s([]any{"hi", "inf", "d", "3", "c", "2", "b", "2"}, "ZRANGE", "z", "+inf", "2", "BYSCORE", "REV", "WITHSCORES"),
			s([]any{"d", "c"}, "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"),
			s([]any{"a", "b"}, "ZRANGE", "z", "0", "2", "BYSCORE", "LIMIT", "0", "2"),
			s(int64(6), "ZCOUNT", "z", "-inf", "+inf"), s(int64(2), "ZCOUNT", "z", "2", "2"),
			s(int64(3), "ZCOUNT", "z", "(1", "(inf"), s(int64(0), "ZCOUNT", "z", "3", "1"),
			s(int64(0), "ZCOUNT", "missing", "0", "1"), s(minMax, "ZCOUNT", "z", "x", "1"),
			s(wrongArgs("zrangebyscore"), "ZRANGEBYSCORE", "z", "0"), s(wrongArgs("zcount"), "ZCOUNT", "z", "0"),
		}},
		{"zrange by lex", []step{
			s(int64(7), "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g"),
			s([]any{"a", "b", "c", "d", "e", "f", "g"}, "ZRANGE", "l", "-", "+", "BYLEX"),
			s([]any{"b", "c", "d"}, "ZRANGE", "l", "[b", "[d", "BYLEX"),
			s([]any{"c"}, "ZRANGE", "l", "(b", "(d", "BYLEX"),
			s([]any{"d"}, "ZRANGE", "l", "(b", "[d", "BYLEX", "LIMIT", "1", "5"),
			s([]any{}, "ZRANGE", "l", "[d", "[b", "BYLEX"),
			s([]any{"d", "c", "b"}, "ZRANGE", "l", "[d", "[b", "BYLEX", "REV"),
			s([]any{"e", "d", "c"}, "ZRANGE", "l", "+", "-", "BYLEX", "REV", "LIMIT", "2", "3"),
			s([]any{"c", "b", "a"}, "ZRANGE", "l", "(d", "-", "BYLEX", "REV"),
			s([]any{"c"}, "ZRANGE", "l", "[c", "[c", "BYLEX"), s([]any{}, "ZRANGE", "l", "(c", "[c", "BYLEX"),
			s([]any{}, "ZRANGE", "l", "+", "+", "BYLEX"), s([]any{}, "ZRANGE", "l", "[z", "+", "BYLEX"),
			s([]any{"a", "b", "c", "d", "e", "f", "g"}, "ZRANGE", "l", "[", "+", "BYLEX"),
			s([]any{}, "ZRANGE", "l", "[a", "+", "BYLEX", "LIMIT", "-1", "5"),
			s(respErr(command.ErrZLexRange), "ZRANGE", "l", "a", "+", "BYLEX"),
			s(respErr(command.ErrZLexRange), "ZRANGE", "l", "[a", "++", "BYLEX"),
			s(respErr(command.ErrZLexRange), "ZRANGE", "l", "", "+", "BYLEX"),
			s(respErr(command.ErrZLexScores), "ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"),
			// Mixed scores: the listpack scan Redis does, not a sort by member.
			s(int64(4), "ZADD", "mx", "1", "b", "2", "a", "3", "d", "0", "c"),
			s([]any{"c", "b", "a", "d"}, "ZRANGE", "mx", "-", "+", "BYLEX"),
			s([]any{"c", "b", "a", "d"}, "ZRANGE", "mx", "[b", "[d", "BYLEX"),
			s([]any{"d", "a", "b", "c"}, "ZRANGE", "mx", "+", "[a", "BYLEX", "REV"),
			s([]any{"c", "b", "a", "d"}, "ZRANGE", "mx", "[a", "+", "BYLEX"),
		}},
		{"zrank", []step{
			s(null, "ZRANK", "z", "a"),
			s(int64(3), "ZADD", "z", "1", "a", "2", "b", "3", "c"),
			s(int64(0), "ZRANK", "z", "a"), s(int64(2), "ZRANK", "z", "c"), s(null, "ZRANK", "z", "x"),
			s(int64(2), "ZREVRANK", "z", "a"), s(int64(0), "ZREVRANK", "z", "c"), s(null, "ZREVRANK", "z", "x"),
			s(wrongArgs("zrank"), "ZRANK", "z", "a", "WITHSCORE"), s(wrongArgs("zrevrank"), "ZREVRANK", "z"),
		}},
		{"zpopmin zpopmax", []step{
			s([]any{}, "ZPOPMIN", "z"), s([]any{}, "ZPOPMAX", "z", "3"),
			s(int64(5), "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
			s([]any{"a", "1"}, "ZPOPMIN", "z"), s([]any{"e", "5"}, "ZPOPMAX", "z"),
			s([]any{"b", "2", "c", "3"}, "ZPOPMIN", "z", "2"), s([]any{}, "ZPOPMIN", "z", "0"),
			s(respErr(command.ErrZPositive), "ZPOPMIN", "z", "-1"), s(respErr(command.ErrZPositive), "ZPOPMIN", "z", "x"),
			s(syntax, "ZPOPMIN", "z", "1", "2"),
			s([]any{"d", "4"}, "ZPOPMAX", "z", "100"), s(int64(0), "EXISTS", "z"),
			s(wrongArgs("zpopmin"), "ZPOPMIN"),
		}},
		{"zremrangebyrank zremrangebyscore", []step{
			s(int64(0), "ZREMRANGEBYRANK", "r", "0", "-1"), s(int64(0), "ZREMRANGEBYSCORE", "r", "0", "1"),
			s(int64(6), "ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"),
			s(int64(1), "ZREMRANGEBYRANK", "r", "0", "0"), s(int64(2), "ZREMRANGEBYRANK", "r", "-2", "-1"),
			s(int64(0), "ZREMRANGEBYRANK", "r", "5", "1"), s(int64(0), "ZREMRANGEBYRANK", "r", "10", "20"),
			s([]any{"b", "c", "d"}, "ZRANGE", "r", "0", "-1"),
			s(int64(1), "ZREMRANGEBYSCORE", "r", "(2", "3"), s(int64(0), "ZREMRANGEBYSCORE", "r", "5", "3"),
			s(int64(2), "ZREMRANGEBYSCORE", "r", "-inf", "+inf"), s(int64(0), "EXISTS", "r"),
			s(respErr(command.ErrNotInteger), "ZREMRANGEBYRANK", "r", "x", "1"),
			s(minMax, "ZREMRANGEBYSCORE", "r", "x", "1"),
			s(wrongArgs("zremrangebyrank"), "ZREMRANGEBYRANK", "r", "0"),
		}},
		{"zscan small", []step{
			s([]any{"0", []any{}}, "ZSCAN", "z", "0"), s([]any{"0", []any{}}, "ZSCAN", "z", "0", "BOGUS"),
			s(int64(3), "ZADD", "z", "1", "a", "2.5", "b", "3", "ab"),
			s([]any{"0", []any{"a", "1", "b", "2.5", "ab", "3"}}, "ZSCAN", "z", "0", "COUNT", "1"),
			s([]any{"0", []any{"a", "1", "ab", "3"}}, "ZSCAN", "z", "0", "MATCH", "a*"),
			s(syntax, "ZSCAN", "z", "0", "NOVALUES"), s(syntax, "ZSCAN", "z", "0", "COUNT", "0"),
			s(respErr(command.ErrNotInteger), "ZSCAN", "z", "0", "COUNT", "x"), s(syntax, "ZSCAN", "z", "0", "MATCH"),
			s(respErr(command.ErrInvalidCursor), "ZSCAN", "z", "x"), s(wrongArgs("zscan"), "ZSCAN", "z"),
		}},
		{"wrongtype from zset commands", []step{
			s(ok, "SET", "s", "v"),
			s(wrongType, "ZADD", "s", "1", "a"), s(wrongType, "ZINCRBY", "s", "1", "a"), s(wrongType, "ZREM", "s", "a"),
			s(wrongType, "ZSCORE", "s", "a"), s(wrongType, "ZMSCORE", "s", "a"), s(wrongType, "ZCARD", "s"),
			s(wrongType, "ZCOUNT", "s", "0", "1"), s(wrongType, "ZRANGE", "s", "0", "-1"),
			s(wrongType, "ZRANGEBYSCORE", "s", "0", "1"), s(wrongType, "ZREVRANGE", "s", "0", "1"),
			s(wrongType, "ZRANK", "s", "a"), s(wrongType, "ZREVRANK", "s", "a"),
			s(wrongType, "ZPOPMIN", "s"), s(wrongType, "ZPOPMAX", "s", "2"),
			s(wrongType, "ZREMRANGEBYSCORE", "s", "0", "1"), s(wrongType, "ZREMRANGEBYRANK", "s", "0", "1"),
			s(wrongType, "ZSCAN", "s", "0"), s(int64(1), "HSET", "h", "f", "v"), s(wrongType, "ZADD", "h", "1", "a"),
			// Argument errors come first, as in Redis.
			s(notFloat, "ZADD", "s", "x", "a"), s(minMax, "ZCOUNT", "s", "x", "1"),
			s(respErr(command.ErrZPositive), "ZPOPMIN", "s", "-1"), s(syntax, "ZRANGE", "s", "0", "1", "BOGUS"),
			s("v", "GET", "s"),
		}},
		{"wrongtype from other commands", []step{
			s(int64(1), "ZADD", "z", "1", "a"),
			s(wrongType, "GET", "z"), s(wrongType, "INCR", "z"), s(wrongType, "APPEND", "z", "x"),
			s(wrongType, "HSET", "z", "f", "v"), s(wrongType, "HGET", "z", "f"),
			s([]any{nil}, "MGET", "z"), s(ok, "SET", "z", "plain"), s(status("string"), "TYPE", "z"),
		}},
		{"keyspace commands across types", []step{
			s(int64(2), "ZADD", "z", "1", "a", "2", "b"), s(int64(1), "EXPIRE", "z", "100"),
			s(int64(1), "ZADD", "z", "3", "c"), s(int64(1), "ZREM", "z", "c"), s(int64(100), "TTL", "z"),
			s(int64(1), "COPY", "z", "zc"), s(status("zset"), "TYPE", "zc"),
			s(ok, "RENAME", "zc", "zr"), s([]any{"a", "1", "b", "2"}, "ZRANGE", "zr", "0", "-1", "WITHSCORES"),
			s([]any{"0", []any{"z"}}, "SCAN", "0", "MATCH", "z", "TYPE", "zset"),
			s([]any{"0", []any{}}, "SCAN", "0", "TYPE", "hash"),
			// 1 (z) + 1 (count) + 2 × (8 score + 1 length + 1 member) + EntryOverhead.
			s(int64(1+1+20+72), "MEMORY", "USAGE", "z"),
			s(int64(1), "DEL", "z"), s(int64(0), "ZCARD", "z"),
			s(int64(1), "ZADD", "z", "1", "a"), s(int64(1), "EXPIRE", "z", "1"), clockStep("1001ms"),
			s(null, "ZSCORE", "z", "a"),
		}},
	})
}

// TestGoRedisZSet runs go-redis v9 over RESP2 and RESP3.
func TestGoRedisZSet(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx := context.Background()
			c := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
			key := fmt.Sprintf("board:%d", proto)
			if n, err := c.ZAdd(ctx, key, redis.Z{Score: 1.5, Member: "ann"}, redis.Z{Score: 3, Member: "bo"}, redis.Z{Score: -2, Member: "cy"}).Result(); err != nil || n != 3 {
				t.Fatalf("ZAdd = %d, %v", n, err)
			}
			zs, err := c.ZRangeWithScores(ctx, key, 0, -1).Result()
			want := []redis.Z{{Score: -2, Member: "cy"}, {Score: 1.5, Member: "ann"}, {Score: 3, Member: "bo"}}
			if err != nil || !reflect.DeepEqual(zs, want) {
				t.Fatalf("ZRangeWithScores = %v, %v", zs, err)
			}
			if f, err := c.ZScore(ctx, key, "ann").Result(); err != nil || f != 1.5 {
				t.Fatalf("ZScore = %v, %v", f, err)
			}
			if err := c.ZScore(ctx, key, "nobody").Err(); err != redis.Nil {
				t.Fatalf("ZScore missing: %v", err)
			}
			if f, err := c.ZIncrBy(ctx, key, 2, "ann").Result(); err != nil || f != 3.5 {
				t.Fatalf("ZIncrBy = %v, %v", f, err)
			}
			if v, err := c.ZMScore(ctx, key, "bo", "nobody").Result(); err != nil || !reflect.DeepEqual(v, []float64{3, 0}) {
				t.Fatalf("ZMScore = %v, %v", v, err)
			}
			rev, err := c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: key, Start: "+inf", Stop: "(0", ByScore: true, Rev: true}).Result()
			if err != nil || len(rev) != 2 || rev[0].Member != "ann" || rev[1].Score != 3 {
				t.Fatalf("ZRangeArgsWithScores = %v, %v", rev, err)
			}
			if r, err := c.ZRevRank(ctx, key, "cy").Result(); err != nil || r != 2 {
				t.Fatalf("ZRevRank = %v, %v", r, err)
			}
			if p, err := c.ZPopMax(ctx, key, 2).Result(); err != nil || len(p) != 2 || p[0].Member != "ann" || p[0].Score != 3.5 {
				t.Fatalf("ZPopMax = %v, %v", p, err)
			}
			if p, err := c.ZPopMin(ctx, key).Result(); err != nil || len(p) != 1 || p[0].Member != "cy" {
				t.Fatalf("ZPopMin = %v, %v", p, err)
			}
			if n, err := c.ZCard(ctx, key).Result(); err != nil || n != 0 {
				t.Fatalf("ZCard = %v, %v", n, err)
			}
			for i := range 300 {
				c.ZAdd(ctx, key, redis.Z{Score: float64(i), Member: fmt.Sprintf("m%d", i)})
			}
			seen := map[string]string{}
			var cursor uint64
			for {
				kv, next, err := c.ZScan(ctx, key, cursor, "", 50).Result()
				if err != nil {
					t.Fatalf("ZScan: %v", err)
				}
				for i := 0; i+1 < len(kv); i += 2 {
					seen[kv[i]] = kv[i+1]
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if len(seen) != 300 || seen["m299"] != "299" {
				t.Fatalf("ZScan saw %d members", len(seen))
			}
			if n, err := c.ZCount(ctx, key, "(10", "20").Result(); err != nil || n != 10 {
				t.Fatalf("ZCount = %v, %v", n, err)
			}
			if n, err := c.ZRemRangeByScore(ctx, key, "-inf", "(100").Result(); err != nil || n != 100 {
				t.Fatalf("ZRemRangeByScore = %v, %v", n, err)
			}
			if n, err := c.ZRemRangeByRank(ctx, key, 0, 9).Result(); err != nil || n != 10 {
				t.Fatalf("ZRemRangeByRank = %v, %v", n, err)
			}
			if typ, err := c.Type(ctx, key).Result(); err != nil || typ != "zset" {
				t.Fatalf("Type = %q, %v", typ, err)
			}
		})
	}
}
