package bench

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/server"
	"github.com/tcached/tcached/tiers"
)

// This file holds the benchmarks that build their configuration in code
// (config.Config literals, as server/harness_test.go does) rather than from
// YAML, because they need many tenants or large quotas:
//
//	BenchmarkTenants       GET/SET over 100 connections spread over 1 or 100 tenants
//	BenchmarkResidentKeys  GET latency percentiles with 50K vs 5M keys resident
//	BenchmarkStartTenants  server.New with 10,000 tenants: time and heap per tenant
//
// None of them asserts on timing; the figures go to README.md.

// ---------------------------------------------------------------------------
// Configs built in code

// tenantUser and tenantPass name tenant i's one admin user and its password
// (passwords differ: the server refuses two users with the same one).
func tenantUser(i int) string { return fmt.Sprintf("u%05d", i) }
func tenantPass(i int) string { return fmt.Sprintf("pw-%05d", i) }

// codeConfig returns n tenants t00000..., each with the given quota and one
// admin user, on a custom tier with no default TTL, no timeout, no rate
// limit and no concurrency or connection cap, so that the benchmarks measure
// the data path and not admission. MaxInFlight is left 0 (no priority
// shedding); at most ~100 commands are ever in flight here, far below where
// the YAML default would start shedding. maxmemory is the sum of the quotas.
func codeConfig(n int, quota int64) *config.Config {
	tier := tiers.Tier{Name: "bench", Priority: tiers.DefaultPriority}
	cfg := &config.Config{
		Listen:        "127.0.0.1:0",
		MaxMemory:     quota * int64(n),
		DefaultRole:   config.RoleReadWrite,
		ProtectedMode: true,
		Limits:        config.DefaultLimits(),
		Tiers:         map[string]tiers.Tier{"bench": tier},
		Tenants:       make([]config.Tenant, n),
	}
	for i := range cfg.Tenants {
		cfg.Tenants[i] = config.Tenant{
			ID:       fmt.Sprintf("t%05d", i),
			TierName: "bench",
			Tier:     tier,
			Quota:    quota,
			Users: []config.User{{
				Name:           tenantUser(i),
				PasswordSHA256: config.HashPassword(tenantPass(i)),
				Role:           config.RoleAdmin,
			}},
		}
	}
	return cfg
}

// serveConfig serves cfg in-process on a loopback ephemeral port. stop
// closes the server (idempotent); it also runs when tb ends.
func serveConfig(tb testing.TB, cfg *config.Config) (addr string, srv *server.Server, stop func()) {
	tb.Helper()
	srv, err := server.New(cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	addr, stop = serve(tb, srv)
	return addr, srv, stop
}

// serve runs srv on a loopback ephemeral port. stop closes it
// (idempotent, waiting at most 5s); it also runs when tb ends.
func serve(tb testing.TB, srv *server.Server) (addr string, stop func()) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Close()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				tb.Error("tcached did not stop within 5s")
			}
		})
	}
	tb.Cleanup(stop)
	return ln.Addr().String(), stop
}

// ---------------------------------------------------------------------------
// BenchmarkTenants

const (
	tenantConns = 100 // connections in BenchmarkTenants, whatever the tenant count
	tenantValue = 100 // value size, as compare.sh's redis-benchmark -d 100
	maxTenants  = 100
)

