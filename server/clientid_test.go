package server

import "testing"

func TestClientIDsUniqueAndUnordered(t *testing.T) {
	c := newIDCipher()
	seen := make(map[int64]bool, 200000)
	increasing := 0
	prev := int64(0)
	for n := uint64(0); n < 200000; n++ {
		id := c.id(n)
		if id <= 0 || id > 1<<62 {
			t.Fatalf("id(%d) = %d out of range", n, id)
		}
		if seen[id] {
			t.Fatalf("id(%d) = %d repeats", n, id)
		}
		seen[id] = true
		if id > prev {
			increasing++
		}
		prev = id
	}
	// Sequential ids would increase 200000 times; a permutation about half.
	if increasing > 110000 || increasing < 90000 {
		t.Errorf("ids increased %d times in 200000: they look sequential", increasing)
	}
	if d := newIDCipher(); d.id(1) == c.id(1) && d.id(2) == c.id(2) {
		t.Error("two servers hand out the same ids: the key is not random")
	}
}
