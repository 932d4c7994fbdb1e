package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNoisyNeighbourPlainRedis reproduces the measurement the README
// quotes for a plain shared Redis (and ../shared/REFERENCE.md §6): one
// 48 MB redis-server with allkeys-lru, tenants as key prefixes. Victim A
// writes a 12 MB working set (12,000 keys of 1 KiB under "a:"), reads it at
// random on 2 connections for a second alone, then while B floods unique
// 1 KiB keys under "b:" (2 connections, 32 SETs per write) totalling 4x
// maxmemory. The same scenario then runs against tcached with A and B as
// tenants of 24 MiB each (the same 48 MiB, split), and no prefixes.
//
//	TCACHED_REQUIRE_REDIS=1 go test -run TestNoisyNeighbourPlainRedis -v ./bench/
//
// It fails when plain Redis does not show the collapse (A's hit rate
// during the flood at or above 50%) or when tcached does (any miss of A).
// Bounded at 60 s; about 5 s here.
func TestNoisyNeighbourPlainRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("floods 192 MB twice")
	}
	const (
		maxmem    = 48 << 20
		valueSize = 1024
		workSet   = 12000 // 12 MB of values
		floodConn = 2
		floodPipe = 32
		floodRate = 4 // flood bytes, in maxmemory
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	type target struct {
		name       string
		addr       string
		userA, pwA string
		userB, pwB string
		prefixA    string
		prefixB    string
	}
	redisAddr := startRedis(t, 60*time.Second)
	{
		c, err := dialRESP(redisAddr, "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range [][2]string{{"maxmemory", fmt.Sprint(maxmem)}, {"maxmemory-policy", "allkeys-lru"}} {
			if _, err := c.do(cmd("CONFIG", "SET", kv[0], kv[1])); err != nil {
				t.Fatal(err)
			}
		}
		c.close()
	}
	tcAddr, _ := startTcached(t, `
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 256MiB
tiers:
  flat: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - {id: A, tier: flat, quota: 24MiB, users: [{name: a, password_sha256: `+sha("a-pw")+`}]}
  - {id: B, tier: flat, quota: 24MiB, users: [{name: b, password_sha256: `+sha("b-pw")+`}]}
`)
	type result struct {
		baseHits, baseAll, floodHits, floodAll int
		baseP99, floodP99                      time.Duration
		resident                               int
		written                                int64
	}
	run := func(tg target) result {
		dial := func(user, pw string) *respConn {
			c, err := dialRESP(tg.addr, user, pw)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.close)
			return c
		}
		val := strings.Repeat("a", valueSize)
		key := func(i int) string { return fmt.Sprintf("%sws:%05d", tg.prefixA, i) }
		w := dial(tg.userA, tg.pwA)
		for lo := 0; lo < workSet; lo += 1000 {
			var req []byte
			for i := lo; i < lo+1000; i++ {
				req = append(req, cmd("SET", key(i), val)...)
			}
			if err := w.send(req); err != nil {
				t.Fatal(err)
			}
			for range 1000 {
				if _, err := w.skip(); err != nil {
					t.Fatal(err)
				}
			}
		}
		read := func(stop <-chan struct{}) (hits, all int, p99 time.Duration) {
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			for r := range 2 {
				c := dial(tg.userA, tg.pwA)
				rng := rand.New(rand.NewPCG(uint64(r), 7))
				wg.Add(1)
				go func() {
					defer wg.Done()
					var h, n int
					var l []time.Duration
					defer func() { mu.Lock(); hits += h; all += n; lat = append(lat, l...); mu.Unlock() }()
					for ctx.Err() == nil {
						select {
						case <-stop:
							return
						default:
						}
						t0 := time.Now()
						if err := c.send(cmd("GET", key(rng.IntN(workSet)))); err != nil {
							t.Error(err)
							return
						}
						sz, err := c.skip()
						l = append(l, time.Since(t0))
						if err != nil {
							t.Error(err)
							return
						}
						n++
						if sz == valueSize {
							h++
						}
					}
				}()
			}
			wg.Wait()
			slices.Sort(lat)
			if len(lat) > 0 {
				p99 = lat[len(lat)*99/100]
			}
			return hits, all, p99
		}
		var res result
		stop := make(chan struct{})
		time.AfterFunc(time.Second, func() { close(stop) })
		res.baseHits, res.baseAll, res.baseP99 = read(stop)

		var written atomic.Int64
		var fwg sync.WaitGroup
		for f := range floodConn {
			c := dial(tg.userB, tg.pwB)
			fwg.Add(1)
			go func() {
				defer fwg.Done()
				bval := strings.Repeat("b", valueSize)
				for i := 0; ctx.Err() == nil && written.Load()*valueSize < floodRate*maxmem; i++ {
					var req []byte
					for j := range floodPipe {
						req = append(req, cmd("SET", fmt.Sprintf("%sflood:%d:%d:%d", tg.prefixB, f, i, j), bval)...)
					}
					if err := c.send(req); err != nil {
						t.Error(err)
						return
					}
					for range floodPipe {
						if _, err := c.skip(); err != nil {
							t.Errorf("B flood: %v", err)
							return
						}
					}
					written.Add(floodPipe)
				}
			}()
		}
		floodStop := make(chan struct{})
		go func() { fwg.Wait(); close(floodStop) }()
		res.floodHits, res.floodAll, res.floodP99 = read(floodStop)
		res.written = written.Load()
		if ctx.Err() != nil {
			t.Fatalf("%s: the scenario did not finish within 60s", tg.name)
		}
		for i := range workSet {
			if v, err := w.do(cmd("GET", key(i))); err == nil && v == val {
				res.resident++
			}
		}
		return res
	}
	pct := func(h, n int) float64 { return 100 * float64(h) / float64(max(n, 1)) }
	report := func(name string, r result) {
		t.Logf("%-24s A alone: hit rate %6.2f%% (%d GETs), p99 %v; A during B's flood (%d MiB): hit rate %6.2f%% (%d GETs), p99 %v (%.1fx); A's keys left %d/%d",
			name, pct(r.baseHits, r.baseAll), r.baseAll, r.baseP99, r.written*valueSize>>20, pct(r.floodHits, r.floodAll), r.floodAll, r.floodP99,
			float64(r.floodP99)/float64(max(r.baseP99, 1)), r.resident, workSet)
	}

	rd := run(target{name: "redis", addr: redisAddr, prefixA: "a:", prefixB: "b:"})
	report("redis-server 48mb lru:", rd)
	tc := run(target{name: "tcached", addr: tcAddr, userA: "a", pwA: "a-pw", userB: "b", pwB: "b-pw"})
	report("tcached 2 x 24MiB:", tc)

	if rd.baseHits != rd.baseAll || tc.baseHits != tc.baseAll {
		t.Errorf("A alone must hit every time: redis %d/%d, tcached %d/%d", rd.baseHits, rd.baseAll, tc.baseHits, tc.baseAll)
	}
	if rd.floodAll == 0 || pct(rd.floodHits, rd.floodAll) >= 50 {
		t.Errorf("plain Redis: A's hit rate during the flood %.2f%% (%d GETs): the collapse the README quotes did not happen", pct(rd.floodHits, rd.floodAll), rd.floodAll)
	}
	if tc.floodAll == 0 || tc.floodHits != tc.floodAll || tc.resident != workSet {
		t.Errorf("tcached: A hit %d of %d GETs during the flood and kept %d of %d keys; want all", tc.floodHits, tc.floodAll, tc.resident, workSet)
	}
	if os.Getenv("NN_VERBOSE") != "" {
		t.Logf("%+v\n%+v", rd, tc)
	}
}
