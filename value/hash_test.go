package value

import (
	"fmt"
	"slices"
	"testing"
)

func hashOf(t testing.TB, pairs ...string) []byte {
	t.Helper()
	var f, v [][]byte
	for i := 0; i < len(pairs); i += 2 {
		f = append(f, []byte(pairs[i]))
		v = append(v, []byte(pairs[i+1]))
	}
	b, _, err := HashSet(nil, nil, f, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hashPairs(t testing.TB, b []byte) []string {
	t.Helper()
	var out []string
	it := HashFields(b)
	for f, v, ok := it.Next(); ok; f, v, ok = it.Next() {
		out = append(out, string(f), string(v))
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if len(out)/2 != HashLen(b) {
		t.Fatalf("HashLen %d, %d fields", HashLen(b), len(out)/2)
	}
	return out
}

func TestHashEncoding(t *testing.T) {
	b := hashOf(t, "a", "1", "b", "2", "a", "3")
	if got := hashPairs(t, b); !slices.Equal(got, []string{"a", "3", "b", "2"}) {
		t.Fatalf("dup field: %q", got)
	}
	b2, added, err := HashSet(nil, b, [][]byte{[]byte("c"), []byte("a")}, [][]byte{[]byte("x"), []byte("")})
	if err != nil || added != 1 {
		t.Fatalf("HashSet added %d, %v", added, err)
	}
	if got := hashPairs(t, b2); !slices.Equal(got, []string{"a", "", "b", "2", "c", "x"}) {
		t.Fatalf("update keeps order, appends new: %q", got)
	}
	if v, ok := HashGet(b2, []byte("b")); !ok || string(v) != "2" {
		t.Fatalf("HashGet b = %q %v", v, ok)
	}
	if _, ok := HashGet(b2, []byte("zz")); ok {
		t.Fatal("HashGet of a missing field")
	}
	b3, removed, err := HashDel(nil, b2, [][]byte{[]byte("a"), []byte("zz"), []byte("a")})
	if err != nil || removed != 1 || !slices.Equal(hashPairs(t, b3), []string{"b", "2", "c", "x"}) {
		t.Fatalf("HashDel = %q, %d, %v", hashPairs(t, b3), removed, err)
	}
	// Many fields (map path) and long fields (multi-byte lengths).
	var f, v [][]byte
	for i := range 300 {
		f = append(f, fmt.Appendf(nil, "field-%d-%0200d", i, i))
		v = append(v, fmt.Appendf(nil, "%0300d", i))
	}
	big, added, err := HashSet(nil, nil, f, v)
	if err != nil || added != 300 || HashLen(big) != 300 {
		t.Fatalf("big: added %d, len %d, %v", added, HashLen(big), err)
	}
	big2, removed, _ := HashDel(nil, big, f[:150])
	if removed != 150 || HashLen(big2) != 150 {
		t.Fatalf("big del: %d, len %d", removed, HashLen(big2))
	}
	if got, ok := HashGet(big2, f[299]); !ok || string(got) != string(v[299]) {
		t.Fatal("big: last field lost")
	}
	// Malformed input is reported, never a panic.
	for _, bad := range [][]byte{{0x05}, {0x01, 0x09, 'a'}, {0x80}} {
		it := HashFields(bad)
		for _, _, ok := it.Next(); ok; _, _, ok = it.Next() {
		}
		if _, _, err := HashSet(nil, bad, f[:1], v[:1]); err == nil || it.Err() == nil {
			t.Fatalf("malformed %x accepted", bad)
		}
	}
}

func TestHashScanPages(t *testing.T) {
	var f, v [][]byte
	for i := range 1000 {
		f = append(f, fmt.Appendf(nil, "f%d", i))
		v = append(v, []byte("v"))
	}
	b, _, _ := HashSet(nil, nil, f, v)
	seen := map[string]int{}
	cursor, calls := uint64(0), 0
	for {
		n := 0
		next, err := HashScan(b, cursor, 100, func(f, _ []byte) { seen[string(f)]++; n++ })
		if err != nil || n < 100 && next != 0 {
			t.Fatalf("page of %d, next %d, %v", n, next, err)
		}
		calls++
		if cursor = next; cursor == 0 {
			break
		}
	}
	if calls != 10 || len(seen) != 1000 {
		t.Fatalf("%d calls, %d fields", calls, len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s returned %d times", k, n)
		}
	}
}

// BenchmarkHashSet measures one field update of an encoded hash (the O(n)
// copy documented in hash.go).
func BenchmarkHashSet(b *testing.B) {
	for _, n := range []int{16, 128, 1024} {
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			var f, v [][]byte
			for i := range n {
				f = append(f, fmt.Appendf(nil, "field:%d", i))
				v = append(v, make([]byte, 240))
			}
			h, _, _ := HashSet(nil, nil, f, v)
			dst := make([]byte, 0, 2*len(h))
			upd := [][]byte{f[n/2]}
			b.SetBytes(int64(len(h)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _, _ = HashSet(dst[:0], h, upd, v[:1])
			}
		})
	}
}
