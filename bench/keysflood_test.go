package bench

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkKeysFlood: does one tenant's flood of expensive commands raise
// another tenant's latency? (issue 13, item 5)
//
//	go test -run '^$' -bench '^BenchmarkKeysFlood$' -benchtime 1x -timeout 10m ./bench/
//
// tcached runs as its own process (the real binary, built by the run, or
// KF_BIN: e.g. a build of an older commit, for a before/after), on a config
// with the shipped defaults (fair sharing on) and two tenants on the gold
// tier (max_concurrent 500): "flood", loaded with KF_KEYS (200,000) keys
// named aaaaaaaaaa:NNNNNN, and "victim". This process runs the victim, one
// connection sending PING, waiting for the reply and pausing 1 ms, and the
// flood, KF_CONNS (16) connections sending KEYS KF_PATTERN (*a*a*a*b)
// back to back. The pattern matches no key, so each reply is an empty
// array: the glob costs the server a full walk with the worst-case
// matching work, and the flooding clients cost their process nothing.
//
// Windows alternate, KF_WINDOWS (3) pairs of KF_WINDOW (2s): idle (the
// victim alone) then flood (both, after KF_SETTLE, 300ms, of flood without
// measuring); after a flood window the KEYS in flight finish before the
// next idle window starts. Latencies of all windows of a kind are pooled. Reported:
// idle and flood p50/p99/p999 of the victim's PING, the ratios
// flood/idle, and the flood's KEYS per second. Nothing here asserts on
// timing; bench/README.md gives the figures measured.
func BenchmarkKeysFlood(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "KeysFlood") {
		b.Skip("runs only when named: -bench '^BenchmarkKeysFlood$'")
	}
	keys := isoEnvInt("KF_KEYS", 200_000)
	conns := isoEnvInt("KF_CONNS", 16)
	pattern := os.Getenv("KF_PATTERN")
	if pattern == "" {
		pattern = "*a*a*a*b"
	}
	window := isoEnvDur("KF_WINDOW", 2*time.Second)
	settle := isoEnvDur("KF_SETTLE", 300*time.Millisecond)
	windows := isoEnvInt("KF_WINDOWS", 3)

	dir := b.TempDir()
	bin := os.Getenv("KF_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "tcached")
		goBin, err := exec.LookPath("go")
		if err != nil {
			b.Fatal(err)
		}
		if out, err := exec.Command(goBin, "build", "-o", bin, "../cmd/tcached").CombinedOutput(); err != nil {
			b.Fatalf("go build ./cmd/tcached: %v\n%s", err, out)
		}
	}
	port := freePort(b)
	cfgPath := filepath.Join(dir, "tcached.yaml")
	yaml := fmt.Sprintf(`listen: 127.0.0.1:%s
maxmemory: 1GiB
tenants:
  - id: flood
    tier: gold
    quota: 512MiB
    users:
      - {name: flood, password_sha256: %s}
  - id: victim
    tier: gold
    quota: 16MiB
    users:
      - {name: victim, password_sha256: %s}
`, port, sha("kf-flood-pw"), sha("kf-victim-pw"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	tgt := &isoTarget{name: "tcached", addr: "127.0.0.1:" + port, log: filepath.Join(dir, "tcached.log")}
	exited := isoStartProc(b, tgt.log, isoServerLife, bin, "--config", cfgPath, "--metrics-listen", "off")
	isoWaitReady(b, tgt, "victim", "kf-victim-pw", exited)

	// Load the flood tenant.
	loader, err := dialRESP(tgt.addr, "flood", "kf-flood-pw")
	if err != nil {
		b.Fatal(err)
	}
	loader.c.SetDeadline(time.Now().Add(5 * time.Minute))
	var req []byte
	batches := 0
	for i := 0; i < keys; i += 1000 {
		args := []string{"MSET"}
		for j := i; j < min(i+1000, keys); j++ {
			args = append(args, fmt.Sprintf("aaaaaaaaaa:%06d", j), "v")
		}
		req = appendCmd(req, args...)
		batches++
	}
	if err := isoPipeline(loader, req, batches); err != nil {
		b.Fatalf("loading: %v", err)
	}
	if n, err := loader.do(cmd("DBSIZE")); err != nil || n != strconv.Itoa(keys) {
		b.Fatalf("DBSIZE = %q, %v; want %d", n, err, keys)
	}
	loader.close()

	victim, err := dialRESP(tgt.addr, "victim", "kf-victim-pw")
	if err != nil {
		b.Fatal(err)
	}
	defer victim.close()
	ping := cmd("PING")
	measure := func(d time.Duration, into []int64) []int64 {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			victim.c.SetDeadline(time.Now().Add(isoReqTimeout))
			t0 := time.Now()
			if _, err := victim.do(ping); err != nil {
				b.Fatalf("victim PING: %v", err)
			}
			into = append(into, int64(time.Since(t0)))
			isoSleep(time.Millisecond)
		}
		return into
	}

	// The flood: conns connections, each KEYS back to back while running.
	var running atomic.Bool
	var stopped atomic.Bool
	var done, failed, inflight atomic.Int64
	var firstErr atomic.Value // the first failure's text, for the report
	var wg sync.WaitGroup
	var busyNs atomic.Int64 // time flooding (for KEYS/s)
	for range conns {
		rc, err := dialRESP(tgt.addr, "flood", "kf-flood-pw")
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rc.close()
			keysCmd := cmd("KEYS", pattern)
			for !stopped.Load() {
				if !running.Load() {
					time.Sleep(time.Millisecond)
					continue
				}
				rc.c.SetDeadline(time.Now().Add(time.Minute))
				inflight.Add(1)
				if err := rc.send(keysCmd); err != nil {
					failed.Add(1)
					return
				}
				_, err := rc.skip()
				inflight.Add(-1)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					if _, isResp := err.(respError); !isResp {
						return
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	defer func() {
		stopped.Store(true)
		wg.Wait()
	}()

	var idle, flood []int64
	b.ResetTimer()
	for w := range windows {
		idle = measure(window, idle)
		running.Store(true)
		start := time.Now()
		n0 := done.Load()
		time.Sleep(settle)
		flood = measure(window, flood)
		running.Store(false)
		// The KEYS in flight (queued for a heavy slot, or paced) finish
		// before the next idle window starts.
		for end := time.Now().Add(time.Minute); inflight.Load() > 0 && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
		busyNs.Add(int64(time.Since(start)))
		b.Logf("window %d: %d KEYS in %v", w, done.Load()-n0, time.Since(start).Round(time.Millisecond))
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	slices.Sort(idle)
	slices.Sort(flood)
	p := func(s []int64, q float64) float64 { return float64(isoPct(s, q)) }
	b.ReportMetric(p(idle, 0.50)/1e3, "idle-p50-us")
	b.ReportMetric(p(idle, 0.99)/1e3, "idle-p99-us")
	b.ReportMetric(p(flood, 0.50)/1e3, "flood-p50-us")
	b.ReportMetric(p(flood, 0.99)/1e3, "flood-p99-us")
	b.ReportMetric(p(flood, 0.99)/max(p(idle, 0.99), 1), "p99-flood/idle")
	b.ReportMetric(p(flood, 0.50)/max(p(idle, 0.50), 1), "p50-flood/idle")
	b.ReportMetric(float64(done.Load())/(float64(busyNs.Load())/1e9), "keys-cmds/s")
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("KeysFlood: %d keys, %d conns, KEYS %s, %d x %v windows, load %s\n", keys, conns, pattern, windows, window, strings.TrimSpace(string(load)))
	fmt.Printf("  victim PING idle:  p50 %s  p99 %s  p999 %s  (%d)\n", isoDur(isoPct(idle, 0.5)), isoDur(isoPct(idle, 0.99)), isoDur(isoPct(idle, 0.999)), len(idle))
	fmt.Printf("  victim PING flood: p50 %s  p99 %s  p999 %s  (%d)\n", isoDur(isoPct(flood, 0.5)), isoDur(isoPct(flood, 0.99)), isoDur(isoPct(flood, 0.999)), len(flood))
	fmt.Printf("  ratio flood/idle:  p50 %s  p99 %s; KEYS completed %d (%.1f/s), failed %d\n",
		isoRatio(p(flood, 0.5)/max(p(idle, 0.5), 1)), isoRatio(p(flood, 0.99)/max(p(idle, 0.99), 1)),
		done.Load(), float64(done.Load())/(float64(busyNs.Load())/1e9), failed.Load())
	if e, ok := firstErr.Load().(string); ok {
		fmt.Printf("  first failure: %s\n", e)
	}
}
