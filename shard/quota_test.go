package shard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/value"
)

// TestQuotaInvariantConcurrent hammers one partition with many writers of
// random-size values through every write path (objects included: new ones,
// edits growing and shrinking them in place, moves between keys) while a
// checker asserts used <= quota continuously; at the end accounting must be
// exact.
func TestQuotaInvariantConcurrent(t *testing.T) {
	for _, noEv := range []bool{false, true} {
		t.Run(fmt.Sprintf("noeviction=%v", noEv), func(t *testing.T) {
			runInvariant(t, noEv)
		})
	}
}

func runInvariant(t *testing.T, noEviction bool) {
	const (
		quota   = 512 << 10
		writers = 32
	)
	dur := 1500 * time.Millisecond
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	p, c := newTest(t, Config{Quota: quota, Shards: 8, NoEviction: noEviction})
	var (
		stop      atomic.Bool
		wg        sync.WaitGroup
		ops, ooms atomic.Int64
		checks    atomic.Int64
		violation atomic.Int64
	)
	wg.Add(1)
	go func() { // checker
		defer wg.Done()
		for !stop.Load() {
			if u := p.UsedBytes(); u > quota {
				violation.Store(u)
			}
			if checks.Add(1)%64 == 0 {
				if st := p.Stats(); st.UsedBytes > quota {
					violation.Store(st.UsedBytes)
				}
				runtime.Gosched()
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			val := make([]byte, quota/4)
			var dst []byte
			for i := 0; !stop.Load(); i++ {
				k := []byte(fmt.Sprint("k", r.IntN(2000)))
				size := r.IntN(2000)
				if r.IntN(200) == 0 {
					size = r.IntN(quota / 4) // large values force cross-shard eviction
				}
				var exp int64
				if r.IntN(3) == 0 {
					exp = c.now() + int64(r.IntN(50))
				}
				var err error
				switch op := r.IntN(100); {
				case op < 40:
					err = p.Set(r.IntN(4), k, val[:size], exp)
				case op < 55:
					err = p.Mutate(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
						return Entry{Value: append(cur.Value, val[:r.IntN(200)]...), ExpireAt: cur.ExpireAt}, Put, nil
					})
				case op < 65:
					keys := []Key{{0, k}, {1, []byte(fmt.Sprint("k", r.IntN(2000)))}, {0, k}}
					err = p.Apply(keys, func(cur []Entry, ex []bool) ([]Entry, []Action, error) {
						e := Entry{Value: val[:size], ExpireAt: exp}
						return []Entry{e, e, cur[1]}, []Action{Put, Put, Keep}, nil
					})
				case op < 70:
					p.Delete(0, k)
				case op < 72:
					c.advance(10)
					p.ExpireCycle(50)
				case op < 73 && i%50 == 0:
					p.Flush(r.IntN(17) - 1)
				case op < 78: // a new object (a collection converting)
					sz := int64(r.IntN(3000))
					if r.IntN(200) == 0 {
						sz = int64(r.IntN(quota / 4))
					}
					err = p.Mutate(0, k, func(Entry, bool) (Entry, Action, error) {
						return Entry{Obj: &blob{n: sz}, Type: TypeSet, ExpireAt: exp}, Put, nil
					})
				case op < 88: // an object growing or shrinking in place
					d := int64(r.IntN(4000) - 1000)
					if r.IntN(200) == 0 {
						d = int64(r.IntN(quota / 4))
					}
					var b *blob
					var g int64
					err = p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
						b = nil
						if !ex || cur.Obj == nil {
							return cur, Keep, nil
						}
						b = cur.Obj.(*blob)
						g = max(d, -b.n)
						return Entry{Grow: g}, Edit, nil
					}, func() { b.n += g })
				case op < 91: // RENAME of an object across dbs
					k2 := []byte(fmt.Sprint("k", r.IntN(2000)))
					err = p.Apply([]Key{{0, k}, {1, k2}}, func(cur []Entry, ex []bool) ([]Entry, []Action, error) {
						if !ex[0] || cur[0].Obj == nil {
							return cur, []Action{Keep, Keep}, nil
						}
						return []Entry{{}, cur[0]}, []Action{Delete, Put}, nil
					})
				default:
					dst, _ = p.GetAppend(dst[:0], 0, k)
				}
				if errors.Is(err, ErrOOM) {
					ooms.Add(1)
				} else if err != nil {
					t.Errorf("write: %v", err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	time.Sleep(dur)
	stop.Store(true)
	wg.Wait()
	if v := violation.Load(); v != 0 {
		t.Fatalf("used %d exceeded quota %d", v, quota)
	}
	st := p.Stats()
	t.Logf("ops %d, ErrOOM %d, checks %d, evictions %d, expired %d, keys %d, used %d",
		ops.Load(), ooms.Load(), checks.Load(), st.Evictions, st.Expired, st.Keys, st.UsedBytes)
	if ops.Load() < 1000 || checks.Load() < 100 {
		t.Fatalf("test did too little: %d ops %d checks", ops.Load(), checks.Load())
	}
	if !noEviction && ooms.Load()*100 > ops.Load() {
		t.Fatalf("LRU partition refused %d of %d writes", ooms.Load(), ops.Load())
	}
	if noEviction && st.Evictions != 0 {
		t.Fatalf("noeviction partition evicted %d", st.Evictions)
	}
	audit(t, p)
}

// TestSetQuotaConcurrent shrinks and grows the quota under writers; after
// every shrink has returned, and at the end, the accounting is exact and
// within the quota.
func TestSetQuotaConcurrent(t *testing.T) {
	p, _ := newTest(t, Config{Quota: 1 << 20, Shards: 4})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := make([]byte, 300)
			for i := 0; !stop.Load(); i++ {
				p.Set(0, []byte(fmt.Sprint(w, "-", i%3000)), v[:i%300], 0)
			}
		}()
	}
	for i := range 200 {
		p.SetQuota(int64(64<<10 + (i%7)*(128<<10)))
	}
	p.SetQuota(100 << 10)
	stop.Store(true)
	wg.Wait()
	if p.UsedBytes() > 100<<10 {
		t.Fatalf("used %d over final quota", p.UsedBytes())
	}
	audit(t, p)
}

// TestSetQuotaNeverReportsBelowUsed: while a shrink evicts, the reported
// quota stays at or above the accounted bytes (Stats reads quota first).
func TestSetQuotaNeverReportsBelowUsed(t *testing.T) {
	p := New(Config{Quota: 8 << 20, Shards: 4})
	val := make([]byte, 1000)
	for i := 0; i < 7000; i++ {
		if err := p.Set(0, []byte(fmt.Sprint("k", i)), val, 0); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var bad atomic.Int64
	go func() {
		defer close(done)
		for i := 0; i < 20000; i++ {
			if st := p.Stats(); st.UsedBytes > st.Quota {
				bad.Add(1)
			}
		}
	}()
	for _, q := range []int64{1 << 20, 8 << 20, 64 << 10, 4 << 20} {
		p.SetQuota(q)
	}
	<-done
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d snapshots showed used > quota during SetQuota", n)
	}
}

func TestErrOOM(t *testing.T) {
	quota := 10 * entrySize(2, 10)
	t.Run("too big evicts nothing", func(t *testing.T) {
		for _, noEv := range []bool{false, true} {
			p, _ := newTest(t, Config{Quota: quota, NoEviction: noEv, Shards: 2})
			for i := range 5 {
				mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", 0)
			}
			before := p.Stats()
			big := make([]byte, quota-EntryOverhead) // name adds one more byte
			if err := p.Set(0, []byte("x"), big, 0); err != ErrOOM {
				t.Fatalf("Set too big: %v", err)
			}
			err := p.Mutate(0, []byte("k0"), func(Entry, bool) (Entry, Action, error) { return Entry{Value: big}, Put, nil })
			if err != ErrOOM {
				t.Fatalf("Mutate too big: %v", err)
			}
			if after := p.Stats(); after.Keys != before.Keys || after.Evictions != 0 || after.UsedBytes != before.UsedBytes {
				t.Fatalf("too-big write changed the partition: %+v", after)
			}
			// Exactly the quota fits (evicting everything else in LRU mode).
			if !noEv {
				if err := p.Set(0, []byte("x"), big[:len(big)-1], 0); err != nil {
					t.Fatalf("exact fit: %v", err)
				}
				if p.UsedBytes() != quota || p.Stats().Keys != 1 {
					t.Fatalf("exact fit: %+v", p.Stats())
				}
			}
			audit(t, p)
		}
	})
	t.Run("noeviction full", func(t *testing.T) {
		p, c := newTest(t, Config{Quota: quota, NoEviction: true, Shards: 4})
		for i := range 10 {
			mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", 0)
		}
		if err := p.Set(0, []byte("kx"), []byte("0123456789"), 0); err != ErrOOM {
			t.Fatalf("Set on full: %v", err)
		}
		// Growing an existing key fails too; same size and shrinking work.
		if err := p.Set(0, []byte("k1"), []byte("0123456789+"), 0); err != ErrOOM {
			t.Fatalf("grow on full: %v", err)
		}
		mustSet(t, p, 0, "k1", "9876543210", 0)
		mustSet(t, p, 0, "k2", "short", 0)
		if p.Stats().Evictions != 0 || p.Stats().Keys != 10 {
			t.Fatalf("noeviction evicted: %+v", p.Stats())
		}
		// Expired keys are dropped to make room.
		p.Flush(-1)
		for i := range 10 {
			mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", c.now()+5)
		}
		c.advance(10)
		if err := p.Set(0, []byte("kx"), []byte("0123456789"), 0); err != nil {
			t.Fatalf("Set with expired keys to drop: %v", err)
		}
		audit(t, p)
	})
}

// TestLRUEvictsOldest: the least recently used key goes first, exactly
// with ExactLRU, and at the access clock's one-second resolution by
// default (eviction.LRU.SetCoarse): a key used again within the second it
// was last moved in keeps its place.
func TestLRUEvictsOldest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		exact bool
		tick  bool // a second passes between the steps
		kept  []string
	}{
		{"exact", true, false, []string{"k1", "k3", "k5", "k6"}},
		{"coarse, a second between uses", false, true, []string{"k1", "k3", "k5", "k6"}},
		// Every use in one second: the hits on k1 and k3 move nothing,
		// so k1 and k2 (the first written) go.
		{"coarse, one second", false, false, []string{"k3", "k4", "k5", "k6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := newTest(t, Config{Quota: 4 * entrySize(2, 1), Shards: 1, ExactLRU: tc.exact})
			step := func() {
				if tc.tick {
					c.ms.Add(1000)
					p.ExpireCycle(0) // ticks the access clock
				}
			}
			for _, k := range []string{"k1", "k2", "k3", "k4"} {
				mustSet(t, p, 0, k, "v", 0)
			}
			step()
			get(p, 0, "k1") // k2 is now the oldest (exact, or a second later)
			step()
			mustSet(t, p, 0, "k5", "v", 0)
			step()
			p.Mutate(0, []byte("k3"), func(Entry, bool) (Entry, Action, error) { return Entry{}, Keep, nil }) // touches k3
			step()
			mustSet(t, p, 0, "k6", "v", 0)
			var have []string
			for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6"} {
				if _, ok := get(p, 0, k); ok {
					have = append(have, k)
				}
			}
			if !slices.Equal(have, tc.kept) {
				t.Fatalf("kept %v, want %v", have, tc.kept)
			}
			if p.Stats().Evictions != 2 {
				t.Fatalf("evictions %d", p.Stats().Evictions)
			}
			// Growing a key evicts others, never the key itself.
			if err := p.Set(0, []byte("k6"), make([]byte, 3), 0); err != nil {
				t.Fatal(err)
			}
			if _, ok := get(p, 0, "k6"); !ok {
				t.Fatal("grown key evicted")
			}
			audit(t, p)
		})
	}
}

