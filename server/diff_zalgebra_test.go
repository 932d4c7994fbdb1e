package server

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestDifferentialZSetAlgebra runs the sorted-set algebra, range, random
// and pop commands (ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD,
// ZRANGESTORE, ZRANDMEMBER, ZLEXCOUNT, Z[REV]RANGEBYLEX, ZREVRANGEBYSCORE,
// ZREMRANGEBYLEX, ZMPOP, BZMPOP, BZPOPMIN, BZPOPMAX) on tcached and on
// redis-server 7.0, with valid and invalid arguments, on compact and tree
// inputs (Redis's default thresholds: 128 members), sets as inputs, in
// RESP2 and RESP3. Destinations are read back with their encoding.
func TestDifferentialZSetAlgebra(t *testing.T) {
	d := newDiffer(t, 0)
	fill := func(key string, n, mod int, prefix string) {
		c := []string{"ZADD", key}
		for i := range n {
			c = append(c, strconv.Itoa(i%mod), fmt.Sprint(prefix, i))
		}
		d.run(c...)
	}
	readBack := func(k string) {
		d.run("ZRANGE", k, "0", "-1", "WITHSCORES")
		d.run("OBJECT", "ENCODING", k)
		d.run("TYPE", k)
	}
	setup := func() {
		d.run("FLUSHALL")
		fill("small1", 10, 4, "m")  // m0..m9
		fill("small2", 12, 5, "m")  // m0..m11
		fill("big1", 200, 7, "m")   // tree
		fill("big2", 150, 3, "m")   // tree
		fill("lex", 40, 1, "")      // all score 0
		fill("lexbig", 300, 1, "k") // tree, all score 0
		d.run("SADD", "set1", "m1", "m2", "m3", "x")
		d.run("SADD", "iset", "1", "2", "3")
		d.run("ZADD", "neg", "-0", "a", "inf", "b", "-inf", "c", "0", "m1")
		d.run("SET", "str", "v")
	}
	script := func() {
		for _, name := range []string{"ZUNION", "ZINTER", "ZDIFF"} {
			for _, c := range [][]string{
				{"2", "small1", "small2"}, {"2", "small1", "small2", "WITHSCORES"},
				{"3", "small1", "big1", "big2", "WITHSCORES"}, {"2", "big1", "big2"},
				{"2", "small1", "set1", "WITHSCORES"}, {"2", "set1", "iset", "WITHSCORES"},
				{"1", "missing"}, {"2", "small1", "missing", "WITHSCORES"}, {"2", "missing", "small1", "WITHSCORES"},
				{"2", "small1", "small1", "WITHSCORES"}, {"1", "neg", "WITHSCORES"},
				{"2", "small1", "small2", "WEIGHTS", "2", "-1", "WITHSCORES"},
				{"2", "small1", "small2", "WEIGHTS", "0", "inf", "WITHSCORES"},
				{"2", "neg", "small1", "WEIGHTS", "-1", "0", "WITHSCORES"},
				{"2", "neg", "neg", "WEIGHTS", "inf", "-inf", "WITHSCORES"},
				{"2", "small1", "big1", "AGGREGATE", "MIN", "WITHSCORES"},
				{"2", "small1", "big1", "AGGREGATE", "max", "WEIGHTS", "3", "0.5", "WITHSCORES"},
				{"2", "small1", "big1", "AGGREGATE", "avg"}, {"2", "small1", "big1", "WEIGHTS", "1"},
				{"2", "small1", "big1", "WEIGHTS", "1", "x"}, {"2", "small1", "big1", "WEIGHTS", "1", "nan"},
				{"2", "small1", "big1", "WITHSCORES", "WITHSCORES"}, {"2", "small1", "big1", "LIMIT", "1"},
				{"0", "small1"}, {"-1", "small1"}, {"x", "small1"}, {"3", "small1", "small2"},
				{"99999999999999999999", "a"}, {"9223372036854775807", "a"},
				{"2", "small1", "str"}, {"2", "str", "missing", "BOGUS"}, {"1", "small1", "BOGUS"},
			} {
				d.run(append([]string{name}, c...)...)
			}
		}
		for _, name := range []string{"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"} {
			for _, c := range [][]string{
				{"dst", "2", "small1", "small2"}, {"dst", "3", "small1", "big1", "big2"},
				{"dst", "2", "big1", "big2", "WEIGHTS", "1", "2"}, {"dst", "2", "small1", "set1", "AGGREGATE", "MAX"},
				{"dst", "1", "neg", "WEIGHTS", "-1"}, {"dst", "2", "dst", "small1"}, {"dst", "1", "missing"},
				{"dst", "2", "small1", "small2", "WITHSCORES"}, {"dst", "0", "small1"}, {"dst", "2", "small1"},
				{"str", "1", "small1"}, {"dst", "1", "str"}, {"dst", "1", "lexbig"},
			} {
				d.run(append([]string{name}, c...)...)
				readBack(c[0])
			}
		}
		d.run("SET", "str", "v") // the stores above wrote over it
		for _, c := range [][]string{
			{"ZINTERCARD", "2", "small1", "small2"}, {"ZINTERCARD", "2", "big1", "big2", "LIMIT", "5"},
			{"ZINTERCARD", "2", "big1", "big2", "LIMIT", "0"}, {"ZINTERCARD", "2", "big1", "set1"},
			{"ZINTERCARD", "2", "big1", "big2", "LIMIT", "-1"}, {"ZINTERCARD", "2", "big1", "big2", "LIMIT", "x"},
			{"ZINTERCARD", "2", "big1", "big2", "WITHSCORES"}, {"ZINTERCARD", "2", "big1", "big2", "WEIGHTS", "1", "1"},
			{"ZINTERCARD", "0", "a"}, {"ZINTERCARD", "1", "str"}, {"ZINTERCARD", "1", "missing"},
			{"ZINTERCARD", "2", "big1", "big2", "LIMIT"},
		} {
			d.run(c...)
		}
		for _, src := range []string{"small1", "big1", "lex", "lexbig", "missing", "str"} {
			for _, c := range [][]string{
				{"0", "-1"}, {"2", "5"}, {"0", "-1", "REV"}, {"-3", "-1", "REV"}, {"(1", "3", "BYSCORE"},
				{"5", "(1", "BYSCORE", "REV", "LIMIT", "1", "3"}, {"[b", "(k5", "BYLEX"}, {"+", "-", "BYLEX", "REV", "LIMIT", "2", "10"},
				{"0", "-1", "WITHSCORES"}, {"0", "1", "LIMIT", "0", "1"}, {"a", "b"}, {"x", "y", "BYSCORE"}, {"a", "b", "BYLEX"},
				{"5", "1"}, {"0", "-1", "BYSCORE", "BYLEX"},
			} {
				d.run(append([]string{"ZRANGESTORE", "rdst", src}, c...)...)
				readBack("rdst")
			}
		}
		for _, k := range []string{"lex", "lexbig", "small1", "missing", "str"} {
			for _, c := range [][]string{
				{"ZLEXCOUNT", k, "-", "+"}, {"ZLEXCOUNT", k, "[1", "(3"}, {"ZLEXCOUNT", k, "(k1", "[k2"}, {"ZLEXCOUNT", k, "a", "b"},
				{"ZLEXCOUNT", k, "+", "-"}, {"ZRANGEBYLEX", k, "-", "+"}, {"ZRANGEBYLEX", k, "[1", "(3", "LIMIT", "1", "4"},
				{"ZRANGEBYLEX", k, "(k10", "+", "LIMIT", "0", "5"}, {"ZRANGEBYLEX", k, "-", "+", "WITHSCORES"},
				{"ZRANGEBYLEX", k, "-", "+", "LIMIT", "1"}, {"ZREVRANGEBYLEX", k, "+", "-", "LIMIT", "2", "5"},
				{"ZREVRANGEBYLEX", k, "[3", "[1"}, {"ZREVRANGEBYLEX", k, "(k5", "-", "LIMIT", "0", "3"},
				{"ZREVRANGEBYLEX", k, "-", "+"}, {"ZREVRANGEBYLEX", k, "x", "+"},
				{"ZREVRANGEBYSCORE", k, "+inf", "-inf", "WITHSCORES"}, {"ZREVRANGEBYSCORE", k, "3", "(1", "LIMIT", "1", "2"},
				{"ZREVRANGEBYSCORE", k, "1", "3"}, {"ZREVRANGEBYSCORE", k, "x", "1"}, {"ZREVRANGEBYSCORE", k, "5", "0", "BYLEX"},
				{"ZRANGEBYSCORE", k, "-inf", "+inf", "LIMIT", "3", "2"},
			} {
				d.run(c...)
			}
		}
		for _, c := range [][]string{
			{"ZREMRANGEBYLEX", "lex", "[1", "(2"}, {"ZREMRANGEBYLEX", "lexbig", "(k1", "[k2"}, {"ZREMRANGEBYLEX", "lexbig", "-", "(k0"},
			{"ZREMRANGEBYLEX", "missing", "-", "+"}, {"ZREMRANGEBYLEX", "str", "-", "+"}, {"ZREMRANGEBYLEX", "lex", "x", "+"},
			{"ZREMRANGEBYLEX", "lex", "+", "-"}, {"ZREMRANGEBYLEX", "small1", "-", "+"}, {"EXISTS", "small1"},
		} {
			d.run(c...)
		}
		readBack("lex")
		readBack("lexbig")
		// pops
		for _, c := range [][]string{
			{"ZMPOP", "1", "small2", "MIN"}, {"ZMPOP", "2", "missing", "small2", "MAX", "COUNT", "3"},
			{"ZMPOP", "1", "big1", "MAX", "COUNT", "300"}, {"ZMPOP", "2", "missing", "missing2", "MIN"},
			{"ZMPOP", "2", "str", "big2", "MIN"}, {"ZMPOP", "2", "big2", "str", "MIN"}, {"ZMPOP", "1", "big2", "min", "count", "2"},
			{"ZMPOP", "0", "big2", "MIN"}, {"ZMPOP", "x", "big2", "MIN"}, {"ZMPOP", "1", "big2", "MID"},
			{"ZMPOP", "1", "big2"}, {"ZMPOP", "5", "big2", "MIN"}, {"ZMPOP", "1", "big2", "MIN", "COUNT", "0"},
			{"ZMPOP", "1", "big2", "MIN", "COUNT", "-1"}, {"ZMPOP", "1", "big2", "MIN", "COUNT"},
			{"ZMPOP", "1", "big2", "MIN", "COUNT", "1", "COUNT", "2"}, {"ZMPOP", "1", "big2", "MIN", "BOGUS"},
			{"ZMPOP", "99999999999999999999", "big2", "MIN"}, {"ZMPOP", "9223372036854775807", "big2", "MIN"},
			{"BZMPOP", "0.01", "1", "big2", "MAX", "COUNT", "2"}, {"BZMPOP", "0.01", "2", "missing", "missing2", "MIN"},
			{"BZMPOP", "x", "1", "big2", "MIN"}, {"BZMPOP", "-1", "1", "big2", "MIN"}, {"BZMPOP", "0", "0", "big2", "MIN"},
			{"BZMPOP", "x", "1", "big2", "FOO"}, {"BZMPOP", "0.01", "1", "str", "MIN"},
			{"BZPOPMIN", "missing", "big2", "0"}, {"BZPOPMAX", "big2", "0"}, {"BZPOPMIN", "missing", "0.01"},
			{"BZPOPMIN", "str", "big2", "0"}, {"BZPOPMIN", "big2", "x"}, {"BZPOPMIN", "big2", "-1"},
			{"BZPOPMAX", "neg", "1"}, {"ZRANGE", "neg", "0", "-1", "WITHSCORES"},
		} {
			d.run(c...)
		}
		readBack("big1")
		readBack("big2")
		// ZRANDMEMBER: the error cases and the whole-set replies exactly,
		// the random ones by shape (zrandCheck).
		for _, c := range [][]string{
			{"ZRANDMEMBER", "missing"}, {"ZRANDMEMBER", "missing", "5"}, {"ZRANDMEMBER", "str"}, {"ZRANDMEMBER", "str", "1"},
			{"ZRANDMEMBER", "small1", "x"}, {"ZRANDMEMBER", "small1", "1", "WITHVALUES"}, {"ZRANDMEMBER", "small1", "1", "WITHSCORES", "x"},
			{"ZRANDMEMBER", "small1", "-9223372036854775808"}, {"ZRANDMEMBER", "small1", "9223372036854775807", "WITHSCORES"},
			{"ZRANDMEMBER", "small1", "0"}, {"ZRANDMEMBER", "small1", "0", "WITHSCORES"},
			{"ZRANDMEMBER", "small1", "100", "WITHSCORES"}, {"ZRANDMEMBER", "big1", "1000", "WITHSCORES"},
			{"ZRANDMEMBER", "small1", "10"},
		} {
			d.run(c...)
		}
		fill("zr1", 10, 4, "m")
		fill("zr2", 200, 7, "m")
		for _, k := range []string{"zr1", "zr2", "lexbig"} {
			for _, n := range []string{"", "1", "3", "-5", "50", "-300", "150", "199"} {
				zrandCheck(d, k, n, false)
				if n != "" {
					zrandCheck(d, k, n, true)
				}
			}
		}
	}
	t.Run("arity", func(t *testing.T) {
		d.t = t
		for _, name := range []string{"ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD",
			"ZRANGESTORE", "ZRANDMEMBER", "ZLEXCOUNT", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREMRANGEBYLEX",
			"ZMPOP", "BZMPOP", "BZPOPMIN", "BZPOPMAX", "GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH", "GEOSEARCHSTORE",
			"GEORADIUS", "GEORADIUSBYMEMBER", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO"} {
			for n := range 4 {
				d.run(append([]string{name}, []string{"k", "1", "k", "x"}[:n]...)...)
			}
		}
		for _, c := range []string{"zunionstore dst 2 a b weights 1 2", "zunion 2 a b", "zmpop 2 a b min", "bzmpop 0 2 a b min",
			"georadius k 0 0 1 km store d storedist e", "georadiusbymember k m 1 km store d", "zintercard 2 a b limit 1",
			"zrangestore d s 0 1", "geosearchstore d s fromlonlat 0 0 byradius 1 km", "bzpopmin a b 0", "zdiffstore d 1 a"} {
			d.run(append([]string{"COMMAND", "GETKEYS"}, strings.Fields(c)...)...)
		}
		d.run("ZLEXCOUNT", "k", "-", "+", "x")
		d.run("ZREMRANGEBYLEX", "k", "-", "+", "x")
	})
	t.Run("resp2", func(t *testing.T) {
		d.t = t
		setup()
		script()
	})
	t.Run("resp3", func(t *testing.T) {
		d.t = t
		d.tc.do("HELLO", "3")
		d.rd.do("HELLO", "3")
		defer func() { d.tc.do("HELLO", "2"); d.rd.do("HELLO", "2") }()
		setup()
		script()
	})
	t.Run("lowered thresholds", func(t *testing.T) {
		d.t = t
		d.run("CONFIG", "SET", "zset-max-listpack-entries", "4", "zset-max-listpack-value", "3")
		defer d.run("CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64")
		setup()
		for _, c := range [][]string{
			{"ZUNIONSTORE", "d", "1", "small1"}, {"ZINTERSTORE", "d", "2", "small1", "small2"}, {"ZDIFFSTORE", "d", "2", "small2", "small1"},
			{"ZRANGESTORE", "d", "small1", "0", "3"}, {"ZRANGESTORE", "d", "small1", "0", "4"}, {"ZRANGESTORE", "d", "lex", "0", "1"},
			{"ZUNIONSTORE", "d", "1", "set1"}, {"ZUNIONSTORE", "d", "1", "neg", "WEIGHTS", "-1"},
		} {
			d.run(c...)
			readBack("d")
		}
	})
}

