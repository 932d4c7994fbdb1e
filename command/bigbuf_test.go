package command

import "testing"

// TestBigBuf: BigBuf's classes are powers of two from 128 KiB to 64 MiB;
// a buffer given back is reused for the same class only, small requests
// use dst, and sizes past the classes are allocated exactly.
func TestBigBuf(t *testing.T) {
	for _, c := range []struct{ n, class int }{
		{64 << 10, -1}, {64<<10 + 1, 0}, {128 << 10, 0}, {128<<10 + 1, 1},
		{512 << 10, 2}, {512<<10 + 1, 3}, {64 << 20, 9}, {64<<20 + 1, -1},
	} {
		if got := bigClass(c.n); got != c.class {
			t.Errorf("bigClass(%d) = %d, want %d", c.n, got, c.class)
		}
	}
	dst := make([]byte, 3, 100)
	if b := BigBuf(dst, 50); cap(b) != 100 || len(b) != 0 {
		t.Errorf("small request: cap %d len %d, want dst's 100, 0", cap(b), len(b))
	}
	if b := BigBuf(nil, 1000); cap(b) != 1000 {
		t.Errorf("unpooled small size: cap %d", cap(b))
	}
	b := BigBuf(nil, 300<<10)
	if cap(b) != 512<<10 || len(b) != 0 {
		t.Fatalf("300 KiB: cap %d len %d, want the 512 KiB class", cap(b), len(b))
	}
	if b := BigBuf(nil, 70<<20); cap(b) != 70<<20 {
		t.Errorf("past the classes: cap %d, want exactly 70 MiB", cap(b))
	}
	PutBigBuf(make([]byte, 0, 300<<10)) // not a class size: ignored
	PutBigBuf(b[:10])                   // accepted; the pool may hand it back
	if c := BigBuf(nil, 400<<10); cap(c) != 512<<10 || len(c) != 0 {
		t.Errorf("after a put: cap %d len %d", cap(c), len(c))
	}
}
