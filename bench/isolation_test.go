package bench

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The latency-isolation matrix: does one aggressor tenant's flood raise the
// other tenants' latency?
//
//	make bench-isolation
//	go test -run '^$' -bench '^BenchmarkIsolation$' -benchtime 1x -timeout 20m ./bench/
//
// Three processes share the machine: tcached (the real binary, built by the
// run, serving a YAML config with the shipped admission defaults), the
// aggressor (this test binary re-executed as TestIsolationAggressor) and the
// victims (this process). Nine victim tenants (3 platinum, 3 gold, 3
// silver), 2 connections each, read their preloaded working sets
// cache-aside (GET; SET on a miss) at a fixed open-loop rate, and latency
// is measured from each request's scheduled send time, so a stalled server
// is charged for every request it delayed (no coordinated omission). The
// aggressor (silver) runs one shape per sub-benchmark on a fresh server:
// baseline windows (victims alone), flood windows (victims and aggressor)
// and alone windows (aggressor alone) interleave, so machine drift hits all
// three alike. ISO_TARGET=redis runs the same against one shared
// redis-server with the tenants as key prefixes. Nothing here asserts on
// timing; bench/README.md describes the settings and how to read the tables.

// isoShapeNames are the aggressor shapes ISO_SHAPES=all runs, in order.
// "idle" (opt-in) starts the aggressor process and sends nothing: its
// flood/base ratio is the noise floor of the machine and of the method.
var isoShapeNames = []string{"set8", "set100", "pipe64", "expensive", "big", "churn"}

const isoIdle = "idle"

const (
	isoVictims     = 9
	isoVictimConns = 2
	isoTiers       = 3
	isoVictimsTier = isoVictims / isoTiers
	isoReqTimeout  = 10 * time.Second // socket deadline of every request
	isoServerLife  = 30 * time.Minute // hard lifetime of a started server
	isoAggLife     = 10 * time.Minute // hard lifetime of one aggressor process
	isoCallTimeout = time.Minute      // longest the aggressor may take to answer
	isoCatchUp     = 30 * time.Second // longest the victims may catch up after the last window
)

var isoTierNames = [isoTiers]string{"platinum", "gold", "silver"}

// Window kinds.
const (
	isoBase  = iota // victims alone
	isoFlood        // victims and aggressor
	isoAlone        // aggressor alone
	isoKinds
)

type isoSettings struct {
	phase, window, settle time.Duration
	aloneSettle           time.Duration // after the victims pause, before an alone window
	rate                  int           // GET/s per victim connection
	keys, value           int           // per victim tenant
	order                 string
	shapes, targets       []string
	extra                 string
	agExtra               string // ISO_AGGRESSOR_CONFIG: keys added to the aggressor tenant
	agSeparate            bool   // ISO_AGGRESSOR_SERVER=separate: the aggressor floods a server of its own
}