// TestCrossShardEviction: a value that only fits after evicting keys from
// other sub-shards is stored, and Mutate's fn is re-run for it.
func TestCrossShardEviction(t *testing.T) {
	quota := int64(64 * 1024)
	p, _ := newTest(t, Config{Quota: quota, Shards: 8})
	for i := 0; p.UsedBytes()+entrySize(8, 100) <= quota; i++ {
		mustSet(t, p, 0, fmt.Sprintf("k%07d", i), string(make([]byte, 100)), 0)
	}
	calls := 0
	err := p.Mutate(0, []byte("big"), func(_ Entry, ex bool) (Entry, Action, error) {
		calls++
		return Entry{Value: make([]byte, quota/2)}, Put, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Fatalf("fn called %d times; the big value cannot fit from one sub-shard", calls)
	}
	if u, ok := p.Usage(0, []byte("big")); !ok || u != entrySize(3, int(quota/2)) {
		t.Fatalf("big not stored: %d %v", u, ok)
	}
	// Evictions were spread over the sub-shards, not one drained.
	emptied := 0
	for i := range p.shards {
		if p.shards[i].lru.Len() == 0 {
			emptied++
		}
	}
	if emptied > 1 {
		t.Fatalf("%d sub-shards drained", emptied)
	}
	audit(t, p)
}

func TestSetQuota(t *testing.T) {
	p, _ := newTest(t, Config{Quota: 1 << 20, Shards: 4})
	for i := range 1000 {
		mustSet(t, p, i%16, fmt.Sprint("k", i), "0123456789", 0)
	}
	q := p.UsedBytes() / 3
	p.SetQuota(q)
	if st := p.Stats(); st.UsedBytes > q || st.Quota != q || st.Evictions == 0 {
		t.Fatalf("after shrink: %+v", st)
	}
	// The most recent keys survive.
	if _, ok := get(p, 999%16, "k999"); !ok {
		t.Fatal("newest key evicted")
	}
	audit(t, p)
	p.SetQuota(-5)
	if p.UsedBytes() != 0 || p.Set(0, []byte("a"), nil, 0) != ErrOOM {
		t.Fatal("quota 0")
	}
	p.SetQuota(1 << 20)
	mustSet(t, p, 0, "a", "b", 0)
}

func TestSetNoEviction(t *testing.T) {
	p := New(Config{Quota: 4096, Shards: 1})
	for i := 0; i < 100; i++ {
		if err := p.Set(0, []byte(fmt.Sprint("k", i)), make([]byte, 100), 0); err != nil {
			t.Fatalf("lru Set %d: %v", i, err)
		}
	}
	p.SetNoEviction(true)
	var oom bool
	for i := 100; i < 200 && !oom; i++ {
		oom = errors.Is(p.Set(0, []byte(fmt.Sprint("k", i)), make([]byte, 100), 0), ErrOOM)
	}
	if !oom {
		t.Fatal("noeviction partition never refused a write")
	}
	p.SetNoEviction(false)
	if err := p.Set(0, []byte("again"), make([]byte, 100), 0); err != nil {
		t.Fatalf("back to lru: %v", err)
	}
}

// TestQuotaInvariantTables is TestQuotaInvariantConcurrent with real
// value.SetTable, value.ZSetTree and value.QuickList objects growing and
// shrinking through their own plans (PlanAdd's, PlanSet's, PlanPush's or
// PlanInsert's growth reserved, then the change; ZSetTree's removals by
// member and by rank, which rebalance its tree and compact its records;
// pops, LREM and LTRIM), conversions (a new object Put over a key) and
// deletes, under a small quota so that edits evict other keys
// and cross-shard eviction re-runs the plans. A plan that underestimated
// its growth would panic (shard checks every commit) or show as used >
// quota.
func TestQuotaInvariantTables(t *testing.T) {
	for _, noEv := range []bool{false, true} {
		t.Run(fmt.Sprintf("noeviction=%v", noEv), func(t *testing.T) {
			const quota = 96 << 10
			dur := time.Second
			if testing.Short() {
				dur = 300 * time.Millisecond
			}
			p, _ := newTest(t, Config{Quota: quota, Shards: 4, NoEviction: noEv})
			var stop atomic.Bool
			var violation, ops atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if u := p.UsedBytes(); u > quota {
						violation.Store(u)
					}
					runtime.Gosched()
				}
			}()
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 3))
					for !stop.Load() {
						// Few keys, so that tables grow past a page (their
						// writes then charge page tails too) before the
						// quota evicts them.
						ki := r.IntN(16)
						k := []byte(fmt.Sprint("t", ki))
						var members [][]byte
						for range 1 + r.IntN(20) {
							m := fmt.Sprint("member-", r.IntN(8000))
							if r.IntN(50) == 0 {
								m = strings.Repeat("L", 600+r.IntN(400)) // own records
							}
							members = append(members, []byte(m))
						}
						var err error
						if ki >= 6 { // t6..t9 are sorted sets, t10..t12 lists, t13..t15 streams
							switch {
							case ki < 10:
								err = zsetTableOp(p, k, r, members)
							case ki < 13:
								err = listTableOp(p, k, r, members)
							default:
								err = streamTableOp(p, k, r, members)
							}
							if err != nil && !errors.Is(err, ErrOOM) {
								t.Errorf("write: %v", err)
								return
							}
							ops.Add(1)
							continue
						}
						switch op := r.IntN(100); {
						case op < 75: // SADD: plan, reserve, add
							var tab *value.SetTable
							err = p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
								tab = nil
								if !ex || cur.Obj == nil {
									t, err := value.SetTableFrom(nil, members)
									return Entry{Obj: t, Type: TypeSet}, Put, err
								}
								tab = cur.Obj.(*value.SetTable)
								grow, n := tab.PlanAdd(members)
								if n == 0 {
									return cur, Keep, nil
								}
								return Entry{Grow: grow}, Edit, nil
							}, func() { tab.Add(members) })
						case op < 98: // SREM
							var tab *value.SetTable
							err = p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
								if !ex || cur.Obj == nil {
									return cur, Keep, nil
								}
								tab = cur.Obj.(*value.SetTable)
								switch n := tab.PlanRem(members); {
								case n == 0:
									return cur, Keep, nil
								case n == tab.Len():
									return cur, Delete, nil
								}
								return Entry{}, Edit, nil
							}, func() { tab.Rem(members) })
						default:
							p.Set(0, k, make([]byte, r.IntN(2000)), 0)
						}
						if err != nil && !errors.Is(err, ErrOOM) {
							t.Errorf("write: %v", err)
							return
						}
						ops.Add(1)
					}
				}()
			}
			time.Sleep(dur)
			stop.Store(true)
			wg.Wait()
			if v := violation.Load(); v != 0 {
				t.Fatalf("used %d exceeded quota %d", v, quota)
			}
			st := p.Stats()
			if ops.Load() < 500 || !noEv && st.Evictions == 0 {
				t.Fatalf("%d ops, %d evictions: the test did not press on the quota", ops.Load(), st.Evictions)
			}
			t.Logf("%d ops, %+v", ops.Load(), p.Stats())
			audit(t, p)
		})
	}
}

