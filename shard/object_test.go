package shard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// blob is a test Object whose size is whatever the test sets, changed only
// in commits.
type blob struct{ n int64 }

func (b *blob) Bytes() int64 { return b.n }

// putObj stores a new object at (db, k) through Mutate.
func putObj(t testing.TB, p *Partition, db int, k string, o Object, exp int64) {
	t.Helper()
	err := p.Mutate(db, []byte(k), func(Entry, bool) (Entry, Action, error) {
		return Entry{Obj: o, Type: TypeHash, ExpireAt: exp}, Put, nil
	})
	if err != nil {
		t.Fatalf("put object %q: %v", k, err)
	}
}

func objAt(p *Partition, db int, k string) Object {
	var o Object
	p.View(db, []byte(k), 0, func(e Entry) { o = e.Obj })
	return o
}

// edit grows or shrinks the object at (db, k) by d through MutateEdit,
// counting the callback's and the commit's runs.
func edit(p *Partition, db int, k string, d int64, fnRuns, commits *int) error {
	var b *blob
	return p.MutateEdit(db, []byte(k), func(cur Entry, exists bool) (Entry, Action, error) {
		*fnRuns++
		if !exists || cur.Obj == nil {
			return Entry{}, Keep, errors.New("no object")
		}
		b = cur.Obj.(*blob)
		return Entry{Grow: d}, Edit, nil
	}, func() {
		*commits++
		b.n += d
	})
}

