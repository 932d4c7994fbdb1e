package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestDifferentialZSets runs every sorted set command on tcached and on
// redis-server 7.0 across the conversion boundary (listpack below
// zset-max-listpack-entries/-value, skiplist above): scripts below, at
// and above lowered thresholds, at Redis's defaults, member lengths
// around zset-max-listpack-value, -0 (the listpack prints 0, the
// skiplist -0), and the keyspace commands on both encodings.
func TestDifferentialZSets(t *testing.T) {
	d := newDiffer(t, 0)
	lowered := func() {
		d.run("CONFIG", "SET", "zset-max-listpack-entries", "8", "zset-max-listpack-value", "16")
	}
	probe := func(k string) {
		for _, c := range [][]string{
			{"ZCARD", k}, {"OBJECT", "ENCODING", k}, {"TYPE", k},
			{"ZRANGE", k, "0", "-1", "WITHSCORES"}, {"ZREVRANGE", k, "0", "-1", "WITHSCORES"},
			{"ZRANGE", k, "2", "5"}, {"ZRANGE", k, "-3", "-1", "REV", "WITHSCORES"}, {"ZRANGE", k, "5", "2"},
			{"ZSCORE", k, "m0"}, {"ZSCORE", k, "m5"}, {"ZSCORE", k, "nope"}, {"ZMSCORE", k, "m1", "nope", "m7", "m19"},
			{"ZRANK", k, "m3"}, {"ZRANK", k, "nope"}, {"ZREVRANK", k, "m3"}, {"ZREVRANK", k, "m0"},
			{"ZCOUNT", k, "-inf", "+inf"}, {"ZCOUNT", k, "(1", "4"}, {"ZCOUNT", k, "2", "(2"}, {"ZCOUNT", k, "5", "1"},
			{"ZRANGEBYSCORE", k, "-inf", "+inf", "WITHSCORES"}, {"ZRANGEBYSCORE", k, "(1", "6"},
			{"ZRANGEBYSCORE", k, "1", "+inf", "LIMIT", "2", "3"}, {"ZRANGEBYSCORE", k, "-inf", "+inf", "LIMIT", "-1", "3"},
			{"ZRANGEBYSCORE", k, "-inf", "+inf", "LIMIT", "100", "3"}, {"ZRANGEBYSCORE", k, "-inf", "+inf", "LIMIT", "1", "-1"},
			{"ZRANGE", k, "+inf", "(2", "BYSCORE", "REV", "WITHSCORES"}, {"ZRANGE", k, "10", "0", "BYSCORE", "REV", "LIMIT", "1", "4"},
			{"ZRANGE", k, "0", "3", "BYSCORE", "LIMIT", "0", "0"},
			{"ZSCAN", k, "0"}, {"ZSCAN", k, "0", "COUNT", "3"}, {"ZSCAN", k, "0", "MATCH", "m1*", "COUNT", "2"},
			{"EXISTS", k},
		} {
			d.run(c...)
		}
	}
	// lexProbe reads a set whose members all have one score.
	lexProbe := func(k string) {
		for _, c := range [][]string{
			{"OBJECT", "ENCODING", k}, {"ZRANGE", k, "-", "+", "BYLEX"}, {"ZRANGE", k, "[b", "(e", "BYLEX"},
			{"ZRANGE", k, "(a", "[c", "BYLEX", "LIMIT", "1", "5"}, {"ZRANGE", k, "+", "-", "BYLEX", "REV"},
			{"ZRANGE", k, "[e", "[b", "BYLEX", "REV", "LIMIT", "1", "2"}, {"ZRANGE", k, "[zzz", "+", "BYLEX"},
			{"ZRANGE", k, "-", "[", "BYLEX"}, {"ZRANGE", k, "(b", "(b", "BYLEX"}, {"ZRANGE", k, "[c", "[a", "BYLEX"},
			{"ZRANGE", k, "-", "+", "BYLEX", "LIMIT", "-1", "2"},
		} {
			d.run(c...)
		}
	}
	members := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, strconv.Itoa(i%7), fmt.Sprint("m", i))
		}
		return out
	}
	t.Run("across the boundary", func(t *testing.T) {
		d.t = t
		lowered()
		for _, size := range []int{7, 8, 9, 20} { // below, at, just above, above
			k := fmt.Sprint("z", size)
			d.run(append([]string{"ZADD", k}, members(0, size)...)...)
			probe(k)
			for _, c := range [][]string{
				{"ZADD", k, "NX", "100", "m0", "100", "new1"}, {"ZADD", k, "XX", "CH", "-5", "m1", "5", "nope"},
				{"ZADD", k, "GT", "CH", "0", "m2", "50", "m3", "1", "new2"}, {"ZADD", k, "LT", "-1", "m3", "7", "m4"},
				{"ZADD", k, "INCR", "2.5", "m5"}, {"ZADD", k, "NX", "INCR", "1", "m5"}, {"ZADD", k, "XX", "INCR", "1", "nope"},
				{"ZINCRBY", k, "-1.25", "m6"}, {"ZINCRBY", k, "3", "fresh"}, {"ZADD", k, "1", "dup", "2", "dup", "3", "dup"},
			} {
				d.run(c...)
			}
			probe(k)
			d.run("ZREM", k, "m0", "nope", "m1", "m1")
			d.run("ZPOPMIN", k)
			d.run("ZPOPMAX", k, "2")
			d.run("ZPOPMIN", k, "0")
			d.run("ZREMRANGEBYRANK", k, "1", "2")
			d.run("ZREMRANGEBYSCORE", k, "(4", "5")
			probe(k)
			d.run("ZREMRANGEBYRANK", k, "0", "-1")
			probe(k)
		}
		// A long member converts, before the insert (a changed score
		// never does).
		long := strings.Repeat("L", 17)
		d.run("ZADD", "zl", "1", "a")
		d.run("ZADD", "zl", "2", long)
		probe("zl")
		d.run("ZADD", "zm", "1", "a", "2", "b")
		d.run("ZADD", "zm", "XX", "3", long)
		d.run("OBJECT", "ENCODING", "zm")
		d.run("ZINCRBY", "zm", "1", long)
		probe("zm")
		// -0: the listpack prints 0, the skiplist -0, and the ZADD that
		// converts keeps the listpack's answer for what it changed first.
		d.run("ZADD", "zero", "-0", "a", "0", "b", "5", "c")
		d.run("ZRANGE", "zero", "0", "-1", "WITHSCORES")
		d.run(append(append([]string{"ZADD", "zero", "-0", "c"}, members(0, 8)...), "-0", "d")...)
		d.run("ZRANGE", "zero", "0", "-1", "WITHSCORES")
		d.run("ZADD", "zero", "-0", "c", "1", "m0")
		d.run("ZADD", "zero", "-0", "m1")
		d.run("ZINCRBY", "zero", "-0", "c")
		d.run("ZRANGE", "zero", "-inf", "0", "BYSCORE", "WITHSCORES")
		d.run("ZSCORE", "zero", "c")
		d.run("ZPOPMIN", "zero", "3")
		// Lex ranges on equal scores, both encodings.
		for _, k := range []string{"lex5", "lex30"} {
			n, _ := strconv.Atoi(strings.TrimPrefix(k, "lex"))
			c := []string{"ZADD", k}
			for i := range n {
				c = append(c, "0", string(rune('a'+i%26))+strconv.Itoa(i/26))
			}
			d.run(c...)
			lexProbe(k)
		}
		// Errors and wrong types.
		d.run("SET", "str", "x")
		for _, c := range [][]string{
			{"ZADD", "str", "1", "a"}, {"ZSCORE", "str", "a"}, {"ZRANGE", "str", "0", "1"}, {"ZSCAN", "str", "0"},
			{"ZPOPMIN", "str"}, {"ZREMRANGEBYRANK", "str", "0", "1"}, {"ZCARD", "str"}, {"ZRANK", "str", "a"},
			{"ZINCRBY", "z20", "x", "a"}, {"ZADD", "z20", "nan", "a"}, {"ZADD", "z20", "INCR", "1", "a", "2", "b"},
			{"ZRANGE", "z20", "a", "b", "BYSCORE"}, {"ZRANGE", "z20", "0", "-1", "BYLEX"}, {"ZSCAN", "z20", "x"},
			{"ZPOPMIN", "z20", "-1"}, {"ZREMRANGEBYSCORE", "z20", "x", "1"}, {"ZRANGE", "z20", "0", "1", "LIMIT", "0", "1"},
			{"ZADD", "zinf", "inf", "a"}, {"ZINCRBY", "zinf", "-inf", "a"},
			// The thresholds' CONFIG SET: Redis's bounds and memory values.
			{"CONFIG", "SET", "zset-max-listpack-value", "abc"}, {"CONFIG", "SET", "zset-max-listpack-entries", "-1"},
			{"CONFIG", "SET", "zset-max-ziplist-entries", "1k"}, {"CONFIG", "SET", "hash-max-listpack-value", "-1"},
			{"CONFIG", "SET", "list-max-listpack-size", "2147483648"}, {"CONFIG", "SET", "list-max-ziplist-size", "x"},
			{"CONFIG", "SET", "list-compress-depth", "-1"}, {"CONFIG", "SET", "zset-max-listpack-value", "99999999999999999999"},
			{"CONFIG", "SET", "zset-max-listpack-value", "1kb"}, {"CONFIG", "GET", "zset-max-listpack-value"},
			{"CONFIG", "SET", "zset-max-ziplist-value", "2M"}, {"CONFIG", "GET", "zset-max-ziplist-value"},
			{"CONFIG", "SET", "list-max-ziplist-size", "-5"}, {"CONFIG", "GET", "list-max-listpack-size"},
			{"CONFIG", "SET", "list-max-listpack-size", "-2"},
		} {
			d.run(c...)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		d.t = t
		d.run("CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64")
		for _, size := range []int{127, 128, 129, 300} {
			k := fmt.Sprint("dz", size)
			d.run(append([]string{"ZADD", k}, members(0, size)...)...)
			probe(k)
			d.run("ZADD", k, "3", "one-more")
			d.run("OBJECT", "ENCODING", k)
			d.run("ZREMRANGEBYSCORE", k, "2", "3")
			probe(k)
		}
	})
	t.Run("keyspace commands", func(t *testing.T) {
		d.t = t
		lowered()
		d.run(append([]string{"ZADD", "src"}, members(0, 30)...)...)
		for _, c := range [][]string{
			{"COPY", "src", "cp"}, {"OBJECT", "ENCODING", "cp"}, {"ZADD", "cp", "9", "only-in-copy"},
			{"ZCARD", "src"}, {"ZCARD", "cp"}, {"RENAME", "cp", "rn"}, {"OBJECT", "ENCODING", "rn"},
			{"ZRANGE", "rn", "0", "-1", "WITHSCORES"}, {"SORT", "rn", "ALPHA", "LIMIT", "0", "5"},
			{"SORT", "src", "ALPHA", "DESC", "LIMIT", "3", "4"}, {"MOVE", "rn", "2"}, {"EXISTS", "rn"},
			{"SELECT", "2"}, {"ZCARD", "rn"}, {"OBJECT", "ENCODING", "rn"}, {"SELECT", "0"},
			{"DEL", "src"}, {"EXISTS", "src"},
		} {
			d.run(c...)
		}
	})
}