func isoEnvDur(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func isoEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func isoEnvList(name string, def []string) []string {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" || s == "all" {
		return def
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isoLoadSettings(b *testing.B) isoSettings {
	s := isoSettings{
		phase:       isoEnvDur("ISO_PHASE", 5*time.Second),
		window:      isoEnvDur("ISO_WINDOW", time.Second),
		settle:      isoEnvDur("ISO_SETTLE", 200*time.Millisecond),
		aloneSettle: isoEnvDur("ISO_ALONE_SETTLE", 300*time.Millisecond),
		rate:        isoEnvInt("ISO_RATE", 250),
		keys:        isoEnvInt("ISO_KEYS", 10000),
		value:       isoEnvInt("ISO_VALUE", 512),
		order:       os.Getenv("ISO_ORDER"),
		shapes:      isoEnvList("ISO_SHAPES", isoShapeNames),
		targets:     isoEnvList("ISO_TARGET", []string{"tcached"}),
		extra:       os.Getenv("ISO_EXTRA_CONFIG"),
		agExtra:     os.Getenv("ISO_AGGRESSOR_CONFIG"),
		agSeparate:  os.Getenv("ISO_AGGRESSOR_SERVER") == "separate",
	}
	if s.order == "" {
		s.order = "interleaved"
	}
	if s.order != "interleaved" && s.order != "sequential" {
		b.Fatalf("ISO_ORDER=%q: want interleaved or sequential", s.order)
	}
	if s.window > s.phase {
		s.window = s.phase
	}
	for _, sh := range s.shapes {
		if !slices.Contains(isoShapeNames, sh) && sh != isoIdle {
			b.Fatalf("ISO_SHAPES: unknown shape %q (have %s)", sh, strings.Join(isoShapeNames, ","))
		}
	}
	for i, t := range s.targets {
		if t == "both" {
			s.targets = []string{"tcached", "redis"}
			break
		}
		if t != "tcached" && t != "redis" {
			b.Fatalf("ISO_TARGET: unknown target %q (want tcached, redis, or tcached,redis)", s.targets[i])
		}
	}
	return s
}

// windows is the number of windows of each kind.
func (s isoSettings) windows() int {
	return max(1, int((s.phase+s.window-1)/s.window))
}

// schedule lists the windows' kinds in run order.
func (s isoSettings) schedule() []int {
	n := s.windows()
	var out []int
	if s.order == "sequential" {
		for _, k := range []int{isoBase, isoFlood, isoAlone} {
			for range n {
				out = append(out, k)
			}
		}
		return out
	}
	for range n {
		out = append(out, isoBase, isoFlood, isoAlone)
	}
	return out
}

// BenchmarkIsolation runs the matrix: one sub-benchmark per target and
// shape, then prints the tables. It runs only when named (-bench Isolation),
// not under `-bench .`, because it takes minutes; b.N is ignored.
func BenchmarkIsolation(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "Isolation") {
		b.Skip("runs only when named: make bench-isolation, or -bench '^BenchmarkIsolation$'")
	}
	set := isoLoadSettings(b)
	dir := b.TempDir()
	var tcBin string
	if slices.Contains(set.targets, "tcached") {
		tcBin = filepath.Join(dir, "tcached")
		goBin, err := exec.LookPath("go")
		if err != nil {
			b.Fatal(err)
		}
		build := exec.Command(goBin, "build", "-o", tcBin, "../cmd/tcached")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build ./cmd/tcached: %v\n%s", err, out)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	results := map[string][]isoResult{}
	var ran []string
	for _, target := range set.targets {
		b.Run(target, func(b *testing.B) {
			if target == "redis" {
				requireRedis(b, "redis-server")
			}
			ran = append(ran, target)
			for _, shape := range set.shapes {
				b.Run(shape, func(b *testing.B) {
					var tgt *isoTarget
					if target == "redis" {
						tgt = isoStartRedis(b)
					} else {
						tgt = isoStartTcached(b, tcBin, set)
					}
					agTgt := tgt
					if set.agSeparate {
						agTgt = isoStartTcached(b, tcBin, set)
					}
					r := isoRunShape(b, set, tgt, agTgt, shape)
					results[target] = append(results[target], r)
					r.report(b)
				})
			}
		})
	}
	if len(ran) == 0 {
		return
	}
	isoPrintReport(set, strings.TrimSpace(string(load)), ran, results)
}

// ---------------------------------------------------------------------------
// Servers

// isoTarget is one started server; tenants are AUTH users on tcached and
// key prefixes on redis-server.
type isoTarget struct {
	name  string // tcached | redis
	addr  string
	redis bool
	log   string // the server's output
}

func (t *isoTarget) victim(i int) (user, pass, prefix string) {
	if t.redis {
		return "", "", fmt.Sprintf("v%d:", i)
	}
	return fmt.Sprintf("v%d", i), fmt.Sprintf("iso-v%d-pw", i), ""
}

func (t *isoTarget) aggressor() (user, pass, prefix string) {
	if t.redis {
		return "", "", "ag:"
	}
	return "ag", "iso-ag-pw", ""
}

// isoYAML: 9 victims and the aggressor on the built-in tiers, admission
// left at its defaults, then ISO_EXTRA_CONFIG verbatim.
func isoYAML(port string, set isoSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:%s\nmaxmemory: 1GiB\ntenants:\n", port)
	t := &isoTarget{}
	for i := range isoVictims {
		user, pass, _ := t.victim(i)
		fmt.Fprintf(&b, "  - id: v%d\n    tier: %s\n    quota: 32MiB\n    users:\n      - {name: %s, password_sha256: %s}\n",
			i, isoTierNames[i/isoVictimsTier], user, sha(pass))
	}
	user, pass, _ := t.aggressor()
	fmt.Fprintf(&b, "  - id: ag\n    tier: silver\n    quota: 256MiB\n    users:\n      - {name: %s, password_sha256: %s}\n", user, sha(pass))
	for _, kv := range strings.Split(set.agExtra, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			fmt.Fprintf(&b, "    %s\n", kv)
		}
	}
	if set.extra != "" {
		b.WriteString(set.extra)
		b.WriteString("\n")
	}
	return b.String()
}

func isoStartTcached(b *testing.B, bin string, set isoSettings) *isoTarget {
	dir := b.TempDir()
	port := freePort(b)
	cfg := filepath.Join(dir, "tcached.yaml")
	if err := os.WriteFile(cfg, []byte(isoYAML(port, set)), 0o600); err != nil {
		b.Fatal(err)
	}
	t := &isoTarget{name: "tcached", addr: "127.0.0.1:" + port, log: filepath.Join(dir, "tcached.log")}
	exited := isoStartProc(b, t.log, isoServerLife, bin, "--config", cfg, "--metrics-listen", "off")
	user, pass, _ := t.victim(0)
	isoWaitReady(b, t, user, pass, exited)
	return t
}

func isoStartRedis(b *testing.B) *isoTarget {
	bin := requireRedis(b, "redis-server")
	dir := b.TempDir()
	port := freePort(b)
	t := &isoTarget{name: "redis", addr: "127.0.0.1:" + port, redis: true, log: filepath.Join(dir, "redis.log")}
	exited := isoStartProc(b, t.log, isoServerLife, bin, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lru",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	isoWaitReady(b, t, "", "", exited)
	return t
}

// isoStartProc starts bin with its output in logPath, kills it when tb ends
// and after maxLife at most, and returns a channel closed when it exits.
func isoStartProc(tb testing.TB, logPath string, maxLife time.Duration, bin string, args ...string) <-chan struct{} {
	tb.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxLife)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = isoSysProcAttr()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		f.Close()
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cancel()
		<-exited
		f.Close()
	})
	return exited
}

