package shard

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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

func TestRandomKey(t *testing.T) {
	p, c := newTest(t, Config{Shards: 8})
	if _, ok := p.RandomKey(0); ok {
		t.Fatal("RandomKey on empty")
	}
	for i := range 50 {
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", 0)
	}
	seen := map[string]bool{}
	for range 2000 {
		k, ok := p.RandomKey(0)
		if !ok {
			t.Fatal("RandomKey failed")
		}
		seen[string(k)] = true
	}
	if len(seen) < 40 {
		t.Fatalf("only %d distinct keys in 2000 draws", len(seen))
	}
	// A db that is a tiny minority is still found.
	for i := range 5000 {
		mustSet(t, p, 1, fmt.Sprint("o", i), "v", 0)
	}
	mustSet(t, p, 2, "lonely", "v", 0)
	if k, ok := p.RandomKey(2); !ok || string(k) != "lonely" {
		t.Fatalf("RandomKey(2) = %q %v", k, ok)
	}
	// Expired keys are skipped and collected.
	mustSet(t, p, 3, "gone", "v", c.now()+1)
	c.advance(2)
	if k, ok := p.RandomKey(3); ok {
		t.Fatalf("RandomKey returned expired %q", k)
	}
}

func TestScanAll(t *testing.T) {
	for _, shards := range []int{1, 4, 64} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			p, _ := newTest(t, Config{Shards: shards})
			want := map[string]bool{}
			for i := range 500 {
				k := fmt.Sprint("k", i)
				mustSet(t, p, 0, k, "v", 0)
				mustSet(t, p, 1, k, "v", 0)
				want[k] = true
			}
			for i := 0; i < 500; i += 3 { // holes
				p.Delete(0, []byte(fmt.Sprint("k", i)))
				delete(want, fmt.Sprint("k", i))
			}
			got := map[string]bool{}
			cursor, calls := uint64(0), 0
			for {
				next, keys := p.Scan(0, cursor, 7, nil)
				if len(keys) > 7 {
					t.Fatalf("count 7 returned %d keys", len(keys))
				}
				for _, k := range keys {
					got[string(k)] = true
				}
				calls++
				if next == 0 {
					break
				}
				if calls > 10000 {
					t.Fatal("scan does not finish")
				}
				cursor = next
			}
			if len(got) != len(want) {
				t.Fatalf("scan returned %d keys, want %d", len(got), len(want))
			}
			for k := range want {
				if !got[k] {
					t.Fatalf("missing %s", k)
				}
			}
			// match filters; the result is a subset.
			_, keys := p.Scan(0, 0, 10000, func(k []byte) bool { return bytes.HasSuffix(k, []byte("7")) })
			for _, k := range keys {
				if !bytes.HasSuffix(k, []byte("7")) {
					t.Fatalf("match let %q through", k)
				}
			}
			if len(keys) == 0 {
				t.Fatal("match returned nothing")
			}
		})
	}
}

func TestScanHostileCursor(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 8})
	for i := range 100 {
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", 0)
	}
	for _, c := range []uint64{1, 7, 8, 9, 1 << 31, 1<<32 - 1, 1 << 40, 1<<63 + 5, ^uint64(0), ^uint64(0) - 7} {
		cursor := c
		for i := 0; ; i++ {
			next, _ := p.Scan(0, cursor, 10, nil)
			if next == 0 {
				break
			}
			if i > 1000 {
				t.Fatalf("cursor %d: scan does not finish", c)
			}
			cursor = next
		}
	}
	for _, count := range []int{-1, 0, 1, 1 << 30, int(^uint(0) >> 1)} {
		if next, _ := p.Scan(0, 0, count, nil); count > 1000 && next != 0 {
			t.Fatalf("count %d did not finish a 100-key scan", count)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		p.Scan(r.IntN(16), r.Uint64(), r.IntN(50)-5, nil)
	}
}

// TestScanGuaranteeConcurrent: keys present for the whole scan are returned
// while other goroutines insert and delete churn keys.
func TestScanGuaranteeConcurrent(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 8, Quota: 64 << 20})
	stable := map[string]bool{}
	for i := range 2000 {
		k := fmt.Sprint("stable", i)
		mustSet(t, p, 0, k, "v", 0)
		stable[k] = true
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := []byte(fmt.Sprint("churn", w, "-", i%500))
				if i%3 == 2 {
					p.Delete(0, k)
				} else {
					p.Set(0, k, []byte("v"), 0)
				}
			}
		}()
	}
	for round := range 5 {
		got := map[string]bool{}
		cursor := uint64(0)
		for i := 0; ; i++ {
			next, keys := p.Scan(0, cursor, 10, nil)
			for _, k := range keys {
				got[string(k)] = true
			}
			if next == 0 {
				break
			}
			if i > 1_000_000 {
				t.Fatal("scan does not finish")
			}
			cursor = next
		}
		for k := range stable {
			if !got[k] {
				t.Fatalf("round %d: stable key %s not returned", round, k)
			}
		}
	}
	close(stop)
	for range 4 {
		<-done
	}
	audit(t, p)
}
