package shard

import (
	"fmt"
	"strings"
	"testing"
)

// TestDeleteIf: exactly the keys the predicate names go, with their
// bytes and per-db counts; the rest stay readable.
func TestDeleteIf(t *testing.T) {
	p, c := newTest(t, Config{Shards: 4})
	for db := range 2 {
		for i := range 50 {
			exp := int64(0)
			if i%3 == 0 {
				exp = c.now() + 10_000
			}
			mustSet(t, p, db, fmt.Sprint("k", i), "value", exp)
		}
	}
	used := p.Stats().UsedBytes
	var gone int64
	for _, k := range []string{"k7", "k17", "k27", "k37", "k47"} {
		u, _ := p.Usage(1, []byte(k))
		gone += u
	}
	var seen int
	n := p.DeleteIf(func(db int, key []byte) bool {
		seen++
		return db == 1 && strings.HasSuffix(string(key), "7")
	})
	if seen != 100 || n != 5 { // k7 k17 k27 k37 k47 of db 1
		t.Fatalf("DeleteIf visited %d, removed %d", seen, n)
	}
	if p.Len(0) != 50 || p.Len(1) != 45 {
		t.Fatalf("Len %d %d", p.Len(0), p.Len(1))
	}
	if _, ok := p.Usage(1, []byte("k17")); ok {
		t.Fatal("k17 of db 1 survived")
	}
	if _, ok := p.Usage(0, []byte("k17")); !ok {
		t.Fatal("k17 of db 0 went")
	}
	if got := p.Stats().UsedBytes; got != used-gone || gone == 0 {
		t.Fatalf("used %d after removing 5 keys from %d", got, used)
	}
	audit(t, p)
	if n := p.DeleteIf(func(int, []byte) bool { return true }); n != 95 || p.Stats().UsedBytes != 0 {
		t.Fatalf("DeleteIf(all) = %d, used %d", n, p.Stats().UsedBytes)
	}
	audit(t, p)
}
