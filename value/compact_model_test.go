package value

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestCompactModel replays random HSET/HDEL and SADD/SREM traces on the
// compact encodings against maps: the rewrites copy unchanged runs whole,
// and this checks every run boundary (first, last, adjacent changes,
// duplicates in one command).
func TestCompactModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var h, s []byte
	hm := map[string]string{}
	sm := map[string]bool{}
	for i := range 20000 {
		k := 1 + r.IntN(4)
		var fs, vs, ms [][]byte
		for range k {
			fs = append(fs, []byte(fmt.Sprint("f", r.IntN(30))))
			vs = append(vs, []byte(fmt.Sprint(r.IntN(1000))))
			ms = append(ms, []byte(fmt.Sprint("m", r.IntN(30))))
		}
		var err error
		switch r.IntN(4) {
		case 0, 1:
			want := 0
			seen := map[string]bool{}
			for j, f := range fs {
				if _, ok := hm[string(f)]; !ok && !seen[string(f)] {
					want++
				}
				seen[string(f)] = true
				hm[string(f)] = string(vs[j])
			}
			var added int
			if h, added, err = HashSet(nil, h, fs, vs); err != nil || added != want {
				t.Fatalf("op %d: HashSet added %d (%v), want %d", i, added, err, want)
			}
			wantS := 0
			for _, m := range SortMembers(ms) {
				if !sm[string(m)] {
					wantS++
				}
				sm[string(m)] = true
			}
			if s, added, err = SetAdd(nil, s, ms); err != nil || added != wantS {
				t.Fatalf("op %d: SetAdd added %d (%v), want %d", i, added, err, wantS)
			}
		default:
			want := 0
			for _, f := range SortMembers(fs) {
				if _, ok := hm[string(f)]; ok {
					want++
					delete(hm, string(f))
				}
			}
			var removed int
			if h, removed, err = HashDel(nil, h, fs); err != nil || removed != want {
				t.Fatalf("op %d: HashDel removed %d (%v), want %d", i, removed, err, want)
			}
			wantS := 0
			for _, m := range SortMembers(ms) {
				if sm[string(m)] {
					wantS++
					delete(sm, string(m))
				}
			}
			if s, removed, err = SetRem(nil, s, ms); err != nil || removed != wantS {
				t.Fatalf("op %d: SetRem removed %d (%v), want %d", i, removed, err, wantS)
			}
		}
		if HashLen(h) != len(hm) || SetLen(s) != len(sm) {
			t.Fatalf("op %d: lengths %d %d, want %d %d", i, HashLen(h), SetLen(s), len(hm), len(sm))
		}
		it := HashFields(h)
		n := 0
		for f, v, ok := it.Next(); ok; f, v, ok = it.Next() {
			if hm[string(f)] != string(v) {
				t.Fatalf("op %d: field %q = %q, want %q", i, f, v, hm[string(f)])
			}
			if got, _ := HashGet(h, f); string(got) != string(v) {
				t.Fatalf("op %d: HashGet %q = %q", i, f, got)
			}
			n++
		}
		members, err := SetSlice(nil, s)
		if err != nil || n != len(hm) || len(members) != len(sm) {
			t.Fatalf("op %d: decoded %d fields, %d members (%v)", i, n, len(members), err)
		}
		if !sort.SliceIsSorted(members, func(a, b int) bool { return string(members[a]) < string(members[b]) }) {
			t.Fatalf("op %d: set not sorted", i)
		}
		for _, m := range members {
			if !sm[string(m)] || !SetHas(s, m) {
				t.Fatalf("op %d: member %q", i, m)
			}
		}
	}
}
