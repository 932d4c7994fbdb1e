// Package bench holds tcached's benchmarks and load scenarios. It is
// test-only: everything runs over real loopback sockets against an
// in-process server (server.New + Serve on 127.0.0.1:0), and, where a
// comparison is asked for, against a real redis-server started by the same
// run.
//
// # Clients
//
// The load generators speak raw RESP over a bufio pair instead of using
// go-redis: requests are encoded once up front and replies are skipped with
// ReadSlice/Discard, so the client allocates nothing per command. The
// allocation figures (allocs/op from b.ReportAllocs and server-allocs/op
// from a runtime.MemStats delta) are process-wide, and with an
// allocation-free client they are the server's.
//
// # Layout
//
//	BenchmarkGet, BenchmarkSet                  unpipelined, sizes 16/128/1024
//	BenchmarkGetPipeline16/64, BenchmarkSet...  16 or 64 commands per write
//	BenchmarkCompare                            same loops against redis-server
//	TestNoisyNeighbour                          one tenant floods, the other reads
//	BenchmarkTenants (tenants_test.go)          100 connections over 1 or 100 tenants
//	BenchmarkResidentKeys (tenants_test.go)     GET p50/p99/p999, 50K vs 5M keys resident
//	BenchmarkStartTenants (tenants_test.go)     server.New with 10,000 tenants
//	BenchmarkBacked (backed_test.go)            L1 hit vs L2 read-through over Redis Cluster
//	BenchmarkSnapshot1GiB (snapshot_test.go)    warm restart: save and load 1 GiB
//	BenchmarkSnapshotLatency (snapshot_test.go) another tenant's GET p99 during snapshots
//
// See README.md for how to run them and for bench/compare.sh, which compares
// tcached and redis-server with redis-benchmark.
package bench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
)

// requireRedis returns the path of a Redis binary, skipping when it is
// missing unless TCACHED_REQUIRE_REDIS=1 (CI), where a skip would hide that
// the comparison never ran.
func requireRedis(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			tb.Fatalf("%s not found on PATH and TCACHED_REQUIRE_REDIS=1: %v", name, err)
		}
		tb.Skipf("%s not found on PATH: %v", name, err)
	}
	return p
}

// ---------------------------------------------------------------------------
// Servers

func sha(pw string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(pw))) }

// benchYAML: one tenant on a custom tier with no default TTL and no
// concurrency cap, so the benchmark measures the data path, not admission.
func benchYAML() string {
	return `
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 1GiB
tiers:
  bench: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: bench
    tier: bench
    quota: 512MiB
    users:
      - name: bench
        password_sha256: ` + sha("bench-pw") + `
        role: admin
`
}