// BenchmarkTenants runs unpipelined GET (hits) or SET over tenantConns raw
// RESP connections spread round-robin over T tenants, T = 1 and 100, against
// one in-process server configured with 100 tenants. Only the tenant count
// changes between sub-benchmarks: same server, same number of connections,
// same 1024 keys per tenant, same 100-byte values. One op is one command, so
// ops/s = 1e9 / ns/op. Compare with
//
//	go test -run '^$' -bench Tenants -count 5 ./bench/ | tee t.txt
//	benchstat -col /tenants t.txt
func BenchmarkTenants(b *testing.B) {
	// 32 MiB each: tenant 0 also holds the 102,400-key variant (~19 MB).
	cfg := codeConfig(maxTenants, 32<<20)
	addr, _, _ := serveConfig(b, cfg)
	for _, op := range []string{"GET", "SET"} {
		for _, nt := range []int{1, maxTenants} {
			b.Run(fmt.Sprintf("op=%s/tenants=%d", op, nt), func(b *testing.B) {
				benchTenants(b, addr, op, nt, keySpace)
			})
		}
		// One tenant over as many keys as the 100 tenants hold together:
		// the same working set, so the comparison isolates per-tenant cost
		// from the cache effect of 100x more keys.
		b.Run(fmt.Sprintf("op=%s/tenants=1/keys=%d", op, maxTenants*keySpace), func(b *testing.B) {
			benchTenants(b, addr, op, 1, maxTenants*keySpace)
		})
	}
}

func benchTenants(b *testing.B, addr, op string, nt, keys int) {
	if op == "GET" {
		for t := range nt {
			loadN(b, addr, tenantUser(t), tenantPass(t), tenantValue, keys)
		}
	}
	// RunParallel starts parallelism*GOMAXPROCS goroutines; give each its
	// own connection, tenant = connection index mod nt.
	procs := runtime.GOMAXPROCS(0)
	par := (tenantConns + procs - 1) / procs
	n := par * procs
	conns := make(chan *respConn, n)
	for i := range n {
		c, err := dialRESP(addr, tenantUser(i%nt), tenantPass(i%nt))
		if err != nil {
			b.Fatal(err)
		}
		defer c.close()
		conns <- c
	}
	w := newWorkloadN(op, tenantValue, keys)
	var worker atomic.Int64
	b.SetParallelism(par)
	measureServer(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			c := <-conns
			defer func() { conns <- c }()
			start := int(worker.Add(1)*131) % keys
			for pb.Next() {
				if err := c.run(w, start, 1, 1); err != nil {
					b.Error(err)
					return
				}
				start = (start + 1) % keys
			}
		})
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// ---------------------------------------------------------------------------
// BenchmarkResidentKeys

const (
	residentValue   = 100            // bytes per value
	residentReaders = 4              // unpipelined GET connections, each timed per request
	residentQuota   = int64(3 << 30) // fits 5M keys (~1.2 GiB accounted) with room to spare
)

// residentSizes is the resident key counts BenchmarkResidentKeys compares:
// the first is the baseline of the p999 ratio. BENCH_RESIDENT_KEYS
// ("50000,500000") overrides it for a quicker look.
func residentSizes(tb testing.TB) []int {
	s := os.Getenv("BENCH_RESIDENT_KEYS")
	if s == "" {
		return []int{50_000, 5_000_000}
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			tb.Fatalf("BENCH_RESIDENT_KEYS: bad count %q", f)
		}
		out = append(out, n)
	}
	return out
}

// residentKey writes key:%08d for i into dst[:12].
func residentKey(dst []byte, i int) {
	copy(dst, "key:")
	for j := 11; j >= 4; j-- {
		dst[j] = byte('0' + i%10)
		i /= 10
	}
}

// getReq and setReq are RESP templates for one key of 12 bytes; keyAt is
// where the key starts, so a caller rewrites it in place without allocating.
var (
	getReq = cmd("GET", "key:00000000")
	setReq = cmd("SET", "key:00000000", strings.Repeat("v", residentValue))
)

func keyAt(req []byte) int { return strings.Index(string(req), "key:") }