// zsetTableOp is one write of TestQuotaInvariantTables to a sorted set:
// ZADD (new members and new scores) through PlanSet, ZREM, a rank range
// removal, or a conversion (a new tree Put).
func zsetTableOp(p *Partition, k []byte, r *rand.Rand, members [][]byte) error {
	seen := map[string]bool{}
	var set []value.ZMember
	for _, m := range members {
		if !seen[string(m)] {
			seen[string(m)] = true
			set = append(set, value.ZMember{Member: m, Score: float64(r.IntN(50))})
		}
	}
	var z *value.ZSetTree
	switch op := r.IntN(100); {
	case op < 70: // ZADD
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			z = nil
			if !ex || cur.Obj == nil {
				t := value.NewZSetTree(0)
				t.Set(set)
				return Entry{Obj: t, Type: TypeZSet}, Put, nil
			}
			z = cur.Obj.(*value.ZSetTree)
			return Entry{Grow: z.PlanSet(set)}, Edit, nil
		}, func() { z.Set(set) })
	case op < 90: // ZREM
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			z = cur.Obj.(*value.ZSetTree)
			switch n := z.PlanRem(members); {
			case n == 0:
				return cur, Keep, nil
			case n == z.Len():
				return cur, Delete, nil
			}
			return Entry{}, Edit, nil
		}, func() { z.Rem(members) })
	default: // ZREMRANGEBYRANK
		var from, to int
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			z = cur.Obj.(*value.ZSetTree)
			from = r.IntN(z.Len())
			to = min(z.Len(), from+1+r.IntN(100))
			if to-from == z.Len() {
				return cur, Delete, nil
			}
			return Entry{}, Edit, nil
		}, func() { z.RemRange(from, to) })
	}
}

