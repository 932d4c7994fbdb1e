package value

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func zsetOf(t testing.TB, pairs ...any) []byte {
	t.Helper()
	var set []ZMember
	for i := 0; i < len(pairs); i += 2 {
		set = append(set, ZMember{Member: []byte(pairs[i].(string)), Score: pairs[i+1].(float64)})
	}
	b, err := ZSetMerge(nil, nil, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zsetDump renders b as "member=score ..." and checks its invariants:
// the count header, (score, member) order, no NaN, no -0.
func zsetDump(t testing.TB, b []byte) string {
	t.Helper()
	all, err := ZSetDecode(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != ZSetLen(b) {
		t.Fatalf("ZSetLen %d, %d members", ZSetLen(b), len(all))
	}
	out := ""
	for i, m := range all {
		if i > 0 && ZCompare(all[i-1], m) >= 0 {
			t.Fatalf("members out of order at %d: %v", i, all)
		}
		if math.IsNaN(m.Score) || m.Score == 0 && math.Signbit(m.Score) {
			t.Fatalf("bad stored score %v", m.Score)
		}
		if i > 0 {
			out += " "
		}
		out += string(m.Member) + "=" + strconv.FormatFloat(m.Score, 'g', -1, 64)
	}
	return out
}

func TestZSetEncoding(t *testing.T) {
	b := zsetOf(t, "b", 2.0, "a", 2.0, "c", 1.0, "z", math.Inf(-1), "y", math.Inf(1), "n", math.Copysign(0, -1))
	if got, want := zsetDump(t, b), "z=-Inf n=0 c=1 a=2 b=2 y=+Inf"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if s, ok := ZSetScore(b, []byte("a")); !ok || s != 2 {
		t.Fatalf("ZSetScore a = %v %v", s, ok)
	}
	if _, ok := ZSetScore(b, []byte("nope")); ok {
		t.Fatal("ZSetScore of a missing member")
	}
	if r, s, ok := ZSetRank(b, []byte("b")); !ok || r != 4 || s != 2 {
		t.Fatalf("ZSetRank b = %d %v %v", r, s, ok)
	}
	scores, found, err := ZSetScores(b, [][]byte{[]byte("c"), []byte("x"), []byte("c"), []byte("y")})
	if err != nil || !slices.Equal(found, []bool{true, false, true, true}) || scores[0] != 1 || scores[2] != 1 || !math.IsInf(scores[3], 1) {
		t.Fatalf("ZSetScores = %v %v %v", scores, found, err)
	}
	// Re-score, insert and delete in one merge.
	next, err := ZSetMerge(nil, b, []ZMember{{[]byte("c"), 3}, {[]byte("d"), 0.5}}, [][]byte{[]byte("z"), []byte("missing")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := zsetDump(t, next), "n=0 d=0.5 a=2 b=2 c=3 y=+Inf"; got != want {
		t.Fatalf("merge: got %q, want %q", got, want)
	}
	for _, tc := range []struct {
		from, to int
		want     string
	}{
		{0, 1, "d=0.5 a=2 b=2 c=3 y=+Inf"},
		{4, 6, "n=0 d=0.5 a=2 b=2"},
		{-3, 2, "a=2 b=2 c=3 y=+Inf"},
		{5, 100, "n=0 d=0.5 a=2 b=2 c=3"},
		{7, 9, "n=0 d=0.5 a=2 b=2 c=3 y=+Inf"},
		{0, 6, ""},
	} {
		cut, err := ZSetCut(nil, next, tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if got := zsetDump(t, cut); got != tc.want {
			t.Fatalf("cut [%d,%d): got %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
	if ZSetLen(nil) != 0 {
		t.Fatal("ZSetLen(nil)")
	}
	// A malformed buffer is an error, never a panic.
	for _, bad := range [][]byte{{0x80}, {2, 1, 2, 3}, append(zsetOf(t, "abc", 1.0)[:10:10], 0)} {
		it := ZSetMembers(bad)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
		if !errors.Is(it.Err(), ErrCorrupt) {
			t.Fatalf("ZSetMembers(%x): err %v", bad, it.Err())
		}
		if _, err := ZSetMerge(nil, bad, nil, nil); err == nil {
			t.Fatalf("ZSetMerge(%x) accepted a malformed buffer", bad)
		}
	}
}

// TestZSetMergeRandom checks ZSetMerge against a map model.
func TestZSetMergeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]float64{}
	var b []byte
	for round := range 300 {
		var set []ZMember
		var del [][]byte
		used := map[string]bool{}
		for range rng.IntN(40) {
			m := fmt.Sprintf("m%d", rng.IntN(60))
			if used[m] {
				continue
			}
			used[m] = true
			if rng.IntN(3) == 0 {
				del = append(del, []byte(m))
				delete(model, m)
				continue
			}
			s := float64(rng.IntN(10))
			set = append(set, ZMember{[]byte(m), s})
			model[m] = s
		}
		next, err := ZSetMerge(nil, b, set, del)
		if err != nil {
			t.Fatal(err)
		}
		b = next
		var want []ZMember
		for m, s := range model {
			want = append(want, ZMember{[]byte(m), s})
		}
		slices.SortFunc(want, ZCompare)
		got, _ := ZSetDecode(nil, b)
		zsetDump(t, b)
		if !slices.EqualFunc(got, want, func(a, b ZMember) bool { return ZCompare(a, b) == 0 }) {
			t.Fatalf("round %d: %d members, want %d", round, len(got), len(want))
		}
	}
}

// TestZSetScan: a small set comes whole; a large one is paged, every
// member present for the whole scan returned exactly once under churn.
func TestZSetScan(t *testing.T) {
	small := zsetOf(t, "a", 1.0, "b", 2.0)
	var got []string
	next, err := ZSetScan(small, 0, 1, func(m ZMember) { got = append(got, string(m.Member)) })
	if err != nil || next != 0 || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("small scan = %v %d %v", got, next, err)
	}
	var set []ZMember
	for i := range 500 {
		set = append(set, ZMember{[]byte(fmt.Sprintf("m%d", i)), float64(i % 7)})
	}
	b, _ := ZSetMerge(nil, nil, set, nil)
	seen := map[string]int{}
	cursor, calls := uint64(0), 0
	for {
		n := 0
		cursor, err = ZSetScan(b, cursor, 50, func(m ZMember) { seen[string(m.Member)]++; n++ })
		if err != nil {
			t.Fatal(err)
		}
		if n > 60 {
			t.Fatalf("page of %d for count 50", n)
		}
		calls++
		if calls == 3 { // churn: drop m400.., add new members
			var del [][]byte
			for i := 400; i < 500; i++ {
				del = append(del, []byte(fmt.Sprintf("m%d", i)))
			}
			var add []ZMember
			for i := range 50 {
				add = append(add, ZMember{[]byte(fmt.Sprintf("new%d", i)), -1})
			}
			b, _ = ZSetMerge(nil, b, add, del)
		}
		if cursor == 0 {
			break
		}
		if calls > 1000 {
			t.Fatal("scan does not terminate")
		}
	}
	for i := range 400 {
		if c := seen[fmt.Sprintf("m%d", i)]; c != 1 {
			t.Fatalf("m%d seen %d times", i, c)
		}
	}
}
