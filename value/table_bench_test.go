package value

import (
	"fmt"
	"testing"
)

// benchTable builds a set of n members "m<i>".
func benchSet(n int) *SetTable {
	s := NewSetTable(0)
	for i := range n {
		s.Add([][]byte{[]byte(fmt.Sprint("m", i))})
	}
	return s
}

// BenchmarkSetTable: SISMEMBER and SADD+SREM cost at 100, 10K and 1M
// members (flat with size is the point).
func BenchmarkSetTable(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		s := benchSet(n)
		keys := make([][]byte, 4096)
		for i := range keys {
			keys[i] = []byte(fmt.Sprint("m", (i*7919)%n))
		}
		b.Run(fmt.Sprintf("has/%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if !s.Has(keys[i&4095]) {
					b.Fatal("miss")
				}
			}
		})
		b.Run(fmt.Sprintf("add+rem/%d", n), func(b *testing.B) {
			m := [][]byte{[]byte("newmember")}
			for b.Loop() {
				s.Add(m)
				s.Rem(m)
			}
		})
	}
}
