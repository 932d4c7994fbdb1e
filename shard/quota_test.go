package shard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestQuotaInvariantConcurrent hammers one partition with many writers of
// random-size values through every write path while a checker asserts
// used <= quota continuously; at the end accounting must be exact.
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