// isoWaitReady waits (5s at most) until the server answers PING.
func isoWaitReady(tb testing.TB, t *isoTarget, user, pass string, exited <-chan struct{}) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dialRESP(t.addr, user, pass)
		if err == nil {
			err = c.ping()
			c.close()
			if err == nil {
				return
			}
		}
		select {
		case <-exited:
			tb.Fatalf("%s exited early:\n%s", t.name, isoTail(t.log))
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s on %s never answered PING: %v\n%s", t.name, t.addr, err, isoTail(t.log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isoTail returns the end of a log file.
func isoTail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// ---------------------------------------------------------------------------
// One shape

type isoSample struct {
	sched, lag, lat int64 // ns since the shape's epoch; lag = send - sched, lat = done - sched
	hit, err        bool
}

type isoWindow struct {
	kind       int
	start, end int64 // ns since the shape's epoch
}

// isoStats is one set of victim requests.
type isoStats struct {
	lat, service, lag []int64 // sorted by summarize
	reqs, hits, errs  int64
}

func (s *isoStats) add(x isoSample) {
	s.lat = append(s.lat, x.lat)
	s.service = append(s.service, x.lat-x.lag)
	s.lag = append(s.lag, x.lag)
	s.reqs++
	if x.hit {
		s.hits++
	}
	if x.err {
		s.errs++
	}
}

func (s *isoStats) sort() {
	slices.Sort(s.lat)
	slices.Sort(s.service)
	slices.Sort(s.lag)
}

func (s *isoStats) hitRate() float64 { return float64(s.hits) / float64(max(s.reqs, 1)) }

// isoPct is the nearest-rank percentile of sorted values.
func isoPct(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// isoResult is one shape's outcome.
type isoResult struct {
	shape        string
	all          [isoKinds]isoStats // victims by window kind (isoAlone stays empty)
	tier         [isoKinds][isoTiers]isoStats
	aggOps       [isoKinds]int64 // aggressor commands in the windows of each kind
	aggNs        [isoKinds]int64 // the aggressor's own clock over those windows
	aggErrs      [isoKinds]map[string]int64
	victimErrs   map[string]int64
	victimNetErr int64
	offered      int64 // victim requests scheduled in all baseline windows
	windowNs     [isoKinds]int64
}

func (r *isoResult) aggRate(kind int) float64 {
	return float64(r.aggOps[kind]) / math.Max(float64(r.aggNs[kind])/1e9, 1e-9)
}

func (r *isoResult) p99Ratio() float64 {
	return float64(isoPct(r.all[isoFlood].lat, .99)) / math.Max(float64(isoPct(r.all[isoBase].lat, .99)), 1)
}

func (r *isoResult) report(b *testing.B) {
	b.ReportMetric(float64(isoPct(r.all[isoBase].lat, .99))/1e3, "base-p99-µs")
	b.ReportMetric(float64(isoPct(r.all[isoFlood].lat, .99))/1e3, "flood-p99-µs")
	b.ReportMetric(r.p99Ratio(), "p99-ratio")
	b.ReportMetric(100*r.all[isoBase].hitRate(), "base-hit-%")
	b.ReportMetric(100*r.all[isoFlood].hitRate(), "flood-hit-%")
	b.ReportMetric(r.aggRate(isoAlone), "agg-alone-ops/s")
	b.ReportMetric(r.aggRate(isoFlood), "agg-flood-ops/s")
	var n int64
	for _, m := range r.aggErrs {
		for _, c := range m {
			n += c
		}
	}
	b.ReportMetric(float64(n), "agg-errors")
	b.ReportMetric(0, "ns/op") // b.N is one scenario; its time means nothing
}

// isoRunShape preloads the victims, starts the aggressor process, runs the
// window schedule and summarizes.
func isoRunShape(b *testing.B, set isoSettings, tgt, agTgt *isoTarget, shape string) isoResult {
	val := strings.Repeat("v", set.value)
	for v := range isoVictims {
		isoPreloadVictim(b, tgt, v, set.keys, val)
	}
	agg := isoStartAggressor(b, agTgt, shape)

	epoch := time.Now()
	since := func() int64 { return int64(time.Since(epoch)) }
	var aloneFrom, stopAt atomic.Int64 // ns since epoch; 0 = not set
	conns := make([]*isoVictimConn, 0, isoVictims*isoVictimConns)
	for v := range isoVictims {
		for c := range isoVictimConns {
			vc := &isoVictimConn{tgt: tgt, tenant: v, conn: c, keys: set.keys, val: val, errs: map[string]int64{}}
			if err := vc.dial(); err != nil {
				b.Fatalf("victim %d: %v", v, err)
			}
			conns = append(conns, vc)
		}
	}
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(set.rate)
	for i, vc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vc.run(epoch, interval, uint64(i), &aloneFrom, &stopAt)
		}()
	}
	time.Sleep(set.settle) // the victims' first requests are not measured

	var wins []isoWindow
	res := isoResult{shape: shape, victimErrs: map[string]int64{}}
	for k := range res.aggErrs {
		res.aggErrs[k] = map[string]int64{}
	}
	for _, kind := range set.schedule() {
		switch kind {
		case isoBase:
			aloneFrom.Store(0)
			if agg.running {
				agg.stop(b)
				time.Sleep(set.settle) // what the aggressor left behind drains
			}
		case isoFlood:
			aloneFrom.Store(0)
			if !agg.running {
				agg.start(b)
			}
		case isoAlone:
			aloneFrom.Store(max(since(), 1))
			if !agg.running {
				agg.start(b)
			}
			// A tenant counts as active for 250ms after its last command
			// (admission's activeFor): the aggressor is alone, and never
			// throttled, only once the victims have been quiet that long.
			time.Sleep(set.aloneSettle)
		}
		w := isoWindow{kind: kind, start: since()}
		m0 := agg.mark(b)
		time.Sleep(set.window)
		m1 := agg.mark(b)
		w.end = since()
		wins = append(wins, w)
		res.windowNs[kind] += w.end - w.start
		res.aggOps[kind] += m1.ops - m0.ops
		res.aggNs[kind] += m1.ns - m0.ns
		for msg, n := range m1.errs {
			if d := n - m0.errs[msg]; d > 0 {
				res.aggErrs[kind][msg] += d
			}
		}
	}
	end := since()
	aloneFrom.Store(0)
	stopAt.Store(end)
	if agg.running {
		agg.stop(b)
	}
	agg.quit()
	wg.Wait() // bounded: see isoVictimConn.run

	// Classify every victim request by the window its scheduled time is in.
	perWin := make([]isoStats, len(wins))
	for _, vc := range conns {
		tier := vc.tenant / isoVictimsTier
		for _, x := range vc.samples {
			i := sort.Search(len(wins), func(i int) bool { return wins[i].end > x.sched })
			if i == len(wins) || x.sched < wins[i].start || wins[i].kind == isoAlone {
				continue
			}
			res.all[wins[i].kind].add(x)
			res.tier[wins[i].kind][tier].add(x)
			perWin[i].add(x)
		}
		for msg, n := range vc.errs {
			res.victimErrs[msg] += n
		}
		res.victimNetErr += vc.netErrs
	}
	for k := range isoKinds {
		res.all[k].sort()
		for t := range isoTiers {
			res.tier[k][t].sort()
		}
	}
	if os.Getenv("ISO_DEBUG") != "" {
		for i, w := range wins {
			st := &perWin[i]
			st.sort()
			b.Logf("window %2d %-5s at %6.2fs: %5d requests, p50 %s, p99 %s, max %s", i, [...]string{"base", "flood", "alone"}[w.kind],
				float64(w.start)/1e9, st.reqs, isoDur(isoPct(st.lat, .5)), isoDur(isoPct(st.lat, .99)), isoDur(isoPct(st.lat, 1)))
		}
	}
	res.offered = int64(float64(res.windowNs[isoBase]) / float64(interval) * float64(len(conns)))
	return res
}

