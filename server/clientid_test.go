package server

import "testing"

func TestClientIDsUniqueAndUnordered(t *testing.T) {
	c := newIDCipher()
	seen := make(map[int64]bool, 200000)
	increasing := 0
	prev := int64(0)
	for n := uint64(0); n < 200000; n++ {
		id := c.id(n)
		if id <= 0 || id > maxClientID || id >= 1<<53 {
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

// TestClientIDsBelow2To53: every id a server hands out, over the whole
// counter range, is exactly representable as a JavaScript number.
func TestClientIDsBelow2To53(t *testing.T) {
	c := newIDCipher()
	for _, n := range []uint64{0, 1, 2, 1<<26 - 1, 1 << 26, 1<<52 - 2, 1<<52 - 1, 1 << 52, 1<<62 + 5} {
		if id := c.id(n); id <= 0 || id >= 1<<53 {
			t.Errorf("id(%d) = %d: not in [1, 2^53)", n, id)
		}
	}
	// The top of the range is reached: ids are spread over all 52 bits,
	// not squeezed into a smaller (more guessable) range.
	high := 0
	for n := uint64(0); n < 10000; n++ {
		if c.id(n) > 1<<51 {
			high++
		}
	}
	if high < 4000 || high > 6000 {
		t.Errorf("%d of 10000 ids above 2^51, want about half", high)
	}
}