// TestDifferentialRandomZSets replays random sorted set command sequences
// on both servers around lowered thresholds; the seed is in the failure
// message. Scores come from a small set (ties order by member), -0 and
// the infinities included; BYLEX ranges run on a key whose scores are all
// 0, as Redis requires for them to be defined.
func TestDifferentialRandomZSets(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			d := newDiffer(t, seed)
			d.run("CONFIG", "SET", "zset-max-listpack-entries", "16", "zset-max-listpack-value", "24")
			r := rand.New(rand.NewPCG(seed, 17))
			keys := []string{"z1", "z2", "z3", "missing"}
			member := func() string {
				if r.IntN(12) == 0 {
					return strings.Repeat("w", 20+r.IntN(10))
				}
				return fmt.Sprint("m", r.IntN(50))
			}
			score := func() string {
				switch r.IntN(12) {
				case 0:
					return "-0"
				case 1:
					return []string{"inf", "-inf", "+inf"}[r.IntN(3)]
				case 2:
					return fmt.Sprintf("%d.%d", r.IntN(10), r.IntN(10))
				}
				return strconv.Itoa(r.IntN(12) - 3)
			}
			bound := func() string {
				b := score()
				if r.IntN(3) == 0 {
					b = "(" + b
				}
				return b
			}
			lexBound := func() string {
				switch r.IntN(6) {
				case 0:
					return "-"
				case 1:
					return "+"
				}
				return []string{"[", "("}[r.IntN(2)] + fmt.Sprint("m", r.IntN(50))
			}
			idx := func() string { return strconv.Itoa(r.IntN(30) - 12) }
			for range 3000 {
				k := keys[r.IntN(len(keys))]
				var c []string
				switch r.IntN(26) {
				case 0, 1, 2, 3, 4:
					c = []string{"ZADD", k}
					for _, o := range []string{"NX", "XX", "GT", "LT", "CH"} {
						if r.IntN(8) == 0 {
							c = append(c, o)
						}
					}
					for range 1 + r.IntN(4) {
						c = append(c, score(), member())
					}
				case 5:
					c = []string{"ZADD", k, "INCR", score(), member()}
				case 6:
					c = []string{"ZINCRBY", k, score(), member()}
				case 7, 8:
					c = []string{"ZREM", k, member(), member()}
				case 9:
					c = []string{"ZSCORE", k, member()}
				case 10:
					c = []string{"ZMSCORE", k, member(), member()}
				case 11:
					c = []string{[]string{"ZRANK", "ZREVRANK"}[r.IntN(2)], k, member()}
				case 12:
					c = []string{"ZCOUNT", k, bound(), bound()}
				case 13:
					c = []string{"ZRANGE", k, idx(), idx()}
					if r.IntN(2) == 0 {
						c = append(c, "REV")
					}
					if r.IntN(2) == 0 {
						c = append(c, "WITHSCORES")
					}
				case 14:
					c = []string{"ZRANGEBYSCORE", k, bound(), bound(), "WITHSCORES"}
					if r.IntN(2) == 0 {
						c = append(c, "LIMIT", strconv.Itoa(r.IntN(8)-1), strconv.Itoa(r.IntN(10)-2))
					}
				case 15:
					c = []string{"ZRANGE", k, bound(), bound(), "BYSCORE", "REV"}
					if r.IntN(2) == 0 {
						c = append(c, "LIMIT", strconv.Itoa(r.IntN(8)-1), strconv.Itoa(r.IntN(10)-2))
					}
				case 16:
					c = []string{"ZREVRANGE", k, idx(), idx(), "WITHSCORES"}
				case 17:
					c = []string{[]string{"ZPOPMIN", "ZPOPMAX"}[r.IntN(2)], k}
					if r.IntN(2) == 0 {
						c = append(c, strconv.Itoa(r.IntN(5)))
					}
				case 18:
					c = []string{"ZREMRANGEBYRANK", k, idx(), idx()}
				case 19:
					c = []string{"ZREMRANGEBYSCORE", k, bound(), bound()}
				case 20:
					c = []string{"ZSCAN", k, "0", "COUNT", strconv.Itoa(1 + r.IntN(10))}
				case 21:
					c = []string{[]string{"ZCARD", "OBJECT"}[r.IntN(2)], k}
					if c[0] == "OBJECT" {
						c = []string{"OBJECT", "ENCODING", k}
					}
				case 22:
					c = []string{"ZADD", "lex", "0", member()}
				case 23:
					c = []string{"ZRANGE", "lex", lexBound(), lexBound(), "BYLEX"}
					if r.IntN(2) == 0 {
						c = []string{"ZRANGE", "lex", lexBound(), lexBound(), "BYLEX", "REV"}
					}
					if r.IntN(2) == 0 {
						c = append(c, "LIMIT", strconv.Itoa(r.IntN(6)-1), strconv.Itoa(r.IntN(8)-2))
					}
				case 24:
					c = []string{"ZREM", "lex", member()}
				case 25:
					c = []string{"DEL", k}
				}
				d.run(c...)
			}
		})
	}
}
