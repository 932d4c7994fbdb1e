package shard

import (
	"fmt"
	"testing"
)

// TestTTL checks Redis's rule (expired when now > expireAt) on every read
// path with a fake clock.
func TestTTL(t *testing.T) {
	type probe func(p *Partition) bool // reports whether "k" is visible
	probes := map[string]probe{
		"GetAppend": func(p *Partition) bool { _, ok := p.GetAppend(nil, 0, []byte("k")); return ok },
		"View":      func(p *Partition) bool { return p.View(0, []byte("k"), 0, func(Entry) {}) },
		"Usage":     func(p *Partition) bool { _, ok := p.Usage(0, []byte("k")); return ok },
		"Delete":    func(p *Partition) bool { return p.Delete(0, []byte("k")) },
		"Mutate": func(p *Partition) bool {
			var seen bool
			p.Mutate(0, []byte("k"), func(_ Entry, ex bool) (Entry, Action, error) { seen = ex; return Entry{}, Keep, nil })
			return seen
		},
		"Apply": func(p *Partition) bool {
			var seen bool
			p.Apply([]Key{{0, []byte("k")}}, func(_ []Entry, ex []bool) ([]Entry, []Action, error) {
				seen = ex[0]
				return make([]Entry, 1), make([]Action, 1), nil
			})
			return seen
		},
		"Scan": func(p *Partition) bool {
			_, keys := p.Scan(0, 0, 100, nil)
			return len(keys) == 1
		},
		"RandomKey": func(p *Partition) bool { _, ok := p.RandomKey(0); return ok },
	}
	offsets := []struct {
		d       int64
		visible bool
	}{{-1, true}, {0, true}, {1, false}, {1000, false}}
	for name, pr := range probes {
		for _, o := range offsets {
			t.Run(fmt.Sprintf("%s/%+d", name, o.d), func(t *testing.T) {
				p, c := newTest(t, Config{})
				mustSet(t, p, 0, "k", "v", c.now()+100)
				c.advance(100 + o.d)
				if got := pr(p); got != o.visible {
					t.Fatalf("visible = %v, want %v", got, o.visible)
				}
				if !o.visible {
					st := p.Stats()
					if st.Expired != 1 || st.Keys != 0 || st.UsedBytes != 0 {
						t.Fatalf("expired key not collected: %+v", st)
					}
				}
				audit(t, p)
			})
		}
	}
}

func TestSetExpiry(t *testing.T) {
	p, c := newTest(t, Config{})
	mustSet(t, p, 0, "k", "v", c.now()+10)
	if st := p.Stats(); st.ExpiresPerDB[0] != 1 || st.KeysPerDB[0] != 1 {
		t.Fatalf("stats %+v", st)
	}
	mustSet(t, p, 0, "k", "v2", 0) // plain SET clears the TTL
	c.advance(100)
	if v, ok := get(p, 0, "k"); !ok || v != "v2" {
		t.Fatalf("get = %q %v", v, ok)
	}
	if st := p.Stats(); st.ExpiresPerDB[0] != 0 {
		t.Fatalf("expires %d", st.ExpiresPerDB[0])
	}
	// A Put already in the past deletes the key (SET ... PXAT past).
	mustSet(t, p, 0, "k", "v3", c.now()-1)
	if _, ok := get(p, 0, "k"); ok {
		t.Fatal("past expiry stored a key")
	}
	if p.UsedBytes() != 0 {
		t.Fatalf("used %d", p.UsedBytes())
	}
	audit(t, p)
}

func TestExpireCycle(t *testing.T) {
	p, c := newTest(t, Config{Shards: 4})
	for i := range 1000 {
		exp := int64(0)
		if i%4 != 0 {
			exp = c.now() + 10
		}
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", exp)
	}
	if n := p.ExpireCycle(1000); n != 0 {
		t.Fatalf("removed %d before expiry", n)
	}
	c.advance(11)
	n := p.ExpireCycle(100)
	if n == 0 || n > 100 {
		t.Fatalf("ExpireCycle(100) removed %d", n)
	}
	total := n
	for range 100 {
		total += p.ExpireCycle(100)
	}
	if total != 750 || p.Len(0) != 250 || p.Stats().Expired != 750 {
		t.Fatalf("removed %d, Len %d, stats %+v", total, p.Len(0), p.Stats())
	}
	if p.ExpireCycle(0) != 0 {
		t.Fatal("maxWork 0 did work")
	}
	audit(t, p)
}

// TestExpireCycleAdaptive: with few expired keys a cycle stops early
// (well under maxWork per sub-shard) instead of scanning everything.
func TestExpireCycleAdaptive(t *testing.T) {
	p, c := newTest(t, Config{Shards: 1})
	for i := range 1000 {
		exp := c.now() + 1_000_000
		if i == 500 {
			exp = c.now() + 1
		}
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", exp)
	}
	c.advance(2)
	p.ExpireCycle(1000)
	if s := p.shards[0].expireSlot; s != expireBatchSlots {
		t.Fatalf("examined %d slots, want one batch of %d", s, expireBatchSlots)
	}
}