// listTableOp is one write of TestQuotaInvariantTables to a list: pushes
// at either end, LSET, LINSERT (planned), pops, LREM, LTRIM, or a
// conversion (a new list Put). Count-limited nodes (list-max-listpack-size
// 7) make node and ring growth frequent.
func listTableOp(p *Partition, k []byte, r *rand.Rand, elems [][]byte) error {
	var q *value.QuickList
	left := r.IntN(2) == 0
	switch op := r.IntN(100); {
	case op < 45: // LPUSH/RPUSH
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			q = nil
			if !ex || cur.Obj == nil {
				n := value.NewQuickList(7)
				n.Push(elems, left)
				return Entry{Obj: n, Type: TypeList}, Put, nil
			}
			q = cur.Obj.(*value.QuickList)
			return Entry{Grow: q.PlanPush(elems, left)}, Edit, nil
		}, func() { q.Push(elems, left) })
	case op < 55: // LSET
		var i int
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			q = cur.Obj.(*value.QuickList)
			i = r.IntN(q.Len())
			return Entry{Grow: q.PlanSet(i, elems[0])}, Edit, nil
		}, func() { q.Set(i, elems[0]) })
	case op < 65: // LINSERT
		var pos value.QuickListPos
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			q = cur.Obj.(*value.QuickList)
			pivot := append([]byte(nil), q.Index(r.IntN(q.Len()))...)
			grow, at, found := q.PlanInsert(pivot, elems[0], left)
			if !found {
				return cur, Keep, nil
			}
			pos = at
			return Entry{Grow: grow}, Edit, nil
		}, func() { q.Insert(pos, elems[0]) })
	case op < 85: // LPOP/RPOP
		n := 1 + r.IntN(30)
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			q = cur.Obj.(*value.QuickList)
			if n >= q.Len() {
				return cur, Delete, nil
			}
			return Entry{}, Edit, nil
		}, func() { q.Pop(n, left, nil) })
	case op < 93: // LREM
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			q = cur.Obj.(*value.QuickList)
			switch n := q.CountRem(0, elems[0]); {
			case n == 0:
				return cur, Keep, nil
			case n == q.Len():
				return cur, Delete, nil
			}
			return Entry{}, Edit, nil
		}, func() { q.Rem(0, elems[0]) })
	default: // LTRIM
		var from, to int
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if !ex || cur.Obj == nil {
				return cur, Keep, nil
			}
			q = cur.Obj.(*value.QuickList)
			from = r.IntN(q.Len())
			to = from + 1 + r.IntN(q.Len()-from)
			return Entry{}, Edit, nil
		}, func() { q.Trim(from, to) })
	}
}

