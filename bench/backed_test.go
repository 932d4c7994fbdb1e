package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/backing/clustertest"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/server"
	"github.com/tcached/tcached/tiers"
)

// This file holds BenchmarkBacked: tcached in front of a real 6-process
// Redis Cluster (backing/clustertest) as its store of record (L2), with the
// tenant's in-process partition as L1. One cluster and one backed server
// are started per BenchmarkBacked call (the cluster takes ~6 s); the
// sub-benchmarks, which Go re-invokes with growing b.N, only prepare keys.
//
//	GetL1Hit          unpipelined GET, one connection, 1,000 keys already in L1
//	GetL1HitParallel  the same with b.RunParallel, one connection per goroutine
//	GetL2ReadThrough  unpipelined GET of b.N distinct keys written straight into
//	                  the cluster and never read before: every GET misses L1
//	                  and reads L2 (and fills L1)
//	SetWriteThrough   unpipelined SET of 100 bytes; the reply comes after L2
//	                  has the value
//	GetRawCluster     the L1-hit keys read with go-redis ClusterClient.Get
//	                  directly from the cluster, unpipelined: the floor an L2
//	                  read cannot beat
//
// Every op is timed separately (time.Now around the round trip) for p50-µs
// and p99-µs (nearest rank); ops/s is b.N / b.Elapsed(). Every reply is
// checked byte for byte, and the backend's L2 load counters check that the
// L1 benchmarks never reached L2 and that each read-through GET did. None of
// this runs under plain `go test` (benchmarks only); it skips when
// redis-server/redis-cli are missing unless TCACHED_REQUIRE_REDIS=1.

const (
	backedPrefix  = "bench:" // L2 key prefix
	backedTenant  = "a"
	backedUser    = "u"
	backedPass    = "p"
	backedValSize = 100
	backedKeys    = 1000 // key space of GetL1Hit, SetWriteThrough, GetRawCluster
)

// backedConfig: one tenant "a" on the built-in gold tier (as deployed: 30m
// default TTL, 500ms timeout, which also bounds each L2 call), 64 MiB of L1.
func backedConfig() *config.Config {
	return &config.Config{
		Listen:      "127.0.0.1:0",
		Limits:      config.DefaultLimits(),
		MaxMemory:   256 << 20,
		DefaultRole: config.RoleReadWrite,
		Tiers:       tiers.Builtin(),
		Tenants: []config.Tenant{{
			ID:       backedTenant,
			TierName: "gold",
			Tier:     tiers.Builtin()["gold"],
			Quota:    64 << 20,
			Users: []config.User{{Name: backedUser, PasswordSHA256: config.HashPassword(backedPass),
				Role: config.RoleReadWrite}},
		}},
	}
}