// TestObjectLifecycle: an object is charged entry + Bytes, read through
// View, typed for GetString and SCAN TYPE, and released whole by every way
// a key leaves: DEL, an overwrite by SET, expiry, eviction, both flushes.
func TestObjectLifecycle(t *testing.T) {
	p, c := newTest(t, Config{Shards: 2, Quota: 1 << 20})
	b := &blob{n: 5000}
	putObj(t, p, 0, "h", b, 0)
	if u, _ := p.Usage(0, []byte("h")); u != entrySize(1, objIDLen)+5000 {
		t.Fatalf("Usage = %d", u)
	}
	if p.UsedBytes() != entrySize(1, objIDLen)+5000 {
		t.Fatalf("used %d", p.UsedBytes())
	}
	if objAt(p, 0, "h") != b {
		t.Fatal("View does not show the object")
	}
	if _, typ, ok := p.GetString(nil, 0, []byte("h")); !ok || typ != TypeHash {
		t.Fatalf("GetString = %v %v", typ, ok)
	}
	if _, keys := p.ScanType(0, 0, 100, nil, TypeHash); len(keys) != 1 {
		t.Fatalf("SCAN TYPE hash = %q", keys)
	}
	// Enc travels with a byte value and with an object.
	err := p.Mutate(0, []byte("e"), func(Entry, bool) (Entry, Action, error) {
		return Entry{Value: []byte("x"), Type: TypeSet, Enc: 3}, Put, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.View(0, []byte("e"), 0, func(e Entry) {
		if e.Enc != 3 || e.Type != TypeSet || string(e.Value) != "x" {
			t.Errorf("entry %+v", e)
		}
	})
	audit(t, p)

	// SET over the object releases it; an object over a string replaces it.
	mustSet(t, p, 0, "h", "v", 0)
	if objAt(p, 0, "h") != nil {
		t.Fatal("object survived SET")
	}
	putObj(t, p, 0, "h", &blob{n: 100}, 0)
	if v, ok := get(p, 0, "h"); ok {
		t.Fatalf("string %q survived an object Put", v)
	}
	audit(t, p)
	p.Delete(0, []byte("h"))
	audit(t, p)

	putObj(t, p, 0, "x", &blob{n: 100}, c.now()+10)
	c.advance(20)
	if p.ExpireCycle(1000) != 1 || objAt(p, 0, "x") != nil {
		t.Fatal("expired object key not collected")
	}
	audit(t, p)

	putObj(t, p, 0, "a", &blob{n: 300}, 0)
	putObj(t, p, 3, "b", &blob{n: 300}, 0)
	p.Flush(3)
	audit(t, p)
	p.Flush(-1)
	audit(t, p)
	if p.UsedBytes() != 0 {
		t.Fatalf("used %d after FLUSHALL", p.UsedBytes())
	}

	// Eviction takes the whole object key (LRU).
	q, _ := newTest(t, Config{Shards: 1, Quota: 20_000})
	putObj(t, q, 0, "old", &blob{n: 13_000}, 0)
	mustSet(t, q, 0, "s", "x", 0)
	putObj(t, q, 0, "new", &blob{n: 7_000}, 0)
	if objAt(q, 0, "old") != nil || q.Stats().Evictions != 1 {
		t.Fatalf("old object not evicted: %+v", q.Stats())
	}
	audit(t, q)
}

// TestObjectApply: RENAME and MOVE move an object (same object, no copy),
// a swap exchanges two, and an object may not end up at two keys.
func TestObjectApply(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 4, Quota: 1 << 20})
	a, b := &blob{n: 1000}, &blob{n: 2000}
	putObj(t, p, 0, "a", a, 0)
	putObj(t, p, 0, "b", b, 0)
	rename := func(src, dst Key) error {
		return p.Apply([]Key{src, dst}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
			return []Entry{{}, cur[0]}, []Action{Delete, Put}, nil
		})
	}
	if err := rename(Key{0, []byte("a")}, Key{5, []byte("moved")}); err != nil {
		t.Fatal(err)
	}
	if objAt(p, 5, "moved") != a || objAt(p, 0, "a") != nil {
		t.Fatal("RENAME did not move the object")
	}
	audit(t, p)
	// Swap.
	err := p.Apply([]Key{{5, []byte("moved")}, {0, []byte("b")}}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
		return []Entry{cur[1], cur[0]}, []Action{Put, Put}, nil
	})
	if err != nil || objAt(p, 5, "moved") != b || objAt(p, 0, "b") != a {
		t.Fatalf("swap: %v", err)
	}
	audit(t, p)
	// Sharing is refused: kept at its key and Put elsewhere, or Put twice.
	for name, fn := range map[string]func([]Entry, []bool) ([]Entry, []Action, error){
		"copy without clone": func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
			return []Entry{cur[0], cur[0]}, []Action{Keep, Put}, nil
		},
		"put twice": func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
			return []Entry{cur[0], cur[0]}, []Action{Delete, Put}, nil
		},
	} {
		err := p.Apply([]Key{{0, []byte("b")}, {0, []byte("c")}}, func(cur []Entry, ex []bool) ([]Entry, []Action, error) {
			n, acts, _ := fn(cur, ex)
			if name == "put twice" {
				return []Entry{n[1], n[1]}, []Action{Put, Put}, nil
			}
			return n, acts, nil
		})
		if !errors.Is(err, errBadCallback) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A clone (a fresh object) is fine.
	err = p.Apply([]Key{{0, []byte("b")}, {0, []byte("c")}}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
		return []Entry{cur[0], {Obj: &blob{n: cur[0].Obj.Bytes()}, Type: TypeHash}}, []Action{Keep, Put}, nil
	})
	if err != nil || objAt(p, 0, "c") == objAt(p, 0, "b") || objAt(p, 0, "c") == nil {
		t.Fatalf("copy with a clone: %v", err)
	}
	audit(t, p)
}

