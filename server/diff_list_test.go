package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestDifferentialLists runs every list command on tcached and on
// redis-server 7.0 across tcached's conversion boundary (a compact list
// while it fits one quicklist node under list-max-listpack-size, a
// QuickList past it; Redis 7.0 answers "quicklist" for both): scripts
// below, at and above a lowered count limit and the default 8 KiB size
// limit, with elements larger than a node, LMOVE between every mix of
// encodings, and the keyspace commands on big lists.
func TestDifferentialLists(t *testing.T) {
	d := newDiffer(t, 0)
	elems := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprint(prefix, i%11))
		}
		return out
	}
	probe := func(k string) {
		for _, c := range [][]string{
			{"LLEN", k}, {"TYPE", k}, {"OBJECT", "ENCODING", k}, {"EXISTS", k},
			{"LRANGE", k, "0", "-1"}, {"LRANGE", k, "2", "5"}, {"LRANGE", k, "-3", "-1"}, {"LRANGE", k, "5", "2"},
			{"LRANGE", k, "-100", "100"}, {"LINDEX", k, "0"}, {"LINDEX", k, "-1"}, {"LINDEX", k, "3"},
			{"LINDEX", k, "100"}, {"LINDEX", k, "-100"},
			{"LPOS", k, "e3"}, {"LPOS", k, "e3", "RANK", "-1"}, {"LPOS", k, "e3", "RANK", "2", "COUNT", "0"},
			{"LPOS", k, "e5", "COUNT", "2", "MAXLEN", "9"}, {"LPOS", k, "e5", "RANK", "-2", "COUNT", "3", "MAXLEN", "12"},
			{"LPOS", k, "nope", "COUNT", "0"},
		} {
			d.run(c...)
		}
	}
	big := strings.Repeat("B", 9000) // larger than an 8 KiB node
	t.Run("across the boundary", func(t *testing.T) {
		d.t = t
		d.run("CONFIG", "SET", "list-max-listpack-size", "4")
		for _, size := range []int{3, 4, 5, 20} {
			k := fmt.Sprint("l", size)
			d.run(append([]string{"RPUSH", k}, elems("e", 0, size)...)...)
			probe(k)
			for _, c := range [][]string{
				{"LPUSH", k, "h1", "h2"}, {"RPUSHX", k, "t1"}, {"LPUSHX", k, "h3"}, {"LPUSHX", "missing", "x"},
				{"LSET", k, "2", "set-longer-than-before"}, {"LSET", k, "-1", "e"}, {"LSET", k, "100", "x"},
				{"LINSERT", k, "BEFORE", "e3", "ins-b"}, {"LINSERT", k, "AFTER", "e4", "ins-a"},
				{"LINSERT", k, "AFTER", "nope", "x"}, {"LINSERT", "missing", "AFTER", "e3", "x"},
				{"RPUSH", k, big}, {"LINDEX", k, "-1"}, {"LSET", k, "0", big},
			} {
				d.run(c...)
			}
			probe(k)
			d.run("LREM", k, "1", "e1")
			d.run("LREM", k, "-1", "e2")
			d.run("LREM", k, "0", "e3")
			d.run("LPOP", k)
			d.run("RPOP", k, "2")
			d.run("LPOP", k, "0")
			probe(k)
			d.run("LTRIM", k, "1", "-2")
			probe(k)
			d.run("LTRIM", k, "5", "2")
			probe(k)
		}
		// LMOVE between every mix: a small and a big list, each way and
		// onto itself.
		for _, c := range [][]string{
			{"RPUSH", "small", "s1", "s2"}, {"RPUSH", "bigl"}, {"LMOVE", "small", "bigl", "LEFT", "RIGHT"},
			{"RPUSH", "bigl", "b1", "b2", "b3", "b4", "b5", "b6"},
			{"LMOVE", "small", "bigl", "LEFT", "LEFT"}, {"LRANGE", "bigl", "0", "-1"}, {"EXISTS", "small"},
			{"LMOVE", "bigl", "small", "RIGHT", "LEFT"}, {"LMOVE", "bigl", "small", "LEFT", "RIGHT"},
			{"LRANGE", "small", "0", "-1"}, {"LMOVE", "bigl", "bigl", "LEFT", "RIGHT"},
			{"LMOVE", "bigl", "bigl", "RIGHT", "LEFT"}, {"LMOVE", "bigl", "bigl", "RIGHT", "RIGHT"},
			{"LRANGE", "bigl", "0", "-1"}, {"LMOVE", "bigl", "fresh", "RIGHT", "RIGHT"}, {"LRANGE", "fresh", "0", "-1"},
			{"LMOVE", "small", "small", "LEFT", "RIGHT"}, {"LRANGE", "small", "0", "-1"},
			{"RPUSH", "other", "o1", "o2", "o3", "o4"}, {"LMOVE", "small", "other", "RIGHT", "LEFT"},
			{"LRANGE", "other", "0", "-1"}, {"LMOVE", "missing", "other", "LEFT", "LEFT"},
			{"LMOVE", "bigl", "other", "RIGHT", "LEFT"}, {"BLMOVE", "bigl", "other", "LEFT", "RIGHT", "0.01"},
			{"BLPOP", "missing", "bigl", "0.01"}, {"BRPOP", "other", "0.01"}, {"BLPOP", "missing", "0.01"},
			{"LRANGE", "other", "0", "-1"}, {"LRANGE", "bigl", "0", "-1"},
		} {
			d.run(c...)
		}
		// Errors and wrong types.
		d.run("SET", "str", "x")
		for _, c := range [][]string{
			{"LPUSH", "str", "a"}, {"LRANGE", "str", "0", "1"}, {"LINDEX", "str", "0"}, {"LSET", "str", "0", "a"},
			{"LMOVE", "str", "bigl", "LEFT", "LEFT"}, {"LMOVE", "bigl", "str", "LEFT", "LEFT"}, {"LPOP", "str"},
			{"LSET", "missing", "0", "x"}, {"LSET", "l20", "x", "y"}, {"LINDEX", "l20", "x"}, {"LPOP", "l20", "-1"},
			{"LPOS", "l20", "e", "RANK", "0"}, {"LPOS", "l20", "e", "COUNT", "-1"}, {"LREM", "l20", "x", "e"},
			{"LINSERT", "l20", "MIDDLE", "a", "b"}, {"LMOVE", "l20", "x", "UP", "LEFT"},
		} {
			d.run(c...)
		}
	})
	t.Run("default size limit", func(t *testing.T) {
		d.t = t
		d.run("CONFIG", "SET", "list-max-listpack-size", "-2")
		v := strings.Repeat("v", 100)
		for _, n := range []int{70, 90, 400} { // under, near and over 8 KiB
			k := fmt.Sprint("d", n)
			var c []string
			for i := range n {
				c = append(c, fmt.Sprint(v, i%7))
			}
			d.run(append([]string{"RPUSH", k}, c...)...)
			d.run("LPUSH", k, "head")
			d.run("LINDEX", k, strconv.Itoa(n/2))
			d.run("LSET", k, strconv.Itoa(n/3), "short")
			d.run("LINSERT", k, "BEFORE", v+"3", "inserted")
			d.run("LREM", k, "-2", v+"5")
			d.run("LRANGE", k, "0", "-1")
			d.run("LPOS", k, v+"6", "RANK", "-3", "COUNT", "5")
			d.run("RPOP", k, "30")
			d.run("LTRIM", k, "3", "-4")
			d.run("LRANGE", k, "0", "-1")
		}
	})
	t.Run("keyspace commands", func(t *testing.T) {
		d.t = t
		d.run("CONFIG", "SET", "list-max-listpack-size", "3")
		d.run(append([]string{"RPUSH", "src"}, elems("", 0, 40)...)...)
		for _, c := range [][]string{
			{"COPY", "src", "cp"}, {"RPUSH", "cp", "only-in-copy"}, {"LLEN", "src"}, {"LLEN", "cp"},
			{"RENAME", "cp", "rn"}, {"LRANGE", "rn", "-3", "-1"}, {"SORT", "rn", "LIMIT", "0", "5", "ALPHA"},
			{"SORT", "src", "DESC", "LIMIT", "0", "6"}, {"SORT", "src", "STORE", "sorted"}, {"LRANGE", "sorted", "0", "-1"},
			{"OBJECT", "ENCODING", "sorted"}, {"LPUSH", "sorted", "x"}, {"LRANGE", "sorted", "0", "3"},
			{"MOVE", "rn", "3"}, {"EXISTS", "rn"}, {"SELECT", "3"}, {"LLEN", "rn"}, {"LPOP", "rn", "3"}, {"SELECT", "0"},
			{"DEL", "src"}, {"EXISTS", "src"},
		} {
			d.run(c...)
		}
	})
}