// zrandCheck compares ZRANDMEMBER key [count [WITHSCORES]] by shape: the
// reply's length, every member (and its score) taken from the set,
// distinct members for a positive count.
func zrandCheck(d *differ, key, count string, withScores bool) {
	d.t.Helper()
	args := []string{"ZRANDMEMBER", key}
	if count != "" {
		args = append(args, count)
	}
	if withScores {
		args = append(args, "WITHSCORES")
	}
	d.steps++
	d.history = append(d.history, strings.Join(args, " "))
	scores := map[string]any{}
	all := norm(d.rd.do("ZRANGE", key, "0", "-1", "WITHSCORES"))
	resp3 := false
	if a, ok := all.([]any); ok {
		for _, x := range a {
			if p, ok := x.([]any); ok { // RESP3 pairs
				resp3 = true
				scores[p[0].(string)] = p[1]
			}
		}
		for i := 0; !resp3 && i+1 < len(a); i += 2 {
			scores[a[i].(string)] = a[i+1]
		}
	}
	tc, rd := norm(d.tc.do(args...)), norm(d.rd.do(args...))
	if count == "" {
		if _, ok := scores[fmt.Sprint(tc)]; !ok {
			d.fail("%q: %#v is not a member", args, tc)
		}
		return
	}
	ta, ok1 := tc.([]any)
	ra, ok2 := rd.([]any)
	if !ok1 || !ok2 || len(ta) != len(ra) {
		d.fail("%q: tcached %#v, redis %#v", args, tc, rd)
	}
	n, _ := strconv.Atoi(count)
	seen := map[string]bool{}
	for i := 0; i < len(ta); i++ {
		var m string
		var sc any
		switch {
		case withScores && resp3:
			p := ta[i].([]any)
			m, sc = p[0].(string), p[1]
		case withScores:
			m, sc = ta[i].(string), ta[i+1]
			i++
		default:
			m = ta[i].(string)
		}
		want, ok := scores[m]
		if !ok || withScores && !reflect.DeepEqual(sc, want) {
			d.fail("%q: %q (%v) is not a member with that score (%v)", args, m, sc, want)
		}
		if n > 0 && seen[m] {
			d.fail("%q: %q twice", args, m)
		}
		seen[m] = true
	}
}