// TestEditReservesBeforeCommit: an Edit's growth is in used before the
// commit runs, the commit runs once even when the callback runs again
// after cross-shard eviction, unused reservation is released, a shrink is
// released after it happened, and growth past the quota commits nothing.
func TestEditReservesBeforeCommit(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 4, Quota: 100_000})
	b := &blob{n: 1000}
	putObj(t, p, 0, "h", b, 0)
	// Fill the other sub-shards so that the growth must evict from them.
	val := strings.Repeat("x", 900)
	for i := 0; p.UsedBytes() < 95_000; i++ {
		mustSet(t, p, 0, fmt.Sprint("f", i), val, 0)
	}
	var fnRuns, commits int
	before := p.UsedBytes()
	var atCommit int64
	err := p.MutateEdit(0, []byte("h"), func(cur Entry, _ bool) (Entry, Action, error) {
		fnRuns++
		return Entry{Grow: 30_000}, Edit, nil
	}, func() {
		commits++
		atCommit = p.UsedBytes()
		b.n += 20_000 // less than reserved
	})
	if err != nil {
		t.Fatal(err)
	}
	if commits != 1 || fnRuns < 2 {
		t.Fatalf("fn ran %d times, commit %d (want >= 2 and 1: the growth needed cross-shard eviction)", fnRuns, commits)
	}
	if atCommit > p.quota.Load() || atCommit < 30_000+b.n-20_000 {
		t.Fatalf("used %d when the commit ran (before %d)", atCommit, before)
	}
	if u, _ := p.Usage(0, []byte("h")); u != entrySize(1, objIDLen)+21_000 {
		t.Fatalf("Usage after edit = %d", u)
	}
	audit(t, p)

	// Shrink: released after the commit.
	fnRuns, commits = 0, 0
	if err := edit(p, 0, "h", -15_000, &fnRuns, &commits); err != nil || commits != 1 {
		t.Fatalf("shrink: %v, %d commits", err, commits)
	}
	audit(t, p)

	// Too big for the quota: ErrOOM, nothing committed, nothing evicted.
	st := p.Stats()
	fnRuns, commits = 0, 0
	if err := edit(p, 0, "h", 100_000, &fnRuns, &commits); !errors.Is(err, ErrOOM) || commits != 0 {
		t.Fatalf("edit past the quota: %v, %d commits", err, commits)
	}
	if p.Stats().Evictions != st.Evictions {
		t.Fatal("a hopeless edit evicted keys")
	}
	// NoEviction: refused when full, nothing committed.
	p.SetNoEviction(true)
	room := p.quota.Load() - p.UsedBytes()
	if err := edit(p, 0, "h", room+1, &fnRuns, &commits); !errors.Is(err, ErrOOM) || commits != 0 {
		t.Fatalf("noeviction edit: %v, %d commits", err, commits)
	}
	audit(t, p)

	// An Edit needs MutateEdit, a key and an object.
	if err := p.Mutate(0, []byte("h"), func(Entry, bool) (Entry, Action, error) { return Entry{}, Edit, nil }); !errors.Is(err, errBadCallback) {
		t.Fatalf("Edit through Mutate: %v", err)
	}
	if err := edit(p, 0, "f0", 1, &fnRuns, &commits); err == nil {
		t.Fatal("Edit of a string")
	}
	// A commit that outgrows its reservation panics: the quota would lie.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic for an edit larger than its reservation")
			}
		}()
		p.MutateEdit(0, []byte("h"), func(Entry, bool) (Entry, Action, error) {
			return Entry{Grow: 10}, Edit, nil
		}, func() { b.n += 11 })
	}()
}

// TestApplyEdit: SMOVE's shape, one object shrinking and another growing
// in one call, charged by what each edit really did.
func TestApplyEdit(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 4, Quota: 1 << 20})
	src, dst := &blob{n: 5000}, &blob{n: 100}
	putObj(t, p, 0, "src", src, 0)
	putObj(t, p, 0, "dst", dst, 0)
	commits := 0
	err := p.ApplyEdit([]Key{{0, []byte("src")}, {0, []byte("dst")}, {0, []byte("new")}}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
		return []Entry{{Grow: -10}, {Grow: 500}, {Value: []byte("v")}}, []Action{Edit, Edit, Put}, nil
	}, func() {
		commits++
		src.n -= 300
		dst.n += 300
	})
	if err != nil || commits != 1 {
		t.Fatalf("ApplyEdit: %v, %d commits", err, commits)
	}
	audit(t, p)
	if err := p.Apply([]Key{{0, []byte("src")}}, func([]Entry, []bool) ([]Entry, []Action, error) {
		return []Entry{{}}, []Action{Edit}, nil
	}); !errors.Is(err, errBadCallback) {
		t.Fatalf("Edit through Apply: %v", err)
	}
}
