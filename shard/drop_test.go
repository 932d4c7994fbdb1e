package shard

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
)

// TestOnDrop: SetOnDrop's function hears of every key the partition
// removes by itself (lazy and active expiry, LRU eviction, a quota
// shrink), with its db, and of no key a caller deletes or overwrites.
func TestOnDrop(t *testing.T) {
	p, clk := newTest(t, Config{Quota: 1 << 20, Shards: 4})
	var mu sync.Mutex
	var dropped []string
	p.SetOnDrop(func(db int, key []byte) {
		mu.Lock()
		dropped = append(dropped, fmt.Sprintf("%d/%s", db, key))
		mu.Unlock()
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := dropped
		dropped = nil
		sort.Strings(out)
		return out
	}
	now := clk.now()
	p.Set(0, []byte("lazy"), []byte("v"), now+10)
	p.Set(3, []byte("active"), []byte("v"), now+10)
	p.Set(0, []byte("deleted"), []byte("v"), 0)
	p.Set(0, []byte("overwritten"), []byte("v"), 0)
	p.Delete(0, []byte("deleted"))
	p.Set(0, []byte("overwritten"), []byte("w"), 0)
	if got := take(); len(got) != 0 {
		t.Fatalf("caller's deletes and overwrites reported: %q", got)
	}
	clk.advance(11)
	p.GetAppend(nil, 0, []byte("lazy"))
	if got := take(); !slices.Equal(got, []string{"0/lazy"}) {
		t.Errorf("lazy expiry reported %q", got)
	}
	for p.ExpireCycle(1000) > 0 {
	}
	if got := take(); !slices.Equal(got, []string{"3/active"}) {
		t.Errorf("active expiry reported %q", got)
	}
	// Fill past the quota: the oldest keys are evicted and reported.
	val := make([]byte, 10<<10)
	for i := 0; i < 200; i++ {
		if err := p.Set(1, []byte(fmt.Sprint("fill", i)), val, 0); err != nil {
			t.Fatal(err)
		}
	}
	evicted := take()
	if len(evicted) == 0 || !slices.Contains(evicted, "1/fill0") {
		t.Errorf("eviction reported %d keys (%.3q...), want fill0 among them", len(evicted), evicted)
	}
	if int64(len(evicted))+p.Stats().Keys != 200+1 { // + "overwritten"
		t.Errorf("%d evictions reported, %d keys left: some eviction went unreported", len(evicted), p.Stats().Keys)
	}
	p.SetQuota(100 << 10)
	if got := take(); len(got) == 0 {
		t.Error("a quota shrink evicted and reported nothing")
	}
	p.SetOnDrop(nil)
	p.SetQuota(1 << 10)
	if got := take(); len(got) != 0 {
		t.Errorf("reported after SetOnDrop(nil): %q", got)
	}
}