// TestDifferentialRandomZSetAlgebra replays random sequences of the
// algebra, store, lex and pop commands over a few small and big keys.
func TestDifferentialRandomZSetAlgebra(t *testing.T) {
	seeds := []uint64{7, 8, 9}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { randomZSetAlgebra(t, seed) })
	}
}

func randomZSetAlgebra(t *testing.T, seed uint64) {
	d := newDiffer(t, seed)
	d.run("CONFIG", "SET", "zset-max-listpack-entries", "12", "zset-max-listpack-value", "10")
	r := rand.New(rand.NewPCG(seed, 29))
	keys := []string{"a", "b", "c", "s", "missing"}
	member := func() string {
		if r.IntN(15) == 0 {
			return strings.Repeat("w", 11)
		}
		return fmt.Sprint("m", r.IntN(30))
	}
	score := func() string {
		switch r.IntN(10) {
		case 0:
			return "-0"
		case 1:
			return []string{"inf", "-inf"}[r.IntN(2)]
		case 2:
			return fmt.Sprintf("%d.5", r.IntN(5))
		}
		return strconv.Itoa(r.IntN(8) - 2)
	}
	pickKeys := func() []string {
		n := 1 + r.IntN(3)
		out := []string{strconv.Itoa(n)}
		for range n {
			out = append(out, keys[r.IntN(len(keys))])
		}
		return out
	}
	lexBound := func() string {
		switch r.IntN(5) {
		case 0:
			return "-"
		case 1:
			return "+"
		}
		return []string{"[", "("}[r.IntN(2)] + fmt.Sprint("m", r.IntN(30))
	}
	for range 2500 {
		var c []string
		switch r.IntN(16) {
		case 0, 1, 2, 3:
			c = []string{"ZADD", keys[r.IntN(3)]}
			for range 1 + r.IntN(6) {
				c = append(c, score(), member())
			}
		case 4:
			c = []string{"SADD", "s", member()}
		case 5, 6:
			c = append([]string{[]string{"ZUNION", "ZINTER", "ZDIFF"}[r.IntN(3)]}, pickKeys()...)
			if c[0] != "ZDIFF" && r.IntN(2) == 0 {
				n, _ := strconv.Atoi(c[1])
				c = append(c, "WEIGHTS")
				for range n {
					c = append(c, []string{"1", "2", "-1", "0", "0.5", "inf"}[r.IntN(6)])
				}
			}
			if c[0] != "ZDIFF" && r.IntN(2) == 0 {
				c = append(c, "AGGREGATE", []string{"SUM", "MIN", "MAX"}[r.IntN(3)])
			}
			c = append(c, "WITHSCORES")
		case 7:
			c = append([]string{[]string{"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"}[r.IntN(3)], keys[r.IntN(3)]}, pickKeys()...)
		case 8:
			c = append([]string{"ZINTERCARD"}, pickKeys()...)
			if r.IntN(2) == 0 {
				c = append(c, "LIMIT", strconv.Itoa(r.IntN(4)))
			}
		case 9:
			c = []string{"ZRANGESTORE", keys[r.IntN(3)], keys[r.IntN(3)], strconv.Itoa(r.IntN(10) - 3), strconv.Itoa(r.IntN(10) - 3)}
			if r.IntN(2) == 0 {
				c = append(c, "REV")
			}
		case 10: // lex ranges on "lx", whose scores are all 0
			c = []string{"ZRANGEBYLEX", "lx", lexBound(), lexBound()}
			if r.IntN(2) == 0 {
				c = []string{"ZREVRANGEBYLEX", "lx", lexBound(), lexBound()}
			}
			if r.IntN(2) == 0 {
				c = append(c, "LIMIT", strconv.Itoa(r.IntN(4)-1), strconv.Itoa(r.IntN(6)-1))
			}
		case 11:
			c = []string{"ZLEXCOUNT", "lx", lexBound(), lexBound()}
			if r.IntN(2) == 0 {
				c = []string{"ZADD", "lx", "0", member(), "0", member()}
			}
		case 12:
			c = []string{"ZREMRANGEBYLEX", "lx", lexBound(), lexBound()}
		case 13:
			c = append(append([]string{"ZMPOP"}, pickKeys()...), []string{"MIN", "MAX"}[r.IntN(2)], "COUNT", strconv.Itoa(1+r.IntN(4)))
		case 14:
			c = []string{[]string{"BZPOPMIN", "BZPOPMAX"}[r.IntN(2)], keys[r.IntN(len(keys))], keys[r.IntN(3)], "0.01"}
		case 15:
			k := keys[r.IntN(3)]
			d.run("ZRANGE", k, "0", "-1", "WITHSCORES")
			c = []string{"OBJECT", "ENCODING", k}
		}
		d.run(c...)
	}
}
