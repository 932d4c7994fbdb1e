package shard

import (
	"fmt"
	"testing"

	"github.com/tcached/tcached/value"
)

// TestWalkKeys: a walk in steps of any size sees every live key of the db
// once, with its type, never another db's or an expired key (which it
// removes); a step stays in one sub-shard and visits at most maxSlots
// slots; fn returning false stops after that key and the walk resumes
// after it.
func TestWalkKeys(t *testing.T) {
	for _, shards := range []int{1, 8} {
		for _, step := range []int{1, 3, 64, 1 << 20} {
			t.Run(fmt.Sprint(shards, "/", step), func(t *testing.T) {
				p, clk := newTest(t, Config{Shards: shards, Quota: 8 << 20})
				want := map[string]Type{}
				for i := range 600 {
					k := fmt.Sprint("k", i)
					mustSet(t, p, 0, k, "v", 0)
					mustSet(t, p, 2, k, "v", 0)
					want[k] = TypeString
				}
				for i := 0; i < 600; i += 5 { // holes
					p.Delete(0, []byte(fmt.Sprint("k", i)))
					delete(want, fmt.Sprint("k", i))
				}
				for i := 1; i < 600; i += 7 { // expiring
					k := fmt.Sprint("k", i)
					if _, ok := want[k]; ok {
						mustSet(t, p, 0, k, "v", clk.ms.Load()+10)
						delete(want, k)
					}
				}
				l, _ := value.ListPush(nil, nil, [][]byte{[]byte("x")}, true)
				p.Mutate(0, []byte("list"), func(Entry, bool) (Entry, Action, error) {
					return Entry{Value: l, Type: TypeList}, Put, nil
				})
				want["list"] = TypeList
				clk.advance(100)
				got := map[string]int{}
				cursor, calls := uint64(0), 0
				for {
					var seen int
					next, visited := p.WalkKeys(0, cursor, step, func(k []byte, typ Type) bool {
						if typ != want[string(k)] {
							t.Errorf("%s: type %v, want %v", k, typ, want[string(k)])
						}
						got[string(k)]++
						seen++
						return true
					})
					if visited > step || seen > visited {
						t.Fatalf("step %d visited %d slots, saw %d keys", step, visited, seen)
					}
					if calls++; calls > 100000 {
						t.Fatal("walk does not finish")
					}
					if cursor = next; cursor == 0 {
						break
					}
				}
				if len(got) != len(want) {
					t.Fatalf("walk saw %d keys, want %d", len(got), len(want))
				}
				for k, n := range got {
					if n != 1 {
						t.Errorf("%s seen %d times", k, n)
					}
				}
				if n := p.Len(0); n != len(want) {
					t.Errorf("expired keys met were not removed: Len %d, want %d", n, len(want))
				}
				// Stopping early resumes after the key fn refused.
				got = map[string]int{}
				cursor = 0
				for {
					next, _ := p.WalkKeys(0, cursor, step, func(k []byte, _ Type) bool {
						got[string(k)]++
						return false
					})
					if cursor = next; cursor == 0 {
						break
					}
				}
				if len(got) != len(want) {
					t.Fatalf("one key per call: saw %d keys, want %d", len(got), len(want))
				}
			})
		}
	}
	p, _ := newTest(t, Config{Shards: 4})
	if next, visited := p.WalkKeys(NumDBs, 0, 10, func([]byte, Type) bool { t.Fatal("bad db walked"); return true }); next != 0 || visited != 0 {
		t.Fatal("bad db")
	}
}