// startBackedTcached serves backedConfig in front of cl under
// backedPrefix, as server/backed_test.go's startBacked does: backing.New,
// server.New with the backend, Serve, then bk.Start and wait for Ready.
// Cleanups close the server before the backend (and both before the
// cluster, whose cleanup was registered first).
func startBackedTcached(tb testing.TB, cl *clustertest.Cluster) (string, *backing.Cluster) {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	bk, err := backing.New(backing.Options{Addrs: cl.Addrs(), KeyPrefix: backedPrefix, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bk.Close() })
	// L1MaxTTL of a minute: an L1 copy outlives any sub-benchmark run, so
	// GetL1Hit never falls through to L2 because its copies aged out.
	srv, err := server.New(backedConfig(), server.Options{Backend: bk, L1MaxTTL: time.Minute, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	addr, _ := serve(tb, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bk.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !bk.Ready() {
		if time.Now().After(deadline) {
			tb.Fatal("backend never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return addr, bk
}

// l2Name is the cluster key holding tenant a's db-0 key (backing's layout
// <prefix><tenant>:<db>:<key>).
func l2Name(key string) string { return backedPrefix + backedTenant + ":0:" + key }

// backedValue is a 100-byte value that names its key, so a reply for the
// wrong key cannot pass the check.
func backedValue(key string) []byte {
	v := bytes.Repeat([]byte{'.'}, backedValSize)
	copy(v, key)
	return v
}

func l1Key(i int) string { return fmt.Sprintf("l1:%04d", i) }

// readBulk reads one bulk reply into buf (reused; grown as needed) without
// allocating; nil reply is an error here.
func (rc *respConn) readBulk(buf []byte) ([]byte, error) {
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return buf, err
	}
	if len(line) < 3 {
		return buf, fmt.Errorf("short reply line %q", line)
	}
	switch line[0] {
	case '-':
		return buf, respError(line[1 : len(line)-2])
	case '$':
	default:
		return buf, fmt.Errorf("unexpected reply %q", line)
	}
	n, err := atoi(line[1 : len(line)-2])
	if err != nil {
		return buf, err
	}
	if n < 0 {
		return buf, fmt.Errorf("nil reply")
	}
	buf = slices.Grow(buf[:0], n+2)[:n+2]
	if _, err := io.ReadFull(rc.r, buf); err != nil {
		return buf, err
	}
	return buf[:n], nil
}

// latencies collects per-op round-trip times and reports ops/s, p50-µs and
// p99-µs (nearest rank).
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pct := func(p float64) float64 {
		i := int(float64(len(s))*p+0.5) - 1
		return float64(s[max(0, min(i, len(s)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// l2Loads is how many L1 misses went to L2 (found or not).
func l2Loads(bk *backing.Cluster) uint64 {
	st := bk.Stats()
	return st.L2Hits + st.L2Misses
}

func BenchmarkBacked(b *testing.B) {
	cl := clustertest.Start(b)
	addr, bk := startBackedTcached(b, cl)
	raw := cl.Client()
	ctx := context.Background()
	dial := func(b *testing.B) *respConn {
		c, err := dialRESP(addr, backedUser, backedPass)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.close)
		return c
	}

	// The shared key space, written through tcached (so also in L2).
	l1Vals := make([][]byte, backedKeys)
	l1Reqs := make([][]byte, backedKeys)
	{
		c := dial(b)
		var req []byte
		for i := range backedKeys {
			l1Vals[i] = backedValue(l1Key(i))
			l1Reqs[i] = cmd("GET", l1Key(i))
			req = append(req, cmd("SET", l1Key(i), string(l1Vals[i]))...)
		}
		if err := c.send(req); err != nil {
			b.Fatal(err)
		}
		for i := range backedKeys {
			if _, err := c.skip(); err != nil {
				b.Fatalf("SET %s: %v", l1Key(i), err)
			}
		}
		if got := raw.Get(ctx, l2Name(l1Key(7))).Val(); got != string(l1Vals[7]) {
			b.Fatalf("L2 holds %q for %s after the load", got, l1Key(7))
		}
	}
	// Warm the L2 paths once (untimed): the read-through script is loaded
	// on every master and the pools of tcached's backend and of raw have
	// connections to each, so the first sub-benchmark pays no setup.
	{
		c := dial(b)
		pipe := raw.Pipeline()
		for i := range backedKeys {
			pipe.Set(ctx, l2Name("warm:"+strconv.Itoa(i)), "w", time.Minute)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for i := range backedKeys {
			if got, err := c.do(cmd("GET", "warm:"+strconv.Itoa(i))); err != nil || got != "w" {
				b.Fatalf("warm-up GET: %q, %v", got, err)
			}
			if err := raw.Get(ctx, l2Name(l1Key(i))).Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
	// warmL1 reads every key once so that each has an L1 copy.
	warmL1 := func(b *testing.B, c *respConn) {
		var buf []byte
		var err error
		for i := range backedKeys {
			if err = c.send(l1Reqs[i]); err == nil {
				buf, err = c.readBulk(buf)
			}
			if err != nil {
				b.Fatalf("warm GET %s: %v", l1Key(i), err)
			}
		}
	}
	// noL2 fails the run when the timed region loaded anything from L2.
	noL2 := func(b *testing.B, before uint64) {
		if d := l2Loads(bk) - before; d != 0 {
			b.Fatalf("%d of %d L1-hit GETs went to L2", d, b.N)
		}
	}

	b.Run("GetL1Hit", func(b *testing.B) {
		c := dial(b)
		warmL1(b, c)
		lat := make(latencies, b.N)
		var buf []byte
		before := l2Loads(bk)
		b.ResetTimer()
		for i := range b.N {
			k := i % backedKeys
			t0 := time.Now()
			err := c.send(l1Reqs[k])
			if err == nil {
				buf, err = c.readBulk(buf)
			}
			lat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Equal(buf, l1Vals[k]) {
				b.Fatalf("GET %s = %q", l1Key(k), buf)
			}
		}
		b.StopTimer()
		noL2(b, before)
		lat.report(b)
	})

	b.Run("GetL1HitParallel", func(b *testing.B) {
		n := runtime.GOMAXPROCS(0)
		conns := make(chan *respConn, n)
		for range n {
			c := dial(b)
			warmL1(b, c)
			conns <- c
		}
		var (
			mu     sync.Mutex
			all    latencies
			worker atomic.Int64
		)
		before := l2Loads(bk)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := <-conns
			defer func() { conns <- c }()
			lat := make(latencies, 0, b.N/n+16)
			k := int(worker.Add(1)*331) % backedKeys
			var buf []byte
			for pb.Next() {
				t0 := time.Now()
				err := c.send(l1Reqs[k])
				if err == nil {
					buf, err = c.readBulk(buf)
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Error(err)
					return
				}
				if !bytes.Equal(buf, l1Vals[k]) {
					b.Errorf("GET %s = %q", l1Key(k), buf)
					return
				}
				k = (k + 1) % backedKeys
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
		b.StopTimer()
		noL2(b, before)
		all.report(b)
	})

	var run atomic.Int64 // distinct key names across re-invocations and -count
	b.Run("GetL2ReadThrough", func(b *testing.B) {
		r := run.Add(1)
		keys := make([]string, b.N)
		vals := make([][]byte, b.N)
		reqs := make([][]byte, b.N)
		for i := range b.N {
			keys[i] = fmt.Sprintf("rt:%d:%08d", r, i)
			vals[i] = backedValue(keys[i])
			reqs[i] = cmd("GET", keys[i])
		}
		// Straight into the cluster, behind tcached's back, pipelined in
		// chunks: never read through tcached, so never in L1.
		for lo := 0; lo < b.N; lo += 1000 {
			pipe := raw.Pipeline()
			for i := lo; i < min(lo+1000, b.N); i++ {
				pipe.Set(ctx, l2Name(keys[i]), vals[i], time.Hour)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		c := dial(b)
		lat := make(latencies, b.N)
		var buf []byte
		before := l2Loads(bk)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			err := c.send(reqs[i])
			if err == nil {
				buf, err = c.readBulk(buf)
			}
			lat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Equal(buf, vals[i]) {
				b.Fatalf("GET %s = %q", keys[i], buf)
			}
		}
		b.StopTimer()
		if d := l2Loads(bk) - before; d != uint64(b.N) {
			b.Fatalf("%d GETs of never-read keys made %d L2 loads, want one each", b.N, d)
		}
		lat.report(b)
		// Leave the cluster as it was (outside the timer).
		for lo := 0; lo < b.N; lo += 1000 {
			pipe := raw.Pipeline()
			for i := lo; i < min(lo+1000, b.N); i++ {
				pipe.Unlink(ctx, l2Name(keys[i]))
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("SetWriteThrough", func(b *testing.B) {
		r := run.Add(1)
		vals := make([][]byte, backedKeys)
		reqs := make([][]byte, backedKeys)
		for i := range backedKeys {
			key := "wt:" + strconv.Itoa(i)
			vals[i] = backedValue(fmt.Sprintf("%s:%d", key, r))
			reqs[i] = cmd("SET", key, string(vals[i]))
		}
		c := dial(b)
		lat := make(latencies, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			err := c.send(reqs[i%backedKeys])
			if err == nil {
				_, err = c.skip()
			}
			lat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		// Acknowledged means in L2: check the last writes' keys there.
		for i := max(0, b.N-backedKeys); i < b.N; i += 97 {
			k := i % backedKeys
			if got := raw.Get(ctx, l2Name("wt:"+strconv.Itoa(k))).Val(); got != string(vals[k]) {
				b.Fatalf("L2 holds %q for wt:%d after SET", got, k)
			}
		}
		lat.report(b)
	})

	// Collections (issue 19): a write runs as MULTI + two scripts + EXEC
	// on the raw path; a read of a small hash is an L1 hit after its
	// first load; a read of a hash over l1_collection_max goes to L2.
	collBench := func(name string, setup func(c *respConn), req func(i int) []byte) {
		b.Run(name, func(b *testing.B) {
			c := dial(b)
			if setup != nil {
				setup(c)
			}
			lat := make(latencies, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				err := c.send(req(i))
				if err == nil {
					_, err = c.skip()
				}
				lat[i] = time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			lat.report(b)
		})
	}
	hkeys := make([]string, backedKeys)
	for i := range hkeys {
		hkeys[i] = "h:" + strconv.Itoa(i)
	}
	collBench("HSetWriteThrough", nil, func(i int) []byte { return cmd("HSET", hkeys[i%backedKeys], "f", "v") })
	collBench("HGetL1Hit", func(c *respConn) {
		for _, k := range hkeys {
			c.do(cmd("HSET", k, "f", "v"))
			c.do(cmd("HGET", k, "f"))
		}
	}, func(i int) []byte { return cmd("HGET", hkeys[i%backedKeys], "f") })
	big := strings.Repeat("x", 40<<10) // over gold's 32KiB l1_collection_max
	collBench("HGetBigReadThrough", func(c *respConn) {
		for _, k := range hkeys[:64] {
			c.do(cmd("HSET", k+":big", "f", "v", "pad", big))
		}
	}, func(i int) []byte { return cmd("HGET", hkeys[i%64]+":big", "f") })

	// Lists: LPUSH and LPOP are both writes (write-through); LRANGE of a
	// small list is an L1 hit, of a list over l1_collection_max a read
	// through.
	lkeys := make([]string, backedKeys)
	for i := range lkeys {
		lkeys[i] = "l:" + strconv.Itoa(i)
	}
	collBench("LPushWriteThrough", nil, func(i int) []byte { return cmd("LPUSH", lkeys[i%backedKeys], "v") })
	collBench("LPopWriteThrough", func(c *respConn) {
		for _, k := range lkeys {
			c.do(cmd("RPUSH", k, "a", "b", "c", "d", "e", "f", "g", "h"))
		}
	}, func(i int) []byte {
		if i%2 == 0 {
			return cmd("LPOP", lkeys[(i/2)%backedKeys])
		}
		return cmd("RPUSH", lkeys[(i/2)%backedKeys], "v") // keep the lists from running dry
	})
	// do reads one line: an array reply is read whole by skip.
	doArray := func(c *respConn, req []byte) {
		if err := c.send(req); err == nil {
			c.skip()
		}
	}
	collBench("LRangeL1Hit", func(c *respConn) {
		for _, k := range lkeys {
			doArray(c, cmd("LRANGE", k, "0", "9"))
		}
	}, func(i int) []byte { return cmd("LRANGE", lkeys[i%backedKeys], "0", "9") })
	collBench("LRangeBigReadThrough", func(c *respConn) {
		for _, k := range lkeys[:64] {
			c.do(cmd("RPUSH", k+":big", "pad", big))
		}
	}, func(i int) []byte { return cmd("LRANGE", lkeys[i%64]+":big", "0", "0") })

	// Sorted sets: ZADD write-through, ZRANGE an L1 hit or a read through.
	zkeys := make([]string, backedKeys)
	for i := range zkeys {
		zkeys[i] = "z:" + strconv.Itoa(i)
	}
	collBench("ZAddWriteThrough", nil, func(i int) []byte {
		return cmd("ZADD", zkeys[i%backedKeys], strconv.Itoa(i%100), "m"+strconv.Itoa(i%100))
	})
	collBench("ZRangeL1Hit", func(c *respConn) {
		for _, k := range zkeys {
			c.do(cmd("ZADD", k, "1", "a", "2", "b", "3", "c"))
			doArray(c, cmd("ZRANGE", k, "0", "-1"))
		}
	}, func(i int) []byte { return cmd("ZRANGE", zkeys[i%backedKeys], "0", "-1") })
	collBench("ZRangeBigReadThrough", func(c *respConn) {
		for _, k := range zkeys[:64] {
			c.do(cmd("ZADD", k+":big", "1", "a", "2", big))
		}
	}, func(i int) []byte { return cmd("ZRANGE", zkeys[i%64]+":big", "0", "0") })

	b.Run("GetRawCluster", func(b *testing.B) {
		names := make([]string, backedKeys)
		for i := range names {
			names[i] = l2Name(l1Key(i))
		}
		// One round of reads so that the client's slot map and a
		// connection to each master are ready before the timer.
		for _, n := range names {
			if err := raw.Get(ctx, n).Err(); err != nil {
				b.Fatal(err)
			}
		}
		lat := make(latencies, b.N)
		b.ResetTimer()
		for i := range b.N {
			k := i % backedKeys
			t0 := time.Now()
			v, err := raw.Get(ctx, names[k]).Bytes()
			lat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Equal(v, l1Vals[k]) {
				b.Fatalf("cluster GET %s = %q", names[k], v)
			}
		}
		b.StopTimer()
		lat.report(b)
	})
}