// streamTableOp is one write of TestQuotaInvariantTables to a stream:
// XADD with trimming (small nodes, so that nodes and the node slice grow
// often), XDEL, XREADGROUP-style deliveries into a group's PEL, and acks.
func streamTableOp(p *Partition, k []byte, r *rand.Rand, elems [][]byte) error {
	var s *value.Stream
	pairs := make([][]byte, 0, 2*len(elems))
	for _, e := range elems {
		pairs = append(pairs, []byte("f"), e)
	}
	switch op := r.IntN(100); {
	case op < 60: // XADD * [MAXLEN ~ n]
		var id value.StreamID
		trim := value.TrimArgs{Strategy: value.TrimMaxLen, MaxLen: int64(r.IntN(300)), Approx: r.IntN(2) == 0}
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			s = nil
			if !ex {
				n := value.NewStream()
				id, _ = n.NextID(1, nil, false)
				n.Add(id, pairs, 512, 5)
				return Entry{Obj: n, Type: TypeStream}, Put, nil
			}
			s = cur.Obj.(*value.Stream)
			var err error
			if id, err = s.NextID(1, nil, false); err != nil {
				return cur, Keep, err
			}
			grow, err := s.PlanAdd(pairs, 512, 5)
			return Entry{Grow: grow}, Edit, err
		}, func() { s.Add(id, pairs, 512, 5); s.Trim(trim) })
	case op < 70: // XDEL of a few ids
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if s = nil; !ex {
				return cur, Keep, nil
			}
			s = cur.Obj.(*value.Stream)
			return Entry{}, Edit, nil
		}, func() {
			if s != nil {
				last := s.LastID()
				s.Del([]value.StreamID{{Ms: last.Ms, Seq: uint64(r.IntN(int(last.Seq + 1)))}})
			}
		})
	case op < 90: // XREADGROUP GROUP g c COUNT n STREAMS k >
		n := 1 + r.IntN(50)
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if s = nil; !ex {
				return cur, Keep, nil
			}
			s = cur.Obj.(*value.Stream)
			grow := int64(n) * value.StreamNACKCost
			if s.Group([]byte("g")) == nil {
				grow += value.GroupCost([]byte("g"))
			}
			return Entry{Grow: grow + value.ConsumerCost([]byte("c"))}, Edit, nil
		}, func() {
			g := s.Group([]byte("g"))
			if g == nil {
				g = s.CreateGroup([]byte("g"), value.StreamID{}, -1)
			}
			c := s.LookupOrCreateConsumer(g, []byte("c"), 1)
			from, _ := g.LastID.Incr()
			var ids []value.StreamID
			s.Range(from, value.MaxStreamID, false, func(id value.StreamID, _ []byte) bool {
				ids = append(ids, id)
				return len(ids) < n
			})
			for _, id := range ids {
				s.Deliver(g, c, id, 1)
				g.LastID = id
			}
		})
	default: // XACK of the oldest pending entries
		return p.MutateEdit(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			if s = nil; !ex {
				return cur, Keep, nil
			}
			s = cur.Obj.(*value.Stream)
			return Entry{}, Edit, nil
		}, func() {
			if s == nil || s.Group([]byte("g")) == nil {
				return
			}
			g := s.Group([]byte("g"))
			var ids []value.StreamID
			g.PEL(value.StreamID{}, func(id value.StreamID, _ *value.StreamNACK) bool {
				ids = append(ids, id)
				return len(ids) < 20
			})
			for _, id := range ids {
				s.Ack(g, id)
			}
		})
	}
}
