package shard

// Typed values in a partition: the encodings of package value stored,
// charged and scanned as entries.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/tcached/tcached/value"
)

// TestTypedEntries: the type travels with the value through Mutate, View,
// GetString, Apply (COPY/RENAME), Scan and eviction; Set stores a string.
func TestTypedEntries(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 4, Quota: 1 << 20})
	h := hashOf(t, "f", "v")
	err := p.Mutate(0, []byte("h"), func(cur Entry, exists bool) (Entry, Action, error) {
		return Entry{Value: h, Type: TypeHash}, Put, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, p, 0, "s", "str", 0)
	var got Entry
	p.View(0, []byte("h"), 0, func(e Entry) { got = Entry{Value: slices.Clone(e.Value), Type: e.Type} })
	if got.Type != TypeHash || string(got.Value) != string(h) {
		t.Fatalf("View = %+v", got)
	}
	dst, typ, ok := p.GetString([]byte("x"), 0, []byte("h"))
	if !ok || typ != TypeHash || string(dst) != "x" {
		t.Fatalf("GetString(hash) = %q %v %v", dst, typ, ok)
	}
	if _, ok := p.GetAppend(nil, 0, []byte("h")); ok {
		t.Fatal("GetAppend returned a hash")
	}
	if v, typ, ok := p.GetString(nil, 0, []byte("s")); !ok || typ != TypeString || string(v) != "str" {
		t.Fatalf("GetString(string) = %q %v %v", v, typ, ok)
	}
	// COPY h -> c in db 1, and a swap of types via Apply.
	err = p.Apply([]Key{{0, []byte("h")}, {1, []byte("c")}}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
		return []Entry{cur[0], cur[0]}, []Action{Keep, Put}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Apply([]Key{{0, []byte("h")}, {0, []byte("s")}}, func(cur []Entry, _ []bool) ([]Entry, []Action, error) {
		return []Entry{cur[1], cur[0]}, []Action{Put, Put}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	typeOf := func(db int, k string) Type {
		var ty Type = AnyType
		p.View(db, []byte(k), 0, func(e Entry) { ty = e.Type })
		return ty
	}
	if typeOf(1, "c") != TypeHash || typeOf(0, "h") != TypeString || typeOf(0, "s") != TypeHash {
		t.Fatalf("types after Apply: c %v h %v s %v", typeOf(1, "c"), typeOf(0, "h"), typeOf(0, "s"))
	}
	// Set overwrites a hash with a string, reusing the buffer.
	mustSet(t, p, 0, "s", "now a string", 0)
	if typeOf(0, "s") != TypeString {
		t.Fatal("Set kept the hash type")
	}
	mustSet(t, p, 0, "s2", "x", 0)
	_, keys := p.ScanType(0, 0, 100, nil, TypeHash)
	_, keys1 := p.ScanType(1, 0, 100, nil, TypeHash)
	_, strs := p.ScanType(0, 0, 100, nil, TypeString)
	if len(keys) != 0 || len(keys1) != 1 || len(strs) != 3 {
		t.Fatalf("ScanType: hash db0 %q, db1 %q, strings %q", keys, keys1, strs)
	}
	audit(t, p)
}

// TestHashGrowthQuota grows one hash through Mutate: under LRU it evicts
// the other keys and never itself, then fails with ErrOOM once it alone
// would pass the quota; the accounted bytes never exceed the quota.
func TestHashGrowthQuota(t *testing.T) {
	const quota = 32 << 10
	for _, noEvict := range []bool{false, true} {
		p, _ := newTest(t, Config{Shards: 2, Quota: quota, NoEviction: noEvict})
		val := make([]byte, 500)
		for i := range 20 {
			mustSet(t, p, 0, fmt.Sprintf("s%d", i), string(val), 0)
		}
		var err error
		fields := 0
		for i := 0; err == nil; i++ {
			err = p.Mutate(0, []byte("h"), func(cur Entry, exists bool) (Entry, Action, error) {
				next, _, err := value.HashSet(nil, cur.Value, [][]byte{fmt.Appendf(nil, "f%d", i)}, [][]byte{val})
				return Entry{Value: next, Type: TypeHash}, Put, err
			})
			if p.UsedBytes() > quota {
				t.Fatalf("used %d > quota", p.UsedBytes())
			}
			if err == nil {
				fields++
			}
		}
		if !errors.Is(err, ErrOOM) {
			t.Fatalf("noEviction=%v: %v", noEvict, err)
		}
		n := 0
		p.View(0, []byte("h"), 0, func(e Entry) { n = value.HashLen(e.Value) })
		if n != fields {
			t.Fatalf("hash has %d fields after %d accepted writes", n, fields)
		}
		remaining := p.Len(0) - 1
		if noEvict && remaining != 20 || !noEvict && (remaining != 0 || fields < 55) {
			t.Fatalf("noEviction=%v: %d strings left, %d fields", noEvict, remaining, fields)
		}
		audit(t, p)
	}
}

// TestListPartition stores a list through Mutate: it is one key of
// TypeList whose whole encoding is charged to the quota.
func TestListPartition(t *testing.T) {
	p := New(Config{Quota: 1 << 20})
	key := []byte("l")
	for i := range 3 {
		err := p.Mutate(0, key, func(cur Entry, exists bool) (Entry, Action, error) {
			next, err := value.ListPush(nil, cur.Value, lbs(string(rune('a'+i))), false)
			return Entry{Value: next, Type: TypeList}, Put, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var typ Type
	p.View(0, key, 0, func(e Entry) { typ, got = e.Type, ldec(t, e.Value) })
	if typ != TypeList || !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("stored %v %v", typ, got)
	}
	if used, want := p.Stats().UsedBytes, int64(1+len(lenc("a", "b", "c"))+EntryOverhead); used != want {
		t.Fatalf("used %d, want %d", used, want)
	}
}

// TestSetEntries stores a set through Mutate: it is charged as one entry
// and keeps its type.
func TestSetEntries(t *testing.T) {
	p := New(Config{Quota: 1 << 20})
	enc := setOf(t, "a", "b")
	err := p.Mutate(0, []byte("s"), func(Entry, bool) (Entry, Action, error) {
		return Entry{Value: enc, Type: TypeSet}, Put, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var typ Type
	p.View(0, []byte("s"), 0, func(e Entry) {
		typ = e.Type
		if string(e.Value) != string(enc) {
			t.Errorf("value %q", e.Value)
		}
	})
	if typ != TypeSet || typ.String() != "set" {
		t.Fatalf("type %v", typ)
	}
	if u, _ := p.Usage(0, []byte("s")); u != entrySize(1, len(enc)) || p.UsedBytes() != u {
		t.Fatalf("usage %d, used %d", u, p.UsedBytes())
	}
	_, keys := p.ScanType(0, 0, 10, nil, TypeSet)
	if len(keys) != 1 {
		t.Fatalf("ScanType set = %q", keys)
	}
}

func hashOf(t testing.TB, pairs ...string) []byte {
	t.Helper()
	var f, v [][]byte
	for i := 0; i < len(pairs); i += 2 {
		f = append(f, []byte(pairs[i]))
		v = append(v, []byte(pairs[i+1]))
	}
	b, _, err := value.HashSet(nil, nil, f, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
func lbs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
func ldec(t *testing.T, b []byte) []string {
	t.Helper()
	out := []string{}
	it := value.ListElems(b)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		out = append(out, string(e))
	}
	if it.Err() != nil {
		t.Fatalf("decode %q: %v", b, it.Err())
	}
	if len(out) != value.ListLen(b) {
		t.Fatalf("decode %q: %d elements, header says %d", b, len(out), value.ListLen(b))
	}
	return out
}
func lenc(elems ...string) []byte {
	b := value.ListAppendHeader(nil, len(elems))
	for _, e := range elems {
		b = value.ListAppendElem(b, []byte(e))
	}
	return b
}

func setOf(t testing.TB, members ...string) []byte {
	t.Helper()
	b, _, err := value.SetAdd(nil, nil, lbs(members...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setStrings(t testing.TB, b []byte) []string {
	t.Helper()
	out := []string{}
	it := value.SetMembers(b)
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		out = append(out, string(m))
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if len(out) != value.SetLen(b) {
		t.Fatalf("SetLen %d, %d members", value.SetLen(b), len(out))
	}
	if !sort.StringsAreSorted(out) || len(slices.Compact(slices.Clone(out))) != len(out) {
		t.Fatalf("members not sorted and distinct: %q", out)
	}
	return out
}
