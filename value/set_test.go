package value

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func setOf(t testing.TB, members ...string) []byte {
	t.Helper()
	b, _, err := SetAdd(nil, nil, bs(members...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setStrings(t testing.TB, b []byte) []string {
	t.Helper()
	out := []string{}
	it := SetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		out = append(out, string(m))
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if len(out) != SetLen(b) {
		t.Fatalf("SetLen %d, %d members", SetLen(b), len(out))
	}
	if !sort.StringsAreSorted(out) || len(slices.Compact(slices.Clone(out))) != len(out) {
		t.Fatalf("members not sorted and distinct: %q", out)
	}
	return out
}

func TestSetEncoding(t *testing.T) {
	b := setOf(t, "b", "a", "c", "a", "")
	if got := setStrings(t, b); !slices.Equal(got, []string{"", "a", "b", "c"}) {
		t.Fatalf("members = %q", got)
	}
	// 1 count byte, then 1+len per member.
	if len(b) != 1+1+2+2+2 {
		t.Fatalf("encoding is %d bytes", len(b))
	}
	for _, m := range []string{"", "a", "b", "c"} {
		if !SetHas(b, []byte(m)) {
			t.Fatalf("SetHas(%q) = false", m)
		}
	}
	for _, m := range []string{"0", "aa", "bb", "d"} {
		if SetHas(b, []byte(m)) {
			t.Fatalf("SetHas(%q) = true", m)
		}
	}
	b2, added, err := SetAdd(nil, b, bs("d", "a", "aa", "d"))
	if err != nil || added != 2 || !slices.Equal(setStrings(t, b2), []string{"", "a", "aa", "b", "c", "d"}) {
		t.Fatalf("SetAdd = %q, %d, %v", setStrings(t, b2), added, err)
	}
	b3, removed, err := SetRem(nil, b2, bs("a", "zz", "a", "", "d"))
	if err != nil || removed != 3 || !slices.Equal(setStrings(t, b3), []string{"aa", "b", "c"}) {
		t.Fatalf("SetRem = %q, %d, %v", setStrings(t, b3), removed, err)
	}
	b4, removed, err := SetRem(nil, b3, bs("aa", "b", "c"))
	if err != nil || removed != 3 || SetLen(b4) != 0 {
		t.Fatalf("SetRem all = %q, %d, %v", b4, removed, err)
	}
	if SetLen(nil) != 0 || SetHas(nil, []byte("x")) {
		t.Fatal("nil set is not empty")
	}
	long := string(make([]byte, 300))
	b5 := setOf(t, long, "x")
	if !SetHas(b5, []byte(long)) || SetLen(b5) != 2 {
		t.Fatal("long member")
	}
}

func TestSetCorrupt(t *testing.T) {
	bad := [][]byte{{0x80}, {2, 1, 'a'}, {1, 5, 'a'}}
	for _, b := range bad {
		if _, _, err := SetAdd(nil, b, bs("x")); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("SetAdd(%q): %v", b, err)
		}
		if _, err := SetInter(nil, [][]byte{b, b}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("SetInter(%q): %v", b, err)
		}
		if _, err := SetUnion(nil, [][]byte{b}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("SetUnion(%q): %v", b, err)
		}
	}
}

// TestSetAlgebra checks SetAdd, SetRem, SetInter, SetUnion and SetDiff
// against maps on random sets.
func TestSetAlgebra(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randSet := func() (map[string]bool, []byte) {
		m := map[string]bool{}
		if rng.IntN(5) == 0 {
			return m, nil // a missing key
		}
		for range rng.IntN(40) {
			m[fmt.Sprint(rng.IntN(60))] = true
		}
		var ms []string
		for k := range m {
			ms = append(ms, k)
		}
		return m, setOf(t, ms...)
	}
	keys := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	for range 500 {
		n := 1 + rng.IntN(4)
		ms := make([]map[string]bool, n)
		encs := make([][]byte, n)
		for i := range n {
			ms[i], encs[i] = randSet()
		}
		inter, union, diff := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for k := range ms[0] {
			in, out := true, false
			for _, o := range ms[1:] {
				in = in && o[k]
				out = out || o[k]
			}
			if in {
				inter[k] = true
			}
			if !out {
				diff[k] = true
			}
		}
		for _, m := range ms {
			for k := range m {
				union[k] = true
			}
		}
		for _, c := range []struct {
			name string
			f    func([]byte, [][]byte) ([]byte, error)
			want map[string]bool
		}{{"inter", SetInter, inter}, {"union", SetUnion, union}, {"diff", SetDiff, diff}} {
			got, err := c.f([]byte("prefix"), encs)
			if err != nil || string(got[:6]) != "prefix" {
				t.Fatalf("%s: %v", c.name, err)
			}
			if g, w := setStrings(t, got[6:]), keys(c.want); !slices.Equal(g, w) {
				t.Fatalf("%s of %v = %q, want %q", c.name, ms, g, w)
			}
		}
		// Add and remove a random batch.
		batch := bs()
		for range rng.IntN(10) {
			batch = append(batch, fmt.Append(nil, rng.IntN(60)))
		}
		want, newOnes, gone := maps2(ms[0]), 0, 0
		for _, b := range batch {
			if !want[string(b)] {
				newOnes++
				want[string(b)] = true
			}
		}
		added, addedN, err := SetAdd(nil, encs[0], batch)
		if err != nil || addedN != newOnes || !slices.Equal(setStrings(t, added), keys(want)) {
			t.Fatalf("SetAdd: %d (want %d), %v", addedN, newOnes, err)
		}
		want = maps2(ms[0])
		for _, b := range batch {
			if want[string(b)] {
				gone++
				delete(want, string(b))
			}
		}
		rem, remN, err := SetRem(nil, encs[0], batch)
		if err != nil || remN != gone || !slices.Equal(setStrings(t, rem), keys(want)) {
			t.Fatalf("SetRem: %d (want %d), %v", remN, gone, err)
		}
	}
}

func maps2(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func TestSetScanPages(t *testing.T) {
	var ms []string
	for i := range SetScanAll {
		ms = append(ms, fmt.Sprint("m", i))
	}
	small := setOf(t, ms...)
	n := 0
	if next, err := SetScan(small, 0, 1, func([]byte) { n++ }); next != 0 || err != nil || n != SetScanAll {
		t.Fatalf("small set: next %d, %d members, %v", next, n, err)
	}
	for i := range 300 {
		ms = append(ms, fmt.Sprint("x", i))
	}
	big := setOf(t, ms...)
	seen := map[string]int{}
	cursor, calls := uint64(0), 0
	for {
		page := 0
		next, err := SetScan(big, cursor, 50, func(m []byte) { seen[string(m)]++; page++ })
		if err != nil || page > 60 {
			t.Fatalf("page of %d, %v", page, err)
		}
		calls++
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != len(ms) || calls < 8 {
		t.Fatalf("saw %d of %d in %d calls", len(seen), len(ms), calls)
	}
	for m, c := range seen {
		if c != 1 {
			t.Fatalf("%q seen %d times", m, c)
		}
	}
}