// startTcached serves the YAML config in-process on a loopback ephemeral
// port until tb ends.
func startTcached(tb testing.TB, yaml string) (string, *server.Server) {
	tb.Helper()
	cfg, _, err := config.Parse([]byte(yaml), "bench.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	addr, srv, _ := serveConfig(tb, cfg)
	return addr, srv
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before redis-server binds; startRedis then fails loudly.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// startRedis runs redis-server without persistence on a free loopback port
// for at most maxLife, and kills it when tb ends.
func startRedis(tb testing.TB, maxLife time.Duration) string {
	tb.Helper()
	bin := requireRedis(tb, "redis-server")
	port := freePort(tb)
	dir := tb.TempDir()
	exited := isoStartProc(tb, filepath.Join(dir, "redis.log"), maxLife, bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	addr := "127.0.0.1:" + port
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dialRESP(addr, "", "")
		if err == nil {
			err = c.ping()
			c.close()
			if err == nil {
				return addr
			}
		}
		select {
		case <-exited:
			tb.Fatalf("redis-server exited early on port %s", port)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s never answered PING: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Raw RESP client

type respConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// dialRESP connects and, when user is not empty, authenticates.
func dialRESP(addr, user, pass string) (*respConn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	rc := &respConn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}
	if user != "" {
		if _, err := rc.do(cmd("AUTH", user, pass)); err != nil {
			c.Close()
			return nil, fmt.Errorf("AUTH %s: %w", user, err)
		}
	}
	return rc, nil
}

func (rc *respConn) close() { rc.c.Close() }

func (rc *respConn) ping() error {
	_, err := rc.do(cmd("PING"))
	return err
}

// cmd encodes one command as a RESP array of bulk strings.
func cmd(args ...string) []byte { return appendCmd(nil, args...) }

// appendCmd appends one command, encoded as cmd does, to b.
func appendCmd(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// respError is an error reply.
type respError string

func (e respError) Error() string { return string(e) }

// send writes raw request bytes and flushes them in one write.
func (rc *respConn) send(req []byte) error {
	if _, err := rc.w.Write(req); err != nil {
		return err
	}
	return rc.w.Flush()
}

// skip reads one reply without keeping it and returns the length of a bulk
// reply (-1 for nil, 0 for other types). It allocates only for errors.
func (rc *respConn) skip() (int, error) {
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 3 {
		return 0, fmt.Errorf("short reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return 0, nil
	case '-':
		return 0, respError(body)
	case '$':
		n, err := atoi(body)
		if err != nil || n < 0 {
			return -1, err
		}
		_, err = rc.r.Discard(n + 2)
		return n, err
	case '*':
		n, err := atoi(body)
		if err != nil {
			return 0, err
		}
		for range n {
			if _, err := rc.skip(); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unexpected reply %q", line)
}

func atoi(b []byte) (int, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, errors.New("empty number")
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", b)
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// do sends one command and returns its reply as a string (bulk and status
// replies; integers as digits; nil as ""), or the error reply.
func (rc *respConn) do(req []byte) (string, error) {
	if err := rc.send(req); err != nil {
		return "", err
	}
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 {
		return "", fmt.Errorf("short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return body, nil
	case '-':
		return "", respError(body)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// ---------------------------------------------------------------------------
// Workload

const keySpace = 1024 // keys per workload; every pipeline depth divides it

// workload is keySpace commands of equal length laid end to end, so a batch
// of p commands starting at a multiple of p is one contiguous slice.
type workload struct {
	buf    []byte
	cmdLen int
	get    bool
	size   int
	keys   int // commands (distinct keys) in buf: keySpace unless newWorkloadN
}

func newWorkload(op string, size int) *workload { return newWorkloadN(op, size, keySpace) }

// newWorkloadN is newWorkload over keys distinct keys (a multiple of 64).
func newWorkloadN(op string, size, keys int) *workload {
	w := &workload{get: op == "GET", size: size, keys: keys}
	val := strings.Repeat("v", size)
	for i := range keys {
		var c []byte
		key := fmt.Sprintf("key:%06d", i)
		if w.get {
			c = cmd("GET", key)
		} else {
			c = cmd("SET", key, val)
		}
		w.cmdLen = len(c)
		w.buf = append(w.buf, c...)
	}
	return w
}

// batch returns n commands starting at command index start (mod w.keys),
// start+n must not cross w.keys.
func (w *workload) batch(start, n int) []byte {
	start %= w.keys
	return w.buf[start*w.cmdLen : (start+n)*w.cmdLen]
}

// load writes every key of the key space with a value of size bytes.
func load(tb testing.TB, addr, user, pass string, size int) {
	loadN(tb, addr, user, pass, size, keySpace)
}

// loadN writes keys distinct keys (see newWorkloadN).
func loadN(tb testing.TB, addr, user, pass string, size, keys int) {
	tb.Helper()
	c, err := dialRESP(addr, user, pass)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.close()
	w := newWorkloadN("SET", size, keys)
	if err := c.run(w, 0, keys, 64); err != nil {
		tb.Fatal(err)
	}
}

// run sends n commands of w from index start, p per write, and checks each
// reply: an error reply or a GET miss fails the run.
func (rc *respConn) run(w *workload, start, n, p int) error {
	for n > 0 {
		k := min(p, n, w.keys-start%w.keys)
		if err := rc.send(w.batch(start, k)); err != nil {
			return err
		}
		for range k {
			got, err := rc.skip()
			if err != nil {
				return err
			}
			if w.get && got != w.size {
				return fmt.Errorf("GET returned %d bytes, want %d", got, w.size)
			}
		}
		start += k
		n -= k
	}
	return nil
}

// ---------------------------------------------------------------------------
// Benchmarks against tcached

var sizes = []int{16, 128, 1024}

// measureServer wraps the timed region: besides b.ReportAllocs it reports
// the process-wide malloc count and bytes per op. The raw RESP client
// allocates nothing per command, so these are the server's.
func measureServer(b *testing.B, timed func()) {
	b.ReportAllocs()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	timed()
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "server-allocs/op")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "server-B/op")
}

// benchTcached is the one helper behind every Benchmark{Get,Set}*: it sweeps
// value sizes, runs b.RunParallel with one pre-dialled connection per
// goroutine and sends `pipeline` commands per write. One op is one command.
func benchTcached(b *testing.B, op string, pipeline int) {
	addr, _ := startTcached(b, benchYAML())
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			if op == "GET" {
				load(b, addr, "bench", "bench-pw", size)
			}
			w := newWorkload(op, size)
			n := runtime.GOMAXPROCS(0)
			conns := make(chan *respConn, n)
			for range n {
				c, err := dialRESP(addr, "bench", "bench-pw")
				if err != nil {
					b.Fatal(err)
				}
				defer c.close()
				conns <- c
			}
			var worker atomic.Int64
			b.SetBytes(int64(size))
			measureServer(b, func() {
				b.RunParallel(func(pb *testing.PB) {
					c := <-conns
					defer func() { conns <- c }()
					// Workers start at different keys so they do not march in step.
					start := int(worker.Add(1)*131) * pipeline % keySpace
					pending := 0
					for pb.Next() {
						pending++
						if pending == pipeline {
							if err := c.run(w, start, pending, pipeline); err != nil {
								b.Error(err)
								return
							}
							start = (start + pending) % keySpace
							pending = 0
						}
					}
					if pending > 0 {
						if err := c.run(w, start, pending, pipeline); err != nil {
							b.Error(err)
						}
					}
				})
			})
		})
	}
}

func BenchmarkGet(b *testing.B)           { benchTcached(b, "GET", 1) }
func BenchmarkSet(b *testing.B)           { benchTcached(b, "SET", 1) }
func BenchmarkGetPipeline16(b *testing.B) { benchTcached(b, "GET", 16) }
func BenchmarkSetPipeline16(b *testing.B) { benchTcached(b, "SET", 16) }
func BenchmarkGetPipeline64(b *testing.B) { benchTcached(b, "GET", 64) }
func BenchmarkSetPipeline64(b *testing.B) { benchTcached(b, "SET", 64) }

// ---------------------------------------------------------------------------
// Side by side with redis-server

// compareConns is the number of concurrent connections per server in
// BenchmarkCompare: enough to keep both servers busy on a small machine.
const compareConns = 4

// target is one server under comparison with its connections.
type target struct {
	name    string
	conns   []*respConn
	elapsed time.Duration
}

// chunk runs n commands split over the target's connections, p per write,
// and adds the wall time to t.elapsed.
func (t *target) chunk(w *workload, n, p int, seq *int) error {
	per := n / len(t.conns)
	var wg sync.WaitGroup
	errs := make([]error, len(t.conns))
	t0 := time.Now()
	for i, c := range t.conns {
		k := per
		if i == 0 {
			k += n - per*len(t.conns)
		}
		start := (*seq + i*(keySpace/len(t.conns))) % keySpace
		start -= start % p
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.run(w, start, k, p)
		}()
	}
	wg.Wait()
	t.elapsed += time.Since(t0)
	*seq += p
	return errors.Join(errs...)
}

// BenchmarkCompare runs the same raw-RESP GET/SET loops against tcached and
// a redis-server started for this run, alternating chunks so that machine
// noise hits both alike. It reports each server's ns/op and
// tcached/redis = tcached ns/op ÷ redis ns/op (below 1 means tcached is
// faster). The plain ns/op is the sum of both.
func BenchmarkCompare(b *testing.B) {
	redisAddr := startRedis(b, 30*time.Minute)
	tcAddr, _ := startTcached(b, benchYAML())
	for _, op := range []string{"GET", "SET"} {
		for _, p := range []int{1, 16} {
			for _, size := range sizes {
				b.Run(fmt.Sprintf("op=%s/pipeline=%d/size=%d", op, p, size), func(b *testing.B) {
					tc := &target{name: "tcached"}
					rd := &target{name: "redis"}
					for _, t := range []*target{tc, rd} {
						addr, user, pass := tcAddr, "bench", "bench-pw"
						if t == rd {
							addr, user, pass = redisAddr, "", ""
						}
						if op == "GET" {
							load(b, addr, user, pass, size)
						}
						for range compareConns {
							c, err := dialRESP(addr, user, pass)
							if err != nil {
								b.Fatal(err)
							}
							defer c.close()
							t.conns = append(t.conns, c)
						}
					}
					w := newWorkload(op, size)
					chunkCmds := 64 * p * compareConns
					seq := 0
					b.ResetTimer()
					for done := 0; done < b.N; done += chunkCmds {
						n := min(chunkCmds, b.N-done)
						if n < compareConns {
							n = compareConns
						}
						// Alternate which server goes first.
						order := []*target{tc, rd}
						if (done/chunkCmds)%2 == 1 {
							order = []*target{rd, tc}
						}
						for _, t := range order {
							if err := t.chunk(w, n, p, &seq); err != nil {
								b.Fatalf("%s: %v", t.name, err)
							}
						}
					}
					b.StopTimer()
					tcNs := float64(tc.elapsed.Nanoseconds()) / float64(b.N)
					rdNs := float64(rd.elapsed.Nanoseconds()) / float64(b.N)
					b.ReportMetric(tcNs, "tcached-ns/op")
					b.ReportMetric(rdNs, "redis-ns/op")
					b.ReportMetric(tcNs/rdNs, "tcached/redis")
				})
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Noisy neighbour

// TestNoisyNeighbour: tenant A reads a working set well inside its quota
// while tenant B floods unique keys totalling 10x its own quota. B's
// evictions must stay inside B: A keeps a 100% hit rate and every key, and B
// never holds more than its quota.
func TestNoisyNeighbour(t *testing.T) {
	const (
		quota     = 4 << 20
		valueSize = 1024
		workSet   = 1000
		floodConn = 2
		floodPipe = 32
	)
	yaml := `
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 256MiB
tiers:
  flat: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: A
    tier: flat
    quota: 4MiB
    users:
      - {name: a, password_sha256: ` + sha("a-pw") + `}
  - id: B
    tier: flat
    quota: 4MiB
    users:
      - {name: b, password_sha256: ` + sha("b-pw") + `, role: admin}
`
	addr, srv := startTcached(t, yaml)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mustDial := func(user string) *respConn {
		c, err := dialRESP(addr, user, user+"-pw")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		return c
	}

	// A's working set.
	val := strings.Repeat("a", valueSize)
	aKey := func(i int) string { return fmt.Sprintf("ws:%05d", i) }
	{
		c := mustDial("a")
		var req []byte
		for i := range workSet {
			req = append(req, cmd("SET", aKey(i), val)...)
		}
		if err := c.send(req); err != nil {
			t.Fatal(err)
		}
		for range workSet {
			if _, err := c.skip(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// readA reads random working-set keys on 2 connections until stop is
	// closed, recording hits, misses and per-GET latency.
	type readStats struct {
		hits, misses int
		lat          []time.Duration
	}
	readA := func(stop <-chan struct{}) readStats {
		var mu sync.Mutex
		var total readStats
		var wg sync.WaitGroup
		for r := range 2 {
			c := mustDial("a")
			rng := rand.New(rand.NewPCG(uint64(r), 42))
			wg.Add(1)
			go func() {
				defer wg.Done()
				var st readStats
				defer func() {
					mu.Lock()
					total.hits += st.hits
					total.misses += st.misses
					total.lat = append(total.lat, st.lat...)
					mu.Unlock()
				}()
				reqs := make([][]byte, workSet)
				for i := range reqs {
					reqs[i] = cmd("GET", aKey(i))
				}
				for {
					select {
					case <-stop:
						return
					case <-ctx.Done():
						return
					default:
					}
					t0 := time.Now()
					if err := c.send(reqs[rng.IntN(workSet)]); err != nil {
						t.Error(err)
						return
					}
					n, err := c.skip()
					st.lat = append(st.lat, time.Since(t0))
					if err != nil {
						t.Error(err)
						return
					}
					if n == valueSize {
						st.hits++
					} else {
						st.misses++
					}
				}
			}()
		}
		wg.Wait()
		return total
	}
	pct := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		s := slices.Clone(lat)
		slices.Sort(s)
		return s[int(float64(len(s)-1)*p)]
	}

	// Phase 1: A alone.
	stop := make(chan struct{})
	time.AfterFunc(time.Second, func() { close(stop) })
	base := readA(stop)

	// Phase 2: B floods while A reads and a monitor polls B's INFO.
	infoConn := mustDial("b")
	var polls, violations int
	var maxUsed int64
	pollB := func() (used, maxmem, evicted int64) {
		s, err := infoConn.do(cmd("INFO"))
		if err != nil {
			t.Errorf("INFO: %v", err)
			return
		}
		field := func(name string) int64 {
			for _, l := range strings.Split(s, "\n") {
				if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), name+":"); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					return n
				}
			}
			t.Errorf("INFO has no %s", name)
			return -1
		}
		return field("used_memory"), field("maxmemory"), field("evicted_keys")
	}
	floodDone := make(chan struct{})
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-floodDone:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			used, maxmem, _ := pollB()
			polls++
			maxUsed = max(maxUsed, used)
			if maxmem != quota || used > maxmem {
				violations++
				t.Errorf("B: used_memory %d, maxmemory %d (quota %d)", used, maxmem, quota)
			}
			for _, st := range srv.Stats() {
				if st.UsedBytes > st.Quota {
					t.Errorf("tenant %s: used %d > quota %d", st.ID, st.UsedBytes, st.Quota)
				}
			}
		}
	}()
	var written atomic.Int64
	floodBytes := int64(10 * quota)
	var fwg sync.WaitGroup
	for f := range floodConn {
		c := mustDial("b")
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			bval := strings.Repeat("b", valueSize)
			for i := 0; ctx.Err() == nil; i++ {
				if written.Load()*valueSize >= floodBytes {
					return
				}
				var req []byte
				for j := range floodPipe {
					req = append(req, cmd("SET", fmt.Sprintf("flood:%d:%d:%d", f, i, j), bval)...)
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
	readStop := make(chan struct{})
	go func() { fwg.Wait(); close(floodDone); close(readStop) }()
	flood := readA(readStop)
	<-monitorDone
	if ctx.Err() != nil {
		t.Fatal("noisy-neighbour scenario did not finish within 30s")
	}

	// Final state.
	used, maxmem, evicted := pollB()
	if used > maxmem {
		t.Errorf("B at end: used_memory %d > maxmemory %d", used, maxmem)
	}
	if evicted <= 0 {
		t.Errorf("B evicted_keys = %d, want > 0 after writing %d bytes into a %d-byte quota", evicted, written.Load()*valueSize, quota)
	}
	a := mustDial("a")
	missing := 0
	for i := range workSet {
		got, err := a.do(cmd("GET", aKey(i)))
		if err != nil {
			t.Fatal(err)
		}
		if got != val {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("A lost %d of %d working-set keys", missing, workSet)
	}
	if base.misses+flood.misses > 0 {
		t.Errorf("A misses: %d alone, %d during flood; want 0", base.misses, flood.misses)
	}
	if flood.hits == 0 {
		t.Error("A read nothing during the flood")
	}
	var aStats server.TenantStats
	for _, st := range srv.Stats() {
		if st.ID == "A" {
			aStats = st
		}
	}
	if aStats.Evictions != 0 {
		t.Errorf("A evictions = %d, want 0", aStats.Evictions)
	}
	t.Logf("A alone:        %d hits, %d misses, p50 %v, p99 %v", base.hits, base.misses, pct(base.lat, .5), pct(base.lat, .99))
	t.Logf("A during flood: %d hits, %d misses (hit rate %.2f%%), p50 %v, p99 %v", flood.hits, flood.misses,
		100*float64(flood.hits)/float64(max(1, flood.hits+flood.misses)), pct(flood.lat, .5), pct(flood.lat, .99))
	t.Logf("A resident:     %d/%d keys, used %d of %d bytes, evictions %d", workSet-missing, workSet, aStats.UsedBytes, aStats.Quota, aStats.Evictions)
	t.Logf("B:              %d keys written (%d MiB), evicted_keys %d, max used_memory %d of %d over %d polls (%d violations)",
		written.Load(), written.Load()*valueSize>>20, evicted, maxUsed, maxmem, polls, violations)
}
