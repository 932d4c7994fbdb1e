package shard

import (
	"testing"
)

func expireOf(t *testing.T, p *Partition, k string) int64 {
	t.Helper()
	var at int64
	if !p.View(0, []byte(k), 0, func(e Entry) { at = e.ExpireAt }) {
		t.Fatalf("%q missing", k)
	}
	return at
}

// TestMaxTTLCap: every write path that stores an expiry bounds it by
// now+max TTL, an absent expiry included; shorter ones are kept.
func TestMaxTTLCap(t *testing.T) {
	const maxMs = 10_000
	writes := map[string]func(p *Partition, k string, at int64) error{
		"Set": func(p *Partition, k string, at int64) error { return p.Set(0, []byte(k), []byte("v"), at) },
		"Mutate/Put": func(p *Partition, k string, at int64) error {
			return p.Mutate(0, []byte(k), func(Entry, bool) (Entry, Action, error) {
				return Entry{Value: []byte("v"), ExpireAt: at}, Put, nil
			})
		},
		"Mutate/SetTTL": func(p *Partition, k string, at int64) error {
			if err := p.Set(0, []byte(k), []byte("v"), 0); err != nil {
				return err
			}
			return p.Mutate(0, []byte(k), func(Entry, bool) (Entry, Action, error) {
				return Entry{ExpireAt: at}, SetTTL, nil
			})
		},
		"Apply/Put": func(p *Partition, k string, at int64) error {
			return p.Apply([]Key{{0, []byte(k)}}, func([]Entry, []bool) ([]Entry, []Action, error) {
				return []Entry{{Value: []byte("v"), ExpireAt: at}}, []Action{Put}, nil
			})
		},
		"Apply/SetTTL": func(p *Partition, k string, at int64) error {
			if err := p.Set(0, []byte(k), []byte("v"), 0); err != nil {
				return err
			}
			return p.Apply([]Key{{0, []byte(k)}}, func([]Entry, []bool) ([]Entry, []Action, error) {
				return []Entry{{ExpireAt: at}}, []Action{SetTTL}, nil
			})
		},
		"Patch/new": func(p *Partition, k string, at int64) error {
			p.Delete(0, []byte(k))
			return p.Patch(0, []byte(k), TypeString, at, func(Entry, bool) (int, error) { return 3, nil }, func([]byte) bool { return true })
		},
	}
	for name, w := range writes {
		t.Run(name, func(t *testing.T) {
			p, c := newTest(t, Config{})
			p.SetMaxTTL(maxMs, false)
			now := c.now()
			for _, tc := range []struct {
				at, want int64
			}{
				{0, now + maxMs},             // absent: capped
				{now + 2*maxMs, now + maxMs}, // longer: capped
				{now + maxMs, now + maxMs},   // at the cap: kept
				{now + 5, now + 5},           // shorter: kept
			} {
				if err := w(p, "k", tc.at); err != nil {
					t.Fatal(err)
				}
				if got := expireOf(t, p, "k"); got != tc.want {
					t.Errorf("at %d: expiry %d, want %d", tc.at, got, tc.want)
				}
			}
			audit(t, p)
		})
	}
}

func TestMaxTTLOffAndCapExpiries(t *testing.T) {
	p, c := newTest(t, Config{})
	mustSet(t, p, 0, "none", "v", 0)
	mustSet(t, p, 0, "long", "v", c.now()+1e9)
	mustSet(t, p, 0, "short", "v", c.now()+5)
	if got := p.CapExpiries(); got != 0 {
		t.Fatalf("CapExpiries without a cap changed %d keys", got)
	}
	if got := expireOf(t, p, "none"); got != 0 {
		t.Fatalf("no cap: expiry %d, want none", got)
	}
	p.SetMaxTTL(1000, true)
	if ms, refuse := p.MaxTTL(); ms != 1000 || !refuse {
		t.Fatalf("MaxTTL = %d, %v", ms, refuse)
	}
	if got := p.CapExpiries(); got != 2 {
		t.Fatalf("CapExpiries changed %d keys, want 2", got)
	}
	want := map[string]int64{"none": c.now() + 1000, "long": c.now() + 1000, "short": c.now() + 5}
	for k, w := range want {
		if got := expireOf(t, p, k); got != w {
			t.Errorf("%s: expiry %d, want %d", k, got, w)
		}
	}
	audit(t, p)
	c.advance(1001)
	if p.View(0, []byte("none"), 0, func(Entry) {}) {
		t.Fatal("a capped key outlived the cap")
	}
}