// isoPreloadVictim writes victim v's working set (pipelined) and, on
// tcached, checks that the tenant holds all of it.
func isoPreloadVictim(tb testing.TB, tgt *isoTarget, v, keys int, val string) {
	tb.Helper()
	user, pass, prefix := tgt.victim(v)
	rc, err := dialRESP(tgt.addr, user, pass)
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.close()
	rc.c.SetDeadline(time.Now().Add(time.Minute))
	var req []byte
	for i := 0; i < keys; i += 100 {
		req = req[:0]
		n := min(100, keys-i)
		for j := i; j < i+n; j++ {
			req = appendCmd(req, "SET", isoVictimKey(prefix, j), val)
		}
		if err := isoPipeline(rc, req, n); err != nil {
			tb.Fatalf("preload victim %d: %v", v, err)
		}
	}
	if !tgt.redis {
		got, err := rc.do(cmd("DBSIZE"))
		if err != nil || got != strconv.Itoa(keys) {
			tb.Fatalf("victim %d: DBSIZE %q (%v) after loading %d keys", v, got, err, keys)
		}
	}
}

func isoVictimKey(prefix string, i int) string { return fmt.Sprintf("%skey:%06d", prefix, i) }

// isoPipeline sends req (n commands) and reads n replies; an error reply
// is an error.
func isoPipeline(rc *respConn, req []byte, n int) error {
	if err := rc.send(req); err != nil {
		return err
	}
	var first error
	for range n {
		if _, err := rc.skip(); err != nil {
			if _, ok := err.(respError); !ok {
				return err
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// isoErrKey is how an error reply is counted: its text, cut short.
func isoErrKey(err error) string {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, err.Error())
	if len(s) > 90 {
		s = s[:90]
	}
	return s
}
