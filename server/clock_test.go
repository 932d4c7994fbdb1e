package server

import (
	"testing"
	"time"
)

// TestWallMs: with real clocks the TTL clock derived from the monotonic
// reading stays on the wall clock (within a millisecond or two either
// way), and after a resync too; with a fake Options.Now it is that clock.
func TestWallMs(t *testing.T) {
	s, err := New(testConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.realWall {
		t.Fatal("real clocks, yet wallMs does not derive from mono")
	}
	check := func(when string) {
		for range 100 {
			before := time.Now().UnixMilli()
			got := s.wallMs()
			after := time.Now().UnixMilli()
			if got < before-2 || got > after+2 {
				t.Fatalf("%s: wallMs %d outside [%d, %d]", when, got, before, after)
			}
		}
	}
	check("after New")
	s.wallOff.Add(int64(time.Hour)) // as if the wall clock stepped an hour back
	if got := s.wallMs() - time.Now().UnixMilli(); got < int64(time.Hour/time.Millisecond)-5 {
		t.Fatalf("the offset is not used: %d ms off", got)
	}
	s.syncWall()
	check("after syncWall")

	clk := &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f, err := New(testConfig(), Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.wallMs(), clk.Now().UnixMilli(); got != want {
		t.Fatalf("fake clock: wallMs %d, want %d", got, want)
	}
}
