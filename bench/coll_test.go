package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Collections at any size (issue 16): per-command cost of HSET/HGET,
// SADD/SISMEMBER, ZADD/ZRANK/ZRANGEBYSCORE and LPUSH/RPOP/LINDEX on one
// key of 100, 10K and 1M elements, tcached next to a redis-server started
// by the same run, and memory per element at 1M.
//
//	make bench-coll
//
// which runs BenchmarkCollCompare at -benchtime 50000x and
// BenchmarkCollMemory at -benchtime 1x (one load per iteration), three
// times each.
//
// BenchmarkCollCompare sends pipelined batches of collPipeline commands on
// one connection per server, alternating which server goes first, and
// reports each server's ns per command and tcached/redis (below 1: tcached
// is faster). A write adds new elements (RPOP removes some); each timed
// batch is followed by an untimed batch undoing it, so the key stays at
// its size. A key is loaded once per size and its reads run before its
// writes, so the reads of a 100-element key see its compact encoding in
// both servers. A 100-element key stays compact under the writes too (a
// hash of 100+64 fields is under hash-max-listpack-entries, the sets hold
// integers, an intset under set-max-intset-entries, a list of 164 short
// elements is one node), except the sorted set: 100+64 members pass
// zset-max-listpack-entries (128), so the first ZADD batch converts it to
// a skiplist in both servers (Redis's one-way conversion), and ZADD's 100
// row measures a skiplist of 100 to 164 members. ZRANGEBYSCORE replies 10
// members. The 10K and 1M
// rows also report tcached's cost over its cost at 100, tcached(n)/(100)
// (the target at 1M: at most 2); tcached/redis at 1M has a target
// of at most 1.5. A batch's time includes its loopback round trip (1/64
// of one per command, alike for both servers). As with BenchmarkCompare,
// tcached runs in the benchmark's process and redis-server in its own,
// which favours tcached a little.
//
// BenchmarkCollMemory loads a 1M-field hash (field:%07d -> value:N), a
// 1M-member set (member:%07d), a set of the integers 0..999999, a
// 1M-member sorted set (member:%07d, score N) and a 1M-element list
// (element:%07d) into fresh servers and reports bytes per element: tcached's accounted bytes
// (MEMORY USAGE), tcached's live heap growth after a GC (HeapAlloc; and
// HeapInuse, its spans), and Redis's used_memory growth (INFO memory), with
// heap/redis (target: at most 1.3). The Go heap may grow to twice the live
// heap between collections (GOGC=100) unless GOMEMLIMIT caps it; that
// headroom is the runtime's, shared by every tenant, and not per element.

// collPipeline is the batch size.
const collPipeline = 64

var collSizes = []int{100, 10_000, 1_000_000}

// collCmd is one benchmarked command: how to fill the key, build a timed
// batch (i is a running counter, so writes add new elements) and the
// untimed batch undoing it.
type collCmd struct {
	name  string
	key   string
	fill  func(n int) [][]string // commands loading n elements
	batch func(n, i int, rng *rand.Rand) []byte
	undo  func(i int) []byte
}

func hashField(i int) string { return fmt.Sprintf("field:%07d", i) }
func setMember(i int) string { return fmt.Sprintf("member:%07d", i) }

// newElement is the i-th element a write adds: an integer, outside the
// members and fields the key was filled with.
func newElement(i int) string { return strconv.Itoa(100_000_000 + i) }

// fillBy loads n elements with commands of up to 1000 elements each.
func fillBy(verb, key string, n int, pair bool, name func(int) string) [][]string {
	var out [][]string
	for i := 0; i < n; i += 1000 {
		c := []string{verb, key}
		for j := i; j < min(n, i+1000); j++ {
			c = append(c, name(j))
			if pair {
				c = append(c, "value:"+strconv.Itoa(j))
			}
		}
		out = append(out, c)
	}
	return out
}

func zsetMember(i int) string { return fmt.Sprintf("member:%07d", i) }
func listElem(i int) string   { return fmt.Sprintf("element:%07d", i) }

