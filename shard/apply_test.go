package shard

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestApply(t *testing.T) {
	put := func(v string) Entry { return Entry{Value: []byte(v)} }
	type kv struct {
		db      int
		k, v    string
		present bool
	}
	tests := []struct {
		name  string
		init  []kv
		keys  []Key
		fn    func([]Entry, []bool) ([]Entry, []Action, error)
		err   error
		after []kv
	}{
		{
			name: "mset across dbs",
			keys: []Key{{0, []byte("a")}, {5, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1"), put("2"), put("3")}, []Action{Put, Put, Put}, nil
			},
			after: []kv{{0, "a", "1", true}, {5, "a", "2", true}, {0, "b", "3", true}},
		},
		{
			name: "duplicates: later wins",
			keys: []Key{{0, []byte("a")}, {0, []byte("a")}, {0, []byte("a")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1"), put("2"), {}}, []Action{Put, Put, Keep}, nil
			},
			after: []kv{{0, "a", "2", true}},
		},
		{
			name: "duplicates see the same state",
			init: []kv{{0, "a", "old", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("a")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				if !ex[0] || !ex[1] || string(c[1].Value) != "old" {
					return nil, nil, errors.New("inconsistent duplicates")
				}
				return []Entry{{}, put("new")}, []Action{Delete, Put}, nil
			},
			after: []kv{{0, "a", "new", true}},
		},
		{
			name: "msetnx refuses: no change",
			init: []kv{{0, "b", "x", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				if ex[0] || ex[1] {
					return make([]Entry, 2), make([]Action, 2), nil
				}
				return []Entry{put("1"), put("2")}, []Action{Put, Put}, nil
			},
			after: []kv{{0, "a", "", false}, {0, "b", "x", true}},
		},
		{
			name: "error aborts everything",
			init: []kv{{0, "a", "1", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{{}, put("2")}, []Action{Delete, Put}, strconv.ErrRange
			},
			err:   strconv.ErrRange,
			after: []kv{{0, "a", "1", true}, {0, "b", "", false}},
		},
		{
			name: "too big aborts everything",
			init: []kv{{0, "a", "1", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}, {0, []byte("c")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				half := Entry{Value: make([]byte, 600<<10)}
				return []Entry{{}, half, half}, []Action{Delete, Put, Put}, nil
			},
			err:   ErrOOM,
			after: []kv{{0, "a", "1", true}, {0, "b", "", false}, {0, "c", "", false}},
		},
		{
			name: "rename across dbs",
			init: []kv{{0, "src", "payload", true}, {1, "dst", "old", true}},
			keys: []Key{{0, []byte("src")}, {1, []byte("dst")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{{}, c[0]}, []Action{Delete, Put}, nil
			},
			after: []kv{{0, "src", "", false}, {1, "dst", "payload", true}},
		},
		{
			name: "swap aliasing",
			init: []kv{{0, "a", "aaaa", true}, {0, "b", "bbbb", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{c[1], c[0]}, []Action{Put, Put}, nil
			},
			after: []kv{{0, "a", "bbbb", true}, {0, "b", "aaaa", true}},
		},
		{
			name: "wrong lengths",
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1")}, []Action{Put}, nil
			},
			err:   errBadCallback,
			after: []kv{{0, "a", "", false}},
		},
		{
			name: "empty",
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return nil, nil, nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(t, Config{Shards: 8})
			for _, e := range tt.init {
				mustSet(t, p, e.db, e.k, e.v, 0)
			}
			if err := p.Apply(tt.keys, tt.fn); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			for _, e := range tt.after {
				v, ok := get(p, e.db, e.k)
				if ok != e.present || v != e.v {
					t.Errorf("%d/%s = %q %v, want %q %v", e.db, e.k, v, ok, e.v, e.present)
				}
			}
			audit(t, p)
		})
	}
}

// TestApplyEvicts: an Apply that needs room evicts other keys (never its
// own), including across sub-shards it did not lock.
func TestApplyEvicts(t *testing.T) {
	quota := 100 * entrySize(4, 100)
	p, _ := newTest(t, Config{Quota: quota, Shards: 8})
	for i := range 100 {
		mustSet(t, p, 0, fmt.Sprintf("k%03d", i), string(make([]byte, 100)), 0)
	}
	keys := []Key{{0, []byte("k000")}, {0, []byte("new1")}, {0, []byte("new2")}}
	err := p.Apply(keys, func(c []Entry, ex []bool) ([]Entry, []Action, error) {
		v := Entry{Value: make([]byte, 20*100)}
		return []Entry{{}, v, v}, []Action{Keep, Put, Put}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k000", "new1", "new2"} {
		if _, ok := get(p, 0, k); !ok {
			t.Errorf("%s missing", k)
		}
	}
	if p.Stats().Evictions == 0 {
		t.Fatal("no evictions")
	}
	audit(t, p)
}
