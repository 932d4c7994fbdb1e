package shard

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tcached/tcached/value"
)

// TestBigValueNoStall: removing a key holding a million-element object (a
// set table, a sorted set's tree, a quicklist), in every way a key leaves (DEL, an
// overwrite by SET or by a compact value, expiry, eviction, FLUSHDB,
// FLUSHALL), holds the sub-shard lock for far under a millisecond: the
// object is dropped in O(1) (no per-element teardown; the collector
// reclaims it later) and its bytes leave the quota at once. Each way is
// timed five times (the same object stored again) and the fastest must be
// under 1 ms; the slowest is logged (the machine is shared). Under -race
// (make test) the objects have 100K elements, which still shows an O(n)
// teardown.
func TestBigValueNoStall(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 100_000
	}
	set := value.NewSetTable(0)
	zset := value.NewZSetTree(0)
	list := value.NewQuickList(-2)
	one := make([][]byte, 1)
	zone := make([]value.ZMember, 1)
	buf := make([]byte, 0, 16)
	for i := range n {
		buf = fmt.Appendf(buf[:0], "member:%d", i)
		one[0] = buf
		set.Add(one)
		zone[0] = value.ZMember{Member: buf, Score: float64(i % 1000)}
		zset.Set(zone)
		list.Push(one, false)
	}
	for _, o := range []struct {
		name string
		obj  Object
		typ  Type
	}{{"set table", set, TypeSet}, {"sorted set tree", zset, TypeZSet}, {"quicklist", list, TypeList}} {
		t.Run(o.name, func(t *testing.T) { noStall(t, n, o.obj, o.typ) })
	}
}

func noStall(t *testing.T, n int, tab Object, typ Type) {
	size := entrySize(3, objIDLen) + tab.Bytes()
	quota := size + 300 // room for "small", not for "newer" too
	newer := make([]byte, 250)
	ways := []struct {
		name   string
		remove func(p *Partition, c *clock)
	}{
		{"DEL", func(p *Partition, _ *clock) { p.Delete(0, []byte("big")) }},
		{"SET over it", func(p *Partition, _ *clock) { p.Set(0, []byte("big"), []byte("a string"), 0) }},
		{"a compact value over it", func(p *Partition, _ *clock) {
			p.Mutate(0, []byte("big"), func(Entry, bool) (Entry, Action, error) {
				return Entry{Value: []byte{1, 1, 'x'}, Type: TypeSet}, Put, nil
			})
		}},
		{"expiry", func(p *Partition, c *clock) {
			c.advance(20)
			if p.ExpireCycle(100) != 1 {
				panic("not expired")
			}
		}},
		{"eviction", func(p *Partition, _ *clock) {
			// A write needing more than the room left evicts the oldest
			// key: the table.
			p.Set(0, []byte("newer"), newer, 0)
		}},
		{"FLUSHDB", func(p *Partition, _ *clock) { p.Flush(0) }},
		{"FLUSHALL", func(p *Partition, _ *clock) { p.Flush(-1) }},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			var took []time.Duration
			for range 5 {
				p, c := newTest(t, Config{Quota: quota, Shards: 1})
				var exp int64
				if w.name == "expiry" {
					exp = c.now() + 10
				}
				if err := p.Mutate(0, []byte("big"), func(Entry, bool) (Entry, Action, error) {
					return Entry{Obj: tab, Type: typ, ExpireAt: exp}, Put, nil
				}); err != nil {
					t.Fatal(err)
				}
				mustSet(t, p, 0, "small", "v", 0)
				t0 := time.Now()
				w.remove(p, c)
				took = append(took, time.Since(t0))
				if u, ok := p.Usage(0, []byte("big")); ok && u >= size {
					t.Fatalf("the table is still there (%d bytes)", u)
				}
				if p.UsedBytes() >= size {
					t.Fatalf("used %d: the table's %d bytes did not leave the quota", p.UsedBytes(), size)
				}
				audit(t, p)
			}
			slices.Sort(took)
			t.Logf("%d elements (%d bytes): fastest %v, slowest %v", n, size, took[0], took[len(took)-1])
			if took[0] > time.Millisecond {
				t.Fatalf("removing a %d-element object took %v", n, took[0])
			}
		})
	}
}
