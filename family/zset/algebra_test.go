package zset

import (
	"math"
	"strings"
	"testing"

	"github.com/tcached/tcached/value"
)

// TestAggregate is zunionInterAggregate's table: SUM turns inf + -inf
// (NaN) into 0, MIN and MAX keep the target against NaN.
func TestAggregate(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		agg              int
		target, val, out float64
	}{
		{aggSum, 1, 2, 3}, {aggSum, inf, -inf, 0}, {aggSum, inf, 1, inf},
		{aggMin, 1, 2, 1}, {aggMin, 2, 1, 1}, {aggMin, 1, math.NaN(), 1},
		{aggMax, 1, 2, 2}, {aggMax, 2, 1, 2}, {aggMax, -inf, math.NaN(), -inf},
	} {
		got := c.target
		aggregate(&got, c.val, c.agg)
		if got != c.out {
			t.Errorf("aggregate(%v, %v, %d) = %v, want %v", c.target, c.val, c.agg, got, c.out)
		}
	}
}

// TestStoreEntry: a STORE result is compact while it fits both
// thresholds (and then keeps no -0), else a tree.
func TestStoreEntry(t *testing.T) {
	lim := value.DefaultLimits()
	lim.ZSetEntries, lim.ZSetValue = 3, 4
	negZero := math.Copysign(0, -1)
	for _, c := range []struct {
		members []value.ZMember
		tree    bool
	}{
		{[]value.ZMember{{Member: []byte("a"), Score: negZero}, {Member: []byte("b"), Score: 1}}, false},
		{[]value.ZMember{{Member: []byte("a")}, {Member: []byte("b")}, {Member: []byte("c")}}, false},
		{[]value.ZMember{{Member: []byte("a")}, {Member: []byte("b")}, {Member: []byte("c")}, {Member: []byte("d")}}, true},
		{[]value.ZMember{{Member: []byte(strings.Repeat("x", 5)), Score: negZero}}, true},
	} {
		e := StoreEntry(lim, c.members, 0)
		if (e.Obj != nil) != c.tree {
			t.Errorf("%d members: tree %v, want %v", len(c.members), e.Obj != nil, c.tree)
			continue
		}
		z := value.ViewZSet(e.Value, e.Obj)
		if z.Len() != len(c.members) {
			t.Errorf("stored %d members, want %d", z.Len(), len(c.members))
		}
		sc, ok := z.Score(c.members[0].Member)
		if !ok || math.Signbit(sc) != (c.tree && math.Signbit(c.members[0].Score)) {
			t.Errorf("score of %q = %v (ok %v); tree %v", c.members[0].Member, sc, ok, c.tree)
		}
	}
}
