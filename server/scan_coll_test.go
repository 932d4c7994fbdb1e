package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestCollScanInterleavings: HSCAN, SSCAN and ZSCAN keep Redis's guarantee (an
// element present for the whole scan is returned at least once) whatever
// happens to the collection between two calls: growth, deletes, and the
// conversion from the compact encoding to the table in the middle of a
// scan (a compact collection larger than value.HashScanAll/SetScanAll is
// paged by the same hash order and cursor as a table, so the scan goes
// on; a sorted set's tree pages its member index the same way, and its
// compact form is paged by hash past value.ZSetScanAll members, which a
// raised zset-max-listpack-entries allows). Each row is run with a small
// and a large COUNT.
func TestCollScanInterleavings(t *testing.T) {
	type coll struct {
		scan, add, del string // HSCAN/HSET/HDEL, SSCAN/SADD/SREM or ZSCAN/ZADD/ZREM
		hash, zset     bool
	}
	hashC := coll{"HSCAN", "HSET", "HDEL", true, false}
	setC := coll{"SSCAN", "SADD", "SREM", false, false}
	zsetC := coll{"ZSCAN", "ZADD", "ZREM", false, true}
	elems := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprint(prefix, i))
		}
		return out
	}
	// write adds (add) or removes names through c, a hash's value being
	// the name itself.
	write := func(r *rconn, c coll, key string, add bool, names []string) {
		t.Helper()
		for len(names) > 0 {
			n := min(len(names), 200)
			args := []string{c.del, key}
			if add {
				args[0] = c.add
			}
			for _, x := range names[:n] {
				if add && c.zset {
					args = append(args, fmt.Sprint(len(x)%5)) // a score
				}
				args = append(args, x)
				if add && c.hash {
					args = append(args, x)
				}
			}
			if _, isErr := r.do(args...).(respErr); isErr {
				t.Fatalf("%q failed", args[:3])
			}
			names = names[n:]
		}
	}
	long := strings.Repeat("L", 100)
	cases := []struct {
		name    string
		c       coll
		stay    []string // present for the whole scan
		extra   []string // present at the start, may go
		between func(r *rconn, step int)
		enc     [2]string // OBJECT ENCODING before and after
		setup   []string  // a command run first
	}{
		{"hash compact, converts by growth", hashC, elems("f", 0, 300), nil, func(r *rconn, step int) {
			if step == 1 {
				write(r, hashC, "k", true, elems("g", 0, 300))
			}
		}, [2]string{"listpack", "hashtable"}, nil},
		{"hash compact, converts by a long value", hashC, elems("f", 0, 300), nil, func(r *rconn, step int) {
			if step == 1 {
				r.do("HSET", "k", "long", long)
			}
		}, [2]string{"listpack", "hashtable"}, nil},
		{"hash compact, deletes", hashC, elems("f", 0, 200), elems("x", 0, 200), func(r *rconn, step int) {
			if step < 10 {
				write(r, hashC, "k", false, elems("x", step*20, step*20+20))
			}
		}, [2]string{"listpack", "listpack"}, nil},
		{"hash table, growth", hashC, elems("f", 0, 600), nil, func(r *rconn, step int) {
			if step < 20 {
				write(r, hashC, "k", true, elems(fmt.Sprint("g", step, "-"), 0, 500))
			}
		}, [2]string{"hashtable", "hashtable"}, nil},
		{"hash table, deletes to almost nothing", hashC, elems("f", 0, 100), elems("x", 0, 5000), func(r *rconn, step int) {
			if step < 10 {
				write(r, hashC, "k", false, elems("x", step*500, step*500+500))
			}
		}, [2]string{"hashtable", "hashtable"}, nil},
		{"set intset, converts by a string", setC, elems("", 0, 300), nil, func(r *rconn, step int) {
			if step == 1 {
				r.do("SADD", "k", "a-string")
			}
		}, [2]string{"intset", "hashtable"}, nil},
		{"set intset, converts by growth", setC, elems("", 0, 400), nil, func(r *rconn, step int) {
			if step == 1 {
				write(r, setC, "k", true, elems("", 1000, 1300))
			}
		}, [2]string{"intset", "hashtable"}, nil},
		{"set table, churn", setC, elems("m", 0, 500), elems("x", 0, 2000), func(r *rconn, step int) {
			if step < 20 {
				write(r, setC, "k", false, elems("x", step*100, step*100+100))
				write(r, setC, "k", true, elems(fmt.Sprint("n", step, "-"), 0, 150))
			}
		}, [2]string{"hashtable", "hashtable"}, nil},
		{"zset compact, converts by growth", zsetC, elems("m", 0, 400), nil, func(r *rconn, step int) {
			if step == 1 {
				write(r, zsetC, "k", true, elems("g", 0, 700))
			}
		}, [2]string{"listpack", "skiplist"}, []string{"CONFIG", "SET", "zset-max-listpack-entries", "1000"}},
		{"zset compact, converts by a long member", zsetC, elems("m", 0, 400), nil, func(r *rconn, step int) {
			if step == 1 {
				r.do("ZADD", "k", "1", long)
			}
		}, [2]string{"listpack", "skiplist"}, []string{"CONFIG", "SET", "zset-max-listpack-entries", "1000"}},
		{"zset tree, growth and score changes", zsetC, elems("m", 0, 600), nil, func(r *rconn, step int) {
			if step < 20 {
				write(r, zsetC, "k", true, elems(fmt.Sprint("g", step, "-"), 0, 500))
				r.do("ZINCRBY", "k", "7", fmt.Sprint("m", step))
			}
		}, [2]string{"skiplist", "skiplist"}, nil},
		{"zset tree, deletes to almost nothing", zsetC, elems("m", 0, 100), elems("x", 0, 5000), func(r *rconn, step int) {
			if step < 10 {
				write(r, zsetC, "k", false, elems("x", step*500, step*500+500))
			}
		}, [2]string{"skiplist", "skiplist"}, nil},
	}
	for _, tc := range cases {
		for _, count := range []string{"7", "100"} {
			t.Run(fmt.Sprintf("%s/count=%s", tc.name, count), func(t *testing.T) {
				srv := startServer(t, testConfig(), false)
				r := dialAs(t, srv.addr, "alice", "alice-pw")
				if tc.setup != nil {
					r.do(tc.setup...)
				}
				write(r, tc.c, "k", true, tc.stay)
				write(r, tc.c, "k", true, tc.extra)
				if got := norm(r.do("OBJECT", "ENCODING", "k")); got != tc.enc[0] {
					t.Fatalf("encoding at the start %v, want %s", got, tc.enc[0])
				}
				seen := map[string]int{}
				cursor := "0"
				for step := 0; ; step++ {
					rep := norm(r.do(tc.c.scan, "k", cursor, "COUNT", count)).([]any)
					items := rep[1].([]any)
					for i := 0; i < len(items); i++ {
						seen[items[i].(string)]++
						if tc.c.hash || tc.c.zset {
							i++ // the value or the score
						}
					}
					if cursor = rep[0].(string); cursor == "0" {
						break
					}
					if step > 100_000 {
						t.Fatal("scan does not end")
					}
					tc.between(r, step)
				}
				if got := norm(r.do("OBJECT", "ENCODING", "k")); got != tc.enc[1] {
					t.Fatalf("encoding at the end %v, want %s", got, tc.enc[1])
				}
				for _, x := range tc.stay {
					if seen[x] == 0 {
						t.Fatalf("%q, present for the whole scan, was not returned", x)
					}
				}
			})
		}
	}
}