// loadResident writes keys 0..n-1 on 4 connections, 256 SETs per write.
func loadResident(tb testing.TB, addr string, n int) {
	tb.Helper()
	const conns, pipe = 4, 256
	var wg sync.WaitGroup
	errs := make([]error, conns)
	for ci := range conns {
		c, err := dialRESP(addr, tenantUser(0), tenantPass(0))
		if err != nil {
			tb.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			off := keyAt(setReq)
			buf := make([]byte, 0, pipe*len(setReq))
			for lo := ci * pipe; lo < n; lo += conns * pipe {
				buf = buf[:0]
				hi := min(lo+pipe, n)
				for i := lo; i < hi; i++ {
					at := len(buf)
					buf = append(buf, setReq...)
					residentKey(buf[at+off:], i)
				}
				if err := c.send(buf); err != nil {
					errs[ci] = err
					return
				}
				for range hi - lo {
					if _, err := c.skip(); err != nil {
						errs[ci] = err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkResidentKeys measures GET latency per request (time.Now around
// each round trip) with 50K and with 5M keys of 100 bytes resident in one
// tenant, to see whether a larger heap puts the garbage collector into the
// tail. For each size a fresh server is loaded outside the timed region;
// then b.N GETs of random resident keys go out unpipelined on
// residentReaders connections while one more connection overwrites random
// resident keys with SETs (the garbage a live cache makes). One GC cycle is
// started with runtime.GC at the beginning of the timed region (for b.N >=
// 1000; BENCH_RESIDENT_FORCE_GC=0 turns it off): a read-mostly load
// allocates too little for a 1.5 GiB heap to be collected within a
// benchmark window, and a p999 that never saw a GC would say nothing about
// GC. So the window holds at least one full cycle; how much of it the cycle
// covers is in gc-ms.
//
// Metrics: p50-ns, p99-ns, p999-ns (nearest rank over all GETs of the run),
// gc-cycles (runtime.MemStats.NumGC delta), gc-ms (the forced cycle's
// duration), gc-pause-ns (stop-the-world pauses in the window), writes/s,
// and in every size after the first p999/p999(base), the ratio to the first
// size's p999 from the same invocation. The loaded servers cost ~3 GiB of RSS,
// so this skips under -short. Run it alone, e.g.
//
//	go test -run '^$' -bench ResidentKeys -benchtime 300000x -count 3 -timeout 30m ./bench/
func BenchmarkResidentKeys(b *testing.B) {
	if testing.Short() {
		b.Skip("loads millions of keys (~3 GiB RSS); skipped under -short")
	}
	sizes := residentSizes(b)
	var baseP999 float64
	for si, n := range sizes {
		// One tenant; quota (and so the sub-shard count) is the same for
		// every size, only the number of resident keys differs.
		cfg := codeConfig(1, residentQuota)
		addr, srv, stop := serveConfig(b, cfg)
		t0 := time.Now()
		loadResident(b, addr, n)
		st := srv.Stats()[0]
		if st.Keys != int64(n) || st.Evictions != 0 {
			b.Fatalf("loaded %d keys: server holds %d (%d evicted, used %d of %d bytes)",
				n, st.Keys, st.Evictions, st.UsedBytes, st.Quota)
		}
		b.Logf("keys=%d loaded in %v, used_memory %d B (%.0f B/key); load average %s", n, time.Since(t0).Round(time.Millisecond),
			st.UsedBytes, float64(st.UsedBytes)/float64(n), loadAvg())
		runtime.GC()
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			p999 := residentGets(b, addr, n)
			if si == 0 {
				baseP999 = p999
			} else if baseP999 > 0 {
				b.ReportMetric(p999/baseP999, "p999/p999(base)")
			}
		})
		stop()
		runtime.GC()
	}
}

// loadAvg is the 1/5/15-minute load average: the other processes on the
// machine show up in the latency tail, so runs log it.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// residentGets runs one timed window and returns its p999 in ns.
func residentGets(b *testing.B, addr string, n int) float64 {
	dial := func() *respConn {
		c, err := dialRESP(addr, tenantUser(0), tenantPass(0))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	readers := make([]*respConn, residentReaders)
	for i := range readers {
		readers[i] = dial()
		defer readers[i].close()
	}
	writer := dial()
	defer writer.close()

	// Writer: random overwrites until the readers are done.
	stopW := make(chan struct{})
	var writes atomic.Int64
	wDone := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		req := slices.Clone(setReq)
		off := keyAt(req)
		for {
			select {
			case <-stopW:
				wDone <- nil
				return
			default:
			}
			residentKey(req[off:], rng.IntN(n))
			if err := writer.send(req); err != nil {
				wDone <- err
				return
			}
			if _, err := writer.skip(); err != nil {
				wDone <- err
				return
			}
			writes.Add(1)
		}
	}()

	lat := make([][]int64, residentReaders)
	per := b.N / residentReaders
	for i := range lat {
		lat[i] = make([]int64, 0, per+residentReaders)
	}
	errs := make([]error, residentReaders)
	var wg sync.WaitGroup
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	gcDone := make(chan time.Duration, 1)
	forced := b.N >= 1000 && os.Getenv("BENCH_RESIDENT_FORCE_GC") != "0"
	b.ResetTimer()
	if forced {
		go func() {
			t := time.Now()
			runtime.GC()
			gcDone <- time.Since(t)
		}()
	}
	w0 := writes.Load()
	t0 := time.Now()
	for ri, c := range readers {
		k := per
		if ri == 0 {
			k += b.N - per*residentReaders
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(ri), uint64(n)))
			req := slices.Clone(getReq)
			off := keyAt(req)
			for range k {
				residentKey(req[off:], rng.IntN(n))
				s := time.Now()
				if err := c.send(req); err != nil {
					errs[ri] = err
					return
				}
				got, err := c.skip()
				lat[ri] = append(lat[ri], int64(time.Since(s)))
				if err != nil {
					errs[ri] = err
					return
				}
				if got != residentValue {
					errs[ri] = fmt.Errorf("GET returned %d bytes, want %d (key evicted?)", got, residentValue)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	wN := writes.Load() - w0
	close(stopW)
	if err := <-wDone; err != nil {
		b.Fatalf("writer: %v", err)
	}
	var gcDur time.Duration
	if forced {
		gcDur = <-gcDone
	}
	runtime.ReadMemStats(&m1)
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		// nearest rank: the smallest sample with at least p of all at or below it
		i := int(float64(len(all))*p+0.999999) - 1
		return float64(all[max(0, min(i, len(all)-1))])
	}
	p999 := pct(0.999)
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(p999, "p999-ns")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC), "gc-cycles")
	b.ReportMetric(float64(gcDur.Microseconds())/1e3, "gc-ms")
	b.ReportMetric(float64(m1.PauseTotalNs-m0.PauseTotalNs), "gc-pause-ns")
	b.ReportMetric(float64(wN)/elapsed.Seconds(), "writes/s")
	return p999
}

// ---------------------------------------------------------------------------
// BenchmarkStartTenants

const startTenants = 10_000

// BenchmarkStartTenants times server.New with 10,000 tenants (one admin user
// each, config built in code before the timer starts) and measures what an
// idle tenant costs: heap-B/tenant is runtime.MemStats.HeapAlloc after a GC
// with the server alive minus before it, divided by 10,000. The quota sets
// the number of sub-shards per tenant (shard.autoShards: one per MiB, at most
// 64), so it is measured at 1 MiB (1 sub-shard) and 64 MiB (64). Each New'd
// server is closed again (it never served, so no goroutines are left).
func BenchmarkStartTenants(b *testing.B) {
	for _, q := range []struct {
		name  string
		quota int64
	}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		cfg := codeConfig(startTenants, q.quota)
		opts := server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		b.Run(fmt.Sprintf("tenants=%d/quota=%s", startTenants, q.name), func(b *testing.B) {
			// Heap per idle tenant, from one extra New outside the timer.
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			srv, err := server.New(cfg, opts)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&m1)
			runtime.KeepAlive(srv)
			srv.Close()
			perTenant := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / startTenants

			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s, err := server.New(cfg, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(perTenant, "heap-B/tenant")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/startTenants, "ns/tenant")
		})
	}
}