// TestDifferentialRandomLists replays random list command sequences on
// both servers, with a small count limit per node so that lists cross
// tcached's boundary often; the seed is in the failure message.
func TestDifferentialRandomLists(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			d := newDiffer(t, seed)
			r := rand.New(rand.NewPCG(seed, 23))
			d.run("CONFIG", "SET", "list-max-listpack-size", []string{"5", "-1", "2"}[seed%3])
			keys := []string{"l1", "l2", "l3", "missing"}
			elem := func() string {
				switch r.IntN(20) {
				case 0:
					return strings.Repeat("x", 1000+r.IntN(4000))
				case 1:
					return ""
				}
				return fmt.Sprint("e", r.IntN(12))
			}
			idx := func() string { return strconv.Itoa(r.IntN(40) - 20) }
			side := func() string { return []string{"LEFT", "RIGHT"}[r.IntN(2)] }
			for range 3000 {
				k, k2 := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
				var c []string
				switch r.IntN(22) {
				case 0, 1, 2, 3:
					c = []string{[]string{"LPUSH", "RPUSH", "LPUSHX", "RPUSHX"}[r.IntN(4)], k}
					for range 1 + r.IntN(6) {
						c = append(c, elem())
					}
				case 4, 5:
					c = []string{[]string{"LPOP", "RPOP"}[r.IntN(2)], k}
					if r.IntN(2) == 0 {
						c = append(c, strconv.Itoa(r.IntN(5)))
					}
				case 6:
					c = []string{"LLEN", k}
				case 7, 8:
					c = []string{"LRANGE", k, idx(), idx()}
				case 9:
					c = []string{"LINDEX", k, idx()}
				case 10:
					c = []string{"LSET", k, idx(), elem()}
				case 11:
					c = []string{"LREM", k, strconv.Itoa(r.IntN(7) - 3), elem()}
				case 12:
					c = []string{"LTRIM", k, idx(), idx()}
				case 13:
					c = []string{"LINSERT", k, []string{"BEFORE", "AFTER"}[r.IntN(2)], elem(), elem()}
				case 14:
					c = []string{"LPOS", k, elem()}
					if r.IntN(2) == 0 {
						c = append(c, "RANK", []string{"1", "-1", "2", "-2"}[r.IntN(4)])
					}
					if r.IntN(2) == 0 {
						c = append(c, "COUNT", strconv.Itoa(r.IntN(4)))
					}
					if r.IntN(3) == 0 {
						c = append(c, "MAXLEN", strconv.Itoa(r.IntN(10)))
					}
				case 15, 16:
					c = []string{"LMOVE", k, k2, side(), side()}
				case 17:
					c = []string{"LMOVE", k, k2, "RIGHT", "LEFT"}
				case 18:
					c = []string{[]string{"BLPOP", "BRPOP"}[r.IntN(2)], k, k2, "0.001"}
				case 19:
					c = []string{"BLMOVE", k, k2, side(), side(), "0.001"}
				case 20:
					c = []string{"SORT", k, "ALPHA", "LIMIT", "0", strconv.Itoa(r.IntN(5))}
				case 21:
					c = []string{"DEL", k}
				}
				d.run(c...)
			}
		})
	}
}