// fillZ loads n sorted set members (score i, zsetMember(i)) with commands
// of up to 1000 members each.
func fillZ(key string, n int) [][]string {
	var out [][]string
	for i := 0; i < n; i += 1000 {
		c := []string{"ZADD", key}
		for j := i; j < min(n, i+1000); j++ {
			c = append(c, strconv.Itoa(j), zsetMember(j))
		}
		out = append(out, c)
	}
	return out
}

// collCmds are the benchmarked commands, grouped by the key they use:
// each group's key is loaded once per size, its reads run first.
func collCmds() [][]collCmd {
	batchOf := func(mk func(j int) []string) []byte {
		var b []byte
		for j := range collPipeline {
			b = appendCmd(b, mk(j)...)
		}
		return b
	}
	hashFill := func(n int) [][]string { return fillBy("HSET", "h", n, true, hashField) }
	setFill := func(n int) [][]string { return fillBy("SADD", "s", n, false, strconv.Itoa) }
	zsetFill := func(n int) [][]string { return fillZ("z", n) }
	listFill := func(n int) [][]string { return fillBy("RPUSH", "l", n, false, listElem) }
	return [][]collCmd{{{
		name: "HGET", key: "h", fill: hashFill,
		batch: func(n, _ int, rng *rand.Rand) []byte {
			return batchOf(func(int) []string { return []string{"HGET", "h", hashField(rng.IntN(n))} })
		},
	}, {
		name: "HSET", key: "h", fill: hashFill,
		batch: func(_, i int, _ *rand.Rand) []byte {
			return batchOf(func(j int) []string { return []string{"HSET", "h", newElement(i*collPipeline + j), "v"} })
		},
		undo: func(i int) []byte {
			return batchOf(func(j int) []string { return []string{"HDEL", "h", newElement(i*collPipeline + j)} })
		},
	}}, {{
		name: "SISMEMBER", key: "s", fill: setFill,
		batch: func(n, _ int, rng *rand.Rand) []byte {
			return batchOf(func(int) []string { return []string{"SISMEMBER", "s", strconv.Itoa(rng.IntN(n))} })
		},
	}, {
		name: "SADD", key: "s", fill: setFill,
		batch: func(_, i int, _ *rand.Rand) []byte {
			return batchOf(func(j int) []string { return []string{"SADD", "s", newElement(i*collPipeline + j)} })
		},
		undo: func(i int) []byte {
			return batchOf(func(j int) []string { return []string{"SREM", "s", newElement(i*collPipeline + j)} })
		},
	}}, {{
		name: "ZRANK", key: "z", fill: zsetFill,
		batch: func(n, _ int, rng *rand.Rand) []byte {
			return batchOf(func(int) []string { return []string{"ZRANK", "z", zsetMember(rng.IntN(n))} })
		},
	}, {
		name: "ZRANGEBYSCORE", key: "z", fill: zsetFill,
		batch: func(n, _ int, rng *rand.Rand) []byte {
			return batchOf(func(int) []string {
				lo := rng.IntN(max(n-10, 1))
				return []string{"ZRANGEBYSCORE", "z", strconv.Itoa(lo), strconv.Itoa(lo + 9)}
			})
		},
	}, {
		name: "ZADD", key: "z", fill: zsetFill,
		batch: func(n, i int, rng *rand.Rand) []byte {
			return batchOf(func(j int) []string {
				return []string{"ZADD", "z", strconv.Itoa(rng.IntN(n)), newElement(i*collPipeline + j)}
			})
		},
		undo: func(i int) []byte {
			return batchOf(func(j int) []string { return []string{"ZREM", "z", newElement(i*collPipeline + j)} })
		},
	}}, {{
		name: "LINDEX", key: "l", fill: listFill,
		batch: func(n, _ int, rng *rand.Rand) []byte {
			return batchOf(func(int) []string { return []string{"LINDEX", "l", strconv.Itoa(rng.IntN(n))} })
		},
	}, {
		name: "LPUSH", key: "l", fill: listFill,
		batch: func(_, i int, _ *rand.Rand) []byte {
			return batchOf(func(j int) []string { return []string{"LPUSH", "l", newElement(i*collPipeline + j)} })
		},
		undo: func(int) []byte { return batchOf(func(int) []string { return []string{"LPOP", "l"} }) },
	}, {
		name: "RPOP", key: "l", fill: listFill,
		batch: func(int, int, *rand.Rand) []byte {
			return batchOf(func(int) []string { return []string{"RPOP", "l"} })
		},
		undo: func(i int) []byte {
			return batchOf(func(j int) []string { return []string{"RPUSH", "l", listElem(i*collPipeline + j)} })
		},
	}}}
}

