package shard

import (
	"errors"
	"slices"
	"testing"
)

// TestOnModify: SetOnModify's function hears of exactly the writes that
// changed a key (Redis's signalModifiedKey), whatever path they take,
// and Entry.Signal overrides that both ways.
func TestOnModify(t *testing.T) {
	p, clk := newTest(t, Config{Quota: 1 << 20, Shards: 4})
	var got []string
	var changes int
	p.SetOnModify(func(key []byte, signal, changed bool) {
		if signal {
			got = append(got, string(key))
		}
		if changed {
			changes++
		}
	})
	k := func(db int, name string) string { return string(rune(db)) + name }
	check := func(what string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: reported %q, want %q", what, got, want)
		}
		got = got[:0]
	}
	mutate := func(key string, act Action, e Entry) {
		t.Helper()
		if err := p.Mutate(0, []byte(key), func(Entry, bool) (Entry, Action, error) { return e, act, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Set(0, []byte("a"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	check("Set", k(0, "a"))
	p.Set(0, []byte("a"), []byte("1"), 0)
	check("Set of the same value (SET signals)", k(0, "a"))
	p.Delete(0, []byte("missing"))
	check("Delete of a missing key")
	mutate("a", Keep, Entry{})
	check("Keep")
	mutate("missing", Delete, Entry{})
	check("Delete action on a missing key")
	mutate("missing", SetTTL, Entry{ExpireAt: clk.now() + 1000})
	check("SetTTL on a missing key")
	mutate("a", SetTTL, Entry{ExpireAt: clk.now() + 1000})
	check("SetTTL", k(0, "a"))
	mutate("a", Keep, Entry{Signal: SignalAlways})
	check("Keep with SignalAlways", k(0, "a"))
	mutate("missing", Delete, Entry{Signal: SignalAlways})
	check("Delete of a missing key with SignalAlways (SET ... PXAT past)", k(0, "missing"))
	mutate("a", Put, Entry{Value: []byte("2"), Signal: SignalNever})
	check("Put with SignalNever")
	mutate("n", Put, Entry{Value: []byte("x"), ExpireAt: clk.now() - 1})
	check("Put of a past expiry (stores nothing, signals)", k(0, "n"))
	if err := p.Mutate(0, []byte("a"), func(Entry, bool) (Entry, Action, error) {
		return Entry{}, Put, errors.New("refused")
	}); err == nil {
		t.Fatal("callback error not returned")
	}
	check("a callback's error")
	mutate("a", Delete, Entry{})
	check("Delete", k(0, "a"))

	// An edit signals after its commit, unless SignalNever; a write over
	// quota changes nothing and signals nothing.
	putObj(t, p, 0, "h", &blob{n: 100}, 0)
	check("Put of an object", k(0, "h"))
	var fn, commits int
	if err := edit(p, 0, "h", 10, &fn, &commits); err != nil {
		t.Fatal(err)
	}
	check("Edit", k(0, "h"))
	b := objAt(p, 0, "h").(*blob)
	p.MutateEdit(0, []byte("h"), func(Entry, bool) (Entry, Action, error) {
		return Entry{Grow: 1, Signal: SignalNever}, Edit, nil
	}, func() { b.n++ })
	check("Edit with SignalNever")
	if err := p.Set(0, []byte("big"), make([]byte, 2<<20), 0); !errors.Is(err, ErrOOM) {
		t.Fatalf("oversized Set: %v", err)
	}
	check("a write refused for quota")

	// Apply: each key for its own action; a key named twice once.
	p.Set(1, []byte("x"), []byte("1"), 0)
	got = got[:0]
	keys := []Key{{0, []byte("x")}, {1, []byte("x")}, {0, []byte("y")}, {0, []byte("y")}, {0, []byte("z")}}
	err := p.Apply(keys, func(cur []Entry, exists []bool) ([]Entry, []Action, error) {
		return []Entry{{Value: []byte("v")}, {}, {}, {Value: []byte("w")}, {Signal: SignalAlways}},
			[]Action{Put, Delete, Keep, Put, Keep}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	check("Apply", k(0, "x"), k(0, "y"), k(0, "z"), k(1, "x"))
	p.Apply([]Key{keys[0], keys[1], {0, []byte("nokey")}}, func(cur []Entry, exists []bool) ([]Entry, []Action, error) {
		return make([]Entry, 3), []Action{Keep, Delete, SetTTL}, nil // db 1's x is gone
	})
	check("Apply of no-ops")

	// Patch: in place as patch says; a growth as patch says too.
	p.Set(0, []byte("s"), []byte("ab"), 0)
	got = got[:0]
	size := func(cur Entry, _ bool) (int, error) { return len(cur.Value), nil }
	p.Patch(0, []byte("s"), TypeString, 0, size, func(v []byte) bool { return false })
	check("in-place Patch that modified nothing")
	p.Patch(0, []byte("s"), TypeString, 0, size, func(v []byte) bool { v[0] = 'x'; return true })
	check("in-place Patch", k(0, "s"))
	grow := func(Entry, bool) (int, error) { return 8, nil }
	p.Patch(0, []byte("s"), TypeString, 0, grow, func(v []byte) bool { return false })
	check("growing Patch that says no")
	p.Patch(0, []byte("s"), TypeString, 0, func(Entry, bool) (int, error) { return 9, nil }, func(v []byte) bool { return true })
	check("growing Patch", k(0, "s"))
	p.Patch(0, []byte("s"), TypeString, 0, func(Entry, bool) (int, error) { return -1, nil }, func(v []byte) bool { return true })
	check("Patch that leaves the key")

	before := changes
	p.Signal(2, []byte("q"))
	check("Signal", k(2, "q"))
	if changes != before {
		t.Error("Signal counted a change")
	}
	p.Mutate(0, []byte("s"), func(cur Entry, _ bool) (Entry, Action, error) {
		return Entry{Value: []byte("z"), Signal: SignalNever}, Put, nil
	})
	check("Put with SignalNever")
	if changes != before+1 {
		t.Error("a change with SignalNever was not counted as a change")
	}

	// Neither expiry nor eviction nor Flush is reported: the caller of
	// WATCH compares existence for those.
	p.Set(0, []byte("e"), []byte("1"), clk.now()+10)
	got = got[:0]
	clk.advance(20)
	p.ExpireCycle(1000)
	p.Flush(-1)
	check("expiry and Flush")
	// Changes counts what the function heard as changed, and goes on
	// counting without a function.
	if n := p.Changes(); n != int64(changes) || n == 0 {
		t.Errorf("Changes %d, the function heard %d", n, changes)
	}

	p.SetOnModify(nil)
	p.Set(0, []byte("a"), []byte("1"), 0)
	check("after SetOnModify(nil)")
	if n := p.Changes(); n != int64(changes)+1 {
		t.Errorf("Changes %d after a Set without a function, want %d", n, changes+1)
	}
	audit(t, p)
}