// collServer is one server of the comparison.
type collServer struct {
	name    string
	c       *respConn
	elapsed time.Duration
}

// exec sends one batch and reads its replies; an error reply fails.
func (s *collServer) exec(req []byte, n int) error {
	if err := s.c.send(req); err != nil {
		return err
	}
	for range n {
		if _, err := s.c.skip(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func (s *collServer) load(tb testing.TB, cmds [][]string) {
	tb.Helper()
	for i := 0; i < len(cmds); i += 16 {
		var req []byte
		end := min(len(cmds), i+16)
		for _, c := range cmds[i:end] {
			req = appendCmd(req, c...)
		}
		if err := s.exec(req, end-i); err != nil {
			tb.Fatal(err)
		}
	}
}

func BenchmarkCollCompare(b *testing.B) {
	redisAddr := startRedis(b, 30*time.Minute)
	tcAddr, _ := startTcached(b, benchYAML())
	dial := func(name, addr, user, pass string) *collServer {
		c, err := dialRESP(addr, user, pass)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.close)
		return &collServer{name: name, c: c}
	}
	tc := dial("tcached", tcAddr, "bench", "bench-pw")
	rd := dial("redis", redisAddr, "", "")
	cost := map[string]map[int][2]float64{} // command -> size -> tcached, redis ns per command
	for _, group := range collCmds() {
		for _, n := range collSizes {
			for _, s := range []*collServer{tc, rd} {
				if err := s.exec(cmd("DEL", group[0].key), 1); err != nil {
					b.Fatal(err)
				}
				s.load(b, group[0].fill(n))
			}
			for _, cc := range group {
				if cost[cc.name] == nil {
					cost[cc.name] = map[int][2]float64{}
				}
				b.Run(fmt.Sprintf("cmd=%s/size=%d", cc.name, n), func(b *testing.B) {
					tcNs, rdNs := collRun(b, tc, rd, cc, n)
					b.ReportMetric(tcNs, "tcached-ns/op")
					b.ReportMetric(rdNs, "redis-ns/op")
					b.ReportMetric(tcNs/rdNs, "tcached/redis")
					if c100 := cost[cc.name][100][0]; n > 100 && c100 > 0 {
						b.ReportMetric(tcNs/c100, "tcached(n)/(100)")
					}
					cost[cc.name][n] = [2]float64{tcNs, rdNs}
				})
			}
		}
		for _, cc := range group {
			if c1, c100 := cost[cc.name][1_000_000], cost[cc.name][100]; c1[0] > 0 && c100[0] > 0 {
				b.Logf("%s: tcached 1M/100 = %.2f (target <= 2), redis 1M/100 = %.2f; at 1M tcached/redis = %.2f (target <= 1.5)",
					cc.name, c1[0]/c100[0], c1[1]/c100[1], c1[0]/c1[1])
			}
		}
	}
}

// collRun times b.N commands of cc (in batches of collPipeline, each
// followed by its untimed undo) on both servers, alternating which goes
// first, and returns each one's ns per command.
func collRun(b *testing.B, tc, rd *collServer, cc collCmd, n int) (tcNs, rdNs float64) {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	tc.elapsed, rd.elapsed = 0, 0
	batches := (b.N + collPipeline - 1) / collPipeline
	b.ResetTimer()
	for i := range batches {
		req := cc.batch(n, i, rng)
		order := []*collServer{tc, rd}
		if i%2 == 1 {
			order = []*collServer{rd, tc}
		}
		for _, s := range order {
			t0 := time.Now()
			if err := s.exec(req, collPipeline); err != nil {
				b.Fatal(err)
			}
			s.elapsed += time.Since(t0)
		}
		if cc.undo != nil {
			undo := cc.undo(i)
			for _, s := range order {
				if err := s.exec(undo, collPipeline); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.StopTimer()
	cmds := float64(batches * collPipeline)
	return float64(tc.elapsed.Nanoseconds()) / cmds, float64(rd.elapsed.Nanoseconds()) / cmds
}

// redisUsedMemory reads used_memory from INFO memory.
func redisUsedMemory(tb testing.TB, c *respConn) int64 {
	tb.Helper()
	info, err := c.do(cmd("INFO", "memory"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	tb.Fatalf("no used_memory in INFO memory")
	return 0
}

// liveHeap is the live heap after a full collection (HeapAlloc), and the
// bytes of the spans holding it (HeapInuse: live plus the spans'
// fragmentation), what the process keeps between collections at the least.
func liveHeap() (alloc, inuse int64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), int64(ms.HeapInuse)
}

func BenchmarkCollMemory(b *testing.B) {
	const n = 1_000_000
	shapes := []struct {
		name, key string
		fill      func() [][]string
	}{
		{"hash", "h", func() [][]string { return fillBy("HSET", "h", n, true, hashField) }},
		{"set", "s", func() [][]string { return fillBy("SADD", "s", n, false, setMember) }},
		{"intset-sized integers", "i", func() [][]string { return fillBy("SADD", "i", n, false, strconv.Itoa) }},
		{"zset", "z", func() [][]string { return fillZ("z", n) }},
		{"list", "l", func() [][]string { return fillBy("RPUSH", "l", n, false, listElem) }},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			for range b.N {
				redisAddr := startRedis(b, 10*time.Minute)
				tcAddr, _ := startTcached(b, benchYAML())
				rc, err := dialRESP(redisAddr, "", "")
				if err != nil {
					b.Fatal(err)
				}
				tcc, err := dialRESP(tcAddr, "bench", "bench-pw")
				if err != nil {
					b.Fatal(err)
				}
				cmds := sh.fill()
				rd := &collServer{name: "redis", c: rc}
				tc := &collServer{name: "tcached", c: tcc}
				r0 := redisUsedMemory(b, rc)
				rd.load(b, cmds)
				r1 := redisUsedMemory(b, rc)
				h0, i0 := liveHeap()
				tc.load(b, cmds)
				h1, i1 := liveHeap()
				runtime.KeepAlive(cmds) // live across both readings, or h1 would not count it
				usage, err := tcc.do(cmd("MEMORY", "USAGE", sh.key))
				if err != nil {
					b.Fatal(err)
				}
				acct, _ := strconv.ParseFloat(usage, 64)
				redisPer := float64(r1-r0) / n
				heapPer := float64(h1-h0) / n
				b.ReportMetric(acct/n, "tcached-accounted-B/elem")
				b.ReportMetric(heapPer, "tcached-heap-B/elem")
				b.ReportMetric(float64(i1-i0)/n, "tcached-heapinuse-B/elem")
				b.ReportMetric(redisPer, "redis-used_memory-B/elem")
				b.ReportMetric(heapPer/redisPer, "heap/redis")
				rc.close()
				tcc.close()
			}
		})
	}
}

// BenchmarkResidentCollections: another tenant's GET latency and the GC's
// work with no big collection resident, then with five 1M-element ones
// (a hash, a set of strings, a set of integers, a sorted set and a list:
// ~210 MB) in a second tenant, while that tenant churns 1 KB strings to keep the
// collector cycling, and a full collection forced at the start of each
// window. It reports the victim's GET p50/p99/p999, GC cycles, the
// forced collection's wall time (gc-ms: the mark work of the whole heap,
// which the big encodings' pointer-free layouts keep small) and the GC's assist
// CPU per window. Nothing asserts.
//
//	go test -run '^$' -bench ResidentCollections -benchtime 200000x -count 3 -timeout 20m ./bench/
func BenchmarkResidentCollections(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 5M collection elements; skipped under -short")
	}
	cfg := codeConfig(2, 1<<30)
	addr, srv, _ := serveConfig(b, cfg)
	victim, err := dialRESP(addr, tenantUser(0), tenantPass(0))
	if err != nil {
		b.Fatal(err)
	}
	defer victim.close()
	const victimKeys = 10_000
	vload := &collServer{name: "victim", c: victim}
	var fill [][]string
	for i := range victimKeys {
		fill = append(fill, []string{"SET", fmt.Sprintf("key:%06d", i), strings.Repeat("v", 100)})
	}
	vload.load(b, fill)
	owner, err := dialRESP(addr, tenantUser(1), tenantPass(1))
	if err != nil {
		b.Fatal(err)
	}
	defer owner.close()
	big := &collServer{name: "owner", c: owner}
	for _, resident := range []int{0, 5} {
		if resident > 0 {
			big.load(b, fillBy("HSET", "bh", 1_000_000, true, hashField))
			big.load(b, fillBy("SADD", "bs", 1_000_000, false, setMember))
			big.load(b, fillBy("SADD", "bi", 1_000_000, false, strconv.Itoa))
			big.load(b, fillZ("bz", 1_000_000))
			big.load(b, fillBy("RPUSH", "bl", 1_000_000, false, listElem))
			st := srv.Stats()[1]
			b.Logf("resident: %d keys, %d bytes accounted", st.Keys, st.UsedBytes)
		}
		runtime.GC()
		b.Run(fmt.Sprintf("collections=%d", resident), func(b *testing.B) {
			churn, err := dialRESP(addr, tenantUser(1), tenantPass(1))
			if err != nil {
				b.Fatal(err)
			}
			defer churn.close()
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				val := strings.Repeat("x", 1024)
				for i := 0; ; i++ {
					select {
					case <-stop:
						done <- nil
						return
					default:
					}
					if _, err := churn.do(cmd("SET", fmt.Sprintf("churn:%d", i%100_000), val)); err != nil {
						done <- err
						return
					}
				}
			}()
			assist := []metrics.Sample{{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"}}
			metrics.Read(assist)
			a0 := assist[0].Value.Float64()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			lat := make([]int64, 0, b.N)
			rng := rand.New(rand.NewPCG(1, 2))
			gcDone := make(chan time.Duration, 1)
			b.ResetTimer()
			go func() {
				t := time.Now()
				runtime.GC()
				gcDone <- time.Since(t)
			}()
			for range b.N {
				req := cmd("GET", fmt.Sprintf("key:%06d", rng.IntN(victimKeys)))
				t0 := time.Now()
				if _, err := victim.do(req); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, int64(time.Since(t0)))
			}
			b.StopTimer()
			close(stop)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			gcDur := <-gcDone
			runtime.ReadMemStats(&m1)
			metrics.Read(assist)
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))]) }
			b.ReportMetric(pct(0.5), "p50-ns")
			b.ReportMetric(pct(0.99), "p99-ns")
			b.ReportMetric(pct(0.999), "p999-ns")
			b.ReportMetric(float64(m1.NumGC-m0.NumGC), "gc-cycles")
			b.ReportMetric(float64(gcDur.Microseconds())/1e3, "gc-ms")
			b.ReportMetric(float64(m1.PauseTotalNs-m0.PauseTotalNs)/1e3, "gc-pause-us")
			b.ReportMetric((assist[0].Value.Float64()-a0)*1e3, "gc-assist-ms")
		})
	}
}
